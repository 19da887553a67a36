"""Call recordings through the API: listed and played for permitted roles only, audited."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.identity.roles import ALL_ROLES, RECORDING_ROLES
from hotline.store.models.core import AuditEntry
from hotline.store.models.telephony import Recording


def _wav(path: Path) -> bytes:
    frames = (np.sin(np.arange(8000) / 8000 * 2 * np.pi * 440) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.repeat(frames, 2).tobytes())
    return path.read_bytes()


def _recording(
    factory: sessionmaker[Session], path: Path, contact: str = "v-abc", agent: str = "a001"
) -> int:
    # written like the voice server writes it: through a session of the app's own factory
    row = Recording(
        contact_id=contact,
        agent_id=agent,
        queue="repair",
        path=str(path),
        media_type="audio/wav",
        seconds=1.0,
        channels=["caller", "agent"],
        recorded_at=1772416800.0,
    )
    with factory() as session:
        session.add(row)
        session.commit()
        return row.id


def test_qa_lists_and_plays_a_recording_and_playback_is_audited(
    app_client: TestClient,
    token_for: Callable[[str], str],
    db_session: Session,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    headers = {"authorization": f"Bearer {token_for('qa')}"}
    audio = _wav(tmp_path / "v-abc.wav")
    recording_id = _recording(session_factory, tmp_path / "v-abc.wav")
    _recording(session_factory, tmp_path / "other.wav", contact="v-other")
    listed = app_client.get("/api/contacts/v-abc/recordings", headers=headers)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()
    assert (item["id"], item["agent_id"], item["seconds"]) == (recording_id, "a001", 1.0)
    assert app_client.get("/api/contacts/v-none/recordings", headers=headers).json() == []
    played = app_client.get(item["audio"], headers=headers)
    assert played.status_code == 200
    assert played.headers["content-type"] == "audio/wav"
    assert played.content == audio
    [entry] = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "recording.play")
    ).all()
    assert (entry.actor, entry.target) == ("qa", "v-abc")
    assert entry.detail["recording_id"] == recording_id


def test_other_roles_get_403_and_nothing_is_audited(
    app_client: TestClient,
    token_for: Callable[[str], str],
    db_session: Session,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    _wav(tmp_path / "v-abc.wav")
    recording_id = _recording(session_factory, tmp_path / "v-abc.wav")
    outsiders = sorted(set(ALL_ROLES) - set(RECORDING_ROLES))
    assert {"agent", "wfm"} <= set(outsiders)
    for role in outsiders:
        headers = {"authorization": f"Bearer {token_for(role)}"}
        for url in ("/api/contacts/v-abc/recordings", f"/api/recordings/{recording_id}/audio"):
            response = app_client.get(url, headers=headers)
            assert response.status_code == 403, (role, url)
            assert b"RIFF" not in response.content
    app_client.cookies.clear()  # signed out: no session cookie from the sign-ins above
    assert app_client.get(f"/api/recordings/{recording_id}/audio").status_code == 401
    assert not db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "recording.play")
    ).all()


def test_missing_recordings_and_audio_are_404(
    app_client: TestClient,
    token_for: Callable[[str], str],
    db_session: Session,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    headers = {"authorization": f"Bearer {token_for('supervisor')}"}
    assert app_client.get("/api/recordings/999/audio", headers=headers).status_code == 404
    gone = _recording(session_factory, tmp_path / "deleted.wav")
    response = app_client.get(f"/api/recordings/{gone}/audio", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_voicemails_are_listed_newest_first_with_the_number_to_call_back(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    from hotline.core.events import Event, EventKind
    from hotline.store.event_log import recording_rows
    from hotline.store.models.core import ContactEventRow

    # what the voice server logs for a caller sent to voicemail, through the one write path
    events = [
        Event(1, 100.0, EventKind.ARRIVED, "v-vm1", data={"caller": "13800000001"}),
        Event(
            2,
            130.0,
            EventKind.RECORDING_STOPPED,
            "v-vm1",
            queue="installation",
            data={"path": str(tmp_path / "v-vm1.wav"), "seconds": 12.5, "kind": "voicemail"},
        ),
        Event(3, 200.0, EventKind.ARRIVED, "v-vm2", data={"caller": "13800000002"}),
        Event(
            4,
            220.0,
            EventKind.RECORDING_STOPPED,
            "v-vm2",
            queue="installation",
            data={"path": str(tmp_path / "v-vm2.wav"), "seconds": 8.0, "kind": "voicemail"},
        ),
    ]
    with session_factory() as session:
        session.add_all(
            ContactEventRow(
                source="live",
                seq=e.seq,
                at=e.at,
                kind=e.kind.value,
                contact_id=e.contact_id,
                data=dict(e.data),
            )
            for e in events
        )
        session.add_all(recording_rows(events))
        session.commit()
    _recording(session_factory, tmp_path / "talk.wav", contact="v-talk")  # a conversation
    headers = {"authorization": f"Bearer {token_for('supervisor')}"}
    listed = app_client.get("/api/voicemails", headers=headers)
    assert listed.status_code == 200, listed.text
    assert [(v["contact_id"], v["caller"], v["kind"]) for v in listed.json()] == [
        ("v-vm2", "13800000002", "voicemail"),
        ("v-vm1", "13800000001", "voicemail"),
    ]
    agent = {"authorization": f"Bearer {token_for('agent')}"}
    assert app_client.get("/api/voicemails", headers=agent).status_code == 403


def test_a_team_lead_lists_and_plays_only_their_teams_recordings_all_audited(
    app_client: TestClient,
    token_for: Callable[[str], str],
    db_session: Session,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    """The team lead leads t-install (agent a001's team); a011 is of t-repair."""
    headers = {"authorization": f"Bearer {token_for('team_lead')}"}
    audio = _wav(tmp_path / "own.wav")
    _wav(tmp_path / "other.wav")
    own = _recording(session_factory, tmp_path / "own.wav", contact="v-x", agent="a001")
    other = _recording(session_factory, tmp_path / "other.wav", contact="v-x", agent="a011")
    # A transferred call: one contact, recordings of two agents; the lead sees their own.
    listed = app_client.get("/api/contacts/v-x/recordings", headers=headers)
    assert [item["id"] for item in listed.json()] == [own]
    played = app_client.get(f"/api/recordings/{own}/audio", headers=headers)
    assert played.status_code == 200 and played.content == audio
    refused = app_client.get(f"/api/recordings/{other}/audio", headers=headers)
    assert refused.status_code == 403, refused.text
    assert b"RIFF" not in refused.content
    assert "outside your team" in refused.json()["message"]
    assert app_client.get("/api/voicemails", headers=headers).json() == []
    # The floor's roles hear both.
    qa = {"authorization": f"Bearer {token_for('qa')}"}
    listed_for_qa = app_client.get("/api/contacts/v-x/recordings", headers=qa).json()
    assert [item["id"] for item in listed_for_qa] == [own, other]
    assert app_client.get(f"/api/recordings/{other}/audio", headers=qa).status_code == 200
    entries = db_session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.in_(["recording.play", "recording.play_refused"]))
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.actor, e.action, e.detail["recording_id"]) for e in entries] == [
        ("team_lead", "recording.play", own),
        ("team_lead", "recording.play_refused", other),
        ("qa", "recording.play", other),
    ]
