"""People commands: ``hotline people contest-create|contests|standings|contest-withdraw``.

A manager (or a script a team lead runs) sets up a contest over chosen figures and a period
between the agents or teams of chosen teams; ``standings`` prints where it stands, computed
as the API, the desk and the wallboard compute it (:mod:`hotline.people.service`).
Changes are audited under the ``--actor`` named.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from hotline.cli.followup import CENTER
from hotline.cli.followup import _center as checked_center
from hotline.cli.platform import _sessions
from hotline.core.errors import Conflict, NotFound, ValidationFailed
from hotline.people import service
from hotline.people.leaderboard import RANKABLE
from hotline.store.db import session_scope, writing

console = Console()
error_console = Console(stderr=True, soft_wrap=True, highlight=False)

people_app = typer.Typer(
    help="People management: contests between agents or teams.", no_args_is_help=True
)


def _fail(message: str) -> typer.Exit:
    error_console.print(f"[red]error[/red] {message}")
    return typer.Exit(1)


@people_app.command("contest-create")
def contest_create(
    name: str = typer.Argument(..., help="The contest's name."),
    metric: list[str] = typer.Option(
        ..., "--metric", help=f"A figure (repeatable, 1-4): {', '.join(RANKABLE)}."
    ),
    start: str = typer.Option(..., "--start", help="First local date, YYYY-MM-DD."),
    end: str = typer.Option(..., "--end", help="Last local date (included), YYYY-MM-DD."),
    team: list[str] = typer.Option(..., "--team", help="A team that competes (repeatable)."),
    level: str = typer.Option("agent", "--level", help="agent or team."),
    minimum_answered: int = typer.Option(
        1, "--minimum-answered", min=0, help="Entrants with fewer answered contacts: left off."
    ),
    actor: str = typer.Option("cli", "--actor", help="Who the audit trail names."),
    center: Path | None = CENTER,
) -> None:
    """Run a contest between the agents (or teams) of ``--team`` over ``--metric`` figures."""
    config = checked_center(center)
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise _fail("--start/--end: dates look like 2026-03-01") from None
    engine, factory = _sessions()
    try:
        with writing(factory()) as session:
            row = service.create_competition(
                session=session,
                center=config,
                actor=actor,
                name=name,
                level=level,
                metrics=metric,
                start=first,
                end=last,
                teams=team,
                minimum_answered=minimum_answered,
            )
            session.commit()
            number = row.id
    except ValidationFailed as failed:
        for problem in failed.problems:
            error_console.print(f"[red]error[/red] --{problem.field}: {problem.rule}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    console.print(f"competition {number} created: {name}")


@people_app.command("contests")
def contests(
    include_finished: bool = typer.Option(False, "--all", help="Also long-finished contests."),
    center: Path | None = CENTER,
) -> None:
    """List the contests, newest first."""
    config = checked_center(center)
    today = datetime.now(ZoneInfo(config.center.timezone)).date()
    engine, factory = _sessions()
    with session_scope(factory) as session:
        rows = service.list_competitions(
            session=session, ending_from=None if include_finished else today
        )
        table = Table(title="Competitions")
        for column in ("id", "name", "level", "figures", "period", "teams", "by"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                str(row.id),
                row.name,
                row.level,
                ", ".join(row.metrics),
                f"{row.start} – {row.end}",
                ", ".join(row.teams),
                row.created_by,
            )
    engine.dispose()
    console.print(table)


@people_app.command("standings")
def standings(
    competition: int = typer.Argument(..., help="The contest's id."),
    center: Path | None = CENTER,
) -> None:
    """Where a contest stands: place points over its figures, and the place on each."""
    config = checked_center(center)
    today = datetime.now(ZoneInfo(config.center.timezone)).date()
    engine, factory = _sessions()
    try:
        with session_scope(factory) as session:
            row = service.get_competition(session=session, competition_id=competition)
            result = service.competition_standings(
                session=session, center=config, competition=row, today=today
            )
            title = f"{row.name} ({row.start} – {row.end}, {result.status})"
            metrics = list(row.metrics)
    except NotFound as missing:
        raise _fail(str(missing)) from None
    finally:
        engine.dispose()
    names = {a.id: a.name for a in config.agents} | {t.id: t.name or t.id for t in config.teams}
    table = Table(title=title)
    for column in ("rank", "entrant", "points", *metrics):
        table.add_column(column)
    for place in result.overall:
        table.add_row(
            str(place.rank),
            f"{names.get(place.name, place.name)} ({place.name})",
            str(place.points),
            *(str(place.places.get(m, "–")) for m in metrics),
        )
    console.print(table)
    if not result.overall:
        console.print("no one to rank yet")


@people_app.command("contest-withdraw")
def contest_withdraw(
    competition: int = typer.Argument(..., help="The contest's id."),
    actor: str = typer.Option("cli", "--actor", help="Who the audit trail names."),
) -> None:
    """Withdraw a contest: it leaves the desk and the wallboard; its record stays."""
    engine, factory = _sessions()
    try:
        with writing(factory()) as session:
            service.withdraw_competition(session=session, competition_id=competition, actor=actor)
            session.commit()
    except (NotFound, Conflict) as refused:
        raise _fail(str(refused)) from None
    finally:
        engine.dispose()
    console.print(f"competition {competition} withdrawn")


def register(app: typer.Typer) -> None:
    """Add the people commands to the ``hotline`` command."""
    app.add_typer(people_app, name="people")
