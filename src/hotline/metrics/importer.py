"""Read contact records from files: the METRICS.md interchange CSV, or any ACD's export.

Every ACD writes call-detail records its own way. Hotline reads its own contact-record format
(METRICS.md: CSV, UTF-8, header row, ISO 8601 timestamps) directly, and anything else through
a small YAML *mapping file* that says which source columns make which contact-record field
(see :class:`ExportMapping` and ``metrics/mappings/anonymous_bank.yaml``).

A row that breaks a rule is reported with file, line, column and rule. A file with bad rows is
rejected whole (:class:`~hotline.core.errors.ValidationFailed` listing every problem) unless
the caller asks to skip them; then every skipped line is listed in the result.
"""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, TextIO, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from hotline.core.documents import CSV_ENCODINGS, DocumentRefused, csv_records, load_yaml
from hotline.core.errors import Problem, ValidationFailed
from hotline.core.spreadsheet import import_cell
from hotline.metrics.records import (
    DURATION_COLUMNS,
    RECORD_COLUMNS,
    TIMESTAMP_COLUMNS,
    ContactRecord,
    record_problems,
)

REQUIRED_COLUMNS: tuple[str, ...] = ("contact_id", "arrived_at", "outcome")
MAPPINGS_DIR = Path(__file__).parent / "mappings"

# Stop collecting problems after this many: a wrong file (say, the wrong delimiter) would
# otherwise produce one problem per row and drown the first, telling one.
MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class ReadResult:
    """Records read from one file, and the lines skipped (when skipping was asked for)."""

    records: list[ContactRecord]
    skipped: list[Problem] = field(default_factory=list)
    rows_read: int = 0
    ignored: int = 0
    """Rows the mapping says to leave out on purpose (e.g. the bank's PHANTOM calls)."""
    encoding: str = "utf-8"
    """The file's encoding: ``utf-8``, or ``gb18030`` for a Chinese Excel export."""

    @property
    def skipped_lines(self) -> list[int]:
        """Line numbers of the skipped rows, in file order, once each."""
        return sorted({p.line for p in self.skipped if p.line is not None})


def open_text(path: Path, encoding: str = "utf-8") -> TextIO:
    """Open a text file for reading, transparently un-gzipping ``*.gz``."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding=encoding, newline="")
    return path.open(encoding=encoding, newline="")


def _open_binary(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def file_encoding(path: Path) -> str:
    """The encoding to read ``path`` in: UTF-8 (a BOM is skipped) or, failing that, GB18030
    (what Chinese Excel writes as "CSV"). Refuses a file that is neither, naming the line
    and column of the first byte that is not UTF-8.

    The file is streamed, not read whole: exports of a year of calls run to gigabytes.
    """
    for encoding in CSV_ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with _open_binary(path) as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return "utf-8-sig" if encoding == "utf-8" else encoding
    with _open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DocumentRefused(
                    f"byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8 "
                    "(nor GB18030): save the file as UTF-8",
                    source=str(path),
                    line=number,
                ) from None
    raise AssertionError("unreachable: a file that does not decode has a line that does not")


def zone(name: str) -> ZoneInfo:
    """Return the time zone ``name`` or raise ``ValueError`` naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def parse_timestamp(text: str, tz: ZoneInfo) -> float:
    """Parse an ISO 8601 timestamp to epoch seconds; naive ones are read in ``tz``.

    >>> parse_timestamp("2026-03-02T08:00:00Z", zone("UTC"))
    1772438400.0
    >>> parse_timestamp("2026-03-02 16:00:00", zone("Asia/Shanghai"))
    1772438400.0
    """
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.timestamp()


def read_contact_records(
    path: Path,
    *,
    tz: str = "UTC",
    skip_bad_rows: bool | None = None,
    mapping: ExportMapping | None = None,
) -> ReadResult:
    """Read a contact-record file (or, with ``mapping``, another ACD's export).

    Raises :class:`ValidationFailed` listing every located problem when a row is bad and
    bad rows are not skipped; a missing required column always rejects the file.
    ``skip_bad_rows``: true skips (and lists) bad rows, false rejects the file, ``None`` (the
    default) follows the mapping's ``bad_rows`` policy (reject without a mapping).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.csv"
    >>> _ = p.write_text("contact_id,arrived_at,queued_at,answered_at,agent,outcome\\n"
    ...                  "c1,2026-03-02T08:00:00,2026-03-02T08:00:05,"
    ...                  "2026-03-02T08:00:25,a1,answered\\n")
    >>> read_contact_records(p).records[0].wait_s
    20.0
    """
    if mapping is not None:
        return mapping.read(path, skip_bad_rows=skip_bad_rows, tz=tz)
    timezone = zone(tz)
    name = str(path)
    encoding = file_encoding(path)
    with open_text(path, encoding) as handle:
        header, reader = csv_records(handle, source=name)
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValidationFailed(
                [
                    Problem(rule=f"required column {c!r} is missing", file=name, line=1, field=c)
                    for c in missing
                ]
            )
        extra = [c for c in header if c not in RECORD_COLUMNS]
        result = _collect(
            name,
            ((line, _from_interchange(row, extra, timezone)) for line, row in reader),
            bool(skip_bad_rows),
        )
    return replace(result, encoding=encoding.removesuffix("-sig"))


def _collect(
    name: str,
    rows: Iterator[tuple[int, tuple[ContactRecord | None, list[tuple[str, str]]] | None]],
    skip_bad_rows: bool,
) -> ReadResult:
    """Validate parsed rows, check uniqueness, and gather records and located problems."""
    records: list[ContactRecord] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    rows_read = 0
    ignored = 0
    for line, parsed in rows:
        rows_read += 1
        if parsed is None:
            ignored += 1
            continue
        record, row_problems = parsed
        if record is not None:
            row_problems = row_problems + record_problems(record)
            seen = first_line.get(record.contact_id)
            if seen is not None:
                row_problems.append(
                    ("contact_id", f"contact_id is not unique in this file (first on line {seen})")
                )
        if row_problems:
            problems.extend(Problem(rule=r, file=name, line=line, field=c) for c, r in row_problems)
            if not skip_bad_rows and len(problems) >= MAX_PROBLEMS:
                problems.append(Problem(rule="too many problems; stopped reading", file=name))
                break
            continue
        assert record is not None
        first_line[record.contact_id] = line
        records.append(record)
    if problems and not skip_bad_rows:
        raise ValidationFailed(problems)
    return ReadResult(records=records, skipped=problems, rows_read=rows_read, ignored=ignored)


def _from_interchange(
    row: dict[str | Any, str | Any], extra: list[str], tz: ZoneInfo
) -> tuple[ContactRecord | None, list[tuple[str, str]]]:
    """Turn one CSV row of the interchange format into a record, or say what is wrong."""
    if None in row:
        return None, [("", "the row has more cells than the header")]
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}

    def text(column: str) -> str | None:
        cell = row.get(column)
        if cell is None:
            return None
        # A cell Hotline's export neutralised ("'=...") reads back as it was stored.
        cell = import_cell(cell.strip())
        return cell or None

    for column in TIMESTAMP_COLUMNS:
        cell = text(column)
        if cell is None:
            values[column] = None
            continue
        try:
            values[column] = parse_timestamp(cell, tz)
        except ValueError:
            problems.append((column, f"{cell!r} is not an ISO 8601 timestamp"))
    for column in DURATION_COLUMNS:
        cell = text(column)
        try:
            values[column] = float(cell) if cell is not None else 0.0
        except ValueError:
            problems.append((column, f"{cell!r} is not a number of seconds"))
    priority = text("priority")
    try:
        values["priority"] = int(priority) if priority is not None else 0
    except ValueError:
        problems.append(("priority", f"{priority!r} is not an integer"))
    transferred = (text("transferred") or "false").lower()
    if transferred not in {"true", "false", "1", "0", "yes", "no"}:
        problems.append(("transferred", f"{transferred!r} is not true or false"))
    for column in REQUIRED_COLUMNS:
        if text(column) is None:
            problems.append((column, f"{column} is required"))
    if problems:
        return None, problems
    record = ContactRecord(
        contact_id=text("contact_id") or "",
        arrived_at=values["arrived_at"],
        outcome=text("outcome") or "",
        channel=text("channel") or "voice",
        direction=text("direction") or "inbound",
        customer=text("customer"),
        queue=text("queue"),
        priority=values["priority"],
        queued_at=values["queued_at"],
        answered_at=values["answered_at"],
        abandoned_at=values["abandoned_at"],
        ended_at=values["ended_at"],
        agent=text("agent"),
        team=text("team"),
        talk_s=values["talk_s"],
        hold_s=values["hold_s"],
        wrap_s=values["wrap_s"],
        transferred=transferred in {"true", "1", "yes"},
        case_id=text("case_id"),
        entry=text("entry"),
        attributes=MappingProxyType({c: import_cell(row[c]) for c in extra if row.get(c)}),
    )
    return record, []


# ---------------------------------------------------------------------------------------------
# Mapping files for other ACDs' exports


#: What a mapping may say about rows that break the contact-record rules.
BAD_ROW_POLICIES = ("reject", "skip")

_FIELD_KEYS = frozenset(
    {
        "column",
        "time",
        "timestamp",
        "format",
        "value",
        "join",
        "sep",
        "map",
        "null_values",
        "when",
        "default",
    }
)


@dataclass(frozen=True)
class FieldRule:
    """How one contact-record field is made from source columns.

    - ``column``: a source column, or a list (the first non-empty one wins);
    - ``time``: time-of-day column(s) combined with the mapping's ``date`` column; a time
      earlier than the arrival time by more than an hour is on the next day (calls cross
      midnight);
    - ``timestamp``: full timestamp column(s), ISO 8601 or ``format`` (strptime);
    - ``value``: a constant; ``join`` + ``sep``: several columns joined;
    - ``map``: translate source values (unmapped values are a row problem);
    - ``null_values``: source values that mean "empty", on top of the mapping's;
    - ``when``: only set the field when the named source columns hold one of the values;
    - ``default``: used when the result is empty.
    """

    target: str
    spec: Mapping[str, Any]

    def sources(self, key: str) -> list[str]:
        """Return the source columns named under ``key`` as a list."""
        value = self.spec.get(key)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@dataclass(frozen=True)
class ExportMapping:
    """A mapping file: how to read another ACD's call-detail export as contact records.

    >>> m = ExportMapping.load(MAPPINGS_DIR / "anonymous_bank.yaml")
    >>> m.name, m.delimiter == "\\t"
    ('anonymous-bank-1999', True)
    """

    name: str
    fields: tuple[FieldRule, ...]
    delimiter: str = ","
    timezone: str | None = None
    null_values: frozenset[str] = frozenset({""})
    skip_when: Mapping[str, frozenset[str]] = field(default_factory=dict)
    date_column: str | None = None
    date_format: str = "%Y-%m-%d"
    not_queued_outcomes: Mapping[str, str] = field(default_factory=dict)
    arrival_is_earliest: bool = False
    keep_columns: tuple[str, ...] = ()
    pseudo_agents: frozenset[str] = frozenset()
    """Agent ids that are not people (e.g. the bank's NO_SERVER): not staffing when fitting."""
    bad_rows: str = "reject"
    """The export's known-quirk policy: ``reject`` the file on a bad row (the default), or
    ``skip`` bad rows and list each one (a shipped mapping whose source is known to carry a
    few rows that break the contact-record rules, e.g. the bank's answered calls without
    service times, so the documented command works on the real files)."""
    source: str = ""

    @classmethod
    def load(cls, path: Path) -> ExportMapping:
        """Load and check a mapping file; problems are located in the mapping file."""
        name = str(path)
        try:
            data = load_yaml(path.read_text(encoding="utf-8"), source=name)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise ValidationFailed(
                [Problem(rule=f"not valid YAML: {exc}", file=name, line=line)]
            ) from exc
        return cls.from_dict(data, source=name)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<mapping>") -> ExportMapping:
        """Build a mapping from parsed YAML, listing every problem found."""
        problems: list[Problem] = []
        if not isinstance(data, dict):
            raise ValidationFailed([Problem(rule="a mapping file is a YAML mapping", file=source)])
        rules: list[FieldRule] = []
        raw_fields = data.get("fields") or {}
        if not isinstance(raw_fields, dict):
            problems.append(Problem(rule="'fields' must be a mapping", file=source, field="fields"))
            raw_fields = {}
        for target, raw_spec in raw_fields.items():
            where = f"fields.{target}"
            if target not in RECORD_COLUMNS:
                problems.append(
                    Problem(rule="not a contact-record column", file=source, field=where)
                )
                continue
            spec = {"column": raw_spec} if isinstance(raw_spec, str) else raw_spec
            if not isinstance(spec, dict):
                problems.append(
                    Problem(rule="must be a column name or a mapping", file=source, field=where)
                )
                continue
            unknown = set(spec) - _FIELD_KEYS
            if unknown:
                problems.append(
                    Problem(rule=f"unknown key(s) {sorted(unknown)}", file=source, field=where)
                )
            kinds = [k for k in ("column", "time", "timestamp", "value", "join") if k in spec]
            if len(kinds) != 1:
                problems.append(
                    Problem(
                        rule="give exactly one of column, time, timestamp, value, join",
                        file=source,
                        field=where,
                    )
                )
            if "time" in spec and not data.get("date"):
                problems.append(
                    Problem(
                        rule="'time' needs the mapping's 'date' column", file=source, field=where
                    )
                )
            rules.append(FieldRule(target=str(target), spec=spec))
        targets = {r.target for r in rules}
        for required in REQUIRED_COLUMNS:
            if required not in targets:
                problems.append(
                    Problem(rule=f"the mapping must make {required!r}", file=source, field="fields")
                )
        tz = data.get("timezone")
        if tz is not None:
            try:
                zone(str(tz))
            except ValueError as exc:
                problems.append(Problem(rule=str(exc), file=source, field="timezone"))
        bad_rows = str(data.get("bad_rows", "reject"))
        if bad_rows not in BAD_ROW_POLICIES:
            problems.append(
                Problem(
                    rule=f"must be one of {', '.join(BAD_ROW_POLICIES)}, got {bad_rows!r}",
                    file=source,
                    field="bad_rows",
                )
            )
        if problems:
            raise ValidationFailed(problems)
        date_spec = data.get("date") or {}
        if isinstance(date_spec, str):
            date_spec = {"column": date_spec}
        return cls(
            name=str(data.get("name", Path(source).stem)),
            fields=tuple(rules),
            delimiter=str(data.get("delimiter", ",")),
            timezone=str(tz) if tz is not None else None,
            null_values=frozenset({"", *map(str, data.get("null_values", []))}),
            skip_when={
                str(k): frozenset(map(str, v if isinstance(v, list) else [v]))
                for k, v in (data.get("skip_when") or {}).items()
            },
            date_column=date_spec.get("column"),
            date_format=str(date_spec.get("format", "%Y-%m-%d")),
            not_queued_outcomes={
                str(k): str(v) for k, v in (data.get("not_queued_outcomes") or {}).items()
            },
            arrival_is_earliest=bool(data.get("arrival_is_earliest", False)),
            keep_columns=tuple(map(str, data.get("keep_columns", []))),
            pseudo_agents=frozenset(map(str, data.get("pseudo_agents", []))),
            bad_rows=bad_rows,
            source=source,
        )

    def read(self, path: Path, *, skip_bad_rows: bool | None = None, tz: str = "UTC") -> ReadResult:
        """Read ``path`` through this mapping (the mapping's time zone wins over ``tz``).

        Bad rows are skipped and listed when ``skip_bad_rows`` is true, reject the file when
        it is false, and follow the mapping's own ``bad_rows`` policy when it is ``None``.
        """
        skip = self.bad_rows == "skip" if skip_bad_rows is None else skip_bad_rows
        timezone = zone(self.timezone or tz)
        name = str(path)
        encoding = file_encoding(path)
        with open_text(path, encoding) as handle:
            columns, reader = csv_records(handle, source=name, delimiter=self.delimiter)
            header = set(columns)
            needed = self._source_columns()
            missing = sorted(needed - header)
            if missing:
                raise ValidationFailed(
                    [
                        Problem(
                            rule=f"column {c!r} named by mapping {self.name!r} is missing",
                            file=name,
                            line=1,
                            field=c,
                        )
                        for c in missing
                    ]
                )
            result = _collect(
                name, ((line, self._convert(row, timezone)) for line, row in reader), skip
            )
        return replace(result, encoding=encoding.removesuffix("-sig"))

    def _source_columns(self) -> set[str]:
        names: set[str] = set(self.skip_when) | set(self.keep_columns)
        if self.date_column:
            names.add(self.date_column)
        for rule in self.fields:
            for key in ("column", "time", "timestamp", "join"):
                names.update(rule.sources(key))
            names.update(str(k) for k in (rule.spec.get("when") or {}))
        return names

    def _convert(
        self, row: dict[str | Any, str | Any], tz: ZoneInfo
    ) -> tuple[ContactRecord | None, list[tuple[str, str]]] | None:
        """Turn one source row into a record; ``None`` for rows the mapping skips."""
        if None in row:
            return None, [("", "the row has more cells than the header")]
        for column, skipped in self.skip_when.items():
            if (row.get(column) or "").strip() in skipped:
                return None
        problems: list[tuple[str, str]] = []
        day: date | None = None
        if self.date_column:
            raw = (row.get(self.date_column) or "").strip()
            try:
                day = datetime.strptime(raw, self.date_format).date()
            except ValueError:
                problems.append((self.date_column, f"{raw!r} is not a date ({self.date_format})"))
                return None, problems
        values: dict[str, Any] = {}
        # arrived_at first: later time-of-day fields roll over midnight relative to it.
        ordered = sorted(self.fields, key=lambda r: r.target != "arrived_at")
        for rule in ordered:
            try:
                values[rule.target] = self._field(rule, row, tz, day, values.get("arrived_at"))
            except ValueError as exc:
                problems.append((rule.target, str(exc)))
        if problems:
            return None, problems
        if values.get("queued_at") is None and values.get("outcome") in self.not_queued_outcomes:
            values["outcome"] = self.not_queued_outcomes[values["outcome"]]
        if self.arrival_is_earliest and values.get("arrived_at") is not None:
            stamps = [values[c] for c in TIMESTAMP_COLUMNS if values.get(c) is not None]
            values["arrived_at"] = min(stamps)
        for required in REQUIRED_COLUMNS:
            if values.get(required) in (None, ""):
                problems.append((required, f"{required} is required"))
        if problems:
            return None, problems
        kept = {c: str(row[c]).strip() for c in self.keep_columns if row.get(c)}
        record = ContactRecord(
            contact_id=str(values["contact_id"]),
            arrived_at=float(values["arrived_at"]),
            outcome=str(values["outcome"]),
            channel=str(values.get("channel") or "voice"),
            direction=str(values.get("direction") or "inbound"),
            customer=_opt_str(values.get("customer")),
            queue=_opt_str(values.get("queue")),
            priority=int(values.get("priority") or 0),
            queued_at=values.get("queued_at"),
            answered_at=values.get("answered_at"),
            abandoned_at=values.get("abandoned_at"),
            ended_at=values.get("ended_at"),
            agent=_opt_str(values.get("agent")),
            team=_opt_str(values.get("team")),
            talk_s=float(values.get("talk_s") or 0.0),
            hold_s=float(values.get("hold_s") or 0.0),
            wrap_s=float(values.get("wrap_s") or 0.0),
            transferred=str(values.get("transferred") or "").lower() in {"true", "1", "yes"},
            case_id=_opt_str(values.get("case_id")),
            entry=_opt_str(values.get("entry")),
            attributes=MappingProxyType(kept),
        )
        return record, []

    def _field(
        self,
        rule: FieldRule,
        row: dict[str | Any, str | Any],
        tz: ZoneInfo,
        day: date | None,
        arrived_at: float | None,
    ) -> Any:
        spec = rule.spec
        nulls = self.null_values | frozenset(map(str, spec.get("null_values", [])))
        when = spec.get("when") or {}
        for column, allowed in when.items():
            allowed_values = {str(v) for v in (allowed if isinstance(allowed, list) else [allowed])}
            if (row.get(column) or "").strip() not in allowed_values:
                return spec.get("default")

        def first(columns: list[str]) -> str | None:
            for column in columns:
                cell = (row.get(column) or "").strip()
                if cell not in nulls:
                    return cell
            return None

        result: Any
        if "value" in spec:
            result = spec["value"]
        elif "join" in spec:
            parts = [(row.get(c) or "").strip() for c in rule.sources("join")]
            result = str(spec.get("sep", "-")).join(parts) if any(parts) else None
        elif "time" in spec:
            cell = first(rule.sources("time"))
            result = None if cell is None else _at(day, cell, tz, arrived_at)
        elif "timestamp" in spec:
            cell = first(rule.sources("timestamp"))
            if cell is None:
                result = None
            elif "format" in spec:
                stamp = datetime.strptime(cell, str(spec["format"]))
                if stamp.tzinfo is None:
                    stamp = stamp.replace(tzinfo=tz)
                result = stamp.timestamp()
            else:
                result = parse_timestamp(cell, tz)
        else:
            result = first(rule.sources("column"))
        if result is not None and "map" in spec:
            table = {str(k): v for k, v in spec["map"].items()}
            if str(result) not in table:
                raise ValueError(f"{result!r} is not one of {sorted(table)}")
            result = table[str(result)]
        if result is None:
            return spec.get("default")
        if rule.target == "priority" or rule.target in DURATION_COLUMNS:
            try:
                number = float(result)
            except (TypeError, ValueError):
                raise ValueError(f"{result!r} is not a number") from None
            return int(number) if rule.target == "priority" else number
        return result


def _at(day: date | None, cell: str, tz: ZoneInfo, arrived_at: float | None) -> float:
    """Combine a date and a time of day (H:MM:SS) into epoch seconds in ``tz``."""
    if day is None:
        raise ValueError("a time of day needs a date")
    try:
        clock = time.fromisoformat(cell.zfill(8))
    except ValueError:
        raise ValueError(f"{cell!r} is not a time of day (H:MM:SS)") from None
    stamp = datetime.combine(day, clock, tzinfo=tz).timestamp()
    if arrived_at is not None and stamp < arrived_at - 3600:
        # The call crossed midnight: the record's date is the arrival date.
        stamp = datetime.combine(day + timedelta(days=1), clock, tzinfo=tz).timestamp()
    return stamp


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def shipped_mapping(name: str) -> ExportMapping:
    """Load a mapping shipped with Hotline by its name, and nothing else.

    What the web API uses: a name that happens to match a file in the server's working
    directory (``secret.key``, ``hotline.db``) must never be read as a mapping.

    >>> shipped_mapping("anonymous-bank").name
    'anonymous-bank-1999'
    >>> try:
    ...     shipped_mapping("pyproject")
    ... except ValidationFailed as failed:
    ...     print(failed)
    mapping: no shipped mapping 'pyproject' (shipped: anonymous_bank)
    """
    known = {p.stem: p for p in MAPPINGS_DIR.glob("*.yaml")}
    path = known.get(name.replace("-", "_"))
    if path is None:
        raise ValidationFailed(
            [
                Problem(
                    rule=f"no shipped mapping {name!r} (shipped: {', '.join(sorted(known))})",
                    field="mapping",
                )
            ]
        )
    return ExportMapping.load(path)


def load_mapping(name_or_path: str) -> ExportMapping:
    """Load a mapping by file path, or by the name of one shipped with Hotline (the CLI).

    >>> load_mapping("anonymous_bank").name
    'anonymous-bank-1999'
    """
    path = Path(name_or_path)
    if not path.exists():
        shipped = MAPPINGS_DIR / f"{name_or_path.replace('-', '_')}.yaml"
        if not shipped.exists():
            known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
            raise ValidationFailed(
                [Problem(rule=f"no mapping file {name_or_path!r} (shipped: {known})")]
            )
        path = shipped
    return ExportMapping.load(path)
