"""Supervisor actions on the floor: the contacts waiting, moving one, picking one, and
logging out an agent whose session is stuck.

From the wallboard a supervisor sees who waits where and acts on it: moves a waiting contact
to another queue (it keeps its place: its wait still counts from when it first queued) or
straight to an available agent, picks one for themselves (a supervisor with an agent id of
their own takes the call), and logs out an agent who left without logging out — their
wrap-up is closed and a ringing offer withdrawn first; an agent still on a contact is not
logged out (409). Each action is a routing-engine command through the live driver and is on
the audit record. Supervisors and managers act on every queue and agent; a team lead only on
the agents of their own team(s) (``hotline.identity.scope``) and does not move contacts
between queues, which belong to the whole floor.

On a web node without the engine (``hotline serve --web-only``) the waiting list is drawn from
the log (:meth:`hotline.live.log_board.LogBoard.waiting`), and each action is checked against
the log (409 when it shows the contact no longer waiting, the agent not available, or on a
contact) and goes to the partition's owner through its inbox (:func:`.commands.to_owner`):
a move or a pick as a ``move`` row, a forced logout as the rows that let go of each contact
and then ``agent_logout``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session

from hotline.identity import audit
from hotline.identity.roles import hidden_fields
from hotline.live.log_board import LogBoard
from hotline.live.log_floor import waiting_rows
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentLoggedOut,
    Command,
    ContactMoved,
    OfferRejected,
    WrapUpEnded,
)
from hotline.web.access import mask_personal, require_agent, scope_of
from hotline.web.api.live.commands import apply_command, to_owner
from hotline.web.api.live.guards import SUPERVISION, driver_of, log_board_of
from hotline.web.api.live.schemas import CommandApplied, Number
from hotline.web.api.responses import ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))

#: Who acts on the floor; a team lead only for their own teams' agents.
FLOOR_ACTIONS = ("supervisor", "team_lead", "manager")


class WaitingContact(ResponseModel):
    """One contact waiting in a queue now."""

    contact_id: str
    queue: str
    channel: str
    position: int
    waited_s: Number
    customer: str | None


class WaitingContacts(ResponseModel):
    """Every contact waiting now, queue by queue, each queue in service order."""

    contacts: list[WaitingContact]


def _letting_go(agent_id: str, contact_id: str, stage: str) -> Callable[[float], Command]:
    """The command that frees the agent of one contact: a ringing offer is withdrawn (the
    contact goes back to its place in line), a wrap-up is ended."""
    if stage == "ringing":
        return lambda now: OfferRejected(at=now, contact_id=contact_id, agent_id=agent_id)
    return lambda now: WrapUpEnded(at=now, agent_id=agent_id, contact_id=contact_id)


def _letting_go_row(agent_id: str, contact_id: str, stage: str) -> tuple[str, dict[str, Any]]:
    """:func:`_letting_go` as a partition inbox row (kind, payload), for a web node."""
    if stage == "ringing":
        return "reject", {"contact_id": contact_id, "agent_id": agent_id}
    return "wrap_up_end", {"agent_id": agent_id, "contact_id": contact_id, "disposition": None}


def _queue_ids(request: Request, board: LogBoard | None) -> set[str]:
    """The queues of the center in force: the engine's, or on a web node the center file's."""
    if board is None:
        return {q.id for q in driver_of(request).engine.config.queues}
    return {q.id for q in board.center.queues}


def _waiting_on_log(board: LogBoard, contact_id: str, *, to_agent: str | None) -> None:
    """On a web node: 409 unless the log shows ``contact_id`` waiting and ``to_agent`` (if
    any) available, as the engine would refuse the move on the owner."""
    if not any(row["contact_id"] == contact_id for row in board.waiting(time.time())):
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"{contact_id} is not waiting (the log shows it otherwise)"
        )
    if to_agent is not None and (state := board.agent_state(to_agent)) != "available":
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"agent {to_agent} is not available (the log shows {state})"
        )


def _waiting(engine: RoutingEngine, now: float, attached: dict[str, Any]) -> list[dict[str, Any]]:
    queues = [(queue.id, queue.channel.value) for queue in engine.config.queues]
    return waiting_rows(engine, queues, now, attached)


@router.get("/waiting")
async def waiting_contacts(
    request: Request, user: CurrentUser = Depends(require_roles(*SUPERVISION))
) -> WaitingContacts:
    """The contacts waiting now, queue by queue in service order; callers masked per policy."""
    board = log_board_of(request)
    if board is not None:
        rows = board.waiting(time.time())
    else:
        driver = driver_of(request)

        def job(engine: RoutingEngine, now: float) -> tuple[list[dict[str, Any]], None]:
            return _waiting(engine, now, driver.attached), None

        rows = await driver.run(job)
    return WaitingContacts(contacts=mask_personal(rows, hidden_fields(user.roles)))


class Move(BaseModel):
    """Where a waiting contact goes: another queue, or an (available) agent — one of them."""

    queue: str | None = Field(default=None, min_length=1, max_length=64)
    agent_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _one_target(self) -> Move:
        if (self.queue is None) == (self.agent_id is None):
            raise ValueError("give either a queue or an agent_id")
        return self


@router.post("/contacts/{contact_id}/move")
async def move_contact(
    contact_id: str,
    body: Move,
    request: Request,
    user: CurrentUser = Depends(require_roles(*FLOOR_ACTIONS)),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Move a waiting contact to another queue (keeping its place) or offer it to an agent.

    409 when the contact no longer waits or the agent cannot take it now. A team lead moves
    contacts only to the agents of their own team(s).
    """
    board = log_board_of(request)
    if body.queue is not None:
        if not user.has("supervisor", "manager"):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "only supervisors and managers move contacts"
            )
        if body.queue not in _queue_ids(request, board):
            raise HTTPException(
                422, [{"field": "body.queue", "problem": f"unknown queue {body.queue!r}"}]
            )
    else:
        assert body.agent_id is not None
        require_agent(scope_of(request, user), body.agent_id)
    if board is not None:
        _waiting_on_log(board, contact_id, to_agent=body.agent_id)
        where = {"queue": body.queue} if body.queue is not None else {"agent_id": body.agent_id}
        result = await to_owner(request, session, "move", {"contact_id": contact_id, **where})
    else:
        result = await apply_command(
            driver_of(request),
            lambda now: ContactMoved(
                at=now, contact_id=contact_id, queue=body.queue, agent_id=body.agent_id
            ),
        )
    target = {"queue": body.queue} if body.queue is not None else {"agent_id": body.agent_id}
    audit.record(
        session, actor=user.username, action="contact.move", target=contact_id, detail=target
    )
    return result


@router.post("/contacts/{contact_id}/pick")
async def pick_contact(
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(require_roles(*FLOOR_ACTIONS)),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Take a waiting contact oneself: it is offered to the caller's own agent id at once.

    409 without an agent id of one's own, or when one is not ready with room for it.
    """
    if not user.agent_id:
        raise HTTPException(status.HTTP_409_CONFLICT, "you have no agent id to take calls with")
    agent_id = user.agent_id
    board = log_board_of(request)
    if board is not None:
        _waiting_on_log(board, contact_id, to_agent=agent_id)
        payload = {"contact_id": contact_id, "agent_id": agent_id}
        result = await to_owner(request, session, "move", payload)
    else:
        result = await apply_command(
            driver_of(request),
            lambda now: ContactMoved(at=now, contact_id=contact_id, agent_id=agent_id),
        )
    audit.record(session, actor=user.username, action="contact.pick", target=contact_id)
    return result


@router.post("/agents/{agent_id}/force-logout")
async def force_logout(
    agent_id: str,
    request: Request,
    user: CurrentUser = Depends(require_roles(*FLOOR_ACTIONS)),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Log out an agent whose session is stuck: close their wrap-ups, withdraw a ringing offer,
    log them out. 409 while they are on a contact (talking or consulting): end that first.
    """
    require_agent(scope_of(request, user), agent_id)
    board = log_board_of(request)
    driver = None if board is not None else driver_of(request)
    if driver is not None:
        holding = driver.engine.agent_contacts(agent_id)
    else:
        assert board is not None
        holding = board.holding(agent_id)
    busy = [c for c, stage in holding.items() if stage in ("talking", "consult")]
    if busy:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"agent {agent_id} is on {', '.join(busy)}: end it first"
        )
    events: list[str] = []
    if driver is None:
        # The owner applies the rows in order: each contact let go, then the logout.
        for contact_id, stage in holding.items():
            kind, payload = _letting_go_row(agent_id, contact_id, stage)
            await to_owner(request, session, kind, payload)
        done = await to_owner(request, session, "agent_logout", {"agent_id": agent_id})
    else:
        for contact_id, stage in holding.items():
            done = await apply_command(driver, _letting_go(agent_id, contact_id, stage))
            events += done.events
        done = await apply_command(driver, lambda now: AgentLoggedOut(at=now, agent_id=agent_id))
    audit.record(
        session,
        actor=user.username,
        action="agent.force_logout",
        target=agent_id,
        detail={"closed": sorted(holding)},
    )
    return CommandApplied(ok=True, events=events + done.events, accepted=done.accepted)
