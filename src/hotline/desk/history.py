"""A ticket's and a customer's whole history, put together from four domains.

The ticket page shows one time-ordered list: the ticket's own changes and responses
(:mod:`hotline.tickets.service`), the contacts it was opened or worked in (CRM's contact
history, :func:`hotline.crm.service.contacts_with_ids`), the survey answers given about those
contacts (``survey_answered`` events, :func:`hotline.surveys.service.answers_of_contacts`) and
its follow-up (回访) tasks with their outcomes (:func:`hotline.followup.service.tasks_of_tickets`).
The customer page shows the same surveys and follow-ups across the customer's contacts and
tickets. Which tickets a reader may see is the web layer's rule: it passes them in.

Example::

    entries = ticket_timeline(session, ticket_id=42)
    [(e.at, e.kind) for e in entries]   # [(…, "change"), (…, "contact"), (…, "survey"), …]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.crm import service as crm
from hotline.followup import service as followup
from hotline.surveys import service as surveys
from hotline.tickets import service as tickets

#: The kinds of entry, in the order entries at the same instant are listed: a contact comes
#: before the change made during it, a follow-up is made before its outcome.
KINDS = ("contact", "change", "survey", "followup", "followup_outcome")


@dataclass(frozen=True)
class Entry:
    """One entry of a history: when, what kind (one of :data:`KINDS`) and the record: a
    ticket change (``TicketEvent``), a CRM contact (``CustomerContact``), a survey answer
    (:class:`~hotline.surveys.service.ContactAnswer`) or a follow-up task (``FollowUpTask``)."""

    at: datetime
    kind: str
    item: Any


def contact_ids_of(ticket: Any, changes: Sequence[Any]) -> list[str]:
    """The contacts a ticket belongs to: the one it was opened in, and any a change names
    (``data["contact_id"]``: a call or chat in which it was worked), in order, once each."""
    found = [ticket.contact_id] if ticket.contact_id else []
    found += [str(c.data["contact_id"]) for c in changes if c.data.get("contact_id")]
    return list(dict.fromkeys(found))


def ticket_timeline(session: Session, *, ticket_id: int) -> list[Entry]:
    """Everything that happened to the ticket, oldest first (see the module's description)."""
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    changes = tickets.history(session, ticket_id=ticket.id)
    contact_ids = contact_ids_of(ticket, changes)
    contacts = (
        crm.contacts_with_ids(session, customer_id=ticket.customer_id, contact_ids=contact_ids)
        if ticket.customer_id is not None
        else []
    )
    entries = [Entry(c.at, "change", c) for c in changes]
    entries += [Entry(c.at, "contact", c) for c in contacts]
    entries += [
        Entry(a.at, "survey", a)
        for a in surveys.answers_of_contacts(session=session, contact_ids=contact_ids)
    ]
    entries += followup_entries(followup.tasks_of_tickets(session, ticket_ids=[ticket.id]))
    return ordered(entries)


def followup_entries(tasks: Sequence[Any]) -> list[Entry]:
    """Each task when it was made, and its outcome when it ended."""
    entries = [Entry(t.created_at, "followup", t) for t in tasks]
    entries += [Entry(t.finished_at, "followup_outcome", t) for t in tasks if t.finished_at]
    return entries


def ordered(entries: Sequence[Entry]) -> list[Entry]:
    """Entries oldest first; at the same instant in the order of :data:`KINDS`, and each
    kind in the order its domain gave them."""
    return sorted(entries, key=lambda e: (e.at, KINDS.index(e.kind)))


@dataclass(frozen=True)
class CustomerFeedback:
    """What a customer said after being served: survey answers and follow-up tasks."""

    surveys: list[surveys.ContactAnswer]
    followups: list[Any]


def customer_feedback(
    session: Session, *, customer_id: int, visible_tickets: Sequence[Any]
) -> CustomerFeedback:
    """The survey answers about the customer's contacts and their tickets' contacts, and the
    follow-up tasks of ``visible_tickets`` (the customer's tickets the reader may see)."""
    contact_ids = [c.contact_id for c in crm.contact_history(session, customer_id=customer_id)]
    contact_ids += [t.contact_id for t in visible_tickets]
    ids = [c for c in contact_ids if c]
    return CustomerFeedback(
        surveys=surveys.answers_of_contacts(session=session, contact_ids=ids),
        followups=followup.tasks_of_tickets(session, ticket_ids=[t.id for t in visible_tickets]),
    )
