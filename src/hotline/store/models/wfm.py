"""Rosters: the shifts a planner keeps as a draft, edits and publishes for a period, and the
agents' swap and leave requests against them.

A roster is a draft until it is published; publishing it supersedes any published roster
whose period overlaps it, so for every day at most one roster is in force and an agent's
schedule is never two answers. Shifts keep their breaks as a list (``start``, ``end`` in
ISO 8601, ``kind``), since a shift is always read and written whole.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class Roster(Base):
    """A roster for [``period_start``, ``period_end``] (local dates, both included)."""

    __tablename__ = "rosters"
    __table_args__ = (Index("ix_rosters_status_period", "status", "period_start"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # "draft", "published" or "superseded"
    status: Mapped[str] = mapped_column(String(16), default="draft")
    #: The share of paid time the plan expected to lose (breaks aside): absence, training…
    shrinkage: Mapped[float] = mapped_column(Float, default=0.3)
    #: The labour rules its shifts keep (``hotline.wfm.roster.ShiftRules`` fields).
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RosterShiftRow(Base):
    """One agent's shift of a roster."""

    __tablename__ = "roster_shifts"
    __table_args__ = (
        Index("ix_roster_shifts_roster", "roster_id", "start_at"),
        Index("ix_roster_shifts_agent", "agent_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    roster_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("rosters.id", ondelete="CASCADE"))
    agent_id: Mapped[str] = mapped_column(String(64))
    skill: Mapped[str] = mapped_column(String(64), default="default")
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    breaks: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class RosterRequest(Base):
    """An agent's request against a published shift: ``leave`` (not to work it) or ``swap``
    (to exchange it with a colleague's ``other_shift_id``); a planner decides it."""

    __tablename__ = "roster_requests"
    __table_args__ = (Index("ix_roster_requests_status", "status", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str] = mapped_column(String(64))
    shift_id: Mapped[int] = mapped_column(BigIntId)
    other_shift_id: Mapped[int | None] = mapped_column(BigIntId, nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    #: The shifts as they were when asked (``shift``, and ``other`` for a swap).
    shifts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "pending", "approved" or "rejected"
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(String(500), default="")


class ForecastOverrideRow(Base):
    """A planner's correction of the forecast for part of one local day, with its reason:
    ``percent`` more (or fewer) contacts between ``start`` and ``end`` (``HH:MM``, local), on
    one queue or on every queue (``queue`` null)."""

    __tablename__ = "forecast_overrides"
    __table_args__ = (Index("ix_forecast_overrides_day", "day"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    day: Mapped[date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    percent: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
