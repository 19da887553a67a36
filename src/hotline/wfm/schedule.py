"""Shift scheduling with OR-Tools CP-SAT: named agents, shift templates, breaks, labour rules.

Staffing (:mod:`hotline.wfm.erlang`) says how many agents each interval needs on the phones,
per skill. Scheduling turns that into a roster: which agent works which shift on which day,
on which skill, with breaks and lunch inside their windows, so that

* every agent works at most one shift a day, only when available, only on skills they have;
* paid hours per week stay within the agent's contract (minimum and maximum), shifts within
  the daily maximum, at least ``min_days_off`` days off, and at least ``min_rest_hours``
  between the end of one shift and the start of the next;
* the cost (hourly cost × paid hours) plus a **stated penalty per missing agent-interval**
  (under-staffing) is as small as possible.

Model. ``work[a, d, t, k]`` says agent *a* works template *t* on day *d* on skill *k*.
Breaks are placed in aggregate: for each day, template and skill an integer
``placed[d, t, k, p]`` counts the agents who take break placement *p*; those counts must add
up to the agents on that template, and coverage per interval is the sum of placement
coverages. Agents on the same template, day and skill are interchangeable for coverage, so
the counts are handed to named agents afterwards without loss. This keeps the model small
(no agent × placement variables). Templates do not cross midnight.

Pure: OR-Tools and NumPy only; no I/O.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray
from ortools.sat.python import cp_model

FloatArray = NDArray[np.float64]

#: Costs are integers in CP-SAT; money is scaled to hundredths.
_COST_SCALE = 100


@dataclass(frozen=True, slots=True)
class Break:
    """A break inside a shift: ``length`` intervals starting between two offsets from the
    shift start (inclusive). Unpaid breaks (lunch) do not count toward paid hours."""

    length: int
    earliest: int
    latest: int
    paid: bool = True

    def __post_init__(self) -> None:
        if self.length <= 0 or self.earliest < 0 or self.latest < self.earliest:
            raise ValueError("a break needs a positive length and earliest ≤ latest")


@dataclass(frozen=True, slots=True)
class ShiftTemplate:
    """A shift shape: starts at interval ``start`` of the day and lasts ``length`` intervals.

    >>> lunch = Break(length=2, earliest=7, latest=9, paid=False)
    >>> t = ShiftTemplate("early", start=14, length=18, breaks=(lunch,))
    >>> len(t.placements()), t.paid_intervals
    (3, 16)
    """

    name: str
    start: int
    length: int
    breaks: tuple[Break, ...] = ()

    @property
    def end(self) -> int:
        """Interval index just after the shift."""
        return self.start + self.length

    @property
    def paid_intervals(self) -> int:
        """Intervals paid: the shift less its unpaid breaks."""
        return self.length - sum(b.length for b in self.breaks if not b.paid)

    def placements(self) -> list[tuple[int, ...]]:
        """Every way to place the breaks (start offsets) without overlapping each other."""
        options = [range(b.earliest, b.latest + 1) for b in self.breaks]
        result = []
        for starts in itertools.product(*options):
            spans = sorted((s, s + b.length) for s, b in zip(starts, self.breaks, strict=True))
            fits = all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
            if fits and (not spans or spans[-1][1] <= self.length):
                result.append(tuple(starts))
        return result or [()]

    def coverage(self, placement: Sequence[int], slots: int) -> NDArray[np.int64]:
        """1 for each interval of the day the agent is on the phones with this placement."""
        row = np.zeros(slots, dtype=np.int64)
        row[self.start : self.end] = 1
        for offset, brk in zip(placement, self.breaks, strict=True):
            row[self.start + offset : self.start + offset + brk.length] = 0
        return row


@dataclass(frozen=True, slots=True)
class Agent:
    """A schedulable agent with skills, cost, contract and availability.

    ``available`` maps a weekday (Monday = 0) to the interval window ``(first, end)`` the
    agent can work in; a weekday missing from the map is a day the agent cannot work.
    ``None`` means available all day every day.
    """

    agent_id: str
    skills: frozenset[str] = frozenset({"default"})
    hourly_cost: float = 1.0
    min_week_hours: float = 0.0
    max_week_hours: float = 40.0
    max_day_hours: float = 10.0
    available: Mapping[int, tuple[int, int]] | None = None


@dataclass(frozen=True, slots=True)
class LabourRules:
    """Rules that hold for every agent: rest between shifts, and days off per 7 days of the
    horizon (a partial last week gets ``min_days_off × days ÷ 7`` of them, rounded down)."""

    min_rest_hours: float = 11.0
    min_days_off: int = 2


@dataclass(frozen=True)
class ScheduleProblem:
    """Requirements per skill (days × intervals), agents, templates and rules."""

    first_day: date
    interval_s: int
    requirements: Mapping[str, FloatArray]
    agents: Sequence[Agent]
    templates: Sequence[ShiftTemplate]
    rules: LabourRules = field(default_factory=LabourRules)
    #: Cost of one missing agent for one interval; ``None`` = 4 × the dearest hourly cost
    #: for the interval's length (covering is cheaper than missing unless a whole shift
    #: would be bought for a lone interval).
    under_staffing_penalty: float | None = None
    time_limit_s: float = 30.0
    workers: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.requirements:
            raise ValueError("requirements must name at least one skill")
        if self.interval_s <= 0 or 86400 % self.interval_s:
            raise ValueError(
                f"interval_s must divide a day (900, 1800, 3600…), not {self.interval_s}"
            )

    @property
    def days(self) -> int:
        """Days in the planning horizon."""
        return int(next(iter(self.requirements.values())).shape[0])

    @property
    def slots(self) -> int:
        """Intervals per day."""
        return 86400 // self.interval_s

    def penalty(self) -> float:
        """The under-staffing penalty per agent-interval actually used."""
        if self.under_staffing_penalty is not None:
            return self.under_staffing_penalty
        dearest = max((a.hourly_cost for a in self.agents), default=1.0)
        return 4.0 * dearest * self.interval_s / 3600.0


@dataclass(frozen=True, slots=True)
class Assignment:
    """One agent's shift on one day."""

    agent_id: str
    day: date
    template: str
    skill: str
    start: int
    end: int
    breaks: tuple[tuple[int, int], ...]  # (first interval, end interval) of each break
    paid_hours: float


@dataclass(frozen=True)
class ScheduleResult:
    """The roster, its coverage against requirements, and how good it is."""

    status: str
    assignments: list[Assignment]
    required: Mapping[str, FloatArray]
    scheduled: Mapping[str, FloatArray]
    labour_cost: float
    under_staffed_agent_intervals: float
    under_staffed_intervals: int
    penalty_per_agent_interval: float
    objective: float
    best_bound: float
    seconds: float

    def agent_hours(self) -> dict[str, float]:
        """Paid hours per agent over the horizon."""
        hours: dict[str, float] = {}
        for a in self.assignments:
            hours[a.agent_id] = hours.get(a.agent_id, 0.0) + a.paid_hours
        return hours


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, report: Callable[[float, float, float], None]) -> None:
        super().__init__()
        self._report = report

    def on_solution_callback(self) -> None:
        self._report(self.WallTime(), self.ObjectiveValue(), self.BestObjectiveBound())


def solve_schedule(
    problem: ScheduleProblem, *, progress: Callable[[float, float, float], None] | None = None
) -> ScheduleResult:
    """Build and solve the CP-SAT model; ``progress(seconds, objective, bound)`` is called on
    every improving solution (the CLI draws a progress bar from it).

    >>> req = {"default": np.array([[0, 1, 1, 1, 0, 0]], dtype=float)}
    >>> problem = ScheduleProblem(date(2026, 1, 5), 14400, req, [Agent("ann")],
    ...                           [ShiftTemplate("day", start=1, length=2),
    ...                            ShiftTemplate("late", start=3, length=2)],
    ...                           rules=LabourRules(min_days_off=0), time_limit_s=5)
    >>> r = solve_schedule(problem)
    >>> r.status, r.under_staffed_agent_intervals, [a.template for a in r.assignments]
    ('OPTIMAL', 1.0, ['day'])
    """
    started = time.perf_counter()
    model = cp_model.CpModel()
    days, slots = problem.days, problem.slots
    interval_h = problem.interval_s / 3600.0
    skills = sorted(problem.requirements)
    templates = list(problem.templates)
    placements = [t.placements() for t in templates]
    cover = [
        [t.coverage(p, slots) for p in ps] for t, ps in zip(templates, placements, strict=True)
    ]
    for skill, req in problem.requirements.items():
        if req.shape != (days, slots):
            raise ValueError(f"requirements for {skill!r} must be {days} × {slots}")

    work: dict[tuple[int, int, int, str], cp_model.IntVar] = {}
    on_day: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    by_template: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    paid_cost: list[tuple[cp_model.IntVar, int]] = []
    for a, agent in enumerate(problem.agents):
        usable_skills = [k for k in skills if k in agent.skills]
        for d in range(days):
            weekday = (problem.first_day + timedelta(days=d)).weekday()
            window = (0, slots) if agent.available is None else agent.available.get(weekday)
            for t, template in enumerate(templates):
                if window is None or template.start < window[0] or template.end > window[1]:
                    continue
                if template.length * interval_h > agent.max_day_hours + 1e-9:
                    continue
                for k in usable_skills:
                    var = model.new_bool_var(f"w_{a}_{d}_{t}_{k}")
                    work[a, d, t, k] = var
                    on_day.setdefault((a, d), []).append(var)
                    by_template.setdefault((a, d * len(templates) + t), []).append(var)
                    paid = template.paid_intervals
                    paid_cost.append(
                        (var, round(agent.hourly_cost * paid * interval_h * _COST_SCALE))
                    )
        for d in range(days):
            if (a, d) in on_day:
                model.add(sum(on_day[a, d]) <= 1)
        # Contract hours per week (a horizon of several weeks is checked week by week).
        for week_start in range(0, days, 7):
            paid_expr = sum(
                v * templates[t].paid_intervals
                for (aa, d, t, _k), v in work.items()
                if aa == a and week_start <= d < week_start + 7
            )
            week_days = min(7, days - week_start)
            # The weekly maximum holds for a partial week too; the minimum is prorated.
            model.add(paid_expr * problem.interval_s <= round(agent.max_week_hours * 3600))
            if agent.min_week_hours > 0:
                share = week_days / 7.0
                model.add(
                    paid_expr * problem.interval_s >= round(agent.min_week_hours * 3600 * share)
                )
            worked = [
                sum(on_day[a, d])
                for d in range(week_start, week_start + week_days)
                if (a, d) in on_day
            ]
            if worked:
                # Days off per calendar week; a partial last week gets its share, rounded down.
                days_off = problem.rules.min_days_off * week_days // 7
                model.add(sum(worked) <= max(0, week_days - days_off))
        # Minimum rest between consecutive days' shifts.
        rest_slots = problem.rules.min_rest_hours * 3600 / problem.interval_s
        for d in range(days - 1):
            for t1, first in enumerate(templates):
                for t2, second in enumerate(templates):
                    if slots - first.end + second.start >= rest_slots:
                        continue
                    left = by_template.get((a, d * len(templates) + t1), [])
                    right = by_template.get((a, (d + 1) * len(templates) + t2), [])
                    if left and right:
                        model.add(sum(left) + sum(right) <= 1)

    # Aggregate break placement and coverage per skill.
    shortages: list[cp_model.IntVar] = []
    coverage_exprs: dict[tuple[str, int, int], list[tuple[cp_model.IntVar, int]]] = {}
    placed: dict[tuple[int, int, str, int], cp_model.IntVar] = {}
    for d in range(days):
        for t in range(len(templates)):
            for k in skills:
                staff = [
                    v for (aa, dd, tt, kk), v in work.items() if dd == d and tt == t and kk == k
                ]
                if not staff:
                    continue
                counts = []
                for p in range(len(placements[t])):
                    count = model.new_int_var(0, len(staff), f"p_{d}_{t}_{k}_{p}")
                    placed[d, t, k, p] = count
                    counts.append(count)
                    row = cover[t][p]
                    for on in np.flatnonzero(row):
                        coverage_exprs.setdefault((k, d, int(on)), []).append((count, 1))
                model.add(sum(counts) == sum(staff))
    penalty = round(problem.penalty() * _COST_SCALE)
    for k in skills:
        req = problem.requirements[k]
        for d in range(days):
            for s in range(slots):
                need = int(np.ceil(req[d, s] - 1e-9))
                if need <= 0:
                    continue
                short = model.new_int_var(0, need, f"u_{k}_{d}_{s}")
                terms = coverage_exprs.get((k, d, s), [])
                model.add(sum(c for c, _ in terms) + short >= need)
                shortages.append(short)
    model.minimize(sum(v * c for v, c in paid_cost) + penalty * sum(shortages))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = problem.time_limit_s
    solver.parameters.num_workers = problem.workers
    solver.parameters.random_seed = problem.seed
    callback = _Progress(progress) if progress is not None else None
    status = solver.solve(model, callback)
    status_name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ScheduleResult(
            status_name,
            [],
            problem.requirements,
            {k: np.zeros((days, slots)) for k in skills},
            0.0,
            float("nan"),
            -1,
            problem.penalty(),
            float("nan"),
            float("nan"),
            time.perf_counter() - started,
        )

    # Hand the placement counts to named agents.
    assignments: list[Assignment] = []
    scheduled = {k: np.zeros((days, slots)) for k in skills}
    labour_cost = 0.0
    for d in range(days):
        day = problem.first_day + timedelta(days=d)
        for t, template in enumerate(templates):
            for k in skills:
                names = [
                    aa
                    for (aa, dd, tt, kk), v in work.items()
                    if dd == d and tt == t and kk == k and solver.value(v)
                ]
                pool = [
                    p
                    for p in range(len(placements[t]))
                    for _ in range(
                        solver.value(placed[d, t, k, p]) if (d, t, k, p) in placed else 0
                    )
                ]
                for aa, p in zip(names, pool, strict=True):
                    agent = problem.agents[aa]
                    placement = placements[t][p]
                    breaks = tuple(
                        (template.start + off, template.start + off + b.length)
                        for off, b in zip(placement, template.breaks, strict=True)
                    )
                    paid_h = template.paid_intervals * interval_h
                    labour_cost += agent.hourly_cost * paid_h
                    scheduled[k][d] += cover[t][p]
                    assignments.append(
                        Assignment(
                            agent.agent_id,
                            day,
                            template.name,
                            k,
                            template.start,
                            template.end,
                            breaks,
                            paid_h,
                        )
                    )
    short_total = 0.0
    short_intervals = 0
    for k in skills:
        gap = np.maximum(0.0, np.ceil(problem.requirements[k] - 1e-9) - scheduled[k])
        short_total += float(gap.sum())
        short_intervals += int((gap > 0).sum())
    assignments.sort(key=lambda x: (x.agent_id, x.day))
    return ScheduleResult(
        status=status_name,
        assignments=assignments,
        required=problem.requirements,
        scheduled=scheduled,
        labour_cost=labour_cost,
        under_staffed_agent_intervals=short_total,
        under_staffed_intervals=short_intervals,
        penalty_per_agent_interval=problem.penalty(),
        objective=solver.objective_value / _COST_SCALE,
        best_bound=solver.best_objective_bound / _COST_SCALE,
        seconds=time.perf_counter() - started,
    )
