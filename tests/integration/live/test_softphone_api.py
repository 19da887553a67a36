"""The desk softphone's registration route hands an agent their own SIP password, on the record.

``GET /api/live/agents/{id}/softphone`` answers the signed-in agent only; every answer that
carries the password writes a ``softphone.credentials`` audit entry, and answers without one
(no phone, no WebSocket) write none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.identity import audit
from hotline.telephony.ports import AgentPhone
from tests.integration.live.conftest import live_client
from tests.integration.live.test_access_scope import auth


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
        options = SimpleNamespace(
            ws_port=5066, realm="hotline", phones=(AgentPhone("a001", "1001", "s3cret-1001"),)
        )
        test_client.app.state.voice = SimpleNamespace(options=options)  # type: ignore[attr-defined]
        yield test_client


def _credentials_entries(db_session: Session) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (e.actor, e.target, e.detail)
        for e in audit.newest(db_session, limit=50)
        if e.action == "softphone.credentials"
    ]


def test_handing_out_the_sip_password_is_audited(client: TestClient, db_session: Session) -> None:
    own = client.get("/api/live/agents/a001/softphone", headers=auth(client, "a001"))
    assert own.status_code == 200, own.text
    assert own.json()["password"] == "s3cret-1001"
    # someone else's credentials: refused at the door, and nothing handed out to audit
    other = client.get("/api/live/agents/a001/softphone", headers=auth(client, "a002"))
    assert other.status_code == 403
    assert (
        client.get("/api/live/agents/a001/softphone", headers=auth(client, "boss")).status_code
        == 403
    )
    # an agent without a phone gets no password, and no entry
    none = client.get("/api/live/agents/a002/softphone", headers=auth(client, "a002"))
    assert none.json() == {
        "available": False,
        "reason": "no_phone",
        "websocket_port": None,
        "user": None,
        "password": None,
        "realm": None,
    }
    db_session.expire_all()
    assert _credentials_entries(db_session) == [("a001", "a001", {"sip_user": "1001"})]
