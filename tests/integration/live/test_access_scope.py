"""Team leads see and change only their own team's agents; WFM never reads a caller's number.

The sample center's team t-repair is led by agent a011; a002 is in t-install.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.live.conftest import PASSWORD, live_client

NUMBER = "13800138000"


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(
            ("a002", ["agent"], "a002"),
            ("lead", ["team_lead"], "a011"),
            ("boss", ["supervisor"], None),
            ("planner", ["wfm"], None),
        ),
    ) as test_client:
        yield test_client


def token(client: TestClient, username: str) -> str:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def auth(client: TestClient, username: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token(client, username)}"}


def test_a_team_lead_sees_and_changes_only_their_own_team(
    client: TestClient, db_session: Session
) -> None:
    lead, boss = auth(client, "lead"), auth(client, "boss")
    assert client.get("/api/live/agents/a012", headers=lead).status_code == 200
    assert client.get("/api/live/agents/a011", headers=lead).status_code == 200
    other = client.get("/api/live/agents/a002", headers=lead)
    assert other.status_code == 403
    assert "a002" in other.json()["message"]

    send_on_break = {"state": "not_ready", "reason": "training"}
    ours = client.post("/api/live/agents/a012/state", json=send_on_break, headers=lead)
    assert ours.status_code == 200, ours.text
    theirs = client.post("/api/live/agents/a002/state", json=send_on_break, headers=lead)
    assert theirs.status_code == 403
    # The refused change did not happen.
    assert client.get("/api/live/agents/a002", headers=boss).json()["state"] == "logged_out"
    # The lead's change to another person's state is on the record; the refused one is not.
    from hotline.identity import audit

    entries = [
        (e.actor, e.target, e.detail)
        for e in audit.newest(db_session, limit=50)
        if e.action == "agent.state"
    ]
    assert entries == [("lead", "a012", {"state": "not_ready", "reason": "training"})]

    board = client.get("/api/live/wallboard", headers=lead).json()
    assert {row["team"] for row in board["agents"]} == {"t-repair"}
    assert "a012" in {row["id"] for row in board["agents"]}
    assert len(board["queues"]) == len(
        client.get("/api/live/wallboard", headers=boss).json()["queues"]
    )
    everyone = client.get("/api/live/wallboard", headers=boss).json()["agents"]
    assert {row["team"] for row in everyone} >= {"t-install", "t-repair"}


def test_wfm_reads_agent_detail_without_the_callers_number(client: TestClient) -> None:
    agent, boss, planner = auth(client, "a002"), auth(client, "boss"), auth(client, "planner")
    assert (
        client.post("/api/live/agents/a002/state", json={"state": "ready"}, headers=agent)
    ).status_code == 200
    placed = client.post(
        "/api/live/contacts",
        json={"queue": "installation", "customer": NUMBER, "subject": "空调安装"},
        headers=boss,
    )
    assert placed.status_code == 201, placed.text
    seen_by_supervisor = client.get("/api/live/agents/a002", headers=boss).json()
    assert seen_by_supervisor["offer"]["attached"]["customer"] == NUMBER
    seen_by_wfm = client.get("/api/live/agents/a002", headers=planner)
    assert seen_by_wfm.status_code == 200
    assert NUMBER not in seen_by_wfm.text
    assert seen_by_wfm.json()["offer"]["attached"]["customer"] == "*******8000"


def test_the_live_feed_is_scoped_and_masked_per_screen(client: TestClient) -> None:
    hub = client.app.state.hub  # type: ignore[attr-defined]
    theirs = {"type": "offer", "agent_id": "a002", "attached": {"customer": NUMBER}}
    ours = {"type": "offer", "agent_id": "a012", "attached": {"customer": NUMBER}}
    board = {
        "type": "wallboard",
        "queues": [],
        "agents": [{"id": "a002", "team": "t-install"}, {"id": "a012", "team": "t-repair"}],
    }
    with client.websocket_connect(f"/api/events/ws?token={token(client, 'lead')}") as socket:
        assert client.portal is not None  # the client's event loop, while the socket is open
        client.portal.call(hub.publish, theirs)
        client.portal.call(hub.publish, board)
        client.portal.call(hub.publish, ours)
        # The other team's offer never arrives; the board arrives with this team's rows only.
        assert socket.receive_json()["agents"] == [{"id": "a012", "team": "t-repair"}]
        assert socket.receive_json() == ours
    with client.websocket_connect(f"/api/events/ws?token={token(client, 'planner')}") as socket:
        assert client.portal is not None
        client.portal.call(hub.publish, theirs)
        assert socket.receive_json()["attached"] == {"customer": "*******8000"}


def test_the_reports_page_export_is_cut_to_the_team_leads_agents(
    client: TestClient, db_session: Session
) -> None:
    from datetime import date, datetime

    from hotline.metrics import service as metrics
    from hotline.metrics.records import ContactRecord

    at = datetime(2026, 11, 2, 10, 0).timestamp()
    records = [
        ContactRecord(
            contact_id=f"r-{agent}",
            arrived_at=at,
            queued_at=at,
            answered_at=at + 5,
            agent=agent,
            queue="repair",
            outcome="answered",
            talk_s=120.0,
        )
        for agent in ("a002", "a012")
    ]
    metrics.import_records(session=db_session, records=records, source="scope-history")
    db_session.commit()
    day = date(2026, 11, 2).isoformat()

    def export(username: str, by: str) -> str:
        client.cookies.clear()
        response = client.get(
            f"/reports/export?format=csv&interval=all&from={day}&by={by}",
            headers=auth(client, username),
        )
        assert response.status_code == 200, response.text
        return response.text

    assert "a002" in export("boss", "agent") and "a012" in export("boss", "agent")
    assert "a012" in export("lead", "agent") and "a002" not in export("lead", "agent")
    assert "t-install" in export("boss", "team")
    assert "t-install" not in export("lead", "team") and "t-repair" in export("lead", "team")
