"""Customers' SMS in the chat relay: a text to the center becomes a messaging conversation,
routed by the same engine as chat, and the agent's replies go back as SMS.

The center's SMS gateway runs beside the web server (:class:`SmsLine`, attached by
``hotline serve`` and ``hotline demo``): one SMPP session bound in the background, bound
again with growing waits after a drop, ``enquire_link`` on a quiet line
(:class:`hotline.channels.sms.smpp.SmppGateway`). Every SMS a customer sends is kept first
(``sms_inbound``); then

* a stop word ("STOP", "退订", "TD") puts the number on the center's do-not-call list,
  audited, and opens nothing (the agent of an open conversation sees it there);
* otherwise it is posted as the customer's message of their conversation — the one their
  last SMS went to, while it is open and that SMS came within :data:`JOIN_WINDOW_S` — or of a
  new one queued in the center's SMS queue (the first queue with ``channel: sms``), which
  the engine offers to an agent with the queue's skills and room on the ``sms`` channel
  (their SMS capacity). The contact events carry channel ``sms``, so reports count it.

The agent works it at the chat desk like a chat, with the screen pop by the customer's
number. The customer's side of the conversation is an :class:`SmsOutbox`: the agent's text
messages go out through :func:`hotline.channels.sms.service.send_sms` (purpose
``conversation``), so the do-not-call list and quiet hours apply, and a refusal — or a
gateway that is down — comes back to the agent's desk as ``refused`` with the reason.

The SMSC is acknowledged at once and the SMS kept a moment later on the event loop (the
session's reader thread must not wait on the database: an agent's reply in a write turn may
be waiting for that very thread to read its ``submit_sm_resp``). An SMS the server can no
longer take (it is stopping) is answered "try again" and the SMSC delivers it later.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from hotline.channels.chat import service as chat
from hotline.channels.chat.conversation import CustomerWrote, Ended, Phase, Sender
from hotline.channels.email.credentials import CredentialError
from hotline.channels.sms import service as sms
from hotline.channels.sms.gateway import SmsGateway
from hotline.channels.sms.rules import QuietHours, stop_request
from hotline.channels.sms.smpp import TRY_AGAIN, IncomingSms, SmppGateway
from hotline.channels.sms.text import Receipt
from hotline.core.errors import NotFound
from hotline.crm.phones import try_normalize
from hotline.web.api.chat import relay_of
from hotline.web.chat_relay import ChatRelay, LiveConversation, ReplyOutbox, in_writer

log = logging.getLogger(__name__)

#: A customer's SMS joins their conversation while it is open and their previous SMS came
#: within this many seconds; later, it starts a new one (the old one ends).
JOIN_WINDOW_S = 4 * 3600.0
#: The longest the bridge waits for replies still being sent when the server stops.
STOP_WAIT_S = 5.0


def sms_queue(center: Any) -> str | None:
    """The center's SMS queue: the first queue with ``channel: sms`` (``None``: none)."""
    for queue in getattr(center, "queues", ()):
        if queue.channel == "sms":
            return str(queue.id)
    return None


class SmsOutbox(ReplyOutbox):
    """A texting customer's side of their conversation: the agent's texts go out as SMS."""

    def __init__(self, bridge: SmsBridge, *, address: str) -> None:
        super().__init__(who=f"sms:{address}")
        self.bridge = bridge
        self.address = address

    def deliver(self, message: dict[str, Any]) -> None:
        """Hand an agent's (or a first-line bot's) text message to the SMS gateway."""
        self.bridge.deliver(self, message)


class SmsBridge:
    """Customers' SMS conversations in the relay, and the replies to them (see the module)."""

    def __init__(
        self,
        *,
        app: Any,
        gateway: SmsGateway,
        clock: Callable[[], float] = time.time,
        window_s: float = JOIN_WINDOW_S,
    ) -> None:
        self.app = app
        self.gateway = gateway
        self.clock = clock
        self.window_s = window_s
        #: When no SMS may go out (``send_sms`` refuses then); the center's default.
        self.quiet_hours = QuietHours()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    async def stop(self) -> None:
        """Let SMS being kept or sent finish (a bounded wait)."""
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=STOP_WAIT_S)
            for task in late:
                task.cancel()

    async def settled(self) -> None:
        """Wait until every SMS received or replied so far is done with (for tests)."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    def _spawn(self, work: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sms: %s failed", task.get_name(), exc_info=task.exception())

    async def _write(self, work: Callable[[Session], Any]) -> Any:
        """Commit ``work`` in turn with the relay's batches (or alone when no relay runs)."""
        relay = relay_of(self.app)
        if relay is not None:
            return await relay.write(work)
        return await in_writer(self.app.state.session_factory, work)

    # ------------------------------------------------------------------ inbound

    def took(self, incoming: IncomingSms) -> None:
        """A customer's SMS from the gateway (on the event loop): kept and placed in a task."""
        self._spawn(self.receive(incoming))

    def receipt(self, receipt: Receipt) -> None:
        """A delivery receipt from the gateway (on the event loop): recorded in a task."""
        self._spawn(self._write(lambda session: sms.note_receipt(session, receipt=receipt)))

    async def receive(self, incoming: IncomingSms) -> str | None:
        """Keep a customer's SMS and place it; the conversation's id it went to, if any."""
        phone = try_normalize(incoming.sender)
        number = phone.e164 if phone is not None else incoming.sender
        lock = self._locks.setdefault(number, asyncio.Lock())
        async with lock:  # one number's messages in the order they came
            now = self.clock()
            kept = await self._write(
                lambda session: (
                    sms.keep_inbound(
                        session, sender=number, to=incoming.to, text=incoming.text, received_at=now
                    ).id
                )
            )
            inbound_id = int(kept)
            relay = relay_of(self.app)
            if stop_request(incoming.text):
                await self._stop(relay, number, incoming, inbound_id, now, listed=phone is not None)
                return None
            queue = sms_queue(getattr(self.app.state, "center", None))
            if relay is None or queue is None:
                log.warning(
                    "sms: %s's message kept, not routed (no SMS queue or no routing)", number
                )
                await self._write(
                    lambda session: sms.note_inbound(
                        session, inbound_id=inbound_id, status="unrouted"
                    )
                )
                return None
            live = await self._conversation(relay, number, incoming, queue, now)
            self._attach(live, incoming.sender)
            limit = relay.settings().max_message_chars
            text = (
                incoming.text if len(incoming.text) <= limit else incoming.text[: limit - 1] + "…"
            )
            await relay.customer_wrote(
                live, CustomerWrote(at=now, text=text, client_id=f"sms{inbound_id}"), sender=None
            )
            conversation_id = live.state.id
            await relay.write(
                lambda session: sms.note_inbound(
                    session,
                    inbound_id=inbound_id,
                    status="conversation",
                    conversation_id=conversation_id,
                )
            )
            return conversation_id

    async def _stop(
        self,
        relay: ChatRelay | None,
        number: str,
        incoming: IncomingSms,
        inbound_id: int,
        now: float,
        *,
        listed: bool,
    ) -> None:
        """A stop word: the number goes on the do-not-call list; an open conversation shows it."""
        if listed:
            await self._write(
                lambda session: sms.unsubscribe(session, number=number, inbound_id=inbound_id)
            )
        else:  # an alphanumeric sender is no number a list could hold
            await self._write(
                lambda session: sms.note_inbound(session, inbound_id=inbound_id, status="stopped")
            )
        live = await self._open(relay, number, now) if relay is not None else None
        if relay is not None and live is not None:
            self._attach(live, incoming.sender)
            await relay.customer_wrote(
                live,
                CustomerWrote(at=now, text=incoming.text, client_id=f"sms{inbound_id}"),
                sender=None,
            )

    async def _open(self, relay: ChatRelay, number: str, now: float) -> LiveConversation | None:
        """The number's conversation still open and written to within the window, if any."""
        last: tuple[str, float] | None = await relay.write(
            lambda session: sms.last_conversation(session, number=number)
        )
        if last is None:
            return None
        conversation_id, at = last
        live = relay.active.get(conversation_id)
        if live is None:  # finished and let go, or held before a restart: ask its record
            await relay.settled()  # once its last batch (its end) is written
            summary: chat.Transcript = await relay.write(
                lambda session: chat.summary(session=session, conversation_id=conversation_id)
            )
            if summary.phase is Phase.ENDED:
                return None
            live = await relay.get(conversation_id)
        if live.state.phase is Phase.ENDED:
            return None
        if now - at > self.window_s:
            # Too long ago to be the same matter: that conversation ends, a new one starts.
            relay.apply(live, Ended(at=now, by=Sender.SYSTEM), sender=None)
            return None
        return live

    async def _conversation(
        self, relay: ChatRelay, number: str, incoming: IncomingSms, queue: str, now: float
    ) -> LiveConversation:
        """The number's open conversation, or a new one queued for an agent."""
        live = await self._open(relay, number, now)
        if live is not None:
            return live
        pre_chat = chat.PreChat(
            name=f"短信 SMS {number}",
            topic=incoming.text[:200],
            phone=number,
            language="zh-CN",
        )
        conversation_id = await relay.open(
            pre_chat=pre_chat,
            origin=f"sms:{incoming.to}"[:200],
            address=number,
            customer=number,
            queue=queue,
            channel="sms",
        )
        return await relay.get(conversation_id)

    def _attach(self, live: LiveConversation, address: str) -> None:
        """Put the customer's outbox and SMS's reply rule on the conversation (once)."""
        live.channel = "sms"
        if not any(isinstance(o, SmsOutbox) for o in live.customers):
            live.customers.add(SmsOutbox(self, address=address))
        live.refuse_reply = lambda kind, now: (
            None
            if kind == "text"
            else "SMS conversations take text replies only (files are not sent)"
        )

    # ------------------------------------------------------------------ outbound

    def deliver(self, outbox: SmsOutbox, message: dict[str, Any]) -> None:
        """Send an agent's text to the customer (in a task; in order per number)."""
        self._spawn(self._send(outbox, message))

    async def _send(self, outbox: SmsOutbox, message: dict[str, Any]) -> None:
        lock = self._locks.setdefault(f"to:{outbox.address}", asyncio.Lock())
        async with lock:
            actor = f"agent:{message.get('agent_id') or message.get('sender')}"
            now = datetime.fromtimestamp(self.clock(), UTC)
            outcome: sms.SmsOutcome = await self._write(
                lambda session: sms.send_sms(
                    session=session,
                    gateway=self.gateway,
                    to=outbox.address,
                    text=str(message.get("body", "")),
                    purpose="conversation",
                    actor=actor,
                    now=now,
                    quiet_hours=self.quiet_hours,
                )
            )
            if outcome.status != "sent":
                log.warning(
                    "sms: reply to %s %s: %s", outbox.address, outcome.status, outcome.reason
                )
                relay = relay_of(self.app)
                if relay is not None:
                    rule = f"not sent by SMS ({outcome.status}): {outcome.reason}"
                    relay.refuse_to_agent(message, rule)


class SmsLine:
    """The center's SMS gateway beside the web server: bound in the background, its state
    shown, customers' SMS handed to the :class:`SmsBridge` on the event loop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.gateway: SmppGateway | None = None
        self.bridge: SmsBridge | None = None
        self.problem = ""
        self._loop: asyncio.AbstractEventLoop | None = None

    def state(self) -> str:
        """``bound``, ``retrying`` (binding again after a failure), or ``off`` (none set up)."""
        if self.gateway is None:
            return "off"
        return "bound" if self.gateway.bound else "retrying"

    def last_error(self) -> str:
        """Why the gateway is not bound, or the last session ended ("" when never)."""
        return self.gateway.last_error if self.gateway is not None else self.problem

    async def start(self, _: Any = None) -> None:
        """Bind the active gateway kept in the database, if there is one."""
        state = self.app.state
        try:
            settings = await asyncio.to_thread(self._settings, state.session_factory, state.secret)
        except NotFound:
            self.problem = "no SMS gateway is set up ('hotline sms gateway')"
            return
        except CredentialError as error:
            self.problem = f"the gateway's password cannot be read: {error}"
            log.error("sms: %s", self.problem)
            return
        self._loop = asyncio.get_running_loop()
        self.gateway = SmppGateway.of(settings, on_message=self._message, on_receipt=self._receipt)
        self.bridge = SmsBridge(app=self.app, gateway=self.gateway)
        self.gateway.start()

    @staticmethod
    def _settings(factory: Any, secret: bytes) -> Any:
        with factory() as session:
            return sms.gateway_settings(session, secret=secret)

    async def stop(self, _: Any = None) -> None:
        """Finish the SMS in hand, then unbind."""
        if self.bridge is not None:
            await self.bridge.stop()
        if self.gateway is not None:
            await asyncio.to_thread(self.gateway.stop)
        self._loop = None

    def _message(self, incoming: IncomingSms) -> int | None:
        """In the session's reader thread: hand the SMS to the loop, or ask for it again."""
        loop, bridge = self._loop, self.bridge
        if loop is None or bridge is None or loop.is_closed():
            return TRY_AGAIN
        handed: Future[None] = Future()

        def take() -> None:
            try:
                bridge.took(incoming)
            except BaseException as error:
                handed.set_exception(error)
            else:
                handed.set_result(None)

        try:
            loop.call_soon_threadsafe(take)
            handed.result(timeout=STOP_WAIT_S)
        except Exception:
            return TRY_AGAIN
        return None

    def _receipt(self, receipt: Receipt) -> None:
        loop, bridge = self._loop, self.bridge
        if loop is not None and bridge is not None and not loop.is_closed():
            loop.call_soon_threadsafe(bridge.receipt, receipt)


def attach_sms_line(app: Any) -> SmsLine:
    """Run the center's SMS gateway while ``app`` runs: ``app.state.sms``, started after the
    live driver and stopped before the chat relay (replies in flight finish first)."""
    line = SmsLine(app)
    app.state.sms = line
    app.state.on_start.append(line.start)
    app.state.on_stop.insert(0, line.stop)
    return line
