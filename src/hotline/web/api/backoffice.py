"""Back-office API: the work queue, saved views, bulk assign, the ticket page, dispatch.

The pages ``/work`` and ``/tickets/{id}`` draw from here. Who sees which ticket is the
tickets API's rule (:func:`hotline.web.api.tickets.may_see_ticket`): agents their queues'
tickets and their own, oversight roles all. A team lead's team views and bulk assignments
are cut to the teams they lead (``identity.scope``). Personal data is masked by the policy.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig, ServiceProviderConfig
from hotline.core.calendar import BusinessCalendar
from hotline.core.errors import NotFound, Problem, ValidationFailed
from hotline.crm import service as crm
from hotline.desk import history as desk_history
from hotline.identity.roles import PersonalField, Role, hidden_fields
from hotline.quality import service as quality
from hotline.store.db import utcnow
from hotline.store.models.tickets import Ticket
from hotline.tickets import fault_export, field_service, work_queue
from hotline.tickets import service as tickets
from hotline.tickets.categories import decide_warranty, warranty_months
from hotline.tickets.faults import ModelFaults
from hotline.tickets.sla import ClockState, ClockStatus
from hotline.tickets.workflow import (
    OPEN_STATES,
    TicketType,
    escalation_path,
    next_escalation,
)
from hotline.web.access import current_center, mask_personal, require_agent, scope_of
from hotline.web.api.history import HistoryEntryOut, timeline_out
from hotline.web.api.responses import ResponseModel, errors, file_download
from hotline.web.api.tickets import OVERSIGHT, VIEWERS, WORKERS, agent_queues, may_see_ticket
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles, writer_session
from hotline.web.fields import RecordId, RecordRef
from hotline.web.limits import NAME_LENGTH, NOTE_LENGTH

#: The refusals of a change to one record, and of reading one.
CHANGE_ERRORS = errors(404, 409, 422)
LOOKUP_ERRORS = errors(404, 422)
router = APIRouter(prefix="/api/backoffice", tags=["back office"])
OPEN_STATE_VALUES = frozenset(state.value for state in OPEN_STATES)

LEADS = ("team_lead", "supervisor", "manager")


class TicketOut(ResponseModel):
    """A ticket after a change."""

    id: int
    number: str
    state: str


class ClockOut(ResponseModel):
    """One SLA clock: its state, business seconds left and whether it is counting now."""

    clock: str
    state: str
    target_s: float | None
    remaining_s: float | None
    due_at: datetime | None
    #: Counting down right now: running (not paused, stopped or met) and the calendar open.
    ticking: bool


class QueueRow(ResponseModel):
    """A ticket as the work queue lists it."""

    id: int
    number: str
    type: str
    category: str
    priority: str
    state: str
    subject: str
    queue: str
    assignee: str | None
    provider: str | None
    region: str
    product_model: str
    complaint_level: str | None
    created_at: datetime
    due_at: datetime | None
    paused: bool
    resolution: ClockOut


class QueuePageOut(ResponseModel):
    """One page of the work queue; ``total`` counts no further than 1,000 tickets past the
    page, and ``total_capped`` says the filter matches more than that."""

    total: int
    total_capped: bool
    offset: int
    limit: int
    now: datetime
    items: list[QueueRow]


def _clock_out(status: ClockStatus, *, counting: bool) -> ClockOut:
    return ClockOut(
        clock=status.clock.value,
        state=status.state.value,
        target_s=status.target_s,
        remaining_s=status.remaining_s,
        due_at=status.due_at,
        ticking=counting
        and status.state in (ClockState.RUNNING, ClockState.WARNING, ClockState.BREACHED),
    )


def _counting(ticket: Ticket, calendar: BusinessCalendar, now: datetime) -> bool:
    # A ticket no longer being worked counts nothing down, whatever a clock never stopped.
    return ticket.state in OPEN_STATE_VALUES and calendar.is_open(now)


def _clocks(session: Session, ticket: Ticket, now: datetime) -> list[ClockOut]:
    counting = _counting(ticket, tickets.load_calendar(session, ticket.calendar), now)
    return [
        _clock_out(status, counting=counting)
        for status in tickets.sla_status(session, ticket=ticket, now=now)
    ]


def _providers_by_id(session: Session, rows: list[Ticket]) -> dict[int, str]:
    ids = {t.provider_id for t in rows if t.provider_id}
    return {i: code for i in ids if (code := field_service.provider_code(session, i))}


def _subject(user: CurrentUser, subject: str) -> str:
    return "***" if PersonalField.SUBJECT in hidden_fields(user.roles) else subject


def _team_agents(center: CenterConfig | None, team: str) -> list[str]:
    if center is None:
        return []
    return [agent.id for agent in center.agents if agent.team == team]


@router.get("/queue", response_model=QueuePageOut, responses=CHANGE_ERRORS)
def queue(
    request: Request,
    type: list[str] = Query([], description="Only these ticket types."),
    category: list[str] = Query([]),
    state: list[str] = Query([], description="Only these states (default: the open ones)."),
    sla: list[str] = Query([], description="breached, paused or running."),
    provider: list[str] = Query([], max_length=NAME_LENGTH),
    product: str = Query("", max_length=NAME_LENGTH, description="Product model prefix."),
    region: list[str] = Query([]),
    queue: list[str] = Query([]),
    assignee: list[str] = Query([]),
    team: str = Query("", max_length=NAME_LENGTH, description="Tickets of this team's agents."),
    mine: bool = Query(False, description="Only tickets assigned to me."),
    min_age_hours: float | None = Query(None, ge=0, le=100_000),
    max_age_hours: float | None = Query(None, ge=0, le=100_000),
    sort: str = Query("sla", pattern="^(sla|newest|oldest)$"),
    offset: int = Query(0, ge=0, le=10_000_000),
    limit: int = Query(50, ge=1, le=work_queue.PAGE_SIZE_MAX),
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> QueuePageOut:
    """The work queue: filtered, sorted by SLA risk (due time) and paged in the database."""
    center = current_center(request)
    me = tuple(sorted({user.username} | ({user.agent_id} if user.agent_id else set())))
    assignees = tuple(assignee)
    if team:
        if not scope_of(request, user).covers_team(team):
            raise HTTPException(403, f"team {team} is not one you lead")
        assignees = assignees or tuple(_team_agents(center, team))
        if not assignees:
            raise HTTPException(404, f"team {team} has no agents")
    if mine:
        assignees = me
    visible: tuple[str, ...] | None = None
    if not user.has(*OVERSIGHT):
        visible = tuple(sorted(agent_queues(center, user.agent_id)))
    wanted = work_queue.QueueFilter(
        types=tuple(type),
        categories=tuple(category),
        states=tuple(state),
        sla=tuple(sla),
        providers=tuple(provider),
        product=product,
        regions=tuple(region),
        queues=tuple(queue),
        assignees=assignees,
        min_age_hours=min_age_hours,
        max_age_hours=max_age_hours,
        visible_queues=visible,
        visible_assignees=me,
    )
    now = utcnow()
    page = work_queue.search(session, wanted=wanted, now=now, sort=sort, offset=offset, limit=limit)
    codes = _providers_by_id(session, page.tickets)
    calendars: dict[str | None, BusinessCalendar] = {}
    items = [
        QueueRow(
            id=t.id,
            number=t.number,
            type=t.type,
            category=t.category,
            priority=t.priority,
            state=t.state,
            subject=_subject(user, t.subject),
            queue=t.queue,
            assignee=t.assignee,
            provider=codes.get(t.provider_id) if t.provider_id else None,
            region=t.region,
            product_model=t.product_model,
            complaint_level=t.complaint_level,
            created_at=t.created_at,
            due_at=t.due_at,
            paused=t.paused_since is not None,
            resolution=_clock_out(
                tickets.resolution_status(session, ticket=t, now=now, calendars=calendars),
                counting=_counting(t, calendars[t.calendar], now),
            ),
        )
        for t in page.tickets
    ]
    return QueuePageOut(
        total=page.total,
        total_capped=page.capped,
        offset=page.offset,
        limit=page.limit,
        now=now,
        items=items,
    )


class ViewIn(BaseModel):
    """A work-queue view to save under a name: the page's query string parameters."""

    name: str = Field(min_length=1, max_length=64)
    filters: dict[str, list[str] | str] = Field(default_factory=dict, max_length=30)


class ViewOut(ResponseModel):
    """A saved work-queue view."""

    id: int
    name: str
    filters: dict[str, Any]


@router.get("/views", response_model=list[ViewOut], responses=errors())
def views(
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[ViewOut]:
    """My saved work-queue views."""
    return [
        ViewOut(id=v.id, name=v.name, filters=v.filters)
        for v in work_queue.saved_views(session, username=user.username)
    ]


@router.post("/views", response_model=ViewOut, status_code=201, responses=errors(422))
def save_view(
    body: ViewIn,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ViewOut:
    """Save (or replace) a view of mine under its name."""
    view = work_queue.save_view(
        session, username=user.username, name=body.name, filters=body.filters
    )
    return ViewOut(id=view.id, name=view.name, filters=view.filters)


class Deleted(ResponseModel):
    """What was deleted."""

    deleted: int


@router.delete("/views/{view_id}", response_model=Deleted, responses=LOOKUP_ERRORS)
def delete_view(
    view_id: RecordId,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> Deleted:
    """Delete one of my saved views."""
    work_queue.delete_view(session, username=user.username, view_id=view_id)
    return Deleted(deleted=view_id)


class AssignIn(BaseModel):
    """Tickets to assign to one agent."""

    ticket_ids: list[RecordRef] = Field(min_length=1, max_length=200)
    assignee: str = Field(min_length=1, max_length=NAME_LENGTH)


class Refusal(ResponseModel):
    """A ticket that was not assigned, and why."""

    id: int
    problem: str


class AssignOut(ResponseModel):
    """The outcome of a bulk assignment."""

    assigned: list[int]
    refused: list[Refusal]


@router.post("/assign", response_model=AssignOut, responses=errors(422))
def bulk_assign(
    body: AssignIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*LEADS)),
    session: Session = Depends(db_session, scope="function"),
) -> AssignOut:
    """Assign many tickets to one agent; a team lead assigns only to agents of their teams."""
    center = current_center(request)
    if center is not None and not any(a.id == body.assignee for a in center.agents):
        raise HTTPException(422, f"assignee {body.assignee!r} is not an agent of the center")
    require_agent(scope_of(request, user), body.assignee)
    outcome = work_queue.bulk_assign(
        session, ticket_ids=body.ticket_ids, assignee=body.assignee, actor=user.username
    )
    return AssignOut(
        assigned=[i for i, problem in outcome.items() if problem is None],
        refused=[Refusal(id=i, problem=p) for i, p in outcome.items() if p is not None],
    )


# ---------------------------------------------------------------- the ticket page


class HistoryOut(ResponseModel):
    """One entry of the ticket's history."""

    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str
    internal: bool
    data: dict[str, Any]


class ProductOut(ResponseModel):
    """The customer's product the ticket is about, and its warranty today."""

    id: int
    model: str
    category: str
    serial_number: str | None
    purchased_on: str | None
    installed_on: str | None
    warranty_until: str | None
    in_warranty: bool
    #: On what grounds: its own end date, or the category's period from installation or
    #: purchase (the center configuration's ``warranty_months``).
    warranty_reason: str


class ComplaintOut(ResponseModel):
    """A complaint's level, its mandatory escalation path, who must act next, its deadline."""

    level: str
    path: list[str]
    acknowledged: list[str]
    next_role: str | None
    deadline: datetime | None


class RelatedOut(ResponseModel):
    """A ticket linked to or merged with this one."""

    id: int
    number: str
    state: str
    subject: str


class BlockerOut(ResponseModel):
    """One reason the ticket may not close yet: a code and its values (the page says it in
    the reader's language) and the English text."""

    code: str
    values: dict[str, str]
    text: str


class AttachmentOut(ResponseModel):
    """A file kept with a ticket (its bytes at ``GET /api/backoffice/attachments/{id}``)."""

    id: int
    filename: str
    media_type: str
    size_bytes: int
    uploaded_by: str
    uploaded_at: datetime


class TicketPageOut(ResponseModel):
    """Everything the ticket page shows; ``close_blockers`` in English, ``blockers`` with
    their codes; ``timeline`` the whole history in time order: the ``history`` of changes
    and responses with the ticket's contacts, their survey answers and its follow-ups."""

    ticket: dict[str, Any]
    provider: str | None
    clocks: list[ClockOut]
    history: list[HistoryOut]
    timeline: list[HistoryEntryOut]
    close_blockers: list[str]
    blockers: list[BlockerOut]
    attachments: list[AttachmentOut]
    complaint: ComplaintOut | None
    product: ProductOut | None
    fields: list[dict[str, Any]]
    related: list[RelatedOut]


def _visible(request: Request, user: CurrentUser, session: Session, ticket_id: int) -> Ticket:
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    if not may_see_ticket(
        current_center(request), user, queue=ticket.queue, assignee=ticket.assignee
    ):
        raise HTTPException(404, f"ticket {ticket_id} does not exist")
    return ticket


def _fields_schema(request: Request, ticket_type: str) -> list[dict[str, Any]]:
    center = current_center(request)
    sections = center.ticket_categories if center else []
    section = next((s for s in sections if s.type == ticket_type), None)
    return [c.model_dump() for c in section.categories] if section else []


def _iso_day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _product(request: Request, session: Session, ticket: Ticket) -> ProductOut | None:
    if ticket.product_id is None:
        return None
    product = crm.get_product(session, product_id=ticket.product_id)
    center = current_center(request)
    months = warranty_months(
        center.ticket_categories if center else [],
        ticket_type=ticket.type,
        category=product.category or ticket.category,
    )
    decision = decide_warranty(
        on=utcnow().date(),
        warranty_until=product.warranty_until,
        purchased_on=product.purchased_on,
        installed_on=product.installed_on,
        months=months,
    )
    return ProductOut(
        id=product.id,
        model=product.model,
        category=product.category,
        serial_number=product.serial_number,
        purchased_on=_iso_day(product.purchased_on),
        installed_on=_iso_day(product.installed_on),
        warranty_until=_iso_day(decision.until),
        in_warranty=decision.covered,
        warranty_reason=decision.reason,
    )


@router.get("/tickets/{ticket_id}", response_model=TicketPageOut, responses=LOOKUP_ERRORS)
def ticket_page(
    ticket_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*VIEWERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketPageOut:
    """A ticket with its clocks, full history (changes, contacts with their recordings for the
    roles that may hear them, survey answers, follow-ups), what blocks closing, complaint
    path, product."""
    ticket = _visible(request, user, session, ticket_id)
    hidden = hidden_fields(user.roles)
    masked = PersonalField.CONTENT in hidden
    view = tickets.ticket_view(ticket, masked=masked)
    view["subject"] = _subject(user, view["subject"])
    complaint = None
    if ticket.type == TicketType.COMPLAINT and ticket.complaint_level:
        complaint = _complaint(ticket)
    history = [
        HistoryOut(
            at=e.at,
            actor=e.actor,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            note="***" if masked and e.note else e.note,
            internal=bool(e.data.get("internal")),
            data=mask_personal(dict(e.data), hidden) if masked else dict(e.data),
        )
        for e in tickets.history(session, ticket_id=ticket.id)
    ]
    timeline = timeline_out(
        request,
        user,
        session,
        desk_history.ticket_timeline(session, ticket_id=ticket.id),
        number=ticket.number,
    )
    blockers = tickets.what_blocks_closing_of(session, ticket_id=ticket.id)
    return TicketPageOut(
        ticket=view,
        provider=field_service.provider_code(session, ticket.provider_id),
        clocks=_clocks(session, ticket, utcnow()),
        history=history,
        timeline=timeline,
        close_blockers=[blocker.text for blocker in blockers],
        blockers=[BlockerOut(code=b.code, values=b.values, text=b.text) for b in blockers],
        attachments=[
            _attachment_out(a) for a in tickets.attachments_of(session, ticket_id=ticket.id)
        ],
        complaint=complaint,
        product=None if masked else _product(request, session, ticket),
        fields=_fields_schema(request, ticket.type),
        related=_related(request, user, session, ticket),
    )


def _related(
    request: Request, user: CurrentUser, session: Session, ticket: Ticket
) -> list[RelatedOut]:
    center = current_center(request)
    shown: list[RelatedOut] = []
    for other_id in tickets.linked_ids(session, ticket_id=ticket.id):
        other = tickets.get_ticket(session, ticket_id=other_id)
        # A linked ticket the viewer may not see stays unseen, as everywhere else.
        if may_see_ticket(center, user, queue=other.queue, assignee=other.assignee):
            subject = _subject(user, other.subject)
            shown.append(
                RelatedOut(id=other.id, number=other.number, state=other.state, subject=subject)
            )
    return shown


class RelationIn(BaseModel):
    """Another ticket, by the number people quote."""

    number: str = Field(min_length=1, max_length=32)


def _other(request: Request, user: CurrentUser, session: Session, number: str) -> Ticket:
    other = tickets.ticket_by_number(session, number=number)
    return _visible(request, user, session, other.id)


@router.post("/tickets/{ticket_id}/links", response_model=TicketOut, responses=CHANGE_ERRORS)
def link(
    ticket_id: RecordId,
    body: RelationIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Link this ticket and another one (both histories name the other)."""
    _visible(request, user, session, ticket_id)
    other = _other(request, user, session, body.number)
    ticket = tickets.link_tickets(
        session, ticket_id=ticket_id, other_id=other.id, actor=user.username
    )
    return TicketOut(id=ticket.id, number=ticket.number, state=ticket.state)


@router.post("/tickets/{ticket_id}/merge", response_model=TicketOut, responses=CHANGE_ERRORS)
def merge(
    ticket_id: RecordId,
    body: RelationIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Merge this ticket (a duplicate) into another: this one is cancelled, naming it."""
    _visible(request, user, session, ticket_id)
    survivor = _other(request, user, session, body.number)
    tickets.merge_ticket(session, ticket_id=ticket_id, into_id=survivor.id, actor=user.username)
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    return TicketOut(id=ticket.id, number=ticket.number, state=ticket.state)


class ComplaintRow(ResponseModel):
    """A complaint on the supervisor's board."""

    id: int
    number: str
    subject: str
    state: str
    assignee: str | None
    complaint: ComplaintOut
    overdue: bool


def _complaint(ticket: Ticket) -> ComplaintOut:
    level = ticket.complaint_level or "1"
    return ComplaintOut(
        level=level,
        path=list(escalation_path(level)),
        acknowledged=list(ticket.acknowledged),
        next_role=next_escalation(level, ticket.acknowledged),
        deadline=ticket.due_at,
    )


@router.get("/complaints", response_model=list[ComplaintRow], responses=errors())
def complaints(
    request: Request,
    user: CurrentUser = Depends(require_roles(*LEADS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[ComplaintRow]:
    """The complaint board: every unfinished complaint, its level, the mandatory escalation
    path, who must act next and the deadline; the nearest deadline first."""
    now = utcnow()
    return [
        ComplaintRow(
            id=t.id,
            number=t.number,
            subject=_subject(user, t.subject),
            state=t.state,
            assignee=t.assignee,
            complaint=_complaint(t),
            overdue=t.due_at is not None and t.due_at < now,
        )
        for t in work_queue.open_complaints(session)
    ]


class NoteIn(BaseModel):
    """A note on a ticket: internal (the desk only) or a reply to the customer."""

    note: str = Field(min_length=1, max_length=NOTE_LENGTH)
    internal: bool = True


@router.post("/tickets/{ticket_id}/notes", response_model=TicketOut, responses=CHANGE_ERRORS)
def add_note(
    ticket_id: RecordId,
    body: NoteIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Add an internal note, or reply to the customer (an update: SLA clocks move)."""
    _visible(request, user, session, ticket_id)
    ticket = tickets.add_note(
        session, ticket_id=ticket_id, actor=user.username, note=body.note, internal=body.internal
    )
    return TicketOut(id=ticket.id, number=ticket.number, state=ticket.state)


# ---------------------------------------------------------------- attachments


def _attachment_out(attachment: Any) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id,
        filename=attachment.filename,
        media_type=attachment.media_type,
        size_bytes=attachment.size_bytes,
        uploaded_by=attachment.uploaded_by,
        uploaded_at=attachment.uploaded_at,
    )


@router.post(
    "/attachments/tickets/{ticket_id}",
    response_model=AttachmentOut,
    status_code=201,
    responses=CHANGE_ERRORS,
)
def upload_attachment(
    ticket_id: RecordId,
    request: Request,
    file: UploadFile = File(
        ..., description="JPEG, PNG, GIF, PDF or UTF-8 text, at most 10 MB (multipart field)."
    ),
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> AttachmentOut:
    """Attach a file to a ticket: refused with 422 naming the rule when its type is not
    allowed, it is too big or empty, or its content is not what its type says."""
    _visible(request, user, session, ticket_id)
    # Already received whole (the upload routes' body limit, 32 MB, bounds it), so the
    # refusal can say how big it really is.
    data = file.file.read()
    attachment = tickets.attach_file(
        session,
        ticket_id=ticket_id,
        filename=file.filename or "",
        media_type=file.content_type or "",
        data=data,
        actor=user.username,
    )
    return _attachment_out(attachment)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses=file_download("The attached file, to keep (its own media type)."),
)
def download_attachment(
    attachment_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*VIEWERS)),
    session: Session = Depends(writer_session, scope="function"),
) -> Response:
    """Download a ticket's file, for those who see the ticket and its content (a role whose
    view of tickets is masked may not); audited (``ticket.attachment_read``)."""
    if PersonalField.CONTENT in hidden_fields(user.roles):
        raise HTTPException(403, "your role sees tickets without their content or files")
    attachment = tickets.read_attachment(session, attachment_id=attachment_id, actor=user.username)
    try:
        _visible(request, user, session, attachment.ticket_id)
    except HTTPException:
        raise NotFound(f"attachment {attachment_id} does not exist") from None
    return Response(
        content=attachment.data,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}"
        },
    )


# ---------------------------------------------------------------- dispatch


def _configured_providers(request: Request) -> list[ServiceProviderConfig]:
    center = current_center(request)
    return list(center.service_providers) if center else []


class ProviderFitOut(ResponseModel):
    """A provider checked for one work order."""

    code: str
    name: str
    eligible: bool
    open_load: int
    capacity: int
    reasons: list[str]


@router.get(
    "/tickets/{ticket_id}/providers",
    response_model=list[ProviderFitOut],
    responses=LOOKUP_ERRORS,
)
def suggest_providers(
    ticket_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[ProviderFitOut]:
    """Every configured provider for this work order: those that fit (region, product,
    capacity) first, least loaded first; the others with their reasons."""
    _visible(request, user, session, ticket_id)
    fits = field_service.suggest(
        session, ticket_id=ticket_id, providers=_configured_providers(request)
    )
    return [
        ProviderFitOut(
            code=f.code,
            name=f.name,
            eligible=f.eligible,
            open_load=f.open_load,
            capacity=f.capacity,
            reasons=list(f.reasons),
        )
        for f in fits
    ]


class DispatchIn(BaseModel):
    """Send a work order to a provider with an appointment window."""

    provider: str = Field(min_length=1, max_length=32)
    appointment_from: datetime
    appointment_to: datetime
    region: str | None = Field(None, min_length=1, max_length=64)
    note: str = Field("", max_length=NOTE_LENGTH)


@router.post("/tickets/{ticket_id}/dispatch", response_model=TicketOut, responses=CHANGE_ERRORS)
def dispatch(
    ticket_id: RecordId,
    body: DispatchIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*WORKERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TicketOut:
    """Dispatch (or reassign) a work order; 409 saying why when the provider does not fit."""
    _visible(request, user, session, ticket_id)
    ticket = field_service.dispatch_order(
        session,
        ticket_id=ticket_id,
        provider=body.provider,
        providers=_configured_providers(request),
        appointment_from=body.appointment_from,
        appointment_to=body.appointment_to,
        region=body.region,
        note=body.note,
        actor=user.username,
    )
    return TicketOut(id=ticket.id, number=ticket.number, state=ticket.state)


class ProviderFiguresOut(ResponseModel):
    """A provider's load and field-service figures."""

    code: str
    name: str
    open_load: int
    capacity: int
    work_orders: int
    visits: int
    first_visit_fix_rate: float | None
    on_time_rate: float | None


def provider_figures_out(
    session: Session, providers: list[ServiceProviderConfig], since: datetime | None
) -> list[ProviderFiguresOut]:
    """Figures of ``providers`` as the API returns them."""
    loads = field_service.open_loads(session)
    found = field_service.figures(session, providers=[p.code for p in providers], since=since)
    return [
        ProviderFiguresOut(
            code=p.code,
            name=p.name or p.code,
            open_load=loads.get(p.code, 0),
            capacity=p.capacity,
            work_orders=found[p.code].work_orders,
            visits=found[p.code].visits,
            first_visit_fix_rate=found[p.code].first_visit_fix_rate,
            on_time_rate=found[p.code].on_time_rate,
        )
        for p in providers
    ]


@router.get("/providers", response_model=list[ProviderFiguresOut], responses=errors(422))
def providers(
    request: Request,
    since: datetime | None = Query(None, description="Only visits from this instant on."),
    user: CurrentUser = Depends(require_roles(*LEADS)),
    session: Session = Depends(db_session, scope="function"),
) -> list[ProviderFiguresOut]:
    """Each provider's open load against capacity, first-visit fix rate and on-time visits."""
    if since is not None and since.tzinfo is None:
        raise HTTPException(422, "since needs a time zone (e.g. 2026-11-01T00:00:00+08:00)")
    return provider_figures_out(session, _configured_providers(request), since)


#: The product units' readers of the fault statistics, as of the voice-of-the-customer
#: report: supervisors, managers and quality.
FAULT_READERS = (Role.SUPERVISOR, Role.MANAGER, Role.QA)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A month from 2000 on (earlier years would run the 90-day look-back off the calendar).
_MONTH = r"^2\d{3}-(0[1-9]|1[0-2])$"
SINCE = Query(None, pattern=_MONTH, description="First month, YYYY-MM (five months before until)")
UNTIL = Query(None, pattern=_MONTH, description="Last month, YYYY-MM (this month)")
#: The longest period one request reads (months).
FAULT_MONTHS_MAX = 24


class ModelFaultsOut(ResponseModel):
    """One model's repairs in the period: fault categories, parts, repeats, first-visit fixes."""

    product_line: str
    model: str
    repairs: int
    repeat_repairs: int
    first_visit_fix_rate: float | None
    #: Repairs by fault category (the technician's finding, else the desk's), most first.
    faults: dict[str, int]
    #: Parts used on the visits, per part, most first.
    parts: dict[str, int]
    #: Repairs opened per month (YYYY-MM, the center's time zone).
    monthly: dict[str, int]


class FaultsOut(ResponseModel):
    """Fault statistics per product line and model over whole months."""

    since: str
    until: str
    models: list[ModelFaultsOut]


def fault_period(
    request: Request, session: Session, since: str | None, until: str | None
) -> tuple[str, str, list[ModelFaults]]:
    """The months ``since``..``until`` (defaults: the six months to this one, in the
    center's time zone) and their fault statistics; 422 naming the field when the period
    runs backwards or over :data:`FAULT_MONTHS_MAX` months."""
    center = current_center(request)
    zone = center.center.timezone if center is not None else "UTC"
    until = until or datetime.now(ZoneInfo(zone)).strftime("%Y-%m")
    last = int(until[:4]) * 12 + int(until[5:]) - 1
    since = since or f"{(last - 5) // 12:04d}-{(last - 5) % 12 + 1:02d}"
    first = int(since[:4]) * 12 + int(since[5:]) - 1
    if first > last:
        raise ValidationFailed([Problem(f"{since} is after until ({until})", field="since")])
    if last - first >= FAULT_MONTHS_MAX:
        raise ValidationFailed(
            [
                Problem(
                    f"at most {FAULT_MONTHS_MAX} months at a time, not {last - first + 1}",
                    field="since",
                )
            ]
        )
    start, _ = quality.month_bounds(since, zone)
    _, end = quality.month_bounds(until, zone)
    return since, until, tickets.fault_statistics(session, start=start, end=end, timezone=zone)


def faults_out(since: str, until: str, found: list[ModelFaults]) -> FaultsOut:
    """The statistics as the API returns them."""
    return FaultsOut(
        since=since,
        until=until,
        models=[
            ModelFaultsOut(
                product_line=m.product_line,
                model=m.model,
                repairs=m.repairs,
                repeat_repairs=m.repeat_repairs,
                first_visit_fix_rate=m.first_visit_fix_rate,
                faults=m.faults,
                parts=m.parts,
                monthly=m.monthly,
            )
            for m in found
        ],
    )


@router.get("/faults", response_model=FaultsOut, responses=errors(422))
def faults(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    user: CurrentUser = Depends(require_roles(*FAULT_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> FaultsOut:
    """Repairs per product line and model over whole months: fault categories, parts used,
    repeat repairs (same serial within 90 days), first-visit fix rate, and per month."""
    return faults_out(*fault_period(request, session, since, until))


@router.get(
    "/faults.xlsx",
    response_class=Response,
    responses={
        **errors(422),
        200: {
            "description": "The fault statistics as an Excel workbook.",
            "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
def faults_excel(
    request: Request,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    user: CurrentUser = Depends(require_roles(*FAULT_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> Response:
    """The fault statistics per product line and model for the product units (.xlsx)."""
    since, until, found = fault_period(request, session, since, until)
    return Response(
        fault_export.workbook(found, since=since, until=until),
        media_type=XLSX,
        headers={"content-disposition": f'attachment; filename="faults-{since}-{until}.xlsx"'},
    )
