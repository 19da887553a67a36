"""Special-day calendars as data: the CSV format, and the calendars shipped with Hotline.

A calendar is a CSV file with the columns ``date,label[,kind][,factor][,like]``: ``date`` is
YYYY-MM-DD; ``label`` names the occasion (``passover``, ``spring_festival``); ``kind`` groups
occasions that behave alike (``bank_holiday``, ``holiday_eve``, ``adjusted_workday``) so a
first occurrence of a label can learn from earlier days of its kind; ``factor`` and ``like``
are priors used only until the history holds a day of the same label or kind (see
:class:`hotline.wfm.forecast.SpecialDay`).

Shipped calendars (``hotline/wfm/holidays/*.csv``):

* ``israel-1999`` — the Jewish holidays and national days of 1999 in Israel, for the
  Anonymous Bank logs: Purim, Passover (first and seventh days and their eves), Memorial and
  Independence Days, the general election of 17 May, Shavuot and its eve, Tisha B'Av. Banks
  close on the holidays (prior ``factor`` 0.1, for calls that still reach the IVR); eves
  are half days (prior ``like`` friday, the Israeli short day).
* ``china-2025-2026`` — the PRC public holidays of 2025 and 2026 as the State Council
  announced them, with the Spring Festival as its own kind and the weekend days worked in
  exchange (调休, kind ``adjusted_workday``, prior ``like`` monday).

Every bad row is reported with its file, line and field.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from importlib import resources

from hotline.core.errors import Problem, ValidationFailed
from hotline.wfm.forecast import SpecialDay

__all__ = ["parse_calendar", "shipped_calendar", "shipped_calendars"]


def parse_calendar(text: str, *, source: str) -> list[SpecialDay]:
    """Read calendar CSV text; every bad row is reported with its line.

    >>> days = parse_calendar("date,label,kind\\n1999-04-01,passover,bank_holiday\\n", source="x")
    >>> days[0].label, days[0].kind
    ('passover', 'bank_holiday')
    >>> parse_calendar("date,label\\n1999-02-30,x\\n", source="cal.csv")
    Traceback (most recent call last):
    ...
    hotline.core.errors.ValidationFailed: cal.csv:2: date: day is out of range for month
    """
    reader = csv.DictReader(io.StringIO(text))
    header = set(reader.fieldnames or [])
    if not {"date", "label"} <= header:
        raise ValidationFailed(
            [Problem(rule="calendar needs date and label columns", file=source, line=1)]
        )
    days: list[SpecialDay] = []
    problems: list[Problem] = []
    for row in reader:
        line = reader.line_num
        field = "date"
        try:
            day = date.fromisoformat((row.get("date") or "").strip())
            field = "factor"
            factor_text = (row.get("factor") or "").strip()
            factor = float(factor_text) if factor_text else None
            field = "like"
            days.append(
                SpecialDay(
                    day=day,
                    label=(row.get("label") or "").strip() or "special",
                    factor=factor,
                    like=(row.get("like") or "").strip() or None,
                    kind=(row.get("kind") or "").strip() or None,
                )
            )
        except ValueError as exc:
            problems.append(Problem(rule=str(exc), file=source, line=line, field=field))
    if problems:
        raise ValidationFailed(problems)
    return days


def shipped_calendars() -> list[str]:
    """Names of the calendars shipped with Hotline.

    >>> shipped_calendars()
    ['china-2025-2026', 'israel-1999']
    """
    folder = resources.files("hotline.wfm") / "holidays"
    return sorted(p.name.removesuffix(".csv") for p in folder.iterdir() if p.name.endswith(".csv"))


def shipped_calendar(name: str) -> list[SpecialDay]:
    """A shipped calendar by name (see :func:`shipped_calendars`).

    >>> [d.label for d in shipped_calendar("israel-1999")][:2]
    ['purim', 'passover_eve']
    """
    if name not in shipped_calendars():
        raise ValueError(
            f"no shipped calendar {name!r} (shipped: {', '.join(shipped_calendars())})"
        )
    resource = resources.files("hotline.wfm") / "holidays" / f"{name}.csv"
    return parse_calendar(resource.read_text(encoding="utf-8"), source=f"calendar {name}")
