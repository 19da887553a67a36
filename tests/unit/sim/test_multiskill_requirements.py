"""The multi-skill requirements search run on the simulator (the real routing engine).

Two queues, each 80 % answered within 20 s, 30 contacts of 3 minutes per half hour (3
Erlangs each). Erlang C staffs each queue on its own; agents who hold both skills pool the
two queues, so the simulator's search needs fewer than the sum. Small loads and two
replications keep each evaluation to a fraction of a second.
"""

from __future__ import annotations

import itertools

from hotline.routing.model import AgentConfig, QueueConfig
from hotline.sim.staffing import plan_evaluator, verify_intervals
from hotline.wfm.multiskill import IntervalLoad, MultiSkillCenter, QueueLoad, StaffingPlan

INTERVAL_S = 1800.0


def _center(*, pooled: bool) -> MultiSkillCenter:
    """Two queues; six agents per team. Pooled: one team holding both skills; else one
    team per skill."""
    queues = tuple(
        QueueConfig(q, requirements=(f"{q} >= 1",), target_service_level=0.8,
                    target_threshold_s=20.0, wrap_up_s=0.0)
        for q in ("repair", "install")
    )  # fmt: skip
    agents: dict[str, AgentConfig] = {}
    teams: dict[str, tuple[str, ...]] = {}
    groups = {"both": {"repair": 1, "install": 1}} if pooled else {
        "repairers": {"repair": 1}, "installers": {"install": 1}
    }  # fmt: skip
    for team, skills in groups.items():
        ids = tuple(f"{team}-{n}" for n in range(6))
        teams[team] = ids
        agents.update({a: AgentConfig(a, skills=dict(skills)) for a in ids})
    return MultiSkillCenter(queues=queues, agents=agents, teams=teams, default_capacity={})


LOAD = IntervalLoad("09:00", (QueueLoad("repair", 30, 180), QueueLoad("install", 30, 180)))


def test_more_agents_are_never_worse() -> None:
    """With common random numbers (the same seed, so the same callers) each added agent
    leaves every queue's service level and ASA no worse."""
    center = _center(pooled=True)
    evaluate = plan_evaluator(
        center, LOAD, interval_s=INTERVAL_S, replications=2, seed=5, warmup_s=600
    )
    levels = []
    for agents in range(5, 10):
        outcome = evaluate(StaffingPlan({"both": agents}))
        levels.append(
            [(outcome.queues[q].service_level.mean, -outcome.queues[q].asa_s.mean)
             for q in ("repair", "install")]
        )  # fmt: skip
    for fewer, more in itertools.pairwise(levels):
        for (sl_fewer, asa_fewer), (sl_more, asa_more) in zip(fewer, more, strict=True):
            assert sl_more >= sl_fewer and asa_more >= asa_fewer
    assert levels[0][0][0] < levels[-1][0][0]  # and the range is not flat


def test_pooled_agents_need_fewer_than_the_erlang_sum() -> None:
    """One team holding both skills meets both targets with fewer agents than Erlang's
    per-queue answers added up; two single-skill teams cannot pool, and need about that."""
    (pooled,) = verify_intervals(
        _center(pooled=True), [LOAD], interval_s=INTERVAL_S, plan=None, search=True,
        replications=2, seed=3, warmup_s=600, max_evaluations=12,
    )  # fmt: skip
    assert pooled.evaluation.meets(_center(pooled=True))
    assert pooled.erlang_plan.total == 10  # 5 per queue: Erlang C, 3 Erlangs, 80/20
    assert pooled.evaluation.plan.total < pooled.erlang_plan.total
    (apart,) = verify_intervals(
        _center(pooled=False), [LOAD], interval_s=INTERVAL_S, plan=None, search=True,
        replications=2, seed=3, warmup_s=600, max_evaluations=12,
    )  # fmt: skip
    assert apart.evaluation.meets(_center(pooled=False))
    assert pooled.evaluation.plan.total < apart.evaluation.plan.total
