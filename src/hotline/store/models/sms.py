"""The SMS channel: the SMSC gateway's settings, every message the center sent (or refused to
send) and its receipt. The gateway's password is stored encrypted
(``hotline.channels.email.credentials``, purpose ``sms``).

Only the SMS channel (:mod:`hotline.channels.sms.service`) and the adapters use this table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, UTCDateTime, utcnow

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


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
