"""Platform API: sign-in, users and roles, the audit log, the center configuration, live events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, WebSocket, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from hotline.config.validate import check_text
from hotline.identity import audit
from hotline.identity import service as identity
from hotline.identity.roles import ALL_ROLES, allowed
from hotline.identity.tokens import TokenClaims, issue_token
from hotline.store.db import writing
from hotline.web.auth import (
    COOKIE,
    CurrentUser,
    claims_from,
    db_session,
    read_session,
    require_roles,
)

router = APIRouter(prefix="/api", tags=["platform"])

MANAGERS = ("admin", "manager")
SUPERVISION = ("supervisor", "team_lead", "manager", "wfm", "qa")


class LoginRequest(BaseModel):
    """Credentials for signing in."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    """A bearer token and who it belongs to."""

    token: str
    username: str
    roles: list[str]
    expires_at: float


@router.post("/auth/login", response_model=LoginResponse)
def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    session: Session = Depends(read_session, scope="function"),
) -> LoginResponse:
    """Sign in with username and password; returns a token and sets a session cookie."""
    user = identity.authenticate(session, username=body.username, password=body.password)
    # The password hash is slow on purpose: check it in a read transaction, and queue as a
    # writer only for the audit entry, a short transaction of its own, so sign-ins never make
    # the other writers wait out a hash.
    session.commit()
    writing(session)
    if user is None:
        audit.record(session, actor=body.username, action="auth.failed")
        session.commit()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    expires_at = time.time() + request.app.state.settings.token_ttl_s
    claims = TokenClaims(username=user.username, roles=tuple(user.roles), expires_at=expires_at)
    token = issue_token(claims, secret=request.app.state.secret)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=request.app.state.settings.token_ttl_s,
    )
    audit.record(session, actor=user.username, action="auth.login")
    session.commit()
    return LoginResponse(
        token=token, username=user.username, roles=list(user.roles), expires_at=expires_at
    )


@router.get("/me")
def me(user: CurrentUser = Depends(require_roles())) -> dict[str, Any]:
    """Who am I: username, roles, agent id and language."""
    return {
        "username": user.username,
        "roles": list(user.roles),
        "agent_id": user.agent_id,
        "language": user.language,
    }


class UserCreate(BaseModel):
    """A new user account."""

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=8, max_length=256)
    roles: list[str] = Field(min_length=1)
    display_name: str = ""
    agent_id: str | None = None
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en)$")


class UserOut(BaseModel):
    """A user as shown to administrators (never the password hash)."""

    username: str
    display_name: str
    roles: list[str]
    agent_id: str | None
    language: str
    active: bool


@router.get("/users", response_model=list[UserOut])
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


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    body: UserCreate,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> UserOut:
    """Create a user account (admin only); the change is audited."""
    bad = [r for r in body.roles if r not in ALL_ROLES]
    if bad:
        raise HTTPException(422, [{"field": "roles", "problem": f"unknown role {bad[0]!r}"}])
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

    password: str = Field(min_length=8, max_length=256)


def _user_out(u: Any) -> UserOut:
    return UserOut(
        username=u.username,
        display_name=u.display_name,
        roles=list(u.roles),
        agent_id=u.agent_id,
        language=u.language,
        active=u.active,
    )


@router.patch("/users/{username}", response_model=UserOut)
def change_user(
    username: str,
    body: UserChange,
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
        identity.set_roles(session, username=username, roles=body.roles, actor=user.username)
    if body.active is not None and account.active != body.active:
        identity.set_active(session, username=username, active=body.active, actor=user.username)
    return _user_out(account)


@router.post("/users/{username}/password", status_code=204)
def reset_password(
    username: str,
    body: PasswordReset,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> Response:
    """Set a new password for a user (admin only); audited, the password never logged."""
    identity.set_password(session, username=username, password=body.password, actor=user.username)
    return Response(status_code=204)


@router.get("/audit")
def audit_log(
    limit: int = 100,
    _: CurrentUser = Depends(require_roles(*MANAGERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[dict[str, Any]]:
    """The newest audit entries: who did what, when."""
    return [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "detail": e.detail,
        }
        for e in audit.newest(session, limit=min(max(limit, 1), 1000))
    ]


@router.get("/config/center")
def center_config(
    request: Request, _: CurrentUser = Depends(require_roles(*SUPERVISION))
) -> dict[str, Any]:
    """The center configuration the platform is running with."""
    center = request.app.state.center
    if center is None:
        raise HTTPException(404, "no center configuration loaded")
    data: dict[str, Any] = center.model_dump(mode="json")
    return data


class ConfigText(BaseModel):
    """A center configuration as YAML text, for checking before it takes effect."""

    text: str = Field(max_length=2_000_000)


@router.post("/config/validate")
def validate_config(
    body: ConfigText,
    _: CurrentUser = Depends(require_roles("admin", "manager", "supervisor", "wfm")),
) -> dict[str, Any]:
    """Check a configuration with the same rules as ``hotline config validate``."""
    result = check_text(body.text, file="<request>")
    return {
        "ok": result.ok,
        "errors": [{"line": p.line, "field": p.field, "problem": p.rule} for p in result.errors],
        "warnings": [
            {"line": p.line, "field": p.field, "problem": p.rule} for p in result.warnings
        ],
    }


def feed_filter(
    roles: tuple[str, ...] | list[str], agent_id: str | None
) -> Callable[[dict[str, Any]], bool]:
    """Which live messages a screen may receive.

    Supervision roles see everything (the wallboard). An agent sees only what concerns their
    own agent id — their offers, state changes and contacts — never other agents' callers.
    """
    if allowed(tuple(roles), SUPERVISION):
        return lambda message: True
    return lambda message: agent_id is not None and message.get("agent_id") == agent_id


@router.get("/events/stream")
async def event_stream(
    request: Request, user: CurrentUser = Depends(require_roles(*SUPERVISION, "agent"))
) -> StreamingResponse:
    """Live events as Server-Sent Events (``text/event-stream``)."""
    hub = request.app.state.hub
    shown = feed_filter(user.roles, user.agent_id)

    async def messages() -> AsyncIterator[str]:
        yield ": connected\n\n"
        async for message in hub.subscribe():
            if await request.is_disconnected():
                break
            if shown(message):
                yield f"data: {json.dumps(message, ensure_ascii=False)}\n\n"

    return StreamingResponse(messages(), media_type="text/event-stream")


@router.websocket("/events/ws")
async def event_socket(websocket: WebSocket) -> None:
    """Live events over a WebSocket; sign in with the session cookie or ``?token=``."""
    claims = claims_from(websocket)
    if claims is None:
        await websocket.close(code=4403)
        return
    # A token outlives a deactivation; the account itself is what decides (as current_user).
    with websocket.app.state.session_factory() as session:
        account = identity.get_user(session, username=claims.username)
        if account is None or not account.active:
            await websocket.close(code=4403)
            return
        agent_id = account.agent_id
        roles = tuple(account.roles)
    if not allowed(roles, (*SUPERVISION, "agent")):
        await websocket.close(code=4403)
        return
    shown = feed_filter(roles, agent_id)
    await websocket.accept()
    hub = websocket.app.state.hub
    try:
        async for message in hub.subscribe():
            if shown(message):
                await websocket.send_json(message)
    except (WebSocketDisconnect, asyncio.CancelledError):
        return
