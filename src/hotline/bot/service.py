"""The bot's service: the knowledge it answers from, the lookups it makes, one turn end to end.

The pure rules (:mod:`hotline.bot.dialogue`, :mod:`hotline.bot.retrieval`) decide; this
module feeds them what they ask for — the published knowledge articles (through
``kb.service``) and a caller's ticket (through ``tickets.service``, which checks the number
against the customer's phone) — and returns what the bot says. The web chat relay runs it for
every customer message while a conversation is with the bot; ``bench/bot.py`` runs it over
the labelled questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hotline.bot.dialogue import (
    Article,
    BotState,
    CustomerSaid,
    Effect,
    Found,
    HandOver,
    LookUpTicket,
    Reply,
    Search,
    TicketFacts,
    TicketLookedUp,
    transition,
)
from hotline.bot.retrieval import Document, Index
from hotline.config.bot import BotSettings
from hotline.kb import service as kb
from hotline.tickets import service as tickets


@dataclass(frozen=True)
class Knowledge:
    """The published articles, indexed for the bot (build with :func:`load_knowledge`)."""

    index: Index
    articles: dict[int, kb.PublishedArticle]

    @classmethod
    def of(cls, articles: Sequence[kb.PublishedArticle]) -> Knowledge:
        """Index ``articles`` with the knowledge base's own search terms."""
        documents = [
            Document(a.article_id, kb.search_terms(a.title), kb.search_terms(a.body))
            for a in articles
        ]
        return cls(Index.build(documents), {a.article_id: a for a in articles})

    def answer(self, text: str) -> Article | None:
        """The best article for the question ``text``, with the bot's confidence in it."""
        best = self.index.best(kb.search_terms(text))
        if best is None:
            return None
        article = self.articles[best.article_id]
        return Article(article.article_id, article.title, article.body, best.confidence)


def load_knowledge(session: Session, *, now: datetime | None = None) -> Knowledge:
    """The published, currently valid articles, indexed (a few ms for hundreds of articles)."""
    return Knowledge.of(kb.published_articles(session, now=now))


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else None


def look_up_ticket(
    session: Session, *, number: str, phone: str, time_zone: str
) -> TicketFacts | None:
    """Ticket ``number`` as its customer may hear it, if ``phone`` is their phone."""
    ticket = tickets.ticket_of_caller(session, number=number, phone=phone)
    if ticket is None:
        return None
    zone = ZoneInfo(time_zone)
    return TicketFacts(
        number=ticket.number,
        state=ticket.state,
        subject=ticket.subject,
        appointment_from=_local(ticket.appointment_from, zone),
        appointment_to=_local(ticket.appointment_to, zone),
    )


def respond(
    state: BotState,
    text: str,
    *,
    session: Session,
    knowledge: Knowledge,
    settings: BotSettings,
    time_zone: str,
) -> tuple[BotState, list[Reply | HandOver]]:
    """One customer turn: the bot's state after ``text`` and what it says or does.

    Example: ``respond(BotState(), "热水器显示E4", session=s, knowledge=k, settings=b,
    time_zone="Asia/Shanghai")`` → ``(state, [Reply(text=..., kind='article', ...)])``.
    """
    state, effects = transition(state, CustomerSaid(text), settings=settings)
    done: list[Reply | HandOver] = []
    pending: list[Effect] = list(effects)
    while pending:
        effect = pending.pop(0)
        if isinstance(effect, Search):
            state, more = transition(state, Found(knowledge.answer(effect.text)), settings=settings)
            pending.extend(more)
        elif isinstance(effect, LookUpTicket):
            facts = look_up_ticket(
                session, number=effect.number, phone=effect.phone, time_zone=time_zone
            )
            state, more = transition(state, TicketLookedUp(facts), settings=settings)
            pending.extend(more)
        else:
            done.append(effect)
    return state, done
