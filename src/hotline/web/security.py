"""Browser-facing protections: security headers on every response, and an Origin check.

**Headers.** A Content-Security-Policy that lets pages run only the scripts and styles served
from ``/static`` (no inline script, no other site), forbids framing (clickjacking), turns off
MIME sniffing and keeps URLs out of other sites' ``Referer``. A response that sets its own CSP
(the API docs page, which needs its inline bootstrap script) keeps it.

**Origin check (CSRF).** The session cookie is SameSite=Strict, but "same site" includes every
port of the host, so a page served by anything else on the machine could still make a signed-in
browser post, merge, undo or open the live WebSocket. A state-changing request that is signed
in by the cookie, and every WebSocket handshake that carries an ``Origin``, must therefore come
from this server's own origin (scheme, host and port), or one of ``allowed_origins``; without
``Origin`` the ``Referer`` is checked instead, and with neither the request is refused. API
clients that send ``Authorization: Bearer`` are unaffected: a browser never adds that header
by itself, so a foreign page cannot forge one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.web.auth import COOKIE, READ_ONLY_METHODS

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")


def softphone_policy(host: str, port: int) -> str:
    """The desk's CSP when it has a softphone: its SIP WebSocket is another port of the host
    (RFC 7118 on the voice server), which ``connect-src 'self'`` would refuse.

    >>> "connect-src 'self' ws://127.0.0.1:5066 wss://127.0.0.1:5066;" in softphone_policy(
    ...     "127.0.0.1", 5066)
    True
    """
    sockets = f"ws://{host}:{port} wss://{host}:{port}"
    return CONTENT_SECURITY_POLICY.replace("connect-src 'self';", f"connect-src 'self' {sockets};")


LOGIN_PATH = "/api/auth/login"
#: The customer chat widget's routes run on other sites' pages and use no cookie: they check
#: the page's origin against the widget settings themselves (``hotline.web.api.chat``).
SELF_CHECKED_PATHS = frozenset({"/chat/ws", "/chat/api/conversations"})


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` (and HSTS behind HTTPS) to responses."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS + ((HSTS,) if hsts else ())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-cased, or ``None`` when it has none.

    >>> origin_of("http://127.0.0.1:8000/desk?x=1")
    'http://127.0.0.1:8000'
    >>> origin_of("null") is None
    True
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origin(scope: Scope, headers: Headers) -> str:
    """The origin a browser shows for pages of this server: its scheme and ``Host``."""
    scheme = {"ws": "http", "wss": "https"}.get(scope["scheme"], scope["scheme"])
    return f"{scheme}://{headers.get('host', '')}".lower()


class OriginCheck:
    """ASGI middleware refusing cross-origin cookie-signed changes and WebSocket handshakes."""

    def __init__(self, app: ASGIApp, *, allowed_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    def _must_check(self, scope: Scope, headers: Headers) -> bool:
        if scope["path"] in SELF_CHECKED_PATHS:
            return False
        cookie_signed = f"{COOKIE}=" in headers.get("cookie", "") and not headers.get(
            "authorization", ""
        ).lower().startswith("bearer ")
        if scope["type"] == "websocket":
            return cookie_signed or "origin" in headers
        if scope["method"] in READ_ONLY_METHODS:
            return False
        if scope["path"] == LOGIN_PATH:
            # Login CSRF (signing the victim in as the attacker): refuse a foreign page.
            return "origin" in headers or "referer" in headers
        return cookie_signed

    def _refusal(self, scope: Scope, headers: Headers) -> str | None:
        claimed = headers.get("origin") or headers.get("referer")
        if claimed is None:
            return "a signed-in change must say where it comes from (Origin header)"
        origin = origin_of(claimed)
        if origin is not None and (origin == own_origin(scope, headers) or origin in self.allowed):
            return None
        return f"cross-origin request refused: {claimed[:100]!r} is not this server's origin"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers) if self._must_check(scope, headers) else None
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await receive()  # the handshake's websocket.connect
            await send({"type": "websocket.close", "code": 4403, "reason": refusal[:120]})
        else:
            response = JSONResponse({"error": "forbidden", "message": refusal}, status_code=403)
            await response(scope, receive, send)
