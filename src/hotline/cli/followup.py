"""Follow-up (回访) commands: ``hotline followup due|sweep|statement``.

``due`` lists the open follow-ups due by a time (what a dialling list takes), ``sweep``
makes the tasks any resolution missed and sends the due reminders (the server does this on
its own every few minutes), ``statement`` writes a provider's monthly settlement statement
as an Excel file for finance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hotline.cli.platform import _sessions, center_path
from hotline.config.center import CenterConfig
from hotline.config.validate import check_file
from hotline.core.errors import ValidationFailed
from hotline.core.settings import load_settings
from hotline.followup import service as followup
from hotline.followup.export import statement_workbook
from hotline.store.db import session_scope, writing

console = Console()
error_console = Console(stderr=True, soft_wrap=True, highlight=False)

followup_app = typer.Typer(
    help="Follow-up (回访) work: due tasks, the sweep, provider settlement statements.",
    no_args_is_help=True,
)

CENTER = typer.Option(
    None, "--center", help="Center configuration file (default: the one the server uses)."
)


def _center(explicit: Path | None) -> CenterConfig:
    path = center_path(load_settings().home, explicit)
    result = check_file(path)
    if not result.ok or result.config is None:
        for problem in result.errors:
            error_console.print(f"[red]error[/red] {problem}")
        raise typer.Exit(1)
    return result.config


@followup_app.command("due")
def due(
    hours: float = typer.Option(24, "--hours", min=0, help="Due within this many hours."),
) -> None:
    """List the open follow-ups due within ``--hours`` (overdue ones too), most urgent first."""
    until = datetime.now(UTC) + timedelta(hours=hours)
    engine, factory = _sessions()
    with session_scope(factory) as session:
        found = followup.due_tasks(session, until=until)
    engine.dispose()
    table = Table(title=f"Follow-ups due by {until:%Y-%m-%d %H:%M} UTC")
    for column in ("task", "ticket", "due (UTC)", "priority", "script", "phone"):
        table.add_column(column)
    for task in found:
        table.add_row(
            str(task.task_id),
            str(task.ticket_id),
            task.due_at.strftime("%Y-%m-%d %H:%M"),
            task.priority,
            task.script,
            task.phone or "–",
        )
    console.print(table)
    console.print(f"{len(found)} follow-up(s) due")


@followup_app.command("sweep")
def sweep(center: Path | None = CENTER) -> None:
    """Make the follow-ups resolutions missed and send the due reminders now."""
    config = _center(center)
    if config.followup is None:
        error_console.print("the center configuration has no 'followup:' section: nothing to do")
        raise typer.Exit(1)
    engine, factory = _sessions()
    with writing(factory()) as session:
        result = followup.sweep(session, center=config, actor="cli")
        session.commit()
    engine.dispose()
    console.print(
        f"{len(result.created)} follow-up(s) created, {len(result.escalated)} reminder(s) sent"
    )


@followup_app.command("statement")
def statement(
    month: str = typer.Argument(..., help="The month, YYYY-MM."),
    provider: list[str] = typer.Option(
        [], "--provider", help="A provider's code (repeatable; default: every provider)."
    ),
    out: Path = typer.Option(Path("."), "--out", help="Folder for the Excel files."),
) -> None:
    """Write each provider's settlement statement of ``month`` as an Excel file."""
    engine, factory = _sessions()
    try:
        with session_scope(factory) as session:
            lines = followup.statement(session, month=month)
    except ValidationFailed as failed:
        for problem in failed.problems:
            error_console.print(f"[red]error[/red] {problem}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    codes = provider or sorted({line.provider for line in lines})
    out.mkdir(parents=True, exist_ok=True)
    with Progress(console=console, transient=True) as progress:
        job = progress.add_task("statements", total=len(codes))
        for code in codes:
            chosen = [line for line in lines if line.provider == code]
            path = out / f"settlement-{code}-{month}.xlsx"
            path.write_bytes(statement_workbook(chosen, provider=code, month=month))
            progress.advance(job)
            console.print(f"{path}: {len(chosen)} claim(s)")
    if not codes:
        console.print(f"no claim was submitted in {month}")


def register(app: typer.Typer) -> None:
    """Add the follow-up commands to the ``hotline`` command."""
    app.add_typer(followup_app, name="followup")
