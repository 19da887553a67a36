"""Call controls from the agent's desktop: answer, decline, hold, transfer, consult, hang up,
wrap up, promise a call back, click-to-dial.

Each acts for the agent's own agent id on a contact in their hands (a 403 for anyone else,
checked before the body is read; a 409 when the contact is not with them). When the server
also runs the voice server (``hotline serve --sip-port``), a contact that is a phone call is
controlled through it (:mod:`hotline.telephony.joined`): hold plays music to the caller, hang-up
ends the agent's phone leg, transfer re-routes the caller, consult rings the other agent's
phone and joins the two agents (then transfers the caller or goes back), decline stops the
agent's phone ringing — each also telling the one routing engine. A phone call is answered on
the phone. ``POST /agents/{id}/dial`` places a click-to-dial call.

On a web node without the engine (``hotline serve --web-only``) answer, decline, hold, resume,
transfer, consult, hang-up and wrap-up go to the partition's owner through its inbox, checked
first against the floor as the log shows it (:mod:`.commands`), and so does a promised call
back (the owner keeps it until it is due); click-to-dial and a transfer to an outside number
go to the partition's voice nodes (:mod:`.voice_requests`).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.config.trunks import transfer_allowed
from hotline.core.ids import new_id
from hotline.identity import audit
from hotline.live.log_board import LogBoard
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
from hotline.store import voice_requests
from hotline.telephony.outbound import OriginationRefused
from hotline.web.access import current_center
from hotline.web.api.live.commands import (
    InboxAction,
    apply_command,
    control,
    on_phone,
    on_web_node,
    to_owner,
)
from hotline.web.api.live.guards import (
    OWN_DESK,
    driver_of,
    holding,
    log_board_of,
    own,
    phone_call,
    voice_of,
    web_only_partition,
)
from hotline.web.api.live.schemas import CommandApplied, DialedCall, PromisedCallback
from hotline.web.api.live.voice_requests import through_voice_node, voice_node_partition
from hotline.web.api.responses import errors
from hotline.web.auth import CurrentUser, db_session

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))


@router.post("/agents/{agent_id}/contacts/{contact_id}/answer")
async def answer(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Answer (accept) the contact ringing at the agent (a phone call: on the phone)."""
    own(user, agent_id)
    if phone_call(request, contact_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "a phone call is answered on the phone")
    payload = {"contact_id": contact_id, "agent_id": agent_id}
    sent = await on_web_node(
        request, session, agent_id, contact_id, InboxAction("answer", payload, stages=("ringing",))
    )
    if sent is not None:
        return sent
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
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Decline the ringing contact; it goes back to its place in the queue."""
    own(user, agent_id)
    phone = phone_call(request, contact_id)
    if phone is not None:
        return on_phone(lambda: phone.decline(contact_id, agent_id))
    payload = {"contact_id": contact_id, "agent_id": agent_id}
    sent = await on_web_node(
        request, session, agent_id, contact_id, InboxAction("reject", payload, stages=("ringing",))
    )
    if sent is not None:
        return sent
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
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Put the customer on hold."""
    return await control(
        request,
        session,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactHeld(at=now, contact_id=contact_id),
        phone=lambda phone: phone.hold(contact_id),
        inbox=InboxAction("hold", {"contact_id": contact_id}, on_hold=False),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/resume")
async def resume(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Take the customer off hold."""
    return await control(
        request,
        session,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactResumed(at=now, contact_id=contact_id),
        phone=lambda phone: phone.resume(contact_id),
        inbox=InboxAction("resume", {"contact_id": contact_id}, on_hold=True),
    )


#: An outside number a caller may be transferred to: digits (a leading + for an
#: international one), 3 to 20 of them.
TRANSFER_NUMBER = r"^\+?[0-9]{3,20}$"


class Transfer(BaseModel):
    """Where a blind transfer goes: a queue, an agent, or an outside number (exactly one)."""

    queue: str | None = Field(default=None, max_length=64)
    agent_id: str | None = Field(default=None, max_length=64)
    number: str | None = Field(
        default=None,
        pattern=TRANSFER_NUMBER,
        description="an outside number (a phone call only; the center's transfer_numbers)",
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/transfer")
async def transfer(
    agent_id: str,
    contact_id: str,
    body: Transfer,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Transfer a connected contact to a queue, to another available agent, or — a phone
    call — to an outside number through the trunk (blind)."""
    own(user, agent_id)
    if sum(target is not None for target in (body.queue, body.agent_id, body.number)) != 1:
        raise HTTPException(
            422, [{"field": "body", "problem": "give exactly one of queue, agent_id or number"}]
        )
    if body.number is not None:
        return await _transfer_out(request, session, user, agent_id, contact_id, body.number)
    queue, target = body.queue, body.agent_id
    where = {"to_queue": queue} if queue is not None else {"to_agent": target}
    _target_on_log(request, agent_id, queue=queue, target=target)

    def command(now: float) -> Command:
        if queue is not None:
            return TransferredToQueue(at=now, contact_id=contact_id, queue=queue)
        return TransferredToAgent(at=now, contact_id=contact_id, agent_id=str(target))

    return await control(
        request,
        session,
        user,
        agent_id,
        contact_id,
        command=command,
        phone=lambda phone: phone.transfer(contact_id, queue=queue, agent_id=target),
        inbox=InboxAction("transfer", {"contact_id": contact_id, **where}),
    )


async def _transfer_out(
    request: Request,
    session: Session,
    user: CurrentUser,
    agent_id: str,
    contact_id: str,
    number: str,
) -> CommandApplied:
    """Hand a phone call to an outside number (:meth:`CallCenter.transfer_out`), audited.

    422 when the center file lists ``transfer_numbers`` and none matches; 409 when the
    contact is not a phone call in the agent's hands or the voice server refuses (no trunk, a
    consult open). On a web node the voice node that carries the call transfers it
    (:mod:`.voice_requests`; 409 too when none takes it or its node died).
    """
    partition = web_only_partition(request)
    board = log_board_of(request)
    center = board.center if board is not None else driver_of(request).center
    patterns = center.transfer_numbers if center is not None else []
    if not transfer_allowed(patterns, number):
        raise HTTPException(
            422,
            [
                {
                    "field": "body.number",
                    "problem": f"{number} matches none of the center file's transfer_numbers "
                    f"({', '.join(patterns)})",
                }
            ],
        )
    if partition is not None:
        if not _talking_on_web_node(session, board, agent_id, contact_id):
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"{contact_id} is not a phone call agent {agent_id} is talking on",
            )
        await through_voice_node(
            request,
            session,
            actor=user.username,
            partition=partition,
            kind=voice_requests.TRANSFER_OUT,
            agent_id=agent_id,
            number=number,
            contact_id=contact_id,
        )
        return CommandApplied(ok=True, events=[], phone=True)
    driver = driver_of(request)
    holding(driver, agent_id, contact_id)
    call = phone_call(request, contact_id)
    if call is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{contact_id} is not a phone call: only a call goes to an outside number",
        )
    applied = on_phone(lambda: call.transfer_out(contact_id, number))
    audit.record(
        session,
        actor=user.username,
        action="voice.transfer_out",
        target=contact_id,
        detail={"agent_id": agent_id, "number": number},
    )
    return applied


#: The channels whose contacts are phone calls (a chat cannot go to an outside number).
_PHONE_CHANNELS = frozenset({"voice", "callback", "outbound"})


def _talking_on_web_node(
    session: Session, board: LogBoard | None, agent_id: str, contact_id: str
) -> bool:
    """Whether the agent talks on ``contact_id`` as the log shows it, or as the voice node
    carrying the call records it (a voice node's own events are not on a web node's board)."""
    if board is not None and board.holding(agent_id).get(contact_id) == "talking":
        channels = {q.id: q.channel for q in board.center.queues}
        return channels.get(board.contact_queue(contact_id) or "") in _PHONE_CHANNELS
    leg = voice_requests.carried_leg(session, contact_id)
    return leg is not None and leg == (agent_id, "talking")


def _target_on_log(
    request: Request, agent_id: str, *, queue: str | None, target: str | None
) -> None:
    """On a web node: 409 when the center has no such queue or agent, or the log shows the
    agent signed out or on a break (where the engine's node hears it from the engine)."""
    board = log_board_of(request)
    if board is None:
        return
    center = current_center(request)
    if queue is not None and center is not None and queue not in {q.id for q in center.queues}:
        raise HTTPException(status.HTTP_409_CONFLICT, f"unknown queue {queue!r}")
    if target is not None:
        if target == agent_id:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "an agent cannot hand a contact to themselves"
            )
        state = board.agent_state(target)
        if state in ("logged_out", "not_ready"):
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"agent {target} is not available (the log shows {state})"
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
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Consult another available agent about a connected contact (the first step of a warm
    transfer); 409 when the agent is not available or a consult is already open."""
    target = body.agent_id
    _target_on_log(request, agent_id, queue=None, target=target)
    return await control(
        request,
        session,
        user,
        agent_id,
        contact_id,
        command=lambda now: ConsultStarted(at=now, contact_id=contact_id, agent_id=target),
        phone=lambda phone: phone.consult(contact_id, target),
        inbox=InboxAction("consult", {"contact_id": contact_id, "to_agent": target}),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/consult/end")
async def end_consult(
    agent_id: str,
    contact_id: str,
    body: ConsultEnd,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """End the consult: back to the customer, or complete the warm transfer."""
    transfer = body.transfer
    return await control(
        request,
        session,
        user,
        agent_id,
        contact_id,
        command=lambda now: ConsultEnded(at=now, contact_id=contact_id, transfer=transfer),
        phone=lambda phone: phone.end_consult(contact_id, transfer=transfer),
        inbox=InboxAction("consult_end", {"contact_id": contact_id, "transfer": transfer}),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/hangup")
async def hang_up(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """End the conversation; wrap-up starts."""
    return await control(
        request,
        session,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactEnded(at=now, contact_id=contact_id),
        phone=lambda phone: phone.hang_up_agent(contact_id),
        inbox=InboxAction("end", {"contact_id": contact_id}),
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
    session: Session = Depends(db_session, scope="function"),
) -> CommandApplied:
    """Finish wrap-up with a disposition code from the center configuration."""
    own(user, agent_id)
    web_node = log_board_of(request) is not None
    center = current_center(request) if web_node else driver_of(request).center
    if center is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no center configuration")
    codes = {d.id for d in center.disposition_codes}
    if body.disposition not in codes:
        raise HTTPException(
            422,
            [{"field": "body.disposition", "problem": f"choose a disposition: {sorted(codes)}"}],
        )
    disposition = body.disposition
    payload = {"agent_id": agent_id, "contact_id": contact_id, "disposition": disposition}
    sent = await on_web_node(
        request,
        session,
        agent_id,
        contact_id,
        InboxAction("wrap_up_end", payload, stages=("wrap_up",)),
    )
    if sent is not None:
        return sent
    return await apply_command(
        driver_of(request),
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

    On a web node — and on the one-process server without a voice server whose database has
    live voice nodes — the partition's voice node through which the agent's phone is
    registered places it (:mod:`.voice_requests`). 503 when this server takes no phone calls
    and there is no voice node to ask; 409 when the call cannot be placed (no registered
    phone, no trunk configured, media server down, no voice node took it, its node died).
    """
    own(user, agent_id)
    partition = web_only_partition(request)
    if partition is None and voice_of(request) is None:
        # The one-process server without a voice server asks the voice nodes, when it has.
        partition = voice_node_partition(request, session, agent_id)
    if partition is not None:
        placed = await through_voice_node(
            request,
            session,
            actor=user.username,
            partition=partition,
            kind=voice_requests.DIAL,
            agent_id=agent_id,
            number=body.number,
        )
        return DialedCall(
            contact_id=str(placed["contact_id"]), agent_id=agent_id, number=body.number
        )
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
    session: Session = Depends(db_session, scope="function"),
) -> PromisedCallback:
    """Schedule a call back to the customer of a contact the agent holds."""
    own(user, agent_id)
    board = log_board_of(request)
    if board is not None:
        return await _callback_to_owner(request, session, board, agent_id, contact_id, body)
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


async def _callback_to_owner(
    request: Request,
    session: Session,
    board: LogBoard,
    agent_id: str,
    contact_id: str,
    body: CallbackRequest,
) -> PromisedCallback:
    """On a web node: the promise goes to the owner's inbox (which keeps it until it is due)
    once the log shows the contact in the agent's hands and the center has the queue; its id
    is given here, so the desk has it at once."""
    if contact_id not in board.holding(agent_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"{contact_id} is not with agent {agent_id}")
    if body.queue not in {q.id for q in board.center.queues}:
        raise HTTPException(
            422, [{"field": "body.queue", "problem": f"unknown queue {body.queue!r}"}]
        )
    promised = {
        "callback_id": f"{new_id('W')}-cb",
        "queue": body.queue,
        "due_at": time.time() + body.in_minutes * 60,
        "customer": body.customer or board.attached(contact_id).get("customer"),
        "requested_by": agent_id,
        "note": body.note,
        "for_contact": contact_id,
    }
    sent = await to_owner(request, session, "callback", promised)
    return PromisedCallback.model_validate({**promised, "accepted": sent.accepted})
