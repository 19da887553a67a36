"""Web chat: conversations, their numbered messages, and the files sent in them.

A conversation's id is its contact id in the event log, so reports, the screen pop and the
QA workspace find a chat the way they find a call. Messages are numbered per conversation
(``seq`` from 1, unique with the conversation): the number a reconnecting browser resumes
from. Only the chat domain (:mod:`hotline.channels.chat.service`) and the adapters use these
tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime


class ChatConversation(Base):
    """One chat: who the customer said they are (pre-chat form), where and when, its outcome."""

    __tablename__ = "chat_conversations"
    __table_args__ = (Index("ix_chat_conversations_agent", "agent_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    customer_name: Mapped[str] = mapped_column(String(100))
    customer_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    customer_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    topic: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[float] = mapped_column(Float)
    phase: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    survey_score: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ChatMessage(Base):
    """One message, numbered ``seq`` in its conversation."""

    __tablename__ = "chat_messages"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Float)
    sender: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attachment_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("chat_attachments.id"), nullable=True
    )


class ChatAttachment(Base):
    """A file sent in a conversation (checked for type and size before it is kept)."""

    __tablename__ = "chat_attachments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("chat_conversations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[float] = mapped_column(Float)


class ChatLoginSecret(Base):
    """The secret the company's web site signs its signed-in customers' chat tokens with
    (:mod:`hotline.channels.chat.login`), encrypted with the server's key; one per center."""

    __tablename__ = "chat_login_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret: Mapped[str] = mapped_column(String(400))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatCode(Base):
    """A one-time code sent to a chat visitor's e-mail address or mobile: only its hash, when
    it expires, the tries made, and when it verified the address
    (:mod:`hotline.channels.chat.codes`)."""

    __tablename__ = "chat_codes"
    __table_args__ = (Index("ix_chat_codes_address", "address", "sent_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[float | None] = mapped_column(Float, nullable=True)
