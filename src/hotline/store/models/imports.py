"""Import jobs and their staging tables: a big file is checked and staged in short
transactions beside the center's work, then published in one quick set-based swap.

Rows in ``import_staged_customers`` / ``import_staged_points`` belong to one job and are seen
by nothing else; a failed job's rows are deleted, a finished one's were moved out by the swap.
Contact records (``import_staged_contact_records``) are staged the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, UTCDateTime, utcnow


class ImportJob(Base):
    """One import run in the background: what, by whom, how far, and how it ended."""

    __tablename__ = "import_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    file: Mapped[str] = mapped_column(String(256))
    # queued → checking → staging → publishing → done, or failed at any step
    state: Mapped[str] = mapped_column(String(16), default="queued")
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The server process running the job (``hotline.store.jobs.process_owner``) and when it
    #: last said it was alive (seconds on the database's clock): a job whose heartbeat lapsed
    #: is a dead server's, failed by the next sweep (migration ``imports_0002``).
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    heartbeat_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class StagedCustomer(Base):
    """A checked customer row of an import job, waiting for the job's swap."""

    __tablename__ = "import_staged_customers"
    __table_args__ = (Index("ix_import_staged_customers_job_seq", "job_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, … in file order: the new id's offset
    line: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(128))
    name_folded: Mapped[str] = mapped_column(String(128))
    name_pinyin: Mapped[str] = mapped_column(String(512), default="")
    site: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vip_level: Mapped[int] = mapped_column(Integer)


class StagedContactPoint(Base):
    """A staged customer's phone (as written, E.164, kind), e-mail or address."""

    __tablename__ = "import_staged_points"
    __table_args__ = (Index("ix_import_staged_points_job_point", "job_id", "point"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    point: Mapped[str] = mapped_column(String(8))  # phone | email | address
    value: Mapped[str] = mapped_column(String(256))
    e164: Mapped[str | None] = mapped_column(String(20), nullable=True)
    phone_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)


class StagedContactRecord(Base):
    """A checked contact record of an import job (kind ``contacts``), waiting for its publish.

    The columns are those of ``contact_records`` (:mod:`hotline.store.models.metrics`) less the
    source, which the publish writes; ``seq`` keeps file order.
    """

    __tablename__ = "import_staged_contact_records"
    __table_args__ = (
        Index("ix_import_staged_contact_records_job_seq", "job_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
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
