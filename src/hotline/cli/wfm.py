"""Workforce-management commands: ``hotline wfm erlang|forecast|backtest|schedule|...``."""

from __future__ import annotations

import json
import re

import typer
from rich.console import Console
from rich.table import Table

from hotline.wfm.erlang import ServiceTarget, required_agents

console = Console()
error_console = Console(stderr=True)

wfm_app = typer.Typer(
    help="Workforce management: forecast, Erlang staffing, scheduling, adherence.",
    no_args_is_help=True,
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds in ``"30m"``, ``"1h"``, ``"900s"``, ``"14d"`` (a bare number means minutes)."""
    match = _DURATION.match(text)
    if not match:
        raise typer.BadParameter(f"expected a duration like 30m, 1h or 900s, got {text!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@wfm_app.command("erlang")
def erlang(  # noqa: PLR0917 - Typer reads each option from a parameter
    calls: float = typer.Option(..., "--calls", help="Contacts offered in the interval."),
    aht: float = typer.Option(..., "--aht", help="Average handling time in seconds."),
    interval: str = typer.Option("30m", "--interval", help="Interval length: 15m, 30m, 1h."),
    target: str = typer.Option("80/20", "--target", help="Service level: percent/seconds."),
    patience: float | None = typer.Option(
        None, "--patience", help="Mean caller patience in seconds: use Erlang A instead of C."
    ),
    shrinkage: float = typer.Option(
        0.0, "--shrinkage", help="Share of paid time not on the phones (0.3 = 30 %)."
    ),
    max_occupancy: float | None = typer.Option(
        None, "--max-occupancy", help="Cap on agent occupancy, e.g. 0.85."
    ),
    max_abandon: float | None = typer.Option(
        None, "--max-abandon", help="Cap on the abandon rate (Erlang A), e.g. 0.05."
    ),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Agents needed on the phones for one interval, and the expected service figures.

    Example: ``hotline wfm erlang --calls 1000 --aht 180 --interval 30m --target 80/20``.
    """
    try:
        service_target = ServiceTarget.parse(
            target, max_occupancy=max_occupancy, max_abandon_rate=max_abandon
        )
        answer = required_agents(
            calls=calls,
            aht_s=aht,
            interval_s=parse_duration(interval),
            target=service_target,
            patience_s=patience,
            shrinkage=shrinkage,
        )
    except ValueError as exc:
        error_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(2) from exc
    if output == "json":
        print(json.dumps(answer.as_dict()))
        return
    model = "Erlang A" if answer.patience_s is not None else "Erlang C"
    table = Table(title=f"{model} staffing", show_header=False)
    table.add_row("load (Erlangs)", f"{answer.load_erlangs:.2f}")
    table.add_row(
        "target",
        f"{answer.target_service_level:.0%} in {answer.target_answer_within_s:g} s",
    )
    if answer.patience_s is not None:
        table.add_row("mean patience (s)", f"{answer.patience_s:g}")
    table.add_row("agents on the phones", str(answer.agents))
    table.add_row("shrinkage", f"{answer.shrinkage:.0%}")
    table.add_row("scheduled heads", str(answer.scheduled_heads))
    table.add_row("service level", f"{answer.service_level:.2%}")
    table.add_row("ASA (s)", f"{answer.asa_s:.1f}")
    table.add_row("abandon rate", f"{answer.abandon_rate:.2%}")
    table.add_row("occupancy", f"{answer.occupancy:.2%}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``wfm`` command group to the ``hotline`` command."""
    app.add_typer(wfm_app, name="wfm")
