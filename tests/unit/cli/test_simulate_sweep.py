"""``hotline simulate-sweep``: a what-if grid from the command line, and its refusals."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()

SCENARIO = """\
name: tiny
start: 2026-03-02T08:00:00
interval_s: 1800
queues:
  - id: q
    handle_time: {exponential: 120}
    patience: {exponential: 90}
    overflow_after_s: 30
    overflow_to: q2
  - id: q2
    handle_time: {exponential: 120}
agents:
  - group: g
    count: 4
arrivals:
  - queue: q
    rates_per_hour: [100]
"""


def write(folder: Path, grid: str) -> Path:
    (folder / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    path = folder / "grid.yaml"
    path.write_text(grid, encoding="utf-8")
    return path


def test_a_small_grid_prints_one_row_per_cell_and_writes_the_csv(tmp_path: Path):
    grid = write(
        tmp_path,
        "scenario: scenario.yaml\nreplications: 2\nseed: 3\nstaffing: [0.5, 1.5]\n"
        "routing: [{name: as configured}, {name: no overflow, overflow: false},"
        " {name: fewest, strategy: fewest_contacts}]\n",
    )
    out = tmp_path / "out" / "sweep.csv"
    result = runner.invoke(app, ["simulate-sweep", str(grid), "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "6 cells (2 staffing × 3 routing × 1 volume)" in result.output
    assert "no overflow" in result.output
    table = pl.read_csv(out)
    assert table.height == 6
    assert table["agents"].to_list() == [2, 2, 2, 6, 6, 6]
    assert set(table["routing"]) == {"as configured", "no overflow", "fewest"}
    assert {"service_level", "service_level_ci95", "occupancy"} <= set(table.columns)
    assert (table["replications"] == 2).all()


def test_every_problem_of_a_bad_grid_is_named_with_its_file_and_field(tmp_path: Path):
    grid = write(
        tmp_path,
        "scenario: scenario.yaml\nreplications: 1\nstaffing: [1.0, -2, 1.0]\nvolume: lots\n"
        "routing: [{name: a, strategy: fastest}, {name: a, overflow: sometimes}, {oops: 1}]\n"
        "colour: blue\n",
    )
    result = runner.invoke(app, ["simulate-sweep", str(grid)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    where = f"{grid}: "
    for expected in (
        "replications: a whole number of at least 2",
        "staffing[1]: -2 is not a factor in (0, 10]",
        "staffing[2]: 1.0 is already in the list",
        "volume: a non-empty list of factors",
        "routing[0].strategy: unknown strategy 'fastest'",
        "routing[1].name: 'a' names another variant already",
        "routing[1].overflow: true (as configured) or false",
        "routing[2]: a rule variant is a mapping with a name",
        "colour: unknown setting",
    ):
        assert where + expected in output, expected


def test_a_bad_scenario_behind_a_good_grid_is_named_in_the_scenario_file(tmp_path: Path):
    grid = write(tmp_path, "scenario: scenario.yaml\n")
    (tmp_path / "scenario.yaml").write_text(SCENARIO.replace("count: 4", "count: four"))
    result = runner.invoke(app, ["simulate-sweep", str(grid)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'scenario.yaml'}: agents[0].count" in " ".join(result.output.split())


def test_a_missing_grid_file_is_named(tmp_path: Path):
    result = runner.invoke(app, ["simulate-sweep", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "none.yaml" in result.output


def test_workers_and_a_scheduler_together_are_refused(tmp_path: Path):
    grid = write(tmp_path, "scenario: scenario.yaml\n")
    result = runner.invoke(
        app, ["simulate-sweep", str(grid), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert result.exit_code == 2
    assert "not both" in result.output
