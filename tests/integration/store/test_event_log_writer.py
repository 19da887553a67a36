"""The contact event log's one writer: used by the live driver and the voice server alike.

:class:`hotline.store.event_log.EventLogWriter` keeps a running driver's events in order,
drops the oldest past its bound, keeps a failed batch ahead of newer events, and writes each
batch in one transaction queued at the process's writer gate for the SQLite file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event, EventKind
from hotline.store.db import make_engine, make_session_factory, write_gate
from hotline.store.event_log import EventLogWriter
from hotline.store.migrate import upgrade
from hotline.store.models.core import ContactEventRow
from hotline.telephony.event_store import DatabaseSink


def _event(seq: int) -> Event:
    return Event(seq=seq, at=float(seq), kind=EventKind.QUEUED, contact_id=f"c{seq}")


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _logged(factory: sessionmaker[Session]) -> list[int]:
    with factory() as session:
        return list(session.scalars(select(ContactEventRow.seq).order_by(ContactEventRow.id)))


def test_the_oldest_events_go_first_past_the_bound(factory: sessionmaker[Session]) -> None:
    writer = EventLogWriter(max_pending=3)
    assert writer.add([_event(1), _event(2)]) == 0
    assert writer.add([_event(3), _event(4), _event(5)]) == 2
    assert writer.flush(factory) == 3
    assert _logged(factory) == [3, 4, 5]
    assert writer.pending == 0 and writer.flush(factory) == 0


def test_a_failed_batch_stays_ahead_of_newer_events(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    broken = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    writer = EventLogWriter()
    writer.add([_event(1), _event(2)])
    with pytest.raises(OperationalError, match="no such table"):  # never migrated
        writer.flush(broken)
    writer.add([_event(3)])
    assert writer.flush(factory) == 3
    assert _logged(factory) == [1, 2, 3]


def test_the_voice_servers_sink_queues_at_the_writer_gate(
    factory: sessionmaker[Session],
) -> None:
    """The voice server's writes wait their turn behind the process's other writers (they
    used to begin their own transaction beside the queue, as the live driver's did not)."""
    sink = DatabaseSink(factory)
    sink.append(_event(1))
    gate = write_gate(factory.kw["bind"])
    assert gate is not None
    gate.acquire(timeout=5.0)  # another writer (a web request) holds the database
    flushed: list[int] = []
    flusher = threading.Thread(target=lambda: flushed.append(sink.flush()))
    try:
        flusher.start()
        flusher.join(0.5)
        assert flusher.is_alive() and _logged(factory) == []
    finally:
        gate.release()
    flusher.join(10.0)
    assert flushed == [1] and _logged(factory) == [1]
