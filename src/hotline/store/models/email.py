"""The e-mail channel's tables: mailboxes, every message in and out, attachments, quarantine.

A message is one row whichever way it goes: the customer's mail (kept raw, as received, beside
its text), an agent's reply or an automatic acknowledgement waiting in the outbox until the
SMTP relay has taken it, a bounce. Attachments are kept in the database with their message,
so a backup of the database is a backup of the mail. A message that cannot be read goes to
the quarantine, raw, with the reason, for an administrator.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class Mailbox(Base):
    """A service address customers write to, with how mail comes in and goes out.

    Passwords are stored encrypted (``hotline.channels.email.credentials``), never in clear.
    """

    __tablename__ = "email_mailboxes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    queue: Mapped[str] = mapped_column(String(64), default="")
    smtp_host: Mapped[str] = mapped_column(String(255), default="")
    smtp_port: Mapped[int] = mapped_column(Integer, default=25)
    smtp_security: Mapped[str] = mapped_column(String(16), default="none")
    smtp_username: Mapped[str] = mapped_column(String(255), default="")
    smtp_password: Mapped[str] = mapped_column(Text, default="")
    imap_host: Mapped[str] = mapped_column(String(255), default="")
    imap_port: Mapped[int] = mapped_column(Integer, default=143)
    imap_security: Mapped[str] = mapped_column(String(16), default="none")
    imap_username: Mapped[str] = mapped_column(String(255), default="")
    imap_password: Mapped[str] = mapped_column(Text, default="")
    imap_folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    max_message_bytes: Mapped[int] = mapped_column(Integer)
    auto_acknowledge: Mapped[bool] = mapped_column(Boolean, default=True)
    first_response_s: Mapped[float] = mapped_column(Float)
    next_update_s: Mapped[float] = mapped_column(Float)
    resolution_s: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailMessage(Base):
    """One message on a ticket, received or sent (``direction`` ``in`` or ``out``).

    ``kind``: ``customer`` (received), ``reply`` (an agent's), ``acknowledgement``
    (automatic), ``bounce`` (a DSN about one of ours). Outgoing ``status``: ``queued`` until
    the relay accepts it (``attempts``, ``next_attempt_at``, ``last_error`` while it fails),
    ``sent``, ``failed`` after the last retry, ``bounced`` when a DSN came back for it.
    """

    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_outbox", "status", "next_attempt_at"),
        Index("ix_email_messages_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    mailbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_mailboxes.id", ondelete="SET NULL"), nullable=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(255), nullable=True)
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    sender: Mapped[str] = mapped_column(String(254))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(512), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    author: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    bounce_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EmailAttachment(Base):
    """A file that came with (or went with) a message."""

    __tablename__ = "email_attachments"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    email_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("email_messages.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class QuarantinedEmail(Base):
    """A received message that could not be read, kept raw with the reason."""

    __tablename__ = "email_quarantine"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mailbox: Mapped[str] = mapped_column(String(254), default="")
    source: Mapped[str] = mapped_column(String(16))  # "smtp" or "imap"
    envelope_sender: Mapped[str] = mapped_column(String(254), default="")
    reason: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)


class EmailContact(Base):
    """An e-mail as a contact of the universal queue: one per case the customer opens by mail.

    A new thread, or a customer's mail on a ticket with no e-mail contact in progress, opens
    one (``state`` ``new``); the live routing engine queues it (``routed``, in ``queue``) and
    offers it to an agent with e-mail capacity; the agent's reply or "no reply needed" ends it
    (``ended``, ``ended_by`` ``reply`` or ``no_reply``), and ``engine_told`` records that the
    engine has ended it too. A mailbox whose queue the center file lacks leaves it
    ``unrouted`` (the ticket is still worked from the work queue). Its messages are those of
    the ticket from ``first_email_id`` up to ``last_email_id`` (the reply that ended it).
    """

    __tablename__ = "email_contacts"
    __table_args__ = (
        Index("ix_email_contacts_state", "state", "engine_told"),
        Index("ix_email_contacts_ticket", "ticket_id", "state"),
    )

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    mailbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_mailboxes.id", ondelete="SET NULL"), nullable=True
    )
    customer: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(512), default="")
    state: Mapped[str] = mapped_column(String(16), default="new")
    queue: Mapped[str] = mapped_column(String(64), default="")
    first_email_id: Mapped[int] = mapped_column(BigIntId)
    last_email_id: Mapped[int | None] = mapped_column(BigIntId, nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_by: Mapped[str] = mapped_column(String(16), default="")
    ended_actor: Mapped[str] = mapped_column(String(64), default="")
    engine_told: Mapped[bool] = mapped_column(Boolean, default=False)
