"""The FastAPI application: API routers, pages, live events, health and structured errors."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline import __version__
from hotline.config.center import CenterConfig
from hotline.core.errors import Conflict, NotFound, ValidationFailed
from hotline.core.settings import Settings, load_settings
from hotline.store.db import WriterQueueTimeout, make_engine, make_session_factory, writing
from hotline.store.jobs import fail_interrupted_jobs, has_interrupted_work
from hotline.web import readiness
from hotline.web.api.live.voice_requests import VoiceRequestFailed
from hotline.web.api.responses import ResponseModel
from hotline.web.auth import require_roles
from hotline.web.events import EventHub
from hotline.web.security import OriginCheck, SecurityHeaders
from hotline.web.ticket_feed import announce_ticket_changes

log = logging.getLogger(__name__)


def load_secret(settings: Settings) -> bytes:
    """The token-signing secret: from settings, else a random one kept in ``home/secret.key``."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.home) / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    path.write_bytes(key)
    path.chmod(0o600)
    return key


def fail_interrupted_imports(factory: sessionmaker[Session]) -> list[str]:
    """End the import jobs a crash (kill -9) left ``running`` as failed, "interrupted by a
    restart", and delete their staged rows; return their ids.

    Only the jobs of dead servers: each job records the server process running it and that
    server's heartbeat (:class:`hotline.store.jobs.JobLease`), and a job is failed only when
    the heartbeat has lapsed, so a server starting beside others — a web node (``hotline
    serve --web-only``), the full server — never fails a job another live server runs.
    """
    with factory() as session:  # a read first: a clean start writes nothing
        if not inspect(session.connection()).has_table("import_jobs"):
            return []  # a database not migrated yet has no jobs
        if not has_interrupted_work(session):
            return []
    try:
        with writing(factory()) as session:
            ids = fail_interrupted_jobs(session)
            session.commit()
    except SQLAlchemyError:
        # The server still starts, so that /ready can say what is wrong (e.g. a read-only
        # disk); the jobs are failed on a later start.
        log.exception("could not fail the import jobs interrupted by a restart")
        return []
    for job_id in ids:
        log.warning("import job %s was interrupted by a restart: failed, nothing imported", job_id)
    return ids


class HealthOut(ResponseModel):
    """The process answers: ``ok``, and the version it runs."""

    status: str
    version: str


class ReadyOut(ResponseModel):
    """Every readiness check passed: ``ready``."""

    status: str


class NotReadyOut(ResponseModel):
    """Not ready (503): each failing check with its reason, and all of them in one line."""

    status: str
    reason: str
    checks: dict[str, str]


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    return ".".join(parts)


def create_app(
    *,
    settings: Settings | None = None,
    session_factory: sessionmaker[Session] | None = None,
    center: CenterConfig | None = None,
) -> FastAPI:
    """Build the application; tests pass their own session factory and center."""
    settings = settings or load_settings()
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.resolved_database_url()))
    hub = EventHub()
    announce_ticket_changes(session_factory, hub)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        # Import jobs a crash cut short, before anything else starts (the live driver's
        # crash recovery is one of the on_start parts below): dead servers' jobs only.
        if app.state.fails_interrupted_imports:
            await asyncio.to_thread(fail_interrupted_imports, app.state.session_factory)
        for start in app.state.on_start:
            await start(app)
        yield
        # Streams end first (a server run by hotline.web.serving did this when the stop
        # began), then the parts stop: the live driver closes what is still in progress.
        app.state.stopping = True
        hub.close()
        for stop in app.state.on_stop:
            await stop(app)

    app = FastAPI(
        title="Hotline",
        version=__version__,
        description="Hotline contact-center platform API (呼叫中心一站式服务平台).",
        lifespan=lifespan,
        # The schema and its viewers are for signed-in users only: see _add_docs.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.secret = load_secret(settings)
    app.state.center = center
    app.state.hub = hub
    app.state.on_start = []
    app.state.on_stop = []
    app.state.stopping = False
    #: Whether this server fails dead servers' import jobs at its start (every server does).
    app.state.fails_interrupted_imports = True

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [{"field": _field(e["loc"]), "problem": e["msg"]} for e in error.errors()]
        return JSONResponse({"error": "invalid_request", "problems": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        wants_page = "text/html" in request.headers.get("accept", "")
        if error.status_code == 401 and wants_page and not request.url.path.startswith("/api"):
            return RedirectResponse("/login", status_code=303)
        if error.status_code == 403 and wants_page and not request.url.path.startswith("/api"):
            from hotline.web.pages.rendering import forbidden

            return forbidden(request, str(error.detail))
        if isinstance(error.detail, list):
            body: dict[str, Any] = {"error": "invalid_request", "problems": error.detail}
        else:
            body = {"error": _error_name(error.status_code), "message": str(error.detail)}
        return JSONResponse(body, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(VoiceRequestFailed)
    async def _voice_failed(_: Request, error: VoiceRequestFailed) -> JSONResponse:
        # A desk's dial or transfer a voice node could not carry out: the reason's code too,
        # so the desk says it in the user's language.
        return JSONResponse(error.body(), status_code=error.status_code)

    @app.exception_handler(ValidationFailed)
    async def _failed(_: Request, error: ValidationFailed) -> JSONResponse:
        problems = [{"field": p.field, "line": p.line, "problem": p.rule} for p in error.problems]
        return JSONResponse({"error": "invalid_request", "problems": problems}, status_code=422)

    @app.exception_handler(NotFound)
    async def _missing(_: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"error": "not_found", "message": str(error)}, status_code=404)

    @app.exception_handler(WriterQueueTimeout)
    async def _busy(_: Request, error: WriterQueueTimeout) -> JSONResponse:
        # Only a stuck writer or another process holding the database gets here.
        return JSONResponse(
            {"error": "busy", "message": str(error)}, status_code=503, headers={"Retry-After": "5"}
        )

    @app.exception_handler(OperationalError)
    async def _database_unreachable(_: Request, error: OperationalError) -> JSONResponse:
        # No server took the connection, or it died mid-request: a PostgreSQL primary killed
        # and its standby not yet promoted (a few seconds; see "More than one node" in
        # docs/architecture.md). The pool has dropped the dead connections; a retry in a
        # moment reaches the new primary through the multi-host URL. Whether a write that
        # failed at its commit was committed is unknown, so nothing is retried here.
        log.warning("database unreachable: %s", error.orig)
        return JSONResponse(
            {
                "error": "database_unavailable",
                "message": "the database is unreachable or switching to its standby; "
                "try again in a few seconds",
            },
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, error: Conflict) -> JSONResponse:
        return JSONResponse({"error": "conflict", "message": str(error)}, status_code=409)

    @app.get("/health", tags=["platform"])
    def health() -> HealthOut:
        """Liveness: the process answers."""
        return HealthOut(status="ok", version=__version__)

    @app.get(
        "/ready",
        tags=["platform"],
        response_model=ReadyOut,
        responses={503: {"model": NotReadyOut, "description": "A readiness check failed."}},
    )
    def ready() -> ReadyOut | JSONResponse:
        """Readiness: the database takes writes, the disk has room, routing (and voice) run.

        503 with each failing check and its reason when not (``hotline.web.readiness``).
        """
        problems = readiness.check(app)
        if problems:
            reason = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
            return JSONResponse(
                {"status": "not_ready", "reason": reason, "checks": problems}, status_code=503
            )
        return ReadyOut(status="ready")

    _include_routers(app)
    _add_docs(app)
    _limit_bodies(app)
    # Outermost last: headers go on every response, the Origin check's refusals included.
    app.add_middleware(OriginCheck, allowed_origins=settings.allowed_origins)
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    return app


def _inline_script_hashes(html: str) -> str:
    """CSP ``'sha256-…'`` sources for every inline ``<script>`` of a page."""
    bodies = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    digests = (base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in bodies)
    return " ".join(f"'sha256-{d}'" for d in digests)


def _docs_page(page: HTMLResponse) -> HTMLResponse:
    """The API viewer loads its bundle from a CDN and boots with one inline script: allow
    exactly those (by hash), nothing else."""
    html = bytes(page.body).decode()
    cdn = "https://cdn.jsdelivr.net"
    page.headers["content-security-policy"] = (
        f"default-src 'self'; script-src 'self' {cdn} {_inline_script_hashes(html)}; "
        f"style-src 'self' {cdn} 'unsafe-inline'; img-src 'self' data: https:; "
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    return page


def _add_docs(app: FastAPI) -> None:
    """``/openapi.json``, ``/docs`` and ``/redoc`` for any signed-in user (README: "everyone
    signed in"); anonymous callers get 401 (pages: the sign-in page)."""
    signed_in = [Depends(require_roles())]

    @app.get("/openapi.json", include_in_schema=False, dependencies=signed_in)
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=signed_in)
    def swagger_ui() -> HTMLResponse:
        return _docs_page(get_swagger_ui_html(openapi_url="/openapi.json", title="Hotline API"))

    @app.get("/redoc", include_in_schema=False, dependencies=signed_in)
    def redoc() -> HTMLResponse:
        return _docs_page(get_redoc_html(openapi_url="/openapi.json", title="Hotline API"))


def _limit_bodies(app: FastAPI) -> None:
    """Refuse request bodies over each route's limit with 413 (hotline.web.limits)."""
    from hotline.web.limits import BodyLimitMiddleware

    app.add_middleware(BodyLimitMiddleware)


def _error_name(status_code: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "payload_too_large",
        422: "invalid_request",
    }.get(status_code, "error")


def _include_routers(app: FastAPI) -> None:
    # Each capability owns hotline/web/api/<name>.py with a `router`; adding one is one line.
    from hotline.web import pages
    from hotline.web.api import live, platform

    app.include_router(platform.router)
    app.include_router(live.router)
    from hotline.web.api import reports

    app.include_router(reports.router)
    from hotline.web.api import planning, rosters, wfm

    app.include_router(wfm.router)
    app.include_router(rosters.router)
    app.include_router(planning.router)
    from hotline.web.api import customers, kb, tickets

    app.include_router(customers.router)
    app.include_router(tickets.router)
    app.include_router(kb.router)
    from hotline.web.api import notifications, recordings

    app.include_router(recordings.router)
    app.include_router(notifications.router)
    from hotline.web.api import backoffice, provider_portal

    app.include_router(backoffice.router)
    app.include_router(provider_portal.router)
    from hotline.web.api import quality

    app.include_router(quality.router)
    from hotline.web.api import manager

    app.include_router(manager.router)

    from hotline.web.api import people

    app.include_router(people.router)
    from hotline.web.api import campaigns

    app.include_router(campaigns.router)
    from hotline.web.api import mail

    app.include_router(mail.router)
    from hotline.web.api import followup, settlement

    app.include_router(followup.router)
    app.include_router(settlement.router)
    from hotline.web.api import chat

    app.include_router(chat.router)
    from hotline.web.api import surveys

    app.include_router(surveys.router)

    from hotline.web.api import wechat

    app.include_router(wechat.router)
    from hotline.web.api import sms

    app.include_router(sms.router)
    pages.mount(app)


def iter_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Every route of an app as ``(full path, route)``, looking inside included routers.

    FastAPI ≥ 0.16x keeps included routers as single entries instead of copying their
    routes into the app, so a flat ``app.routes`` no longer lists every endpoint.
    """
    found: list[tuple[str, Any]] = []
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            found.extend(iter_routes(original.routes, prefix + getattr(context, "prefix", "")))
        elif hasattr(route, "path"):
            found.append((prefix + route.path, route))
    return found
