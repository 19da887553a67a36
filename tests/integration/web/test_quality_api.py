"""Quality evaluations through the API, on SQLite and PostgreSQL: scoring, who sees what,
disputes and reviews, accuracy with margins, the sampling plan and the player's segments."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind
from hotline.store.event_log import append
from hotline.store.models.core import AuditEntry, User
from hotline.store.models.telephony import Recording
from tests.integration.web.conftest import _password_hash

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERFECT = {
    "greeting": 1,
    "recording_notice": 1,
    "verify_identity": 1,
    "no_disclosure": 1,
    "correct_info": 4,
    "ticket_complete": 2,
    "no_false_promise": 1,
    "courtesy": 4,
    "hold_etiquette": 1,
    "further_help": 1,
    "closing_phrase": 1,
}


#: Who may see what, and what the checks refuse, does not depend on the database: these run
#: on SQLite only (the flows that read and write evaluations run on both).
SQLITE_ONLY = pytest.mark.parametrize("db_engine", ["sqlite"], indirect=True)


def _contact(
    factory: sessionmaker[Session],
    contact_id: str,
    agent: str,
    *,
    start: float,
    talk_s: float = 120.0,
    queue: str = "repair",
    channel: Channel = Channel.VOICE,
    customer: str | None = None,
    hold: tuple[float, float] | None = None,
    transfer_at: float | None = None,
) -> None:
    """One answered contact in the event log, written like the live driver writes it."""
    answered = start + 10.0
    events = [
        Event(
            1,
            start,
            EventKind.ARRIVED,
            contact_id,
            channel=channel,
            data={"customer": customer} if customer else {},
        ),
        Event(2, start + 4.0, EventKind.QUEUED, contact_id, queue=queue, channel=channel),
        Event(3, answered, EventKind.ANSWERED, contact_id, agent_id=agent, queue=queue),
        Event(4, answered, EventKind.RECORDING_STARTED, contact_id, agent_id=agent),
    ]
    if hold is not None:
        events += [
            Event(5, answered + hold[0], EventKind.HELD, contact_id, agent_id=agent),
            Event(6, answered + hold[1], EventKind.RESUMED, contact_id, agent_id=agent),
        ]
    if transfer_at is not None:
        events.append(
            Event(7, answered + transfer_at, EventKind.TRANSFERRED, contact_id, agent_id=agent)
        )
    end = answered + talk_s
    events += [
        Event(8, end, EventKind.DISCONNECTED, contact_id, agent_id=agent),
        Event(9, end, EventKind.FINISHED, contact_id, data={"outcome": "answered"}),
    ]
    with factory() as session:
        append(session, events)
        session.commit()


def _this_month() -> str:
    """The month as the sample center (Asia/Shanghai) counts it now."""
    return datetime.now(SHANGHAI).strftime("%Y-%m")


def _month_start() -> float:
    """The first second of this month in the sample center's time zone."""
    now = datetime.now(SHANGHAI)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def _headers(token_for: Callable[[str], str], role: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(role)}"}


def _evaluate(
    client: TestClient, headers: dict[str, str], contact: str, agent: str, **answers: int | None
) -> Any:
    return client.post(
        "/api/quality/evaluations",
        headers=headers,
        json={
            "contact_id": contact,
            "agent_id": agent,
            "form_id": "voice-service",
            "answers": PERFECT | answers,
            "comments": {"courtesy": "语速偏快"},
        },
    )


def test_qa_scores_a_contact_the_agent_disputes_and_a_supervisor_amends(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
    db_session: Session,
) -> None:
    now = time.time()
    _contact(session_factory, "v-q1", "a001", start=now - 3600)
    qa = _headers(token_for, "qa")
    # the server scores: courtesy 2 of 4 (weight 2 of 3 in attitude) leaves 2/3 of its 20
    made = _evaluate(app_client, qa, "v-q1", "a001", courtesy=2)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["score"] == round(10 + 15 + 45 + 20 * (2 / 3) + 10, 2)
    assert (body["form_version"], body["status"], body["evaluator"]) == (2, "submitted", "qa")
    assert (body["nonfatal_errors"], body["nonfatal_opportunities"]) == (1, 8)
    assert body["comments"] == {"courtesy": "语速偏快"}

    agent = _headers(token_for, "agent")  # agent a001
    [mine] = app_client.get("/api/quality/evaluations", headers=agent).json()
    assert mine["id"] == body["id"]
    refused = app_client.post(
        f"/api/quality/evaluations/{body['id']}/dispute", headers=agent, json={"reason": " "}
    )
    assert refused.status_code == 409 and "needs a reason" in refused.json()["message"]
    disputed = app_client.post(
        f"/api/quality/evaluations/{body['id']}/dispute",
        headers=agent,
        json={"reason": "客户要求语速快一些"},
    )
    assert disputed.json()["status"] == "disputed", disputed.text
    again = app_client.post(f"/api/quality/evaluations/{body['id']}/acknowledge", headers=agent)
    assert again.status_code == 409

    boss = _headers(token_for, "supervisor")
    no_answers = app_client.post(
        f"/api/quality/evaluations/{body['id']}/review", headers=boss, json={"decision": "amend"}
    )
    assert no_answers.status_code == 422
    assert no_answers.json()["problems"][0]["field"] == "answers"
    amended = app_client.post(
        f"/api/quality/evaluations/{body['id']}/review",
        headers=boss,
        json={"decision": "amend", "note": "同意", "answers": PERFECT},
    )
    assert amended.status_code == 200, amended.text
    result = amended.json()
    assert (result["status"], result["score"], result["original_score"]) == (
        "amended",
        100.0,
        body["score"],
    )
    assert result["reviewer"] == "supervisor"
    actions = [
        (e.actor, e.action)
        for e in db_session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("quality.%")).order_by(AuditEntry.id)
        )
    ]
    assert actions == [
        ("qa", "quality.evaluate"),
        ("agent", "quality.dispute"),
        ("supervisor", "quality.amend"),
    ]


@SQLITE_ONLY
def test_bad_answers_and_the_wrong_agent_are_refused_naming_the_field(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    _contact(session_factory, "v-q2", "a002", start=time.time() - 600)
    qa = _headers(token_for, "qa")
    out_of_scale = _evaluate(app_client, qa, "v-q2", "a002", courtesy=9)
    assert out_of_scale.status_code == 422
    assert out_of_scale.json()["problems"] == [
        {"field": "answers.courtesy", "line": None, "problem": "answer 9 is outside the scale 0-4"}
    ]
    wrong_agent = _evaluate(app_client, qa, "v-q2", "a003")
    assert wrong_agent.status_code == 422
    assert wrong_agent.json()["problems"][0]["field"] == "agent_id"
    assert "answered by a002, not a003" in wrong_agent.json()["problems"][0]["problem"]
    no_form = app_client.post(
        "/api/quality/evaluations",
        headers=qa,
        json={"contact_id": "v-q2", "agent_id": "a002", "form_id": "chat", "answers": {}},
    )
    assert no_form.status_code == 422
    assert no_form.json()["problems"][0]["field"] == "form_id"
    old_version = app_client.post(
        "/api/quality/evaluations",
        headers=qa,
        json={
            "contact_id": "v-q2",
            "agent_id": "a002",
            "form_id": "voice-service",
            "form_version": 1,
            "answers": {"greeting": 1, "correct_info": 4, "no_false_promise": 0},
        },
    )
    assert old_version.status_code == 201, old_version.text
    assert (old_version.json()["form_version"], old_version.json()["score"]) == (1, 0.0)
    assert old_version.json()["fatal_error"] is True


@SQLITE_ONLY
def test_agents_see_only_their_own_and_team_leads_their_teams(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
    db_session: Session,
) -> None:
    db_session.add(
        User(
            username="agent11",
            display_name="agent11",
            password_hash=_password_hash(),
            roles=["agent"],
            agent_id="a011",
            language="zh-CN",
            active=True,
        )
    )
    db_session.commit()
    start = time.time() - 7200
    _contact(session_factory, "v-a1", "a001", start=start)
    _contact(session_factory, "v-a11", "a011", start=start + 60)
    qa = _headers(token_for, "qa")
    own = _evaluate(app_client, qa, "v-a1", "a001").json()["id"]
    other = _evaluate(app_client, qa, "v-a11", "a011").json()["id"]
    agent = _headers(token_for, "agent")
    assert [e["id"] for e in app_client.get("/api/quality/evaluations", headers=agent).json()] == [
        own
    ]
    assert app_client.get(f"/api/quality/evaluations/{other}", headers=agent).status_code == 404
    forbidden = app_client.get("/api/quality/evaluations?agent_id=a011", headers=agent)
    assert forbidden.status_code == 403
    acknowledged = app_client.post(f"/api/quality/evaluations/{other}/acknowledge", headers=agent)
    assert acknowledged.status_code == 404
    lead = _headers(token_for, "team_lead")  # leads t-install: a001..a010
    seen = {e["agent_id"] for e in app_client.get("/api/quality/evaluations", headers=lead).json()}
    assert seen == {"a001"}
    accuracy = app_client.get("/api/quality/accuracy", headers=lead).json()
    assert [row["agent_id"] for row in accuracy["agents"]] == ["a001"]
    everyone = app_client.get("/api/quality/accuracy", headers=qa).json()
    assert [row["agent_id"] for row in everyone["agents"]] == ["a001", "a011"]
    # a dispute goes to a supervisor or manager, never back to QA; the manager upholds it
    assert (
        app_client.post(
            f"/api/quality/evaluations/{own}/dispute", headers=agent, json={"reason": "不同意"}
        ).json()["status"]
        == "disputed"
    )
    by_qa = app_client.post(
        f"/api/quality/evaluations/{own}/review", headers=qa, json={"decision": "uphold"}
    )
    assert by_qa.status_code == 403
    manager = _headers(token_for, "manager")
    upheld = app_client.post(
        f"/api/quality/evaluations/{own}/review",
        headers=manager,
        json={"decision": "uphold", "note": "录音证实"},
    )
    assert (upheld.json()["status"], upheld.json()["review_note"]) == ("upheld", "录音证实")
    # the agent of a011 acknowledges their own
    token = app_client.post(
        "/api/auth/login", json={"username": "agent11", "password": "correct-horse-9"}
    ).json()["token"]
    done = app_client.post(
        f"/api/quality/evaluations/{other}/acknowledge",
        headers={"authorization": f"Bearer {token}"},
    )
    assert done.json()["status"] == "acknowledged", done.text


def test_accuracy_shows_fatal_and_nonfatal_accuracy_with_margins(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    start = time.time() - 3 * 3600
    qa = _headers(token_for, "qa")
    variants: list[dict[str, int | None]] = [
        {},
        {"courtesy": 3},
        {"no_disclosure": 0},
        {"greeting": 0, "closing_phrase": 0},
    ]
    for i, change in enumerate(variants):
        _contact(session_factory, f"v-acc{i}", "a005", start=start + i * 60)
        assert _evaluate(app_client, qa, f"v-acc{i}", "a005", **change).status_code == 201
    report = app_client.get(f"/api/quality/accuracy?month={_this_month()}", headers=qa)
    [row] = report.json()["agents"]
    assert row["evaluations"] == 4
    assert row["fatal_accuracy"] == 0.75  # one of four had a fatal error
    assert row["nonfatal_accuracy"] == 1 - 3 / 32  # 3 errors in 4 × 8 opportunities
    assert row["fatal_low"] < 0.75 < row["fatal_high"] == 0.9544  # Wilson, 3 of 4 → [.30, .95]
    assert row["score_margin"] > 40  # four scores, one of them zero: the mean says little
    assert row["evaluations_needed"] > 100
    assert report.json()["margin_points"] == 5.0


def test_the_sampling_plan_targets_long_calls_transfers_and_repeat_callers(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    start = _month_start() + 60.0
    for i in range(12):
        _contact(session_factory, f"v-s{i}", "a012", start=start + i * 600, talk_s=100.0)
    _contact(session_factory, "v-long", "a012", start=start + 100, talk_s=1200.0)
    _contact(session_factory, "v-xfer", "a012", start=start + 200, transfer_at=30.0)
    _contact(session_factory, "v-rep1", "a012", start=start + 300, customer="13800001111")
    _contact(session_factory, "v-rep2", "a013", start=start + 3900, customer="13800001111")
    for i in range(4):
        _contact(
            session_factory,
            f"v-c{i}",
            "a012",
            start=start + 50 + i,
            queue="complaints",
            channel=Channel.CHAT,
        )
    qa = _headers(token_for, "qa")
    month = _this_month()
    answer = app_client.get(f"/api/quality/sampling-plan?month={month}&seed=3", headers=qa)
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    picks = [p for p in plan["picks"] if p["agent_id"] == "a012"]
    assert [(p["contact_id"], p["reason"]) for p in picks[:3]] == [
        ("v-long", "long_call"),
        ("v-xfer", "transfer"),
        ("v-rep1", "repeat_caller"),
    ]
    assert len(picks) == 6
    strata = sorted(p["stratum"] for p in picks[3:])
    assert strata == ["complaints/chat", "repair/voice", "repair/voice"]  # 4 : 12 of 3
    again = app_client.get(f"/api/quality/sampling-plan?month={month}&seed=3", headers=qa).json()
    assert again == plan
    assert _evaluate(app_client, qa, "v-long", "a012").status_code == 201
    after = app_client.get(f"/api/quality/sampling-plan?month={month}&seed=3", headers=qa).json()
    assert "v-long" not in {p["contact_id"] for p in after["picks"]}


@SQLITE_ONLY
def test_segments_mark_hold_and_transfer_on_the_recording_time_axis(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    start = 1772416800.0
    _contact(
        session_factory,
        "v-seg",
        "a001",
        start=start,
        talk_s=90.0,
        hold=(20.0, 35.0),
        transfer_at=60.0,
    )
    with session_factory() as session:
        session.add(
            Recording(
                contact_id="v-seg",
                agent_id="a001",
                queue="repair",
                path="/nonexistent.wav",
                seconds=90.0,
                channels=["caller", "agent"],
                recorded_at=start + 100.0,
            )
        )
        session.commit()
    headers = _headers(token_for, "qa")
    answer = app_client.get("/api/contacts/v-seg/segments", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["seconds"] == 90.0 and body["recording_id"] is not None
    assert [(s["kind"], s["start_s"], s["end_s"]) for s in body["segments"]] == [
        ("ivr", -10.0, -6.0),
        ("queue", -6.0, 0.0),
        ("talk", 0.0, 20.0),
        ("hold", 20.0, 35.0),
        ("talk", 35.0, 90.0),
        ("transfer", 60.0, 60.0),
    ]
    missing = app_client.get("/api/contacts/v-none/segments", headers=headers)
    assert missing.status_code == 404
    opened = app_client.get("/api/quality/contacts/v-seg", headers=headers).json()
    assert opened["agent_id"] == "a001" and opened["recordings"][0]["seconds"] == 90.0
