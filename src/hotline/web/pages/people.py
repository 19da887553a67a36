"""People pages: the team scorecard (``/team``) and the agent's own figures (``/me``).

Both render the same scorecard the people API answers (:mod:`hotline.people.service`), so a
page and ``/api/people/*`` never disagree: every figure against its target, a sparkline of its
days, the grade with the figures that cost it points. A team lead sees their own teams,
supervisors and managers the floor; an agent sees only themselves, beside their team's mean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.config.grading import GradingRule
from hotline.identity.roles import Role
from hotline.people import service
from hotline.people.leaderboard import NORMALISED, RANKABLE
from hotline.web.access import current_center, scope_of
from hotline.web.api.people import (
    ORGANISERS,
    SCORECARD_READERS,
    CompetitionStandingsOut,
    coaching_out,
    period,
    record_out,
    standings_out,
    today_of,
    visible_teams,
)
from hotline.web.api.rosters import my_schedule
from hotline.web.auth import CurrentUser, read_session, require_roles
from hotline.web.pages.live import page_texts
from hotline.web.pages.rendering import page_context, render
from hotline.wfm import service as rosters

router = APIRouter(include_in_schema=False)

#: How each figure is printed: seconds whole, ratios as percentages, scores with one decimal.
SECONDS = ("aht_s", "acw_s", "avg_hold_s")
SCORES = ("quality_score",)
#: How far ahead ``/me`` shows the agent's published shifts.
SCHEDULE_DAYS = 14


def show(metric: str, value: float | None) -> str:
    """A figure as people read it (``–`` when not available).

    >>> show("aht_s", 312.4), show("csat", 0.8333), show("quality_score", 91.25), show("fcr", None)
    ('312 s', '83.3 %', '91.2', '–')
    """
    if value is None:
        return "–"
    if metric in SECONDS:
        return f"{value:.0f} s"
    if metric in SCORES or metric == "score":
        return f"{value:.1f}"
    return f"{100 * value:.1f} %"


def sparkline(values: list[float | None], *, label: str, width: int = 96, height: int = 24) -> str:
    """A small SVG line of one figure's days (gaps where a day has no value), with a text
    alternative for screen readers. Nothing but attributes: the pages' CSP forbids inline
    styles.

    >>> "polyline" in sparkline([1.0, None, 3.0, 2.0], label="AHT")
    True
    """
    present = [v for v in values if v is not None]
    title = escape(label)
    if len(present) < 2 or len(values) < 2:
        return (
            f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label="{title}"><title>{title}</title></svg>'
        )
    low, high = min(present), max(present)
    spread = (high - low) or 1.0
    step = (width - 4) / (len(values) - 1)
    lines: list[list[str]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if lines[-1]:
                lines.append([])
            continue
        x = 2 + i * step
        y = height - 2 - (value - low) / spread * (height - 4)
        lines[-1].append(f"{x:.1f},{y:.1f}")
    shapes = "".join(
        f'<polyline points="{" ".join(points)}"/>'
        if len(points) > 1
        else f'<circle cx="{points[0].split(",")[0]}" cy="{points[0].split(",")[1]}" r="1.5"/>'
        for points in lines
        if points
    )
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{title}"><title>{title}</title>{shapes}</svg>'
    )


def meets(rule: GradingRule | None, value: float | None) -> str:
    """``met``, ``missed`` or ``""`` (no target or no value): a figure against its target."""
    if rule is None or value is None:
        return ""
    good = value >= rule.target if rule.higher_is_better else value <= rule.target
    return "met" if good else "missed"


def _context(request: Request, user: CurrentUser, card: service.Scorecard) -> dict[str, Any]:
    center = current_center(request)
    grading = center.grading if center is not None else None
    context = page_context(request, user)
    t = context["t"]
    context.update(
        card=card,
        metrics=service.METRICS,
        trended=service.TRENDED,
        rules={m: grading.rule(m) if grading else None for m in service.METRICS},
        show=show,
        meets=meets,
        spark=lambda agent, metric: sparkline(
            agent.trends.get(metric, []),
            label=f"{agent.agent} · {t('people.metric.' + metric)} · {t('people.trend')}",
        ),
    )
    return context


def _dates(request: Request) -> tuple[date | None, date | None]:
    query = request.query_params
    try:
        start = date.fromisoformat(query["start"]) if query.get("start") else None
        end = date.fromisoformat(query["end"]) if query.get("end") else None
    except ValueError:
        raise HTTPException(
            422, [{"field": "start", "problem": "dates look like 2026-11-23"}]
        ) from None
    return start, end


@router.get("/team", response_class=HTMLResponse)
def team_page(
    request: Request,
    user: CurrentUser = Depends(require_roles(*SCORECARD_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> HTMLResponse:
    """The team scorecard: each agent's figures against target, trends and grade."""
    center = current_center(request)
    if center is None:
        raise HTTPException(409, "no center configuration is loaded")
    start, end = period(center, *_dates(request))
    scope = scope_of(request, user)
    team = request.query_params.get("team") or None
    if team is not None and not scope.covers_team(team):
        raise HTTPException(403, f"team {team} is not one you lead")
    agents = [
        a.id for a in center.agents if scope.covers(a.id) and (team is None or a.team == team)
    ]
    card = service.scorecard(session=session, center=center, start=start, end=end, agents=agents)
    metric = request.query_params.get("board") or "aht_s"
    if metric not in RANKABLE:
        raise HTTPException(422, [{"field": "board", "problem": f"one of {', '.join(RANKABLE)}"}])
    board = service.leaderboard(
        session=session, center=center, start=start, end=end, metric=metric, entrants=agents
    )
    context = _context(request, user, card)
    context.update(
        contests=contests_for(session, center, teams=visible_teams(request, user, center)),
        contest_rows=CONTEST_ROWS,
        mine=[],
        coaching=[
            coaching_out(center, row)
            for row in service.list_coaching(session=session, agents=agents)
        ],
        coach_side=True,
        courses=service.list_courses(session=session),
        course_author=user.has(Role.MANAGER),
        skills=center.skills,
        training=[
            record_out(center, result, course)
            for result, course in service.training_records(session=session, agents=agents)
        ],
        local_date=_local_date(center),
        coach_prefill=_coach_prefill(request, end),
        organiser=user.has(*ORGANISERS),
        can_withdraw=user.has(*ORGANISERS),
        teams=[t for t in center.teams if scope.covers_team(t.id)],
        team=team,
        grades=_grade_counts(card),
        board=board,
        board_metric=metric,
        rankable=RANKABLE,
        normalised=metric in NORMALISED,
        names={a.id: a.name for a in center.agents},
    )
    return render(request, "team.html", context)


def _local_date(center: CenterConfig) -> Callable[[datetime], str]:
    """A function printing an instant as the center's local date."""
    zone = ZoneInfo(center.center.timezone)
    return lambda moment: moment.astimezone(zone).date().isoformat()


def _coach_prefill(request: Request, end: date) -> dict[str, str]:
    """The coaching form's agent and figure when the page is opened from a cockpit outlier
    (``?coach=a007&metric=aht_s``), and a due date two weeks after the period."""
    query = request.query_params
    return {
        "agent": query.get("coach") or "",
        "metric": query.get("metric") or "",
        "due": (end + timedelta(days=14)).isoformat(),
    }


#: How many places of a contest a page lists (an agent's own place is always shown too).
CONTEST_ROWS = 10


def contests_for(
    session: Session, center: CenterConfig, *, teams: list[str] | None
) -> list[CompetitionStandingsOut]:
    """The standings of the newest contests covering ``teams`` (every contest when ``None``)
    that ended at most 30 days ago, as the API answers them: running ones first."""
    today = today_of(center)
    rows = service.list_competitions(
        session=session, teams=teams, ending_from=today - timedelta(days=30)
    )[:MAX_CONTESTS]
    shown = [
        standings_out(
            center,
            service.competition_standings(
                session=session, center=center, competition=row, today=today
            ),
            today,
        )
        for row in rows
    ]
    return sorted(shown, key=lambda c: c.competition.status != "running")


#: The most contests a page shows at once.
MAX_CONTESTS = 5


def _grade_counts(card: service.Scorecard) -> dict[str, int]:
    counts = {"A": 0, "B": 0, "C": 0, "D": 0, "-": 0}
    for agent in card.agents:
        counts[agent.grading.grade if agent.grading and agent.grading.grade else "-"] += 1
    return counts


def _swap_candidates(
    *, session: Session, center: CenterConfig, agent_id: str, team: list[str]
) -> list[tuple[int, str]]:
    """My team colleagues' published shifts not yet started within the schedule's window, as
    (shift id, label) for asking a swap; the planner checks skills and rules on approval."""
    now = datetime.now(UTC)
    zone = ZoneInfo(center.center.timezone)
    names = {a.id: a.name for a in center.agents}
    colleagues = [a for a in team if a != agent_id]
    if not colleagues:
        return []
    shifts = rosters.published_shifts(
        session=session,
        since=now,
        until=now + timedelta(days=SCHEDULE_DAYS + 1),
        timezone=center.center.timezone,
        agents=colleagues,
    ).shifts
    return [
        (
            s.shift_id,
            f"{s.agent_id} {names.get(s.agent_id, '')} {s.start.astimezone(zone):%m-%d %H:%M}"
            f"–{s.end.astimezone(zone):%H:%M} {s.skill}",
        )
        for s in shifts
        if s.shift_id is not None and s.start > now
    ]


@router.get("/me", response_class=HTMLResponse)
def my_page(
    request: Request,
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(read_session, scope="function"),
) -> HTMLResponse:
    """My figures against my targets and my team's mean, my grade, my recent evaluations and
    my published schedule for the next two weeks."""
    center = current_center(request)
    if center is None:
        raise HTTPException(409, "no center configuration is loaded")
    start, end = period(center, *_dates(request))
    mine = next((a for a in center.agents if a.id == user.agent_id), None)
    if mine is None:
        context = page_context(request, user)
        context.update(card=None)
        return render(request, "me.html", context)
    team = [a.id for a in center.agents if a.team == mine.team]
    card = service.scorecard(session=session, center=center, start=start, end=end, agents=team)
    own = next(c for c in card.agents if c.agent == mine.id)
    # Only the agent's own card reaches the page; colleagues count only in the team's mean.
    context = _context(request, user, replace(card, agents=[own]))
    context.update(
        own=own,
        average=card.team_averages.get(mine.team, {}),
        evaluations=service.recent_evaluations(session=session, agent_id=mine.id),
        requests=rosters.list_requests(
            session=session, timezone=center.center.timezone, agent_id=mine.id, limit=20
        ),
        texts=page_texts(request, context["lang"]),
        schedule=my_schedule(
            session=session,
            center=center,
            agent_id=mine.id,
            start=datetime.now(UTC).astimezone(ZoneInfo(center.center.timezone)).date(),
            days=SCHEDULE_DAYS,
            now=datetime.now(UTC),
        ),
        swaps=_swap_candidates(session=session, center=center, agent_id=mine.id, team=team),
        coaching=[
            coaching_out(center, row)
            for row in service.list_coaching(session=session, agents=[mine.id])
        ],
        coach_side=False,
        training=[
            record_out(center, result, course)
            for result, course in service.training_records(session=session, agents=[mine.id])
        ],
        local_date=_local_date(center),
    )
    return render(request, "me.html", context)
