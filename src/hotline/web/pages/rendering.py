"""What every page shares: the templates, the page language and its lookup, the 403 page.

The page modules (this package's ``__init__`` and ``admin``, ``live``, ``reports``) import
these from here, so that mounting the pages imports no module that imports the mount back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hotline.web.auth import CurrentUser
from hotline.web.i18n import LANGUAGES, pick_language, translate

WEB = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(WEB / "templates"))


def page_context(request: Request, user: CurrentUser | None, **extra: Any) -> dict[str, Any]:
    """Common template values: the user, the language and its ``t()`` lookup."""
    language = pick_language(
        request.query_params.get("lang")
        or request.cookies.get("hotline_lang")
        or (user.language if user else None),
        request.headers.get("accept-language"),
    )
    other = next(code for code in LANGUAGES if code != language)
    return {
        "request": request,
        "user": user,
        "lang": language,
        "other_lang": other,
        "t": lambda key: translate(language, key),
        **extra,
    }


def render(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    """Render a page and remember an explicitly chosen language in a cookie."""
    response = templates.TemplateResponse(request, template, context)
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        secure = request.app.state.settings.secure_cookies
        response.set_cookie("hotline_lang", chosen, samesite="strict", secure=secure)
    return response


def forbidden(request: Request, detail: str) -> HTMLResponse:
    """The page shown (status 403) when a signed-in user opens a page their roles do not allow."""
    # The guard says "this needs one of the roles: a, b"; show those roles in the page language.
    marker = "one of the roles: "
    roles = detail.split(marker, 1)[1].split(", ") if marker in detail else []
    context = page_context(request, None, detail=detail, roles=roles)
    response = templates.TemplateResponse(request, "forbidden.html", context, status_code=403)
    return response
