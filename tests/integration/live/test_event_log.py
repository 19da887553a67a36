"""The live driver writes every engine event to the contact event log, source "live"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.metrics import service as metrics
from hotline.routing.model import AgentLoggedIn, ContactEnded, OfferAnswered
from hotline.store.models.core import ContactEventRow

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
T0 = 1_795_000_000.0


def test_events_reach_the_log_in_order_and_fold_into_a_report(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> LiveDriver:
        driver = LiveDriver(
            center=load_center(SAMPLE), clock=clock, session_factory=session_factory
        )
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a012"))
        contact = await driver.queue_contact("repair", customer="13900000002")
        clock.advance(4)
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a012"))
        clock.advance(60)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=contact))
        clock.advance(40)  # the repair queue's wrap-up timer
        await driver.tick()
        await driver.stop()  # writes what is still pending
        return driver

    driver = asyncio.run(scenario())
    rows = db_session.scalars(select(ContactEventRow).order_by(ContactEventRow.id)).all()
    assert {r.source for r in rows} == {"live"}
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert len(rows) == driver.stats.events == driver.stats.events_written
    contact_kinds = [r.kind for r in rows if r.contact_id]
    assert contact_kinds == [
        "arrived", "queued", "offered", "answered", "disconnected", "wrap_up_ended", "finished",
    ]  # fmt: skip
    report = metrics.kpi_report(session=db_session, interval="day")
    row = report.rows()[0]
    assert (row["queue"], row["offered"], row["answered"], row["asa_s"]) == ("repair", 1, 1, 4.0)
    assert row["aht_s"] == 100.0
