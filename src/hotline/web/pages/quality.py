"""Quality pages: the QA workspace (plan, player, form) and the agent's own quality view.

The pages render the evaluation forms of the center configuration and leave the work to
the quality API (``/api/quality/*``), which checks roles, scope and answers; the recording
is streamed by the recordings API, which audits every playback.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hotline.identity.roles import Role
from hotline.web.access import current_center
from hotline.web.auth import CurrentUser, require_roles
from hotline.web.i18n import catalog
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)

WORKSPACE_ROLES = (Role.QA, Role.SUPERVISOR, Role.MANAGER)


def _texts(language: str) -> dict[str, str]:
    wanted = ("qa.", "qareason.", "email.kind.", "email.from", "email.to", "email.attachments")
    return {k: v for k, v in catalog(language).items() if k.startswith(wanted)}


def _month(request: Request) -> str:
    center = current_center(request)
    zone = ZoneInfo(center.center.timezone if center is not None else "UTC")
    return datetime.now(zone).strftime("%Y-%m")


@router.get("/quality", response_class=HTMLResponse)
def workspace(
    request: Request, user: CurrentUser = Depends(require_roles(*WORKSPACE_ROLES))
) -> HTMLResponse:
    """The QA workspace: this month's sampling plan, the contact's player and the form."""
    center = current_center(request)
    forms = center.quality.current_forms() if center is not None and center.quality else []
    context = page_context(request, user)
    context.update(
        forms=forms,
        month=_month(request),
        evaluator=user.has(Role.QA),
        reviewer=user.has(Role.SUPERVISOR, Role.MANAGER),
        texts=_texts(context["lang"]),
    )
    return render(request, "quality.html", context)


@router.get("/quality/mine", response_class=HTMLResponse)
def mine(request: Request, user: CurrentUser = Depends(require_roles(Role.AGENT))) -> HTMLResponse:
    """The agent's own evaluations, score trend and accuracy; acknowledge or dispute."""
    context = page_context(request, user)
    context.update(agent_id=user.agent_id, month=_month(request), texts=_texts(context["lang"]))
    return render(request, "quality_mine.html", context)


@router.get("/quality/calibration", response_class=HTMLResponse)
def calibration(
    request: Request, user: CurrentUser = Depends(require_roles(*WORKSPACE_ROLES))
) -> HTMLResponse:
    """Calibration sessions: open one, score its contacts blind, close it and keep the outcome."""
    center = current_center(request)
    forms = center.quality.current_forms() if center is not None and center.quality else []
    context = page_context(request, user)
    context.update(forms=forms, username=user.username, texts=_texts(context["lang"]))
    return render(request, "quality_calibration.html", context)
