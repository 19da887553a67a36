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

from hotline.core import signing

PURPOSE = b"chat-conversation"


def sign_conversation_token(conversation_id: str, *, expires_at: float, secret: bytes) -> str:
    """A token for ``conversation_id`` valid until ``expires_at`` (Unix seconds)."""
    return signing.sign(conversation_id, purpose=PURPOSE, expires_at=expires_at, secret=secret)


def read_conversation_token(token: str, *, secret: bytes, now: float) -> str | None:
    """The conversation a valid, unexpired token names, else ``None``."""
    signed = signing.read(token, purpose=PURPOSE, secret=secret, now=now)
    return signed.subject if signed is not None and signed.valid else None
