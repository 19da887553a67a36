"""Partition leases and fencing, on SQLite and on a real PostgreSQL (issue #20).

A lease is taken only once it lapsed on the database's clock; each change of hands raises the
epoch; renewal and every fenced write are refused to an epoch that is no longer the lease's,
and a refused batch writes nothing. On PostgreSQL a takeover racing an owner's batch waits for
it to commit (the new owner then reads it) instead of slipping in under it.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event, EventKind
from hotline.live.failover_drill import fresh_database
from hotline.store import partitions
from hotline.store.db import make_engine, make_session_factory, writing
from hotline.store.event_log import EventLogWriter
from hotline.store.migrate import upgrade
from hotline.store.models.cluster import PartitionWrite
from hotline.store.models.core import ContactEventRow
from hotline.store.partitions import Fenced
from tests.conftest import postgres_url


def _events(session: Session, contact: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ContactEventRow)
            .where(ContactEventRow.contact_id == contact)
        )
        or 0
    )


@pytest.fixture(params=["sqlite", "postgres"])
def committing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A database of its own that really commits: an owner's transaction that stays open (as
    the rolled-back fixture's does) is ended by PostgreSQL after half a lease."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/leases.db")
        upgrade(engine)
        yield make_session_factory(engine)
        engine.dispose()
        return
    url = postgres_url()
    if not url:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    with fresh_database(url) as database_url:
        engine = make_engine(database_url)
        yield make_session_factory(engine)
        engine.dispose()


def test_a_lease_changes_hands_only_when_it_lapsed_and_the_old_epoch_cannot_write(
    committing: sessionmaker[Session],
) -> None:
    session_factory = committing
    db_session = committing()
    a = partitions.try_acquire(session_factory, partition="p1", owner="a", ttl_s=0.3)
    assert a is not None and a.epoch == 1 and a.inbox_position == 0
    assert partitions.try_acquire(session_factory, partition="p1", owner="b", ttl_s=0.3) is None
    assert partitions.renew(session_factory, a)

    writer = EventLogWriter(source="live")
    writer.add([Event(1, 1.0, EventKind.QUEUED, "before", queue="repair")])
    writer.set_mark(7)
    assert writer.flush(session_factory, before=partitions.fenced_writer(a)) == 1

    time.sleep(0.4)  # a is paused past its lease
    b = partitions.try_acquire(session_factory, partition="p1", owner="b", ttl_s=5.0)
    assert b is not None and b.epoch == 2
    assert b.inbox_position == 7  # b continues after what a wrote

    writer.add([Event(2, 2.0, EventKind.QUEUED, "after", queue="repair")])
    writer.set_mark(9)
    with pytest.raises(Fenced, match="epoch 1 of 'a' is no longer"):
        writer.flush(session_factory, before=partitions.fenced_writer(a))
    assert _events(db_session, "after") == 0 and _events(db_session, "before") == 1
    assert not partitions.renew(session_factory, a)
    lease = partitions.current(db_session, "p1")
    assert lease is not None and (lease.owner, lease.epoch, lease.inbox_position) == ("b", 2, 7)
    writes = db_session.execute(
        select(PartitionWrite.epoch, PartitionWrite.owner, PartitionWrite.inbox_position).where(
            PartitionWrite.partition == "p1"
        )
    ).all()
    assert [tuple(w) for w in writes] == [(1, "a", 7)]


def test_a_lapsed_lease_nobody_took_is_renewed_and_a_released_one_is_taken_at_once(
    committing: sessionmaker[Session],
) -> None:
    session_factory = committing
    a = partitions.try_acquire(session_factory, partition="p2", owner="a", ttl_s=0.1)
    assert a is not None
    time.sleep(0.2)
    assert partitions.renew(session_factory, a)  # nobody wrote in between: still a's
    assert partitions.release(session_factory, a)
    b = partitions.try_acquire(session_factory, partition="p2", owner="b", ttl_s=5.0)
    assert b is not None and b.epoch == a.epoch + 1


def test_inbox_rows_come_back_in_order_after_a_position(db_session: Session) -> None:
    ids = [
        partitions.accept(db_session, partition="p3", kind="contact", payload={"n": n}, at=0.0)
        for n in range(3)
    ]
    partitions.accept(db_session, partition="other", kind="contact", payload={}, at=0.0)
    rows = partitions.inbox_after(db_session, partition="p3", position=ids[0])
    assert [r.payload["n"] for r in rows] == [1, 2]
    with pytest.raises(ValueError, match="inbox kind 'shout' is not one of"):
        partitions.accept(db_session, partition="p3", kind="shout", payload={}, at=0.0)


def test_on_postgresql_a_takeover_waits_for_the_owners_batch_to_commit(
    postgres_engine: Engine,
) -> None:
    factory = make_session_factory(postgres_engine)
    a = partitions.try_acquire(factory, partition="race", owner="a", ttl_s=0.2)
    assert a is not None
    time.sleep(0.3)  # lapsed: a takeover may begin
    owner = writing(factory())
    # holds the lease row until commit (a busy owner: the server would end a session idle in
    # its transaction for half of this lease, 1.5 s)
    partitions.fence(owner, replace(a, ttl_s=3.0), inbox_position=1)
    taken: list[partitions.Lease | None] = []
    thread = threading.Thread(
        target=lambda: taken.append(
            partitions.try_acquire(factory, partition="race", owner="b", ttl_s=5.0)
        )
    )
    thread.start()
    thread.join(0.5)
    assert thread.is_alive(), "the takeover must wait for the owner's transaction"
    owner.commit()
    owner.close()
    thread.join(5)
    assert taken and taken[0] is not None
    assert taken[0].epoch == 2 and taken[0].inbox_position == 1  # it saw a's batch
    with factory() as late, pytest.raises(Fenced):
        partitions.fence(late, a, inbox_position=2)


def test_flushes_from_two_threads_commit_in_the_order_their_batches_were_taken(
    tmp_path: Path,
) -> None:
    # The owner flushes after applying inbox rows while its writer task flushes on a timer:
    # a later batch committed first would put the log out of order and move the recorded
    # inbox position back (a takeover would then apply rows twice).
    engine = make_engine(f"sqlite:///{tmp_path}/order.db")
    upgrade(engine)
    factory = make_session_factory(engine)
    opened = itertools.count()

    def slow_first(**kw: object) -> Session:
        if next(opened) == 0:
            time.sleep(0.3)  # the first flush is slow to reach the database
        return factory()

    marks: list[int] = []
    writer = EventLogWriter(source="live")
    writer.add([Event(1, 1.0, EventKind.QUEUED, "first", queue="repair")])
    writer.set_mark(1)
    slow = cast(sessionmaker[Session], slow_first)
    one = threading.Thread(
        target=writer.flush, args=(slow,), kwargs={"before": lambda s, b, m: marks.append(m)}
    )
    one.start()
    time.sleep(0.1)
    writer.add([Event(2, 2.0, EventKind.QUEUED, "second", queue="repair")])
    writer.set_mark(2)
    writer.flush(slow, before=lambda s, b, m: marks.append(m))
    one.join()
    assert marks == [1, 2]
    with factory() as session:
        order = session.scalars(select(ContactEventRow.contact_id).order_by(ContactEventRow.id))
        assert list(order) == ["first", "second"]
    engine.dispose()


def test_on_postgresql_an_owner_stopped_inside_its_transaction_does_not_block_a_takeover(
    postgres_engine: Engine,
) -> None:
    factory = make_session_factory(postgres_engine)
    a = partitions.try_acquire(factory, partition="frozen", owner="a", ttl_s=0.4)
    assert a is not None
    owner = writing(factory())
    partitions.fence(owner, a, inbox_position=1)  # ...and the process is stopped right here
    time.sleep(0.5)  # lapsed
    started = time.monotonic()
    b = partitions.try_acquire(factory, partition="frozen", owner="b", ttl_s=5.0)
    assert b is not None and b.epoch == a.epoch + 1
    assert time.monotonic() - started < 1.0
    with pytest.raises(DBAPIError, match="idle-in-transaction timeout"):  # it wakes up: ended
        owner.commit()
    owner.close()
