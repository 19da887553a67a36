"""Sending SMS: the one door every part of the center texts a customer through.

The SMS channel's persistence-facing service. :func:`send_sms` is what other domains and
adapters call (survey links after a contact, appointment reminders for installations and
repairs, follow-up notices): it refuses a number on a do-not-call list (asked through
``campaigns.service.screen_number``, which audits the refusal) and any SMS in quiet hours,
submits the message through the gateway it is given, and keeps a record of each message with
what became of it; :func:`note_receipt` records the SMSC's delivery receipts. Customers' own
messages are kept as they arrive (:func:`keep_inbound`), each marked with where it went; a
stop word puts the number on the center's do-not-call list (:func:`unsubscribe`). Notices
by rule (appointment reminders, follow-up notices) are kept one per occasion
(:func:`record_notice`) and tried until sent or their window closes (:func:`attempt_notice`).
Functions take the caller's session and do not commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.channels.email import credentials
from hotline.channels.sms.gateway import GatewayDown
from hotline.channels.sms.gateway import SmsGateway as SmsGateway  # noqa: PLC0414 (re-exported)
from hotline.channels.sms.notices import next_try
from hotline.channels.sms.rules import PURPOSES, QuietHours, quiet_refusal, quiet_until
from hotline.channels.sms.settings import GatewaySettings
from hotline.channels.sms.text import Receipt, TextRefused, segments
from hotline.core.errors import Conflict, NotFound
from hotline.identity.audit import record as audit
from hotline.store.db import utcnow
from hotline.store.models.sms import SmsGateway as GatewayRow
from hotline.store.models.sms import SmsInbound, SmsMessage, SmsNotice

#: The purpose the gateway password's encryption key is derived for.
PURPOSE = b"hotline sms credentials"


@dataclass(frozen=True, slots=True)
class SmsOutcome:
    """What :func:`send_sms` did: the record's id, its status and, when not sent, why.

    ``retry_at`` is set when the refusal passes on its own: the end of the quiet hours. A
    ``failed`` message (the gateway was down) may be tried again at any time; a number on a
    do-not-call list never.
    """

    id: int
    status: str
    reason: str = ""
    parts: int = 0
    retry_at: datetime | None = None

    @property
    def retryable(self) -> bool:
        """Whether the same message may go out later (gateway down, quiet hours)."""
        return self.status == "failed" or self.retry_at is not None


def send_sms(
    *,
    session: Session,
    gateway: SmsGateway,
    to: str,
    text: str,
    purpose: str,
    actor: str,
    now: datetime,
    ticket_id: int | None = None,
    quiet_hours: QuietHours | None = None,
) -> SmsOutcome:
    """Text ``to`` — unless a do-not-call list holds the number or it is quiet hours.

    Example: ``send_sms(session=s, gateway=g, to="+8613800138000", text="您的维修预约在明天上午",
    purpose="appointment_reminder", actor="system", now=utcnow(), ticket_id=7)``.
    A malformed request (unknown purpose, empty or endless text) raises ``ValueError``.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: one of {', '.join(PURPOSES)}, not {purpose!r}")
    try:
        parts = len(segments(text, reference=0).parts)
    except TextRefused as refused:
        raise ValueError(f"text: {refused}") from None
    record = SmsMessage(
        to_number=to[:32], text=text, purpose=purpose, ticket_id=ticket_id, actor=actor[:64]
    )
    reason: str | None = None
    retry_at: datetime | None = None
    listed = campaigns.screen_number(session, number=to, actor=actor, path="sms")
    if listed is not None:
        reason = f"the number is on the do-not-call list ({listed})"
    else:
        reason = quiet_refusal(now, quiet_hours or QuietHours())
        ends = quiet_until(now, quiet_hours or QuietHours())
        retry_at = ends.astimezone(UTC) if ends is not None else None
    if reason is not None:
        record.status, record.reason = "refused", reason
    else:
        try:
            ids = gateway.send(to=to, text=text)
        except GatewayDown as down:
            record.status, record.reason = "failed", str(down)
        else:
            record.status, record.message_ids = "sent", ",".join(ids)
    session.add(record)
    session.flush()
    return SmsOutcome(record.id, record.status, record.reason, parts, retry_at)


def note_receipt(session: Session, *, receipt: Receipt) -> int | None:
    """Record a delivery receipt on its message; the message's id (None if not ours)."""
    candidates = session.scalars(
        select(SmsMessage).where(
            SmsMessage.message_ids.contains(receipt.message_id),
            SmsMessage.status.in_(("sent", "delivered")),
        )
    )
    for record in candidates:
        ids = record.message_ids.split(",")
        if receipt.message_id not in ids:
            continue
        if not receipt.delivered:
            record.status, record.reason = "undelivered", f"{receipt.state} err {receipt.error}"
        else:
            record.parts_delivered += 1
            if record.parts_delivered >= len(ids):
                record.status = "delivered"
        return record.id
    return None


def messages(session: Session, *, ticket_id: int | None = None) -> Sequence[SmsMessage]:
    """The messages kept (of one ticket, or all), oldest first."""
    query = select(SmsMessage).order_by(SmsMessage.id)
    if ticket_id is not None:
        query = query.where(SmsMessage.ticket_id == ticket_id)
    return session.scalars(query).all()


# --------------------------------------------------------------------------- notices by rule


def known_notices(session: Session, *, occasions: Sequence[str]) -> set[str]:
    """Which of ``occasions`` already have a notice (sent, pending or refused)."""
    if not occasions:
        return set()
    return set(session.scalars(select(SmsNotice.occasion).where(SmsNotice.occasion.in_(occasions))))


def record_notice(
    session: Session,
    *,
    occasion: str,
    kind: str,
    ticket_id: int | None,
    to: str,
    text: str,
    closes_at: datetime,
    now: datetime,
) -> SmsNotice:
    """Keep a notice about ``occasion`` as ``sending``: the caller commits it *before*
    :func:`attempt_notice`, so a crash in between never texts the occasion twice (the
    occasion is unique: a second sweep's row fails to commit)."""
    row = SmsNotice(
        occasion=occasion, kind=kind, ticket_id=ticket_id, to_number=to[:32], text=text,
        state="sending", attempts=0, closes_at=closes_at, reason="", created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def due_notices(session: Session, *, now: datetime) -> list[int]:
    """The notices waiting for another try that is due by ``now``, oldest first."""
    return list(
        session.scalars(
            select(SmsNotice.id)
            .where(SmsNotice.state == "pending", SmsNotice.next_try_at <= now)
            .order_by(SmsNotice.id)
        )
    )


def claim_notice(session: Session, *, notice_id: int) -> bool:
    """Take a pending notice for one more try (``pending`` → ``sending``); ``False`` when
    another sweep took it first. The caller commits before sending."""
    claimed = session.execute(
        update(SmsNotice)
        .where(SmsNotice.id == notice_id, SmsNotice.state == "pending")
        .values(state="sending")
    )
    return getattr(claimed, "rowcount", 0) == 1


def attempt_notice(
    session: Session,
    *,
    notice_id: int,
    gateway: SmsGateway,
    now: datetime,
    actor: str = "notices",
    quiet_hours: QuietHours | None = None,
) -> SmsNotice:
    """Try a ``sending`` notice through :func:`send_sms`: ``sent``; ``pending`` with the next
    try when the refusal passes before the window closes; else ``refused`` with why."""
    row = session.get(SmsNotice, notice_id)
    if row is None or row.state != "sending":
        raise NotFound(f"no notice {notice_id} being sent")
    row.attempts += 1
    row.next_try_at = None
    if now >= row.closes_at:
        last = f" (last try: {row.reason})" if row.reason else ""
        row.state, row.reason = "refused", f"its time came before it could be sent{last}"
        return row
    outcome = send_sms(
        session=session, gateway=gateway, to=row.to_number, text=row.text, purpose=row.kind,
        actor=actor, now=now, ticket_id=row.ticket_id, quiet_hours=quiet_hours,
    )  # fmt: skip
    row.message_id, row.reason = outcome.id, outcome.reason
    again = (
        next_try(now=now, closes=row.closes_at, retry_at=outcome.retry_at)
        if outcome.retryable
        else None
    )
    if outcome.status == "sent":
        row.state = "sent"
    elif again is not None:
        row.state, row.next_try_at = "pending", again
    else:
        row.state = "refused"
        if outcome.retryable:
            row.reason = f"{outcome.reason} (until its time came)"
    session.flush()
    return row


def notices(session: Session, *, limit: int = 200) -> Sequence[SmsNotice]:
    """The latest notices by rule, newest first."""
    return session.scalars(select(SmsNotice).order_by(SmsNotice.id.desc()).limit(limit)).all()


# --------------------------------------------------------------------------- customers' SMS


def keep_inbound(
    session: Session, *, sender: str, to: str, text: str, received_at: float
) -> SmsInbound:
    """Keep a customer's SMS as it came (``received``), before anything is done with it."""
    row = SmsInbound(
        from_number=sender[:32],
        to_number=to[:32],
        text=text,
        received_at=received_at,
        status="received",
    )
    session.add(row)
    session.flush()
    return row


def note_inbound(
    session: Session, *, inbound_id: int, status: str, conversation_id: str | None = None
) -> None:
    """Say where a kept SMS went: ``conversation`` (with its id), ``stopped`` or ``unrouted``."""
    row = session.get(SmsInbound, inbound_id)
    if row is None:
        raise NotFound(f"no inbound SMS {inbound_id}")
    row.status, row.conversation_id = status, conversation_id


def last_conversation(session: Session, *, number: str) -> tuple[str, float] | None:
    """The conversation ``number``'s latest SMS went to, and when it came (``None``: none)."""
    row = session.execute(
        select(SmsInbound.conversation_id, SmsInbound.received_at)
        .where(SmsInbound.from_number == number, SmsInbound.conversation_id.is_not(None))
        .order_by(SmsInbound.received_at.desc(), SmsInbound.id.desc())
        .limit(1)
    ).first()
    if row is None or row[0] is None:
        return None
    return str(row[0]), float(row[1])


def unsubscribe(session: Session, *, number: str, inbound_id: int) -> bool:
    """A customer texted a stop word: their number goes on the center's do-not-call list
    (audited as ``campaign.dnc_add`` by ``sms``); ``False`` when it was on it already."""
    note_inbound(session, inbound_id=inbound_id, status="stopped")
    try:
        campaigns.add_do_not_call(
            session, number=number, actor="sms", reason=f"SMS stop word (inbound {inbound_id})"
        )
    except Conflict:
        return False
    return True


def inbound(session: Session, *, limit: int = 200) -> Sequence[SmsInbound]:
    """The latest customers' SMS, newest first."""
    return session.scalars(select(SmsInbound).order_by(SmsInbound.id.desc()).limit(limit)).all()


# --------------------------------------------------------------------------- the message log


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One message in the log, either way: ``direction`` ``in`` (a customer's, ``number`` is
    theirs) or ``out`` (the center's, ``number`` is the customer's it went to)."""

    direction: str
    number: str
    text: str
    status: str
    reason: str
    purpose: str
    at: datetime


def message_log(session: Session, *, number: str | None = None, limit: int = 100) -> list[LogEntry]:
    """The latest messages in and out, newest first; ``number`` keeps those whose number
    contains it (digits only are compared, so "138 0013" finds "+8613800138000")."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    sent = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    received = select(SmsInbound).order_by(SmsInbound.id.desc()).limit(limit)
    if digits:
        sent = sent.where(SmsMessage.to_number.contains(digits))
        received = received.where(SmsInbound.from_number.contains(digits))
    entries = [
        LogEntry("out", m.to_number, m.text, m.status, m.reason, m.purpose, m.created_at)
        for m in session.scalars(sent)
    ]
    entries += [
        LogEntry(
            "in",
            m.from_number,
            m.text,
            m.status,
            "",
            "",
            datetime.fromtimestamp(m.received_at, UTC),
        )
        for m in session.scalars(received)
    ]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def counts_since(session: Session, *, since: datetime) -> tuple[int, int]:
    """How many messages came in and went out (sent or tried) from ``since`` on."""
    received = session.scalar(
        select(func.count())
        .select_from(SmsInbound)
        .where(SmsInbound.received_at >= since.timestamp())
    )
    sent = session.scalar(
        select(func.count()).select_from(SmsMessage).where(SmsMessage.created_at >= since)
    )
    return int(received or 0), int(sent or 0)


# --------------------------------------------------------------------------- the gateway


def save_gateway(
    session: Session, *, settings: GatewaySettings, secret: bytes, actor: str
) -> GatewayRow:
    """Create or update the SMSC gateway; the password is stored encrypted (``None`` keeps
    the stored one)."""
    row = session.get(GatewayRow, settings.name)
    created = row is None
    if row is None:
        row = GatewayRow(name=settings.name, password="")
    for name in ("host", "port", "system_id", "source_addr", "active"):
        setattr(row, name, getattr(settings, name))
    if settings.password is not None:
        row.password = credentials.encrypt(settings.password, secret=secret, purpose=PURPOSE)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="sms.gateway.create" if created else "sms.gateway.update",
        target=f"sms-gateway:{row.name}",
    )
    return row


def gateway_settings(session: Session, *, secret: bytes, name: str = "default") -> GatewaySettings:
    """The active gateway's settings with its password decrypted (NotFound when none)."""
    row = session.get(GatewayRow, name)
    if row is None or not row.active:
        raise NotFound(f"no active SMS gateway {name!r}: add one with 'hotline sms gateway'")
    return GatewaySettings(
        name=row.name,
        host=row.host,
        port=row.port,
        system_id=row.system_id,
        password=credentials.decrypt(row.password, secret=secret, purpose=PURPOSE),
        source_addr=row.source_addr,
        active=row.active,
    )


def gateways(session: Session) -> Sequence[GatewayRow]:
    """The gateways configured, by name."""
    return session.scalars(select(GatewayRow).order_by(GatewayRow.name)).all()
