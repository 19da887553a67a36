"""The web chat relay: conversations in progress between customers' widgets and agents' desks.

The relay is the adapter around the pure conversation rules
(:mod:`hotline.channels.chat.conversation`): it feeds them what a WebSocket brought, and
carries out their effects —

* ``Post``: the message goes at once to every socket of the conversation (the customer's
  widget, the agent's desk, supervisors watching), and into the database in the next batch;
  the sender is acknowledged (``ack``) only once the batch is committed, so a message the
  server acknowledged survives a crash, and a client re-sends whatever was not acknowledged;
* ``EndContact``: the live routing engine is told (:meth:`LiveDriver.end_digital`), so the
  agent's wrap-up starts as after a call;
* ``RecordSurvey``: a ``survey_answered`` event goes into the contact event log, so the
  reports' CSAT includes chats.

When the center enables the first-line bot for the chat queue (``bot`` in the center file),
a new conversation talks to the bot first (:mod:`hotline.bot`): each customer message gets
the bot's answer — from the published knowledge articles, or a ticket lookup — as a ``bot``
message, and only the bot's hand-over (asked for, or after failed turns) offers the chat to
the routing engine, with everything said so far in the conversation the agent opens.

Chats are routed by the one live routing engine (:meth:`LiveDriver.offer_digital`); the relay
listens to the engine's results for the offers of its conversations (shown on the agent's
desk) and the answers (the agent joined). While a chat waits, the customer sees their place
in the queue and the expected wait, from the engine, every couple of seconds.

Writes are batched: one writer task commits every message that arrived since its last
commit in one short transaction (SQLite's writer queue is taken once per batch, not per
message). Every stream ends: :meth:`ChatRelay.stop` closes each socket's outbox, and the
writer commits what is left before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.bot import service as bot
from hotline.bot.dialogue import BotState, HandOver
from hotline.channels.chat import service
from hotline.channels.chat.conversation import (
    Acknowledge,
    AgentJoined,
    AttachmentRef,
    BotWrote,
    CallbackNoted,
    Conversation,
    EndContact,
    Ended,
    Event,
    HandedOver,
    Message,
    Phase,
    Post,
    RecordSurvey,
    Refuse,
    ResumeRefused,
    Sender,
    messages_after,
    transition,
)
from hotline.channels.chat.limits import SlidingWindow
from hotline.config.bot import BotSettings
from hotline.config.chat import ChatSettings
from hotline.core.events import Channel, EventKind
from hotline.core.events import Event as LogEvent
from hotline.crm import service as crm
from hotline.crm.privacy import mask_phone
from hotline.live.driver import LiveDriver
from hotline.routing.engine import Result
from hotline.routing.model import CancelOffer, Offer
from hotline.store.db import writing_async

log = logging.getLogger(__name__)

#: How often a waiting customer's place in the queue is refreshed.
POSITION_EVERY_S = 2.0
#: How many messages may wait for one slow socket before it is dropped (it reconnects and
#: resumes from its last sequence number, so nothing is lost).
OUTBOX_LIMIT = 2000
#: The longest a batch waits for more messages before it is written.
BATCH_WAIT_S = 0.02
#: How long the bot answers from the same published articles before reading them again.
KNOWLEDGE_TTL_S = 30.0
CLOSED: dict[str, Any] = {"type": "closed"}
#: The routing channel of a conversation the customer writes on other than the web widget
#: (an agent's SMS capacity, the event log's ``sms``); any other is routed as a chat.
ROUTED_AS: dict[str, Channel] = {"sms": Channel.SMS}


async def in_writer(session_factory: sessionmaker[Session], work: Callable[[Session], Any]) -> Any:
    """Run ``work`` in one write transaction, commit it, and return what ``work`` returned.

    The writer's turn is awaited on the event loop (``writing_async``), never in a worker
    thread: a thread blocked on the turn could be the very thread the turn's holder needs
    to finish (the web requests' writers share the same few threads).
    """
    session = session_factory()
    try:
        await writing_async(session)

        def run() -> Any:
            done = work(session)
            session.commit()
            return done

        return await asyncio.to_thread(run)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class Outbox:
    """What one WebSocket is to be sent, in order; the route's sender task drains it."""

    #: Whether this outbox keeps a finished conversation in memory while it is there (a
    #: browser's socket does; a channel's standing outbox, e.g. a WeChat follower's, does not).
    holds = True

    def __init__(self, *, who: str, agent_id: str | None = None) -> None:
        self.who = who
        self.agent_id = agent_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = False

    def send(self, message: dict[str, Any]) -> None:
        """Queue ``message``; a socket too far behind is closed (it resumes on reconnect)."""
        if self.closed:
            return
        if self.queue.qsize() >= OUTBOX_LIMIT:
            self.close()
            return
        self.queue.put_nowait(message)

    def close(self) -> None:
        """End this socket's stream."""
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(CLOSED)


class ReplyOutbox(Outbox):
    """A channel's standing outbox for a customer outside the browser (a WeChat follower, a
    texting customer): only the agent's (or a first-line bot's) text messages are theirs, and
    :meth:`deliver` carries each to the channel; system notes, positions, typing are not."""

    holds = False  # a finished conversation leaves memory; the customer's next message reloads it

    def send(self, message: dict[str, Any]) -> None:
        """Hand a reply to :meth:`deliver`; ignore everything else."""
        if self.closed:
            return
        if (
            message.get("type") == "message"
            and message.get("sender") in ("agent", "bot")
            and message.get("kind") == "text"
        ):
            self.deliver(message)

    def deliver(self, message: dict[str, Any]) -> None:
        """Carry a reply to the customer's channel (a subclass says how)."""
        raise NotImplementedError


@dataclass
class LiveConversation:
    """A conversation the relay holds in memory: its state, messages and sockets."""

    state: Conversation
    queue: str
    pre_chat: service.PreChat
    messages: list[Message] = field(default_factory=list)
    customers: set[Outbox] = field(default_factory=set)
    watchers: set[Outbox] = field(default_factory=set)
    offered_to: str | None = None
    shown_position: tuple[int | None, int | None] = (None, None)
    recent: SlidingWindow | None = None
    #: The bot's memory while the conversation is with the bot (``None`` otherwise).
    bot: BotState | None = None
    #: Who the customer is for the screen pop (phone or e-mail), kept for a later hand-over.
    customer: str | None = None
    #: Why an agent's reply of a kind (``text``, ``attachment:<content type>``) may not go
    #: out now, or ``None``; set by a channel with rules of its own (WeChat's 48-hour window).
    refuse_reply: Callable[[str, float], str | None] | None = None
    #: The channel the customer writes on: ``web`` (the widget), ``wechat`` or ``sms``.
    channel: str = "web"
    #: How the customer proved who they are (``login``: the site's signed token; ``code``: a
    #: one-time code), or ``None`` (what the form said; an agent may match them).
    verified: str | None = None

    def summary(self) -> dict[str, Any]:
        """What a desk lists: who, what about, where it is."""
        return {
            "conversation": self.state.id,
            "queue": self.queue,
            "phase": self.state.phase.value,
            "agent_id": self.state.agent_id,
            "customer_name": self.pre_chat.name,
            "phone": self.pre_chat.phone,
            "email": self.pre_chat.email,
            "topic": self.pre_chat.topic,
            "language": self.pre_chat.language,
            "started_at": self.state.started_at,
            "last_seq": self.state.last_seq,
            "channel": self.channel,
            "verified": self.verified,
        }


def message_json(conversation_id: str, message: Message) -> dict[str, Any]:
    """A message as both sides receive it."""
    shown: dict[str, Any] = {
        "type": "message",
        "conversation": conversation_id,
        "seq": message.seq,
        "at": message.at,
        "sender": message.sender.value,
        "kind": message.kind.value,
        "body": message.body,
        "agent_id": message.agent_id,
    }
    if message.attachment is not None:
        shown["attachment"] = {
            "id": message.attachment.id,
            "name": message.attachment.name,
            "content_type": message.attachment.content_type,
            "size": message.attachment.size,
        }
    if message.client_id is not None:
        shown["client_id"] = message.client_id
    return shown


@dataclass
class _Batch:
    messages: list[tuple[str, Message]] = field(default_factory=list)
    states: dict[str, Conversation] = field(default_factory=dict)
    acks: list[tuple[Outbox, str, str, int]] = field(default_factory=list)


class ChatRelay:
    """Conversations in progress, their sockets, and the batch writer (see the module)."""

    def __init__(
        self,
        *,
        driver: LiveDriver,
        session_factory: sessionmaker[Session],
        settings: Callable[[], ChatSettings],
        bot_settings: Callable[[], BotSettings | None] = lambda: None,
        time_zone: str = "Asia/Shanghai",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.driver = driver
        self.session_factory = session_factory
        self.settings = settings
        self.bot_settings = bot_settings
        self.time_zone = time_zone
        self.clock = clock
        self._knowledge: tuple[float, bot.Knowledge] | None = None
        self.active: dict[str, LiveConversation] = {}
        self.desks: dict[str, set[Outbox]] = {}
        self.starts = SlidingWindow(limit=settings().conversations_per_hour, window_s=3600.0)
        self._batch = _Batch()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._attachment_ids = itertools.count(1)
        self._ending: set[asyncio.Task[str | None]] = set()
        self._closing = False
        self._writing = asyncio.Lock()
        #: The conversations a callback was promised for (one per chat).
        self._called_back: set[str] = set()
        driver.add_listener(self._on_result)

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Start the writer and the queue-position tasks."""
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._writer_loop(), name="chat-writer"),
            asyncio.create_task(self._position_loop(), name="chat-positions"),
        ]

    async def stop(self) -> None:
        """Close every socket, stop the tasks, and commit what is still waiting.

        The writer is not cancelled in the middle of a commit (its thread would commit anyway
        and the batch be written twice): it is told to finish, writes what is left and ends.
        """
        self._closing = True
        for live in self.active.values():
            for outbox in live.customers | live.watchers:
                outbox.close()
        for outboxes in self.desks.values():
            for outbox in outboxes:
                outbox.close()
        writer = self._tasks[0] if self._tasks else None
        others = self._tasks[1:]
        for task in others:
            task.cancel()
        for task in others:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if writer is not None:
            self._wake.set()
            await writer
        self._tasks = []
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)
        await self.flush()

    # ------------------------------------------------------------------ starting

    async def open(
        self,
        *,
        pre_chat: service.PreChat,
        origin: str | None,
        address: str | None,
        customer: str | None,
        queue: str | None = None,
        channel: str = "web",
        verified: str | None = None,
    ) -> str:
        """Keep a new conversation, queue it in the routing engine, and hold it here.

        ``queue`` is the widget's (``chat.queue``) unless another channel names its own;
        ``verified`` says how ``customer`` was proved (``login``), if it was.
        """
        settings = self.settings()
        queue = queue or settings.queue
        conversation_id = self.driver.new_contact_id()
        now = self.clock()
        await self._in_writer(
            lambda session: service.open_conversation(
                session=session,
                conversation_id=conversation_id,
                queue=queue,
                pre_chat=pre_chat,
                started_at=now,
                origin=origin,
                address=address,
            )
        )
        bot_settings = self.bot_settings()
        with_bot = bot_settings is not None and bot_settings.enabled_for(queue)
        live = LiveConversation(
            state=Conversation(
                id=conversation_id,
                started_at=now,
                phase=Phase.BOT if with_bot else Phase.WAITING,
            ),
            queue=queue,
            pre_chat=pre_chat,
            recent=SlidingWindow(limit=settings.messages_per_minute, window_s=60.0),
            bot=BotState.start(language=pre_chat.language, phone=pre_chat.phone)
            if with_bot
            else None,
            customer=customer,
            channel=channel,
            verified=verified,
        )
        self.active[conversation_id] = live
        if not with_bot:
            await self._route(live)
        return conversation_id

    async def _route(self, live: LiveConversation) -> None:
        """Offer the conversation to the routing engine (at the start, or on hand-over)."""
        attached = {
            "customer_name": live.pre_chat.name,
            "email": live.pre_chat.email,
            "subject": live.pre_chat.topic,
            "chat": True,
        }
        if live.verified is not None:
            attached["verified"] = live.verified
        await self.driver.offer_digital(
            live.queue,
            channel=ROUTED_AS.get(live.channel, Channel.CHAT),
            customer=live.customer,
            attached=attached,
            contact_id=live.state.id,
            entry=live.channel,
        )

    # ------------------------------------------------------------------ the bot

    async def customer_wrote(
        self, live: LiveConversation, event: Event, *, sender: Outbox | None
    ) -> None:
        """A customer's message: posted, then answered by the bot while it has the chat."""
        effects = self.apply(live, event, sender=sender)
        posted = [e.message for e in effects if isinstance(e, Post)]
        if posted and self.settings().asks_for_callback(posted[0].body):
            await self.callback_asked(live)
            return  # a callback asked for is not a question for the bot
        settings = self.bot_settings()
        if not posted or live.bot is None or settings is None or live.state.phase is not Phase.BOT:
            return
        if not posted[0].body:
            return
        # Between two batch writes: the relay keeps one database turn at a time (a test's
        # sessions share one connection, which two threads must not use at once).
        async with self._writing:
            state, said = await asyncio.to_thread(
                self._bot_turn, live.bot, posted[0].body, settings
            )
        live.bot = state
        for effect in said:
            if live.state.phase is not Phase.BOT:
                break  # the customer ended the chat meanwhile
            if isinstance(effect, HandOver):
                self.apply(live, HandedOver(at=self.clock(), reason=effect.reason), sender=None)
                await self._route(live)
            else:
                self.apply(live, BotWrote(at=self.clock(), text=effect.text), sender=None)

    # ------------------------------------------------------------------ callbacks

    async def callback_asked(self, live: LiveConversation) -> dict[str, Any] | None:
        """The customer asked to be called back: schedule it through the live driver's
        callback path, due now in the chat's ``callback_queue``, for the conversation
        (``for_contact``: one case), and note it in the chat; the promised callback (or
        ``None`` when there is no number to call, or one was promised already).

        The number is the one the customer gave in the pre-chat form, else the mobile of the
        customer their identity (a WeChat follower's) is linked to.
        """
        queue = self.settings().callback_queue
        if live.state.id in self._called_back:
            note = "回电已安排 · A callback is already booked for this chat"
            self.apply(live, CallbackNoted(at=self.clock(), note=note), sender=None)
            return None
        number = await self._callback_number(live)
        if queue is None or number is None:
            note = "请留下电话号码以便回电 · To be called back, please give us a phone number"
            self.apply(live, CallbackNoted(at=self.clock(), note=note), sender=None)
            return None
        promised = self.driver.schedule_callback(
            queue=queue,
            due_at=self.clock(),
            customer=number,
            requested_by="customer",
            note=f"chat {live.state.id}",
            for_contact=live.state.id,
        )
        self._called_back.add(live.state.id)
        shown = mask_phone(number)
        note = f"已为您安排回电 {shown} · We will call you back at {shown}"
        self.apply(live, CallbackNoted(at=self.clock(), note=note), sender=None)
        return promised

    async def _callback_number(self, live: LiveConversation) -> str | None:
        if live.pre_chat.phone:
            return live.pre_chat.phone
        key = live.customer
        if not key:
            return None

        def linked_mobile(session: Session) -> str | None:
            identity = crm.identity_of(key)
            if identity is None:
                return None
            customer_id = crm.identity_linked(session, identity=identity).customer_id
            return crm.reach(session, customer_id=customer_id).mobile if customer_id else None

        found: str | None = await self.write(linked_mobile)
        return found

    def _bot_turn(
        self, state: BotState, text: str, settings: BotSettings
    ) -> tuple[BotState, list[Any]]:
        """The bot's answer to ``text`` (in a worker thread: it reads the database)."""
        with self.session_factory() as session:
            now = self.clock()
            cached = self._knowledge
            if cached is None or now - cached[0] > KNOWLEDGE_TTL_S:
                cached = (now, bot.load_knowledge(session))
                self._knowledge = cached
            new_state, said = bot.respond(
                state,
                text,
                session=session,
                knowledge=cached[1],
                settings=settings,
                time_zone=self.time_zone,
            )
            return new_state, list(said)

    async def write(self, work: Callable[[Session], Any]) -> Any:
        """Commit ``work`` (a channel's own records of these conversations) in turn with the
        relay's batches, and return what it returned."""
        try:
            async with self._writing:
                return await self._in_writer(work)
        finally:
            if self._batch.messages or self._batch.states:
                self._wake.set()  # a batch that waited for this write is written next

    async def _in_writer(self, work: Callable[[Session], Any]) -> Any:
        """Run ``work`` in one write transaction, commit it, and return what it returned."""
        return await in_writer(self.session_factory, work)

    async def get(self, conversation_id: str) -> LiveConversation:
        """The conversation, from memory or (after a restart, or once finished) the database."""
        live = self.active.get(conversation_id)
        if live is not None:
            return live
        transcript, state = await asyncio.to_thread(self._load, conversation_id)
        live = self.active.get(conversation_id)  # loaded meanwhile by another socket
        if live is None:
            settings = self.settings()
            live = LiveConversation(
                state=state,
                queue=transcript.queue,
                pre_chat=transcript.pre_chat,
                messages=transcript.messages,
                recent=SlidingWindow(limit=settings.messages_per_minute, window_s=60.0),
                bot=(
                    BotState.start(
                        language=transcript.pre_chat.language, phone=transcript.pre_chat.phone
                    )
                    if state.phase is Phase.BOT
                    else None
                ),
                customer=transcript.pre_chat.phone or transcript.pre_chat.email,
            )
            self.active[conversation_id] = live
        return live

    def _load(self, conversation_id: str) -> tuple[service.Transcript, Conversation]:
        with self.session_factory() as session:
            transcript = service.transcript(session=session, conversation_id=conversation_id)
            state, _ = service.restore(session=session, conversation_id=conversation_id)
        return transcript, state

    # ------------------------------------------------------------------ sockets

    async def connect_customer(self, conversation_id: str, outbox: Outbox, after: int) -> None:
        """A customer's widget (re)connected having seen messages up to ``after``."""
        live = await self.get(conversation_id)
        try:
            missed = messages_after(live.messages, after, last_seq=live.state.last_seq)
        except ResumeRefused as refused:
            outbox.send({"type": "refused", "field": "after", "rule": str(refused)})
            missed = list(live.messages)
        live.customers.add(outbox)
        outbox.send(self._state_json(live))
        for message in missed:
            outbox.send(message_json(conversation_id, message))
        if live.state.phase is Phase.WAITING:
            live.shown_position = (None, None)
            self._send_position(live)

    def disconnect(self, outbox: Outbox) -> None:
        """A socket went away (its conversation stays; the client may come back)."""
        outbox.close()
        for live in self.active.values():
            live.customers.discard(outbox)
            live.watchers.discard(outbox)
        if outbox.agent_id is not None:
            self.desks.get(outbox.agent_id, set()).discard(outbox)
        for live in list(self.active.values()):
            self._release_if_done(live)

    def _release_if_done(self, live: LiveConversation) -> None:
        """Let go of a chat the bot kept to its end once it is written and nobody watches.

        A routed chat is let go at the engine's ``finished``; one the bot kept never reaches
        the engine, so it is let go here (the database has it; :meth:`get` loads it again).
        """
        kept_by_bot = live.bot is not None and not live.bot.handed_over
        if (
            kept_by_bot
            and live.state.phase is Phase.ENDED
            and not live.customers
            and not live.watchers
            and live.state.id not in self._batch.states
            and not any(cid == live.state.id for cid, _ in self._batch.messages)
        ):
            self.active.pop(live.state.id, None)

    def connect_desk(self, agent_id: str, outbox: Outbox) -> None:
        """An agent's desk connected: their chats in hand and the chats offered to them."""
        self.desks.setdefault(agent_id, set()).add(outbox)
        for live in self.active.values():
            if live.state.agent_id == agent_id and live.state.phase is not Phase.ENDED:
                self._send_conversation(outbox, live)
            elif live.offered_to == agent_id and live.state.phase is Phase.WAITING:
                outbox.send({"type": "offer", **live.summary()})

    async def watch(self, conversation_id: str, outbox: Outbox) -> LiveConversation:
        """A supervisor watches a conversation live (read-only)."""
        live = await self.get(conversation_id)
        live.watchers.add(outbox)
        self._send_conversation(outbox, live)
        return live

    def _send_conversation(self, outbox: Outbox, live: LiveConversation) -> None:
        outbox.send(
            {
                "type": "conversation",
                **live.summary(),
                "messages": [message_json(live.state.id, m) for m in live.messages],
            }
        )

    def _state_json(self, live: LiveConversation) -> dict[str, Any]:
        return {
            "type": "state",
            "conversation": live.state.id,
            "phase": live.state.phase.value,
            "last_seq": live.state.last_seq,
            "rated": live.state.survey_score is not None,
        }

    def waiting_summaries(self) -> list[dict[str, Any]]:
        """Every conversation in progress (supervisors' list)."""
        return [
            live.summary() for live in self.active.values() if live.state.phase is not Phase.ENDED
        ]

    # ------------------------------------------------------------------ events in

    def allow_message(self, live: LiveConversation) -> bool:
        """Whether the conversation's per-minute message limit allows one more."""
        return live.recent is None or live.recent.allow(live.state.id, self.clock())

    def apply(
        self,
        live: LiveConversation,
        event: Event,
        *,
        sender: Outbox | None,
        engine_ended: bool = False,
    ) -> tuple[Any, ...]:
        """Feed one event to the conversation's rules and carry out the effects."""
        state, effects = transition(live.state, event, settings=self.settings())
        live.state = state
        changed = False
        for effect in effects:
            if isinstance(effect, Post):
                changed = True
                message = effect.message
                live.messages.append(message)
                shown = message_json(state.id, message)
                for outbox in self._audience(live):
                    outbox.send(shown)
                self._batch.messages.append((state.id, message))
                if sender is not None and message.client_id is not None:
                    self._batch.acks.append((sender, state.id, message.client_id, message.seq))
            elif isinstance(effect, Acknowledge):
                if sender is not None:
                    sender.send(
                        {
                            "type": "ack",
                            "conversation": state.id,
                            "client_id": effect.client_id,
                            "seq": effect.seq,
                        }
                    )
            elif isinstance(effect, Refuse):
                if sender is not None:
                    sender.send(
                        {
                            "type": "refused",
                            "conversation": state.id,
                            "field": effect.field,
                            "rule": effect.rule,
                            "client_id": effect.client_id,
                        }
                    )
            elif isinstance(effect, EndContact):
                changed = True
                if not engine_ended:
                    self._end_contact(state.id)
            elif isinstance(effect, RecordSurvey):
                changed = True
                self.driver.record(
                    LogEvent(
                        0,
                        self.clock(),
                        EventKind.SURVEY_ANSWERED,
                        contact_id=state.id,
                        agent_id=effect.agent_id,
                        queue=live.queue,
                        channel=Channel.CHAT,
                        data={
                            "score": effect.score,
                            "scale_max": effect.scale_max,
                            "survey": "csat",
                        },
                    )
                )
        if changed:
            self._batch.states[state.id] = state
            for outbox in live.customers | live.watchers | self._desk_of(live):
                outbox.send(self._state_json(live))
        if effects:
            self._wake.set()
        return effects

    def _end_contact(self, contact_id: str) -> None:
        """Tell the routing engine the chat ended (in a task: the rules' caller is not async)."""
        task = asyncio.get_running_loop().create_task(self.driver.end_digital(contact_id))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    def typing(self, live: LiveConversation, sender: Sender) -> None:
        """Show "is typing" to the other side (never stored)."""
        shown = {"type": "typing", "conversation": live.state.id, "sender": sender.value}
        targets = (
            self._desk_of(live) | live.watchers if sender is Sender.CUSTOMER else live.customers
        )
        for outbox in targets:
            outbox.send(shown)

    def new_attachment_id(self, conversation_id: str) -> str:
        """A fresh id for a file of ``conversation_id``."""
        return f"{conversation_id}-f{next(self._attachment_ids)}-{secrets.token_hex(4)}"

    async def keep_attachment(
        self, conversation_id: str, attachment: AttachmentRef, data: bytes
    ) -> None:
        """Write a checked file before the message that points at it is posted."""
        now = self.clock()
        await self._in_writer(
            lambda session: service.save_attachment(
                session=session,
                conversation_id=conversation_id,
                attachment=attachment,
                data=data,
                at=now,
            )
        )

    def identified(self, live: LiveConversation, *, key: str, verified: str) -> None:
        """The customer proved who they are mid-chat (a one-time code): the screen pop and the
        history follow the new key from now on, and the agent's desk is told to pop again."""
        live.customer = key
        live.verified = verified
        attached = self.driver.attached.get(live.state.id)
        if attached is not None:
            attached["customer"] = key
            attached["verified"] = verified
        shown = {"type": "verified", "conversation": live.state.id, "verified": verified}
        for outbox in live.watchers | self._desk_of(live):
            outbox.send(shown)

    def refuse_to_agent(self, message: dict[str, Any], rule: str) -> None:
        """Tell the agent's desk that their posted ``message`` did not reach the customer."""
        shown = {
            "type": "refused",
            "conversation": message.get("conversation"),
            "field": "attachment" if message.get("kind") == "attachment" else "text",
            "rule": rule,
            "client_id": message.get("client_id"),
            "seq": message.get("seq"),
        }
        for desk in self.desks.get(str(message.get("agent_id")), ()):
            desk.send(shown)

    def _audience(self, live: LiveConversation) -> set[Outbox]:
        return live.customers | live.watchers | self._desk_of(live)

    def _desk_of(self, live: LiveConversation) -> set[Outbox]:
        agent_id = live.state.agent_id
        return set(self.desks.get(agent_id, ())) if agent_id else set()

    # ------------------------------------------------------------------ the engine

    def _on_result(self, result: Result) -> None:
        """Offers, cancelled offers, answers and ends of the relay's conversations."""
        for effect in result.effects:
            if isinstance(effect, Offer):
                live = self.active.get(effect.contact_id)
                if live is not None:
                    live.offered_to = effect.agent_id
                    for outbox in self.desks.get(effect.agent_id, ()):
                        outbox.send({"type": "offer", **live.summary()})
            elif isinstance(effect, CancelOffer):
                live = self.active.get(effect.contact_id)
                if live is not None and live.offered_to == effect.agent_id:
                    live.offered_to = None
                shown = {
                    "type": "offer_cancelled",
                    "conversation": effect.contact_id,
                    "reason": effect.reason,
                }
                for outbox in self.desks.get(effect.agent_id, ()):
                    outbox.send(shown)
        for event in result.events:
            if event.kind is EventKind.FINISHED:
                self._called_back.discard(event.contact_id or "")  # an ended chat asks no more
            live = self.active.get(event.contact_id or "")
            if live is None:
                continue
            if event.kind is EventKind.ANSWERED and event.agent_id:
                live.offered_to = None
                self.apply(live, AgentJoined(at=event.at, agent_id=event.agent_id), sender=None)
                for outbox in self.desks.get(event.agent_id, ()):
                    self._send_conversation(outbox, live)
            elif (
                event.kind in (EventKind.ABANDONED, EventKind.DISCONNECTED)
                and live.state.phase is not Phase.ENDED
            ):
                # The engine ended it without the relay (a queue exit, a simulated agent of
                # the demo hanging up): the chat ends for the customer too.
                self.apply(
                    live, Ended(at=event.at, by=Sender.SYSTEM), sender=None, engine_ended=True
                )
            elif (
                event.kind is EventKind.FINISHED
                and not any(o.holds for o in live.customers)
                and not live.watchers
            ):
                self.active.pop(live.state.id, None)  # kept in the database; loaded on demand

    # ------------------------------------------------------------------ queue position

    async def _position_loop(self) -> None:
        while True:
            await asyncio.sleep(POSITION_EVERY_S)
            for live in list(self.active.values()):
                if live.state.phase is Phase.WAITING and live.customers:
                    self._send_position(live)

    def _send_position(self, live: LiveConversation) -> None:
        engine = self.driver.engine
        position = engine.position(live.state.id)
        wait = engine.estimated_wait(live.state.id)
        shown = (position, None if wait is None else round(wait))
        if shown == live.shown_position:
            return
        live.shown_position = shown
        for outbox in live.customers:
            outbox.send(
                {
                    "type": "queue",
                    "conversation": live.state.id,
                    "position": shown[0],
                    "expected_wait_s": shown[1],
                }
            )

    # ------------------------------------------------------------------ the writer

    async def _writer_loop(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(BATCH_WAIT_S)  # let a burst join the batch
            try:
                await self.flush()
            except Exception:  # the batch stays; the next round retries it
                log.exception("chat: writing messages failed; retrying")
                await asyncio.sleep(0.5)
                self._wake.set()

    async def settled(self) -> None:
        """Return once everything accepted so far is committed (tests read the database)."""
        while self._batch.messages or self._batch.states or self._writing.locked():
            async with self._writing:
                await self._flush()

    async def flush(self) -> None:
        """Commit the waiting messages and states, then acknowledge their senders."""
        if self._writing.locked():
            return  # the writer commits them right after its current batch
        async with self._writing:
            await self._flush()

    async def _flush(self) -> None:
        batch = self._batch
        if not batch.messages and not batch.states:
            return
        self._batch = _Batch()
        states = list(batch.states.values())
        try:
            await self._in_writer(
                lambda session: service.save(
                    session=session, messages=batch.messages, states=states
                )
            )
        except Exception:
            # Put it back in front of what arrived meanwhile (order kept per conversation).
            later = self._batch
            later.messages[:0] = batch.messages
            later.acks[:0] = batch.acks
            later.states = {**batch.states, **later.states}
            raise
        for outbox, conversation_id, client_id, seq in batch.acks:
            outbox.send(
                {"type": "ack", "conversation": conversation_id, "client_id": client_id, "seq": seq}
            )
        for state in states:
            live = self.active.get(state.id)
            if live is not None:
                self._release_if_done(live)
