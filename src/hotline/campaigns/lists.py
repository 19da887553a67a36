"""Campaign lists from a CSV file: every row checked before anything is written.

A list file has a header row; ``phone`` is required, ``name``, ``time_zone`` (the customer's
IANA zone, when not the campaign's), ``customer_id`` and ``callback_at`` (a time the customer
asked to be called, ISO 8601 with its offset) are optional; any other column is kept with the
record and shown to the agent (``model``, ``ticket``, ``note``...). A bad row is reported with
file, line, field and the rule it breaks, and then nothing at all is imported.

Phone numbers are normalised by the function the caller passes (the CRM's, so a number on
a list is the same string as on a do-not-call list and in the contact log).

>>> rows = check_list_csv(text="phone,name\\n13812345678,Ada\\n", file="l.csv",
...                       normalize=lambda raw: "+86" + raw)
>>> rows[0].phone, rows[0].name, rows[0].line
('+8613812345678', 'Ada', 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from hotline.campaigns.rules import zone_problem
from hotline.core.documents import check_size, csv_records
from hotline.core.errors import Problem, ValidationFailed

#: Columns with a meaning of their own; any other column is data shown to the agent.
KNOWN_COLUMNS = ("phone", "name", "time_zone", "customer_id", "callback_at")
#: A list file larger than this is refused: split it (each file goes in whole or not at all).
#: Lists go in inside the request, not as jobs: a full file holds the writer turn 2-3.5 s.
MAX_ROWS = 20_000
#: At most this many problems are listed (the file is refused either way).
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class ListRow:
    """One checked row of a list file, its number normalised."""

    line: int
    phone: str
    name: str = ""
    time_zone: str | None = None
    customer_id: int | None = None
    callback_at: datetime | None = None
    data: dict[str, str] = field(default_factory=dict)


def check_list_csv(
    *, text: str, file: str, normalize: Callable[[str], str | None]
) -> list[ListRow]:
    """Parse and check a list file; raise :class:`ValidationFailed` listing every bad row.

    ``normalize`` turns a phone number as written into its E.164 form, or ``None`` when it
    is not a phone number.
    """
    check_size(len(text), source=file)
    header, records = csv_records(text, source=file)
    if "phone" not in header:
        raise ValidationFailed([Problem("missing column 'phone'", file, 1, "phone")])
    problems: list[Problem] = []
    rows: list[ListRow] = []
    seen: dict[str, int] = {}
    for line, record in records:
        if len(rows) >= MAX_ROWS:
            problems.append(Problem(f"a list holds at most {MAX_ROWS} rows", file, line))
            break
        if None in record:
            problems.append(Problem("the row has more cells than the header", file, line))
            continue
        cells = {k: (v or "").strip() for k, v in record.items() if k}
        row_problems = len(problems)
        raw = cells.get("phone", "")
        phone = normalize(raw) if raw else None
        if not raw:
            problems.append(Problem("a phone number is required", file, line, "phone"))
        elif phone is None:
            problems.append(Problem(f"not a phone number: {raw!r}", file, line, "phone"))
        elif phone in seen:
            problems.append(
                Problem(f"phone {raw!r} repeats line {seen[phone]}", file, line, "phone")
            )
        time_zone = cells.get("time_zone") or None
        if time_zone and (why := zone_problem(time_zone)):
            problems.append(Problem(why, file, line, "time_zone"))
        customer_id: int | None = None
        if cells.get("customer_id"):
            try:
                customer_id = int(cells["customer_id"])
                if customer_id < 1:
                    raise ValueError
            except ValueError:
                problems.append(Problem("must be a whole number >= 1", file, line, "customer_id"))
        callback_at: datetime | None = None
        if cells.get("callback_at"):
            try:
                callback_at = datetime.fromisoformat(cells["callback_at"])
            except ValueError:
                callback_at = None
            if callback_at is None or callback_at.tzinfo is None:
                problems.append(
                    Problem(
                        "must be a date-time with its offset, e.g. 2026-12-03T10:00:00+08:00",
                        file,
                        line,
                        "callback_at",
                    )
                )
                callback_at = None
        if len(problems) > row_problems or phone is None:
            if len(problems) >= MAX_PROBLEMS:
                break
            continue
        seen[phone] = line
        rows.append(
            ListRow(
                line=line,
                phone=phone,
                name=cells.get("name", ""),
                time_zone=time_zone,
                customer_id=customer_id,
                callback_at=callback_at,
                data={k: v for k, v in cells.items() if k not in KNOWN_COLUMNS and v},
            )
        )
    if problems:
        raise ValidationFailed(problems[:MAX_PROBLEMS])
    if not rows:
        raise ValidationFailed([Problem("the file has no rows", file, 2)])
    return rows
