"""The SMTP receiver: customers' mail servers deliver to Hotline directly (aiosmtpd).

Recipients are checked at ``RCPT TO`` against the active mailboxes (550 for any other
address: we are no open relay). At the end of ``DATA`` the message goes through
:func:`hotline.channels.email.service.receive` in its own short write transaction; the reply
tells the sending server what happened: 250 with the ticket number, 552 with the limit for a
message too large (the sender's server bounces it to the customer with our reason), 554 with
the reason for a malformed one (which we keep in the quarantine all the same).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, AnyStr

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import service
from hotline.channels.email.limits import DEFAULT_MAX_MESSAGE_BYTES, MessageLimits, size_refusal
from hotline.store.db import writing

log = logging.getLogger(__name__)


class _Handler:
    """aiosmtpd's handler hooks, backed by the database."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def _known(self, address: str) -> bool:
        with self.factory() as session:
            return service.mailbox_for(session, recipients=[address]) is not None

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not await asyncio.to_thread(self._known, address):
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _receive(self, raw: bytes, recipients: list[str], mail_from: str) -> str:
        with writing(self.factory()) as session:
            mailbox = service.mailbox_for(session, recipients=recipients)
            if mailbox is None:  # removed since RCPT
                return "450 4.2.1 mailbox unavailable, try again later"
            received = service.receive(
                session, raw=raw, mailbox=mailbox, source="smtp", envelope_sender=mail_from
            )
            session.commit()
        if received.outcome == "refused":
            return received.reason
        if received.outcome == "quarantined":
            return f"554 5.6.0 Malformed message, kept for review: {received.reason}"
        if received.ticket_number:
            return f"250 OK: ticket {received.ticket_number}"
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: SmtpSession, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        try:
            return await asyncio.to_thread(
                self._receive, raw, list(envelope.rcpt_tos), envelope.mail_from or ""
            )
        except Exception:  # the sender retries a 451; nothing is lost
            log.exception("receiving a message failed")
            return "451 4.3.0 temporary failure storing the message, try again later"


class _Smtp(SMTP):
    """aiosmtpd's server with our refusal text for an oversized message."""

    def __init__(self, handler: Any, *, refusal: str, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._refusal = refusal

    async def push(self, status: AnyStr) -> None:
        # aiosmtpd refuses oversized data itself ("552 Error: Too much mail data"); say why.
        if isinstance(status, str) and status.startswith("552 Error"):
            await super().push(self._refusal)
            return
        await super().push(status)


class MailReceiver(Controller):
    """An SMTP server on ``host:port`` in its own thread; ``start()`` / ``stop()``.

    ``max_message_bytes``: the largest of the mailboxes' limits (each mailbox's own limit is
    checked again after ``DATA``).

    Example::

        receiver = MailReceiver(factory, host="0.0.0.0", port=2525)
        receiver.start()
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        host: str = "127.0.0.1",
        port: int = 2525,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.refusal = size_refusal(MessageLimits(max_message_bytes=max_message_bytes))
        self.max_message_bytes = max_message_bytes
        super().__init__(_Handler(factory), hostname=host, port=port)

    def factory(self) -> SMTP:
        """The SMTP protocol object of one connection (aiosmtpd's hook)."""
        return _Smtp(
            self.handler,
            refusal=self.refusal,
            data_size_limit=self.max_message_bytes,
            enable_SMTPUTF8=True,
            hostname=self.hostname,
        )


def largest_limit(factory: sessionmaker[Session]) -> int:
    """The largest message any active mailbox accepts (the receiver's own ceiling)."""
    with factory() as session:
        sizes = [m.max_message_bytes for m in service.list_mailboxes(session, active_only=True)]
    return max(sizes, default=DEFAULT_MAX_MESSAGE_BYTES)
