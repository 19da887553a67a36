"""Follow-up (回访) workbench and settlement pages.

``/followup`` is the 回访 group's workbench: due and overdue tasks highlighted, the chosen
task's script, the dial button (the desk's click-to-dial API, for a 回访 agent who is also
an agent of the center), and the answers recorded into the ticket. ``/settlement`` is the
settlement clerk's: a month's claims per provider, approve or reject with the reason, the
Excel statement. Both are shells their scripts fill from ``/api/followup`` and
``/api/settlement``, so the API's access rules and masking are the pages' too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hotline.web.access import current_center
from hotline.web.api.followup import FOLLOWUP_ROLES
from hotline.web.api.settlement import SETTLEMENT_ROLES
from hotline.web.auth import CurrentUser, require_roles
from hotline.web.pages.live import page_texts
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)


@router.get("/followup", response_class=HTMLResponse)
def workbench(
    request: Request, user: CurrentUser = Depends(require_roles(*FOLLOWUP_ROLES))
) -> HTMLResponse:
    """The 回访 workbench: due and overdue tasks, the script, dialling, the answers."""
    context = page_context(request, user)
    context.update(
        texts=page_texts(request, context["lang"]),
        agent_id=user.agent_id if user.has("agent") else None,
    )
    return render(request, "followup.html", context)


@router.get("/settlement", response_class=HTMLResponse)
def settlement(
    request: Request, user: CurrentUser = Depends(require_roles(*SETTLEMENT_ROLES))
) -> HTMLResponse:
    """The settlement clerk's page: the month's claims, decisions, Excel statements."""
    center = current_center(request)
    context = page_context(request, user)
    context.update(
        texts=page_texts(request, context["lang"]),
        month=datetime.now(UTC).strftime("%Y-%m"),
        providers=[p.code for p in (center.service_providers if center else [])],
    )
    return render(request, "settlement.html", context)
