"""The e-mail channel's service on SQLite and PostgreSQL: threading into tickets, customers,
acknowledgements (loop-safe), replies with threading headers, bounces, quarantine, outbox."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.channels.email import credentials, service
from hotline.channels.email.settings import MailboxSettings
from hotline.core.errors import Conflict
from hotline.crm import service as crm
from hotline.store.models.email import EmailAttachment, EmailMessage, Mailbox
from hotline.tickets import service as tickets
from tests.unit.channels.mail_samples import MALFORMED, bounce_of, customer_mail

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
SECRET = b"test-secret"


def _mailbox(session: Session, **changes: object) -> Mailbox:
    settings = MailboxSettings.model_validate(
        {
            "address": "help@support.example.com",
            "display_name": "客服中心",
            "queue": "email",
            "smtp_host": "127.0.0.1",
            "smtp_port": 2525,
            "smtp_username": "hotline",
            "smtp_password": "relay-pass",
            "first_response_hours": 2,
            "resolution_hours": 16,
        }
        | changes
    )
    return service.save_mailbox(session, settings=settings, secret=SECRET, actor="admin")


def _outbox(session: Session, ticket_id: int) -> list[EmailMessage]:
    return list(
        session.scalars(
            select(EmailMessage)
            .where(EmailMessage.ticket_id == ticket_id, EmailMessage.direction == "out")
            .order_by(EmailMessage.id)
        )
    )


def test_a_new_mail_opens_a_ticket_with_the_channel_sla_and_an_acknowledgement(
    db_session: Session,
) -> None:
    box = _mailbox(db_session)
    assert box.smtp_password.startswith(credentials.PREFIX)  # never in clear
    assert credentials.decrypt(box.smtp_password, secret=SECRET) == "relay-pass"
    received = service.receive(
        db_session, raw=customer_mail(attachment=b"JPEG"), mailbox=box, source="smtp", now=NOW
    )
    assert received.outcome == "opened"
    assert received.ticket_id is not None
    ticket = tickets.get_ticket(db_session, ticket_id=received.ticket_id)
    assert ticket.queue == "email"
    assert ticket.subject == "热水器不加热"
    assert ticket.sla["name"] == "email"
    assert ticket.sla["first_response_s"] == 2 * 3600
    # the sender became a customer, found by address next time
    assert ticket.customer_id is not None
    assert [c.id for c in crm.customers_with_email(db_session, address="LI.LEI@example.com")] == [
        ticket.customer_id
    ]
    files = db_session.scalars(select(EmailAttachment)).all()
    assert [(f.filename, f.data) for f in files] == [("fault.jpg", b"JPEG")]
    (ack,) = _outbox(db_session, ticket.id)
    assert ack.kind == "acknowledgement"
    assert ack.status == "queued"
    assert ack.recipients == ["li.lei@example.com"]
    parsed = email.message_from_bytes(ack.raw, policy=email.policy.default)
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["In-Reply-To"] == "<c1@example.com>"
    assert f"[#{ticket.number}]" in parsed["Subject"]
    assert ticket.number in parsed.get_content()
    # the same message again (an SMTP retry, a second poll) is recorded once
    again = service.receive(db_session, raw=customer_mail(), mailbox=box, source="imap", now=NOW)
    assert again.outcome == "duplicate"


def test_replies_thread_by_references_then_by_subject_and_reopen_nothing_closed(
    db_session: Session,
) -> None:
    box = _mailbox(db_session)
    first = service.receive(db_session, raw=customer_mail(), mailbox=box, source="smtp", now=NOW)
    assert first.ticket_id is not None
    reply = service.queue_reply(
        db_session, ticket_id=first.ticket_id, text="请提供购买日期。", actor="agent7", now=NOW
    )
    parsed = email.message_from_bytes(reply.raw, policy=email.policy.default)
    assert parsed["In-Reply-To"] == "<c1@example.com>"
    assert parsed["References"] == "<c1@example.com>"
    assert parsed["Message-ID"] == reply.message_id
    ticket = tickets.get_ticket(db_session, ticket_id=first.ticket_id)
    assert ticket.first_response_at is not None  # the reply is the first response
    # the customer answers our reply, with a rewritten subject: threaded by References
    answer = customer_mail(
        subject="购买日期",
        message_id="<c2@example.com>",
        in_reply_to=reply.message_id,
        references=f"<c1@example.com> {reply.message_id}",
    )
    second = service.receive(db_session, raw=answer, mailbox=box, source="smtp", now=NOW)
    assert (second.outcome, second.ticket_id) == ("threaded", first.ticket_id)
    # a fresh message with the ticket number in the subject: threaded by the subject
    fresh = customer_mail(
        subject=f"还是不行 [#{ticket.number}]", message_id="<c3@example.com>", sender="x@y.com"
    )
    third = service.receive(db_session, raw=fresh, mailbox=box, source="smtp", now=NOW)
    assert (third.outcome, third.ticket_id) == ("threaded", first.ticket_id)
    # no acknowledgement for threaded messages: only the first one's and the reply
    assert [m.kind for m in _outbox(db_session, first.ticket_id)] == ["acknowledgement", "reply"]
    history = [e.action for e in tickets.history(db_session, ticket_id=first.ticket_id)]
    assert history.count("email_in") == 3


def test_no_acknowledgement_to_automatic_mail(db_session: Session) -> None:
    box = _mailbox(db_session)
    raw = customer_mail(extra="Auto-Submitted: auto-replied", message_id="<ooo@example.com>")
    received = service.receive(db_session, raw=raw, mailbox=box, source="smtp", now=NOW)
    assert received.outcome == "opened"
    assert received.ticket_id is not None
    assert _outbox(db_session, received.ticket_id) == []
    bounce_sender = service.receive(
        db_session,
        raw=customer_mail(message_id="<empty-path@example.com>"),
        mailbox=box,
        source="smtp",
        envelope_sender="<>",
        now=NOW,
    )
    assert bounce_sender.ticket_id is not None
    assert _outbox(db_session, bounce_sender.ticket_id) == []


def test_a_bounce_marks_the_reply_and_the_ticket(db_session: Session) -> None:
    box = _mailbox(db_session)
    first = service.receive(db_session, raw=customer_mail(), mailbox=box, source="smtp", now=NOW)
    assert first.ticket_id is not None
    reply = service.queue_reply(
        db_session, ticket_id=first.ticket_id, text="好的", actor="agent7", now=NOW
    )
    assert reply.message_id is not None
    bounce = service.receive(
        db_session, raw=bounce_of(reply.message_id), mailbox=box, source="smtp", now=NOW
    )
    assert (bounce.outcome, bounce.ticket_id) == ("bounce", first.ticket_id)
    db_session.refresh(reply)
    assert reply.status == "bounced"
    assert reply.bounce_reason.startswith("5.1.1")
    events = tickets.history(db_session, ticket_id=first.ticket_id)
    assert events[-1].action == "email_bounced"
    assert "User unknown" in events[-1].note


def test_malformed_mail_is_quarantined_raw_and_a_huge_one_refused(db_session: Session) -> None:
    box = _mailbox(db_session, max_message_bytes=64 * 1024)
    kept = service.receive(db_session, raw=MALFORMED, mailbox=box, source="imap", now=NOW)
    assert kept.outcome == "quarantined"
    assert "boundary never occurs" in kept.reason
    (row,) = service.list_quarantine(db_session)
    assert row.raw == MALFORMED
    assert row.reason == kept.reason
    huge = customer_mail(attachment=b"x" * 100_000)
    refused = service.receive(db_session, raw=huge, mailbox=box, source="smtp", now=NOW)
    assert refused.outcome == "refused"
    assert refused.reason.startswith("552 5.3.4")
    assert db_session.scalars(select(EmailMessage)).all() == []


def test_the_outbox_retries_then_gives_up_on_the_ticket(db_session: Session) -> None:
    box = _mailbox(db_session)
    first = service.receive(db_session, raw=customer_mail(), mailbox=box, source="smtp", now=NOW)
    assert first.ticket_id is not None
    (ack,) = _outbox(db_session, first.ticket_id)
    assert [d.email_id for d in service.due_deliveries(db_session, now=NOW)] == [ack.id]
    status = service.mark_failed(
        db_session, email_id=ack.id, error="ConnectionRefusedError", permanent=False, now=NOW
    )
    assert status == "queued"
    assert ack.next_attempt_at == NOW + service.RETRY_DELAYS[0]
    assert service.due_deliveries(db_session, now=NOW) == []
    later = NOW + timedelta(days=2)
    for _ in range(service.MAX_ATTEMPTS - 1):
        status = service.mark_failed(
            db_session, email_id=ack.id, error="timed out", permanent=False, now=later
        )
    assert status == "failed"
    assert tickets.history(db_session, ticket_id=first.ticket_id)[-1].action == "email_failed"


def test_overlong_headers_are_cut_not_refused(db_session: Session) -> None:
    box = _mailbox(db_session)
    long_id = "<" + "x" * 300 + "@example.com>"
    raw = customer_mail(subject="长" * 600, message_id=long_id)
    received = service.receive(db_session, raw=raw, mailbox=box, source="smtp", now=NOW)
    assert received.outcome == "opened"
    row = db_session.get(EmailMessage, received.email_id)
    assert row is not None
    assert len(row.subject) == 512
    assert row.message_id == long_id[:255]


def test_reply_needs_a_customer_mail(db_session: Session) -> None:
    ticket = tickets.create_ticket(db_session, type="inquiry", subject="phone", actor="a")
    with pytest.raises(Conflict, match="no e-mail"):
        service.queue_reply(db_session, ticket_id=ticket.id, text="x", actor="a")
