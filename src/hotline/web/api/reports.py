"""Reports API: interval KPIs (METRICS.md) from the database, and contact-record import.

``GET /api/reports/kpis`` computes every queue figure per interval by queue, channel, team or
agent, with each queue's thresholds and service-level variant taken from the center
configuration; the answer's ``report`` block states them. ``POST /api/reports/contacts``
imports a contact-record file (or another ACD's export through a shipped mapping) as a
background job (:mod:`hotline.metrics.imports`); a file with bad rows is refused whole with
every located problem unless ``skip_bad_rows`` is set.

A team lead reads per-agent and per-team rows of their own team(s) only
(:mod:`hotline.web.access`); rows per queue, channel or interval stay whole.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace as replace_field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
    status,
)
from fastapi import Path as Path_
from pydantic import Field
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict, ValidationFailed
from hotline.identity import audit
from hotline.identity.scope import AgentScope
from hotline.metrics import imports, service
from hotline.metrics.definitions import DIMENSIONS, INTERVALS, MetricSettings
from hotline.metrics.importer import read_contact_records, shipped_mapping
from hotline.store.db import writing
from hotline.store.jobs import create_job, get_job, job_view
from hotline.web import jobs
from hotline.web import scheduled_reports as scheduled
from hotline.web.access import current_center, scope_of
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.fields import TimeZoneForm, TimeZoneQuery
from hotline.web.report_files import REPORTS

router = APIRouter(prefix="/api/reports", tags=["reports"])

#: Who may read reports: everyone who supervises, plans or evaluates (not agents).
READERS = ("manager", "supervisor", "team_lead", "wfm", "qa")
#: Who may load history into the system.
IMPORTERS = ("manager", "wfm")


class ThresholdsOut(ResponseModel):
    """The thresholds one queue's figures use: the service-level variant and its threshold,
    and the short-abandon threshold (METRICS.md)."""

    variant: str
    service_level_threshold_s: Number
    short_abandon_threshold_s: Number


class ReportSettingsOut(ResponseModel):
    """The default thresholds and each queue's own."""

    default: ThresholdsOut
    per_queue: dict[str, ThresholdsOut]


class KpiHeaderOut(ResponseModel):
    """What a reader must know to compare these figures with others: the interval, the
    grouping, the time zone, which interval a contact counts in, the thresholds, and notes."""

    interval: str
    by: list[str]
    timezone: str
    interval_of: str
    thresholds: ReportSettingsOut
    notes: list[str]


#: One row of figures: the interval start (ISO 8601), the grouping columns, then the figures.
Row = dict[str, Any]


class KpiReportOut(ResponseModel):
    """Every METRICS.md queue figure per interval and grouping, under the settings used."""

    report: KpiHeaderOut
    rows: list[Row]


class FiguresOut(ResponseModel):
    """Figures per interval and grouping (agent states or survey answers), as asked for."""

    interval: str
    by: str
    timezone: str
    rows: list[Row]


def _center_settings(request: Request) -> tuple[MetricSettings, dict[str, str]]:
    center = request.app.state.center
    if center is None:
        return MetricSettings(), {}
    return service.settings_for_center(center), service.teams_for_center(center)


@router.get("/kpis", responses=errors(422))
def kpis(
    request: Request,
    interval: str = Query("30m", description=f"One of {', '.join(INTERVALS)}."),
    by: str = Query("queue", description=f"Comma-separated from {', '.join(DIMENSIONS)}."),
    timezone: TimeZoneQuery = "UTC",
    source: str | None = Query(None, description="Only this imported source."),
    site: str | None = Query(
        None,
        max_length=64,
        description="Only contacts of this site (its queues', else its agents').",
    ),
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(db_session, scope="function"),
) -> KpiReportOut:
    """Every METRICS.md queue figure per interval, stating the thresholds and variants used."""
    dimensions = tuple(d.strip() for d in by.split(",") if d.strip() and d.strip() != "center")
    settings, teams = _center_settings(request)
    center = request.app.state.center
    if site is not None and (center is None or site not in {s.id for s in center.sites}):
        raise HTTPException(422, [{"field": "site", "problem": f"no site {site!r} in this center"}])
    try:
        report = service.kpi_report(
            session=session,
            interval=interval,
            by=dimensions,
            settings=settings,
            timezone=timezone,
            source=source,
            teams=teams,
            sites=service.sites_for_center(center) if center is not None else None,
            site=site,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    rows = _in_scope(report.rows(), scope_of(request, user))
    return KpiReportOut.model_validate({"report": report.header(), "rows": rows})


def _rows(frame: Any) -> list[dict[str, Any]]:
    return list(frame.with_columns(frame["interval_start"].dt.to_string("%+")).to_dicts())


def _in_scope(rows: list[dict[str, Any]], scope: AgentScope) -> list[dict[str, Any]]:
    """The rows of ``scope``'s agents and teams: a row per agent or per team outside them is
    left out (a team lead reads their own team's figures, not the neighbours')."""
    if scope.everyone:
        return rows
    kept = []
    for row in rows:
        if "agent" in row and not scope.covers(row["agent"]):
            continue
        if "team" in row and not scope.covers_team(row["team"]):
            continue
        kept.append(row)
    return kept


@router.get("/agents", responses=errors(422))
def agents(
    request: Request,
    interval: str = Query("day", description="15m, 30m, 1h, day or month."),
    by: str = Query("agent", description="agent or team."),
    timezone: TimeZoneQuery = "UTC",
    source: str | None = Query(None, description="Only events of this source (live, sim…)."),
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(db_session, scope="function"),
) -> FiguresOut:
    """Occupancy and utilization per agent or team, from agent states in the event log."""
    _, teams = _center_settings(request)
    try:
        frame = service.agent_report(
            session=session,
            interval=interval,
            by=(by,),
            timezone=timezone,
            teams=teams,
            source=source,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    rows = _in_scope(_rows(frame), scope_of(request, user))
    return FiguresOut(interval=interval, by=by, timezone=timezone, rows=rows)


@router.get("/experience", responses=errors(422))
def experience(
    request: Request,
    interval: str = Query("day", description="15m, 30m, 1h, day or month."),
    by: str = Query("queue", description="queue, agent, channel, entry, or center."),
    timezone: TimeZoneQuery = "UTC",
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(db_session, scope="function"),
) -> FiguresOut:
    """CSAT (top-2-box), DSAT and NPS per interval from survey answers (by channel: the
    channel each surveyed contact arrived on)."""
    dimensions = () if by == "center" else (by,)
    try:
        frame = service.experience_report(
            session=session, interval=interval, by=dimensions, timezone=timezone
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    rows = _in_scope(_rows(frame), scope_of(request, user))
    return FiguresOut(interval=interval, by=by, timezone=timezone, rows=rows)


@router.get("/sources", responses=errors())
def sources(
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(db_session, scope="function"),
) -> dict[str, int]:
    """Imported contact-record sources and how many records each holds."""
    return service.sources(session=session)


class ContactImportJobOut(ResponseModel):
    """A background contact-record import: its state, progress and, once ended, its result.

    ``state``: queued, staging, publishing, then done or failed; ``rows_done`` of
    ``rows_total`` records staged. ``result``: ``source``, ``stored`` (0 until done, and 0
    when the job failed: a failed job stores nothing and leaves the source as it was),
    ``rows_read``, ``ignored`` (left out by the mapping), ``encoding``, ``skipped_lines`` and
    ``skipped`` (line, field, rule); a failed job adds ``error`` (``conflict``, ``failed`` or
    ``interrupted``) and ``message``.
    """

    job_id: str
    kind: str
    file: str
    state: str
    rows_total: int
    rows_done: int
    created_by: str
    created_at: datetime
    finished_at: datetime | None
    result: dict[str, Any]


@router.post("/contacts", status_code=status.HTTP_202_ACCEPTED, responses=errors(409, 422))
def import_contacts(
    request: Request,
    file: UploadFile = File(..., description="Contact-record CSV, or an export (gzip allowed)."),
    source: str = Form(..., min_length=1, max_length=128),
    mapping: str | None = Form(None, description="A shipped mapping, e.g. anonymous_bank."),
    timezone: TimeZoneForm = "UTC",
    skip_bad_rows: bool = Form(False),
    replace: bool = Form(False),
    user: CurrentUser = Depends(require_roles(*IMPORTERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ContactImportJobOut:
    """Check a contact-record file, then store it in the background; 202 with the job.

    A refused file answers 422 with every located problem and no job; a source that already
    holds records answers 409 unless ``replace`` is set. The records are then staged in short
    transactions and stored in one quick step (replacing the source's old records in that same
    step), all or none, while the center keeps working; ``GET /api/reports/imports/{job_id}``
    shows progress and the result.
    """
    # Only mappings shipped with Hotline, by name: never a file of the server's own.
    export_mapping = shipped_mapping(mapping) if mapping else None
    # Copying and parsing a big file takes seconds: do it with no write transaction open
    # (ending the sign-in check's); only the job's short transactions write.
    session.commit()
    suffix = ".gz" if (file.filename or "").endswith(".gz") else ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as handle:
            while chunk := file.file.read(1 << 20):
                handle.write(chunk)
        try:
            result = read_contact_records(
                path, tz=timezone, skip_bad_rows=skip_bad_rows or None, mapping=export_mapping
            )
        except ValidationFailed as failed:
            # Problems name the temporary path; report them against the uploaded name.
            name = file.filename or "upload"
            raise ValidationFailed([replace_field(p, file=name) for p in failed.problems]) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    existing = service.source_size(session=session, source=source)
    session.commit()
    if existing and not replace:
        # Said now rather than after staging; the publish checks again (another job may win).
        raise Conflict(
            f"source {source!r} already holds {existing} contact records; "
            "use replace to import it again"
        )
    writing(session)
    job = create_job(session, kind=imports.KIND, file=file.filename or source, actor=user.username)
    job.result = imports.read_summary(result)
    audit.record(
        session,
        actor=user.username,
        action="contacts.import_started",
        target=source,
        detail={"job_id": job.id, "replace": replace, "rows_read": result.rows_read},
    )
    view = job_view(job)
    session.commit()  # the job exists before its worker looks for it
    jobs.background(request.app).submit(
        imports.run_contact_import,
        request.app.state.session_factory,
        job_id=job.id,
        records=result.records,
        source=source,
        replace=replace,
        summary=view["result"],
        stop=jobs.stopping(request.app),
    )
    return ContactImportJobOut(**view)


@router.get("/imports/{job_id}", response_model=ContactImportJobOut, responses=errors(404, 422))
def contact_import_job(
    job_id: str = Path_(max_length=32),
    _: CurrentUser = Depends(require_roles(*IMPORTERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ContactImportJobOut:
    """One contact-record import job: state, ``rows_done`` of ``rows_total``, and result."""
    return ContactImportJobOut(**job_view(get_job(session, job_id=job_id, kind=imports.KIND)))


# ---------------------------------------------------------------- scheduled reports

#: Who defines scheduled reports: the people who run the center.
SCHEDULERS = ("manager", "supervisor")


class ScheduleIn(ResponseModel):
    """A scheduled report: which export (``kpis``, ``cockpit``, ``voc``, ``faults``,
    ``settlement``), its format and filters, ``daily``/``weekly`` (on ``weekday``, 0 =
    Monday)/``monthly`` (on ``day_of_month``, 1–28) at ``at`` (HH:MM, the center's time
    zone), and the addresses it goes to."""

    name: str = Field(min_length=1, max_length=120)
    report: str = Field(max_length=32)
    format: str = Field(max_length=8)
    filters: dict[str, str] = Field(default_factory=dict, max_length=8)
    frequency: str = Field(max_length=8)
    at: str = Field(max_length=5)
    weekday: int | None = Field(None, ge=0, le=6)
    day_of_month: int | None = Field(None, ge=1, le=28)
    recipients: list[str] = Field(min_length=1, max_length=20)


class RunOut(ResponseModel):
    """One due time of a schedule: ``running``, ``sent`` (the outbox message) or ``failed``
    with the reason."""

    id: int
    due_at: datetime
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str
    email_id: int | None
    attachment: str


class ScheduleOut(ResponseModel):
    """A scheduled report and its latest runs, newest first."""

    id: int
    name: str
    report: str
    format: str
    filters: dict[str, str]
    frequency: str
    at: str
    weekday: int | None
    day_of_month: int | None
    timezone: str
    recipients: list[str]
    created_by: str
    created_at: datetime
    runs: list[RunOut]


class SchedulesOut(ResponseModel):
    """Every scheduled report, and the reports and formats a schedule may name."""

    schedules: list[ScheduleOut]
    reports: dict[str, list[str]]


class ScheduleRemovedOut(ResponseModel):
    """The schedule removed."""

    removed: int


def schedule_out(schedule: Any, runs: list[Any], timezone: str) -> ScheduleOut:
    """A schedule as the API and the manager page show it."""
    return ScheduleOut(
        id=schedule.id,
        name=schedule.name,
        report=schedule.report,
        format=schedule.format,
        filters=schedule.filters,
        frequency=schedule.frequency,
        at=schedule.at,
        weekday=schedule.weekday,
        day_of_month=schedule.day_of_month,
        timezone=timezone,
        recipients=schedule.recipients,
        created_by=schedule.created_by,
        created_at=schedule.created_at,
        runs=[
            RunOut(
                id=r.id,
                due_at=r.due_at,
                started_at=r.started_at,
                finished_at=r.finished_at,
                status=r.status,
                error=r.error,
                email_id=r.email_id,
                attachment=r.attachment,
            )
            for r in runs
        ],
    )


def schedules_out(request: Request, session: Session) -> SchedulesOut:
    """Every schedule with its latest runs, in the center's time zone."""
    center = current_center(request)
    timezone = center.center.timezone if center is not None else "UTC"
    runs = scheduled.recent_runs(session)
    return SchedulesOut(
        schedules=[
            schedule_out(s, runs.get(s.id, []), timezone) for s in scheduled.list_schedules(session)
        ],
        reports={name: list(kind.formats) for name, kind in REPORTS.items()},
    )


@router.get("/schedules", responses=errors())
def list_schedules(
    request: Request,
    _: CurrentUser = Depends(require_roles(*SCHEDULERS)),
    session: Session = Depends(db_session, scope="function"),
) -> SchedulesOut:
    """Every scheduled report with its latest runs (failures with their reason)."""
    return schedules_out(request, session)


@router.post("/schedules", status_code=201, responses=errors(422))
def add_schedule(
    request: Request,
    body: ScheduleIn,
    user: CurrentUser = Depends(require_roles(*SCHEDULERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ScheduleOut:
    """Send a report by e-mail daily, weekly or monthly (422 naming the field refused)."""
    center = current_center(request)
    schedule = scheduled.add_schedule(session, **body.model_dump(), actor=user.username)
    return schedule_out(schedule, [], center.center.timezone if center is not None else "UTC")


@router.delete("/schedules/{schedule_id}", responses=errors(404, 422))
def remove_schedule(
    schedule_id: int = Path_(ge=1, le=2**53),
    user: CurrentUser = Depends(require_roles(*SCHEDULERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ScheduleRemovedOut:
    """Stop sending a scheduled report (its runs go with it)."""
    scheduled.remove_schedule(session, schedule_id=schedule_id, actor=user.username)
    return ScheduleRemovedOut(removed=schedule_id)
