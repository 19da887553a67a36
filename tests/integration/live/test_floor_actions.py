"""Supervisor actions through the API: waiting contacts listed (callers masked per policy),
moved, picked; a stuck agent logged out; team leads only for their own teams; all audited.

The sample center's team t-repair is led by agent a011; a002 and a003 are in t-install.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.identity import audit
from tests.integration.live.conftest import live_client
from tests.integration.live.test_access_scope import auth

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
            ("boss", ["supervisor"], "a005"),
            ("planner", ["wfm"], None),
        ),
    ) as test_client:
        yield test_client


def _state(client: TestClient, agent: str, headers: dict[str, str], **body: str) -> None:
    answer = client.post(f"/api/live/agents/{agent}/state", json=body, headers=headers)
    assert answer.status_code == 200, answer.text


def _place(client: TestClient, queue: str, headers: dict[str, str]) -> str:
    placed = client.post(
        "/api/live/contacts", json={"queue": queue, "customer": NUMBER}, headers=headers
    )
    assert placed.status_code == 201, placed.text
    return str(placed.json()["contact_id"])


def test_waiting_contacts_are_listed_in_order_with_callers_masked_for_wfm(
    client: TestClient,
) -> None:
    boss, planner = auth(client, "boss"), auth(client, "planner")
    _state(client, "a002", boss, state="not_ready", reason="break")
    first, second = _place(client, "installation", boss), _place(client, "installation", boss)
    rows = client.get("/api/live/waiting", headers=boss).json()["contacts"]
    assert [(r["contact_id"], r["queue"], r["position"]) for r in rows] == [
        (first, "installation", 1),
        (second, "installation", 2),
    ]
    assert rows[0]["customer"] == NUMBER
    masked = client.get("/api/live/waiting", headers=planner)
    assert masked.status_code == 200
    assert NUMBER not in masked.text


def test_moves_picks_and_a_forced_logout_are_done_and_audited(
    client: TestClient, db_session: Session
) -> None:
    boss = auth(client, "boss")
    for agent in ("a002", "a005"):
        _state(client, agent, boss, state="not_ready", reason="break")
    contact = _place(client, "installation", boss)
    moved = client.post(
        f"/api/live/contacts/{contact}/move", json={"queue": "complaints"}, headers=boss
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["events"][0] == "overflowed"
    [row] = client.get("/api/live/waiting", headers=boss).json()["contacts"]
    assert row["queue"] == "complaints"
    # Nobody is ready: an agent cannot be offered it, and the refusal says why.
    refused = client.post(f"/api/live/contacts/{contact}/pick", headers=boss)
    assert refused.status_code == 409
    assert "not available" in refused.json()["message"]
    _state(client, "a005", boss, state="ready")
    picked = client.post(f"/api/live/contacts/{contact}/pick", headers=boss)
    assert picked.status_code == 200, picked.text
    assert client.get("/api/live/agents/a005", headers=boss).json()["offer"]["contact_id"] == (
        contact
    )
    assert client.get("/api/live/waiting", headers=boss).json()["contacts"] == []
    # a005's phone rings unanswered: logged out by force, the contact back in line.
    out = client.post("/api/live/agents/a005/force-logout", headers=boss)
    assert out.status_code == 200, out.text
    assert client.get("/api/live/agents/a005", headers=boss).json()["state"] == "logged_out"
    assert [
        r["contact_id"] for r in client.get("/api/live/waiting", headers=boss).json()["contacts"]
    ] == [contact]
    entries = [
        (e.action, e.target, e.detail)
        for e in reversed(audit.newest(db_session, limit=50))
        if e.actor == "boss" and e.action.startswith(("contact.", "agent.force"))
    ]
    assert entries == [
        ("contact.move", contact, {"queue": "complaints"}),
        ("contact.pick", contact, {}),
        ("agent.force_logout", "a005", {"closed": [contact]}),
    ]


def test_an_agent_on_a_call_is_not_logged_out_by_force(client: TestClient) -> None:
    boss, agent = auth(client, "boss"), auth(client, "a002")
    _state(client, "a002", agent, state="ready")
    contact = _place(client, "installation", boss)
    answered = client.post(f"/api/live/agents/a002/contacts/{contact}/answer", headers=agent)
    assert answered.status_code == 200, answered.text
    refused = client.post("/api/live/agents/a002/force-logout", headers=boss)
    assert refused.status_code == 409
    assert contact in refused.json()["message"]
    assert client.get("/api/live/agents/a002", headers=boss).json()["state"] == "on_contact"


def test_a_team_lead_acts_only_on_their_own_teams_agents_and_moves_no_queues(
    client: TestClient,
) -> None:
    boss, lead = auth(client, "boss"), auth(client, "lead")
    _state(client, "a002", boss, state="not_ready", reason="break")
    _state(client, "a012", lead, state="ready")  # t-repair, the lead's own team
    contact = _place(client, "complaints", boss)  # nobody serves complaints
    assert client.post("/api/live/agents/a002/force-logout", headers=lead).status_code == 403
    other = client.post(
        f"/api/live/contacts/{contact}/move", json={"agent_id": "a002"}, headers=lead
    )
    assert other.status_code == 403
    queue = client.post(
        f"/api/live/contacts/{contact}/move", json={"queue": "repair"}, headers=lead
    )
    assert queue.status_code == 403
    ours = client.post(
        f"/api/live/contacts/{contact}/move", json={"agent_id": "a012"}, headers=lead
    )
    assert ours.status_code == 200, ours.text
    assert client.get("/api/live/agents/a012", headers=lead).json()["offer"]["contact_id"] == (
        contact
    )


def test_bad_moves_are_refused_with_the_rule_broken(client: TestClient) -> None:
    boss = auth(client, "boss")
    _state(client, "a002", boss, state="not_ready", reason="break")
    contact = _place(client, "installation", boss)
    both = client.post(
        f"/api/live/contacts/{contact}/move",
        json={"queue": "repair", "agent_id": "a002"},
        headers=boss,
    )
    assert both.status_code == 422
    assert "either a queue or an agent_id" in both.text
    unknown = client.post(
        f"/api/live/contacts/{contact}/move", json={"queue": "nowhere"}, headers=boss
    )
    assert unknown.status_code == 422
    assert "unknown queue 'nowhere'" in unknown.text
    gone = client.post("/api/live/contacts/no-such/move", json={"queue": "repair"}, headers=boss)
    assert gone.status_code == 409
