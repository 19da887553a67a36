"""The desk's transfer to an outside number through the API: the number's form and the center
file's ``transfer_numbers`` (422 naming the field and the rule), only the agent holding the
call (403 for anyone else), only a phone call (409), the voice server's refusal passed on
(409 with its reason), and the audit record.

The voice server's side is an in-tree fake; the transfer itself is tested with the driver
in ``tests/unit/telephony/test_transfer_out.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.identity import audit
from hotline.telephony.ports import TransferRefused
from tests.integration.live.conftest import SAMPLE, live_client
from tests.integration.live.test_live_api import auth

MOBILES = "1[3-9][0-9]{9}"
BASE = "/api/live/agents/a001/contacts"


class FakeVoice:
    """The voice driver's outside transfer, for one phone call (an in-tree fake)."""

    def __init__(self, contact_id: str, *, refuse: str | None = None) -> None:
        self.contact_id = contact_id
        self.refuse = refuse
        self.transferred: list[tuple[str, str]] = []

    def handles(self, contact_id: str) -> bool:
        return contact_id == self.contact_id

    def transfer_out(self, contact_id: str, number: str) -> None:
        if self.refuse:
            raise TransferRefused(self.refuse)
        self.transferred.append((contact_id, number))


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    center = load_center(SAMPLE).model_copy(update={"transfer_numbers": [MOBILES]})
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        center=center,
        users=(
            ("a001", ["agent"], "a001"),
            ("a002", ["agent"], "a002"),
            ("boss", ["supervisor"], None),
        ),
    ) as test_client:
        yield test_client


def _talking(client: TestClient) -> str:
    """a001 answers a contact placed in the installation queue; its id."""
    agent, boss = auth(client, "a001"), auth(client, "boss")
    client.post("/api/live/agents/a001/state", json={"state": "ready"}, headers=agent)
    placed = client.post("/api/live/contacts", json={"queue": "installation"}, headers=boss)
    contact: str = placed.json()["contact_id"]
    assert client.post(f"{BASE}/{contact}/answer", headers=agent).status_code == 200
    return contact


def test_the_number_is_checked_and_only_the_agent_holding_a_phone_call_may(
    client: TestClient,
) -> None:
    contact = _talking(client)
    url = f"{BASE}/{contact}/transfer"
    agent = auth(client, "a001")
    bad_form = client.post(url, json={"number": "139-0000"}, headers=agent)
    assert bad_form.status_code == 422 and "number" in bad_form.text
    both = client.post(url, json={"number": "13900001111", "queue": "repair"}, headers=agent)
    assert both.status_code == 422
    assert "exactly one of queue, agent_id or number" in both.text
    listed = client.post(url, json={"number": "4008009000"}, headers=agent)
    assert listed.status_code == 422
    [problem] = listed.json()["problems"]
    assert problem["field"] == "body.number"
    assert (
        f"4008009000 matches none of the center file's transfer_numbers ({MOBILES})"
        in (problem["problem"])
    )
    for other in ("a002", "boss"):
        assert (
            client.post(
                url, json={"number": "13900001111"}, headers=auth(client, other)
            ).status_code
            == 403
        )
    not_a_call = client.post(url, json={"number": "13900001111"}, headers=agent)
    assert not_a_call.status_code == 409
    assert "not a phone call" in not_a_call.json()["message"]


def test_a_phone_call_goes_to_the_voice_server_and_is_audited(
    client: TestClient, db_session: Session
) -> None:
    contact = _talking(client)
    url = f"{BASE}/{contact}/transfer"
    agent = auth(client, "a001")
    refusing = FakeVoice(contact, refuse="no trunk to dial an outside number by")
    client.app.state.voice = SimpleNamespace(parts=object(), center=refusing)  # type: ignore[attr-defined]
    refused = client.post(url, json={"number": "13900001111"}, headers=agent)
    assert refused.status_code == 409
    assert refused.json()["message"] == "no trunk to dial an outside number by"
    voice = FakeVoice(contact)
    client.app.state.voice = SimpleNamespace(parts=object(), center=voice)  # type: ignore[attr-defined]
    done = client.post(url, json={"number": "13900001111"}, headers=agent)
    assert done.status_code == 200, done.text
    assert done.json() == {"ok": True, "events": [], "phone": True}
    assert voice.transferred == [(contact, "13900001111")]
    entries = [e for e in audit.newest(db_session) if e.action == "voice.transfer_out"]
    assert [(e.actor, e.target, e.detail) for e in entries] == [
        ("a001", contact, {"agent_id": "a001", "number": "13900001111"})
    ]
