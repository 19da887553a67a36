"""Simulate a multi-skill staffing plan: the evaluator behind ``hotline wfm verify-multiskill``.

:mod:`hotline.wfm.multiskill` plans (Erlang start, greedy search); this module measures a plan
the only way that respects pooling, ageing and priorities: by running the center's real
routing rules through the discrete-event driver. Each replication starts the center empty,
lets the interval's load run for a warm-up, then measures the contacts that queue during one
interval of that same load (a stationary interval, the situation Erlang's formulas describe).
Contacts still waiting at the end are followed until they are answered or give up.

The queue's after-contact work is folded into the handle time: the volumes' AHT is talk + hold
+ wrap (METRICS.md), so the simulated conversation is drawn exponential with that mean and the
queue's wrap-up is set to zero, which keeps the comparison with Erlang like for like.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from hotline.metrics.compute import (
    HANDLING_STATES,
    IDLE_STATES,
    agent_state_segments,
    events_to_frame,
    queue_figures,
)
from hotline.metrics.definitions import MetricSettings, QueueThresholds
from hotline.sim.distributions import Exponential, Never
from hotline.sim.driver import Replication, simulate
from hotline.sim.results import confidence_interval
from hotline.sim.scenario import AgentGroup, ArrivalStream, QueueSpec, Scenario
from hotline.wfm.erlang import StaffingAnswer
from hotline.wfm.multiskill import (
    Estimate,
    IntervalLoad,
    MultiSkillCenter,
    PlanEvaluation,
    QueueOutcome,
    SearchResult,
    SearchStep,
    StaffingPlan,
    check_plan,
    check_volumes,
    comparison_rows,
    erlang_baseline,
    search_plan,
    team_rows,
)

#: 2026-03-02 00:00 UTC, a Monday: simulated time only needs to be some fixed instant.
_START = 1772409600.0


def plan_scenario(
    center: MultiSkillCenter,
    interval: IntervalLoad,
    plan: StaffingPlan,
    *,
    interval_s: float,
    warmup_s: float,
    measure_s: float | None = None,
) -> Scenario:
    """The simulation scenario for one plan: the center's queues, the plan's agents, the load.

    >>> from hotline.routing.model import AgentConfig, QueueConfig
    >>> from hotline.wfm.multiskill import QueueLoad
    >>> center = MultiSkillCenter(queues=(QueueConfig("q"),), agents={"a": AgentConfig("a")},
    ...                           teams={"t": ("a",)}, default_capacity={})
    >>> s = plan_scenario(center, IntervalLoad(None, (QueueLoad("q", 10, 120),)),
    ...                   StaffingPlan({"t": 2}), interval_s=1800, warmup_s=600)
    >>> s.duration_s, [a.id for a in s.agents[0].members], s.queues[0].config.wrap_up_s
    (2400, ['a', 'a~2'], 0.0)
    """
    loads = {load.queue: load for load in interval.loads}
    specs = []
    for config in center.queues:
        load = loads.get(config.id)
        aht = load.aht_s if load is not None else config.expected_handle_s
        patience = load.patience_s if load is not None else None
        specs.append(
            QueueSpec(
                config=replace(config, wrap_up_s=0.0, expected_handle_s=aht),
                handle_time=Exponential(aht),
                patience=Exponential(patience) if patience else Never(),
            )
        )
    length = warmup_s + (interval_s if measure_s is None else measure_s)
    agents = tuple(
        replace(agent, wrap_up_s=None) if agent.wrap_up_s else agent
        for agent in center.staffed_agents(plan)
    )
    return Scenario(
        name="multi-skill plan " + plan.describe(),
        start=_START,
        timezone=center.timezone,
        # One arrival interval covering warm-up and the measured interval: the load is steady.
        interval_s=length,
        queues=tuple(specs),
        agents=(AgentGroup(name="plan", count=len(agents), skills={}, members=agents),),
        arrivals=tuple(
            ArrivalStream(queue=load.queue, rates_per_s=(load.offered / interval_s,))
            for load in interval.loads
            if load.offered > 0
        ),
        warmup_s=warmup_s,
        default_capacity=dict(center.default_capacity),
    )


def _settings(center: MultiSkillCenter) -> MetricSettings:
    return MetricSettings(
        per_queue={
            q.id: QueueThresholds(
                service_level_s=q.target_threshold_s,
                short_abandon_s=center.short_abandon_s.get(q.id, 5.0),
            )
            for q in center.queues
        }
    )


def _team_of(agent_id: str, center: MultiSkillCenter) -> str | None:
    base = agent_id.split("~", 1)[0]
    for team, members in center.teams.items():
        if base in members:
            return team
    return None


def _occupancy(segments: pl.DataFrame) -> float:
    length = pl.col("end") - pl.col("start")
    busy = float(segments.filter(pl.col("state").is_in(list(HANDLING_STATES)))
                 .select(length.sum()).item() or 0.0)  # fmt: skip
    idle = float(segments.filter(pl.col("state").is_in(list(IDLE_STATES)))
                 .select(length.sum()).item() or 0.0)  # fmt: skip
    return busy / (busy + idle) if busy + idle > 0 else math.nan


def measure_replication(
    replication: Replication,
    center: MultiSkillCenter,
    *,
    since: float,
    until: float,
    settings: MetricSettings,
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Per-queue figures of the contacts queued in ``[since, until)`` and team occupancy.

    Queue figures come from the metrics engine (METRICS.md definitions); occupancy is
    handling ÷ (handling + available idle time) of each team's agents over the same window.
    """
    frame = events_to_frame(replication.events).filter(
        pl.col("queued_at").is_not_null()
        & (pl.col("queued_at") >= since)
        & (pl.col("queued_at") < until)
    )
    figures: dict[str, dict[str, float]] = {}
    if frame.height:
        table = queue_figures(frame, interval="all", by=("queue",), settings=settings).table
        for row in table.iter_rows(named=True):
            figures[str(row["queue"])] = {
                name: math.nan if row[name] is None else float(row[name])
                for name in ("offered", "service_level", "asa_s", "abandon_rate")
            }
    segments = (
        agent_state_segments(replication.events)
        .with_columns(
            pl.max_horizontal(pl.col("start"), pl.lit(since)).alias("start"),
            pl.min_horizontal(pl.col("end"), pl.lit(until)).alias("end"),
        )
        .filter(pl.col("end") > pl.col("start"))
    )
    teams = {agent: _team_of(agent, center) for agent in segments["agent"].unique().to_list()}
    segments = segments.with_columns(
        pl.col("agent").replace_strict(teams, default=None, return_dtype=pl.String).alias("team")
    )
    occupancy = {"*": _occupancy(segments)}
    for team in sorted({t for t in teams.values() if t is not None}):
        occupancy[team] = _occupancy(segments.filter(pl.col("team") == team))
    return figures, occupancy


def _estimate(values: list[float]) -> Estimate:
    mean, half = confidence_interval(values)
    return Estimate(mean, half)


def plan_evaluator(
    center: MultiSkillCenter,
    interval: IntervalLoad,
    *,
    interval_s: float,
    replications: int,
    seed: int,
    warmup_s: float = 900.0,
    measure_s: float | None = None,
    on_replication: Callable[[Replication], None] | None = None,
) -> Callable[[StaffingPlan], PlanEvaluation]:
    """An evaluator for :func:`hotline.wfm.multiskill.search_plan`: simulate, then measure.

    Every plan is run with the same ``seed``, so two plans meet the same callers (common
    random numbers) and their difference is due to the staffing, not to luck. Each
    replication measures ``measure_s`` seconds of the interval's steady load (default: one
    interval); a longer window narrows the confidence intervals more cheaply than more
    replications, since each pays its warm-up once.
    """
    if replications < 2:
        raise ValueError("at least two replications are needed for a confidence interval")
    settings = _settings(center)
    measured = interval_s if measure_s is None else measure_s
    if measured <= 0:
        raise ValueError("the measured time must be positive")
    since = _START + warmup_s
    until = since + measured

    def evaluate(plan: StaffingPlan) -> PlanEvaluation:
        scenario = plan_scenario(
            center, interval, plan, interval_s=interval_s, warmup_s=warmup_s, measure_s=measured
        )
        run = simulate(scenario, replications=replications, seed=seed, progress=on_replication)
        per_queue: dict[str, dict[str, list[float]]] = {}
        per_team: dict[str, list[float]] = {}
        for replication in run.replications:
            figures, occupancy = measure_replication(
                replication, center, since=since, until=until, settings=settings
            )
            for load in interval.loads:
                row = figures.get(load.queue)
                slot = per_queue.setdefault(load.queue, {})
                for name in ("offered", "service_level", "asa_s", "abandon_rate"):
                    value = row[name] if row is not None else math.nan
                    if name == "offered" and row is None:
                        value = 0.0
                    slot.setdefault(name, []).append(value)
            for team, value in occupancy.items():
                per_team.setdefault(team, []).append(value)
        queues = {
            queue: QueueOutcome(
                queue=queue,
                offered=_estimate(values["offered"]),
                service_level=_estimate(values["service_level"]),
                asa_s=_estimate(values["asa_s"]),
                abandon_rate=_estimate(values["abandon_rate"]),
            )
            for queue, values in per_queue.items()
        }
        center_values = per_team.pop("*", [math.nan])
        return PlanEvaluation(
            plan=StaffingPlan(plan),
            queues=queues,
            team_occupancy={team: _estimate(values) for team, values in per_team.items()},
            center_occupancy=_estimate(center_values),
            replications=replications,
            seed=seed,
        )

    return evaluate


@dataclass(frozen=True)
class IntervalVerdict:
    """One interval's answer: Erlang per queue, the plan checked (or found), its figures."""

    interval: IntervalLoad
    interval_s: float
    answers: Mapping[str, StaffingAnswer]
    homes: Mapping[str, str]
    erlang_plan: StaffingPlan
    evaluation: PlanEvaluation
    search: SearchResult | None = None
    rule: str = "mean"

    def queue_rows(self, center: MultiSkillCenter) -> list[dict[str, Any]]:
        """One row per queue (see :func:`hotline.wfm.multiskill.comparison_rows`)."""
        return comparison_rows(
            center,
            self.interval,
            self.evaluation,
            answers=self.answers,
            homes=self.homes,
            interval_s=self.interval_s,
            rule=self.rule,
        )

    def as_dict(self, center: MultiSkillCenter) -> dict[str, Any]:
        """JSON-ready: plan, Erlang plan, queue rows, team rows, center occupancy, search."""
        evaluation = self.evaluation
        data: dict[str, Any] = {
            "interval_start": self.interval.label,
            "plan": dict(evaluation.plan),
            "agents": evaluation.plan.total,
            "erlang_plan": dict(self.erlang_plan),
            "erlang_agents": self.erlang_plan.total,
            "meets_targets": evaluation.meets(center, rule=self.rule),
            "rule": self.rule,
            "queues": self.queue_rows(center),
            "teams": team_rows(evaluation, center),
            "center_occupancy": evaluation.center_occupancy.as_dict(),
            "replications": evaluation.replications,
            "seed": evaluation.seed,
        }
        if self.search is not None:
            data["search"] = {
                "status": self.search.status,
                "evaluations": self.search.evaluations,
                "wall_s": round(self.search.wall_s, 2),
                "steps": [
                    {
                        "step": s.step, "phase": s.phase, "change": s.change,
                        "agents": s.plan.total, "meets": s.meets, "worst_queue": s.worst_queue,
                        "worst_gap": round(s.worst_gap, 4), "kept": s.kept,
                    }
                    for s in self.search.steps
                ],
            }  # fmt: skip
        return data


def verify_intervals(
    center: MultiSkillCenter,
    intervals: Sequence[IntervalLoad],
    *,
    interval_s: float,
    plan: StaffingPlan | None,
    search: bool,
    replications: int,
    seed: int,
    warmup_s: float = 900.0,
    measure_s: float | None = None,
    rule: str = "mean",
    max_evaluations: int = 40,
    time_limit_s: float = 300.0,
    max_per_team: int | None = None,
    on_replication: Callable[[Replication], None] | None = None,
    on_step: Callable[[SearchStep], None] | None = None,
) -> list[IntervalVerdict]:
    """Check ``plan`` (default: the Erlang plan) in each interval, or search from it.

    ``time_limit_s`` and ``max_evaluations`` bound each interval's search.

    >>> from hotline.routing.model import AgentConfig, QueueConfig
    >>> from hotline.wfm.multiskill import QueueLoad
    >>> center = MultiSkillCenter(queues=(QueueConfig("q"),), agents={"a": AgentConfig(
    ...     "a", skills={"q": 1})}, teams={"t": ("a",)}, default_capacity={})
    >>> verdict, = verify_intervals(center, [IntervalLoad(None, (QueueLoad("q", 20, 180),))],
    ...     interval_s=1800, plan=None, search=False, replications=2, seed=1, warmup_s=0)
    >>> verdict.erlang_plan, verdict.evaluation.plan.total
    ({'t': 4}, 4)
    """
    check_volumes(center, intervals)
    if plan is not None:
        check_plan(center, plan)
    verdicts = []
    for interval in intervals:
        answers, homes, erlang_plan = erlang_baseline(center, interval, interval_s=interval_s)
        evaluate = plan_evaluator(
            center,
            interval,
            interval_s=interval_s,
            replications=replications,
            seed=seed,
            warmup_s=warmup_s,
            measure_s=measure_s,
            on_replication=on_replication,
        )
        start = StaffingPlan({**{t: 0 for t in erlang_plan}, **plan}) if plan else erlang_plan
        if search:
            result = search_plan(
                center,
                start,
                evaluate,
                homes=homes,
                max_evaluations=max_evaluations,
                time_limit_s=time_limit_s,
                max_per_team=max_per_team,
                rule=rule,
                progress=on_step,
            )
            verdicts.append(
                IntervalVerdict(
                    interval,
                    interval_s,
                    answers,
                    homes,
                    erlang_plan,
                    result.evaluation,
                    result,
                    rule=rule,
                )
            )
        else:
            verdicts.append(
                IntervalVerdict(
                    interval, interval_s, answers, homes, erlang_plan, evaluate(start), rule=rule
                )
            )
    return verdicts
