"""Chat login: the company's web site vouches for a visitor it has signed in.

A customer signed in on the company's site need not tell the chat who they are: the site's
server signs who they are and hands the token to the widget (``data-user-token`` on the
script tag), as Intercom's and Zendesk's "identity verification" do. The token is

    <claims>.<expires>.<signature>

``claims`` is the base64url (no padding) of a JSON object — ``id`` (the customer's id in the
company's own system, required), ``email``, ``phone``, ``name`` (optional); ``expires`` is
Unix seconds; ``signature`` the base64url (no padding) HMAC-SHA256, under the chat login
secret the center configured, of ``chat-login|<claims>.<expires>`` (:mod:`hotline.core.signing`,
purpose ``chat-login``). A site signs it in a few lines of any language, e.g. Python::

    body = f"{b64url(json.dumps(claims))}.{expires}"
    token = f"{body}.{b64url(hmac.new(secret, b'chat-login|' + body.encode(), sha256).digest())}"

A forged, altered or expired token, or one signed with another secret, identifies nobody: the
chat goes on anonymous and the reason is told to the caller (who logs it).

>>> token = sign_login(external_id="u-42", email="li@example.com", expires_at=1000.0, secret=b"k")
>>> read_login(token, secret=b"k", now=999.0)
ChatLogin(external_id='u-42', email='li@example.com', phone=None, name=None, expires_at=1000)
>>> read_login(token, secret=b"k", now=1000.0)
LoginRefused(reason='expired')
>>> read_login(token, secret=b"other", now=1.0)
LoginRefused(reason='forged')
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from hotline.core import signing

PURPOSE = b"chat-login"
#: The longest token read at all (a site's claims are a few short fields).
MAX_TOKEN_CHARS = 2048
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]{0,127}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,60}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,30}$")


@dataclass(frozen=True)
class ChatLogin:
    """Who the company's site says the visitor is, until when the site vouches for it."""

    external_id: str
    email: str | None
    phone: str | None
    name: str | None
    expires_at: int


@dataclass(frozen=True)
class LoginRefused:
    """Why a token identifies nobody: ``malformed``, ``forged`` (altered, or signed with
    another secret), ``expired``, or ``not configured`` (the center has no login secret)."""

    reason: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign_login(
    *,
    external_id: str,
    expires_at: float,
    secret: bytes,
    email: str | None = None,
    phone: str | None = None,
    name: str | None = None,
) -> str:
    """The token a company's site gives the widget for a signed-in customer (see the module)."""
    claims: dict[str, str] = {"id": external_id}
    for key, value in (("email", email), ("phone", phone), ("name", name)):
        if value is not None:
            claims[key] = value
    body = _b64url(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    return signing.sign(body, purpose=PURPOSE, expires_at=expires_at, secret=secret)


def read_login(token: str, *, secret: bytes | None, now: float) -> ChatLogin | LoginRefused:
    """The visitor a genuine, unexpired token names, else why it names nobody."""
    if secret is None:
        return LoginRefused("not configured")
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        return LoginRefused("malformed")
    signed = signing.read(token, purpose=PURPOSE, secret=secret, now=now)
    if signed is None:
        return LoginRefused("forged")
    if not signed.valid:
        return LoginRefused("expired")
    claims = _claims(signed.subject)
    if claims is None:
        return LoginRefused("malformed")
    return ChatLogin(
        external_id=claims["id"],
        email=claims.get("email"),
        phone=claims.get("phone"),
        name=claims.get("name"),
        expires_at=signed.expires_at,
    )


def _claims(body: str) -> dict[str, str] | None:
    """The signed claims when they are a JSON object with a well-formed id and contacts."""
    try:
        decoded: Any = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(decoded, dict):
        return None
    external_id = decoded.get("id")
    if not isinstance(external_id, str) or not _EXTERNAL_ID.match(external_id):
        return None
    claims = {"id": external_id}
    for key, pattern, longest in (
        ("email", _EMAIL, 254),
        ("phone", _PHONE, 32),
        ("name", None, 100),
    ):
        value = decoded.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > longest:
            return None
        if pattern is not None and not pattern.match(value):
            return None
        claims[key] = value.strip()
    return claims
