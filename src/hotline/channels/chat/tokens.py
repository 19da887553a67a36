"""The customer's conversation token: signed, short-lived, good for one conversation only.

Customers are not users: they have no account and no session. When a conversation starts the
server gives the browser a token naming that conversation and when it expires, signed with
HMAC-SHA256 under the server's secret; reconnecting needs it. A token for one conversation
opens no other, and none opens anything of the staff's (the purpose ``chat`` is signed too).

>>> token = sign_conversation_token("L1-000001", expires_at=1000.0, secret=b"k")
>>> read_conversation_token(token, secret=b"k", now=999.0)
'L1-000001'
>>> read_conversation_token(token, secret=b"k", now=1000.5) is None
True
>>> read_conversation_token(token.replace("L1", "L2"), secret=b"k", now=1.0) is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PURPOSE = b"chat-conversation"


def _signature(body: str, secret: bytes) -> str:
    digest = hmac.new(secret, PURPOSE + b"|" + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_conversation_token(conversation_id: str, *, expires_at: float, secret: bytes) -> str:
    """A token for ``conversation_id`` valid until ``expires_at`` (Unix seconds)."""
    body = f"{conversation_id}.{int(expires_at)}"
    return f"{body}.{_signature(body, secret)}"


def read_conversation_token(token: str, *, secret: bytes, now: float) -> str | None:
    """The conversation a valid, unexpired token names, else ``None``."""
    body, _, signature = token.rpartition(".")
    conversation_id, _, expires = body.rpartition(".")
    if not conversation_id or not expires.isdigit():
        return None
    if not hmac.compare_digest(signature, _signature(body, secret)):
        return None
    if now >= int(expires):
        return None
    return conversation_id
