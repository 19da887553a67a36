"""Signed tokens: ``<payload>.<hmac>``, naming a server-side session that can be revoked.

The signature proves the server issued the token; the session it names (``sid``) decides
whether it is still good, so signing out or a password reset ends it at once. A token has one
*purpose*: ``session`` tokens travel in the ``Authorization`` header or the session cookie;
``stream`` tickets live a minute, are good for one stream, and are the only thing accepted in
a URL, where a browser's WebSocket or EventSource cannot send a header (URLs end up in logs
and history). A ticket carries its own id (``ticket_id``), which the web node that redeems it
— any of them: the ids are kept in the database — crosses off when it is used
(``hotline.web.auth.StreamTicketBook``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Final

SESSION: Final = "session"
STREAM: Final = "stream"
PURPOSES: Final = frozenset({SESSION, STREAM})


@dataclass(frozen=True)
class TokenClaims:
    """What a token says: who, which roles, until when (epoch seconds), which session, for what.

    >>> TokenClaims("ana", ("agent",), 1e9, session_id="s1").purpose
    'session'
    """

    username: str
    roles: tuple[str, ...]
    expires_at: float
    session_id: str = ""
    purpose: str = SESSION
    ticket_id: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(claims: TokenClaims, *, secret: bytes) -> str:
    """Return a token carrying ``claims``, signed with HMAC-SHA256 under ``secret``."""
    payload = json.dumps(
        {
            "u": claims.username,
            "r": list(claims.roles),
            "e": claims.expires_at,
            "s": claims.session_id,
            "p": claims.purpose,
            **({"t": claims.ticket_id} if claims.ticket_id else {}),
        },
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(signature)}"


def read_token(
    token: str, *, secret: bytes, now: float, purpose: str = SESSION
) -> TokenClaims | None:
    """Return the claims of a valid, unexpired token issued for ``purpose``, or ``None``.

    A token without a session id (issued before sessions were revocable) is refused.
    """
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
            username=str(data["u"]),
            roles=tuple(data["r"]),
            expires_at=float(data["e"]),
            session_id=str(data["s"]),
            purpose=str(data["p"]),
            ticket_id=str(data.get("t", "")),
        )
    except (ValueError, KeyError, TypeError):
        return None
    if claims.expires_at <= now or claims.purpose != purpose or not claims.session_id:
        return None
    if claims.purpose == STREAM and not claims.ticket_id:
        return None  # a stream ticket that cannot be crossed off is no ticket
    return claims
