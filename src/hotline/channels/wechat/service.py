"""Keeping the WeChat channel: official accounts, followers, and the pushes received.

The WeChat channel's persistence-facing service. The web adapter (``hotline.web.wechat``)
checks a push with the pure protocol (:mod:`hotline.channels.wechat.protocol`), keeps it here
*before* answering WeChat, then posts it in the follower's chat conversation (the chat
domain's relay) and marks it delivered. Each function takes the caller's session and does not
commit, except where it says otherwise: the caller's transaction decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.channels.email import credentials
from hotline.channels.wechat.settings import WeChatSettings
from hotline.core.errors import NotFound
from hotline.identity.audit import record as audit
from hotline.store.db import utcnow
from hotline.store.models.wechat import WeChatAccount, WeChatFollower, WeChatPush

#: The purpose the account secrets' encryption key is derived for (not the mailboxes' key).
PURPOSE = b"hotline wechat credentials"


@dataclass(frozen=True, slots=True)
class Account:
    """An official account with its secrets decrypted, as the push endpoint needs them."""

    app_id: str
    token: str
    encoding_aes_key: str
    app_secret: str
    queue: str
    api_base: str
    active: bool


def save_account(
    session: Session, *, settings: WeChatSettings, secret: bytes, actor: str
) -> WeChatAccount:
    """Create or update (by AppID) an account; secrets are stored encrypted, one left out
    (``None``) keeps the stored one, and an empty EncodingAESKey turns safe mode off.

    Example: ``save_account(session, settings=WeChatSettings(app_id="wx…", ...), ...)``.
    """
    account = session.get(WeChatAccount, settings.app_id)
    created = account is None
    if account is None:
        account = WeChatAccount(
            app_id=settings.app_id, token="", encoding_aes_key="", app_secret=""
        )
    account.queue = settings.queue
    account.api_base = settings.api_base
    account.active = settings.active
    for name in ("token", "encoding_aes_key", "app_secret"):
        value = getattr(settings, name)
        if value is not None:
            setattr(account, name, credentials.encrypt(value, secret=secret, purpose=PURPOSE))
    if created and not settings.token:
        raise ValueError("token: a new account needs the server configuration's Token")
    account.updated_at = utcnow()
    session.add(account)
    session.flush()
    action = "wechat.account.create" if created else "wechat.account.update"
    audit(session, actor=actor, action=action, target=f"wechat:{account.app_id}")
    return account


def list_accounts(session: Session) -> list[WeChatAccount]:
    """The configured accounts, by AppID."""
    return list(session.scalars(select(WeChatAccount).order_by(WeChatAccount.app_id)))


def delete_account(session: Session, *, app_id: str, actor: str) -> None:
    """Remove an account (its followers' conversations stay)."""
    account = session.get(WeChatAccount, app_id)
    if account is None:
        raise NotFound(f"no WeChat account {app_id}")
    session.delete(account)
    session.flush()
    audit(session, actor=actor, action="wechat.account.delete", target=f"wechat:{app_id}")


def account_view(account: WeChatAccount) -> dict[str, Any]:
    """An account as pages and the API show it: secrets only as "set or not"."""
    return {
        "app_id": account.app_id,
        "queue": account.queue,
        "api_base": account.api_base,
        "active": account.active,
        "token_set": bool(account.token),
        "encoding_aes_key_set": bool(account.encoding_aes_key),
        "app_secret_set": bool(account.app_secret),
        "safe_mode": bool(account.encoding_aes_key),
    }


def account(session: Session, *, app_id: str, secret: bytes) -> Account:
    """The active account ``app_id`` with its secrets (NotFound when none or inactive)."""
    row = session.get(WeChatAccount, app_id)
    if row is None or not row.active:
        raise NotFound(f"no active WeChat account {app_id}")

    def clear(stored: str) -> str:
        return credentials.decrypt(stored, secret=secret, purpose=PURPOSE)

    return Account(
        app_id=row.app_id,
        token=clear(row.token),
        encoding_aes_key=clear(row.encoding_aes_key),
        app_secret=clear(row.app_secret),
        queue=row.queue,
        api_base=row.api_base,
        active=row.active,
    )


# --------------------------------------------------------------------------- pushes


def keep_push(
    session: Session,
    *,
    app_id: str,
    dedupe_key: str,
    open_id: str,
    msg_type: str,
    xml: str,
    at: float,
    status: str = "received",
    error: str = "",
) -> int | None:
    """Keep a push once: its id, or ``None`` when it was kept before (WeChat's retry)."""
    if session.scalars(select(WeChatPush.id).where(WeChatPush.dedupe_key == dedupe_key)).first():
        return None
    push = WeChatPush(
        app_id=app_id,
        dedupe_key=dedupe_key,
        open_id=open_id,
        msg_type=msg_type,
        received_at=at,
        xml=xml,
        status=status,
        error=error,
    )
    try:
        with session.begin_nested():
            session.add(push)
    except IntegrityError:  # a retry kept meanwhile by another writer
        return None
    return push.id


def mark_push(
    session: Session, *, push_id: int, status: str, conversation_id: str | None = None
) -> None:
    """Record what became of a kept push (``delivered`` in a conversation, ``event``)."""
    push = session.get(WeChatPush, push_id)
    if push is not None:
        push.status = status
        push.conversation_id = conversation_id


def pushes(session: Session, *, open_id: str | None = None) -> list[WeChatPush]:
    """The pushes kept (of one follower, or all), oldest first."""
    query = select(WeChatPush).order_by(WeChatPush.id)
    if open_id is not None:
        query = query.where(WeChatPush.open_id == open_id)
    return list(session.scalars(query))


# --------------------------------------------------------------------------- followers


@dataclass(frozen=True, slots=True)
class Follower:
    """A follower as the channel knows them: their open conversation, their last message."""

    open_id: str
    app_id: str
    conversation_id: str | None
    last_message_at: float | None
    subscribed: bool


def follower(session: Session, *, open_id: str) -> Follower | None:
    """The follower ``open_id``, or ``None`` when they never wrote or followed."""
    row = session.get(WeChatFollower, open_id)
    if row is None:
        return None
    return Follower(
        row.open_id, row.app_id, row.conversation_id, row.last_message_at, row.subscribed
    )


def note_follower(
    session: Session,
    *,
    app_id: str,
    open_id: str,
    conversation_id: str | None = None,
    message_at: float | None = None,
    subscribed: bool | None = None,
) -> None:
    """Record what a push says about a follower (the fields given; the others are kept)."""
    row = session.get(WeChatFollower, open_id)
    if row is None:
        row = WeChatFollower(open_id=open_id, app_id=app_id, subscribed=True)
        session.add(row)
    row.app_id = app_id
    if conversation_id is not None:
        row.conversation_id = conversation_id
    if message_at is not None:
        row.last_message_at = max(message_at, row.last_message_at or 0.0)
    if subscribed is not None:
        row.subscribed = subscribed
