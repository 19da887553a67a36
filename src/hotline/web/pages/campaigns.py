"""The campaigns page: supervisors create and run outbound campaigns and keep the do-not-call
lists.

The page holds no data of its own: it lists campaigns with their live figures, creates them,
imports lists and starts or pauses them through the campaigns API (``/api/campaigns``,
``/api/do-not-call``), which checks every rule and audits every change. The agent's side is a
card on the desk (``desk.html``), over the same API.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hotline.campaigns.rules import CallResult, CampaignKind, DialMode
from hotline.web.api.campaigns import CAMPAIGN_MANAGERS
from hotline.web.auth import CurrentUser, require_roles
from hotline.web.i18n import catalog
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)

#: The results an agent records on the desk (``abandoned`` is the dialler's own).
DESK_RESULTS = [str(r) for r in CallResult if r is not CallResult.ABANDONED]
#: The dispositions of a dialled call connected to the agent (the customer was reached).
CONNECTED_RESULTS = [
    str(r)
    for r in (
        CallResult.COMPLETED,
        CallResult.CALLBACK_REQUESTED,
        CallResult.DECLINED,
        CallResult.WRONG_NUMBER,
        CallResult.DO_NOT_CALL,
    )
]


def campaign_texts(language: str) -> dict[str, str]:
    """The campaign texts of ``language``, for the page's script."""
    return {k: v for k, v in catalog(language).items() if k.startswith("camp.")}


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(
    request: Request, user: CurrentUser = Depends(require_roles(*CAMPAIGN_MANAGERS))
) -> HTMLResponse:
    """Campaign management: list, create, lists, start/pause, do-not-call lists."""
    context = page_context(request, user)
    context.update(
        kinds=[str(k) for k in CampaignKind],
        modes=[str(m) for m in DialMode],
        texts=campaign_texts(context["lang"]),
    )
    return render(request, "campaigns.html", context)
