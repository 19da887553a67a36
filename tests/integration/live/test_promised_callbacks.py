"""Call backs promised and not yet due survive the owner's death and a restart (issue #20);
a restart keeps crisis mode on as the log's last switch left it.

The first owner promises two call backs — one due in a moment, one in ten minutes — and
switches crisis mode on, then dies the way kill -9 leaves it (the log writer's last batch
written, its timers gone with it). The next owner (``resume``) keeps both promises; the first
falls due under it and is queued as a callback contact, once. A third owner keeps only the
later promise (the first one's contact is in the log: it is never fired again). A one-node
restart (no ``resume``) keeps the later promise too, and starts with crisis mode on.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.live.driver import LiveDriver
from hotline.routing.crisis import NEVER_OPEN
from hotline.routing.model import AgentLoggedIn, OfferAnswered
from hotline.store.models.core import ContactEventRow

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


async def _die(driver: LiveDriver) -> None:
    """Die like kill -9 after the log writer's last batch: tasks and timers gone, no stop()."""
    await driver.flush()
    for handle in driver._callback_handles:
        handle.cancel()
    for task in driver._tasks:
        task.cancel()
    await asyncio.gather(*driver._tasks, return_exceptions=True)
    driver._tasks = []


def _driver(factory: sessionmaker[Session], *, resume: bool) -> LiveDriver:
    return LiveDriver(
        center=load_center(SAMPLE), session_factory=factory, honour_hours=False, resume=resume
    )


async def _until(condition: Callable[[], object], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _kinds(db_session: Session, contact_id: str) -> Counter[str]:
    rows = db_session.scalars(
        select(ContactEventRow.kind).where(ContactEventRow.contact_id == contact_id)
    )
    return Counter(rows)


def test_promises_outlive_their_owner_and_a_restart_and_fire_once(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    first = _driver(session_factory, resume=False)
    ids: dict[str, str] = {}

    async def scenario() -> None:
        await first.start()
        await first.command(lambda now: AgentLoggedIn(at=now, agent_id="a012"))
        contact = await first.queue_contact("repair", customer="13900000001")
        await first.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a012"))
        await first.switch_crisis(on=True, by="boss", source="supervisor", reason="storm")
        # Due in a moment, but only once the owner is gone (it dies just after promising).
        soon = first.schedule_callback(
            queue="repair",
            due_at=time.time() + 1.5,
            customer="13900000001",
            requested_by="a012",
            note="after the part arrives",
            for_contact=contact,
        )
        later = first.schedule_callback(
            queue="repair",
            due_at=time.time() + 600,
            customer="13900000001",
            requested_by="a012",
            for_contact=contact,
        )
        ids.update(contact=contact, soon=soon["callback_id"], later=later["callback_id"])
        await _die(first)
        assert time.time() < soon["due_at"], "the first owner outlived the promise's due time"

        # The next owner keeps both promises: on a's desk, soonest first.
        second = _driver(session_factory, resume=True)
        await second.start()
        desk = await second.agent_view("a012")
        assert [cb["callback_id"] for cb in desk["callbacks"]] == [ids["soon"], ids["later"]]
        assert desk["callbacks"][0]["note"] == "after the part arrives"
        # The first falls due under the new owner: queued as a callback contact, its case
        # the contact it was promised in.
        await _until(lambda: ids["soon"] not in second.desk.callbacks)
        await _until(lambda: second.engine.contact_stage(ids["soon"]) is not None)
        await _die(second)

        third = _driver(session_factory, resume=True)
        await third.start()
        assert list(third.desk.callbacks) == [ids["later"]]
        await asyncio.sleep(0.2)
        await _die(third)

        # A one-node restart: the later promise is kept, crisis mode is still on.
        restarted = _driver(session_factory, resume=False)
        await restarted.start()
        try:
            assert list(restarted.desk.callbacks) == [ids["later"]]
            view = restarted.crisis.view()
            assert (view["on"], view["by"], view["reason"]) == (True, "boss", "storm")
            queues = {q.id: q for q in restarted.engine.config.queues}
            assert queues["installation"].calendar is NEVER_OPEN  # closed for the crisis
            board = await restarted.snapshot()
            assert board["crisis"]["on"] is True
        finally:
            await restarted.stop()

    asyncio.run(scenario())
    fired = _kinds(db_session, ids["soon"])
    assert fired["arrived"] == 1 and fired["queued"] == 1, fired  # once, across two takeovers
    arrived = db_session.scalars(
        select(ContactEventRow.data).where(
            ContactEventRow.contact_id == ids["soon"], ContactEventRow.kind == "arrived"
        )
    ).one()
    assert arrived.get("case_id") == ids["contact"]
    assert _kinds(db_session, ids["later"]) == Counter()  # not due: never queued
    promises = db_session.scalars(
        select(ContactEventRow.id).where(ContactEventRow.kind == "callback_promised")
    ).all()
    assert len(promises) == 2  # logged when promised, never again by a new owner
    # The switch was logged once: a restart keeps it without logging it again.
    switches = db_session.scalars(
        select(ContactEventRow.id).where(ContactEventRow.kind == "crisis")
    ).all()
    assert len(switches) == 1
