"""A web node without the engine: state changes and desk actions go into the partition's
inbox, and the desk view and the wallboard are drawn from the event log.

The node (``app.state.partition`` and ``app.state.log_board``, as ``hotline serve --web-only``
sets them) has no driver: the first ready or not ready signs the agent in (the log shows them
signed out), later ones are plain state changes, a supervisor's change is audited, and the
reason codes are checked as on a node with the engine. Answer, hold, resume, transfer,
hang-up and wrap-up are checked against the log (409 when it shows them impossible, 422 for a
disposition the center does not know) and become inbox rows the owner reads back into the
engine's commands. Each answer names the inbox row; the owner does the rest
(``test_web_node.py`` runs one). Here the log tail's part — folding the owner's events into
the node's board — is played by hand, so each view follows exactly the events given.
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
from hotline.live.log_board import LogBoard
from hotline.live.ownership import inbox_command
from hotline.routing.model import (
    ContactEnded,
    ContactHeld,
    ContactResumed,
    OfferAnswered,
    TransferredToQueue,
    WrapUpEnded,
)
from hotline.store import event_log
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.core import AuditEntry
from hotline.web.app import create_app
from tests.integration.live.conftest import PASSWORD, SAMPLE, add_users


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    add_users(
        db_session,
        (
            ("a001", ["agent"], "a001"),
            ("a002", ["agent"], "a002"),
            ("boss", ["supervisor"], None),
        ),
    )
    center = load_center(SAMPLE)
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"),
        session_factory=session_factory,
        center=center,
    )
    app.state.partition = "hefei"  # no live driver: a web node of the partition
    app.state.log_board = LogBoard(center)  # fed by hand below (the log tail's part)
    with TestClient(app) as test_client:
        yield test_client


def auth(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def inbox(db_session: Session) -> list[tuple[str, dict[str, Any]]]:
    return [(row.kind, row.payload) for row in inbox_rows(db_session)]


def inbox_rows(db_session: Session) -> list[PartitionInboxRow]:
    rows = db_session.scalars(select(PartitionInboxRow).order_by(PartitionInboxRow.id))
    return [row for row in rows if row.partition == "hefei"]


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


def test_the_desk_and_the_wallboard_on_a_web_node_follow_the_log(
    client: TestClient, db_session: Session
) -> None:
    board: LogBoard = client.app.state.log_board  # type: ignore[attr-defined]
    seq = 0

    def owner_wrote(*events: tuple[EventKind, str | None, dict[str, Any]]) -> None:
        """Events the owner committed, as the log tail folds them (a001's, at 100 s on)."""
        nonlocal seq
        folded = []
        for kind, contact, data in events:
            seq += 1
            queue = data.pop("queue", None)
            agent = None if kind in (EventKind.ARRIVED, EventKind.QUEUED) else "a001"
            folded.append(Event(seq, 100.0 + seq, kind, contact, agent, queue, data=data))
        board.record(folded)

    agent, other, boss = auth(client, "a001"), auth(client, "a002"), auth(client, "boss")
    desk = "/api/live/agents/a001"
    c1 = f"{desk}/contacts/c1"
    owner_wrote(
        (EventKind.AGENT_STATE, None, {"state": "available"}),
        (EventKind.ARRIVED, "c1", {"queue": "installation", "customer": "13800001111"}),
        (EventKind.QUEUED, "c1", {"queue": "installation"}),
    )
    wall = client.get("/api/live/wallboard", headers=boss)
    assert wall.status_code == 200, wall.text
    queues = {q["id"]: q for q in wall.json()["queues"]}
    assert queues["installation"]["waiting"] == 1 and queues["repair"]["waiting"] == 0
    assert {a["id"]: a["state"] for a in wall.json()["agents"]}["a001"] == "available"
    assert client.get("/api/live/wallboard", headers=agent).status_code == 403

    # Offered: the desk shows it ringing; only answering (or declining) fits.
    owner_wrote(
        (EventKind.OFFERED, "c1", {"queue": "installation", "kind": "queue"}),
        (EventKind.AGENT_STATE, None, {"state": "reserved"}),
    )
    view = client.get(desk, headers=agent)
    assert view.status_code == 200, view.text
    assert view.json()["state"] == "reserved"
    assert view.json()["offer"]["contact_id"] == "c1"
    assert view.json()["offer"]["attached"]["customer"] == "13800001111"
    assert client.get(desk, headers=other).status_code == 403
    pop = client.get(f"{c1}/screen-pop", headers=agent)
    assert pop.status_code == 200, pop.text
    assert pop.json()["attached"]["customer"] == "13800001111"
    assert client.get(f"{desk}/contacts/c9/screen-pop", headers=agent).status_code == 409
    wrap = client.post(f"{c1}/wrap-up", json={"disposition": "resolved"}, headers=agent)
    assert wrap.status_code == 409 and "the log shows it ringing" in wrap.text
    assert client.post(f"{c1}/hold", headers=agent).status_code == 409
    assert client.post(f"{desk}/contacts/c9/answer", headers=agent).status_code == 409
    assert client.post(f"{c1}/answer", headers=other).status_code == 403
    answered = client.post(f"{c1}/answer", headers=agent)
    assert answered.status_code == 200, answered.text
    assert answered.json()["events"] == [] and answered.json()["accepted"] > 0

    # Talking: hold and resume as the log shows the hold; a transfer's target is checked.
    owner_wrote(
        (EventKind.ANSWERED, "c1", {"queue": "installation"}),
        (EventKind.AGENT_STATE, None, {"state": "on_contact"}),
    )
    assert client.get(desk, headers=agent).json()["contacts"][0]["stage"] == "talking"
    assert client.post(f"{c1}/resume", headers=agent).status_code == 409
    assert client.post(f"{c1}/hold", headers=agent).status_code == 200
    owner_wrote((EventKind.HELD, "c1", {}))
    again = client.post(f"{c1}/hold", headers=agent)
    assert again.status_code == 409 and "already on hold" in again.text
    assert client.post(f"{c1}/resume", headers=agent).status_code == 200
    nowhere = client.post(f"{c1}/transfer", json={"queue": "nowhere"}, headers=agent)
    assert nowhere.status_code == 409 and "unknown queue" in nowhere.text
    away = client.post(f"{c1}/transfer", json={"agent_id": "a002"}, headers=agent)
    assert away.status_code == 409 and "logged_out" in away.text
    assert client.post(f"{c1}/transfer", json={"queue": "repair"}, headers=agent).is_success
    assert client.post(f"{c1}/hangup", headers=agent).status_code == 200

    # Wrap-up: only once the log shows it, with a disposition the center knows.
    owner_wrote(
        (EventKind.RESUMED, "c1", {}),
        (EventKind.DISCONNECTED, "c1", {}),
        (EventKind.AGENT_STATE, None, {"state": "wrap_up"}),
    )
    assert client.get(desk, headers=agent).json()["contacts"][0]["stage"] == "wrap_up"
    bad = client.post(f"{c1}/wrap-up", json={"disposition": "nap"}, headers=agent)
    assert bad.status_code == 422 and "choose a disposition" in bad.text
    done = client.post(f"{c1}/wrap-up", json={"disposition": "resolved"}, headers=agent)
    assert done.status_code == 200, done.text

    # The owner reads each row back into the engine's command.
    commands = [inbox_command(row, 200.0) for row in inbox_rows(db_session)]
    assert commands == [
        OfferAnswered(at=200.0, contact_id="c1", agent_id="a001"),
        ContactHeld(at=200.0, contact_id="c1"),
        ContactResumed(at=200.0, contact_id="c1"),
        TransferredToQueue(at=200.0, contact_id="c1", queue="repair"),
        ContactEnded(at=200.0, contact_id="c1"),
        WrapUpEnded(at=200.0, agent_id="a001", contact_id="c1", disposition="resolved"),
    ]
