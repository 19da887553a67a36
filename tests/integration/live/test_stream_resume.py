"""A screen that lost its stream resumes from the last event it saw: the events logged in
between, then the live ones, none missing and none twice (WebSocket ``?after=``, SSE
``Last-Event-ID``); a position the log cannot continue gets a reload message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import WebSocketTestSession

from hotline.store.models.core import ContactEventRow
from tests.integration.live.conftest import PASSWORD, live_client


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(("a001", ["agent"], "a001"), ("boss", ["supervisor"], None)),
    ) as test_client:
        yield test_client


def auth(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def events_until(socket: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    """The next ``count`` event messages (boards between them skipped)."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        message = socket.receive_json()
        assert message["type"] != "reload", message
        if message["type"] == "event":
            events.append(message)
    return events


def logged_after(session_factory: sessionmaker[Session], position: int) -> list[int]:
    with session_factory() as session:
        return list(
            session.scalars(
                select(ContactEventRow.seq)
                .where(ContactEventRow.source == "live", ContactEventRow.seq > position)
                .order_by(ContactEventRow.seq)
            )
        )


def test_a_reconnecting_screen_gets_exactly_the_events_it_missed(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    agent, boss = auth(client, "a001"), auth(client, "boss")
    state = "/api/live/agents/a001/state"
    with client.websocket_connect("/api/events/ws", headers=boss) as socket:
        assert client.post(state, json={"state": "ready"}, headers=agent).status_code == 200
        seen = events_until(socket, 1)[-1]
        assert seen["position"] == seen["seq"]
    position = seen["seq"]
    # While the screen is away: a break, a caller waiting, back to ready (the offer).
    assert client.post(
        state, json={"state": "not_ready", "reason": "break"}, headers=agent
    ).is_success
    assert client.post(
        "/api/live/contacts", json={"queue": "installation"}, headers=boss
    ).is_success
    assert client.post(state, json={"state": "ready"}, headers=agent).is_success
    with client.websocket_connect(f"/api/events/ws?after={position}", headers=boss) as socket:
        replayed = events_until(socket, 1)
        # The driver wrote what it held before the log was read: the log has them all.
        missed = logged_after(session_factory, position)
        assert len(missed) >= 5 and missed == list(range(position + 1, missed[-1] + 1))
        replayed += events_until(socket, len(missed) - 1)
        assert [e["seq"] for e in replayed] == missed
        kinds = [e["kind"] for e in replayed]
        assert "arrived" in kinds and "offered" in kinds
        # Then live, numbered on from the last replayed event: nothing twice.
        assert client.post(
            "/api/live/contacts", json={"queue": "installation"}, headers=boss
        ).is_success
        live = events_until(socket, 1)[0]
        assert live["seq"] == missed[-1] + 1


def test_server_sent_events_resume_from_last_event_id_and_refuse_a_foreign_position(
    client: TestClient,
) -> None:
    agent, boss = auth(client, "a001"), auth(client, "boss")
    assert client.post(
        "/api/live/agents/a001/state", json={"state": "ready"}, headers=agent
    ).is_success
    with client.websocket_connect("/api/events/ws?after=0", headers=boss) as socket:
        first = events_until(socket, 1)[0]  # the whole log from its start: still today
    assert first["seq"] == 1
    # Each message names the server run its position came from; a position this run numbered
    # seen from another run (a killed server's, never written) gets a reload.
    run = client.app.state.live.run_id  # type: ignore[attr-defined]
    assert first["run"] == run
    foreign = "/api/events/stream?after=1&run=0ther"
    with client.stream("GET", foreign, headers=boss) as response:
        data = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert "shown by a server run that ended before writing it" in json.loads(data[0][6:])["reason"]
    with client.websocket_connect(f"/api/events/ws?after=0&run={run}", headers=boss) as socket:
        assert events_until(socket, 1)[0]["seq"] == 1  # its own run's: resumed as before
    assert client.get("/api/events/stream?after=1&run=x!", headers=boss).status_code == 422
    headers = {**boss, "last-event-id": "0"}
    with client.stream("GET", "/api/events/stream?after=999", headers=headers) as response:
        lines = response.iter_lines()
        ids: list[int] = []
        for line in lines:
            if line.startswith("id: "):
                ids.append(int(line[4:]))
            elif line.startswith("data: ") and json.loads(line[6:])["type"] == "event":
                break
    # The header (what a reconnecting EventSource sends) takes the place of ?after=.
    assert ids[0] == 1
    with client.stream("GET", "/api/events/stream?after=999", headers=boss) as response:
        data = [line for line in response.iter_lines() if line.startswith("data: ")]
    reload = json.loads(data[0][6:])
    assert len(data) == 1 and reload["type"] == "reload"
    assert "ahead of the log" in reload["reason"]
    assert client.get("/api/events/stream?after=-1", headers=boss).status_code == 422
    bad = {**boss, "last-event-id": "x"}
    assert client.get("/api/events/stream", headers=bad).status_code == 422
