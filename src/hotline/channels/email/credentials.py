"""Mailbox passwords encrypted at rest (AES-256-GCM), keyed from the server's secret.

The key is derived from the server secret (``HOTLINE_SECRET_KEY``, or the ``secret.key`` the
server keeps in its home): a copy of the database alone does not reveal the passwords of the
center's mailboxes. GCM authenticates as well as encrypts, so a tampered or foreign value is
refused instead of decrypting to garbage.
"""

from __future__ import annotations

import base64
import hashlib

from Crypto.Cipher import AES

PREFIX = "aesgcm1:"
_NONCE = 12
_TAG = 16


class CredentialError(ValueError):
    """A stored credential cannot be decrypted (another key, or altered)."""


#: What the key of mailbox passwords is derived for; other channels' credentials (WeChat's
#: app secret, an SMS gateway's password) pass a purpose of their own, so one stolen key
#: does not open the others.
MAIL = b"hotline e-mail credentials"


def _key(secret: bytes, purpose: bytes) -> bytes:
    # One secret serves several purposes (token signing, this): derive a key of our own.
    return hashlib.sha256(purpose + b"\x00" + secret).digest()


def encrypt(plain: str, *, secret: bytes, nonce: bytes | None = None, purpose: bytes = MAIL) -> str:
    """``plain`` encrypted for storage; the empty string stays empty (no password).

    >>> decrypt(encrypt("s3cret", secret=b"k"), secret=b"k")
    's3cret'
    """
    if not plain:
        return ""
    cipher = AES.new(_key(secret, purpose), AES.MODE_GCM, nonce=nonce or _random_nonce())
    data, tag = cipher.encrypt_and_digest(plain.encode())
    return PREFIX + base64.b64encode(cipher.nonce + tag + data).decode()


def _random_nonce() -> bytes:
    import secrets

    return secrets.token_bytes(_NONCE)


def decrypt(stored: str, *, secret: bytes, purpose: bytes = MAIL) -> str:
    """The password stored as ``stored``; :class:`CredentialError` when it cannot be read."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise CredentialError("the stored credential is not in the encrypted format")
    blob = base64.b64decode(stored[len(PREFIX) :])
    nonce, tag, data = blob[:_NONCE], blob[_NONCE : _NONCE + _TAG], blob[_NONCE + _TAG :]
    cipher = AES.new(_key(secret, purpose), AES.MODE_GCM, nonce=nonce)
    try:
        return cipher.decrypt_and_verify(data, tag).decode()
    except ValueError:
        raise CredentialError(
            "the stored credential does not decrypt with this server's secret key "
            "(HOTLINE_SECRET_KEY changed?): enter the password again"
        ) from None
