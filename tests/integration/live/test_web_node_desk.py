"""An agent's state changes on a web node without the engine go into the partition's inbox.

The node (``app.state.partition``, as ``hotline serve --web-only`` sets it) has no driver:
the first ready or not ready signs the agent in (the log shows them signed out), later ones
are plain state changes, a supervisor's change is audited, and the reason codes are checked
as on a node with the engine. Each answer names the inbox row; the owner does the rest
(``test_web_node.py`` runs one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Event, EventKind
from hotline.core.settings import Settings
from hotline.store import event_log
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.core import AuditEntry
from hotline.web.app import create_app
from tests.integration.live.conftest import PASSWORD, SAMPLE, add_users


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    add_users(db_session, (("a001", ["agent"], "a001"), ("boss", ["supervisor"], None)))
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"),
        session_factory=session_factory,
        center=load_center(SAMPLE),
    )
    app.state.partition = "hefei"  # no live driver: a web node of the partition
    with TestClient(app) as test_client:
        yield test_client


def auth(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def inbox(db_session: Session) -> list[tuple[str, dict[str, Any]]]:
    rows = db_session.scalars(select(PartitionInboxRow).order_by(PartitionInboxRow.id))
    return [(row.kind, row.payload) for row in rows if row.partition == "hefei"]


def test_state_changes_on_a_web_node_go_to_the_partition_inbox(
    client: TestClient, db_session: Session
) -> None:
    agent, boss = auth(client, "a001"), auth(client, "boss")
    state = "/api/live/agents/a001/state"
    first = client.post(state, json={"state": "ready"}, headers=agent)
    assert first.status_code == 200, first.text
    assert first.json()["events"] == [] and first.json()["accepted"] > 0
    assert inbox(db_session) == [
        ("agent_login", {"agent_id": "a001", "ready": True, "reason": None})
    ]
    # The owner applied it: the log shows the agent available.
    event_log.append(
        db_session,
        [Event(1, 1.0, EventKind.AGENT_STATE, agent_id="a001", data={"state": "available"})],
    )
    db_session.commit()
    refused = client.post(state, json={"state": "not_ready", "reason": "nap"}, headers=agent)
    assert refused.status_code == 422 and "choose a reason code" in refused.text
    assert client.post(
        state, json={"state": "not_ready", "reason": "break"}, headers=agent
    ).is_success
    assert client.post(state, json={"state": "logout"}, headers=boss).is_success
    assert inbox(db_session)[1:] == [
        ("agent_not_ready", {"agent_id": "a001", "reason": "break"}),
        ("agent_logout", {"agent_id": "a001"}),
    ]
    audited = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "agent.state"))
    assert [(a.actor, a.target) for a in audited] == [("boss", "a001")]
    unknown = client.post("/api/live/agents/a999/state", json={"state": "ready"}, headers=boss)
    assert unknown.status_code == 404
