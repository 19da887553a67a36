"""Tickets and work orders on a database session: create, act, dispatch, verify, SLA, figures.

Every change goes through :func:`act`, which asks the pure rules
(:func:`hotline.tickets.workflow.transition`) for the next state, carries out the effects
(pausing SLA clocks, stamping resolution, deciding the provider's warranty claim), appends a
``ticket_events`` row and an audit entry. Times come from the caller (``now``) so the same
code runs live and in tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, defer

from hotline.config.center import TicketTypeCategories
from hotline.core.calendar import (
    BusinessCalendar,
    Interval,
    Periods,
    format_periods,
    parse_periods,
)
from hotline.core.errors import Conflict, NotFound, Problem, ValidationFailed
from hotline.core.files import check_file
from hotline.core.ids import new_id
from hotline.crm import service as crm
from hotline.identity.audit import record as audit
from hotline.kb import service as kb
from hotline.notifications import service as notifications
from hotline.store.db import utcnow
from hotline.store.models.tickets import (
    BusinessCalendarRow,
    ServiceProvider,
    Ticket,
    TicketArticle,
    TicketAttachment,
    TicketEvent,
    TicketVerification,
)
from hotline.tickets import faults, figures, sla
from hotline.tickets.categories import check_ticket_fields, decide_warranty, warranty_months
from hotline.tickets.workflow import (
    NOT_FINISHED_STATES,
    OPEN_STATES,
    Action,
    CloseBlocker,
    ComplaintLevel,
    Effect,
    Priority,
    TicketFacts,
    TicketState,
    TicketType,
    Verification,
    complaint_notices,
    notify,
    transition,
    what_blocks_closing,
)

#: ``session.info`` key of the ids of the tickets changed in the session's transaction (an
#: adapter announces them once it commits: ``hotline.web.ticket_feed``).
CHANGED = "hotline_tickets_changed"

DEFAULT_CALENDAR = "default"
# Used when no calendar named "default" is stored: a typical mainland service desk.
FALLBACK_CALENDAR = BusinessCalendar.weekdays(
    "Asia/Shanghai", "09:00-18:00", saturday="09:00-12:00"
)


# ---------------------------------------------------------------- calendars and providers


def save_calendar(session: Session, *, name: str, calendar: BusinessCalendar) -> None:
    """Store (or replace) a site's business-hours calendar under ``name``."""
    row = session.get(BusinessCalendarRow, name) or BusinessCalendarRow(name=name)
    row.time_zone = calendar.time_zone
    row.weekly = {str(day): format_periods(hours) for day, hours in calendar.weekly.items()}
    # Stored as the desk's two lists: holidays (closed all day) and make-up working days.
    special = calendar.holidays.items()
    row.holidays = sorted(d.isoformat() for d, hours in special if not hours)
    row.working_days = {d.isoformat(): format_periods(h) for d, h in special if h}
    session.add(row)
    session.flush()


def load_calendar(session: Session, name: str | None) -> BusinessCalendar:
    """The calendar stored under ``name`` (or ``default``); a built-in one if none is stored."""
    row = session.get(BusinessCalendarRow, name or DEFAULT_CALENDAR)
    if row is None:
        if name and name != DEFAULT_CALENDAR:
            raise NotFound(f"business calendar {name!r} does not exist")
        return FALLBACK_CALENDAR
    special: dict[date, Periods] = {date.fromisoformat(d): () for d in row.holidays}
    # A make-up working day wins over a holiday on the same date.
    special.update({date.fromisoformat(d): parse_periods(t) for d, t in row.working_days.items()})
    return BusinessCalendar(
        time_zone=row.time_zone,
        weekly={int(day): parse_periods(text) for day, text in row.weekly.items()},
        holidays=special,
    )


def create_provider(
    session: Session, *, code: str, name: str, region: str = "", phone: str = "", actor: str
) -> ServiceProvider:
    """Register a field-service provider."""
    if session.scalars(select(ServiceProvider).where(ServiceProvider.code == code)).first():
        raise Conflict(f"service provider {code!r} already exists")
    provider = ServiceProvider(code=code, name=name, region=region, phone=phone, active=True)
    session.add(provider)
    session.flush()
    audit(session, actor=actor, action="provider.create", target=f"provider:{code}")
    return provider


def _provider(session: Session, code: str) -> ServiceProvider:
    provider = session.scalars(select(ServiceProvider).where(ServiceProvider.code == code)).first()
    if provider is None or not provider.active:
        raise NotFound(f"service provider {code!r} does not exist or is inactive")
    return provider


# ---------------------------------------------------------------- tickets


def create_ticket(
    session: Session,
    *,
    type: str,
    subject: str,
    actor: str,
    customer_id: int | None = None,
    product_id: int | None = None,
    priority: str = "normal",
    category: str = "",
    queue: str = "",
    description: str = "",
    custom_fields: dict[str, Any] | None = None,
    complaint_level: str | None = None,
    contact_id: str | None = None,
    calendar: str | None = None,
    region: str = "",
    now: datetime | None = None,
    schema: Sequence[TicketTypeCategories] = (),
    sla_targets: dict[str, Any] | None = None,
) -> Ticket:
    """Open a ticket; the SLA targets of its type and priority are fixed on it now.

    ``sla_targets`` replaces those targets for a ticket a channel opens with its own (an
    e-mail mailbox's): ``name`` and the :class:`~hotline.tickets.sla.SlaPolicy` fields in
    business seconds, ``{"name": "email", "first_response_s": 14400.0, ...}``.

    ``schema`` is the center configuration's ``ticket_categories``: the category and custom
    fields are checked against it (:func:`hotline.tickets.categories.check_ticket_fields`).

    Example::

        ticket = create_ticket(session, type="repair", subject="热水器不加热", customer_id=42,
                               product_id=7, queue="repair", actor="agent7")
    """
    ticket_type, level = TicketType(type), None
    Priority(priority)
    if ticket_type is TicketType.COMPLAINT:
        level = ComplaintLevel(complaint_level or ComplaintLevel.ORDINARY)
    elif complaint_level:
        raise Conflict("only complaints have a complaint level")
    custom_fields = check_ticket_fields(
        schema, ticket_type=ticket_type.value, category=category, custom_fields=custom_fields or {}
    )
    now = now or utcnow()
    warranty, product_model, warranty_reason = False, "", ""
    if customer_id is not None:
        customer_id = crm.get_customer(session, customer_id=customer_id).id
    if product_id is not None:
        product = crm.get_product(session, product_id=product_id)
        if customer_id is not None and product.customer_id != customer_id:
            raise Conflict(f"product {product_id} does not belong to customer {customer_id}")
        customer_id = product.customer_id
        decision = decide_warranty(
            on=now.date(),
            warranty_until=product.warranty_until,
            purchased_on=product.purchased_on,
            installed_on=product.installed_on,
            months=warranty_months(
                schema, ticket_type=ticket_type.value, category=product.category or category
            ),
        )
        warranty, warranty_reason = decision.covered, decision.reason
        product_model = product.model
    cal = load_calendar(session, calendar)
    policy = sla.SlaPolicy(**sla_targets) if sla_targets else sla.policy_for(ticket_type, priority)
    ticket = Ticket(
        number=new_id("tmp")[:32],
        type=ticket_type.value,
        category=category,
        priority=priority,
        state=TicketState.NEW.value,
        subject=subject,
        description=description,
        customer_id=customer_id,
        product_id=product_id,
        contact_id=contact_id,
        queue=queue,
        calendar=calendar,
        region=region,
        product_model=product_model,
        sla=asdict(policy) | {"escalate_to": list(policy.escalate_to)},
        custom_fields=custom_fields,
        warranty=warranty,
        complaint_level=level.value if level else None,
        acknowledged=[],
        claim_status="none",
        pauses=[],
        created_at=now,
        due_at=cal.add_business_seconds(now, policy.resolution_s)
        if policy.resolution_s is not None
        else None,
    )
    session.add(ticket)
    session.flush()
    ticket.number = f"{now:%Y%m%d}{ticket.id:06d}"
    _event(
        session,
        ticket,
        actor=actor,
        action="create",
        before="",
        after=TicketState.NEW.value,
        now=now,
        note=subject,
        data={"warranty": warranty_reason} if warranty_reason else None,
    )
    for effect in complaint_notices(facts_of(session, ticket)):
        _apply(session, ticket, effect, now=now, actor=actor)
    audit(session, actor=actor, action="ticket.create", target=f"ticket:{ticket.number}")
    session.flush()
    return ticket


def update_fields(
    session: Session,
    *,
    ticket_id: int,
    actor: str,
    category: str | None = None,
    custom_fields: dict[str, Any] | None = None,
    schema: Sequence[TicketTypeCategories] = (),
    now: datetime | None = None,
) -> Ticket:
    """Change a ticket's category and/or custom fields, checked against ``schema``.

    ``custom_fields`` are merged into the ticket's (a ``None`` or empty value removes one);
    the whole result is checked, so a category change must bring its required fields.
    Example::

        update_fields(session, ticket_id=7, category="water_heater",
                      custom_fields={"serial_number": "SN123"}, actor="agent7")
    """
    ticket = get_ticket(session, ticket_id=ticket_id)
    new_category = ticket.category if category is None else category
    merged = {**ticket.custom_fields, **(custom_fields or {})}
    merged = {k: v for k, v in merged.items() if v is not None and v != ""}
    cleaned = check_ticket_fields(
        schema, ticket_type=ticket.type, category=new_category, custom_fields=merged
    )
    changed = sorted(
        k
        for k in set(cleaned) | set(ticket.custom_fields)
        if cleaned.get(k) != ticket.custom_fields.get(k)
    )
    if new_category == ticket.category and not changed:
        return ticket
    data: dict[str, Any] = {"fields": changed}
    if new_category != ticket.category:
        data["category"] = {"from": ticket.category, "to": new_category}
    ticket.category = new_category
    ticket.custom_fields = cleaned
    _event(
        session,
        ticket,
        actor=actor,
        action="fields",
        before=ticket.state,
        after=ticket.state,
        now=now or utcnow(),
        data=data,
    )
    audit(session, actor=actor, action="ticket.fields", target=f"ticket:{ticket.number}")
    session.flush()
    return ticket


def get_ticket(session: Session, *, ticket_id: int) -> Ticket:
    """Return a ticket or raise :class:`NotFound`."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    return ticket


def ticket_by_number(session: Session, *, number: str) -> Ticket:
    """The ticket with this number (as customers and staff quote it), or :class:`NotFound`."""
    ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
    if ticket is None:
        raise NotFound(f"ticket {number} does not exist")
    return ticket


def ticket_of_caller(session: Session, *, number: str, phone: str) -> Ticket | None:
    """Ticket ``number`` if its customer is on file with ``phone``, else ``None``.

    Self-service lookups (the bot, an IVR) tell a ticket's state only to someone who knows
    both its number and its customer's phone; "no such number" and "not your ticket" answer
    the same, so the lookup reveals nothing. Example:
    ``ticket_of_caller(session, number="20261203000001", phone="13800138000")``.
    """
    ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
    if ticket is None or ticket.customer_id is None:
        return None
    owners = crm.customers_with_number(session, number=phone)
    followed = crm.get_customer(session, customer_id=ticket.customer_id).id
    return ticket if followed in owners else None


def list_tickets(
    session: Session,
    *,
    queues: Sequence[str] | None = None,
    states: Sequence[str] | None = None,
    assignee: str | None = None,
    customer_id: int | None = None,
    limit: int = 100,
    or_assigned_to: Sequence[str] = (),
    assigned_in: Sequence[str] | None = None,
) -> list[Ticket]:
    """Tickets, newest first, filtered by queues, states, assignee or customer.

    ``or_assigned_to`` widens ``queues``: tickets assigned to any of those names come too,
    whatever their queue (only from ``assigned_in`` when given) — an agent's list is their
    queues' tickets and their own, in one query rather than one per name.
    """
    query = select(Ticket)
    if queues is not None:
        scope: ColumnElement[bool] = Ticket.queue.in_(list(queues))
        if or_assigned_to:
            own: ColumnElement[bool] = Ticket.assignee.in_(list(or_assigned_to))
            if assigned_in is not None:
                own = own & Ticket.queue.in_(list(assigned_in))
            scope = or_(scope, own)
        query = query.where(scope)
    if states:
        query = query.where(Ticket.state.in_(list(states)))
    if assignee:
        query = query.where(Ticket.assignee == assignee)
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    return list(session.scalars(query.order_by(Ticket.id.desc()).limit(limit)))


def history(session: Session, *, ticket_id: int) -> list[TicketEvent]:
    """The ticket's history in order."""
    return list(
        session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
    )


def latest_verification(session: Session, ticket_id: int) -> TicketVerification | None:
    """The newest verification callback of a ticket."""
    return session.scalars(
        select(TicketVerification)
        .where(TicketVerification.ticket_id == ticket_id)
        .order_by(TicketVerification.id.desc())
        .limit(1)
    ).first()


def facts_of(session: Session, ticket: Ticket) -> TicketFacts:
    """What the pure rules need to know about ``ticket``."""
    # Only a resolved ticket's callback counts, and only one made since the fix: an unresolved
    # ticket (a new one, a reopened one) needs no look at its callbacks at all.
    check = latest_verification(session, ticket.id) if ticket.resolved_at is not None else None
    if check is not None and ticket.resolved_at is not None and check.at < ticket.resolved_at:
        # A callback about an earlier fix says nothing about the work done since a reopen.
        check = None
    return TicketFacts(
        type=TicketType(ticket.type),
        state=TicketState(ticket.state),
        warranty=ticket.warranty,
        assignee=ticket.assignee,
        provider=str(ticket.provider_id) if ticket.provider_id else None,
        verification=Verification(
            reached=check.reached,
            customer_confirmed=check.customer_confirmed,
            part_replaced=check.part_replaced,
            part_matches_fault=check.part_matches_fault,
            note=check.note,
        )
        if check
        else None,
        complaint_level=ComplaintLevel(ticket.complaint_level) if ticket.complaint_level else None,
        acknowledged=tuple(ticket.acknowledged),
        verification_waived=_waived(session, ticket),
    )


def _waived(session: Session, ticket: Ticket) -> bool:
    if ticket.resolved_at is None:
        return False
    found = session.scalar(
        select(TicketEvent.id)
        .where(
            TicketEvent.ticket_id == ticket.id,
            TicketEvent.action == WAIVED,
            TicketEvent.at >= ticket.resolved_at,
        )
        .limit(1)
    )
    return found is not None


def close_blockers_of(session: Session, *, ticket_id: int) -> list[str]:
    """What still keeps the ticket from closing (the closed loop: verification, parts
    check, complaint escalations), in English; empty when it may close."""
    return [blocker.text for blocker in what_blocks_closing_of(session, ticket_id=ticket_id)]


def what_blocks_closing_of(session: Session, *, ticket_id: int) -> list[CloseBlocker]:
    """The same reasons as :func:`close_blockers_of`, each with a code and its values, for
    a page to say them in its reader's language."""
    return what_blocks_closing(facts_of(session, get_ticket(session, ticket_id=ticket_id)))


def act(
    session: Session,
    *,
    ticket_id: int,
    action: str,
    actor: str,
    target: str | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Apply an action (assign, dispatch, resolve, close…) to a ticket, or raise Conflict.

    Example: ``act(session, ticket_id=5, action="assign", target="agent7", actor="lead1")``.
    """
    now = now or utcnow()
    ticket = get_ticket(session, ticket_id=ticket_id)
    step = Action(action)
    before = ticket.state
    state, effects = transition(facts_of(session, ticket), step, target=target)
    for effect in effects:
        _apply(session, ticket, effect, now=now, actor=actor)
    if step is Action.ASSIGN:
        ticket.assignee = target
    elif step is Action.DISPATCH and target:
        ticket.provider_id = _provider(session, target).id
    elif step is Action.CLOSE:
        ticket.closed_at = now
    elif step is Action.ESCALATE and ticket.type == TicketType.COMPLAINT and target:
        ticket.acknowledged = [*ticket.acknowledged, target]
    elif step is Action.REOPEN:
        ticket.closed_at = None
    ticket.state = state.value
    if any(effect.kind == "resume_clocks" for effect in effects):
        _move_due_time(session, ticket, now)
    _event(
        session,
        ticket,
        actor=actor,
        action=step.value,
        before=before,
        after=state.value,
        now=now,
        note=note,
        data=data,
    )
    audit(
        session,
        actor=actor,
        action=f"ticket.{step.value}",
        target=f"ticket:{ticket.number}",
        detail={"from": before, "to": state.value} | ({"target": target} if target else {}),
    )
    session.flush()
    return ticket


def _move_due_time(session: Session, ticket: Ticket, now: datetime) -> None:
    # The resolution clock stood still while waiting on the customer: the due time moves on.
    for status in sla_status(session, ticket=ticket, now=now):
        if (
            status.clock is sla.ClockName.RESOLUTION
            and status.due_at is not None
            and status.state is not sla.ClockState.BREACHED
        ):
            ticket.due_at = status.due_at


def _apply(session: Session, ticket: Ticket, effect: Effect, *, now: datetime, actor: str) -> None:
    kind, detail = effect.kind, effect.detail
    if kind == "pause_clocks" and ticket.paused_since is None:
        ticket.paused_since = now
    elif kind == "resume_clocks" and ticket.paused_since is not None:
        ticket.pauses = [*ticket.pauses, [ticket.paused_since.isoformat(), now.isoformat()]]
        ticket.paused_since = None
    elif kind == "stop_resolution_clock":
        ticket.resolved_at = now
    elif kind == "restart_resolution_clock":
        ticket.resolved_at = None
    elif kind == "claim":
        ticket.claim_status = detail["status"]
    elif kind == "responded":
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        ticket.last_update_at = now
    elif kind == "notify":
        _notify(session, ticket, detail, now=now, actor=actor)
    else:
        raise ValueError(f"the ticket workflow asked for an unknown effect {kind!r}")


def _notify(
    session: Session, ticket: Ticket, detail: dict[str, str], *, now: datetime, actor: str
) -> None:
    """Deliver a workflow ``notify`` effect as an in-app notification."""
    to = notifications.Addressee(detail["to_kind"], detail["to"])
    params = {k: v for k, v in detail.items() if k not in ("to_kind", "to", "notice")}
    params |= {"subject": ticket.subject, "by": actor}
    notifications.send(
        session,
        to=to,
        kind=detail["notice"],
        ticket_number=ticket.number,
        params=params,
        now=now,
    )


def _event(
    session: Session,
    ticket: Ticket,
    *,
    actor: str,
    action: str,
    before: str,
    after: str,
    now: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    session.info.setdefault(CHANGED, set()).add(ticket.id)
    event = TicketEvent(
        ticket_id=ticket.id,
        at=now,
        actor=actor,
        action=action,
        from_state=before,
        to_state=after,
        note=note,
        data=data or {},
    )
    session.add(event)
    return event


def record_event(
    session: Session,
    *,
    ticket: Ticket,
    actor: str,
    action: str,
    note: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> TicketEvent:
    """Append a history entry that changes no state (a note, a provider's acceptance…),
    audited as ``ticket.<action>``."""
    event = _event(
        session,
        ticket,
        actor=actor,
        action=action,
        before=ticket.state,
        after=ticket.state,
        now=now or utcnow(),
        note=note,
        data=data,
    )
    audit(session, actor=actor, action=f"ticket.{action}", target=f"ticket:{ticket.number}")
    session.flush()
    return event


def add_note(
    session: Session,
    *,
    ticket_id: int,
    actor: str,
    note: str,
    internal: bool,
    now: datetime | None = None,
) -> Ticket:
    """Add a note: an **internal** one only the desk reads (no SLA effect), or a reply to the
    customer, which is an update (:func:`respond`: it stops the first-response clock and
    restarts the next-update one).

    Example: ``add_note(session, ticket_id=5, actor="agent7", note="配件已订", internal=True)``.
    """
    if not internal:
        return respond(session, ticket_id=ticket_id, actor=actor, note=note, now=now)
    ticket = get_ticket(session, ticket_id=ticket_id)
    if ticket.state in (TicketState.CLOSED, TicketState.CANCELLED):
        raise Conflict(f"ticket {ticket.number} is {ticket.state}: reopen it to add notes")
    record_event(
        session, ticket=ticket, actor=actor, action="note", note=note, data={"internal": True}
    )
    return ticket


#: What may be attached to a ticket: photos of the fault or the nameplate, scanned invoices
#: and letters, plain-text notes; at most 10 MB each.
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/gif", "application/pdf", "text/plain")
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


def attach_file(
    session: Session,
    *,
    ticket_id: int,
    filename: str,
    media_type: str,
    data: bytes,
    actor: str,
) -> TicketAttachment:
    """Keep a file with the ticket, after :func:`hotline.core.files.check_file` (type, size,
    content matching its type); its history says who attached what.

    Example: ``attach_file(session, ticket_id=5, filename="铭牌.jpg", media_type="image/jpeg",
    data=photo, actor="a001")``.
    """
    ticket = get_ticket(session, ticket_id=ticket_id)
    problem = check_file(
        name=filename,
        content_type=media_type,
        data=data,
        allowed_types=ATTACHMENT_TYPES,
        max_bytes=ATTACHMENT_MAX_BYTES,
    )
    if problem is not None:
        raise ValidationFailed([Problem(rule=problem, field="file")])
    digest = hashlib.sha256(data).hexdigest()
    attachment = TicketAttachment(
        ticket_id=ticket.id,
        filename=filename,
        media_type=media_type,
        size_bytes=len(data),
        sha256=digest,
        data=data,
        uploaded_by=actor,
    )
    session.add(attachment)
    session.flush()
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        action="attachment",
        data={"internal": True, "attachment_id": attachment.id, "filename": filename},
    )
    return attachment


def attachments_of(session: Session, *, ticket_id: int) -> list[TicketAttachment]:
    """The ticket's files, oldest first (their bytes are loaded only when read)."""
    return list(
        session.scalars(
            select(TicketAttachment)
            .where(TicketAttachment.ticket_id == ticket_id)
            .order_by(TicketAttachment.id)
            .options(defer(TicketAttachment.data))
        )
    )


def read_attachment(session: Session, *, attachment_id: int, actor: str) -> TicketAttachment:
    """One attachment with its bytes, the reading audited (``ticket.attachment_read``)."""
    attachment = session.get(TicketAttachment, attachment_id)
    if attachment is None:
        raise NotFound(f"attachment {attachment_id} does not exist")
    audit(
        session,
        actor=actor,
        action="ticket.attachment_read",
        target=f"ticket:{attachment.ticket_id}",
        detail={"attachment_id": attachment.id, "filename": attachment.filename},
    )
    return attachment


def link_tickets(
    session: Session, *, ticket_id: int, other_id: int, actor: str, now: datetime | None = None
) -> Ticket:
    """Link two tickets about related problems (the same fault reported twice over time, an
    installation and its later repair): each one's history names the other."""
    ticket, other = (
        get_ticket(session, ticket_id=ticket_id),
        get_ticket(session, ticket_id=other_id),
    )
    if ticket.id == other.id:
        raise Conflict("a ticket cannot be linked to itself")
    if other.id in linked_ids(session, ticket_id=ticket.id):
        raise Conflict(f"tickets {ticket.number} and {other.number} are already linked")
    for one, two in ((ticket, other), (other, ticket)):
        record_event(
            session,
            ticket=one,
            actor=actor,
            action="link",
            data={"ticket_id": two.id, "number": two.number},
            now=now,
        )
    return ticket


def merge_ticket(
    session: Session, *, ticket_id: int, into_id: int, actor: str, now: datetime | None = None
) -> Ticket:
    """Merge a duplicate into the ticket that carries on: the duplicate is cancelled with a
    note naming the survivor, both histories record the merge, and they stay linked.

    Example: ``merge_ticket(session, ticket_id=8, into_id=5, actor="lead1")``.
    """
    duplicate, survivor = (
        get_ticket(session, ticket_id=ticket_id),
        get_ticket(session, ticket_id=into_id),
    )
    if duplicate.id == survivor.id:
        raise Conflict("a ticket cannot be merged into itself")
    if survivor.state in (TicketState.CLOSED, TicketState.CANCELLED):
        raise Conflict(f"ticket {survivor.number} is {survivor.state}: merge into an open one")
    act(
        session,
        ticket_id=duplicate.id,
        action=Action.CANCEL.value,
        actor=actor,
        note=f"merged into {survivor.number}",
        data={"merged_into": survivor.id, "number": survivor.number},
        now=now,
    )
    record_event(
        session,
        ticket=survivor,
        actor=actor,
        action="merge",
        data={"ticket_id": duplicate.id, "number": duplicate.number},
        now=now,
    )
    return survivor


def linked_ids(session: Session, *, ticket_id: int) -> list[int]:
    """The tickets linked to or merged with this one, in the order they were."""
    found: list[int] = []
    for event in history(session, ticket_id=ticket_id):
        other = event.data.get("ticket_id") or event.data.get("merged_into")
        if event.action in ("link", "merge", "cancel") and other and other not in found:
            found.append(int(other))
    return found


def respond(
    session: Session, *, ticket_id: int, actor: str, note: str, now: datetime | None = None
) -> Ticket:
    """Record an update sent to the customer: stops the first-response clock the first time,
    restarts the next-update clock every time; a new ticket is then open."""
    return act(
        session, ticket_id=ticket_id, action=Action.UPDATE.value, actor=actor, note=note, now=now
    )


def provider_update(
    session: Session,
    *,
    ticket_id: int,
    provider: str,
    note: str,
    completed: bool = False,
    parts: Sequence[str] = (),
    now: datetime | None = None,
) -> Ticket:
    """Record an update from the dispatched provider (arrived, part ordered, completed…)."""
    ticket = get_ticket(session, ticket_id=ticket_id)
    sender = _provider(session, provider)
    if ticket.provider_id != sender.id:
        raise Conflict(f"ticket {ticket.number} is not dispatched to {provider}")
    action = Action.PROVIDER_COMPLETED if completed else Action.PROVIDER_UPDATE
    return act(
        session,
        ticket_id=ticket_id,
        action=action.value,
        actor=f"provider:{provider}",
        note=note,
        data={"parts": list(parts)} if parts else None,
        now=now,
    )


def record_verification(
    session: Session,
    *,
    ticket_id: int,
    actor: str,
    reached: bool,
    customer_confirmed: bool,
    part_replaced: bool = False,
    part_matches_fault: bool | None = None,
    note: str = "",
    now: datetime | None = None,
    reopen: bool = True,
) -> TicketVerification:
    """Record the verification callback (回访) of a resolved work order.

    If the customer was reached and says the problem is not fixed, the ticket reopens
    (unless ``reopen`` is false: the follow-up rules open a complaint about it instead).
    """
    now = now or utcnow()
    ticket = get_ticket(session, ticket_id=ticket_id)
    check = TicketVerification(
        ticket_id=ticket.id,
        at=now,
        actor=actor,
        reached=reached,
        customer_confirmed=customer_confirmed,
        part_replaced=part_replaced,
        part_matches_fault=part_matches_fault,
        note=note,
    )
    transition(facts_of(session, ticket), Action.VERIFY)  # only a resolved ticket is verified
    session.add(check)
    session.flush()
    act(
        session,
        ticket_id=ticket_id,
        action=Action.VERIFY.value,
        actor=actor,
        note=note,
        data={
            "reached": reached,
            "customer_confirmed": customer_confirmed,
            "part_replaced": part_replaced,
            "part_matches_fault": part_matches_fault,
        },
        now=now,
    )
    if reached and not customer_confirmed and reopen:
        act(
            session,
            ticket_id=ticket_id,
            action=Action.REOPEN.value,
            actor=actor,
            note="verification callback: the customer says the problem is not solved",
            now=now,
        )
    return check


# ---------------------------------------------------------------- follow-up (回访) facts

#: The ticket event that says this resolution needs no verification callback to close.
WAIVED = "verification_waived"
#: The ticket event that says a follow-up held the provider's claim.
CLAIM_FLAGGED = "claim_flagged"


@dataclass(frozen=True)
class ResolutionFacts:
    """A resolved work order or a closed complaint, as the follow-up rules see it.

    ``at`` is when it was resolved (for a complaint: closed); ``parts`` are the parts the
    provider reported replacing on the visit that resolved it.
    """

    ticket_id: int
    number: str
    type: str
    category: str
    state: str
    warranty: bool
    parts: tuple[str, ...]
    at: datetime
    provider: str | None
    product_model: str
    customer_id: int | None
    subject: str


FOLLOWED_TYPES = (TicketType.REPAIR.value, TicketType.INSTALLATION.value)


def _parts_reported(session: Session, ticket_id: int) -> tuple[str, ...]:
    rows = session.scalars(
        select(TicketEvent.data)
        .where(
            TicketEvent.ticket_id == ticket_id,
            TicketEvent.action.in_(("provider_completed", "provider_update")),
        )
        .order_by(TicketEvent.id.desc())
    )
    for data in rows:
        if data and data.get("parts"):
            return tuple(str(part) for part in data["parts"])
    return ()


def resolution_of(session: Session, *, ticket_id: int) -> ResolutionFacts | None:
    """The ticket's current resolution, or ``None`` when it has none: a repair or
    installation order not resolved, a complaint not closed, or any other ticket."""
    ticket = get_ticket(session, ticket_id=ticket_id)
    return _resolution(session, ticket)


def _resolution(session: Session, ticket: Ticket) -> ResolutionFacts | None:
    at: datetime | None
    if ticket.type in FOLLOWED_TYPES and ticket.state in ("resolved", "closed"):
        at = ticket.resolved_at
    elif ticket.type == TicketType.COMPLAINT and ticket.state == "closed":
        at = ticket.closed_at
    else:
        return None
    if at is None:
        return None
    provider = session.get(ServiceProvider, ticket.provider_id) if ticket.provider_id else None
    return ResolutionFacts(
        ticket_id=ticket.id,
        number=ticket.number,
        type=ticket.type,
        category=ticket.category,
        state=ticket.state,
        warranty=ticket.warranty,
        parts=_parts_reported(session, ticket.id),
        at=at,
        provider=provider.code if provider else None,
        product_model=ticket.product_model,
        customer_id=ticket.customer_id,
        subject=ticket.subject,
    )


def resolutions_since(session: Session, *, since: datetime) -> list[ResolutionFacts]:
    """Every current resolution from ``since`` on (the follow-up sweep's input)."""
    query = select(Ticket).where(
        or_(
            (Ticket.type.in_(FOLLOWED_TYPES))
            & Ticket.state.in_(("resolved", "closed"))
            & (Ticket.resolved_at >= since),
            (Ticket.type == TicketType.COMPLAINT.value)
            & (Ticket.state == "closed")
            & (Ticket.closed_at >= since),
        )
    )
    found = (_resolution(session, ticket) for ticket in session.scalars(query.order_by(Ticket.id)))
    return [facts for facts in found if facts is not None]


@dataclass(frozen=True)
class ResolvedTicket:
    """A ticket resolved at ``resolved_at``, as a post-resolution survey sees it."""

    ticket_id: int
    number: str
    type: str
    resolved_at: datetime
    customer_id: int | None
    contact_id: str | None
    queue: str
    assignee: str | None


def resolved_since(
    session: Session, *, since: datetime, types: Sequence[str]
) -> list[ResolvedTicket]:
    """The tickets of ``types`` resolved from ``since`` on (still resolved or closed since),
    oldest resolution first: what the survey sweep may follow with a link."""
    query = (
        select(Ticket)
        .where(
            Ticket.type.in_(list(types)),
            Ticket.state.in_(("resolved", "closed")),
            Ticket.resolved_at >= since,
        )
        .order_by(Ticket.resolved_at, Ticket.id)
    )
    return [
        ResolvedTicket(
            t.id, t.number, t.type, t.resolved_at, t.customer_id, t.contact_id, t.queue, t.assignee
        )
        for t in session.scalars(query)
        if t.resolved_at is not None
    ]


@dataclass(frozen=True, slots=True)
class Appointment:
    """An open field-service order's agreed visit: what an appointment reminder needs."""

    ticket_id: int
    number: str
    type: str
    customer_id: int | None
    starts: datetime
    ends: datetime


def appointments_between(session: Session, *, start: datetime, end: datetime) -> list[Appointment]:
    """The open orders whose appointment window opens from ``start`` until ``end``, soonest
    first: the visits the SMS reminder sweep may tell customers about."""
    query = (
        select(Ticket)
        .where(
            Ticket.state.in_(sorted(state.value for state in OPEN_STATES)),
            Ticket.appointment_from >= start,
            Ticket.appointment_from < end,
        )
        .order_by(Ticket.appointment_from, Ticket.id)
    )
    return [
        Appointment(t.id, t.number, t.type, t.customer_id, t.appointment_from, t.appointment_to)
        for t in session.scalars(query)
        if t.appointment_from is not None and t.appointment_to is not None
    ]


def waive_verification(
    session: Session, *, ticket_id: int, actor: str, reason: str, now: datetime | None = None
) -> None:
    """Record that this resolution may close without a verification callback (the
    follow-up rules did not sample it, or do not hold its close)."""
    ticket = get_ticket(session, ticket_id=ticket_id)
    if not _waived(session, ticket):
        record_event(session, ticket=ticket, actor=actor, action=WAIVED, note=reason, now=now)


def flag_claim(
    session: Session,
    *,
    ticket_id: int,
    flags: Sequence[str],
    actor: str,
    now: datetime | None = None,
) -> None:
    """Note on the ticket that the follow-up held the provider's claim, and why."""
    ticket = get_ticket(session, ticket_id=ticket_id)
    record_event(
        session,
        ticket=ticket,
        actor=actor,
        action=CLAIM_FLAGGED,
        note=", ".join(flags),
        data={"flags": list(flags)},
        now=now,
    )


def reopen(
    session: Session, *, ticket_id: int, actor: str, note: str, now: datetime | None = None
) -> Ticket:
    """Reopen a resolved or closed ticket (a follow-up found it not settled)."""
    return act(
        session, ticket_id=ticket_id, action=Action.REOPEN.value, actor=actor, note=note, now=now
    )


@dataclass(frozen=True)
class SubmittedClaim:
    """A provider's warranty claim for one work order, as submitted in the portal."""

    ticket_id: int
    number: str
    provider: str
    at: datetime
    parts: tuple[str, ...]
    amount_yuan: float
    labour_yuan: float
    parts_yuan: float
    travel_yuan: float
    claim_status: str
    verified: bool
    product_model: str


def submitted_claims(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    provider: str | None = None,
    ticket_id: int | None = None,
) -> list[SubmittedClaim]:
    """The warranty claims submitted in ``[since, until)``, oldest first, with whether the
    order's current resolution was verified (reached, confirmed, parts matching)."""
    query = (
        select(TicketEvent, Ticket)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.action == "claim_submitted",
            TicketEvent.at >= since,
            TicketEvent.at < until,
        )
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    if ticket_id is not None:
        query = query.where(TicketEvent.ticket_id == ticket_id)
    claims: list[SubmittedClaim] = []
    for event, ticket in session.execute(query):
        data = event.data or {}
        code = str(data.get("provider", ""))
        if provider is not None and code != provider:
            continue
        check = facts_of(session, ticket).verification
        verified = bool(
            check
            and check.reached
            and check.customer_confirmed
            and check.part_matches_fault is not False
        )
        amount = float(data.get("amount_yuan", 0))
        labour = float(data.get("labour_yuan", 0))
        travel = float(data.get("travel_yuan", 0))
        claims.append(
            SubmittedClaim(
                ticket_id=ticket.id,
                number=ticket.number,
                provider=code,
                at=event.at,
                parts=tuple(str(p) for p in data.get("parts", [])),
                amount_yuan=amount,
                labour_yuan=labour,
                parts_yuan=float(data.get("parts_yuan", max(amount - labour - travel, 0.0))),
                travel_yuan=travel,
                claim_status=ticket.claim_status,
                verified=verified,
                product_model=ticket.product_model,
            )
        )
    return claims


def raise_complaint_level(
    session: Session, *, ticket_id: int, level: str, actor: str, now: datetime | None = None
) -> Ticket:
    """Raise a complaint to a more serious level; its escalation path grows accordingly.

    Levels only go up: a complaint that reached the manager stays on the manager's desk.
    """
    now = now or utcnow()
    ticket = get_ticket(session, ticket_id=ticket_id)
    if ticket.type != TicketType.COMPLAINT or ticket.complaint_level is None:
        raise Conflict("only complaints have a level")
    new = ComplaintLevel(level)
    if int(new.value) <= int(ticket.complaint_level):
        raise Conflict(f"a complaint's level only goes up (it is {ticket.complaint_level})")
    before = ticket.complaint_level
    ticket.complaint_level = new.value
    _event(
        session,
        ticket,
        actor=actor,
        action="raise_level",
        before=ticket.state,
        after=ticket.state,
        now=now,
        data={"from": before, "to": new.value},
    )
    for effect in complaint_notices(facts_of(session, ticket)):
        _apply(session, ticket, effect, now=now, actor=actor)
    audit(
        session,
        actor=actor,
        action="ticket.raise_level",
        target=f"ticket:{ticket.number}",
        detail={"from": before, "to": new.value},
    )
    session.flush()
    return ticket


def link_article(session: Session, *, ticket_id: int, article_id: int, actor: str) -> TicketArticle:
    """Link the published knowledge-base article an agent used on this ticket."""
    ticket = get_ticket(session, ticket_id=ticket_id)
    version = kb.record_use(session, article_id=article_id)
    existing = session.scalars(
        select(TicketArticle).where(
            TicketArticle.ticket_id == ticket.id, TicketArticle.article_id == article_id
        )
    ).first()
    if existing is not None:
        return existing
    link = TicketArticle(ticket_id=ticket.id, article_id=article_id, version=version, actor=actor)
    session.add(link)
    audit(
        session,
        actor=actor,
        action="ticket.link_article",
        target=f"ticket:{ticket.number}",
        detail={"article": article_id, "version": version},
    )
    session.flush()
    return link


# ---------------------------------------------------------------- SLA


def _pauses(ticket: Ticket) -> tuple[Interval, ...]:
    return tuple((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in ticket.pauses)


def policy_of(ticket: Ticket) -> sla.SlaPolicy:
    """The SLA policy fixed on the ticket when it was created."""
    fixed = dict(ticket.sla)
    fixed["escalate_to"] = tuple(fixed.get("escalate_to", ()))
    return sla.SlaPolicy(**fixed)


def sla_status(session: Session, *, ticket: Ticket, now: datetime) -> list[sla.ClockStatus]:
    """Evaluate the ticket's SLA clocks at ``now`` on its calendar."""
    calendar = load_calendar(session, ticket.calendar)
    return sla.evaluate(policy_of(ticket), _timeline(ticket), calendar, now)


def resolution_status(
    session: Session,
    *,
    ticket: Ticket,
    now: datetime,
    calendars: dict[str | None, BusinessCalendar] | None = None,
) -> sla.ClockStatus:
    """The ticket's resolution clock at ``now`` (the one a work queue sorts and counts down
    by); ``calendars`` caches the calendars across the tickets of one page."""
    calendars = {} if calendars is None else calendars
    if ticket.calendar not in calendars:
        calendars[ticket.calendar] = load_calendar(session, ticket.calendar)
    return sla.evaluate_resolution(
        policy_of(ticket), _timeline(ticket), calendars[ticket.calendar], now
    )


def _timeline(ticket: Ticket) -> sla.Timeline:
    return sla.Timeline(
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        last_update_at=ticket.last_update_at,
        resolved_at=ticket.resolved_at,
        pauses=_pauses(ticket),
        paused_since=ticket.paused_since,
    )


def check_sla(session: Session, *, now: datetime, actor: str = "sla") -> list[dict[str, Any]]:
    """Escalate every open ticket whose clocks warn or breach; each escalation is sent once.

    Returns the escalations sent now (ticket, clock, stage, role). Run it every minute.
    """
    sent_now: list[dict[str, Any]] = []
    open_states = sorted(state.value for state in OPEN_STATES)
    for ticket in session.scalars(select(Ticket).where(Ticket.state.in_(open_states))):
        statuses = sla_status(session, ticket=ticket, now=now)
        wanted = sla.escalations(policy_of(ticket), statuses)
        if not wanted:
            continue
        already = {
            (e.data.get("clock"), e.data.get("stage"), e.data.get("since"))
            for e in session.scalars(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == ticket.id, TicketEvent.action == "sla_escalation"
                )
            )
        }
        # The next-update clock restarts with every update; its escalations are per restart.
        since = (ticket.last_update_at or ticket.created_at).isoformat()
        for escalation in wanted:
            key_since = since if escalation.clock is sla.ClockName.NEXT_UPDATE else ""
            key = (escalation.clock.value, escalation.stage, key_since)
            if key in already:
                continue
            data = {"clock": key[0], "stage": key[1], "since": key_since, "role": escalation.role}
            notice = notify("role", escalation.role, "sla_escalation", clock=key[0], stage=key[1])
            _apply(session, ticket, notice, now=now, actor=actor)
            _event(
                session,
                ticket,
                actor=actor,
                action="sla_escalation",
                before=ticket.state,
                after=ticket.state,
                now=now,
                data=data,
            )
            sent_now.append({"ticket": ticket.number} | data)
    session.flush()
    return sent_now


def deferred_work(
    session: Session, *, start: datetime, end: datetime, queue: str | None = None
) -> figures.DeferredWorkFigures:
    """Deferred-work figures (METRICS.md) of ``queue``'s tickets (or all) for ``[start, end)``."""
    query = select(Ticket).where(Ticket.created_at < end)
    if queue is not None:
        query = query.where(Ticket.queue == queue)
    calendars: dict[str | None, BusinessCalendar] = {}
    items: list[figures.WorkItem] = []
    for ticket in session.scalars(query):
        if ticket.calendar not in calendars:
            calendars[ticket.calendar] = load_calendar(session, ticket.calendar)
        cal = calendars[ticket.calendar]
        pauses = _pauses(ticket)
        first = (
            cal.business_seconds(ticket.created_at, ticket.first_response_at, pauses)
            if ticket.first_response_at
            else None
        )
        resolution = (
            cal.business_seconds(ticket.created_at, ticket.resolved_at, pauses)
            if ticket.resolved_at
            else None
        )
        closed = ticket.closed_at
        if ticket.state == TicketState.CANCELLED:
            continue
        items.append(figures.WorkItem(ticket.created_at, ticket.due_at, closed, first, resolution))
    return figures.deferred_work_figures(items, start=start, end=end)


def opened_per_day(
    session: Session, *, start: datetime, end: datetime, ticket_type: str, timezone: str
) -> dict[date, int]:
    """How many tickets of ``ticket_type`` (e.g. ``complaint``) were opened on each local day
    of ``[start, end)``, cancelled ones included (the customer still complained)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    counts: dict[date, int] = {}
    query = select(Ticket.created_at).where(
        Ticket.type == ticket_type, Ticket.created_at >= start, Ticket.created_at < end
    )
    for created in session.scalars(query):
        day = created.astimezone(zone).date()
        counts[day] = counts.get(day, 0) + 1
    return counts


def opened_by_category(
    session: Session, *, start: datetime, end: datetime, limit: int = 5
) -> list[tuple[str, int]]:
    """The ``limit`` most frequent categories (the reasons customers got in touch) of tickets
    opened in ``[start, end)``, most first; uncategorised tickets count as ``""``."""
    count = func.count(Ticket.id)
    query = (
        select(Ticket.category, count)
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .group_by(Ticket.category)
        .order_by(count.desc(), Ticket.category)
        .limit(limit)
    )
    return [(category or "", int(number)) for category, number in session.execute(query)]


def ticket_view(ticket: Ticket, *, masked: bool = False) -> dict[str, Any]:
    """A ticket as the API returns it (custom fields masked for roles without personal data)."""
    return {
        "id": ticket.id,
        "number": ticket.number,
        "type": ticket.type,
        "category": ticket.category,
        "priority": ticket.priority,
        "state": ticket.state,
        "subject": ticket.subject,
        "description": ticket.description if not masked else "",
        "customer_id": ticket.customer_id,
        "product_id": ticket.product_id,
        "queue": ticket.queue,
        "assignee": ticket.assignee,
        "provider_id": ticket.provider_id,
        "warranty": ticket.warranty,
        "complaint_level": ticket.complaint_level,
        "acknowledged": list(ticket.acknowledged),
        "claim_status": ticket.claim_status,
        "custom_fields": {} if masked else dict(ticket.custom_fields),
        "created_at": ticket.created_at.isoformat(),
        "due_at": ticket.due_at.isoformat() if ticket.due_at else None,
        "first_response_at": _iso(ticket.first_response_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "region": ticket.region,
        "product_model": ticket.product_model,
        "appointment_from": _iso(ticket.appointment_from),
        "appointment_to": _iso(ticket.appointment_to),
        "accepted_at": _iso(ticket.accepted_at),
        "paused": ticket.paused_since is not None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# ---------------------------------------------------------------- per customer

# The tickets a screen pop shows: every one not yet finished (closed or cancelled). A resolved
# ticket still shows, since it waits for its verification callback (workflow.NOT_FINISHED_STATES).
_SCREEN_POP_STATES = sorted(state.value for state in NOT_FINISHED_STATES)
_tickets = Ticket.__table__.c
_CUSTOMER_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
# A prebuilt Core statement, not an ORM query: it runs on every inbound call's screen pop
# (p99 target 5 ms) and statement building was half the time.
_OPEN_TICKETS_OF = (
    select(
        _tickets.id,
        _tickets.number,
        _tickets.type,
        _tickets.state,
        _tickets.subject,
        _tickets.due_at,
        _tickets.queue,
        _tickets.assignee,
    )
    .where(_tickets.customer_id.in_(_CUSTOMER_IDS), _tickets.state.in_(_SCREEN_POP_STATES))
    .order_by(_tickets.id.desc())
)


def open_tickets_of(session: Session, *, customer_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The open tickets of these customers, newest first, as the screen pop lists them.

    Example::

        open_tickets_of(session, customer_ids=[42])[0]["number"]
    """
    if not customer_ids:
        return []
    session.flush()  # the connection does not autoflush as session.execute would
    rows = session.connection().execute(_OPEN_TICKETS_OF, {"ids": list(customer_ids)})
    return [
        {
            "id": t.id,
            "number": t.number,
            "type": t.type,
            "state": t.state,
            "subject": t.subject,
            "due_at": t.due_at.isoformat() if t.due_at else None,
            # Who may see the ticket depends on these (the web layer leaves out the rest).
            "queue": t.queue,
            "assignee": t.assignee,
        }
        for t in rows
    ]


def _ticket_ids_of(session: Session, customer_id: int) -> list[int]:
    return list(session.scalars(select(Ticket.id).where(Ticket.customer_id == customer_id)))


def _move_tickets(
    session: Session, ids: Sequence[int], from_customer_id: int, to_customer_id: int
) -> None:
    session.execute(
        update(Ticket)
        .where(Ticket.id.in_(ids), Ticket.customer_id == from_customer_id)
        .values(customer_id=to_customer_id),
        execution_options={"synchronize_session": False},
    )


# A customer's tickets follow the customer through a merge and back through its undo.
CUSTOMER_TICKETS = crm.FollowingRecords(name="tickets", ids_of=_ticket_ids_of, move=_move_tickets)


#: The history entries of a provider's reported visits (``field_service.report_visit``).
_VISIT_ACTIONS = ("provider_update", "provider_completed")


def fault_statistics(
    session: Session, *, start: datetime, end: datetime, timezone: str = "UTC"
) -> list[faults.ModelFaults]:
    """Fault statistics per product line and model of the repairs opened in ``[start, end)``
    (:mod:`hotline.tickets.faults`), months counted in ``timezone``.

    Reads the repairs opened from :data:`~hotline.tickets.faults.REPEAT_WINDOW` before
    ``start`` (to find repeats across it), their products and their reported visits.
    """
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(timezone)
    tickets = list(
        session.execute(
            select(
                Ticket.id,
                Ticket.created_at,
                Ticket.category,
                Ticket.product_model,
                Ticket.product_id,
                Ticket.custom_fields,
            )
            .where(
                Ticket.type == TicketType.REPAIR,
                Ticket.created_at >= start - faults.REPEAT_WINDOW,
                Ticket.created_at < end,
            )
            .order_by(Ticket.id)
        )
    )
    products = crm.products_by_id(
        session, product_ids=[row.product_id for row in tickets if row.product_id is not None]
    )
    visits: dict[int, list[faults.RepairVisit]] = {}
    ids = [row.id for row in tickets]
    for first in range(0, len(ids), 500):
        events = session.execute(
            select(TicketEvent.ticket_id, TicketEvent.data).where(
                TicketEvent.ticket_id.in_(ids[first : first + 500]),
                TicketEvent.action.in_(_VISIT_ACTIONS),
            )
        )
        for ticket_id, data in events:
            if not data or not data.get("visit"):
                continue
            visits.setdefault(ticket_id, []).append(
                faults.RepairVisit(
                    arrived_at=datetime.fromisoformat(data["arrived_at"]),
                    fault_found=str(data.get("fault_found") or ""),
                    parts=tuple(str(part) for part in data.get("parts") or ()),
                    fixed=bool(data.get("fixed")),
                )
            )
    repairs: list[faults.Repair] = []
    for row in tickets:
        product = products.get(row.product_id) if row.product_id is not None else None
        custom = row.custom_fields or {}
        repairs.append(
            faults.Repair(
                ticket_id=row.id,
                opened_at=row.created_at,
                product_line=(product.category if product else "") or row.category or "",
                model=(product.model if product else "") or row.product_model or "",
                serial_number=product.serial_number if product else None,
                desk_fault=str(custom.get("fault") or ""),
                visits=tuple(visits.get(row.id, ())),
            )
        )
    months = {r.ticket_id: r.opened_at.astimezone(zone).strftime("%Y-%m") for r in repairs}
    return faults.fault_statistics(repairs, start=start, end=end, month_of=months)
