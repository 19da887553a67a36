"""A WeChat follower or a web chat visitor as a CRM identity: the agent links them to a customer
from the desk, and their next message pops that customer with their open tickets; unlinked,
it pops nobody again. An identity belongs to one customer; every link and unlink is audited."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.crm import service as crm
from hotline.desk import customers as desk_customers
from hotline.store.models.core import AuditEntry
from hotline.tickets import service as tickets
from tests.integration.live.test_chat import of, ready, settle, start, until
from tests.integration.live.test_wechat import (
    FOLLOWER,
    MessageApiStandIn,
    client,
    configure,
    message_xml,
    push,
)

__all__ = ["client"]


def _pop(client: TestClient, agent: dict[str, str], chat: str) -> dict[str, Any]:
    settle(client)
    answer = client.get(f"/api/live/agents/a004/contacts/{chat}/screen-pop", headers=agent)
    assert answer.status_code == 200, answer.text
    pop: dict[str, Any] = answer.json()
    return pop


def _accept(desk: Any, chat: str) -> None:
    desk.send_json({"type": "accept", "conversation": chat})
    until(desk, of("conversation", conversation=chat))


def _finish(client: TestClient, desk: Any, chat: str) -> None:
    desk.send_json({"type": "end", "conversation": chat})
    until(desk, of("state", conversation=chat, phase="ended"))
    desk.send_json({"type": "wrap_up", "conversation": chat})
    until(desk, of("wrapped_up", conversation=chat))
    # The relay may still be committing the wrap-up on the tests' shared connection: the
    # next chat's request must not use it meanwhile (a PostgreSQL run failed so, with
    # "nested transaction already deassociated from connection").
    settle(client)


def test_a_wechat_follower_linked_at_the_desk_pops_their_customer_next_time(
    client: TestClient, db_session: Session
) -> None:
    known = crm.create_customer(db_session, name="李雷", phones=["+86 139 0000 2222"], actor="t")
    other = crm.create_customer(db_session, name="韩梅梅", phones=["+86 139 0000 3333"], actor="t")
    ticket = tickets.create_ticket(
        db_session,
        type="repair",
        subject="洗衣机不脱水",
        customer_id=known.id,
        queue="chat",
        actor="t",
    )
    db_session.commit()
    url = "/api/live/agents/a004/contacts/{}/identity"
    with MessageApiStandIn() as wechat_api:
        configure(client, wechat_api.base)
        agent = ready(client, "a004")
        with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
            assert push(client, message_xml(FOLLOWER, 3001, "在吗")).text == "success"
            first = until(desk, of("offer"))["conversation"]
            _accept(desk, first)
            # A follower nobody linked yet: no customer, the identity offered for linking.
            pop = _pop(client, agent, first)
            assert pop["customers"] == [] and pop["open_tickets"] == []
            assert pop["identity"] == {
                "kind": "wechat",
                "shown": FOLLOWER,
                "customer_id": None,
                "verified": None,
                "matched": None,
            }
            # Unlinking what is linked to nobody, or linking a customer that doesn't exist.
            assert client.delete(url.format(first), headers=agent).status_code == 404
            missing = client.put(url.format(first), json={"customer_id": 99999}, headers=agent)
            assert missing.status_code == 404
            # The agent matches the follower to 李雷 on the desk.
            linked = client.put(url.format(first), json={"customer_id": known.id}, headers=agent)
            assert linked.status_code == 200, linked.text
            assert linked.json() == {
                "kind": "wechat",
                "shown": FOLLOWER,
                "customer_id": known.id,
                "verified": None,
                "matched": "agent",
            }
            # Again: nothing new (one identity row); to another customer: refused.
            again = client.put(url.format(first), json={"customer_id": known.id}, headers=agent)
            assert again.status_code == 200
            taken = client.put(url.format(first), json={"customer_id": other.id}, headers=agent)
            assert taken.status_code == 409 and f"customer {known.id}" in taken.text
            _finish(client, desk, first)

            # The follower writes again: a new conversation pops 李雷 and the open ticket.
            assert push(client, message_xml(FOLLOWER, 3002, "还是不行")).text == "success"
            second = until(desk, of("offer"))["conversation"]
            assert second != first
            _accept(desk, second)
            pop = _pop(client, agent, second)
            assert [c["id"] for c in pop["customers"]] == [known.id]
            assert [t["number"] for t in pop["open_tickets"]] == [ticket.number]
            assert pop["identity"]["customer_id"] == known.id
            # Unlinked from the desk: the next conversation pops nobody.
            unlinked = client.delete(url.format(second), headers=agent)
            assert unlinked.status_code == 200 and unlinked.json()["customer_id"] == known.id
            _finish(client, desk, second)
            assert push(client, message_xml(FOLLOWER, 3003, "喂")).text == "success"
            third = until(desk, of("offer"))["conversation"]
            _accept(desk, third)
            assert _pop(client, agent, third)["customers"] == []
            # A link is for the chat the agent holds: not a finished one.
            held_no_more = client.put(
                url.format(first), json={"customer_id": known.id}, headers=agent
            )
            assert held_no_more.status_code == 409
    settle(client)
    db_session.expire_all()
    audited = db_session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("customer.identity%"))
        .order_by(AuditEntry.id)
    ).all()
    assert audited == ["customer.identity_link", "customer.identity_unlink"]


def test_a_web_chat_visitor_matched_by_the_agent_pops_their_customer_next_time(
    client: TestClient, db_session: Session
) -> None:
    known = crm.create_customer(db_session, name="Emma Stone", phones=["+86 186 0000 1111"])
    db_session.commit()
    agent = ready(client, "a004")
    url = "/api/live/agents/a004/contacts/{}/identity"

    def chat_with(desk: Any, **form: Any) -> str:
        chat: str = start(client, name="Emma", language="en", **form)["conversation"]
        until(desk, of("offer", conversation=chat))
        _accept(desk, chat)
        return chat

    with client.websocket_connect("/api/chat/ws", headers=agent) as desk:
        # An address not on the customer's record pops nobody until the agent matches it.
        first = chat_with(desk, phone=None, email="Emma.S@Example.org")
        pop = _pop(client, agent, first)
        assert pop["customers"] == []
        assert pop["identity"] == {
            "kind": "email",
            "shown": "emma.s@example.org",
            "customer_id": None,
            "verified": None,
            "matched": None,
        }
        linked = client.put(url.format(first), json={"customer_id": known.id}, headers=agent)
        assert linked.status_code == 200, linked.text
        _finish(client, desk, first)
        second = chat_with(desk, phone=None, email="emma.s@example.org")
        assert [c["id"] for c in _pop(client, agent, second)["customers"]] == [known.id]
        _finish(client, desk, second)
        # A visitor who gave a number not on file: the number (E.164) is the identity.
        by_phone = chat_with(desk, phone="139 1234 0000", email=None)
        pop = _pop(client, agent, by_phone)
        assert pop["customers"] == []
        assert pop["identity"] == {
            "kind": "phone",
            "shown": "+8613912340000",
            "customer_id": None,
            "verified": None,
            "matched": None,
        }


def test_a_linked_identity_follows_its_customer_through_a_merge_and_its_undo(
    db_session: Session,
) -> None:
    kept = crm.create_customer(db_session, name="王芳", phones=["+86 137 0000 4444"])
    duplicate = crm.create_customer(db_session, name="王 芳", phones=["+86 137 0000 5555"])
    follower = crm.identity_of(f"wechat:{FOLLOWER}")
    assert follower is not None
    crm.link_identity(db_session, customer_id=duplicate.id, identity=follower, actor="a004")
    merge = desk_customers.merge_customers(
        db_session, survivor_id=kept.id, merged_id=duplicate.id, actor="boss"
    )
    pop = desk_customers.screen_pop(db_session, calling_number=f"wechat:{FOLLOWER}", chat=True)
    assert [c["id"] for c in pop.customers] == [kept.id]
    desk_customers.undo_merge(db_session, merge_id=merge.id, actor="boss")
    assert crm.identity_linked(db_session, identity=follower).customer_id == duplicate.id
