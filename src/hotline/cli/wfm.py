"""Workforce-management commands: ``hotline wfm erlang|forecast|backtest|schedule|...``."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hotline.core.documents import dict_rows, load_yaml
from hotline.core.errors import ValidationFailed
from hotline.core.spreadsheet import append_row, csv_cell
from hotline.wfm import files
from hotline.wfm.calendars import shipped_calendar, shipped_calendars
from hotline.wfm.erlang import ServiceTarget, required_agents
from hotline.wfm.forecast import (
    ForecastSettings,
    History,
    SpecialDay,
    backtest,
    forecast,
    forecast_by_queue,
    rolling_origins,
)

if TYPE_CHECKING:
    from hotline.config.center import CenterConfig
    from hotline.web.api.planning import MultiSkillLoads

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
def erlang(
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


def _records(*, contacts: list[Path], bank: Path | None, tz: str) -> tuple[list[Any], str]:
    """Contact records from files or the bank logs, and the time zone to read them in."""
    try:
        if bank is not None:
            return files.read_bank(bank), files.BANK_TIMEZONE
        if not contacts:
            raise typer.BadParameter("give --contacts FILE (or --bank DIR)")
        return files.read_contacts(contacts, tz=tz), tz
    except ValidationFailed as exc:
        for problem in exc.problems[:50]:
            error_console.print(f"[red]error[/red] {problem}", highlight=False)
        raise typer.Exit(1) from exc


SITE_HELP = "Only this site's queues and agents (from the center file; default: the whole center)."
CENTER_HELP = "Center configuration (default: the one the server uses)."


def _center(center_file: Path | None) -> CenterConfig:
    """The center file, checked; its problems printed, located, and exit 1 when broken."""
    from hotline.cli.platform import center_path
    from hotline.config.validate import check_file
    from hotline.core.settings import load_settings

    checked = check_file(center_path(load_settings().home, center_file))
    if not checked.ok or checked.config is None:
        for problem in checked.errors:
            error_console.print(f"[red]error[/red] {problem}", highlight=False)
        raise typer.Exit(1)
    return checked.config


def _site(site: str, center_file: Path | None) -> tuple[set[str], set[str]]:
    """The queues and agents of ``site`` in the center file (``--site``, ``--center``)."""
    from hotline.web.api.planning import site_members

    try:
        return site_members(_center(center_file), site)
    except ValidationFailed as exc:
        raise typer.BadParameter(str(exc), param_hint="--site") from None


def _history(
    *,
    contacts: list[Path],
    bank: Path | None,
    interval_s: int,
    tz: str,
    channel: str | None,
    queue: str | None,
) -> History:
    records, zone = _records(contacts=contacts, bank=bank, tz=tz)
    return files.history_from_records(
        records, interval_s=interval_s, timezone=zone, channel=channel, queue=queue
    )


def _save_rows(rows: list[dict[str, object]], path: Path) -> None:
    """Write rows to ``path``: Excel when it ends in .xlsx, else CSV."""
    columns = list(rows[0]) if rows else []
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        append_row(sheet, columns)
        for row in rows:
            append_row(sheet, [row[c] for c in columns])
        book.save(path)
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)


def _calendar(name_or_path: str | None) -> list[SpecialDay]:
    """A calendar file, or a calendar shipped with Hotline named without a path."""
    if name_or_path is None:
        return []
    try:
        if not Path(name_or_path).exists() and name_or_path in shipped_calendars():
            return shipped_calendar(name_or_path)
        if not Path(name_or_path).exists():
            error_console.print(
                f"[red]error[/red] --calendar: no file {name_or_path!r} and no shipped calendar "
                f"of that name (shipped: {', '.join(shipped_calendars())})",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2)
        return files.read_calendar(Path(name_or_path))
    except ValidationFailed as exc:
        for problem in exc.problems:
            error_console.print(f"[red]error[/red] {problem}", highlight=False)
        raise typer.Exit(1) from exc


def _forecast_by_queue(
    records: list[Any],
    *,
    zone: str,
    interval_s: int,
    channel: str | None,
    days: int,
    calendar: list[SpecialDay],
    level: float,
    output: str,
    out: Path | None,
) -> None:
    """Rows of one forecast per queue, reconciled with the forecast of their total."""
    total = files.history_from_records(
        records, interval_s=interval_s, timezone=zone, channel=channel
    )
    names = sorted({r.queue for r in records if r.queue and r.queued_at is not None})
    queues = {
        name: files.history_from_records(
            records, interval_s=interval_s, timezone=zone, channel=channel, queue=name,
            first_day=total.first_day, last_day=total.day(total.days - 1),
        )
        for name in names
    }  # fmt: skip
    try:
        result = forecast_by_queue(
            total, queues, days=days, calendar=calendar, settings=ForecastSettings(level=level)
        )
    except ValueError as exc:
        error_console.print(f"[red]error[/red] {exc}")
        raise typer.Exit(1) from exc
    for note in result.total.notes:
        error_console.print(f"note: {note}", highlight=False)
    for day in result.total.excluded:
        error_console.print(f"left out of the fit: {day.describe()}", highlight=False)
    rows: list[dict[str, object]] = []
    for name, queue_forecast in result.queues.items():
        for interval_row in queue_forecast.intervals():
            row = interval_row.as_row()
            rows.append({"interval_start": row.pop("interval_start"), "queue": name, **row})
    if out is not None:
        _save_rows(rows, out)
        return
    _write_rows(rows, output, f"Forecast per queue from {total.day(result.total.origin)}")


def _interval_seconds(text: str) -> int:
    seconds = int(parse_duration(text))
    if seconds <= 0 or 86400 % seconds:
        raise typer.BadParameter("the interval must divide a day: 15m, 30m, 60m …")
    return seconds


def _write_rows(rows: list[dict[str, object]], output: str, title: str) -> None:
    if output == "json":
        print(json.dumps(rows))
    elif output == "csv":
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
        sys.stdout.write(buffer.getvalue())
    elif output == "table":
        table = Table(title=title)
        for column in rows[0] if rows else []:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(v) for v in row.values()))
        console.print(table)
    else:
        raise typer.BadParameter("format must be csv, json or table")


CALENDAR_HELP = (
    "Special days: a CSV file (date,label[,kind][,factor][,like]) or a calendar shipped with "
    "Hotline: israel-1999, china-2025-2026."
)
CONTACTS_HELP = "Contact-record CSV file (METRICS.md format); repeat for several files."
BANK_HELP = "Read the 1999 Anonymous Bank logs from this directory instead of --contacts."


@wfm_app.command("forecast")
def forecast_command(
    contacts: list[Path] = typer.Option([], "--contacts", help=CONTACTS_HELP),
    bank: Path | None = typer.Option(None, "--bank", help=BANK_HELP),
    horizon: str = typer.Option("14d", "--horizon", help="How far ahead: whole days, e.g. 14d."),
    interval: str = typer.Option("30m", "--interval", help="Interval length: 15m, 30m or 60m."),
    tz: str = typer.Option("UTC", "--tz", help="The center's time zone, e.g. Asia/Shanghai."),
    calendar: str | None = typer.Option(None, "--calendar", help=CALENDAR_HELP),
    channel: str | None = typer.Option(None, "--channel", help="Only this channel."),
    queue: str | None = typer.Option(None, "--queue", help="Only this queue."),
    site: str | None = typer.Option(None, "--site", help=SITE_HELP),
    center_file: Path | None = typer.Option(None, "--center", help=CENTER_HELP),
    level: float = typer.Option(0.8, "--level", help="Prediction-interval coverage."),
    by_channel: bool = typer.Option(
        False, "--by-channel", help="One forecast per channel, with a channel column."
    ),
    by_queue: bool = typer.Option(
        False,
        "--by-queue",
        help="One forecast per queue, with a queue column, reconciled so that the queues add "
        "up to the forecast of their total in every interval.",
    ),
    output: str = typer.Option("csv", "--format", help="csv, json or table."),
    out: Path | None = typer.Option(None, "--out", help="Write to a file (.csv or .xlsx)."),
) -> None:
    """Forecast offered contacts and AHT per interval, with prediction bounds; with
    ``--site``, of the contacts of that site's queues only.

    Example: ``hotline wfm forecast --contacts calls.csv --horizon 14d --interval 30m``.
    """
    interval_s = _interval_seconds(interval)
    records, zone = _records(contacts=contacts, bank=bank, tz=tz)
    if site is not None:
        site_queues = _site(site, center_file)[0]
        records = [r for r in records if r.queue in site_queues]
        if not records:
            error_console.print(
                f"[red]error[/red] no contacts of site {site}'s queues "
                f"({', '.join(sorted(site_queues))}) in the history",
                highlight=False,
            )
            raise typer.Exit(1)
    if by_channel and channel is None:
        channels: list[str | None] = sorted({r.channel for r in records})
    else:
        channels = [channel]
    days = max(1, round(parse_duration(horizon) / 86400))
    special_days = _calendar(calendar)
    if by_queue:
        _forecast_by_queue(
            records, zone=zone, interval_s=interval_s, channel=channel, days=days,
            calendar=special_days, level=level, output=output, out=out,
        )  # fmt: skip
        return
    rows: list[dict[str, object]] = []
    title = "Forecast"
    for current in channels:
        try:
            history = files.history_from_records(
                records, interval_s=interval_s, timezone=zone, channel=current, queue=queue
            )
            result = forecast(
                history, days=days, calendar=special_days, settings=ForecastSettings(level=level)
            )
        except ValueError as exc:
            error_console.print(f"[red]error[/red] {current or 'all channels'}: {exc}")
            raise typer.Exit(1) from exc
        for note in result.notes:
            error_console.print(f"note: {note}", highlight=False)
        for day in result.excluded:
            error_console.print(f"left out of the fit: {day.describe()}", highlight=False)
        title = f"Forecast from {history.day(result.origin)}"
        for interval_row in result.intervals():
            row = interval_row.as_row()
            if by_channel:
                row = {"interval_start": row.pop("interval_start"), "channel": current, **row}
            rows.append(row)
    if out is not None:
        _save_rows(rows, out)
        return
    _write_rows(rows, output, title)


@wfm_app.command("backtest")
def backtest_command(
    contacts: list[Path] = typer.Option([], "--contacts", help=CONTACTS_HELP),
    bank: Path | None = typer.Option(None, "--bank", help=BANK_HELP),
    horizon: str = typer.Option("14d", "--horizon", help="Forecast horizon in days."),
    interval: str = typer.Option("30m", "--interval", help="Interval length: 15m, 30m or 60m."),
    step: str = typer.Option("7d", "--step", help="Days between rolling origins."),
    min_training: str = typer.Option(
        "56d", "--min-training", help="History needed before the first origin."
    ),
    tz: str = typer.Option("UTC", "--tz", help="The center's time zone."),
    calendar: str | None = typer.Option(None, "--calendar", help=CALENDAR_HELP),
    queue: str | None = typer.Option(None, "--queue", help="Only this queue."),
    output: str = typer.Option("table", "--format", help="table, csv or json."),
    out: Path | None = typer.Option(None, "--out", help="Write to a file (.csv or .xlsx)."),
) -> None:
    """WAPE and bias per horizon day, Hotline vs seasonal naive, over rolling origins.

    Scored over staffed intervals (those with contacts in at least half of the same weekdays
    of the eight weeks before each origin) of days present in the data.
    """
    interval_s = _interval_seconds(interval)
    history = _history(
        contacts=contacts, bank=bank, interval_s=interval_s, tz=tz, channel=None, queue=queue
    )
    horizon_days = max(1, round(parse_duration(horizon) / 86400))
    origins = rolling_origins(
        history,
        horizon_days=horizon_days,
        step_days=max(1, round(parse_duration(step) / 86400)),
        min_training_days=max(14, round(parse_duration(min_training) / 86400)),
    )
    if not origins:
        error_console.print("[red]error[/red] the history is too short for this horizon")
        raise typer.Exit(1)
    from rich.progress import Progress

    with Progress(console=error_console, transient=True) as bar:
        task = bar.add_task(f"backtest, {len(origins)} origins", total=len(origins))
        rows = backtest(
            history,
            horizon_days=horizon_days,
            origins=origins,
            calendar=_calendar(calendar),
            progress=lambda done, total: bar.update(task, completed=done),
        )
    table_rows: list[dict[str, object]] = []
    for day in range(horizon_days + 1):
        by_method = {r.method: r for r in rows if r.horizon_day == day}
        if not by_method:
            continue
        ours, naive = by_method["hotline"], by_method["seasonal_naive"]
        table_rows.append(
            {
                "horizon_day": "all" if day == 0 else day,
                "intervals": ours.intervals,
                "hotline_wape": round(ours.wape, 4),
                "hotline_bias": round(ours.bias, 4),
                "seasonal_naive_wape": round(naive.wape, 4),
                "seasonal_naive_bias": round(naive.bias, 4),
            }
        )
    if out is not None:
        _save_rows(table_rows, out)
        return
    _write_rows(table_rows, output, f"Backtest over {len(origins)} origins")


@wfm_app.command("staff")
def staff_command(
    forecast_file: Path = typer.Option(
        ..., "--forecast", help="Forecast CSV (interval_start, offered, aht_s)."
    ),
    interval: str = typer.Option("30m", "--interval", help="Interval length of the forecast."),
    target: str = typer.Option("80/20", "--target", help="Service level: percent/seconds."),
    patience: float | None = typer.Option(None, "--patience", help="Erlang A patience (s)."),
    shrinkage: float = typer.Option(0.0, "--shrinkage", help="Share of paid time off-phone."),
    max_occupancy: float | None = typer.Option(None, "--max-occupancy", help="Occupancy cap."),
    output: str = typer.Option("csv", "--format", help="csv, json or table."),
    out: Path | None = typer.Option(None, "--out", help="Write to a file (.csv or .xlsx)."),
) -> None:
    """Agents and scheduled heads per interval for a forecast (``hotline wfm forecast``)."""
    interval_s = parse_duration(interval)
    service_target = ServiceTarget.parse(target, max_occupancy=max_occupancy)
    rows: list[dict[str, object]] = []
    with forecast_file.open(newline="", encoding="utf-8") as handle:
        for row in dict_rows(handle, source=str(forecast_file)):
            calls, aht_s = float(row["offered"]), float(row["aht_s"]) or 1.0
            answer = required_agents(
                calls=calls,
                aht_s=aht_s,
                interval_s=interval_s,
                target=service_target,
                patience_s=patience,
                shrinkage=shrinkage,
            )
            rows.append(
                {
                    "interval_start": row["interval_start"],
                    "offered": calls,
                    "aht_s": aht_s,
                    "load_erlangs": round(answer.load_erlangs, 3),
                    "agents": answer.agents,
                    "scheduled_heads": answer.scheduled_heads,
                    "service_level": round(answer.service_level, 4),
                    "asa_s": round(answer.asa_s, 1),
                    "abandon_rate": round(answer.abandon_rate, 4),
                    "occupancy": round(answer.occupancy, 4),
                }
            )
    if out is not None:
        _save_rows(rows, out)
        return
    _write_rows(rows, output, "Staffing per interval")


def _clock_slots(text: str, interval_s: float) -> int:
    hours, _, minutes = str(text).partition(":")
    return round((int(hours) * 3600 + int(minutes or 0) * 60) / interval_s)


def _span_slots(text: str | float, interval_s: float) -> int:
    if isinstance(text, int | float):
        return round(float(text) * 60 / interval_s)
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([hm])", str(text)):
        total += float(amount) * (3600 if unit == "h" else 60)
    return round(total / interval_s)


def _schedule_setup(path: Path, interval_s: float) -> tuple[list[Any], list[Any], Any, Any]:
    """Agents, templates, rules and penalty from a YAML setup file."""

    from hotline.wfm.schedule import Agent, Break, LabourRules, ShiftTemplate

    data = load_yaml(path.read_text(encoding="utf-8"), source=str(path)) or {}
    templates = [
        ShiftTemplate(
            name=str(t["name"]),
            start=_clock_slots(t["start"], interval_s),
            length=_span_slots(t["length"], interval_s),
            breaks=tuple(
                Break(
                    length=_span_slots(b["length"], interval_s),
                    earliest=_span_slots(b["earliest"], interval_s),
                    latest=_span_slots(b["latest"], interval_s),
                    paid=bool(b.get("paid", True)),
                )
                for b in t.get("breaks", [])
            ),
        )
        for t in data.get("templates", [])
    ]
    weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    agents = []
    for a in data.get("agents", []):
        available = None
        if "available" in a:
            available = {}
            for day, window in a["available"].items():
                first, _, end = str(window).partition("-")
                available[weekdays.index(str(day)[:3].lower())] = (
                    _clock_slots(first, interval_s),
                    _clock_slots(end, interval_s),
                )
        agents.append(
            Agent(
                agent_id=str(a["id"]),
                skills=frozenset(a.get("skills", ["default"])),
                hourly_cost=float(a.get("hourly_cost", 1.0)),
                min_week_hours=float(a.get("min_week_hours", 0.0)),
                max_week_hours=float(a.get("max_week_hours", 40.0)),
                max_day_hours=float(a.get("max_day_hours", 10.0)),
                available=available,
            )
        )
    rules = LabourRules(**data.get("rules", {}))
    return agents, templates, rules, data.get("under_staffing_penalty")


@wfm_app.command("schedule")
def schedule_command(
    requirements: Path = typer.Option(
        ..., "--requirements", help="Staffing CSV (hotline wfm staff): interval_start, agents."
    ),
    setup: Path = typer.Option(
        ..., "--setup", help="YAML with templates, agents and rules (see docs of the command)."
    ),
    column: str = typer.Option("agents", "--column", help="Requirement column to cover."),
    interval: str = typer.Option("30m", "--interval", help="Interval of the requirements."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Solver time limit (s)."),
    out: Path | None = typer.Option(None, "--out", help="Write the schedule (.csv or .xlsx)."),
    chart: Path | None = typer.Option(None, "--chart", help="Write the coverage chart PNG."),
) -> None:
    """Build a week's roster with CP-SAT: cover requirements at least cost.

    The setup YAML holds ``templates`` (name, start "07:00", length "8h30m", breaks with
    length/earliest/latest offsets and ``paid``), ``agents`` (id, skills, hourly_cost,
    min/max_week_hours, max_day_hours, available {mon: "07:00-22:00"}), ``rules``
    (min_rest_hours, min_days_off) and ``under_staffing_penalty`` per missing agent-interval.
    The requirements CSV may carry a ``skill`` column; without it every row is skill default.
    """
    from datetime import datetime

    import numpy as np
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from hotline.wfm.schedule import ScheduleProblem, solve_schedule

    interval_s = _interval_seconds(interval)
    agents, templates, rules, penalty = _schedule_setup(setup, interval_s)
    cells: dict[str, dict[tuple[Any, int], float]] = {}
    with requirements.open(newline="", encoding="utf-8") as handle:
        for row in dict_rows(handle, source=str(requirements)):
            moment = datetime.fromisoformat(row["interval_start"])
            slot = (moment.hour * 3600 + moment.minute * 60) // interval_s
            skill = row.get("skill") or "default"
            cells.setdefault(skill, {})[(moment.date(), slot)] = float(row[column])
    if not cells:
        error_console.print("[red]error[/red] the requirements file has no rows")
        raise typer.Exit(1)
    all_days = sorted({day for per in cells.values() for day, _ in per})
    first_day, days = all_days[0], (all_days[-1] - all_days[0]).days + 1
    slots = 86400 // interval_s
    matrices = {}
    for skill, per in cells.items():
        matrix = np.zeros((days, slots))
        for (day, slot), value in per.items():
            matrix[(day - first_day).days, slot] = value
        matrices[skill] = matrix
    problem = ScheduleProblem(
        first_day=first_day,
        interval_s=interval_s,
        requirements=matrices,
        agents=agents,
        templates=templates,
        rules=rules,
        under_staffing_penalty=penalty,
        time_limit_s=time_limit,
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=True,
    ) as bar:
        task = bar.add_task("solving", total=time_limit)

        def report(seconds: float, objective: float, bound: float) -> None:
            bar.update(
                task,
                completed=min(seconds, time_limit),
                description=f"solving: cost {objective / 100:.0f}, bound {bound / 100:.0f}",
            )

        result = solve_schedule(problem, progress=report)
    table = Table(title="Schedule", show_header=False)
    table.add_row("status", result.status)
    table.add_row("shifts", str(len(result.assignments)))
    table.add_row("labour cost", f"{result.labour_cost:.2f}")
    table.add_row("under-staffed intervals", str(result.under_staffed_intervals))
    table.add_row("missing agent-intervals", f"{result.under_staffed_agent_intervals:g}")
    table.add_row("penalty per agent-interval", f"{result.penalty_per_agent_interval:g}")
    table.add_row("seconds", f"{result.seconds:.1f}")
    console.print(table)
    if out is not None:
        files.write_schedule(result, out, interval_s=interval_s)
    if chart is not None:
        files.plot_coverage(result, chart, first_day=first_day, interval_s=interval_s)


@wfm_app.command("adherence")
def adherence_command(
    events: Path = typer.Option(
        ..., "--events", help="Event log: JSON lines, or events.parquet from hotline simulate."
    ),
    roster: Path = typer.Option(..., "--roster", help="Roster CSV from hotline wfm schedule."),
    day: str = typer.Option(..., "--date", help="The day to check, YYYY-MM-DD (local)."),
    tz: str = typer.Option("UTC", "--tz", help="The center's time zone."),
    teams: Path | None = typer.Option(None, "--teams", help="CSV agent,team for team figures."),
    site: str | None = typer.Option(None, "--site", help=SITE_HELP),
    center_file: Path | None = typer.Option(None, "--center", help=CENTER_HELP),
    grace: str = typer.Option("5m", "--grace", help="Shortest exception listed."),
    replication: int | None = typer.Option(
        None, "--replication", help="Which simulation run of a Parquet log."
    ),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Adherence and conformance per agent and team from agent-state events, and exceptions;
    with ``--site``, of that site's agents (their own site, else their team's) only."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from hotline.wfm.adherence import adherence_report

    zone = ZoneInfo(tz)
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), zone)
    team_map: dict[str, str] | None = None
    if teams is not None:
        with teams.open(newline="", encoding="utf-8") as handle:
            team_map = {row["agent"]: row["team"] for row in dict_rows(handle, source=str(teams))}
    schedule = files.read_roster(roster, tz=tz)
    log = files.read_events(events, replication=replication)
    if site is not None:
        site_agents = _site(site, center_file)[1]
        schedule = [a for a in schedule if a.agent_id in site_agents]
        log = [e for e in log if e.agent_id in site_agents]
    report = adherence_report(
        schedule=schedule,
        events=log,
        window_start=start.timestamp(),
        window_end=(start + timedelta(days=1)).timestamp(),
        teams=team_map,
        grace_s=parse_duration(grace),
    )

    def clock(t: float) -> str:
        return datetime.fromtimestamp(t, zone).strftime("%H:%M")

    exceptions = [
        {
            "agent": e.agent_id,
            "from": clock(e.start),
            "to": clock(e.end),
            "scheduled": e.scheduled,
            "actual": e.actual,
            "minutes": round(e.minutes, 1),
        }
        for e in report.exceptions
    ]
    if output == "json":
        print(
            json.dumps(
                {
                    "agents": [f.as_row() for f in report.agents],
                    "teams": [f.as_row() for f in report.teams],
                    "exceptions": exceptions,
                }
            )
        )
        return
    _write_rows([f.as_row() for f in report.agents], "table", f"Adherence on {day}")
    if report.teams:
        _write_rows([f.as_row() for f in report.teams], "table", "Teams")
    if exceptions:
        _write_rows(exceptions, "table", "Exceptions")


@wfm_app.command("intraday")
def intraday_command(
    forecast_file: Path = typer.Option(..., "--forecast", help="Forecast CSV for today."),
    contacts: list[Path] = typer.Option([], "--contacts", help=CONTACTS_HELP),
    roster: Path = typer.Option(..., "--roster", help="Roster CSV from hotline wfm schedule."),
    now: str = typer.Option(..., "--now", help="Current local time, e.g. 2026-03-02T11:00."),
    tz: str = typer.Option("UTC", "--tz", help="The center's time zone."),
    interval: str = typer.Option("30m", "--interval", help="Interval of the forecast."),
    target: str = typer.Option("80/20", "--target", help="Service level: percent/seconds."),
    patience: float | None = typer.Option(None, "--patience", help="Erlang A patience (s)."),
    output: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """Re-forecast the rest of today from actuals so far and show the staffing gap."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from hotline.wfm.intraday import reforecast_day

    zone = ZoneInfo(tz)
    interval_s = _interval_seconds(interval)
    moment = datetime.fromisoformat(now)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    day_start = datetime.combine(moment.astimezone(zone).date(), datetime.min.time(), zone)
    slots = 86400 // interval_s
    forecast_offered = [0.0] * slots
    forecast_aht = [0.0] * slots
    with forecast_file.open(newline="", encoding="utf-8") as handle:
        for row in dict_rows(handle, source=str(forecast_file)):
            start = datetime.fromisoformat(row["interval_start"])
            offset = (start - day_start).total_seconds()
            if 0 <= offset < 86400:
                forecast_offered[int(offset // interval_s)] = float(row["offered"])
                forecast_aht[int(offset // interval_s)] = float(row["aht_s"])
    elapsed = int((moment - day_start).total_seconds() // interval_s)
    offered = [0.0] * elapsed
    answered = [0.0] * elapsed
    handled = [0.0] * elapsed
    for record in files.read_contacts(contacts, tz=tz):
        if record.queued_at is None:
            continue
        index = int((record.queued_at - day_start.timestamp()) // interval_s)
        if 0 <= index < elapsed:
            offered[index] += 1
            if record.answered_at is not None:
                answered[index] += 1
                handled[index] += record.handle_s
    scheduled = files.phones_per_interval(
        files.read_roster(roster, tz=tz),
        day_start=day_start.timestamp(),
        interval_s=interval_s,
        slots=slots,
    )
    plan = reforecast_day(
        forecast_offered=forecast_offered,
        forecast_aht_s=[a or 1.0 for a in forecast_aht],
        actual_offered=offered,
        actual_answered=answered,
        actual_handle_s=handled,
        scheduled_agents=scheduled,
        interval_s=interval_s,
        target=ServiceTarget.parse(target),
        patience_s=patience,
    )
    rows = []
    for item in plan.intervals:
        row = item.as_row()
        row["interval_start"] = (day_start + timedelta(seconds=item.index * interval_s)).strftime(
            "%H:%M"
        )
        row.pop("index")
        rows.append({"interval_start": row.pop("interval_start"), **row})
    error_console.print(
        f"volume running at {plan.volume_ratio:.0%} of forecast, AHT at {plan.aht_ratio:.0%}; "
        f"{plan.short_agent_intervals:g} agent-intervals short for the rest of the day",
        highlight=False,
    )
    _write_rows(rows, output, f"Intraday {day_start.date()} at {moment:%H:%M}")


@wfm_app.command("verify")
def verify_command(
    calls: float = typer.Option(..., "--calls", help="Contacts offered per interval."),
    aht: float = typer.Option(..., "--aht", help="Average handling time in seconds."),
    interval: str = typer.Option("30m", "--interval", help="Interval length."),
    target: str = typer.Option("80/20", "--target", help="Service level: percent/seconds."),
    patience: float | None = typer.Option(None, "--patience", help="Mean patience (s)."),
    agents: int | None = typer.Option(
        None, "--agents", help="Agents to check (default: the Erlang answer)."
    ),
    hours: float = typer.Option(4.0, "--hours", help="Simulated hours per replication."),
    replications: int = typer.Option(10, "--replications", help="Independent replications."),
    seed: int = typer.Option(1, "--seed", help="Random seed (printed, so runs repeat)."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Check an Erlang staffing answer with the simulator (the real routing engine).

    Runs the interval's load for ``--hours`` with the given agents, exponential handle times
    (and patience), half an hour of warm-up left out, and sets the simulated service level,
    ASA and abandon rate (mean and 95 % half-width over replications) beside the formula's.
    """
    import statistics

    import polars as pl

    from hotline.sim.driver import simulate
    from hotline.sim.results import confidence_interval, replication_frames
    from hotline.sim.scenario import scenario_from_dict
    from hotline.wfm.erlang import queue_figures

    interval_s = _interval_seconds(interval)
    service_target = ServiceTarget.parse(target)
    if agents is None:
        agents = required_agents(
            calls=calls,
            aht_s=aht,
            interval_s=interval_s,
            target=service_target,
            patience_s=patience,
        ).agents
    theory = queue_figures(
        agents=agents,
        calls=calls,
        aht_s=aht,
        interval_s=interval_s,
        answer_within_s=service_target.answer_within_s,
        patience_s=patience,
    )
    warmup_s = 1800.0
    intervals = max(1, round((hours * 3600 + warmup_s) / interval_s))
    scenario = scenario_from_dict(
        {
            "name": "wfm verify",
            "start": "2026-03-02T00:00:00",
            "interval_s": interval_s,
            "warmup_s": warmup_s,
            "queues": [{
                "id": "q", "handle_time": {"exponential": aht},
                "patience": {"exponential": patience} if patience else "never",
                "wrap_up_s": 0, "service_level_threshold_s": service_target.answer_within_s,
            }],
            "agents": [{"group": "g", "count": agents}],
            "arrivals": [{"queue": "q", "rates_per_hour": [calls * 3600 / interval_s] * intervals}],
        }
    )  # fmt: skip
    error_console.print(f"simulating {replications} × {hours:g} h, seed {seed}", highlight=False)
    run = simulate(scenario, replications=replications, seed=seed)
    start = scenario.start + warmup_s
    within = service_target.answer_within_s
    measured: dict[str, list[float]] = {"service_level": [], "asa_s": [], "abandon_rate": []}
    for frame in replication_frames(run):
        queued = frame.filter(pl.col("queued_at").is_not_null() & (pl.col("queued_at") >= start))
        waits = queued.with_columns((pl.col("answered_at") - pl.col("queued_at")).alias("wait"))
        answered = waits.filter(pl.col("answered_at").is_not_null())
        offered = max(queued.height, 1)
        # The formula's definitions: answered within T ÷ offered; ASA over answered contacts.
        measured["service_level"].append(answered.filter(pl.col("wait") <= within).height / offered)
        waits_s = answered["wait"].to_numpy()
        measured["asa_s"].append(float(waits_s.mean()) if waits_s.size else 0.0)
        measured["abandon_rate"].append(queued.filter(pl.col("abandoned_at").is_not_null()).height
                                        / offered)  # fmt: skip
    rows = []
    for figure, values in measured.items():
        _, half = confidence_interval(values)
        rows.append({
            "figure": figure, "formula": round(float(getattr(theory, figure)), 4),
            "simulated": round(statistics.fmean(values), 4), "ci95_half_width": round(half, 4),
        })  # fmt: skip
    if output == "json":
        print(json.dumps({"agents": agents, "model": theory.model, "seed": seed,
                          "replications": replications, "rows": rows}))  # fmt: skip
        return
    _write_rows(rows, "table", f"{theory.model} with {agents} agents vs simulation")


@wfm_app.command("verify-plan")
def verify_plan_command(
    forecast_file: Path = typer.Option(
        ..., "--forecast", help="Forecast CSV (hotline wfm forecast)."
    ),
    roster: Path = typer.Option(..., "--roster", help="Roster CSV (hotline wfm schedule)."),
    day: str = typer.Option(..., "--date", help="The day to simulate, YYYY-MM-DD (local)."),
    tz: str = typer.Option("UTC", "--tz", help="The center's time zone."),
    interval: str = typer.Option("30m", "--interval", help="Interval of forecast and report."),
    target: str = typer.Option("80/20", "--target", help="Service level: percent/seconds."),
    patience: float | None = typer.Option(None, "--patience", help="Mean patience (s)."),
    replications: int = typer.Option(10, "--replications", help="Independent replications."),
    seed: int = typer.Option(1, "--seed", help="Random seed (printed, so runs repeat)."),
    output: str = typer.Option("table", "--format", help="table, csv or json."),
) -> None:
    """Simulate a day's forecast against its roster and compare with the Erlang figures.

    Arrivals follow the forecast per interval, the agents on the phones follow the roster
    (breaks included, rounded to whole agents per interval), handling time is exponential with
    the day's forecast AHT. Each interval shows the Erlang service level for the scheduled
    agents beside the simulated one (mean over replications, answered within the target ÷
    offered), so a planner sees where queueing between intervals changes the picture.
    """
    import statistics
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    import polars as pl

    from hotline.sim.driver import simulate
    from hotline.sim.results import confidence_interval, replication_frames
    from hotline.sim.scenario import scenario_from_dict
    from hotline.wfm.erlang import queue_figures

    zone = ZoneInfo(tz)
    interval_s = _interval_seconds(interval)
    slots = 86400 // interval_s
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), zone)
    offered = [0.0] * slots
    aht = [0.0] * slots
    with forecast_file.open(newline="", encoding="utf-8") as handle:
        for row in dict_rows(handle, source=str(forecast_file)):
            offset = (datetime.fromisoformat(row["interval_start"]) - start).total_seconds()
            if 0 <= offset < 86400:
                offered[int(offset // interval_s)] = float(row["offered"])
                aht[int(offset // interval_s)] = float(row["aht_s"])
    if sum(offered) <= 0:
        error_console.print(f"[red]error[/red] the forecast has no contacts on {day}")
        raise typer.Exit(1)
    day_aht = sum(o * a for o, a in zip(offered, aht, strict=True)) / sum(offered)
    on_phones = files.phones_per_interval(
        files.read_roster(roster, tz=tz),
        day_start=start.timestamp(),
        interval_s=interval_s,
        slots=slots,
    )
    agents = [round(n) for n in on_phones]
    service_target = ServiceTarget.parse(target)
    scenario = scenario_from_dict(
        {
            "name": f"plan {day}",
            "start": start.replace(tzinfo=None).isoformat(),
            "timezone": tz,
            "interval_s": interval_s,
            "queues": [{
                "id": "q", "handle_time": {"exponential": day_aht},
                "patience": {"exponential": patience} if patience else "never",
                "wrap_up_s": 0, "service_level_threshold_s": service_target.answer_within_s,
            }],
            "agents": [{"group": "plan", "count": max([*agents, 1]), "per_interval": agents}],
            "arrivals": [{"queue": "q", "rates_per_hour": [o * 3600 / interval_s
                                                           for o in offered]}],
        }
    )  # fmt: skip
    error_console.print(f"simulating {replications} replications, seed {seed}", highlight=False)
    run = simulate(scenario, replications=replications, seed=seed)
    within = service_target.answer_within_s
    per_interval: list[list[float]] = [[] for _ in range(slots)]
    for frame in replication_frames(run):
        queued = frame.filter(pl.col("queued_at").is_not_null()).with_columns(
            ((pl.col("queued_at") - start.timestamp()) // interval_s).cast(pl.Int64).alias("slot"),
            (pl.col("answered_at").is_not_null()
             & (pl.col("answered_at") - pl.col("queued_at") <= within)).alias("met"),
        )  # fmt: skip
        grouped = queued.group_by("slot").agg(pl.len().alias("n"), pl.col("met").sum())
        for slot, n, met in grouped.iter_rows():
            if 0 <= slot < slots and n:
                per_interval[slot].append(met / n)
    rows: list[dict[str, object]] = []
    for s in range(slots):
        if offered[s] <= 0 and agents[s] == 0:
            continue
        theory = queue_figures(
            agents=agents[s], calls=offered[s], aht_s=day_aht, interval_s=interval_s,
            answer_within_s=within, patience_s=patience,
        )  # fmt: skip
        values = per_interval[s]
        mean = statistics.fmean(values) if values else None
        half = confidence_interval(values)[1] if len(values) > 1 else None
        rows.append({
            "interval_start": (start + timedelta(seconds=s * interval_s)).strftime("%H:%M"),
            "offered": round(offered[s], 1), "agents": agents[s],
            "erlang_service_level": round(theory.service_level, 3),
            "simulated_service_level": None if mean is None else round(mean, 3),
            "ci95_half_width": None if half is None else round(half, 3),
        })  # fmt: skip
    _write_rows(rows, output, f"Plan for {day}: Erlang vs simulation")


_MULTISKILL_COLUMNS = (
    "queue", "offered", "target", "home team", "Erlang agents", "Erlang SL %",
    "SL % ±95%", "ASA s", "abandon %", "occupancy %", "met",
)  # fmt: skip


def _plus_minus(value: float | None, half: float | None, *, percent: bool) -> str:
    """``81.2±3.4`` (percent points when ``percent``); a dash when nothing was measured."""
    if value is None:
        return "—"
    scale = 100.0 if percent else 1.0
    shown = f"{value * scale:.1f}"
    return shown if half is None else f"{shown}±{half * scale:.1f}"


def _search_progress() -> Progress:
    """The multi-skill search's progress bar on stderr: the plan being simulated, the
    replications done, the time taken."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=error_console, transient=True)


@wfm_app.command("verify-multiskill")
def verify_multiskill_command(
    center_file: Path = typer.Option(..., "--center", help="Center configuration YAML."),
    volumes: Path = typer.Option(
        ...,
        "--volumes",
        help="CSV queue,offered,aht_s[,patience_s][,interval_start]: contacts per interval.",
    ),
    interval: str = typer.Option("30m", "--interval", help="Interval the volumes are for."),
    plan_file: Path | None = typer.Option(
        None, "--plan", help="Plan to check: CSV team,agents or YAML {team: agents}."
    ),
    search: bool = typer.Option(
        False, "--search", help="Search the fewest agents per team meeting every target."
    ),
    replications: int = typer.Option(10, "--replications", help="Independent replications."),
    seed: int = typer.Option(1, "--seed", help="Random seed (printed, so runs repeat)."),
    warmup: str = typer.Option("15m", "--warmup", help="Warm-up before the measured interval."),
    measure: str | None = typer.Option(
        None,
        "--measure",
        help="Measured time per replication at the interval's load (default: one interval).",
    ),
    rule: str = typer.Option(
        "mean",
        "--rule",
        help="A target is met by the mean service level (mean) or its lower 95 % bound (lower).",
    ),
    max_evaluations: int = typer.Option(
        40, "--max-evaluations", help="Search: most plans simulated per interval."
    ),
    time_limit: str = typer.Option("5m", "--time-limit", help="Search: time per interval."),
    max_per_team: int | None = typer.Option(
        None, "--max-per-team", help="Search: most agents on the phones in one team."
    ),
    output: str = typer.Option("table", "--format", help="table, json or csv."),
) -> None:
    """Verify a multi-skill staffing plan with the simulator, per queue, against Erlang.

    Each queue's own Erlang answer (C, or A when the volumes give patience) goes to its home
    team (the team whose members most often qualify for it); that sum, or ``--plan``, is
    simulated through the center's real routing rules (skills, ageing, priorities, overflow)
    for ``--replications`` runs: warm-up, then one interval of the same load. Per queue it
    shows the simulated service level (METRICS.md, the queue's own threshold), ASA, abandon
    rate and home-team occupancy with 95 % confidence half-widths, beside Erlang's prediction
    and the target. ``--search`` then adds agents to the home team of the queue furthest below
    target until all are met and trims teams while they hold, within the stated budget.

    AHT is talk + hold + wrap: it is drawn exponential and the queues' wrap-up is set to zero.
    A team planned beyond its roster repeats its members' profiles (``a001~2``): hires.

    Example: ``hotline wfm verify-multiskill --center center.yaml --volumes volumes.csv
    --interval 30m --search --replications 10 --seed 1``.
    """
    from rich import box

    from hotline.config.validate import load_center
    from hotline.sim.staffing import verify_intervals
    from hotline.wfm import multiskill

    if output not in ("table", "json", "csv"):
        raise typer.BadParameter("format must be table, json or csv")
    if replications < 2:
        raise typer.BadParameter("at least 2 replications are needed for confidence intervals")
    if rule not in multiskill.DECISION_RULES:
        raise typer.BadParameter("--rule must be mean or lower")
    if max_evaluations < 1:
        raise typer.BadParameter("--max-evaluations must be at least 1")
    interval_s = _interval_seconds(interval)
    try:
        center = multiskill.center_from_config(load_center(center_file))
        intervals = multiskill.read_volumes(volumes)
        plan = multiskill.read_plan(plan_file) if plan_file is not None else None
    except ValidationFailed as exc:
        for problem in exc.problems[:50]:
            error_console.print(f"[red]error[/red] {problem}", highlight=False)
        raise typer.Exit(1) from exc
    except (OSError, ValueError) as exc:
        error_console.print(f"[red]error[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    budget = max_evaluations if search else 1
    error_console.print(
        f"simulating {len(intervals)} interval(s) × {replications} replications "
        f"({warmup} warm-up, {measure or interval} measured), seed {seed}, rule {rule}"
        + (f"; search budget {max_evaluations} plans or {time_limit} per interval" if search
           else ""),
        highlight=False,
    )  # fmt: skip
    with _search_progress() as bar:
        task = bar.add_task("simulating", total=budget * replications * len(intervals))

        def on_step(step: multiskill.SearchStep) -> None:
            gap = f"worst {step.worst_queue} {step.worst_gap:+.1%}" if step.worst_queue else ""
            bar.update(task, description=f"{step.phase} {step.plan.total} agents, {gap}")

        try:
            verdicts = verify_intervals(
                center,
                intervals,
                interval_s=interval_s,
                plan=plan,
                search=search,
                replications=replications,
                seed=seed,
                warmup_s=parse_duration(warmup),
                measure_s=parse_duration(measure) if measure else None,
                rule=rule,
                max_evaluations=max_evaluations,
                time_limit_s=parse_duration(time_limit),
                max_per_team=max_per_team,
                on_replication=lambda _: bar.advance(task),
                on_step=on_step,
            )
        except ValidationFailed as exc:
            for problem in exc.problems[:50]:
                error_console.print(f"[red]error[/red] {problem}", highlight=False)
            raise typer.Exit(1) from exc
        except ValueError as exc:
            error_console.print(f"[red]error[/red] {exc}", highlight=False)
            raise typer.Exit(1) from exc
    if output == "json":
        print(json.dumps({"seed": seed, "replications": replications, "interval_s": interval_s,
                          "intervals": [v.as_dict(center) for v in verdicts]}))  # fmt: skip
        return
    if output == "csv":
        _write_rows([row for v in verdicts for row in v.queue_rows(center)], "csv", "")
        return
    for verdict in verdicts:
        data = verdict.as_dict(center)
        when = f" {verdict.interval.label}" if verdict.interval.label else ""
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False,
                      title=f"Multi-skill plan{when}: {data['agents']} agents "
                            f"({multiskill.StaffingPlan(data['plan']).describe()}); "
                            f"Erlang per queue: {data['erlang_agents']}")  # fmt: skip
        for column in _MULTISKILL_COLUMNS:
            table.add_column(column)

        for row in data["queues"]:
            table.add_row(
                row["queue"], f"{row['offered']:g}", row["target"],
                f"{row['home_team']} {row['home_agents']}", str(row["erlang_agents"]),
                f"{row['erlang_service_level'] * 100:.1f}",
                _plus_minus(row["service_level"], row["service_level_ci95"], percent=True),
                _plus_minus(row["asa_s"], row["asa_ci95"], percent=False),
                _plus_minus(row["abandon_rate"], row["abandon_ci95"], percent=True),
                _plus_minus(row["occupancy"], row["occupancy_ci95"], percent=True),
                {True: "yes", False: "no"}.get(row["meets_target"], "—"),
            )  # fmt: skip
        # Piped output is not cut to 80 columns: a log or file keeps every figure readable.
        wide = console if console.is_terminal else Console(width=132)
        wide.print(table)
        occupancy = verdict.evaluation.center_occupancy
        summary = (
            f"center occupancy {occupancy.mean:.1%} ± {occupancy.half_width:.1%}; "
            f"{'every target met' if data['meets_targets'] else 'some targets missed'}"
        )
        if verdict.search is not None:
            summary += (
                f"; search {verdict.search.status} after {verdict.search.evaluations} plans "
                f"in {verdict.search.wall_s:.0f} s"
            )
        console.print(summary, highlight=False)


@wfm_app.command("requirements")
def requirements_command(
    day: str | None = typer.Option(None, "--day", help="Local day, YYYY-MM-DD (default: today)."),
    site: str | None = typer.Option(None, "--site", help="The site's queues (default: all)."),
    start: str | None = typer.Option(
        None, "--start", help="First half hour, HH:MM (default: the day's busiest)."
    ),
    intervals: int = typer.Option(1, "--intervals", min=1, max=4, help="Half hours, 1 to 4."),
    simulate: bool = typer.Option(
        False, "--simulate", help="Search the fewest agents per team with the simulator."
    ),
    replications: int = typer.Option(2, "--replications", min=2, max=10),
    seed: int = typer.Option(1, "--seed", help="Random seed (printed, so runs repeat)."),
    center_file: Path | None = typer.Option(None, "--center", help=CENTER_HELP),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Agents required per half hour for the queues of a site (or all), from the stored
    history's forecast of the day, as the planning page makes it.

    Without ``--simulate``: each queue's own Erlang answer (C, or A where the history shows
    the callers' patience) on its home team, added up. With it: the simulator (the real
    routing engine, ``--replications`` runs with ``--seed``) searches from there the fewest
    agents per team meeting every queue's target, where agents with several skills serve
    several queues; the difference from the Erlang sum is the pooling gain.

    Example: ``hotline wfm requirements --day 2026-03-03 --site hefei --start 10:00
    --intervals 2 --simulate``.
    """
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from hotline.cli.platform import _sessions
    from hotline.store.db import reading, session_scope
    from hotline.web.api.planning import (
        CLOCK,
        multiskill_day,
        multiskill_day_out,
        multiskill_loads,
    )
    from hotline.wfm import multiskill

    if output not in ("table", "json"):
        raise typer.BadParameter("format must be table or json")
    if start is not None and not re.fullmatch(CLOCK, start):
        raise typer.BadParameter("--start is a time like 10:00")
    center = _center(center_file)
    now = datetime.now(UTC)
    try:
        wanted = date.fromisoformat(day) if day else now.astimezone(
            ZoneInfo(center.center.timezone)).date()  # fmt: skip
    except ValueError:
        raise typer.BadParameter("--day is a date like 2026-03-03") from None
    engine, factory = _sessions()
    try:
        with session_scope(factory) as session:
            reader = reading(session, purpose="wfm requirements")
            if not simulate:
                loads = multiskill_loads(
                    session=reader, center=center, day=wanted, site=site, start=start,
                    intervals=intervals, now=now,
                )  # fmt: skip
                _print_erlang_requirements(loads, output=output)
                return
            with _search_progress() as bar:
                task = bar.add_task("simulating", total=None)

                def on_step(step: multiskill.SearchStep) -> None:
                    bar.update(task, description=f"{step.phase} {step.plan.total} agents")

                result = multiskill_day(
                    session=reader, center=center, day=wanted, site=site, start=start,
                    intervals=intervals, now=now, replications=replications, seed=seed,
                    on_replication=lambda _: bar.advance(task), on_step=on_step,
                )  # fmt: skip
    except ValidationFailed as exc:
        for problem in exc.problems:
            error_console.print(f"[red]error[/red] {problem}", highlight=False)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    body = multiskill_day_out(result)
    if output == "json":
        print(body.model_dump_json())
        return
    table = Table(title=f"Agents per team by simulation, {body.date}"
                        f"{' site ' + body.site if body.site else ''}: {', '.join(body.queues)} "
                        f"(seed {seed}, {replications} replications)")  # fmt: skip
    for column in ("half hour", "agents per team", "simulated", "Erlang per queue, added",
                   "pooling gain", "targets met"):  # fmt: skip
        table.add_column(column)
    for row, verdict in zip(body.pooling, result.verdicts, strict=True):
        table.add_row(
            row.start, verdict.evaluation.plan.describe(), str(row.agents),
            str(row.erlang_agents), f"{row.pooling_gain:+d}", "yes" if row.meets_targets else "no",
        )  # fmt: skip
    # Piped output is not cut to 80 columns, as verify-multiskill's.
    (console if console.is_terminal else Console(width=132)).print(table)
    for note in body.notes:
        console.print(f"note: {note}", highlight=False)


def _print_erlang_requirements(loads: MultiSkillLoads, *, output: str) -> None:
    """Each queue's Erlang answer per half hour and their sum per home team."""
    from hotline.wfm.multiskill import erlang_baseline

    rows: list[dict[str, Any]] = []
    for interval in loads.intervals:
        answers, homes, plan = erlang_baseline(loads.center, interval, interval_s=1800)
        rows.append(
            {
                "start": interval.label,
                "queues": {q: a.agents for q, a in answers.items()},
                "homes": homes,
                "plan": {t: n for t, n in plan.items() if n},
                "agents": plan.total,
            }
        )
    if output == "json":
        print(json.dumps({"queues": list(loads.queues), "notes": loads.notes, "intervals": rows}))
        return
    table = Table(title="Agents per queue by Erlang, on each queue's home team")
    for column in ("half hour", "per queue", "per team", "agents"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["start"],
            ", ".join(f"{q} {n}" for q, n in row["queues"].items()),
            ", ".join(f"{t} {n}" for t, n in row["plan"].items()),
            str(row["agents"]),
        )
    console.print(table)
    for note in loads.notes:
        console.print(f"note: {note}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``wfm`` command group to the ``hotline`` command."""
    app.add_typer(wfm_app, name="wfm")
