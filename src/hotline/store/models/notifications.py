"""In-app notifications: what someone must look at now, addressed to a role, a user or a provider.

A notification is written once, in the same transaction as the change that caused it (a
complaint that needs a team lead's acknowledgement, a work order dispatched, an SLA clock
about to breach), so it can never be lost or sent for a change that was rolled back. Who has
read it is kept per user, since one notification to a role reaches everyone who holds it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class Notification(Base):
    """One notification; ``kind`` and ``params`` are rendered in the reader's language."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_addressee", "addressee_kind", "addressee", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "role", "user" or "provider"
    addressee_kind: Mapped[str] = mapped_column(String(16))
    addressee: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    ticket_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class NotificationRead(Base):
    """That ``username`` has read notification ``notification_id``."""

    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
