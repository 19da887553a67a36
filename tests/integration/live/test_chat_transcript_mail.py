"""A chat's transcript by e-mail at the customer's request, once the chat has ended: through
the e-mail outbox, to the pre-chat form's address only, once per conversation."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.store.models.email import EmailMessage
from tests.integration.live.test_chat import client, of, ready, settle, start, until
from tests.integration.live.test_email_contacts import add_mailbox

__all__ = ["client"]  # the chat tests' app with live routing, as a fixture here too


def test_the_customer_gets_the_transcript_by_email_once_after_the_end(
    client: TestClient, db_session: Session
) -> None:
    add_mailbox(db_session)
    agent = ready(client, "a004")
    started = start(client, email="wang@example.com", phone=None)
    chat = started["conversation"]
    with (
        client.websocket_connect("/api/chat/ws", headers=agent) as desk,
        client.websocket_connect(f"/chat/ws?token={started['token']}&after=0") as customer,
    ):
        until(desk, of("offer", conversation=chat))
        desk.send_json({"type": "accept", "conversation": chat})
        until(desk, of("conversation", conversation=chat))
        customer.send_json({"type": "message", "text": "洗衣机漏水", "client_id": "k1"})
        until(customer, of("ack", client_id="k1"))
        desk.send_json(
            {"type": "message", "conversation": chat, "text": "明天上门", "client_id": "d1"}
        )
        until(desk, of("ack", client_id="d1"))
        # Not before the end.
        customer.send_json({"type": "transcript"})
        early = until(customer, of("refused", field="transcript"))
        assert "once the chat has ended" in early["rule"]
        customer.send_json({"type": "end"})
        until(customer, of("state", phase="ended"))
        customer.send_json({"type": "transcript"})
        sent = until(customer, of("transcript_sent"))
        assert sent["to"] != "wang@example.com" and sent["to"].endswith("@example.com")
        customer.send_json({"type": "transcript"})
        again = until(customer, of("refused", field="transcript"))
        assert "already been sent" in again["rule"]
    settle(client)
    (row,) = db_session.scalars(
        select(EmailMessage).where(EmailMessage.kind == "chat_transcript")
    ).all()
    assert (row.direction, row.status, row.recipients) == ("out", "queued", ["wang@example.com"])
    assert row.subject == "您的在线客服对话记录（洗衣机漏水）"
    lines = row.body.splitlines()
    assert lines[0] == "您好 王小明，以下是您与我们的在线对话记录。"
    said = [line.split("] ", 1)[1] for line in lines[2:]]
    assert said == ["客服已接入", "您: 洗衣机漏水", "客服 a004: 明天上门", "对话已结束"]
    assert row.message_id == f"<chat-transcript.{chat}@support.example.com>"


def test_a_chat_without_an_email_address_gets_no_transcript(client: TestClient) -> None:
    started = start(client)  # the form gave a phone number only
    with client.websocket_connect(f"/chat/ws?token={started['token']}&after=0") as customer:
        customer.send_json({"type": "end"})
        until(customer, of("state", phase="ended"))
        customer.send_json({"type": "transcript"})
        refused = until(customer, of("refused", field="transcript"))
        assert "no e-mail address" in refused["rule"]
