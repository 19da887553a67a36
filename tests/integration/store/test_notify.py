"""Wake-ups between nodes through PostgreSQL LISTEN/NOTIFY, on the real server (issue #20).

An accepted inbox row wakes a listener only once it commits; an owner's batch of events wakes
the desks' listener when it commits, and a batch refused by the fencing check wakes no one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from hotline.core.events import Event, EventKind
from hotline.live.failover_drill import fresh_database
from hotline.store import notify, partitions
from hotline.store.db import make_engine, make_session_factory, writing
from hotline.store.event_log import EventLogWriter
from hotline.store.partitions import Fenced
from tests.conftest import postgres_url


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A database of its own: these tests commit, and a committed contact would show in the
    other tests' logs as one left open."""
    url = postgres_url()
    if not url:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    with fresh_database(url) as database_url:
        engine = make_engine(database_url)
        yield engine
        engine.dispose()


def test_an_inbox_row_wakes_the_owner_when_it_commits_not_before(engine: Engine) -> None:
    factory = make_session_factory(engine)
    woken = notify.listener(engine, notify.INBOX)
    assert woken is not None
    with woken:
        session = writing(factory())
        partitions.accept(session, partition="n1", kind="contact", payload={}, at=0.0)
        assert woken.wait(0.2) == []  # not yet committed
        session.commit()
        session.close()
        assert woken.wait(2.0) == ["n1"]


def test_a_batch_wakes_the_desks_and_a_fenced_one_wakes_no_one(engine: Engine) -> None:
    factory = make_session_factory(engine)
    old = partitions.try_acquire(factory, partition="n2", owner="a", ttl_s=0.2)
    assert old is not None
    woken = notify.listener(engine, notify.EVENTS)
    assert woken is not None
    with woken:
        time.sleep(0.3)
        new = partitions.try_acquire(factory, partition="n2", owner="b", ttl_s=5.0)
        assert new is not None
        stale = EventLogWriter(source="live")
        stale.add([Event(1, 1.0, EventKind.QUEUED, "n2-late", queue="repair")])
        with pytest.raises(Fenced):
            stale.flush(factory, before=partitions.fenced_writer(old))
        assert woken.wait(0.3) == []
        fresh = EventLogWriter(source="live")
        fresh.add([Event(2, 2.0, EventKind.QUEUED, "n2-new", queue="repair")])
        assert fresh.flush(factory, before=partitions.fenced_writer(new)) == 1
        [payload] = woken.wait(2.0)
        assert json.loads(payload) == {"partition": "n2", "epoch": new.epoch}


def test_sqlite_has_no_listener(sqlite_engine: Engine) -> None:
    assert notify.listener(sqlite_engine, notify.INBOX) is None
