"""Team scorecards, grades and the agent's own figures through the API, on SQLite and
PostgreSQL: figures from contact records, agent states, survey answers and evaluations; who
sees whose; the period checked."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.events import Event, EventKind
from hotline.metrics.service import ContactRecord, import_records
from hotline.store import event_log
from hotline.store.models.core import AuditEntry
from hotline.store.models.quality import Evaluation

#: 2026-03-02 08:00 in Shanghai (the sample center's time zone); 00:00 UTC.
T0 = 1_772_409_600.0
DAY = 86_400.0
PERIOD = {"start": "2026-03-02", "end": "2026-03-03"}
SQLITE_ONLY = pytest.mark.parametrize("db_engine", ["sqlite"], indirect=True)


def _headers(token_for: Callable[[str], str], role: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(role)}"}


def _record(
    contact: str, agent: str, at: float, *, talk: float, hold: float, wrap: float, customer: str
) -> ContactRecord:
    return ContactRecord(
        contact_id=contact,
        arrived_at=at,
        queued_at=at,
        answered_at=at + 10,
        ended_at=at + 10 + talk + hold,
        outcome="answered",
        queue="repair",
        agent=agent,
        customer=customer,
        talk_s=talk,
        hold_s=hold,
        wrap_s=wrap,
    )


def _live_contact(contact: str, agent: str, at: float) -> list[Event]:
    """A contact queued at ``at`` and answered by ``agent`` for 100 s, as the live driver
    logs one."""
    return [
        Event(10, at, EventKind.ARRIVED, contact),
        Event(11, at, EventKind.QUEUED, contact, queue="repair"),
        Event(12, at + 5, EventKind.ANSWERED, contact, agent_id=agent, queue="repair"),
        Event(13, at + 105, EventKind.DISCONNECTED, contact, agent_id=agent),
        Event(14, at + 105, EventKind.FINISHED, contact, data={"outcome": "answered"}),
    ]


def _seed(session: Session) -> None:
    """a001 (t-install, led by a001): two days of calls, states, surveys, one evaluation;
    a002 (t-install): one day; a011 (t-repair, another lead's team): one call."""
    records = [
        # day 1: a001 handles 300 + 30 + 60 = 390 s; the customer calls back within 24 h
        _record("c1", "a001", T0 + 3600, talk=300, hold=30, wrap=60, customer="13800000001"),
        _record("c2", "a001", T0 + 7200, talk=300, hold=30, wrap=60, customer="13800000002"),
        # day 2: 200 s talk, 40 s wrap; c3 repeats c1's customer (c1 not first-contact resolved)
        _record("c3", "a001", T0 + DAY + 1800, talk=200, hold=0, wrap=40, customer="13800000001"),
        _record("c4", "a002", T0 + 3600, talk=500, hold=100, wrap=200, customer="13800000004"),
        _record("c5", "a011", T0 + 3600, talk=100, hold=0, wrap=10, customer="13800000005"),
        # c4's customer calls again and reaches a011 of another team: c4 was not resolved
        _record("c6", "a011", T0 + 7200, talk=100, hold=0, wrap=10, customer="13800000004"),
        # outside the period (a day before): never counted
        _record("c0", "a001", T0 - DAY, talk=9000, hold=0, wrap=0, customer="13800000009"),
    ]
    import_records(session=session, records=records, source="people-test")
    state = EventKind.AGENT_STATE
    event_log.append(
        session,
        [
            Event(1, T0, state, agent_id="a001", data={"state": "available"}),
            Event(2, T0 + 600, state, agent_id="a001", data={"state": "on_contact"}),
            Event(3, T0 + 2400, state, agent_id="a001", data={"state": "logged_out"}),
            Event(4, T0 + 3000, EventKind.SURVEY_ANSWERED, "c1", agent_id="a001",
                  data={"score": 5, "scale_max": 5}),
            Event(5, T0 + DAY + 3000, EventKind.SURVEY_ANSWERED, "c3", agent_id="a001",
                  data={"score": 2, "scale_max": 5}),
            # contacts folded from the event log count too, by when they queued: a003 answers
            # one in the period and one two days before it
            *_live_contact("live-1", "a003", T0 + 4000),
            *_live_contact("live-0", "a003", T0 - 2 * DAY),
        ],
        source="people-events",
    )  # fmt: skip
    session.add(
        Evaluation(
            contact_id="c1",
            agent_id="a001",
            evaluator="qa",
            evaluated_at=datetime.fromtimestamp(T0 + 7200, UTC),
            form_id="voice-service",
            form_version=2,
            score=90.0,
            fatal_error=False,
            nonfatal_errors=1,
            nonfatal_opportunities=8,
            summary="",
        )
    )
    session.commit()


def test_a_team_lead_sees_their_team_graded_against_the_center_rules(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    _seed(db_session)
    response = app_client.get(
        "/api/people/scorecard", params=PERIOD, headers=_headers(token_for, "team_lead")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # a001 leads t-install: its ten agents and no one else's
    assert {a["team"] for a in body["agents"]} == {"t-install"}
    assert body["days"] == ["2026-03-02", "2026-03-03"]
    card = next(a for a in body["agents"] if a["agent"] == "a001")
    figures = card["figures"]
    assert card["answered"] == 3
    assert figures["aht_s"] == pytest.approx((390 + 390 + 240) / 3)
    assert figures["acw_s"] == pytest.approx((60 + 60 + 40) / 3)
    assert figures["avg_hold_s"] == pytest.approx(20.0)
    assert figures["fcr"] == pytest.approx(2 / 3)  # c1 was repeated within 24 h by c3
    assert figures["occupancy"] == pytest.approx(1800 / 2400)
    assert figures["csat"] == pytest.approx(0.5) and card["surveys"] == 2
    assert figures["quality_score"] == 90.0 and figures["fatal_accuracy"] == 1.0
    assert figures["adherence"] is None
    assert card["trends"]["aht_s"] == [pytest.approx(390.0), pytest.approx(240.0)]
    assert card["trends"]["csat"] == [1.0, 0.0]

    # grading under the sample center's rules, recomputed here from the rules themselves
    rules = {"aht_s": (2, 360, 600), "acw_s": (1, 45, 120), "avg_hold_s": (1, 20, 90),
             "occupancy": (1, 0.8, 0.5), "fcr": (2, 0.85, 0.6), "csat": (3, 0.9, 0.6),
             "fatal_accuracy": (3, 1.0, 0.8)}  # fmt: skip
    marks = {
        m: 100 * min(1.0, max(0.0, (figures[m] - floor) / (target - floor)))
        for m, (_, target, floor) in rules.items()
    }
    weight = sum(w for w, _, _ in rules.values())
    score = sum(rules[m][0] * marks[m] for m in rules) / weight
    grading = card["grading"]
    assert grading["score"] == pytest.approx(score, abs=0.01)
    assert grading["grade"] == (
        "A" if score >= 85 else "B" if score >= 70 else "C" if score >= 55 else "D"
    )
    assert grading["missing"] == ["adherence"]
    assert grading["movers"][0] == "csat"  # 0.5 against 0.9: the costliest figure
    assert sum(p["points_lost"] for p in grading["parts"]) == pytest.approx(100 - score, abs=0.05)
    assert body["targets"]["aht_s"] == 360
    # agents with no contacts have no figures and are not graded
    quiet = next(a for a in body["agents"] if a["agent"] == "a004")
    assert quiet["grading"]["grade"] is None and quiet["figures"]["aht_s"] is None
    assert body["grades"]["-"] >= 7
    live = next(a for a in body["agents"] if a["agent"] == "a003")
    assert live["answered"] == 1 and live["figures"]["aht_s"] == pytest.approx(100.0)
    assert body["team_averages"]["t-install"]["aht_s"] == pytest.approx(
        ((390 + 390 + 240) / 3 + 800 + 100) / 3
    )
    assert any("adherence" in note for note in body["notes"])


@SQLITE_ONLY
def test_a_team_lead_is_refused_another_teams_agents(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    _seed(db_session)
    lead = _headers(token_for, "team_lead")
    other_agent = app_client.get("/api/people/agents/a011", params=PERIOD, headers=lead)
    assert other_agent.status_code == 403
    assert "not in your team" in other_agent.json()["message"]
    other_team = app_client.get(
        "/api/people/scorecard", params={**PERIOD, "team": "t-repair"}, headers=lead
    )
    assert other_team.status_code == 403
    own = app_client.get("/api/people/agents/a002", params=PERIOD, headers=lead)
    assert own.status_code == 200 and own.json()["agents"][0]["answered"] == 1
    # a002's one contact was repeated, answered by another team's agent: FCR 0, not 100 %
    assert own.json()["agents"][0]["figures"]["fcr"] == 0.0
    # a supervisor sees the whole floor, and the other team's agent
    boss = _headers(token_for, "supervisor")
    floor = app_client.get("/api/people/scorecard", params=PERIOD, headers=boss).json()
    assert {"t-install", "t-repair", "t-care", "t-vip"} <= {a["team"] for a in floor["agents"]}
    repair = app_client.get(
        "/api/people/scorecard", params={**PERIOD, "team": "t-repair"}, headers=boss
    ).json()
    assert {a["team"] for a in repair["agents"]} == {"t-repair"}
    assert app_client.get(
        "/api/people/scorecard", params={**PERIOD, "team": "t-nowhere"}, headers=boss
    ).status_code == 404  # fmt: skip


@SQLITE_ONLY
def test_an_agent_sees_only_their_own_figures_against_target_and_team(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    _seed(db_session)
    agent = _headers(token_for, "agent")  # linked to a001
    mine = app_client.get("/api/people/me", params=PERIOD, headers=agent)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["card"]["agent"] == "a001"
    assert "agents" not in body  # only a mean of the team, never the colleagues' rows
    assert body["team_average"]["aht_s"] == pytest.approx(((390 + 390 + 240) / 3 + 800 + 100) / 3)
    assert body["targets"]["csat"] == 0.9
    assert [(e["contact_id"], e["score"]) for e in body["evaluations"]] == [("c1", 90.0)]
    assert body["card"]["grading"]["grade"] in {"A", "B", "C", "D"}
    # an agent may not read the team scorecard nor a colleague's card
    assert app_client.get("/api/people/scorecard", headers=agent).status_code == 403
    assert app_client.get("/api/people/agents/a002", headers=agent).status_code == 403


@SQLITE_ONLY
def test_a_bad_period_is_refused_naming_the_rule(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    lead = _headers(token_for, "team_lead")
    backwards = app_client.get(
        "/api/people/scorecard", params={"start": "2026-03-05", "end": "2026-03-01"}, headers=lead
    )
    assert backwards.status_code == 422
    assert "end 2026-03-01 is before start 2026-03-05" in backwards.text
    too_long = app_client.get(
        "/api/people/me", params={"start": "2025-01-01", "end": "2026-03-01"}, headers=lead
    )
    assert too_long.status_code == 403  # a team lead is no agent: refused before the period
    long_agent = app_client.get(
        "/api/people/me",
        params={"start": "2025-01-01", "end": "2026-03-01"},
        headers=_headers(token_for, "agent"),
    )
    assert long_agent.status_code == 422 and "at most 93 days" in long_agent.text
    last_day = app_client.get(
        "/api/people/scorecard", params={"start": "9999-12-31", "end": "9999-12-31"}, headers=lead
    )
    assert last_day.status_code == 422 and "give dates from 1970-01-02" in last_day.text
    page = app_client.get(
        "/team", params={"start": "9999-12-31", "end": "9999-12-31"}, headers=lead
    )
    assert page.status_code == 422
    not_a_date = app_client.get("/api/people/scorecard", params={"start": "March"}, headers=lead)
    assert not_a_date.status_code == 422


def _mix_record(contact: str, agent: str, queue: str, handle: float) -> ContactRecord:
    return ContactRecord(
        contact_id=contact,
        arrived_at=T0 + 600,
        queued_at=T0 + 600,
        answered_at=T0 + 610,
        ended_at=T0 + 610 + handle,
        outcome="answered",
        queue=queue,
        agent=agent,
        customer=f"139{contact}",
        talk_s=handle,
    )


@SQLITE_ONLY
def test_the_leaderboard_ranks_handle_time_against_each_queue_mix(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    # repair averages 500 s (a001 400, a002 600, a011 500); installation 150 s (a003 200,
    # a004 100). Raw handle time favours the installers; against their mix a001 beats a003.
    handles = {
        ("a001", "repair"): 400, ("a002", "repair"): 600, ("a011", "repair"): 500,
        ("a003", "installation"): 200, ("a004", "installation"): 100,
    }  # fmt: skip
    records = [
        _mix_record(f"{agent}-{queue}-{n}", agent, queue, handle)
        for (agent, queue), handle in handles.items()
        for n in range(2)
    ]
    import_records(session=db_session, records=records, source="mix")
    db_session.commit()
    lead = _headers(token_for, "team_lead")
    board = app_client.get("/api/people/leaderboard", params=PERIOD, headers=lead)
    assert board.status_code == 200, board.text
    body = board.json()
    assert body["normalised"] is True
    places = [(s["rank"], s["name"], round(s["index"], 3)) for s in body["standings"]]
    assert places == [(1, "a004", 0.667), (2, "a001", 0.8), (3, "a002", 1.2), (4, "a003", 1.333)]
    assert body["standings"][1]["expected"] == 500.0  # a011 (another team) counts in the queue
    # teams, by a supervisor: both teams match the center on their own mix, and tie
    boss = _headers(token_for, "supervisor")
    teams = app_client.get(
        "/api/people/leaderboard", params={**PERIOD, "level": "team"}, headers=boss
    ).json()["standings"]
    assert [(s["rank"], s["name"], s["index"]) for s in teams] == [
        (1, "t-install", 1.0),
        (1, "t-repair", 1.0),
    ]
    # a team lead's team leaderboard holds their own team only
    own = app_client.get(
        "/api/people/leaderboard", params={**PERIOD, "level": "team"}, headers=lead
    ).json()["standings"]
    assert [s["name"] for s in own] == ["t-install"]
    # figures that do not depend on the queue are ranked as they are
    raw = app_client.get(
        "/api/people/leaderboard", params={**PERIOD, "metric": "csat"}, headers=lead
    ).json()
    assert raw["normalised"] is False and raw["standings"] == []  # nobody was surveyed
    bad = app_client.get(
        "/api/people/leaderboard", params={**PERIOD, "metric": "salary"}, headers=lead
    )
    assert bad.status_code == 422 and "not 'salary'" in bad.text


def _running_contest_records(session: Session) -> dict[str, object]:
    """The leaderboard test's queue mix an hour ago, and a contest body running since
    yesterday (the sample center's local dates) over handle time and FCR."""
    now = time.time()
    handles = {
        ("a001", "repair"): 400, ("a002", "repair"): 600, ("a011", "repair"): 500,
        ("a003", "installation"): 200, ("a004", "installation"): 100,
    }  # fmt: skip
    import_records(
        session=session,
        records=[
            replace(
                _mix_record(f"{agent}-{queue}-{n}", agent, queue, handle),
                arrived_at=now - 3600,
                queued_at=now - 3600,
                answered_at=now - 3590,
                ended_at=now - 3590 + handle,
            )
            for (agent, queue), handle in handles.items()
            for n in range(2)
        ],
        source="contest",
    )
    session.commit()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return {
        "name": "三月安装组 AHT + FCR",
        "metrics": ["aht_s", "fcr"],
        "start": (today - timedelta(days=1)).isoformat(),
        "end": (today + timedelta(days=6)).isoformat(),
    }


def test_a_team_lead_runs_a_contest_between_their_agents_on_place_points(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    body = _running_contest_records(db_session)
    lead = _headers(token_for, "team_lead")
    created = app_client.post("/api/people/competitions", json=body, headers=lead)
    assert created.status_code == 201, created.text
    contest = created.json()
    # no teams named: the lead's own team
    assert contest["teams"] == ["t-install"] and contest["status"] == "running"
    assert contest["created_by"] == "team_lead"
    standings = app_client.get(f"/api/people/competitions/{contest['id']}", headers=lead)
    assert standings.status_code == 200, standings.text
    result = standings.json()
    # handle time on the index against each mix: a004, a001, a002, a003 (4, 3, 2, 1 points);
    # every call resolved first time: all four share FCR's first place (4 points each)
    assert [(s["rank"], s["name"], s["points"]) for s in result["overall"]] == [
        (1, "a004", 8),
        (2, "a001", 7),
        (3, "a002", 6),
        (4, "a003", 5),
    ]
    assert result["overall"][1]["places"] == {"aht_s": 2, "fcr": 1}
    assert result["overall"][1]["display_name"] == "郑静芳"
    assert result["normalised"] == ["aht_s", "fcr"]
    # a011 (t-repair) is not in the contest, but counts in the center's repair figure
    assert result["boards"]["aht_s"][1]["expected"] == 500.0
    # the agent sees it on the desk, with the same standings
    mine = app_client.get("/api/people/competitions/mine", headers=_headers(token_for, "agent"))
    assert mine.status_code == 200, mine.text
    assert [c["competition"]["id"] for c in mine.json()] == [contest["id"]]
    assert mine.json()[0]["overall"] == result["overall"]
    # audited
    audit = db_session.execute(
        select(AuditEntry.actor, AuditEntry.target).where(
            AuditEntry.action == "people.competition.create"
        )
    ).all()
    assert audit == [("team_lead", str(contest["id"]))]


@SQLITE_ONLY
def test_a_contest_is_refused_naming_the_field_and_a_lead_keeps_to_their_teams(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    body = _running_contest_records(db_session)
    lead = _headers(token_for, "team_lead")
    foreign = app_client.post(
        "/api/people/competitions", json={**body, "teams": ["t-repair"]}, headers=lead
    )
    assert foreign.status_code == 403 and "t-repair is not a team you lead" in foreign.text
    bad = app_client.post(
        "/api/people/competitions",
        json={**body, "metrics": ["aht_s", "salary"], "level": "crew", "teams": ["t-mars"]},
        headers=_headers(token_for, "manager"),
    )
    assert bad.status_code == 422, bad.text
    problems = {(p["field"], p["problem"]) for p in bad.json()["problems"]}
    assert ("level", "agent or team, not 'crew'") in problems
    assert ("teams", "no team t-mars") in problems
    assert any(f == "metrics" and "not 'salary'" in p for f, p in problems)
    backwards = app_client.post(
        "/api/people/competitions", json={**body, "end": "2026-01-01"}, headers=lead
    )
    assert backwards.status_code == 422 and "is before start" in backwards.text
    # agents and supervisors read, they do not organise
    for role in ("agent", "supervisor"):
        refused = app_client.post(
            "/api/people/competitions", json=body, headers=_headers(token_for, role)
        )
        assert refused.status_code == 403


@SQLITE_ONLY
def test_a_team_contest_between_teams_is_seen_by_their_leads_and_withdrawn_by_a_manager(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    body = _running_contest_records(db_session)
    boss = _headers(token_for, "manager")
    lead = _headers(token_for, "team_lead")
    created = app_client.post(
        "/api/people/competitions",
        json={**body, "level": "team", "teams": ["t-install", "t-repair"], "metrics": ["aht_s"]},
        headers=boss,
    ).json()
    others = app_client.post(
        "/api/people/competitions",
        json={**body, "teams": ["t-care"], "metrics": ["csat"]},
        headers=boss,
    ).json()
    # the lead of t-install sees the contest their team is in, not t-care's
    seen = app_client.get("/api/people/competitions", headers=lead).json()
    assert [c["id"] for c in seen] == [created["id"]]
    hidden = app_client.get(f"/api/people/competitions/{others['id']}", headers=lead)
    assert hidden.status_code == 404
    teams = app_client.get(f"/api/people/competitions/{created['id']}", headers=lead).json()
    assert [(s["rank"], s["name"]) for s in teams["overall"]] == [(1, "t-install"), (1, "t-repair")]
    # the lead may not withdraw a contest that also covers another lead's team
    refused = app_client.delete(f"/api/people/competitions/{created['id']}", headers=lead)
    assert refused.status_code == 403 and "t-repair" in refused.text
    gone = app_client.delete(f"/api/people/competitions/{created['id']}", headers=boss)
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    again = app_client.delete(f"/api/people/competitions/{created['id']}", headers=boss)
    assert again.status_code == 409
    assert app_client.get("/api/people/competitions", headers=lead).json() == []
    assert (
        app_client.get("/api/people/competitions/mine", headers=_headers(token_for, "agent")).json()
        == []
    )


def test_coaching_from_an_evaluation_is_acknowledged_by_the_agent_and_closed_by_the_lead(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    _seed(db_session)
    evaluation = db_session.scalars(select(Evaluation.id)).one()
    lead = _headers(token_for, "team_lead")
    agent = _headers(token_for, "agent")  # a001
    created = app_client.post(
        "/api/people/coaching",
        json={"agent_id": "a001", "note": "保持前先征得同意", "due": "2026-03-10",
              "evaluation_id": evaluation},
        headers=lead,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    task = created.json()
    assert task["source"] == "evaluation" and task["status"] == "open"
    assert task["source_detail"] == {
        "evaluation_id": evaluation,
        "contact_id": "c1",
        "form_id": "voice-service",
        "score": 90.0,
        "fatal_error": False,
    }
    assert task["overdue"] is True  # due in March 2026, not closed
    # the lead cannot close it before the agent has read it
    early = app_client.post(
        f"/api/people/coaching/{task['id']}/close", json={"outcome": "done"}, headers=lead
    )
    assert early.status_code == 409 and "not acknowledged" in early.text
    mine = app_client.get("/api/people/coaching/mine", headers=agent).json()
    assert [t["id"] for t in mine] == [task["id"]]
    acknowledged = app_client.post(f"/api/people/coaching/{task['id']}/acknowledge", headers=agent)
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    empty = app_client.post(
        f"/api/people/coaching/{task['id']}/close", json={"outcome": " "}, headers=lead
    )
    assert empty.status_code == 409 and "outcome" in empty.text
    closed = app_client.post(
        f"/api/people/coaching/{task['id']}/close",
        json={"outcome": "两周内保持前均已征得同意"},
        headers=lead,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_by"] == "team_lead"
    assert closed.json()["overdue"] is False
    assert app_client.get("/api/people/coaching", headers=lead).json() == []
    assert len(app_client.get("/api/people/coaching?closed=true", headers=lead).json()) == 1
    actions = db_session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("people.coaching.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "people.coaching.create",
        "people.coaching.acknowledge",
        "people.coaching.close",
    ]


@SQLITE_ONLY
def test_coaching_from_a_figure_is_computed_by_the_server_and_kept_to_the_coachs_agents(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    _seed(db_session)
    lead = _headers(token_for, "team_lead")
    created = app_client.post(
        "/api/people/coaching",
        json={"agent_id": "a002", "note": "AHT", "due": "2026-03-20", "metric": "aht_s",
              "start": "2026-03-02", "end": "2026-03-03"},
        headers=lead,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    detail = created.json()["source_detail"]
    # a002's one call: 500 + 100 hold + 200 wrap; the team's mean of a001, a002 and a003
    assert detail["metric"] == "aht_s" and detail["value"] == 800.0
    assert detail["team_mean"] == pytest.approx((340.0 + 800.0 + 100.0) / 3)
    assert detail["target"] == 360.0
    # a011 is in another lead's team; an evaluation of a001 is not a002's
    foreign = app_client.post(
        "/api/people/coaching",
        json={"agent_id": "a011", "note": "x", "due": "2026-03-20"},
        headers=lead,
    )
    assert foreign.status_code == 403
    evaluation = db_session.scalars(select(Evaluation.id)).one()
    wrong = app_client.post(
        "/api/people/coaching",
        json={"agent_id": "a002", "note": "x", "due": "2026-03-20", "evaluation_id": evaluation},
        headers=lead,
    )
    assert wrong.status_code == 422 and "is of a001, not a002" in wrong.text
    bad = app_client.post(
        "/api/people/coaching",
        json={"agent_id": "a002", "note": " ", "due": "2026-03-20", "metric": "salary"},
        headers=lead,
    )
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["problems"]}
    assert fields == {"note", "metric", "start"}
    # only the coached agent acknowledges: a001's account may not acknowledge a002's task
    refused = app_client.post(
        f"/api/people/coaching/{created.json()['id']}/acknowledge",
        headers=_headers(token_for, "agent"),
    )
    assert refused.status_code == 403 and "not yours to acknowledge" in refused.text
