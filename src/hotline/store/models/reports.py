"""Scheduled reports, each run of them, and the cockpit alerts raised.

A schedule names one of the center's exports (the KPI report, the cockpit, the voice of the
customer, the fault statistics, a provider's settlement statement), its format and filters,
its rhythm (:mod:`hotline.core.recurrence`) and who receives it. Every due time of a
schedule has at most one run: ``(schedule_id, due_at)`` is unique and the run row is
committed *before* the report is rendered and mailed, so two nodes sweeping at once, or a
node restarted mid-run, never send a report twice (a run whose node died stays
``running``, shown on the page, rather than being sent again).

A raised alert is a cockpit target or control limit found crossed by the alert sweep; it
stays open (``open_key`` set, unique) until the figure recovers, so its audience is told
once per raise, not at every sweep.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class ReportSchedule(Base):
    """A report sent by e-mail daily, weekly or monthly at a local time."""

    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    report: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    frequency: Mapped[str] = mapped_column(String(8))
    at: Mapped[str] = mapped_column(String(5))
    weekday: Mapped[int | None] = mapped_column(Integer, nullable=True)
    day_of_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReportRun(Base):
    """One due time of a schedule: ``running`` (claimed), then ``sent`` or ``failed``."""

    __tablename__ = "report_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "due_at", name="uq_report_runs_due"),
        Index("ix_report_runs_schedule", "schedule_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("report_schedules.id", ondelete="CASCADE")
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str] = mapped_column(Text, default="")
    email_id: Mapped[int | None] = mapped_column(BigIntId, nullable=True)
    attachment: Mapped[str] = mapped_column(String(200), default="")


class RaisedAlert(Base):
    """A cockpit alert raised by the alert sweep; ``open_key`` is cleared when it recovers."""

    __tablename__ = "raised_alerts"
    __table_args__ = (UniqueConstraint("open_key", name="uq_raised_alerts_open"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    value: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)
