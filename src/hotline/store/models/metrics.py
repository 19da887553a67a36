"""Imported contact records (METRICS.md interchange format), the metrics engine's input.

Live and simulated traffic is kept as the contact event log (``contact_events``); contact
records imported from other ACDs (``hotline import contacts``) land here, one row per contact,
tagged with the ``source`` they came from so a re-import can be refused or replaced.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId


class ContactRecordRow(Base):
    """One imported contact; timestamps are epoch seconds (UTC), like the event log."""

    __tablename__ = "contact_records"
    __table_args__ = (
        UniqueConstraint("source", "contact_id", name="uq_contact_records_source_contact"),
        Index("ix_contact_records_queued_at", "queued_at"),
        Index("ix_contact_records_arrived_at", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(128))
    contact_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16))
    customer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priority: Mapped[int] = mapped_column(Integer)
    arrived_at: Mapped[float] = mapped_column(Float)
    queued_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    abandoned_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team: Mapped[str | None] = mapped_column(String(64), nullable=True)
    talk_s: Mapped[float] = mapped_column(Float)
    hold_s: Mapped[float] = mapped_column(Float)
    wrap_s: Mapped[float] = mapped_column(Float)
    transferred: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(16))
    #: The case the contact continues (its first contact's id); none: its own case.
    case_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    #: Where a chat came in (``web``, ``wechat``, ``sms``); none: not recorded.
    entry: Mapped[str | None] = mapped_column(String(32), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
