"""Benchmark: the first-line bot's answer precision and containment on labelled conversations.

The labelled set (``tests/data/bot/questions.yaml``, 105 conversations, zh-CN and en) is
written against the sample center's knowledge articles and tickets
(``tests/data/bot/knowledge.yaml``): questions an article answers (some with traditional
characters, colloquial wording, or a vague first try then a rephrase), ticket status and
appointment lookups (with the right phone, and with a wrong one, which must not be answered),
requests for a person, and questions no article answers (the bot must hand those over).

The articles are published and the tickets opened in a fresh SQLite database through the
services; then a simulated customer talks to the bot through :func:`hotline.bot.service.respond`
— the code the web chat runs: after a right answer the customer leaves content (resolved
without an agent); after a wrong one they ask for an agent; when the bot asks again (no
answer found, or it needs the ticket number or phone) they write their next line, or repeat
the last.

Figures: ``precision`` = answers that were right ÷ answers given (article and ticket
answers); ``containment`` = conversations resolved without an agent ÷ all conversations;
``handover_right`` = of the conversations that needed a person, the share the bot handed over
without a wrong answer first. The peer, in the same run, is the knowledge base's existing
keyword search as a bot: the same dialogue rules, answering with ``kb.service.search``'s top
hit whenever there is one (no confidence); ``precision_ratio`` and ``containment_ratio`` are
the bot's figure ÷ the peer's. ``sweep`` gives precision and containment at other thresholds
(the trade the ``threshold`` setting makes). Prints one JSON line.

    .venv/bin/python bench/bot.py [--quick] [--threshold T]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from hotline.bot import service as bot
from hotline.bot.dialogue import Article, BotState, HandOver, Reply
from hotline.config.bot import BotSettings
from hotline.crm import service as crm
from hotline.kb import service as kb
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.tickets import service as tickets

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "bot"
TIME_ZONE = "Asia/Shanghai"
MAX_TURNS = 6
SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7)
ASK_AGENT = {"zh-CN": "不对，转人工", "en": "That is not it, agent please"}


def seed(session: Session, knowledge: dict[str, Any]) -> tuple[dict[int, str], dict[str, str]]:
    """Publish the articles and open the tickets; (article id → key, ticket key → number)."""
    keys: dict[int, str] = {}
    for item in knowledge["articles"]:
        article = kb.create_article(
            session,
            title=item["title"],
            body=item["body"],
            author="kb_author",
            language=item["language"],
        )
        kb.submit_for_review(session, article_id=article.id, actor="kb_author")
        kb.review(session, article_id=article.id, reviewer="kb_reviewer", approve=True)
        keys[article.id] = item["key"]
    numbers: dict[str, str] = {}
    for item in knowledge["tickets"]:
        customer = crm.create_customer(
            session, name=item["customer"]["name"], phones=[item["customer"]["phone"]]
        )
        ticket = tickets.create_ticket(
            session, type="repair", subject=item["subject"], actor="bench", customer_id=customer.id
        )
        ticket.state = item["state"]  # the labelled state, not a workflow under test
        if "appointment" in item:
            start, end = (datetime.fromisoformat(t) for t in item["appointment"])
            ticket.appointment_from, ticket.appointment_to = start, end
        numbers[item["key"]] = ticket.number
    session.flush()
    return keys, numbers


class KeywordSearchBot:
    """The peer: the knowledge base's keyword search, its top hit taken as the answer."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def answer(self, text: str) -> Article | None:
        hits = kb.search(self.session, query=text, limit=1)
        if not hits:
            return None
        body = kb.published_bodies(self.session, article_ids=[hits[0].article_id])
        return Article(hits[0].article_id, hits[0].title, body[hits[0].article_id], 1.0)


@dataclass
class Outcome:
    """One conversation's end: the answers given (right or not) and whether it was handed over."""

    right: int = 0
    wrong: int = 0
    handed_over: bool = False
    contained: bool = False


def converse(
    conversation: dict[str, Any],
    *,
    session: Session,
    knowledge: Any,
    settings: BotSettings,
    keys: dict[int, str],
    numbers: dict[str, str],
) -> Outcome:
    """Play one labelled conversation against a bot (see the module docstring)."""
    expect = conversation["expect"]
    wanted = set(expect) if isinstance(expect, list) else {expect}
    lines = [line.format(**numbers) for line in conversation["say"]]
    state = BotState.start(language=conversation["lang"], phone=conversation.get("phone"))
    outcome = Outcome()
    turn = 0
    text = lines[0]
    for _ in range(MAX_TURNS):
        state, said = bot.respond(
            state,
            text,
            session=session,
            knowledge=knowledge,
            settings=settings,
            time_zone=TIME_ZONE,
        )
        if any(isinstance(effect, HandOver) for effect in said):
            outcome.handed_over = True
            return outcome
        reply = said[-1]
        assert isinstance(reply, Reply)
        if reply.kind in ("article", "ticket"):
            if reply.kind == "article" and reply.article_id is not None:
                given = keys[reply.article_id]
            else:
                given = next(
                    (f"ticket:{k}" for k, n in numbers.items() if n == reply.ticket_number), ""
                )
            if given in wanted:
                outcome.right += 1
                outcome.contained = True
                return outcome
            outcome.wrong += 1
            text = ASK_AGENT[state.language]
            continue
        turn = min(turn + 1, len(lines) - 1)
        text = lines[turn]
    return outcome  # the customer gave up: neither resolved nor handed over


def figures(outcomes: list[tuple[dict[str, Any], Outcome]]) -> dict[str, Any]:
    """Precision, containment and the handover share of one bot's outcomes."""
    right = sum(o.right for _, o in outcomes)
    given = right + sum(o.wrong for _, o in outcomes)
    needs_person = [o for c, o in outcomes if c["expect"] == "handover"]
    return {
        "precision": round(right / given, 4) if given else 0.0,
        "containment": round(sum(o.contained for _, o in outcomes) / len(outcomes), 4),
        "answers": given,
        "handover_right": round(
            sum(o.handed_over and not o.wrong for o in needs_person) / len(needs_person), 4
        )
        if needs_person
        else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the same set (it runs in seconds)")
    parser.add_argument("--threshold", type=float, default=None, help="the bot's threshold")
    args = parser.parse_args()
    knowledge_data = yaml.safe_load((DATA / "knowledge.yaml").read_text(encoding="utf-8"))
    conversations = yaml.safe_load((DATA / "questions.yaml").read_text(encoding="utf-8"))[
        "conversations"
    ]
    settings = BotSettings(queues=["chat"])
    if args.threshold is not None:
        settings = settings.model_copy(update={"threshold": args.threshold})
    with tempfile.TemporaryDirectory() as home:
        engine = make_engine(f"sqlite:///{Path(home) / 'bot.db'}")
        upgrade(engine)
        factory = make_session_factory(engine)
        with factory() as session:
            keys, numbers = seed(session, knowledge_data)
            session.commit()
            started = time.perf_counter()
            indexed = bot.load_knowledge(session)
            peers = KeywordSearchBot(session)

            def play(knowledge: Any, rules: BotSettings) -> list[tuple[dict[str, Any], Outcome]]:
                return [
                    (
                        c,
                        converse(
                            c,
                            session=session,
                            knowledge=knowledge,
                            settings=rules,
                            keys=keys,
                            numbers=numbers,
                        ),
                    )
                    for c in conversations
                ]

            ours = play(indexed, settings)
            elapsed = time.perf_counter() - started
            sweep = []
            for threshold in SWEEP:
                swept = figures(play(indexed, settings.model_copy(update={"threshold": threshold})))
                sweep.append(
                    {
                        "threshold": threshold,
                        "precision": swept["precision"],
                        "containment": swept["containment"],
                    }
                )
            theirs = play(peers, settings)
        engine.dispose()
    bot_figures, peer_figures = figures(ours), figures(theirs)
    for conversation, outcome in ours:
        if outcome.wrong or (conversation["expect"] != "handover" and not outcome.contained):
            print(f"  miss {conversation['id']}: {conversation['say'][0]} → {outcome}")
    print(
        json.dumps(
            {
                "bench": "bot",
                "questions": len(conversations),
                "articles": len(knowledge_data["articles"]),
                "threshold": settings.threshold,
                **bot_figures,
                "ms_per_conversation": round(elapsed * 1000 / len(conversations), 2),
                "peer": "kb keyword search top-1",
                "peer_precision": peer_figures["precision"],
                "peer_containment": peer_figures["containment"],
                "peer_handover_right": peer_figures["handover_right"],
                "precision_ratio": round(bot_figures["precision"] / peer_figures["precision"], 3)
                if peer_figures["precision"]
                else None,
                "containment_ratio": round(
                    bot_figures["containment"] / peer_figures["containment"], 3
                )
                if peer_figures["containment"]
                else None,
                "sweep": sweep,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
