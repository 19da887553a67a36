"""Web nodes keep no state of their own: a stream ticket issued by one opens a stream on another.

Two apps on the same database stand for two web nodes behind a load balancer. The ticket a
browser got from node A opens the live-event WebSocket on node B (a reconnect that landed on
another node), once: neither node opens a second stream with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from hotline.core.settings import Settings
from hotline.web.app import create_app
from tests.integration.web.conftest import SAMPLE, with_staff


@pytest.fixture
def node_b(
    app_client: TestClient, session_factory: sessionmaker[Session], tmp_path: Path
) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path / "b", secret_key="test-secret")
    app = create_app(settings=settings, session_factory=session_factory, center=with_staff(SAMPLE))
    with TestClient(app) as client:
        yield client


def _opens(client: TestClient, url: str) -> bool:
    hub = cast(FastAPI, client.app).state.hub
    try:
        with client.websocket_connect(url) as socket:
            assert client.portal is not None
            client.portal.call(hub.publish, {"kind": "probe"})
            return bool(socket.receive_json() == {"kind": "probe"})
    except WebSocketDisconnect as closed:
        assert closed.code == 4403
        return False


def test_a_ticket_from_one_node_opens_one_stream_on_another(
    app_client: TestClient, node_b: TestClient, token_for: Callable[[str], str]
) -> None:
    headers = {"Authorization": f"Bearer {token_for('supervisor')}"}
    ticket = app_client.post("/api/auth/stream-ticket", headers=headers).json()["ticket"]
    second = app_client.post("/api/auth/stream-ticket", headers=headers).json()["ticket"]
    app_client.cookies.clear()
    assert _opens(node_b, f"/api/events/ws?ticket={ticket}")
    assert not _opens(app_client, f"/api/events/ws?ticket={ticket}")
    assert not _opens(node_b, f"/api/events/ws?ticket={ticket}")
    with node_b.stream("GET", f"/api/events/stream?ticket={second}") as response:
        assert response.status_code == 200
        assert next(response.iter_lines()) == ": connected"
    assert app_client.get(f"/api/events/stream?ticket={second}").status_code == 401
