"""``hotline import contacts``: store contact records from a file (METRICS.md, or mapped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from hotline.core.errors import ValidationFailed
from hotline.core.settings import load_settings
from hotline.metrics import imports, service
from hotline.metrics.importer import ReadResult, load_mapping, read_contact_records
from hotline.store.db import make_engine, make_session_factory, session_scope, writing
from hotline.store.jobs import JobLease, create_job
from hotline.store.migrate import upgrade

console = Console()
error_console = Console(stderr=True)

import_app = typer.Typer(help="Import data from files.", no_args_is_help=True)


def read_or_exit(file: Path, *, mapping: str | None, tz: str, skip_bad_rows: bool) -> ReadResult:
    """Read a contact-record file; print every located problem and exit 1 when rejected."""
    if not file.exists():
        error_console.print(f"{file}: no such file", highlight=False)
        raise typer.Exit(2)
    try:
        export_mapping = load_mapping(mapping) if mapping else None
        # Without --skip-bad-rows a mapping's own known-quirk policy applies.
        result = read_contact_records(
            file, tz=tz, skip_bad_rows=skip_bad_rows or None, mapping=export_mapping
        )
    except ValidationFailed as failed:
        for problem in failed.problems:
            error_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        error_console.print(
            f"{file}: rejected ({len(failed.problems)} problem(s)); "
            "nothing was read. Use --skip-bad-rows to skip the bad rows.",
            highlight=False,
        )
        raise typer.Exit(1) from None
    except ValueError as exc:
        error_console.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if result.encoding != "utf-8":
        error_console.print(f"{file}: read as {result.encoding} (not UTF-8)", highlight=False)
    if result.skipped:
        for problem in result.skipped:
            error_console.print(
                f"[yellow]skipped[/yellow] {problem}", highlight=False, soft_wrap=True
            )
        error_console.print(
            f"{file}: skipped {len(result.skipped_lines)} bad row(s) on line(s) "
            f"{', '.join(map(str, result.skipped_lines))}",
            highlight=False,
            soft_wrap=True,
        )
    return result


@import_app.command("contacts")
def import_contacts(
    file: Path = typer.Argument(..., help="Contact-record CSV (METRICS.md), or an export."),
    mapping: str = typer.Option(
        None,
        "--mapping",
        "-m",
        help="Mapping file (YAML) for another ACD's export, or a shipped one: anonymous_bank.",
    ),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of naive timestamps."),
    skip_bad_rows: bool = typer.Option(
        False, "--skip-bad-rows", help="Skip rows that break a rule (each is listed)."
    ),
    source: str = typer.Option(
        None, "--source", help="Name to store the records under (default: the file name)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Replace the records of an earlier import of this source."
    ),
) -> None:
    """Read contact records from FILE and store them for reports and replay.

    A file with bad rows is rejected whole, with file, line, column and rule for every
    problem, unless --skip-bad-rows is given.
    """
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
    ) as progress:
        progress.add_task(f"Reading {file.name}", total=None)
        result = read_or_exit(file, mapping=mapping, tz=tz, skip_bad_rows=skip_bad_rows)
    name = source or file.name
    engine = make_engine(load_settings().resolved_database_url())
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        # Stored as a job (staged in short transactions, published in one step), so a
        # running server's sign-ins and tickets go on meanwhile.
        with session_scope(factory) as session:
            existing = service.source_size(session=session, source=name)
            if existing and not replace:
                error_console.print(
                    f"[red]error[/red] source {name!r} already holds {existing} contact "
                    "records; use --replace to import it again",
                    highlight=False,
                )
                raise typer.Exit(1)
            job = create_job(writing(session), kind=imports.KIND, file=str(file), actor="cli")
            job_id = job.id
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=error_console,
            transient=True,
        ) as progress:
            task = progress.add_task("staging", total=len(result.records) or None)

            def show(job: dict[str, Any]) -> None:
                progress.update(
                    task,
                    description=f"{job['state']} {name}",
                    total=job["rows_total"] or None,
                    completed=job["rows_done"],
                )

            with JobLease(factory):  # renews the job's heartbeat while it runs
                ended = imports.run_contact_import(
                    factory,
                    job_id=job_id,
                    records=result.records,
                    source=name,
                    replace=replace,
                    summary=imports.read_summary(result),
                    on_progress=show,
                )
    finally:
        engine.dispose()
    if ended["state"] != "done":
        message = ended["result"].get("message", "failed")
        error_console.print(f"[red]error[/red] {message}", highlight=False)
        error_console.print(f"import job {job_id} failed; nothing was stored", highlight=False)
        raise typer.Exit(1)
    stored = ended["result"]["stored"]
    console.print(
        f"{file}: stored {stored} contact records as source {name!r} "
        f"({result.rows_read} rows read, {len(result.skipped_lines)} skipped, "
        f"{result.ignored} left out by the mapping; job {job_id})",
        highlight=False,
        soft_wrap=True,
    )


export_app = typer.Typer(help="Export data to files.", no_args_is_help=True)


@export_app.command("contacts")
def export_contacts(
    file: Path = typer.Argument(..., help="CSV file to write (METRICS.md contact records)."),
    source: str = typer.Option(
        None, "--source", help="Only this source: an import, 'live', or 'sim:<scenario>:<n>'."
    ),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of the written timestamps."),
) -> None:
    """Write contact records (imported, and folded from the event log) as METRICS.md CSV.

    The file can be imported again, given to another tool, or used with --fit-from.
    """
    engine = make_engine(load_settings().resolved_database_url())
    upgrade(engine)
    try:
        with session_scope(make_session_factory(engine)) as session:
            written = service.export_records(session=session, path=file, source=source, timezone=tz)
    except ValueError as exc:
        error_console.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"{file}: wrote {written} contact records", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``hotline import`` and ``hotline export`` to the ``hotline`` command."""
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
