"""Benchmark: one week of 30-minute requirements, 150 agents, 10 shift templates.

Requirements come from Erlang C (80/20, AHT 240 s) on a synthetic week with a morning and an
afternoon peak (Monday busiest, Sunday lightest), up to about 90 agents on the phones.
Templates: 8.5-hour shifts (one unpaid 30-minute lunch) starting every hour from 06:00 to
13:00, plus two 4-hour part-time shifts.

* ``hotline`` — :func:`hotline.wfm.schedule.solve_schedule`: 150 named agents, 40 h/week max,
  2 days off, 11 h rest, lunch placed anywhere in its window, penalty per missing
  agent-interval as stated in the output.
* ``pyworkforce`` — ``MinRequiredResources``: how many of each shift per day so that
  coverage ≥ requirement everywhere at least cost. It knows no agents, so no weekly hours,
  days off or rest; lunch is fixed in the middle of each shift because it cannot place
  breaks. Its cost is therefore a relaxation that our roster can only match or exceed when
  the lunch positions don't help; we report whether its answer could even be rostered on
  150 agents working at most 5 days (a necessary condition only).

Hotline is run three times: with the default penalty; with 50 per missing agent-interval
(so it covers wherever the agents' contracts allow); and with 50 and every lunch fixed
mid-shift as pyworkforce has it, which isolates what the agents' rules cost. All use
CP-SAT with 2 workers and the same time limit. Prints one JSON line.

    .venv/bin/python bench/schedule.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import date

import numpy as np

from hotline.wfm.erlang import ServiceTarget, required_agents
from hotline.wfm.schedule import (
    Agent,
    Break,
    LabourRules,
    ScheduleProblem,
    ShiftTemplate,
    solve_schedule,
)

SLOTS = 48
DAYS = 7
AGENTS = 150


def requirements() -> np.ndarray:
    hours = (np.arange(SLOTS) + 0.5) / 2
    open_ = (hours >= 7) & (hours < 21)
    shape = 0.5 + np.exp(-((hours - 10.5) ** 2) / 3) + 0.7 * np.exp(-((hours - 15.5) ** 2) / 4)
    day_level = [1.25, 1.1, 1.05, 1.0, 1.0, 0.7, 0.45]  # Monday … Sunday
    target = ServiceTarget.parse("80/20")
    req = np.zeros((DAYS, SLOTS))
    for d in range(DAYS):
        for s in range(SLOTS):
            if open_[s]:
                calls = 330 * day_level[d] * shape[s]
                req[d, s] = required_agents(
                    calls=calls, aht_s=240, interval_s=1800, target=target
                ).agents
    return req


def templates() -> list[ShiftTemplate]:
    lunch = Break(length=1, earliest=6, latest=10, paid=False)
    full = [
        ShiftTemplate(f"full_{h:02d}", start=2 * h, length=17, breaks=(lunch,))
        for h in range(6, 14)
    ]
    part = [
        ShiftTemplate("part_09", start=18, length=8),
        ShiftTemplate("part_16", start=32, length=8),
    ]
    return full + part


def main() -> None:
    parser = argparse.ArgumentParser(description="schedule benchmark")
    parser.add_argument("--quick", action="store_true", help="shorter time limit")
    parser.add_argument("--time-limit", type=float, default=None)
    args = parser.parse_args()
    limit = args.time_limit or (10.0 if args.quick else 30.0)
    try:
        from pyworkforce.scheduling import MinRequiredResources
    except ImportError as exc:
        sys.exit(f"pyworkforce is needed for this benchmark: {exc}")

    req = requirements()
    shifts = templates()
    agents = [Agent(f"agent{i:03d}", max_week_hours=40.0) for i in range(AGENTS)]
    problem = ScheduleProblem(
        first_day=date(2026, 3, 2),
        interval_s=1800,
        requirements={"default": req},
        agents=agents,
        templates=shifts,
        rules=LabourRules(min_rest_hours=11, min_days_off=2),
        time_limit_s=limit,
        workers=2,
    )
    ours = solve_schedule(problem)
    # The same roster with a penalty high enough that only impossible gaps remain.
    strict = solve_schedule(ScheduleProblem(**{**problem.__dict__, "under_staffing_penalty": 50.0}))

    # Same again with each lunch fixed mid-shift as pyworkforce has it: the difference to
    # pyworkforce is then only the agents, their contracts and labour rules.
    fixed = [
        ShiftTemplate(t.name, t.start, t.length, tuple(
            Break(b.length, (b.earliest + b.latest) // 2, (b.earliest + b.latest) // 2, b.paid)
            for b in t.breaks))
        for t in shifts
    ]  # fmt: skip
    fixed_lunch = solve_schedule(
        ScheduleProblem(**{**problem.__dict__, "templates": fixed, "under_staffing_penalty": 50.0})
    )

    coverage = {}
    cost = {}
    for t in shifts:
        middle = [] if not t.breaks else [(t.breaks[0].earliest + t.breaks[0].latest) // 2]
        coverage[t.name] = t.coverage(middle, SLOTS).tolist()
        cost[t.name] = t.paid_intervals  # half-hours paid, hourly cost 1 → integer costs
    started = time.perf_counter()
    peer = MinRequiredResources(
        num_days=DAYS,
        periods=SLOTS,
        shifts_coverage=coverage,
        required_resources=req.astype(int).tolist(),
        max_period_concurrency=AGENTS,
        max_shift_concurrency=AGENTS,
        cost_dict=cost,
        max_search_time=limit,
        num_search_workers=2,
    )
    solution = peer.solve()
    peer_seconds = time.perf_counter() - started
    peer_scheduled = np.zeros((DAYS, SLOTS))
    per_day = np.zeros(DAYS)
    for row in solution["resources_shifts"]:
        if row["day"] < 0:
            break
        peer_scheduled[row["day"]] += row["resources"] * np.array(coverage[row["shift"]])
        per_day[row["day"]] += row["resources"]
    peer_gap = np.maximum(0, req - peer_scheduled)
    print(
        json.dumps(
            {
                "bench": "schedule",
                "peer": "pyworkforce.scheduling.MinRequiredResources",
                "days": DAYS,
                "interval_min": 30,
                "agents": AGENTS,
                "templates": len(shifts),
                "required_agent_hours": float(req.sum() / 2),
                "time_limit_s": limit,
                "hotline": {
                    "status": ours.status,
                    "labour_cost_hours": round(ours.labour_cost, 2),
                    "under_staffed_intervals": ours.under_staffed_intervals,
                    "under_staffed_agent_intervals": ours.under_staffed_agent_intervals,
                    "penalty_per_agent_interval": ours.penalty_per_agent_interval,
                    "objective": ours.objective,
                    "best_bound": ours.best_bound,
                    "shifts": len(ours.assignments),
                    "agents_used": len(ours.agent_hours()),
                    "max_agent_week_hours": max(ours.agent_hours().values(), default=0.0),
                    "seconds": round(ours.seconds, 2),
                },
                "hotline_penalty_50": {
                    "status": strict.status,
                    "labour_cost_hours": round(strict.labour_cost, 2),
                    "under_staffed_intervals": strict.under_staffed_intervals,
                    "under_staffed_agent_intervals": strict.under_staffed_agent_intervals,
                    "objective": strict.objective,
                    "best_bound": strict.best_bound,
                    "seconds": round(strict.seconds, 2),
                },
                "hotline_penalty_50_fixed_lunch": {
                    "status": fixed_lunch.status,
                    "labour_cost_hours": round(fixed_lunch.labour_cost, 2),
                    "under_staffed_intervals": fixed_lunch.under_staffed_intervals,
                    "under_staffed_agent_intervals": fixed_lunch.under_staffed_agent_intervals,
                    "seconds": round(fixed_lunch.seconds, 2),
                },
                "pyworkforce": {
                    "status": solution["status"],
                    "labour_cost_hours": solution["cost"] / 2 if solution["cost"] >= 0 else None,
                    "under_staffed_intervals": int((peer_gap > 0).sum()),
                    "shifts": int(per_day.sum()),
                    "rosterable_on_150_agents_5_days": bool(
                        per_day.max() <= AGENTS and per_day.sum() <= AGENTS * 5
                    ),
                    "seconds": round(peer_seconds, 2),
                },
                "cost_ratio_hotline_to_pyworkforce": (
                    ours.labour_cost / (solution["cost"] / 2) if solution["cost"] > 0 else math.nan
                ),
                "cost_ratio_hotline_penalty_50_to_pyworkforce": (
                    strict.labour_cost / (solution["cost"] / 2)
                    if solution["cost"] > 0
                    else math.nan
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
