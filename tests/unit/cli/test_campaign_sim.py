"""``hotline simulate-campaign``: campaign days and the backlog planner from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hotline.cli.main import app

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
