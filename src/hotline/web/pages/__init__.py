"""Server-rendered pages (Jinja2); each page route declares its roles like the API does.

The pages share :mod:`hotline.web.pages.rendering` (templates, language, the 403 page); this
package's own module holds the sign-in and console pages and mounts the others.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from hotline.identity.audit import record as record_audit
from hotline.identity.sessions import revoke_session
from hotline.store.db import writing
from hotline.web.auth import COOKIE, CurrentUser, claims_from, require_roles, user_for
from hotline.web.pages.rendering import WEB, page_context, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    """Send visitors to the console (which sends them to sign in if needed)."""
    return RedirectResponse("/console", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    """The sign-in page."""
    return render(request, "login.html", page_context(request, None))


@router.get("/logout")
def logout(request: Request) -> RedirectResponse:
    """Sign out: revoke the cookie's session on the server, then forget the cookie.

    A GET, so the plain link in the top bar works; the SameSite=Strict cookie is not sent
    when another site links here, so no other site can sign a user out.
    """
    claims = claims_from(request)
    if claims is not None:
        with writing(request.app.state.session_factory()) as session:
            user = user_for(session, claims)
            if user is not None:
                revoke_session(
                    session, session_id=claims.session_id, reason="logout", now=time.time()
                )
                record_audit(session, actor=user.username, action="auth.logout")
                session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/console", response_class=HTMLResponse)
def console(request: Request, user: CurrentUser = Depends(require_roles())) -> HTMLResponse:
    """The home page after sign-in: the center at a glance and where to go next."""
    return render(
        request, "console.html", page_context(request, user, center=request.app.state.center)
    )


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, user: CurrentUser = Depends(require_roles())) -> HTMLResponse:
    """Change your own password (``POST /api/auth/password``): every signed-in user."""
    return render(request, "account.html", page_context(request, user))


def mount(app: FastAPI) -> None:
    """Add the pages and static files to ``app``."""
    from hotline.web.pages import (
        admin,
        backoffice,
        campaigns,
        chat,
        customers,
        followup,
        knowledge,
        live,
        manager,
        people,
        planning,
        quality,
        recordings,
        reports,
        sms,
        surveys,
    )

    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    app.include_router(router)
    app.include_router(live.router)
    app.include_router(reports.router)
    app.include_router(admin.router)
    app.include_router(backoffice.router)
    app.include_router(quality.router)
    app.include_router(recordings.router)
    app.include_router(customers.router)
    app.include_router(manager.router)
    app.include_router(people.router)
    app.include_router(planning.router)
    app.include_router(campaigns.router)
    app.include_router(followup.router)
    app.include_router(chat.router)
    app.include_router(knowledge.router)
    app.include_router(surveys.router)
    app.include_router(sms.router)
