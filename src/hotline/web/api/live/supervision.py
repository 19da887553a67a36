"""Supervision: the wallboard, queuing a contact by hand, the emergency announcement, crisis
mode.

The wallboard shows queues and agents now with today's and this interval's figures; a team
lead's board lists the agents of their own team(s) (the queues stay whole). The live streams
of the same data (``/api/events/stream``, ``/api/events/ws``) live with the platform routes.
On a web node without the engine the board is drawn from the event log
(:class:`hotline.live.log_board.LogBoard`); a contact queued by hand and the crisis switch
go to the partition's owner through its inbox, and crisis mode is shown as the log's last
``crisis`` event has it.
"""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from hotline.core.events import Channel
from hotline.core.ids import new_id
from hotline.identity import audit
from hotline.identity.roles import hidden_fields
from hotline.live.log_board import LogBoard
from hotline.routing.model import RoutingConflict
from hotline.web.access import mask_personal, scope_of, scoped_board
from hotline.web.api.live.commands import to_owner
from hotline.web.api.live.guards import SUPERVISION, driver_of, log_board_of, voice_of
from hotline.web.api.live.schemas import (
    CrisisView,
    EmergencySetting,
    PlacedContact,
    WallboardView,
)
from hotline.web.api.responses import errors
from hotline.web.auth import CurrentUser, db_session, require_roles

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))


@router.get("/wallboard")
async def wallboard(
    request: Request, user: CurrentUser = Depends(require_roles(*SUPERVISION))
) -> WallboardView:
    """Queues and agents now; today's and this interval's figures with their variant.

    A team lead's board lists the agents of their own team(s); the queues stay whole.
    """
    web_node = log_board_of(request)
    if web_node is not None:
        board = web_node.snapshot(time.time())
    else:
        board = await driver_of(request).snapshot()
    shown = mask_personal(scoped_board(board, scope_of(request, user)), hidden_fields(user.roles))
    return WallboardView.model_validate(shown)


class Emergency(BaseModel):
    """The emergency announcement: a prompt id played to every new caller, or none (off)."""

    prompt: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[\w-]+$")


@router.put("/voice/emergency")
async def set_emergency(
    body: Emergency,
    request: Request,
    user: CurrentUser = Depends(require_roles("supervisor", "manager", "admin")),
    session: Session = Depends(db_session, scope="function"),
) -> EmergencySetting:
    """Switch the emergency announcement on (a prompt id) or off (``null``) for new calls.

    Until the next saved configuration or restart; the audit log keeps who switched it.
    """
    center = voice_of(request)
    if center is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this server takes no phone calls")
    if body.prompt is not None and not center.has_prompt(body.prompt):
        raise HTTPException(
            422, [{"field": "body.prompt", "problem": f"no audio for prompt {body.prompt!r}"}]
        )
    center.emergency_prompt = body.prompt
    audit.record(
        session, actor=user.username, action="voice.emergency", target=body.prompt or "off"
    )
    return EmergencySetting(emergency_prompt=body.prompt)


#: Who sees whether crisis mode is on: everyone on the floor (the desks show its banner).
CRISIS_READERS = (*SUPERVISION, "agent")
#: Who switches crisis mode, as the emergency announcement.
CRISIS_SWITCHERS = ("supervisor", "manager", "admin")


class CrisisSwitch(BaseModel):
    """Crisis mode on or off, and why: the reason is on the audit record and the banners."""

    on: bool
    reason: str = Field(min_length=1, max_length=200)

    @field_validator("reason")
    @classmethod
    def _said(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("give the reason for switching crisis mode")
        return reason.strip()


@router.get("/crisis")
async def crisis_mode(
    request: Request, _: CurrentUser = Depends(require_roles(*CRISIS_READERS))
) -> CrisisView:
    """Whether crisis mode is on now, since when, who switched it and why."""
    board = log_board_of(request)
    view = board.crisis_view() if board is not None else driver_of(request).crisis.view()
    return CrisisView.model_validate(view)


@router.put("/crisis", responses=errors(409))
async def switch_crisis(
    body: CrisisSwitch,
    request: Request,
    user: CurrentUser = Depends(require_roles(*CRISIS_SWITCHERS)),
    session: Session = Depends(db_session, scope="function"),
) -> CrisisView:
    """Switch crisis mode on or off with a reason: at once every queue takes its crisis rules
    (or its normal ones again), new callers hear the front announcement, and the wallboard and
    the desks show a banner. Audited (``crisis.on`` / ``crisis.off``).

    422 when the center file defines no crisis mode; 409 when it already is on (or off).
    On a web node the switch goes to the owner through the inbox, checked against the log
    (the answer is the mode as it will be; the owner stamps when, and logs it).
    """
    board = log_board_of(request)
    if board is not None:
        view = await _crisis_to_owner(request, session, board, user, body)
    else:
        view = await _switch_crisis(request, user, body)
    audit.record(
        session,
        actor=user.username,
        action="crisis.on" if body.on else "crisis.off",
        target=body.reason,
        detail={"source": "supervisor"},
    )
    return view


def _crisis_refused(on: bool) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT, f"crisis mode is already {'on' if on else 'off'}"
    )


async def _switch_crisis(request: Request, user: CurrentUser, body: CrisisSwitch) -> CrisisView:
    driver = driver_of(request)
    try:
        view = await driver.switch_crisis(
            on=body.on, by=user.username, source="supervisor", reason=body.reason
        )
    except RoutingConflict as conflict:
        raise HTTPException(422, [{"field": "body.on", "problem": str(conflict)}]) from None
    if view is None:
        raise _crisis_refused(body.on)
    return CrisisView.model_validate(view)


async def _crisis_to_owner(
    request: Request, session: Session, board: LogBoard, user: CurrentUser, body: CrisisSwitch
) -> CrisisView:
    """A web node's switch: 422/409 as the owner would answer from what the log shows, then
    the inbox row; the view is the mode as the switch makes it (``since``: the owner's)."""
    now = board.crisis_view()
    if not now["available"]:
        problem = "the center file defines no crisis mode (no crisis section)"
        raise HTTPException(422, [{"field": "body.on", "problem": problem}])
    if now["on"] == body.on:
        raise _crisis_refused(body.on)
    payload = {"on": body.on, "by": user.username, "reason": body.reason}
    sent = await to_owner(request, session, "crisis", payload)
    closed = board.center.crisis.close_queues if board.center.crisis and body.on else []
    return CrisisView.model_validate(
        {
            **now,
            "on": body.on,
            "since": None,
            "by": user.username,
            "source": "supervisor",
            "reason": body.reason,
            "closed_queues": list(closed),
            "accepted": sent.accepted,
        }
    )


class NewContact(BaseModel):
    """A contact placed in a queue by hand: a test call, a walk-in, a web form."""

    queue: str = Field(min_length=1, max_length=64)
    customer: str | None = Field(default=None, max_length=64)
    subject: str = Field(default="", max_length=200)
    channel: Literal["voice", "chat", "email", "sms", "app", "video"] | None = None


@router.post("/contacts", status_code=201)
async def place_contact(
    body: NewContact,
    request: Request,
    _: CurrentUser = Depends(require_roles("supervisor", "manager")),
    session: Session = Depends(db_session, scope="function"),
) -> PlacedContact:
    """Queue a contact by hand; it is routed like any other (on a web node, by the owner:
    the contact's id is given here and the ``contact`` row goes to its inbox)."""
    board = log_board_of(request)
    if board is not None:
        if body.queue not in {q.id for q in board.center.queues}:
            problem = f"unknown queue {body.queue!r}"
            raise HTTPException(422, [{"field": "body.queue", "problem": problem}])
        contact_id = new_id("W")
        payload = {
            "contact_id": contact_id,
            "queue": body.queue,
            "customer": body.customer,
            "channel": body.channel,
            "subject": body.subject,
        }
        sent = await to_owner(request, session, "contact", payload)
        return PlacedContact(contact_id=contact_id, queue=body.queue, accepted=sent.accepted)
    driver = driver_of(request)
    try:
        contact_id = await driver.queue_contact(
            body.queue,
            customer=body.customer,
            channel=Channel(body.channel) if body.channel else None,
            attached={"subject": body.subject} if body.subject else None,
        )
    except RoutingConflict as conflict:
        raise HTTPException(422, [{"field": "body.queue", "problem": str(conflict)}]) from None
    return PlacedContact(contact_id=contact_id, queue=body.queue)
