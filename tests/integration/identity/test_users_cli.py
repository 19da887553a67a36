"""``hotline init``, ``users add`` and ``users password`` apply the password policy, and a
password set from the command line ends the user's sessions."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.identity import sessions
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade

runner = CliRunner()


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    return url


@pytest.mark.parametrize("password", ["12345678", "password", " " * 8, "qwertyuiop", "ana.li1234"])
def test_users_add_refuses_weak_passwords(database_url: str, password: str) -> None:
    result = runner.invoke(
        app, ["users", "add", "ana.li", "--roles", "agent", "--password", password]
    )
    assert result.exit_code == 1, result.output
    assert "password" in result.output and "error" in result.output
    listed = runner.invoke(app, ["users", "list"])
    assert "ana.li" not in listed.output


def test_init_refuses_a_weak_admin_password(database_url: str) -> None:
    result = runner.invoke(app, ["init", "--admin-password", "password"])
    assert result.exit_code == 1
    assert "admin password refused" in result.output


def test_users_password_sets_a_strong_one_and_ends_sessions(database_url: str) -> None:
    added = runner.invoke(
        app, ["users", "add", "ana.li", "--roles", "agent", "--password", "staple-Battery-37"]
    )
    assert added.exit_code == 0, added.output
    factory = make_session_factory(make_engine(database_url))
    session: Session
    with factory() as session:
        opened = sessions.start_session(session, username="ana.li", now=time.time(), ttl_s=60)
        session.commit()
        session_id = opened.id
    weak = runner.invoke(app, ["users", "password", "ana.li", "--password", "ana.li2024"])
    assert weak.exit_code == 1 and "user name" in weak.output
    changed = runner.invoke(app, ["users", "password", "ana.li", "--password", "river-Lantern-58"])
    assert changed.exit_code == 0, changed.output
    with factory() as session:
        alive = sessions.live_session(
            session, session_id=session_id, username="ana.li", now=time.time()
        )
    assert alive is None
