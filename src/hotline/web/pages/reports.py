"""Reports page: interval KPIs with charts, filters, CSV and Excel export, the variant stated.

Figures come from :mod:`hotline.metrics` (the same engine as ``hotline report kpis`` and the
wallboard) over what the database holds: imported contact records and the contact event log
(live and simulated traffic). Each queue is judged by its own threshold and headline variant
from the center configuration, and the page prints them beside the figures.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from hotline.core.spreadsheet import append_row
from hotline.identity.scope import EVERYONE, AgentScope
from hotline.metrics import service as metrics
from hotline.metrics.compute import KpiReport, queue_figures
from hotline.metrics.definitions import DIMENSIONS, INTERVALS, QUEUE_FIGURES
from hotline.web.access import scope_of
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)

REPORT_ROLES = ("supervisor", "team_lead", "manager", "wfm", "qa")
#: Columns shown on the page (every figure goes into the exports).
SHOWN = ("offered", "answered", "abandoned", "service_level", "asa_s", "aht_s", "abandon_rate")
#: Longest span one page computes, so a careless filter cannot tie up the server.
MAX_DAYS = 92
#: The dates a report can cover (a calendar date past these cannot be turned into instants).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


class Filters:
    """The report's filters, read from the query string and checked."""

    def __init__(self, request: Request, timezone: str) -> None:
        query = request.query_params
        today = datetime.now(ZoneInfo(timezone)).date()
        try:
            self.date_from = date.fromisoformat(query.get("from") or today.isoformat())
            self.date_to = date.fromisoformat(query.get("to") or self.date_from.isoformat())
        except ValueError:
            raise HTTPException(
                422, [{"field": "from", "problem": "dates look like 2026-11-23"}]
            ) from None
        for field, day in (("from", self.date_from), ("to", self.date_to)):
            if not FIRST_DAY <= day <= LAST_DAY:
                problem = f"give a date from {FIRST_DAY} to {LAST_DAY}"
                raise HTTPException(422, [{"field": field, "problem": problem}])
        if self.date_to < self.date_from or (self.date_to - self.date_from).days > MAX_DAYS:
            raise HTTPException(
                422, [{"field": "to", "problem": f"give a range of 0 to {MAX_DAYS} days"}]
            )
        self.interval = query.get("interval") or "30m"
        if self.interval not in INTERVALS:
            raise HTTPException(422, [{"field": "interval", "problem": "unknown interval"}])
        self.by = query.get("by") or "queue"
        if self.by not in DIMENSIONS:
            raise HTTPException(422, [{"field": "by", "problem": "unknown breakdown"}])
        self.queue = query.get("queue") or ""
        self.team = query.get("team") or ""
        self.agent = query.get("agent") or ""
        self.timezone = timezone
        for field, value in (("queue", self.queue), ("team", self.team), ("agent", self.agent)):
            if len(value) > 64:
                raise HTTPException(422, [{"field": field, "problem": "at most 64 characters"}])

    def span(self) -> tuple[datetime, datetime]:
        """The first and last instants the filters cover, in the center's time zone."""
        tz = ZoneInfo(self.timezone)
        start = datetime.combine(self.date_from, datetime.min.time(), tz)
        end = datetime.combine(self.date_to + timedelta(days=1), datetime.min.time(), tz)
        return start, end

    def query_string(self) -> str:
        """The filters as a query string, for the export links."""
        from urllib.parse import urlencode

        return urlencode(
            {
                "from": self.date_from.isoformat(),
                "to": self.date_to.isoformat(),
                "interval": self.interval,
                "by": self.by,
                "queue": self.queue,
                "team": self.team,
                "agent": self.agent,
            }
        )


def selected_contacts(
    request: Request, session: Session, filters: Filters, scope: AgentScope = EVERYONE
) -> pl.DataFrame:
    """The database's contacts for the chosen queue, team and agent (any date).

    Broken down or filtered by agent or team, only ``scope``'s agents and teams count: a team
    lead reads their own team's figures. Per queue and channel the figures stay whole.
    """
    center = request.app.state.center
    frame = metrics.records_frame(session=session)
    if center is not None:
        # Contacts folded from the event log carry no team; the center file knows each agent's.
        teams = {a.id: a.team for a in center.agents}
        frame = frame.with_columns(
            pl.coalesce(
                pl.col("team"),
                pl.col("agent").replace_strict(teams, default=None, return_dtype=pl.String),
            ).alias("team")
        )
    known: dict[str, set[str]] = {"queue": set(), "team": set(), "agent": set()}
    if center is not None:
        known = {
            "queue": {q.id for q in center.queues},
            "team": {t.id for t in center.teams},
            "agent": {a.id for a in center.agents},
        }
    for column, value in (
        ("queue", filters.queue),
        ("team", filters.team),
        ("agent", filters.agent),
    ):
        if value:
            frame = frame.filter(pl.col(column) == value)
            # Imported records may name queues, teams and agents of another ACD: a name is
            # unknown only when neither the center nor the records have it.
            if value not in known[column] and frame.is_empty():
                problem = f"no {column} {value!r} in this center or its contact records"
                raise HTTPException(422, [{"field": column, "problem": problem}])
    if not scope.everyone:
        if filters.by == "team" or filters.team:
            frame = frame.filter(pl.col("team").is_in(sorted(scope.teams)))
        if filters.by == "agent" or filters.agent:
            frame = frame.filter(pl.col("agent").is_in(sorted(scope.agents)))
    return frame


def build_report(request: Request, filters: Filters, contacts: pl.DataFrame) -> KpiReport:
    """Compute the figures per interval of the selected contacts queued in the date range."""
    from hotline.live.wallboard import metric_settings

    center = request.app.state.center
    first, last = filters.span()
    start, end = first.timestamp(), last.timestamp()
    frame = contacts.filter((pl.col("queued_at") >= start) & (pl.col("queued_at") < end))
    settings = metric_settings(center) if center is not None else None
    report = queue_figures(
        frame,
        interval=filters.interval,
        by=(filters.by,),
        settings=settings,
        timezone=filters.timezone,
    )
    report.notes.append(
        f"{frame.height} contacts queued {filters.date_from} to {filters.date_to} "
        f"({filters.timezone}); imported records and the contact event log"
    )
    return report


#: Weeks of history a volume forecast learns from, and the fewest days it needs.
FORECAST_WEEKS = 8
MIN_HISTORY_DAYS = 14


def volume_forecast(
    filters: Filters, contacts: pl.DataFrame, *, session: Session
) -> tuple[dict[datetime, float], int] | None:
    """Forecast offered contacts per interval over the report's dates from the weeks before.

    Uses the workforce-management forecaster (:func:`hotline.wfm.forecast.forecast`) on the
    same selection of contacts, learning only from days before the report starts, so the
    comparison is honest. ``None`` when the interval is not 15, 30 or 60 minutes or fewer
    than :data:`MIN_HISTORY_DAYS` days of history exist. Returns the forecast by interval
    start and the number of history days used.
    The planner's overrides of those days (the queue's and the center-wide ones) apply.
    """
    from hotline.wfm import service as wfm_service
    from hotline.wfm.forecast import History, forecast

    interval_s = {"15m": 900, "30m": 1800, "1h": 3600}.get(filters.interval)
    if interval_s is None:
        return None
    start, _ = filters.span()
    since = start - timedelta(weeks=FORECAST_WEEKS)
    past = contacts.filter(
        (pl.col("queued_at") >= since.timestamp())
        & (pl.col("queued_at") < start.timestamp())
        & (pl.col("direction") == "inbound")
    )
    if past.height == 0:
        return None
    earliest = float(past["queued_at"].min())  # type: ignore[arg-type]
    first_day = datetime.fromtimestamp(earliest, ZoneInfo(filters.timezone)).date()
    if (filters.date_from - first_day).days < MIN_HISTORY_DAYS:
        return None
    handle = pl.when(pl.col("answered_at").is_not_null()).then(
        pl.col("talk_s") + pl.col("hold_s") + pl.col("wrap_s")
    )
    past = past.with_columns(handle.alias("_handle"))
    history = History.from_contacts(
        queued_at=past["queued_at"].to_list(),
        handle_s=past["_handle"].to_list(),
        interval_s=interval_s,
        timezone=filters.timezone,
        first_day=first_day,
        last_day=filters.date_from - timedelta(days=1),
    )
    days = (filters.date_to - filters.date_from).days + 1
    predicted = forecast(history, days=days, origin=history.days)
    predicted, _ = wfm_service.overridden(
        session=session, result=predicted, queue=filters.queue or None
    )
    return {row.interval_start: row.offered for row in predicted.intervals()}, history.days


def _headline(report: KpiReport, row: dict[str, Any]) -> float | None:
    """A row's service level in its queue's headline variant (default for other breakdowns)."""
    queue = row.get("queue") if "queue" in report.by else None
    variant = report.settings.for_queue(queue).variant
    value = row.get(variant)
    return None if value is None else float(value)


def charts(
    report: KpiReport,
    target: float | None,
    span: tuple[datetime, datetime],
    expected: dict[datetime, float] | None = None,
) -> dict[str, str]:
    """Service level, volume and AHT per interval as inline SVG (matplotlib, no JavaScript).

    The time axis covers the filter's whole ``span``, so one busy half hour shows where in
    the day it fell.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = report.rows()
    if not rows:
        return {}
    key = report.by[0]
    series: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        series.setdefault(str(row[key]), []).append(row)
    out: dict[str, str] = {}
    for name in ("service_level", "volume", "aht"):
        figure, axes = plt.subplots(figsize=(7.2, 2.6), dpi=96)
        for label, items in sorted(series.items())[:8]:
            # Matplotlib plots datetimes on a date axis (its stubs ask for numbers).
            x: list[Any] = [datetime.fromisoformat(r["interval_start"]) for r in items]
            if name == "service_level":
                y = [_headline(report, r) for r in items]
                percent = [v * 100 if v is not None else float("nan") for v in y]
                axes.plot(x, percent, marker=".", label=label)
            elif name == "volume":
                offered = [r["offered"] for r in items]
                answered = [r["answered"] for r in items]
                axes.plot(x, offered, marker=".", label=f"{label} offered")
                axes.plot(x, answered, linestyle="--", label=f"{label} answered")
            else:
                axes.plot(x, [r["aht_s"] for r in items], marker=".", label=label)
        if name == "volume" and expected:
            totals: dict[datetime, float] = {}
            for row in rows:
                moment = datetime.fromisoformat(row["interval_start"])
                totals[moment] = totals.get(moment, 0.0) + row["offered"]
            if len(series) > 1:
                moments: list[Any] = sorted(totals)
                axes.plot(moments, [totals[m] for m in moments], color="#333", label="total")
            ahead: list[Any] = sorted(expected)
            axes.plot(
                ahead, [expected[m] for m in ahead], color="#000", linestyle=":", label="forecast"
            )
        if name == "service_level":
            axes.set_ylim(0, 105)
            axes.set_ylabel("%")
            if target is not None:
                axes.axhline(target * 100, color="#c62828", linewidth=1, linestyle=":")
        elif name == "aht":
            axes.set_ylabel("s")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, loc="best")
        locator = mdates.AutoDateLocator(tz=span[0].tzinfo)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        concise = mdates.ConciseDateFormatter(locator, tz=span[0].tzinfo)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(concise)
        axes.set_xlim(span[0], span[1])  # type: ignore[arg-type]
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
        plt.close(figure)
        svg = buffer.getvalue()
        out[name] = svg[svg.find("<svg") :]
    return out


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    user: CurrentUser = Depends(require_roles(*REPORT_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> HTMLResponse:
    """Interval KPIs for the chosen queue, team, agent and dates, with charts."""
    center = request.app.state.center
    timezone = center.center.timezone if center is not None else "UTC"
    filters = Filters(request, timezone)
    contacts = selected_contacts(request, session, filters, scope_of(request, user))
    report = build_report(request, filters, contacts)
    predicted = volume_forecast(filters, contacts, session=session)
    rows = report.rows()
    for row in rows:
        row["_headline"] = _headline(report, row)
    target = None
    if center is not None and filters.queue in {q.id for q in center.queues}:
        target = center.queue(filters.queue).target.service_level
    context = page_context(request, user)
    context.update(
        center=center,
        filters=filters,
        rows=rows,
        shown=SHOWN,
        report=report,
        thresholds=report.settings.describe(),
        charts=charts(report, target, filters.span(), predicted[0] if predicted else None),
        forecast_days=predicted[1] if predicted else None,
        forecast_total=round(sum(predicted[0].values()), 1) if predicted else None,
        intervals=list(INTERVALS),
        dimensions=DIMENSIONS,
        definitions=QUEUE_FIGURES,
    )
    return render(request, "reports.html", context)


@router.get("/reports/export")
def reports_export(
    request: Request,
    format: str = "csv",
    user: CurrentUser = Depends(require_roles(*REPORT_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """The same figures as plain CSV (the settings in the ``x-hotline-report-settings``
    header, as one line of JSON) or Excel (two sheets)."""
    center = request.app.state.center
    filters = Filters(request, center.center.timezone if center is not None else "UTC")
    contacts = selected_contacts(request, session, filters, scope_of(request, user))
    report = build_report(request, filters, contacts)
    name = f"hotline-kpis-{filters.date_from}-{filters.date_to}"
    if format == "csv":
        return Response(
            report.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{name}.csv"',
                "x-hotline-report-settings": report.metadata_json(),
            },
        )
    if format != "xlsx":
        raise HTTPException(422, [{"field": "format", "problem": "use csv or xlsx"}])
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "figures"
    rows = report.rows()
    columns = list(report.table.columns)
    # Text cells stay text: a queue or agent name from an imported file is never a formula.
    append_row(sheet, columns)
    for row in rows:
        append_row(sheet, [row[c] for c in columns])
    about = book.create_sheet("settings")
    append_row(about, ["setting", "value"])
    for key, value in report.header().items():
        append_row(about, [key, value if isinstance(value, str) else json.dumps(value)])
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="{name}.xlsx"'},
    )
