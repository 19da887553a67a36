"""The server's follow-up sweep: on start, then on a schedule; time injected, stops cleanly."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.core.settings import Settings
from hotline.crm import service as crm
from hotline.live.followup_sweep import attach_followup_sweeper
from hotline.live.sweeper import Sweeper, sweep_interval_from_env
from hotline.store.models.followup import FollowUpTask
from hotline.tickets import service as tickets
from hotline.web.app import create_app

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
MONDAY_10 = datetime(2026, 11, 23, 2, tzinfo=UTC)


@pytest.fixture
def missed(db_session: Session) -> int:
    """A warranty repair with a part, resolved by a path that made no follow-up task."""
    tickets.create_provider(db_session, code="hf-anjia", name="安家", actor="admin")
    customer = crm.create_customer(db_session, name="张伟", phones=["13812345678"], actor="a")
    product = crm.add_product(
        db_session, customer_id=customer.id, model="JSQ25-13", warranty_until=date(2030, 1, 1)
    )
    ticket = tickets.create_ticket(
        db_session, type="repair", subject="不加热", product_id=product.id, actor="a", now=MONDAY_10
    )
    tickets.act(db_session, ticket_id=ticket.id, action="dispatch", target="hf-anjia", actor="a")
    tickets.provider_update(
        db_session,
        ticket_id=ticket.id,
        provider="hf-anjia",
        note="ok",
        completed=True,
        parts=["加热管"],
        now=MONDAY_10,
    )
    db_session.commit()
    return ticket.id


def start_and_stop(app: Any, sweeper: Sweeper) -> None:
    """Start ``app``'s background work, wait (bounded) for the sweep made at start, stop."""

    async def scenario() -> None:
        for start in app.state.on_start:
            await start(app)
        for _ in range(1000):
            if sweeper.sweeps:
                break
            await asyncio.sleep(0.01)
        for stop in app.state.on_stop:
            await stop(app)

    asyncio.run(scenario())


def test_the_app_sweeps_at_start_and_stops(
    db_session: Session, session_factory: sessionmaker[Session], missed: int, tmp_path: Path
) -> None:
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="t"),
        session_factory=session_factory,
        center=load_center(SAMPLE),
    )
    clock = ManualClock((MONDAY_10 + timedelta(hours=1)).timestamp())
    sweeper = attach_followup_sweeper(app, every_s=3600, clock=clock)
    assert sweeper is not None and app.state.followup_sweeper is sweeper

    start_and_stop(app, sweeper)
    assert sweeper.sweeps == 1 and sweeper.failures == 0
    tasks = db_session.scalars(select(FollowUpTask).where(FollowUpTask.ticket_id == missed)).all()
    assert [t.rule for t in tasks] == ["warranty-repair-parts"]
    assert sweeper.sweep_once().created == []  # a second sweep makes nothing more
    assert db_session.scalar(select(func.count(FollowUpTask.id))) == 1


def test_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HOTLINE_FOLLOWUP_SWEEP_S", raising=False)
    assert sweep_interval_from_env() == 300.0
    monkeypatch.setenv("HOTLINE_FOLLOWUP_SWEEP_S", "-1")
    with pytest.raises(ValueError, match="0 or more"):
        sweep_interval_from_env()
    monkeypatch.setenv("HOTLINE_FOLLOWUP_SWEEP_S", "0")
    app = create_app(settings=Settings(home=tmp_path, secret_key="t"))
    assert attach_followup_sweeper(app) is None and app.state.on_start == []
