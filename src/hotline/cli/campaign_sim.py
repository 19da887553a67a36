"""``hotline simulate-campaign``: outbound and blended days in the digital twin.

Runs campaign days with a pacer (or all three side by side) through the real routing
engine, or, with ``--backlog``, answers the planner's question: the fewest agents that clear
the backlog within ``--days`` working days while every inbound queue keeps its target.

A blended day's inbound queues (``--inbound``) are the center file's (``--center``): each
keeps the outbound reserve the file gives it (``queues[].outbound_reserve``), as the live
dialler does; a queue the file does not have is refused.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.center import CenterConfig
from hotline.config.validate import load_center
from hotline.core.errors import ValidationFailed
from hotline.pacing.adaptive import AdaptivePacer
from hotline.pacing.pacers import Pacer, PredictivePacer, ProgressivePacer
from hotline.sim.backlog import BacklogOutcome, fewest_agents
from hotline.sim.distributions import LogNormal
from hotline.sim.outbound import CampaignDay, Customers, DayResult, InboundQueue, run_day

console = Console(width=None if sys.stdout.isatty() else 160)
error_console = Console(stderr=True)

PACERS: dict[str, type[ProgressivePacer] | type[PredictivePacer] | type[AdaptivePacer]] = {
    "predictive": PredictivePacer,
    "adaptive": AdaptivePacer,
    "progressive": ProgressivePacer,
}


def parse_inbound(text: str) -> InboundQueue:
    """``QUEUE:CALLS_PER_HOUR:SECONDS:TARGET[:PRIORITY]``, e.g. ``vip:20:5:0.99:10``.

    >>> parse_inbound("vip:20:5:0.99:10").threshold_s
    5.0
    """
    parts = text.split(":")
    if len(parts) not in (4, 5) or not parts[0]:
        raise ValueError(
            f"--inbound {text!r}: expected QUEUE:CALLS_PER_HOUR:SECONDS:TARGET[:PRIORITY]"
        )
    try:
        rate, seconds, target = float(parts[1]), float(parts[2]), float(parts[3])
        priority = int(parts[4]) if len(parts) == 5 else 0
    except ValueError:
        message = f"--inbound {text!r}: the rate, seconds, target and priority are numbers"
        raise ValueError(message) from None
    if rate < 0 or seconds <= 0 or not 0 < target <= 1:
        raise ValueError(
            f"--inbound {text!r}: calls per hour ≥ 0, seconds > 0 and a target within (0, 1]"
        )
    return InboundQueue(
        parts[0],
        rates_per_hour=(rate,),
        threshold_s=seconds,
        service_level=target,
        priority=priority,
    )


def reserved(queue: InboundQueue, center: CenterConfig, file: str) -> InboundQueue:
    """The inbound queue with the outbound reserve the center file gives it.

    >>> from hotline.config.center import Queue
    >>> center = CenterConfig.model_construct(
    ...     queues=[Queue.model_construct(id="vip", outbound_reserve=2)])
    >>> reserved(InboundQueue("vip", (20.0,)), center, "center.yaml").outbound_reserve
    2
    """
    for settings in center.queues:
        if settings.id == queue.id:
            return replace(queue, outbound_reserve=settings.outbound_reserve)
    known = ", ".join(q.id for q in center.queues)
    raise ValueError(f"--inbound {queue.id!r}: {file} has no such queue (its queues: {known})")


def _day_row(result: DayResult) -> dict[str, Any]:
    return {
        "pacer": result.pacer,
        "seed": result.seed,
        "dialled": result.dialled,
        "answered": result.answered,
        "connected": result.connected,
        "abandoned": result.abandoned,
        "abandon_rate": round(result.abandon_rate, 4),
        "productivity": round(result.productivity, 4),
        "inbound_service_level": {
            q: (round(v, 4) if v is not None else None)
            for q, v in result.inbound_service_level.items()
        },
    }


def _fail(message: str) -> None:
    error_console.print(f"[red]{message}[/red]")
    raise typer.Exit(2)


def simulate_campaign_command(
    agents: int = typer.Option(20, "--agents", min=1, help="Agents on the campaign."),
    days: int = typer.Option(5, "--days", min=1, help="Working days to simulate."),
    hours: float = typer.Option(8.0, "--hours", min=0.5, help="Length of a working day."),
    answer_rate: float = typer.Option(
        0.45, "--answer-rate", min=0.1, max=0.9, help="Share of calls a person answers."
    ),
    talk_s: float = typer.Option(180.0, "--talk-s", min=10.0, help="Mean talk time (s)."),
    wrap_up_s: float = typer.Option(15.0, "--wrap-up-s", min=0.0, help="Wrap-up per call (s)."),
    pacer: str = typer.Option(
        "predictive", "--pacer", help="predictive, adaptive (VICIdial's), progressive or all."
    ),
    inbound: list[str] = typer.Option(
        [], "--inbound", help="A blended inbound queue: QUEUE:CALLS_PER_HOUR:SECONDS:TARGET[:PRIO]"
    ),
    center: Path | None = typer.Option(
        None,
        "--center",
        envvar="HOTLINE_CENTER_CONFIG",
        help="Center configuration file whose queues the --inbound ones are (their "
        "outbound_reserve); default: the sample.",
    ),
    backlog: int | None = typer.Option(
        None, "--backlog", min=0, help="Plan: fewest agents that clear this many leads in --days."
    ),
    max_agents: int = typer.Option(
        200, "--max-agents", min=1, help="Plan: the most agents to consider."
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the first day."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Simulate campaign days (or plan a backlog) through the real routing engine."""
    if pacer != "all" and pacer not in PACERS:
        _fail(f"--pacer {pacer!r}: choose predictive, adaptive, progressive or all")
    center_file = center or SAMPLE_CENTER
    try:
        center_config = load_center(center_file)
    except ValidationFailed as failed:
        _fail("\n".join(f"{center_file}: {problem}" for problem in failed.problems))
        return
    try:
        queues = tuple(
            reserved(parse_inbound(text), center_config, str(center_file)) for text in inbound
        )
        day = CampaignDay(
            agents=agents,
            day_s=hours * 3600.0,
            customers=replace(
                Customers(),
                answer_rate=answer_rate,
                answer_swing=min(0.1, answer_rate, 1 - answer_rate - 0.1),
                talk=LogNormal(talk_s, talk_s * 0.7),
            ),
            wrap_up_s=wrap_up_s,
            inbound=queues,
            inbound_interval_s=hours * 3600.0,
        )
    except ValueError as problem:
        _fail(str(problem))
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    if backlog is not None:
        _plan(
            day,
            backlog=backlog,
            days=days,
            seed=seed,
            most=max_agents,
            as_json=as_json,
            columns=columns,
        )
        return
    names = list(PACERS) if pacer == "all" else [pacer]
    rows: list[DayResult] = []
    with Progress(*columns, console=error_console, transient=True) as bar:
        task = bar.add_task("campaign days", total=days * len(names))
        for index in range(days):
            for name in names:
                chosen: Pacer = PACERS[name]()
                rows.append(run_day(day, chosen, seed=seed + index))
                bar.advance(task)
    if as_json:
        print(json.dumps({"days": [_day_row(r) for r in rows]}))
        return
    table = Table(title=f"{days} campaign day(s), {agents} agents, seed {seed}")
    for column in (
        "pacer",
        "day",
        "dialled",
        "answered",
        "abandoned",
        "abandon rate",
        "productive share",
        "inbound SL",
    ):
        table.add_column(column, justify="left" if column == "pacer" else "right")
    for result in rows:
        levels = ", ".join(
            f"{q} {v:.1%}" if v is not None else f"{q} —"
            for q, v in result.inbound_service_level.items()
        )
        table.add_row(
            result.pacer,
            str(result.seed - seed + 1),
            str(result.dialled),
            str(result.answered),
            str(result.abandoned),
            f"{result.abandon_rate:.2%}",
            f"{result.productivity:.1%}",
            levels or "—",
        )
    console.print(table)


def _plan(
    day: CampaignDay,
    *,
    backlog: int,
    days: int,
    seed: int,
    most: int,
    as_json: bool,
    columns: Any,
) -> None:
    with Progress(*columns, console=error_console, transient=True) as bar:
        task = bar.add_task("head counts tried", total=None)

        def tried(outcome: BacklogOutcome) -> None:
            bar.update(task, description=f"{outcome.agents} agents: cleared {outcome.cleared}")
            bar.advance(task)

        best = fewest_agents(day, backlog=backlog, days=days, seed=seed, most=most, progress=tried)
    if best is None:
        message = (
            f"even {most} agents do not clear {backlog} leads in {days} day(s) "
            "with every inbound target met"
        )
        if as_json:
            print(json.dumps({"backlog": backlog, "days": days, "agents": None}))
        else:
            console.print(message)
        raise typer.Exit(1)
    levels = {
        q.id: min((r.inbound_service_level.get(q.id) or 0.0) for r in best.days)
        for q in day.inbound
    }
    if as_json:
        print(
            json.dumps(
                {
                    "backlog": backlog,
                    "days": days,
                    "agents": best.agents,
                    "cleared_on_day": best.cleared_on_day,
                    "worst_day_inbound_service_level": levels,
                    "max_daily_abandon_rate": max((r.abandon_rate for r in best.days), default=0),
                }
            )
        )
        return
    console.print(
        f"[bold]{best.agents} agents[/bold] clear {backlog} leads on day {best.cleared_on_day} "
        f"of {days}; worst day's inbound service level: "
        + (", ".join(f"{q} {v:.1%}" for q, v in levels.items()) or "no inbound")
        + f"; worst day's abandon rate {max((r.abandon_rate for r in best.days), default=0):.2%}"
    )


def register(app: typer.Typer) -> None:
    """Add ``hotline simulate-campaign`` to the ``hotline`` command."""
    app.command("simulate-campaign")(simulate_campaign_command)
