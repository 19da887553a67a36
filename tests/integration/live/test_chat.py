"""Web chat through the app: a customer's widget socket and an agent's desk socket, routed by
the live engine, with resume after a drop, attachments, the end, wrap-up and the survey."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from hotline.channels.chat.attachments import PNG_MAGIC
from hotline.crm import service as crm
from hotline.store.models.chat import ChatConversation, ChatMessage
from hotline.store.models.core import ContactEventRow
from tests.integration.live.conftest import live_client
from tests.integration.live.test_live_api import auth

FORM = {"name": "王小明", "phone": "13800138000", "topic": "洗衣机漏水", "language": "zh-CN"}


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(
            ("a001", ["agent"], "a001"),
            ("a004", ["agent"], "a004"),
            ("boss", ["supervisor"], None),
        ),
    ) as test_client:
        yield test_client


def until(ws: WebSocketTestSession, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next frame ``wanted`` accepts (others, e.g. queue positions, are skipped)."""
    for _ in range(200):
        frame: dict[str, Any] = ws.receive_json()
        if wanted(frame):
            return frame
    raise AssertionError("the frame never came")


def of(frame_type: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == frame_type and all(f.get(k) == v for k, v in fields.items())


def settle(client: TestClient) -> None:
    """Wait until the relay has committed what it accepted.

    The tests' sessions share one database connection, which two threads must not use at
    once (on PostgreSQL a savepoint of one would vanish under the other): read the database
    only when the relay's writer is idle. A server gives each its own connection.
    """
    relay = getattr(client.app.state, "chat", None)  # type: ignore[attr-defined]
    if relay is not None:
        client.portal.call(relay.settled)  # type: ignore[union-attr]


def start(client: TestClient, **changes: Any) -> dict[str, Any]:
    answer = client.post("/chat/api/conversations", json={**FORM, **changes})
    assert answer.status_code == 201, answer.text
    started: dict[str, Any] = answer.json()
    return started


def ready(client: TestClient, agent: str) -> dict[str, str]:
    headers = auth(client, agent)
    answer = client.post(
        f"/api/live/agents/{agent}/state", json={"state": "ready"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return headers


def test_a_chat_from_the_widget_to_the_agent_and_back_with_a_dropped_connection(
    client: TestClient, db_session: Session
) -> None:
    # The customer is on file from an earlier call: the chat's screen pop finds them by phone.
    known = crm.create_customer(db_session, name="王小明", phones=["+86 138 0013 8000"], actor="t")
    db_session.commit()
    # Only a004 of the chat agents is ready: the engine offers the chat to them.
    agent = ready(client, "a004")
    started = start(client)
    chat = started["conversation"]
    customer_url = f"/chat/ws?token={started['token']}&after=0"
    with (
        client.websocket_connect("/api/chat/ws", headers=agent) as desk,
        client.websocket_connect(customer_url) as customer,
    ):
        assert until(customer, of("state"))["phase"] == "waiting"
        customer.send_json({"type": "message", "text": "你好，洗衣机漏水", "client_id": "k1"})
        assert until(customer, of("ack", client_id="k1"))["seq"] == 1
        offer = until(desk, of("offer", conversation=chat))
        assert offer["customer_name"] == "王小明" and offer["topic"] == "洗衣机漏水"
        desk.send_json({"type": "accept", "conversation": chat})
        opened = until(desk, of("conversation", conversation=chat))
        assert [m["body"] for m in opened["messages"]][:1] == ["你好，洗衣机漏水"]
        settle(client)
        pop = client.get(f"/api/live/agents/a004/contacts/{chat}/screen-pop", headers=agent).json()
        assert [c["id"] for c in pop["customers"]] == [known.id]
        assert pop["attached"]["subject"] == "洗衣机漏水"
        joined = until(customer, of("message", kind="joined"))
        assert joined["seq"] == 2 and joined["agent_id"] == "a004"
        customer.send_json({"type": "typing"})
        assert until(desk, of("typing"))["sender"] == "customer"
        desk.send_json(
            {"type": "message", "conversation": chat, "text": "请问型号？", "client_id": "d1"}
        )
        assert until(customer, of("message", sender="agent"))["body"] == "请问型号？"
        until(desk, of("ack", client_id="d1"))

    # The customer's network drops; the agent writes twice meanwhile.
    with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
        until(desk, of("conversation", conversation=chat))
        for n, text in enumerate(("还在吗？", "我等您回复。")):
            desk.send_json(
                {"type": "message", "conversation": chat, "text": text, "client_id": f"d{n + 2}"}
            )
            until(desk, of("ack", client_id=f"d{n + 2}"))
        # The widget reconnects from the last number it saw (3) and re-sends k1, unacknowledged
        # in its view: the server acknowledges it again as number 1 and does not post it twice.
        with client.websocket_connect(f"/chat/ws?token={started['token']}&after=3") as customer:
            missed = [until(customer, of("message")) for _ in range(2)]
            assert [(m["seq"], m["body"]) for m in missed] == [(4, "还在吗？"), (5, "我等您回复。")]
            customer.send_json({"type": "message", "text": "你好，洗衣机漏水", "client_id": "k1"})
            assert until(customer, of("ack", client_id="k1"))["seq"] == 1
            # A file: refused when its type is not allowed or its content lies; a PNG is kept.
            exe = base64.b64encode(b"MZ\x90\x00").decode()
            customer.send_json(
                {
                    "type": "attachment",
                    "name": "a.exe",
                    "content_type": "application/x-msdownload",
                    "data": exe,
                }
            )
            assert "not accepted" in until(customer, of("refused", field="attachment"))["rule"]
            fake = base64.b64encode(b"MZ not a png").decode()
            customer.send_json(
                {"type": "attachment", "name": "p.png", "content_type": "image/png", "data": fake}
            )
            assert "content is not image/png" in until(customer, of("refused"))["rule"]
            png = PNG_MAGIC + b"\x00" * 64
            customer.send_json(
                {
                    "type": "attachment",
                    "name": "leak.png",
                    "content_type": "image/png",
                    "data": base64.b64encode(png).decode(),
                    "client_id": "k2",
                }
            )
            sent = until(desk, of("message", kind="attachment"))
            assert sent["seq"] == 6 and sent["attachment"]["size"] == len(png)
            settle(client)
            download = client.get(
                f"/api/chat/attachments/{sent['attachment']['id']}", headers=agent
            )
            assert download.status_code == 200 and download.content == png
            assert download.headers["content-disposition"].startswith("attachment;")
            other = client.get(
                f"/api/chat/attachments/{sent['attachment']['id']}", headers=auth(client, "a001")
            )
            assert other.status_code == 403
            # The customer ends the chat, the agent wraps up, the customer rates it.
            customer.send_json({"type": "end"})
            until(customer, of("state", phase="ended"))
            until(desk, of("state", phase="ended"))
            desk.send_json({"type": "message", "conversation": chat, "text": "late"})
            assert until(desk, of("refused"))["rule"] == "this chat has ended"
            desk.send_json({"type": "wrap_up", "conversation": chat, "disposition": "resolved"})
            until(desk, of("wrapped_up", conversation=chat))
            customer.send_json({"type": "survey", "score": 5})
            until(customer, of("state", rated=True))
            customer.send_json({"type": "survey", "score": 1})
            assert until(customer, of("refused"))["rule"] == "this chat has already been rated"

    settle(client)
    transcript = client.get(f"/api/chat/conversations/{chat}", headers=agent).json()
    assert [m["seq"] for m in transcript["messages"]] == [1, 2, 3, 4, 5, 6, 7]
    assert transcript["survey_score"] == 5 and transcript["phase"] == "ended"
    assert (
        client.get(f"/api/chat/conversations/{chat}", headers=auth(client, "a001")).status_code
        == 403
    )
    assert (
        client.get(f"/api/chat/conversations/{chat}", headers=auth(client, "boss")).status_code
        == 200
    )
    client.__exit__(None, None, None)  # the app stops: the event log is written
    kinds = db_session.scalars(
        select(ContactEventRow.kind)
        .where(ContactEventRow.contact_id == chat)
        .order_by(ContactEventRow.seq)
    ).all()
    for kind in ("queued", "offered", "answered", "disconnected", "survey_answered"):
        assert kind in kinds, kinds
    channels = set(
        db_session.scalars(
            select(ContactEventRow.channel).where(ContactEventRow.contact_id == chat)
        ).all()
    )
    assert "chat" in channels
    stored = db_session.scalars(
        select(ChatMessage.seq).where(ChatMessage.conversation_id == chat)
    ).all()
    assert sorted(stored) == [1, 2, 3, 4, 5, 6, 7]
    assert db_session.get(ChatConversation, chat).survey_score == 5  # type: ignore[union-attr]


def test_the_widget_is_refused_off_its_allowed_sites_and_without_a_token(
    client: TestClient,
) -> None:
    ready(client, "a004")
    foreign = {"origin": "https://evil.example"}
    refused = client.post("/chat/api/conversations", json=FORM, headers=foreign)
    assert refused.status_code == 403 and "chat.allowed_origins" in refused.json()["message"]
    allowed = {"origin": "https://www.example-appliances.cn"}
    preflight = client.options("/chat/api/conversations", headers=allowed)
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == allowed["origin"]
    answer = client.post("/chat/api/conversations", json=FORM, headers=allowed)
    assert answer.status_code == 201
    assert answer.headers["access-control-allow-origin"] == allowed["origin"]
    token = answer.json()["token"]
    for url, headers in (
        (f"/chat/ws?token={token}", foreign),
        ("/chat/ws?token=forged.1.x", allowed),
        (f"/chat/ws?token={token[:-2]}xx", allowed),
    ):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            client.websocket_connect(url, headers=headers),
        ):
            pass
        assert closed.value.code == 4403
    missing = client.post("/chat/api/conversations", json={**FORM, "phone": None})
    assert missing.status_code == 422
    assert "phone number or an e-mail" in missing.json()["problems"][0]["problem"]


def test_one_address_may_start_only_so_many_chats_an_hour(client: TestClient) -> None:
    limit = 20  # chat.conversations_per_hour in the sample center
    for _ in range(limit):
        start(client)
    refused = client.post("/chat/api/conversations", json=FORM)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_a_supervisor_watches_a_chat_read_only(client: TestClient) -> None:
    agent = ready(client, "a004")
    started = start(client)
    chat = started["conversation"]
    boss = auth(client, "boss")
    with (
        client.websocket_connect("/api/chat/ws", headers=agent) as desk,
        client.websocket_connect(f"/chat/ws?token={started['token']}") as customer,
        client.websocket_connect("/api/chat/ws", headers=boss) as watcher,
    ):
        until(desk, of("offer", conversation=chat))
        desk.send_json({"type": "accept", "conversation": chat})
        until(desk, of("conversation", conversation=chat))
        watcher.send_json({"type": "watch", "conversation": chat})
        until(watcher, of("conversation", conversation=chat))
        customer.send_json({"type": "message", "text": "在吗", "client_id": "k1"})
        assert until(watcher, of("message", sender="customer"))["body"] == "在吗"
        watcher.send_json({"type": "message", "conversation": chat, "text": "I am the boss"})
        assert until(watcher, of("refused"))["rule"] == "watching is read-only"
