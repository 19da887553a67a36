"""SIP registrar with HTTP digest authentication (RFC 3261 §10 and §22, RFC 2617).

Agent phones REGISTER their contact address so the B2BUA knows where to ring them. The
registrar challenges every REGISTER with ``401`` and a nonce, checks the MD5 digest the phone
answers with against the agent's password, and keeps one binding per user with its expiry.
Nonces are stateless — ``timestamp:HMAC(secret, timestamp)`` — so a restart or a flood of
unauthenticated requests keeps no memory.

This module is plain Python over header *strings*; the sippy adapter feeds it.

>>> registrar = Registrar(realm="hotline", users={"1001": "secret"}, secret=b"k")
>>> challenge = registrar.challenge(now=100.0)
>>> challenge.startswith('Digest realm="hotline", nonce="100.')
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)\s*,?')
NONCE_LIFETIME_S = 300.0
DEFAULT_EXPIRES_S = 3600
MIN_EXPIRES_S = 10
MAX_EXPIRES_S = 7200


def parse_digest(header: str) -> dict[str, str]:
    """Parse a ``Digest`` Authorization header into its parameters.

    >>> parse_digest('Digest username="1001", realm="h", nonce="n", response="r"')["username"]
    '1001'
    """
    text = header.strip()
    if not text.lower().startswith("digest"):
        raise ValueError("not a Digest authorization")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(text[6:]):
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = value[1:-1].replace('\\"', '"')
        params[key] = value
    return params


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_response(
    *,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The expected ``response`` value (RFC 2617 §3.2.2.1, MD5, qop ``auth`` or none).

    >>> digest_response(username="Mufasa", realm="testrealm@host.com", password="Circle Of Life",
    ...     method="GET", uri="/dir/index.html", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
    ...     qop="auth", nc="00000001", cnonce="0a4f113b")
    '6629fae49393a05397450978507c4ef1'
    """
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


@dataclass(frozen=True, slots=True)
class Binding:
    """Where a user's phone can be reached, until when."""

    user: str
    contact: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class RegisterResult:
    """The registrar's answer to one REGISTER: a status and the headers to send."""

    status: int
    reason: str
    challenge: str | None = None
    binding: Binding | None = None
    expires: int = 0


class Registrar:
    """Bindings of authenticated agent phones; thread-safe (sippy calls it from its thread).

    ``on_change(user, contact_or_none)`` is called when a phone registers, re-registers to a
    new address, unregisters or expires.
    """

    def __init__(
        self,
        *,
        realm: str,
        users: Mapping[str, str],
        secret: bytes,
        on_change: Callable[[str, str | None], None] | None = None,
    ) -> None:
        self.realm = realm
        self.users = dict(users)
        self.secret = secret
        self.on_change = on_change
        self._bindings: dict[str, Binding] = {}
        self._lock = threading.Lock()

    # -- nonces

    def _nonce(self, now: float) -> str:
        stamp = f"{now:.3f}"
        mac = hmac.new(self.secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{stamp}.{mac}"

    def _nonce_fresh(self, nonce: str, now: float) -> bool:
        stamp, _, mac = nonce.rpartition(".")
        try:
            issued = float(stamp)
        except ValueError:
            return False
        expected = hmac.new(self.secret, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        # the stamp is rounded to milliseconds, so a quick answer can look slightly early
        return hmac.compare_digest(mac, expected) and -1.0 <= now - issued <= NONCE_LIFETIME_S

    def challenge(self, *, now: float, stale: bool = False) -> str:
        """A ``WWW-Authenticate`` value with a fresh nonce."""
        value = (
            f'Digest realm="{self.realm}", nonce="{self._nonce(now)}", algorithm=MD5, qop="auth"'
        )
        return value + (", stale=true" if stale else "")

    # -- REGISTER

    def register(
        self,
        *,
        now: float,
        user: str,
        authorization: str | None,
        contact: str | None,
        expires: int | None,
    ) -> RegisterResult:
        """Handle one REGISTER (``contact`` None means a query; expires 0 unregisters)."""
        if authorization is None:
            return RegisterResult(401, "Unauthorized", self.challenge(now=now))
        try:
            params = parse_digest(authorization)
        except ValueError:
            return RegisterResult(400, "Bad Authorization header")
        username = params.get("username", "")
        password = self.users.get(username)
        nonce = params.get("nonce", "")
        if password is None or username != user or params.get("realm") != self.realm:
            return RegisterResult(403, "Forbidden")
        if not self._nonce_fresh(nonce, now):
            return RegisterResult(401, "Unauthorized", self.challenge(now=now, stale=True))
        expected = digest_response(
            username=username,
            realm=self.realm,
            password=password,
            method="REGISTER",
            uri=params.get("uri", ""),
            nonce=nonce,
            qop=params.get("qop"),
            nc=params.get("nc"),
            cnonce=params.get("cnonce"),
        )
        if not hmac.compare_digest(expected, params.get("response", "")):
            return RegisterResult(403, "Forbidden")
        if contact is None:
            current = self.lookup(user, now=now)
            return RegisterResult(200, "OK", binding=current)
        seconds = DEFAULT_EXPIRES_S if expires is None else expires
        if 0 < seconds < MIN_EXPIRES_S:
            return RegisterResult(423, "Interval Too Brief", expires=MIN_EXPIRES_S)
        if seconds == 0 or contact == "*":
            self._remove(user)
            return RegisterResult(200, "OK")
        seconds = min(seconds, MAX_EXPIRES_S)
        binding = Binding(user, contact, now + seconds)
        with self._lock:
            previous = self._bindings.get(user)
            self._bindings[user] = binding
        if self.on_change and (previous is None or previous.contact != contact):
            self.on_change(user, contact)
        return RegisterResult(200, "OK", binding=binding, expires=seconds)

    def _remove(self, user: str) -> None:
        with self._lock:
            previous = self._bindings.pop(user, None)
        if previous is not None and self.on_change:
            self.on_change(user, None)

    def lookup(self, user: str, *, now: float) -> Binding | None:
        """The live binding of ``user``, if any."""
        with self._lock:
            binding = self._bindings.get(user)
        if binding is None or binding.expires_at <= now:
            return None
        return binding

    def expire(self, *, now: float) -> list[str]:
        """Drop bindings past their expiry; return the users that lost their phone."""
        with self._lock:
            gone = [u for u, b in self._bindings.items() if b.expires_at <= now]
        for user in gone:
            self._remove(user)
        return gone
