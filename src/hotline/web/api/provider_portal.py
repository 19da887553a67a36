"""The provider portal's API: a field-service provider's staff and their own work orders.

A user holding the ``provider`` role is staff of the provider whose ``staff`` list in the
center configuration names them; they see that provider's work orders only (any other is
"not found"), accept them, schedule the visit, report it and submit warranty claims.
A provider's user sees the fault and the customer's description, never the customer's
identity: the personal-data policy masks names and numbers for the role.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.config.center import ServiceProviderConfig
from hotline.followup import service as followup
from hotline.store.models.tickets import Ticket
from hotline.tickets import field_service
from hotline.web.access import current_center
from hotline.web.api.backoffice import ProviderFiguresOut, provider_figures_out
from hotline.web.api.responses import ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.fields import RecordId
from hotline.web.limits import NAME_LENGTH, NOTE_LENGTH

#: The refusals of a change to one work order.
CHANGE_ERRORS = errors(404, 409, 422)

_PROVIDER_ROLE = require_roles("provider")
# The role check on every route itself (the door the route tests look for), then
# ``provider_staff`` finds the user's provider (FastAPI runs the shared check once).
router = APIRouter(
    prefix="/api/provider", tags=["provider portal"], dependencies=[Depends(_PROVIDER_ROLE)]
)


def staff_of(request: Request, user: CurrentUser) -> str | None:
    """The code of the provider whose staff ``user`` is (``None``: nobody's staff)."""
    if "provider" not in user.roles:
        return None
    center = current_center(request)
    for provider in center.service_providers if center else []:
        if user.username in provider.staff:
            return provider.code
    return None


def provider_of(request: Request, user: CurrentUser) -> ServiceProviderConfig:
    """The provider whose staff ``user`` is; 403 when they are nobody's staff."""
    center = current_center(request)
    for provider in center.service_providers if center else []:
        if user.username in provider.staff:
            return provider
    raise HTTPException(403, "your account is not on any service provider's staff")


class WorkOrderOut(ResponseModel):
    """A work order as its provider sees it."""

    id: int
    number: str
    type: str
    category: str
    state: str
    subject: str
    description: str
    region: str
    product_model: str
    warranty: bool
    claim_status: str
    claim_submitted: bool
    appointment_from: datetime | None
    appointment_to: datetime | None
    accepted_at: datetime | None
    created_at: datetime


def _out(session: Session, ticket: Ticket) -> WorkOrderOut:
    return WorkOrderOut(
        id=ticket.id,
        number=ticket.number,
        type=ticket.type,
        category=ticket.category,
        state=ticket.state,
        subject=ticket.subject,
        description=ticket.description,
        region=ticket.region,
        product_model=ticket.product_model,
        warranty=ticket.warranty,
        claim_status=ticket.claim_status,
        claim_submitted=field_service.claimed(session, ticket_id=ticket.id),
        appointment_from=ticket.appointment_from,
        appointment_to=ticket.appointment_to,
        accepted_at=ticket.accepted_at,
        created_at=ticket.created_at,
    )


def provider_staff(
    request: Request, user: CurrentUser = Depends(_PROVIDER_ROLE)
) -> tuple[CurrentUser, ServiceProviderConfig]:
    """The signed-in provider's user and their provider; 403 before anything else is read."""
    return user, provider_of(request, user)


PROVIDER = Depends(provider_staff)
Staff = tuple[CurrentUser, ServiceProviderConfig]


@router.get("/work-orders", response_model=list[WorkOrderOut], responses=errors())
def work_orders(
    staff: Staff = PROVIDER,
    session: Session = Depends(db_session, scope="function"),
) -> list[WorkOrderOut]:
    """My provider's work orders: open ones by appointment first."""
    _, provider = staff
    return [
        _out(session, t) for t in field_service.provider_orders(session, provider=provider.code)
    ]


@router.post(
    "/work-orders/{ticket_id}/accept", response_model=WorkOrderOut, responses=CHANGE_ERRORS
)
def accept(
    ticket_id: RecordId,
    staff: Staff = PROVIDER,
    session: Session = Depends(db_session, scope="function"),
) -> WorkOrderOut:
    """Accept a work order dispatched to my provider."""
    user, provider = staff
    return _out(
        session,
        field_service.accept(
            session, ticket_id=ticket_id, provider=provider.code, actor=user.username
        ),
    )


class ScheduleIn(BaseModel):
    """The appointment window agreed with the customer."""

    appointment_from: datetime
    appointment_to: datetime
    note: str = Field("", max_length=NOTE_LENGTH)


@router.post(
    "/work-orders/{ticket_id}/schedule",
    response_model=WorkOrderOut,
    responses=CHANGE_ERRORS,
)
def schedule(
    ticket_id: RecordId,
    body: ScheduleIn,
    staff: Staff = PROVIDER,
    session: Session = Depends(db_session, scope="function"),
) -> WorkOrderOut:
    """Schedule (or move) the visit."""
    user, provider = staff
    return _out(
        session,
        field_service.schedule(
            session,
            ticket_id=ticket_id,
            provider=provider.code,
            appointment_from=body.appointment_from,
            appointment_to=body.appointment_to,
            note=body.note,
            actor=user.username,
        ),
    )


class VisitIn(BaseModel):
    """A visit's report: arrival, fault found, parts used, fixed or not."""

    arrived_at: datetime
    fault_found: str = Field(min_length=1, max_length=NOTE_LENGTH)
    parts: list[str] = Field(default_factory=list, max_length=50)
    fixed: bool
    note: str = Field("", max_length=NOTE_LENGTH)


@router.post("/work-orders/{ticket_id}/visit", response_model=WorkOrderOut, responses=CHANGE_ERRORS)
def report_visit(
    ticket_id: RecordId,
    body: VisitIn,
    request: Request,
    staff: Staff = PROVIDER,
    session: Session = Depends(db_session, scope="function"),
) -> WorkOrderOut:
    """Report a visit; a fixed one resolves the order (the center verifies, then closes)."""
    user, provider = staff
    if any(len(part) > NAME_LENGTH or not part.strip() for part in body.parts):
        raise HTTPException(422, f"each part is 1 to {NAME_LENGTH} characters")
    ticket = field_service.report_visit(
        session,
        ticket_id=ticket_id,
        provider=provider.code,
        arrived_at=body.arrived_at,
        fault_found=body.fault_found,
        parts=body.parts,
        fixed=body.fixed,
        note=body.note,
        actor=user.username,
    )
    # A fixed order is resolved: its follow-up (回访) task is made now.
    followup.generate_for_ticket(session, ticket_id=ticket.id, center=current_center(request))
    return _out(session, ticket)


class ClaimIn(BaseModel):
    """A warranty claim for the parts of a finished order."""

    parts: list[str] = Field(min_length=1, max_length=50)
    amount_yuan: float = Field(ge=0, le=1_000_000)
    labour_yuan: float = Field(0, ge=0, le=1_000_000, description="Of the amount: labour.")
    parts_yuan: float | None = Field(
        None, ge=0, le=1_000_000, description="Of the amount: parts (default: the rest)."
    )
    travel_yuan: float = Field(0, ge=0, le=1_000_000, description="Of the amount: travel.")
    note: str = Field("", max_length=NOTE_LENGTH)


@router.post("/work-orders/{ticket_id}/claim", response_model=WorkOrderOut, responses=CHANGE_ERRORS)
def submit_claim(
    ticket_id: RecordId,
    body: ClaimIn,
    staff: Staff = PROVIDER,
    session: Session = Depends(db_session, scope="function"),
) -> WorkOrderOut:
    """Submit the warranty claim of a finished order (once)."""
    user, provider = staff
    return _out(
        session,
        field_service.submit_claim(
            session,
            ticket_id=ticket_id,
            provider=provider.code,
            parts=body.parts,
            amount_yuan=body.amount_yuan,
            breakdown={
                "labour_yuan": body.labour_yuan,
                "travel_yuan": body.travel_yuan,
                "parts_yuan": body.parts_yuan
                if body.parts_yuan is not None
                else body.amount_yuan - body.labour_yuan - body.travel_yuan,
            },
            note=body.note,
            actor=user.username,
        ),
    )


@router.get("/figures", response_model=ProviderFiguresOut, responses=errors())
def figures(
    staff: Staff = PROVIDER,
    session: Session = Depends(db_session, scope="function"),
) -> ProviderFiguresOut:
    """My provider's load, first-visit fix rate and on-time visits."""
    _, provider = staff
    return provider_figures_out(session, [provider], None)[0]
