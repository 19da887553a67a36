"""The bot's side of a conversation, as a pure state machine.

Each customer message is one *turn*. The bot decides, in this order:

1. the customer asks for a person (a handover word: "人工", "agent") → hand over;
2. the message gives a ticket number (14 digits, as tickets are numbered) or answers the bot's
   request for one, or for the phone on the ticket → look the ticket up, *only* with the
   phone the ticket's customer is on file with (from the message or the pre-chat form), and
   tell its state and its appointment; a lookup wanted without a number → ask for it;
3. otherwise → search the published knowledge articles and answer with the best one when
   the confidence reaches the threshold.

A turn the bot could not help with (nothing confident enough, no ticket for that number and
phone) is a *failed turn*; after ``max_failed_turns`` of them in a row the bot hands over.
A handover is final: the conversation goes to the routing engine with everything said so far.

``transition(state, event) -> (state, effects)``: the adapter performs ``Search`` and
``LookUpTicket`` and feeds their outcome back (``Found``, ``TicketLookedUp``); it posts
``Reply`` as a bot message and carries out ``HandOver``.

>>> from hotline.config.bot import BotSettings
>>> settings = BotSettings(queues=["chat"], threshold=0.5, max_failed_turns=2)
>>> state = BotState(language="en")
>>> state, effects = transition(state, CustomerSaid("My heater shows E4"), settings=settings)
>>> effects
(Search(text='My heater shows E4'),)
>>> state, effects = transition(state, Found(None), settings=settings)
>>> state.failed_turns, effects[0].kind
(1, 'miss')
>>> state, effects = transition(state, CustomerSaid("still E4"), settings=settings)
>>> state, effects = transition(state, Found(None), settings=settings)
>>> effects
(HandOver(reason='failed_turns'),)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from hotline.config.bot import BotSettings

#: Ticket numbers as the tickets domain gives them: the day (YYYYMMDD) and six digits.
TICKET_NUMBER = re.compile(r"(?<!\d)(\d{14})(?!\d)")
#: A phone number written in a message: a mainland mobile, or digits with a leading +.
PHONE = re.compile(r"(?<!\d)(\+?\d[\d -]{9,18}\d)(?!\d)")
#: Words asking about a ticket's progress or a visit's time (zh-CN and en).
TICKET_WORDS = ("工单", "单号", "维修进度", "报修进度", "报修单", "维修单", "ticket", "work order")
APPOINTMENT_WORDS = ("预约", "上门", "几点", "什么时候来", "appointment", "visit", "technician")

Language = Literal["zh-CN", "en"]
ReplyKind = Literal["article", "ticket", "prompt", "miss"]
HandOverReason = Literal["asked", "failed_turns"]


@dataclass(frozen=True, slots=True)
class BotState:
    """What the bot remembers of one conversation (see the module docstring)."""

    language: Language = "zh-CN"
    #: The phone the customer gave in the pre-chat form (used for ticket lookups).
    phone: str | None = None
    failed_turns: int = 0
    handed_over: bool = False
    #: A ticket lookup the customer asked for that still lacks the number or the phone.
    pending_number: str | None = None
    wants_ticket: bool = False
    wants_appointment: bool = False
    #: The lookup or search in progress (the adapter's answer comes next).
    asked: str | None = None

    @classmethod
    def start(cls, *, language: str, phone: str | None) -> BotState:
        """A new conversation's bot: English when the customer chose it, else zh-CN.

        >>> BotState.start(language="en", phone=None).language
        'en'
        """
        return cls(language="en" if language == "en" else "zh-CN", phone=phone)


@dataclass(frozen=True, slots=True)
class Article:
    """The knowledge article retrieval found, with its confidence (0–1)."""

    article_id: int
    title: str
    body: str
    confidence: float


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the customer may hear of their ticket (appointment times already local text)."""

    number: str
    state: str
    subject: str
    appointment_from: str | None = None
    appointment_to: str | None = None


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class CustomerSaid:
    """The customer wrote ``text``."""

    text: str


@dataclass(frozen=True, slots=True)
class Found:
    """The search's best article (``None``: no article shares a telling word)."""

    article: Article | None


@dataclass(frozen=True, slots=True)
class TicketLookedUp:
    """The ticket of that number *and* phone (``None``: no such ticket for that phone)."""

    ticket: TicketFacts | None


Event = CustomerSaid | Found | TicketLookedUp


# --------------------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class Search:
    """Find the best published article for ``text`` (answer with :class:`Found`)."""

    text: str


@dataclass(frozen=True, slots=True)
class LookUpTicket:
    """Find ticket ``number`` whose customer is on file with ``phone`` (:class:`TicketLookedUp`)."""

    number: str
    phone: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Post ``text`` as the bot's message; ``kind`` says what it was (figures count them)."""

    text: str
    kind: ReplyKind
    article_id: int | None = None
    ticket_number: str | None = None


@dataclass(frozen=True, slots=True)
class HandOver:
    """Hand the conversation to the routing engine, with everything said so far."""

    reason: HandOverReason


Effect = Search | LookUpTicket | Reply | HandOver

# --------------------------------------------------------------------------- words

_SAY: dict[str, dict[Language, str]] = {
    "article_end": {
        "zh-CN": "\n\n以上能解决您的问题吗？如需人工服务，请回复“人工”。",
        "en": "\n\nDoes this answer your question? To talk to an agent, reply “agent”.",
    },
    "miss": {
        "zh-CN": "抱歉，我没有找到相关的解答。能换个说法再描述一下吗？如需人工服务，请回复“人工”。",
        "en": "Sorry, I found no answer to that. Could you put it another way? "
        "To talk to an agent, reply “agent”.",
    },
    "need_number": {
        "zh-CN": "请告诉我您的工单号（14位数字），我帮您查询。",
        "en": "Please give me your ticket number (14 digits) and I will look it up.",
    },
    "need_phone": {
        "zh-CN": "为保护您的信息，请告诉我登记在该工单上的手机号码。",
        "en": "To protect your details, please give the phone number the ticket is under.",
    },
    "no_ticket": {
        "zh-CN": "没有找到与该手机号码对应的工单 {number}，请核对工单号和手机号码。",
        "en": "I found no ticket {number} under that phone number; please check both.",
    },
    "ticket": {
        "zh-CN": "工单 {number}（{subject}）当前状态：{state}。",
        "en": "Ticket {number} ({subject}) is {state}.",
    },
    "appointment": {
        "zh-CN": "上门预约时间：{start} 至 {end}。",
        "en": "The visit is booked for {start} to {end}.",
    },
    "no_appointment": {
        "zh-CN": "该工单尚未预约上门时间，安排后我们会通知您。",
        "en": "No visit is booked on this ticket yet; we will tell you once it is.",
    },
}

#: Ticket states in the customer's words.
STATE_WORDS: dict[str, dict[Language, str]] = {
    "new": {"zh-CN": "已受理，等待处理", "en": "received, waiting to be handled"},
    "open": {"zh-CN": "处理中", "en": "being handled"},
    "waiting_customer": {"zh-CN": "等待您的回复", "en": "waiting for your reply"},
    "dispatched": {"zh-CN": "已派单给服务网点", "en": "sent to a service provider"},
    "resolved": {"zh-CN": "已处理，等待回访确认", "en": "resolved, awaiting our follow-up call"},
    "closed": {"zh-CN": "已完成", "en": "closed"},
    "cancelled": {"zh-CN": "已取消", "en": "cancelled"},
}


def say(key: str, language: Language, **values: str) -> str:
    """A bot sentence in ``language``.

    >>> say("ticket", "en", number="20261203000001", subject="E4", state="closed")
    'Ticket 20261203000001 (E4) is closed.'
    """
    return _SAY[key][language].format(**values)


def phone_in(text: str) -> str | None:
    """A phone number written in ``text`` (spaces and dashes kept out), if any.

    >>> phone_in("我的手机是 138-0013-8000"), phone_in("工单 20261203000001")
    ('13800138000', None)
    """
    without_numbers = TICKET_NUMBER.sub(" ", text)
    match = PHONE.search(without_numbers)
    return re.sub(r"[ -]", "", match.group(1)) if match else None


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(word in folded for word in words)


# --------------------------------------------------------------------------- rules


def transition(
    state: BotState, event: Event, *, settings: BotSettings
) -> tuple[BotState, tuple[Effect, ...]]:
    """The bot's state after ``event``, and what must happen (see the module docstring)."""
    if state.handed_over:
        return state, ()
    if isinstance(event, CustomerSaid):
        return _said(state, event.text, settings)
    if isinstance(event, Found):
        return _found(replace(state, asked=None), event.article, settings)
    return _looked_up(replace(state, asked=None), event.ticket, settings)


def _said(state: BotState, text: str, settings: BotSettings) -> tuple[BotState, tuple[Effect, ...]]:
    if settings.asks_for_agent(text):
        return replace(state, handed_over=True), (HandOver("asked"),)
    number_match = TICKET_NUMBER.search(text)
    number = number_match.group(1) if number_match else state.pending_number
    # A lookup asked for before (the bot asked for the number or the phone) goes on only
    # while the customer answers it; a new question starts afresh.
    wants_ticket = (
        number_match is not None
        or state.pending_number is not None
        or _mentions(text, TICKET_WORDS)
    )
    wants_appointment = state.wants_appointment or _mentions(text, APPOINTMENT_WORDS)
    if wants_ticket or (wants_appointment and number is not None):
        phone = phone_in(text) or state.phone
        if number is None:
            asking = replace(state, wants_ticket=True, wants_appointment=wants_appointment)
            return asking, (Reply(say("need_number", state.language), "prompt"),)
        if phone is None:
            asking = replace(
                state, pending_number=number, wants_ticket=True, wants_appointment=wants_appointment
            )
            return asking, (Reply(say("need_phone", state.language), "prompt"),)
        looking = replace(
            state,
            pending_number=number,
            wants_ticket=True,
            wants_appointment=wants_appointment,
            asked="ticket",
        )
        return looking, (LookUpTicket(number, phone),)
    return replace(state, asked="search"), (Search(text),)


def _failed(
    state: BotState, reply: Reply, settings: BotSettings
) -> tuple[BotState, tuple[Effect, ...]]:
    failed = replace(state, failed_turns=state.failed_turns + 1)
    if failed.failed_turns >= settings.max_failed_turns:
        return replace(failed, handed_over=True), (HandOver("failed_turns"),)
    return failed, (reply,)


def _found(
    state: BotState, article: Article | None, settings: BotSettings
) -> tuple[BotState, tuple[Effect, ...]]:
    if article is None or article.confidence < settings.threshold:
        return _failed(state, Reply(say("miss", state.language), "miss"), settings)
    body = article.body.strip()
    if len(body) > settings.max_answer_chars:
        body = body[: settings.max_answer_chars - 1].rstrip() + "…"
    text = f"{article.title}\n{body}{say('article_end', state.language)}"
    return replace(state, failed_turns=0), (Reply(text, "article", article_id=article.article_id),)


def _looked_up(
    state: BotState, ticket: TicketFacts | None, settings: BotSettings
) -> tuple[BotState, tuple[Effect, ...]]:
    number = state.pending_number or ""
    done = replace(state, pending_number=None, wants_ticket=False, wants_appointment=False)
    if ticket is None:
        return _failed(
            done, Reply(say("no_ticket", state.language, number=number), "miss"), settings
        )
    language = state.language
    words = STATE_WORDS.get(ticket.state, {}).get(language, ticket.state)
    text = say("ticket", language, number=ticket.number, subject=ticket.subject, state=words)
    if ticket.appointment_from and ticket.appointment_to:
        start, end = ticket.appointment_from, ticket.appointment_to
        text += say("appointment", language, start=start, end=end)
    elif state.wants_appointment:
        text += say("no_appointment", language)
    reply = Reply(text, "ticket", ticket_number=ticket.number)
    return replace(done, failed_turns=0), (reply,)
