"""The e-mail channel on a database session: mailboxes, receiving, the outbox, bounces.

Receiving (:func:`receive`) reads a message (``messages.parse``), keeps a malformed one raw in
the quarantine, marks the reply a bounce names, threads the rest into a ticket
(``threads.thread`` over the Message-IDs we know and the ticket number in the subject) or
opens one for the sender (found by address through ``crm.service``, else created) with the
mailbox's SLA targets, keeps the attachments, and queues the acknowledgement with the ticket
number when RFC 3834 allows. Replies (:func:`queue_reply`) wait in the outbox
(``email_messages`` with status ``queued``) until the sender adapter hands them to the relay:
a relay that is down delays mail, never loses it.

E-mail is a contact of the universal queue too: a new thread, or a customer's mail on a ticket
with no e-mail contact in progress, opens an e-mail contact (``email_contacts``, state
``new``; a new ticket carries its id) which the live driver's e-mail router queues in the
routing engine (:func:`contacts_to_route`, :func:`mark_routed`); the agent's reply or "no
reply needed" (:func:`close_without_reply`) ends it, and the router tells the engine
(:func:`ends_to_tell`, :func:`mark_told`), so the contact event log holds it like a call.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.channels.email import credentials, headers, messages, threads
from hotline.channels.email.limits import (
    MessageLimits,
    attachments_refusal,
    size_refusal,
    too_large,
)
from hotline.channels.email.settings import HOUR, MailboxSettings
from hotline.core.errors import Conflict, NotFound
from hotline.core.ids import new_id
from hotline.crm import service as crm
from hotline.identity.audit import record as audit
from hotline.store.db import utcnow
from hotline.store.models.email import (
    EmailAttachment,
    EmailContact,
    EmailMessage,
    Mailbox,
    QuarantinedEmail,
)
from hotline.tickets import service as tickets

# The ticket workflow's words (``tickets.workflow``), which this domain may not import.
WAITING_CUSTOMER = "waiting_customer"
CUSTOMER_REPLIED = "customer_replied"
FINISHED = ("closed", "cancelled")

SYSTEM = "email"
#: Retries of a message the relay did not take: after the last one it is ``failed`` and shown
#: on its ticket. Waits grow so that a relay down for an afternoon loses nothing.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


# ---------------------------------------------------------------- mailboxes


def save_mailbox(
    session: Session, *, settings: MailboxSettings, secret: bytes, actor: str
) -> Mailbox:
    """Create or update (by address) a mailbox; passwords are stored encrypted, and one left
    out (``None``) keeps the stored one.

    Example: ``save_mailbox(session, settings=MailboxSettings(address="help@x.cn"), ...)``.
    """
    mailbox = session.scalars(select(Mailbox).where(Mailbox.address == settings.address)).first()
    created = mailbox is None
    if mailbox is None:
        mailbox = Mailbox(address=settings.address, smtp_password="", imap_password="")
    values = settings.model_dump(
        exclude={
            "smtp_password",
            "imap_password",
            "first_response_hours",
            "next_update_hours",
            "resolution_hours",
        }
    )
    for name, value in values.items():
        setattr(mailbox, name, value)
    mailbox.first_response_s = settings.first_response_hours * HOUR
    mailbox.next_update_s = settings.next_update_hours * HOUR
    mailbox.resolution_s = settings.resolution_hours * HOUR
    if settings.smtp_password is not None:
        mailbox.smtp_password = credentials.encrypt(settings.smtp_password, secret=secret)
    if settings.imap_password is not None:
        mailbox.imap_password = credentials.encrypt(settings.imap_password, secret=secret)
    mailbox.updated_at = utcnow()
    session.add(mailbox)
    session.flush()
    action = "email.mailbox.create" if created else "email.mailbox.update"
    audit(session, actor=actor, action=action, target=f"mailbox:{mailbox.address}")
    return mailbox


def list_mailboxes(session: Session, *, active_only: bool = False) -> list[Mailbox]:
    """The configured mailboxes, by address."""
    query = select(Mailbox).order_by(Mailbox.address)
    if active_only:
        query = query.where(Mailbox.active.is_(True))
    return list(session.scalars(query))


def get_mailbox(session: Session, *, address: str) -> Mailbox:
    """The mailbox of ``address``; :class:`NotFound` when there is none."""
    mailbox = session.scalars(
        select(Mailbox).where(Mailbox.address == address.strip().lower())
    ).first()
    if mailbox is None:
        raise NotFound(f"mailbox {address!r} does not exist")
    return mailbox


def delete_mailbox(session: Session, *, address: str, actor: str) -> None:
    """Remove a mailbox; its messages stay on their tickets."""
    mailbox = get_mailbox(session, address=address)
    session.delete(mailbox)
    session.flush()
    audit(session, actor=actor, action="email.mailbox.delete", target=f"mailbox:{address}")


def mailbox_view(mailbox: Mailbox) -> dict[str, Any]:
    """A mailbox as pages and the API show it: passwords only as "set or not"."""
    return {
        "address": mailbox.address,
        "display_name": mailbox.display_name,
        "queue": mailbox.queue,
        "smtp_host": mailbox.smtp_host,
        "smtp_port": mailbox.smtp_port,
        "smtp_security": mailbox.smtp_security,
        "smtp_username": mailbox.smtp_username,
        "smtp_password_set": bool(mailbox.smtp_password),
        "imap_host": mailbox.imap_host,
        "imap_port": mailbox.imap_port,
        "imap_security": mailbox.imap_security,
        "imap_username": mailbox.imap_username,
        "imap_password_set": bool(mailbox.imap_password),
        "imap_folder": mailbox.imap_folder,
        "max_message_bytes": mailbox.max_message_bytes,
        "auto_acknowledge": mailbox.auto_acknowledge,
        "first_response_hours": mailbox.first_response_s / HOUR,
        "next_update_hours": mailbox.next_update_s / HOUR,
        "resolution_hours": mailbox.resolution_s / HOUR,
        "active": mailbox.active,
    }


def limits_of(mailbox: Mailbox) -> MessageLimits:
    """The size limits of a mailbox."""
    return MessageLimits(max_message_bytes=mailbox.max_message_bytes)


def mailbox_for(session: Session, *, recipients: Sequence[str]) -> Mailbox | None:
    """The active mailbox a message addressed to ``recipients`` arrived at."""
    wanted = [address.strip().lower() for address in recipients]
    if not wanted:
        return None
    return session.scalars(
        select(Mailbox)
        .where(Mailbox.address.in_(wanted), Mailbox.active.is_(True))
        .order_by(Mailbox.id)
    ).first()


def _sla_targets(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "name": "email",
        "first_response_s": mailbox.first_response_s,
        "next_update_s": mailbox.next_update_s,
        "resolution_s": mailbox.resolution_s,
    }


# ---------------------------------------------------------------- receiving


@dataclass(frozen=True)
class Received:
    """What became of one received message.

    ``outcome``: ``threaded`` (onto an existing ticket), ``opened`` (a new ticket),
    ``bounce`` (a DSN, recorded on the reply's ticket), ``duplicate`` (already received: an
    SMTP retry or a second poll), ``quarantined`` (malformed: ``reason`` says why),
    ``refused`` (too large or too many attachments: ``reason`` is the SMTP reply).
    """

    outcome: str
    ticket_id: int | None = None
    ticket_number: str | None = None
    reason: str = ""
    email_id: int | None = None
    #: The e-mail contact the message opened or joined (threaded and opened messages).
    contact_id: str | None = None


def quarantine(
    session: Session,
    *,
    raw: bytes,
    reason: str,
    mailbox: str,
    source: str,
    envelope_sender: str = "",
    now: datetime | None = None,
) -> QuarantinedEmail:
    """Keep an unreadable message raw, with the reason, for an administrator."""
    row = QuarantinedEmail(
        received_at=now or utcnow(),
        mailbox=mailbox,
        source=source,
        envelope_sender=envelope_sender[:254],
        reason=reason,
        size=len(raw),
        raw=raw,
    )
    session.add(row)
    session.flush()
    audit(session, actor=SYSTEM, action="email.quarantine", target=f"quarantine:{row.id}")
    return row


def list_quarantine(session: Session, *, limit: int = 200) -> list[QuarantinedEmail]:
    """The quarantined messages, newest first."""
    return list(
        session.scalars(select(QuarantinedEmail).order_by(QuarantinedEmail.id.desc()).limit(limit))
    )


def receive(
    session: Session,
    *,
    raw: bytes,
    mailbox: Mailbox,
    source: str,
    envelope_sender: str | None = None,
    now: datetime | None = None,
) -> Received:
    """Take one received message into the service desk (see the module's docstring).

    ``envelope_sender``: SMTP's ``MAIL FROM`` when known; an empty one (``<>``) marks a
    bounce, which never gets an acknowledgement.

    Example: ``receive(session, raw=data, mailbox=box, source="smtp", envelope_sender="li@x")``.
    """
    now = now or utcnow()
    limits = limits_of(mailbox)
    if too_large(len(raw), limits):
        return Received("refused", reason=size_refusal(limits))
    try:
        message = messages.parse(raw)
    except messages.MalformedMessage as error:
        kept = quarantine(
            session,
            raw=raw,
            reason=error.reason,
            mailbox=mailbox.address,
            source=source,
            envelope_sender=envelope_sender or "",
            now=now,
        )
        return Received("quarantined", reason=error.reason, email_id=kept.id)
    refusal = attachments_refusal(len(message.attachments), limits)
    if refusal:
        return Received("refused", reason=refusal)
    if message.message_id and _already_received(session, message.message_id):
        return Received("duplicate")
    if message.bounce is not None:
        return _record_bounce(session, message, raw=raw, mailbox=mailbox, now=now)
    decision = _thread(session, message)
    opened = decision.ticket_id is None
    contact_id: str | None = None
    if opened:
        contact_id = new_contact_id()
        ticket = _open_ticket(session, message, mailbox=mailbox, now=now, contact_id=contact_id)
    else:
        assert decision.ticket_id is not None
        ticket = tickets.get_ticket(session, ticket_id=decision.ticket_id)
    row = _store(
        session,
        mailbox_id=mailbox.id,
        ticket_id=ticket.id,
        direction="in",
        kind="customer",
        message_id=message.message_id,
        in_reply_to=next(iter(message.in_reply_to), None),
        references=list(message.references),
        sender=message.sender,
        recipients=list(message.to),
        subject=message.subject,
        body=message.text,
        raw=raw,
        status="received",
        now=now,
    )
    contact = _open_or_join_contact(
        session, ticket_id=ticket.id, row=row, mailbox=mailbox, contact_id=contact_id, now=now
    )
    for attachment in message.attachments:
        session.add(
            EmailAttachment(
                email_id=row.id,
                filename=attachment.filename[:255],
                content_type=attachment.content_type[:128],
                size=len(attachment.data),
                data=attachment.data,
            )
        )
    tickets.record_event(
        session,
        ticket=ticket,
        actor=SYSTEM,
        action="email_in",
        note=message.text[:2000],
        data={"email_id": row.id, "from": message.sender, "threaded_by": decision.by},
        now=now,
    )
    if not opened and ticket.state == WAITING_CUSTOMER:
        tickets.act(
            session,
            ticket_id=ticket.id,
            action=CUSTOMER_REPLIED,
            actor=SYSTEM,
            note="",
            now=now,
        )
    if opened and mailbox.auto_acknowledge:
        loop = dict(message.loop_headers)
        if envelope_sender is not None and envelope_sender.strip("<>") == "":
            loop["return-path"] = "<>"
        allowed, _why = headers.may_auto_reply(
            sender=message.sender, loop_headers=loop, own_addresses=[mailbox.address]
        )
        if allowed:
            _queue_acknowledgement(session, ticket=ticket, parent=row, mailbox=mailbox, now=now)
    session.flush()
    return Received(
        "opened" if opened else "threaded",
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        email_id=row.id,
        contact_id=contact,
    )


def _already_received(session: Session, message_id: str, *, direction: str = "in") -> bool:
    """Whether a message with ``message_id`` went ``direction`` already (in: received)."""
    return (
        session.scalars(
            select(EmailMessage.id).where(
                EmailMessage.message_id == message_id, EmailMessage.direction == direction
            )
        ).first()
        is not None
    )


def _thread(session: Session, message: messages.InboundMessage) -> threads.ThreadDecision:
    referenced = list(message.referenced)
    known: dict[str, int] = {}
    if referenced:
        rows = session.execute(
            select(EmailMessage.message_id, EmailMessage.ticket_id).where(
                EmailMessage.message_id.in_(referenced), EmailMessage.ticket_id.is_not(None)
            )
        )
        known = {mid: tid for mid, tid in rows if mid is not None and tid is not None}
    number = threads.ticket_number_in(message.subject)
    numbers: dict[str, int] = {}
    if number is not None:
        with suppress(NotFound):
            numbers[number] = tickets.ticket_by_number(session, number=number).id
    decision = threads.thread(
        referenced=referenced, known=known, subject_number=number, numbers=numbers
    )
    if decision.ticket_id is not None:
        ticket = tickets.get_ticket(session, ticket_id=decision.ticket_id)
        if ticket.state in FINISHED:
            # A closed case stays closed: the new message is a new case.
            return threads.ThreadDecision(None, "new")
    return decision


def _open_ticket(
    session: Session,
    message: messages.InboundMessage,
    *,
    mailbox: Mailbox,
    now: datetime,
    contact_id: str,
) -> Any:
    customers = crm.customers_with_email(session, address=message.sender)
    if customers:
        customer_id = customers[0].id
    else:
        name = message.sender_name.strip() or message.sender.split("@", 1)[0]
        customer_id = crm.create_customer(
            session, name=name[:128], emails=[message.sender], actor=SYSTEM
        ).id
    return tickets.create_ticket(
        session,
        type="inquiry",
        subject=(message.subject or "(no subject)")[:200],
        description=message.text,
        customer_id=customer_id,
        queue=mailbox.queue,
        actor=SYSTEM,
        now=now,
        sla_targets=_sla_targets(mailbox),
        contact_id=contact_id,
    )


#: Column widths (``store.models.email``): a longer header is cut, never refused (PostgreSQL
#: would refuse the row, and the sending server would retry for days).
_WIDTHS = {"message_id": 255, "in_reply_to": 255, "sender": 254, "subject": 512}


def _store(session: Session, *, now: datetime, **values: Any) -> EmailMessage:
    for name, width in _WIDTHS.items():
        if isinstance(values.get(name), str):
            values[name] = values[name][:width]
    row = EmailMessage(created_at=now, **values)
    session.add(row)
    session.flush()
    return row


def _record_bounce(
    session: Session,
    message: messages.InboundMessage,
    *,
    raw: bytes,
    mailbox: Mailbox,
    now: datetime,
) -> Received:
    bounce = message.bounce
    assert bounce is not None
    original = None
    if bounce.original_message_id:
        original = session.scalars(
            select(EmailMessage).where(
                EmailMessage.message_id == bounce.original_message_id,
                EmailMessage.direction == "out",
            )
        ).first()
    reason = f"{bounce.status} {bounce.diagnostic}".strip()
    ticket_id = original.ticket_id if original else None
    row = _store(
        session,
        mailbox_id=mailbox.id,
        ticket_id=ticket_id,
        direction="in",
        kind="bounce",
        message_id=message.message_id,
        in_reply_to=bounce.original_message_id,
        references=[],
        sender=message.sender,
        recipients=list(bounce.recipients),
        subject=message.subject,
        body=reason,
        raw=raw,
        status="received",
        now=now,
    )
    if original is None or ticket_id is None:
        # A bounce of nothing we sent: kept (a message row without a ticket), visible in
        # the quarantine list's neighbour, the audit trail.
        audit(session, actor=SYSTEM, action="email.bounce_unmatched", target=f"email:{row.id}")
        return Received("bounce", reason=reason, email_id=row.id)
    original.status = "bounced"
    original.bounce_reason = reason
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    tickets.record_event(
        session,
        ticket=ticket,
        actor=SYSTEM,
        action="email_bounced",
        note=f"{', '.join(bounce.recipients)}: {reason}",
        data={"email_id": original.id},
        now=now,
    )
    return Received(
        "bounce", ticket_id=ticket.id, ticket_number=ticket.number, reason=reason, email_id=row.id
    )


# ---------------------------------------------------------------- the outbox


def _outgoing(
    session: Session,
    *,
    ticket: Any,
    parent: EmailMessage | None,
    mailbox: Mailbox,
    to: str,
    text: str,
    kind: str,
    author: str,
    now: datetime,
    auto: bool,
) -> EmailMessage:
    subject_base = parent.subject if parent is not None else ticket.subject
    mail = headers.OutgoingMail(
        from_address=mailbox.address,
        from_name=mailbox.display_name,
        to=(to,),
        subject=headers.reply_subject(subject_base, ticket.number),
        message_id=headers.message_id(
            token=f"{new_id('mail')}.{ticket.number}", domain=mailbox.address.split("@", 1)[1]
        ),
        text=text,
        in_reply_to=parent.message_id if parent is not None else None,
        references=headers.reply_references(
            parent.message_id if parent is not None else None,
            parent.references if parent is not None else [],
        ),
        auto_submitted="auto-replied" if auto else None,
    )
    return _queue(
        session, mailbox=mailbox, mail=mail, ticket_id=ticket.id, kind=kind, author=author, now=now
    )


def _queue(
    session: Session,
    *,
    mailbox: Mailbox,
    mail: headers.OutgoingMail,
    ticket_id: int | None,
    kind: str,
    author: str,
    now: datetime,
) -> EmailMessage:
    """Put ``mail`` in the outbox, due now."""
    return _store(
        session,
        mailbox_id=mailbox.id,
        ticket_id=ticket_id,
        direction="out",
        kind=kind,
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        references=list(mail.references),
        sender=mailbox.address,
        recipients=list(mail.to),
        subject=mail.subject,
        body=mail.text,
        raw=headers.build(mail, date=now),
        author=author,
        status="queued",
        next_attempt_at=now,
        now=now,
    )


ACKNOWLEDGEMENT = (
    "您好，我们已收到您的邮件，工单号 {number}。回复本邮件即可补充信息。\n"
    "Hello, we have received your e-mail: your ticket number is {number}. "
    "Reply to this message to add anything.\n"
)


def _queue_acknowledgement(
    session: Session, *, ticket: Any, parent: EmailMessage, mailbox: Mailbox, now: datetime
) -> EmailMessage:
    return _outgoing(
        session,
        ticket=ticket,
        parent=parent,
        mailbox=mailbox,
        to=parent.sender,
        text=ACKNOWLEDGEMENT.format(number=ticket.number),
        kind="acknowledgement",
        author=SYSTEM,
        now=now,
        auto=True,
    )


def queue_reply(
    session: Session, *, ticket_id: int, text: str, actor: str, now: datetime | None = None
) -> EmailMessage:
    """Queue an agent's reply to the ticket's latest message from the customer; it counts as
    an update to the customer (first-response and next-update clocks).

    :class:`Conflict` when the ticket has no e-mail from a customer to answer, or its mailbox
    is gone. Example: ``queue_reply(session, ticket_id=5, text="已安排上门", actor="agent7")``.
    """
    now = now or utcnow()
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    parent = session.scalars(
        select(EmailMessage)
        .where(
            EmailMessage.ticket_id == ticket_id,
            EmailMessage.direction == "in",
            EmailMessage.kind == "customer",
        )
        .order_by(EmailMessage.id.desc())
    ).first()
    if parent is None:
        raise Conflict(f"ticket {ticket.number} has no e-mail from the customer to answer")
    mailbox = session.get(Mailbox, parent.mailbox_id) if parent.mailbox_id else None
    if mailbox is None:
        raise Conflict(f"the mailbox ticket {ticket.number}'s e-mail came to no longer exists")
    row = _outgoing(
        session,
        ticket=ticket,
        parent=parent,
        mailbox=mailbox,
        to=parent.sender,
        text=text,
        kind="reply",
        author=actor,
        now=now,
        auto=False,
    )
    tickets.respond(session, ticket_id=ticket_id, actor=actor, note=text, now=now)
    _end_contact(session, ticket_id=ticket_id, by="reply", actor=actor, now=now, last=row.id)
    audit(session, actor=actor, action="email.reply", target=f"ticket:{ticket.number}")
    return row


def queue_notice(
    session: Session,
    *,
    to: str | Sequence[str],
    subject: str,
    text: str,
    kind: str,
    author: str,
    now: datetime | None = None,
    attachments: Sequence[headers.MailAttachment] = (),
    once_as: str | None = None,
) -> EmailMessage:
    """Queue a message that answers no e-mail (a survey link after a contact, a scheduled
    report with its file ``attachments``) from the first active mailbox; the relay sends it
    like any reply. :class:`Conflict` when the center has no active mailbox to send from.

    ``once_as`` makes the message one of a kind: it becomes the Message-ID's token, and a
    second message with the same one is refused (:class:`Conflict`), e.g. a chat's transcript.

    Example: ``queue_notice(session, to="c@example.com", subject="满意度调查", text=link,
    kind="survey", author="lead1")``.
    """
    now = now or utcnow()
    mailbox = next(iter(list_mailboxes(session, active_only=True)), None)
    if mailbox is None:
        raise Conflict("no active mailbox to send the e-mail from (add one on the mail page)")
    message_id = headers.message_id(
        token=once_as or f"{new_id('mail')}.{kind}", domain=mailbox.address.split("@", 1)[1]
    )
    if once_as is not None and _already_received(session, message_id, direction="out"):
        raise Conflict(f"this {kind} e-mail has already been sent")
    mail = headers.OutgoingMail(
        from_address=mailbox.address,
        from_name=mailbox.display_name,
        to=(to,) if isinstance(to, str) else tuple(to),
        subject=subject,
        message_id=message_id,
        text=text,
        auto_submitted="auto-generated",
        attachments=tuple(attachments),
    )
    return _queue(
        session, mailbox=mailbox, mail=mail, ticket_id=None, kind=kind, author=author, now=now
    )


@dataclass(frozen=True)
class Delivery:
    """One outbox message ready for the relay (read outside any write transaction)."""

    email_id: int
    sender: str
    recipients: tuple[str, ...]
    raw: bytes
    mailbox_address: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password: str  # encrypted, as stored


def due_deliveries(session: Session, *, now: datetime, limit: int = 50) -> list[Delivery]:
    """The queued messages whose next attempt is due, oldest first."""
    rows = session.execute(
        select(EmailMessage, Mailbox)
        .join(Mailbox, Mailbox.id == EmailMessage.mailbox_id)
        .where(EmailMessage.status == "queued", EmailMessage.next_attempt_at <= now)
        .order_by(EmailMessage.next_attempt_at, EmailMessage.id)
        .limit(limit)
    )
    return [
        Delivery(
            email_id=message.id,
            sender=message.sender,
            recipients=tuple(message.recipients),
            raw=message.raw,
            mailbox_address=mailbox.address,
            smtp_host=mailbox.smtp_host,
            smtp_port=mailbox.smtp_port,
            smtp_security=mailbox.smtp_security,
            smtp_username=mailbox.smtp_username,
            smtp_password=mailbox.smtp_password,
        )
        for message, mailbox in rows
    ]


def mark_sent(session: Session, *, email_id: int, now: datetime) -> None:
    """The relay accepted the message."""
    row = session.get(EmailMessage, email_id)
    if row is None or row.status != "queued":
        return
    row.status, row.sent_at, row.next_attempt_at = "sent", now, None
    row.attempts += 1
    row.last_error = ""


def mark_failed(
    session: Session, *, email_id: int, error: str, permanent: bool, now: datetime
) -> str:
    """The relay refused or could not be reached: retry later, or give up (``failed``, shown
    on the ticket) after :data:`MAX_ATTEMPTS` or at once for a permanent refusal. Returns
    the new status."""
    row = session.get(EmailMessage, email_id)
    if row is None or row.status != "queued":
        return row.status if row else "missing"
    row.attempts += 1
    row.last_error = error[:2000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at = "failed", None
        if row.ticket_id is not None:
            ticket = tickets.get_ticket(session, ticket_id=row.ticket_id)
            tickets.record_event(
                session,
                ticket=ticket,
                actor=SYSTEM,
                action="email_failed",
                note=error[:500],
                data={"email_id": row.id},
                now=now,
            )
    else:
        row.next_attempt_at = now + RETRY_DELAYS[row.attempts - 1]
    return row.status


# ---------------------------------------------------------------- e-mail contacts

#: An e-mail contact not yet ended: ``new`` (waiting for the router) or ``routed`` (in the
#: routing engine's queue or in an agent's hands).
IN_PROGRESS = ("new", "routed")


def new_contact_id() -> str:
    """A contact id for an e-mail contact, unique across servers (``email_<time><random>``)."""
    return new_id("email")


def _open_or_join_contact(
    session: Session,
    *,
    ticket_id: int,
    row: EmailMessage,
    mailbox: Mailbox,
    contact_id: str | None,
    now: datetime,
) -> str:
    """The e-mail contact a customer's message belongs to: the ticket's contact in progress,
    else a new one (``contact_id`` when the ticket was opened for it just now)."""
    if contact_id is None:
        current = open_contact_of(session, ticket_id=ticket_id)
        if current is not None:
            return current.contact_id
        contact_id = new_contact_id()
    _new_contact(
        session,
        contact_id=contact_id,
        ticket_id=ticket_id,
        mailbox_id=mailbox.id,
        customer=row.sender,
        subject=row.subject,
        first_email_id=row.id,
        now=now,
    )
    return contact_id


def _new_contact(session: Session, *, now: datetime, **fields: Any) -> EmailContact:
    """A new e-mail contact (state ``new``: waiting for the router) with ``fields``."""
    contact = EmailContact(
        state="new",
        queue="",
        opened_at=now,
        ended_by="",
        ended_actor="",
        engine_told=False,
        **fields,
    )
    session.add(contact)
    session.flush()
    return contact


def open_contact_of(session: Session, *, ticket_id: int) -> EmailContact | None:
    """The ticket's e-mail contact in progress (queued or with an agent), if any."""
    return session.scalars(
        select(EmailContact).where(
            EmailContact.ticket_id == ticket_id, EmailContact.state.in_(IN_PROGRESS)
        )
    ).first()


def _end_contact(
    session: Session, *, ticket_id: int, by: str, actor: str, now: datetime, last: int | None
) -> EmailContact | None:
    contact = open_contact_of(session, ticket_id=ticket_id)
    if contact is None:
        return None
    # One the router never queued has nothing to end in the engine.
    told = contact.state == "new"
    contact.state, contact.ended_at, contact.ended_by = "ended", now, by
    contact.ended_actor, contact.last_email_id, contact.engine_told = actor, last, told
    session.flush()
    return contact


def close_without_reply(
    session: Session, *, ticket_id: int, actor: str, now: datetime | None = None
) -> EmailContact:
    """End the ticket's e-mail contact with no reply ("no reply needed": a thank-you, an
    out-of-office); the ticket stays as it is. :class:`Conflict` when none is in progress.

    Example: ``close_without_reply(session, ticket_id=5, actor="agent7")``.
    """
    now = now or utcnow()
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    contact = _end_contact(
        session, ticket_id=ticket_id, by="no_reply", actor=actor, now=now, last=None
    )
    if contact is None:
        raise Conflict(f"ticket {ticket.number} has no e-mail contact in progress")
    audit(session, actor=actor, action="email.no_reply", target=f"contact:{contact.contact_id}")
    return contact


@dataclass(frozen=True)
class ContactToRoute:
    """An e-mail contact the router is to queue in the routing engine."""

    contact_id: str
    ticket_id: int
    ticket_number: str
    mailbox_queue: str
    customer: str
    subject: str


def contacts_to_route(session: Session, *, limit: int = 200) -> list[ContactToRoute]:
    """The e-mail contacts not yet queued in the routing engine, oldest first."""
    rows = session.execute(
        select(EmailContact, Mailbox.queue)
        .outerjoin(Mailbox, Mailbox.id == EmailContact.mailbox_id)
        .where(EmailContact.state == "new")
        .order_by(EmailContact.opened_at, EmailContact.contact_id)
        .limit(limit)
    ).all()
    return [
        ContactToRoute(
            contact_id=contact.contact_id,
            ticket_id=contact.ticket_id,
            ticket_number=tickets.get_ticket(session, ticket_id=contact.ticket_id).number,
            mailbox_queue=queue or "",
            customer=contact.customer,
            subject=contact.subject,
        )
        for contact, queue in rows
    ]


def mark_routed(session: Session, *, contact_id: str, queue: str) -> None:
    """The routing engine has queued the contact in ``queue``; one ended meanwhile (a reply
    sent from the ticket while the router worked) is left for the router to end there too."""
    contact = session.get(EmailContact, contact_id)
    if contact is None:
        return
    contact.queue = queue
    if contact.state == "new":
        contact.state = "routed"
    else:
        contact.engine_told = False


def routed_contacts(session: Session) -> list[str]:
    """The e-mail contacts the routing engine is meant to hold (queued or with an agent)."""
    return list(
        session.scalars(select(EmailContact.contact_id).where(EmailContact.state == "routed"))
    )


def requeue(session: Session, *, contact_id: str, now: datetime | None = None) -> str | None:
    """A routed contact the engine lost (the server stopped while it waited or was in hand,
    which closed it in the event log): end it as ``interrupted`` and open a new contact for
    the same mail, to be queued again. Returns the new contact's id (``None``: nothing to do).
    """
    old = session.get(EmailContact, contact_id)
    if old is None or old.state != "routed":
        return None
    now = now or utcnow()
    old.state, old.ended_at, old.ended_by, old.engine_told = "ended", now, "interrupted", True
    return _new_contact(
        session,
        contact_id=new_contact_id(),
        ticket_id=old.ticket_id,
        mailbox_id=old.mailbox_id,
        customer=old.customer,
        subject=old.subject,
        first_email_id=old.first_email_id,
        now=now,
    ).contact_id


def mark_unrouted(session: Session, *, contact_id: str) -> None:
    """No e-mail queue of the center file takes the contact: its ticket is worked from the
    work queue only."""
    contact = session.get(EmailContact, contact_id)
    if contact is not None and contact.state == "new":
        contact.state = "unrouted"


def ends_to_tell(session: Session, *, limit: int = 200) -> list[str]:
    """Ended e-mail contacts the routing engine still holds (reply or "no reply needed")."""
    return list(
        session.scalars(
            select(EmailContact.contact_id)
            .where(EmailContact.state == "ended", EmailContact.engine_told.is_(False))
            .order_by(EmailContact.ended_at)
            .limit(limit)
        )
    )


def mark_told(session: Session, *, contact_ids: Sequence[str]) -> None:
    """The routing engine has ended these contacts too."""
    for contact_id in contact_ids:
        contact = session.get(EmailContact, contact_id)
        if contact is not None:
            contact.engine_told = True


def ticket_of_contact(session: Session, *, contact_id: str) -> int | None:
    """The ticket an e-mail contact is about (``None``: no such e-mail contact)."""
    contact = session.get(EmailContact, contact_id)
    return contact.ticket_id if contact is not None else None


@dataclass(frozen=True)
class ContactThread:
    """An e-mail contact as a reader sees it: its ticket and the thread up to its end.

    ``messages`` are :func:`thread_of`'s, each with ``in_contact``: whether it is one of this
    contact's (the customer's mail that opened or joined it, the reply that ended it) or
    earlier mail on the ticket, shown for context.
    """

    contact_id: str
    ticket_id: int
    queue: str
    state: str
    ended_by: str
    messages: list[dict[str, Any]]


def contact_thread(session: Session, *, contact_id: str) -> ContactThread:
    """The thread of an e-mail contact; :class:`NotFound` when there is no such contact."""
    contact = session.get(EmailContact, contact_id)
    if contact is None:
        raise NotFound(f"e-mail contact {contact_id} does not exist")
    later = session.scalars(
        select(EmailContact.first_email_id).where(
            EmailContact.ticket_id == contact.ticket_id,
            EmailContact.first_email_id > contact.first_email_id,
        )
    ).all()
    last = contact.last_email_id or (min(later) - 1 if later else None)
    shown = []
    for message in thread_of(session, ticket_id=contact.ticket_id):
        if last is not None and message["id"] > last:
            break
        shown.append(message | {"in_contact": message["id"] >= contact.first_email_id})
    return ContactThread(
        contact_id=contact.contact_id,
        ticket_id=contact.ticket_id,
        queue=contact.queue,
        state=contact.state,
        ended_by=contact.ended_by,
        messages=shown,
    )


# ---------------------------------------------------------------- reading


def thread_of(session: Session, *, ticket_id: int) -> list[dict[str, Any]]:
    """A ticket's e-mail, oldest first, with attachments (names and sizes) and delivery state."""
    rows = list(
        session.scalars(
            select(EmailMessage)
            .where(EmailMessage.ticket_id == ticket_id)
            .order_by(EmailMessage.id)
        )
    )
    files: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for attachment in session.execute(
            select(
                EmailAttachment.id,
                EmailAttachment.email_id,
                EmailAttachment.filename,
                EmailAttachment.content_type,
                EmailAttachment.size,
            ).where(EmailAttachment.email_id.in_([r.id for r in rows]))
        ):
            files.setdefault(attachment.email_id, []).append(
                {
                    "id": attachment.id,
                    "filename": attachment.filename,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                }
            )
    return [
        {
            "id": row.id,
            "direction": row.direction,
            "kind": row.kind,
            "message_id": row.message_id,
            "sender": row.sender,
            "recipients": list(row.recipients),
            "subject": row.subject,
            "body": row.body,
            "author": row.author,
            "status": row.status,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "bounce_reason": row.bounce_reason,
            "created_at": row.created_at,
            "sent_at": row.sent_at,
            "attachments": files.get(row.id, []),
        }
        for row in rows
    ]


def attachment(session: Session, *, attachment_id: int) -> tuple[EmailAttachment, int | None]:
    """An attachment and its message's ticket; :class:`NotFound` when there is none."""
    row = session.get(EmailAttachment, attachment_id)
    if row is None:
        raise NotFound(f"attachment {attachment_id} does not exist")
    message = session.get(EmailMessage, row.email_id)
    return row, message.ticket_id if message else None
