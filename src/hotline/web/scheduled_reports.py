"""Scheduled reports: the center's exports sent by e-mail daily, weekly or monthly.

A manager or supervisor names a report (:data:`hotline.web.report_files.REPORTS`), its
format and filters, its rhythm at a local time of the center's time zone
(:mod:`hotline.core.recurrence`) and its recipients. The report sweep
(:class:`ReportSweeper`, every ``HOTLINE_REPORT_SWEEP_S`` seconds, default 300) finds each
schedule's latest due time; when that due time has no run yet it

1. **claims** it: a ``report_runs`` row unique on ``(schedule, due time)`` committed first,
   so a second node, or this one after a restart, finds it taken and sends nothing;
2. **renders** the report over the days the due time covers, outside any write
   transaction (a month of figures must not hold SQLite's writer lock);
3. **sends** it through the e-mail outbox (an attachment to every recipient, sent by the
   relay like any other message) and records the run ``sent``, or ``failed`` with the
   reason (no active mailbox, a filter naming nothing, a rendering error), shown on the
   manager page.

Only the latest due time is run: a server that was down for a week sends this week's report,
not seven stale ones; a schedule's first due time is the first after it was made.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import service as email
from hotline.channels.email.headers import MailAttachment
from hotline.config.center import CenterConfig
from hotline.core.clock import Clock
from hotline.core.errors import NotFound, Problem, ValidationFailed
from hotline.core.recurrence import FREQUENCIES, Recurrence, covered_days, latest_due
from hotline.identity import audit
from hotline.live.sweeper import Sweeper, attach_sweeper
from hotline.store.db import reading, writing
from hotline.store.models.reports import ReportRun, ReportSchedule
from hotline.web.report_files import Period, check_request, render

log = logging.getLogger(__name__)

#: At most this many recipients per schedule.
MAX_RECIPIENTS = 20
#: Runs shown per schedule.
RECENT_RUNS = 5
ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

MAIL_TEXT = (
    "Hotline 定时报表「{name}」：{report}，{first} 至 {last}（{timezone}），见附件。\n"
    "Hotline scheduled report '{name}': {report}, {first} to {last} ({timezone}), attached.\n"
    "每个指标的定义见附件的说明页 / Every figure's definition is in the file's notes.\n"
)


def _timezone(center: CenterConfig | None) -> str:
    return center.center.timezone if center is not None else "UTC"


def recurrence_of(schedule: ReportSchedule, timezone: str) -> Recurrence:
    """The schedule's rhythm in ``timezone`` (the center's)."""
    hour, minute = (int(part) for part in schedule.at.split(":"))
    return Recurrence(
        frequency=schedule.frequency,  # type: ignore[arg-type]
        at=time(hour, minute),
        timezone=timezone,
        weekday=schedule.weekday,
        day_of_month=schedule.day_of_month,
    )


def add_schedule(
    session: Session,
    *,
    name: str,
    report: str,
    format: str,
    filters: Mapping[str, str],
    frequency: str,
    at: str,
    recipients: Sequence[str],
    actor: str,
    weekday: int | None = None,
    day_of_month: int | None = None,
    now: datetime | None = None,
) -> ReportSchedule:
    """Store a schedule after checking every field (:class:`ValidationFailed` naming it).

    Example: ``add_schedule(session, name="日报", report="kpis", format="xlsx",
    filters={"by": "queue"}, frequency="daily", at="07:30", recipients=["boss@x.cn"],
    actor="manager1")``.
    """
    problems: list[Problem] = []
    if not 0 < len(name.strip()) <= 120:
        problems.append(Problem("a name of 1 to 120 characters", field="name"))
    if frequency not in FREQUENCIES:
        problems.append(Problem(f"use one of {', '.join(FREQUENCIES)}", field="frequency"))
    if not CLOCK_TIME.match(at):
        problems.append(Problem("a time of day like 07:30 (24-hour clock)", field="at"))
    if frequency == "weekly" and not (weekday is not None and 0 <= weekday <= 6):
        problems.append(
            Problem("a weekly report needs a weekday, 0 (Monday) to 6", field="weekday")
        )
    if frequency == "monthly" and not (day_of_month is not None and 1 <= day_of_month <= 28):
        problems.append(Problem("a monthly report needs a day from 1 to 28", field="day_of_month"))
    if not 0 < len(recipients) <= MAX_RECIPIENTS:
        problems.append(Problem(f"1 to {MAX_RECIPIENTS} addresses", field="recipients"))
    for index, address in enumerate(recipients):
        if len(address) > 254 or not ADDRESS.match(address):
            problems.append(
                Problem(f"{address[:80]!r} is not an e-mail address", field=f"recipients[{index}]")
            )
    if problems:
        raise ValidationFailed(problems)
    check_request(report, format, filters)
    schedule = ReportSchedule(
        name=name.strip(),
        report=report,
        format=format,
        filters=dict(filters),
        frequency=frequency,
        at=at,
        weekday=weekday if frequency == "weekly" else None,
        day_of_month=day_of_month if frequency == "monthly" else None,
        recipients=list(recipients),
        created_by=actor,
        created_at=now or datetime.now(UTC),
    )
    session.add(schedule)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="reports.schedule_added",
        target=f"report_schedule:{schedule.id}",
        detail={"report": report, "format": format, "frequency": frequency, "at": at},
    )
    return schedule


def list_schedules(session: Session) -> list[ReportSchedule]:
    """Every schedule, oldest first."""
    return list(session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)))


def recent_runs(session: Session, *, limit: int = RECENT_RUNS) -> dict[int, list[ReportRun]]:
    """Each schedule's latest runs, newest first."""
    runs: dict[int, list[ReportRun]] = {}
    for run in session.scalars(select(ReportRun).order_by(ReportRun.id.desc())):
        kept = runs.setdefault(run.schedule_id, [])
        if len(kept) < limit:
            kept.append(run)
    return runs


def remove_schedule(session: Session, *, schedule_id: int, actor: str) -> None:
    """Delete a schedule and its runs (:class:`NotFound` when there is none)."""
    schedule = session.get(ReportSchedule, schedule_id)
    if schedule is None:
        raise NotFound(f"no report schedule {schedule_id}")
    for run in session.scalars(select(ReportRun).where(ReportRun.schedule_id == schedule_id)):
        session.delete(run)
    session.delete(schedule)
    audit.record(
        session,
        actor=actor,
        action="reports.schedule_removed",
        target=f"report_schedule:{schedule_id}",
        detail={"name": schedule.name},
    )


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What one due time of a schedule came to: ``sent``, ``failed`` or ``taken`` (another
    sweep claimed it first)."""

    schedule_id: int
    due_at: datetime
    status: str
    error: str = ""


def _reason(error: Exception) -> str:
    if isinstance(error, HTTPException) and isinstance(error.detail, list):
        return "; ".join(f"{p.get('field')}: {p.get('problem')}" for p in error.detail)
    if isinstance(error, HTTPException):
        return str(error.detail)
    return str(error) or type(error).__name__


def _due(session: Session, *, timezone: str, now: datetime) -> list[tuple[int, datetime]]:
    """The schedules whose latest due time (after they were made) has no run yet."""
    wanted = []
    for schedule in list_schedules(session):
        due = latest_due(recurrence_of(schedule, timezone), now)
        created = schedule.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        if due <= created:
            continue
        taken = session.scalar(
            select(ReportRun.id).where(
                ReportRun.schedule_id == schedule.id, ReportRun.due_at == due
            )
        )
        if taken is None:
            wanted.append((schedule.id, due))
    return wanted


def _claim(factory: sessionmaker[Session], schedule_id: int, due: datetime, now: datetime) -> int:
    """Commit the run of ``due`` (its unique key); ``0`` when another sweep holds it."""
    session = writing(factory())
    try:
        run = ReportRun(schedule_id=schedule_id, due_at=due, started_at=now, status="running")
        session.add(run)
        session.commit()
        return run.id
    except IntegrityError:
        session.rollback()
        return 0
    finally:
        session.close()


def run_due(
    factory: sessionmaker[Session],
    *,
    center: CenterConfig | None,
    now: datetime,
    only: int | None = None,
) -> list[RunOutcome]:
    """Run every schedule (or schedule ``only``) whose latest due time has no run yet."""
    timezone = _timezone(center)
    session = reading(factory(), purpose="report sweep")
    try:
        due = [(i, d) for i, d in _due(session, timezone=timezone, now=now) if only in (None, i)]
    finally:
        session.close()
    outcomes = []
    for schedule_id, due_at in due:
        run_id = _claim(factory, schedule_id, due_at, now)
        if not run_id:
            outcomes.append(RunOutcome(schedule_id, due_at, "taken"))
            continue
        outcomes.append(_run(factory, center=center, run_id=run_id, now=now))
    return outcomes


def _run(
    factory: sessionmaker[Session], *, center: CenterConfig | None, run_id: int, now: datetime
) -> RunOutcome:
    """Render the claimed run's report and queue it in the outbox; record how it went."""
    timezone = _timezone(center)
    session = reading(factory(), purpose="report sweep")
    try:
        run = session.get(ReportRun, run_id)
        assert run is not None
        schedule = session.get(ReportSchedule, run.schedule_id)
        assert schedule is not None
        rule = recurrence_of(schedule, timezone)
        first, last = covered_days(rule, run.due_at)
        period = Period(first, last, timezone)
        error = ""
        try:
            file = render(
                session,
                center=center,
                report=schedule.report,
                format=schedule.format,
                filters=schedule.filters,
                period=period,
            )
        except Exception as failure:  # any report's failure is recorded, not raised
            log.exception("scheduled report %s failed to render", schedule.id)
            error = _reason(failure)
        session.commit()
        writing(session)
        run = session.get(ReportRun, run_id)
        assert run is not None
        if not error:
            try:
                mail = email.queue_notice(
                    session,
                    to=schedule.recipients,
                    subject=f"Hotline {schedule.name} {first}"
                    + (f" – {last}" if last != first else ""),
                    text=MAIL_TEXT.format(
                        name=schedule.name,
                        report=schedule.report,
                        first=first,
                        last=last,
                        timezone=timezone,
                    ),
                    kind="report",
                    author="report-sweep",
                    now=now,
                    attachments=[MailAttachment(file.filename, file.media_type, file.content)],
                )
                run.email_id = mail.id
                run.attachment = file.filename
            except Exception as failure:  # no mailbox: recorded on the run
                error = _reason(failure)
        run.status = "failed" if error else "sent"
        run.error = error[:2000]
        run.finished_at = now
        session.commit()
        return RunOutcome(schedule.id, run.due_at, run.status, run.error)
    finally:
        session.close()


class ReportSweeper(Sweeper):
    """Runs :func:`run_due` on start and every ``every_s`` seconds."""

    name = "report sweep"

    def sweep_once(self) -> list[RunOutcome]:
        """Send the reports that are due; returns what each came to."""
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        return run_due(self.session_factory, center=self.app.state.center, now=now)


def attach_report_sweeper(
    app: Any, *, every_s: float | None = None, clock: Clock | None = None
) -> ReportSweeper | None:
    """Send scheduled reports while ``app`` runs: ``app.state.report_sweeper``; ``every_s``
    defaults to ``HOTLINE_REPORT_SWEEP_S`` (300 s)."""
    return attach_sweeper(
        app,
        ReportSweeper,
        attribute="report_sweeper",
        variable="HOTLINE_REPORT_SWEEP_S",
        every_s=every_s,
        clock=clock,
    )
