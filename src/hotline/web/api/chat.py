"""Web chat over HTTP and WebSocket: the customer's widget and the agents' desk.

Customers are not users. The widget (``GET /chat/widget.js``, one script tag on the company's
site) starts a conversation with ``POST /chat/api/conversations`` — from a page of an origin
the widget settings allow (``chat.allowed_origins`` in the center file), limited per address
— and receives a signed token good for that conversation only, for a few hours. With it the
widget opens ``/chat/ws?token=…&after=N``: the server sends what came after message ``N`` and
then everything as it happens; the widget sends messages, typing, files, the end and the
survey. Every message carries its conversation's sequence number; the server acknowledges a
customer's message once it is stored, and the widget re-sends what was not acknowledged
after a reconnection (the server de-duplicates by the widget's own message id).

Agents and supervisors sign in as usual. The desk opens ``/api/chat/ws`` (cookie, bearer or
stream ticket): an agent gets the chats offered to them and those in hand, accepts, writes,
ends and wraps up; a supervisor, manager, QA or team lead (their teams' agents only) lists the
chats in progress and watches one live, read-only. Transcripts and files are read with
``GET /api/chat/conversations/{id}`` and ``/api/chat/attachments/{id}``.

Frames (JSON), customer → server: ``message {text, client_id}``, ``typing``, ``attachment
{name, content_type, data (base64), client_id}``, ``end``, ``survey {score}``, ``transcript``
(once ended: the transcript by e-mail to the pre-chat form's address, answered with
``transcript_sent {to}``; :mod:`hotline.web.chat_transcript`). Agent → server:
``accept``, ``message``, ``attachment``, ``typing``, ``end``, ``wrap_up {disposition}``,
``callback`` (offer the customer a callback; each with ``conversation``), and for supervisors
``watch {conversation}``. Server → both:
``state``, ``message``, ``ack``, ``typing``, ``queue`` (customer: position and expected wait),
``offer``/``offer_cancelled``/``conversation`` (desk), ``refused {field, rule}``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, status
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from hotline.channels.chat import service
from hotline.channels.chat.attachments import check_attachment
from hotline.channels.chat.conversation import (
    AgentWrote,
    Attached,
    AttachmentRef,
    CustomerWrote,
    Ended,
    Event,
    Phase,
    Sender,
    SurveyAnswered,
)
from hotline.channels.chat.login import MAX_TOKEN_CHARS
from hotline.channels.chat.tokens import read_conversation_token, sign_conversation_token
from hotline.config.bot import BotSettings
from hotline.config.chat import ChatSettings
from hotline.core.errors import Conflict
from hotline.crm.privacy import mask_email
from hotline.identity.roles import hidden_fields
from hotline.live.driver import LiveDriver
from hotline.routing.model import OfferAnswered, RoutingConflict, WrapUpEnded
from hotline.web.access import current_center, mask_personal, scope_for, scope_of
from hotline.web.api.history import may_read_chat
from hotline.web.api.responses import ErrorOut, ResponseModel, errors
from hotline.web.auth import (
    CurrentUser,
    claims_from,
    db_session,
    read_session,
    require_roles,
    user_for,
)
from hotline.web.chat_identity import (
    Identified,
    NotSent,
    address_of,
    identify_login,
    refused_login,
    send_code,
    try_code,
)
from hotline.web.chat_relay import ChatRelay, LiveConversation, Outbox, message_json
from hotline.web.chat_transcript import send_transcript
from hotline.web.i18n import LANGUAGES, catalog
from hotline.web.proxies import client_address
from hotline.web.security import origin_of, own_origin

router = APIRouter(tags=["chat"])

#: Who works chats at the desk, and who may watch them and read transcripts.
CHAT_AGENTS = ("agent",)
CHAT_SUPERVISION = ("supervisor", "team_lead", "manager", "qa")
START_PATH = "/chat/api/conversations"
CUSTOMER_SOCKET = "/chat/ws"
STATIC = Path(__file__).resolve().parent.parent / "static"
PHONE = r"^\+?[0-9][0-9 -]{4,30}$"
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,60}$"
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# --------------------------------------------------------------------------- the relay


def chat_settings(app: Any) -> ChatSettings:
    """The widget settings in force (the center file's ``chat``; defaults without one)."""
    settings = getattr(_center(app), "chat", None)
    return settings if isinstance(settings, ChatSettings) else ChatSettings()


def _center(app: Any) -> Any:
    driver = getattr(app.state, "live", None)
    return getattr(driver, "center", None) or app.state.center


def bot_settings(app: Any) -> BotSettings | None:
    """The first-line bot's settings in force (the center file's ``bot``; none: no bot)."""
    settings = getattr(_center(app), "bot", None)
    return settings if isinstance(settings, BotSettings) else None


def relay_of(app: Any) -> ChatRelay | None:
    """The app's chat relay, made with the live driver the first time a chat needs it."""
    relay: ChatRelay | None = getattr(app.state, "chat", None)
    if relay is not None:
        return relay
    driver: LiveDriver | None = getattr(app.state, "live", None)
    if driver is None or not driver.running or getattr(app.state, "stopping", False):
        return None
    relay = ChatRelay(
        driver=driver,
        session_factory=app.state.session_factory,
        settings=lambda: chat_settings(app),
        bot_settings=lambda: bot_settings(app),
        time_zone=getattr(getattr(_center(app), "center", None), "timezone", "Asia/Shanghai"),
    )
    relay.start()
    app.state.chat = relay

    async def stop(_: Any) -> None:
        await relay.stop()

    # Before the live driver stops (it was attached first): chats end, then routing.
    app.state.on_stop.insert(0, stop)
    return relay


def _relay(request: Request) -> ChatRelay:
    relay = relay_of(request.app)
    if relay is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "live routing is not running")
    return relay


# --------------------------------------------------------------------------- the widget


@cache
def _widget_source() -> str:
    return (STATIC / "chat-widget.js").read_text(encoding="utf-8")


def widget_strings() -> dict[str, dict[str, str]]:
    """The widget's words in every language (the ``chat.widget.*`` keys of the catalogues)."""
    prefix = "chat.widget."
    return {
        language: {
            k[len(prefix) :]: v for k, v in catalog(language).items() if k.startswith(prefix)
        }
        for language in LANGUAGES
    }


@router.get("/chat/widget.js", include_in_schema=False)
def widget_script() -> Response:
    """The chat widget a company embeds with one script tag (its words in zh-CN and en)."""
    strings = json.dumps(widget_strings(), ensure_ascii=False)
    body = _widget_source().replace("/*STRINGS*/{}", strings, 1)
    return Response(
        body,
        media_type="text/javascript; charset=utf-8",
        headers={"cache-control": "no-cache", "cross-origin-resource-policy": "cross-origin"},
    )


class StartChat(BaseModel):
    """The pre-chat form: the customer's name, a phone number or an e-mail, the topic."""

    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, pattern=PHONE)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    topic: str = Field(min_length=1, max_length=200)
    language: Literal["zh-CN", "en"] = "zh-CN"
    #: The company's site's signed token for a signed-in customer (``data-user-token``;
    #: :mod:`hotline.channels.chat.login`). One that does not hold is logged and ignored.
    login_token: str | None = Field(default=None, max_length=MAX_TOKEN_CHARS)

    @model_validator(mode="after")
    def _reachable(self) -> StartChat:
        if not self.phone and not self.email:
            raise ValueError("give a phone number or an e-mail address, so we can reach you")
        if not self.name.strip() or not self.topic.strip():
            raise ValueError("name and topic need some text")
        return self


class ChatStarted(ResponseModel):
    """A conversation started: its id, the token that opens its socket, when that expires."""

    conversation: str
    token: str
    expires_at: float
    socket: str


def _embedding_origin(request: Request, settings: ChatSettings) -> str | None:
    """The page's origin when a browser sent one; 403 unless the widget may run there."""
    claimed = request.headers.get("origin")
    if claimed is None:
        return None  # not a browser page (a server-side integration, the load test)
    origin = origin_of(claimed)
    if origin is not None and (
        origin == own_origin(request.scope, request.headers) or settings.allows_origin(origin)
    ):
        return origin
    raise HTTPException(
        status.HTTP_403_FORBIDDEN,
        f"the chat widget is not allowed on {claimed[:100]!r}: add it to chat.allowed_origins",
    )


def _cors(origin: str | None) -> dict[str, str]:
    if origin is None:
        return {}
    return {"access-control-allow-origin": origin, "vary": "Origin"}


@router.options(START_PATH, include_in_schema=False)
def start_preflight(request: Request) -> Response:
    """The browser's CORS preflight for a widget on another site (allowed origins only)."""
    origin = _embedding_origin(request, chat_settings(request.app))
    return Response(
        status_code=204,
        headers={
            **_cors(origin),
            "access-control-allow-methods": "POST",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "600",
        },
    )


@router.post(
    START_PATH,
    status_code=201,
    responses={
        **errors(422, 503),
        429: {"model": ErrorOut, "description": "Too many chats from this address; retry later."},
    },
)
async def start_chat(body: StartChat, request: Request, response: Response) -> ChatStarted:
    """Start a web chat (public: the customer's widget): it is queued for an agent at once.

    The page must be of an allowed origin; one address may start a limited number of chats an
    hour (``chat.conversations_per_hour``).
    """
    settings = chat_settings(request.app)
    origin = _embedding_origin(request, settings)
    relay = _relay(request)
    address = client_address(request)
    now = time.time()
    if not relay.starts.allow(address, now):
        retry = max(1, round(relay.starts.retry_after(address, now)))
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many chats from this address; try again in {retry} s",
            headers={"retry-after": str(retry), **_cors(origin)},
        )
    pre_chat = service.PreChat(
        name=body.name.strip(),
        topic=body.topic.strip(),
        phone=body.phone,
        email=body.email,
        language=body.language,
    )
    customer, verified = body.phone or body.email, None
    if body.login_token:
        token, secret = body.login_token, request.app.state.secret
        identified = await relay.write(
            lambda session: identify_login(session, token=token, server_secret=secret, now=now)
        )
        if isinstance(identified, Identified):
            customer, verified = identified.key, "login"
        else:
            refused_login(f"from {address}", identified)
    try:
        conversation_id = await relay.open(
            pre_chat=pre_chat,
            origin=origin,
            address=address,
            customer=customer,
            verified=verified,
        )
    except RoutingConflict as conflict:  # the widget's queue is not in the center any more
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(conflict)) from None
    expires_at = float(int(now + settings.token_ttl_s))
    token = sign_conversation_token(
        conversation_id, expires_at=expires_at, secret=request.app.state.secret
    )
    for name, value in _cors(origin).items():
        response.headers[name] = value
    return ChatStarted(
        conversation=conversation_id, token=token, expires_at=expires_at, socket=CUSTOMER_SOCKET
    )


# --------------------------------------------------------------------------- sockets


async def _pump(
    websocket: WebSocket, outbox: Outbox, handle: Callable[[dict[str, Any]], Awaitable[None]]
) -> None:
    """Send the outbox and handle incoming frames until either side ends."""

    async def send() -> None:
        while True:
            message = await outbox.queue.get()
            if message.get("type") == "closed":
                with contextlib.suppress(Exception):
                    await websocket.close(code=1001)
                return
            await websocket.send_json(message)

    async def receive() -> None:
        while True:
            text = await websocket.receive_text()
            try:
                frame = json.loads(text)
            except ValueError:
                outbox.send({"type": "refused", "field": "frame", "rule": "a frame is JSON"})
                continue
            if not isinstance(frame, dict):
                outbox.send({"type": "refused", "field": "frame", "rule": "a frame is an object"})
                continue
            await handle(frame)

    tasks = [asyncio.create_task(send()), asyncio.create_task(receive())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                await task


def _client_id(frame: dict[str, Any]) -> str | None:
    value = frame.get("client_id")
    return value if isinstance(value, str) and CLIENT_ID.match(value) else None


def _text(frame: dict[str, Any]) -> str:
    value = frame.get("text")
    return value if isinstance(value, str) else ""


async def _attachment(
    relay: ChatRelay,
    live: LiveConversation,
    frame: dict[str, Any],
    outbox: Outbox,
    make: Callable[[AttachmentRef], Event],
) -> None:
    """Check a file (type, size, content), keep it, then post the message pointing at it."""
    client_id = _client_id(frame)
    name, content_type, data = frame.get("name"), frame.get("content_type"), frame.get("data")
    settings = relay.settings()
    problem: str | None = None
    raw = b""
    if not isinstance(name, str) or not isinstance(content_type, str) or not isinstance(data, str):
        problem = "an attachment has a name, a content_type and its data in base64"
    elif len(data) > (settings.max_attachment_bytes * 4) // 3 + 8:
        problem = f"a file may have at most {settings.max_attachment_bytes} bytes"
    else:
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            problem = "the file's data is not base64"
    if problem is None:
        assert isinstance(name, str) and isinstance(content_type, str)
        problem = check_attachment(
            name=name, content_type=content_type, data=raw, settings=settings
        )
    if problem is not None or live.state.phase is Phase.ENDED:
        rule = problem or "this chat has ended"
        outbox.send(
            {
                "type": "refused",
                "conversation": live.state.id,
                "field": "attachment",
                "rule": rule,
                "client_id": client_id,
            }
        )
        return
    assert isinstance(name, str) and isinstance(content_type, str)
    ref = AttachmentRef(
        id=relay.new_attachment_id(live.state.id),
        name=name,
        content_type=content_type,
        size=len(raw),
    )
    await relay.keep_attachment(live.state.id, ref, raw)
    relay.apply(live, make(ref), sender=outbox)


def _refuse(outbox: Outbox, field: str, rule: str, conversation: str | None = None) -> None:
    outbox.send({"type": "refused", "conversation": conversation, "field": field, "rule": rule})


@router.websocket(CUSTOMER_SOCKET)
async def customer_socket(websocket: WebSocket) -> None:
    """The customer's widget: one conversation, opened by its token (see the module)."""
    settings = chat_settings(websocket.app)
    claimed = websocket.headers.get("origin")
    if claimed is not None:
        origin = origin_of(claimed)
        own = own_origin(websocket.scope, websocket.headers)
        if origin is None or not (origin == own or settings.allows_origin(origin)):
            await websocket.close(code=4403)
            return
    token = websocket.query_params.get("token", "")
    conversation_id = read_conversation_token(
        token, secret=websocket.app.state.secret, now=time.time()
    )
    relay = relay_of(websocket.app)
    after_text = websocket.query_params.get("after", "0")
    if conversation_id is None or relay is None or not after_text.isdigit():
        await websocket.close(code=4403)
        return
    try:
        live = await relay.get(conversation_id)
    except Exception:
        await websocket.close(code=4404)
        return
    await websocket.accept()
    outbox = Outbox(who="customer")
    await relay.connect_customer(conversation_id, outbox, int(after_text))

    async def handle(frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        now = time.time()
        if kind == "typing":
            relay.typing(live, Sender.CUSTOMER)
        elif kind == "message":
            if not relay.allow_message(live):
                _refuse(outbox, "text", "too many messages; wait a moment", live.state.id)
                return
            event = CustomerWrote(at=now, text=_text(frame), client_id=_client_id(frame))
            await relay.customer_wrote(live, event, sender=outbox)
        elif kind == "attachment":
            if not relay.allow_message(live):
                _refuse(outbox, "attachment", "too many messages; wait a moment", live.state.id)
                return
            await _attachment(
                relay,
                live,
                frame,
                outbox,
                lambda ref: Attached(
                    at=now, sender=Sender.CUSTOMER, attachment=ref, client_id=_client_id(frame)
                ),
            )
        elif kind == "end":
            relay.apply(live, Ended(at=now, by=Sender.CUSTOMER), sender=outbox)
        elif kind == "survey":
            score = frame.get("score")
            if not isinstance(score, int) or isinstance(score, bool):
                _refuse(outbox, "score", "a rating is a whole number 1 to 5", live.state.id)
                return
            relay.apply(live, SurveyAnswered(at=now, score=score), sender=outbox)
        elif kind == "transcript":
            await _email_transcript(relay, live, outbox)
        elif kind == "verify":
            await _send_code(websocket.app, relay, live, frame, outbox)
        elif kind == "code":
            await _try_code(websocket.app, relay, live, frame, outbox)
        else:
            _refuse(
                outbox,
                "type",
                "one of message, typing, attachment, end, survey, transcript, verify, code",
            )

    try:
        await _pump(websocket, outbox, handle)
    finally:
        relay.disconnect(outbox)


async def _email_transcript(relay: ChatRelay, live: LiveConversation, outbox: Outbox) -> None:
    """The ended chat's transcript to the pre-chat form's e-mail, once (see chat_transcript)."""
    await relay.settled()  # the last messages and the end are in the database first
    conversation = live.state.id
    try:
        address = await relay.write(
            lambda session: send_transcript(
                session, conversation_id=conversation, time_zone=relay.time_zone
            )
        )
    except Conflict as refused:
        _refuse(outbox, "transcript", str(refused), conversation)
        return
    outbox.send(
        {"type": "transcript_sent", "conversation": conversation, "to": mask_email(address)}
    )


async def _send_code(
    app: Any, relay: ChatRelay, live: LiveConversation, frame: dict[str, Any], outbox: Outbox
) -> None:
    """A one-time code to the e-mail address or mobile the visitor named (see chat_identity)."""
    conversation = live.state.id
    kind, given = frame.get("kind"), frame.get("address")
    try:
        if not isinstance(kind, str) or not isinstance(given, str):
            raise ValueError("a verify frame has kind (email or phone) and address")
        address = address_of(kind, given)
    except ValueError as problem:
        _refuse(outbox, "address", str(problem), conversation)
        return
    if live.state.phase is Phase.ENDED:
        _refuse(outbox, "address", "this chat has ended", conversation)
        return
    language, secret, line = (
        live.pre_chat.language,
        app.state.secret,
        getattr(app.state, "sms", None),
    )
    try:
        shown = await relay.write(
            lambda session: send_code(
                session, conversation_id=conversation, kind=kind, address=address,
                language=language, server_secret=secret, now=time.time(), sms_line=line,
            )
        )  # fmt: skip
    except Conflict as refused:
        _refuse(outbox, "address", str(refused), conversation)
        return
    if isinstance(shown, NotSent):
        _refuse(outbox, "address", shown.reason, conversation)
        return
    outbox.send({"type": "code_sent", "conversation": conversation, "kind": kind, "to": shown})


async def _try_code(
    app: Any, relay: ChatRelay, live: LiveConversation, frame: dict[str, Any], outbox: Outbox
) -> None:
    """The code the visitor typed: the right one proves the address (see chat_identity)."""
    conversation, code, secret = live.state.id, frame.get("code"), app.state.secret
    if not isinstance(code, str) or not code.strip().isdigit() or len(code.strip()) != 6:
        _refuse(outbox, "code", "the code is the 6 digits we sent", conversation)
        return
    try:
        tried = await relay.write(
            lambda session: try_code(
                session, conversation_id=conversation, code=code, server_secret=secret,
                now=time.time(),
            )
        )  # fmt: skip
    except Conflict as refused:
        _refuse(outbox, "code", str(refused), conversation)
        return
    if tried.identified is None:
        rules = {
            "wrong": f"that code is not right; {tried.tries_left} tries left",
            "locked": "no tries left for this code: ask for a new one",
            "expired": "the code has expired: ask for a new one",
        }
        outbox.send(
            {"type": "refused", "conversation": conversation, "field": "code",
             "rule": rules[tried.outcome], "outcome": tried.outcome,
             "tries_left": tried.tries_left}
        )  # fmt: skip
        return
    relay.identified(live, key=tried.identified.key, verified="code")
    outbox.send({"type": "code_verified", "conversation": conversation})


def _staff(websocket: WebSocket) -> CurrentUser | None:
    claims = claims_from(websocket, tickets=True)
    with websocket.app.state.session_factory() as session:
        return user_for(session, claims)


@router.websocket("/api/chat/ws")
async def desk_socket(websocket: WebSocket) -> None:
    """The agent's chat desk, and supervisors watching chats (see the module)."""
    user = _staff(websocket)
    relay = relay_of(websocket.app)
    if user is None or not user.has(*CHAT_AGENTS, *CHAT_SUPERVISION):
        await websocket.close(code=4403)
        return
    if relay is None:
        await websocket.accept()
        await websocket.send_json({"type": "unavailable", "rule": "live routing is not running"})
        await websocket.close(code=1013)  # try again later
        return
    agent_id = user.agent_id if "agent" in user.roles else None
    supervising = user.has(*CHAT_SUPERVISION)
    scope = scope_for(current_center(websocket), user.roles, user.agent_id)
    hidden = hidden_fields(user.roles)
    await websocket.accept()
    outbox = Outbox(who=user.username, agent_id=agent_id)
    if agent_id is not None:
        relay.connect_desk(agent_id, outbox)
    if supervising:
        items = [
            s
            for s in relay.waiting_summaries()
            if s["agent_id"] is None or scope.covers(s["agent_id"])
        ]
        outbox.send({"type": "conversations", "items": mask_personal(items, hidden)})
    driver = relay.driver

    async def handle(frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        conversation_id = frame.get("conversation")
        if not isinstance(conversation_id, str):
            if kind == "list" and supervising:
                items = [
                    s
                    for s in relay.waiting_summaries()
                    if s["agent_id"] is None or scope.covers(s["agent_id"])
                ]
                outbox.send({"type": "conversations", "items": mask_personal(items, hidden)})
                return
            _refuse(outbox, "conversation", "name the conversation")
            return
        live = relay.active.get(conversation_id)
        if live is None:
            _refuse(outbox, "conversation", "no such chat in progress", conversation_id)
            return
        now = time.time()
        if kind == "watch" and supervising:
            if live.state.agent_id is not None and not scope.covers(live.state.agent_id):
                _refuse(outbox, "conversation", "this chat's agent is not in your team(s)")
                return
            await relay.watch(conversation_id, outbox)
            return
        if agent_id is None:
            _refuse(outbox, "type", "watching is read-only", conversation_id)
            return
        if kind == "accept":
            try:
                await driver.command(
                    lambda at: OfferAnswered(at=at, contact_id=conversation_id, agent_id=agent_id)
                )
            except RoutingConflict as conflict:
                _refuse(outbox, "conversation", str(conflict), conversation_id)
        elif kind in ("message", "attachment") and (
            rule := live.refuse_reply
            and live.refuse_reply(
                "text" if kind == "message" else f"attachment:{frame.get('content_type')}", now
            )
        ):
            outbox.send(
                {
                    "type": "refused",
                    "conversation": conversation_id,
                    "field": "text" if kind == "message" else "attachment",
                    "rule": rule,
                    "client_id": _client_id(frame),
                }
            )
        elif kind == "message":
            event = AgentWrote(
                at=now, agent_id=agent_id, text=_text(frame), client_id=_client_id(frame)
            )
            relay.apply(live, event, sender=outbox)
        elif kind == "typing":
            if live.state.agent_id == agent_id:
                relay.typing(live, Sender.AGENT)
        elif kind == "attachment":
            if live.state.agent_id != agent_id:
                _refuse(outbox, "attachment", "the agent has not joined this conversation")
                return
            await _attachment(
                relay,
                live,
                frame,
                outbox,
                lambda ref: Attached(
                    at=now,
                    sender=Sender.AGENT,
                    attachment=ref,
                    agent_id=agent_id,
                    client_id=_client_id(frame),
                ),
            )
        elif kind == "end":
            relay.apply(live, Ended(at=now, by=Sender.AGENT, agent_id=agent_id), sender=outbox)
        elif kind == "wrap_up":
            await _wrap_up(driver, outbox, agent_id, conversation_id, frame.get("disposition"))
        elif kind == "callback":  # the agent offers the customer a callback
            if relay.settings().callback_queue is None:
                rule = "this center's chats offer no callback (chat.callback_queue)"
                _refuse(outbox, "callback", rule, conversation_id)
            elif live.state.agent_id != agent_id or live.state.phase is Phase.ENDED:
                _refuse(
                    outbox, "callback", "the agent is not in this conversation", conversation_id
                )
            else:
                await relay.callback_asked(live)
        else:
            _refuse(
                outbox, "type", "one of accept, message, typing, attachment, end, wrap_up, callback"
            )

    try:
        await _pump(websocket, outbox, handle)
    finally:
        relay.disconnect(outbox)


async def _wrap_up(
    driver: LiveDriver, outbox: Outbox, agent_id: str, contact_id: str, disposition: Any
) -> None:
    """Finish the chat's wrap-up with a disposition code of the center."""
    codes = {d.id for d in driver.center.disposition_codes}
    if disposition is not None and disposition not in codes:
        _refuse(outbox, "disposition", f"choose a disposition code: {sorted(codes)}", contact_id)
        return
    try:
        await driver.command(
            lambda at: WrapUpEnded(
                at=at, agent_id=agent_id, contact_id=contact_id, disposition=disposition
            )
        )
    except RoutingConflict as conflict:
        _refuse(outbox, "conversation", str(conflict), contact_id)
        return
    outbox.send({"type": "wrapped_up", "conversation": contact_id})


# --------------------------------------------------------------------------- transcripts


class ChatAttachmentOut(ResponseModel):
    """A file sent in a chat."""

    id: str
    name: str
    content_type: str
    size: int


class ChatMessageOut(ResponseModel):
    """One message of a transcript, numbered in its conversation."""

    seq: int
    at: float
    sender: str
    kind: str
    body: str
    agent_id: str | None
    attachment: ChatAttachmentOut | None = None


class ChatSummaryOut(ResponseModel):
    """A conversation: the pre-chat form, who handled it, how it went."""

    id: str
    queue: str
    customer_name: str
    phone: str | None
    email: str | None
    topic: str
    language: str
    started_at: float
    phase: str
    agent_id: str | None
    ended_at: float | None
    ended_by: str | None
    survey_score: int | None


class ChatTranscriptOut(ChatSummaryOut):
    """A conversation with every message, in order."""

    messages: list[ChatMessageOut]


class ChatListOut(ResponseModel):
    """The latest conversations the caller may see, newest first."""

    items: list[ChatSummaryOut]


def _summary(transcript: service.Transcript, hidden: Any) -> dict[str, Any]:
    data = {
        "id": transcript.id,
        "queue": transcript.queue,
        "customer_name": transcript.pre_chat.name,
        "phone": transcript.pre_chat.phone,
        "email": transcript.pre_chat.email,
        "topic": transcript.pre_chat.topic,
        "language": transcript.pre_chat.language,
        "started_at": transcript.started_at,
        "phase": transcript.phase.value,
        "agent_id": transcript.agent_id,
        "ended_at": transcript.ended_at,
        "ended_by": transcript.ended_by,
        "survey_score": transcript.survey_score,
    }
    masked: dict[str, Any] = mask_personal(data, hidden)
    return masked


def _may_read(request: Request, user: CurrentUser, agent_id: str | None) -> None:
    """403 unless ``user`` handled the chat, or oversees its agent (a team lead: their teams)."""
    if not may_read_chat(request, user, agent_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this chat is not yours to read")


READERS = require_roles(*CHAT_AGENTS, *CHAT_SUPERVISION)


@router.get("/api/chat/conversations", responses=errors(422))
def list_conversations(
    request: Request,
    user: CurrentUser = Depends(READERS),
    session: Session = Depends(read_session, scope="function"),
) -> ChatListOut:
    """The latest 50 chats: an agent's own; a team lead their teams'; the floor everyone's."""
    hidden = hidden_fields(user.roles)
    if user.has("supervisor", "manager", "qa", "team_lead"):
        scope = scope_of(request, user)
        found = [
            t
            for t in service.conversations(session=session)
            if user.has("supervisor", "manager", "qa") or scope.covers(t.agent_id)
        ]
    else:
        found = service.conversations(session=session, agent_id=user.agent_id or "")
    return ChatListOut(items=[ChatSummaryOut(**_summary(t, hidden)) for t in found])


@router.get("/api/chat/conversations/{conversation_id}", responses=errors(404, 422))
def read_transcript(
    conversation_id: str,
    request: Request,
    user: CurrentUser = Depends(READERS),
    session: Session = Depends(read_session, scope="function"),
) -> ChatTranscriptOut:
    """A chat's transcript: every message in order, with its files (QA reads it here)."""
    transcript = service.transcript(session=session, conversation_id=conversation_id[:64])
    _may_read(request, user, transcript.agent_id)
    return ChatTranscriptOut(
        **_summary(transcript, hidden_fields(user.roles)),
        messages=[ChatMessageOut(**_message(m)) for m in transcript.messages],
    )


def _message(message: Any) -> dict[str, Any]:
    shown = message_json("", message)
    data = {k: shown[k] for k in ("seq", "at", "sender", "kind", "body", "agent_id")}
    if "attachment" in shown:
        data["attachment"] = shown["attachment"]
    return data


@router.get(
    "/api/chat/attachments/{attachment_id}",
    response_class=Response,
    responses={
        **errors(404, 422),
        200: {
            "description": "The file as sent, to save (never shown inline).",
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
    },
)
def download_attachment(
    attachment_id: str,
    request: Request,
    user: CurrentUser = Depends(READERS),
    session: Session = Depends(read_session, scope="function"),
) -> Response:
    """A file sent in a chat, for the agent who handled it and those who oversee them."""
    conversation_id, ref, data = service.attachment(
        session=session, attachment_id=attachment_id[:64]
    )
    transcript = service.summary(session=session, conversation_id=conversation_id)
    _may_read(request, user, transcript.agent_id)
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", ref.name)[:100] or "file"
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"content-disposition": f'attachment; filename="{safe_name}"'},
    )


# --------------------------------------------------------------------------- the login secret


class LoginSecretIn(BaseModel):
    """The secret the company's site signs chat login tokens with (32 characters or more)."""

    secret: str = Field(min_length=1, max_length=200)


class LoginSecretOut(ResponseModel):
    """Whether a chat login secret is set, by whom and when; never the secret itself."""

    configured: bool
    updated_by: str | None = None
    updated_at: str | None = None


def _login_secret_out(session: Session) -> LoginSecretOut:
    row = service.login_secret_set(session=session)
    if row is None:
        return LoginSecretOut(configured=False)
    return LoginSecretOut(
        configured=True, updated_by=row.updated_by, updated_at=row.updated_at.isoformat()
    )


@router.get("/api/chat/login-secret", responses=errors())
def login_secret_state(
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(read_session, scope="function"),
) -> LoginSecretOut:
    """Whether signed-in visitors can be identified: a chat login secret is set (by whom, when)."""
    return _login_secret_out(session)


@router.put("/api/chat/login-secret", responses=errors(422))
def set_login_secret(
    body: LoginSecretIn,
    request: Request,
    user: CurrentUser = Depends(require_roles("admin")),
    session: Session = Depends(db_session, scope="function"),
) -> LoginSecretOut:
    """Set the secret the company's site signs its signed-in customers' chat tokens with
    (stored encrypted, audited). A secret of under 32 or over 128 characters, or not printable
    ASCII without spaces, is refused (422, field ``secret``). Tokens signed with the former
    secret identify nobody from now on."""
    service.set_login_secret(
        session=session,
        secret=body.secret,
        server_secret=request.app.state.secret,
        actor=user.username,
    )
    return _login_secret_out(session)
