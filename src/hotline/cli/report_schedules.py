"""``hotline report schedule``: reports sent by e-mail daily, weekly or monthly.

``add`` stores a schedule (checked as the manager page checks it), ``list`` shows every
schedule with its latest runs and their failures, ``remove`` stops one, and ``run-due``
sends what is due now, as the server's report sweep does every few minutes
(:mod:`hotline.web.scheduled_reports`).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hotline.cli.platform import _sessions
from hotline.cli.quality import CENTER, _center
from hotline.core.errors import NotFound, ValidationFailed
from hotline.store.db import session_scope, writing
from hotline.store.migrate import upgrade

# Piped output has no terminal width; the table of schedules needs about 160 columns.
console = Console(width=None if sys.stdout.isatty() else 180)
error_console = Console(stderr=True)

schedule_app = typer.Typer(
    help="Scheduled reports sent by e-mail (daily, weekly, monthly).", no_args_is_help=True
)


def _filters(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(
                f"{pair!r}: write a filter as name=value", param_hint="--filter"
            )
        found[name] = value
    return found


@schedule_app.command("add")
def add(
    name: str = typer.Option(..., "--name", help="What the recipients see it as."),
    report: str = typer.Option(..., "--report", help="kpis, cockpit, voc, faults, settlement."),
    format: str = typer.Option("xlsx", "--format", help="xlsx, pdf or csv where it exists."),
    frequency: str = typer.Option("daily", "--every", help="daily, weekly or monthly."),
    at: str = typer.Option("07:00", "--at", help="Local time HH:MM (the center's zone)."),
    weekday: int = typer.Option(None, "--weekday", help="Weekly: 0 (Monday) to 6."),
    day_of_month: int = typer.Option(None, "--day", help="Monthly: 1 to 28."),
    to: list[str] = typer.Option(..., "--to", help="A recipient's address (repeatable)."),
    filters: list[str] = typer.Option([], "--filter", help="name=value (repeatable)."),
    actor: str = typer.Option("cli", "--as", help="Who adds it (the audit log's actor)."),
) -> None:
    """Send a report by e-mail on a schedule."""
    from hotline.web import scheduled_reports as scheduled

    engine, factory = _sessions()
    upgrade(engine)
    try:
        with session_scope(factory) as session:
            writing(session)
            schedule = scheduled.add_schedule(
                session,
                name=name,
                report=report,
                format=format,
                filters=_filters(filters),
                frequency=frequency,
                at=at,
                weekday=weekday,
                day_of_month=day_of_month,
                recipients=to,
                actor=actor,
            )
            console.print(f"schedule {schedule.id}: {report} ({format}) {frequency} at {at}")
    except ValidationFailed as failed:
        for problem in failed.problems:
            error_console.print(f"[red]error[/red] {problem}", highlight=False)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@schedule_app.command("list")
def list_(center: Path = CENTER) -> None:
    """Every schedule with its latest runs (failures with their reason)."""
    from hotline.web import scheduled_reports as scheduled

    zone = _center(center).center.timezone
    engine, factory = _sessions()
    upgrade(engine)
    try:
        with session_scope(factory) as session:
            runs = scheduled.recent_runs(session)
            table = Table(title=f"Scheduled reports ({zone})")
            for column in ("id", "name", "report", "when", "to", "last run"):
                table.add_column(column)
            for s in scheduled.list_schedules(session):
                when = f"{s.frequency} {s.at}"
                if s.weekday is not None:
                    when += f" weekday {s.weekday}"
                if s.day_of_month is not None:
                    when += f" day {s.day_of_month}"
                last = runs.get(s.id, [])
                shown = (
                    f"{last[0].due_at:%Y-%m-%d %H:%M} UTC {last[0].status} {last[0].error}"
                    if last
                    else "–"
                )
                table.add_row(
                    str(s.id), s.name, f"{s.report}.{s.format}", when, ", ".join(s.recipients),
                    shown,
                )  # fmt: skip
            console.print(table)
    finally:
        engine.dispose()


@schedule_app.command("remove")
def remove(
    schedule_id: int = typer.Argument(..., help="The schedule's id (see list)."),
    actor: str = typer.Option("cli", "--as", help="Who removes it (the audit log's actor)."),
) -> None:
    """Stop sending a scheduled report."""
    from hotline.web import scheduled_reports as scheduled

    engine, factory = _sessions()
    try:
        with session_scope(factory) as session:
            writing(session)
            scheduled.remove_schedule(session, schedule_id=schedule_id, actor=actor)
    except NotFound as missing:
        error_console.print(f"[red]error[/red] {missing}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"schedule {schedule_id} removed")


@schedule_app.command("run-due")
def run_due(center: Path = CENTER) -> None:
    """Send the reports due now (the server's report sweep does this on its own)."""
    from hotline.web import scheduled_reports as scheduled

    config = _center(center)
    engine, factory = _sessions()
    upgrade(engine)
    try:
        with Progress(console=console, transient=True) as progress:
            progress.add_task("scheduled reports", total=None)
            outcomes = scheduled.run_due(factory, center=config, now=datetime.now(UTC))
    finally:
        engine.dispose()
    for outcome in outcomes:
        line = f"schedule {outcome.schedule_id} due {outcome.due_at:%Y-%m-%d %H:%M} UTC: "
        console.print(line + outcome.status + (f" ({outcome.error})" if outcome.error else ""))
    if not outcomes:
        console.print("no report is due")
    if any(o.status == "failed" for o in outcomes):
        raise typer.Exit(1)
