"""Platform API: sign-in, users and roles, the audit log, the center configuration, live events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import (
    APIRouter,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
    WebSocket,
    status,
)
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect

from hotline.config.center import CenterConfig
from hotline.config.validate import check_text
from hotline.core.errors import ValidationFailed
from hotline.core.events import Event
from hotline.identity import audit, sessions, throttle
from hotline.identity import service as identity
from hotline.identity.passwords import (
    MIN_LENGTH,
    check_password,
    hash_password,
    verify_password,
)
from hotline.identity.roles import ALL_ROLES, allowed
from hotline.identity.scope import team_lead_problem
from hotline.identity.tokens import STREAM, TokenClaims, issue_token
from hotline.store import event_log
from hotline.store.db import reading, writing, writing_async
from hotline.web import resume
from hotline.web.access import Feed, current_center, live_feed
from hotline.web.api.responses import ErrorOut, InvalidRequestOut, ResponseModel, errors
from hotline.web.auth import (
    COOKIE,
    CurrentUser,
    claims_from,
    db_session,
    read_session,
    require_roles,
    require_stream_roles,
    stream_ticket_book,
    user_for,
)
from hotline.web.proxies import client_address

router = APIRouter(prefix="/api", tags=["platform"])

MANAGERS = ("admin", "manager")
SUPERVISION = ("supervisor", "team_lead", "manager", "wfm", "qa")


class MeOut(ResponseModel):
    """The signed-in user: username, roles, the agent they are (if any) and their language."""

    username: str
    roles: list[str]
    agent_id: str | None
    language: str


class AuditEntryOut(ResponseModel):
    """One audit entry: when (ISO 8601), who, what, on which record, and the details."""

    at: str
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class ConfigProblemOut(ResponseModel):
    """A problem in a configuration: its line (when known), field and the rule it breaks."""

    line: int | None
    field: str | None
    problem: str


class ConfigCheckOut(ResponseModel):
    """Whether a configuration is valid: its errors (any makes it invalid) and warnings."""

    ok: bool
    errors: list[ConfigProblemOut]
    warnings: list[ConfigProblemOut]


class LoginRequest(BaseModel):
    """Credentials for signing in."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(ResponseModel):
    """A bearer token and who it belongs to."""

    token: str
    username: str
    roles: list[str]
    expires_at: float


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Set the HttpOnly, SameSite=Strict session cookie (Secure when the deployment says so)."""
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
        max_age=settings.token_ttl_s,
    )


def _refuse_while_locked(session: Session, *, keys: list[str], actor: str, address: str) -> None:
    """Answer 429 with ``Retry-After`` (audited) while any of ``keys`` is locked out."""
    now = time.time()
    locked_until = sessions.refused_until(session, keys=keys, now=now)
    if not locked_until:
        return
    retry_after = max(1, math.ceil(locked_until - now))
    session.commit()  # end the read; the audit entry is a short write of its own
    writing(session)
    audit.record(
        session,
        actor=actor,
        action="auth.throttled",
        detail={"address": address, "retry_after_s": retry_after},
    )
    session.commit()
    raise HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many wrong passwords; try again in {retry_after} s",
        {"Retry-After": str(retry_after)},
    )


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    responses={
        401: {"model": ErrorOut, "description": "Wrong username or password."},
        422: {"model": InvalidRequestOut, "description": "The request breaks a rule."},
        429: {
            "model": ErrorOut,
            "description": "Too many wrong passwords; retry after Retry-After seconds.",
        },
    },
)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: Session = Depends(read_session, scope="function"),
) -> LoginResponse:
    """Sign in with username and password; returns a token and sets a session cookie.

    After 5 wrong passwords in a row for an account (20 from one address) further attempts are
    refused with 429 and ``Retry-After`` for 30 s, doubling up to 15 min; the counters are kept
    in the database, so a restart does not reset them. Every outcome is audited.
    """
    address = client_address(request)
    keys = [throttle.account_key(body.username), throttle.address_key(address)]
    _refuse_while_locked(session, keys=keys, actor=body.username, address=address)
    # End the read transaction before the slow password hash: on SQLite (WAL), a transaction
    # that read, waited out the hash, and then writes fails with "database is locked" if
    # another writer (the live event log) committed meanwhile.
    session.commit()
    user = identity.authenticate(session, username=body.username, password=body.password)
    session.commit()
    writing(session)  # the counters and the session row: a short write transaction of its own
    now = time.time()
    if user is None:
        lockouts = [
            sessions.record_failure(session, key=keys[0], policy=throttle.ACCOUNT, now=now),
            sessions.record_failure(session, key=keys[1], policy=throttle.ADDRESS, now=now),
        ]
        audit.record(
            session, actor=body.username, action="auth.failed", detail={"address": address}
        )
        if any(lockouts):
            audit.record(
                session,
                actor=body.username,
                action="auth.locked",
                detail={"address": address, "lockout_s": max(lockouts)},
            )
        session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    sessions.clear_failures(session, key=keys[0])
    ttl_s = request.app.state.settings.token_ttl_s
    opened = sessions.start_session(
        session, username=user.username, now=now, ttl_s=ttl_s, address=address
    )
    claims = TokenClaims(
        username=user.username,
        roles=tuple(user.roles),
        expires_at=opened.expires_at,
        session_id=opened.id,
    )
    token = issue_token(claims, secret=request.app.state.secret)
    set_session_cookie(request, response, token)
    audit.record(session, actor=user.username, action="auth.login", detail={"address": address})
    session.commit()  # leave the writer queue now, not when the dependency closes
    return LoginResponse(
        token=token, username=user.username, roles=list(user.roles), expires_at=opened.expires_at
    )


@router.post("/auth/logout", status_code=204, responses=errors())
def logout(
    request: Request,
    user: CurrentUser = Depends(require_roles()),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """Sign out: revoke this session's token at once, and clear the cookie."""
    sessions.revoke_session(session, session_id=user.session_id, reason="logout", now=time.time())
    audit.record(session, actor=user.username, action="auth.logout")
    response = Response(status_code=204)
    response.delete_cookie(COOKIE)
    return response


class PasswordChange(BaseModel):
    """A signed-in user's new password, with the current one as proof."""

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=MIN_LENGTH, max_length=256)


@router.post(
    "/auth/password",
    status_code=204,
    responses={
        **errors(422),
        429: {"model": ErrorOut, "description": "Too many wrong passwords; retry later."},
    },
)
def change_own_password(
    body: PasswordChange,
    request: Request,
    user: CurrentUser = Depends(require_roles()),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """Change your own password; your other sessions end, this one stays signed in.

    A wrong current password counts against the account like a wrong sign-in (a stolen
    session must not become a way to guess the password without throttling).
    """
    key = throttle.account_key(user.username)
    _refuse_while_locked(session, keys=[key], actor=user.username, address=client_address(request))
    account = identity.get_user(session, username=user.username)
    session.commit()
    if account is None or not verify_password(account.password_hash, body.current_password):
        writing(session)
        sessions.record_failure(session, key=key, policy=throttle.ACCOUNT, now=time.time())
        audit.record(
            session,
            actor=user.username,
            action="auth.failed",
            detail={"address": client_address(request), "via": "password change"},
        )
        session.commit()
        raise HTTPException(
            422, [{"field": "body.current_password", "problem": "is not your current password"}]
        )
    # Hashed before this request queues as a writer again, not inside its turn.
    new_hash = _checked_hash(body.new_password, username=user.username, field="body.new_password")
    writing(session)
    identity.set_password_hash(
        session,
        username=user.username,
        password_hash=new_hash,
        actor=user.username,
        keep_session=user.session_id,
    )
    return Response(status_code=204)


class StreamTicket(ResponseModel):
    """A one-minute ticket for opening one live-event stream, once (``?ticket=``)."""

    ticket: str
    expires_at: float


STREAM_TICKET_S = 60.0


@router.post("/auth/stream-ticket", response_model=StreamTicket, responses=errors())
def stream_ticket(
    request: Request,
    user: CurrentUser = Depends(require_roles(*SUPERVISION, "agent")),
    session: Session = Depends(db_session, scope="function"),
) -> StreamTicket:
    """A short-lived ticket for ``/api/events/ws`` or ``/api/events/stream``.

    Only these streams accept a credential in the URL, and only this kind: it lasts 60 s,
    opens one stream once (a reconnect asks for a new one), is good for nothing else, and
    dies with the session it was issued from.
    """
    now = time.time()
    expires_at = now + STREAM_TICKET_S
    claims = TokenClaims(
        username=user.username,
        roles=user.roles,
        expires_at=expires_at,
        session_id=user.session_id,
        purpose=STREAM,
        ticket_id=secrets.token_urlsafe(16),
    )
    stream_ticket_book(request.app).issue(session, claims.ticket_id, expires_at=expires_at, now=now)
    return StreamTicket(
        ticket=issue_token(claims, secret=request.app.state.secret), expires_at=expires_at
    )


@router.get("/me", responses=errors())
def me(user: CurrentUser = Depends(require_roles())) -> MeOut:
    """Who am I: username, roles, agent id and language."""
    return MeOut(
        username=user.username,
        roles=list(user.roles),
        agent_id=user.agent_id,
        language=user.language,
    )


class UserCreate(BaseModel):
    """A new user account."""

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=MIN_LENGTH, max_length=256)
    roles: list[str] = Field(min_length=1)
    display_name: str = ""
    agent_id: str | None = None
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")


class UserOut(ResponseModel):
    """A user as shown to administrators (never the password hash)."""

    username: str
    display_name: str
    roles: list[str]
    agent_id: str | None
    language: str
    active: bool


@router.get("/users", response_model=list[UserOut], responses=errors())
def list_users(
    _: CurrentUser = Depends(require_roles(*MANAGERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[UserOut]:
    """List user accounts."""
    from sqlalchemy import select

    from hotline.store.models.core import User

    users = session.scalars(select(User).order_by(User.username))
    return [
        UserOut(
            username=u.username,
            display_name=u.display_name,
            roles=list(u.roles),
            agent_id=u.agent_id,
            language=u.language,
            active=u.active,
        )
        for u in users
    ]


def _check_team_lead(request: Request, roles: list[str], agent_id: str | None) -> None:
    """422 when a team-lead account would lead no team of the center configuration."""
    center = current_center(request)
    if center is None:
        return
    problem = team_lead_problem(
        roles, agent_id, teams={team.id: team.lead for team in center.teams}
    )
    if problem is not None:
        raise HTTPException(422, [{"field": "agent_id", "problem": problem}])


@router.post("/users", response_model=UserOut, status_code=201, responses=errors(409, 422))
def create_user(
    body: UserCreate,
    request: Request,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> UserOut:
    """Create a user account (admin only); the change is audited.

    A team lead's ``agent_id`` must be the lead of a team in the center configuration
    (``teams[].lead``): that is how they see their own team's agents.
    """
    bad = [r for r in body.roles if r not in ALL_ROLES]
    if bad:
        raise HTTPException(422, [{"field": "roles", "problem": f"unknown role {bad[0]!r}"}])
    _check_team_lead(request, body.roles, body.agent_id)
    created = identity.create_user(
        session,
        username=body.username,
        password=body.password,
        roles=body.roles,
        display_name=body.display_name,
        agent_id=body.agent_id,
        language=body.language,
        actor=user.username,
    )
    return UserOut(
        username=created.username,
        display_name=created.display_name,
        roles=list(created.roles),
        agent_id=created.agent_id,
        language=created.language,
        active=created.active,
    )


class UserChange(BaseModel):
    """A change to an existing account: its roles, or whether it may sign in."""

    roles: list[str] | None = Field(default=None, min_length=1)
    active: bool | None = None


class PasswordReset(BaseModel):
    """A new password chosen by an administrator."""

    password: str = Field(min_length=MIN_LENGTH, max_length=256)


def _user_out(u: Any) -> UserOut:
    return UserOut(
        username=u.username,
        display_name=u.display_name,
        roles=list(u.roles),
        agent_id=u.agent_id,
        language=u.language,
        active=u.active,
    )


@router.patch("/users/{username}", response_model=UserOut, responses=errors(404, 409, 422))
def change_user(
    username: str,
    body: UserChange,
    request: Request,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> UserOut:
    """Change a user's roles or deactivate/reactivate them (admin only); audited.

    An administrator can neither take the admin role away from themselves nor deactivate
    themselves (409): the center must never be left without someone who can undo it.
    """
    if body.roles is None and body.active is None:
        raise HTTPException(422, [{"field": "body", "problem": "nothing to change"}])
    if body.roles is not None:
        bad = [r for r in body.roles if r not in ALL_ROLES]
        if bad:
            raise HTTPException(422, [{"field": "roles", "problem": f"unknown role {bad[0]!r}"}])
        if username == user.username and "admin" not in body.roles:
            raise HTTPException(409, "you cannot remove your own admin role")
    if body.active is False and username == user.username:
        raise HTTPException(409, "you cannot deactivate yourself")
    account = identity.get_user(session, username=username)
    if account is None:
        raise HTTPException(404, f"no user {username!r}")
    if body.roles is not None and list(account.roles) != body.roles:
        _check_team_lead(request, body.roles, account.agent_id)
        identity.set_roles(session, username=username, roles=body.roles, actor=user.username)
    if body.active is not None and account.active != body.active:
        identity.set_active(session, username=username, active=body.active, actor=user.username)
    return _user_out(account)


def _checked_hash(password: str, *, username: str, field: str) -> str:
    """``password`` checked against the policy (problems located at ``field``), hashed."""
    try:
        check_password(password, username=username)
    except ValidationFailed as refused:
        raise ValidationFailed([replace(p, field=field) for p in refused.problems]) from None
    return hash_password(password)


@router.post("/users/{username}/password", status_code=204, responses=errors(404, 422))
def reset_password(
    username: str,
    body: PasswordReset,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """Set a new password for a user (admin only); their sessions end; audited, the password
    never logged."""
    # The sign-in check took this request's turn at the database; end it while Argon2 works
    # (a fifth of a second every other writer would otherwise wait), then queue again.
    session.commit()
    password_hash = _checked_hash(body.password, username=username, field="body.password")
    writing(session)
    identity.set_password_hash(
        session, username=username, password_hash=password_hash, actor=user.username
    )
    return Response(status_code=204)


@router.get("/audit", responses=errors(422))
def audit_log(
    limit: int = 100,
    _: CurrentUser = Depends(require_roles(*MANAGERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[AuditEntryOut]:
    """The newest audit entries: who did what, when."""
    return [
        AuditEntryOut(
            at=e.at.isoformat(), actor=e.actor, action=e.action, target=e.target, detail=e.detail
        )
        for e in audit.newest(session, limit=min(max(limit, 1), 1000))
    ]


@router.get("/config/center", responses=errors(404))
def center_config(
    request: Request, _: CurrentUser = Depends(require_roles(*SUPERVISION))
) -> CenterConfig:
    """The center configuration the platform is running with."""
    center: CenterConfig | None = request.app.state.center
    if center is None:
        raise HTTPException(404, "no center configuration loaded")
    return center


class ConfigText(BaseModel):
    """A center configuration as YAML text, for checking before it takes effect."""

    text: str = Field(max_length=2_000_000)


@router.post("/config/validate", responses=errors(422))
def validate_config(
    body: ConfigText,
    _: CurrentUser = Depends(require_roles("admin", "manager", "supervisor", "wfm")),
) -> ConfigCheckOut:
    """Check a configuration with the same rules as ``hotline config validate``."""
    result = check_text(body.text, file="<request>")
    return ConfigCheckOut(
        ok=result.ok,
        errors=[
            ConfigProblemOut(line=p.line, field=p.field, problem=p.rule) for p in result.errors
        ],
        warnings=[
            ConfigProblemOut(line=p.line, field=p.field, problem=p.rule) for p in result.warnings
        ],
    )


def feed_filter(
    request: Request | WebSocket, roles: tuple[str, ...] | list[str], agent_id: str | None
) -> Feed:
    """What one screen receives of each live message (:func:`hotline.web.access.live_feed`).

    Supervisors, managers, WFM and QA see every agent; a team lead their own teams' agents
    and the queues; an agent only what concerns their own agent id — their offers, state
    changes and contacts — never other agents' callers. Personal data is masked for roles
    the policy keeps it from (WFM never sees a caller's number).
    """
    return live_feed(current_center(request), roles, agent_id)


#: ``?after=N``: the last event position the screen saw (its ``seq``); the stream sends the
#: logged events after it first (see :mod:`hotline.web.resume`).
AFTER = Query(
    None,
    ge=0,
    description="Resume after this event position (the ``seq`` of the last event seen): "
    "the logged events after it come first, then the live ones, none twice.",
)


#: ``?run=R``: the server run the position came from (each message's ``run``).
RUN = Query(
    None,
    max_length=64,
    pattern=r"^[0-9a-zA-Z_-]+$",
    description="The ``run`` of the message the position came from: a position another run "
    "of the server published but never wrote gets a reload.",
)


def live_messages(
    connection: Request | WebSocket, feed: Feed, after: int | None, seen_run: str | None = None
) -> AsyncGenerator[tuple[int | None, dict[str, Any]], None]:
    """One screen's messages, resumed from ``after`` (seen from run ``seen_run``), cut by
    its ``feed``, each with the stream's position (stamped into the message as
    ``position``) and, with the engine in process, the driver's run (``run``)."""
    app = connection.app
    factory = app.state.session_factory
    live = getattr(app.state, "live", None)
    # With the engine in process its driver numbers events before it writes them; a web
    # node sends only what the log committed (no run).
    run = resume.Run(live.run_id, live.persistence.first_seq) if live is not None else None
    stamp = {"run": run.id} if run is not None else {}

    async def read_log(position: int, limit: int) -> tuple[list[Event], int]:
        def read() -> tuple[list[Event], int]:
            with reading(factory(), purpose="resume a live stream") as session:
                events = event_log.events_after(session, after=position, limit=limit)
                return events, max(event_log.last_seq(session), events[-1].seq if events else 0)

        return await run_in_threadpool(read)

    async def write_pending() -> None:
        if live is not None:  # the in-process driver's events published but not yet written
            await live.flush()

    center = current_center(connection)
    timezone = ZoneInfo(center.center.timezone) if center is not None else UTC
    midnight = datetime.now(timezone).replace(hour=0, minute=0, second=0, microsecond=0)

    async def messages() -> AsyncGenerator[tuple[int | None, dict[str, Any]], None]:
        async with contextlib.aclosing(
            resume.resumed(
                app.state.hub,
                after=after,
                read_log=read_log,
                day_start=midnight.timestamp(),
                before_read=write_pending,
                seen_run=seen_run,
                run=run,
            )
        ) as stream:
            async for position, message in stream:
                shown = message if message.get("type") == "reload" else feed(message)
                if shown is None:
                    continue
                if position is not None:
                    shown = {**shown, "position": position, **stamp}
                yield position, shown

    return messages()


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={
        **errors(422),
        200: {
            "description": "Server-Sent Events: each ``data:`` line one live message (JSON), "
            "its ``id:`` the event position to resume from (``Last-Event-ID``).",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
)
async def event_stream(
    request: Request,
    user: CurrentUser = Depends(require_stream_roles(*SUPERVISION, "agent")),
    after: int | None = AFTER,
    run: str | None = RUN,
    last_event_id: str | None = Header(
        None,
        description="Sent by a browser's EventSource when it reconnects: the last ``id:`` "
        "it received (takes the place of ``after``).",
    ),
) -> StreamingResponse:
    """Live events as Server-Sent Events (``text/event-stream``); header, cookie or ``?ticket=``."""
    if last_event_id:
        if not last_event_id.isdigit():
            problem = f"{last_event_id!r}: an event position is a whole number"
            raise HTTPException(422, [{"field": "header.last-event-id", "problem": problem}])
        after = int(last_event_id)
    stream = live_messages(request, feed_filter(request, user.roles, user.agent_id), after, run)

    async def lines() -> AsyncIterator[str]:
        yield ": connected\n\n"
        async with contextlib.aclosing(stream):
            async for position, message in stream:
                if await request.is_disconnected():
                    break
                if position is not None:
                    yield f"id: {position}\n"
                yield f"data: {json.dumps(message, ensure_ascii=False)}\n\n"
                if message.get("type") == "reload":
                    break

    return StreamingResponse(lines(), media_type="text/event-stream")


@router.websocket("/events/ws")
async def event_socket(
    websocket: WebSocket, after: int | None = AFTER, run: str | None = RUN
) -> None:
    """Live events over a WebSocket; sign in with the session cookie, a bearer header or a
    stream ticket (``?ticket=``, from ``POST /api/auth/stream-ticket``); ``?after=N``
    resumes after the event position ``N`` (``&run=R``: the run it came from)."""
    # The session and the account decide, as for every other route (revoked, deactivated);
    # a ticket is crossed off in the database, so it queues as a writer.
    session = websocket.app.state.session_factory()
    try:
        await writing_async(session)

        def sign_in() -> CurrentUser | None:
            claims = claims_from(websocket, tickets=True, session=session)
            return user_for(session, claims)

        account = await run_in_threadpool(sign_in)
        await run_in_threadpool(session.commit)
    finally:
        await run_in_threadpool(session.close)
    if account is None:
        await websocket.close(code=4403)
        return
    agent_id = account.agent_id
    roles = account.roles
    if not allowed(roles, (*SUPERVISION, "agent")):
        await websocket.close(code=4403)
        return
    feed = feed_filter(websocket, roles, agent_id)
    await websocket.accept()
    stream = live_messages(websocket, feed, after, run)
    try:
        async with contextlib.aclosing(stream):
            async for _, message in stream:
                await websocket.send_json(message)
                if message.get("type") == "reload":
                    await websocket.close(code=4409)
                    return
    except (WebSocketDisconnect, asyncio.CancelledError):
        return
