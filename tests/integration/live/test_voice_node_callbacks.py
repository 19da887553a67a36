"""A call back on voice nodes (issue #20), on SQLite and PostgreSQL: the partition owner's real
engine offers it and names the one node that places it; a takeover's offer anew names the same
node and fires nothing again; the placing node lost mid-call ends it as interrupted and frees
the agent. The nodes' routing halves are real (outbox, router, :func:`carry_out`); their SIP
side is a stand-in that records what it is asked to place (the real voice driver's part is
``tests/unit/telephony/test_node_callbacks.py``, the real SIP peers'
``test_voice_node_failure.py``)."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind
from hotline.live.voice_callbacks import PLACED_BY, CallbackPlacement
from hotline.live.voice_nodes import VoiceNodeWatch, close_lost
from hotline.routing.model import AgentState
from hotline.store import voice_nodes
from hotline.store.models.voice_nodes import VoiceLegRow
from hotline.store.partitions import try_acquire
from hotline.store.voice_nodes import Leg
from hotline.telephony.ports import DialCallback, ReleaseCaller
from tests.integration.live.test_voice_nodes import _Calls, _live_log, _Node, _Owner

NUMBER = "13800000101"
CALLBACK = "v-1:callback"


class _Placing(_Calls):
    """The voice driver's side, with the originator's calls it places (as
    :class:`~hotline.telephony.outbound.Originator` keeps them)."""

    def __init__(self) -> None:
        super().__init__()
        self.outbound = SimpleNamespace(calls={}, stop_ringing=self._stop_ringing)

    def route(self, decisions: list[object]) -> None:
        super().route(decisions)
        for decision in decisions:
            if isinstance(decision, DialCallback):
                self.outbound.calls.setdefault(
                    decision.contact_id,
                    SimpleNamespace(agent_id=decision.agent_id, agent_answered_at=None),
                )

    def _stop_ringing(self, contact_id: str, agent_id: str) -> None:
        self.outbound.calls.pop(contact_id, None)

    def placed(self) -> list[DialCallback]:
        return [d for d in self.decisions if isinstance(d, DialCallback)]


class _PlacingNode(_Node):
    center: _Placing

    def __init__(self, factory: sessionmaker[Session], name: str) -> None:
        super().__init__(factory, name)
        self.center = _Placing()


def _owner(factory: sessionmaker[Session], *, resume: bool = False) -> _Owner:
    """The owner's loop with its event stamp, as :class:`PartitionNode` installs it."""
    owner = _Owner(factory, resume=resume)
    owner.driver.stamps.append(CallbackPlacement(owner.phones, owner.driver.attached.get))
    return owner


def test_one_voice_node_places_a_call_back_once_across_a_takeover_and_its_loss_frees_the_agent(
    session_factory: sessionmaker[Session],
) -> None:
    a, b = _PlacingNode(session_factory, "voice-a"), _PlacingNode(session_factory, "voice-b")
    named, other = sorted((a, b), key=lambda node: node.presence.node_id)  # the least run
    first = _owner(session_factory)

    async def before() -> None:
        await first.driver.start()
        for node in (a, b):
            node.router.phone_registered(at=time.time(), agent_id="a001")
        a.caller("v-0", "13800000100")  # a001 talks to a caller through node A
        await first.step(a, b)
        a.follow()
        a.router.offer_answered(at=time.time(), contact_id="v-0", agent_id="a001")
        b.caller("v-1", NUMBER)  # waits, then asks to be called back
        await first.step(a, b)
        b.follow()
        b.router.callback_requested(at=time.time(), contact_id="v-1")
        await first.step(b)
        b.follow()
        assert ReleaseCaller("v-1", "installation", "callback", CALLBACK) in b.center.decisions
        a.router.contact_ended(at=time.time(), contact_id="v-0")
        a.outbox.put("wrap_up_end", {"agent_id": "a001", "contact_id": "v-0"})  # a001 free
        await first.step(a)
        a.follow(), b.follow()
        assert named.center.placed() == [DialCallback(CALLBACK, "a001", NUMBER, 0.0)]
        assert other.center.placed() == [], "exactly one node places it"
        assert named.outbox.carries(CALLBACK) and not other.outbox.carries(CALLBACK)
        await asyncio.to_thread(named.outbox.flush)
        with session_factory() as session:
            leg = session.get(VoiceLegRow, CALLBACK)
            assert leg is not None
            assert (leg.node_id, leg.agent_id, leg.stage) == (named.presence.node_id, "a001",
                                                              "ringing")  # fmt: skip
        for task in first.driver._tasks:  # the owner dies like kill -9, a001's phone ringing
            task.cancel()
        await asyncio.gather(*first.driver._tasks, return_exceptions=True)

    asyncio.run(before())
    second = _owner(session_factory, resume=True)
    lease = try_acquire(session_factory, partition="hefei", owner="second", ttl_s=30.0)
    assert lease is not None
    watch = VoiceNodeWatch(session_factory, lease, every_s=0.0)
    second.driver.persistence.before_write = lambda s, batch, mark: watch.before_write(s, batch)

    async def after() -> None:
        await second.driver.start()
        try:
            engine = second.driver.engine
            await second.step(a, b)
            a.follow(), b.follow()
            log = _live_log(session_factory)
            offers = [e for e in log if e.kind is EventKind.OFFERED and e.contact_id == CALLBACK]
            assert len(offers) == 2, "offered anew by the new owner"
            assert {e.data[PLACED_BY] for e in offers} == {named.presence.node_id}
            assert {e.data["number"] for e in offers} == {NUMBER}
            arrived = [e for e in log if e.kind is EventKind.ARRIVED and e.contact_id == CALLBACK]
            assert len(arrived) == 1, "the call back fired once"
            assert other.center.placed() == [], "the other node never placed it"
            # the named node is asked again, and places nothing twice (the originator's)
            assert len(named.center.placed()) == 2 and list(named.center.outbound.calls) == [
                CALLBACK
            ]
            named.router.offer_answered(at=time.time(), contact_id=CALLBACK, agent_id="a001")
            await second.step(named)
            assert engine.agent_contacts("a001") == {CALLBACK: "talking"}
            named.follow()
            await asyncio.to_thread(named.outbox.flush)
            # the placing node dies mid-call: the call back ends as interrupted, a001 is freed
            voice_nodes.stopped(session_factory, named.presence.node_id)
            [lost] = await watch.claim()
            await second.driver.run(lambda e, now: (None, close_lost(e, lost, now=now)))
            await second.driver.flush()
            assert engine.contact_stage(CALLBACK) is None
            assert engine.agent_state("a001") is AgentState.AVAILABLE
            tail: list[tuple[str, Any, Any]] = [
                (e.kind.value, e.contact_id or e.agent_id, e.data.get("reason"))
                for e in _live_log(session_factory)
                if e.contact_id == CALLBACK or e.agent_id == "a001"
            ][-3:]
            assert tail == [
                ("disconnected", CALLBACK, "voice_node_lost"),
                ("finished", CALLBACK, "voice_node_lost"),
                ("agent_state", "a001", "voice_node_lost"),
            ]
        finally:
            await second.driver.stop()

    asyncio.run(after())


def test_a_call_backs_leg_moves_to_the_node_that_takes_it_and_a_late_close_is_not_written(
    session_factory: sessionmaker[Session],
) -> None:
    """A node lets a call back go (its offer withdrawn) and another takes it: whichever writes
    last, the leg is the taker's and open; a node's close of its own leg is written."""
    a, b = _PlacingNode(session_factory, "voice-a"), _PlacingNode(session_factory, "voice-b")
    opened = Leg(CALLBACK, 1.0, "installation", "callback", "a001", "ringing")
    closed = Leg(CALLBACK, 1.0, "installation", "callback", closed_at=2.0)

    def write(node: _Node, leg: Leg) -> tuple[str, bool] | None:
        with session_factory() as session:
            voice_nodes.write_legs(session, node.presence.node_id, [leg])
            session.commit()
        with session_factory() as session:
            row = session.get(VoiceLegRow, CALLBACK)
            return None if row is None else (row.node_id, row.closed_at is None)

    assert write(a, opened) == (a.presence.node_id, True)
    assert write(b, opened) == (b.presence.node_id, True), "node B took it"
    assert write(a, closed) == (b.presence.node_id, True), "A's late close is not written"
    assert write(b, closed) == (b.presence.node_id, False), "B's own close is"
    # the outbox's let-go queues that close: the leg is written closed at its next flush
    b.outbox.take(_offer(b))
    b.outbox.let_go(CALLBACK, at=3.0)
    b.outbox.flush()
    with session_factory() as session:
        row = session.get(VoiceLegRow, CALLBACK)
        assert row is not None and (row.node_id, row.closed_at) == (b.presence.node_id, 3.0)


def _offer(node: _Node) -> Event:
    return Event(9, 2.5, EventKind.OFFERED, CALLBACK, "a001", "installation", Channel.CALLBACK,
                 {PLACED_BY: node.presence.node_id})  # fmt: skip
