"""An agent's desktop and state: the desk view, ready / not ready / log out.

The agent changes their own state; a supervisor, manager or the lead of the agent's team may
change it too (send them on a break, log out a forgotten session), and that is on the record.
Logging in happens on the first ready or not ready.

On a web node without the engine (``hotline serve --web-only``) a state change goes into the
partition's inbox for its owner instead: the answer says ``accepted`` (the row), and the agent's
new state arrives on the live stream, from the log, once the owner has applied it. The desk
view there is drawn from the log (:class:`hotline.live.log_board.LogBoard`).
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hotline.identity import audit
from hotline.identity.roles import hidden_fields
from hotline.live.driver import LiveDriver
from hotline.routing.model import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    Command,
)
from hotline.store import event_log, partitions
from hotline.web.access import current_center, mask_personal, require_agent, scope_of
from hotline.web.api.live.commands import apply_command
from hotline.web.api.live.guards import (
    DESK,
    STATE_CONTROL,
    SUPERVISION,
    driver_of,
    log_board_of,
    may_set_state,
    own,
    voice_of,
    web_only_partition,
)
from hotline.web.api.live.schemas import AgentDesk, CommandApplied, DeskCoached
from hotline.web.api.responses import errors
from hotline.web.auth import CurrentUser, db_session, require_roles

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))


@router.get("/agents/{agent_id}")
async def agent_desk(
    agent_id: str,
    request: Request,
    user: CurrentUser = Depends(require_roles(*DESK, *SUPERVISION)),
) -> AgentDesk:
    """One agent's desktop: state, reason, contacts in hand, the ringing offer, and the
    supervisor whispering or barging in on their call now (so a reloaded desk shows it).

    Supervision roles see the agents they oversee (a team lead: their own team's); callers'
    personal data is masked for roles the policy keeps it from.
    """
    if user.agent_id != agent_id:
        if not user.has(*SUPERVISION):
            own(user, agent_id)
        require_agent(scope_of(request, user), agent_id)
    board = log_board_of(request)
    if board is not None:
        view = board.agent_view(agent_id, time.time())
    else:
        view = await driver_of(request).agent_view(agent_id)
    desk = AgentDesk.model_validate(mask_personal(view, hidden_fields(user.roles)))
    voice = voice_of(request)  # a web node has no voice server: nobody is coached there
    coaching = voice.supervisions.coaching(agent_id) if voice is not None else None
    if coaching is not None:
        desk.coached = DeskCoached.model_validate(coaching.view())
    return desk


class StateChange(BaseModel):
    """Ready, not ready (with a reason code), or log out."""

    state: Literal["ready", "not_ready", "logout"]
    reason: str | None = Field(default=None, max_length=64)


STATE_GUARD = require_roles(*STATE_CONTROL)


def _state_control(
    request: Request, agent_id: str, user: CurrentUser = Depends(STATE_GUARD)
) -> None:
    """Who may change this agent's state, checked at the door (before the body is read)."""
    may_set_state(request, user, agent_id)


@router.post("/agents/{agent_id}/state", dependencies=[Depends(_state_control)])
async def set_state(
    agent_id: str,
    body: StateChange,
    request: Request,
    user: CurrentUser = Depends(STATE_GUARD),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Change an agent's state; logging in happens on the first ready or not ready.

    The agent themselves, a supervisor or manager, or the lead of the agent's team.
    """
    partition = web_only_partition(request)
    center = driver_of(request).center if partition is None else current_center(request)
    if center is None:
        raise HTTPException(503, "this node has no center configuration")
    if agent_id not in {a.id for a in center.agents}:
        raise HTTPException(404, f"agent {agent_id} is not in the center configuration")
    if body.state == "not_ready":
        codes = {r.id for r in center.reason_codes}
        if body.reason not in codes:
            raise HTTPException(
                422, [{"field": "body.reason", "problem": f"choose a reason code: {sorted(codes)}"}]
            )
    reason = body.reason
    if partition is not None:
        row = await run_in_threadpool(
            to_inbox,
            session,
            partition=partition,
            agent_id=agent_id,
            state=body.state,
            reason=reason,
        )
        result = CommandApplied(ok=True, events=[], accepted=row)
    else:
        result = await _apply(driver_of(request), agent_id, body.state, reason)
    if user.agent_id != agent_id:
        # A supervisor's or team lead's action on someone else's agent: on the record, in
        # the request's own writer transaction (the signed-in user's session holds the
        # SQLite write gate until the handler ends: a second session would wait for it).
        audit.record(
            session,
            actor=user.username,
            action="agent.state",
            target=agent_id,
            detail={"state": body.state, "reason": reason},
        )
    return result


def to_inbox(
    session: Session, *, partition: str, agent_id: str, state: str, reason: str | None
) -> int:
    """Put a state change in the partition's inbox for its owner (a web node without the
    engine); return the row's id. Whether it signs the agent in is read from the log."""
    payload: dict[str, Any] = {"agent_id": agent_id}
    if state == "logout":
        kind = "agent_logout"
    elif event_log.latest_agent_state(session, agent_id) in (None, "logged_out"):
        ready = state == "ready"
        kind = "agent_login"
        payload.update(ready=ready, reason=None if ready else reason)
    elif state == "ready":
        kind = "agent_ready"
    else:
        kind = "agent_not_ready"
        payload.update(reason=reason)
    return partitions.accept(
        session, partition=partition, kind=kind, payload=payload, at=time.time()
    )


async def _apply(
    driver: LiveDriver, agent_id: str, state: str, reason: str | None
) -> CommandApplied:
    """Apply a state change to the in-process engine (logging in on the first ready)."""
    logged_out = driver.engine.agent_state(agent_id).value == "logged_out"

    def command(now: float) -> Command:
        if state == "logout":
            return AgentLoggedOut(at=now, agent_id=agent_id)
        if logged_out:
            ready = state == "ready"
            return AgentLoggedIn(
                at=now, agent_id=agent_id, ready=ready, reason=None if ready else reason
            )
        if state == "ready":
            return AgentReady(at=now, agent_id=agent_id)
        assert reason is not None
        return AgentNotReady(at=now, agent_id=agent_id, reason=reason)

    return await apply_command(driver, command)
