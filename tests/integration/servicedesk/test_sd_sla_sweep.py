"""The SLA sweep on a schedule: warnings and escalations published and audited, time injected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.calendar import BusinessCalendar
from hotline.core.clock import ManualClock
from hotline.core.settings import Settings
from hotline.live.sla import SlaSweeper, attach_sla_sweeper, sweep_interval_from_env
from hotline.store.models.core import AuditEntry
from hotline.tickets import service as tickets
from hotline.web.app import create_app

MONDAY_9 = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def urgent_complaint(db_session: Session) -> str:
    tickets.save_calendar(
        db_session, name="default", calendar=BusinessCalendar.weekdays("UTC", "09:00-17:00")
    )
    ticket = tickets.create_ticket(
        db_session,
        type="complaint",
        subject="维修人员未按时上门",
        priority="urgent",
        complaint_level="2",
        actor="a",
        now=MONDAY_9,
    )
    db_session.commit()
    return ticket.number


def test_sweeps_send_each_escalation_once_publish_and_audit(
    db_session: Session, session_factory: sessionmaker[Session], urgent_complaint: str
) -> None:
    clock = ManualClock(MONDAY_9.timestamp())
    published: list[dict[str, Any]] = []
    sweeper = SlaSweeper(session_factory=session_factory, publish=published.append, clock=clock)

    async def scenario() -> list[list[dict[str, Any]]]:
        sent = [await sweeper.sweep()]  # just opened: nothing is due
        clock.advance(0.45 * 3600)  # 80 % of the one-hour first response: a warning
        sent.append(await sweeper.sweep())
        sent.append(await sweeper.sweep())  # sent once, not on every sweep
        clock.advance(0.6 * 3600)  # past the hour: breached
        sent.append(await sweeper.sweep())
        return sent

    quiet, warned, again, breached = asyncio.run(scenario())
    assert quiet == [] and again == []
    assert [(s["ticket"], s["clock"], s["stage"], s["role"]) for s in warned] == [
        (urgent_complaint, "first_response", "warning", "team_lead")
    ]
    assert ("first_response", "breach", "supervisor") in [
        (s["clock"], s["stage"], s["role"]) for s in breached
    ]
    assert published[0]["type"] == "sla_warning"
    assert "sla_breach" in [m["type"] for m in published]
    assert published[0]["ticket"] == urgent_complaint
    assert sweeper.stats.sweeps == 4 and sweeper.stats.sent == len(published)
    audited = db_session.scalars(
        select(AuditEntry).where(AuditEntry.target == f"ticket:{urgent_complaint}")
    ).all()
    actions = [(e.actor, e.action, e.detail.get("clock")) for e in audited]
    assert ("sla", "ticket.sla_warning", "first_response") in actions
    assert ("sla", "ticket.sla_breach", "first_response") in actions


def test_the_app_sweeps_while_it_runs(
    session_factory: sessionmaker[Session], urgent_complaint: str, tmp_path: Path
) -> None:
    clock = ManualClock((MONDAY_9 + 2 * H).timestamp())
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="t"), session_factory=session_factory
    )
    sweeper = attach_sla_sweeper(app, every_s=3600, clock=clock)
    assert sweeper is not None and app.state.sla is sweeper
    published: list[dict[str, Any]] = []
    sweeper.publish = published.append

    async def scenario() -> None:
        for start in app.state.on_start:
            await start(app)
        # the first sweep runs at start; wait for it (bounded), not for SLA time to pass
        for _ in range(500):
            if sweeper.stats.sweeps:
                break
            await asyncio.sleep(0.01)
        for stop in app.state.on_stop:
            await stop(app)

    asyncio.run(scenario())
    assert sweeper.stats.sweeps == 1 and sweeper.stats.failures == 0
    assert {m["type"] for m in published} == {"sla_warning", "sla_breach"}


def test_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HOTLINE_SLA_SWEEP_S", raising=False)
    assert sweep_interval_from_env() == 60.0
    monkeypatch.setenv("HOTLINE_SLA_SWEEP_S", "15")
    assert sweep_interval_from_env() == 15.0
    monkeypatch.setenv("HOTLINE_SLA_SWEEP_S", "-1")
    with pytest.raises(ValueError, match="0 or more"):
        sweep_interval_from_env()
    monkeypatch.setenv("HOTLINE_SLA_SWEEP_S", "0")
    app = create_app(settings=Settings(home=tmp_path, secret_key="t"))
    assert attach_sla_sweeper(app) is None and app.state.on_start == []
