"""Scheduled reports on SQLite and PostgreSQL: the KPI report of the day before sent at 07:00
Shanghai time as an Excel attachment through the e-mail outbox, once per due time however
often swept and whichever node claims it first; failures recorded with their reason; the
API (roles, located refusals), the command line, and the sweep started with the app.

The figures are the cockpit test's ten days (10 March 2026: 20 repair calls, all answered).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotline.channels.email import service as email
from hotline.channels.email.settings import MailboxSettings
from hotline.cli.main import app as cli
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.core.errors import ValidationFailed
from hotline.core.settings import Settings
from hotline.store.models.email import EmailMessage
from hotline.store.models.reports import ReportRun
from hotline.web import scheduled_reports as scheduled
from hotline.web.app import create_app
from tests.integration.followup.test_followup_cli import database
from tests.integration.followup.test_followup_sweeper import start_and_stop
from tests.integration.web.conftest import SAMPLE
from tests.integration.web.test_manager_cockpit_api import ZONE, auth, seed_ten_days

__all__ = ["database"]  # the command line's database (a fixture)

CENTER = load_center(SAMPLE)
MADE = datetime(2026, 3, 1, tzinfo=UTC)
#: 11 March 2026 07:05 in Shanghai: the daily 07:00 report of 10 March is due.
MORNING = datetime(2026, 3, 11, 7, 5, tzinfo=ZONE).astimezone(UTC)
DUE = datetime(2026, 3, 11, 7, 0, tzinfo=ZONE).astimezone(UTC)


def _mailbox(session: Session) -> None:
    email.save_mailbox(
        session,
        settings=MailboxSettings(address="reports@example.com"),
        secret=b"s",
        actor="admin",
    )


def _daily_kpis(session: Session, **changes: object) -> int:
    values: dict[str, object] = {
        "name": "日报 daily",
        "report": "kpis",
        "format": "xlsx",
        "filters": {"by": "queue"},
        "frequency": "daily",
        "at": "07:00",
        "recipients": ["boss@example.com", "lead@example.com"],
        "actor": "manager",
        "now": MADE,
    }
    values.update(changes)
    return scheduled.add_schedule(session, **values).id  # type: ignore[arg-type]


@pytest.fixture
def seeded(db_session: Session) -> Session:
    seed_ten_days(db_session)
    _mailbox(db_session)
    db_session.commit()
    return db_session


def _attachment(session: Session, email_id: int) -> tuple[str, bytes, str]:
    row = session.get(EmailMessage, email_id)
    assert row is not None
    message = message_from_bytes(row.raw, policy=policy.default)
    (part,) = list(message.iter_attachments())
    return str(part.get_filename()), part.get_content(), ", ".join(row.recipients)


def test_a_due_report_is_sent_once_with_its_figures(
    seeded: Session, session_factory: sessionmaker[Session]
) -> None:
    schedule_id = _daily_kpis(seeded)
    seeded.commit()
    # A schedule made after this morning's 07:00 waits for tomorrow's.
    made_late = _daily_kpis(seeded, now=MORNING - (MORNING - DUE) / 2)
    seeded.commit()

    outcomes = scheduled.run_due(session_factory, center=CENTER, now=MORNING)
    assert [(o.schedule_id, o.due_at, o.status) for o in outcomes] == [(schedule_id, DUE, "sent")]
    assert made_late not in scheduled.recent_runs(seeded)
    run = seeded.scalars(select(ReportRun).where(ReportRun.due_at == DUE)).one()
    assert run.status == "sent" and run.email_id is not None
    name, content, recipients = _attachment(seeded, run.email_id)
    assert name == "hotline-kpis-2026-03-10.xlsx"
    assert recipients == "boss@example.com, lead@example.com"
    book = load_workbook(io.BytesIO(content))
    rows = list(book["figures"].values)
    header = rows[0]
    (repair,) = [dict(zip(header, r, strict=True)) for r in rows[1:] if "repair" in r]
    assert (repair["offered"], repair["answered"]) == (20, 20)
    assert repair["service_level"] == pytest.approx(0.2)
    assert any("2026-03-10 to 2026-03-10" in str(r) for r in book["settings"].values)

    # Swept again at once, or by a node restarted later that morning: nothing more is sent.
    assert scheduled.run_due(session_factory, center=CENTER, now=MORNING) == []
    later = datetime(2026, 3, 11, 23, 0, tzinfo=ZONE).astimezone(UTC)
    assert scheduled.run_due(session_factory, center=CENTER, now=later) == []
    # A second node that read the schedule as due before the first claimed it finds it taken.
    assert scheduled._claim(session_factory, schedule_id, DUE, MORNING) == 0
    sent = seeded.scalars(select(EmailMessage).where(EmailMessage.kind == "report")).all()
    assert len(sent) == 1


def test_failures_are_recorded_with_their_reason(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    seed_ten_days(db_session)
    unknown_queue = _daily_kpis(db_session, filters={"queue": "nope"})
    no_mailbox = _daily_kpis(db_session, report="cockpit", filters={})
    db_session.commit()
    outcomes = {
        o.schedule_id: o for o in scheduled.run_due(session_factory, center=CENTER, now=MORNING)
    }
    assert outcomes[unknown_queue].status == "failed"
    assert "queue: no queue 'nope'" in outcomes[unknown_queue].error
    assert outcomes[no_mailbox].status == "failed"
    assert "no active mailbox" in outcomes[no_mailbox].error
    runs = scheduled.recent_runs(db_session)
    assert runs[no_mailbox][0].status == "failed" and runs[no_mailbox][0].finished_at


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"report": "payroll"}, "report"),
        ({"format": "pdf"}, "format"),
        ({"filters": {"colour": "red"}}, "filters.colour"),
        ({"report": "settlement", "filters": {}}, "filters.provider"),
        ({"frequency": "weekly"}, "weekday"),
        ({"frequency": "monthly", "day_of_month": 31}, "day_of_month"),
        ({"at": "7 am"}, "at"),
        ({"recipients": ["boss@example.com", "not an address"]}, "recipients[1]"),
    ],
)
def test_a_schedule_is_checked_field_by_field(
    db_session: Session, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _daily_kpis(db_session, **changes)
    assert [p.field for p in refused.value.problems] == [field]


def test_the_api_schedules_lists_and_removes(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    body = {
        "name": "周报 weekly VoC",
        "report": "voc",
        "format": "pdf",
        "frequency": "weekly",
        "weekday": 0,
        "at": "08:30",
        "recipients": ["product@example.com"],
    }
    supervisor = auth(token_for("supervisor"))
    made = app_client.post("/api/reports/schedules", json=body, headers=supervisor)
    assert made.status_code == 201, made.text
    assert made.json()["timezone"] == "Asia/Shanghai" and made.json()["runs"] == []
    refused = app_client.post(
        "/api/reports/schedules", json={**body, "format": "csv"}, headers=supervisor
    )
    assert refused.status_code == 422
    assert "format" in refused.text and "xlsx or pdf" in refused.text
    lead = app_client.post(
        "/api/reports/schedules", json=body, headers=auth(token_for("team_lead"))
    )
    assert lead.status_code == 403
    listed = app_client.get("/api/reports/schedules", headers=auth(token_for("manager"))).json()
    assert [s["name"] for s in listed["schedules"]] == ["周报 weekly VoC"]
    assert listed["reports"]["voc"] == ["xlsx", "pdf"]
    gone = app_client.delete(f"/api/reports/schedules/{made.json()['id']}", headers=supervisor)
    assert gone.status_code == 200 and gone.json() == {"removed": made.json()["id"]}
    again = app_client.delete(f"/api/reports/schedules/{made.json()['id']}", headers=supervisor)
    assert again.status_code == 404


def test_the_app_sends_due_reports_from_its_sweep(
    seeded: Session, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    schedule_id = _daily_kpis(seeded, report="cockpit", filters={})
    seeded.commit()
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="t"),
        session_factory=session_factory,
        center=CENTER,
    )
    sweeper = scheduled.attach_report_sweeper(
        app, every_s=3600, clock=ManualClock(MORNING.timestamp())
    )
    assert sweeper is not None
    start_and_stop(app, sweeper)
    assert sweeper.failures == 0
    (run,) = scheduled.recent_runs(seeded)[schedule_id]
    assert run.status == "sent", run.error
    name, content, _ = _attachment(seeded, run.email_id or 0)
    assert name == "hotline-cockpit-2026-03-10.xlsx"
    book = load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["figures", "alerts", "definitions"]
    assert any(r[1] == "service_level" for r in book["alerts"].values)


def test_the_command_line_adds_lists_runs_and_removes(database: str) -> None:
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args))
        assert result.exit_code == code, result.output
        return result.output

    assert "schedule 1" in invoke(
        "reports", "schedule", "add", "--name", "monthly faults", "--report", "faults",
        "--every", "monthly", "--day", "1", "--at", "06:00", "--to", "units@example.com",
    )  # fmt: skip
    assert "day_of_month" in invoke(
        "reports", "schedule", "add", "--name", "x", "--report", "faults", "--every",
        "monthly", "--to", "u@example.com", code=2,
    )  # fmt: skip
    assert "monthly faults" in invoke("reports", "schedule", "list", "--center", str(SAMPLE))
    # Its first due time (the 1st after today) has not come: nothing to send.
    assert "no report is due" in invoke("reports", "schedule", "run-due", "--center", str(SAMPLE))
    assert "removed" in invoke("reports", "schedule", "remove", "1")
    invoke("reports", "schedule", "remove", "1", code=1)
