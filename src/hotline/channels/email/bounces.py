"""Bounces: the delivery status notifications (DSN, RFC 3464) that say a reply did not arrive.

A DSN is a ``multipart/report; report-type=delivery-status`` message from the receiving side's
mail system. Its ``message/delivery-status`` part holds one block per recipient with
``Action`` (``failed``, ``delayed``, ``delivered``, ``relayed``, ``expanded``) and ``Status``
(RFC 3463: ``5.x.x`` permanent, ``4.x.x`` transient); its third part returns the original
message or only its headers, whose ``Message-ID`` names the reply that bounced. Only a
``failed`` action is a bounce; a ``delayed`` one is a warning the mail system will retry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Bounce:
    """A failed delivery: which of our messages, to whom, and why.

    ``permanent``: a 5.x.x status (the address or the mailbox is wrong); a 4.x.x failure
    means the receiving system gave up retrying.
    """

    original_message_id: str | None
    recipients: tuple[str, ...]
    status: str
    diagnostic: str

    @property
    def permanent(self) -> bool:
        """True for a 5.x.x status code."""
        return self.status.startswith("5")


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # Some mail systems label the part as text: parse its blocks ourselves.
    text = payload if isinstance(payload, str) else ""
    return [HeaderParser().parsestr(chunk) for chunk in re.split(r"\r?\n\r?\n", text) if chunk]


def _original_id(report: Message) -> str | None:
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found = _ID.search(str(inner[0].get("Message-ID", "")))
                if found:
                    return found.group()
        elif kind == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
            found = _ID.search(str(HeaderParser().parsestr(text).get("Message-ID", "")))
            if found:
                return found.group()
    return None


def _address(field: str) -> str:
    # "rfc822; someone@example.com" (RFC 3464 §2.3.2: address-type ; address)
    return field.split(";", 1)[-1].strip().strip("<>").lower()


def classify(message: Message) -> Bounce | None:
    """The bounce a message reports, or ``None`` when it is not a failed-delivery DSN.

    Example::

        bounce = classify(email.message_from_bytes(raw))
        if bounce and bounce.original_message_id: ...  # mark that reply as bounced
    """
    if message.get_content_type() != "multipart/report":
        return None
    if str(message.get_param("report-type", "")).lower() != "delivery-status":
        return None
    failed: list[str] = []
    status, diagnostic = "", ""
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _blocks(part):
            action = str(block.get("Action", "")).strip().lower()
            if action != "failed":
                continue
            failed.append(_address(str(block.get("Final-Recipient", ""))))
            status = status or str(block.get("Status", "")).strip()
            diagnostic = diagnostic or " ".join(str(block.get("Diagnostic-Code", "")).split())
    if not failed:
        return None
    return Bounce(
        original_message_id=_original_id(message),
        recipients=tuple(failed),
        status=status,
        diagnostic=diagnostic.split(";", 1)[-1].strip() if diagnostic else "",
    )
