"""Survey links: one row per link sent, answered at most once.

The answers themselves are not kept here: they are ``survey_answered`` events in the contact
event log, next to the answers the IVR and web chat collect, so there is one store of
responses. A row here remembers what a link was sent for (the contact, its channel, queue and
agent, the product), when it expires and when it was answered, which is what makes a link
single-use. The link's token is signed over the row id and the expiry; the row keeps neither
the token nor the customer's address.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class SurveyInvitation(Base):
    """A survey link sent to a customer about one contact (``answered_at`` once used)."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        Index("ix_survey_invitations_contact", "contact_id"),
        Index("ix_survey_invitations_customer", "customer_id", "created_at"),
        UniqueConstraint("occasion", name="uq_survey_invitations_occasion"),
        Index("ix_survey_invitations_sms_retry", "sms_state", "sms_next_try_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    survey_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    product: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ticket_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sent_by: Mapped[str] = mapped_column(String(64))
    sent_via: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The customer a link sent by rule went to, and what it followed (``ticket:<id>``,
    #: ``contact:<id>``: one link per occasion); both empty on links sent by hand.
    customer_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occasion: Mapped[str | None] = mapped_column(String(80), nullable=True)
    #: A link by SMS: ``sending`` while an attempt is out, ``pending`` until
    #: ``sms_next_try_at`` after a refusal that passes, ``sent`` or ``failed`` (with
    #: ``sms_reason``); ``sms_attempts`` counts the tries. Empty on other links.
    sms_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sms_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sms_next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sms_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
