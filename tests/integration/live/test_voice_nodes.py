"""Voice nodes known to the partition owner (issue #20), on SQLite and PostgreSQL.

A voice node writes its events with the contacts it carries (``voice_legs``) and its heartbeat
in the same transaction; once the heartbeat lapses, the partition owner claims the node in a
fenced transaction and its log gets, once, the ends of those contacts (``interrupted``,
reason ``voice_node_lost``), the node's agents freed, and one alarm. A node declared lost is
refused its next heartbeat and write; an owner whose lease moved on claims nothing.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind
from hotline.live.takeover import read_state
from hotline.live.voice_nodes import VoiceNodeWatch
from hotline.store import voice_nodes
from hotline.store.event_log import EventLogWriter
from hotline.store.models.core import ContactEventRow
from hotline.store.models.voice_nodes import VoiceLegRow, VoiceNodeRow
from hotline.store.partitions import Fenced, release, try_acquire
from hotline.telephony.event_store import DatabaseSink
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


def test_a_new_owner_leaves_a_voice_nodes_calls_to_it(
    session_factory: sessionmaker[Session],
) -> None:
    """A takeover folds the log's open contacts into the new owner's engine, except the calls
    a live voice node carries: its own engine routes them, its loss ends them."""
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
    assert [c.contact_id for c in state.waiting + state.in_hand] == ["L-1"]
