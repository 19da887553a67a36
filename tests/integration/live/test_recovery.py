"""Contacts in progress when the server crashes or stops are closed; the board survives restarts.

A crash is simulated the way it happens: the driver's tasks die with the events already
written, and nothing of ``stop()`` runs. The next driver on the same database starts from the
log alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.core.events import Event
from hotline.live.driver import LiveDriver
from hotline.live.stats import DriverStats
from hotline.metrics import service as metrics
from hotline.routing.model import AgentLoggedIn, ContactEnded, OfferAnswered
from hotline.store import event_log
from hotline.store.models.core import ContactEventRow
from hotline.web import resume
from hotline.web.events import EventHub

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
T0 = 1_795_000_000.0  # Wednesday 18 Nov 2026, 19:06 in Shanghai


async def _crash(driver: LiveDriver) -> None:
    """Die like kill -9 after the log writer's last batch: tasks gone, no stop()."""
    await driver.flush()
    for task in driver._tasks:
        task.cancel()
    await asyncio.gather(*driver._tasks, return_exceptions=True)
    driver._tasks = []


async def _in_progress(clock: ManualClock, factory: sessionmaker[Session]) -> LiveDriver:
    """One contact answered and talking (a012), one finished, one still waiting in a queue."""
    driver = LiveDriver(center=load_center(SAMPLE), clock=clock, session_factory=factory)
    await driver.start()
    await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a012"))
    done = await driver.queue_contact("repair", customer="13900000001")
    clock.advance(3)
    await driver.command(lambda now: OfferAnswered(at=now, contact_id=done, agent_id="a012"))
    clock.advance(30)
    await driver.command(lambda now: ContactEnded(at=now, contact_id=done))
    clock.advance(40)  # the repair queue's wrap-up
    await driver.tick()
    talking = await driver.queue_contact("repair", customer="13900000002")
    clock.advance(2)
    await driver.command(lambda now: OfferAnswered(at=now, contact_id=talking, agent_id="a012"))
    await driver.queue_contact("repair", customer="13900000003")  # waits: a012 is busy
    clock.advance(20)
    await driver.tick()
    return driver


def _endings(db_session: Session) -> tuple[Counter[str], dict[str, list[dict[str, Any]]]]:
    rows = db_session.scalars(select(ContactEventRow).order_by(ContactEventRow.id)).all()
    arrived = Counter(r.contact_id for r in rows if r.kind == "arrived" and r.contact_id)
    finished: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.kind == "finished" and row.contact_id:
            finished.setdefault(row.contact_id, []).append(row.data)
    return arrived, finished


def _agent_states(db_session: Session, agent_id: str) -> list[dict[str, Any]]:
    rows = db_session.scalars(
        select(ContactEventRow)
        .where(ContactEventRow.kind == "agent_state", ContactEventRow.agent_id == agent_id)
        .order_by(ContactEventRow.id)
    ).all()
    return [r.data for r in rows]


def test_a_crash_leaves_no_contact_open_after_the_restart(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> dict[str, Any]:
        first = await _in_progress(clock, session_factory)
        await _crash(first)
        clock.advance(15)  # the service manager restarts the server
        second = LiveDriver(
            center=load_center(SAMPLE), clock=clock, session_factory=session_factory
        )
        await second.start()
        board = await second.snapshot()
        view = await second.agent_view("a012")
        await second.stop()
        return {"board": board, "view": view, "stats": second.stats}

    seen = asyncio.run(scenario())
    arrived, finished = _endings(db_session)
    assert len(arrived) == 3
    # Every contact that arrived has exactly one end; the two in progress were interrupted.
    assert {cid: len(ends) for cid, ends in finished.items()} == dict.fromkeys(arrived, 1)
    outcomes = sorted(ends[0]["outcome"] for ends in finished.values())
    assert outcomes == ["answered", "interrupted", "interrupted"]
    assert {ends[0].get("reason") for ends in finished.values()} == {None, "crash"}
    assert seen["stats"].recovered == 2
    # The agent the log showed on a call is signed out, as the new engine sees them.
    assert _agent_states(db_session, "a012")[-1] == {
        "state": "logged_out",
        "previous": "on_contact",
        "reason": "crash",
    }
    assert seen["view"]["state"] == "logged_out" and seen["view"]["contacts"] == []
    # Reports count them: three offered, two answered, two interrupted, none abandoned.
    row = metrics.kpi_report(session=db_session, interval="day").rows()[0]
    assert (row["offered"], row["answered"], row["abandoned"], row["interrupted"]) == (3, 2, 0, 2)
    # The restarted wallboard's "today" is rebuilt from the log, not reset to zero.
    repair = next(q for q in seen["board"]["queues"] if q["id"] == "repair")
    assert (repair["today"]["offered"], repair["today"]["answered"]) == (3, 2)
    assert seen["board"]["totals"]["offered_today"] == 3


def test_a_graceful_stop_closes_what_is_in_progress_once(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> DriverStats:
        first = await _in_progress(clock, session_factory)
        await first.stop()
        clock.advance(5)
        second = LiveDriver(
            center=load_center(SAMPLE), clock=clock, session_factory=session_factory
        )
        await second.start()  # nothing left to recover: the stop closed it all
        await second.stop()
        return second.stats

    stats = asyncio.run(scenario())
    arrived, finished = _endings(db_session)
    assert {cid: len(ends) for cid, ends in finished.items()} == dict.fromkeys(arrived, 1)
    reasons = Counter(ends[0].get("reason") for ends in finished.values())
    assert reasons == Counter({None: 1, "shutdown": 2})
    assert _agent_states(db_session, "a012")[-1]["state"] == "logged_out"
    assert stats.recovered == 0  # nothing was left for the next start


def test_the_wallboard_keeps_todays_figures_across_a_restart(
    session_factory: sessionmaker[Session],
) -> None:
    clock = ManualClock(T0)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        first = LiveDriver(center=load_center(SAMPLE), clock=clock, session_factory=session_factory)
        await first.start()
        await first.command(lambda now: AgentLoggedIn(at=now, agent_id="a012"))
        contact = await first.queue_contact("repair", customer="13900000001")
        clock.advance(8)
        await first.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a012"))
        clock.advance(30)
        await first.command(lambda now: ContactEnded(at=now, contact_id=contact))
        clock.advance(40)
        await first.tick()
        before = await first.snapshot()
        await first.stop()
        clock.advance(10)
        second = LiveDriver(
            center=load_center(SAMPLE), clock=clock, session_factory=session_factory
        )
        await second.start()
        after = await second.snapshot()
        await second.stop()
        return before, after

    before, after = asyncio.run(scenario())

    def repair(board: dict[str, Any]) -> dict[str, Any]:
        return next(q for q in board["queues"] if q["id"] == "repair")

    assert repair(before)["today"]["answered"] == 1
    assert repair(after)["today"] == repair(before)["today"]
    assert after["totals"]["answered_today"] == 1


def test_positions_rise_across_a_crash_and_a_stop_without_a_hole(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    """A screen resumes from an event's ``seq``: a restarted driver numbers on from the log
    (it used to start from 1 again), and a start with nothing to close takes no number."""
    clock = ManualClock(T0)

    async def scenario() -> None:
        await _crash(await _in_progress(clock, session_factory))
        clock.advance(60)
        again = LiveDriver(center=load_center(SAMPLE), clock=clock, session_factory=session_factory)
        await again.start()  # closes what the crash left open
        await again.command(lambda now: AgentLoggedIn(at=now, agent_id="a013"))
        await again.stop()  # closes a013's sign-in
        third = LiveDriver(center=load_center(SAMPLE), clock=clock, session_factory=session_factory)
        await third.start()  # nothing open: no number taken
        await third.command(lambda now: AgentLoggedIn(at=now, agent_id="a014"))
        await third.stop()

    asyncio.run(scenario())
    seqs = list(
        db_session.scalars(
            select(ContactEventRow.seq)
            .where(ContactEventRow.source == "live")
            .order_by(ContactEventRow.id)
        )
    )
    assert seqs == list(range(1, len(seqs) + 1))


def test_a_screen_that_saw_events_a_crash_never_wrote_is_told_to_reload(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    """A one-node server publishes an event at once and writes it with its next batch; killed
    in between, its restart numbers those positions again with other events. A screen that
    saw them names the run they came from and is told to reload; one that saw only written
    events resumes on the new run exactly from the log."""
    clock = ManualClock(T0)
    center = load_center(SAMPLE)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int], int]:
        first = LiveDriver(
            center=center, clock=clock, session_factory=session_factory, flush_every_s=3600
        )
        await first.start()
        await first.command(lambda now: AgentLoggedIn(at=now, agent_id="a012"))
        await first.flush()  # written: the screen's position up to here is safe
        with session_factory() as session:
            written = event_log.last_seq(session)
        shown: list[dict[str, Any]] = []
        first.publish, first.watched = shown.append, lambda: True
        await first.command(lambda now: AgentLoggedIn(at=now, agent_id="a013"))
        seen = max(m["seq"] for m in shown if m.get("type") == "event")
        assert seen > written  # shown, not written: then the kill
        for task in first._tasks:
            task.cancel()
        await asyncio.gather(*first._tasks, return_exceptions=True)

        clock.advance(5)
        again = LiveDriver(
            center=center, clock=clock, session_factory=session_factory, flush_every_s=3600
        )
        await again.start()
        await again.command(lambda now: AgentLoggedIn(at=now, agent_id="a014"))
        await again.flush()
        assert again.persistence.first_seq == written + 1  # the lost positions, again
        run = resume.Run(again.run_id, again.persistence.first_seq)

        async def read_log(position: int, limit: int) -> tuple[list[Event], int]:
            with session_factory() as session:
                events = event_log.events_after(session, after=position, limit=limit)
                return events, event_log.last_seq(session)

        hub = EventHub()
        hub.bind(asyncio.get_running_loop())

        async def first_messages(after: int, count: int) -> list[dict[str, Any]]:
            stream = resume.resumed(
                hub, after=after, read_log=read_log, day_start=0.0, seen_run=first.run_id, run=run
            )
            async with contextlib.aclosing(stream):
                return [message async for _, message in _take(stream, count)]

        lost = await first_messages(seen, 1)
        with session_factory() as session:
            logged = [e.seq for e in event_log.events_after(session, after=written, limit=100)]
        kept = await first_messages(written, len(logged))  # the backlog (then it waits live)
        await again.stop()
        hub.close()
        return lost, kept, logged, seen

    lost, kept, logged, seen = asyncio.run(scenario())
    assert lost == [
        {
            "type": "reload",
            "reason": f"position {seen} was shown by a server run that ended before writing it"
            ": reload",
            "position": logged[-1],  # the log's newest: where the reloaded view starts
        }
    ]
    # the positions the crash lost were numbered again, with other events: resumed from them
    assert [m["seq"] for m in kept] == logged and logged[0] <= seen


async def _take(
    stream: AsyncIterator[tuple[int | None, dict[str, Any]]], count: int
) -> AsyncIterator[tuple[int | None, dict[str, Any]]]:
    """The first ``count`` items of ``stream`` (fewer if it ends)."""
    for _ in range(count):
        try:
            yield await anext(stream)
        except StopAsyncIteration:
            return
