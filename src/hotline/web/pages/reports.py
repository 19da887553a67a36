"""Reports page: interval KPIs with charts, filters, CSV and Excel export, the variant stated.

Figures come from :mod:`hotline.metrics` (the same engine as ``hotline report kpis`` and the
wallboard) over what the database holds: imported contact records and the contact event log
(live and simulated traffic). Each queue is judged by its own threshold and headline variant
from the center configuration, and the page prints them beside the figures.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from hotline.metrics.compute import KpiReport
from hotline.metrics.definitions import DIMENSIONS, INTERVALS, QUEUE_FIGURES
from hotline.web.access import scope_of
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.kpi_report import Filters, build_report, kpi_workbook, selected_contacts
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)

REPORT_ROLES = ("supervisor", "team_lead", "manager", "wfm", "qa")
#: Columns shown on the page (every figure goes into the exports).
SHOWN = (
    "offered",
    "cases",
    "answered",
    "abandoned",
    "service_level",
    "asa_s",
    "aht_s",
    "abandon_rate",
)
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
    filters = Filters(request.query_params, timezone)
    contacts = selected_contacts(center, session, filters, scope_of(request, user))
    report = build_report(center, filters, contacts)
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
    filters = Filters(request.query_params, center.center.timezone if center is not None else "UTC")
    contacts = selected_contacts(center, session, filters, scope_of(request, user))
    report = build_report(center, filters, contacts)
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
    return Response(
        kpi_workbook(report),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="{name}.xlsx"'},
    )
