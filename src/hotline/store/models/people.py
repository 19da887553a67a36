"""People management records: contests, coaching tasks, training courses and exam results.

A competition names its figures, its period (local dates of the center, both included), who
competes (agents or teams) and the teams it covers; its standings are never stored — they
are computed from the contact records whenever asked (:mod:`hotline.people.service`), so a
late survey answer or a reviewed evaluation moves them as it moves the scorecard. A contest
withdrawn by its organiser keeps its row (``withdrawn_at``) beside its audit entries.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class Competition(Base):
    """One contest over ``metrics`` from ``start`` to ``end`` between agents or teams
    (``level``) of ``teams``."""

    __tablename__ = "competitions"
    __table_args__ = (Index("ix_competitions_end", "end"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(8))
    metrics: Mapped[list[str]] = mapped_column(JSON)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    teams: Mapped[list[str]] = mapped_column(JSON)
    minimum_answered: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CoachingTask(Base):
    """A coaching note and task for ``agent_id``, due on ``due``, from an evaluation, a figure
    or the coach's own observation (``source`` and ``source_detail``); ``status`` follows
    :mod:`hotline.people.coaching`."""

    __tablename__ = "coaching_tasks"
    __table_args__ = (Index("ix_coaching_tasks_agent", "agent_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    team: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    due: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    source_detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(Text, default="")


class TrainingCourse(Base):
    """A course teaching ``skill`` to ``proficiency``, ending in an exam passed at
    ``pass_mark`` (0–100)."""

    __tablename__ = "training_courses"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    skill: Mapped[str] = mapped_column(String(64))
    proficiency: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrainingResult(Base):
    """An agent's exam on a course: the score, whether it passed, and whether passing
    raised the agent's skill (``granted``; false when they already held it at that level)."""

    __tablename__ = "training_results"
    __table_args__ = (Index("ix_training_results_agent", "agent_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    course_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("training_courses.id", ondelete="CASCADE")
    )
    agent_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
