"""``hotline report kpis``: the METRICS.md queue figures per interval, from a file or the db."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import typer
import yaml
from rich.console import Console
from rich.table import Table

from hotline.cli.importing import read_or_exit
from hotline.config.validate import load_center
from hotline.core.documents import load_yaml
from hotline.core.errors import ValidationFailed
from hotline.core.settings import load_settings
from hotline.metrics import service
from hotline.metrics.compute import (
    KpiReport,
    queue_figures,
    read_parquet_records,
    records_to_frame,
    safe_text,
    with_sites,
    with_teams,
)
from hotline.metrics.definitions import DIMENSIONS, INTERVALS, MetricSettings
from hotline.metrics.importer import load_mapping
from hotline.store.db import make_engine, make_session_factory, session_scope
from hotline.store.migrate import upgrade

# Piped output has no terminal width; a KPI table needs about 160 columns to stay legible.
console = Console(width=None if sys.stdout.isatty() else 180)
error_console = Console(stderr=True)

report_app = typer.Typer(help="Contact-center reports.", no_args_is_help=True)

# Columns shown in the terminal table; csv and json carry every figure.
_TABLE_FIGURES = (
    "offered",
    "answered",
    "abandoned",
    "reported_service_level",
    "asa_s",
    "abandon_rate",
    "aht_s",
    "longest_wait_s",
    "traffic_erlangs",
)


def _load_settings(path: Path | None) -> MetricSettings:
    if path is None:
        return MetricSettings()
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), source=str(path)) or {}
        return MetricSettings.from_mapping(data)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        error_console.print(f"[red]error[/red] {path}: {exc}", highlight=False)
        raise typer.Exit(2) from None


def _read_parquet(path: Path, *, tz: str, skip_bad_rows: bool) -> Any:
    """Read a Parquet file of contact records; print problems and exit 1 when refused."""
    if not path.exists():
        error_console.print(f"{path}: no such file", highlight=False)
        raise typer.Exit(2)
    try:
        frame, skipped = read_parquet_records(path, skip_bad_rows=skip_bad_rows, timezone=tz)
    except ValidationFailed as failed:
        for problem in failed.problems[:1000]:
            error_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        error_console.print(
            f"{path}: rejected ({len(failed.problems)} problem(s)). "
            "Use --skip-bad-rows to skip the bad rows.",
            highlight=False,
        )
        raise typer.Exit(1) from None
    for problem in skipped:
        error_console.print(f"[yellow]skipped[/yellow] {problem}", highlight=False, soft_wrap=True)
    return frame


def _format(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def render_table(report: KpiReport, console: Console) -> None:
    """Print a report as a Rich table, headed by the settings it used."""
    default = report.settings.default
    console.print(
        f"Interval {report.interval} ({report.timezone}), by {', '.join(report.by) or 'center'}; "
        f"service level = {default.variant} with T = {default.service_level_s:g} s, "
        f"short abandon < {default.short_abandon_s:g} s"
        + (
            "; per-queue: "
            + ", ".join(
                f"{q} {t.variant} T={t.service_level_s:g}s"
                for q, t in sorted(report.settings.per_queue.items())
            )
            if report.settings.per_queue
            else ""
        ),
        highlight=False,
        soft_wrap=True,
    )
    table = Table(show_lines=False)
    columns = ["interval_start", *report.by, *_TABLE_FIGURES]
    for column in columns:
        table.add_column(
            column, justify="left" if column in {"interval_start", *report.by} else "right"
        )
    for row in report.rows():
        row["interval_start"] = row["interval_start"][:16].replace("T", " ")
        table.add_row(*(_format(row[c]) for c in columns))
    console.print(table)
    for note in report.notes:
        console.print(note, highlight=False)


@report_app.command("kpis")
def kpis(
    contacts: Path = typer.Option(
        None, "--contacts", "-c", help="Contact-record file; without it, the database."
    ),
    mapping: str = typer.Option(
        None, "--mapping", "-m", help="Mapping file for another ACD's export (with --contacts)."
    ),
    interval: str = typer.Option("30m", "--interval", "-i", help=f"One of {', '.join(INTERVALS)}."),
    by: str = typer.Option(
        "queue", "--by", help=f"Comma-separated, from {', '.join(DIMENSIONS)}; 'center' for none."
    ),
    output_format: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
    metadata: Path = typer.Option(
        None,
        "--metadata",
        help="With --format csv: write the settings the figures were computed with (interval, "
        "time zone, thresholds, notes) to this JSON sidecar file; without it they go to stderr.",
    ),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of intervals and naive timestamps."),
    thresholds: Path = typer.Option(
        None,
        "--thresholds",
        help="YAML with default and per-queue service_level_s, short_abandon_s, variant.",
    ),
    skip_bad_rows: bool = typer.Option(
        False, "--skip-bad-rows", help="Skip rows that break a rule (each is listed)."
    ),
    source: str = typer.Option(None, "--source", help="Only this imported source (database)."),
    center: Path = typer.Option(
        None,
        "--center",
        help="Center configuration: per-queue targets and agent teams "
        "(default: HOTLINE_CENTER_CONFIG; --thresholds wins).",
    ),
    site: str = typer.Option(
        None,
        "--site",
        help="Only this site's contacts (its queues', else its agents'; sites come from the "
        "center configuration). --by site breaks the figures down by site.",
    ),
) -> None:
    """Compute every METRICS.md queue figure per interval, by queue, channel, team, agent or site.

    The report states the service-level variant and thresholds it used.
    """
    if output_format not in {"table", "csv", "json"}:
        error_console.print("--format must be table, csv or json")
        raise typer.Exit(2)
    dimensions = () if by in {"center", ""} else tuple(d.strip() for d in by.split(","))
    settings = _load_settings(thresholds)
    teams: dict[str, str] = {}
    center_config = _center(center)
    sites: tuple[dict[str, str], dict[str, str]] | None = None
    if center_config is not None:
        teams = service.teams_for_center(center_config)
        sites = service.sites_for_center(center_config)
        if thresholds is None:
            settings = service.settings_for_center(center_config)
    if site is not None and (
        center_config is None or site not in {s.id for s in center_config.sites}
    ):
        known = ", ".join(s.id for s in center_config.sites) if center_config else "none"
        error_console.print(f"[red]error[/red] --site: no site {site!r} (sites: {known})")
        raise typer.Exit(2)

    def sited(frame: Any) -> Any:
        frame = with_teams(frame, teams)
        if sites is not None:
            frame = with_sites(frame, queues=sites[0], agents=sites[1])
        return frame.filter(pl.col("site") == site) if site is not None else frame

    try:
        if contacts is not None and contacts.suffix == ".parquet":
            frame = _read_parquet(contacts, tz=tz, skip_bad_rows=skip_bad_rows)
            report = queue_figures(
                sited(frame),
                interval=interval,
                by=dimensions,
                settings=settings,
                timezone=tz,
            )
            report.notes.append(f"{frame.height} contacts from {contacts}")
        elif contacts is not None:
            result = read_or_exit(contacts, mapping=mapping, tz=tz, skip_bad_rows=skip_bad_rows)
            # A mapping's time zone is the source center's own (e.g. the bank's Israel time).
            timezone = (load_mapping(mapping).timezone or tz) if mapping else tz
            report = queue_figures(
                sited(records_to_frame(result.records)),
                interval=interval,
                by=dimensions,
                settings=settings,
                timezone=timezone,
            )
            report.notes.append(f"{len(result.records)} contacts from {contacts}")
        else:
            engine = make_engine(load_settings().resolved_database_url())
            upgrade(engine)
            with session_scope(make_session_factory(engine)) as session:
                report = service.kpi_report(
                    session=session,
                    interval=interval,
                    by=dimensions,
                    settings=settings,
                    timezone=tz,
                    source=source,
                    teams=teams,
                    sites=sites,
                    site=site,
                )
    except ValueError as exc:
        error_console.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    if output_format == "json":
        typer.echo(report.to_json())
    elif output_format == "csv":
        # The CSV stays plain (header row first) so spreadsheets and pandas read it as is.
        typer.echo(report.to_csv(), nl=False)
        if metadata is not None:
            metadata.write_text(report.metadata_json() + "\n", encoding="utf-8")
        else:
            error_console.print(f"settings: {report.metadata_json()}", highlight=False)
    else:
        render_table(report, console)


def _print_frame(frame: Any, output_format: str, title: str) -> None:
    table_data = frame.with_columns(frame["interval_start"].dt.to_string("%+"))
    if output_format == "json":
        typer.echo(json.dumps(table_data.to_dicts(), indent=2))
    elif output_format == "csv":
        typer.echo(safe_text(table_data).write_csv(), nl=False)
    else:
        table = Table(title=title)
        for column in table_data.columns:
            table.add_column(
                column,
                justify="left"
                if column in {"interval_start", "agent", "team", "queue"}
                else "right",
            )
        for row in table_data.iter_rows():
            table.add_row(*(_format(v) for v in row))
        console.print(table)


def _center(center_file: Path | None) -> Any:
    """The center configuration named on the command line or by HOTLINE_CENTER_CONFIG."""
    path = center_file or load_settings().center_config
    if path is None:
        return None
    try:
        return load_center(path)
    except ValidationFailed as failed:
        for problem in failed.problems:
            error_console.print(f"[red]error[/red] {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _center_teams(center_file: Path | None) -> dict[str, str]:
    config = _center(center_file)
    return service.teams_for_center(config) if config is not None else {}


@report_app.command("agents")
def agents(
    interval: str = typer.Option("day", "--interval", "-i", help="15m, 30m, 1h, day or month."),
    by: str = typer.Option("agent", "--by", help="agent or team."),
    output_format: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of the intervals."),
    center: Path = typer.Option(None, "--center", help="Center configuration (agent teams)."),
    source: str = typer.Option(None, "--source", help="Only events of this source (live, sim)."),
) -> None:
    """Occupancy and utilization per agent or team, from the agent states in the event log."""
    engine = make_engine(load_settings().resolved_database_url())
    upgrade(engine)
    try:
        with session_scope(make_session_factory(engine)) as session:
            frame = service.agent_report(
                session=session,
                interval=interval,
                by=(by,),
                timezone=tz,
                teams=_center_teams(center),
                source=source,
            )
    except ValueError as exc:
        error_console.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    _print_frame(frame, output_format, f"Agent figures by {by} ({interval}, {tz})")


@report_app.command("experience")
def experience(
    interval: str = typer.Option("day", "--interval", "-i", help="15m, 30m, 1h, day or month."),
    by: str = typer.Option(
        "queue", "--by", help="queue, agent, channel or entry; 'center' for none."
    ),
    output_format: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of the intervals."),
) -> None:
    """CSAT (top-2-box), DSAT and NPS from the survey answers in the event log."""
    dimensions = () if by == "center" else (by,)
    engine = make_engine(load_settings().resolved_database_url())
    upgrade(engine)
    try:
        with session_scope(make_session_factory(engine)) as session:
            frame = service.experience_report(
                session=session, interval=interval, by=dimensions, timezone=tz
            )
    except ValueError as exc:
        error_console.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    _print_frame(frame, output_format, f"Customer experience ({interval}, {tz})")


def register(app: typer.Typer) -> None:
    """Add ``hotline report`` (also spelt ``hotline reports``) to the ``hotline`` command."""
    from hotline.cli.report_schedules import schedule_app

    report_app.add_typer(schedule_app, name="schedule")
    app.add_typer(report_app, name="report")
    app.add_typer(report_app, name="reports", hidden=True)
