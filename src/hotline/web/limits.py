"""Request size limits: a body limit on every route, and lengths of free-text fields.

A request body is refused with 413 before it is read in full, whether or not the caller is
signed in: by its declared ``Content-Length`` before the application runs, and by the bytes
actually received for a chunked or lying request. Only the upload routes (contact-record and
customer imports, the center configuration, ticket attachments) take large bodies;
everything else is small.

Free-text fields of the API models (ticket subjects and descriptions, notes, knowledge-base
article bodies, comments) have a maximum length too, so a body under the limit still cannot
store a 10 MB description: pydantic refuses it with a 422 naming the field.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.core.documents import MAX_DEPTH, json_depth

#: The largest request body on an ordinary route (JSON of a ticket, an article, a login).
MAX_BODY_BYTES = 1024 * 1024
#: The largest request body on an upload route (imports, the center configuration).
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
#: Routes (path prefixes) that take uploads, and so the larger limit.
UPLOAD_PREFIXES = (
    "/api/reports/contacts",
    "/api/customers/import",
    "/api/wfm/multiskill",
    "/api/config/validate",
    "/admin/center",
    "/api/backoffice/attachments/",  # files attached to tickets (10 MB each)
)

#: Maximum lengths of free text, in characters.
NAME_LENGTH = 200
NOTE_LENGTH = 4_000
DESCRIPTION_LENGTH = 20_000
ARTICLE_LENGTH = 200_000


def body_limit(path: str) -> int:
    """The largest request body accepted on ``path``.

    >>> body_limit("/api/tickets"), body_limit("/api/customers/import")
    (1048576, 33554432)
    """
    return MAX_UPLOAD_BYTES if path.startswith(UPLOAD_PREFIXES) else MAX_BODY_BYTES


class BodyTooLarge(HTTPException):
    """The request body is over the route's limit (answered 413 by the app's handler)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Pure ASGI middleware refusing a request body over the route's limit with 413.

    A declared ``Content-Length`` over the limit is answered at once, without reading a byte
    of the body or running the route; a body that streams past the limit makes the next
    ``receive`` raise :class:`BodyTooLarge`, which the app answers as 413.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""))
        declared = _content_length(scope)
        if declared == -1:
            await _answer(send, 400, "bad_request", "Content-Length is not a whole number")
            return
        if declared is not None and declared > limit:
            await _answer(send, 413, "payload_too_large", str(BodyTooLarge(limit).detail))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        if not _is_json(scope):
            await self.app(scope, counted, send)
            return
        # A JSON body (small: the ordinary limit) is read here whole and its nesting checked:
        # a body nested hundreds deep parses, then exhausts the recursion limit further on.
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > limit:
                await _answer(send, 413, "payload_too_large", str(BodyTooLarge(limit).detail))
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        # Counting brackets is quick and bounds the depth; only a body with many of them is
        # scanned properly (brackets inside strings do not nest).
        brackets = body.count(b"[") + body.count(b"{")
        if brackets > MAX_DEPTH and json_depth(body.decode("utf-8", "replace")) > MAX_DEPTH:
            problem = f"the JSON body is nested deeper than {MAX_DEPTH} levels"
            await _answer_problems(send, [{"field": "body", "problem": problem}])
            return
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.decode("latin-1").split(";")[0].strip().lower()
            return bool(media == "application/json" or media.endswith("+json"))
    return False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that returns ``messages`` first, then waits on the real one."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _content_length(scope: Scope) -> int | None:
    """The declared body length; ``None`` when absent, ``-1`` when not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


async def _answer_problems(send: Send, problems: list[dict[str, str]]) -> None:
    body = {"error": "invalid_request", "problems": problems}
    await _send_json(send, 422, json.dumps(body).encode())


async def _answer(send: Send, status: int, error: str, message: str) -> None:
    await _send_json(send, status, json.dumps({"error": error, "message": message}).encode())


async def _send_json(send: Send, status: int, body: bytes) -> None:
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
