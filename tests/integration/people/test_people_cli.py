"""``hotline people contest-create|contests|standings|contest-withdraw`` on a SQLite file
with the sample center: a contest checked whole, ranked from contact records, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.metrics.service import ContactRecord, import_records
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import AuditEntry

runner = CliRunner()
#: 2026-03-02 08:00 in Shanghai (the sample center's time zone).
T0 = 1_772_409_600.0


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    # a001 and a002 answer repair calls, a001 the shorter ones; a011 is of another team
    with make_session_factory(engine)() as session:
        import_records(
            session=session,
            records=[
                ContactRecord(
                    contact_id=f"{agent}-{n}",
                    arrived_at=T0,
                    queued_at=T0,
                    answered_at=T0 + 5,
                    ended_at=T0 + 5 + handle,
                    outcome="answered",
                    queue="repair",
                    agent=agent,
                    customer=f"1390000{agent}{n}",
                    talk_s=handle,
                )
                for agent, handle in (("a001", 200), ("a002", 400), ("a011", 300))
                for n in range(2)
            ],
            source="cli-test",
        )
        session.commit()
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))  # no saved center: the sample's
    return url


def test_a_contest_from_the_command_line(database: str) -> None:
    created = runner.invoke(
        app,
        ["people", "contest-create", "March AHT", "--metric", "aht_s", "--start", "2026-03-01",
         "--end", "2026-03-31", "--team", "t-install", "--actor", "zhang.wei"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "competition 1 created" in created.output
    listed = runner.invoke(app, ["people", "contests", "--all"])
    assert listed.exit_code == 0 and "March AHT" in listed.output
    board = runner.invoke(app, ["people", "standings", "1"])
    assert board.exit_code == 0, board.output
    lines = [line for line in board.output.splitlines() if "(a00" in line]
    assert ["a001" in lines[0], "a002" in lines[1], len(lines)] == [True, True, 2]
    withdrawn = runner.invoke(app, ["people", "contest-withdraw", "1", "--actor", "zhang.wei"])
    assert withdrawn.exit_code == 0, withdrawn.output
    again = runner.invoke(app, ["people", "contest-withdraw", "1"])
    assert again.exit_code == 1 and "withdrawn already" in again.output
    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == "zhang.wei")
        ).all()
    engine.dispose()
    assert sorted(actions) == ["people.competition.create", "people.competition.withdraw"]


def test_a_bad_contest_names_each_option_and_rule(database: str) -> None:
    result = runner.invoke(
        app,
        ["people", "contest-create", "x", "--metric", "salary", "--start", "2026-03-31",
         "--end", "2026-03-01", "--team", "t-mars"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--metrics: one of aht_s" in result.output and "not 'salary'" in result.output
    assert "--teams: no team t-mars" in result.output
    assert "--start: end 2026-03-01 is before start 2026-03-31" in result.output
    missing = runner.invoke(app, ["people", "standings", "7"])
    assert missing.exit_code == 1 and "competition 7 does not exist" in missing.output
