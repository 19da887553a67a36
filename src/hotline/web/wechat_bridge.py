"""WeChat followers in the chat relay: their messages become chat conversations, routed by the
same engine, and the agent's replies go back through the customer-service message API.

A follower's message is posted as the customer's message of their open conversation (a new
one is opened, and queued in the account's chat queue, when they have none or it ended). The
agent works it at the chat desk like a web chat. The follower's side of the conversation is a
:class:`FollowerOutbox` among the conversation's customer sockets: it ignores everything but
the agent's text messages, which it hands to the account's :class:`MessageApi`, in order per
follower. Before the agent's reply is even posted, the conversation's ``refuse_reply`` says
no past WeChat's 48 hours after the follower's last message (and to files other than images),
so the agent is told at once instead of the message vanishing.

A reply WeChat refuses anyway (its count limit, a blocked account) comes back to the agent's
desk as ``refused`` with WeChat's errcode and words.

Media go both ways: a follower's image or voice message is fetched from WeChat (``media/get``),
checked like any chat file (its type among WeChat's image and voice types, the widget's size
limit, content that is what it claims) and kept as the conversation's attachment, which the
desk shows; one that cannot be fetched or is refused is posted as text saying why, so nothing
is lost. An agent's image goes out through ``media/upload`` and an image message; other files
are refused at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.chat import service as chat
from hotline.channels.chat.conversation import (
    Attached,
    AttachmentRef,
    CustomerWrote,
    Ended,
    Phase,
    Sender,
)
from hotline.channels.wechat import service as wechat
from hotline.channels.wechat.client import MessageApi, SendRefused
from hotline.channels.wechat.protocol import (
    INBOUND_MEDIA_TYPES,
    Inbound,
    attachment_refusal,
    media_name,
    reply_refusal,
)
from hotline.core.files import check_file
from hotline.web.chat_relay import ChatRelay, LiveConversation, ReplyOutbox

log = logging.getLogger(__name__)

#: The longest the bridge waits for replies still being sent when the server stops.
STOP_WAIT_S = 5.0


class FollowerOutbox(ReplyOutbox):
    """A WeChat follower's side of their conversation: the agent's texts go to WeChat."""

    def __init__(self, bridge: WeChatBridge, *, app_id: str, open_id: str) -> None:
        super().__init__(who=f"wechat:{open_id}")
        self.bridge = bridge
        self.app_id = app_id
        self.open_id = open_id

    def send(self, message: dict[str, Any]) -> None:
        """Hand an agent's (or a first-line bot's) text message, an agent's image, or the
        answer to a callback request to WeChat; the rest — system notes, queue positions,
        typing — is for browsers only."""
        if self.closed:
            return
        if message.get("type") != "message":
            return
        if (
            message.get("sender") in ("agent", "bot")
            and message.get("kind") in ("text", "attachment")
        ) or (
            message.get("kind") == "callback"  # the answer to the follower's callback request
        ):
            self.deliver(message)

    def deliver(self, message: dict[str, Any]) -> None:
        """Hand an agent's (or a first-line bot's) text message to WeChat."""
        self.bridge.deliver(self, message)


class WeChatBridge:
    """Followers' conversations in the relay, and the replies to them (see the module)."""

    def __init__(
        self,
        *,
        relay: ChatRelay,
        session_factory: sessionmaker[Session],
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.relay = relay
        self.session_factory = session_factory
        self.clock = clock
        self.transport = transport
        self.apis: dict[str, MessageApi] = {}
        self.last_message: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._sending: set[asyncio.Task[None]] = set()

    async def stop(self) -> None:
        """Let replies being sent finish (a bounded wait), then close the API clients."""
        if self._sending:
            _, late = await asyncio.wait(set(self._sending), timeout=STOP_WAIT_S)
            for task in late:
                task.cancel()
        for api in self.apis.values():
            await api.close()
        self.apis.clear()

    # ------------------------------------------------------------------ inbound

    async def receive(self, account: wechat.Account, inbound: Inbound, push_id: int) -> str | None:
        """Post a kept push in the follower's conversation; the conversation's id (or None
        for an event), after marking the push done."""
        self._api(account)
        open_id = inbound.from_user
        now = self.clock()
        if inbound.msg_type == "event":
            await self._event(account, inbound, push_id)
            return None
        known = await self._follower(open_id)
        live = await self._open_conversation(account, inbound, known)
        self.last_message[open_id] = now
        self._attach(live, account.app_id, open_id)
        shown = inbound.shown
        if inbound.msg_type in INBOUND_MEDIA_TYPES and inbound.media_id:
            problem = await self._keep_media(account, live, inbound, push_id, now)
            shown = f"{shown} ({problem})" if problem else ""
        if shown:
            limit = self.relay.settings().max_message_chars
            text = shown if len(shown) <= limit else shown[: limit - 1] + "…"
            # Through the relay's customer path, so a bot that has the chat answers them.
            await self.relay.customer_wrote(
                live, CustomerWrote(at=now, text=text, client_id=f"wx{push_id}"), sender=None
            )
        conversation_id = live.state.id

        def done(session: Session) -> None:
            wechat.note_follower(
                session,
                app_id=account.app_id,
                open_id=open_id,
                conversation_id=conversation_id,
                message_at=now,
            )
            wechat.mark_push(
                session, push_id=push_id, status="delivered", conversation_id=conversation_id
            )

        await self.relay.write(done)
        return conversation_id

    async def _keep_media(
        self,
        account: wechat.Account,
        live: LiveConversation,
        inbound: Inbound,
        push_id: int,
        now: float,
    ) -> str | None:
        """Fetch a follower's image or voice, check it and post it as their attachment; why
        it was not kept (``None`` when it was)."""
        limit = self.relay.settings().max_attachment_bytes
        try:
            content_type, data = await self._api(account).get_media(
                media_id=inbound.media_id, max_bytes=limit
            )
        except SendRefused as refused:
            log.warning("wechat: media %s not fetched: %s", inbound.media_id, refused)
            return f"not kept: {refused}"
        name = media_name(inbound, content_type)
        problem = check_file(
            name=name,
            content_type=content_type,
            data=data,
            allowed_types=INBOUND_MEDIA_TYPES[inbound.msg_type],
            max_bytes=limit,
        )
        if problem is not None:
            return f"not kept: {problem}"
        ref = AttachmentRef(
            id=self.relay.new_attachment_id(live.state.id),
            name=name,
            content_type=content_type,
            size=len(data),
        )
        await self.relay.keep_attachment(live.state.id, ref, data)
        self.relay.apply(
            live,
            Attached(at=now, sender=Sender.CUSTOMER, attachment=ref, client_id=f"wx{push_id}"),
            sender=None,
        )
        return None

    async def _follower(self, open_id: str) -> wechat.Follower | None:
        # Read in the writer's turn: the follower's row is written by the push before.
        found: wechat.Follower | None = await self.relay.write(
            lambda session: wechat.follower(session, open_id=open_id)
        )
        return found

    async def _open_conversation(
        self, account: wechat.Account, inbound: Inbound, known: wechat.Follower | None
    ) -> LiveConversation:
        """The follower's conversation in progress, or a new one queued for an agent."""
        if known is not None and known.conversation_id is not None:
            with contextlib.suppress(Exception):
                live = await self.relay.get(known.conversation_id)
                if live.state.phase is not Phase.ENDED:
                    return live
        open_id = inbound.from_user
        pre_chat = chat.PreChat(
            name=f"微信用户 WeChat …{open_id[-6:]}",
            topic=(inbound.shown or inbound.msg_type)[:200],
            language="zh-CN",
        )
        conversation_id = await self.relay.open(
            pre_chat=pre_chat,
            origin=f"wechat:{account.app_id}",
            address=open_id,
            customer=f"wechat:{open_id}",
            queue=account.queue,
            channel="wechat",
        )
        live = await self.relay.get(conversation_id)
        return live

    def _attach(self, live: LiveConversation, app_id: str, open_id: str) -> None:
        """Put the follower's outbox and WeChat's reply rules on the conversation (once)."""
        live.channel = "wechat"
        if not any(isinstance(o, FollowerOutbox) for o in live.customers):
            live.customers.add(FollowerOutbox(self, app_id=app_id, open_id=open_id))

        def refuse_reply(kind: str, now: float) -> str | None:
            if kind.startswith("attachment"):
                refused = attachment_refusal(kind.partition(":")[2])
                if refused is not None:
                    return refused
            return reply_refusal(last_customer_message_at=self.last_message.get(open_id), now=now)

        live.refuse_reply = refuse_reply

    async def _event(self, account: wechat.Account, inbound: Inbound, push_id: int) -> None:
        """Follow and unfollow: an unfollowing follower's conversation ends."""
        open_id = inbound.from_user
        subscribed = {"subscribe": True, "unsubscribe": False}.get(inbound.event)
        if inbound.event == "unsubscribe":
            known = await self._follower(open_id)
            if known is not None and known.conversation_id is not None:
                live = self.relay.active.get(known.conversation_id)
                if live is not None and live.state.phase is not Phase.ENDED:
                    self.relay.apply(live, Ended(at=self.clock(), by=Sender.CUSTOMER), sender=None)

        def done(session: Session) -> None:
            wechat.note_follower(
                session, app_id=account.app_id, open_id=open_id, subscribed=subscribed
            )
            wechat.mark_push(session, push_id=push_id, status="event")

        await self.relay.write(done)

    # ------------------------------------------------------------------ outbound

    def _api(self, account: wechat.Account) -> MessageApi:
        api = self.apis.get(account.app_id)
        if api is None or (api.app_secret, api.api_base) != (account.app_secret, account.api_base):
            api = MessageApi(
                app_id=account.app_id,
                app_secret=account.app_secret,
                api_base=account.api_base,
                transport=self.transport,
                clock=self.clock,
            )
            self.apis[account.app_id] = api
        return api

    def deliver(self, outbox: FollowerOutbox, message: dict[str, Any]) -> None:
        """Send an agent's text to the follower (in a task; in order per follower)."""
        task = asyncio.get_running_loop().create_task(self._send(outbox, message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, outbox: FollowerOutbox, message: dict[str, Any]) -> None:
        lock = self._locks.setdefault(outbox.open_id, asyncio.Lock())
        async with lock:
            api = self.apis.get(outbox.app_id)
            try:
                if api is None:
                    raise SendRefused(-1, "the WeChat account is not configured any more")
                if message.get("kind") == "attachment":
                    await self._send_image(api, outbox.open_id, message)
                else:
                    await api.send_text(open_id=outbox.open_id, text=str(message.get("body", "")))
            except SendRefused as refused:
                log.warning("wechat: reply to %s not delivered: %s", outbox.open_id, refused)
                self.relay.refuse_to_agent(message, f"not delivered on WeChat: {refused}")

    async def _send_image(self, api: MessageApi, open_id: str, message: dict[str, Any]) -> None:
        """Upload the agent's image (read back from the conversation's files) and send it."""
        attachment_id = str(message.get("attachment", {}).get("id", ""))
        _, ref, data = await self.relay.write(
            lambda session: chat.attachment(session=session, attachment_id=attachment_id)
        )
        await api.send_image(
            open_id=open_id, name=ref.name, content_type=ref.content_type, data=data
        )
