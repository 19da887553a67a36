"""Keeping chats: conversations, their numbered messages, attachments and survey answers.

The chat domain's persistence-facing service. The live relay (``hotline.web.chat_relay``)
decides with the pure rules (:mod:`hotline.channels.chat.conversation`) and keeps the outcome
here; the QA workspace and the agent desk read transcripts back. Each function takes the
caller's session and does not commit: the caller's transaction decides.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.channels.chat.codes import PendingCode
from hotline.channels.chat.conversation import (
    AttachmentRef,
    Conversation,
    Kind,
    Message,
    Phase,
    Sender,
    replay,
)
from hotline.channels.email import credentials
from hotline.core.errors import NotFound, Problem, ValidationFailed
from hotline.identity.audit import record as audit
from hotline.store.db import utcnow
from hotline.store.models.chat import (
    ChatAttachment,
    ChatCode,
    ChatConversation,
    ChatLoginSecret,
    ChatMessage,
)


@dataclass(frozen=True, slots=True)
class PreChat:
    """What the customer filled in before the chat: name, phone or e-mail, topic."""

    name: str
    topic: str
    phone: str | None = None
    email: str | None = None
    language: str = "zh-CN"


@dataclass(frozen=True, slots=True)
class Transcript:
    """A conversation as kept: the pre-chat form, its outcome and every message in order."""

    id: str
    queue: str
    pre_chat: PreChat
    started_at: float
    phase: Phase
    agent_id: str | None
    ended_at: float | None
    ended_by: str | None
    survey_score: int | None
    messages: list[Message]


def open_conversation(
    *,
    session: Session,
    conversation_id: str,
    queue: str,
    pre_chat: PreChat,
    started_at: float,
    origin: str | None,
    address: str | None,
) -> None:
    """Keep a new conversation (waiting), as the customer's pre-chat form gave it."""
    session.add(
        ChatConversation(
            id=conversation_id,
            queue=queue,
            language=pre_chat.language,
            customer_name=pre_chat.name,
            customer_phone=pre_chat.phone,
            customer_email=pre_chat.email,
            topic=pre_chat.topic,
            origin=origin,
            address=address,
            started_at=started_at,
            phase=Phase.WAITING.value,
        )
    )


def save(
    *,
    session: Session,
    messages: Sequence[tuple[str, Message]],
    states: Sequence[Conversation],
) -> None:
    """Keep new messages (``(conversation id, message)``) and conversations' new states."""
    session.add_all(
        ChatMessage(
            conversation_id=conversation_id,
            seq=message.seq,
            at=message.at,
            sender=message.sender.value,
            kind=message.kind.value,
            body=message.body,
            agent_id=message.agent_id,
            client_id=message.client_id,
            attachment_id=message.attachment.id if message.attachment else None,
        )
        for conversation_id, message in messages
    )
    for state in states:
        row = session.get(ChatConversation, state.id)
        if row is None:
            continue
        row.phase = state.phase.value
        row.agent_id = state.agent_id
        row.ended_at = state.ended_at
        row.ended_by = state.ended_by.value if state.ended_by else None
        row.survey_score = state.survey_score


def save_attachment(
    *, session: Session, conversation_id: str, attachment: AttachmentRef, data: bytes, at: float
) -> None:
    """Keep a file sent in a conversation (checked before: type, size, content)."""
    session.add(
        ChatAttachment(
            id=attachment.id,
            conversation_id=conversation_id,
            name=attachment.name,
            content_type=attachment.content_type,
            size=attachment.size,
            data=data,
            at=at,
        )
    )


def attachment(*, session: Session, attachment_id: str) -> tuple[str, AttachmentRef, bytes]:
    """A kept file: its conversation, its description and its bytes (NotFound if none)."""
    row = session.get(ChatAttachment, attachment_id)
    if row is None:
        raise NotFound(f"no chat attachment {attachment_id}")
    ref = AttachmentRef(id=row.id, name=row.name, content_type=row.content_type, size=row.size)
    return row.conversation_id, ref, row.data


def _messages(session: Session, conversation_id: str, after: int = 0) -> list[Message]:
    rows = session.execute(
        select(ChatMessage, ChatAttachment)
        .outerjoin(ChatAttachment, ChatAttachment.id == ChatMessage.attachment_id)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.seq > after)
        .order_by(ChatMessage.seq)
    ).all()
    return [
        Message(
            seq=m.seq,
            at=m.at,
            sender=Sender(m.sender),
            kind=Kind(m.kind),
            body=m.body,
            agent_id=m.agent_id,
            attachment=(
                AttachmentRef(id=a.id, name=a.name, content_type=a.content_type, size=a.size)
                if a is not None
                else None
            ),
            client_id=m.client_id,
        )
        for m, a in rows
    ]


def transcript(*, session: Session, conversation_id: str) -> Transcript:
    """A conversation with every message, in order (NotFound if there is none)."""
    row = session.get(ChatConversation, conversation_id)
    if row is None:
        raise NotFound(f"no chat conversation {conversation_id}")
    return _transcript(row, _messages(session, conversation_id))


def summary(*, session: Session, conversation_id: str) -> Transcript:
    """A conversation without its messages (NotFound if there is none)."""
    row = session.get(ChatConversation, conversation_id)
    if row is None:
        raise NotFound(f"no chat conversation {conversation_id}")
    return _transcript(row, [])


def restore(*, session: Session, conversation_id: str) -> tuple[Conversation, list[Message]]:
    """A kept conversation's state rebuilt from its messages, and the messages."""
    row = session.get(ChatConversation, conversation_id)
    if row is None:
        raise NotFound(f"no chat conversation {conversation_id}")
    messages = _messages(session, conversation_id)
    state = replay(Conversation(id=row.id, started_at=row.started_at), messages)
    if row.survey_score is not None:
        state = replace(state, survey_score=row.survey_score)
    return state, messages


def conversations(
    *, session: Session, agent_id: str | None = None, limit: int = 50
) -> list[Transcript]:
    """The latest conversations (of one agent, or all), newest first, without messages."""
    query = select(ChatConversation).order_by(ChatConversation.started_at.desc()).limit(limit)
    if agent_id is not None:
        query = query.where(ChatConversation.agent_id == agent_id)
    return [_transcript(row, []) for row in session.scalars(query)]


def _transcript(row: ChatConversation, messages: list[Message]) -> Transcript:
    return Transcript(
        id=row.id,
        queue=row.queue,
        pre_chat=PreChat(
            name=row.customer_name,
            topic=row.topic,
            phone=row.customer_phone,
            email=row.customer_email,
            language=row.language,
        ),
        started_at=row.started_at,
        phase=Phase(row.phase),
        agent_id=row.agent_id,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
        survey_score=row.survey_score,
        messages=messages,
    )


# --------------------------------------------------------------------------- verified visitors

#: What the login secret's storage key is derived for (see ``channels.email.credentials``).
LOGIN_SECRET_PURPOSE = b"hotline chat login secret"
#: The shortest login secret accepted (a site's HMAC key guessed is every customer's chat), and
#: the longest (printable ASCII without spaces: what a developer copies into a config file).
MIN_LOGIN_SECRET_CHARS = 32
MAX_LOGIN_SECRET_CHARS = 128
_LOGIN_SECRET = re.compile(r"[\x21-\x7e]+")


def set_login_secret(*, session: Session, secret: str, server_secret: bytes, actor: str) -> None:
    """Keep the secret the company's site signs chat login tokens with (encrypted; audited
    ``chat.login_secret``). :class:`ValidationFailed` for one of under 32 or over 128
    characters, or with other than printable ASCII (spaces included)."""
    if not (
        MIN_LOGIN_SECRET_CHARS <= len(secret) <= MAX_LOGIN_SECRET_CHARS
        and _LOGIN_SECRET.fullmatch(secret)
    ):
        rule = (
            f"the login secret needs at least {MIN_LOGIN_SECRET_CHARS} characters (at most "
            f"{MAX_LOGIN_SECRET_CHARS}), printable ASCII without spaces (e.g. 32 random bytes "
            "in hex)"
        )
        raise ValidationFailed([Problem(rule, field="secret")])
    row = session.get(ChatLoginSecret, 1)
    if row is None:
        row = ChatLoginSecret(id=1)
        session.add(row)
    row.secret = credentials.encrypt(secret, secret=server_secret, purpose=LOGIN_SECRET_PURPOSE)
    row.updated_by = actor[:64]
    row.updated_at = utcnow()
    session.flush()
    audit(session, actor=actor, action="chat.login_secret", target="chat:login-secret")


def login_secret(*, session: Session, server_secret: bytes) -> bytes | None:
    """The login secret in force, or ``None`` when the center has none (logins identify
    nobody). :class:`CredentialError` when it was encrypted under another server key."""
    row = session.get(ChatLoginSecret, 1)
    if row is None:
        return None
    plain = credentials.decrypt(row.secret, secret=server_secret, purpose=LOGIN_SECRET_PURPOSE)
    return plain.encode()


def login_secret_set(*, session: Session) -> ChatLoginSecret | None:
    """Who set the login secret and when (the secret itself stays encrypted), or ``None``."""
    return session.get(ChatLoginSecret, 1)


def codes_sent(*, session: Session, conversation_id: str, address: str, since: float) -> int:
    """How many codes went to this conversation or this address since ``since`` (the larger)."""
    by_chat = session.scalar(
        select(func.count())
        .select_from(ChatCode)
        .where(ChatCode.conversation_id == conversation_id, ChatCode.sent_at >= since)
    )
    by_address = session.scalar(
        select(func.count())
        .select_from(ChatCode)
        .where(ChatCode.address == address, ChatCode.sent_at >= since)
    )
    return max(int(by_chat or 0), int(by_address or 0))


def keep_code(*, session: Session, pending: PendingCode, kind: str, now: float) -> None:
    """Keep a code just sent (its hash only); an earlier pending code of the chat is void."""
    session.execute(
        update(ChatCode)
        .where(ChatCode.conversation_id == pending.conversation, ChatCode.verified_at.is_(None))
        .values(expires_at=now)
    )
    session.add(
        ChatCode(
            conversation_id=pending.conversation,
            kind=kind,
            address=pending.address,
            code_hash=pending.code_hash,
            sent_at=now,
            expires_at=pending.expires_at,
            attempts=0,
        )
    )
    session.flush()


def _last_code(session: Session, conversation_id: str) -> ChatCode | None:
    return session.scalars(
        select(ChatCode)
        .where(ChatCode.conversation_id == conversation_id)
        .order_by(ChatCode.id.desc())
        .limit(1)
    ).first()


def latest_code(*, session: Session, conversation_id: str) -> tuple[str, PendingCode] | None:
    """The conversation's last code sent, with its kind (``email``, ``phone``), or ``None``."""
    row = _last_code(session, conversation_id)
    if row is None:
        return None
    return row.kind, PendingCode(
        conversation=row.conversation_id,
        address=row.address,
        code_hash=row.code_hash,
        expires_at=row.expires_at,
        attempts=row.attempts,
        verified=row.verified_at is not None,
    )


def record_try(*, session: Session, pending: PendingCode, now: float) -> None:
    """Keep the outcome of a try on the conversation's last code (tries spent, verified)."""
    row = _last_code(session, pending.conversation)
    assert row is not None, "a try is recorded on a code that was sent"
    row.attempts = pending.attempts
    if pending.verified and row.verified_at is None:
        row.verified_at = now
    session.flush()
