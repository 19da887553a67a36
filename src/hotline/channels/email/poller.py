"""The IMAP poller: reads a mailbox that another mail server receives for us (imaplib).

Each unseen message is read without marking it (``BODY.PEEK[]``), taken in through
:func:`hotline.channels.email.service.receive` and committed, and only then flagged
``\\Seen`` on the server: a crash between the two reads the message again, and the service
recognises it by its Message-ID (nothing lost, nothing doubled). A message over the
mailbox's size limit is not downloaded: it is flagged ``\\Seen \\Flagged`` and left on the
server, and its headers go to the quarantine with the reason.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from contextlib import suppress
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import credentials, service
from hotline.channels.email.limits import size_refusal
from hotline.store.db import reading, writing

TIMEOUT_S = 30.0
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UID = re.compile(rb"UID (\d+)")
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")


@dataclass
class PollResult:
    """What one poll of one mailbox did."""

    mailbox: str
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        """Count one message's outcome."""
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _connect(host: str, port: int, security: str) -> imaplib.IMAP4:
    if security == "tls":
        return imaplib.IMAP4_SSL(
            host, port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_S
        )
    client = imaplib.IMAP4(host, port, timeout=TIMEOUT_S)
    if security == "starttls":
        client.starttls(ssl_context=ssl.create_default_context())
    return client


def _fetch(client: imaplib.IMAP4, uid: bytes, what: str) -> bytes:
    status, data = client.uid("FETCH", uid.decode(), what)
    if status != "OK":
        raise imaplib.IMAP4.error(f"FETCH {what} of message {uid.decode()} failed: {data!r}")
    for item in data:
        if isinstance(item, tuple) and isinstance(item[1], bytes):
            return item[1]
    return b""


def _unseen(client: imaplib.IMAP4) -> list[tuple[bytes, int | None]]:
    """The unseen messages' UIDs with their sizes where the server tells them.

    One ``UID FETCH 1:* (FLAGS RFC822.SIZE)`` rather than ``SEARCH UNSEEN``: every IMAP4rev1
    server answers it, including small test servers without the full SEARCH grammar.
    """
    status, data = client.uid("FETCH", "1:*", "(FLAGS RFC822.SIZE)")
    found = []
    for item in data if status == "OK" else []:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, flags = _UID.search(line), _FLAGS.search(line)
        if uid is None or (flags is not None and b"\\Seen" in flags.group(1)):
            continue
        size = _SIZE.search(line)
        found.append((uid.group(1), int(size.group(1)) if size else None))
    return found


def _headers_only(raw: bytes) -> bytes:
    # The blank line after the headers; some servers hand messages over with bare LFs.
    cuts = [i + len(end) for end in (b"\r\n\r\n", b"\n\n") if (i := raw.find(end)) >= 0]
    return raw[: min(cuts)] if cuts else raw


def poll(factory: sessionmaker[Session], *, address: str, secret: bytes) -> PollResult:
    """Read every unseen message of one mailbox's IMAP folder into the service desk.

    Example: ``poll(factory, address="help@support.example.com", secret=key)``.
    """
    with reading(factory(), purpose="e-mail poll") as session:
        box = service.get_mailbox(session, address=address)
        host, port, security = box.imap_host, box.imap_port, box.imap_security
        user, folder, limit = box.imap_username, box.imap_folder, box.max_message_bytes
        password = credentials.decrypt(box.imap_password, secret=secret)
        limits = service.limits_of(box)
    if not host:
        raise ValueError(f"mailbox {address}: no IMAP host configured (imap_host)")
    result = PollResult(mailbox=address)
    client = _connect(host, port, security)
    try:
        client.login(user, password)
        status, _ = client.select(folder)
        if status != "OK":
            raise imaplib.IMAP4.error(f"mailbox {address}: folder {folder!r} cannot be opened")
        for uid, told_size in _unseen(client):
            raw, size = b"", told_size
            if size is None or size <= limit:
                raw = _fetch(client, uid, "(BODY.PEEK[])")
                size = len(raw)
            if size > limit:
                head = _headers_only(raw) if raw else _fetch(client, uid, "(BODY.PEEK[HEADER])")
                with writing(factory()) as session:
                    service.quarantine(
                        session,
                        raw=head,
                        reason=f"{size_refusal(limits)}; {size} bytes, left on the IMAP server",
                        mailbox=address,
                        source="imap",
                    )
                    session.commit()
                client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen \\Flagged)")
                result.count("refused")
                continue
            with writing(factory()) as session:
                mailbox = service.get_mailbox(session, address=address)
                received = service.receive(session, raw=raw, mailbox=mailbox, source="imap")
                session.commit()
            client.uid("STORE", uid.decode(), "+FLAGS", "(\\Seen)")
            result.count(received.outcome)
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return result
