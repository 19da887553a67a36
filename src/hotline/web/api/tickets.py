"""Tickets API: create, list, act, respond, verify, SLA status, escalation, figures.

Agents see the tickets of the queues their skills serve (from the center configuration)
and the tickets assigned to them; team leads, supervisors, QA, WFM and managers see all.
WFM sees tickets without personal data (description and custom fields masked).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig, TicketTypeCategories
from hotline.core.requirements import matches_all, parse_requirements
from hotline.followup import service as followup
from hotline.identity.roles import PersonalField, hidden_fields
from hotline.store.db import utcnow
from hotline.store.models.tickets import Ticket
from hotline.tickets import service as tickets
from hotline.tickets.workflow import Action
from hotline.web.access import current_center, mask_personal
from hotline.web.api.responses import IsoText, Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.fields import MAX_RECORD_ID, RecordId, RecordRef
from hotline.web.limits import DESCRIPTION_LENGTH, NAME_LENGTH, NOTE_LENGTH

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

WORKERS = ("agent", "team_lead", "supervisor", "manager")
VIEWERS = (*WORKERS, "qa", "wfm")
OVERSIGHT = ("team_lead", "supervisor", "manager", "qa", "wfm")


def agent_queues(center: CenterConfig | None, agent_id: str | None) -> set[str]:
    """Queues whose every requirement the agent meets (skills and languages, as routing)."""
    if center is None or agent_id is None:
        return set()
    agent = next((a for a in center.agents if a.id == agent_id), None)
    if agent is None:
        return set()
    languages = frozenset(agent.languages)
    return {
        queue.id
        for queue in center.queues
        if matches_all(parse_requirements(queue.requirements), agent.skills, languages)
    }


def may_see_ticket(
    center: CenterConfig | None, user: CurrentUser, *, queue: str | None, assignee: str | None
) -> bool:
    """Whether ``user`` may see a ticket of ``queue`` assigned to ``assignee``: oversight
    roles see every ticket, an agent those of the queues they serve and those assigned to
    them. Every place that shows a ticket (its page, the list, the screen pop) asks this."""
    if user.has(*OVERSIGHT):
        return True
    mine = {user.username} | ({user.agent_id} if user.agent_id else set())
    return assignee in mine or queue in agent_queues(center, user.agent_id)


def visible_tickets(
    center: CenterConfig | None, user: CurrentUser, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The ticket rows (each with ``queue`` and ``assignee``) ``user`` may see."""
    return [
        row
        for row in rows
        if may_see_ticket(center, user, queue=row.get("queue"), assignee=row.get("assignee"))
    ]


def _may_see(request: Request, user: CurrentUser, ticket: Ticket) -> bool:
    return may_see_ticket(
        request.app.state.center, user, queue=ticket.queue, assignee=ticket.assignee
    )


def _visible(request: Request, user: CurrentUser, session: Session, ticket_id: int) -> Ticket:
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    if not _may_see(request, user, ticket):
        # Same answer as a missing ticket: an agent learns nothing about other queues.
        raise HTTPException(404, f"ticket {ticket_id} does not exist")
    return ticket


def _fields(user: CurrentUser, ticket: Ticket) -> dict[str, Any]:
    # The personal-data policy: a ticket's description and custom fields are its content.
    masked = PersonalField.CONTENT in hidden_fields(user.roles)
    return tickets.ticket_view(ticket, masked=masked)


def _view(user: CurrentUser, ticket: Ticket) -> TicketOut:
    return TicketOut.model_validate(_fields(user, ticket))


class TicketIn(BaseModel):
    """A new ticket or work order."""

    type: str = Field(pattern="^(inquiry|installation|repair|complaint|suggestion)$")
    subject: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=DESCRIPTION_LENGTH)
    customer_id: RecordRef | None = None
    product_id: RecordRef | None = None
    priority: str = Field("normal", pattern="^(low|normal|high|urgent)$")
    category: str = Field("", max_length=NAME_LENGTH)
    queue: str = Field("", max_length=NAME_LENGTH)
    complaint_level: str | None = Field(None, pattern="^[123]$")
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    contact_id: str | None = None
    calendar: str | None = None
    region: str = Field("", max_length=64, description="Where field work is done.")


class ActionIn(BaseModel):
    """An action on a ticket."""

    action: Action
    target: str | None = Field(None, max_length=NAME_LENGTH)
    note: str = Field("", max_length=NOTE_LENGTH)


class NoteIn(BaseModel):
    """An update sent to the customer, or a provider's report."""

    note: str = Field(min_length=1, max_length=NOTE_LENGTH)
    provider: str | None = Field(None, max_length=NAME_LENGTH)
    completed: bool = False
    parts: list[str] = Field(default_factory=list)


class VerificationIn(BaseModel):
    """The result of the verification callback."""

    reached: bool
    customer_confirmed: bool
    part_replaced: bool = False
    part_matches_fault: bool | None = None
    note: str = Field("", max_length=NOTE_LENGTH)


class ProviderIn(BaseModel):
    """A field-service provider."""

    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=128)
    region: str = Field("", max_length=NAME_LENGTH)
    phone: str = Field("", max_length=NAME_LENGTH)


class TicketOut(ResponseModel):
    """A ticket or work order as the API shows it; ``description`` and ``custom_fields`` are
    empty for roles the personal-data policy keeps a ticket's content from."""

    id: int
    number: str
    type: str
    category: str
    priority: str
    state: str
    subject: str
    description: str
    customer_id: int | None
    product_id: int | None
    queue: str
    assignee: str | None
    provider_id: int | None
    warranty: bool
    complaint_level: str | None
    acknowledged: list[str] = Field(description="The roles that acknowledged its escalation.")
    claim_status: str
    custom_fields: dict[str, Any]
    created_at: IsoText
    due_at: IsoText | None
    first_response_at: IsoText | None
    resolved_at: IsoText | None
    closed_at: IsoText | None
    region: str = Field(description="Where field work is done (dispatch matches providers).")
    product_model: str
    appointment_from: IsoText | None
    appointment_to: IsoText | None
    accepted_at: IsoText | None = Field(description="When the provider accepted the order.")
    paused: bool = Field(description="SLA clocks stopped: waiting on the customer.")


class SlaClockOut(ResponseModel):
    """Where one SLA clock stands now, in business seconds on the ticket's calendar."""

    clock: str
    state: str
    target_s: Number | None
    elapsed_s: Number
    due_at: datetime | None


class TicketEventOut(ResponseModel):
    """One step of a ticket's history (``to``: the state it led to; the note masked per the
    personal-data policy)."""

    at: datetime
    actor: str
    action: str
    to: str | None
    note: str


class TicketDetailOut(TicketOut):
    """A ticket with its SLA clocks and history."""

    sla: list[SlaClockOut]
    history: list[TicketEventOut]


class DeferredWorkOut(ResponseModel):
    """Deferred-work figures (METRICS.md) of one period: tickets closed, on time, backlog."""

    closed: int
    on_time_rate: Number | None
    avg_delay_s: Number | None
    backlog: int
    backlog_by_age: dict[str, int]
    first_response_s: Number | None
    resolution_s: Number | None


class EscalationOut(ResponseModel):
    """An SLA escalation sent now: the ticket, the clock and stage, the role told."""

    ticket: str
    clock: str
    stage: str
    since: str
    role: str


class ProviderOut(ResponseModel):
    """A field-service provider just registered."""

    id: int
    code: str


class ArticleLinkOut(ResponseModel):
    """A knowledge-base article (at its version) linked to a ticket."""

    ticket_id: int
    article_id: int
    version: int


@router.post("", status_code=201, responses=errors(404, 409, 422))
def create_ticket(
    body: TicketIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Open a ticket; SLA targets of its type and priority are fixed on it.

    The category and custom fields are checked against the center configuration's
    ``ticket_categories``; each problem comes back (422) with its field. An agent links a
    ticket only to a contact in their hands (ringing, talking or in wrap-up): the link
    counts in first-contact resolution and brings the contact's recording to the ticket,
    so it must not name somebody else's call. Team leads and above link any contact.
    """
    if body.contact_id is not None and not user.has(*OVERSIGHT):
        driver = getattr(request.app.state, "live", None)
        if (
            user.agent_id is None
            or driver is None
            or not driver.holds(user.agent_id, body.contact_id)
        ):
            raise HTTPException(
                409, f"contact {body.contact_id} is not in your hands; link only your own contact"
            )
    ticket = tickets.create_ticket(
        session, actor=user.username, schema=_schema(request), **body.model_dump()
    )
    return _view(user, ticket)


def _schema(request: Request) -> list[TicketTypeCategories]:
    center: CenterConfig | None = request.app.state.center
    return list(center.ticket_categories) if center else []


class FieldsIn(BaseModel):
    """A new category and/or custom-field values (``null`` removes a field)."""

    category: str | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)


@router.get("/categories", responses=errors())
def categories(
    request: Request, user: CurrentUser = Depends(require_roles(*VIEWERS))
) -> list[TicketTypeCategories]:
    """The configured categories of each ticket type, with their custom fields."""
    return _schema(request)


@router.get("", responses=errors(422))
def list_tickets(
    request: Request,
    state: list[str] = Query([], description="Only these states."),
    queue: list[str] = Query([], description="Only these queues."),
    customer_id: int | None = Query(None, ge=1, le=MAX_RECORD_ID),
    limit: int = Query(100, ge=1, le=1000),
    user: CurrentUser = Depends(require_roles(*VIEWERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[TicketOut]:
    """Tickets, newest first; an agent gets only their queues' tickets and their own."""
    if user.has(*OVERSIGHT):
        rows = tickets.list_tickets(
            session, queues=queue or None, states=state, customer_id=customer_id, limit=limit
        )
    else:
        allowed = agent_queues(request.app.state.center, user.agent_id)
        wanted = allowed & set(queue) if queue else allowed
        rows = tickets.list_tickets(
            session,
            queues=sorted(wanted),
            or_assigned_to=sorted({user.username, *([user.agent_id] if user.agent_id else [])}),
            assigned_in=queue or None,
            states=state,
            customer_id=customer_id,
            limit=limit,
        )
    return [_view(user, t) for t in rows]


@router.get("/figures", responses=errors(422))
def figures(
    start: datetime,
    end: datetime,
    queue: str | None = None,
    user: CurrentUser = Depends(require_roles("team_lead", "supervisor", "manager", "wfm")),
    session: Session = Depends(db_session, scope="function"),
) -> DeferredWorkOut:
    """Deferred-work figures (METRICS.md) for ``[start, end)``."""
    if start.tzinfo is None or end.tzinfo is None:
        raise HTTPException(422, "start and end need a time zone (e.g. 2026-11-01T00:00:00Z)")
    work = tickets.deferred_work(session, start=start, end=end, queue=queue)
    return DeferredWorkOut.model_validate(work.__dict__)


@router.post("/sla-check", responses=errors())
def sla_check(
    user: CurrentUser = Depends(require_roles("supervisor", "manager")),
    session: Session = Depends(db_session, scope="function"),
) -> list[EscalationOut]:
    """Escalate every open ticket whose SLA clocks warn or breach (each escalation once)."""
    sent = tickets.check_sla(session, now=utcnow(), actor=user.username)
    return [EscalationOut.model_validate(escalation) for escalation in sent]


@router.post("/providers", status_code=201, responses=errors(409, 422))
def create_provider(
    body: ProviderIn,
    user: CurrentUser = Depends(require_roles("supervisor", "manager")),
    session: Session = Depends(db_session, scope="function"),
) -> ProviderOut:
    """Register a field-service provider."""
    provider = tickets.create_provider(session, actor=user.username, **body.model_dump())
    return ProviderOut(id=provider.id, code=provider.code)


@router.get("/{ticket_id}", responses=errors(404, 422))
def get_ticket(
    ticket_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*VIEWERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketDetailOut:
    """A ticket with its SLA clocks and history."""
    ticket = _visible(request, user, session, ticket_id)
    clocks = tickets.sla_status(session, ticket=ticket, now=utcnow())
    return TicketDetailOut.model_validate(
        _fields(user, ticket)
        | {
            "sla": [
                {
                    "clock": c.clock,
                    "state": c.state,
                    "target_s": c.target_s,
                    "elapsed_s": c.elapsed_s,
                    "due_at": c.due_at,
                }
                for c in clocks
            ],
            # Notes are what the customer and the desk wrote: masked by the personal-data policy.
            "history": mask_personal(
                [
                    {
                        "at": e.at,
                        "actor": e.actor,
                        "action": e.action,
                        "to": e.to_state,
                        "note": e.note,
                    }
                    for e in tickets.history(session, ticket_id=ticket.id)
                ],
                hidden_fields(user.roles),
            ),
        }
    )


@router.post("/{ticket_id}/actions", responses=errors(404, 409, 422))
def act(
    ticket_id: RecordId,
    body: ActionIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Apply an action (assign, dispatch, resolve, close…); 409 with the reason if refused.

    Escalating a complaint to a role is an acknowledgement by that role: only a user who
    holds it may do so.
    """
    _visible(request, user, session, ticket_id)
    if body.action == "escalate" and body.target and not user.has(body.target):
        raise HTTPException(403, f"only a {body.target} acknowledges this escalation")
    ticket = tickets.act(
        session,
        ticket_id=ticket_id,
        action=body.action,
        target=body.target,
        note=body.note,
        actor=user.username,
    )
    # A resolved order or a closed complaint gets its follow-up (回访) task now.
    followup.generate_for_ticket(session, ticket_id=ticket.id, center=current_center(request))
    return _view(user, ticket)


@router.post("/{ticket_id}/updates", responses=errors(404, 409, 422))
def update(
    ticket_id: RecordId,
    body: NoteIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Record an update to the customer, or (with ``provider``) the provider's report."""
    _visible(request, user, session, ticket_id)
    if body.provider:
        ticket = tickets.provider_update(
            session,
            ticket_id=ticket_id,
            provider=body.provider,
            note=body.note,
            completed=body.completed,
            parts=body.parts,
        )
        followup.generate_for_ticket(session, ticket_id=ticket.id, center=current_center(request))
    else:
        ticket = tickets.respond(session, ticket_id=ticket_id, note=body.note, actor=user.username)
    return _view(user, ticket)


@router.patch("/{ticket_id}/fields", responses=errors(404, 422))
def update_fields(
    ticket_id: RecordId,
    body: FieldsIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Change the category and custom fields, checked against the configured categories."""
    _visible(request, user, session, ticket_id)
    ticket = tickets.update_fields(
        session,
        ticket_id=ticket_id,
        actor=user.username,
        category=body.category,
        custom_fields=body.custom_fields,
        schema=_schema(request),
    )
    return _view(user, ticket)


@router.post("/{ticket_id}/verification", responses=errors(404, 409, 422))
def verify(
    ticket_id: RecordId,
    body: VerificationIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Record the verification callback; an unconfirmed fix reopens the ticket."""
    _visible(request, user, session, ticket_id)
    tickets.record_verification(
        session, ticket_id=ticket_id, actor=user.username, **body.model_dump()
    )
    return _view(user, tickets.get_ticket(session, ticket_id=ticket_id))


@router.post("/{ticket_id}/articles/{article_id}", status_code=201, responses=errors(404, 409, 422))
def link_article(
    ticket_id: RecordId,
    article_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ArticleLinkOut:
    """Link the knowledge-base article used on this ticket (counts a use)."""
    _visible(request, user, session, ticket_id)
    link = tickets.link_article(
        session, ticket_id=ticket_id, article_id=article_id, actor=user.username
    )
    return ArticleLinkOut(
        ticket_id=link.ticket_id, article_id=link.article_id, version=link.version
    )


class LevelIn(BaseModel):
    """A more serious complaint level."""

    level: str = Field(pattern="^[123]$")


@router.post("/{ticket_id}/complaint-level", responses=errors(404, 409, 422))
def raise_level(
    ticket_id: RecordId,
    body: LevelIn,
    request: Request,
    user: CurrentUser = Depends(require_roles("team_lead", "supervisor", "manager")),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Raise a complaint's level (only upwards); its mandatory escalation path grows."""
    _visible(request, user, session, ticket_id)
    ticket = tickets.raise_complaint_level(
        session, ticket_id=ticket_id, level=body.level, actor=user.username
    )
    return _view(user, ticket)
