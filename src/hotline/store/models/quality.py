"""Quality evaluations: one row per scored contact, with the form version it was scored on.

The form is stored with the evaluation (``form``, a snapshot of the configuration's form at
that version), so changing or retiring a form never changes the meaning of old scores. The
answers, comments and computed figures stay together; a dispute and its review are kept on
the same row, and every change is also in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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


class Evaluation(Base):
    """One QA evaluation of one contact handled by ``agent_id``, by ``evaluator``."""

    __tablename__ = "quality_evaluations"
    __table_args__ = (
        Index("ix_quality_evaluations_agent", "agent_id", "evaluated_at"),
        Index("ix_quality_evaluations_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(128))
    agent_id: Mapped[str] = mapped_column(String(64))
    evaluator: Mapped[str] = mapped_column(String(64))
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float] = mapped_column(Float)
    fatal_error: Mapped[bool] = mapped_column(Boolean)
    nonfatal_errors: Mapped[int] = mapped_column(Integer)
    nonfatal_opportunities: Mapped[int] = mapped_column(Integer)
    # submitted, acknowledged, disputed, upheld, amended (hotline.quality.workflow)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviewer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    original_score: Mapped[float | None] = mapped_column(Float, nullable=True)


class Calibration(Base):
    """A calibration session: named evaluators score the same contacts blind on one form.

    ``outcome`` is written when the session closes (agreement per question, ICC(2,1) on
    totals, drifting evaluators) and kept, so the team can look back at its calibration.
    """

    __tablename__ = "quality_calibrations"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version: Mapped[int] = mapped_column(Integer)
    form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    contact_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    evaluators: Mapped[list[str]] = mapped_column(JSON, default=list)
    # open, closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CalibrationScore(Base):
    """One evaluator's blind score of one contact in a calibration session."""

    __tablename__ = "quality_calibration_scores"
    __table_args__ = (UniqueConstraint("calibration_id", "evaluator", "contact_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    calibration_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("quality_calibrations.id", ondelete="CASCADE")
    )
    evaluator: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(String(128))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    score: Mapped[float] = mapped_column(Float)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Transcript(Base):
    """A recording's transcript, and its place in the transcription queue.

    A row is queued (``state='queued'``) for each voice recording; ``hotline quality
    transcribe`` claims rows (``running``), transcribes them on the CPU and stores
    ``utterances`` (each ``{"channel": "caller"|"agent", "start", "end", "text"}``, seconds
    from the start, simplified characters), ``search_text`` (the text normalised for search)
    and the automated checks' ``flags`` (``done``), or the reason it could not (``failed``).
    ``model`` names the model that heard it; ``processing_s`` the CPU time it took.
    """

    __tablename__ = "quality_transcripts"
    __table_args__ = (
        UniqueConstraint("recording_id", name="uq_quality_transcripts_recording_id"),
        Index("ix_quality_transcripts_state", "state", "id"),
        Index("ix_quality_transcripts_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    recording_id: Mapped[int] = mapped_column(BigInteger)
    contact_id: Mapped[str] = mapped_column(String(128))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    model: Mapped[str] = mapped_column(String(200), default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    processing_s: Mapped[float] = mapped_column(Float, default=0.0)
    utterances: Mapped[list[Any]] = mapped_column(JSON, default=list)
    search_text: Mapped[str] = mapped_column(Text, default="")
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
