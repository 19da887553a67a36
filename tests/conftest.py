"""Shared fixtures: databases on SQLite and on a real PostgreSQL, each test rolled back.

``make test`` starts a throwaway PostgreSQL and sets ``HOTLINE_TEST_POSTGRES_URL`` and
``HOTLINE_REQUIRE_POSTGRES=1``; then a missing server is a failure, not a skip. Run without
them (a quick local run), the PostgreSQL half is skipped and says so.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from hotline.identity import passwords
from hotline.store.db import make_engine
from hotline.store.migrate import upgrade
from tests.shared_connection import GATE, BaseSession, ConnectionGate, FlowPolicy, GatedSession

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
BACKENDS = ("sqlite", "postgres")
#: The product's password hasher (Argon2id, 64 MiB, 3 passes, 4 lanes), kept for the test that
#: pins its parameters (tests/unit/identity/test_identity.py).
PRODUCT_HASHER = passwords._hasher


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, give each worker its own PostgreSQL database; give the tests'
    event loops' tasks flows (see below).

    The session fixtures drop and recreate the ``public`` schema; two workers on one database
    would pull it from under each other. The worker's database is made fresh here, and the
    environment variable is rewritten, so every consumer (fixtures, subprocess servers,
    ``pg_dump``) reaches the worker's own.
    """
    # Every task of the tests' event loops (the TestClient's portal) runs in a flow of its
    # own, which the shared connection's gate tells apart (tests/shared_connection.py).
    asyncio.set_event_loop_policy(FlowPolicy())
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
    if worker and url:
        os.environ["HOTLINE_TEST_POSTGRES_URL"] = _fresh_worker_database(url, worker)


def _fresh_worker_database(url: str, worker: str) -> str:
    """Create (or recreate) ``<database>_<worker>`` on the test server; return its URL."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> Iterator[None]:
    """Test users' passwords are hashed with Argon2id at its cheapest cost parameters.

    Argon2 verifies with the parameters written in the hash, so with the product's every
    sign-in of the suite (hundreds: most API and page tests sign in one user per role) spent
    a 64 MiB, 3-pass computation, about 0.1-0.2 CPU-seconds, on a CPU-bound suite. The code
    path is the product's (Argon2id through ``hotline.identity.passwords``), only the cost
    differs; the product's own parameters are pinned by a unit test with its real hasher.
    Servers run as subprocesses (``hotline demo``, ``hotline serve``) keep the product's.
    """
    patch = pytest.MonkeyPatch()
    patch.setattr(passwords, "_hasher", PasswordHasher.from_parameters(CHEAPEST))
    yield
    patch.undo()


def postgres_url() -> str | None:
    """The test server's URL, or None (PostgreSQL tests then skip; under make test they fail)."""
    url = os.environ.get("HOTLINE_TEST_POSTGRES_URL")
    if not url and os.environ.get("HOTLINE_REQUIRE_POSTGRES") == "1":
        pytest.fail("HOTLINE_REQUIRE_POSTGRES=1 but HOTLINE_TEST_POSTGRES_URL is not set")
    return url


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated SQLite file database shared by the test session."""
    path = tmp_path_factory.mktemp("db") / "hotline.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """A migrated database on the real PostgreSQL test server (fresh schema per session)."""
    url = postgres_url()
    if not url:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated engine, once per backend (the test runs on SQLite and on PostgreSQL)."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Code under test may call ``commit()``: it commits a savepoint, not the outer transaction.
    The connection's sessions take their turns at it (``tests/shared_connection.py``).
    """
    connection = db_engine.connect()
    outer = connection.begin()
    session = BaseSession(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={GATE: ConnectionGate()},
    )
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def session_factory(db_session: Session) -> sessionmaker[Session]:
    """A factory whose sessions all share the test's rolled-back connection.

    A session's transaction holds the connection from its begin to its end, so two threads'
    savepoints never interleave (``tests/shared_connection.py``).
    """
    return sessionmaker(
        bind=db_session.connection(),
        class_=GatedSession,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={GATE: db_session.info[GATE]},
    )
