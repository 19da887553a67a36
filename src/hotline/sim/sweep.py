"""What-if sweeps: a scenario run over a grid of staffing levels, routing rules and volumes.

A manager's what-if is seldom one question. "How many agents do we need on Monday morning if
the forecast is 20 % low, and does offering a callback after a minute change the answer?" is
a grid: **staffing levels** (every agent group's head count times a factor) × **routing rule
variants** (the center file's rules as they are, without overflow, with another agent
selection strategy, with a callback offer) × **forecast scenarios** (arrival volumes times a
factor). Each cell is simulated through the real routing engine for a number of replications,
and every cell uses the same seed, so cells meet the same callers (common random numbers): a
difference between two cells is due to what differs between them, not to luck.

Every (cell, replication) is an independent task (:class:`CellTask`), measured where it runs
(:func:`measure_cell`: the center's figures from the replication's event log, by the metrics
engine, warm-up left out), so only a few numbers travel back from a Dask worker. The grid is
read from YAML (:func:`load_grid`)::

    scenario: appliance_monday.yaml   # relative to this file
    replications: 5
    seed: 7
    staffing: [0.8, 1.0, 1.2]         # head count × factor, every agent group
    volume: [1.0, 1.2]                # arrival rates × factor (forecast scenarios)
    routing:                          # rule variants, applied to every queue
      - name: as configured
      - name: no overflow
        overflow: false
      - name: most proficient
        strategy: highest_proficiency
      - name: callback after 60 s
        callback_after_s: 60

Problems are reported together, each with the file and the field it is in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from hotline.core.errors import Problem, ValidationFailed
from hotline.metrics.compute import events_to_frame, queue_figures
from hotline.routing.model import (
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    Strategy,
)
from hotline.sim.driver import Simulation
from hotline.sim.fanout import Executor, InProcess
from hotline.sim.results import center_occupancy, confidence_interval, metric_settings
from hotline.sim.scenario import AgentGroup, Scenario, load_scenario, read_yaml_file

#: The center's figures measured in each replication of each cell, in table order.
CELL_FIGURES: tuple[str, ...] = (
    "offered",
    "service_level",
    "asa_s",
    "abandon_rate",
    "occupancy",
)
#: The most tasks (cells × replications) one sweep may ask for.
MAX_TASKS = 20_000
_GRID_KEYS = {"scenario", "replications", "seed", "staffing", "volume", "routing"}
_VARIANT_KEYS = {"name", "strategy", "overflow", "callback_after_s"}


@dataclass(frozen=True)
class RoutingVariant:
    """A change to every queue's routing rules; all fields ``None``: the rules as configured.

    >>> RoutingVariant("no overflow", overflow=False).describe()
    'overflow off'
    """

    name: str
    strategy: Strategy | None = None
    overflow: bool | None = None
    callback_after_s: float | None = None

    def describe(self) -> str:
        """What the variant changes, in words."""
        parts = []
        if self.strategy is not None:
            parts.append(f"strategy {self.strategy.value}")
        if self.overflow is False:
            parts.append("overflow off")
        if self.callback_after_s is not None:
            parts.append(f"callback after {self.callback_after_s:g} s")
        return ", ".join(parts) or "as configured"


@dataclass(frozen=True)
class Grid:
    """The sweep: a base scenario and the levels of each dimension."""

    scenario: Scenario
    staffing: tuple[float, ...] = (1.0,)
    routing: tuple[RoutingVariant, ...] = (RoutingVariant("as configured"),)
    volume: tuple[float, ...] = (1.0,)
    replications: int = 3
    seed: int = 1

    def cells(self) -> list[Cell]:
        """Every combination, staffing slowest, then routing, then volume."""
        return [
            Cell(staffing, variant, volume)
            for staffing in self.staffing
            for variant in self.routing
            for volume in self.volume
        ]


@dataclass(frozen=True)
class Cell:
    """One combination of the grid's levels."""

    staffing: float
    routing: RoutingVariant
    volume: float

    def scenario(self, base: Scenario) -> Scenario:
        """The base scenario with this cell's staffing, routing rules and volume.

        >>> from hotline.sim.scenario import scenario_from_dict
        >>> base = scenario_from_dict({
        ...     "queues": [{"id": "q", "overflow_after_s": 30, "overflow_to": "q"}],
        ...     "agents": [{"group": "g", "count": 10}],
        ...     "arrivals": [{"queue": "q", "rates_per_hour": [60]}]})
        >>> s = Cell(0.8, RoutingVariant("x", overflow=False), 1.5).scenario(base)
        >>> s.agents[0].count, s.queues[0].config.overflow, s.arrivals[0].rates_per_s[0] * 3600
        (8, (), 90.0)
        """
        return replace(
            base,
            name=f"{base.name} [{self.label}]",
            queues=tuple(replace(spec, config=self._route(spec.config)) for spec in base.queues),
            agents=tuple(_staff(group, self.staffing) for group in base.agents),
            arrivals=tuple(
                replace(stream, rates_per_s=tuple(r * self.volume for r in stream.rates_per_s))
                for stream in base.arrivals
            ),
        )

    @property
    def label(self) -> str:
        """``staffing ×0.8, as configured, volume ×1.2``."""
        return f"staffing ×{self.staffing:g}, {self.routing.name}, volume ×{self.volume:g}"

    def _route(self, config: Any) -> Any:
        variant = self.routing
        overflow = config.overflow if variant.overflow is not False else ()
        if variant.callback_after_s is not None:
            rule = OverflowRule(
                OverflowCondition.WAIT_EXCEEDS,
                OverflowAction.CALLBACK,
                variant.callback_after_s,
                config.id,
            )
            # Tried first, as the scenario's own callback option is.
            overflow = (rule, *overflow)
        strategy = variant.strategy if variant.strategy is not None else config.strategy
        return replace(config, overflow=tuple(overflow), strategy=strategy)


def _staff(group: AgentGroup, factor: float) -> AgentGroup:
    """``group`` with its head count times ``factor`` (named agents repeated as ``id~2`` …)."""
    count = round(group.count * factor)
    per_interval = (
        tuple(round(n * factor) for n in group.per_interval)
        if group.per_interval is not None
        else None
    )
    members = group.members
    if members:
        members = tuple(
            members[i % len(members)]
            if i < len(members)
            else replace(members[i % len(members)], id=f"{members[i % len(members)].id}~"
                     f"{i // len(members) + 1}")
            for i in range(count)
        )  # fmt: skip
    return replace(group, count=count, per_interval=per_interval, members=members)


@dataclass(frozen=True)
class CellTask:
    """One replication of one cell: the cell's scenario, the sweep's seed, the replication."""

    cell: int
    scenario: Scenario
    seed: int
    replication: int


@dataclass(frozen=True)
class CellFigures:
    """The center's figures of one replication of one cell (``None``: nothing to measure)."""

    cell: int
    replication: int
    contacts: int
    figures: dict[str, float | None] = field(default_factory=dict)


def measure_cell(task: CellTask) -> CellFigures:
    """Simulate one replication of a cell and measure the center (the workers' task).

    Figures are the metrics engine's (METRICS.md, each queue's own service-level threshold),
    over the contacts that queued after the warm-up; occupancy until arrivals stop.
    """
    scenario = task.scenario
    run = Simulation(scenario, seed=task.seed, replication=task.replication).run()
    since = scenario.start + scenario.warmup_s
    frame = events_to_frame(run.events).filter(pl.col("arrived_at") >= since)
    figures: dict[str, float | None] = dict.fromkeys(CELL_FIGURES)
    if frame.height:
        row = queue_figures(
            frame, interval="all", by=(), settings=metric_settings(scenario)
        ).rows()[0]
        for name in CELL_FIGURES:
            if name in row and row[name] is not None:
                figures[name] = float(row[name])
    occupancy = center_occupancy(
        run.events, since=since, until=scenario.start + scenario.duration_s
    )
    figures["occupancy"] = None if math.isnan(occupancy) else occupancy
    return CellFigures(task.cell, task.replication, run.contacts, figures)


@dataclass(frozen=True)
class SweepResult:
    """Each cell's replications, in grid order; :meth:`table` summarises them."""

    grid: Grid
    cells: list[Cell]
    figures: list[list[CellFigures]]

    def table(self) -> pl.DataFrame:
        """One row per cell: its levels, agents, and each figure's mean and 95 % half-width."""
        rows = []
        for cell, replications in zip(self.cells, self.figures, strict=True):
            row: dict[str, Any] = {
                "staffing": cell.staffing,
                "routing": cell.routing.name,
                "volume": cell.volume,
                "agents": sum(g.count for g in cell.scenario(self.grid.scenario).agents),
                "replications": len(replications),
                "contacts": sum(r.contacts for r in replications),
            }
            for name in CELL_FIGURES:
                values = [r.figures[name] for r in replications]
                mean, half = confidence_interval([v for v in values if v is not None])
                row[name] = None if math.isnan(mean) else mean
                row[f"{name}_ci95"] = None if math.isnan(half) else half
            rows.append(row)
        return pl.DataFrame(rows)


def sweep(
    grid: Grid,
    *,
    executor: Executor | None = None,
    done: Callable[[CellFigures], None] | None = None,
) -> SweepResult:
    """Run every cell's replications on ``executor`` (default: here), gathered in grid order.

    >>> from hotline.sim.scenario import scenario_from_dict
    >>> base = scenario_from_dict({
    ...     "queues": [{"id": "q", "handle_time": {"constant": 60}}],
    ...     "agents": [{"group": "g", "count": 2}],
    ...     "arrivals": [{"queue": "q", "rates_per_hour": [60]}], "interval_s": 600})
    >>> result = sweep(Grid(base, staffing=(0.5, 1.0), replications=2, seed=3))
    >>> result.table()["agents"].to_list()
    [1, 2]
    """
    cells = grid.cells()
    tasks = [
        CellTask(index, cell.scenario(grid.scenario), grid.seed, replication)
        for index, cell in enumerate(cells)
        for replication in range(grid.replications)
    ]
    results = (executor or InProcess()).map(
        measure_cell, tasks, done=None if done is None else (lambda _i, figures: done(figures))
    )
    per_cell: list[list[CellFigures]] = [[] for _ in cells]
    for figures in results:
        per_cell[figures.cell].append(figures)
    return SweepResult(grid, cells, per_cell)


# ------------------------------------------------------------------------------ the grid file


def load_grid(path: Path) -> Grid:
    """Read and check a grid file; every problem is reported with the file and field."""
    return grid_from_dict(read_yaml_file(path), source=str(path), folder=path.parent)


def grid_from_dict(data: Any, *, source: str = "<grid>", folder: Path | None = None) -> Grid:
    """Build a grid from parsed YAML (see the module documentation for the format).

    >>> grid_from_dict({"scenario": "x.yaml", "staffing": [1, "lots"]}, source="g.yaml")
    Traceback (most recent call last):
    ...
    hotline.core.errors.ValidationFailed: g.yaml: staffing[1]: 'lots' is not a factor in (0, 10]
    """
    problems: list[Problem] = []

    def problem(where: str, rule: str) -> None:
        problems.append(Problem(rule=rule, file=source, field=where))

    if not isinstance(data, dict):
        raise ValidationFailed([Problem(rule="a sweep grid is a YAML mapping", file=source)])
    for key in sorted(set(map(str, data)) - _GRID_KEYS):
        problem(key, f"unknown setting; use {', '.join(sorted(_GRID_KEYS))}")
    replications = data.get("replications", 3)
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        problem("replications", "a whole number of at least 2 (for a confidence interval)")
        replications = 2
    seed = data.get("seed", None)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        problem("seed", f"{seed!r} is not a whole number")
        seed = None
    staffing = _factors(data.get("staffing", [1.0]), "staffing", problem)
    volume = _factors(data.get("volume", [1.0]), "volume", problem)
    variants = _variants(data.get("routing", [{"name": "as configured"}]), problem)
    cells = len(staffing) * len(volume) * len(variants)
    if cells * replications > MAX_TASKS:
        problem(
            "replications",
            f"{cells} cells × {replications} replications is more than {MAX_TASKS} runs",
        )
    scenario: Scenario | None = None
    if "scenario" not in data:
        problem("scenario", "name the scenario file the grid varies")
    else:
        scenario_path = Path(str(data["scenario"]))
        if not scenario_path.is_absolute() and folder is not None:
            scenario_path = folder / scenario_path
        if not problems:
            try:
                scenario = load_scenario(scenario_path)
            except ValidationFailed as failed:
                problems.extend(failed.problems)
    if problems or scenario is None:
        raise ValidationFailed(problems)
    return Grid(
        scenario=scenario,
        staffing=tuple(staffing),
        routing=tuple(variants),
        volume=tuple(volume),
        replications=replications,
        seed=scenario.seed if seed is None else seed,
    )


def _factors(value: Any, where: str, problem: Callable[[str, str], None]) -> list[float]:
    """A list of distinct positive factors (at most 10: ten times the base is plenty)."""
    if not isinstance(value, list) or not value:
        problem(where, "a non-empty list of factors, e.g. [0.9, 1.0, 1.1]")
        return [1.0]
    factors: list[float] = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int | float) or not 0 < item <= 10:
            problem(f"{where}[{index}]", f"{item!r} is not a factor in (0, 10]")
        elif float(item) in factors:
            problem(f"{where}[{index}]", f"{item!r} is already in the list")
        else:
            factors.append(float(item))
    return factors or [1.0]


def _variants(value: Any, problem: Callable[[str, str], None]) -> list[RoutingVariant]:
    if not isinstance(value, list) or not value:
        problem("routing", "a non-empty list of rule variants, each with a name")
        return [RoutingVariant("as configured")]
    variants: list[RoutingVariant] = []
    names: set[str] = set()
    for index, raw in enumerate(value):
        where = f"routing[{index}]"
        if not isinstance(raw, dict) or not raw.get("name"):
            problem(where, "a rule variant is a mapping with a name")
            continue
        for key in sorted(set(map(str, raw)) - _VARIANT_KEYS):
            problem(f"{where}.{key}", f"unknown change; use {', '.join(sorted(_VARIANT_KEYS))}")
        name = str(raw["name"])
        if name in names:
            problem(f"{where}.name", f"{name!r} names another variant already")
        names.add(name)
        strategy: Strategy | None = None
        if raw.get("strategy") is not None:
            try:
                strategy = Strategy(str(raw["strategy"]))
            except ValueError:
                choices = ", ".join(s.value for s in Strategy)
                problem(f"{where}.strategy", f"unknown strategy {raw['strategy']!r}; use {choices}")
        overflow = raw.get("overflow")
        if overflow is not None and not isinstance(overflow, bool):
            problem(f"{where}.overflow", "true (as configured) or false (no overflow rules)")
            overflow = None
        callback = raw.get("callback_after_s")
        if callback is not None and (
            isinstance(callback, bool) or not isinstance(callback, int | float) or callback <= 0
        ):
            problem(f"{where}.callback_after_s", f"{callback!r} is not a positive number")
            callback = None
        variants.append(
            RoutingVariant(
                name,
                strategy=strategy,
                overflow=overflow,
                callback_after_s=None if callback is None else float(callback),
            )
        )
    return variants


def describe_cells(cells: Sequence[Cell]) -> str:
    """``12 cells (3 staffing × 2 routing × 2 volume)``."""
    staffing = len({c.staffing for c in cells})
    routing = len({c.routing.name for c in cells})
    volume = len({c.volume for c in cells})
    return f"{len(cells)} cells ({staffing} staffing × {routing} routing × {volume} volume)"
