"""The 大屏's charts: today by interval against the forecast, the service-level trend, the
ticket backlog and the top contact reasons.

A composition above metrics, wfm and tickets, so it lives with the adapters, like the
cockpit. Every contact figure is :func:`hotline.metrics.compute.queue_figures` over today's
contacts (METRICS.md definitions: ``offered``, ``answered``, ``service_level``), per 30-minute
interval of the center's local day; the forecast is :func:`hotline.wfm.forecast.forecast`
over the eight weeks before today (offered per interval, the planner's model), absent with a
note when there is too little history; the backlog is the cockpit's figure
(:func:`hotline.tickets.service.deferred_work`, open tickets at the end of each of the last 14
days); the reasons are the categories of today's new tickets
(:func:`hotline.tickets.service.opened_by_category`). Each chart carries its definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.metrics import service as metrics
from hotline.metrics.compute import queue_figures
from hotline.tickets import service as tickets
from hotline.wfm import service as wfm
from hotline.wfm.forecast import History, forecast

INTERVAL_S = 1800
HISTORY_DAYS = 56
BACKLOG_DAYS = 14
DEFINITIONS = {
    "offered": "contacts queued in the interval (METRICS.md offered)",
    "answered": "contacts answered, by the interval they queued in (METRICS.md answered)",
    "forecast": "offered per interval forecast from the 8 weeks before today (wfm.forecast), "
    "with the planner's center-wide overrides",
    "service_level": "answered with wait_s <= T / (answered + abandoned - short_abandoned)",
    "backlog": "open tickets at the end of the day",
    "reasons": "categories of the tickets opened today",
}


@dataclass(frozen=True)
class WallCharts:
    """Today's series per interval (``intervals``: local start times; ``None`` for intervals
    still to come), the backlog per day and the top reasons, each with its definition;
    ``notes`` say what could not be drawn."""

    day: date
    intervals: list[str]
    offered: list[float | None]
    answered: list[float | None]
    forecast: list[float] | None
    service_level: list[float | None]
    backlog_days: list[date]
    backlog: list[float]
    reasons: list[tuple[str, int]]
    definitions: dict[str, str] = field(default_factory=lambda: dict(DEFINITIONS))
    notes: list[str] = field(default_factory=list)


def build(*, session: Session, center: CenterConfig, now: datetime) -> WallCharts:
    """The charts of the local day of ``now`` in the center's time zone, up to ``now``."""
    timezone = center.center.timezone
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(), zone)
    end = start + timedelta(days=1)
    frame = metrics.records_frame(
        session=session, queued_from=start.timestamp(), queued_until=end.timestamp()
    )
    slots = 86400 // INTERVAL_S
    intervals = [
        f"{i * INTERVAL_S // 3600:02d}:{i * INTERVAL_S % 3600 // 60:02d}" for i in range(slots)
    ]
    # Intervals still to come have no figure yet (a gap, not a fall to zero).
    local = now.astimezone(zone)
    current = (local.hour * 3600 + local.minute * 60) // INTERVAL_S
    offered: list[float | None] = [0.0 if i <= current else None for i in range(slots)]
    answered: list[float | None] = list(offered)
    service_level: list[float | None] = [None] * slots
    if frame.height:
        rows = queue_figures(
            frame,
            interval="30m",
            by=(),
            settings=metrics.settings_for_center(center),
            timezone=timezone,
        ).rows()
        for row in rows:
            moment = datetime.fromisoformat(str(row["interval_start"])).astimezone(zone)
            slot = (moment.hour * 3600 + moment.minute * 60) // INTERVAL_S
            offered[slot] = float(row["offered"] or 0)
            answered[slot] = float(row["answered"] or 0)
            service_level[slot] = _number(row.get("service_level"))
    notes: list[str] = []
    predicted = _forecast(session, today=today, zone=zone, timezone=timezone, notes=notes)
    backlog_days = [today - timedelta(days=i) for i in range(BACKLOG_DAYS - 1, -1, -1)]
    backlog = []
    for day in backlog_days:
        day_start = datetime.combine(day, time(), zone)
        work = tickets.deferred_work(session, start=day_start, end=day_start + timedelta(days=1))
        backlog.append(float(work.backlog))
    return WallCharts(
        day=today,
        intervals=intervals,
        offered=offered,
        answered=answered,
        forecast=predicted,
        service_level=service_level,
        backlog_days=backlog_days,
        backlog=backlog,
        reasons=tickets.opened_by_category(session, start=start, end=end),
        notes=notes,
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _forecast(
    session: Session, *, today: date, zone: ZoneInfo, timezone: str, notes: list[str]
) -> list[float] | None:
    first = today - timedelta(days=HISTORY_DAYS)
    frame = metrics.records_frame(
        session=session,
        queued_from=datetime.combine(first, time(), zone).timestamp(),
        queued_until=datetime.combine(today, time(), zone).timestamp(),
    ).filter(pl.col("queued_at").is_not_null() & (pl.col("direction") == "inbound"))
    try:
        history = History.from_contacts(
            queued_at=frame["queued_at"].to_list(),
            handle_s=[None] * frame.height,
            interval_s=INTERVAL_S,
            timezone=timezone,
            first_day=first,
            last_day=today - timedelta(days=1),
        )
        # the planner's center-wide overrides of today apply here as on the planner's page
        result, _ = wfm.overridden(session=session, result=forecast(history, days=1), queue=None)
    except ValueError as refused:
        notes.append(f"forecast: {refused}")
        return None
    return [float(v) for v in result.offered[0]]


#: The drawing box of a chart (the pages' CSP forbids inline styles: attributes only).
WIDTH, HEIGHT = 460, 160
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 8, 20


def line_chart(
    *, title: str, labels: list[str], series: list[tuple[str, str, list[float | None]]]
) -> str:
    """Lines over ``labels`` (one per series: CSS class, legend name, values with gaps) as an
    accessible inline SVG, the scale from zero to the largest value.

    >>> svg = line_chart(title="SL", labels=["08:00", "08:30"], series=[("a", "A", [0.5, 1.0])])
    >>> svg.count("<polyline"), 'aria-label="SL' in svg
    (1, True)
    """
    present = [v for _, _, values in series for v in values if v is not None]
    high = max(present, default=0.0) or 1.0
    span = max(1, len(labels) - 1)

    def x(i: int) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * i / span

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / high)

    legend = ", ".join(name for _, name, _ in series)
    parts = [
        f'<svg class="wall-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}: {escape(legend)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
        f'y2="{HEIGHT - BOTTOM}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{high:g}</text>',
    ]
    if labels:
        parts.append(f'<text class="tick" x="{LEFT}" y="{HEIGHT - 6}">{escape(labels[0])}</text>')
        parts.append(
            f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
            f"{escape(labels[-1])}</text>"
        )
    for css, name, values in series:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{x(i):.1f},{y(value):.1f}")
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline class="series {css}" points="{" ".join(run)}" fill="none">'
                    f"<title>{escape(name)}</title></polyline>"
                )
    parts.append("</svg>")
    return "".join(parts)
