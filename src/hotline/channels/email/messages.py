"""Reading an inbound e-mail: who sent it, what it answers, its text and its attachments.

Python's parser never fails: a broken message comes back with a list of *defects*. Some are
cosmetic (a missing closing boundary after the last part), others lose content (a multipart
without its boundary, a body cut from its headers, a base64 attachment that does not decode).
Those, and a message without a sender address, are **malformed**: :func:`parse` raises
:class:`MalformedMessage` with the reason, and the adapter keeps the raw bytes in the
quarantine for an administrator, so nothing a customer sent is lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import errors, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from hotline.channels.email.bounces import Bounce, classify

_ID = re.compile(r"<[^<>\s]+>")

# Defects that mean content was lost or cannot be trusted (see the module's docstring).
_FATAL: dict[type[errors.MessageDefect], str] = {
    errors.NoBoundaryInMultipartDefect: "a multipart part declares no boundary",
    errors.StartBoundaryNotFoundDefect: "the multipart boundary never occurs in the body",
    errors.MultipartInvariantViolationDefect: "a multipart part has no sub-parts",
    errors.MissingHeaderBodySeparatorDefect: "a header line is not a header (no blank line?)",
    errors.InvalidBase64CharactersDefect: "a base64 part holds characters outside base64",
    errors.InvalidBase64LengthDefect: "a base64 part is cut short",
}
#: Headers the loop-safety rules (``headers.may_auto_reply``) read.
LOOP_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "x-auto-response-suppress",
    "return-path",
)


class MalformedMessage(ValueError):
    """A message that cannot be read safely; ``reason`` says where and what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    """A file that came with a message."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMessage:
    """What the service desk needs from one received message."""

    message_id: str | None
    sender: str  # the address, lower case
    sender_name: str
    to: tuple[str, ...]
    subject: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    attachments: tuple[Attachment, ...] = ()
    loop_headers: Mapping[str, str] = field(default_factory=dict)
    bounce: Bounce | None = None

    @property
    def referenced(self) -> tuple[str, ...]:
        """The Message-IDs this one answers, nearest first (``In-Reply-To``, then
        ``References`` from its end, which RFC 5322 §3.6.4 orders oldest first)."""
        seen = dict.fromkeys([*self.in_reply_to, *reversed(self.references)])
        return tuple(seen)


def message_ids(value: str | None) -> tuple[str, ...]:
    """The ``<id@host>`` tokens of a header value, in order.

    >>> message_ids("<a@x> comment <b@y>")
    ('<a@x>', '<b@y>')
    """
    return tuple(_ID.findall(value or ""))


def _defect_reason(message: Message) -> str | None:
    for number, part in enumerate(message.walk()):
        for defect in part.defects:
            for kind, reason in _FATAL.items():
                if isinstance(defect, kind):
                    where = "the message" if number == 0 else f"part {number}"
                    return f"{where} ({part.get_content_type()}): {reason}"
    return None


def _text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError) as error:  # an unknown charset, a broken encoding
        raise MalformedMessage(f"the text part cannot be decoded: {error}") from error
    text = str(content)
    if body.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    return text.strip()


def _attachments(message: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for number, part in enumerate(message.iter_attachments(), start=1):
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue  # an attached message: kept in the raw message
        name = part.get_filename() or f"attachment-{number}"
        found.append(Attachment(filename=name, content_type=part.get_content_type(), data=data))
    return tuple(found)


def parse(raw: bytes) -> InboundMessage:
    """Read ``raw`` (the bytes as received); :class:`MalformedMessage` when it cannot be.

    Example::

        message = parse(b"From: Li Lei <li@example.com>\\r\\nSubject: 热水器\\r\\n\\r\\n不加热")
        message.sender  # 'li@example.com'
    """
    if not raw.strip():
        raise MalformedMessage("the message is empty")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    reason = _defect_reason(message)
    if reason:
        raise MalformedMessage(reason)
    try:
        sender_header = str(message.get("From", ""))
        to_header = [str(value) for value in message.get_all("To", [])]
        subject = str(message.get("Subject", "")).strip()
    except (ValueError, IndexError, TypeError) as error:
        raise MalformedMessage(f"a header cannot be read: {error}") from error
    name, address = parseaddr(sender_header)
    if "@" not in address:
        raise MalformedMessage(f"the From header has no sender address: {sender_header!r}")
    if len(address) > 254:  # RFC 5321 §4.5.3.1.3: a path is at most 256 octets with <>
        raise MalformedMessage(f"the From address is longer than 254 characters: {address[:40]}…")
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError, errors.HeaderParseError) as error:
        raise MalformedMessage(f"the From address {address!r} is not valid: {error}") from error
    loop = {key: str(message.get(key, "")).strip() for key in LOOP_HEADERS if key in message}
    return InboundMessage(
        message_id=next(iter(message_ids(str(message.get("Message-ID", "")))), None),
        sender=address.lower(),
        sender_name=name,
        to=tuple(a.lower() for _, a in getaddresses(to_header) if a),
        subject=subject,
        in_reply_to=message_ids(str(message.get("In-Reply-To", ""))),
        references=message_ids(str(message.get("References", ""))),
        text=_text_of(message),
        attachments=_attachments(message),
        loop_headers=loop,
        bounce=classify(message),
    )
