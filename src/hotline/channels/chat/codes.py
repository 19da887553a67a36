"""One-time codes: a chat visitor proves an e-mail address or mobile number is theirs.

In the chat, a visitor may ask to verify their address or number: the server sends a 6-digit
code there (e-mail through the outbox, SMS through the gateway) and keeps only its hash, keyed
with the server's secret and bound to the conversation and the address, with an expiry and an
attempt limit. The visitor types the code back; the right code within
:data:`CODE_TTL_S` and :data:`MAX_ATTEMPTS` tries verifies the address, so the chat is linked
to the customer behind it. Codes asked for are limited per conversation and per address
(:data:`SENDS_PER_HOUR`), so the widget cannot be used to flood someone's inbox or phone.

>>> pending = issue(code="123456", conversation="L1-1", address="li@example.com",
...                 secret=b"k", now=0.0)
>>> "123456" in repr(pending)
False
>>> check(pending, code="000000", secret=b"k", now=1.0)
(PendingCode(..., attempts=1, expires_at=600.0, verified=False), 'wrong')
>>> check(pending, code="123456", secret=b"k", now=1.0)[1]
'verified'
>>> check(pending, code="123456", secret=b"k", now=CODE_TTL_S)[1]
'expired'
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from typing import Literal

#: How long a code holds, how many tries it allows, how many codes an hour a conversation or
#: an address may be sent.
CODE_TTL_S = 600.0
MAX_ATTEMPTS = 5
SENDS_PER_HOUR = 3
CODE = re.compile(r"^[0-9]{6}$")

Outcome = Literal["verified", "wrong", "locked", "expired"]


@dataclass(frozen=True)
class PendingCode:
    """A code sent and not yet used up: only its hash, when it expires, the tries made."""

    conversation: str
    address: str
    code_hash: str
    expires_at: float
    attempts: int = 0
    verified: bool = False

    def __repr__(self) -> str:
        return (
            f"PendingCode(..., attempts={self.attempts}, expires_at={self.expires_at}, "
            f"verified={self.verified})"
        )


def new_code(random_below: int) -> str:
    """The six digits of a code, from a random whole number (``secrets.randbelow(10**6)``).

    >>> new_code(42)
    '000042'
    """
    return f"{random_below % 1_000_000:06d}"


def code_hash(*, code: str, conversation: str, address: str, secret: bytes) -> str:
    """The stored form of a code: HMAC-SHA256 under the server's secret, bound to the chat and
    the address, so a stolen table gives neither the codes nor a way to try them offline."""
    body = f"chat-code|{conversation}|{address}|{code}".encode()
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def issue(*, code: str, conversation: str, address: str, secret: bytes, now: float) -> PendingCode:
    """The pending code for ``address`` in ``conversation``: its hash, valid for 10 minutes."""
    return PendingCode(
        conversation=conversation,
        address=address,
        code_hash=code_hash(code=code, conversation=conversation, address=address, secret=secret),
        expires_at=now + CODE_TTL_S,
    )


def check(
    pending: PendingCode, *, code: str, secret: bytes, now: float
) -> tuple[PendingCode, Outcome]:
    """Try ``code`` against the pending one: ``verified`` (used up), ``wrong`` (one of the
    :data:`MAX_ATTEMPTS` tries spent), ``locked`` (all spent, or used: even the right code is
    refused; ask for a new one) or ``expired``."""
    if pending.verified or pending.attempts >= MAX_ATTEMPTS:
        return pending, "locked"
    if now >= pending.expires_at:
        return pending, "expired"
    given = code_hash(
        code=code.strip(), conversation=pending.conversation, address=pending.address, secret=secret
    )
    spent = replace(pending, attempts=pending.attempts + 1)
    if hmac.compare_digest(given, pending.code_hash):
        return replace(spent, verified=True), "verified"
    return spent, "wrong"
