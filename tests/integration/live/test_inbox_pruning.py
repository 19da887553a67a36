"""The partition inbox pruned, and where phones are registered kept compact (issue #20).

A voice node writes ``voice_phones`` in the transaction of its ``phone_registered`` /
``phone_unregistered`` rows; a new owner reads it (and only the inbox rows after its position)
instead of every such row of the inbox, and the owner deletes the rows it has applied once
they are old enough — never one above the lease's position. On SQLite and PostgreSQL, with
real :class:`PartitionNode` owners (a SQLite file, a fresh PostgreSQL database) for the
owner's loop and a takeover after pruning.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.live import ownership
from hotline.live.failover_drill import fresh_database
from hotline.live.ownership import PartitionNode
from hotline.live.voice_nodes import VoiceNodeWatch
from hotline.routing.model import AgentState
from hotline.store import partitions, voice_nodes
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.voice_nodes import VoicePhoneRow
from hotline.store.partitions import fence, prune_inbox, try_acquire
from hotline.telephony.owner_routing import NodeOutbox, OwnerRouter
from hotline.telephony.voice_node import VoiceNodeOptions, VoicePresence
from tests.conftest import postgres_url

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


class _Node:
    """A voice node's outbox and router (what writes the inbox and ``voice_phones``)."""

    def __init__(self, factory: sessionmaker[Session], name: str) -> None:
        options = VoiceNodeOptions(name, "hefei", heartbeat_s=60.0)  # alive for the test
        self.presence = VoicePresence(factory, options, sip="")
        self.presence.register()
        self.outbox = NodeOutbox(self.presence)
        self.router = OwnerRouter(self.outbox, site_of_number=lambda number: None)
        self.id = self.presence.node_id

    def phone(self, agent_id: str, *, registered: bool) -> int:
        """The agent's first phone here registers (or the last goes); its inbox row's id."""
        if registered:
            self.router.phone_registered(at=time.time(), agent_id=agent_id)
        else:
            self.router.phone_unregistered(at=time.time(), agent_id=agent_id)
        self.outbox.flush()
        with self.presence.session_factory() as session:
            return int(session.scalar(select(func.max(PartitionInboxRow.id))) or 0)


def _phones(factory: sessionmaker[Session]) -> set[tuple[str, str]]:
    with factory() as session:
        return {(r.node_id, r.agent_id) for r in session.scalars(select(VoicePhoneRow))}


def _at(factory: sessionmaker[Session], position: int) -> set[tuple[str, str]]:
    with factory() as session:
        got = voice_nodes.phone_registrations(session, partition="hefei", position=position)
    assert all(registered for _, _, registered in got)
    return {(agent, node) for agent, node, _ in got}


def test_phones_are_kept_compact_and_read_as_the_owner_had_applied_the_inbox(
    session_factory: sessionmaker[Session],
) -> None:
    a, b = _Node(session_factory, "voice-a"), _Node(session_factory, "voice-b")
    a.phone("a001", registered=True)
    a.phone("a002", registered=True)
    at_b = b.phone("a001", registered=True)
    gone = a.phone("a002", registered=False)
    again = a.phone("a002", registered=True)
    assert _phones(session_factory) == {(a.id, "a001"), (a.id, "a002"), (b.id, "a001")}
    everything = {("a001", a.id), ("a002", a.id), ("a001", b.id)}
    assert _at(session_factory, again) == everything
    # the owner applied up to a002's phone leaving node A: registered again only after it
    assert _at(session_factory, gone) == {("a001", a.id), ("a001", b.id)}
    # ... up to node B's registration: a002 still there (its leaving is not applied yet)
    assert _at(session_factory, at_b) == everything
    assert _at(session_factory, 0) == set()  # nothing applied: every row comes next

    # node A is lost: once the owner has written its loss, its phones are gone from the table
    voice_nodes.stopped(session_factory, a.id)
    lease = try_acquire(session_factory, partition="hefei", owner="owner", ttl_s=30.0)
    assert lease is not None
    watch = VoiceNodeWatch(session_factory, lease, every_s=0.0)
    lost = asyncio.run(watch.check(lambda event: None, time.time))
    assert [node.node_id for node in lost] == [a.id]
    assert _at(session_factory, again) == {("a001", b.id)}  # a lost run's phones left out
    with session_factory() as session:
        assert voice_nodes.mark_logged(session, a.id, [])
        session.commit()
    assert _phones(session_factory) == {(b.id, "a001")}


def test_pruning_deletes_only_rows_the_owner_applied_and_old_enough(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = try_acquire(session_factory, partition="hefei", owner="owner", ttl_s=30.0)
    assert lease is not None
    with session_factory() as session:
        saved = partitions.accept(  # a saved center file: a configured event names its row
            session, partition="hefei", kind="center", payload={"text": "x", "by": "root"}, at=99.0
        )
        old = [
            partitions.accept(session, partition="hefei", kind="agent_ready",
                              payload={"agent_id": f"a{n:03d}"}, at=100.0 + n)
            for n in range(6)
        ]  # fmt: skip
        recent = partitions.accept(
            session, partition="hefei", kind="agent_ready", payload={"agent_id": "x"}, at=1e12
        )
        other = partitions.accept(
            session, partition="wuhan", kind="agent_ready", payload={"agent_id": "y"}, at=100.0
        )
        session.commit()
    assert prune_inbox(session_factory, partition="hefei", before=1e11) == 0  # nothing applied

    with session_factory() as session:  # the owner applied every row so far
        fence(session, lease, inbox_position=recent)
        session.commit()
    assert prune_inbox(session_factory, partition="hefei", before=1e11, limit=4) == 4
    assert prune_inbox(session_factory, partition="hefei", before=1e11) == 2
    with session_factory() as session:
        left = set(session.scalars(select(PartitionInboxRow.id)))
    assert recent in left and other in left and not left & set(old)  # too recent; not its own
    assert saved in left  # read again after it was applied: web nodes starting later

    with session_factory() as session:  # a row the owner has not applied, however old
        late = partitions.accept(
            session, partition="hefei", kind="agent_ready", payload={"agent_id": "z"}, at=1.0
        )
        session.commit()
    assert prune_inbox(session_factory, partition="hefei", before=1e13) == 1  # ``recent``
    with session_factory() as session:  # then applied: the table's newest row stays (SQLite
        fence(session, lease, inbox_position=late)  # numbers a new row from the largest id:
        session.commit()  # an emptied table would give ids below the owner's position)
    assert prune_inbox(session_factory, partition="hefei", before=1e13) == 0
    with session_factory() as session:
        assert late in set(session.scalars(select(PartitionInboxRow.id)))
        after = partitions.accept(
            session, partition="hefei", kind="agent_ready", payload={"agent_id": "z"}, at=2.0
        )
        session.commit()
    assert after > late

    node = PartitionNode(
        center=load_center(SAMPLE), partition="hefei", name="n", session_factory=session_factory
    )
    with pytest.raises(ValueError, match="inbox_keep_s"):
        PartitionNode(
            center=load_center(SAMPLE),
            partition="hefei",
            name="n",
            session_factory=session_factory,
            inbox_keep_s=-1.0,
        )
    assert node.inbox_keep_s == 300.0
    # the owner's pruning takes a backlog a batch at a time until a batch comes back short
    with session_factory() as session:
        backlog = [
            partitions.accept(session, partition="hefei", kind="agent_ready",
                              payload={"agent_id": "b"}, at=3.0)
            for _ in range(5)
        ]  # fmt: skip
        fence(session, lease, inbox_position=backlog[-1])
        session.commit()
    monkeypatch.setattr(ownership, "PRUNE_BATCH", 2)
    asyncio.run(node._prune_inbox())
    assert node.stats.pruned == 6  # ``late``, ``after`` and the backlog but its newest row
    with session_factory() as session:
        assert list(session.scalars(select(PartitionInboxRow.id).where(
            PartitionInboxRow.partition == "hefei"))) == [saved, backlog[-1]]  # fmt: skip


async def _until(condition: Callable[[], bool], *, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@contextmanager
def _database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'hotline.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    server = postgres_url()
    if not server:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    with fresh_database(server) as url:
        yield url


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_owner_prunes_the_inbox_and_the_next_owner_knows_where_phones_are(
    backend: str, tmp_path: Path
) -> None:
    """A real owner's loop applies a voice node's rows and deletes them (keep 0 s); the next
    owner seeds from ``voice_phones``: a001's phone leaving node B keeps a001 ready (still
    reachable through node A, whose row the inbox no longer has), then leaving A too makes
    a001 not ready. On PostgreSQL the owner is woken by the inbox's NOTIFY."""
    with _database(backend, tmp_path) as url:
        _owners_prune_and_take_over(url)


def _owners_prune_and_take_over(url: str) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    center = load_center(SAMPLE)
    a, b = _Node(factory, "voice-a"), _Node(factory, "voice-b")

    def owner(name: str) -> PartitionNode:
        return PartitionNode(
            center=center,
            partition="hefei",
            name=name,
            session_factory=factory,
            lease_s=1.0,
            inbox_keep_s=0.0,
            prune_every_s=0.05,
        )

    def inbox() -> int:
        with factory() as session:
            return int(session.scalar(select(func.count(PartitionInboxRow.id))) or 0)

    async def term(node: PartitionNode, work: Callable[[], Awaitable[None]]) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(node.run(stop))
        try:
            await _until(lambda: node.lease is not None and bool(node.stats.restored))
            await work()
        finally:
            stop.set()
            await task

    first, second = owner("first"), owner("second")

    async def register() -> None:
        a.phone("a001", registered=True)
        b.phone("a001", registered=True)
        await _until(lambda: inbox() == 1 and first.stats.applied == 2)  # the newest stays
        assert first.driver is not None
        assert first.driver.engine.agent_state("a001") is AgentState.AVAILABLE

    async def leave() -> None:
        assert second.phones.nodes == {"a001": {a.id, b.id}}  # from voice_phones alone
        engine_ = second.driver.engine if second.driver else None
        assert engine_ is not None and engine_.agent_state("a001") is AgentState.AVAILABLE
        b.phone("a001", registered=False)
        await _until(lambda: second.stats.applied == 1)
        assert engine_.agent_state("a001") is AgentState.AVAILABLE
        assert engine_.agent_reason("a001") is None
        a.phone("a001", registered=False)
        await _until(lambda: second.stats.applied == 2)
        assert engine_.agent_state("a001") is AgentState.NOT_READY
        assert engine_.agent_reason("a001") == "phone_unregistered"
        await _until(lambda: inbox() == 1)

    try:
        asyncio.run(term(first, register))
        assert first.stats.pruned == 1
        asyncio.run(term(second, leave))
        assert second.stats.pruned == 2
        assert _phones(factory) == set()
    finally:
        engine.dispose()
