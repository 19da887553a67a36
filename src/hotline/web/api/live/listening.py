"""Listening in, whispering and barging in on a live call from the wallboard (Asterisk
ChanSpy's three modes).

A supervisor (or manager; a team lead only on the calls of their own team(s)' agents) asks
to listen to a phone call connected to an agent: the voice server rings the supervisor's own
phone (the phones file's ``{supervisor, user, password}`` entry) and, once it answers, the
supervisor hears both the caller and the agent (:mod:`hotline.telephony.supervision`): in
``listen`` nobody hears the supervisor, in ``whisper`` (coach) the agent does, in ``barge``
both parties do; the agent's desk is told of a whisper or a barge. The same rights hold for
the three modes. Agents never supervise (403). The supervisor changes a running session's
mode (``PATCH``, as ChanSpy's DTMF keys do) without their phone being rung again. The start
is audited (``call.listen``, ``call.whisper``, ``call.barge``: the call and its agent), each
change of mode too (``call.supervise_mode``: from, to); the end (the phone hung up, the
session stopped here — by whom —, the call over) is audited by the voice server
(``call.<mode>_end`` with the reason).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hotline.identity import audit
from hotline.telephony.call_center import CallCenter
from hotline.telephony.media.g711 import Mode
from hotline.telephony.supervision import Session as Supervision
from hotline.telephony.supervision import SupervisionRefused
from hotline.web.access import require_agent, scope_of
from hotline.web.api.live.guards import SUPERVISION, voice_of
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))

#: Who listens in, whispers and barges in: supervisors and managers on every call, team
#: leads on their teams' calls.
LISTENERS = ("supervisor", "team_lead", "manager")


class Supervise(BaseModel):
    """How to supervise (ChanSpy's modes): ``listen`` (the supervisor hears both parties,
    nobody hears them), ``whisper`` (the agent hears the supervisor too, the caller does not)
    or ``barge`` (both parties hear the supervisor)."""

    mode: Mode = "listen"


class SuperviseMode(BaseModel):
    """The mode a running session changes to (ChanSpy's modes)."""

    mode: Mode


class SupervisionView(ResponseModel):
    """One supervisor on one call: their phone rings until ``connected``."""

    contact_id: str
    supervisor: str
    agent_id: str
    mode: str
    connected: bool
    started_at: Number


class SupervisionsView(ResponseModel):
    """The calls being supervised now (a team lead sees their own teams' agents')."""

    sessions: list[SupervisionView]


def _voice(request: Request) -> CallCenter:
    center = voice_of(request)
    if center is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this server takes no phone calls")
    return center


def _agent_on(center: CallCenter, contact_id: str) -> str:
    """The agent on the live call ``contact_id``; 404 when no call is connected there."""
    call = center.calls.get(contact_id)
    if call is None or call.finished or call.agent_id is None or call.answered_at is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live call {contact_id}")
    return call.agent_id


def _overseen_session(
    center: CallCenter, request: Request, user: CurrentUser, contact_id: str
) -> Supervision:
    """The session on ``contact_id``; 404 when nobody supervises the call, 403 for a team
    lead on another team's call."""
    current = center.supervisions.by_contact.get(contact_id)
    if current is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"nobody supervises {contact_id}")
    require_agent(scope_of(request, user), current.agent_id)
    return current


@router.get("/supervisions", responses=errors(503))
async def supervisions(
    request: Request, user: CurrentUser = Depends(require_roles(*SUPERVISION))
) -> SupervisionsView:
    """Who listens to which call now."""
    center = _voice(request)
    scope = scope_of(request, user)
    return SupervisionsView(
        sessions=[
            SupervisionView.model_validate(s.view())
            for s in center.supervisions.by_contact.values()
            if scope.covers(s.agent_id)
        ]
    )


@router.post("/calls/{contact_id}/supervise", status_code=201, responses=errors(404, 409, 503))
async def supervise(
    contact_id: str,
    body: Supervise,
    request: Request,
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(db_session, scope="function"),
) -> SupervisionView:
    """Listen, whisper or barge in on a live call: the voice server rings your own phone;
    answer it to hear the caller and the agent (and, in whisper, be heard by the agent; in
    barge, by both). 404 when no call is connected there; 403 for a team lead on another
    team's call; 409 when your phone is not registered or someone already supervises the
    call. An agent on the browser softphone is coached through a second call its softphone
    takes by itself (the coach line).
    """
    center = _voice(request)
    agent_id = _agent_on(center, contact_id)
    require_agent(scope_of(request, user), agent_id)
    try:
        started = center.supervise(contact_id, supervisor=user.username, mode=body.mode)
    except SupervisionRefused as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
    audit.record(
        session,
        actor=user.username,
        action=f"call.{body.mode}",
        target=contact_id,
        detail={"agent_id": agent_id},
    )
    return SupervisionView.model_validate(started.view())


@router.delete("/calls/{contact_id}/supervise", responses=errors(404, 503))
async def stop_supervising(
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
) -> SupervisionView:
    """Stop listening to the call (the supervisor's phone is hung up). 404 when nobody
    listens there; 403 for a team lead on another team's call."""
    center = _voice(request)
    _overseen_session(center, request, user, contact_id)
    ended = center.supervisions.stop(contact_id, by=user.username)
    return SupervisionView.model_validate(ended.view())


@router.patch("/calls/{contact_id}/supervise", responses=errors(404, 409, 503))
async def switch_mode(
    contact_id: str,
    body: SuperviseMode,
    request: Request,
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(db_session, scope="function"),
) -> SupervisionView:
    """Change your running session's mode — listen, whisper, barge, in any order — without
    hanging up your phone (as ChanSpy's keys do). 404 when nobody supervises the call; 403
    for a team lead on another team's call, or for anyone but the supervisor on the phone
    (it is their voice the parties will hear); 409 when the session ended meanwhile. An
    agent on the browser softphone is coached through its coach line
    (:mod:`hotline.telephony.supervision`).
    """
    center = _voice(request)
    current = _overseen_session(center, request, user, contact_id)
    if current.supervisor != user.username:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"{current.supervisor} supervises {contact_id}: only they change how",
        )
    try:
        previous = center.supervisions.switch(contact_id, mode=body.mode)
    except SupervisionRefused as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
    if previous != body.mode:
        audit.record(
            session,
            actor=user.username,
            action="call.supervise_mode",
            target=contact_id,
            detail={"agent_id": current.agent_id, "from": previous, "to": body.mode},
        )
    return SupervisionView.model_validate(current.view())
