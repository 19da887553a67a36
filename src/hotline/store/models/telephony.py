"""Call recordings kept with the contact: one row per recorded voice call.

The audio itself stays a file (stereo WAV, caller left, agent right) written by the voice
server after hang-up; the row says where it is, how long it runs and whom it belongs to, so
the API can list a contact's recordings and stream them to permitted roles only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId


class Recording(Base):
    """One call recording; ``recorded_at`` is epoch seconds (UTC), like the event log."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_contact_id", "contact_id"),
        Index("ix_recordings_kind", "kind", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(128))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    path: Mapped[str] = mapped_column(String(1024))
    media_type: Mapped[str] = mapped_column(String(64), default="audio/wav")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    channels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    recorded_at: Mapped[float] = mapped_column(Float)
    # "conversation" (caller and agent) or "voicemail" (a caller's message, no agent)
    kind: Mapped[str] = mapped_column(
        String(16), default="conversation", server_default="conversation"
    )
