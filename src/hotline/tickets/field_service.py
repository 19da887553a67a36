"""Field service on a database session: dispatch, the provider's own steps, their figures.

The dispatcher sends a repair or installation order to a provider that serves its region
and product with room to spare (:mod:`hotline.tickets.dispatch` decides; the providers, their
service areas and capacities come from the center configuration) with an appointment window,
and may send it to another provider later (reassign). The provider's staff then, in the
provider portal, **accept** the order, **schedule** the visit (a new window), **report the
visit** (arrival, fault found, parts used, fixed or not; a fix resolves the order, which then
waits for the center's verification callback) and **submit a warranty claim** for the parts.

Every step goes through the ticket workflow (:func:`hotline.tickets.service.act`) or appends
a history entry, so the ticket page shows it, and is audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.config.center import ServiceProviderConfig
from hotline.core.errors import Conflict, NotFound, Problem, ValidationFailed
from hotline.store.db import utcnow
from hotline.store.models.tickets import ServiceProvider, Ticket, TicketEvent
from hotline.tickets import dispatch, service
from hotline.tickets.workflow import FIELD_WORK, OPEN_STATES, TicketState, TicketType

_OPEN = sorted(state.value for state in OPEN_STATES)
VISIT_ACTIONS = ("provider_update", "provider_completed")


def open_loads(session: Session) -> dict[str, int]:
    """Open work orders per provider code (the load dispatch weighs against capacity)."""
    rows = session.execute(
        select(ServiceProvider.code, func.count(Ticket.id))
        .join(Ticket, Ticket.provider_id == ServiceProvider.id)
        .where(Ticket.state.in_(_OPEN))
        .group_by(ServiceProvider.code)
    )
    return {code: count for code, count in rows}


def _offers(
    session: Session, providers: Sequence[ServiceProviderConfig], *, ticket: Ticket
) -> list[dispatch.ProviderOffer]:
    loads = open_loads(session)
    current = provider_code(session, ticket.provider_id) if ticket.state in _OPEN else None
    return [
        dispatch.ProviderOffer(
            code=p.code,
            name=p.name or p.code,
            regions=tuple(p.regions),
            categories=tuple(p.categories),
            capacity=p.capacity,
            # The order itself does not count against the provider that already holds it.
            open_load=loads.get(p.code, 0) - (1 if p.code == current else 0),
        )
        for p in providers
    ]


def provider_code(session: Session, provider_id: int | None) -> str | None:
    """The code of the provider with database id ``provider_id`` (``None`` for none)."""
    if provider_id is None:
        return None
    provider = session.get(ServiceProvider, provider_id)
    return provider.code if provider else None


def suggest(
    session: Session, *, ticket_id: int, providers: Sequence[ServiceProviderConfig]
) -> list[dispatch.ProviderFit]:
    """Every configured provider checked for this work order, those that fit first."""
    ticket = service.get_ticket(session, ticket_id=ticket_id)
    return dispatch.rank_providers(
        _offers(session, providers, ticket=ticket), region=ticket.region, category=ticket.category
    )


def _check_window(start: datetime | None, end: datetime | None) -> None:
    problems: list[Problem] = []
    for name, moment in (("appointment_from", start), ("appointment_to", end)):
        if moment is None:
            problems.append(Problem("an appointment window needs a start and an end", field=name))
        elif moment.tzinfo is None:
            problems.append(Problem("needs a time zone (e.g. +08:00)", field=name))
    if not problems and start is not None and end is not None and end <= start:
        problems.append(Problem("must be after appointment_from", field="appointment_to"))
    if problems:
        raise ValidationFailed(problems)


def _provider_row(session: Session, config: ServiceProviderConfig) -> ServiceProvider:
    """The provider's row (tickets point at it), created from the configuration if new."""
    query = select(ServiceProvider).where(ServiceProvider.code == config.code)
    row = session.scalars(query).first()
    if row is None:
        region = config.regions[0] if config.regions else ""
        row = ServiceProvider(code=config.code, name=config.name or config.code, region=region)
        session.add(row)
        session.flush()
    elif not row.active:
        raise Conflict(f"service provider {config.code!r} is inactive")
    return row


def dispatch_order(
    session: Session,
    *,
    ticket_id: int,
    provider: str,
    providers: Sequence[ServiceProviderConfig],
    appointment_from: datetime,
    appointment_to: datetime,
    actor: str,
    region: str | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Dispatch (or re-dispatch) a work order to ``provider`` with an appointment window.

    The provider must be configured and fit the order (region, category, capacity): else
    :class:`Conflict` says why. ``region`` sets the order's region first when given.

    Example::

        dispatch_order(session, ticket_id=7, provider="hf-anjia",
                       providers=center.service_providers, appointment_from=t0,
                       appointment_to=t0 + timedelta(hours=2), actor="disp1")
    """
    ticket = service.get_ticket(session, ticket_id=ticket_id)
    if TicketType(ticket.type) not in FIELD_WORK:
        raise Conflict(f"only repair and installation orders are dispatched, not {ticket.type}")
    _check_window(appointment_from, appointment_to)
    config = next((p for p in providers if p.code == provider), None)
    if config is None:
        raise NotFound(f"service provider {provider!r} is not in the center configuration")
    if region is not None and region != ticket.region:
        ticket.region = region
    (offer,) = [o for o in _offers(session, providers, ticket=ticket) if o.code == provider]
    checked = dispatch.fit(offer, region=ticket.region, category=ticket.category)
    if not checked.eligible:
        raise Conflict(f"provider {provider} cannot take this order: {'; '.join(checked.reasons)}")
    previous = provider_code(session, ticket.provider_id)
    _provider_row(session, config)
    data: dict[str, Any] = {
        "provider": provider,
        "appointment_from": appointment_from.isoformat(),
        "appointment_to": appointment_to.isoformat(),
        "region": ticket.region,
    }
    if previous and previous != provider and ticket.state == TicketState.DISPATCHED:
        data["reassigned_from"] = previous
    service.act(
        session,
        ticket_id=ticket.id,
        action="dispatch",
        target=provider,
        actor=actor,
        note=note,
        data=data,
        now=now,
    )
    ticket.appointment_from = appointment_from
    ticket.appointment_to = appointment_to
    ticket.accepted_at = None
    session.flush()
    return ticket


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _own_order(session: Session, ticket_id: int, provider: str) -> Ticket:
    """The ticket, if it is dispatched to ``provider``; "not found" otherwise (a provider
    learns nothing about other providers' orders)."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or provider_code(session, ticket.provider_id) != provider:
        raise NotFound(f"work order {ticket_id} does not exist")
    return ticket


def provider_orders(
    session: Session, *, provider: str, states: Sequence[str] = (), limit: int = 200
) -> list[Ticket]:
    """The work orders dispatched to ``provider``: open ones by appointment, then the rest."""
    row = session.scalars(select(ServiceProvider).where(ServiceProvider.code == provider)).first()
    if row is None:
        return []
    query = select(Ticket).where(Ticket.provider_id == row.id)
    if states:
        query = query.where(Ticket.state.in_(list(states)))
    order = (Ticket.appointment_from.is_(None), Ticket.appointment_from, Ticket.id.desc())
    return list(session.scalars(query.order_by(*order).limit(limit)))


def accept(
    session: Session, *, ticket_id: int, provider: str, actor: str, now: datetime | None = None
) -> Ticket:
    """The provider accepts a work order dispatched to it."""
    now = now or utcnow()
    ticket = _own_order(session, ticket_id, provider)
    if ticket.state != TicketState.DISPATCHED:
        raise Conflict(f"work order {ticket.number} is {ticket.state}, not waiting for a provider")
    if ticket.accepted_at is not None:
        raise Conflict(f"work order {ticket.number} is already accepted")
    ticket.accepted_at = now
    service.record_event(
        session,
        ticket=ticket,
        actor=actor,
        action="provider_accept",
        data={"provider": provider},
        now=now,
    )
    return ticket


def _accepted(ticket: Ticket) -> None:
    if ticket.state != TicketState.DISPATCHED:
        raise Conflict(f"work order {ticket.number} is {ticket.state}, not with the provider")
    if ticket.accepted_at is None:
        raise Conflict(f"accept work order {ticket.number} first")


def schedule(
    session: Session,
    *,
    ticket_id: int,
    provider: str,
    appointment_from: datetime,
    appointment_to: datetime,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """The provider agrees a (new) appointment window with the customer."""
    ticket = _own_order(session, ticket_id, provider)
    _accepted(ticket)
    _check_window(appointment_from, appointment_to)
    data = {
        "provider": provider,
        "appointment_from": appointment_from.isoformat(),
        "appointment_to": appointment_to.isoformat(),
    }
    service.act(
        session,
        ticket_id=ticket.id,
        action="provider_update",
        actor=actor,
        note=note or "appointment scheduled",
        data=data,
        now=now,
    )
    ticket.appointment_from, ticket.appointment_to = appointment_from, appointment_to
    session.flush()
    return ticket


def report_visit(
    session: Session,
    *,
    ticket_id: int,
    provider: str,
    arrived_at: datetime,
    fault_found: str,
    parts: Sequence[str],
    fixed: bool,
    actor: str,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """The provider reports a visit; a fixed one resolves the order (verification next)."""
    ticket = _own_order(session, ticket_id, provider)
    _accepted(ticket)
    if arrived_at.tzinfo is None:
        raise ValidationFailed([Problem("needs a time zone (e.g. +08:00)", field="arrived_at")])
    visit = dispatch.Visit(
        ticket.id, arrived_at, fixed, ticket.appointment_from, ticket.appointment_to
    )
    data = {
        "visit": True,
        "provider": provider,
        "arrived_at": arrived_at.isoformat(),
        "fault_found": fault_found,
        "parts": list(parts),
        "fixed": fixed,
        "on_time": visit.on_time,
        "appointment_from": _iso(ticket.appointment_from),
        "appointment_to": _iso(ticket.appointment_to),
    }
    return service.act(
        session,
        ticket_id=ticket.id,
        action="provider_completed" if fixed else "provider_update",
        actor=actor,
        note=note or fault_found,
        data=data,
        now=now,
    )


def claimed(session: Session, *, ticket_id: int) -> bool:
    """Whether the provider already submitted the warranty claim of this order."""
    found = session.scalar(
        select(func.count(TicketEvent.id)).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.action == "claim_submitted"
        )
    )
    return bool(found)


def submit_claim(
    session: Session,
    *,
    ticket_id: int,
    provider: str,
    parts: Sequence[str],
    amount_yuan: float,
    actor: str,
    note: str = "",
    now: datetime | None = None,
    breakdown: Mapping[str, float] | None = None,
) -> Ticket:
    """The provider claims the warranty parts of a finished order (once per order).

    ``breakdown`` splits the amount into ``labour_yuan``, ``parts_yuan`` and ``travel_yuan``
    (the settlement statement shows them); its parts must add up to the amount.

    Only an order under warranty has a claim; the center's verification decides it (a part
    that does not match the reported fault rejects it when the order closes).
    """
    ticket = _own_order(session, ticket_id, provider)
    if not ticket.warranty:
        raise Conflict(f"work order {ticket.number} is not under warranty: no warranty claim")
    if ticket.state not in (TicketState.RESOLVED, TicketState.CLOSED):
        raise Conflict(f"work order {ticket.number} is {ticket.state}: report the fix first")
    if claimed(session, ticket_id=ticket.id):
        raise Conflict(f"a claim for work order {ticket.number} was already submitted")
    split = {key: round(float(value), 2) for key, value in (breakdown or {}).items()}
    if split and (min(split.values()) < 0 or abs(sum(split.values()) - amount_yuan) > 0.005):
        raise ValidationFailed(
            [
                Problem(
                    f"labour, parts and travel ({sum(split.values()):.2f}) must add up to "
                    f"the amount claimed ({amount_yuan:.2f}), none below 0",
                    field="amount_yuan",
                )
            ]
        )
    if ticket.claim_status == "none":
        ticket.claim_status = "pending"
    service.record_event(
        session,
        ticket=ticket,
        actor=actor,
        action="claim_submitted",
        note=note,
        data={"provider": provider, "parts": list(parts), "amount_yuan": amount_yuan} | split,
        now=now,
    )
    return ticket


def figures(
    session: Session, *, providers: Sequence[str], since: datetime | None = None
) -> dict[str, dispatch.ProviderFigures]:
    """First-visit fix rate and on-time visits of each provider, from the visits reported."""
    query = select(TicketEvent.ticket_id, TicketEvent.data).where(
        TicketEvent.action.in_(VISIT_ACTIONS)
    )
    if since is not None:
        query = query.where(TicketEvent.at >= since)
    visits: dict[str, list[dispatch.Visit]] = {code: [] for code in providers}
    for ticket_id, data in session.execute(query):
        if not data.get("visit") or data.get("provider") not in visits:
            continue
        window = (data.get("appointment_from"), data.get("appointment_to"))
        visits[data["provider"]].append(
            dispatch.Visit(
                ticket_id=ticket_id,
                arrived_at=datetime.fromisoformat(data["arrived_at"]),
                fixed=bool(data.get("fixed")),
                window_from=datetime.fromisoformat(window[0]) if window[0] else None,
                window_to=datetime.fromisoformat(window[1]) if window[1] else None,
            )
        )
    return {code: dispatch.provider_figures(found) for code, found in visits.items()}
