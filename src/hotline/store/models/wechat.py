"""The WeChat channel: official accounts, their followers, and every push received.

Secrets (Token, EncodingAESKey, AppSecret) are stored encrypted with a key derived from the
server secret (``hotline.channels.email.credentials``, purpose ``wechat``). Each push is kept
once (``dedupe_key`` unique: WeChat's retries are recognised), with its XML, before it is
answered, so a push WeChat was told ``success`` for is never lost. Only the WeChat channel
(:mod:`hotline.channels.wechat.service`) and the adapters use these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId, UTCDateTime, utcnow


class WeChatAccount(Base):
    """An official account whose followers write to the center."""

    __tablename__ = "wechat_accounts"

    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token: Mapped[str] = mapped_column(Text, default="")
    encoding_aes_key: Mapped[str] = mapped_column(Text, default="")
    app_secret: Mapped[str] = mapped_column(Text, default="")
    queue: Mapped[str] = mapped_column(String(64))
    api_base: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WeChatFollower(Base):
    """A follower (openid) of an account: their conversation and their last message's time.

    The last message's time is what the 48-hour reply window is counted from.
    """

    __tablename__ = "wechat_followers"

    open_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    app_id: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_message_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)


class WeChatPush(Base):
    """One push as received (decrypted XML), kept before WeChat is answered.

    ``status``: ``received`` (kept; not yet in a conversation), ``delivered`` (posted in
    ``conversation_id``), ``event`` (a subscribe/unsubscribe/menu event), ``malformed``
    (signed but unreadable: ``error`` says why).
    """

    __tablename__ = "wechat_pushes"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    open_id: Mapped[str] = mapped_column(String(64), default="")
    msg_type: Mapped[str] = mapped_column(String(16), default="")
    received_at: Mapped[float] = mapped_column(Float)
    xml: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
