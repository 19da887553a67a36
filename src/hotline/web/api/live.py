"""Live routing API: agent state and call controls, the wallboard, and the desktop's screen pop.

Every action is a command to the live driver (:mod:`hotline.live.driver`), which owns the one
routing engine. An agent acts only for their own agent id (their account's ``agent_id``);
supervisors, team leads and managers may also change an agent's state (send them on a break,
log out a forgotten session) but never answer or hang up for them. A command that does not
fit the engine's state — answering a call the caller already left — is a 409 with the reason.

When the server also runs the voice server (``hotline serve --sip-port``), a contact that is
a phone call is controlled through it (:mod:`hotline.telephony.joined`): hold plays music to
the caller, hang-up ends the agent's phone leg, transfer re-routes the caller, consult rings
the other agent's phone and joins the two agents (then transfers the caller or goes back),
decline stops the agent's phone ringing — each also telling the one routing engine. A phone call is
answered on the phone. ``POST /agents/{id}/dial`` places a click-to-dial call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
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
from hotline.store.db import writing
from hotline.telephony.call_center import CallCenter
from hotline.telephony.outbound import OriginationRefused
from hotline.telephony.ports import TransferRefused
from hotline.web.access import (
    hides_customer_identity,
    mask_personal,
    require_agent,
    scope_of,
    scoped_board,
)
from hotline.web.auth import CurrentUser, RoleGuard, current_user, db_session, require_roles
from hotline.web.fields import RecordRef

router = APIRouter(prefix="/api/live", tags=["live"])
T = TypeVar("T")

SUPERVISION = ("supervisor", "team_lead", "manager", "wfm", "qa")
STATE_CONTROL = ("agent", "supervisor", "team_lead", "manager")
DESK = ("agent",)


def driver_of(request: Request) -> LiveDriver:
    """The app's live driver; 503 when this server runs without live routing."""
    driver: LiveDriver | None = getattr(request.app.state, "live", None)
    if driver is None or not driver.running:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "live routing is not running")
    return driver


def voice_of(request: Request) -> CallCenter | None:
    """The running voice driver, when this server takes phone calls."""
    voice = getattr(request.app.state, "voice", None)
    if voice is None or voice.parts is None:
        return None
    center: CallCenter = voice.center
    return center


def _phone_call(request: Request, contact_id: str) -> CallCenter | None:
    """The voice driver when ``contact_id`` is one of its phone calls, else ``None``."""
    center = voice_of(request)
    return center if center is not None and center.handles(contact_id) else None


def _on_phone(action: Callable[[], None]) -> dict[str, Any]:
    try:
        action()
    except TransferRefused as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from None
    return {"ok": True, "events": [], "phone": True}


def _own(user: CurrentUser, agent_id: str) -> None:
    if user.agent_id != agent_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "agents act only for their own agent id")


class OwnDesk(RoleGuard):
    """Admits an agent acting for their own agent id (the path's ``agent_id``).

    Checked at the door, before the request body is read, so a call control for another
    agent is a 403 whatever its body: nobody answers, holds or hangs up for an agent, not
    even an admin (who has no agent id of their own).
    """

    def __call__(
        self,
        user: CurrentUser = Depends(current_user, scope="function"),
        agent_id: str = Path(),
    ) -> CurrentUser:
        admitted = super().__call__(user)
        _own(admitted, agent_id)
        return admitted


OWN_DESK = OwnDesk(DESK)


def _may_set_state(request: Request, user: CurrentUser, agent_id: str) -> None:
    if user.agent_id == agent_id:
        return
    if user.has("supervisor", "team_lead", "manager"):
        # A team lead only for the agents of their own team(s).
        require_agent(scope_of(request, user), agent_id)
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, "agents act only for their own agent id")


async def _apply(driver: LiveDriver, make: Callable[[float], Command]) -> dict[str, Any]:
    try:
        result = await driver.command(make)
    except RoutingConflict as conflict:
        raise HTTPException(status.HTTP_409_CONFLICT, str(conflict)) from None
    return {"ok": True, "events": [e.kind.value for e in result.events]}


def _holding(driver: LiveDriver, agent_id: str, contact_id: str) -> None:
    if not driver.holds(agent_id, contact_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"{contact_id} is not with agent {agent_id}")


async def _control(
    request: Request,
    user: CurrentUser,
    agent_id: str,
    contact_id: str,
    *,
    command: Callable[[float], Command],
    on_phone: Callable[[CallCenter], None],
) -> dict[str, Any]:
    """One call control by the agent holding the contact: on the SIP call when it is a phone
    call (``on_phone``, which also tells the engine), else the engine ``command``."""
    _own(user, agent_id)
    driver = driver_of(request)
    _holding(driver, agent_id, contact_id)
    phone = _phone_call(request, contact_id)
    if phone is not None:
        return _on_phone(lambda: on_phone(phone))
    return await _apply(driver, command)


# --------------------------------------------------------------------------- views


@router.get("/wallboard")
async def wallboard(
    request: Request, user: CurrentUser = Depends(require_roles(*SUPERVISION))
) -> dict[str, Any]:
    """Queues and agents now; today's and this interval's figures with their variant.

    A team lead's board lists the agents of their own team(s); the queues stay whole.
    """
    board = await driver_of(request).snapshot()
    shown: dict[str, Any] = mask_personal(
        scoped_board(board, scope_of(request, user)), hidden_fields(user.roles)
    )
    return shown


@router.get("/agents/{agent_id}")
async def agent_desk(
    agent_id: str,
    request: Request,
    user: CurrentUser = Depends(require_roles(*DESK, *SUPERVISION)),
) -> dict[str, Any]:
    """One agent's desktop: state, reason, contacts in hand, the ringing offer.

    Supervision roles see the agents they oversee (a team lead: their own team's); callers'
    personal data is masked for roles the policy keeps it from.
    """
    if user.agent_id != agent_id:
        if not user.has(*SUPERVISION):
            _own(user, agent_id)
        require_agent(scope_of(request, user), agent_id)
    view = await driver_of(request).agent_view(agent_id)
    shown: dict[str, Any] = mask_personal(view, hidden_fields(user.roles))
    return shown


# --------------------------------------------------------------------------- state


class StateChange(BaseModel):
    """Ready, not ready (with a reason code), or log out."""

    state: Literal["ready", "not_ready", "logout"]
    reason: str | None = Field(default=None, max_length=64)


STATE_GUARD = require_roles(*STATE_CONTROL)


def _state_control(
    request: Request, agent_id: str, user: CurrentUser = Depends(STATE_GUARD)
) -> None:
    """Who may change this agent's state, checked at the door (before the body is read)."""
    _may_set_state(request, user, agent_id)


@router.post("/agents/{agent_id}/state", dependencies=[Depends(_state_control)])
async def set_state(
    agent_id: str,
    body: StateChange,
    request: Request,
    user: CurrentUser = Depends(STATE_GUARD),
) -> dict[str, Any]:
    """Change an agent's state; logging in happens on the first ready or not ready.

    The agent themselves, a supervisor or manager, or the lead of the agent's team.
    """
    driver = driver_of(request)
    center = driver.center
    if agent_id not in {a.id for a in center.agents}:
        raise HTTPException(404, f"agent {agent_id} is not in the center configuration")
    if body.state == "not_ready":
        codes = {r.id for r in center.reason_codes}
        if body.reason not in codes:
            raise HTTPException(
                422, [{"field": "body.reason", "problem": f"choose a reason code: {sorted(codes)}"}]
            )
    logged_out = driver.engine.agent_state(agent_id).value == "logged_out"
    reason = body.reason

    def command(now: float) -> Command:
        if body.state == "logout":
            return AgentLoggedOut(at=now, agent_id=agent_id)
        if logged_out:
            ready = body.state == "ready"
            return AgentLoggedIn(
                at=now, agent_id=agent_id, ready=ready, reason=None if ready else reason
            )
        if body.state == "ready":
            return AgentReady(at=now, agent_id=agent_id)
        assert reason is not None
        return AgentNotReady(at=now, agent_id=agent_id, reason=reason)

    result = await _apply(driver, command)
    if user.agent_id != agent_id:
        # A supervisor's or team lead's action on someone else's agent: on the record.
        await run_in_threadpool(
            _record,
            request,
            actor=user.username,
            action="agent.state",
            target=agent_id,
            detail={"state": body.state, "reason": reason},
        )
    return result


def _record(
    request: Request, *, actor: str, action: str, target: str, detail: dict[str, Any]
) -> None:
    """Write one audit entry in its own short transaction (live routes hold no session)."""
    with request.app.state.session_factory() as session:
        writing(session)
        audit.record(session, actor=actor, action=action, target=target, detail=detail)
        session.commit()


# --------------------------------------------------------------------------- call controls


@router.post("/agents/{agent_id}/contacts/{contact_id}/answer")
async def answer(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> dict[str, Any]:
    """Answer (accept) the contact ringing at the agent (a phone call: on the phone)."""
    _own(user, agent_id)
    if _phone_call(request, contact_id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "a phone call is answered on the phone")
    return await _apply(
        driver_of(request),
        lambda now: OfferAnswered(at=now, contact_id=contact_id, agent_id=agent_id),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/reject")
async def reject(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> dict[str, Any]:
    """Decline the ringing contact; it goes back to its place in the queue."""
    _own(user, agent_id)
    phone = _phone_call(request, contact_id)
    if phone is not None:
        return _on_phone(lambda: phone.decline(contact_id, agent_id))
    return await _apply(
        driver_of(request),
        lambda now: OfferRejected(at=now, contact_id=contact_id, agent_id=agent_id),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/hold")
async def hold(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> dict[str, Any]:
    """Put the customer on hold."""
    return await _control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactHeld(at=now, contact_id=contact_id),
        on_phone=lambda phone: phone.hold(contact_id),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/resume")
async def resume(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> dict[str, Any]:
    """Take the customer off hold."""
    return await _control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactResumed(at=now, contact_id=contact_id),
        on_phone=lambda phone: phone.resume(contact_id),
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
) -> dict[str, Any]:
    """Transfer a connected contact to a queue or to another available agent (blind)."""
    _own(user, agent_id)
    if (body.queue is None) == (body.agent_id is None):
        raise HTTPException(
            422, [{"field": "body", "problem": "give exactly one of queue or agent_id"}]
        )
    queue, target = body.queue, body.agent_id

    def command(now: float) -> Command:
        if queue is not None:
            return TransferredToQueue(at=now, contact_id=contact_id, queue=queue)
        return TransferredToAgent(at=now, contact_id=contact_id, agent_id=str(target))

    return await _control(
        request,
        user,
        agent_id,
        contact_id,
        command=command,
        on_phone=lambda phone: phone.transfer(contact_id, queue=queue, agent_id=target),
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
) -> dict[str, Any]:
    """Consult another available agent about a connected contact (the first step of a warm
    transfer); 409 when the agent is not available or a consult is already open."""
    target = body.agent_id
    return await _control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ConsultStarted(at=now, contact_id=contact_id, agent_id=target),
        on_phone=lambda phone: phone.consult(contact_id, target),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/consult/end")
async def end_consult(
    agent_id: str,
    contact_id: str,
    body: ConsultEnd,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> dict[str, Any]:
    """End the consult: back to the customer, or complete the warm transfer."""
    transfer = body.transfer
    return await _control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ConsultEnded(at=now, contact_id=contact_id, transfer=transfer),
        on_phone=lambda phone: phone.end_consult(contact_id, transfer=transfer),
    )


@router.post("/agents/{agent_id}/contacts/{contact_id}/hangup")
async def hang_up(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
) -> dict[str, Any]:
    """End the conversation; wrap-up starts."""
    return await _control(
        request,
        user,
        agent_id,
        contact_id,
        command=lambda now: ContactEnded(at=now, contact_id=contact_id),
        on_phone=lambda phone: phone.hang_up_agent(contact_id),
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
) -> dict[str, Any]:
    """Finish wrap-up with a disposition code from the center configuration."""
    _own(user, agent_id)
    driver = driver_of(request)
    codes = {d.id for d in driver.center.disposition_codes}
    if body.disposition not in codes:
        raise HTTPException(
            422,
            [{"field": "body.disposition", "problem": f"choose a disposition: {sorted(codes)}"}],
        )
    disposition = body.disposition
    return await _apply(
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
) -> dict[str, Any]:
    """Click-to-dial: ring the agent's phone, then call ``number`` through the trunk.

    503 when this server takes no phone calls; 409 when the call cannot be placed (no
    registered phone, no trunk configured, media server down).
    """
    _own(user, agent_id)
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
    return {"contact_id": contact_id, "agent_id": agent_id, "number": body.number}


class Emergency(BaseModel):
    """The emergency announcement: a prompt id played to every new caller, or none (off)."""

    prompt: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[\w-]+$")


@router.put("/voice/emergency")
async def set_emergency(
    body: Emergency,
    request: Request,
    user: CurrentUser = Depends(require_roles("supervisor", "manager", "admin")),
    session: Session = Depends(db_session, scope="function"),
) -> dict[str, Any]:
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
    return {"emergency_prompt": body.prompt}


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
) -> dict[str, Any]:
    """Schedule a call back to the customer of a contact the agent holds."""
    _own(user, agent_id)
    driver = driver_of(request)
    _holding(driver, agent_id, contact_id)
    customer = body.customer or driver.attached.get(contact_id, {}).get("customer")
    try:
        return driver.schedule_callback(
            queue=body.queue,
            due_at=time.time() + body.in_minutes * 60,
            customer=customer,
            requested_by=agent_id,
            note=body.note,
            for_contact=contact_id,
        )
    except RoutingConflict as conflict:
        raise HTTPException(422, [{"field": "body.queue", "problem": str(conflict)}]) from None


# --------------------------------------------------------------------------- screen pop


@router.get("/agents/{agent_id}/contacts/{contact_id}/screen-pop")
def screen_pop(
    agent_id: str,
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> dict[str, Any]:
    """Customer, products, recent contacts and open tickets for the caller's number.

    Falls back to the contact's attached data alone when the number matches no customer.
    """
    _own(user, agent_id)
    driver = driver_of(request)
    _holding(driver, agent_id, contact_id)
    attached = dict(driver.attached.get(contact_id, {}))
    number = attached.get("customer")
    attached = mask_personal(attached, hidden_fields(user.roles))
    body: dict[str, Any] = {
        "contact_id": contact_id,
        "attached": attached,
        "customers": [],
        "products": [],
        "last_contacts": [],
        "open_tickets": [],
    }
    if number:
        from hotline.desk import customers as desk
        from hotline.web.api.tickets import visible_tickets

        pop = desk.screen_pop(
            session, calling_number=str(number), masked=hides_customer_identity(user.roles)
        )
        body.update(
            customers=pop.customers,
            products=pop.products,
            last_contacts=pop.last_contacts,
            # Only the tickets this agent may open: another queue's subjects stay unseen.
            open_tickets=visible_tickets(driver.center, user, pop.open_tickets),
        )
    return body


class TicketFromContact(BaseModel):
    """A ticket opened from the desktop for the contact in hand."""

    type: Literal["inquiry", "installation", "repair", "complaint", "suggestion"]
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    customer_id: RecordRef | None = None
    product_id: RecordRef | None = None


@router.post("/agents/{agent_id}/contacts/{contact_id}/tickets", status_code=201)
def ticket_from_contact(
    agent_id: str,
    contact_id: str,
    body: TicketFromContact,
    *,
    request: Request,
    user: CurrentUser = Depends(OWN_DESK),
    session: Session = Depends(db_session, scope="function"),
) -> dict[str, Any]:
    """Open a ticket linked to the contact the agent holds (the service desk's own rules)."""
    _own(user, agent_id)
    driver = driver_of(request)
    _holding(driver, agent_id, contact_id)
    from hotline.tickets import service as tickets

    queue = driver.engine.contact_queue(contact_id) or ""
    ticket = _retry_when_locked(
        session,
        lambda: tickets.create_ticket(
            session,
            type=body.type,
            subject=body.subject,
            description=body.description,
            priority=body.priority,
            customer_id=body.customer_id,
            product_id=body.product_id,
            contact_id=contact_id,
            queue=queue,
            actor=user.username,
        ),
    )
    view = tickets.ticket_view(ticket)
    # Commit before answering: the desktop reloads the screen pop at once and must see it.
    session.commit()
    return view


def _retry_when_locked(session: Session, action: Callable[[], T]) -> T:
    """Run a read-then-write ``action``, again from the start if SQLite refused the write.

    On SQLite (WAL) a transaction that has read and then writes fails at once with "database
    is locked" when another connection committed in between (the live event log commits
    several times a second); waiting does not help, starting over on a fresh snapshot does.
    PostgreSQL never raises it.
    """
    for attempt in range(5):
        try:
            return action()
        except OperationalError as error:
            if "database is locked" not in str(error) or attempt == 4:
                raise
            session.rollback()
            time.sleep(0.02 * (attempt + 1))
    raise AssertionError("unreachable")


@router.get("/knowledge")
def knowledge(
    q: str,
    user: CurrentUser = Depends(require_roles(*DESK, *SUPERVISION)),
    session: Session = Depends(db_session, scope="function"),
) -> list[dict[str, Any]]:
    """Search published knowledge articles (Chinese or English) from the desktop."""
    from hotline.kb import service as kb

    hits = kb.search(session, query=q[:200], limit=8)
    return [
        {"article_id": h.article_id, "title": h.title, "score": h.score, "version": h.version}
        for h in hits
    ]


# --------------------------------------------------------------------------- contacts


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
) -> dict[str, Any]:
    """Queue a contact by hand; it is routed like any other."""
    from hotline.core.events import Channel

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
    return {"contact_id": contact_id, "queue": body.queue}
