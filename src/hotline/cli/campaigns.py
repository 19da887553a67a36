"""Campaign commands: ``hotline campaigns create|list|import|query|followups|state|show|``
``purge-consents`` and ``hotline campaigns dnc add|list|remove``.

What a supervisor does on the ``/campaigns`` page, from a shell: create a campaign with its
calling hours and retry rules (a YAML file, checked with located problems), fill its list
from a CSV file (all rows or none) or from a query over customers and products, start and
pause it, and look at its figures; keep the do-not-call lists. Every change names its
``--actor`` (written to the audit log). Run ``hotline init`` first so the database exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.orm import Session

from hotline.campaigns import imports as list_imports
from hotline.campaigns import service as campaigns
from hotline.core.documents import DocumentRefused, decode_text, load_yaml
from hotline.core.errors import HotlineError, ValidationFailed
from hotline.core.settings import load_settings
from hotline.desk.followup_calls import add_due_followups
from hotline.store.db import make_engine, make_session_factory, session_scope, utcnow, writing
from hotline.store.jobs import JobLease

console = Console()
# Problems go out unwrapped and unhighlighted: a path and line must stay on one line.
error_console = Console(stderr=True, soft_wrap=True, highlight=False)

campaigns_app = typer.Typer(
    help="Outbound campaigns: lists, calling hours, retries, do-not-call lists.",
    no_args_is_help=True,
)
dnc_app = typer.Typer(help="Do-not-call lists (center-wide or per campaign).", no_args_is_help=True)
campaigns_app.add_typer(dnc_app, name="dnc")

ACTOR = typer.Option("cli", "--actor", help="Who is doing this (written to the audit log).")


@contextmanager
def _session() -> Iterator[Session]:
    """A writing session on the configured database; errors become a message and exit 1."""
    engine = make_engine(load_settings().resolved_database_url())
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield writing(session)
    except ValidationFailed as failure:
        for problem in failure.problems:
            error_console.print(f"[red]error[/red] {problem}")
        error_console.print(f"{len(failure.problems)} problem(s); nothing was written")
        raise typer.Exit(1) from None
    except HotlineError as error:
        error_console.print(f"[red]error[/red] {error}")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def _rules_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, DocumentRefused, yaml.YAMLError) as error:
        error_console.print(f"{path}: {error}")
        raise typer.Exit(1) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - {"calling_hours", "retry"}:
        error_console.print(f"{path}:1: expected a mapping with calling_hours and/or retry")
        raise typer.Exit(1)
    return raw


@campaigns_app.command("create")
def create(
    name: str = typer.Argument(..., help="The campaign's name (unique)."),
    kind: str = typer.Option("follow_up", "--kind", help="follow_up, survey, reminder or sales."),
    mode: str = typer.Option("preview", "--mode", help="preview or progressive."),
    rules: Path | None = typer.Option(
        None, "--rules", help="YAML with calling_hours and retry sections."
    ),
    script: Path | None = typer.Option(None, "--script", help="Text file: the agent's script."),
    agent: list[str] = typer.Option([], "--agent", help="An agent reserved for the campaign."),
    actor: str = ACTOR,
) -> None:
    """Create a campaign (draft); its calling hours and retry rules are checked first."""
    sections = _rules_file(rules)
    text = script.read_text(encoding="utf-8") if script is not None else ""
    with _session() as session:
        campaign = campaigns.create_campaign(
            session,
            name=name,
            kind=kind,
            mode=mode,
            actor=actor,
            calling_hours=sections.get("calling_hours"),
            retry=sections.get("retry"),
            script=text,
            agents=agent,
        )
        console.print(f"campaign {campaign.id} created: {campaign.name} ({kind}, {mode})")


@campaigns_app.command("list")
def list_all() -> None:
    """Every campaign with its state and figures."""
    with _session() as session:
        table = Table("id", "name", "kind", "mode", "state", "records", "attempts", "answers")
        for campaign in campaigns.list_campaigns(session):
            f = campaigns.figures(session, campaign_id=campaign.id)
            table.add_row(
                str(campaign.id),
                campaign.name,
                campaign.kind,
                campaign.mode,
                campaign.state,
                str(sum(f.records.values())),
                str(f.attempts),
                str(f.answers),
            )
        console.print(table)


@campaigns_app.command("import")
def import_list(
    campaign_id: int = typer.Argument(..., help="The campaign."),
    file: Path = typer.Argument(..., help="CSV: phone (required), name, time_zone, …"),
    actor: str = ACTOR,
) -> None:
    """Add a list file: every row is checked first, then written in chunks as an import job
    (progress shown) and published at once — all rows go in or none."""
    try:
        text = decode_text(file.read_bytes(), source=str(file)).text
    except (OSError, ValidationFailed) as refused:
        error_console.print(f"[red]error[/red] {refused}")
        raise typer.Exit(1) from None
    with _session() as session:
        rows = campaigns.check_list(session, campaign_id=campaign_id, text=text, file=str(file))
        job_id = list_imports.create_job(
            session, kind=list_imports.LIST_JOB, file=str(file), actor=actor
        ).id
    engine = make_engine(load_settings().resolved_database_url())
    try:
        with Progress(console=error_console, transient=True) as progress:
            task = progress.add_task("staging", total=len(rows))

            def show(job: dict[str, Any]) -> None:
                progress.update(task, description=job["state"], completed=job["rows_done"])

            factory = make_session_factory(engine)
            with JobLease(factory):  # renews the job's heartbeat while it runs
                ended = list_imports.run_list_import(
                    factory,
                    job_id=job_id,
                    campaign_id=campaign_id,
                    rows=rows,
                    file=str(file),
                    actor=actor,
                    on_progress=show,
                )
    finally:
        engine.dispose()
    counts = ended["result"]
    if ended["state"] != "done":
        error_console.print(f"[red]error[/red] {counts.get('message', ended['state'])}")
        error_console.print(f"import job {job_id} failed; nothing was written")
        raise typer.Exit(1)
    console.print(
        f"{counts['added']} records added, {counts['blocked']} blocked (do not call), "
        f"{counts['already_listed']} already on the list (job {job_id})"
    )


@campaigns_app.command("query")
def query_list(
    campaign_id: int = typer.Argument(..., help="The campaign."),
    category: str | None = typer.Option(None, "--category", help="Product category."),
    model: str | None = typer.Option(None, "--model", help="Product model."),
    installed_from: str | None = typer.Option(None, "--installed-from", help="YYYY-MM-DD."),
    installed_to: str | None = typer.Option(None, "--installed-to", help="YYYY-MM-DD."),
    actor: str = ACTOR,
) -> None:
    """Add the customers who own matching products."""
    try:
        start = date.fromisoformat(installed_from) if installed_from else None
        end = date.fromisoformat(installed_to) if installed_to else None
    except ValueError as error:
        error_console.print(f"[red]error[/red] --installed-from/--installed-to: {error}")
        raise typer.Exit(1) from None
    with _session() as session:
        counts = campaigns.add_query_list(
            session,
            campaign_id=campaign_id,
            actor=actor,
            category=category,
            model=model,
            installed_from=start,
            installed_to=end,
        )
        console.print(f"{counts['added']} records added, {counts['blocked']} blocked")


@campaigns_app.command("followups")
def followup_list(
    campaign_id: int = typer.Argument(..., help="The campaign."),
    hours: float = typer.Option(24, "--hours", min=0, help="Due within this many hours."),
    actor: str = ACTOR,
) -> None:
    """Add the open follow-ups (回访) due within ``--hours``, overdue ones too, most urgent
    first; each call's result goes back to its task."""
    until = datetime.now(UTC) + timedelta(hours=hours)
    with _session() as session:
        counts = add_due_followups(session, campaign_id=campaign_id, until=until, actor=actor)
        console.print(
            f"{counts['added']} records added, {counts['blocked']} blocked, "
            f"{counts['already_listed']} already listed, {counts['no_phone']} with no number"
        )


@campaigns_app.command("state")
def change_state(
    campaign_id: int = typer.Argument(..., help="The campaign."),
    state: str = typer.Argument(..., help="running, paused or finished."),
    actor: str = ACTOR,
) -> None:
    """Start, pause, resume or finish a campaign."""
    with _session() as session:
        campaign = campaigns.set_state(session, campaign_id=campaign_id, state=state, actor=actor)
        console.print(f"campaign {campaign.id} is {campaign.state}")


@campaigns_app.command("show")
def show(campaign_id: int = typer.Argument(..., help="The campaign.")) -> None:
    """A campaign's figures: records by status, attempts by result."""
    with _session() as session:
        campaign = campaigns.get_campaign(session, campaign_id=campaign_id)
        f = campaigns.figures(session, campaign_id=campaign_id)
        console.print(f"{campaign.name}: {campaign.kind}, {campaign.mode}, {campaign.state}")
        table = Table("figure", "value")
        for status, count in f.records.items():
            table.add_row(f"records {status}", str(count))
        for label, value in (
            ("attempts", f.attempts),
            ("answers", f.answers),
            ("connects", f.connects),
            ("abandons", f.abandons),
        ):
            table.add_row(label, str(value))
        for result, count in sorted(f.results.items()):
            table.add_row(f"result {result}", str(count))
        console.print(table)


@dnc_app.command("add")
def dnc_add(
    number: str = typer.Argument(..., help="The number as written."),
    campaign_id: int | None = typer.Option(None, "--campaign", help="Only this campaign."),
    reason: str = typer.Option("", "--reason", help="Why (the customer asked, …)."),
    actor: str = ACTOR,
) -> None:
    """Put a number on the center-wide list (or a campaign's): it is never dialled."""
    with _session() as session:
        entry = campaigns.add_do_not_call(
            session, number=number, actor=actor, campaign_id=campaign_id, reason=reason
        )
        console.print(f"{entry.number} is on the {campaigns.list_name(entry)} do-not-call list")


@dnc_app.command("list")
def dnc_list(
    campaign_id: int | None = typer.Option(None, "--campaign", help="This campaign's list."),
) -> None:
    """The center-wide list, or one campaign's."""
    with _session() as session:
        table = Table("id", "number", "list", "reason", "added by", "added at")
        for entry in campaigns.do_not_call_entries(session, campaign_id=campaign_id):
            table.add_row(
                str(entry.id),
                entry.number,
                campaigns.list_name(entry),
                entry.reason,
                entry.added_by,
                entry.added_at.isoformat(timespec="seconds"),
            )
        console.print(table)


@dnc_app.command("remove")
def dnc_remove(
    entry_id: int = typer.Argument(..., help="The entry's id (dnc list)."), actor: str = ACTOR
) -> None:
    """Take a number off its list."""
    with _session() as session:
        campaigns.remove_do_not_call(session, entry_id=entry_id, actor=actor)
        console.print(f"entry {entry_id} removed")


@campaigns_app.command("purge-consents")
def purge_consents(actor: str = ACTOR) -> None:
    """Delete consent records past their keep-until time (never sooner than 30 days)."""
    with _session() as session:
        deleted = campaigns.purge_expired_consents(session, now=utcnow(), actor=actor)
        console.print(f"{deleted} consent records past their retention deleted")


def register(app: typer.Typer) -> None:
    """Add the campaign commands to the ``hotline`` command."""
    app.add_typer(campaigns_app, name="campaigns")
