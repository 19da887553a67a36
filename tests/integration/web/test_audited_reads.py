"""GET requests that write the audit log (a playback) queue as writers on SQLite.

A GET takes no place in the writer queue. Before, the playback route wrote its audit entry
in the GET's own deferred transaction anyway: it read (the session, the recording), then
asked SQLite for the write lock while another writer held it, and when that writer committed
its snapshot was stale — "database is locked", a 500 for a user who only pressed play. Now
the route's session queues as a writer (``web.auth.writer_session``), and a reading session
that writes at all is refused (``store.db.reading``), so no other GET can do it again.
"""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import (
    ReaderWrote,
    make_engine,
    make_session_factory,
    reading,
    session_scope,
    write_gate,
    writing,
)
from hotline.store.migrate import upgrade
from hotline.store.models.core import AuditEntry, User
from hotline.store.models.telephony import Recording
from hotline.web.app import create_app
from tests.integration.web.conftest import PASSWORD, SAMPLE


@pytest.fixture
def file_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated SQLite file with a QA user and one recording on disk (real commits)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    audio = tmp_path / "v-abc.wav"
    with wave.open(str(audio), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.zeros(800, dtype="<i2").tobytes())
    with session_scope(factory) as session:
        session.add(
            User(
                username="qa",
                display_name="qa",
                password_hash=hash_password(PASSWORD),
                roles=["qa"],
                agent_id=None,
                language="en",
                active=True,
            )
        )
        session.add(
            Recording(
                contact_id="v-abc",
                agent_id="a001",
                queue="repair",
                path=str(audio),
                media_type="audio/wav",
                seconds=0.1,
                channels=["caller"],
                recorded_at=1772416800.0,
            )
        )
    yield factory
    engine.dispose()


def test_a_playback_while_another_writer_commits_is_served_and_audited(
    file_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=file_factory, center=load_center(SAMPLE))
    with TestClient(app, raise_server_exceptions=False) as client:
        login = client.post("/api/auth/login", json={"username": "qa", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        with file_factory() as session:
            recording_id = session.scalars(select(Recording.id)).one()
        holding = threading.Event()
        release = threading.Event()

        def another_writer() -> None:
            # A writer of this process (the live event log, a ticket) mid-transaction.
            with writing(file_factory()) as session:
                session.add(AuditEntry(actor="other", action="other.write", detail={}))
                session.flush()
                holding.set()
                release.wait(10)
                session.commit()

        engine = file_factory.kw["bind"]
        gate = write_gate(engine)
        assert gate is not None
        read_recording = threading.Event()

        def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
            if "FROM recordings" in statement:
                read_recording.set()

        def release_once_the_playback_waits() -> None:
            # The other writer commits only once the playback has read the recording (the
            # old way: it then waits for SQLite's lock) or queues at the gate (the new way).
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if read_recording.is_set() or gate.waiting:
                    break
                time.sleep(0.01)
            time.sleep(0.2)
            release.set()

        event.listen(engine, "before_cursor_execute", seen)
        writer = threading.Thread(target=another_writer)
        writer.start()
        assert holding.wait(10)
        releaser = threading.Thread(target=release_once_the_playback_waits)
        releaser.start()
        played = client.get(f"/api/recordings/{recording_id}/audio", headers=headers)
        writer.join(10)
        releaser.join(10)
        event.remove(engine, "before_cursor_execute", seen)

    assert played.status_code == 200, played.text
    with file_factory() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["other.write", "recording.play"]


def test_a_reading_session_refuses_to_write_until_declared_a_writer(
    file_factory: sessionmaker[Session],
) -> None:
    with reading(file_factory(), purpose="GET /somewhere") as session:
        session.add(AuditEntry(actor="x", action="read.audited", detail={}))
        with pytest.raises(ReaderWrote, match=r"GET /somewhere .* AuditEntry"):
            session.flush()
        session.rollback()
        with pytest.raises(ReaderWrote, match="UPDATE"):
            session.execute(update(User).values(language="zh-CN"))
        session.rollback()
        writing(session)  # declared a writer: now it may
        session.add(AuditEntry(actor="x", action="read.audited", detail={}))
        session.commit()
    with file_factory() as session:
        count = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "read.audited")
        )
    assert count == 1
