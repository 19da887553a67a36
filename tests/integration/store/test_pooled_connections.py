"""PostgreSQL connections the server ended are never handed to a request, at no round trip.

The pool used to send ``SELECT 1`` before every checkout (``pool_pre_ping``): one more round
trip per request. Now the checkout looks at the socket (``store.db``): a pooled connection
has nothing to read unless the server ended its backend (a restart, an administrator's
``pg_terminate_backend``, ``idle_session_timeout``). These tests end every backend the app's
pool holds between two requests — what a restart does to a running server, without pulling
the test server from under the other test workers — and see no failed request; and they read
libpq's protocol trace to see that a checkout sends the server nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from psycopg import pq
from sqlalchemy import Engine, text

from hotline.core.settings import Settings
from hotline.live.failover_drill import fresh_database
from hotline.store.db import make_engine, make_session_factory
from hotline.web.app import create_app


@pytest.fixture
def engine(postgres_engine: Engine) -> Iterator[Engine]:
    """A server-like engine with its own pool, on the migrated test database."""
    own = make_engine(postgres_engine.url.render_as_string(hide_password=False))
    yield own
    own.dispose()


def _end_backends(admin: Engine, pids: set[int]) -> None:
    """End the backends ``pids`` as a restart would, and wait until they are gone."""
    with admin.connect() as connection:
        for pid in pids:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        while connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"),
            {"pids": sorted(pids)},
        ).scalar_one():
            connection.commit()  # a fresh snapshot of pg_stat_activity for the next look


def _backend_pids(engine: Engine, how_many: int) -> set[int]:
    """Check out ``how_many`` pooled connections at once; their server process ids."""
    connections = [engine.connect() for _ in range(how_many)]
    try:
        return {int(c.execute(text("SELECT pg_backend_pid()")).scalar_one()) for c in connections}
    finally:
        for connection in connections:
            connection.close()


def test_no_request_fails_when_the_server_ended_the_pooled_connections(
    engine: Engine, postgres_engine: Engine, tmp_path: Path
) -> None:
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"),
        session_factory=make_session_factory(engine),
    )
    with TestClient(app) as client:
        assert client.get("/ready").status_code == 200  # /ready writes: a real transaction
        pooled = _backend_pids(engine, 3)
        _end_backends(postgres_engine, pooled)
        answers = [client.get("/ready") for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert _backend_pids(engine, 3).isdisjoint(pooled)  # the pool opened fresh ones


def test_a_checkout_sends_the_server_nothing(engine: Engine, tmp_path: Path) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        raw = connection.connection.dbapi_connection
        assert raw is not None
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as sink:
        raw.pgconn.trace(sink.fileno())
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            for _ in range(3):
                with engine.connect() as connection:
                    assert connection.connection.dbapi_connection is raw  # the same, pooled
        finally:
            raw.pgconn.untrace()
    sent = [line for line in trace.read_text().splitlines() if line.split("\t")[0] == "F"]
    assert sent == [], f"a checkout sent the server {sent}"


def test_a_request_while_no_server_takes_connections_gets_503_then_is_served(
    postgres_engine: Engine, tmp_path: Path
) -> None:
    # A primary killed and its standby not yet promoted, played on the test server: the
    # app's database refuses new connections and its pooled ones are ended.
    with fresh_database(postgres_engine.url.render_as_string(hide_password=False)) as url:
        engine = make_engine(url)
        name = engine.url.database
        app = create_app(
            settings=Settings(home=tmp_path, secret_key="test-secret"),
            session_factory=make_session_factory(engine),
        )
        login = {"username": "nobody", "password": "not-the-password-9"}
        try:
            with TestClient(app, raise_server_exceptions=False) as client:
                pooled = _backend_pids(engine, 3)
                with postgres_engine.connect() as admin:
                    admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                    admin.commit()
                _end_backends(postgres_engine, pooled)
                refused = client.post("/api/auth/login", json=login)
                with postgres_engine.connect() as admin:
                    admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
                    admin.commit()
                served = client.post("/api/auth/login", json=login)
        finally:
            engine.dispose()
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "database_unavailable"
    assert refused.headers["Retry-After"] == "2"
    assert served.status_code == 401, served.text  # served again: a wrong password
