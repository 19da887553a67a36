"""Signed, expiring tokens for people who are not users: ``<subject>.<expires>.<hmac>``.

Customers hold such tokens (a web chat's conversation, a survey link): they have no account,
so the token itself is the proof. The HMAC-SHA256 covers a ``purpose`` as well as the body,
so a token made for one purpose opens nothing of another, and the expiry (Unix seconds) is
signed with the subject, so it cannot be stretched.

>>> token = sign("L1-000001", purpose=b"chat", expires_at=1000.0, secret=b"k")
>>> read(token, purpose=b"chat", secret=b"k", now=999.0)
Signed(subject='L1-000001', expires_at=1000, valid=True)
>>> read(token, purpose=b"chat", secret=b"k", now=1000.5).valid
False
>>> read(token, purpose=b"survey", secret=b"k", now=1.0) is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Signed:
    """What a genuine token says: its subject, when it expires and whether it still holds."""

    subject: str
    expires_at: int
    valid: bool


def _signature(body: str, purpose: bytes, secret: bytes) -> str:
    digest = hmac.new(secret, purpose + b"|" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(subject: str, *, purpose: bytes, expires_at: float, secret: bytes) -> str:
    """A token for ``subject`` and ``purpose``, valid until ``expires_at`` (Unix seconds)."""
    body = f"{subject}.{int(expires_at)}"
    return f"{body}.{_signature(body, purpose, secret)}"


def read(token: str, *, purpose: bytes, secret: bytes, now: float) -> Signed | None:
    """The token's subject and expiry if it is genuine (``valid`` False once expired), else
    ``None``: forged, altered or made for another purpose."""
    body, _, signature = token.rpartition(".")
    subject, _, expires = body.rpartition(".")
    if not subject or not expires.isdigit():
        return None
    if not hmac.compare_digest(signature, _signature(body, purpose, secret)):
        return None
    return Signed(subject, int(expires), now < int(expires))
