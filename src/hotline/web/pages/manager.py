"""Manager cockpit page: today's figures against target, control charts of the trend, alerts,
today per queue and team, and the outlier agents (zh-CN and en).

The page reads the same answer as ``GET /api/manager/cockpit`` (:mod:`hotline.web.api.manager`)
and draws each control chart as inline SVG built here: the daily points, the centre line, the
control limits (stepped for a p-chart, whose limits follow each day's contacts), the target,
and the out-of-control points marked in red with the rule they broke. Below, the scheduled
reports with their latest runs and failures, and a form to add one (its only script).
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from hotline.web.api.manager import COCKPIT_ROLES, FigureOut, cockpit_out, load_cockpit
from hotline.web.api.reports import schedules_out
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.pages.live import page_texts
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)

WIDTH, HEIGHT = 420, 150
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LEFT, RIGHT, TOP, BOTTOM = 46, 8, 8, 20


def format_value(value: float | None, unit: str) -> str:
    """A figure as people read it: shares in per cent, seconds and money with one decimal.

    >>> format_value(0.8123, "ratio"), format_value(31.25, "seconds"), format_value(None, "count")
    ('81.2%', '31.2', '–')
    """
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.1f}" if unit != "money" else f"{value:.2f}"


def signals_by_day(figure: FigureOut) -> dict[date, str]:
    """The chart's out-of-control days, each with every rule it broke in one line."""
    days: dict[date, list[str]] = {}
    for signal in figure.chart.signals if figure.chart else []:
        days.setdefault(signal.day, []).append(signal.description)
    return {day: "; ".join(rules) for day, rules in days.items()}


def chart_svg(figure: FigureOut, days: list[date], title: str) -> Markup:
    """The figure's control chart as an accessible inline SVG (empty without a chart)."""
    chart = figure.chart
    if chart is None:
        return Markup("")
    # The scale fits the points and limits; a target far from them (a backlog cap of 200 over
    # days of 3) is left off rather than squashing the chart flat.
    bounds = [*chart.values, *chart.lower, *chart.upper, chart.centre]
    low, high = min(bounds), max(bounds)
    if high - low < 1e-12:
        # No spread at all: a band around the value of its own size (a few points for shares).
        delta = 0.05 if figure.unit == "ratio" else max(abs(low) * 0.05, 1.0)
        low, high = low - delta, high + delta
    pad = (high - low) * 0.08
    low, high = low - pad, high + pad
    span = max(1, len(days) - 1)
    index = {day: i for i, day in enumerate(days)}

    def x(day: date) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * index[day] / span

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (high - value) / (high - low)

    def line(points: list[tuple[float, float]], css: str) -> str:
        text = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        return f'<polyline class="{css}" points="{text}" fill="none"/>'

    def stepped(values: list[float]) -> list[tuple[float, float]]:
        half = (WIDTH - LEFT - RIGHT) / span / 2
        out: list[tuple[float, float]] = []
        for day, value in zip(chart.days, values, strict=True):
            out += [
                (max(LEFT, x(day) - half), y(value)),
                (min(WIDTH - RIGHT, x(day) + half), y(value)),
            ]
        return out

    flagged = signals_by_day(figure)
    parts = [
        f'<svg class="control-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}: {len(chart.values)} '
        f'days, {len(flagged)} out of control">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
        f'y2="{HEIGHT - BOTTOM}"/>',
    ]
    for value in (high - pad, chart.centre, low + pad):
        label = format_value(value, figure.unit)
        parts.append(
            f'<text class="tick" x="{LEFT - 4}" y="{y(value) + 3:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
        )
    parts.append(f'<text class="tick" x="{LEFT}" y="{HEIGHT - 6}">{days[0]:%m-%d}</text>')
    parts.append(
        f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{days[-1]:%m-%d}</text>"
    )
    if chart.kind == "p":
        parts.append(line(stepped(chart.upper), "limit"))
        parts.append(line(stepped(chart.lower), "limit"))
    else:
        parts.append(line([(LEFT, y(chart.upper[0])), (WIDTH - RIGHT, y(chart.upper[0]))], "limit"))
        parts.append(line([(LEFT, y(chart.lower[0])), (WIDTH - RIGHT, y(chart.lower[0]))], "limit"))
    parts.append(line([(LEFT, y(chart.centre)), (WIDTH - RIGHT, y(chart.centre))], "centre"))
    if figure.target is not None:
        for bound in (figure.target.at_least, figure.target.at_most):
            if bound is not None and low <= bound <= high:
                parts.append(line([(LEFT, y(bound)), (WIDTH - RIGHT, y(bound))], "target"))
    parts.append(
        line([(x(d), y(v)) for d, v in zip(chart.days, chart.values, strict=True)], "series")
    )
    for day, value in zip(chart.days, chart.values, strict=True):
        shown = format_value(value, figure.unit)
        rules = flagged.get(day)
        css = "point out" if rules else "point"
        radius = 4.5 if rules else 2.5
        note = f" — {rules}" if rules else ""
        parts.append(
            f'<circle class="{css}" cx="{x(day):.1f}" cy="{y(value):.1f}" r="{radius}">'
            f"<title>{day}: {escape(shown)}{escape(note)}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@router.get("/manager", response_class=HTMLResponse)
def manager_page(
    request: Request,
    user: CurrentUser = Depends(require_roles(*COCKPIT_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> HTMLResponse:
    """The manager cockpit for the chosen period (30 days to today by default)."""
    chosen: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = request.query_params.get(name) or ""
        try:
            chosen[name] = date.fromisoformat(text) if text else None
        except ValueError:
            raise HTTPException(
                422, [{"field": name, "problem": "dates look like 2026-11-23"}]
            ) from None
    answer = cockpit_out(load_cockpit(request, session, chosen["from"], chosen["to"]))
    context = page_context(request, user)
    translate = context["t"]
    context.update(
        schedules=schedules_out(request, session),
        timezone=answer.timezone,
        zone=ZoneInfo(answer.timezone),
        weekdays=WEEKDAYS,
        texts=page_texts(request, context["lang"]),
    )
    context.update(
        cockpit=answer,
        charts={
            f.metric: chart_svg(f, answer.days, translate(f"figure.{f.metric}"))
            for f in answer.figures
        },
        signals={f.metric: signals_by_day(f) for f in answer.figures},
        fmt=format_value,
        units={f.metric: f.unit for f in answer.figures},
    )
    return render(request, "manager.html", context)
