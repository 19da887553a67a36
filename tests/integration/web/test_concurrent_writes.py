"""Many writers at once through the real app on a SQLite file: they queue, none fails.

Before the writer queue, each write request took SQLite's lock in a worker thread at its
first dependency and then needed more worker threads to finish (sign-in check, handler,
commit). With more writers than the 40 worker threads, every thread sat polling for the lock
while its holder waited for a thread: after ``busy_timeout`` (5 s) they failed with
"database is locked" 500s. Now writers wait on the event loop, in order, holding no thread.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory, session_scope, write_gate
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.store.models.tickets import Ticket
from hotline.web.app import create_app
from tests.integration.web.conftest import PASSWORD, SAMPLE

# More writers at once than the web server's 40 worker threads.
WRITERS = 60


@pytest.fixture
def file_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated SQLite file with an agent and a supervisor (real commits, no rollback)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    digest = hash_password(PASSWORD)
    with session_scope(factory) as session:
        for name, roles, agent in (("a001", ["agent"], "a001"), ("boss", ["supervisor"], None)):
            session.add(
                User(
                    username=name,
                    display_name=name,
                    password_hash=digest,
                    roles=roles,
                    agent_id=agent,
                    language="en",
                    active=True,
                )
            )
    yield factory
    engine.dispose()


def test_sixty_concurrent_ticket_creations_all_succeed(
    file_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=file_factory, center=load_center(SAMPLE))
    with TestClient(app) as client:
        login = client.post("/api/auth/login", json={"username": "a001", "password": PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        start = threading.Barrier(WRITERS)

        def create(i: int) -> tuple[int, str]:
            start.wait(timeout=30)
            response = client.post(
                "/api/tickets",
                json={"type": "inquiry", "subject": f"concurrent {i}", "queue": "installation"},
                headers=headers,
            )
            return response.status_code, response.text[:200]

        started = time.monotonic()
        with ThreadPoolExecutor(WRITERS) as pool:
            answers = list(pool.map(create, range(WRITERS)))
        elapsed = time.monotonic() - started
        # Reads go on meanwhile and afterwards; the list shows every ticket.
        listed = client.get("/api/tickets", params={"limit": 1000}, headers=headers)

    failed = [a for a in answers if a[0] != 201]
    assert failed == [], f"{len(failed)} of {WRITERS} failed, e.g. {failed[:3]}"
    assert elapsed < 30, f"{WRITERS} small writes took {elapsed:.1f} s"
    with file_factory() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == WRITERS
    assert len(listed.json()) == WRITERS


def test_a_writer_stuck_past_the_queue_limit_gets_503_not_500(
    file_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.store import db

    monkeypatch.setattr(db, "GATE_WAIT_S", 0.3)
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=file_factory, center=load_center(SAMPLE))
    with TestClient(app) as client:
        login = client.post("/api/auth/login", json={"username": "a001", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        body = {"type": "inquiry", "subject": "stuck", "queue": "installation"}
        gate = db.write_gate(file_factory.kw["bind"])
        assert gate is not None
        gate.acquire()  # a writer that never finishes
        try:
            refused = client.post("/api/tickets", json=body, headers=headers)
            # Reads never queue behind writers.
            assert client.get("/api/tickets", headers=headers).status_code == 200
        finally:
            gate.release()
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "5"
        assert client.post("/api/tickets", json=body, headers=headers).status_code == 201


def test_a_contact_file_is_parsed_with_no_write_lock_held(
    file_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing a big contact-record upload takes seconds; other writers must go on meanwhile."""
    from hotline.metrics.importer import read_contact_records as parse
    from hotline.web.api import reports

    database = str(file_factory.kw["bind"].url.database)
    others: list[str] = []

    def parse_while_another_writer_writes(*args: Any, **kwargs: Any) -> Any:
        other = sqlite3.connect(database, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails with "database is locked" if held
            other.execute("ROLLBACK")
            others.append("wrote")
        except sqlite3.OperationalError as error:
            others.append(str(error))
        finally:
            other.close()
        return parse(*args, **kwargs)

    monkeypatch.setattr(reports, "read_contact_records", parse_while_another_writer_writes)
    with session_scope(file_factory) as session:
        session.add(
            User(
                username="planner",
                display_name="planner",
                password_hash=hash_password(PASSWORD),
                roles=["wfm"],
                agent_id=None,
                language="en",
                active=True,
            )
        )
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=file_factory, center=load_center(SAMPLE))
    csv = (
        "contact_id,queue,arrived_at,queued_at,answered_at,abandoned_at,agent,talk_s,outcome\n"
        "c1,vip,2026-03-02T08:00:00,2026-03-02T08:00:00,2026-03-02T08:00:04,,a001,100,answered\n"
    )
    with TestClient(app) as client:
        login = client.post("/api/auth/login", json={"username": "planner", "password": PASSWORD})
        response = client.post(
            "/api/reports/contacts",
            headers={"Authorization": f"Bearer {login.json()['token']}"},
            files={"file": ("march.csv", csv.encode(), "text/csv")},
            data={"source": "march"},
        )
    assert response.status_code == 202, response.text
    assert others == ["wrote"]


def test_password_changes_hash_outside_the_writer_turn(
    file_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Argon2 takes a fifth of a second: hashed inside a write transaction, every other
    writer of the center would wait for it. Both the own-password change and the admin's
    reset hash first, then take their turn."""
    import hotline.web.api.platform as platform_api

    with session_scope(file_factory) as session:
        session.add(
            User(
                username="root",
                display_name="root",
                password_hash=hash_password(PASSWORD),
                roles=["admin"],
                agent_id=None,
                language="en",
                active=True,
            )
        )
    gate = write_gate(file_factory.kw["bind"])
    assert gate is not None
    held_while_hashing: list[bool] = []

    def hash_and_look(password: str) -> str:
        held_while_hashing.append(gate.held)
        return hash_password(password)

    monkeypatch.setattr(platform_api, "hash_password", hash_and_look)
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=file_factory, center=load_center(SAMPLE))
    with TestClient(app) as client:
        root = client.post("/api/auth/login", json={"username": "root", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {root.json()['token']}"}
        reset = client.post(
            "/api/users/a001/password", json={"password": "brand-new-pass-7"}, headers=headers
        )
        assert reset.status_code == 204, reset.text
        weak = client.post(
            "/api/users/a001/password", json={"password": "password"}, headers=headers
        )
        assert weak.status_code == 422
        assert weak.json()["problems"][0]["field"] == "body.password"
        own = client.post(
            "/api/auth/password",
            json={"current_password": PASSWORD, "new_password": "another-long-pass-3"},
            headers=headers,
        )
        assert own.status_code == 204, own.text
        again = client.post(
            "/api/auth/login", json={"username": "a001", "password": "brand-new-pass-7"}
        )
        assert again.status_code == 200
    assert held_while_hashing == [False, False]
