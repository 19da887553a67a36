"""Call controls from the agent's desktop: answer, decline, hold, transfer, consult, hang up,
wrap up, promise a call back, click-to-dial.

Each acts for the agent's own agent id on a contact in their hands (a 403 for anyone else,
checked before the body is read; a 409 when the contact is not with them). When the server
also runs the voice server (``hotline serve --sip-port``), a contact that is a phone call is
controlled through it (:mod:`hotline.telephony.live`): hold plays music to the caller, hang-up
ends the agent's phone leg, transfer re-routes the caller, consult rings the other agent's
phone and joins the two agents (then transfers the caller or goes back), decline stops the
agent's phone ringing — each also telling the one routing engine. A phone call is answered on
the phone. ``POST /agents/{id}/dial`` places a click-to-dial call.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.identity import audit
from hotline.routing.model import (
    Command,
    ConsultEnded,
    ConsultStarted,
    ContactEnded,
    ContactHeld,
    ContactResumed,
    OfferAnswered,
    OfferRejected,
    RoutingConflict,
    TransferredToAgent,
    TransferredToQueue,
    WrapUpEnded,
)
from hotline.telephony.outbound import OriginationRefused
from hotline.web.api.live.commands import apply_command, control, on_phone
from hotline.web.api.live.guards import OWN_DESK, driver_of, holding, own, phone_call, voice_of
from hotline.web.api.live.schemas import CommandApplied, DialedCall, PromisedCallback
from hotline.web.api.responses import errors
from hotline.web.auth import CurrentUser, db_session

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))


@router.post("/agents/{agent_id}/contacts/{contact_id}/answer")
async def answer(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """Answer (accept) the contact ringing at the agent (a phone call: on the phone)."""
    own(user, agent_id)
    if phone_call(request, contact_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "a phone call is answered on the phone")
    return await apply_command(
        driver_of(request),
        lambda now: OfferAnswered(at=now, contact_id=contact_id, agent_id=agent_id),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/reject")
async def reject(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """Decline the ringing contact; it goes back to its place in the queue."""
    own(user, agent_id)
    phone = phone_call(request, contact_id)
    if phone is not None:
        return on_phone(lambda: phone.decline(contact_id, agent_id))
    return await apply_command(
        driver_of(request),
        lambda now: OfferRejected(at=now, contact_id=contact_id, agent_id=agent_id),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/hold")
async def hold(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """Put the customer on hold."""
    return await control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactHeld(at=now, contact_id=contact_id),
        phone=lambda phone: phone.hold(contact_id),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/resume")
async def resume(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """Take the customer off hold."""
    return await control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactResumed(at=now, contact_id=contact_id),
        phone=lambda phone: phone.resume(contact_id),
    )


class Transfer(BaseModel):
    """Where a transfer goes: a queue or an agent (exactly one)."""

    queue: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)


@router.post("/agents/{agent_id}/contacts/{contact_id}/transfer")
async def transfer(
    agent_id: str,
    contact_id: str,
    body: Transfer,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """Transfer a connected contact to a queue or to another available agent (blind)."""
    own(user, agent_id)
    if (body.queue is None) == (body.agent_id is None):
        raise HTTPException(
            422, [{"field": "body", "problem": "give exactly one of queue or agent_id"}]
        )
    queue, target = body.queue, body.agent_id

    def command(now: float) -> Command:
        if queue is not None:
            return TransferredToQueue(at=now, contact_id=contact_id, queue=queue)
        return TransferredToAgent(at=now, contact_id=contact_id, agent_id=str(target))

    return await control(
        request,
        user,
        agent_id,
        contact_id,
        command=command,
        phone=lambda phone: phone.transfer(contact_id, queue=queue, agent_id=target),
    )


class ConsultStart(BaseModel):
    """The agent to consult while the customer waits on hold."""

    agent_id: str = Field(min_length=1, max_length=64)


class ConsultEnd(BaseModel):
    """End a consult: ``transfer`` hands the customer to the consulted agent (warm transfer)."""

    transfer: bool = False


@router.post("/agents/{agent_id}/contacts/{contact_id}/consult")
async def consult(
    agent_id: str,
    contact_id: str,
    body: ConsultStart,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """Consult another available agent about a connected contact (the first step of a warm
    transfer); 409 when the agent is not available or a consult is already open."""
    target = body.agent_id
    return await control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ConsultStarted(at=now, contact_id=contact_id, agent_id=target),
        phone=lambda phone: phone.consult(contact_id, target),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/consult/end")
async def end_consult(
    agent_id: str,
    contact_id: str,
    body: ConsultEnd,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """End the consult: back to the customer, or complete the warm transfer."""
    transfer = body.transfer
    return await control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ConsultEnded(at=now, contact_id=contact_id, transfer=transfer),
        phone=lambda phone: phone.end_consult(contact_id, transfer=transfer),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/hangup")
async def hang_up(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """End the conversation; wrap-up starts."""
    return await control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactEnded(at=now, contact_id=contact_id),
        phone=lambda phone: phone.hang_up_agent(contact_id),
    )


class WrapUp(BaseModel):
    """The disposition code chosen at the end of wrap-up."""

    disposition: str = Field(min_length=1, max_length=64)


@router.post("/agents/{agent_id}/contacts/{contact_id}/wrap-up")
async def wrap_up_done(
    agent_id: str,
    contact_id: str,
    body: WrapUp,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> CommandApplied:
    """Finish wrap-up with a disposition code from the center configuration."""
    own(user, agent_id)
    driver = driver_of(request)
    codes = {d.id for d in driver.center.disposition_codes}
    if body.disposition not in codes:
        raise HTTPException(
            422,
            [{"field": "body.disposition", "problem": f"choose a disposition: {sorted(codes)}"}],
        )
    disposition = body.disposition
    return await apply_command(
        driver,
        lambda now: WrapUpEnded(
            at=now, agent_id=agent_id, contact_id=contact_id, disposition=disposition
        ),
    )


class Dial(BaseModel):
    """The number to call (click-to-dial)."""

    number: str = Field(min_length=3, max_length=32, pattern=r"^\+?[0-9*#]+$")


@router.post("/agents/{agent_id}/dial", status_code=201)
async def dial(
    agent_id: str,
    body: Dial,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> DialedCall:
    """Click-to-dial: ring the agent's phone, then call ``number`` through the trunk.

    503 when this server takes no phone calls; 409 when the call cannot be placed (no
    registered phone, no trunk configured, media server down).
    """
    own(user, agent_id)
    center = voice_of(request)
    if center is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "this server takes no phone calls")
    try:
        contact_id = await center.originate(agent_id=agent_id, number=body.number)
    except OriginationRefused as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
    audit.record(
        session,
        actor=user.username,
        action="voice.dial",
        target=contact_id,
        detail={"number": body.number},
    )
    return DialedCall(contact_id=contact_id, agent_id=agent_id, number=body.number)


class CallbackRequest(BaseModel):
    """A promised call back: when, to which number, from which queue."""

    queue: str = Field(min_length=1, max_length=64)
    in_minutes: float = Field(gt=0, le=7 * 24 * 60)
    customer: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=500)


@router.post("/agents/{agent_id}/contacts/{contact_id}/callback", status_code=201)
async def schedule_callback(
    agent_id: str,
    contact_id: str,
    body: CallbackRequest,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> PromisedCallback:
    """Schedule a call back to the customer of a contact the agent holds."""
    own(user, agent_id)
    driver = driver_of(request)
    holding(driver, agent_id, contact_id)
    customer = body.customer or driver.attached.get(contact_id, {}).get("customer")
    try:
        promised = driver.schedule_callback(
            queue=body.queue,
            due_at=time.time() + body.in_minutes * 60,
            customer=customer,
            requested_by=agent_id,
            note=body.note,
            for_contact=contact_id,
        )
    except RoutingConflict as conflict:
        raise HTTPException(422, [{"field": "body.queue", "problem": str(conflict)}]) from None
    return PromisedCallback.model_validate(promised)
