"""Live pages: the agent desktop and the supervisor wallboard (实时大屏)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from hotline.campaigns.service import list_campaigns
from hotline.config.center import CenterConfig
from hotline.store.db import reading
from hotline.web.api.live.guards import voice_of
from hotline.web.api.live.listening import LISTENERS
from hotline.web.api.live.supervision import CRISIS_SWITCHERS
from hotline.web.api.people import CompetitionStandingsOut, running_standings, visible_teams
from hotline.web.api.rosters import MyScheduleOut, my_schedule
from hotline.web.auth import CurrentUser, require_roles
from hotline.web.i18n import catalog
from hotline.web.pages.campaigns import CONNECTED_RESULTS, DESK_RESULTS
from hotline.web.pages.rendering import page_context, render
from hotline.web.security import softphone_policy
from hotline.web.wallboard_charts import WallCharts, line_chart
from hotline.web.wallboard_charts import build as build_charts

router = APIRouter(include_in_schema=False)

SUPERVISION = ("supervisor", "team_lead", "manager", "wfm", "qa")
#: Who may act from the wallboard (the API checks it again: hotline.web.api.live.floor).
FLOOR_ACTIONS = ("supervisor", "team_lead", "manager")


def page_texts(request: Request, language: str) -> dict[str, str]:
    """Every interface text of ``language`` plus the center's reason and disposition names.

    Pages hand these to their script, so text drawn in the browser is translated too.
    """
    texts = dict(catalog(language))
    center = request.app.state.center
    if center is not None:
        for code in center.reason_codes:
            texts[f"reason.{code.id}"] = code.name or code.id
        for code in center.disposition_codes:
            texts[f"disposition.{code.id}"] = code.name or code.id
        for queue in center.queues:
            texts[f"queue.{queue.id}"] = queue.name or queue.id
    return texts


def crisis_now(request: Request) -> dict[str, Any]:
    """Crisis mode now, for the banner drawn with the page (off when nothing routes live)."""
    driver = getattr(request.app.state, "live", None)
    if driver is None:
        return {"available": False, "on": False, "reason": None, "closed_queues": []}
    view: dict[str, Any] = driver.crisis.view()
    return view


def running_campaigns(request: Request) -> list[dict[str, Any]]:
    """The campaigns an agent may work now (running), for the desk's campaign card."""
    with reading(request.app.state.session_factory(), purpose="GET /desk") as session:
        return [
            {"id": c.id, "name": c.name, "mode": c.mode}
            for c in list_campaigns(session)
            if c.state == "running"
        ]


def contests(
    request: Request, center: CenterConfig | None, teams: list[str] | None
) -> list[CompetitionStandingsOut]:
    """The running contests covering ``teams`` (all when ``None``), with their standings:
    the desk's and the wallboard's contest panels."""
    if center is None:
        return []
    with reading(request.app.state.session_factory(), purpose="contests") as session:
        return running_standings(session=session, center=center, teams=teams)


def _charts(
    request: Request, center: CenterConfig | None, t: Callable[[str], str]
) -> dict[str, Any] | None:
    """The 大屏's charts drawn for the page (today so far; they move by the half hour)."""
    if center is None:
        return None
    with reading(request.app.state.session_factory(), purpose="wallboard charts") as session:
        charts: WallCharts = build_charts(session=session, center=center, now=datetime.now(UTC))
    volume = [("offered", t("chart.offered"), charts.offered)]
    volume.append(("answered", t("chart.answered"), charts.answered))
    if charts.forecast is not None:
        volume.append(("forecast", t("chart.forecast"), list(charts.forecast)))
    return {
        "data": charts,
        "volume": Markup(
            line_chart(title=t("chart.volume"), labels=charts.intervals, series=volume)
        ),
        "service_level": Markup(
            line_chart(
                title=t("chart.service_level"),
                labels=charts.intervals,
                series=[("service-level", t("chart.service_level"), charts.service_level)],
            )
        ),
        "backlog": Markup(
            line_chart(
                title=t("chart.backlog"),
                labels=[f"{d:%m-%d}" for d in charts.backlog_days],
                series=[("backlog", t("chart.backlog"), list(charts.backlog))],
            )
        ),
    }


@router.get("/desk", response_class=HTMLResponse)
def desk(request: Request, user: CurrentUser = Depends(require_roles("agent"))) -> HTMLResponse:
    """The agent desktop of the signed-in agent."""
    center = request.app.state.center
    context = page_context(request, user)
    agent = None
    if center is not None and user.agent_id:
        agent = next((a for a in center.agents if a.id == user.agent_id), None)
    context.update(
        agent_id=agent.id if agent else None,
        agent_name=agent.name if agent else "",
        reason_codes=center.reason_codes if center else [],
        disposition_codes=center.disposition_codes if center else [],
        queues=center.queues if center else [],
        texts=page_texts(request, context["lang"]),
        running_campaigns=running_campaigns(request),
        campaign_results=DESK_RESULTS,
        connected_results=CONNECTED_RESULTS,
        schedule=next_on_schedule(request, center, agent.id) if agent else None,
        # Standings move slowly (they are over days): drawn with the page, not pushed.
        contests=contests(request, center, [agent.team]) if agent else [],
        contest_rows=3,
        mine=[agent.id, agent.team] if agent else [],
        crisis=crisis_now(request),
    )
    page = render(request, "desk.html", context)
    voice = getattr(request.app.state, "voice", None)
    port = getattr(getattr(voice, "options", None), "ws_port", None)
    if agent is not None and port is not None and request.url.hostname:
        # the softphone's SIP WebSocket (another port of this host) may be opened
        page.headers["content-security-policy"] = softphone_policy(request.url.hostname, port)
    return page


def next_on_schedule(request: Request, center: Any, agent_id: str) -> MyScheduleOut:
    """The agent's next published shift and break, for the desk's compact line."""
    now = datetime.now(UTC)
    with reading(request.app.state.session_factory(), purpose="GET /desk") as session:
        return my_schedule(
            session=session, center=center, agent_id=agent_id, start=now.date(), days=1, now=now
        )


@router.get("/wallboard", response_class=HTMLResponse)
def wallboard(
    request: Request,
    mode: str = "",
    user: CurrentUser = Depends(require_roles(*SUPERVISION)),
) -> HTMLResponse:
    """The wallboard; ``?mode=big`` opens the full-screen 大屏 layout."""
    context: dict[str, Any] = page_context(request, user)
    center = request.app.state.center
    crisis = crisis_now(request)
    context.update(
        big=mode == "big",
        texts=page_texts(request, context["lang"]),
        # Supervisor actions (hotline.web.api.live.floor): moving and picking waiting
        # contacts, changing an agent's state, logging out a stuck agent.
        floor=user.has(*FLOOR_ACTIONS),
        move_queues=user.has("supervisor", "manager"),
        own_agent=user.agent_id or "",
        # Listening in on an agent's call from their row (hotline.web.api.live.listening):
        # only where this server takes phone calls.
        listen=user.has(*LISTENERS) and voice_of(request) is not None,
        me=user.username,  # whose own session's mode the row's buttons switch
        reason_codes=center.reason_codes if center else [],
        queues=[q for q in center.queues] if center else [],
        contests=contests(
            request, center, visible_teams(request, user, center) if center else None
        ),
        contest_rows=5,
        mine=[],
        charts=_charts(request, center, context["t"]),
        crisis=crisis,
        # Crisis mode's switch, where the center file defines the mode.
        crisis_switch=crisis["available"] and user.has(*CRISIS_SWITCHERS),
    )
    return render(request, "wallboard.html", context)
