"""One chat conversation as a pure state machine: phases, sequence numbers, what may be sent.

A chat is a contact like a call: it waits in a queue, an agent takes it, it ends, and the
agent wraps up. What makes it a *conversation* is the messages. Every message — the
customer's, the agent's, and the system's notes ("the agent joined", "the chat ended") — gets
the next **sequence number of its conversation** (1, 2, 3, …) when the server accepts it. A
browser that loses its connection reconnects and says the last number it saw; the server
sends what came after (:func:`messages_after`), so nothing is lost and nothing shown twice.
A client also numbers its own outgoing messages (``client_id``); the server remembers which
it already took, so a message re-sent after a drop is acknowledged again, not posted twice.

Phases::

    bot ──hand over──▶ waiting ──agent joins──▶ talking ──either side ends──▶ ended
     └───────────────────┴──────── customer leaves ─────────────────────────┘

A conversation starts with the first-line bot (:mod:`hotline.bot`) when the center enables
it for the queue, else waiting. Only the bot writes in the ``bot`` phase, and the hand-over
(a system note with the reason) is final: the agent who joins reads the bot's turns.

The customer may write while waiting (the agent reads it on joining); the agent writes only
once joined, and only the agent who joined. After the end nothing is posted any more; the
customer may answer the satisfaction survey once (CSAT 1–5).

``transition(conversation, event) -> (conversation, effects)`` is the only way a
conversation changes; the adapter stores and delivers the ``Post`` effects, tells the
routing engine on ``EndContact`` and logs ``RecordSurvey`` in the contact event log.

>>> c = Conversation(id="L1-000001", started_at=0.0)
>>> c, effects = transition(c, CustomerWrote(at=1.0, text="你好", client_id="k1"))
>>> [(e.message.seq, e.message.body) for e in effects if isinstance(e, Post)]
[(1, '你好')]
>>> c, effects = transition(c, AgentJoined(at=2.0, agent_id="a001"))
>>> c.phase, c.last_seq
(<Phase.TALKING: 'talking'>, 2)
>>> c, effects = transition(c, CustomerWrote(at=3.0, text="你好", client_id="k1"))
>>> effects  # the same client message again (re-sent after a drop): acknowledged, not posted
(Acknowledge(client_id='k1', seq=1),)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from hotline.config.chat import ChatSettings

#: How many client message ids a conversation remembers for de-duplicating re-sends.
REMEMBERED_CLIENT_IDS = 1000
SCALE_MAX = 5


class Phase(StrEnum):
    """Where a conversation is: waiting for an agent, talking, or ended."""

    BOT = "bot"
    WAITING = "waiting"
    TALKING = "talking"
    ENDED = "ended"


class Sender(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class Kind(StrEnum):
    """What a message is: text, a file, or a system note."""

    TEXT = "text"
    ATTACHMENT = "attachment"
    JOINED = "joined"
    HANDED_OVER = "handed_over"
    ENDED = "ended"
    CALLBACK = "callback"


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """A stored file a message points at (the bytes live in the database)."""

    id: str
    name: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation, numbered in its conversation from 1."""

    seq: int
    at: float
    sender: Sender
    kind: Kind
    body: str = ""
    agent_id: str | None = None
    attachment: AttachmentRef | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation's state; change it only through :func:`transition`."""

    id: str
    started_at: float
    phase: Phase = Phase.WAITING
    last_seq: int = 0
    agent_id: str | None = None
    ended_at: float | None = None
    ended_by: Sender | None = None
    survey_score: int | None = None
    #: client message id → the sequence number it was posted as (re-sends are acknowledged).
    client_ids: tuple[tuple[str, int], ...] = field(default=())


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class CustomerWrote:
    """The customer sent a text message."""

    at: float
    text: str
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class AgentWrote:
    """An agent sent a text message."""

    at: float
    agent_id: str
    text: str
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class Attached:
    """Either side sent a file (already checked by :mod:`hotline.channels.chat.attachments`)."""

    at: float
    sender: Sender
    attachment: AttachmentRef
    agent_id: str | None = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class BotWrote:
    """The first-line bot answered (only while the conversation is with the bot)."""

    at: float
    text: str


@dataclass(frozen=True, slots=True)
class HandedOver:
    """The bot handed the conversation over to the queue (``reason``: why)."""

    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class AgentJoined:
    """The routing engine's offer was accepted: the agent is on the conversation."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class Ended:
    """The customer, the agent or the system (the server stopping, a timeout) ended it."""

    at: float
    by: Sender
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackNoted:
    """The customer asked to be called back: the conversation notes whether a callback was
    scheduled (``note``: what the customer is told) and goes on."""

    at: float
    note: str


@dataclass(frozen=True, slots=True)
class SurveyAnswered:
    """The customer rated the chat (CSAT, 1–5) after it ended."""

    at: float
    score: int


Event = (
    CustomerWrote
    | AgentWrote
    | Attached
    | BotWrote
    | HandedOver
    | AgentJoined
    | Ended
    | SurveyAnswered
    | CallbackNoted
)


# --------------------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class Post:
    """Store ``message`` and deliver it to both sides (and anyone watching)."""

    message: Message


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """Tell the sender its message ``client_id`` is kept as number ``seq`` (a re-send)."""

    client_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class Refuse:
    """Refuse what was sent: ``field`` broke ``rule`` (said to the sender, nothing kept)."""

    field: str
    rule: str
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class EndContact:
    """Tell the routing engine the contact ended (abandoned when no agent had joined)."""

    abandoned: bool


@dataclass(frozen=True, slots=True)
class RecordSurvey:
    """Log the customer's CSAT answer in the contact event log (reports count it)."""

    score: int
    scale_max: int
    agent_id: str | None


Effect = Post | Acknowledge | Refuse | EndContact | RecordSurvey


# --------------------------------------------------------------------------- rules


def check_text(text: str, *, max_chars: int) -> str | None:
    """Why a text message is refused, or ``None`` when it may be sent.

    >>> check_text("   ", max_chars=10), check_text("hello", max_chars=3)
    ('a message needs some text', 'a message has at most 3 characters; this one has 5')
    """
    if not text.strip():
        return "a message needs some text"
    if len(text) > max_chars:
        return f"a message has at most {max_chars} characters; this one has {len(text)}"
    return None


def transition(
    conversation: Conversation,
    event: Event,
    *,
    settings: ChatSettings | None = None,
) -> tuple[Conversation, tuple[Effect, ...]]:
    """The conversation after ``event``, and what must happen (see the module docstring).

    >>> c = Conversation(id="c", started_at=0.0)
    >>> transition(c, AgentWrote(at=1.0, agent_id="a001", text="hi"))[1]
    (Refuse(field='text', rule='the agent has not joined this conversation', client_id=None),)
    >>> c, effects = transition(c, Ended(at=1.0, by=Sender.CUSTOMER))
    >>> c.phase, effects[-1]
    (<Phase.ENDED: 'ended'>, EndContact(abandoned=True))
    >>> transition(c, SurveyAnswered(at=2.0, score=5))[1]
    (RecordSurvey(score=5, scale_max=5, agent_id=None),)
    """
    limits = settings or ChatSettings()
    if isinstance(event, CustomerWrote | AgentWrote | Attached):
        return _sent(conversation, event, limits)
    if isinstance(event, BotWrote):
        if conversation.phase is not Phase.BOT:
            return conversation, (Refuse("text", "the bot has handed this conversation over"),)
        problem = check_text(event.text, max_chars=limits.max_message_chars)
        if problem is not None:
            return conversation, (Refuse("text", problem),)
        return _post(conversation, Message(0, event.at, Sender.BOT, Kind.TEXT, event.text))
    if isinstance(event, HandedOver):
        if conversation.phase is not Phase.BOT:
            return conversation, ()
        queued = replace(conversation, phase=Phase.WAITING)
        return _post(queued, Message(0, event.at, Sender.SYSTEM, Kind.HANDED_OVER, event.reason))
    if isinstance(event, AgentJoined):
        if conversation.phase is not Phase.WAITING:
            return conversation, ()
        joined = replace(conversation, phase=Phase.TALKING, agent_id=event.agent_id)
        return _post(joined, Message(0, event.at, Sender.SYSTEM, Kind.JOINED, "", event.agent_id))
    if isinstance(event, CallbackNoted):
        if conversation.phase is Phase.ENDED:
            return conversation, ()
        return _post(conversation, Message(0, event.at, Sender.SYSTEM, Kind.CALLBACK, event.note))
    if isinstance(event, Ended):
        if conversation.phase is Phase.ENDED:
            return conversation, ()
        if event.by is Sender.AGENT and event.agent_id != conversation.agent_id:
            return conversation, (Refuse("conversation", "only the agent on the chat ends it"),)
        with_bot = conversation.phase is Phase.BOT
        abandoned = conversation.phase is Phase.WAITING
        ended = replace(conversation, phase=Phase.ENDED, ended_at=event.at, ended_by=event.by)
        note = Message(0, event.at, Sender.SYSTEM, Kind.ENDED, event.by.value, event.agent_id)
        ended, posted = _post(ended, note)
        if with_bot:  # never routed: the bot kept it to the end, no engine contact to end
            return ended, posted
        return ended, (*posted, EndContact(abandoned=abandoned))
    # SurveyAnswered
    if conversation.phase is not Phase.ENDED:
        return conversation, (Refuse("score", "the survey comes after the chat has ended"),)
    if conversation.survey_score is not None:
        return conversation, (Refuse("score", "this chat has already been rated"),)
    if not 1 <= event.score <= SCALE_MAX:
        return conversation, (Refuse("score", f"a rating is a whole number 1 to {SCALE_MAX}"),)
    rated = replace(conversation, survey_score=event.score)
    return rated, (RecordSurvey(event.score, SCALE_MAX, conversation.agent_id),)


def _sent(
    conversation: Conversation,
    event: CustomerWrote | AgentWrote | Attached,
    limits: ChatSettings,
) -> tuple[Conversation, tuple[Effect, ...]]:
    client_id = event.client_id
    if client_id is not None:
        for known, seq in conversation.client_ids:
            if known == client_id:
                return conversation, (Acknowledge(client_id, seq),)
    field_name = "attachment" if isinstance(event, Attached) else "text"
    if conversation.phase is Phase.ENDED:
        return conversation, (Refuse(field_name, "this chat has ended", client_id),)
    agent_id: str | None = None
    if isinstance(event, AgentWrote) or (
        isinstance(event, Attached) and event.sender is Sender.AGENT
    ):
        agent_id = event.agent_id
        if conversation.phase is not Phase.TALKING or agent_id != conversation.agent_id:
            rule = "the agent has not joined this conversation"
            return conversation, (Refuse(field_name, rule, client_id),)
    if isinstance(event, Attached):
        message = Message(
            0,
            event.at,
            event.sender,
            Kind.ATTACHMENT,
            event.attachment.name,
            agent_id,
            event.attachment,
            client_id,
        )
    else:
        problem = check_text(event.text, max_chars=limits.max_message_chars)
        if problem is not None:
            return conversation, (Refuse("text", problem, client_id),)
        sender = Sender.AGENT if isinstance(event, AgentWrote) else Sender.CUSTOMER
        message = Message(0, event.at, sender, Kind.TEXT, event.text, agent_id, None, client_id)
    return _post(conversation, message)


def _post(conversation: Conversation, message: Message) -> tuple[Conversation, tuple[Effect, ...]]:
    """Number ``message`` next in its conversation and post it."""
    seq = conversation.last_seq + 1
    numbered = replace(message, seq=seq)
    client_ids = conversation.client_ids
    if message.client_id is not None:
        client_ids = (*client_ids, (message.client_id, seq))[-REMEMBERED_CLIENT_IDS:]
    return replace(conversation, last_seq=seq, client_ids=client_ids), (Post(numbered),)


class ResumeRefused(ValueError):
    """A client claims to have seen a message the server never sent."""


def messages_after(messages: Sequence[Message], after: int, *, last_seq: int) -> list[Message]:
    """What a reconnecting client missed: the messages numbered after ``after``, in order.

    >>> log = [Message(n, float(n), Sender.CUSTOMER, Kind.TEXT, str(n)) for n in (1, 2, 3)]
    >>> [m.seq for m in messages_after(log, 1, last_seq=3)]
    [2, 3]
    >>> try:
    ...     messages_after(log, 7, last_seq=3)
    ... except ResumeRefused as refused:
    ...     print(refused)
    after=7, but this conversation's last message is 3
    """
    if after < 0 or after > last_seq:
        raise ResumeRefused(f"after={after}, but this conversation's last message is {last_seq}")
    return sorted((m for m in messages if m.seq > after), key=lambda m: m.seq)


def replay(conversation: Conversation, messages: Iterable[Message]) -> Conversation:
    """A conversation rebuilt from its stored messages (after a server restart).

    >>> log = [Message(1, 1.0, Sender.CUSTOMER, Kind.TEXT, "hi", client_id="k1"),
    ...        Message(2, 2.0, Sender.SYSTEM, Kind.JOINED, "", "a001")]
    >>> c = replay(Conversation(id="c", started_at=0.0), log)
    >>> c.phase, c.agent_id, c.last_seq, c.client_ids
    (<Phase.TALKING: 'talking'>, 'a001', 2, (('k1', 1),))
    """
    state = conversation
    for message in sorted(messages, key=lambda m: m.seq):
        client_ids = state.client_ids
        if message.client_id is not None:
            client_ids = (*client_ids, (message.client_id, message.seq))[-REMEMBERED_CLIENT_IDS:]
        state = replace(state, last_seq=max(state.last_seq, message.seq), client_ids=client_ids)
        if message.sender is Sender.BOT and state.phase is Phase.WAITING:
            state = replace(state, phase=Phase.BOT)
        elif message.kind is Kind.HANDED_OVER:
            state = replace(state, phase=Phase.WAITING)
        elif message.kind is Kind.JOINED:
            state = replace(state, phase=Phase.TALKING, agent_id=message.agent_id)
        elif message.kind is Kind.ENDED:
            by = Sender(message.body) if message.body in {s.value for s in Sender} else None
            state = replace(state, phase=Phase.ENDED, ended_at=message.at, ended_by=by)
    return state
