"""Web chat with the first-line bot: the bot answers first, hands over on request, and the
agent who takes the chat from the routing engine reads the bot's turns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.bot import BotSettings
from hotline.config.validate import load_center
from hotline.store.models.chat import ChatMessage
from tests.integration.bot.test_bot_service import E4_BODY, E4_TITLE, publish
from tests.integration.live.conftest import SAMPLE, live_client
from tests.integration.live.test_chat import of, ready, settle, start, until


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    publish(db_session, E4_TITLE, E4_BODY)
    db_session.commit()
    sample = load_center(SAMPLE)
    center = sample.model_copy(update={"bot": BotSettings(queues=["chat"])})
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(("a004", ["agent"], "a004"),),
        center=center,
    ) as test_client:
        yield test_client


def test_the_bot_answers_then_hands_over_and_the_agent_reads_its_turns(
    client: TestClient, db_session: Session
) -> None:
    agent = ready(client, "a004")
    started = start(client)
    chat = started["conversation"]
    with (
        client.websocket_connect("/api/chat/ws", headers=agent) as desk,
        client.websocket_connect(f"/chat/ws?token={started['token']}&after=0") as customer,
    ):
        assert until(customer, of("state"))["phase"] == "bot"
        customer.send_json({"type": "message", "text": "热水器显示E4怎么办", "client_id": "k1"})
        answer = until(customer, of("message", sender="bot"))
        assert answer["seq"] == 2 and answer["body"].startswith(
            "燃气热水器显示E4故障\nE4是超温保护"
        )
        customer.send_json({"type": "message", "text": "还是不行，转人工", "client_id": "k2"})
        handed = until(customer, of("message", kind="handed_over"))
        assert handed["seq"] == 4 and handed["body"] == "asked"
        assert until(customer, of("state", phase="waiting"))
        # Only now does the routing engine offer the chat; the agent opens it with the bot's turns.
        until(desk, of("offer", conversation=chat))
        desk.send_json({"type": "accept", "conversation": chat})
        opened = until(desk, of("conversation", conversation=chat))
        assert [(m["sender"], m["kind"]) for m in opened["messages"]][:4] == [
            ("customer", "text"),
            ("bot", "text"),
            ("customer", "text"),
            ("system", "handed_over"),
        ]
        assert until(customer, of("message", kind="joined"))["agent_id"] == "a004"
        # The bot is quiet once an agent has the chat.
        customer.send_json({"type": "message", "text": "E4又出现了", "client_id": "k3"})
        assert until(desk, of("message", sender="customer"))["body"] == "E4又出现了"
    settle(client)
    senders = db_session.scalars(
        select(ChatMessage.sender)
        .where(ChatMessage.conversation_id == chat)
        .order_by(ChatMessage.seq)
    ).all()
    assert senders == ["customer", "bot", "customer", "system", "system", "customer"]


def test_a_chat_the_bot_resolves_never_reaches_the_engine_and_is_let_go(
    client: TestClient, db_session: Session
) -> None:
    started = start(client, language="en")
    chat = started["conversation"]
    with client.websocket_connect(f"/chat/ws?token={started['token']}&after=0") as customer:
        customer.send_json({"type": "message", "text": "My heater shows E4", "client_id": "k1"})
        # No English article: the bot says so in English and asks again.
        miss = until(customer, of("message", sender="bot"))
        assert miss["body"].startswith("Sorry, I found no answer")
        customer.send_json({"type": "message", "text": "热水器E4", "client_id": "k2"})
        assert until(customer, of("message", sender="bot"))["body"].startswith("燃气热水器")
        customer.send_json({"type": "end"})
        assert until(customer, of("state", phase="ended"))
        customer.send_json({"type": "survey", "score": 5})
        until(customer, of("state", rated=True))
    settle(client)
    app = cast(FastAPI, client.app)
    assert chat not in app.state.chat.active  # written, nobody watching: let go
    assert app.state.live.engine.position(chat) is None  # never queued
    senders = db_session.scalars(
        select(ChatMessage.sender)
        .where(ChatMessage.conversation_id == chat)
        .order_by(ChatMessage.seq)
    ).all()
    assert senders == ["customer", "bot", "customer", "bot", "system"]
