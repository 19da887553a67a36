"""Metrics service: store imported contact records and compute reports from the database.

Other domains and the adapters (CLI, API) reach metrics through these functions (the import
contracts hold other domains to this module). A report
from the database combines imported contact records (``contact_records``) with contacts folded
from the contact event log (``contact_events``, live and simulated traffic), so every figure is
computed by the same engine (:mod:`hotline.metrics.compute`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict
from hotline.core.events import Event, EventKind
from hotline.metrics.bankdata import BANK_TIMEZONE, bank_month_files, read_bank_records
from hotline.metrics.compute import (
    FRAME_SCHEMA,
    KpiReport,
    agent_figures,
    events_to_frame,
    experience_figures,
    frame_to_csv,
    frame_to_parquet,
    queue_figures,
    with_sites,
    with_teams,
)
from hotline.metrics.definitions import MetricSettings, QueueThresholds, ServiceLevelVariant
from hotline.metrics.importer import read_contact_records
from hotline.metrics.records import RECORD_COLUMNS, ContactRecord
from hotline.store.event_log import event_of
from hotline.store.models.core import ContactEventRow
from hotline.store.models.imports import StagedContactRecord
from hotline.store.models.metrics import ContactRecordRow

# Besides its own functions, what other domains read of metrics' record files (WFM forecasts
# from history files) is exported from here: the record type and the bank data's time zone.
__all__ = [
    "BANK_TIMEZONE",
    "ContactRecord",
    "agent_period_figures",
    "agent_report",
    "discard_staged_records",
    "event_log",
    "experience_report",
    "export_records",
    "import_records",
    "kpi_report",
    "publish_staged_records",
    "queue_mix_figures",
    "read_bank",
    "read_contact_files",
    "records_frame",
    "settings_for_center",
    "source_size",
    "sources",
    "stage_records",
    "teams_for_center",
]

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
    if session.connection().dialect.name == "postgresql":
        _insert_by_copy(session, records, source)
        return len(records)
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


def source_size(*, session: Session, source: str) -> int:
    """How many contact records ``source`` holds (0 when it was never imported)."""
    count = session.scalar(
        select(func.count()).select_from(ContactRecordRow).where(ContactRecordRow.source == source)
    )
    return int(count or 0)


def stage_records(
    session: Session, *, job_id: str, records: Sequence[ContactRecord], first_seq: int
) -> None:
    """Stage one chunk of an import job's records (file order from ``first_seq``) in the
    caller's short transaction; nothing reads them until :func:`publish_staged_records`."""
    rows: list[dict[str, Any]] = []
    for seq, record in enumerate(records, start=first_seq):
        row = {name: getattr(record, name) for name in RECORD_COLUMNS}
        row.update(job_id=job_id, seq=seq, attributes=dict(record.attributes))
        rows.append(row)
        if len(rows) >= _BATCH:
            session.execute(insert(StagedContactRecord), rows)
            rows = []
    if rows:
        session.execute(insert(StagedContactRecord), rows)


def publish_staged_records(session: Session, *, job_id: str, source: str, replace: bool) -> int:
    """Store a job's staged records under ``source``: the import's one short, set-based step.

    In the caller's transaction: refuse (:class:`Conflict`) a source that already holds
    records unless ``replace``, which deletes them here, in the same transaction; copy the
    staged rows with one ``INSERT … SELECT``; delete them from staging. Commit it with the job's
    end and either all of it happens or none. Returns how many records were stored.
    """
    existing = source_size(session=session, source=source)
    if existing:
        if not replace:
            raise Conflict(
                f"source {source!r} already holds {existing} contact records; "
                "use replace to import it again"
            )
        session.execute(delete(ContactRecordRow).where(ContactRecordRow.source == source))
    staged = StagedContactRecord
    columns = [getattr(staged, name) for name in RECORD_COLUMNS]
    chosen = (
        select(literal(source, ContactRecordRow.source.type), *columns, staged.attributes)
        .where(staged.job_id == job_id)
        .order_by(staged.seq)
    )
    session.execute(
        insert(ContactRecordRow).from_select(["source", *RECORD_COLUMNS, "attributes"], chosen)
    )
    stored = source_size(session=session, source=source)
    discard_staged_records(session, job_id=job_id)
    return stored


def discard_staged_records(session: Session, *, job_id: str) -> None:
    """Delete a job's staged records (after its publish, or when it failed)."""
    session.execute(delete(StagedContactRecord).where(StagedContactRecord.job_id == job_id))


def _insert_by_copy(session: Session, records: Sequence[ContactRecord], source: str) -> None:
    """Append records to PostgreSQL with ``COPY … FROM STDIN`` (tens of times faster than
    INSERT batches for a month or a year of history), inside the session's transaction."""
    session.flush()
    raw: Any = session.connection().connection.dbapi_connection
    columns = ", ".join(("source", *RECORD_COLUMNS, "attributes"))
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY contact_records ({columns}) FROM STDIN") as copy,
    ):
        for record in records:
            copy.write_row(
                (
                    source,
                    *(getattr(record, name) for name in RECORD_COLUMNS),
                    json.dumps(dict(record.attributes)),
                )
            )


def sources(*, session: Session) -> dict[str, int]:
    """Return each imported source with its number of contact records."""
    result = session.execute(
        select(ContactRecordRow.source, func.count()).group_by(ContactRecordRow.source)
    )
    return {str(source): int(count) for source, count in result.all()}


def records_frame(
    *,
    session: Session,
    source: str | None = None,
    include_events: bool = True,
    queued_from: float | None = None,
    queued_until: float | None = None,
) -> pl.DataFrame:
    """Imported records and contacts folded from the event log (of ``source`` when given).

    A source names an import (``hotline import contacts --source``) or a writer of the event
    log (``live``, ``sim:<scenario>``); without one, everything is included. With
    ``queued_from`` / ``queued_until`` (epoch seconds) only contacts queued in
    [``queued_from``, ``queued_until``) are returned; the database picks the imported ones
    (by its ``queued_at`` index), so a month of a large history does not load every year.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        frame = _records_by_copy(session, source, queued_from, queued_until)
    else:
        columns = [getattr(ContactRecordRow, name) for name in RECORD_COLUMNS]
        query = select(*columns)
        if source is not None:
            query = query.where(ContactRecordRow.source == source)
        if queued_from is not None:
            query = query.where(ContactRecordRow.queued_at >= queued_from)
        if queued_until is not None:
            query = query.where(ContactRecordRow.queued_at < queued_until)
        rows = session.execute(query).all()
        frame = pl.DataFrame([tuple(row) for row in rows], schema=FRAME_SCHEMA, orient="row")
    if include_events:
        events = event_log(session=session, source=source)
        if events:
            folded = events_to_frame(events)
            # Contacts are folded whole from all their events, then kept by when they queued.
            if queued_from is not None:
                folded = folded.filter(pl.col("queued_at") >= queued_from)
            if queued_until is not None:
                folded = folded.filter(pl.col("queued_at") < queued_until)
            frame = pl.concat([frame, folded], how="vertical")
    return frame


def _records_by_copy(
    session: Session,
    source: str | None,
    queued_from: float | None = None,
    queued_until: float | None = None,
) -> pl.DataFrame:
    """Read contact records from PostgreSQL with ``COPY … TO STDOUT`` straight into Polars.

    Row-by-row fetching costs microseconds per row in Python; COPY streams CSV that Polars
    parses natively, so a year of a large center loads in seconds. Same session, same
    transaction: the rows seen are those the ORM path would see.
    """
    columns = ", ".join(
        f"{name}::int" if name == "transferred" else name for name in RECORD_COLUMNS
    )
    conditions: list[str] = []
    parameters: list[Any] = []
    for condition, value in (
        ("source = %s", source),
        ("queued_at >= %s", queued_from),
        ("queued_at < %s", queued_until),
    ):
        if value is not None:
            conditions.append(condition)
            parameters.append(value)
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    statement = (
        f"COPY (SELECT {columns} FROM contact_records{where} ORDER BY id) "
        "TO STDOUT WITH (FORMAT csv, HEADER true)"
    )
    session.flush()
    # The psycopg connection under SQLAlchemy's pool; its cursor speaks COPY.
    raw: Any = session.connection().connection.dbapi_connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor, cursor.copy(statement, parameters or None) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    schema = {**FRAME_SCHEMA, "transferred": pl.Int8()}
    frame = pl.read_csv(buffer, schema=schema)
    return frame.with_columns(pl.col("transferred").cast(pl.Boolean()))


def event_log(*, session: Session, source: str | None = None) -> list[Event]:
    """Return the contact event log (optionally of one source: live, sim, …) in order."""
    query = select(ContactEventRow).order_by(ContactEventRow.at, ContactEventRow.seq)
    if source is not None:
        query = query.where(ContactEventRow.source == source)
    return [event_of(row) for row in session.scalars(query)]


#: How far before a window agent-state events are read for the state the window opens in: an
#: agent's state changes at least at every log-in of a working day.
STATE_LOOKBACK_S = 86_400.0


def agent_state_events(
    *, session: Session, since: float, until: float, agents: Collection[str] | None = None
) -> list[Event]:
    """The ``agent_state`` events of ``agents`` (everyone when ``None``) before ``until``,
    from a day before ``since`` (so the state an agent was in when the window opened is
    known), in order; every source (live and simulated) alike."""
    query = (
        select(ContactEventRow)
        .where(
            ContactEventRow.kind == EventKind.AGENT_STATE.value,
            ContactEventRow.at >= since - STATE_LOOKBACK_S,
            ContactEventRow.at < until,
        )
        .order_by(ContactEventRow.at, ContactEventRow.seq)
    )
    if agents is not None:
        query = query.where(ContactEventRow.agent_id.in_(list(agents)))
    return [
        Event(
            seq=row.seq,
            at=row.at,
            kind=EventKind.AGENT_STATE,
            agent_id=row.agent_id,
            data=row.data or {},
        )
        for row in session.scalars(query)
    ]


# The center configuration names the variants briefly (config/center.py ``ServiceTarget``).
_VARIANTS: Mapping[str, ServiceLevelVariant] = {
    "service_level": "service_level",
    "answered": "service_level_answered",
    "sl2": "service_level_sl2",
    "offered": "service_level_offered",
}


def settings_for_center(center: Any) -> MetricSettings:
    """Per-queue thresholds and variants from a center configuration (``CenterConfig``).

    Each queue's ``target`` gives its service-level time, short-abandon threshold and the
    variant the center reports as its service level.
    """
    per_queue = {
        queue.id: QueueThresholds(
            service_level_s=float(queue.target.threshold_s),
            short_abandon_s=float(queue.target.short_abandon_s),
            variant=_VARIANTS[queue.target.variant],
        )
        for queue in center.queues
    }
    return MetricSettings(per_queue=per_queue)


def teams_for_center(center: Any) -> dict[str, str]:
    """Each configured agent's team, for reports by team."""
    return {agent.id: agent.team for agent in center.agents}


def sites_for_center(center: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Each configured queue's and agent's site, for reports by site."""
    return center.queue_sites(), center.agent_sites()


def kpi_report(
    *,
    session: Session,
    interval: str = "30m",
    by: Sequence[str] = ("queue",),
    settings: MetricSettings | None = None,
    timezone: str = "UTC",
    source: str | None = None,
    teams: Mapping[str, str] | None = None,
    sites: tuple[Mapping[str, str], Mapping[str, str]] | None = None,
    site: str | None = None,
) -> KpiReport:
    """Compute the queue figures of METRICS.md over what the database holds.

    ``teams`` (agent id → team) fills the team of contacts whose record names none;
    ``sites`` (queue id → site, agent id → site) gives each contact its site
    (:func:`hotline.metrics.compute.with_sites`), and ``site`` keeps only that site's.
    """
    frame = records_frame(session=session, source=source)
    if teams:
        frame = with_teams(frame, teams)
    if sites is not None:
        frame = with_sites(frame, queues=sites[0], agents=sites[1])
    if site is not None:
        if "site" not in frame.columns:
            raise ValueError(f"no site {site!r}: the center names no sites")
        frame = frame.filter(pl.col("site") == site)
    report = queue_figures(frame, interval=interval, by=by, settings=settings, timezone=timezone)
    report.notes.append(
        f"{frame.height} contacts from the database"
        + (f" (source {source!r})" if source else " (imported records and event log)")
    )
    return report


def agent_report(
    *,
    session: Session,
    interval: str = "day",
    by: Sequence[str] = ("agent",),
    timezone: str = "UTC",
    teams: Mapping[str, str] | None = None,
    source: str | None = None,
) -> pl.DataFrame:
    """Occupancy and utilization per interval and agent (or team) from the event log."""
    return agent_figures(
        event_log(session=session, source=source),
        interval=interval,
        by=by,
        timezone=timezone,
        teams=teams,
    )


#: The per-agent figures of a team scorecard, as METRICS.md names them.
AGENT_FIGURES: tuple[str, ...] = ("answered", "aht_s", "acw_s", "avg_hold_s", "fcr")


@dataclass(frozen=True)
class AgentPeriodFigures:
    """Each agent's figures over a period (``totals``: one row per agent) and per local day
    (``daily``: ``interval_start`` as a date, one row per agent and day), with the columns
    ``answered``, ``aht_s``, ``acw_s``, ``avg_hold_s``, ``fcr`` (from contact records),
    ``occupancy`` (from agent states) and ``csat`` with ``surveys`` (from survey answers)."""

    totals: pl.DataFrame
    daily: pl.DataFrame


def agent_period_figures(
    *,
    session: Session,
    since: float,
    until: float,
    agents: Collection[str] | None = None,
    settings: MetricSettings | None = None,
    timezone: str = "UTC",
) -> AgentPeriodFigures:
    """Each agent's METRICS.md figures over [``since``, ``until``) (epoch seconds), in total and
    per local day, for the agents in ``agents`` (everyone when ``None``).

    Contacts count in the period they queued in (as every queue figure does); occupancy
    sums handling and available seconds over the period's days before dividing, so the
    period's figure is the definition applied to the whole period, not a mean of days.
    """
    # Every contact of the period, whoever answered it: a repeat contact answered by another
    # agent (or another team) still makes the first one not resolved (FCR), so the agents
    # are picked from the figures, not from the contacts.
    frame = records_frame(session=session, queued_from=since, queued_until=until)
    columns = ["agent", *AGENT_FIGURES]
    whole = queue_figures(
        frame, interval="all", by=("agent",), settings=settings, timezone=timezone
    )
    totals = whole.table.select(columns).filter(pl.col("agent").is_not_null())
    per_day = queue_figures(
        frame, interval="day", by=("agent",), settings=settings, timezone=timezone
    )
    daily = per_day.table.select("interval_start", *columns).filter(pl.col("agent").is_not_null())
    if agents is not None:
        chosen = list(agents)
        totals = totals.filter(pl.col("agent").is_in(chosen))
        daily = daily.filter(pl.col("agent").is_in(chosen))

    events = [
        e for e in event_log(session=session) if since <= e.at < until and e.agent_id is not None
    ]
    if agents is not None:
        kept = set(agents)
        events = [e for e in events if e.agent_id in kept]
    states = agent_figures(events, interval="day", timezone=timezone, until=until)
    occupancy_daily = states.select("interval_start", "agent", "occupancy")
    occupancy_total = states.group_by("agent").agg(
        pl.when((pl.col("handling_s").sum() + pl.col("idle_s").sum()) > 0)
        .then(pl.col("handling_s").sum() / (pl.col("handling_s").sum() + pl.col("idle_s").sum()))
        .alias("occupancy")
    )
    surveys = [e for e in events if e.kind is EventKind.SURVEY_ANSWERED]
    csat_daily = experience_figures(surveys, interval="day", timezone=timezone, by=("agent",))
    # The period's CSAT is the definition over all the period's answers: moving every answer
    # to the period's first instant puts them in one bucket of the same computation.
    csat_total = experience_figures(
        [
            Event(e.seq, since, e.kind, e.contact_id, agent_id=e.agent_id, data=e.data)
            for e in surveys
        ],
        interval="day",
        timezone=timezone,
        by=("agent",),
    ).select("agent", "surveys", "csat")

    totals = (
        totals.join(occupancy_total, on="agent", how="full", coalesce=True)
        .join(csat_total, on="agent", how="full", coalesce=True)
        .sort("agent")
    )
    keys = ["interval_start", "agent"]
    daily = daily.with_columns(pl.col("interval_start").dt.date())
    daily = (
        daily.join(
            occupancy_daily.with_columns(pl.col("interval_start").dt.date()),
            on=keys,
            how="full",
            coalesce=True,
        )
        .join(
            csat_daily.select("interval_start", "agent", "surveys", "csat").with_columns(
                pl.col("interval_start").dt.date()
            ),
            on=keys,
            how="full",
            coalesce=True,
        )
        .sort(keys)
    )
    return AgentPeriodFigures(totals=totals, daily=daily)


def queue_mix_figures(
    *,
    session: Session,
    since: float,
    until: float,
    level: str = "agent",
    teams: Mapping[str, str] | None = None,
    settings: MetricSettings | None = None,
    timezone: str = "UTC",
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The period's per-contact figures (``answered`` and :data:`AGENT_FIGURES`) of each
    ``level`` (``agent`` or ``team``): in total, by queue, and each queue's over everyone —
    what a fair comparison needs, since handle time and resolution depend on the queue.

    Contacts count by when they queued in [``since``, ``until``); ``teams`` (agent → team)
    fills the team of records that name none.
    """
    if level not in ("agent", "team"):
        raise ValueError("a queue mix is by agent or team")
    frame = records_frame(session=session, queued_from=since, queued_until=until)
    if teams:
        frame = with_teams(frame, teams)
    columns = ["answered", *AGENT_FIGURES[1:]]

    def figures(by: tuple[str, ...]) -> pl.DataFrame:
        table = queue_figures(
            frame, interval="all", by=by, settings=settings, timezone=timezone
        ).table
        return table.select(*by, *columns).filter(
            pl.all_horizontal(pl.col(name).is_not_null() for name in by)
        )

    return figures((level,)), figures((level, "queue")), figures(("queue",))


def experience_report(
    *,
    session: Session,
    interval: str = "day",
    by: Sequence[str] = ("queue",),
    timezone: str = "UTC",
    source: str | None = None,
) -> pl.DataFrame:
    """CSAT, DSAT and NPS per interval from the survey answers in the event log."""
    return experience_figures(
        event_log(session=session, source=source), interval=interval, by=by, timezone=timezone
    )


def export_records(
    *, session: Session, path: Path, source: str | None = None, timezone: str = "UTC"
) -> int:
    """Write the database's contact records (imported and folded from the event log) as the
    METRICS.md interchange CSV, or Parquet when ``path`` ends in ``.parquet``; return how many
    were written."""
    frame = records_frame(session=session, source=source)
    if path.suffix == ".parquet":
        return frame_to_parquet(frame, path)
    return frame_to_csv(frame, path, timezone=timezone)


# ---------------------------------------------------------------- contact-record files
# What other domains read of metrics' record files (WFM forecasts from history files).


def read_contact_files(
    paths: Sequence[Path], *, tz: str, skip_bad_rows: bool = False
) -> list[ContactRecord]:
    """Read contact-record CSV files (METRICS.md format; ``.gz`` allowed), all in one list."""
    records: list[ContactRecord] = []
    for path in paths:
        records.extend(read_contact_records(path, tz=tz, skip_bad_rows=skip_bad_rows).records)
    return records


def read_bank(directory: Path) -> list[ContactRecord]:
    """All month files of the 1999 Anonymous Bank logs in ``directory`` as contact records."""
    return read_bank_records(bank_month_files(directory))
