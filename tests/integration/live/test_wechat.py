"""WeChat through the app: pushes built to the published protocol (signature, safe mode's
AES-256-CBC, XML), a follower's messages as a chat routed by the live engine to the chat desk,
and the agent's replies through a stand-in for WeChat's message API on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.wechat.protocol import encrypt, signature
from hotline.store.models.chat import ChatMessage
from hotline.store.models.wechat import WeChatAccount, WeChatPush
from tests.integration.live.conftest import live_client
from tests.integration.live.test_chat import of, ready, settle, until
from tests.integration.live.test_live_api import auth

APP_ID = "wx5823bf96d3bd56c7"
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
SECRET = "app-secret-1"
FOLLOWER = "oLVPpjqs9BhvzwPj5A-vTYAX3GLc"
BLOCKED = "oBLOCKEDfollower000000000000"


class MessageApiStandIn:
    """WeChat's token, customer-service message and temporary-media APIs, as published, on
    127.0.0.1: ``media`` holds what ``media/get`` hands out (media id → content type, bytes),
    ``uploaded`` what ``media/upload`` received (media id, file name, content type, bytes)."""

    def __init__(self) -> None:
        self.tokens_issued = 0
        self.sent: list[dict[str, Any]] = []
        self.token = ""
        self.media: dict[str, tuple[str, bytes]] = {}
        self.uploaded: list[tuple[str, str, str, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _file(self, content_type: str, data: bytes) -> None:
                self.send_response(200)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/media/get":
                    found = outer.media.get(query.get("media_id", ""))
                    if query.get("access_token") != outer.token:
                        self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                    elif found is None:
                        self._answer({"errcode": 40007, "errmsg": "invalid media_id"})
                    else:
                        self._file(*found)
                elif url.path != "/cgi-bin/token" or query.get("grant_type") != "client_credential":
                    self._answer({"errcode": 40013, "errmsg": "invalid request"})
                elif (query.get("appid"), query.get("secret")) != (APP_ID, SECRET):
                    self._answer({"errcode": 40125, "errmsg": "invalid appsecret"})
                else:
                    outer.tokens_issued += 1
                    outer.token = f"ACCESS-{outer.tokens_issued}"
                    self._answer({"access_token": outer.token, "expires_in": 7200})

            def do_POST(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                raw = self.rfile.read(int(self.headers["content-length"]))
                if url.path == "/cgi-bin/media/upload":
                    self._upload(query, raw)
                    return
                body = json.loads(raw)
                if url.path != "/cgi-bin/message/custom/send":
                    self._answer({"errcode": 40013, "errmsg": "invalid request"})
                elif query.get("access_token") != outer.token:
                    self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                elif body.get("touser") == BLOCKED:
                    self._answer({"errcode": 45047, "errmsg": "out of response count limit"})
                else:
                    outer.sent.append(body)
                    self._answer({"errcode": 0, "errmsg": "ok"})

            def _upload(self, query: dict[str, str], raw: bytes) -> None:
                """The multipart field ``media`` of an upload of ``type=image``."""
                head = f"content-type: {self.headers['content-type']}\r\n\r\n".encode()
                parts = BytesParser(policy=default).parsebytes(head + raw).iter_parts()
                media = [p for p in parts if p.get_param("name", header="content-disposition")]
                if query.get("access_token") != outer.token:
                    self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                elif query.get("type") != "image" or len(media) != 1:
                    self._answer({"errcode": 40004, "errmsg": "invalid media type"})
                else:
                    part = media[0]
                    media_id = f"UPLOADED-{len(outer.uploaded) + 1}"
                    data = part.get_payload(decode=True)
                    assert isinstance(data, bytes)
                    name = part.get_filename() or ""
                    outer.uploaded.append((media_id, name, part.get_content_type(), data))
                    self._answer({"type": "image", "media_id": media_id, "created_at": 1})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> MessageApiStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(("a004", ["agent"], "a004"), ("root", ["admin"], None)),
    ) as test_client:
        yield test_client


def message_xml(open_id: str, msg_id: int, content: str, *, at: int | None = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        f"<FromUserName><![CDATA[{open_id}]]></FromUserName>"
        f"<CreateTime>{at or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def push(
    client: TestClient,
    xml: str,
    *,
    app_id: str = APP_ID,
    token: str = TOKEN,
    timestamp: int | None = None,
    sealed_for: str = APP_ID,
) -> Any:
    """POST ``xml`` as WeChat does in safe mode: encrypted, signed twice.

    The relay's writer is let finish first: the test's sessions share one connection (see
    ``settle``), and the push reads the account on it.
    """
    settle(client)
    stamp, nonce = str(timestamp or int(time.time())), "1372623149"
    sealed = encrypt(xml, encoding_aes_key=AES_KEY, app_id=sealed_for, random16=b"0123456789abcdef")
    query = {
        "signature": signature(token, stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
        "openid": FOLLOWER,
        "encrypt_type": "aes",
        "msg_signature": signature(token, stamp, nonce, sealed),
    }
    body = (
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        f"<Encrypt><![CDATA[{sealed}]]></Encrypt></xml>"
    )
    return client.post(f"/wechat/push/{app_id}", params=query, content=body.encode())


def configure(client: TestClient, api_base: str) -> None:
    admin = auth(client, "root")
    settings = {
        "app_id": APP_ID,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "app_secret": SECRET,
        "queue": "chat",
        "api_base": api_base,
    }
    saved = client.put("/api/wechat/accounts", json=settings, headers=admin)
    assert saved.status_code == 200, saved.text
    shown = saved.json()
    assert shown["safe_mode"] and shown["app_secret_set"] and "app_secret" not in shown
    # A queue that is not a chat queue of the center is refused before it takes effect.
    wrong = client.put(
        "/api/wechat/accounts", json={**settings, "queue": "installation"}, headers=admin
    )
    assert wrong.status_code == 422 and "queue" in wrong.text


def test_a_follower_chats_with_an_agent_at_the_desk_through_wechat(
    client: TestClient, db_session: Session
) -> None:
    with MessageApiStandIn() as wechat_api:
        configure(client, wechat_api.base)
        stored = db_session.get(WeChatAccount, APP_ID)
        assert stored is not None and SECRET not in stored.app_secret and TOKEN not in stored.token
        # WeChat checks the URL first: the signed echostr comes back.
        stamp = str(int(time.time()))
        check = {"signature": signature(TOKEN, stamp, "n1"), "timestamp": stamp, "nonce": "n1"}
        echoed = client.get(f"/wechat/push/{APP_ID}", params={**check, "echostr": "e-42"})
        assert (echoed.status_code, echoed.text) == (200, "e-42")

        agent = ready(client, "a004")
        with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
            answer = push(client, message_xml(FOLLOWER, 1001, "洗衣机不脱水，怎么办？"))
            assert (answer.status_code, answer.text) == (200, "success")
            # WeChat heard nothing within 5 s and retries: answered, not posted twice.
            assert push(client, message_xml(FOLLOWER, 1001, "洗衣机不脱水，怎么办？")).text == (
                "success"
            )
            offer = until(desk, of("offer"))
            chat = offer["conversation"]
            assert offer["channel"] == "wechat" and offer["topic"] == "洗衣机不脱水，怎么办？"
            desk.send_json({"type": "accept", "conversation": chat})
            opened = until(desk, of("conversation", conversation=chat))
            said = [m["body"] for m in opened["messages"] if m["sender"] == "customer"]
            assert said == ["洗衣机不脱水，怎么办？"]

            desk.send_json(
                {"type": "message", "conversation": chat, "text": "请问型号？", "client_id": "d1"}
            )
            until(desk, of("ack", client_id="d1"))
            # The follower answers: the same conversation, the next number.
            assert push(client, message_xml(FOLLOWER, 1002, "XQB80-123")).text == "success"
            assert until(desk, of("message", sender="customer"))["body"] == "XQB80-123"
            desk.send_json(
                {"type": "message", "conversation": chat, "text": "好的，已登记", "client_id": "d2"}
            )
            until(desk, of("ack", client_id="d2"))
            bridge = client.app.state.wechat  # type: ignore[attr-defined]
            client.portal.call(_sent, bridge)  # type: ignore[union-attr]
            assert [(m["touser"], m["msgtype"], m["text"]["content"]) for m in wechat_api.sent] == [
                (FOLLOWER, "text", "请问型号？"),
                (FOLLOWER, "text", "好的，已登记"),
            ]
            assert wechat_api.tokens_issued == 1  # the access token is cached

            # Files other than images are not sent to WeChat, and past 48 h after the
            # follower's last message WeChat takes no reply: the agent is told at once,
            # nothing is posted.
            desk.send_json(
                {"type": "attachment", "conversation": chat, "name": "a.pdf",
                 "content_type": "application/pdf", "data": "", "client_id": "d3"}
            )  # fmt: skip
            assert "text and images" in until(desk, of("refused", client_id="d3"))["rule"]
            bridge.last_message[FOLLOWER] -= 49 * 3600
            desk.send_json(
                {"type": "message", "conversation": chat, "text": "还在吗？", "client_id": "d4"}
            )
            assert "48 h" in until(desk, of("refused", client_id="d4"))["rule"]

            # WeChat refuses a reply of its own accord (its count limit): the agent is told.
            assert push(client, message_xml(BLOCKED, 1003, "在吗")).text == "success"
            second = until(desk, of("offer"))["conversation"]
            desk.send_json({"type": "accept", "conversation": second})
            until(desk, of("conversation", conversation=second))
            desk.send_json(
                {"type": "message", "conversation": second, "text": "您好", "client_id": "e1"}
            )
            refused = until(desk, of("refused", client_id="e1"))
            assert "45047" in refused["rule"] and "not delivered on WeChat" in refused["rule"]
            # The follower unfollows: their conversation ends, the agent's wrap-up starts.
            unfollow = (
                f"<xml><ToUserName>gh_7f083739789a</ToUserName><FromUserName>{BLOCKED}"
                f"</FromUserName><CreateTime>{int(time.time())}</CreateTime>"
                "<MsgType>event</MsgType><Event>unsubscribe</Event></xml>"
            )
            assert push(client, unfollow).text == "success"
            assert until(desk, of("state", conversation=second))["phase"] == "ended"
            desk.send_json({"type": "wrap_up", "conversation": second})
            until(desk, of("wrapped_up", conversation=second))
            assert second not in bridge.relay.active  # finished: not held in memory
        settle(client)
        client.portal.call(_sent, bridge)  # type: ignore[union-attr]
        assert len(wechat_api.sent) == 2

    db_session.expire_all()
    bodies = db_session.scalars(
        select(ChatMessage.body)
        .where(ChatMessage.conversation_id == chat)
        .order_by(ChatMessage.seq)
    ).all()
    assert "还在吗？" not in bodies
    assert bodies.count("洗衣机不脱水，怎么办？") == 1 and "XQB80-123" in bodies
    kept = db_session.scalars(select(WeChatPush).order_by(WeChatPush.id)).all()
    assert [(p.status, p.conversation_id) for p in kept] == [
        ("delivered", chat),
        ("delivered", chat),
        ("delivered", second),
        ("event", None),
    ]
    # The reports count the finished one (the first is still in hand) under channel chat and
    # under entry point wechat (#16).
    client.portal.call(_flush, client.app.state.live)  # type: ignore[attr-defined, union-attr]
    settle(client)
    admin = auth(client, "root")
    query = {"interval": "day", "source": "live"}
    for by, key in (("channel", "chat"), ("entry", "wechat")):
        report = client.get("/api/reports/kpis", params={**query, "by": by}, headers=admin)
        assert report.status_code == 200, report.text
        assert [(r[by], r["offered"]) for r in report.json()["rows"]] == [(key, 1)]


async def _flush(driver: Any) -> None:
    await driver.flush()


async def _sent(bridge: Any) -> None:
    """Wait until the replies handed to WeChat are sent."""
    import asyncio

    while bridge._sending:
        await asyncio.gather(*bridge._sending, return_exceptions=True)


def test_unsigned_forged_replayed_and_malformed_pushes_are_refused_and_nothing_is_lost(
    client: TestClient, db_session: Session
) -> None:
    with MessageApiStandIn() as wechat_api:
        configure(client, wechat_api.base)
        xml = message_xml(FOLLOWER, 2001, "你好")
        unsigned = client.post(f"/wechat/push/{APP_ID}", content=xml.encode())
        assert unsigned.status_code == 403 and "signature" in unsigned.text
        forged = push(client, xml, token="guessed")
        assert forged.status_code == 403 and "not from WeChat" in forged.text
        replayed = push(client, xml, timestamp=int(time.time()) - 3600)
        assert replayed.status_code == 403 and "replay" in replayed.text
        assert push(client, xml, app_id="wx0000000000000000").status_code == 404
        plain = client.post(
            f"/wechat/push/{APP_ID}",
            params={"signature": signature(TOKEN, "1", "n"), "timestamp": "1", "nonce": "n"},
            content=xml.encode(),
        )
        assert plain.status_code == 403  # signed long ago: a replay, whatever the mode
        settle(client)
        assert db_session.scalars(select(WeChatPush)).all() == []  # nobody's pushes are kept

        # Signed by WeChat but unreadable: refused with the reason, and kept for a look.
        other = push(client, xml, sealed_for="wx1111111111111111")
        assert other.status_code == 400 and "another account" in other.text
        broken = push(client, "<xml><FromUserName>o1</FromUserName>")
        assert broken.status_code == 400 and "well-formed" in broken.text
        bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml>&a;</xml>'
        assert "DOCTYPE" in push(client, bomb).text
        no_id = push(client, message_xml(FOLLOWER, 0, "x").replace("<MsgId>0</MsgId>", ""))
        assert no_id.status_code == 400 and "MsgId" in no_id.text
        settle(client)
        db_session.expire_all()
        kept = db_session.scalars(select(WeChatPush)).all()
        assert sorted(p.status for p in kept) == ["malformed"] * 4
        assert all(p.error for p in kept)
