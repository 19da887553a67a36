"""The outbox's courier: hands queued messages to each mailbox's SMTP relay (smtplib).

Each message is read, sent with no database transaction open (a slow relay must not hold
SQLite's single write lock), then marked ``sent`` or rescheduled in a short transaction of
its own. A relay that is down or answers 4xx means "later" (``service.mark_failed`` with its
growing delays); a 5xx refusal of every recipient is permanent and shows on the ticket.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import credentials, service
from hotline.store.db import reading, utcnow, writing

TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Outcome:
    """How one delivery attempt went."""

    email_id: int
    status: str  # "sent", "queued" (will retry) or "failed"
    error: str = ""


def _send(delivery: service.Delivery, *, secret: bytes) -> None:
    host, port = delivery.smtp_host or "127.0.0.1", delivery.smtp_port
    client: smtplib.SMTP
    if delivery.smtp_security == "tls":
        client = smtplib.SMTP_SSL(
            host, port, timeout=TIMEOUT_S, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
    with client:
        if delivery.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if delivery.smtp_username:
            password = credentials.decrypt(delivery.smtp_password, secret=secret)
            client.login(delivery.smtp_username, password)
        client.sendmail(delivery.sender, list(delivery.recipients), delivery.raw)


def _permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500 and not isinstance(error, smtplib.SMTPAuthenticationError)
    return isinstance(error, credentials.CredentialError)


def deliver_due(
    factory: sessionmaker[Session], *, secret: bytes, now: datetime | None = None
) -> list[Outcome]:
    """Try every queued message whose time has come; return what happened to each."""
    now = now or utcnow()
    with reading(factory(), purpose="e-mail outbox") as session:
        due = service.due_deliveries(session, now=now)
    outcomes = []
    for delivery in due:
        try:
            _send(delivery, secret=secret)
        except (OSError, smtplib.SMTPException, credentials.CredentialError) as error:
            text = f"{type(error).__name__}: {error}"
            with writing(factory()) as session:
                status = service.mark_failed(
                    session,
                    email_id=delivery.email_id,
                    error=text,
                    permanent=_permanent(error),
                    now=now,
                )
                session.commit()
            outcomes.append(Outcome(delivery.email_id, status, text))
            continue
        with writing(factory()) as session:
            service.mark_sent(session, email_id=delivery.email_id, now=utcnow())
            session.commit()
        outcomes.append(Outcome(delivery.email_id, "sent"))
    return outcomes
