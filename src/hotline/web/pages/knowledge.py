"""The knowledge pages: search and read for everyone who reads the knowledge base, and the
authoring workspace (write, version, compare, submit, review, publish, retire) for its authors.

The pages hold no data of their own: they work through ``/api/kb`` (search with highlighted
matches, reading counts a view, the workflow routes enforce four eyes), with the roles the
API names, so a page never offers an action the API would refuse.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hotline.identity.roles import ALL_ROLES
from hotline.web.api.kb import AUTHORS, REVIEWERS
from hotline.web.auth import CurrentUser, require_roles
from hotline.web.i18n import catalog
from hotline.web.pages.rendering import page_context, render

router = APIRouter(include_in_schema=False)


def _texts(language: str) -> dict[str, str]:
    return {k: v for k, v in catalog(language).items() if k.startswith("kb.")}


@router.get("/knowledge", response_class=HTMLResponse)
def knowledge(
    request: Request, user: CurrentUser = Depends(require_roles(*ALL_ROLES))
) -> HTMLResponse:
    """Search the knowledge base in Chinese or English and read an article."""
    context = page_context(request, user)
    context.update(may_write=user.has(*AUTHORS), texts=_texts(context["lang"]))
    return render(request, "knowledge.html", context)


@router.get("/knowledge/manage", response_class=HTMLResponse)
def manage(request: Request, user: CurrentUser = Depends(require_roles(*AUTHORS))) -> HTMLResponse:
    """Write and edit articles, read their versions and changes, and move them through review."""
    context = page_context(request, user)
    context.update(
        may_review=user.has(*REVIEWERS), username=user.username, texts=_texts(context["lang"])
    )
    return render(request, "knowledge_manage.html", context)
