"""Sending SMS: the one door every part of the center texts a customer through.

The SMS channel's persistence-facing service. :func:`send_sms` is what other domains and
adapters call (survey links after a contact, appointment reminders for installations and
repairs, follow-up notices): it refuses a number on a do-not-call list (asked through
``campaigns.service.screen_number``, which audits the refusal) and any SMS in quiet hours,
submits the message through the gateway it is given, and keeps a record of each message with
what became of it; :func:`note_receipt` records the SMSC's delivery receipts. Functions take
the caller's session and do not commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.channels.email import credentials
from hotline.channels.sms.gateway import GatewayDown
from hotline.channels.sms.gateway import SmsGateway as SmsGateway  # noqa: PLC0414 (re-exported)
from hotline.channels.sms.rules import PURPOSES, QuietHours, quiet_refusal
from hotline.channels.sms.settings import GatewaySettings
from hotline.channels.sms.text import Receipt, TextRefused, segments
from hotline.core.errors import NotFound
from hotline.identity.audit import record as audit
from hotline.store.db import utcnow
from hotline.store.models.sms import SmsGateway as GatewayRow
from hotline.store.models.sms import SmsMessage

#: The purpose the gateway password's encryption key is derived for.
PURPOSE = b"hotline sms credentials"


@dataclass(frozen=True, slots=True)
class SmsOutcome:
    """What :func:`send_sms` did: the record's id, its status and, when not sent, why."""

    id: int
    status: str
    reason: str = ""
    parts: int = 0


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
    listed = campaigns.screen_number(session, number=to, actor=actor, path="sms")
    if listed is not None:
        reason = f"the number is on the do-not-call list ({listed})"
    else:
        reason = quiet_refusal(now, quiet_hours or QuietHours())
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
    return SmsOutcome(record.id, record.status, record.reason, parts)


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
