"""Chat → callback as one case: a chat customer asks to be called back ("请回电"); a callback is
scheduled through the live driver's callback path in the chat's callback queue, for the chat
(``callback_for``: the conversation's id), and the chat says so; when the callback reaches an
agent, the desk's screen pop shows the chat so far, and the reports count the chat and its
callback as one case (the callback is not the chat's repeat contact in FCR). A customer with no
number to call is asked for one; a WeChat follower linked to a customer is called on that
customer's mobile."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.config.validate import check_text
from hotline.crm import service as crm
from tests.integration.live.conftest import SAMPLE
from tests.integration.live.test_chat import of, ready, settle, start, until
from tests.integration.live.test_live_api import auth
from tests.integration.live.test_wechat import (
    FOLLOWER,
    MessageApiStandIn,
    _sent,
    client,
    configure,
    message_xml,
    push,
)

__all__ = ["client"]


async def _tick(driver: Any) -> None:
    await asyncio.sleep(0.01)  # the loop runs a callback that fell due
    await driver.tick()


def _callback_offer(client: TestClient, agent: dict[str, str]) -> dict[str, Any]:
    """The agent's desk once the callback (queued as soon as it is due) is offered."""
    driver = client.app.state.live  # type: ignore[attr-defined]
    for _ in range(200):
        desk: dict[str, Any] = client.get("/api/live/agents/a004", headers=agent).json()
        offer = desk.get("offer")
        if offer is not None and offer["contact_id"].endswith("-cb"):
            return desk
        client.portal.call(_tick, driver)  # type: ignore[union-attr]
    raise AssertionError("the callback was never offered")


async def _promised(driver: Any, chat: str) -> list[str | None]:
    """The numbers of the callbacks promised for ``chat``, waiting or already queued (read on
    the loop, where the callback moves from one to the other)."""
    waiting = [c["customer"] for c in driver.desk.callbacks.values() if c["for_contact"] == chat]
    queued = [a["customer"] for a in driver.attached.values() if a.get("callback_for") == chat]
    return waiting + queued


async def _flush(driver: Any) -> None:
    await driver.flush()


def test_a_chat_customer_asks_for_a_callback_and_the_agent_calling_sees_the_chat(
    client: TestClient,
) -> None:
    agent = ready(client, "a004")
    started = start(client, phone="13800138000", topic="洗衣机漏水")
    chat = started["conversation"]
    with (
        client.websocket_connect("/api/chat/ws", headers=agent) as desk,
        client.websocket_connect(f"/chat/ws?token={started['token']}&after=0") as customer,
    ):
        until(desk, of("offer", conversation=chat))
        desk.send_json({"type": "accept", "conversation": chat})
        until(desk, of("conversation", conversation=chat))
        customer.send_json({"type": "message", "text": "洗衣机一直漏水", "client_id": "c1"})
        until(customer, of("ack", client_id="c1"))
        customer.send_json({"type": "message", "text": "请回电！", "client_id": "c2"})
        noted = until(customer, of("message", kind="callback"))
        assert noted["sender"] == "system" and "8000" in noted["body"]
        assert "13800138000" not in noted["body"]  # the number is shown masked
        assert until(desk, of("message", kind="callback"))["body"] == noted["body"]
        desk.send_json({"type": "end", "conversation": chat})
        until(desk, of("state", conversation=chat, phase="ended"))
        desk.send_json({"type": "wrap_up", "conversation": chat})
        until(desk, of("wrapped_up", conversation=chat))
    settle(client)

    # The callback reaches the agent: one case — its screen pop carries the chat.
    view = _callback_offer(client, agent)
    callback = view["offer"]["contact_id"]
    assert view["offer"]["attached"]["callback_for"] == chat
    assert view["offer"]["attached"]["customer"] == "13800138000"
    base = f"/api/live/agents/a004/contacts/{callback}"
    assert client.post(f"{base}/answer", headers=agent).status_code == 200
    pop = client.get(f"{base}/screen-pop", headers=agent).json()
    said = [(m["sender"], m["body"]) for m in pop["case_chat"] if m["kind"] == "text"]
    assert said == [("customer", "洗衣机一直漏水"), ("customer", "请回电！")]
    assert [m["kind"] for m in pop["case_chat"]][-2:] == ["callback", "ended"]

    # The callback done, the reports count one case: the chat's; the callback continues it.
    assert client.post(f"{base}/hangup", headers=agent).status_code == 200
    done = client.post(f"{base}/wrap-up", json={"disposition": "info_given"}, headers=agent)
    assert done.status_code == 200, done.text
    driver = client.app.state.live  # type: ignore[attr-defined]
    client.portal.call(_flush, driver)  # type: ignore[union-attr]
    settle(client)
    report = client.get(
        "/api/reports/kpis",
        params={"interval": "day", "by": "channel", "source": "live"},
        headers=auth(client, "root"),
    )
    assert report.status_code == 200, report.text
    rows = {r["channel"]: r for r in report.json()["rows"]}
    assert {c: (r["offered"], r["answered"], r["cases"]) for c, r in rows.items()} == {
        "chat": (1, 1, 1),
        "callback": (1, 1, 0),
    }
    assert rows["chat"]["fcr"] == 1.0  # resolved in its case: the callback is no repeat


def test_a_wechat_follower_is_called_on_their_linked_customers_mobile(
    client: TestClient, db_session: Session
) -> None:
    known = crm.create_customer(db_session, name="李雷", phones=["+86 139 0000 2222"], actor="t")
    db_session.commit()
    driver = client.app.state.live  # type: ignore[attr-defined]
    with MessageApiStandIn() as wechat_api:
        configure(client, wechat_api.base)
        agent = ready(client, "a004")
        with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
            assert push(client, message_xml(FOLLOWER, 5001, "回电")).text == "success"
            chat = until(desk, of("offer"))["conversation"]
            # Nobody linked the follower yet: no number to call; they are asked for one.
            desk.send_json({"type": "accept", "conversation": chat})
            opened = until(desk, of("conversation", conversation=chat))
            [asked] = [m for m in opened["messages"] if m["kind"] == "callback"]
            assert "phone number" in asked["body"]
            assert client.portal.call(_promised, driver, chat) == []  # type: ignore[union-attr]
            settle(client)
            url = f"/api/live/agents/a004/contacts/{chat}/identity"
            linked = client.put(url, json={"customer_id": known.id}, headers=agent)
            assert linked.status_code == 200
            assert push(client, message_xml(FOLLOWER, 5002, "Call me back")).text == "success"
            noted = until(desk, of("message", kind="callback"))
            assert "2222" in noted["body"]
            promised = client.portal.call(_promised, driver, chat)  # type: ignore[union-attr]
            assert promised == ["+8613900002222"]
            bridge = client.app.state.wechat  # type: ignore[attr-defined]
            client.portal.call(_sent, bridge)  # type: ignore[union-attr]
            # Both answers reached the follower on WeChat.
            assert [m["text"]["content"] for m in wechat_api.sent] == [
                asked["body"],
                noted["body"],
            ]


def test_a_callback_queue_must_be_a_voice_queue_of_the_center() -> None:
    sample = SAMPLE.read_text(encoding="utf-8")
    assert check_text(sample).config is not None
    for queue, rule in (("nowhere", "not one of the center's queues"), ("chat", "voice")):
        text = sample.replace("callback_queue: installation", f"callback_queue: {queue}")
        problems = check_text(text).errors
        assert any(
            p.field == "chat.callback_queue" and rule in p.rule and p.line is not None
            for p in problems
        ), problems


def test_the_agent_offers_a_callback_from_the_chat_desk(client: TestClient) -> None:
    agent = ready(client, "a004")
    chat = start(client, phone="13800138000")["conversation"]
    driver = client.app.state.live  # type: ignore[attr-defined]
    with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
        until(desk, of("offer", conversation=chat))
        desk.send_json({"type": "callback", "conversation": chat})
        refused = until(desk, of("refused", conversation=chat))
        assert refused["field"] == "callback" and "not in this conversation" in refused["rule"]
        desk.send_json({"type": "accept", "conversation": chat})
        until(desk, of("conversation", conversation=chat))
        desk.send_json({"type": "callback", "conversation": chat})
        assert "8000" in until(desk, of("message", kind="callback"))["body"]
        promised = client.portal.call(_promised, driver, chat)  # type: ignore[union-attr]
        assert promised == ["13800138000"]
        # Asked again (by the agent or the customer): one callback per chat.
        desk.send_json({"type": "callback", "conversation": chat})
        assert "already" in until(desk, of("message", kind="callback"))["body"]
        assert client.portal.call(_promised, driver, chat) == promised  # type: ignore[union-attr]
