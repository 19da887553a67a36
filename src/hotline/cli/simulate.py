"""``hotline simulate``: run the digital twin (the real routing engine on a virtual clock)."""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hotline.cli.importing import read_or_exit
from hotline.core.errors import ValidationFailed
from hotline.core.settings import load_settings
from hotline.metrics.importer import load_mapping
from hotline.sim import results
from hotline.sim.driver import Replication, SimulationRun
from hotline.sim.fanout import Executor, InProcess, open_executor, replicate
from hotline.sim.fit import compare, fit_scenario, replay_scenario
from hotline.sim.scenario import Scenario, load_scenario
from hotline.store import event_log
from hotline.store.db import make_engine, make_session_factory, session_scope
from hotline.store.migrate import upgrade

console = Console(width=None if sys.stdout.isatty() else 160)
error_console = Console(stderr=True)


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _peak_staff(scenario: Scenario) -> int:
    """The most agents working in any one interval of a fitted scenario."""
    counts = [g.per_interval for g in scenario.agents if g.per_interval is not None]
    return max((sum(column) for column in zip(*counts, strict=True)), default=0)


def _summary_table(run: SimulationRun, summary: results.Summary) -> Table:
    queues = sorted({row["queue"] for row in summary.rows()}, key=lambda q: (q == "*", q))
    table = Table(
        title=f"{run.scenario.name}: mean ± 95 % CI over {summary.replications} replications "
        f"(seed {run.seed})"
    )
    table.add_column("figure")
    for queue in queues:
        table.add_column("center" if queue == "*" else queue, justify="right")
    cells: dict[tuple[str, str], str] = {}
    for row in summary.rows():
        half = row["ci95_half_width"]
        text = _number(row["mean"])
        if half is not None and not math.isnan(half):
            text += f" ± {_number(half)}"
        cells[(row["figure"], row["queue"])] = text
    for figure in (*results.SUMMARY_FIGURES, "occupancy"):
        table.add_row(figure, *(cells.get((figure, q), "—") for q in queues))
    return table


def _frame_table(title: str, frame: Any) -> Table:
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(column, justify="left" if column == "interval_start" else "right")
    for row in frame.iter_rows():
        table.add_row(
            *(
                value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else _number(value)
                for value in row
            )
        )
    return table


def refuse(failed: ValidationFailed) -> NoReturn:
    """Print every located problem of a refused file and exit with status 1."""
    for problem in failed.problems:
        error_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(1) from None


def simulation_progress() -> Progress:
    """Rich progress of simulated runs on stderr: runs done and contacts simulated."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[contacts]} contacts"),
        TimeElapsedColumn(),
        console=error_console,
    )


WORKERS_OPTION = typer.Option(
    None,
    "--workers",
    "-w",
    min=1,
    help="Run the replications on a local Dask cluster of this many worker processes "
    "(1 or none: in this process). The results are the same for the same seed.",
)
SCHEDULER_OPTION = typer.Option(
    None,
    "--scheduler",
    help="Run the replications on an existing Dask cluster (tcp://host:port) whose "
    "workers have the same Hotline installed.",
)


@contextlib.contextmanager
def executor_or_exit(workers: int | None, scheduler: str | None) -> Iterator[Executor]:
    """The executor ``--workers``/``--scheduler`` ask for; a refusal exits with its reason."""
    with contextlib.ExitStack() as stack:
        try:
            executor = stack.enter_context(open_executor(workers=workers, scheduler=scheduler))
        except (ValueError, OSError) as exc:
            error_console.print(f"[red]error[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        if not isinstance(executor, InProcess):
            error_console.print(f"Running on {executor.description}", highlight=False)
        yield executor


def simulate_command(
    scenario_file: Path = typer.Argument(
        None, help="Scenario file (YAML); not needed with --fit-from."
    ),
    replications: int = typer.Option(10, "--replications", "-n", help="Independent runs."),
    seed: int = typer.Option(None, "--seed", "-s", help="Seed (default: the scenario's)."),
    out: Path = typer.Option(
        None,
        "--out",
        "-o",
        help="Folder for events.parquet, charts and summary.json "
        "(default: $HOTLINE_HOME/sim/<scenario>).",
    ),
    fit_from: Path = typer.Option(
        None, "--fit-from", help="Contact records to fit arrivals, handle time, patience, staff."
    ),
    mapping: str = typer.Option(
        None, "--mapping", "-m", help="Mapping for --fit-from (e.g. anonymous_bank)."
    ),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of the history's naive timestamps."),
    interval_s: float = typer.Option(
        900, "--interval-s", help="Fitted interval length (arrival rates and staffing)."
    ),
    skip_bad_rows: bool = typer.Option(
        False, "--skip-bad-rows", help="Skip bad rows of --fit-from (each is listed)."
    ),
    charts: bool = typer.Option(True, "--charts/--no-charts", help="Write PNG charts."),
    replay: bool = typer.Option(
        False,
        "--replay",
        help="With --fit-from: replay the real contacts (arrival, handle time, patience) "
        "through the engine instead of fitted Poisson arrivals.",
    ),
    store: bool = typer.Option(
        False,
        "--store",
        help="Append each replication's event log to the database as source "
        "'sim:<scenario>:<replication>' for reports.",
    ),
    workers: int = WORKERS_OPTION,
    scheduler: str = SCHEDULER_OPTION,
) -> None:
    """Simulate a scenario through the real routing engine; print KPIs with confidence intervals.

    The same seed gives the same event log. With --fit-from, the scenario is estimated from
    contact records and simulated vs actual figures are printed side by side, per day.
    """
    if replications < 1:
        error_console.print("--replications must be at least 1")
        raise typer.Exit(2)
    history = None
    scenario: Scenario
    if fit_from is not None:
        result = read_or_exit(fit_from, mapping=mapping, tz=tz, skip_bad_rows=skip_bad_rows)
        history = result.records
        export = load_mapping(mapping) if mapping else None
        timezone = (export.timezone or tz) if export else tz
        try:
            build = replay_scenario if replay else fit_scenario
            scenario = build(
                history,
                interval_s=interval_s,
                timezone=timezone,
                name=f"{'replay' if replay else 'fit'}:{fit_from.name}",
                pseudo_agents=export.pseudo_agents if export else (),
            )
        except ValueError as exc:
            error_console.print(f"[red]error[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None
        console.print(
            f"Fitted {len(scenario.queues)} queues over {scenario.intervals} intervals of "
            f"{interval_s:g} s; up to {_peak_staff(scenario)} agents "
            "per interval; patience by Kaplan–Meier on censored waits.",
            highlight=False,
        )
    elif scenario_file is not None:
        try:
            scenario = load_scenario(scenario_file)
        except ValidationFailed as failed:
            refuse(failed)
    else:
        error_console.print("give a SCENARIO file or --fit-from FILE")
        raise typer.Exit(2)
    seed = scenario.seed if seed is None else seed
    console.print(
        f"Scenario {scenario.name!r}, {replications} replications, seed {seed}", highlight=False
    )

    with simulation_progress() as progress:
        task = progress.add_task("Simulating", total=replications, contacts=0)

        def advance(replication: Replication) -> None:
            progress.update(
                task,
                advance=1,
                contacts=progress.tasks[task].fields["contacts"] + replication.contacts,
            )

        with executor_or_exit(workers, scheduler) as executor:
            run = replicate(
                scenario,
                replications=replications,
                seed=seed,
                executor=executor,
                progress=advance,
            )
        progress.update(task, description="Computing figures")
        frames = results.replication_frames(run)
        summary = results.summarise(run, frames)
        intervals = results.interval_table(run, frames)

    console.print(_summary_table(run, summary))
    if scenario.intervals <= 48:
        console.print(_frame_table("Center by interval (mean over replications)", intervals))
    side_by_side = None
    if history is not None:
        side_by_side = compare(run, history)
        console.print(_frame_table("Simulated vs actual, per day", side_by_side))

    folder = out or load_settings().home / "sim" / "".join(
        c if c.isalnum() or c in "-_" else "_" for c in scenario.name
    )
    folder.mkdir(parents=True, exist_ok=True)
    rows = results.write_event_log(run, folder / "events.parquet")
    written = [folder / "events.parquet"]
    if charts:
        written += results.write_charts(run, folder, intervals=intervals, frames=frames)
    report = {
        "scenario": scenario.name,
        "seed": seed,
        "replications": replications,
        "contacts": run.contacts,
        "wall_s": round(sum(r.wall_s for r in run.replications), 3),
        "summary": summary.rows(),
        "by_interval": intervals.with_columns(
            intervals["interval_start"].dt.to_string("%+")
        ).to_dicts(),
    }
    if side_by_side is not None:
        report["simulated_vs_actual"] = side_by_side.with_columns(
            side_by_side["interval_start"].dt.to_string("%+")
        ).to_dicts()
    (folder / "summary.json").write_text(json.dumps(report, indent=2, default=str))
    written.append(folder / "summary.json")
    simulated_s = sum(r.wall_s for r in run.replications)
    console.print(
        f"{run.contacts} contacts simulated in {simulated_s:.1f} s "
        f"({run.contacts / simulated_s if simulated_s > 0 else 0:,.0f} contacts/s, seed {seed}); "
        f"{rows} events and {len(written) - 1} more files written to {folder}/",
        highlight=False,
        soft_wrap=True,
    )
    if store:
        # One source per replication: replications are parallel universes sharing the same
        # clock and agent ids, so mixing them would interleave an agent's states.
        engine = make_engine(load_settings().resolved_database_url())
        upgrade(engine)
        with session_scope(make_session_factory(engine)) as session:
            for r in run.replications:
                event_log.append(session, r.events, source=f"sim:{scenario.name}:{r.replication}")
        console.print(
            f"event logs stored as sources 'sim:{scenario.name}:0' … "
            f"'sim:{scenario.name}:{replications - 1}' (hotline report kpis --source …)",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``hotline simulate`` to the ``hotline`` command."""
    app.command("simulate")(simulate_command)
