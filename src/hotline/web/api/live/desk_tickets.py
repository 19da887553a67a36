"""Tickets from the desk: a ticket opened for the contact in the agent's hands.

The service desk's own rules apply (:func:`hotline.tickets.service.create_ticket`); the ticket
is linked to the contact and its queue, and committed before the answer, so the screen pop the
desktop reloads at once lists it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from hotline.web.api.live.guards import OWN_DESK, held_contact, own
from hotline.web.api.live.schemas import DeskTicket
from hotline.web.api.responses import errors
from hotline.web.auth import CurrentUser, db_session
from hotline.web.fields import RecordRef

router = APIRouter(prefix="/api/live", tags=["live"], responses=errors(422))
T = TypeVar("T")


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
) -> DeskTicket:
    """Open a ticket linked to the contact the agent holds (the service desk's own rules)."""
    own(user, agent_id)
    queue = held_contact(request, agent_id, contact_id).queue or ""
    from hotline.tickets import service as tickets

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
    return DeskTicket.model_validate(view)


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
