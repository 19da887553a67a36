"""A web chat visitor proves who they are (#16): signed in on the company's site (a login token
signed with the center's chat login secret) or by a one-time code sent through the e-mail
outbox or texted through the SMS gateway (its quiet hours apply). Either links the chat to the
customer, whom the agent's screen pop shows at once, with how they were identified; a forged
token leaves the chat anonymous, with the reason logged."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.chat.login import sign_login
from hotline.channels.sms.rules import QuietHours
from hotline.crm import service as crm
from hotline.store.models.chat import ChatCode, ChatLoginSecret
from hotline.store.models.core import AuditEntry
from hotline.store.models.crm import CustomerIdentity
from hotline.store.models.email import EmailMessage
from hotline.store.models.sms import SmsMessage
from tests.integration.live.test_chat import of, ready, settle, start, until
from tests.integration.live.test_chat_identities import _accept, _pop
from tests.integration.live.test_email_contacts import add_mailbox
from tests.integration.live.test_live_api import auth
from tests.integration.live.test_sms_conversations import bridge, served, smsc, submitted
from tests.integration.live.test_wechat import client

# The app with live routing, an agent and an administrator; the stand-in SMSC: fixtures here too.
__all__ = ["client", "smsc"]

SECRET = "3f1c9a7e5b2d48c6a0e9f7d3b1c5a8e2"


def test_a_signed_in_visitor_is_linked_to_their_customer_and_popped_at_once(
    client: TestClient, db_session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    known = crm.create_customer(db_session, name="李雷", emails=["li.lei@example.com"], actor="t")
    db_session.commit()
    admin = auth(client, "root")
    url = "/api/chat/login-secret"
    assert client.get(url, headers=admin).json()["configured"] is False
    short = client.put(url, json={"secret": "too-short"}, headers=admin)
    assert short.status_code == 422 and "at least 32 characters" in short.text
    saved = client.put(url, json={"secret": SECRET}, headers=admin)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["configured"], saved.json()["updated_by"]) == (True, "root")
    assert client.put(url, json={"secret": SECRET}, headers=auth(client, "a004")).status_code == 403

    token = sign_login(
        external_id="shop-7781",
        email="li.lei@example.com",
        expires_at=time.time() + 300,
        secret=SECRET.encode(),
    )
    agent = ready(client, "a004")
    with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
        # The form's number is on nobody's file: the site's login says who it is.
        chat = start(client, login_token=token, phone="13800138000")["conversation"]
        until(desk, of("offer", conversation=chat))
        _accept(desk, chat)
        pop = _pop(client, agent, chat)
        assert [c["id"] for c in pop["customers"]] == [known.id]
        identity = pop["identity"]
        assert (identity["kind"], identity["customer_id"], identity["verified"]) == (
            "chat_login",
            known.id,
            "login",
        )
        # A token altered on the way identifies nobody: the chat goes on anonymous, logged.
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        with caplog.at_level(logging.WARNING, logger="hotline.web.chat_identity"):
            second = start(client, login_token=forged, email="li.lei@example.com", phone=None)
        assert "forged" in caplog.text and "anonymous" in caplog.text
        until(desk, of("offer", conversation=second["conversation"]))
        _accept(desk, second["conversation"])
        # The form's address is on 李雷's file, but nobody proved it: popped, not verified.
        pop = _pop(client, agent, second["conversation"])
        assert (pop["identity"]["kind"], pop["identity"]["verified"]) == ("email", None)
    settle(client)
    db_session.expire_all()
    link = db_session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.kind == "chat_login")
    ).one()
    assert (link.value, link.customer_id, link.linked_by) == ("shop-7781", known.id, "chat-login")
    stored = db_session.scalars(select(ChatLoginSecret)).one()
    assert SECRET not in stored.secret
    actions = db_session.scalars(select(AuditEntry.action)).all()
    assert "chat.login_secret" in actions and "customer.identity_link" in actions


def _code_of(session: Session, address: str) -> str:
    row = session.scalars(
        select(EmailMessage).where(EmailMessage.kind == "chat_code").order_by(EmailMessage.id)
    ).all()[-1]
    assert row.recipients == [address]
    found = re.search(r"\b([0-9]{6})\b", row.body)
    assert found is not None, row.body
    return found.group(1)


def test_a_code_sent_through_the_outbox_verifies_the_address(
    client: TestClient, db_session: Session
) -> None:
    add_mailbox(db_session)
    known = crm.create_customer(db_session, name="韩梅梅", emails=["han@example.com"], actor="t")
    db_session.commit()
    agent = ready(client, "a004")
    started = start(client, phone="13800138000")  # a number on nobody's file
    chat = started["conversation"]
    with (
        client.websocket_connect("/api/chat/ws", headers=agent) as desk,
        client.websocket_connect(f"/chat/ws?token={started['token']}&after=0") as customer,
    ):
        until(desk, of("offer", conversation=chat))
        _accept(desk, chat)
        assert _pop(client, agent, chat)["customers"] == []
        customer.send_json({"type": "code", "code": "123456"})
        assert "ask for one first" in until(customer, of("refused", field="code"))["rule"]
        customer.send_json({"type": "verify", "kind": "email", "address": "not an address"})
        assert "name@example.com" in until(customer, of("refused", field="address"))["rule"]

        customer.send_json({"type": "verify", "kind": "email", "address": "Han@Example.com"})
        sent = until(customer, of("code_sent"))
        assert sent["kind"] == "email" and sent["to"] != "han@example.com"
        settle(client)
        code = _code_of(db_session, "han@example.com")
        kept = db_session.scalars(select(ChatCode).where(ChatCode.conversation_id == chat)).one()
        assert code not in kept.code_hash and kept.address == "han@example.com"

        customer.send_json({"type": "code", "code": "000000" if code != "000000" else "111111"})
        wrong = until(customer, of("refused", field="code"))
        assert (wrong["outcome"], wrong["tries_left"]) == ("wrong", 4)
        customer.send_json({"type": "code", "code": code})
        until(customer, of("code_verified"))
        assert until(desk, of("verified", conversation=chat))["verified"] == "code"
        pop = _pop(client, agent, chat)
        assert [c["id"] for c in pop["customers"]] == [known.id]
        assert pop["identity"] == {
            "kind": "email",
            "shown": "han@example.com",
            "customer_id": known.id,
            "verified": "code",
            "matched": "code",
        }
        # Three codes an hour per chat and per address, no more.
        for _ in range(2):
            customer.send_json({"type": "verify", "kind": "email", "address": "han@example.com"})
            until(customer, of("code_sent"))
        customer.send_json({"type": "verify", "kind": "email", "address": "han@example.com"})
        assert "at most 3 codes" in until(customer, of("refused", field="address"))["rule"]
        # A later chat that only types the address: the link her code made pops her, shown as
        # made by her own proof, not verified in this chat, and not an agent's match.
        later = start(client, phone=None, email="han@example.com")["conversation"]
        until(desk, of("offer", conversation=later))
        _accept(desk, later)
        identity = _pop(client, agent, later)["identity"]
        assert (identity["customer_id"], identity["verified"], identity["matched"]) == (
            known.id,
            None,
            "code",
        )
    settle(client)
    db_session.expire_all()
    link = db_session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.kind == "email")
    ).one()
    assert (link.value, link.customer_id, link.linked_by) == (
        "han@example.com",
        known.id,
        "chat-code",
    )


def test_a_code_texted_through_the_gateway_verifies_the_mobile_within_the_sms_rules(
    session_factory: sessionmaker[Session],
    db_session: Session,
    tmp_path: Path,
    smsc: Any,
) -> None:
    known = crm.create_customer(db_session, name="李梅", phones=["+86 139 0013 9000"], actor="t")
    db_session.commit()
    with served(session_factory, db_session, tmp_path, smsc) as client:
        started = start(client, phone=None, email="li.mei@example.com")
        now = datetime.now(UTC)
        with client.websocket_connect(f"/chat/ws?token={started['token']}&after=0") as customer:
            # Quiet hours: the SMS rules refuse the text, and no code is kept.
            hour = timedelta(hours=1)
            quiet = QuietHours(start=(now - hour).time(), end=(now + hour).time(), zone="UTC")
            bridge(client).quiet_hours = quiet
            customer.send_json({"type": "verify", "kind": "phone", "address": "139 0013 9000"})
            refused = until(customer, of("refused", field="address"))
            assert "not texted: quiet hours" in refused["rule"]
            bridge(client).quiet_hours = QuietHours(start=now.time(), end=now.time(), zone="UTC")
            customer.send_json({"type": "verify", "kind": "phone", "address": "139 0013 9000"})
            assert until(customer, of("code_sent"))["to"] != "+8613900139000"
            smsc.wait(lambda: len(smsc.submitted) == 1)
            [(to, body)] = submitted(smsc)
            found = re.search(r"\b([0-9]{6})\b", body)
            assert to.endswith("13900139000") and found is not None, body
            customer.send_json({"type": "code", "code": found.group(1)})
            until(customer, of("code_verified"))
        settle(client)
        db_session.expire_all()
        link = db_session.scalars(
            select(CustomerIdentity).where(CustomerIdentity.kind == "phone")
        ).one()
        assert (link.value, link.customer_id) == ("+8613900139000", known.id)
        texts = db_session.scalars(
            select(SmsMessage.status).where(SmsMessage.purpose == "verification")
        ).all()
        # The refusal stays in the SMS log beside the code sent (or already delivered).
        assert sorted(texts) in (["delivered", "refused"], ["refused", "sent"])
