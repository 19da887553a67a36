"""How large an inbound e-mail may be, and the refusal a sender reads when it is larger.

A mail server refuses an oversized message during the SMTP conversation with reply code 552
(RFC 5321 §4.2.2, "exceeded storage allocation"), so the customer's own server bounces it back
to them with our reason; nothing is half-stored.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
#: Most public mail services stop at 20-25 MiB per message; a service desk needs photos of a
#: fault or an invoice, not videos.
DEFAULT_MAX_MESSAGE_BYTES = 10 * MIB
#: Attachments kept per message; more is refused as a whole, like an oversized message.
DEFAULT_MAX_ATTACHMENTS = 20


@dataclass(frozen=True)
class MessageLimits:
    """The limits of one mailbox."""

    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_attachments: int = DEFAULT_MAX_ATTACHMENTS


def size_refusal(limits: MessageLimits) -> str:
    """The SMTP 552 reply text for a message over the size limit.

    >>> size_refusal(MessageLimits(max_message_bytes=10 * MIB))
    '552 5.3.4 Message too big: 10.0 MiB at most per message, attachments included'
    """
    size = limits.max_message_bytes / MIB
    return f"552 5.3.4 Message too big: {size:.1f} MiB at most per message, attachments included"


def too_large(size: int, limits: MessageLimits) -> bool:
    """Whether a message of ``size`` bytes is over the limit."""
    return size > limits.max_message_bytes


def attachments_refusal(count: int, limits: MessageLimits) -> str | None:
    """The 552 reply for a message with too many attachments, or ``None`` when it is fine."""
    if count <= limits.max_attachments:
        return None
    return (
        f"552 5.3.4 Too many attachments: {count}, this mailbox accepts at most "
        f"{limits.max_attachments} per message"
    )
