"""Outgoing e-mail: the threading headers, the ticket number in the subject, loop safety.

A reply names the message it answers in ``In-Reply-To`` and carries the whole chain in
``References`` (the parent's ``References`` followed by the parent's ``Message-ID``, RFC 5322
§3.6.4), so the customer's mail client shows one conversation and their answer threads back
into the ticket. The subject keeps ``[#number]`` for mail clients that drop the headers.

Automatic answers (the acknowledgement with the ticket number) follow RFC 3834: they carry
``Auto-Submitted: auto-replied`` and are never sent to a message that is itself automatic
(``Auto-Submitted`` other than ``no``), bulk or list mail (``Precedence``, ``List-Id``), a
bounce (empty ``Return-Path``) or a mail system's address (``mailer-daemon``, ``postmaster``,
``noreply``…): two auto-responders must not answer each other for ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from hotline.channels.email.threads import SUBJECT_TAG

#: References kept on a long thread: the first (the conversation's root) and the newest ones;
#: some servers refuse header lines over 998 characters (RFC 5322 §2.1.1).
MAX_REFERENCES = 20
_SYSTEM_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "bounce")


def tag_subject(subject: str, number: str) -> str:
    """The subject with the ticket's tag, added once.

    >>> tag_subject("热水器不加热", "20261203000042")
    '热水器不加热 [#20261203000042]'
    """
    if any(found == number for found in SUBJECT_TAG.findall(subject)):
        return subject
    return f"{subject} [#{number}]".strip()


def reply_subject(subject: str, number: str) -> str:
    """``Re:`` once, then the tagged subject.

    >>> reply_subject("Re: 热水器 [#20261203000042]", "20261203000042")
    'Re: 热水器 [#20261203000042]'
    """
    stripped = subject.strip()
    answered = stripped.lower().startswith(("re:", "回复:", "回复："))
    base = stripped if answered else f"Re: {stripped}"
    return tag_subject(base, number)


def message_id(*, token: str, domain: str) -> str:
    """A Message-ID on our own domain (``token`` unique: a random id).

    >>> message_id(token="7f3a", domain="support.example.com")
    '<7f3a@support.example.com>'
    """
    return f"<{token}@{domain}>"


def reply_references(parent_id: str | None, parent_references: Sequence[str]) -> tuple[str, ...]:
    """The ``References`` of a reply to a message (its own references, then its id).

    >>> reply_references("<b@x>", ["<a@x>"])
    ('<a@x>', '<b@x>')
    """
    chain = [*parent_references, *([parent_id] if parent_id else [])]
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return tuple(chain)


@dataclass(frozen=True)
class MailAttachment:
    """A file sent with a message: its name, media type (``type/subtype``) and bytes."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class OutgoingMail:
    """One message to send; ``auto_submitted`` is set on automatic answers (RFC 3834)."""

    from_address: str
    from_name: str
    to: tuple[str, ...]
    subject: str
    message_id: str
    text: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None
    attachments: tuple[MailAttachment, ...] = ()


def build(mail: OutgoingMail, *, date: datetime) -> bytes:
    """The message's bytes as they go out (UTF-8 headers and body, CRLF line ends).

    Example: ``build(OutgoingMail(..., subject="Re: … [#2026…]"), date=now)``.
    """
    message = EmailMessage()
    message["From"] = formataddr((mail.from_name, mail.from_address))
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = mail.message_id
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        message["References"] = " ".join(mail.references)
    if mail.auto_submitted:
        message["Auto-Submitted"] = mail.auto_submitted
        # Microsoft Exchange's own loop guard: no out-of-office answer to this message.
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.text)
    for attached in mail.attachments:
        main, _, sub = attached.media_type.partition("/")
        message.add_attachment(
            attached.content, maintype=main, subtype=sub, filename=attached.filename
        )
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def may_auto_reply(
    *, sender: str, loop_headers: Mapping[str, str], own_addresses: Sequence[str]
) -> tuple[bool, str]:
    """Whether an automatic answer may go to this message, and why not (RFC 3834 §2).

    >>> may_auto_reply(sender="li@example.com", loop_headers={}, own_addresses=["help@x.cn"])
    (True, '')
    >>> may_auto_reply(sender="li@example.com", loop_headers={"auto-submitted": "auto-replied"},
    ...                own_addresses=[])
    (False, 'Auto-Submitted: auto-replied')
    """
    headers = {key.lower(): value.strip() for key, value in loop_headers.items()}
    auto = headers.get("auto-submitted", "no").split(";", 1)[0].strip().lower()
    if auto and auto != "no":
        return False, f"Auto-Submitted: {headers['auto-submitted']}"
    precedence = headers.get("precedence", "").lower()
    if precedence in ("bulk", "junk", "list"):
        return False, f"Precedence: {precedence}"
    if headers.get("list-id") or headers.get("list-unsubscribe"):
        return False, "list mail"
    if headers.get("x-auto-response-suppress", "").lower() in ("all", "autoreply", "oof"):
        return False, f"X-Auto-Response-Suppress: {headers['x-auto-response-suppress']}"
    if headers.get("return-path") in ("<>", ""):
        return False, "empty Return-Path (a bounce)"
    local = sender.split("@", 1)[0].lower()
    if local.startswith(_SYSTEM_SENDERS):
        return False, f"a mail system's address ({sender})"
    if sender.lower() in {address.lower() for address in own_addresses}:
        return False, "our own address"
    return True, ""
