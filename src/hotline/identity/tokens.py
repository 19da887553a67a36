"""Signed bearer tokens: ``<payload>.<hmac>``, stateless so API nodes stay interchangeable."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class TokenClaims:
    """What a token says: who, which roles, until when (epoch seconds)."""

    username: str
    roles: tuple[str, ...]
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(claims: TokenClaims, *, secret: bytes) -> str:
    """Return a token carrying ``claims``, signed with HMAC-SHA256 under ``secret``."""
    payload = json.dumps(
        {"u": claims.username, "r": list(claims.roles), "e": claims.expires_at},
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def read_token(token: str, *, secret: bytes, now: float) -> TokenClaims | None:
    """Return the claims of a valid, unexpired token, or ``None``."""
    try:
        payload_text, signature_text = token.split(".", 1)
        payload = _unb64(payload_text)
        signature = _unb64(signature_text)
    except ValueError:
        return None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        data = json.loads(payload)
        claims = TokenClaims(
            username=str(data["u"]), roles=tuple(data["r"]), expires_at=float(data["e"])
        )
    except (ValueError, KeyError, TypeError):
        return None
    if claims.expires_at <= now:
        return None
    return claims
