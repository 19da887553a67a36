"""The SMS API on SQLite and PostgreSQL: the line's state and today's traffic, the message log
both ways searched by number, one message sent through the server's line (audited; the
do-not-call list applies; a gateway that is down and a malformed number come back plainly),
and a server without an SMS line refusing to send (503)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.channels.sms import service as sms
from hotline.channels.sms.gateway import FakeGateway
from hotline.channels.sms.rules import QuietHours
from hotline.store.models.core import AuditEntry


class FakeLine:
    """The server's SMS line (``app.state.sms``) as the API sees it."""

    def __init__(self) -> None:
        self.gateway = FakeGateway()
        # The line's quiet hours, none here: the default (21:00–08:00 in Shanghai) would
        # refuse the test's SMS whenever the suite runs between 13:00 and 00:00 UTC.
        now = datetime.now(UTC).time()
        self.bridge = SimpleNamespace(quiet_hours=QuietHours(start=now, end=now, zone="UTC"))

    def state(self) -> str:
        return "retrying" if self.gateway.down else "bound"

    def last_error(self) -> str:
        return "the SMSC connection failed: refused" if self.gateway.down else ""


def test_the_floor_sends_and_searches_messages_through_the_line(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    headers = {"authorization": f"Bearer {token_for('supervisor')}"}
    off = app_client.get("/api/sms/overview", headers=headers).json()
    assert off == {
        "state": "off", "last_error": "this server runs no SMS line", "received_today": 0,
        "sent_today": 0,
    }  # fmt: skip
    refused = app_client.post(
        "/api/sms/messages", json={"to": "13812345678", "text": "hi"}, headers=headers
    )
    assert refused.status_code == 503 and "no SMS gateway" in refused.json()["message"]

    line = FakeLine()
    app_client.app.state.sms = line  # type: ignore[attr-defined]
    sent = app_client.post(
        "/api/sms/messages", json={"to": "138 1234 5678", "text": "您的工单已处理"},
        headers=headers,
    )  # fmt: skip
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["to"], body["status"], body["parts"]) == ("+8613812345678", "sent", 1)
    assert line.gateway.sent == [("+8613812345678", "您的工单已处理")]
    [entry] = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "sms.send"))
    assert entry.actor == "supervisor" and entry.target == f"sms:{body['id']}"

    bad = app_client.post(
        "/api/sms/messages", json={"to": "010-6552 1234", "text": "x"}, headers=headers
    )
    assert bad.status_code == 422 and "to: '010-6552 1234' is not a mobile number" in bad.text
    campaigns.add_do_not_call(db_session, number="13900001111", actor="boss")
    db_session.commit()
    listed = app_client.post(
        "/api/sms/messages", json={"to": "13900001111", "text": "x"}, headers=headers
    ).json()
    assert listed["status"] == "refused" and "do-not-call" in listed["reason"]
    line.gateway.down = True
    down = app_client.post(
        "/api/sms/messages", json={"to": "13812345678", "text": "again"}, headers=headers
    ).json()
    assert (down["status"], down["reason"]) == ("failed", "the fake gateway is down")
    assert len(line.gateway.sent) == 1

    sms.keep_inbound(
        db_session, sender="+8613812345678", to="10690000", text="谢谢", received_at=time.time()
    )
    db_session.commit()
    overview = app_client.get("/api/sms/overview", headers=headers).json()
    assert overview == {
        "state": "retrying", "last_error": "the SMSC connection failed: refused",
        "received_today": 1, "sent_today": 3,
    }  # fmt: skip
    found = app_client.get("/api/sms/messages?number=1234 5678", headers=headers).json()
    assert [(m["direction"], m["text"], m["status"]) for m in found] == [
        ("in", "谢谢", "received"),
        ("out", "again", "failed"),
        ("out", "您的工单已处理", "sent"),
    ]
    assert found[0]["number"] == "+8613812345678"  # a supervisor sees the numbers
    everything = app_client.get("/api/sms/messages", headers=headers).json()
    assert len(everything) == 4
    admin = {"authorization": f"Bearer {token_for('admin')}"}
    assert len(app_client.get("/api/sms/messages?number=7777", headers=admin).json()) == 0
