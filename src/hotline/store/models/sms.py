"""The SMS channel: the SMSC gateway's settings, every message the center sent (or refused to
send) and its receipt, every message customers sent the center, and the notices sent by rule
(appointment reminders, follow-up notices), one per occasion. The gateway's password is
stored encrypted (``hotline.channels.email.credentials``, purpose ``sms``).

Only the SMS channel (:mod:`hotline.channels.sms.service`) and the adapters use this table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class SmsMessage(Base):
    """One outgoing SMS.

    ``status``: ``sent`` (the SMSC took every part: ``message_ids``), ``delivered`` or
    ``undelivered`` (the receipts came back), ``refused`` (do-not-call list or quiet hours:
    ``reason``), ``failed`` (the gateway was down: ``reason``; the caller may try again).
    """

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    to_number: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    message_ids: Mapped[str] = mapped_column(Text, default="")
    parts_delivered: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))


class SmsGateway(Base):
    """The SMSC the center binds to over SMPP (one per center)."""

    __tablename__ = "sms_gateways"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    system_id: Mapped[str] = mapped_column(String(16))
    password: Mapped[str] = mapped_column(Text, default="")
    source_addr: Mapped[str] = mapped_column(String(21))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmsInbound(Base):
    """One customer's SMS to the center (a long one joined from its parts), kept as it came.

    ``status``: ``received`` (kept, not yet placed), ``conversation`` (posted in the
    conversation ``conversation_id``), ``stopped`` (a stop word: the number went on the
    do-not-call list), ``unrouted`` (the center has no SMS queue, or live routing is off).
    """

    __tablename__ = "sms_inbound"
    __table_args__ = (Index("ix_sms_inbound_from", "from_number", "received_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SmsNotice(Base):
    """A notice by rule about one occasion (``appointment:<ticket>:<start>``,
    ``follow_up:<task>``; unique, so it goes out once at most).

    ``state``: ``sending`` while an attempt is out (committed before the SMS leaves), ``pending``
    until ``next_try_at`` after a refusal that passes (quiet hours, the gateway down), ``sent``,
    or ``refused`` (a do-not-call list, or the window closed first: ``reason``). ``message_id``
    is the latest attempt's :class:`SmsMessage`.
    """

    __tablename__ = "sms_notices"
    __table_args__ = (
        UniqueConstraint("occasion", name="uq_sms_notices_occasion"),
        Index("ix_sms_notices_state_next", "state", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    occasion: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    to_number: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
