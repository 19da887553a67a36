"""The customer-service message API: how an agent's reply reaches a WeChat follower.

``POST {api}/cgi-bin/message/custom/send?access_token=…`` with
``{"touser": openid, "msgtype": "text", "text": {"content": …}}``. The access token comes
from ``GET {api}/cgi-bin/token?grant_type=client_credential&appid=…&secret=…`` and is good
for ``expires_in`` seconds (7200); WeChat limits how often it may be fetched, so it is cached
and fetched again a few minutes before it expires, or at once when WeChat says it is invalid
or expired (errcode 40001, 40014, 42001). WeChat answers HTTP 200 with an ``errcode``; any
non-zero one is a refusal (45015: the follower's 48 hours have passed; 45047: too many
messages without an answer), reported to the agent with WeChat's own words.

Media go both ways through the temporary-media API: a follower's image or voice message names
a ``MediaId`` whose bytes ``GET {api}/cgi-bin/media/get?access_token=…&media_id=…`` returns
(with its ``Content-Type``; a refusal comes as JSON with an ``errcode``), and an agent's image
is first uploaded, ``POST {api}/cgi-bin/media/upload?access_token=…&type=image`` with the file
as the multipart field ``media``, then sent as ``{"msgtype": "image", "image": {"media_id":
…}}``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

#: Fetch a new token this long before the old one expires.
TOKEN_MARGIN_S = 300.0
#: WeChat's errcodes for an access token that is not (or no longer) good.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TIMEOUT_S = 10.0


class SendRefused(RuntimeError):
    """WeChat refused a call (``errcode``, ``errmsg``), or could not be reached (errcode -1)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat refused: errcode {errcode}, {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass
class _Token:
    value: str
    expires_at: float


class MessageApi:
    """One official account's customer-service message API, with its access token cached."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        api_base: str,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.api_base = api_base.rstrip("/")
        self.clock = clock
        self._client = httpx.AsyncClient(transport=transport, timeout=TIMEOUT_S)
        self._token: _Token | None = None
        self._fetching = asyncio.Lock()
        #: How many tokens were fetched (the cache's effect, seen by tests).
        self.tokens_fetched = 0

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    async def access_token(self, *, renew: bool = False) -> str:
        """The account's access token, fetched once and reused until shortly before expiry."""
        async with self._fetching:
            token = self._token
            if token is not None and not renew and self.clock() < token.expires_at:
                return token.value
            answer = await self._call(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.app_id,
                    "secret": self.app_secret,
                },
            )
            value = answer.get("access_token")
            if not isinstance(value, str) or not value:
                raise SendRefused(-1, "the token answer has no access_token")
            expires_in = answer.get("expires_in", 7200)
            lifetime = float(expires_in) if isinstance(expires_in, int | float) else 7200.0
            self._token = _Token(value, self.clock() + max(lifetime - TOKEN_MARGIN_S, 0.0))
            self.tokens_fetched += 1
            return value

    async def send_text(self, *, open_id: str, text: str) -> None:
        """Send ``text`` to the follower ``open_id`` (SendRefused with WeChat's reason)."""
        body = {"touser": open_id, "msgtype": "text", "text": {"content": text}}
        await self._with_token("POST", "/cgi-bin/message/custom/send", json=body)

    async def send_image(self, *, open_id: str, name: str, content_type: str, data: bytes) -> str:
        """Upload an image as temporary media and send it to ``open_id``; its media id."""
        uploaded = await self._with_token(
            "POST",
            "/cgi-bin/media/upload",
            params={"type": "image"},
            files={"media": (name, data, content_type)},
        )
        media_id = uploaded.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise SendRefused(-1, "the upload's answer has no media_id")
        body = {"touser": open_id, "msgtype": "image", "image": {"media_id": media_id}}
        await self._with_token("POST", "/cgi-bin/message/custom/send", json=body)
        return media_id

    async def get_media(self, *, media_id: str, max_bytes: int) -> tuple[str, bytes]:
        """A follower's image or voice (``MediaId``): its content type and bytes.

        More than ``max_bytes`` is refused without reading the rest (SendRefused, errcode -1).
        """
        for attempt in range(2):
            token = await self.access_token(renew=attempt > 0)
            try:
                return await self._download(token, media_id, max_bytes)
            except SendRefused as refused:
                if refused.errcode not in TOKEN_ERRORS or attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _download(self, token: str, media_id: str, max_bytes: int) -> tuple[str, bytes]:
        url = self.api_base + "/cgi-bin/media/get"
        params = {"access_token": token, "media_id": media_id}
        try:
            async with self._client.stream("GET", url, params=params) as response:
                if response.status_code != 200:
                    raise SendRefused(-1, f"WeChat's API answered HTTP {response.status_code}")
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        raise SendRefused(-1, f"a file may have at most {max_bytes} bytes")
        except httpx.HTTPError as error:
            raise SendRefused(-1, f"WeChat's API could not be reached ({error})") from None
        if content_type in ("application/json", "text/plain"):
            # A refusal (an unknown or expired media id, a bad token) comes as JSON.
            self._answer(bytes(data))
            raise SendRefused(-1, "WeChat's API answered JSON instead of the media")
        return content_type, bytes(data)

    async def _with_token(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Call ``path`` with the access token, once more with a new one if it was stale."""
        params = dict(kwargs.pop("params", {}))
        for attempt in range(2):
            token = await self.access_token(renew=attempt > 0)
            try:
                return await self._call(
                    method, path, params={**params, "access_token": token}, **kwargs
                )
            except SendRefused as refused:
                if refused.errcode not in TOKEN_ERRORS or attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._client.request(method, self.api_base + path, **kwargs)
        except httpx.HTTPError as error:
            raise SendRefused(-1, f"WeChat's API could not be reached ({error})") from None
        if response.status_code != 200:
            raise SendRefused(-1, f"WeChat's API answered HTTP {response.status_code}")
        return self._answer(response.content)

    @staticmethod
    def _answer(content: bytes) -> dict[str, Any]:
        """WeChat's JSON answer; SendRefused for a non-zero ``errcode`` or something else."""
        try:
            answer = json.loads(content)
        except ValueError:
            raise SendRefused(-1, "WeChat's API answered something other than JSON") from None
        if not isinstance(answer, dict):
            raise SendRefused(-1, "WeChat's API answered something other than an object")
        errcode = answer.get("errcode", 0)
        if errcode:
            raise SendRefused(int(errcode), str(answer.get("errmsg", "")))
        return answer
