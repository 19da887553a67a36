"""``hotline backup`` / ``hotline restore``: a populated database, restored fresh, compares equal.

SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore on the real test
server (skipped without one, failing under ``make test``). Every table is compared row by row;
a restore into a database that already has tables is refused with a clear message.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.core.events import Event, EventKind
from hotline.identity import service as identity
from hotline.live.failover_drill import fresh_database
from hotline.store import partitions
from hotline.store.db import Base, make_engine, make_session_factory, session_scope
from hotline.store.event_log import append
from hotline.store.migrate import upgrade
from tests.conftest import postgres_url

runner = CliRunner()


def _populate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        identity.create_user(
            session,
            username="lead1",
            password="correct-horse-9",
            roles=["team_lead"],
            actor="test",
        )
        append(
            session,
            [
                Event(1, 10.0, EventKind.QUEUED, "c1", queue="repair", data={"n": "一"}),
                Event(2, 11.0, EventKind.ANSWERED, "c1", agent_id="a001", queue="repair"),
            ],
        )
        partitions.accept(
            session, partition="hefei", kind="contact", payload={"contact_id": "c2"}, at=1.0
        )
    engine.dispose()


def _contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    (tuple(map(repr, row)) for row in connection.execute(select(table))),
                )
                for table in Base.metadata.sorted_tables
                if table.name in names
            }
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/live.db", f"sqlite:///{tmp_path}/fresh.db"
        return
    url = postgres_url()
    if not url:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    with fresh_database(url) as live, fresh_database(url, migrate=False) as fresh:
        yield live, fresh


def test_a_backup_restored_into_a_fresh_database_compares_equal(
    two_databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, fresh = two_databases
    _populate(live)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", live)
    made = runner.invoke(app, ["backup", str(tmp_path / "center.backup")])
    assert made.exit_code == 0, made.output
    assert "backed up" in made.output

    monkeypatch.setenv("HOTLINE_DATABASE_URL", fresh)
    restored = runner.invoke(app, ["restore", str(tmp_path / "center.backup")])
    assert restored.exit_code == 0, restored.output
    before, after = _contents(live), _contents(fresh)
    assert before["contact_events"] and before["users"] and before["partition_inbox"]
    assert after == before

    again = runner.invoke(app, ["restore", str(tmp_path / "center.backup")])
    assert again.exit_code == 1
    assert "already has" in again.output and "restore into an empty database" in again.output


def test_restoring_a_file_that_is_not_a_backup_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("not a database, just notes " * 100)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path}/fresh.db")
    result = runner.invoke(app, ["restore", str(tmp_path / "notes.txt")])
    assert result.exit_code == 1
    assert "is not a SQLite backup" in result.output
    missing = runner.invoke(app, ["restore", str(tmp_path / "nowhere.backup")])
    assert missing.exit_code == 1 and "no such backup file" in missing.output
