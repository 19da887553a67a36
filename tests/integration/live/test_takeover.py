"""A partition's next owner resumes the log's work instead of closing it (issue #20).

The first owner is crashed the way kill -9 leaves it: its tasks die after the log writer's last
batch, and nothing of ``stop()`` runs. A second driver with ``resume=True`` on the same database
must then hold what the log holds: the contact being talked to stays with its agent (never
offered again), the contact waiting is offered to the ready agent, agents keep their presence
and reason codes — and no contact is closed as interrupted. The plain restart path (one node,
``resume`` off) still closes them, as before.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.live.takeover import RestoreReport
from hotline.routing.model import (
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    ContactEnded,
    OfferAnswered,
    WrapUpEnded,
)
from hotline.store.models.core import ContactEventRow

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
T0 = 1_795_000_000.0  # Wednesday 18 Nov 2026, 19:06 in Shanghai


async def _crash(driver: LiveDriver) -> None:
    """Die like kill -9 after the log writer's last batch: tasks gone, no stop()."""
    await driver.flush()
    for task in driver._tasks:
        task.cancel()
    await asyncio.gather(*driver._tasks, return_exceptions=True)
    driver._tasks = []


def _login(agent: str, now: float) -> AgentLoggedIn:
    return AgentLoggedIn(at=now, agent_id=agent)


def _answer(contact: str, agent: str, now: float) -> OfferAnswered:
    return OfferAnswered(at=now, contact_id=contact, agent_id=agent)


async def _first_owner(clock: ManualClock, factory: sessionmaker[Session]) -> dict[str, str]:
    """a012 talks to one contact, a013 wraps one up, a014 is on lunch, one contact waits."""
    driver = LiveDriver(center=load_center(SAMPLE), clock=clock, session_factory=factory)
    await driver.start()
    for agent in ("a012", "a013", "a014"):
        await driver.command(partial(_login, agent))
    await driver.command(lambda now: AgentNotReady(at=now, agent_id="a014", reason="lunch"))
    talking = await driver.queue_contact("repair", customer="13900000001")
    wrapping = await driver.queue_contact("repair", customer="13900000002")
    offered = {driver.offers[a].contact_id: a for a in ("a012", "a013")}
    clock.advance(2)
    for contact, agent in offered.items():
        await driver.command(partial(_answer, contact, agent))
    clock.advance(30)
    await driver.command(lambda now: ContactEnded(at=now, contact_id=wrapping))
    waiting = await driver.queue_contact("repair", customer="13900000003")
    clock.advance(5)
    await driver.tick()
    await _crash(driver)
    return {
        "talking": talking,
        "talking_agent": next(a for c, a in offered.items() if c == talking),
        "wrapping": wrapping,
        "wrapping_agent": next(a for c, a in offered.items() if c == wrapping),
        "waiting": waiting,
    }


def _kinds(db_session: Session, contact_id: str) -> Counter[str]:
    return Counter(
        db_session.scalars(
            select(ContactEventRow.kind).where(ContactEventRow.contact_id == contact_id)
        )
    )


def test_the_next_owner_resumes_talking_wrapping_and_waiting_contacts(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> tuple[dict[str, str], dict[str, object]]:
        left = await _first_owner(clock, session_factory)
        clock.advance(3)
        # a012 finishes the first conversation after the takeover: the one wrapped up frees
        # a013 for the waiting contact.
        nxt = LiveDriver(
            center=load_center(SAMPLE),
            clock=clock,
            session_factory=session_factory,
            resume=True,
        )
        await nxt.start()
        seen: dict[str, object] = {
            "restored": nxt.restored,
            "a012": set(nxt.engine.agent_contacts("a012")),
            "a013": set(nxt.engine.agent_contacts("a013")),
            "a014": await nxt.agent_view("a014"),
            "offers": {a: o.contact_id for a, o in nxt.offers.items()},
        }
        await nxt.command(
            lambda now: WrapUpEnded(
                at=now, agent_id=left["wrapping_agent"], contact_id=left["wrapping"]
            )
        )
        seen["offers_after_wrap"] = {a: o.contact_id for a, o in nxt.offers.items()}
        await nxt.command(lambda now: ContactEnded(at=now, contact_id=left["talking"]))
        await _crash(nxt)
        return left, seen

    left, seen = asyncio.run(scenario())
    restored = seen["restored"]
    assert isinstance(restored, RestoreReport)
    assert (restored.agents, restored.in_hand, restored.waiting, restored.conflicts) == (
        3,
        2,
        1,
        [],
    )
    assert left["talking"] in seen[left["talking_agent"]]  # type: ignore[operator]
    assert left["wrapping"] in seen[left["wrapping_agent"]]  # type: ignore[operator]
    a014 = seen["a014"]
    assert isinstance(a014, dict) and a014["state"] == "not_ready" and a014["reason"] == "lunch"
    # Nobody was free when the owner changed: nothing is offered until the wrap-up ends.
    assert seen["offers"] == {}
    assert seen["offers_after_wrap"] == {left["wrapping_agent"]: left["waiting"]}
    # The log: one arrival and one answer each, no interruption, no second offer of the
    # contacts in hand; the wrapped-up one finished once.
    for contact in (left["talking"], left["wrapping"], left["waiting"]):
        kinds = _kinds(db_session, contact)
        assert kinds["arrived"] == 1 and kinds["queued"] == 1, (contact, kinds)
    assert _kinds(db_session, left["talking"])["offered"] == 1
    assert _kinds(db_session, left["talking"])["disconnected"] == 1
    assert _kinds(db_session, left["wrapping"])["finished"] == 1
    assert not db_session.scalars(
        select(ContactEventRow.id).where(
            ContactEventRow.data["outcome"].as_string() == "interrupted"
        )
    ).all()


def test_a_restart_on_one_node_still_closes_what_was_in_progress(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> dict[str, str]:
        left = await _first_owner(clock, session_factory)
        again = LiveDriver(center=load_center(SAMPLE), clock=clock, session_factory=session_factory)
        await again.start()
        await _crash(again)
        return left

    left = asyncio.run(scenario())
    for contact in (left["talking"], left["wrapping"], left["waiting"]):
        assert _kinds(db_session, contact)["finished"] == 1


def test_a_contact_ringing_when_the_owner_died_is_offered_first_to_the_same_agent(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    """a013's phone rings with a caller when the owner dies; a012 is ready too (and would be
    offered it first: presence is restored in name order). The next owner offers it to a013
    again, so a013's answer given in the gap (the phone kept ringing on its voice node) meets
    the new offer and is accepted."""
    clock = ManualClock(T0)

    async def scenario() -> tuple[str, dict[str, str], str]:
        first = LiveDriver(center=load_center(SAMPLE), clock=clock, session_factory=session_factory)
        await first.start()
        await first.command(partial(_login, "a013"))
        ringing = await first.queue_contact("repair", customer="13900000009")
        assert first.offers["a013"].contact_id == ringing
        await first.command(partial(_login, "a012"))
        await _crash(first)
        clock.advance(3)
        nxt = LiveDriver(
            center=load_center(SAMPLE), clock=clock, session_factory=session_factory, resume=True
        )
        await nxt.start()
        offers = {a: o.contact_id for a, o in nxt.offers.items()}
        await nxt.command(partial(_answer, ringing, "a013"))
        stage = nxt.engine.agent_contacts("a013").get(ringing, "")
        await _crash(nxt)
        return ringing, offers, stage

    ringing, offers, stage = asyncio.run(scenario())
    assert offers == {"a013": ringing}
    assert stage == "talking"
    assert _kinds(db_session, ringing)["answered"] == 1


def test_an_agent_made_ready_straight_into_an_offer_is_restored_ready(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    """a014 on a break goes ready while a caller waits: offered at once, so the log shows
    ``reserved`` after ``not_ready`` and no ``available`` between. The working state says the
    presence (``ready``), so the next owner restores a014 as ready — and offers them the next
    caller once the conversation and its wrap-up are done (not left on the old break)."""
    clock = ManualClock(T0)

    async def scenario() -> tuple[str, str, dict[str, object]]:
        first = LiveDriver(center=load_center(SAMPLE), clock=clock, session_factory=session_factory)
        await first.start()
        await first.command(partial(_login, "a014"))
        await first.command(lambda now: AgentNotReady(at=now, agent_id="a014", reason="break"))
        talked = await first.queue_contact("repair", customer="13900000011")
        assert "a014" not in first.offers
        await first.command(lambda now: AgentReady(at=now, agent_id="a014"))
        assert first.offers["a014"].contact_id == talked
        clock.advance(2)
        await first.command(partial(_answer, talked, "a014"))
        await _crash(first)
        clock.advance(3)
        nxt = LiveDriver(
            center=load_center(SAMPLE), clock=clock, session_factory=session_factory, resume=True
        )
        await nxt.start()
        nxt_caller = await nxt.queue_contact("repair", customer="13900000012")
        seen: dict[str, object] = {"offers": {a: o.contact_id for a, o in nxt.offers.items()}}
        await nxt.command(lambda now: ContactEnded(at=now, contact_id=talked))
        await nxt.command(lambda now: WrapUpEnded(at=now, agent_id="a014", contact_id=talked))
        seen["offers_after_wrap"] = {a: o.contact_id for a, o in nxt.offers.items()}
        await _crash(nxt)
        return talked, nxt_caller, seen

    talked, nxt_caller, seen = asyncio.run(scenario())
    states = [
        dict(data)
        for data in db_session.scalars(
            select(ContactEventRow.data)
            .where(ContactEventRow.kind == "agent_state", ContactEventRow.agent_id == "a014")
            .order_by(ContactEventRow.id)
        )
    ]
    # Before the takeover: the break, then straight into the offer, saying ready.
    assert [s["state"] for s in states[:4]] == ["available", "not_ready", "reserved", "on_contact"]
    assert states[2] == {
        "state": "reserved",
        "previous": "not_ready",
        "reason": None,
        "ready": True,
    }
    assert states[3]["ready"] is True
    assert "ready" not in states[1]  # presence states say it by their name
    assert seen["offers"] == {}  # still on the first call
    assert seen["offers_after_wrap"] == {"a014": nxt_caller}
    assert _kinds(db_session, talked)["offered"] == 1
