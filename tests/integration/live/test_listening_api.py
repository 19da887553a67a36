"""Listening in through the API: who may (supervisors and managers on every call, a team lead
on their own teams' calls, agents never), what is refused and why, and the audit record.

The voice server's side is an in-tree fake holding two connected calls: a002's (t-install)
and a012's (t-repair, led by a011). The real sessions are tested in
``tests/unit/telephony/test_supervision.py`` and with real phones in
``tests/e2e/telephony/test_one_engine.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.identity import audit
from hotline.telephony.media.g711 import Mode
from hotline.telephony.supervision import Session as Supervision
from hotline.telephony.supervision import SupervisionRefused
from tests.integration.live.conftest import live_client
from tests.integration.live.test_access_scope import auth

INSTALL_CALL, REPAIR_CALL = "v-install", "v-repair"


class FakeVoice:
    """The voice server as the listening routes use it: connected calls, supervisors' phones
    and the sessions (an in-tree fake, not a mock)."""

    def __init__(self, registered: set[str]) -> None:
        self.registered = registered
        self.calls = {
            INSTALL_CALL: SimpleNamespace(finished=False, agent_id="a002", answered_at=1.0),
            REPAIR_CALL: SimpleNamespace(finished=False, agent_id="a012", answered_at=1.0),
            "v-ringing": SimpleNamespace(finished=False, agent_id=None, answered_at=None),
        }
        self.supervisions = SimpleNamespace(
            by_contact={}, stop=self.stop, switch=self.switch, coaching=self.coaching
        )
        self.stopped: list[tuple[str, str]] = []

    def supervise(self, contact_id: str, *, supervisor: str, mode: Mode) -> Supervision:
        if supervisor not in self.registered:
            raise SupervisionRefused(f"{supervisor} has no registered phone")
        if contact_id in self.supervisions.by_contact:
            raise SupervisionRefused(f"somebody already supervises {contact_id}")
        agent_id = self.calls[contact_id].agent_id
        session = Supervision(contact_id, supervisor, agent_id, mode, "sv-1", 1.5)
        self.supervisions.by_contact[contact_id] = session
        return session

    def switch(self, contact_id: str, *, mode: Mode) -> Mode:
        session: Supervision = self.supervisions.by_contact[contact_id]
        previous, session.mode = session.mode, mode
        return previous

    def coaching(self, agent_id: str) -> Supervision | None:
        sessions = self.supervisions.by_contact.values()
        return next(
            (s for s in sessions if s.agent_id == agent_id and s.answered and s.coaching), None
        )

    def stop(self, contact_id: str, *, by: str) -> Supervision:
        session: Supervision = self.supervisions.by_contact.pop(contact_id)
        session.stopped_by = by
        self.stopped.append((contact_id, by))
        return session


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
            ("chief", ["manager"], None),
        ),
    ) as test_client:
        yield test_client


def _with_voice(client: TestClient, voice: FakeVoice) -> None:
    client.app.state.voice = SimpleNamespace(parts=object(), center=voice)  # type: ignore[attr-defined]


def test_without_a_voice_server_listening_is_unavailable(client: TestClient) -> None:
    boss = auth(client, "boss")
    answer = client.post(f"/api/live/calls/{INSTALL_CALL}/supervise", headers=boss, json={})
    assert answer.status_code == 503
    assert client.get("/api/live/supervisions", headers=boss).status_code == 503


def test_who_may_listen_to_which_call(client: TestClient) -> None:
    _with_voice(client, FakeVoice(registered={"boss", "lead", "a002"}))
    listen = {"mode": "listen"}
    agent, lead = auth(client, "a002"), auth(client, "lead")
    install, repair = (f"/api/live/calls/{c}/supervise" for c in (INSTALL_CALL, REPAIR_CALL))
    # agents never listen, not even to their own call
    assert client.post(install, headers=agent, json=listen).status_code == 403
    # a team lead only to their own team's agents' calls
    other_team = client.post(install, headers=lead, json=listen)
    assert other_team.status_code == 403
    assert "a002 is not in your team" in other_team.json()["message"]
    own_team = client.post(repair, headers=lead, json=listen)
    assert own_team.status_code == 201, own_team.text
    # and sees only those sessions
    boss = auth(client, "boss")
    assert client.post(install, headers=boss, json=listen).status_code == 201
    seen = client.get("/api/live/supervisions", headers=lead).json()["sessions"]
    assert [s["contact_id"] for s in seen] == [REPAIR_CALL]
    everything = client.get("/api/live/supervisions", headers=boss).json()["sessions"]
    assert {s["contact_id"] for s in everything} == {INSTALL_CALL, REPAIR_CALL}
    assert client.delete(install, headers=lead).status_code == 403  # not theirs to stop


def test_listening_is_refused_with_the_reason_and_audited_when_it_starts(
    client: TestClient, db_session: Session
) -> None:
    _with_voice(client, FakeVoice(registered={"boss"}))
    boss, chief = auth(client, "boss"), auth(client, "chief")
    route = f"/api/live/calls/{INSTALL_CALL}/supervise"
    for missing in ("v-nobody", "v-ringing"):  # no call; a call no agent answered yet
        answer = client.post(f"/api/live/calls/{missing}/supervise", headers=boss, json={})
        assert answer.status_code == 404, answer.text
        assert f"no live call {missing}" in answer.json()["message"]
    unknown = client.post(route, headers=boss, json={"mode": "spy"})
    assert unknown.status_code == 422  # ChanSpy's three modes only
    no_phone = client.post(route, headers=chief, json={"mode": "listen"})
    assert no_phone.status_code == 409
    assert "chief has no registered phone" in no_phone.json()["message"]
    started = client.post(route, headers=boss, json={"mode": "listen"})
    assert started.status_code == 201, started.text
    assert started.json() == {
        "contact_id": INSTALL_CALL,
        "supervisor": "boss",
        "agent_id": "a002",
        "mode": "listen",
        "connected": False,
        "started_at": 1.5,
    }
    assert client.post(route, headers=boss, json={}).status_code == 409  # once per call
    stopped = client.delete(route, headers=chief)  # a manager may stop it
    assert stopped.status_code == 200, stopped.text
    assert client.app.state.voice.center.stopped == [(INSTALL_CALL, "chief")]  # type: ignore[attr-defined]
    assert client.delete(route, headers=chief).status_code == 404  # nobody listens now
    entries = [
        (e.actor, e.action, e.target, e.detail)
        for e in audit.newest(db_session, limit=20)
        if e.action.startswith("call.")
    ]
    assert entries == [("boss", "call.listen", INSTALL_CALL, {"agent_id": "a002"})]


def test_whisper_and_barge_have_the_rights_of_listening_and_are_audited(
    client: TestClient, db_session: Session
) -> None:
    _with_voice(client, FakeVoice(registered={"boss", "lead", "a002"}))
    agent, lead, boss = auth(client, "a002"), auth(client, "lead"), auth(client, "boss")
    install, repair = (f"/api/live/calls/{c}/supervise" for c in (INSTALL_CALL, REPAIR_CALL))
    for mode in ("whisper", "barge"):
        assert client.post(install, headers=agent, json={"mode": mode}).status_code == 403
        assert client.post(install, headers=lead, json={"mode": mode}).status_code == 403
    whisper = client.post(repair, headers=lead, json={"mode": "whisper"})
    assert whisper.status_code == 201, whisper.text
    assert whisper.json()["mode"] == "whisper"
    barge = client.post(install, headers=boss, json={"mode": "barge"})
    assert barge.status_code == 201, barge.text
    modes = {
        s["contact_id"]: s["mode"]
        for s in client.get("/api/live/supervisions", headers=boss).json()["sessions"]
    }
    assert modes == {REPAIR_CALL: "whisper", INSTALL_CALL: "barge"}
    entries = [
        (e.actor, e.action, e.target)
        for e in audit.newest(db_session, limit=20)
        if e.action.startswith("call.")
    ]
    assert sorted(entries) == [
        ("boss", "call.barge", INSTALL_CALL),
        ("lead", "call.whisper", REPAIR_CALL),
    ]


def test_the_supervisor_on_the_phone_switches_the_mode_and_each_switch_is_audited(
    client: TestClient, db_session: Session
) -> None:
    voice = FakeVoice(registered={"boss", "lead"})
    _with_voice(client, voice)
    agent, lead = auth(client, "a002"), auth(client, "lead")
    boss, chief = auth(client, "boss"), auth(client, "chief")
    install, repair = (f"/api/live/calls/{c}/supervise" for c in (INSTALL_CALL, REPAIR_CALL))
    nobody = client.patch(install, headers=boss, json={"mode": "whisper"})
    assert nobody.status_code == 404, nobody.text
    assert f"nobody supervises {INSTALL_CALL}" in nobody.json()["message"]
    assert client.post(install, headers=boss, json={"mode": "listen"}).status_code == 201
    assert client.post(repair, headers=lead, json={"mode": "listen"}).status_code == 201
    assert client.patch(install, headers=boss, json={"mode": "spy"}).status_code == 422
    assert client.patch(install, headers=boss, json={}).status_code == 422  # the mode is asked
    assert client.patch(install, headers=agent, json={"mode": "barge"}).status_code == 403
    assert client.patch(install, headers=lead, json={"mode": "barge"}).status_code == 403
    # a manager may stop anyone's session, but not put words in another supervisor's mouth
    someone_else = client.patch(install, headers=chief, json={"mode": "barge"})
    assert someone_else.status_code == 403
    assert "boss supervises v-install: only they change how" in someone_else.json()["message"]
    for mode in ("whisper", "barge", "barge", "listen"):  # the same mode again changes nothing
        switched = client.patch(install, headers=boss, json={"mode": mode})
        assert switched.status_code == 200, switched.text
        assert (switched.json()["mode"], switched.json()["supervisor"]) == (mode, "boss")
    assert client.patch(repair, headers=lead, json={"mode": "whisper"}).status_code == 200
    modes = {
        s["contact_id"]: s["mode"]
        for s in client.get("/api/live/supervisions", headers=boss).json()["sessions"]
    }
    assert modes == {INSTALL_CALL: "listen", REPAIR_CALL: "whisper"}
    entries = [
        (e.actor, e.target, e.detail)
        for e in reversed(audit.newest(db_session, limit=20))
        if e.action == "call.supervise_mode"
    ]
    assert entries == [
        ("boss", INSTALL_CALL, {"agent_id": "a002", "from": "listen", "to": "whisper"}),
        ("boss", INSTALL_CALL, {"agent_id": "a002", "from": "whisper", "to": "barge"}),
        ("boss", INSTALL_CALL, {"agent_id": "a002", "from": "barge", "to": "listen"}),
        ("lead", REPAIR_CALL, {"agent_id": "a012", "from": "listen", "to": "whisper"}),
    ]
