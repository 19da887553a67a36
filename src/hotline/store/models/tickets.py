"""Ticket and work-order tables: tickets, their history, verification callbacks, providers.

``ticket_events`` is the ticket's own history: every transition, provider update, escalation
and note, in order. SLA pauses are kept on the ticket as ``[start, end]`` ISO pairs so the
clocks can be evaluated without reading the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class BusinessCalendarRow(Base):
    """A site's business-hours calendar (weekly hours, holidays, make-up working days)."""

    __tablename__ = "business_calendars"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    working_days: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ServiceProvider(Base):
    """An external field-service provider that repair and installation orders go to."""

    __tablename__ = "service_providers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    region: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


#: Tickets being worked (``tickets.workflow.OPEN_STATES``), and complaints not yet finished
#: (``NOT_FINISHED_STATES``), as SQL: the work queue's and the complaint board's rows.
OPEN_SQL = "state IN ('new', 'open', 'waiting_customer', 'dispatched')"
COMPLAINTS_SQL = (
    "type = 'complaint' AND state IN ('new', 'open', 'waiting_customer', 'dispatched', 'resolved')"
)


class Ticket(Base):
    """A ticket or work order, from the first contact to the verified close."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer_state", "customer_id", "state"),
        Index("ix_tickets_queue_state", "queue", "state"),
        # The work queue filters by state and pages in due-time (SLA risk) order, per
        # assignee, provider or region (migration backoffice_0001).
        Index("ix_tickets_state_due", "state", "due_at"),
        Index("ix_tickets_assignee_state", "assignee", "state"),
        Index("ix_tickets_provider_state", "provider_id", "state"),
        Index("ix_tickets_region_state", "region", "state"),
        # One region's tickets of one type in due-time order (migration workqueue2_0001):
        # the work queue's region view ("chengdu's repairs") reads its page from the index.
        Index("ix_tickets_region_type_state_due", "region", "type", "state", "due_at"),
        # Open tickets, and unfinished complaints, in due-time order (migration
        # workqueue_0001): PostgreSQL walks them for the work queue's and the complaint
        # board's pages and stops at the page, where (state, due_at) had it sort every open
        # ticket (SQLite already walks (state, due_at) for these pages).
        Index(
            "ix_tickets_open_due",
            "due_at",
            "id",
            postgresql_where=text(OPEN_SQL),
            sqlite_where=text(OPEN_SQL),
        ),
        Index(
            "ix_tickets_complaints_due",
            "due_at",
            "id",
            postgresql_where=text(COMPLAINTS_SQL),
            sqlite_where=text(COMPLAINTS_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64), default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    state: Mapped[str] = mapped_column(String(20), default="new")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), nullable=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue: Mapped[str] = mapped_column(String(64), default="")
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_providers.id"), nullable=True
    )
    calendar: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sla: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warranty: Mapped[bool] = mapped_column(Boolean, default=False)
    complaint_level: Mapped[str | None] = mapped_column(String(4), nullable=True)
    acknowledged: Mapped[list[str]] = mapped_column(JSON, default=list)
    claim_status: Mapped[str] = mapped_column(String(16), default="none")
    pauses: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Field service (migration backoffice_0001): where the work is, the product's model as
    # the desk recorded it, the appointment window agreed and when the provider accepted.
    region: Mapped[str] = mapped_column(String(64), default="", server_default="")
    product_model: Mapped[str] = mapped_column(String(64), default="", server_default="")
    appointment_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    appointment_to: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SavedTicketView(Base):
    """A work-queue filter a person saved under a name, to open again with one click."""

    __tablename__ = "ticket_saved_views"
    __table_args__ = (UniqueConstraint("username", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TicketEvent(Base):
    """One entry of a ticket's history: a transition, provider update, escalation or note."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TicketVerification(Base):
    """A verification callback (回访): did the customer confirm, does the part match the fault."""

    __tablename__ = "ticket_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    reached: Mapped[bool] = mapped_column(Boolean)
    customer_confirmed: Mapped[bool] = mapped_column(Boolean)
    part_replaced: Mapped[bool] = mapped_column(Boolean, default=False)
    part_matches_fault: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class TicketArticle(Base):
    """A knowledge-base article used on a ticket (which version the agent relied on)."""

    __tablename__ = "ticket_articles"
    __table_args__ = (UniqueConstraint("ticket_id", "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))


class TicketAttachment(Base):
    """A file attached to a ticket (a photo of the fault, an invoice, the customer's letter).

    The bytes are kept in the database beside the ticket, so every web node serves them and a
    backup holds them; the size limit keeps the table reasonable.
    """

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
