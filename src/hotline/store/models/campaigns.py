"""Outbound campaigns: the campaign, its records, each attempt, do-not-call lists and consents.

A campaign keeps its rules (calling hours, retry policy) as the configuration data it was
created from, checked by :mod:`hotline.campaigns.rules`. A record is one person to call, with
its state machine's fields (:mod:`hotline.campaigns.records`); every attempt is a row of its
own, so the figures (attempts, answers, connects, abandons) are counts, and nothing about a
call is ever overwritten. A do-not-call entry with no campaign is center-wide. A consent is a
callback the customer agreed to, with its evidence (a recorded contact, a ticket), kept until
``keep_until`` (at least 30 days).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class Campaign(Base):
    """One outbound campaign: its kind, dialling mode, rules, script and state."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    # draft, running, paused, finished
    state: Mapped[str] = mapped_column(String(16), default="draft")
    calling_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retry: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    script: Mapped[str] = mapped_column(Text, default="")
    # agents reserved for the campaign (the progressive dialler's pool)
    agents: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the queue whose skill and proficiency rules choose which held agent takes a call
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignRecord(Base):
    """One person to reach in a campaign, with the state of its attempts."""

    __tablename__ = "campaign_records"
    __table_args__ = (
        Index("ix_campaign_records_due", "campaign_id", "status", "due_at"),
        Index("ix_campaign_records_phone", "phone"),
        Index("ix_campaign_records_held", "held_by", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    phone: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128), default="")
    time_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    data: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    held_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # the call the record is in while an agent holds it after the dialler connected them
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CampaignAttempt(Base):
    """One attempt on a record: who, when, the contact it became and its result."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (Index("ix_campaign_attempts_campaign", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    record_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("campaign_records.id"))
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mode: Mapped[str] = mapped_column(String(16))
    result: Mapped[str] = mapped_column(String(32))
    # whether the customer answered, and whether an agent was connected to them
    answered: Mapped[bool] = mapped_column(default=False)
    connected: Mapped[bool] = mapped_column(default=False)


class DoNotCall(Base):
    """A number that is never dialled: center-wide (no campaign) or for one campaign."""

    __tablename__ = "do_not_call"
    __table_args__ = (Index("ix_do_not_call_number", "number", "campaign_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), nullable=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Consent(Base):
    """A callback the customer agreed to, with its evidence, kept at least 30 days."""

    __tablename__ = "campaign_consents"
    __table_args__ = (Index("ix_campaign_consents_number", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), nullable=True)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    evidence: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    keep_until: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignPacing(Base):
    """What the voice server's dialler last saw of a campaign it works: one row per campaign,
    replaced as the dialler's book changes (the ``/campaigns`` page shows it with its time)."""

    __tablename__ = "campaign_pacing"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[str] = mapped_column(String(10))
    ringing: Mapped[int] = mapped_column(Integer)
    waiting: Mapped[int] = mapped_column(Integer)
    free_agents: Mapped[int] = mapped_column(Integer)
    talking_agents: Mapped[int] = mapped_column(Integer)
    releasing_agents: Mapped[int] = mapped_column(Integer)
    answered_today: Mapped[int] = mapped_column(Integer)
    abandoned_today: Mapped[int] = mapped_column(Integer)
    allowance: Mapped[int] = mapped_column(Integer)
