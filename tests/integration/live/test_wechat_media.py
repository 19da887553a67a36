"""WeChat media both ways: a follower's image and voice are fetched from the stand-in for
WeChat's API (``media/get``), checked and kept as the conversation's attachments the desk
shows and downloads; media that cannot be fetched or break the limits are posted as text
saying why (nothing lost); the agent's image goes out through ``media/upload`` and an image
message, any other file is refused at once."""

from __future__ import annotations

import base64
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.core.files import PNG_MAGIC
from tests.integration.live.test_chat import of, ready, settle, until
from tests.integration.live.test_wechat import (
    FOLLOWER,
    MessageApiStandIn,
    _sent,
    client,
    configure,
    push,
)

__all__ = ["client"]

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 4
AMR = b"#!AMR\n" + b"\x3c" * 320
PNG = PNG_MAGIC + b"\x00\x00\x00\rIHDR" + b"\x01" * 64


def media_xml(msg_id: int, msg_type: str, media_id: str) -> str:
    extra = (
        "<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>"
        if msg_type == "image"
        else "<Format><![CDATA[amr]]></Format>"
    )
    return (
        f"<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>"
        f"<FromUserName><![CDATA[{FOLLOWER}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>{extra}"
        f"<MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{msg_id}</MsgId></xml>"
    )


def test_a_followers_image_and_voice_reach_the_desk_and_the_agent_sends_an_image(
    client: TestClient, db_session: Session
) -> None:
    with MessageApiStandIn() as wechat_api:
        wechat_api.media = {
            "IMG-1": ("image/jpeg", JPEG),
            "VOICE-1": ("audio/amr", AMR),
            "FAKE-1": ("image/jpeg", b"MZ\x90\x00 not a picture"),
            "HUGE-1": ("image/png", PNG_MAGIC + b"\x00" * 2_000_001),
        }
        configure(client, wechat_api.base)
        agent = ready(client, "a004")
        with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
            assert push(client, media_xml(4001, "image", "IMG-1")).text == "success"
            chat = until(desk, of("offer"))["conversation"]
            desk.send_json({"type": "accept", "conversation": chat})
            opened = until(desk, of("conversation", conversation=chat))
            [image] = [m for m in opened["messages"] if m["kind"] == "attachment"]
            assert image["sender"] == "customer"
            assert image["attachment"]["content_type"] == "image/jpeg"
            assert image["attachment"]["size"] == len(JPEG)
            assert image["body"] == "wechat-image-IMG-1.jpg"
            settle(client)  # the agent's joining is written: the file is theirs to open
            shown = client.get(f"/api/chat/attachments/{image['attachment']['id']}", headers=agent)
            assert shown.status_code == 200 and shown.content == JPEG

            # Voice: kept as the follower sent it (AMR).
            assert push(client, media_xml(4002, "voice", "VOICE-1")).text == "success"
            voice = until(desk, of("message", sender="customer", kind="attachment"))
            assert voice["attachment"]["content_type"] == "audio/amr"
            settle(client)
            heard = client.get(f"/api/chat/attachments/{voice['attachment']['id']}", headers=agent)
            assert heard.content == AMR

            # Media WeChat no longer has, content that is not what it claims, and a file over
            # the widget's size limit: posted as text saying why, not kept as files.
            said: list[str] = []
            for msg_id, media_id in ((4003, "GONE-1"), (4004, "FAKE-1"), (4005, "HUGE-1")):
                assert push(client, media_xml(msg_id, "image", media_id)).text == "success"
                said.append(until(desk, of("message", sender="customer", kind="text"))["body"])
            assert "not kept" in said[0] and "40007" in said[0]
            assert "not kept: the file's content is not image/jpeg" in said[1]
            assert "not kept" in said[2] and "at most 2000000 bytes" in said[2]

            # The agent sends an image: uploaded as temporary media, then an image message.
            desk.send_json(
                {
                    "type": "attachment",
                    "conversation": chat,
                    "name": "说明书.png",
                    "content_type": "image/png",
                    "data": base64.b64encode(PNG).decode(),
                    "client_id": "img1",
                }
            )
            until(desk, of("ack", client_id="img1"))
            bridge: Any = client.app.state.wechat  # type: ignore[attr-defined]
            client.portal.call(_sent, bridge)  # type: ignore[union-attr]
            assert [(n, t, d) for _, n, t, d in wechat_api.uploaded] == [
                ("说明书.png", "image/png", PNG)
            ]
            assert wechat_api.sent == [
                {"touser": FOLLOWER, "msgtype": "image", "image": {"media_id": "UPLOADED-1"}}
            ]
            # A PDF cannot go to WeChat: refused before it is posted.
            desk.send_json(
                {
                    "type": "attachment",
                    "conversation": chat,
                    "name": "manual.pdf",
                    "content_type": "application/pdf",
                    "data": base64.b64encode(b"%PDF-1.4 x").decode(),
                    "client_id": "pdf1",
                }
            )
            assert "text and images" in until(desk, of("refused", client_id="pdf1"))["rule"]
    settle(client)
    transcript = client.get(f"/api/chat/conversations/{chat}", headers=agent).json()
    kinds = [(m["sender"], m["kind"]) for m in transcript["messages"]]
    assert kinds.count(("customer", "attachment")) == 2
    assert kinds.count(("agent", "attachment")) == 1
    assert kinds.count(("customer", "text")) == 3
