"""Back-office pages: the work queue, the ticket page, the complaint board, the provider portal,
the fault statistics.

Each page is a shell the browser fills from the back-office API (``/api/backoffice``, the
tickets API and ``/api/provider``), so the API's access rules and masking are the pages'
too. Texts come in the page language; the scripts get the catalogue and the center's names.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.tickets.workflow import TicketState, TicketType
from hotline.web.access import current_center, scope_of
from hotline.web.api.backoffice import FAULT_READERS, SINCE, UNTIL, fault_period
from hotline.web.api.provider_portal import provider_of
from hotline.web.api.tickets import VIEWERS, WORKERS
from hotline.web.auth import CurrentUser, read_session, require_roles
from hotline.web.fields import RecordId
from hotline.web.pages.live import page_texts
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)

LEADS = ("team_lead", "supervisor", "manager")
TICKET_TYPES = tuple(kind.value for kind in TicketType)
TICKET_STATES = tuple(state.value for state in TicketState)


def _categories(center: CenterConfig | None) -> list[str]:
    sections = center.ticket_categories if center else []
    return sorted({category.id for section in sections for category in section.categories})


def _regions(center: CenterConfig | None) -> list[str]:
    """The regions the providers serve: where a work order can be sent."""
    providers = center.service_providers if center else []
    return sorted({region for provider in providers for region in provider.regions})


@router.get("/work", response_class=HTMLResponse)
def work_queue(
    request: Request, user: CurrentUser = Depends(require_roles(*WORKERS))
) -> HTMLResponse:
    """The work queue: filters, saved views, SLA countdowns, bulk assign, live updates."""
    center = current_center(request)
    scope = scope_of(request, user)
    teams = [t for t in (center.teams if center else []) if scope.covers_team(t.id)]
    agents = [a for a in (center.agents if center else []) if scope.covers(a.id)]
    context = page_context(request, user)
    context.update(
        texts=page_texts(request, context["lang"]),
        types=TICKET_TYPES,
        states=TICKET_STATES,
        categories=sorted(
            {c.id for s in (center.ticket_categories if center else []) for c in s.categories}
        ),
        providers=center.service_providers if center else [],
        regions=sorted(
            {r for p in (center.service_providers if center else []) for r in p.regions}
        ),
        queues=center.queues if center else [],
        teams=teams,
        agents=agents,
        may_assign=user.has(*LEADS),
    )
    return render(request, "work.html", context)


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    ticket_id: RecordId, request: Request, user: CurrentUser = Depends(require_roles(*VIEWERS))
) -> HTMLResponse:
    """One ticket: history, fields, product and warranty, notes, dispatch, closing loop."""
    center = current_center(request)
    context = page_context(request, user)
    context.update(
        texts=page_texts(request, context["lang"]),
        ticket_id=ticket_id,
        may_work=user.has(*WORKERS),
        regions=sorted(
            {r for p in (center.service_providers if center else []) for r in p.regions}
        ),
    )
    return render(request, "ticket.html", context)


@router.get("/complaints", response_class=HTMLResponse)
def complaint_board(
    request: Request, user: CurrentUser = Depends(require_roles(*LEADS))
) -> HTMLResponse:
    """The complaint board: levels, escalation paths, who acts next, deadlines."""
    context = page_context(request, user)
    context.update(texts=page_texts(request, context["lang"]), roles=list(user.roles))
    return render(request, "complaints.html", context)


@router.get("/provider", response_class=HTMLResponse)
def provider_portal(
    request: Request, user: CurrentUser = Depends(require_roles("provider"))
) -> HTMLResponse:
    """The provider portal: my provider's work orders, accept, schedule, visit, claim."""
    provider = provider_of(request, user)
    context = page_context(request, user)
    context.update(texts=page_texts(request, context["lang"]), provider=provider)
    return render(request, "provider.html", context)


@router.get("/faults", response_class=HTMLResponse)
def fault_statistics(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    user: CurrentUser = Depends(require_roles(*FAULT_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> HTMLResponse:
    """Fault statistics per product line and model for the product units, with the
    workbook to take away: repairs, fault categories, parts, repeats, first-visit fixes and
    each model's months."""
    since, until, models = fault_period(request, session, since, until)
    context = page_context(request, user)
    months = sorted({month for m in models for month in m.monthly})
    context.update(
        since=since,
        until=until,
        models=models,
        months=months,
        busiest=max((count for m in models for count in m.monthly.values()), default=0),
    )
    return render(request, "faults.html", context)
