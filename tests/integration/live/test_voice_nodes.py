"""Voice nodes known to, and routed by, the partition owner (issue #20), on SQLite and PostgreSQL.

A voice node writes the contacts it carries (``voice_legs``) and its heartbeat in the same
transaction; once the heartbeat lapses, the partition owner claims the node in a fenced
transaction and its log gets, once, the ends of those contacts (``interrupted``, reason
``voice_node_lost``), the node's agents freed, and one alarm. A node declared lost is refused
its next heartbeat and write; an owner whose lease moved on claims nothing.

A voice node has no engine: its calls' steps are partition inbox rows, its own events are
numbered into the log by the owner, and it rings what the owner's log offers
(:mod:`hotline.telephony.owner_routing`). Two nodes sharing one agent get one offer at a time;
a lost node's contacts end in the owner's engine too; a takeover keeps a node's live call.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Channel, Event, EventKind
from hotline.live.driver import LiveDriver
from hotline.live.ownership import apply_inbox_row, inbox_command
from hotline.live.takeover import read_state
from hotline.live.voice_nodes import VoiceNodeWatch, VoicePhones, close_lost
from hotline.routing.model import (
    AgentNotReady,
    AgentState,
    CallbackRequested,
    ConsultEnded,
    ConsultStarted,
    ContactAbandoned,
    ContactEnded,
    ContactHeld,
    ContactQueued,
    ContactResumed,
    OfferAnswered,
    OfferRejected,
    RoutingConflict,
    TransferredOut,
    TransferredToAgent,
    TransferredToQueue,
)
from hotline.store import event_log, partitions, voice_nodes
from hotline.store.event_log import EventLogWriter
from hotline.store.models.core import ContactEventRow
from hotline.store.models.voice_nodes import VoiceLegRow, VoiceNodeRow
from hotline.store.partitions import Fenced, release, try_acquire
from hotline.telephony.call_state import Phase
from hotline.telephony.event_store import DatabaseSink
from hotline.telephony.owner_routing import NodeOutbox, OutboxSink, OwnerRouter, carry_out
from hotline.telephony.ports import RingAgent
from hotline.telephony.voice_node import VoiceNodeOptions, VoicePresence

VOICE = Channel.VOICE


def _node_events() -> list[Event]:
    return [
        Event(1, 10.0, EventKind.ARRIVED, "v-1", channel=VOICE),
        Event(2, 11.0, EventKind.QUEUED, "v-1", queue="repair", channel=VOICE),
        Event(3, 12.0, EventKind.OFFERED, "v-1", "a001", "repair", VOICE),
        Event(4, 13.0, EventKind.ANSWERED, "v-1", "a001", "repair", VOICE),
        Event(5, 14.0, EventKind.ARRIVED, "v-2", channel=VOICE),
        Event(6, 15.0, EventKind.QUEUED, "v-2", queue="repair", channel=VOICE),
        Event(7, 16.0, EventKind.ARRIVED, "v-3", channel=VOICE),
        Event(8, 17.0, EventKind.FINISHED, "v-3", data={"outcome": "ivr_hangup"}),
    ]


def _owner_log(factory: sessionmaker[Session]) -> list[tuple[str, str | None, dict[str, object]]]:
    with factory() as session:
        rows = session.execute(
            select(
                ContactEventRow.kind,
                ContactEventRow.contact_id,
                ContactEventRow.agent_id,
                ContactEventRow.data,
            )
            .where(ContactEventRow.source == "owner")
            .order_by(ContactEventRow.id)
        ).all()
    return [(row.kind, row.contact_id or row.agent_id, dict(row.data)) for row in rows]


def test_a_lost_voice_nodes_contacts_end_once_and_its_agents_are_freed(
    session_factory: sessionmaker[Session],
) -> None:
    presence = VoicePresence(session_factory, VoiceNodeOptions("voice-a", "hefei"), sip="x:5060")
    presence.register()
    with pytest.raises(voice_nodes.NodeNameTaken, match="voice-a"):
        VoicePresence(session_factory, VoiceNodeOptions("voice-a", "hefei"), sip="y").register()
    sink = DatabaseSink(session_factory, before=presence.before_write)
    for event in _node_events():
        sink.append(event)
    assert sink.flush() == 8
    with session_factory() as session:
        legs = {row.contact_id: row for row in session.scalars(select(VoiceLegRow))}
    assert {c: (r.agent_id, r.stage, r.closed_at) for c, r in legs.items()} == {
        "v-1": ("a001", "talking", None),
        "v-2": (None, None, None),
        "v-3": (None, None, 17.0),
    }

    lease = try_acquire(session_factory, partition="hefei", owner="node-a", ttl_s=30.0)
    assert lease is not None
    watch = VoiceNodeWatch(session_factory, lease, every_s=0.0)
    logged: list[Event] = []
    assert asyncio.run(watch.check(logged.append, lambda: 50.0)) == []  # heartbeat alive

    voice_nodes.stopped(session_factory, presence.node_id)  # lapses now, as after kill -9
    lost = asyncio.run(watch.check(logged.append, lambda: 50.0))
    assert [node.name for node in lost] == ["voice-a"]
    assert asyncio.run(watch.check(logged.append, lambda: 51.0)) == []  # handled: not twice
    assert [(e.kind.value, e.contact_id or e.agent_id) for e in logged] == [
        ("disconnected", "v-1"),
        ("finished", "v-1"),
        ("finished", "v-2"),
        ("agent_state", "a001"),
        ("alarm", None),
    ]
    assert not presence.beat(), "a node declared lost gets no heartbeat"
    sink.append(Event(9, 18.0, EventKind.ABANDONED, "v-2"))
    assert sink.flush() == 0, "a node declared lost writes nothing"

    # The owner's write carries the node's closing events and notes them written.
    writer = EventLogWriter(source="owner")
    writer.add([e.renumbered(n) for n, e in enumerate(logged, start=1)])
    writer.flush(session_factory, before=lambda s, batch, mark: watch.before_write(s, batch))
    log = _owner_log(session_factory)
    assert log[1] == (
        "finished",
        "v-1",
        {"outcome": "interrupted", "reason": "voice_node_lost", "voice_node": "voice-a"},
    )
    assert log[3] == (
        "agent_state",
        "a001",
        {
            "state": "available",
            "previous": "on_contact",
            "reason": "voice_node_lost",
            "voice_node": "voice-a",
        },
    )
    with session_factory() as session:
        node = session.get(VoiceNodeRow, presence.node_id)
        assert node is not None and node.lost_epoch == lease.epoch and node.logged_at is not None
        open_legs = session.scalars(select(VoiceLegRow).where(VoiceLegRow.closed_at.is_(None)))
        assert list(open_legs) == []
    # The next owner's term (a fresh watch) finds nothing left to write.
    again = VoiceNodeWatch(session_factory, lease, every_s=0.0)
    assert asyncio.run(again.check(logged.append, lambda: 60.0)) == []


def test_the_loss_is_written_by_the_next_owner_if_the_claiming_one_died_before_writing(
    session_factory: sessionmaker[Session],
) -> None:
    presence = VoicePresence(session_factory, VoiceNodeOptions("voice-b", "hefei"), sip="")
    presence.register()
    sink = DatabaseSink(session_factory, before=presence.before_write)
    for event in _node_events()[:4]:
        sink.append(event)
    sink.flush()
    voice_nodes.stopped(session_factory, presence.node_id)
    first = try_acquire(session_factory, partition="hefei", owner="node-a", ttl_s=30.0)
    assert first is not None
    dying: list[Event] = []
    assert asyncio.run(VoiceNodeWatch(session_factory, first, every_s=0).check(dying.append, float))
    # node-a dies before its batch commits; node-b takes the partition over.
    release(session_factory, first)
    second = try_acquire(session_factory, partition="hefei", owner="node-b", ttl_s=30.0)
    assert second is not None and second.epoch == first.epoch + 1
    with pytest.raises(Fenced):
        asyncio.run(VoiceNodeWatch(session_factory, first, every_s=0).check(dying.append, float))
    logged: list[Event] = []
    lost = asyncio.run(
        VoiceNodeWatch(session_factory, second, every_s=0).check(logged.append, float)
    )
    assert [node.name for node in lost] == ["voice-b"]
    assert [e.kind.value for e in logged] == ["disconnected", "finished", "agent_state", "alarm"]


def test_a_new_owner_takes_up_the_calls_voice_nodes_carry(
    session_factory: sessionmaker[Session],
) -> None:
    """A takeover folds the log's open contacts into the new owner's engine, a voice node's
    calls among them: the owner's engine routes them (the node only carries the SIP side)."""
    presence = VoicePresence(session_factory, VoiceNodeOptions("voice-c", "hefei"), sip="")
    presence.register()
    sink = DatabaseSink(session_factory, before=presence.before_write)
    for event in _node_events():
        sink.append(event)
    sink.flush()
    with session_factory() as session:  # an owner's contact waiting, from the inbox
        session.add(
            ContactEventRow(source="live", seq=9, at=18.0, kind="queued", contact_id="L-1",
                            queue="repair", data={})
        )  # fmt: skip
        session.commit()
    state = read_state(session_factory)
    assert [(c.contact_id, c.agent_id) for c in state.in_hand] == [("v-1", "a001")]
    assert [c.contact_id for c in state.waiting] == ["v-2", "L-1"]


# -- voice nodes routed by the owner (no engine of their own) --------------------------------

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


class _Calls:
    """The voice driver's side of :func:`carry_out`: the calls it holds and the decisions it
    was asked to carry out (the SIP side itself is tested in test_voice_node_failure.py)."""

    def __init__(self) -> None:
        self.calls: dict[str, Any] = {}
        self.decisions: list[object] = []
        self.hung_up: list[str] = []

    def route(self, decisions: list[object]) -> None:
        self.decisions += decisions

    def hang_up_agent(self, contact_id: str) -> None:
        self.hung_up.append(contact_id)


class _Node:
    """A voice node's routing half: outbox, router, log follower, and its calls."""

    def __init__(self, factory: sessionmaker[Session], name: str) -> None:
        self.factory = factory
        self.presence = VoicePresence(factory, VoiceNodeOptions(name, "hefei"), sip="")
        self.presence.register()
        self.outbox = NodeOutbox(self.presence)
        self.router = OwnerRouter(self.outbox, site_of_number=lambda number: None)
        self.sink = OutboxSink(self.outbox)
        self.center = _Calls()
        with factory() as session:
            self.position = event_log.last_seq(session)

    def caller(self, contact_id: str, number: str, queue: str = "installation") -> None:
        """A caller arrives (the node's own event) and joins ``queue`` after the IVR."""
        self.center.calls[contact_id] = SimpleNamespace(
            state=SimpleNamespace(phase=Phase.QUEUED, ringing_agent=None)
        )
        self.sink.append(
            Event(0, time.time(), EventKind.ARRIVED, contact_id, channel=VOICE,
                  data={"caller": number})
        )  # fmt: skip
        self.router.contact_queued(
            at=time.time(),
            contact_id=contact_id,
            queue=queue,
            priority=0,
            language="zh-CN",
            data={"caller": number, "ivr_choice": "1"},
        )

    def follow(self) -> list[object]:
        """Read the owner's log on from where this node left it; the phones it is told to
        ring (the other decisions — a waiting caller's position announced — aside)."""
        with self.factory() as session:
            events = event_log.events_after(session, after=self.position, limit=500)
        if events:
            self.position = events[-1].seq
        before = len(self.center.decisions)
        carry_out(self.center, self.outbox, events)  # type: ignore[arg-type]
        return [d for d in self.center.decisions[before:] if isinstance(d, RingAgent)]


class _Owner:
    """The partition owner's loop, one step at a time: the inbox applied, the log written."""

    def __init__(self, factory: sessionmaker[Session], *, resume: bool = False) -> None:
        self.factory = factory
        self.driver = LiveDriver(
            center=load_center(SAMPLE),
            session_factory=factory,
            honour_hours=False,
            flush_every_s=3600,
            resume=resume,
        )
        self.phones = VoicePhones()
        self.position = 0
        with factory() as session:
            rows = partitions.inbox_after(session, partition="hefei", position=0, limit=100_000)
            self.position = rows[-1].id if rows and resume else 0
            if resume:  # as PartitionNode does on taking over
                self.phones.seed(
                    voice_nodes.phone_registrations(
                        session, partition="hefei", position=self.position
                    )
                )

    async def step(self, *nodes: _Node) -> None:
        for node in nodes:
            await asyncio.to_thread(node.outbox.flush)
        with self.factory() as session:
            rows = list(partitions.inbox_after(session, partition="hefei", position=self.position))
            session.expunge_all()
        for row in rows:
            with contextlib.suppress(RoutingConflict):
                await apply_inbox_row(self.driver, row, self.phones)
            self.position = row.id
        await self.driver.flush()


def _live_log(factory: sessionmaker[Session]) -> list[Event]:
    with factory() as session:
        return event_log.events_after(session, after=0, limit=10_000)


def test_two_voice_nodes_route_through_the_owner_one_offer_at_a_time_and_a_loss_ends_in_its_engine(
    session_factory: sessionmaker[Session],
) -> None:
    """a001's phone is registered through both nodes; a caller on each. Only the owner's engine
    routes: one offer at a time (node A rings), the second caller waits until a001 is free and
    then node B rings. The nodes' own events are numbered by the owner: one rising log. Node B
    is lost with its call in progress: the owner ends it in its engine too, and frees a001."""
    a, b = _Node(session_factory, "voice-a"), _Node(session_factory, "voice-b")
    owner = _Owner(session_factory)
    lease = try_acquire(session_factory, partition="hefei", owner="owner", ttl_s=30.0)
    assert lease is not None
    watch = VoiceNodeWatch(session_factory, lease, every_s=0.0)
    owner.driver.persistence.before_write = lambda s, batch, mark: watch.before_write(s, batch)
    engine = owner.driver.engine

    async def scenario() -> None:
        await owner.driver.start()
        try:
            for node in (a, b):
                node.router.phone_registered(at=time.time(), agent_id="a001")
            await owner.step(a, b)
            assert engine.agent_state("a001") is AgentState.AVAILABLE
            signed_in = [e for e in _live_log(session_factory) if e.agent_id == "a001"]
            assert [e.data["state"] for e in signed_in] == ["available"], "logged in once"

            a.caller("v-a", "13800000101")
            b.caller("v-b", "13800000102")
            await owner.step(a, b)
            assert a.follow() == [RingAgent("v-a", "a001", 0.0)]
            assert b.follow() == [], "one offer at a time: the second caller waits"
            assert engine.contact_stage("v-b") == "waiting"
            assert owner.driver.attached["v-a"]["via"] == "phone"

            a.router.offer_answered(at=time.time(), contact_id="v-a", agent_id="a001")
            await owner.step(a)
            a.router.contact_ended(at=time.time(), contact_id="v-a")
            await owner.step(a)
            assert a.follow() == [] and b.follow() == []
            a.outbox.put("wrap_up_end", {"agent_id": "a001", "contact_id": "v-a"})  # the desk
            await owner.step(a)
            assert b.follow() == [RingAgent("v-b", "a001", 0.0)], "a001 free: B rings"
            assert a.follow() == [] and not a.outbox.carries("v-a"), "finished: leg closed"

            b.router.offer_answered(at=time.time(), contact_id="v-b", agent_id="a001")
            await owner.step(b)
            b.follow()
            await asyncio.to_thread(b.outbox.flush)  # the leg (talking) with the heartbeat
            with session_factory() as session:
                leg = session.get(VoiceLegRow, "v-b")
                assert leg is not None and (leg.agent_id, leg.stage) == ("a001", "talking")

            log = _live_log(session_factory)
            assert [e.seq for e in log] == list(range(1, len(log) + 1)), "one rising log"
            assert [e.kind.value for e in log if e.contact_id == "v-a"] == [
                "arrived", "queued", "offered", "answered", "disconnected",
                "wrap_up_ended", "finished",
            ]  # fmt: skip
            offers = [e.contact_id for e in log if e.kind is EventKind.OFFERED]
            assert offers == ["v-a", "v-b"]

            # Node B dies (its heartbeat lapses) with v-b in progress.
            voice_nodes.stopped(session_factory, b.presence.node_id)
            [lost] = await watch.claim()
            await owner.driver.run(lambda e, now: (None, close_lost(e, lost, now=now)))
            await owner.driver.flush()
            assert engine.contact_stage("v-b") is None, "ended in the owner's engine"
            assert engine.agent_state("a001") is AgentState.AVAILABLE
            tail = [
                (e.kind.value, e.contact_id or e.agent_id, e.data.get("reason"))
                for e in _live_log(session_factory)[len(log) :]
            ]
            assert tail == [
                ("disconnected", "v-b", "voice_node_lost"),
                ("finished", "v-b", "voice_node_lost"),
                ("agent_state", "a001", "voice_node_lost"),
                ("alarm", None, None),
            ]
            with pytest.raises(voice_nodes.NodeLost):
                b.outbox.flush()
        finally:
            await owner.driver.stop()

    asyncio.run(scenario())


def test_a_takeover_keeps_a_voice_call_and_the_node_carries_on_with_the_new_owner(
    session_factory: sessionmaker[Session],
) -> None:
    """The first owner dies with a001 talking to node A's caller; the next owner's engine has
    the call in a001's hands (never offered again), knows a001's phone is registered through
    both nodes, and node A's hang-up and the desk's wrap-up reach it through the inbox; the
    node follows its events on the same log."""
    a, b = _Node(session_factory, "voice-a"), _Node(session_factory, "voice-b")
    first = _Owner(session_factory)

    async def before() -> None:
        await first.driver.start()
        for node in (a, b):
            node.router.phone_registered(at=time.time(), agent_id="a001")
        a.caller("v-a", "13800000101")
        await first.step(a, b)
        assert a.follow() == [RingAgent("v-a", "a001", 0.0)]
        a.router.offer_answered(at=time.time(), contact_id="v-a", agent_id="a001")
        await first.step(a)
        await first.driver.flush()
        for task in first.driver._tasks:  # dies like kill -9: no stop()
            task.cancel()
        await asyncio.gather(*first.driver._tasks, return_exceptions=True)

    asyncio.run(before())
    second = _Owner(session_factory, resume=True)

    async def after() -> None:
        await second.driver.start()
        try:
            engine = second.driver.engine
            assert engine.agent_contacts("a001") == {"v-a": "talking"}
            # a001's phone leaves node B: still registered through node A, as the new owner
            # reads from the live nodes' rows, so a001 stays ready for the next call
            b.router.phone_unregistered(at=time.time(), agent_id="a001")
            await second.step(b)
            assert engine.agent_reason("a001") is None
            a.caller("v-a2", "13800000102")  # a second caller waits for a001
            await second.step(a)
            assert a.follow() == []
            a.router.contact_ended(at=time.time(), contact_id="v-a")
            a.outbox.put("wrap_up_end", {"agent_id": "a001", "contact_id": "v-a"})
            await second.step(a)
            assert a.follow() == [RingAgent("v-a2", "a001", 0.0)]
            log = _live_log(session_factory)
            assert [e.seq for e in log] == list(range(1, len(log) + 1))
            assert [e.kind.value for e in log if e.contact_id == "v-a"][-3:] == [
                "disconnected", "wrap_up_ended", "finished",
            ]  # fmt: skip
            assert [e.contact_id for e in log if e.kind is EventKind.OFFERED] == ["v-a", "v-a2"]
        finally:
            await second.driver.stop()

    asyncio.run(after())


def test_each_call_step_of_a_voice_node_is_an_inbox_row_the_owner_reads_as_its_command(
    session_factory: sessionmaker[Session],
) -> None:
    node = _Node(session_factory, "voice-a")
    node.router.site_of_number = lambda number: "hefei" if number else None
    router, at = node.router, 1.0
    router.contact_queued(
        at=at,
        contact_id="v-1",
        queue="repair",
        priority=3,
        language="en",
        data={"caller": "13800000101", "preferred_agent": "a002", "preferred_for_s": "30"},
    )
    router.offer_rejected(at=at, contact_id="v-1", agent_id="a001")
    router.offer_answered(at=at, contact_id="v-1", agent_id="a002")
    router.contact_held(at=at, contact_id="v-1")
    router.contact_resumed(at=at, contact_id="v-1")
    router.consult_started(at=at, contact_id="v-1", agent_id="a003")
    router.consult_ended(at=at, contact_id="v-1", transfer=False)
    router.transfer_to_queue(at=at, contact_id="v-1", queue="complaints")
    router.transfer_to_agent(at=at, contact_id="v-1", agent_id="a004")
    router.transfer_out(at=at, contact_id="v-1", number="13900000000")
    router.callback_requested(at=at, contact_id="v-2")
    router.contact_abandoned(at=at, contact_id="v-2")
    router.contact_ended(at=at, contact_id="v-1")
    router.hold_agent(at=at, agent_id="a005", reason="dialler")
    router.release_agent(at=at, agent_id="a005", phone=False)
    assert router.advance(at=at) == [] and not router.may_lend("a001")
    assert node.outbox.flush() == 15
    with session_factory() as session:
        rows = list(partitions.inbox_after(session, partition="hefei", position=0))
    assert [inbox_command(row, 9.0) for row in rows] == [
        ContactQueued(
            at=9.0, contact_id="v-1", queue="repair", channel=VOICE, priority=3, language="en",
            log_arrival=False, customer="13800000101", preferred_agent="a002",
            preferred_for_s=30.0, caller_site="hefei",
        ),
        OfferRejected(at=9.0, contact_id="v-1", agent_id="a001"),
        OfferAnswered(at=9.0, contact_id="v-1", agent_id="a002"),
        ContactHeld(at=9.0, contact_id="v-1"),
        ContactResumed(at=9.0, contact_id="v-1"),
        ConsultStarted(at=9.0, contact_id="v-1", agent_id="a003"),
        ConsultEnded(at=9.0, contact_id="v-1", transfer=False),
        TransferredToQueue(at=9.0, contact_id="v-1", queue="complaints"),
        TransferredToAgent(at=9.0, contact_id="v-1", agent_id="a004"),
        TransferredOut(at=9.0, contact_id="v-1", number="13900000000"),
        CallbackRequested(at=9.0, contact_id="v-2"),
        ContactAbandoned(at=9.0, contact_id="v-2"),
        ContactEnded(at=9.0, contact_id="v-1"),
        AgentNotReady(at=9.0, agent_id="a005", reason="dialler"),
        AgentNotReady(at=9.0, agent_id="a005", reason="phone_unregistered"),
    ]  # fmt: skip
    assert rows[0].payload["data"] == {
        "customer": "13800000101",
        "caller": "13800000101",
        "preferred_agent": "a002",
        "preferred_for_s": "30",
    }
