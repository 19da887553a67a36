"""Multi-skill staffing: check a plan of agents per team against every queue's target.

Erlang C and Erlang A staff one queue served by one pool of identical agents. A multi-skill
center is not that: a repair agent who also takes installation calls serves two queues, ageing
widens a queue to more agents as contacts wait, and a VIP queue with priority takes agents
first. Adding the per-queue Erlang answers over-staffs a center that pools (the agents idle on
one queue pick up the other's contacts), and can under-staff a queue that others starve.

This module is the planning half of the answer; the discrete-event simulator (which drives the
real routing engine) measures each plan, through an evaluator passed in as a function so that
the pure search can be tested with any evaluator:

1. :func:`erlang_baseline` gives each queue's own Erlang answer (C, or A with patience) for its
   target and assigns it to the queue's *home team* (:func:`home_teams`), the team whose
   members most often qualify for the queue; the sum per team is the starting plan.
2. The evaluator simulates the plan (``hotline.sim.staffing``) and returns per-queue figures
   with confidence intervals (:class:`PlanEvaluation`).
3. :func:`search_plan` adds one agent at a time to the home team of the queue furthest below
   its target until every queue meets it, then removes agents from teams while every target
   still holds, bounded by a number of evaluations and a time limit.

A plan names agents on the phones per team (:class:`StaffingPlan`). A team staffed with fewer
agents than it has puts its first members (in the configuration's order) on the phones; with
more, its members are repeated in order with the same skills (``a001~2``), standing for hires
with that profile.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from hotline.config.center import CenterConfig
from hotline.core.documents import csv_records, load_yaml
from hotline.core.errors import Problem, ValidationFailed
from hotline.routing.from_center import (
    AgentConfig,
    QueueConfig,
    SkillTerm,
    matches_all,
    parse_requirements,
    routing_config_from_center,
)
from hotline.wfm.erlang import ServiceTarget, StaffingAnswer, queue_figures, required_agents

__all__ = [
    "DECISION_RULES",
    "Estimate",
    "Evaluator",
    "IntervalLoad",
    "MultiSkillCenter",
    "PlanEvaluation",
    "QueueLoad",
    "QueueOutcome",
    "SearchResult",
    "SearchStep",
    "StaffingPlan",
    "center_from_config",
    "check_plan",
    "check_volumes",
    "comparison_rows",
    "erlang_baseline",
    "home_teams",
    "parse_plan",
    "parse_volumes",
    "read_plan",
    "read_volumes",
    "search_plan",
    "team_rows",
]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class QueueLoad:
    """Contacts offered to one queue in one interval, their AHT and (optionally) patience.

    ``aht_s`` is talk + hold + after-contact work (METRICS.md ``aht_s``).
    """

    queue: str
    offered: float
    aht_s: float
    patience_s: float | None = None

    def __post_init__(self) -> None:
        if self.offered < 0:
            raise ValueError(f"queue {self.queue}: offered must not be negative")
        if self.aht_s <= 0:
            raise ValueError(f"queue {self.queue}: aht_s must be positive")
        if self.patience_s is not None and self.patience_s <= 0:
            raise ValueError(f"queue {self.queue}: patience_s must be positive")


@dataclass(frozen=True, slots=True)
class IntervalLoad:
    """The load of every queue in one interval (``label``: its start, or ``None``)."""

    label: str | None
    loads: tuple[QueueLoad, ...]


@dataclass(frozen=True, slots=True)
class MultiSkillCenter:
    """What staffing needs from a center configuration: routing rules and teams.

    ``teams`` lists each team's agent ids in the configuration's order; ``short_abandon_s``
    holds each queue's short-abandon threshold (its METRICS.md service level leaves those out).
    """

    queues: tuple[QueueConfig, ...]
    agents: Mapping[str, AgentConfig]
    teams: Mapping[str, tuple[str, ...]]
    default_capacity: Mapping[Any, int]
    short_abandon_s: Mapping[str, float] = field(default_factory=dict)
    timezone: str = "UTC"

    def queue(self, queue_id: str) -> QueueConfig:
        """The queue named ``queue_id``."""
        for config in self.queues:
            if config.id == queue_id:
                return config
        raise KeyError(queue_id)

    def target(self, queue_id: str) -> ServiceTarget:
        """The queue's own target as an Erlang :class:`ServiceTarget`.

        A 100 % target cannot be met by any finite staff in Erlang's model, so it is read as
        99.9 %.
        """
        config = self.queue(queue_id)
        return ServiceTarget(
            service_level=min(config.target_service_level, 0.999),
            answer_within_s=config.target_threshold_s,
        )

    def staffed_agents(self, plan: StaffingPlan) -> tuple[AgentConfig, ...]:
        """The agents on the phones under ``plan`` (members first, then repeated profiles).

        >>> center = MultiSkillCenter(queues=(), agents={"a": AgentConfig("a"),
        ...     "b": AgentConfig("b")}, teams={"t": ("a", "b")}, default_capacity={})
        >>> [a.id for a in center.staffed_agents(StaffingPlan({"t": 3}))]
        ['a', 'b', 'a~2']
        """
        staffed: list[AgentConfig] = []
        for team, count in plan.items():
            members = self.teams.get(team)
            if not members:
                raise ValueError(f"team {team!r} is not in the center (or has no agents)")
            for index in range(count):
                member = self.agents[members[index % len(members)]]
                copy = index // len(members)
                staffed.append(
                    member if copy == 0 else replace(member, id=f"{member.id}~{copy + 1}")
                )
        return tuple(staffed)


def center_from_config(center: CenterConfig) -> MultiSkillCenter:
    """The staffing view of a checked center configuration (opening hours left out).

    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> center = center_from_config(load_center(sample))
    >>> sorted(center.teams), len(center.teams["t-vip"])
    (['t-care', 't-install', 't-repair', 't-vip'], 10)
    """
    routing = routing_config_from_center(center, honour_hours=False)
    teams: dict[str, list[str]] = {team.id: [] for team in center.teams}
    for agent in center.agents:
        teams.setdefault(agent.team, []).append(agent.id)
    return MultiSkillCenter(
        queues=routing.queues,
        agents={agent.id: agent for agent in routing.agents},
        teams={team: tuple(ids) for team, ids in teams.items() if ids},
        default_capacity=dict(routing.default_capacity),
        short_abandon_s={q.id: q.target.short_abandon_s for q in center.queues},
        timezone=center.center.timezone,
    )


class StaffingPlan(dict[str, int]):
    """Agents on the phones per team: ``StaffingPlan({"t-repair": 8, "t-vip": 4})``.

    >>> StaffingPlan({"b": 2, "a": 1}).total, StaffingPlan({"a": 1}).key()
    (3, (('a', 1),))
    """

    @property
    def total(self) -> int:
        """Agents in the plan."""
        return sum(self.values())

    def key(self) -> tuple[tuple[str, int], ...]:
        """A hashable, order-free form (to remember plans already evaluated)."""
        return tuple(sorted((team, n) for team, n in self.items() if n > 0))

    def changed(self, team: str, by: int) -> StaffingPlan:
        """A copy with ``by`` more (or fewer) agents in ``team``."""
        plan = StaffingPlan(self)
        plan[team] = max(0, plan.get(team, 0) + by)
        return plan

    def describe(self) -> str:
        """``t-install=6 t-repair=9`` (teams in name order)."""
        return " ".join(f"{team}={n}" for team, n in sorted(self.items()))


def _number(value: str | None, *, where: str, problems: list[Problem], line: int) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        problems.append(Problem(rule=f"{text!r} is not a number", file=where, line=line))
        return None
    if not math.isfinite(number) or number < 0:
        problems.append(
            Problem(rule=f"{text!r} must be a non-negative number", file=where, line=line)
        )
        return None
    return number


def parse_volumes(text: str, *, source: str = "<volumes>") -> list[IntervalLoad]:
    """Read per-queue volumes: CSV ``queue,offered,aht_s[,patience_s][,interval_start]``.

    Without ``interval_start`` every row belongs to one interval; with it (a per-queue
    forecast) rows are grouped by interval, in the file's order. Every bad row is reported.

    >>> parse_volumes("queue,offered,aht_s\\nrepair,120,240\\n")[0].loads
    (QueueLoad(queue='repair', offered=120.0, aht_s=240.0, patience_s=None),)
    """
    header, reader = csv_records(text, source=source)
    columns = set(header)
    if not {"queue", "offered", "aht_s"} <= columns:
        raise ValidationFailed(
            [Problem(rule="volumes need queue, offered and aht_s columns", file=source, line=1)]
        )
    problems: list[Problem] = []
    grouped: dict[str | None, list[QueueLoad]] = {}
    for line, row in reader:
        queue = (row.get("queue") or "").strip()
        offered = _number(row.get("offered"), where=source, problems=problems, line=line)
        aht = _number(row.get("aht_s"), where=source, problems=problems, line=line)
        patience = _number(row.get("patience_s"), where=source, problems=problems, line=line)
        label = (row.get("interval_start") or "").strip() or None
        if not queue or offered is None or aht is None:
            problems.append(
                Problem(rule="queue, offered and aht_s are required", file=source, line=line)
            )
            continue
        if aht <= 0 or patience == 0:
            problems.append(
                Problem(rule="aht_s and patience_s must be positive", file=source, line=line)
            )
            continue
        loads = grouped.setdefault(label, [])
        if any(load.queue == queue for load in loads):
            problems.append(Problem(rule=f"queue {queue!r} given twice", file=source, line=line))
            continue
        loads.append(QueueLoad(queue, offered, aht, patience))
    if problems:
        raise ValidationFailed(problems)
    if not grouped:
        raise ValidationFailed([Problem(rule="no volumes given", file=source)])
    return [IntervalLoad(label, tuple(loads)) for label, loads in grouped.items()]


def read_volumes(path: Path) -> list[IntervalLoad]:
    """Read a volumes CSV file (see :func:`parse_volumes`)."""
    return parse_volumes(path.read_text(encoding="utf-8"), source=str(path))


def parse_plan(text: str, *, source: str = "<plan>") -> StaffingPlan:
    """Read a staffing plan: CSV ``team,agents``, or YAML ``{team: agents}``.

    >>> parse_plan("team,agents\\nt-repair,8\\nt-vip,4\\n")
    {'t-repair': 8, 't-vip': 4}
    >>> parse_plan("t-repair: 8")
    {'t-repair': 8}
    """
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    rows: list[tuple[str, Any, int | None]] = []
    if first.replace(" ", "").startswith("team,"):
        _, records = csv_records(text, source=source)
        rows = [((r.get("team") or "").strip(), r.get("agents"), line) for line, r in records]
    else:
        try:
            data = load_yaml(text, source=source)
        except yaml.YAMLError as exc:
            raise ValidationFailed([Problem(rule=f"not CSV or YAML: {exc}", file=source)]) from exc
        if isinstance(data, dict) and isinstance(data.get("plan"), dict):
            data = data["plan"]
        if not isinstance(data, dict):
            raise ValidationFailed(
                [Problem(rule="a plan is CSV team,agents or a YAML mapping", file=source)]
            )
        rows = [(str(team), value, None) for team, value in data.items()]
    plan = StaffingPlan()
    problems: list[Problem] = []
    for team, value, line in rows:
        try:
            count = int(str(value).strip())
        except ValueError:
            count = -1
        if not team or count < 0:
            problems.append(
                Problem(rule="each team needs a whole number of agents", file=source, line=line,
                        field=team or None)
            )  # fmt: skip
            continue
        plan[team] = count
    if problems:
        raise ValidationFailed(problems)
    return plan


def read_plan(path: Path) -> StaffingPlan:
    """Read a staffing plan file (see :func:`parse_plan`)."""
    return parse_plan(path.read_text(encoding="utf-8"), source=str(path))


# --------------------------------------------------------------------------- Erlang start


def home_teams(center: MultiSkillCenter, queues: Iterable[str]) -> dict[str, str]:
    """Each queue's home team: the most members meeting its requirements before any ageing.

    Ties go to the higher mean proficiency in the queue's required skills, then to the team
    that is home to fewer queues so far, then to the team's name.
    """
    homes: dict[str, str] = {}
    for queue_id in queues:
        config = center.queue(queue_id)
        terms = parse_requirements(config.requirements)
        skills = [t.skill for t in terms if isinstance(t, SkillTerm)]
        best: tuple[float, float, int, str] | None = None
        for team, members in center.teams.items():
            eligible = [
                center.agents[m]
                for m in members
                if matches_all(terms, center.agents[m].skills, center.agents[m].languages)
            ]
            if not eligible:
                continue
            proficiency = sum(a.skills.get(s, 0) for a in eligible for s in skills) / max(
                1, len(eligible) * max(1, len(skills))
            )
            used = sum(1 for home in homes.values() if home == team)
            score = (-float(len(eligible)), -proficiency, used, team)
            if best is None or score < best:
                best = score
        if best is None:
            raise ValueError(f"no team of the center has an agent who can serve queue {queue_id!r}")
        homes[queue_id] = best[3]
    return homes


def erlang_baseline(
    center: MultiSkillCenter, interval: IntervalLoad, *, interval_s: float
) -> tuple[dict[str, StaffingAnswer], dict[str, str], StaffingPlan]:
    """Each queue's own Erlang answer, its home team, and the plan adding them up per team.

    Erlang C without patience, Erlang A with it (:func:`hotline.wfm.erlang.required_agents`),
    each for the queue's own target from the center configuration.
    """
    answers: dict[str, StaffingAnswer] = {}
    for load in interval.loads:
        answers[load.queue] = required_agents(
            calls=load.offered,
            aht_s=load.aht_s,
            interval_s=interval_s,
            target=center.target(load.queue),
            patience_s=load.patience_s,
        )
    homes = home_teams(center, [load.queue for load in interval.loads])
    plan = StaffingPlan({team: 0 for team in center.teams})
    for queue_id, answer in answers.items():
        plan[homes[queue_id]] += answer.agents
    return answers, homes, plan


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class Estimate:
    """A simulated figure: mean over replications and 95 % confidence half-width."""

    mean: float
    half_width: float

    def as_dict(self) -> dict[str, float | None]:
        """JSON-ready (NaN becomes ``None``)."""
        return {
            "mean": None if math.isnan(self.mean) else self.mean,
            "ci95_half_width": None if math.isnan(self.half_width) else self.half_width,
        }


@dataclass(frozen=True, slots=True)
class QueueOutcome:
    """One queue's simulated figures (METRICS.md definitions, the queue's own thresholds)."""

    queue: str
    offered: Estimate
    service_level: Estimate
    asa_s: Estimate
    abandon_rate: Estimate


@dataclass(frozen=True, slots=True)
class PlanEvaluation:
    """What simulating one plan measured: per queue, per team (occupancy) and the center."""

    plan: StaffingPlan
    queues: Mapping[str, QueueOutcome]
    team_occupancy: Mapping[str, Estimate]
    center_occupancy: Estimate
    replications: int
    seed: int

    def gaps(self, center: MultiSkillCenter, *, rule: str = "mean") -> dict[str, float]:
        """How far each queue's service level falls short of its target (≤ 0: met).

        ``rule="mean"`` judges the mean over replications; ``rule="lower"`` the lower end of
        its 95 % confidence interval (a plan must meet the target with confidence). A queue
        with nothing measured (no contacts) counts as met.
        """
        if rule not in DECISION_RULES:
            raise ValueError(f"rule must be one of {', '.join(DECISION_RULES)}")
        gaps: dict[str, float] = {}
        for queue_id, outcome in self.queues.items():
            level = outcome.service_level.mean
            if rule == "lower" and not math.isnan(outcome.service_level.half_width):
                level -= outcome.service_level.half_width
            target = center.queue(queue_id).target_service_level
            gaps[queue_id] = 0.0 if math.isnan(level) else target - level
        return gaps

    def meets(self, center: MultiSkillCenter, *, rule: str = "mean") -> bool:
        """Whether every queue's service level reaches its target under ``rule``."""
        return all(gap <= 1e-12 for gap in self.gaps(center, rule=rule).values())


#: How a plan is judged to meet a target: by the mean, or by the lower 95 % bound.
DECISION_RULES = ("mean", "lower")

#: Simulates a plan and measures it (``hotline.sim.staffing`` provides the real one).
Evaluator = Callable[[StaffingPlan], PlanEvaluation]


@dataclass(frozen=True, slots=True)
class SearchStep:
    """One evaluation made by the search: what changed, and whether it was kept."""

    step: int
    phase: str
    change: str
    plan: StaffingPlan
    meets: bool
    worst_queue: str | None
    worst_gap: float
    kept: bool


@dataclass(frozen=True)
class SearchResult:
    """The search's answer and how it got there.

    ``status``: ``met`` (every target holds and no team can give back one more agent), ``met
    (budget)`` (targets hold, but the budget ran out while trimming), or ``not met`` (the
    budget ran out, or a full team blocked the way, before every target held; the plan is
    the last one tried).
    """

    plan: StaffingPlan
    evaluation: PlanEvaluation
    status: str
    steps: tuple[SearchStep, ...]
    evaluations: int
    wall_s: float


def search_plan(
    center: MultiSkillCenter,
    start: StaffingPlan,
    evaluate: Evaluator,
    *,
    homes: Mapping[str, str],
    max_evaluations: int = 40,
    time_limit_s: float = 300.0,
    max_per_team: int | None = None,
    rule: str = "mean",
    progress: Callable[[SearchStep], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SearchResult:
    """Fewest agents per team that meet every queue's target, by greedy add then trim.

    Add: while a queue misses its target, one agent joins the home team of the queue with the
    largest gap (target − simulated service level). Trim: teams in order of most agents each
    give one agent back if every target still holds, until no team can. Each distinct plan is
    evaluated once (the evaluator should use the same seed throughout, so that plans are
    compared on the same callers). Stops after ``max_evaluations`` plans or once
    ``time_limit_s`` has passed (checked between evaluations, so one evaluation may run over).
    ``rule`` says how a target counts as met (:meth:`PlanEvaluation.gaps`).

    >>> center = MultiSkillCenter(queues=(QueueConfig("q", target_service_level=0.8),),
    ...     agents={"a": AgentConfig("a")}, teams={"t": ("a",)}, default_capacity={})
    >>> def fake(plan):  # service level rises 10 points per agent
    ...     sl = Estimate(min(1.0, 0.1 * plan.get("t", 0)), 0.0)
    ...     none = Estimate(0.0, 0.0)
    ...     return PlanEvaluation(plan, {"q": QueueOutcome("q", none, sl, none, none)},
    ...                           {}, none, 1, 1)
    >>> search_plan(center, StaffingPlan({"t": 5}), fake, homes={"q": "t"}).plan
    {'t': 8}
    """
    began = clock()
    seen: dict[tuple[tuple[str, int], ...], PlanEvaluation] = {}
    steps: list[SearchStep] = []

    def out_of_budget() -> bool:
        return len(seen) >= max_evaluations or clock() - began >= time_limit_s

    def measure(plan: StaffingPlan, phase: str, change: str) -> PlanEvaluation:
        key = plan.key()
        evaluation = seen.get(key)
        if evaluation is None:
            evaluation = evaluate(plan)
            seen[key] = evaluation
        gaps = evaluation.gaps(center, rule=rule)
        worst = max(gaps, key=lambda q: gaps[q]) if gaps else None
        step = SearchStep(
            step=len(steps) + 1,
            phase=phase,
            change=change,
            plan=plan,
            meets=evaluation.meets(center, rule=rule),
            worst_queue=worst,
            worst_gap=gaps[worst] if worst is not None else 0.0,
            kept=False,
        )
        steps.append(step)
        if progress is not None:
            progress(step)
        return evaluation

    def keep() -> None:
        steps[-1] = replace(steps[-1], kept=True)

    plan = StaffingPlan(start)
    current = measure(plan, "start", "Erlang per queue")
    keep()
    # Add: close the largest gap first.
    while not current.meets(center, rule=rule) and not out_of_budget():
        gaps = current.gaps(center, rule=rule)
        worst = max(gaps, key=lambda q: gaps[q])
        team = homes[worst]
        if max_per_team is not None and plan.get(team, 0) >= max_per_team:
            # The home team is full: the next team able to serve that queue takes the agent.
            options = [
                t for t in sorted(center.teams, key=lambda t: plan.get(t, 0))
                if t != team and plan.get(t, 0) < max_per_team and _serves(center, t, worst)
            ]  # fmt: skip
            if not options:
                break
            team = options[0]
        plan = plan.changed(team, +1)
        current = measure(plan, "add", f"+1 {team} (for {worst})")
        keep()
    met = current.meets(center, rule=rule)
    best_plan, best = plan, current
    trimmed = False
    # Trim: give agents back while every target holds.
    if met:
        blocked: set[str] = set()
        while not out_of_budget():
            candidates = [t for t in best_plan if best_plan[t] > 0 and t not in blocked]
            if not candidates:
                trimmed = True
                break
            team = max(candidates, key=lambda t: (best_plan[t], t))
            trial = best_plan.changed(team, -1)
            evaluation = measure(trial, "trim", f"-1 {team}")
            if evaluation.meets(center, rule=rule):
                keep()
                best_plan, best = trial, evaluation
            else:
                blocked.add(team)
    status = "not met" if not met else "met" if trimmed else "met (budget)"
    return SearchResult(
        plan=best_plan,
        evaluation=best,
        status=status,
        steps=tuple(steps),
        evaluations=len(seen),
        wall_s=clock() - began,
    )


def _serves(center: MultiSkillCenter, team: str, queue_id: str) -> bool:
    terms = parse_requirements(center.queue(queue_id).requirements)
    return any(
        matches_all(terms, center.agents[m].skills, center.agents[m].languages)
        for m in center.teams.get(team, ())
    )


# --------------------------------------------------------------------------- report


def comparison_rows(
    center: MultiSkillCenter,
    interval: IntervalLoad,
    evaluation: PlanEvaluation,
    *,
    answers: Mapping[str, StaffingAnswer],
    homes: Mapping[str, str],
    interval_s: float,
    rule: str = "mean",
) -> list[dict[str, Any]]:
    """One row per queue: target, Erlang answer and prediction, simulated figures with CIs.

    ``erlang_service_level`` is what Erlang predicts for the queue alone with the agents the
    plan gives its home team (shared in proportion to the Erlang answers when a team is home
    to several queues); ``erlang_agents`` is the queue's own Erlang answer for its target.
    Simulated figures use METRICS.md definitions: ``service_level`` leaves short abandons
    out, whereas Erlang's counts every abandon against it. ``occupancy`` is the home team's.
    ``meets_target`` judges the service level by ``rule`` (:meth:`PlanEvaluation.gaps`).
    """
    gaps = evaluation.gaps(center, rule=rule)
    rows: list[dict[str, Any]] = []
    for load in interval.loads:
        config = center.queue(load.queue)
        home = homes[load.queue]
        sharing = [q for q, team in homes.items() if team == home]
        wanted = sum(answers[q].agents for q in sharing)
        heads = evaluation.plan.get(home, 0)
        share = (
            heads
            if len(sharing) == 1 or wanted == 0
            else heads * answers[load.queue].agents / wanted
        )
        theory = queue_figures(
            agents=math.floor(share + 1e-9),
            calls=load.offered,
            aht_s=load.aht_s,
            interval_s=interval_s,
            answer_within_s=config.target_threshold_s,
            patience_s=load.patience_s,
        )
        outcome = evaluation.queues.get(load.queue)
        occupancy = evaluation.team_occupancy.get(home, Estimate(math.nan, math.nan))

        def figure(estimate: Estimate | None, digits: int) -> tuple[float | None, float | None]:
            if estimate is None or math.isnan(estimate.mean):
                return None, None
            half = None if math.isnan(estimate.half_width) else round(estimate.half_width, digits)
            return round(estimate.mean, digits), half

        level, level_ci = figure(outcome.service_level if outcome else None, 4)
        asa, asa_ci = figure(outcome.asa_s if outcome else None, 1)
        abandon, abandon_ci = figure(outcome.abandon_rate if outcome else None, 4)
        offered, _ = figure(outcome.offered if outcome else None, 1)
        occ, occ_ci = figure(occupancy, 4)
        rows.append({
            "interval_start": interval.label,
            "queue": load.queue,
            "offered": load.offered,
            "simulated_offered": offered,
            "aht_s": load.aht_s,
            "target": f"{config.target_service_level:.0%}/{config.target_threshold_s:g}s",
            "home_team": home,
            "home_agents": heads,
            "erlang_agents": answers[load.queue].agents,
            "erlang_service_level": round(theory.service_level, 4),
            "service_level": level,
            "service_level_ci95": level_ci,
            "asa_s": asa,
            "asa_ci95": asa_ci,
            "abandon_rate": abandon,
            "abandon_ci95": abandon_ci,
            "occupancy": occ,
            "occupancy_ci95": occ_ci,
            "meets_target": None if level is None else gaps[load.queue] <= 1e-12,
        })  # fmt: skip
    return rows


def team_rows(evaluation: PlanEvaluation, center: MultiSkillCenter) -> list[dict[str, Any]]:
    """One row per team in the plan: agents on the phones, roster size, occupancy."""
    rows = []
    for team in sorted(evaluation.plan):
        occupancy = evaluation.team_occupancy.get(team)
        rows.append({
            "team": team,
            "agents": evaluation.plan[team],
            "roster": len(center.teams.get(team, ())),
            "occupancy": None if occupancy is None or math.isnan(occupancy.mean)
            else round(occupancy.mean, 4),
        })  # fmt: skip
    return rows


def check_plan(center: MultiSkillCenter, plan: StaffingPlan) -> None:
    """Refuse a plan naming a team the center does not have (all such teams reported)."""
    unknown = sorted(set(plan) - set(center.teams))
    if unknown:
        raise ValidationFailed(
            [
                Problem(rule=f"team {team!r} is not in the center configuration", field=team)
                for team in unknown
            ]
        )


def check_volumes(center: MultiSkillCenter, intervals: Sequence[IntervalLoad]) -> None:
    """Refuse volumes for queues the center does not have (all such rows reported)."""
    known = {q.id for q in center.queues}
    unknown = sorted({load.queue for i in intervals for load in i.loads} - known)
    if unknown:
        raise ValidationFailed(
            [
                Problem(rule=f"queue {q!r} is not in the center configuration", field=q)
                for q in unknown
            ]
        )
