"""CP-SAT scheduling on small instances with known answers (each solve under a few seconds)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from hotline.wfm.schedule import (
    Agent,
    Break,
    LabourRules,
    ScheduleProblem,
    ShiftTemplate,
    solve_schedule,
)

MONDAY = date(2026, 3, 2)
HOURLY = 3600  # one-hour intervals keep these models tiny


def problem(req, agents, templates, **kwargs):
    requirements = req if isinstance(req, dict) else {"default": np.asarray(req, dtype=float)}
    kwargs.setdefault("time_limit_s", 10.0)
    return ScheduleProblem(MONDAY, HOURLY, requirements, agents, templates, **kwargs)


def day_need(hours, count=1):
    row = np.zeros(24)
    row[list(hours)] = count
    return row


EARLY = ShiftTemplate("early", start=6, length=8)  # 06–14
LATE = ShiftTemplate("late", start=14, length=8)  # 14–22


def test_cheapest_cover_with_named_agents():
    req = np.array([day_need(range(6, 22), 2)])
    agents = [Agent(f"a{i}", hourly_cost=1.0 + i / 10) for i in range(6)]
    result = solve_schedule(problem(req, agents, [EARLY, LATE], rules=LabourRules(min_days_off=0)))
    assert result.status == "OPTIMAL"
    assert result.under_staffed_intervals == 0
    # the four cheapest agents work
    assert sorted(result.agent_hours()) == ["a0", "a1", "a2", "a3"]
    assert np.array_equal(result.scheduled["default"][0], req[0])
    assert result.labour_cost == pytest.approx(8 * (1.0 + 1.1 + 1.2 + 1.3))


def test_minimum_rest_forbids_late_then_early():
    req = np.array([day_need(range(14, 22)), day_need(range(6, 14))])
    agent = Agent("solo")
    rules = LabourRules(min_rest_hours=11, min_days_off=0)
    result = solve_schedule(problem(req, [agent], [EARLY, LATE], rules=rules))
    # 22:00 → 06:00 is 8 h of rest: only one of the two shifts can be worked
    assert len(result.assignments) == 1
    assert result.under_staffed_agent_intervals == 8
    relaxed = solve_schedule(
        problem(req, [agent], [EARLY, LATE], rules=LabourRules(min_rest_hours=8, min_days_off=0))
    )
    assert len(relaxed.assignments) == 2


def test_days_off_and_weekly_hours():
    req = np.array([day_need(range(6, 14))] * 7)
    agents = [Agent("a", max_week_hours=40.0), Agent("b", max_week_hours=16.0)]
    result = solve_schedule(problem(req, agents, [EARLY], rules=LabourRules(min_days_off=2)))
    hours = result.agent_hours()
    assert hours["a"] == 40.0  # 5 days of 8 h, 2 days off
    assert hours["b"] == 16.0
    assert result.under_staffed_agent_intervals == 8 * 7 - 56
    days_a = {x.day for x in result.assignments if x.agent_id == "a"}
    assert len(days_a) == 5


def test_availability_and_skills():
    req = {
        "english": np.array([day_need(range(6, 14))]),
        "default": np.array([day_need(range(6, 14))]),
    }
    agents = [
        Agent("bilingual", skills=frozenset({"english", "default"}), hourly_cost=2.0),
        Agent("local", skills=frozenset({"default"}), hourly_cost=1.0),
        Agent("away", skills=frozenset({"english", "default"}), available={1: (0, 24)}),
    ]
    result = solve_schedule(problem(req, agents, [EARLY], rules=LabourRules(min_days_off=0)))
    by_agent = {a.agent_id: a.skill for a in result.assignments}
    assert by_agent == {"bilingual": "english", "local": "default"}  # away: Tuesdays only
    assert result.under_staffed_intervals == 0


def test_lunch_is_placed_inside_its_window_and_staggered():
    lunch = Break(length=1, earliest=3, latest=5, paid=False)
    shift = ShiftTemplate("day", start=8, length=9, breaks=(lunch,))  # 08–17
    req = np.array([day_need(range(8, 17), 2)])
    req[0, 11:14] = 1  # the only hours where one agent may be at lunch
    agents = [Agent("a"), Agent("b")]
    result = solve_schedule(problem(req, agents, [shift], rules=LabourRules(min_days_off=0)))
    assert result.under_staffed_intervals == 0
    lunches = sorted(a.breaks[0][0] for a in result.assignments)
    assert all(11 <= start <= 13 for start in lunches)
    assert len(set(lunches)) == 2  # not both at once
    assert all(a.paid_hours == 8.0 for a in result.assignments)


def test_contracted_minimum_hours_are_given_even_without_demand():
    req = np.array([day_need([])] * 7)
    agents = [Agent("contracted", min_week_hours=24.0)]
    result = solve_schedule(problem(req, agents, [EARLY]))
    assert result.agent_hours()["contracted"] >= 24.0


def test_penalty_trades_cover_against_cost():
    req = np.array([day_need([20])])  # one lone evening hour
    agents = [Agent("a", hourly_cost=10.0)]
    shift = ShiftTemplate("evening", start=16, length=6)
    rules = LabourRules(min_days_off=0)
    cheap_gap = solve_schedule(
        problem(req, agents, [shift], rules=rules, under_staffing_penalty=5.0)
    )
    assert cheap_gap.assignments == []
    assert cheap_gap.under_staffed_intervals == 1
    costly_gap = solve_schedule(
        problem(req, agents, [shift], rules=rules, under_staffing_penalty=100.0)
    )
    assert len(costly_gap.assignments) == 1
    assert costly_gap.penalty_per_agent_interval == 100.0


def test_progress_is_reported():
    req = np.array([day_need(range(6, 22), 3)] * 2)
    seen = []
    solve_schedule(
        problem(
            req,
            [Agent(f"a{i}") for i in range(8)],
            [EARLY, LATE],
            rules=LabourRules(min_days_off=0),
        ),
        progress=lambda seconds, objective, bound: seen.append((seconds, objective, bound)),
    )
    assert seen
    assert all(objective >= bound - 1e-6 for _, objective, bound in seen)


def test_bad_requirement_shape_is_refused():
    with pytest.raises(ValueError, match="requirements"):
        solve_schedule(
            ScheduleProblem(MONDAY, HOURLY, {"default": np.zeros((1, 10))}, [Agent("a")], [EARLY])
        )


def test_days_off_are_prorated_in_a_partial_last_week():
    req = np.array([day_need(range(6, 14))] * 10)  # a week and three days
    result = solve_schedule(problem(req, [Agent("a", max_week_hours=80.0)], [EARLY],
                                    rules=LabourRules(min_days_off=2)))  # fmt: skip
    days = sorted((x.day - MONDAY).days for x in result.assignments)
    assert len([d for d in days if d < 7]) == 5  # two days off in the full week
    assert [d for d in days if d >= 7] == [7, 8, 9]  # 2 × 3 ÷ 7 rounds down to none
