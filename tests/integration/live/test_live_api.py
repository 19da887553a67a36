"""The live API end to end through the app: state, offer, screen pop, controls, wallboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.live.conftest import PASSWORD, live_client


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(
            ("a001", ["agent"], "a001"),
            ("a002", ["agent"], "a002"),
            ("boss", ["supervisor"], None),
        ),
    ) as test_client:
        yield test_client


def auth(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def test_an_agent_takes_a_call_from_offer_to_disposition(client: TestClient) -> None:
    agent, boss = auth(client, "a001"), auth(client, "boss")
    base = "/api/live/agents/a001"
    assert client.post(f"{base}/state", json={"state": "ready"}, headers=agent).status_code == 200
    placed = client.post(
        "/api/live/contacts",
        json={"queue": "installation", "customer": "13800138000", "subject": "空调安装"},
        headers=boss,
    )
    assert placed.status_code == 201, placed.text
    contact = placed.json()["contact_id"]
    desk = client.get(base, headers=agent).json()
    assert desk["offer"]["contact_id"] == contact
    assert desk["offer"]["attached"]["subject"] == "空调安装"
    pop = client.get(f"{base}/contacts/{contact}/screen-pop", headers=agent).json()
    assert pop["attached"]["customer"] == "13800138000" and pop["customers"] == []
    for action in ("answer", "hold", "resume"):
        response = client.post(f"{base}/contacts/{contact}/{action}", headers=agent)
        assert response.status_code == 200, (action, response.text)
    ticket = client.post(
        f"{base}/contacts/{contact}/tickets",
        json={"type": "installation", "subject": "空调安装预约"},
        headers=agent,
    )
    assert ticket.status_code == 201, ticket.text
    assert ticket.json()["subject"] == "空调安装预约"
    callback = client.post(
        f"{base}/contacts/{contact}/callback",
        json={"queue": "installation", "in_minutes": 30, "note": "确认安装时间"},
        headers=agent,
    )
    assert callback.status_code == 201 and callback.json()["customer"] == "13800138000"
    assert client.post(f"{base}/contacts/{contact}/hangup", headers=agent).status_code == 200
    desk = client.get(base, headers=agent).json()
    assert desk["state"] == "wrap_up" and desk["contacts"][0]["wrap_until"] is not None
    # The desktop lists the agent's upcoming call backs.
    assert [(c["queue"], c["note"], c["for_contact"]) for c in desk["callbacks"]] == [
        ("installation", "确认安装时间", contact)
    ]
    bad = client.post(
        f"{base}/contacts/{contact}/wrap-up", json={"disposition": "nonsense"}, headers=agent
    )
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "body.disposition"
    done = client.post(
        f"{base}/contacts/{contact}/wrap-up",
        json={"disposition": "installation_booked"},
        headers=agent,
    )
    assert done.status_code == 200 and "wrap_up_ended" in done.json()["events"]
    assert client.get(base, headers=agent).json()["state"] == "available"
    board = client.get("/api/live/wallboard", headers=boss).json()
    install = next(q for q in board["queues"] if q["id"] == "installation")
    assert install["today"]["answered"] == 1 and install["agents_by_state"]["available"] == 1


def test_agents_act_only_for_themselves_and_conflicts_are_409(client: TestClient) -> None:
    a001 = auth(client, "a001")
    a002 = auth(client, "a002")
    supervisor = auth(client, "boss")
    assert (
        client.post(
            "/api/live/agents/a002/state", json={"state": "ready"}, headers=a001
        ).status_code
        == 403
    )
    assert client.get("/api/live/agents/a002", headers=a001).status_code == 403
    # A supervisor may send an agent on a break, with a reason code from the center file.
    no_reason = client.post(
        "/api/live/agents/a002/state", json={"state": "not_ready"}, headers=supervisor
    )
    assert no_reason.status_code == 422
    ok = client.post(
        "/api/live/agents/a002/state",
        json={"state": "not_ready", "reason": "training"},
        headers=supervisor,
    )
    assert ok.status_code == 200
    assert client.get("/api/live/agents/a002", headers=a002).json()["reason"] == "training"
    # Answering a call that is not ringing at you is a conflict with the engine's reason.
    response = client.post("/api/live/agents/a002/contacts/nope/answer", headers=a002)
    assert response.status_code == 409 and "nope" in response.json()["message"]
    assert client.get("/api/live/wallboard", headers=a001).status_code == 403


def test_transfers_move_the_contact_to_a_queue_or_an_agent(client: TestClient) -> None:
    a001, a002, boss = auth(client, "a001"), auth(client, "a002"), auth(client, "boss")
    for agent, headers in (("a001", a001), ("a002", a002)):
        response = client.post(
            f"/api/live/agents/{agent}/state", json={"state": "ready"}, headers=headers
        )
        assert response.status_code == 200
    contact = client.post(
        "/api/live/contacts", json={"queue": "installation"}, headers=boss
    ).json()["contact_id"]
    holder = next(
        a
        for a, h in (("a001", a001), ("a002", a002))
        if (client.get(f"/api/live/agents/{a}", headers=h).json()["offer"] or {}).get("contact_id")
        == contact
    )
    other, mine, theirs = ("a002", a001, a002) if holder == "a001" else ("a001", a002, a001)
    base = f"/api/live/agents/{holder}/contacts/{contact}"
    assert client.post(f"{base}/answer", headers=mine).status_code == 200
    neither = client.post(f"{base}/transfer", json={}, headers=mine)
    assert neither.status_code == 422
    moved = client.post(f"{base}/transfer", json={"agent_id": other}, headers=mine)
    assert moved.status_code == 200, moved.text
    offer = client.get(f"/api/live/agents/{other}", headers=theirs).json()["offer"]
    assert offer["contact_id"] == contact and offer["kind"] == "transfer"
    # The first agent is free (or in wrap-up) and no longer holds the customer.
    assert client.post(f"{base}/hold", headers=mine).status_code == 409


def test_an_agent_feed_carries_only_that_agents_messages(client: TestClient) -> None:
    ticket = client.post("/api/auth/stream-ticket", headers=auth(client, "a001")).json()["ticket"]
    hub = client.app.state.hub  # type: ignore[attr-defined]
    client.cookies.clear()  # sign-in set a cookie; this is the header-less client a ticket is for
    with client.websocket_connect(f"/api/events/ws?ticket={ticket}") as socket:
        assert client.portal is not None
        # Another agent's caller, then this agent's own offer: only the second arrives.
        client.portal.call(hub.publish, {"type": "offer", "agent_id": "a002", "contact_id": "x"})
        client.portal.call(hub.publish, {"type": "wallboard", "queues": []})
        client.portal.call(hub.publish, {"type": "offer", "agent_id": "a001", "contact_id": "y"})
        assert socket.receive_json() == {"type": "offer", "agent_id": "a001", "contact_id": "y"}


def test_warm_transfer_through_a_consult(client: TestClient) -> None:
    first, second, boss = auth(client, "a001"), auth(client, "a002"), auth(client, "boss")
    base = "/api/live/agents/a001"
    assert client.post(f"{base}/state", json={"state": "ready"}, headers=first).status_code == 200
    placed = client.post(
        "/api/live/contacts",
        json={"queue": "installation", "customer": "13800138001"},
        headers=boss,
    )
    contact = placed.json()["contact_id"]
    assert client.post(f"{base}/contacts/{contact}/answer", headers=first).status_code == 200
    busy = client.post(
        f"{base}/contacts/{contact}/consult", json={"agent_id": "a002"}, headers=first
    )
    assert busy.status_code == 409  # a002 is not logged in, so not available
    ready = client.post("/api/live/agents/a002/state", json={"state": "ready"}, headers=second)
    assert ready.status_code == 200
    started = client.post(
        f"{base}/contacts/{contact}/consult", json={"agent_id": "a002"}, headers=first
    )
    assert started.status_code == 200 and "consult_started" in started.json()["events"]
    assert client.get(base, headers=first).json()["contacts"][0]["consulting"] == "a002"
    # Only the agent holding the contact may end the consult.
    refused = client.post(
        f"/api/live/agents/a002/contacts/{contact}/consult/end", json={}, headers=first
    )
    assert refused.status_code == 403
    done = client.post(
        f"{base}/contacts/{contact}/consult/end", json={"transfer": True}, headers=first
    )
    assert done.status_code == 200 and "consult_ended" in done.json()["events"]
    mine = client.get("/api/live/agents/a002", headers=second).json()
    assert [(c["contact_id"], c["stage"]) for c in mine["contacts"]] == [(contact, "talking")]
    assert contact not in [
        c["contact_id"]
        for c in client.get(base, headers=first).json()["contacts"]
        if c["stage"] != "wrap_up"
    ]


def test_an_agent_links_a_ticket_only_to_a_contact_in_their_hands(client: TestClient) -> None:
    """The desk opens tickets through ``POST /api/tickets`` with the contact in hand; an
    agent naming another agent's call must be refused, a supervisor may link any call."""
    a001, a002, boss = auth(client, "a001"), auth(client, "a002"), auth(client, "boss")
    assert (
        client.post("/api/live/agents/a001/state", json={"state": "ready"}, headers=a001)
    ).status_code == 200
    placed = client.post(
        "/api/live/contacts",
        json={"queue": "installation", "customer": "13800138000"},
        headers=boss,
    )
    contact = placed.json()["contact_id"]
    assert (
        client.get("/api/live/agents/a001", headers=a001).json()["offer"]["contact_id"] == contact
    )
    ticket = {"type": "installation", "subject": "空调安装预约", "queue": "installation"}
    theirs = client.post("/api/tickets", json={**ticket, "contact_id": contact}, headers=a002)
    assert theirs.status_code == 409 and contact in theirs.json()["message"]
    unknown = client.post("/api/tickets", json={**ticket, "contact_id": "c-none"}, headers=a001)
    assert unknown.status_code == 409
    own = client.post("/api/tickets", json={**ticket, "contact_id": contact}, headers=a001)
    assert own.status_code == 201, own.text
    assert (
        client.post(
            "/api/tickets", json={**ticket, "contact_id": contact}, headers=boss
        ).status_code
        == 201
    )
