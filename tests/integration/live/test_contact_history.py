"""Contacts finished by the live engine land in the customer's history (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.crm import service as crm
from hotline.desk import customers as desk
from hotline.live.desk_state import FinishedContact
from hotline.live.driver import LiveDriver
from hotline.live.history import ContactHistoryRecorder
from hotline.routing.model import AgentLoggedIn, ContactEnded, OfferAnswered, WrapUpEnded
from hotline.store.models.crm import CustomerContact

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
T0 = 1_795_000_000.0  # Wednesday 18 Nov 2026, 19:06 in Shanghai: the hotline is open


def test_a_call_handled_live_appears_in_the_screen_pop(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    customer = crm.create_customer(
        db_session, name="王芳", phones=["+86 138 0000 0001"], actor="test"
    )
    db_session.commit()
    clock = ManualClock(T0)
    history = ContactHistoryRecorder(session_factory=session_factory)

    async def scenario() -> str:
        driver = LiveDriver(center=load_center(SAMPLE), clock=clock, on_finished=[history])
        await driver.start()
        await history.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        # the caller's number as the switch passes it: no country code, spaces
        contact = await driver.queue_contact(
            "installation", customer="138 0000 0001", attached={"subject": "洗衣机安装"}
        )
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a002"))
        clock.advance(90)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=contact))
        await driver.command(
            lambda now: WrapUpEnded(
                at=now, agent_id="a002", contact_id=contact, disposition="installation_booked"
            )
        )
        await history.stop()  # writes what is still waiting
        await driver.stop()
        return contact

    contact = asyncio.run(scenario())
    assert history.recorded == 1 and history.unmatched == 0
    pop = desk.screen_pop(db_session, calling_number="13800000001")
    assert pop.customers[0]["id"] == customer.id
    last = pop.last_contacts[0]
    assert last["channel"] == "voice" and last["agent_id"] == "a002"
    assert last["summary"] == "installation · answered · installation_booked · 洗衣机安装"
    row = db_session.scalars(
        select(CustomerContact).where(CustomerContact.contact_id == contact)
    ).one()
    assert row.customer_id == customer.id and row.direction == "inbound"


def test_unknown_numbers_shared_numbers_and_replays(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    first = crm.create_customer(db_session, name="李雷", phones=["010-65123456"], actor="t")
    second = crm.create_customer(db_session, name="韩梅梅", phones=["+86 10 6512 3456"], actor="t")
    db_session.commit()
    history = ContactHistoryRecorder(session_factory=session_factory, default_area_code="10")

    def finished(contact_id: str, number: str, channel: str = "voice") -> FinishedContact:
        return FinishedContact(
            contact_id, T0, channel, "repair", "answered", number, "a010", None, {}
        )

    shared = finished("L1-000001", "65123456", channel="callback")
    history(shared)
    history(finished("L1-000002", "13999999999"))  # nobody has this number
    history(finished("L1-000003", ""))  # no number: skipped at once
    asyncio.run(history.flush())
    assert history.recorded == 2 and history.unmatched == 1
    # the same contact replayed (a restart re-reading the log) is not added twice
    history(shared)
    asyncio.run(history.flush())
    assert history.recorded == 2
    rows = db_session.scalars(
        select(CustomerContact).where(CustomerContact.contact_id == "L1-000001")
    ).all()
    assert sorted(r.customer_id for r in rows) == sorted([first.id, second.id])
    assert {r.direction for r in rows} == {"outbound"}  # a callback: the center dialled out
