"""The chat desk page (``/chat/desk``): an agent's chats side by side; supervisors watch.

An agent sees the chats offered to them (accept), every chat in hand as a tab with its
messages, the customer's pre-chat form, canned replies and knowledge articles to insert into
the reply, and ends and wraps up each. Supervisors, managers, QA and team leads (their teams)
see the chats in progress and watch one live, read-only. The page is a shell: its script
talks to ``/api/chat/ws`` (:mod:`hotline.web.api.chat`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hotline.web.access import current_center
from hotline.web.api.chat import CHAT_AGENTS, CHAT_SUPERVISION, chat_settings
from hotline.web.auth import CurrentUser, require_roles
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)


@router.get("/chat/desk", response_class=HTMLResponse)
def chat_desk(
    request: Request, user: CurrentUser = Depends(require_roles(*CHAT_AGENTS, *CHAT_SUPERVISION))
) -> HTMLResponse:
    """The chat desk: an agent's chats, or the chats a supervisor may watch."""
    center = current_center(request)
    settings = chat_settings(request.app)
    is_agent = "agent" in user.roles and user.agent_id is not None
    context = page_context(
        request,
        user,
        agent_id=user.agent_id if is_agent else None,
        supervising=user.has(*CHAT_SUPERVISION),
        canned=[{"id": c.id, "text": c.text} for c in settings.canned_replies],
        dispositions=center.disposition_codes if center else [],
        reason_codes=center.reason_codes if center else [],
    )
    return render(request, "chat_desk.html", context)
