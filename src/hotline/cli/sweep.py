"""``hotline simulate-sweep``: a what-if grid (staffing × routing rules × volume) simulated.

Every cell of the grid runs the scenario through the real routing engine for the grid's
replications with the same seed (common random numbers), here or fanned out on Dask
(``--workers N`` for a local cluster of processes, ``--scheduler tcp://host:port`` for an
existing one); the results are the same either way. Prints one row per cell and writes the
table as CSV.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from hotline.cli.simulate import (
    SCHEDULER_OPTION,
    WORKERS_OPTION,
    executor_or_exit,
    refuse,
    simulation_progress,
)
from hotline.core.errors import ValidationFailed
from hotline.core.settings import load_settings
from hotline.sim.sweep import CellFigures, SweepResult, describe_cells, load_grid, sweep

console = Console(width=None if sys.stdout.isatty() else 160)

#: Columns of the printed table: figure, heading, format of the mean and half-width.
_SHOWN = (
    ("service_level", "service level", "{:.1%}"),
    ("asa_s", "ASA s", "{:.1f}"),
    ("abandon_rate", "abandoned", "{:.1%}"),
    ("occupancy", "occupancy", "{:.1%}"),
)


def _cell(mean: Any, half: Any, form: str) -> str:
    if mean is None:
        return "—"
    text = form.format(mean)
    if half is not None and not math.isnan(half):
        text += " ± " + form.format(half).removesuffix("%").removesuffix(".0")
    return text


def _table(result: SweepResult) -> Table:
    grid = result.grid
    table = Table(
        title=f"{grid.scenario.name}: {describe_cells(result.cells)}, mean ± 95 % CI over "
        f"{grid.replications} replications (seed {grid.seed})"
    )
    for heading in ("staffing", "routing", "volume", "agents"):
        table.add_column(heading, justify="left" if heading == "routing" else "right")
    for _, heading, _ in _SHOWN:
        table.add_column(heading, justify="right")
    for row in result.table().iter_rows(named=True):
        table.add_row(
            f"×{row['staffing']:g}",
            row["routing"],
            f"×{row['volume']:g}",
            str(row["agents"]),
            *(_cell(row[name], row[f"{name}_ci95"], form) for name, _, form in _SHOWN),
        )
    return table


def simulate_sweep_command(
    grid_file: Path = typer.Argument(..., help="Grid file (YAML): scenario and levels."),
    csv: Path = typer.Option(
        None,
        "--csv",
        help="Where to write the table (default: $HOTLINE_HOME/sim/<scenario>/sweep.csv).",
    ),
    workers: int = WORKERS_OPTION,
    scheduler: str = SCHEDULER_OPTION,
) -> None:
    """Simulate a what-if grid: staffing levels × routing rule variants × forecast volumes.

    Each cell is the scenario with its agent groups' head counts, every queue's rules and the
    arrival rates changed; all cells use the grid's seed, so they meet the same callers.
    """
    try:
        grid = load_grid(grid_file)
    except ValidationFailed as failed:
        refuse(failed)
    cells = grid.cells()
    console.print(
        f"Scenario {grid.scenario.name!r}: {describe_cells(cells)} × {grid.replications} "
        f"replications, seed {grid.seed}",
        highlight=False,
    )
    with (
        executor_or_exit(workers, scheduler) as executor,
        simulation_progress() as progress,
    ):
        task = progress.add_task("Simulating", total=len(cells) * grid.replications, contacts=0)

        def advance(figures: CellFigures) -> None:
            progress.update(
                task,
                advance=1,
                contacts=progress.tasks[task].fields["contacts"] + figures.contacts,
            )

        result = sweep(grid, executor=executor, done=advance)
    console.print(_table(result))
    path = (
        csv
        or load_settings().home
        / "sim"
        / "".join(c if c.isalnum() or c in "-_" else "_" for c in grid.scenario.name)
        / "sweep.csv"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    result.table().write_csv(path)
    console.print(f"{len(cells)} cells written to {path}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``hotline simulate-sweep`` to the ``hotline`` command."""
    app.command("simulate-sweep")(simulate_sweep_command)
