"""Follow-up (回访) tasks and the settlement clerk's decisions on providers' claims.

A task is made once per ticket resolution (``resolution_key`` is unique: the resolve path
and the sweep may both try, only one task results). It keeps the questions of its script as
they were when it was made, the answers, and which reminders and escalations went out.
A claim decision is the settlement clerk's approval or rejection (with its reason) of the
warranty claim a provider submitted for one work order; a claim without one is pending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, UTCDateTime, utcnow


class FollowUpTask(Base):
    """One verification call to make: the ticket, when it is due, the script, the answers."""

    __tablename__ = "followup_tasks"
    __table_args__ = (Index("ix_followup_tasks_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    resolution_key: Mapped[str] = mapped_column(String(96), unique=True)
    rule: Mapped[str] = mapped_column(String(64))
    script: Mapped[str] = mapped_column(String(64))
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    state: Mapped[str] = mapped_column(String(16), default="open")
    ticket_type: Mapped[str] = mapped_column(String(16))
    warranty: Mapped[bool] = mapped_column(default=False)
    parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    provider: Mapped[str | None] = mapped_column(String(32), nullable=True)
    product_model: Mapped[str] = mapped_column(String(64), default="")
    require_before_close: Mapped[bool] = mapped_column(default=True)
    not_verified: Mapped[str] = mapped_column(String(16), default="reopen")
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    claim_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    escalated: Mapped[list[str]] = mapped_column(JSON, default=list)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ClaimDecision(Base):
    """The settlement clerk's decision on the warranty claim of one work order."""

    __tablename__ = "settlement_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    decision: Mapped[str] = mapped_column(String(16))  # approved | rejected
    reason: Mapped[str] = mapped_column(Text, default="")
    amount_yuan: Mapped[float] = mapped_column(Float, default=0.0)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
