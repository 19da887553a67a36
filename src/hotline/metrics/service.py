"""Metrics service: store imported contact records and compute reports from the database.

Other domains and the adapters (CLI, API) reach metrics through these functions. A report
from the database combines imported contact records (``contact_records``) with contacts folded
from the contact event log (``contact_events``, live and simulated traffic), so every figure is
computed by the same engine (:mod:`hotline.metrics.compute`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict
from hotline.core.events import Channel, Event, EventKind
from hotline.metrics.compute import (
    FRAME_SCHEMA,
    KpiReport,
    events_to_frame,
    queue_figures,
)
from hotline.metrics.definitions import MetricSettings
from hotline.metrics.records import RECORD_COLUMNS, ContactRecord
from hotline.store.models.core import ContactEventRow
from hotline.store.models.metrics import ContactRecordRow

# Rows per INSERT statement: large enough to be quick, small enough for PostgreSQL's limit of
# 65535 bind parameters (21 columns x 2000 rows).
_BATCH = 2000


def import_records(
    *,
    session: Session,
    records: Sequence[ContactRecord],
    source: str,
    replace: bool = False,
) -> int:
    """Store contact records under ``source``; return how many were stored.

    Importing the same source twice is refused (:class:`Conflict`) unless ``replace``, which
    first removes that source's earlier records.
    """
    existing = session.scalar(
        select(func.count()).select_from(ContactRecordRow).where(ContactRecordRow.source == source)
    )
    if existing:
        if not replace:
            raise Conflict(
                f"source {source!r} already holds {existing} contact records; "
                "use replace to import it again"
            )
        session.execute(delete(ContactRecordRow).where(ContactRecordRow.source == source))
    rows: list[dict[str, Any]] = []
    for record in records:
        row = {name: getattr(record, name) for name in RECORD_COLUMNS}
        row["source"] = source
        row["attributes"] = dict(record.attributes)
        rows.append(row)
        if len(rows) >= _BATCH:
            session.execute(insert(ContactRecordRow), rows)
            rows = []
    if rows:
        session.execute(insert(ContactRecordRow), rows)
    session.flush()
    return len(records)


def sources(*, session: Session) -> dict[str, int]:
    """Return each imported source with its number of contact records."""
    result = session.execute(
        select(ContactRecordRow.source, func.count()).group_by(ContactRecordRow.source)
    )
    return {str(source): int(count) for source, count in result.all()}


def records_frame(
    *, session: Session, source: str | None = None, include_events: bool = True
) -> pl.DataFrame:
    """Return imported records (and, unless told not to, contacts from the event log)."""
    columns = [getattr(ContactRecordRow, name) for name in RECORD_COLUMNS]
    query = select(*columns)
    if source is not None:
        query = query.where(ContactRecordRow.source == source)
    rows = session.execute(query).all()
    frame = pl.DataFrame([tuple(row) for row in rows], schema=FRAME_SCHEMA, orient="row")
    if include_events and source is None:
        events = event_log(session=session)
        if events:
            frame = pl.concat([frame, events_to_frame(events)], how="vertical")
    return frame


def event_log(*, session: Session, source: str | None = None) -> list[Event]:
    """Return the contact event log (optionally of one source: live, sim, …) in order."""
    query = select(ContactEventRow).order_by(ContactEventRow.at, ContactEventRow.seq)
    if source is not None:
        query = query.where(ContactEventRow.source == source)
    out: list[Event] = []
    for row in session.scalars(query):
        out.append(
            Event(
                seq=row.seq,
                at=row.at,
                kind=EventKind(row.kind),
                contact_id=row.contact_id,
                agent_id=row.agent_id,
                queue=row.queue,
                channel=Channel(row.channel) if row.channel else None,
                data=row.data or {},
            )
        )
    return out


def kpi_report(
    *,
    session: Session,
    interval: str = "30m",
    by: Sequence[str] = ("queue",),
    settings: MetricSettings | None = None,
    timezone: str = "UTC",
    source: str | None = None,
) -> KpiReport:
    """Compute the queue figures of METRICS.md over what the database holds."""
    frame = records_frame(session=session, source=source)
    report = queue_figures(frame, interval=interval, by=by, settings=settings, timezone=timezone)
    report.notes.append(
        f"{frame.height} contacts from the database"
        + (f" (source {source!r})" if source else " (imported records and event log)")
    )
    return report
