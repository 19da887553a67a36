"""The recordings page: find calls by day, agent, queue, customer, number, duration and
disposition, and play one with its segments marked.

The page holds no data of its own: it searches through ``GET /api/recordings`` (server-side
filters and paging), plays through the recordings API (which audits every playback) with the
player the QA workspace uses, and offers the download link only to the roles the API lets
download.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hotline.identity.roles import RECORDING_DOWNLOAD_ROLES, RECORDING_ROLES
from hotline.web.access import current_center
from hotline.web.auth import CurrentUser, require_roles
from hotline.web.i18n import catalog
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)


def _texts(language: str) -> dict[str, str]:
    return {k: v for k, v in catalog(language).items() if k.startswith(("rec.", "qa.seg_"))}


@router.get("/recordings", response_class=HTMLResponse)
def recordings(
    request: Request, user: CurrentUser = Depends(require_roles(*sorted(RECORDING_ROLES)))
) -> HTMLResponse:
    """The recordings search and player."""
    center = current_center(request)
    context = page_context(request, user)
    context.update(
        queues=[q.id for q in center.queues] if center is not None else [],
        dispositions=[d.id for d in center.disposition_codes] if center is not None else [],
        may_download=user.has(*RECORDING_DOWNLOAD_ROLES),
        texts=_texts(context["lang"]),
    )
    return render(request, "recordings.html", context)
