"""The planner's page (``/planning``): rosters as a Gantt chart, edited and published, and the
day held against the roster in force.

A planner picks a roster and a day: each agent's shift is a bar on the day's 24 hours with
its breaks cut out (server-built SVG, as the manager's cockpit draws its charts, so the page
needs no chart library and the CSP no exception); the day's shifts are a table whose times can
be edited and saved (``PUT /api/wfm/rosters/{id}/shifts``, each broken rule shown at its row)
and a draft is published from here. Below, adherence per agent, attendance and shrinkage by
reason code against the plan's assumption come from ``GET /api/wfm/adherence/day``'s own
composition, so page and API agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.core.errors import Problem, ValidationFailed
from hotline.web.access import current_center
from hotline.web.api.planning import (
    CLOCK,
    INTERVAL_S,
    MULTISKILL_INTERVALS,
    MULTISKILL_REPLICATIONS,
    PlannedDay,
    WhatIfChange,
    WhatIfDay,
    multiskill_day,
    overflow_what_if,
    planned_day,
    simulated_what_if,
    site_members,
    what_if_problems,
)
from hotline.web.api.rosters import day_figures
from hotline.web.api.wfm import PLANNERS
from hotline.web.auth import CurrentUser, read_session, require_roles
from hotline.web.pages.live import page_texts
from hotline.web.pages.rendering import page_context, render
from hotline.wfm import service
from hotline.wfm.roster import RosterShift

router = APIRouter(include_in_schema=False)

#: The chart's geometry: a label column, then 24 hours.
LABEL_W = 90
HOUR_W = 34
ROW_H = 26
TOP = 22
SHIFT_FILL = "#2f6fb3"
BREAK_FILL = "#f2c14e"


def gantt(shifts: list[RosterShift], *, day: date, zone: ZoneInfo, label: str) -> str:
    """The day's shifts as an SVG Gantt chart: one row per agent, a bar per shift clipped to
    the day, breaks drawn over it; every bar has a ``<title>`` for screen readers.

    >>> from datetime import UTC
    >>> s = RosterShift("a001", datetime(2026, 3, 2, 8, tzinfo=UTC),
    ...                 datetime(2026, 3, 2, 12, tzinfo=UTC))
    >>> svg = gantt([s], day=date(2026, 3, 2), zone=ZoneInfo("UTC"), label="Shifts")
    >>> 'data-agent="a001"' in svg and 'x="362.0"' in svg and 'width="136.0"' in svg
    True
    """
    start = datetime.combine(day, time(), zone)
    end = start + timedelta(days=1)
    agents = sorted({s.agent_id for s in shifts})
    width = LABEL_W + 24 * HOUR_W + 10
    height = TOP + ROW_H * max(1, len(agents)) + 6

    def x(moment: datetime) -> float:
        moment = min(max(moment, start), end)
        return LABEL_W + (moment - start).total_seconds() / 3600 * HOUR_W

    parts = [
        f'<svg class="gantt" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]
    for hour in range(0, 25, 2):
        gx = LABEL_W + hour * HOUR_W
        parts.append(
            f'<line x1="{gx}" y1="{TOP - 4}" x2="{gx}" y2="{height}" stroke="#d0d4da"/>'
            f'<text x="{gx}" y="{TOP - 8}" font-size="11" text-anchor="middle" '
            f'fill="#222">{hour:02d}</text>'
        )
    for row, agent in enumerate(agents):
        y = TOP + row * ROW_H
        parts.append(
            f'<text x="4" y="{y + ROW_H / 2 + 4}" font-size="12" fill="#222">{escape(agent)}</text>'
        )
        for shift in (s for s in shifts if s.agent_id == agent):
            x0, x1 = x(shift.start), x(shift.end)
            if x1 <= x0:
                continue
            what = f"{agent} {shift.start:%H:%M}–{shift.end:%H:%M} {shift.skill}"
            parts.append(
                f'<g class="gantt-shift" data-agent="{escape(agent)}">'
                f'<rect x="{x0:.1f}" y="{y + 4}" width="{x1 - x0:.1f}" height="{ROW_H - 8}" '
                f'rx="3" fill="{SHIFT_FILL}"><title>{escape(what)}</title></rect>'
            )
            for brk in shift.breaks:
                b0, b1 = x(brk.start), x(brk.end)
                if b1 > b0:
                    parts.append(
                        f'<rect class="gantt-break" x="{b0:.1f}" y="{y + 4}" '
                        f'width="{b1 - b0:.1f}" height="{ROW_H - 8}" fill="{BREAK_FILL}">'
                        f"<title>{escape(f'{brk.kind} {brk.start:%H:%M}–{brk.end:%H:%M}')}"
                        "</title></rect>"
                    )
            parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def shrinkage_bars(
    by_reason: dict[str, float], *, assumed: float, label: str, assumed_label: str
) -> str:
    """Shrinkage per reason code as stacked horizontal bars beside a line at the share the
    plan assumed (the scale runs to the larger of the two, at least 50 %).

    >>> svg = shrinkage_bars({"absence": 0.1, "training": 0.05}, assumed=0.3, label="S",
    ...                      assumed_label="plan")
    >>> svg.count("<rect"), 'data-reason="training"' in svg
    (2, True)
    """
    width, bar_h, left = 600, 22, 10
    scale = max(0.5, assumed, sum(by_reason.values()))
    span = width - 2 * left
    palette = ["#b3412f", "#2f6fb3", "#6a4fb3", "#2f8f5b", "#8a6d1f", "#555"]
    parts = [
        f'<svg class="shrinkage" viewBox="0 0 {width} 60" width="{width}" height="60" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    ]
    cursor = float(left)
    for i, (reason, share) in enumerate(sorted(by_reason.items())):
        w = share / scale * span
        parts.append(
            f'<rect data-reason="{escape(reason)}" x="{cursor:.1f}" y="8" width="{w:.1f}" '
            f'height="{bar_h}" fill="{palette[i % len(palette)]}">'
            f"<title>{escape(reason)} {100 * share:.1f} %</title></rect>"
        )
        cursor += w
    ax = left + assumed / scale * span
    parts.append(
        f'<line x1="{ax:.1f}" y1="2" x2="{ax:.1f}" y2="{bar_h + 14}" stroke="#111" '
        f'stroke-width="2"/><text x="{ax:.1f}" y="52" font-size="12" text-anchor="middle" '
        f'fill="#111">{escape(assumed_label)} {100 * assumed:.0f} %</text></svg>'
    )
    return "".join(parts)


FORECAST_FILL = "#c9dcf0"
FORECAST_LINE = "#2f6fb3"
ACTUAL_LINE = "#b3412f"
REQUIRED_FILL = "#8fa8c4"
SCHEDULED_LINE = "#1d6b3a"
REFORECAST_LINE = "#6a4fb3"
WHAT_IF_LINE = "#d9822b"


def _polyline(points: list[tuple[float, float]], colour: str, css: str) -> str:
    if not points:
        return ""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<polyline class="{css}" points="{path}" fill="none" stroke="{colour}" '
        'stroke-width="1.5"/>'
    )


def _ticks(left: float, y: Callable[[float], float], scale: float) -> list[str]:
    """The value axis' labels at 0, half and the top of the scale."""
    return [
        f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end" '
        f'fill="#222">{tick:.0f}</text>'
        for tick in (0.0, scale / 2, scale)
    ]


def forecast_chart(
    planned: PlannedDay, week: list[date], *, actual: list[list[float]], label: str
) -> str:
    """The week's forecast per half hour as a line inside its prediction band, with the
    actuals recorded so far over it: one ``<svg>``, day boundaries and labels on the axis.

    ``actual[d]`` is day ``d``'s offered contacts per completed interval (empty: none).
    """
    forecast = planned.week.forecast
    days, slots = int(forecast.offered.shape[0]), int(forecast.offered.shape[1])
    step, left, top, height = 2.0, 44, 10, 170
    width = left + days * slots * step + 10
    peaks = [float(forecast.offered_high.max())]
    peaks += [max(row) for row in actual if row]
    scale = max(1.0, *peaks)

    def y(value: float) -> float:
        return top + height - value / scale * height

    def x(d: int, s: int) -> float:
        return left + (d * slots + s) * step

    parts = [
        f'<svg class="forecast-chart" viewBox="0 0 {width:.0f} {height + 40}" '
        f'width="{width:.0f}" height="{height + 40}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>",
        *_ticks(left, y, scale),
    ]
    band = [
        (x(d, s), y(float(forecast.offered_high[d, s]))) for d in range(days) for s in range(slots)
    ]
    band += [
        (x(d, s), y(float(forecast.offered_low[d, s])))
        for d in reversed(range(days))
        for s in reversed(range(slots))
    ]
    parts.append(
        f'<polygon class="forecast-band" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in band)}"'
        f' fill="{FORECAST_FILL}"/>'
    )
    parts.append(
        _polyline(
            [
                (x(d, s), y(float(forecast.offered[d, s])))
                for d in range(days)
                for s in range(slots)
            ],
            FORECAST_LINE,
            "forecast-line",
        )
    )
    for d, row in enumerate(actual):
        if row:
            parts.append(
                _polyline([(x(d, s), y(v)) for s, v in enumerate(row)], ACTUAL_LINE, "actual-line")
            )
    for d, day in enumerate(week):
        gx = x(d, 0)
        parts.append(
            f'<line x1="{gx:.1f}" y1="{top}" x2="{gx:.1f}" y2="{top + height}" stroke="#d0d4da"/>'
            f'<text x="{gx + 4:.1f}" y="{top + height + 16}" font-size="11" fill="#222">'
            f"{day:%m-%d}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def requirements_chart(planned: PlannedDay, *, label: str) -> str:
    """Heads required per half hour as bars, the roster's scheduled heads as a line over
    them; a bar's ``<title>`` says the interval's numbers and whether it is short or over."""
    rows = planned.plan.intervals
    bar, left, top, height = 14, 34, 10, 150
    width = left + bar * len(rows) + 10
    scale = max(1.0, *(max(r.required_heads, r.scheduled_heads) for r in rows))

    def y(value: float) -> float:
        return top + height - value / scale * height

    parts = [
        f'<svg class="requirements-chart" viewBox="0 0 {width} {height + 36}" width="{width}" '
        f'height="{height + 36}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>",
        *_ticks(left, y, scale),
    ]
    for r in rows:
        x0 = left + r.index * bar
        clock = f"{r.index * INTERVAL_S // 3600:02d}:{r.index * INTERVAL_S % 3600 // 60:02d}"
        state = "short" if r.gap < 0 else "over" if r.gap > 0 else "met"
        parts.append(
            f'<rect class="required {state}" data-start="{clock}" x="{x0 + 1}" '
            f'y="{y(r.required_heads):.1f}" width="{bar - 2}" '
            f'height="{top + height - y(r.required_heads):.1f}" '
            f'fill="{"#d9822b" if state == "short" else REQUIRED_FILL}">'
            f"<title>{clock} {r.required_heads} / {r.scheduled_heads:g} ({r.gap:+g})</title></rect>"
        )
        if r.index % 4 == 0:
            parts.append(
                f'<text x="{x0}" y="{top + height + 14}" font-size="10" fill="#222">'
                f"{clock[:2]}</text>"
            )
    parts.append(
        _polyline(
            [(left + r.index * bar + bar / 2, y(r.scheduled_heads)) for r in rows],
            SCHEDULED_LINE,
            "scheduled-line",
        )
    )
    parts.append("</svg>")
    return "".join(parts)


def intraday_chart(planned: PlannedDay, *, label: str, sl_label: str) -> str:
    """Today in two panels over the same half hours: contacts offered as forecast, as they
    came so far and as re-forecast for the rest of the day; below, the service level the
    roster is expected to give for the rest of the day, and with the what-if's agents, beside
    the target (dashed)."""
    rows = planned.plan.intervals
    ahead = [r for r in rows if not r.elapsed]
    step, left, top, panel, gap = 14, 40, 10, 120, 30
    width = left + step * len(rows) + 10
    height = top + 2 * panel + gap + 24
    peak = max(
        1.0, *(max(r.forecast_offered, r.reforecast_offered, r.actual_offered or 0.0) for r in rows)
    )

    def x(i: int) -> float:
        return left + i * step + step / 2

    def volume(value: float) -> float:
        return top + panel - value / peak * panel

    def level(value: float) -> float:
        return top + 2 * panel + gap - value * panel

    target = level(planned.target.service_level)
    parts = [
        f'<svg class="intraday-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}; {escape(sl_label)}">'
        f"<title>{escape(label)}; {escape(sl_label)}</title>",
        f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end" fill="#222">'
        f"{peak:.0f}</text>",
        f'<text x="{left - 4}" y="{level(1.0) + 8:.1f}" font-size="10" text-anchor="end" '
        'fill="#222">100%</text>',
        f'<line class="target" x1="{left}" x2="{width - 10}" y1="{target:.1f}" '
        f'y2="{target:.1f}" stroke="#555" stroke-dasharray="4 3"/>',
        _polyline(
            [(x(r.index), volume(r.forecast_offered)) for r in rows], FORECAST_LINE, "forecast-line"
        ),
        _polyline(
            [(x(r.index), volume(r.actual_offered)) for r in rows if r.actual_offered is not None],
            ACTUAL_LINE,
            "actual-line",
        ),
        _polyline(
            [(x(r.index), volume(r.reforecast_offered)) for r in ahead],
            REFORECAST_LINE,
            "reforecast-line",
        ),
        _polyline(
            [(x(r.index), level(r.service_level)) for r in ahead if r.service_level is not None],
            SCHEDULED_LINE,
            "service-level-line",
        ),
        _polyline(
            [
                (x(r.index), level(r.what_if_service_level))
                for r in ahead
                if r.what_if_service_level is not None
            ],
            WHAT_IF_LINE,
            "what-if-line",
        ),
    ]
    parts += [
        f'<text x="{left + r.index * step}" y="{height - 6}" font-size="10" fill="#222">'
        f"{r.index * INTERVAL_S // 3600:02d}</text>"
        for r in rows
        if r.index % 4 == 0
    ]
    parts.append("</svg>")
    return "".join(parts)


def what_if_chart(result: WhatIfDay, *, target: float, label: str) -> str:
    """The simulated what-if over the rest of the day: the service level the simulator
    measured without the change (green) and with it (orange), Erlang's for each dashed in
    the same colour, and the target (grey, dashed); a point per half hour still to come."""
    rows = result.intervals
    step, left, top, panel = 14, 40, 10, 140
    width = left + step * max(1, len(rows)) + 10
    height = top + panel + 24

    def x(n: int) -> float:
        return left + n * step + step / 2

    def level(value: float) -> float:
        return top + panel - value * panel

    def line(values: list[float | None], colour: str, css: str, dashed: bool = False) -> str:
        drawn = _polyline(
            [(x(n), level(v)) for n, v in enumerate(values) if v is not None], colour, css
        )
        return drawn.replace("/>", ' stroke-dasharray="3 2"/>') if dashed else drawn

    parts = [
        f'<svg class="what-if-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>',
        f'<text x="{left - 4}" y="{level(1.0) + 8:.1f}" font-size="10" text-anchor="end" '
        'fill="#222">100%</text>',
        f'<text x="{left - 4}" y="{level(0.0):.1f}" font-size="10" text-anchor="end" '
        'fill="#222">0</text>',
        f'<line class="target" x1="{left}" x2="{width - 10}" y1="{level(target):.1f}" '
        f'y2="{level(target):.1f}" stroke="#555" stroke-dasharray="4 3"/>',
        line([r.erlang_service_level for r in rows], SCHEDULED_LINE, "erlang-line", True),
        line([r.erlang_service_level_with for r in rows], WHAT_IF_LINE, "erlang-with-line", True),
        line([r.simulated.service_level for r in rows], SCHEDULED_LINE, "simulated-line"),
        line([r.simulated_with.service_level for r in rows], WHAT_IF_LINE, "simulated-with-line"),
    ]
    parts += [
        f'<text x="{left + n * step}" y="{height - 6}" font-size="10" fill="#222">'
        f"{r.index * INTERVAL_S // 3600:02d}</text>"
        for n, r in enumerate(rows)
        if r.index % 4 == 0
    ]
    parts.append("</svg>")
    return "".join(parts)


def _what_if_change(query: Any) -> WhatIfChange | None:
    """The simulated what-if the page's form asks for (``sim``), or ``None``; 422 naming
    the field when a time or a count is malformed."""
    kind = query.get("sim")
    if not kind:
        return None
    start, end = query.get("sim_start", ""), query.get("sim_end", "")
    problems = [
        {"field": name, "problem": "a time like 14:00"}
        for name, value in (("sim_start", start), ("sim_end", end))
        if not re.fullmatch(CLOCK, value)
    ]
    agents = query.get("sim_agents") or "1"
    after = query.get("sim_after") or "60"
    if kind not in ("overtime", "break", "overflow"):
        problems.append({"field": "sim", "problem": "overtime, break or overflow"})
    if not agents.isdigit() or not 1 <= int(agents) <= 200:
        problems.append({"field": "sim_agents", "problem": "from 1 to 200 agents"})
    if not after.isdigit() or not 0 <= int(after) <= 3600:
        problems.append({"field": "sim_after", "problem": "from 0 to 3600 seconds"})
    if problems:
        raise HTTPException(422, problems)
    return WhatIfChange(
        kind="overtime" if kind == "overtime" else "overflow" if kind == "overflow" else "break",
        start=start,
        end=end,
        agents=int(agents),
        agent=query.get("sim_agent") or None,
        to=query.get("sim_to") or None,
        after_s=int(after),
    )


def _multiskill(
    query: Any, *, session: Session, center: CenterConfig, day: date, now: datetime
) -> dict[str, Any]:
    """The simulated multi-skill requirements the page's form asks for (``ms``): the form's
    values, and the result or the reason there is none; 422 naming a malformed field."""
    site = query.get("ms_site") or None
    start = query.get("ms_start") or None
    count = query.get("ms_intervals") or "1"
    problems = []
    if start is not None and not re.fullmatch(CLOCK, start):
        problems.append({"field": "ms_start", "problem": "a time like 14:00"})
    if not count.isdigit() or not 1 <= int(count) <= MULTISKILL_INTERVALS:
        problems.append(
            {"field": "ms_intervals", "problem": f"from 1 to {MULTISKILL_INTERVALS} half hours"}
        )
    if problems:
        raise HTTPException(422, problems)
    parts: dict[str, Any] = {
        "sites": center.sites,
        "ms_site": site,
        "ms_start": start,
        "ms_intervals": int(count),
        "multiskill": None,
        "ms_problem": "",
    }
    if not query.get("ms"):
        return parts
    try:
        parts["multiskill"] = multiskill_day(
            session=session,
            center=center,
            day=day,
            site=site,
            start=start,
            intervals=int(count),
            replications=MULTISKILL_REPLICATIONS,
            seed=1,
            now=now,
        )
    except ValidationFailed as refused:
        parts["ms_problem"] = str(refused)
    return parts


@router.get("/planning", response_class=HTMLResponse)
def planning_page(
    request: Request,
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> HTMLResponse:
    """Rosters as a Gantt chart with their shifts to edit and publish, and the day's
    adherence, attendance and shrinkage against the roster in force."""
    center = current_center(request)
    if center is None:
        raise HTTPException(409, "no center configuration is loaded")
    timezone = center.center.timezone
    zone = ZoneInfo(timezone)
    query = request.query_params
    rosters = service.list_rosters(session=session)
    chosen = None
    try:
        wanted = int(query["roster"]) if query.get("roster") else None
        day = date.fromisoformat(query["day"]) if query.get("day") else None
        extra = int(query.get("extra") or 0)
    except ValueError:
        raise HTTPException(
            422,
            [
                {
                    "field": "roster",
                    "problem": "a roster id, a day like 2026-03-02 and a whole number of agents",
                }
            ],
        ) from None
    if not -500 <= extra <= 500:
        raise HTTPException(422, [{"field": "extra", "problem": "from -500 to 500 agents"}])
    # One site's plan and adherence (its queues, its agents), or the whole center's.
    site = query.get("site") or None
    site_queues: set[str] | None = None
    site_agents: set[str] | None = None
    if site is not None:
        try:
            site_queues, site_agents = site_members(center, site)
        except ValidationFailed as refused:
            raise HTTPException(422, [{"field": "site", "problem": str(refused)}]) from None
    if wanted is not None or rosters:
        chosen = service.get_roster(
            session=session, roster_id=wanted or rosters[0].id, timezone=timezone
        )
    now = datetime.now(UTC)
    if day is None:
        today = now.astimezone(zone).date()
        inside = chosen is not None and chosen.period_start <= today <= chosen.period_end
        day = chosen.period_start if chosen is not None and not inside else today
    context = page_context(request, user)
    t = context["t"]
    todays = [s for s in chosen.shifts if s.start.date() == day] if chosen else []
    since = datetime.combine(day, time(), zone)
    figures = day_figures(
        session=session,
        center=center,
        agents=[a.id for a in center.agents if site_agents is None or a.id in site_agents],
        since=since,
        until=since + timedelta(days=1),
        now=now,
    )
    shrink = figures.shrinkage
    plan = _plan(
        session=session,
        center=center,
        day=day,
        queue_id=query.get("queue") or None,
        roster=chosen if chosen and chosen.period_start <= day <= chosen.period_end else None,
        extra=extra,
        now=now,
        t=t,
        change=_what_if_change(query),
        site=site,
        site_queues=site_queues,
    )
    context.update(**plan)
    context.update(_multiskill(query, session=session, center=center, day=day, now=now))
    context.update(
        texts=page_texts(request, context["lang"]),
        rosters=rosters,
        roster=chosen,
        day=day,
        days=_days(chosen.period_start, chosen.period_end) if chosen else [],
        shifts=[(i, s) for i, s in enumerate(chosen.shifts) if s.start.date() == day]
        if chosen
        else [],
        roster_json=_roster_json(chosen.shifts) if chosen else [],
        gantt=gantt(todays, day=day, zone=zone, label=f"{t('planning.gantt')} {day}"),
        figures=figures,
        shrinkage_chart=shrinkage_bars(
            {k: float(v) for k, v in shrink.by_reason.items()},
            assumed=float(shrink.assumed),
            label=t("planning.shrinkage"),
            assumed_label=t("planning.assumed"),
        )
        if shrink is not None and shrink.scheduled_minutes
        else "",
        timezone=timezone,
        agents=center.agents,
        skills=sorted({skill for a in center.agents for skill in a.skills}),
        requests=service.list_requests(session=session, timezone=timezone, limit=50),
    )
    return render(request, "planning.html", context)


def _plan(
    *,
    session: Session,
    center: CenterConfig,
    day: date,
    queue_id: str | None,
    roster: service.RosterView | None,
    extra: int,
    now: datetime,
    t: Callable[[str], str],
    change: WhatIfChange | None = None,
    site: str | None = None,
    site_queues: set[str] | None = None,
) -> dict[str, Any]:
    """The forecast, requirements and intraday parts of the page: the plan of ``day`` for
    one queue, its week's forecast chart and daily totals, the week's overrides, or the
    reason there is no forecast. With ``site`` the queue is one of ``site_queues`` (a queue
    of another site, left from the form, gives way to the site's first) and only the
    site's agents cover it."""
    zone = ZoneInfo(center.center.timezone)
    monday = day - timedelta(days=day.weekday())
    week = [monday + timedelta(days=i) for i in range(7)]
    queues = [q for q in center.queues if site_queues is None or q.id in site_queues]
    if queue_id not in {q.id for q in queues}:
        queue_id = None if site is not None else queue_id
    parts: dict[str, Any] = {
        "queues": queues,
        "site": site,
        "queue_id": queue_id or (queues[0].id if queues else ""),
        "extra": extra,
        "week": week,
        "today": now.astimezone(zone).date(),
        "overrides": service.list_overrides(session=session, first_day=week[0], last_day=week[-1]),
        "planned": None,
        "forecast_problem": "",
        "change": change,
        "what_if": None,
        "what_if_problem": "",
    }
    try:
        planned = planned_day(
            session=session,
            center=center,
            day=day,
            queue_id=queue_id,
            roster_id=roster.id if roster else None,
            extra_agents=extra,
            now=now,
            site=site,
        )
    except (ValueError, ValidationFailed) as refused:
        parts["forecast_problem"] = str(refused)
        return parts
    if change is not None:
        try:
            what_if = _simulated(session=session, center=center, planned=planned, change=change,
                                 now=now)  # fmt: skip
        except ValidationFailed as refused:
            parts["what_if_problem"] = str(refused)
        else:
            label = f"{t('planning.sim_title')}: {change.describe()}"
            parts.update(
                what_if=what_if,
                what_if_chart=what_if_chart(
                    what_if, target=planned.target.service_level, label=label
                ),
                what_if_target_chart=what_if_chart(
                    replace(what_if, intervals=what_if.target_intervals),
                    target=next(
                        q.target.service_level
                        for q in center.queues
                        if q.id == what_if.target_queue
                    ),
                    label=f"{label} ({what_if.target_queue})",
                )
                if what_if.target_queue
                else "",
            )
    result = planned.week.forecast
    slots = result.offered.shape[1]
    actual: list[list[float]] = []
    for d, date_ in enumerate(week):
        recorded = planned.week.actual(d)
        start = datetime.combine(date_, time(), zone)
        done = int(min(slots, max(0, (now - start).total_seconds() // INTERVAL_S)))
        actual.append(recorded[0][:done] if recorded else [])
    parts.update(
        planned=planned,
        forecast_chart=forecast_chart(
            planned, week, actual=actual, label=f"{t('planning.forecast')} {week[0]} – {week[-1]}"
        ),
        requirements_chart=requirements_chart(planned, label=f"{t('planning.requirements')} {day}"),
        intraday_chart=intraday_chart(
            planned,
            label=f"{t('planning.intraday')} {day}",
            sl_label=t("planning.service_level"),
        )
        if day == parts["today"]
        else "",
        week_totals=[
            {
                "day": date_,
                "forecast": float(result.offered[d].sum()),
                "low": float(result.offered_low[d].sum()),
                "high": float(result.offered_high[d].sum()),
                "actual": sum(actual[d]) if actual[d] else None,
                "special": result.labels[d] or "",
            }
            for d, date_ in enumerate(week)
        ],
    )
    return parts


def _simulated(
    *,
    session: Session,
    center: CenterConfig,
    planned: PlannedDay,
    change: WhatIfChange,
    now: datetime,
) -> WhatIfDay:
    """The form's what-if; an overflow plans the queue it goes to on the same day and
    roster first. Raises :class:`ValidationFailed` naming the field that does not fit."""
    problems = what_if_problems(change)
    if problems:
        raise ValidationFailed(problems)
    if change.kind != "overflow":
        return simulated_what_if(planned, change, seed=1)
    if change.to not in {q.id for q in center.queues}:
        raise ValidationFailed([Problem(rule=f"no queue {change.to!r}", field="sim_to")])
    try:
        other = planned_day(
            session=session, center=center, day=planned.day, queue_id=change.to,
            roster_id=planned.roster_id, extra_agents=0, now=now,
        )  # fmt: skip
    except ValueError as no_forecast:
        raise ValidationFailed([Problem(rule=str(no_forecast), field="sim_to")]) from None
    return overflow_what_if(planned, other, change, seed=1)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range(min(62, (last - first).days + 1))]


def _roster_json(shifts: list[RosterShift]) -> list[dict[str, Any]]:
    """The roster's shifts as ``PUT …/shifts`` takes them, for the page's script to send back
    whole with its edits."""
    return [
        {
            "agent": s.agent_id,
            "date": s.start.date().isoformat(),
            "start": f"{s.start:%H:%M}",
            "end": f"{s.end:%H:%M}",
            "skill": s.skill,
            "breaks": [
                {"start": f"{b.start:%H:%M}", "end": f"{b.end:%H:%M}", "kind": b.kind}
                for b in sorted(s.breaks, key=lambda b: b.start)
            ],
        }
        for s in shifts
    ]
