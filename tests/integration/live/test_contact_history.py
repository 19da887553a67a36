"""Contacts finished by the live engine land in the customer's history (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def _linked_customer(
    session: Session,
    identity: crm.Identity,
    *,
    name: str,
    phones: list[str],
    emails: Sequence[str] = (),
) -> Any:
    """A new customer with ``identity`` linked to them by an agent, committed."""
    customer = crm.create_customer(session, name=name, phones=phones, emails=emails, actor="t")
    session.flush()
    crm.link_identity(session, customer_id=customer.id, identity=identity, actor="a004")
    session.commit()
    return customer


def test_contacts_on_every_channel_reach_the_customer_by_number_address_and_identity(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    """A call, an SMS, a chat that left an address, an e-mail and a WeChat follower's chat
    (linked by an agent) all land in one customer's history, with queue and outcome; the
    screen pop of the e-mail address lists them newest first."""
    customer = _linked_customer(
        db_session,
        crm.Identity("wechat", "oLVPpjqs9Bhv"),
        name="赵敏",
        phones=["+86 139 0000 0002"],
        emails=["Zhao.Min@example.cn"],
    )
    history = ContactHistoryRecorder(session_factory=session_factory)
    arrivals = [
        ("V-1", "voice", "repair", "answered", "139 0000 0002"),
        ("S-2", "sms", "chat", "answered", "13900000002"),
        ("C-3", "chat", "chat", "abandoned", "zhao.min@example.cn"),
        ("E-4", "email", "email", "answered", "ZHAO.MIN@example.cn"),
        ("W-5", "chat", "chat", "answered", "wechat:oLVPpjqs9Bhv"),
    ]
    for minute, (contact_id, channel, queue, outcome, key) in enumerate(arrivals):
        history(
            FinishedContact(
                contact_id, T0 + 60 * minute, channel, queue, outcome, key, "a004", None, {}
            )
        )
    asyncio.run(history.flush())
    assert (history.recorded, history.unmatched) == (5, 0)
    rows = crm.contact_history(db_session, customer_id=customer.id)
    assert [(r.contact_id, r.channel, r.queue, r.outcome) for r in rows] == [
        ("W-5", "wechat", "chat", "answered"),
        ("E-4", "email", "email", "answered"),
        ("C-3", "chat", "chat", "abandoned"),
        ("S-2", "sms", "chat", "answered"),
        ("V-1", "voice", "repair", "answered"),
    ]
    # an e-mail from the address pops the customer, with their contacts on every channel
    pop = desk.screen_pop(db_session, calling_number="zhao.min@example.cn", contacts=10)
    assert [c["id"] for c in pop.customers] == [customer.id]
    assert [c["channel"] for c in pop.last_contacts] == ["wechat", "email", "chat", "sms", "voice"]
    assert pop.last_contacts[0]["queue"] == "chat" and pop.last_contacts[0]["contact_id"] == "W-5"


def test_an_address_linked_from_a_chat_pops_its_customer_on_an_email(db_session: Session) -> None:
    """An address an agent linked from a chat (not on file) pops the customer when an e-mail
    comes from it."""
    customer = _linked_customer(
        db_session,
        crm.Identity("email", "zhiruo@example.cn"),
        name="周芷若",
        phones=["13700000003"],
    )
    pop = desk.screen_pop(db_session, calling_number="Zhiruo@example.cn")
    assert [c["id"] for c in pop.customers] == [customer.id]
