"""Multi-skill staffing: inputs, home teams, Erlang start, the greedy search (fake evaluators)."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import pytest

from hotline.config.validate import load_center
from hotline.core.errors import ValidationFailed
from hotline.routing.model import AgentConfig, QueueConfig
from hotline.wfm import multiskill
from hotline.wfm.erlang import queue_figures, required_agents
from hotline.wfm.multiskill import (
    Estimate,
    IntervalLoad,
    MultiSkillCenter,
    PlanEvaluation,
    QueueLoad,
    QueueOutcome,
    StaffingPlan,
    center_from_config,
    comparison_rows,
    erlang_baseline,
    home_teams,
    parse_plan,
    parse_volumes,
    search_plan,
)

SAMPLE = Path(__file__).parents[3] / "src/hotline/config/samples/appliance_center.yaml"


def test_docstring_examples():
    failures, tried = doctest.testmod(multiskill, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0
    assert failures == 0


# --------------------------------------------------------------------------- inputs


def test_volumes_one_interval_with_optional_patience():
    (interval,) = parse_volumes("queue,offered,aht_s,patience_s\nvip,20,300,120\nrepair,80,240,\n")
    assert interval.label is None
    assert interval.loads == (
        QueueLoad("vip", 20.0, 300.0, 120.0),
        QueueLoad("repair", 80.0, 240.0, None),
    )


def test_volumes_group_a_forecast_by_interval_in_file_order():
    text = (
        "interval_start,queue,offered,aht_s\n"
        "2026-03-02T09:00,repair,80,240\n"
        "2026-03-02T08:30,repair,60,240\n"
        "2026-03-02T09:00,vip,10,300\n"
    )
    intervals = parse_volumes(text)
    assert [i.label for i in intervals] == ["2026-03-02T09:00", "2026-03-02T08:30"]
    assert [load.queue for load in intervals[0].loads] == ["repair", "vip"]


def test_volumes_report_every_bad_row_with_its_line():
    text = "queue,offered,aht_s\nrepair,lots,240\nvip,10,0\nrepair,5,100\nrepair,6,100\n"
    with pytest.raises(ValidationFailed) as failed:
        parse_volumes(text, source="v.csv")
    lines = sorted(p.line for p in failed.value.problems if p.line is not None)
    assert lines == [2, 2, 3, 5]  # not a number (and so missing), zero AHT, queue given twice
    assert all(p.file == "v.csv" for p in failed.value.problems)


def test_volumes_need_their_columns():
    with pytest.raises(ValidationFailed, match="queue, offered and aht_s"):
        parse_volumes("queue,calls\nrepair,10\n")


def test_plan_from_csv_and_yaml():
    assert parse_plan("team,agents\nt-repair,8\nt-vip, 4\n") == {"t-repair": 8, "t-vip": 4}
    assert parse_plan("plan:\n  t-repair: 8\n  t-vip: 0\n") == {"t-repair": 8, "t-vip": 0}


def test_plan_rejects_negative_and_fractional_counts():
    with pytest.raises(ValidationFailed) as failed:
        parse_plan("team,agents\nt-repair,-1\nt-vip,2.5\n")
    assert [p.line for p in failed.value.problems] == [2, 3]


def test_plan_arithmetic():
    plan = StaffingPlan({"a": 2, "b": 0})
    assert plan.changed("a", -3) == {"a": 0, "b": 0}
    assert plan.changed("c", 1).total == 3
    assert plan.key() == (("a", 2),)
    assert plan == {"a": 2, "b": 0}  # changed() copies


# --------------------------------------------------------------------------- the center


@pytest.fixture(scope="module")
def sample() -> MultiSkillCenter:
    return center_from_config(load_center(SAMPLE))


def test_sample_center_teams_and_thresholds(sample):
    assert sample.teams["t-install"][:2] == ("a001", "a002")
    assert sample.queue("vip").target_threshold_s == 5
    assert sample.short_abandon_s["email"] == 0
    assert sample.target("vip").service_level == pytest.approx(0.99)


def test_staffed_agents_take_members_in_order_then_repeat_profiles(sample):
    staffed = sample.staffed_agents(StaffingPlan({"t-vip": 12, "t-care": 2}))
    ids = [a.id for a in staffed]
    assert ids[:10] == list(sample.teams["t-vip"])
    assert ids[10:12] == ["a031~2", "a032~2"]
    assert staffed[10].skills == sample.agents["a031"].skills
    assert ids[12:] == ["a021", "a022"]
    with pytest.raises(ValueError, match="not in the center"):
        sample.staffed_agents(StaffingPlan({"t-nobody": 1}))


def test_home_teams_of_the_sample_center(sample):
    homes = home_teams(sample, ["vip", "installation", "repair", "complaints", "email"])
    assert homes == {
        "vip": "t-vip",  # only the VIP team has the vip skill
        "installation": "t-install",
        "repair": "t-repair",  # three teams qualify in full; the repair team is most proficient
        "complaints": "t-care",
        "email": "t-care",
    }


def test_a_queue_no_team_can_serve_is_refused():
    center = MultiSkillCenter(
        queues=(QueueConfig("q", requirements=("french >= 1",)),),
        agents={"a": AgentConfig("a", skills={"english": 3})},
        teams={"t": ("a",)},
        default_capacity={},
    )
    with pytest.raises(ValueError, match="can serve queue 'q'"):
        home_teams(center, ["q"])


def test_erlang_baseline_is_each_queues_answer_on_its_home_team(sample):
    interval = IntervalLoad(
        None,
        (
            QueueLoad("vip", 20, 300, 120),
            QueueLoad("repair", 120, 300),
            QueueLoad("email", 10, 600),
        ),
    )
    answers, _, plan = erlang_baseline(sample, interval, interval_s=1800)
    vip = required_agents(
        calls=20, aht_s=300, interval_s=1800, target=sample.target("vip"), patience_s=120
    )
    assert answers["vip"].agents == vip.agents
    assert answers["vip"].model == "erlang_a"  # patience given
    assert answers["repair"].model == "erlang_c"
    assert plan["t-vip"] == vip.agents
    assert plan["t-repair"] == answers["repair"].agents
    assert plan["t-care"] == answers["email"].agents
    assert plan["t-install"] == 0
    assert plan.total == sum(a.agents for a in answers.values())


# --------------------------------------------------------------------------- the search

TWO_QUEUES = MultiSkillCenter(
    queues=(
        QueueConfig("sales", requirements=("sales >= 1",), target_service_level=0.8),
        QueueConfig("service", requirements=("service >= 1",), target_service_level=0.9),
    ),
    agents={
        "s": AgentConfig("s", skills={"sales": 4, "service": 1}),
        "v": AgentConfig("v", skills={"service": 4}),
    },
    teams={"t-sales": ("s",), "t-service": ("v",)},
    default_capacity={},
)
HOMES = {"sales": "t-sales", "service": "t-service"}
NONE = Estimate(0.0, 0.0)


def fake_evaluator(levels, calls):
    """An evaluator whose service level per queue is ``levels(plan)``; it counts its calls."""

    def evaluate(plan):
        calls.append(StaffingPlan(plan))
        return PlanEvaluation(
            plan=StaffingPlan(plan),
            queues={
                q: QueueOutcome(q, NONE, Estimate(level, 0.02), NONE, NONE)
                for q, level in levels(plan).items()
            },
            team_occupancy={},
            center_occupancy=NONE,
            replications=2,
            seed=1,
        )

    return evaluate


def pooled(plan):
    """Sales agents help service: each queue gains from its own team and a little the other."""
    sales, service = plan.get("t-sales", 0), plan.get("t-service", 0)
    return {
        "sales": min(1.0, 0.12 * sales),
        "service": min(1.0, 0.1 * service + 0.05 * sales),
    }


def test_search_adds_for_the_worst_gap_then_trims():
    calls: list[StaffingPlan] = []
    result = search_plan(
        TWO_QUEUES,
        StaffingPlan({"t-sales": 5, "t-service": 5}),
        fake_evaluator(pooled, calls),
        homes=HOMES,
    )
    # Start: sales 60 % (gap 20 pts), service 75 % (gap 15): sales is worse, so t-sales grows.
    assert result.steps[1].change == "+1 t-sales (for sales)"
    assert result.status == "met"
    assert result.evaluation.meets(TWO_QUEUES)
    # Sales needs 7 of its own (84 %); service then needs 6 (60 % + 35 % from sales), and
    # giving back any one agent breaks a target.
    assert result.plan == {"t-sales": 7, "t-service": 6}
    for team in result.plan:
        assert not fake_evaluator(pooled, [])(result.plan.changed(team, -1)).meets(TWO_QUEUES)
    assert result.evaluations == len({p.key() for p in calls}) == len(calls)  # none twice
    assert [s.kept for s in result.steps if s.phase == "trim"].count(False) == 2  # both blocked


def test_search_trims_an_over_staffed_start():
    result = search_plan(
        TWO_QUEUES,
        StaffingPlan({"t-sales": 12, "t-service": 12}),
        fake_evaluator(pooled, []),
        homes=HOMES,
    )
    assert result.status == "met"
    assert result.plan == {"t-sales": 7, "t-service": 6}
    assert all(s.phase in ("start", "trim") for s in result.steps)


def test_search_stops_at_its_evaluation_budget():
    calls: list[StaffingPlan] = []
    result = search_plan(
        TWO_QUEUES,
        StaffingPlan({"t-sales": 0, "t-service": 0}),
        fake_evaluator(pooled, calls),
        homes=HOMES,
        max_evaluations=4,
    )
    assert len(calls) == 4
    assert result.status == "not met"
    assert not result.evaluation.meets(TWO_QUEUES)


def test_search_stops_at_its_time_limit():
    ticks = iter(range(0, 1000, 10))  # every clock reading is ten seconds later
    result = search_plan(
        TWO_QUEUES,
        StaffingPlan({"t-sales": 0, "t-service": 0}),
        fake_evaluator(pooled, []),
        homes=HOMES,
        time_limit_s=35,
        clock=lambda: float(next(ticks)),
    )
    assert result.status == "not met"
    assert result.evaluations < 6


def test_budget_met_mid_trim_says_so():
    result = search_plan(
        TWO_QUEUES,
        StaffingPlan({"t-sales": 12, "t-service": 12}),
        fake_evaluator(pooled, []),
        homes=HOMES,
        max_evaluations=3,
    )
    assert result.status == "met (budget)"
    assert result.evaluation.meets(TWO_QUEUES)
    assert result.plan.total == 22


def test_a_full_home_team_passes_the_agent_to_another_team_that_qualifies():
    def levels(plan):
        sales, service = plan.get("t-sales", 0), plan.get("t-service", 0)
        return {"sales": min(1.0, 0.25 * sales), "service": 0.1 * service + 0.05 * sales}

    result = search_plan(
        TWO_QUEUES,
        StaffingPlan({"t-sales": 0, "t-service": 0}),
        fake_evaluator(levels, []),
        homes=HOMES,
        max_per_team=6,
    )
    assert result.status == "met"
    assert max(result.plan.values()) <= 6
    # Once t-service is full, service's agents come from t-sales, whose members qualify.
    assert any(s.change == "+1 t-sales (for service)" for s in result.steps)
    assert result.plan == {"t-sales": 6, "t-service": 6}  # 60 % + 30 %


def test_a_full_team_with_no_other_team_qualifying_ends_the_search_unmet():
    result = search_plan(
        TWO_QUEUES,
        StaffingPlan({"t-sales": 0, "t-service": 0}),
        fake_evaluator(pooled, []),
        homes=HOMES,
        max_per_team=4,
    )
    # Sales needs 7 of its own agents (nobody else has the sales skill): the cap wins.
    assert result.status == "not met"
    assert max(result.plan.values()) <= 4


def test_lower_rule_asks_for_more_agents_than_the_mean():
    def noisy(plan):
        sales = plan.get("t-sales", 0)
        return PlanEvaluation(
            plan=StaffingPlan(plan),
            queues={
                "sales": QueueOutcome(
                    "sales", NONE, Estimate(min(1, 0.12 * sales), 0.05), NONE, NONE
                ),
            },
            team_occupancy={},
            center_occupancy=NONE,
            replications=5,
            seed=1,
        )

    start = StaffingPlan({"t-sales": 1})
    by_mean = search_plan(TWO_QUEUES, start, noisy, homes=HOMES)
    by_lower = search_plan(TWO_QUEUES, start, noisy, homes=HOMES, rule="lower")
    assert by_mean.plan["t-sales"] == 7  # 84 %
    assert by_lower.plan["t-sales"] == 8  # 96 % - 5 pts clears 80 %; 84 % - 5 does not
    with pytest.raises(ValueError, match="rule"):
        by_mean.evaluation.gaps(TWO_QUEUES, rule="median")


def test_a_queue_without_contacts_counts_as_met():
    nan = Estimate(math.nan, math.nan)
    evaluation = PlanEvaluation(
        plan=StaffingPlan({"t-sales": 1}),
        queues={"sales": QueueOutcome("sales", NONE, nan, nan, nan)},
        team_occupancy={},
        center_occupancy=nan,
        replications=2,
        seed=1,
    )
    assert evaluation.gaps(TWO_QUEUES) == {"sales": 0.0}
    assert evaluation.meets(TWO_QUEUES)


# --------------------------------------------------------------------------- the report


def test_comparison_rows_put_erlang_beside_the_simulation():
    interval = IntervalLoad(None, (QueueLoad("sales", 40, 180), QueueLoad("service", 30, 240)))
    answers, homes, plan = erlang_baseline(TWO_QUEUES, interval, interval_s=1800)
    evaluation = PlanEvaluation(
        plan=plan,
        queues={
            "sales": QueueOutcome(
                "sales",
                Estimate(41, 3),
                Estimate(0.93, 0.02),
                Estimate(3.2, 1.0),
                Estimate(0.0, 0.0),
            ),
            "service": QueueOutcome(
                "service",
                Estimate(29, 3),
                Estimate(0.85, 0.04),
                Estimate(9.0, 2.0),
                Estimate(0.01, 0.01),
            ),
        },
        team_occupancy={"t-sales": Estimate(0.6, 0.05)},
        center_occupancy=Estimate(0.6, 0.05),
        replications=5,
        seed=1,
    )
    rows = comparison_rows(
        TWO_QUEUES, interval, evaluation, answers=answers, homes=homes, interval_s=1800
    )
    sales, service = rows
    expected = queue_figures(
        agents=plan["t-sales"], calls=40, aht_s=180, interval_s=1800, answer_within_s=20
    )
    assert sales["erlang_service_level"] == round(expected.service_level, 4)
    assert sales["erlang_agents"] == answers["sales"].agents == plan["t-sales"]
    assert (sales["service_level"], sales["service_level_ci95"]) == (0.93, 0.02)
    assert sales["occupancy"] == 0.6 and service["occupancy"] is None
    assert sales["meets_target"] is True
    assert service["meets_target"] is False  # 85 % < the service queue's 90 %
    assert service["target"] == "90%/20s"


def test_a_team_home_to_two_queues_shares_its_heads_for_the_erlang_column():
    center = MultiSkillCenter(
        queues=(QueueConfig("a", requirements=("x",)), QueueConfig("b", requirements=("x",))),
        agents={"m": AgentConfig("m", skills={"x": 3})},
        teams={"t": ("m",)},
        default_capacity={},
    )  # fmt: skip
    interval = IntervalLoad(None, (QueueLoad("a", 60, 180), QueueLoad("b", 20, 180)))
    answers, homes, plan = erlang_baseline(center, interval, interval_s=1800)
    assert homes == {"a": "t", "b": "t"}
    assert plan["t"] == answers["a"].agents + answers["b"].agents
    evaluation = PlanEvaluation(plan, {}, {}, NONE, 2, 1)
    rows = comparison_rows(center, interval, evaluation, answers=answers, homes=homes,
                           interval_s=1800)  # fmt: skip
    alone = [
        round(queue_figures(agents=answers[q].agents, calls=n, aht_s=180, interval_s=1800,
                            answer_within_s=20).service_level, 4)
        for q, n in (("a", 60), ("b", 20))
    ]  # fmt: skip
    assert [r["erlang_service_level"] for r in rows] == alone
    assert [r["service_level"] for r in rows] == [None, None]
