"""``hotline simulate-campaign``: campaign days and the backlog planner from the command line."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import yaml
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.cli.platform import SAMPLE_CENTER
from hotline.pacing.pacers import PredictivePacer
from hotline.sim.distributions import LogNormal
from hotline.sim.outbound import CampaignDay, Customers, InboundQueue, run_day

runner = CliRunner()


def test_all_three_pacers_side_by_side_as_json():
    result = runner.invoke(
        app,
        [
            "simulate-campaign",
            "--agents",
            "6",
            "--days",
            "1",
            "--hours",
            "1",
            "--pacer",
            "all",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    days = json.loads(result.output.splitlines()[-1])["days"]
    assert [d["pacer"] for d in days] == ["predictive", "adaptive", "progressive"]
    predictive = days[0]
    assert predictive["abandoned"] * 100 <= 3 * predictive["answered"]


def test_the_planner_answers_how_many_agents_clear_a_backlog_while_inbound_keeps_its_level():
    result = runner.invoke(
        app,
        [
            "simulate-campaign",
            "--backlog",
            "80",
            "--days",
            "1",
            "--hours",
            "2",
            "--inbound",
            "vip:10:5:0.9:10",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output.splitlines()[-1])
    assert 1 <= plan["agents"] <= 24
    assert plan["cleared_on_day"] == 1
    assert plan["worst_day_inbound_service_level"]["vip"] >= 0.9


def test_a_malformed_inbound_queue_is_refused_with_the_rule():
    result = runner.invoke(app, ["simulate-campaign", "--inbound", "vip:lots:5:0.99"])
    assert result.exit_code == 2
    assert "QUEUE:CALLS_PER_HOUR:SECONDS:TARGET" in result.output or "numbers" in result.output


def test_an_unknown_pacer_is_refused():
    result = runner.invoke(app, ["simulate-campaign", "--pacer", "psychic"])
    assert result.exit_code == 2
    assert "choose predictive, adaptive, progressive or all" in result.output


def test_a_backlog_too_big_for_the_agents_allowed_says_so():
    result = runner.invoke(
        app,
        [
            "simulate-campaign",
            "--backlog",
            "5000",
            "--days",
            "1",
            "--hours",
            "1",
            "--max-agents",
            "2",
            "--json",
        ],
    )
    assert result.exit_code == 1
    assert json.loads(result.output.splitlines()[-1])["agents"] is None


def _center_with_reserve(tmp_path: Path, reserve: int) -> Path:
    """The sample center file with the VIP queue's ``outbound_reserve`` set."""
    center = yaml.safe_load(SAMPLE_CENTER.read_text(encoding="utf-8"))
    for queue in center["queues"]:
        if queue["id"] == "vip":
            queue["outbound_reserve"] = reserve
    path = tmp_path / f"center-{reserve}.yaml"
    path.write_text(yaml.safe_dump(center, allow_unicode=True), encoding="utf-8")
    return path


def test_a_blended_day_keeps_the_center_file_s_outbound_reserve_for_its_inbound_queue(
    tmp_path: Path,
) -> None:
    """The reserve is the center file's (``queues[].outbound_reserve``), not a setting of the
    simulator's own: a VIP queue reserving 3 agents leaves the campaign fewer to dial with."""
    days = {}
    for reserve in (0, 3):
        result = runner.invoke(
            app,
            [
                "simulate-campaign",
                "--center",
                str(_center_with_reserve(tmp_path, reserve)),
                "--inbound",
                "vip:30:5:0.99:10",
                "--agents",
                "8",
                "--days",
                "1",
                "--hours",
                "1",
                "--json",
            ],
        )
        assert result.exit_code == 0, result.output
        [days[reserve]] = json.loads(result.output.splitlines()[-1])["days"]
    assert days[3]["dialled"] < days[0]["dialled"]
    day = CampaignDay(
        agents=8,
        day_s=3600.0,
        customers=replace(
            Customers(), answer_rate=0.45, answer_swing=0.1, talk=LogNormal(180.0, 180.0 * 0.7)
        ),
        inbound=(
            InboundQueue(
                "vip",
                rates_per_hour=(30.0,),
                threshold_s=5.0,
                service_level=0.99,
                priority=10,
                outbound_reserve=3,
            ),
        ),
        inbound_interval_s=3600.0,
    )
    assert day.reserve == 3
    assert run_day(day, PredictivePacer(), seed=1).dialled == days[3]["dialled"]


def test_an_inbound_queue_the_center_file_lacks_is_refused_naming_the_file(
    tmp_path: Path,
) -> None:
    center = _center_with_reserve(tmp_path, 1)
    result = runner.invoke(
        app, ["simulate-campaign", "--center", str(center), "--inbound", "sales:10:20:0.8"]
    )
    assert result.exit_code == 2
    assert f"{center} has no such queue" in result.output.replace("\n", "")
