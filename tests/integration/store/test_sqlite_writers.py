"""SQLite concurrency: readers beside the live writer, and read-then-write transactions.

WAL lets readers run while the live event log commits several times a second. A deferred
transaction that reads, then writes after another connection committed, fails at once with
SQLITE_BUSY_SNAPSHOT; ``writing(session)`` begins it IMMEDIATE so it waits instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event, EventKind
from hotline.store.db import WriteGate, make_engine, make_session_factory, writing
from hotline.store.event_log import append
from hotline.store.migrate import upgrade
from hotline.store.models.core import ContactEventRow


def _event(seq: int) -> Event:
    return Event(seq=seq, at=float(seq), kind=EventKind.QUEUED, contact_id=f"c{seq}")


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _read_then_write(session: Session, other: Session) -> None:
    session.scalars(select(ContactEventRow)).all()  # the read takes a snapshot
    append(other, [_event(1)])
    other.commit()  # someone else commits in between (the live event log)
    append(session, [_event(2)])
    session.commit()


def test_deferred_read_then_write_fails_after_a_concurrent_commit(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, factory() as other, pytest.raises(OperationalError, match="locked"):
        _read_then_write(session, other)


def test_writing_session_holds_the_lock_and_the_other_writer_waits(
    factory: sessionmaker[Session],
) -> None:
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with factory() as other:
                append(other, [_event(1)])
                other.commit()  # blocks until the writing session commits, then succeeds
        except BaseException as error:
            errors.append(error)

    with factory() as session:
        writing(session)
        session.scalars(select(ContactEventRow)).all()
        thread = threading.Thread(target=other_writer)
        thread.start()
        time.sleep(0.2)  # the other writer is now waiting on the lock
        append(session, [_event(2)])
        session.commit()
    thread.join(timeout=10)
    assert errors == []
    with factory() as reader:
        assert sorted(row.seq for row in reader.scalars(select(ContactEventRow))) == [1, 2]


def test_gate_serves_writers_in_arrival_order_across_threads() -> None:
    gate = WriteGate()
    gate.acquire()
    order: list[int] = []

    def writer(i: int) -> None:
        gate.acquire(timeout=10)
        order.append(i)
        gate.release()

    threads = []
    for i in range(5):
        thread = threading.Thread(target=writer, args=(i,))
        thread.start()
        threads.append(thread)
        while gate.waiting < i + 1:  # queued before the next one starts
            time.sleep(0.001)
    gate.release()
    for thread in threads:
        thread.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    assert gate.waiting == 0
