"""``hotline routing explain`` on the sample center."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


def test_explain_lists_rings_and_agents_as_json() -> None:
    result = CliRunner().invoke(app, ["routing", "explain", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {row["queue"]: row for row in json.loads(result.output)}
    vip = rows["vip"]
    assert [ring["after_s"] for ring in vip["rings"]] == [0, 10, 30]
    sizes = [len(ring["agents"]) for ring in vip["rings"]]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]  # rings only grow
    assert vip["overflow"] == ["wait_exceeds 120 → callback"]


def test_explain_one_queue_as_a_table_and_refuse_unknown_ones(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["routing", "explain", str(SAMPLE), "--queue", "chat"])
    assert result.exit_code == 0 and "chat >= 1" in result.output
    result = runner.invoke(app, ["routing", "explain", str(SAMPLE), "--queue", "nope"])
    assert result.exit_code == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("center: {}\n", encoding="utf-8")
    assert runner.invoke(app, ["routing", "explain", str(broken)]).exit_code == 1
