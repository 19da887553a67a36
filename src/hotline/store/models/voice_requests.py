"""What a desk asks of a voice node: click-to-dial and a transfer to an outside number.

A web node (``hotline serve --web-only``) and the partition owner hold no SIP calls; the
phones are registered through the voice nodes (``hotline telephony serve --node-name …``).
A desk's click-to-dial or transfer to an outside number becomes a row here, which the voice
node that can carry it out claims once — the node through which the agent's phone is
registered (a dial), or the node that carries the call (a transfer) — carries out and
answers (``result``). The node marks the row ``placing`` before it dials, so a web node that
stopped waiting fails it first or not at all. A row no live node claims within a few seconds
fails (``no_voice_node``); a claimed row whose node dies before it places it goes back to
``pending`` for another node, one that dies while placing fails (``voice_node_lost``): nothing
is left pending. An answered row is deleted once older than the voice nodes' retention
(``--requests-keep-s``, a day by default).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId


class VoiceRequestRow(Base):
    """One desk's request to a voice node, and what came of it."""

    __tablename__ = "voice_requests"
    __table_args__ = (
        Index("ix_voice_requests_pending", "partition", "state", "id"),
        # answered rows past their retention, deleted by the voice nodes (``prune``)
        Index("ix_voice_requests_answered", "partition", "state", "finished_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    partition: Mapped[str] = mapped_column(String(64))
    #: ``dial`` (click-to-dial) or ``transfer_out`` (a call to an outside number).
    kind: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str] = mapped_column(String(64))
    #: The call to transfer (``transfer_out``); ``None`` for a dial.
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    number: Mapped[str] = mapped_column(String(64))
    #: The user who asked (the audit entry's actor).
    requested_by: Mapped[str] = mapped_column(String(128))
    #: Seconds since 1970 on the database's clock.
    created_at: Mapped[float] = mapped_column(Float)
    #: ``pending``, ``claimed``, ``placing``, ``done`` or ``failed``.
    state: Mapped[str] = mapped_column(String(16), default="pending")
    #: When it went back to ``pending`` after its node died (its claim time starts again).
    pending_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: How often it went back to ``pending`` for another node.
    retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The voice node run (``voice_nodes.id``) that claimed it, and when.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: When the node began carrying it out (past this point it is never retried).
    placing_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: ``done``: ``{"contact_id": …}``; ``failed``: ``{"reason": code, "detail": text}``.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
