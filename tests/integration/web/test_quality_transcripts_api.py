"""Transcripts through the API: who may read and search them (the roles that may hear the
recordings; team leads their teams' agents only), reading audited, Chinese-aware search,
and flagged calls as targeted picks of the sampling plan."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.store.models.core import AuditEntry
from hotline.store.models.quality import Transcript
from hotline.store.models.telephony import Recording
from tests.integration.web.test_quality_api import (
    SQLITE_ONLY,
    _contact,
    _headers,
    _month_start,
    _this_month,
)

SAID = [
    {"channel": "agent", "start": 0.5, "end": 2.0, "text": "您好，欢迎致电"},
    {"channel": "caller", "start": 2.5, "end": 4.0, "text": "本次通话将被录音"},
    {"channel": "agent", "start": 5.0, "end": 6.5, "text": "这个不归我管"},
]
FLAGS = [{"kind": "forbidden_phrase", "start": 5.0, "end": 6.5, "detail": "不归我管"}]


def _transcribed(factory: sessionmaker[Session], contact: str, agent: str, flags=FLAGS) -> None:
    with factory() as session:
        recording = Recording(
            contact_id=contact,
            agent_id=agent,
            path=f"/nowhere/{contact}.wav",
            seconds=6.5,
            channels=["caller", "agent"],
            recorded_at=1_700_000_000.0,
        )
        session.add(recording)
        session.flush()
        session.add(
            Transcript(
                recording_id=recording.id,
                contact_id=contact,
                agent_id=agent,
                state="done",
                model="fake",
                seconds=6.5,
                utterances=SAID,
                search_text="您好欢迎致电本次通话将被录音这个不归我管",
                flags=flags,
            )
        )
        session.commit()


@SQLITE_ONLY
def test_transcripts_go_to_listeners_in_scope_and_reading_is_audited(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    _transcribed(session_factory, "v-1", "a001")  # the team lead's team
    _transcribed(session_factory, "v-2", "a011")  # another team
    qa = _headers(token_for, "qa")
    answer = app_client.get("/api/contacts/v-1/transcript", headers=qa)
    assert answer.status_code == 200, answer.text
    (transcript,) = answer.json()["transcripts"]
    assert [u["channel"] for u in transcript["utterances"]] == ["agent", "caller", "agent"]
    assert transcript["flags"][0]["kind"] == "forbidden_phrase"
    with session_factory() as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "transcript.read")
        ).all()
        assert [(a.actor, a.target) for a in audited] == [("qa", "v-1")]
    lead = _headers(token_for, "team_lead")
    assert app_client.get("/api/contacts/v-1/transcript", headers=lead).status_code == 200
    assert app_client.get("/api/contacts/v-2/transcript", headers=lead).status_code == 403
    agent = _headers(token_for, "agent")
    assert app_client.get("/api/contacts/v-1/transcript", headers=agent).status_code == 403
    assert app_client.get("/api/contacts/v-9/transcript", headers=qa).status_code == 404
    with session_factory() as session:  # recorded, not transcribed yet: scoped all the same
        for contact, agent_id in (("v-3", "a001"), ("v-4", "a011")):
            session.add(
                Recording(
                    contact_id=contact,
                    agent_id=agent_id,
                    path=f"/nowhere/{contact}.wav",
                    seconds=6.5,
                    channels=["caller", "agent"],
                    recorded_at=1_700_000_000.0,
                )
            )
        session.commit()
    waiting = app_client.get("/api/contacts/v-3/transcript", headers=lead)
    assert waiting.status_code == 200 and waiting.json()["transcripts"] == []
    assert app_client.get("/api/contacts/v-4/transcript", headers=lead).status_code == 403


@SQLITE_ONLY
def test_search_is_chinese_aware_and_scoped(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    _transcribed(session_factory, "v-1", "a001")
    _transcribed(session_factory, "v-2", "a011")
    qa = _headers(token_for, "qa")
    found = app_client.get("/api/quality/transcripts", params={"q": "錄 音"}, headers=qa)
    assert found.status_code == 200, found.text
    hits = found.json()["hits"]
    assert [h["contact_id"] for h in hits] == ["v-2", "v-1"]
    assert [m["text"] for m in hits[0]["matches"]] == ["本次通话将被录音"]
    assert hits[0]["flags"] == ["forbidden_phrase"]
    lead = _headers(token_for, "team_lead")
    scoped = app_client.get("/api/quality/transcripts", params={"q": "录音"}, headers=lead)
    assert [h["contact_id"] for h in scoped.json()["hits"]] == ["v-1"]
    blank = app_client.get("/api/quality/transcripts", params={"q": "，。"}, headers=qa)
    assert blank.status_code == 422
    assert "nothing to search for" in blank.text
    agent = _headers(token_for, "agent")
    assert app_client.get("/api/quality/transcripts?q=x", headers=agent).status_code == 403


@SQLITE_ONLY
def test_a_flagged_call_is_a_targeted_pick_of_the_plan(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    start = _month_start() + 60.0
    for i in range(8):
        _contact(session_factory, f"v-s{i}", "a012", start=start + i * 600, talk_s=100.0)
    _transcribed(session_factory, "v-s5", "a012")
    _transcribed(session_factory, "v-s6", "a012", flags=[])
    qa = _headers(token_for, "qa")
    plan = app_client.get(f"/api/quality/sampling-plan?month={_this_month()}", headers=qa)
    assert plan.status_code == 200, plan.text
    picks = [p for p in plan.json()["picks"] if p["agent_id"] == "a012"]
    assert (picks[0]["contact_id"], picks[0]["reason"]) == ("v-s5", "speech_flags")
    assert [p["reason"] for p in picks[1:]] == ["random"] * 5
