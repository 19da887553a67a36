"""Workforce management's files: the I/O edge of the pure WFM modules.

It reads contact-record files (through the metrics domain's public reader, so a record means
the same thing here as in every report), the special-day calendar, rosters and event-log files,
and turns them into the inputs of :mod:`hotline.wfm.forecast` and :mod:`hotline.wfm.adherence`;
it writes schedules (CSV, Excel) and their coverage charts, and asks the metrics service for
the stored contact history. WFM keeps no tables of its own, so it has no ``service`` module
(in Hotline that name means a domain's persistence-facing service); the CLI and the API call
these functions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hotline.core.documents import dict_rows, load_json
from hotline.core.events import Event
from hotline.core.spreadsheet import append_row, csv_cell
from hotline.metrics import service as metrics_service
from hotline.metrics.service import BANK_TIMEZONE, ContactRecord
from hotline.wfm.adherence import BREAK, PHONES, ScheduledActivity
from hotline.wfm.forecast import History, SpecialDay
from hotline.wfm.schedule import ScheduleResult

__all__ = [
    "BANK_TIMEZONE",
    "bank_history",
    "history_from_records",
    "history_from_store",
    "phones_per_interval",
    "plot_coverage",
    "read_bank",
    "read_calendar",
    "read_contacts",
    "read_events",
    "read_roster",
    "schedule_rows",
    "stored_events",
    "write_schedule",
]


def read_contacts(
    paths: Sequence[Path], *, tz: str, skip_bad_rows: bool = False
) -> list[ContactRecord]:
    """Read contact-record CSV files (METRICS.md format; ``.gz`` allowed)."""
    return metrics_service.read_contact_files(paths, tz=tz, skip_bad_rows=skip_bad_rows)


def history_from_records(
    records: Iterable[ContactRecord],
    *,
    interval_s: int,
    timezone: str,
    channel: str | None = None,
    queue: str | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> History:
    """Offered contacts (those that queued) and their handling per local interval (from
    ``first_day`` to ``last_day`` when given, e.g. to align a queue with its total).

    >>> r = ContactRecord(contact_id="c", arrived_at=0.0, queued_at=0.0, answered_at=5.0,
    ...                   agent="a", outcome="answered", talk_s=100, wrap_s=20)
    >>> history_from_records([r], interval_s=1800, timezone="UTC").handle_s[0, 0]
    np.float64(120.0)
    """
    queued: list[float] = []
    handled: list[float | None] = []
    for record in records:
        if record.queued_at is None or record.direction != "inbound":
            continue
        if channel is not None and record.channel != channel:
            continue
        if queue is not None and record.queue != queue:
            continue
        queued.append(record.queued_at)
        handled.append(record.handle_s if record.answered_at is not None else None)
    return History.from_contacts(
        queued_at=queued,
        handle_s=handled,
        interval_s=interval_s,
        timezone=timezone,
        first_day=first_day,
        last_day=last_day,
    )


def bank_history(directory: Path, *, interval_s: int, queue: str | None = None) -> History:
    """The 1999 Anonymous Bank logs (Technion SEE lab) as a forecasting history."""
    records = metrics_service.read_bank(directory)
    return history_from_records(records, interval_s=interval_s, timezone=BANK_TIMEZONE, queue=queue)


def read_calendar(path: Path) -> list[SpecialDay]:
    """Read a special-day calendar CSV (``date,label[,kind][,factor][,like]``, see
    :mod:`hotline.wfm.calendars`); every bad row is reported with its line."""
    from hotline.wfm.calendars import parse_calendar

    return parse_calendar(path.read_text(encoding="utf-8"), source=str(path))


# --------------------------------------------------------------------------- schedule output


def schedule_rows(result: ScheduleResult, *, interval_s: int) -> list[dict[str, object]]:
    """One row per agent shift, with clock times, for CSV or Excel."""

    def clock(slot: int) -> str:
        seconds = slot * interval_s
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

    return [
        {
            "agent": a.agent_id,
            "date": a.day.isoformat(),
            "shift": a.template,
            "skill": a.skill,
            "start": clock(a.start),
            "end": clock(a.end),
            "breaks": " ".join(f"{clock(b0)}-{clock(b1)}" for b0, b1 in a.breaks),
            "paid_hours": round(a.paid_hours, 2),
        }
        for a in result.assignments
    ]


def write_schedule(result: ScheduleResult, path: Path, *, interval_s: int) -> None:
    """Write the per-agent schedule as CSV, or as Excel when ``path`` ends in ``.xlsx``
    (sheets: schedule, coverage)."""
    rows = schedule_rows(result, interval_s=interval_s)
    columns = ["agent", "date", "shift", "skill", "start", "end", "breaks", "paid_hours"]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = "schedule"
        append_row(sheet, columns)
        for row in rows:
            append_row(sheet, [row[c] for c in columns])
        cover = book.create_sheet("coverage")
        append_row(cover, ["skill", "day", "interval", "required", "scheduled"])
        for skill, required in result.required.items():
            scheduled = result.scheduled[skill]
            for d in range(required.shape[0]):
                for s in range(required.shape[1]):
                    append_row(cover, [skill, d, s, float(required[d, s]), float(scheduled[d, s])])
        book.save(path)
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)


def plot_coverage(result: ScheduleResult, path: Path, *, first_day: date, interval_s: int) -> None:
    """Coverage chart PNG: required vs scheduled agents per interval, one panel per skill."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    skills = sorted(result.required)
    figure, axes = plt.subplots(len(skills), 1, figsize=(14, 3.2 * len(skills)), squeeze=False)
    for axis, skill in zip(axes[:, 0], skills, strict=True):
        required = np.ceil(result.required[skill].ravel() - 1e-9)
        scheduled = result.scheduled[skill].ravel()
        hours = np.arange(required.size) * interval_s / 3600.0
        axis.step(hours, required, where="post", label="required", color="black")
        axis.fill_between(hours, scheduled, step="post", alpha=0.4, label="scheduled")
        short = np.where(scheduled < required, required, np.nan)
        axis.step(hours, short, where="post", color="red", label="under-staffed")
        days = required.size * interval_s // 86400
        axis.set_xticks([24 * d for d in range(days + 1)])
        axis.set_xticklabels(
            [(first_day + timedelta(days=d)).strftime("%a %d %b") for d in range(days + 1)],
            fontsize=8,
        )
        axis.set_ylabel(f"agents ({skill})")
        axis.legend(loc="upper right", fontsize=8)
    axes[0, 0].set_title(
        f"Coverage: labour {result.labour_cost:.0f}, under-staffed intervals "
        f"{result.under_staffed_intervals} ({result.status})"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


# --------------------------------------------------------------------------- stored history


def history_from_store(
    *,
    session: Session,
    interval_s: int,
    timezone: str,
    source: str | None = None,
    channel: str | None = None,
    queue: str | None = None,
    queued_from: float | None = None,
    queued_until: float | None = None,
) -> History:
    """Forecasting history from the contact records (and event log) in the database, of the
    contacts queued in [``queued_from``, ``queued_until``) (epoch seconds) when given."""
    import polars as pl

    frame = metrics_service.records_frame(
        session=session, source=source, queued_from=queued_from, queued_until=queued_until
    )
    frame = frame.filter(pl.col("queued_at").is_not_null() & (pl.col("direction") == "inbound"))
    if channel is not None:
        frame = frame.filter(pl.col("channel") == channel)
    if queue is not None:
        frame = frame.filter(pl.col("queue") == queue)
    handle = (
        pl.when(pl.col("answered_at").is_not_null())
        .then(pl.col("talk_s") + pl.col("hold_s") + pl.col("wrap_s"))
        .otherwise(None)
    )
    frame = frame.select(pl.col("queued_at"), handle.alias("handle_s"))
    return History.from_contacts(
        queued_at=frame["queued_at"].to_list(),
        handle_s=frame["handle_s"].to_list(),
        interval_s=interval_s,
        timezone=timezone,
    )


def stored_events(*, session: Session, source: str | None = None) -> list[Event]:
    """The contact event log in the database (agent-state events included)."""
    return metrics_service.event_log(session=session, source=source)


# --------------------------------------------------------------------------- adherence inputs


def read_events(path: Path, *, replication: int | None = None) -> list[Event]:
    """Read a contact event log file: JSON lines of ``Event.as_dict()``, or the Parquet log
    ``hotline simulate`` writes (``replication`` picks one run of it)."""

    from hotline.core.events import Channel, EventKind

    rows: list[dict[str, Any]]
    if path.suffix == ".parquet":
        import polars as pl

        frame = pl.read_parquet(path)
        if replication is not None and "replication" in frame.columns:
            frame = frame.filter(pl.col("replication") == replication)
        rows = frame.to_dicts()
        for row in rows:
            row["data"] = load_json(row["data"], source=str(path)) if row.get("data") else {}
    else:
        with path.open(encoding="utf-8") as handle:
            rows = [load_json(line, source=str(path)) for line in handle if line.strip()]
    return [
        Event(
            seq=int(row["seq"]),
            at=float(row["at"]),
            kind=EventKind(row["kind"]),
            contact_id=row.get("contact_id"),
            agent_id=row.get("agent_id"),
            queue=row.get("queue"),
            channel=Channel(row["channel"]) if row.get("channel") else None,
            data=row.get("data") or {},
        )
        for row in rows
    ]


def _local(day: str, clock: str, zone: ZoneInfo) -> float:
    hours, minutes = (int(x) for x in clock.split(":"))
    base = datetime.combine(date.fromisoformat(day), datetime.min.time(), zone)
    return (base + timedelta(hours=hours, minutes=minutes)).timestamp()


def read_roster(path: Path, *, tz: str) -> list[ScheduledActivity]:
    """Scheduled activities from a roster CSV written by ``hotline wfm schedule``: each shift
    is ``phones`` except its breaks, which are ``break``."""
    zone = ZoneInfo(tz)
    activities: list[ScheduledActivity] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in dict_rows(handle, source=str(path)):
            agent, day = row["agent"], row["date"]
            start, end = _local(day, row["start"], zone), _local(day, row["end"], zone)
            breaks = sorted(
                (_local(day, b0, zone), _local(day, b1, zone))
                for b0, b1 in (span.split("-") for span in (row.get("breaks") or "").split())
            )
            cursor = start
            for b0, b1 in breaks:
                if b0 > cursor:
                    activities.append(ScheduledActivity(agent, cursor, b0, PHONES))
                activities.append(ScheduledActivity(agent, b0, b1, BREAK))
                cursor = b1
            if end > cursor:
                activities.append(ScheduledActivity(agent, cursor, end, PHONES))
    return activities


def phones_per_interval(
    activities: Iterable[ScheduledActivity], *, day_start: float, interval_s: int, slots: int
) -> list[float]:
    """Agents scheduled on the phones in each interval of a day (time-weighted)."""
    counts = [0.0] * slots
    for item in activities:
        if item.activity != PHONES:
            continue
        for s in range(slots):
            a0 = day_start + s * interval_s
            overlap = min(item.end, a0 + interval_s) - max(item.start, a0)
            if overlap > 0:
                counts[s] += overlap / interval_s
    return counts


def read_bank(directory: Path) -> list[ContactRecord]:
    """All month files of the 1999 Anonymous Bank logs in ``directory`` as contact records."""
    return metrics_service.read_bank(directory)
