"""``hotline wfm requirements`` on a SQLite file: the Hefei site's repair and installation
queues (ten calls of five minutes every half hour each, four weeks of history) per half hour,
by Erlang on each queue's home team, and with ``--simulate`` by the simulator, which pools
the installation team's two skills (the API test's case, through the command line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.metrics import service as metrics_service
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from tests.integration.web.conftest import SAMPLE
from tests.integration.web.test_planning_api import TUESDAY
from tests.integration.web.test_planning_multiskill_api import two_queue_records

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        metrics_service.import_records(
            session=session, records=two_queue_records(), source="cli-test"
        )
        session.commit()
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))


def _requirements(*extra: str) -> Any:
    args = ["wfm", "requirements", "--center", str(SAMPLE), "--day", TUESDAY, "--site", "hefei",
            "--start", "10:00", "--format", "json", *extra]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_requirements_by_erlang_and_by_the_simulator(database: None) -> None:
    erlang = _requirements()
    (interval,) = erlang["intervals"]
    assert interval["start"] == "10:00"
    per_queue = interval["queues"]
    assert per_queue["repair"] == per_queue["installation"] >= 3
    assert interval["agents"] == per_queue["repair"] + per_queue["installation"]

    simulated = _requirements("--simulate", "--seed", "1")
    (pooling,) = simulated["pooling"]
    assert pooling["erlang_agents"] == interval["agents"]
    assert pooling["meets_targets"] and 0 < pooling["agents"] < pooling["erlang_agents"]
    assert (simulated["seed"], simulated["replications"]) == (1, 2)
    table = runner.invoke(
        app, ["wfm", "requirements", "--center", str(SAMPLE), "--day", TUESDAY, "--site",
              "hefei", "--start", "10:00", "--simulate"],
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    gain = pooling["erlang_agents"] - pooling["agents"]
    assert "pooling gain" in table.stdout and f"+{gain}" in table.stdout


def test_a_site_without_queues_is_refused_in_words(database: None) -> None:
    result = runner.invoke(
        app, ["wfm", "requirements", "--center", str(SAMPLE), "--site", "mars", "--simulate"]
    )
    assert result.exit_code == 1
    assert "no site 'mars'" in result.output
