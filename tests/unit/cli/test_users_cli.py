"""``hotline users add``: a team lead is linked to the agent who leads a team."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.store.db import make_engine
from hotline.store.migrate import upgrade

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))  # no saved center: the sample's teams
    return tmp_path


def add(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["users", "add", *args, "--password", "long-enough-1"])
    return result.exit_code, result.output


def test_a_team_lead_must_be_linked_to_a_teams_lead(home: Path) -> None:
    code, output = add("huang.yan", "--roles", "team_lead", "--agent-id", "a002")
    assert code == 1
    assert "--agent-id" in output and "a002" in output and "a011 (t-repair)" in output
    code, output = add("zeng.gui", "--roles", "team_lead", "--agent-id", "a011")
    assert code == 0, output
    # Other roles need no team.
    assert add("huang.yan", "--roles", "agent", "--agent-id", "a002")[0] == 0
