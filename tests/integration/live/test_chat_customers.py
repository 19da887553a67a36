"""One customer across channels: a chat whose customer gave only an e-mail pops the customer on
file with that address, with their contacts on every channel."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.crm import service as crm
from tests.integration.live.test_chat import client, of, ready, settle, start, until

__all__ = ["client"]


def test_a_chat_with_only_an_e_mail_pops_the_customer_and_their_calls(
    client: TestClient, db_session: Session
) -> None:
    known = crm.create_customer(
        db_session, name="Emma Stone", phones=["+86 186 0000 1111"], emails=["Emma@Example.com"]
    )
    crm.record_contact(db_session, customer_id=known.id, channel="voice", summary="E4 repair")
    crm.record_contact(db_session, customer_id=known.id, channel="email", summary="invoice")
    db_session.commit()
    agent = ready(client, "a004")
    started = start(client, phone=None, email="emma@example.com", name="Emma", language="en")
    chat = started["conversation"]
    with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
        until(desk, of("offer", conversation=chat))
        desk.send_json({"type": "accept", "conversation": chat})
        until(desk, of("conversation", conversation=chat))
    settle(client)
    pop = client.get(f"/api/live/agents/a004/contacts/{chat}/screen-pop", headers=agent).json()
    assert [c["id"] for c in pop["customers"]] == [known.id]
    assert {c["channel"] for c in pop["last_contacts"]} == {"voice", "email"}
    # An address nobody is on file with pops nobody.
    other = start(client, phone=None, email="nobody@example.com", name="N", language="en")
    with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
        until(desk, of("offer", conversation=other["conversation"]))
        desk.send_json({"type": "accept", "conversation": other["conversation"]})
        until(desk, of("conversation", conversation=other["conversation"]))
    settle(client)
    url = f"/api/live/agents/a004/contacts/{other['conversation']}/screen-pop"
    assert client.get(url, headers=agent).json()["customers"] == []
