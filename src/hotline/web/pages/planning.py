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

from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hotline.web.access import current_center
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
    except ValueError:
        raise HTTPException(
            422, [{"field": "roster", "problem": "a roster id and a day like 2026-03-02"}]
        ) from None
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
        agents=[a.id for a in center.agents],
        since=since,
        until=since + timedelta(days=1),
        now=now,
    )
    shrink = figures.shrinkage
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
        requests=service.list_requests(session=session, timezone=timezone, limit=50),
    )
    return render(request, "planning.html", context)


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
