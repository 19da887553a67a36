"""A database URL naming several hosts (a primary and its standby, issue #20), on a real server.

libpq's spelling, ``u@h1:p1,h2:p2/db?target_session_attrs=read-write``, is what an operator
writes in ``HOTLINE_DATABASE_URL``; the engine, the LISTEN connection and ``pg_dump`` each
take it. Here the first host is a port nobody listens on (a dead primary) and the second the
test server, so every connection must pass over the first to reach the second.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from hotline.live.failover_drill import accept, fresh_database
from hotline.store import notify
from hotline.store.backup import backup
from hotline.store.db import libpq_url, make_engine, make_session_factory, sqlalchemy_url
from hotline.store.pg_cluster import free_port
from tests.conftest import postgres_url


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """A migrated database of its own (these tests commit), named behind a dead host."""
    server = postgres_url()
    if not server:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    with fresh_database(server) as database_url:
        live = make_url(database_url)
        yield (
            f"postgresql+psycopg://{live.username}@127.0.0.1:{free_port()},"
            f"{live.host}:{live.port}/{live.database}?target_session_attrs=read-write"
        )


def test_the_engine_passes_a_dead_host_and_writes_on_the_live_one(url: str) -> None:
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        row = accept(factory, partition="hefei", kind="contact", payload={"contact_id": "M-1"})
        with engine.connect() as connection:
            port = connection.execute(text("SELECT inet_server_port()")).scalar_one()
        assert row > 0
        assert port == int(url.split(",")[1].split("/", maxsplit=1)[0].split(":")[1])
    finally:
        engine.dispose()


def test_a_listener_on_the_url_hears_a_commit_and_outlives_its_server_ending_it(
    url: str,
) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    woken = notify.listener(engine, notify.INBOX)
    assert woken is not None
    try:
        accept(factory, partition="hefei", kind="contact", payload={"contact_id": "M-2"})
        assert woken.wait(5.0) == ["hefei"]
        # The server ends the listening session (as a dying primary does): the next wait
        # waits out its timeout instead of raising, and the one after listens again.
        connection = woken._connection
        assert connection is not None
        with engine.connect() as admin:
            admin.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.info.backend_pid}
            )
            admin.commit()
        assert woken.wait(0.5) == []
        assert woken.wait(0.1) == []  # reconnected, nothing sent yet
        accept(factory, partition="hefei", kind="contact", payload={"contact_id": "M-3"})
        assert woken.wait(5.0) == ["hefei"]
    finally:
        woken.close()
        engine.dispose()


def test_pg_dump_takes_the_url(url: str, tmp_path: Path) -> None:
    result = backup(url, tmp_path / "hotline.dump")
    assert result.kind == "postgresql" and result.tables > 10


def test_the_url_spellings_convert_both_ways_and_an_empty_host_is_refused() -> None:
    libpq = "postgresql+psycopg://u@a:1,b:2/db?target_session_attrs=read-write"
    spelled = sqlalchemy_url(libpq)
    assert make_url(spelled).query["host"] == ("a:1", "b:2")
    assert libpq_url(spelled) == "postgresql://u@a:1,b:2/db?target_session_attrs=read-write"
    assert sqlalchemy_url("postgresql+psycopg://u@a:1/db") == "postgresql+psycopg://u@a:1/db"
    with pytest.raises(ValueError, match="an empty host"):
        sqlalchemy_url("postgresql+psycopg://u@a:1,/db")
