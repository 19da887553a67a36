"""Customers' SMS as contacts: through a stand-in SMSC on 127.0.0.1 into the running server's
SMS gateway, routed by the live engine to an agent with the SMS skill, worked at the chat
desk with the screen pop by number, replied to by SMS (quiet hours and the do-not-call list
refusing to the agent's desk), a stop word putting the number on the do-not-call list, and
the contact's events in the log on the ``sms`` channel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns import service as campaigns
from hotline.channels.sms import service as sms
from hotline.channels.sms.rules import QuietHours
from hotline.channels.sms.text import decode, segments
from hotline.config.validate import load_center
from hotline.crm import service as crm
from hotline.store.models.core import AuditEntry, ContactEventRow
from hotline.store.models.sms import SmsInbound
from hotline.web.sms_bridge import SmsBridge, attach_sms_line
from tests.integration.channels.test_sms_smpp import StandInSmsc, settings_for
from tests.integration.live.conftest import SAMPLE, live_client
from tests.integration.live.test_chat import of, ready, settle, until

CUSTOMER = "8613800138000"  # as the SMSC gives it
OTHER = "8613900139000"
SECRET = b"test-secret"  # the server's, as live_client sets it


def sms_center(tmp_path: Path) -> Any:
    """The sample center with an SMS queue (``channel: sms``) that a004 has the skill for."""
    text = SAMPLE.read_text(encoding="utf-8")
    changes = {
        "  - {id: chat, capacity: 3}\n": (
            "  - {id: chat, capacity: 3}\n  - {id: sms, capacity: 3}\n"
        ),
        "  - {id: chat, name: 在线客服 Web chat}\n": (
            "  - {id: chat, name: 在线客服 Web chat}\n  - {id: sms, name: 短信 SMS}\n"
        ),
        "  - id: chat\n    name: 在线客服 Web chat\n": (
            "  - id: sms\n    name: 短信 SMS\n    channel: sms\n    requirements: ['sms >= 1']\n"
            "    target: {service_level: 0.8, threshold_s: 600}\n    wrap_up_s: 5\n"
            "  - id: chat\n    name: 在线客服 Web chat\n"
        ),
        "skills: {installation: 3, repair: 1, chat: 3}": (
            "skills: {installation: 3, repair: 1, chat: 3, sms: 3}"
        ),
    }
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "center.yaml"
    path.write_text(text, encoding="utf-8")
    return load_center(path)


@pytest.fixture
def smsc() -> Iterator[StandInSmsc]:
    server = StandInSmsc()
    yield server
    server.close()


@contextmanager
def served(
    session_factory: sessionmaker[Session],
    db_session: Session,
    home: Path,
    smsc: StandInSmsc,
    center: Any = None,
) -> Iterator[TestClient]:
    """The live app with the stand-in SMSC kept as the center's gateway, bound at start."""
    sms.save_gateway(db_session, settings=settings_for(smsc), secret=SECRET, actor="admin")
    db_session.commit()
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=home,
        users=(("a004", ["agent"], "a004"),),
        center=center,
        prepare=attach_sms_line,
    ) as test_client:
        line = test_client.app.state.sms  # type: ignore[attr-defined]
        assert line.gateway is not None and line.gateway.wait_bound(10)
        assert line.state() == "bound"
        yield test_client


@pytest.fixture
def client(
    session_factory: sessionmaker[Session],
    db_session: Session,
    tmp_path: Path,
    smsc: StandInSmsc,
) -> Iterator[TestClient]:
    with served(session_factory, db_session, tmp_path, smsc, sms_center(tmp_path)) as test_client:
        yield test_client


def text(smsc: StandInSmsc, body: str, sender: str = CUSTOMER) -> None:
    """The customer texts the center (in UCS-2 parts when long, as a phone sends it)."""
    message = segments(body, reference=len(smsc.submitted) + 7)
    for part in message.parts:
        smsc.deliver(
            part, esm_class=message.esm_class, data_coding=message.data_coding, source_addr=sender
        )


def bridge(client: TestClient) -> SmsBridge:
    found: SmsBridge = client.app.state.sms.bridge  # type: ignore[attr-defined]
    return found


def done(client: TestClient) -> None:
    """Wait until the SMS received and the replies handed to the gateway are done with."""
    client.portal.call(bridge(client).settled)  # type: ignore[union-attr]
    settle(client)


def submitted(smsc: StandInSmsc) -> list[tuple[str, str]]:
    shown = []
    for pdu in smsc.submitted:
        body, *_ = decode(pdu.short_message, data_coding=pdu.data_coding, esm_class=pdu.esm_class)
        shown.append((pdu.destination_addr.decode(), body))
    return shown


def test_a_customer_texts_an_agent_works_it_at_the_desk_and_replies_by_sms(
    client: TestClient, db_session: Session, smsc: StandInSmsc
) -> None:
    known = crm.create_customer(db_session, name="王小明", phones=["+86 138 0013 8000"], actor="t")
    db_session.commit()
    # No quiet hours until the test sets them: the default (21:00–08:00 in Shanghai) would
    # refuse the first reply whenever the suite runs between 13:00 and 00:00 UTC.
    now = datetime.now(UTC)
    bridge(client).quiet_hours = QuietHours(start=now.time(), end=now.time(), zone="UTC")
    agent = ready(client, "a004")
    with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
        text(smsc, "洗衣机漏水，能派人上门吗？")
        offer = until(desk, of("offer"))
        conversation = offer["conversation"]
        assert offer["channel"] == "sms" and offer["queue"] == "sms"
        assert offer["phone"] == "+8613800138000" and offer["topic"] == "洗衣机漏水，能派人上门吗？"
        desk.send_json({"type": "accept", "conversation": conversation})
        opened = until(desk, of("conversation", conversation=conversation))
        assert [m["body"] for m in opened["messages"] if m["sender"] == "customer"] == [
            "洗衣机漏水，能派人上门吗？"
        ]
        done(client)
        pop = client.get(
            f"/api/live/agents/a004/contacts/{conversation}/screen-pop", headers=agent
        ).json()
        assert [c["id"] for c in pop["customers"]] == [known.id]

        desk.send_json(
            {
                "type": "message",
                "conversation": conversation,
                "text": "请问型号？",
                "client_id": "d1",
            }
        )
        until(desk, of("ack", client_id="d1"))
        smsc.wait(lambda: len(smsc.submitted) == 1)
        assert submitted(smsc) == [(CUSTOMER, "请问型号？")]

        # A further SMS within the window joins the same conversation.
        text(smsc, "XQB80-123")
        assert until(desk, of("message", sender="customer"))["body"] == "XQB80-123"

        # At night the reply is not sent, and the agent is told why at once.
        now = datetime.now(UTC)
        bridge(client).quiet_hours = QuietHours(
            start=(now - timedelta(hours=1)).time(),
            end=(now + timedelta(hours=1)).time(),
            zone="UTC",
        )
        desk.send_json(
            {"type": "message", "conversation": conversation, "text": "好的", "client_id": "d2"}
        )
        refused = until(desk, of("refused", client_id="d2"))
        assert "quiet hours" in refused["rule"] and "not sent by SMS (refused)" in refused["rule"]
        bridge(client).quiet_hours = QuietHours(start=now.time(), end=now.time(), zone="UTC")

        # Files do not go by SMS: refused before they are posted.
        desk.send_json(
            {"type": "attachment", "conversation": conversation, "name": "a.png",
             "content_type": "image/png", "data": "", "client_id": "d3"}
        )  # fmt: skip
        assert "text replies only" in until(desk, of("refused", client_id="d3"))["rule"]

        # "退订": the number goes on the do-not-call list; the agent sees the word, and a
        # reply to it now is refused to the agent.
        text(smsc, "退订")
        assert until(desk, of("message", sender="customer"))["body"] == "退订"
        done(client)
        desk.send_json(
            {
                "type": "message",
                "conversation": conversation,
                "text": "已为您退订",
                "client_id": "d4",
            }
        )
        assert "do-not-call" in until(desk, of("refused", client_id="d4"))["rule"]
        assert len(smsc.submitted) == 1

        desk.send_json({"type": "end", "conversation": conversation})
        until(desk, of("state", conversation=conversation, phase="ended"))
        desk.send_json({"type": "wrap_up", "conversation": conversation})
        until(desk, of("wrapped_up", conversation=conversation))

        # After the end, the customer's next SMS starts a new conversation.
        text(smsc, "师傅几点到？")
        second = until(desk, of("offer"))
        assert second["conversation"] != conversation and second["channel"] == "sms"
    done(client)

    db_session.expire_all()
    listed = campaigns.listing(db_session, number="+8613800138000")
    assert listed is not None and listed.added_by == "sms"
    audits = db_session.scalars(
        select(AuditEntry.actor).where(AuditEntry.action == "campaign.dnc_add")
    ).all()
    assert audits == ["sms"]
    kept = db_session.scalars(select(SmsInbound).order_by(SmsInbound.id)).all()
    assert [(k.from_number, k.status) for k in kept] == [
        ("+8613800138000", "conversation"),
        ("+8613800138000", "conversation"),
        ("+8613800138000", "stopped"),
        ("+8613800138000", "conversation"),
    ]
    assert [k.conversation_id for k in kept][:2] == [conversation, conversation]
    # The reply went out and the SMSC's delivery receipt came back; the other two were refused.
    replies = [(m.purpose, m.status) for m in sms.messages(db_session)]
    assert replies == [
        ("conversation", "delivered"),
        ("conversation", "refused"),
        ("conversation", "refused"),
    ]

    client.__exit__(None, None, None)  # the app stops: the event log is written
    events = db_session.execute(
        select(ContactEventRow.kind, ContactEventRow.channel).where(
            ContactEventRow.contact_id == conversation
        )
    ).all()
    assert {kind for kind, _ in events} >= {"queued", "offered", "answered", "disconnected"}
    assert {channel for _, channel in events} == {"sms"}


def test_without_an_sms_queue_a_message_is_kept_and_a_stop_word_still_counts(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path, smsc: StandInSmsc
) -> None:
    with served(session_factory, db_session, tmp_path, smsc) as client:
        line = client.app.state.sms  # type: ignore[attr-defined]
        text(smsc, "在吗", sender=OTHER)
        text(smsc, "STOP", sender=OTHER)
        smsc.wait(lambda: len(smsc.delivered) == 2)
        done(client)
        db_session.expire_all()
        kept = db_session.scalars(select(SmsInbound).order_by(SmsInbound.id)).all()
        assert [(k.text, k.status, k.conversation_id) for k in kept] == [
            ("在吗", "unrouted", None),
            ("STOP", "stopped", None),
        ]
        assert campaigns.listing(db_session, number="+8613900139000") is not None
        # The SMSC goes away: the line shows it binding again, with the reason.
        smsc.listener.close()
        smsc.drop()
        for _ in range(200):
            if line.state() == "retrying" and line.last_error():
                break
            client.portal.call(_tick)  # type: ignore[union-attr]
        assert line.state() == "retrying" and line.last_error()


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.02)
