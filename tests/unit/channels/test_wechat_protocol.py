"""WeChat's push protocol against Tencent's published sample, and the message API client."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from pydantic import ValidationError

from hotline.channels.wechat import protocol
from hotline.channels.wechat.client import MessageApi, SendRefused
from hotline.channels.wechat.settings import WeChatSettings

# Tencent's sample of the message encryption (WXBizMsgCrypt's Sample, the same in every
# language): token, AppID, EncodingAESKey, a signed encrypted push and its plain message.
TOKEN, APP_ID = "QDG6eK", "wx5823bf96d3bd56c7"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
TIMESTAMP, NONCE = "1409659813", "1372623149"
MSG_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
ENCRYPTED = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdC"
    "Upj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4X"
    "gpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+K"
    "qCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XX"
    "ZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHB"
    "ZZIs2pDBS8R07+qN+E7Q=="
)


def test_tencents_sample_push_is_verified_decrypted_and_parsed() -> None:
    protocol.check_push(
        token=TOKEN,
        timestamp=TIMESTAMP,
        nonce=NONCE,
        given=MSG_SIGNATURE,
        now=float(TIMESTAMP) + 5,
        encrypted=ENCRYPTED,
    )
    xml = protocol.decrypt(ENCRYPTED, encoding_aes_key=AES_KEY, app_id=APP_ID)
    message = protocol.parse(xml)
    assert (message.from_user, message.msg_type, message.content) == ("mycreate", "text", "hello")
    assert message.dedupe_key == "msg:4561255354251345929"


def test_a_push_for_another_account_or_altered_is_refused_with_the_reason() -> None:
    with pytest.raises(protocol.ProtocolRefused, match="another account"):
        protocol.decrypt(ENCRYPTED, encoding_aes_key=AES_KEY, app_id="wx0000000000000000")
    with pytest.raises(protocol.ProtocolRefused, match="not from WeChat"):
        protocol.check_push(
            token=TOKEN,
            timestamp=TIMESTAMP,
            nonce=NONCE,
            given=MSG_SIGNATURE,
            now=float(TIMESTAMP),
            encrypted=ENCRYPTED[:-8] + "AAAAAA==",
        )
    altered = ENCRYPTED[:40] + ("A" if ENCRYPTED[40] != "A" else "B") + ENCRYPTED[41:]
    with pytest.raises(protocol.ProtocolRefused, match="Encrypt"):
        protocol.decrypt(altered, encoding_aes_key=AES_KEY, app_id=APP_ID)
    with pytest.raises(protocol.ProtocolRefused, match="base64"):
        protocol.decrypt("not base64!", encoding_aes_key=AES_KEY, app_id=APP_ID)


def test_chinese_text_survives_the_round_trip_and_images_and_events_are_read() -> None:
    xml = (
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType>image</MsgType>"
        "<PicUrl>http://mmbiz.qpic.cn/x</PicUrl><MediaId>m1</MediaId><MsgId>9</MsgId></xml>"
    )
    sealed = protocol.encrypt(xml, encoding_aes_key=AES_KEY, app_id=APP_ID, random16=bytes(16))
    image = protocol.parse(protocol.decrypt(sealed, encoding_aes_key=AES_KEY, app_id=APP_ID))
    assert image.shown == "[图片 image] http://mmbiz.qpic.cn/x"
    event = protocol.parse(
        "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType>event</MsgType>"
        "<Event>unsubscribe</Event></xml>"
    )
    assert (event.event, event.dedupe_key) == ("unsubscribe", "event:o1:1700000000:unsubscribe")


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ("<xml><ToUserName>g</ToUserName></xml>", "FromUserName"),
        ("<root/>", "body"),
        ("<xml><unclosed></xml>", "body"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>', "body"),
        (
            "<xml><ToUserName>g</ToUserName><FromUserName>o</FromUserName><CreateTime>1"
            "</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
            "MsgId",
        ),
        (
            "<xml><ToUserName>g</ToUserName><FromUserName>o</FromUserName><CreateTime>soon"
            "</CreateTime><MsgType>text</MsgType></xml>",
            "CreateTime",
        ),
    ],
)
def test_malformed_pushes_name_the_element_at_fault(xml: str, field: str) -> None:
    with pytest.raises(protocol.ProtocolRefused) as refused:
        protocol.parse(xml)
    assert refused.value.field == field


def test_account_settings_are_checked_field_by_field() -> None:
    with pytest.raises(ValidationError) as problems:
        WeChatSettings(app_id="gh_123", token="a b", encoding_aes_key="short", queue="chat")
    assert {e["loc"][0] for e in problems.value.errors()} == {
        "app_id",
        "token",
        "encoding_aes_key",
    }


def _api(handler: object, clock: list[float]) -> MessageApi:
    return MessageApi(
        app_id=APP_ID,
        app_secret="s",
        api_base="https://api.example",
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        clock=lambda: clock[0],
    )


def test_the_access_token_is_cached_renewed_before_expiry_and_when_wechat_says_invalid() -> None:
    issued: list[str] = []
    refused_once = {"done": False}

    def wechat(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cgi-bin/token":
            issued.append(f"T{len(issued) + 1}")
            return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 7200})
        if request.url.params["access_token"] == "T2" and not refused_once["done"]:
            refused_once["done"] = True  # WeChat revoked it (another server fetched a new one)
            return httpx.Response(200, json={"errcode": 40001, "errmsg": "invalid credential"})
        body = json.loads(request.content)
        if body["touser"] == "blocked":
            return httpx.Response(200, json={"errcode": 45015, "errmsg": "response out of time"})
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    clock = [0.0]
    api = _api(wechat, clock)

    async def scenario() -> None:
        await api.send_text(open_id="o1", text="一")
        await api.send_text(open_id="o1", text="二")
        assert issued == ["T1"]
        clock[0] = 7200.0 - 299  # within five minutes of expiry: fetched again
        await api.send_text(open_id="o1", text="三")  # T2 refused as invalid: T3, sent
        assert issued == ["T1", "T2", "T3"]
        with pytest.raises(SendRefused) as refused:
            await api.send_text(open_id="blocked", text="四")
        assert refused.value.errcode == 45015 and "out of time" in str(refused.value)
        await api.close()

    asyncio.run(scenario())


def test_an_unreachable_api_is_a_clear_refusal() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api = _api(down, [0.0])

    async def scenario() -> None:
        with pytest.raises(SendRefused, match="could not be reached"):
            await api.send_text(open_id="o1", text="x")
        await api.close()

    asyncio.run(scenario())
