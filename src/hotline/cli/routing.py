"""Routing commands: ``hotline routing explain CENTER.yaml`` shows who serves what, and when."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from hotline.config.validate import load_center
from hotline.core.errors import ValidationFailed
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import RoutingConfig, RoutingError, matches_any

console = Console()
error_console = Console(stderr=True)

routing_app = typer.Typer(
    help="Routing (ACD): inspect how queues, skills and ageing rings reach agents.",
    no_args_is_help=True,
)


def explain_config(config: RoutingConfig) -> list[dict[str, Any]]:
    """For each queue: its rules and, ring by ring, the agents who may take its contacts.

    >>> from hotline.routing.model import AgentConfig, QueueConfig, AgeingStep
    >>> rows = explain_config(RoutingConfig(
    ...     queues=(QueueConfig("q", requirements=("repair >= 4",),
    ...                         ageing=(AgeingStep(30.0, min_proficiency=2),)),),
    ...     agents=(AgentConfig("a", skills={"repair": 5}),
    ...             AgentConfig("b", skills={"repair": 2}))))
    >>> [(ring["after_s"], ring["agents"]) for ring in rows[0]["rings"]]
    [(0.0, ['a']), (30.0, ['a', 'b'])]
    """
    rows = []
    for queue in config.queues:
        rings = []
        for after_s, alternatives, _ in queue.steps():
            agents = [
                agent.id
                for agent in config.agents
                if config.capacity(agent, queue.channel) > 0
                and matches_any(alternatives, agent.skills, agent.languages)
            ]
            rings.append(
                {
                    "after_s": after_s,
                    "requirements": " or ".join(
                        "(" + " and ".join(str(t) for t in alt) + ")" if alt else "(anyone)"
                        for alt in alternatives
                    ),
                    "agents": agents,
                }
            )
        rows.append(
            {
                "queue": queue.id,
                "channel": queue.channel.value,
                "strategy": queue.strategy.value,
                "priority": f"{queue.priority_mode.value} (default {queue.default_priority})",
                "target": f"{queue.target_service_level:.0%} in {queue.target_threshold_s:g} s",
                "overflow": [
                    f"{rule.when.value}"
                    + (f" {rule.value:g}" if rule.value is not None else "")
                    + f" → {rule.action.value}"
                    + (f" {rule.target}" if rule.target else "")
                    for rule in queue.overflow
                ],
                "open_hours": queue.calendar is not None,
                "rings": rings,
            }
        )
    return rows


@routing_app.command("explain")
def explain(
    path: Path = typer.Argument(..., help="The center configuration file (YAML)."),
    queue: str | None = typer.Option(None, "--queue", help="Show only this queue."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Show each queue's rules and, ring by ring, which agents may take its contacts.

    Example: ``hotline routing explain src/hotline/config/samples/appliance_center.yaml``.
    """
    try:
        config = routing_config_from_center(load_center(path))
    except ValidationFailed as error:
        error_console.print(f"[red]{path} is not a valid center file:[/red]\n{error}")
        raise typer.Exit(1) from error
    except RoutingError as error:
        error_console.print(f"[red]The routing engine refuses this file:[/red] {error}")
        raise typer.Exit(1) from error
    rows = explain_config(config)
    if queue is not None:
        rows = [row for row in rows if row["queue"] == queue]
        if not rows:
            error_console.print(f"[red]No queue {queue!r} in {path}[/red]")
            raise typer.Exit(1)
    if output == "json":
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        table = Table(
            title=(
                f"{row['queue']} — {row['channel']}, {row['strategy']}, {row['priority']}, "
                f"target {row['target']}"
            ),
            title_justify="left",
        )
        table.add_column("after", justify="right")
        table.add_column("who may take it")
        table.add_column("agents", justify="right")
        table.add_column("ids")
        for ring in row["rings"]:
            ids = ", ".join(ring["agents"][:12]) + (" …" if len(ring["agents"]) > 12 else "")
            table.add_row(
                f"{ring['after_s']:g} s", ring["requirements"], str(len(ring["agents"])), ids
            )
        console.print(table)
        if row["overflow"]:
            console.print("  overflow: " + "; ".join(row["overflow"]))
        if not row["rings"][-1]["agents"]:
            console.print("  [yellow]no agent can ever take this queue's contacts[/yellow]")


def register(app: typer.Typer) -> None:
    """Add ``hotline routing …`` to the main command."""
    app.add_typer(routing_app, name="routing")
