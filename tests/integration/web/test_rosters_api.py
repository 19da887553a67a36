"""Rosters through the API, on SQLite and PostgreSQL: drafts checked against the shift rules
with located errors, edited, published (superseding an overlapping roster), audited; the agent
reads their own schedule; adherence, attendance and shrinkage against the roster in force;
the team scorecard's adherence comes from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.events import Event, EventKind
from hotline.store import event_log
from hotline.store.models.core import AuditEntry

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A Monday long past, so the whole day has been worked whatever the wall clock says.
DAY = "2026-03-02"


def _headers(token_for: Callable[[str], str], role: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(role)}"}


def _shift(agent: str, start: str, end: str, **more: Any) -> dict[str, Any]:
    return {"agent": agent, "date": DAY, "start": start, "end": end, "skill": "repair", **more}


LUNCH = [{"start": "12:00", "end": "13:00", "kind": "lunch"}]
GOOD = [_shift("a001", "08:00", "17:00", breaks=LUNCH), _shift("a002", "09:00", "13:00")]


def _roster(shifts: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {"name": "March, week 1", "period_start": DAY, "period_end": "2026-03-08",
            "shrinkage": 0.25, "shifts": shifts, **more}  # fmt: skip


def _local(hour: float) -> float:
    base = datetime.fromisoformat(DAY).replace(tzinfo=SHANGHAI)
    return (base + timedelta(hours=hour)).timestamp()


def test_a_planner_drafts_checks_edits_and_publishes_a_roster(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    wfm = _headers(token_for, "wfm")
    bad = [
        _shift("a001", "08:00", "20:00"),  # 12 h, and no break
        _shift("a999", "08:00", "12:00"),
        _shift("a002", "08:00", "12:00", skill="email"),
    ]
    refused = app_client.post("/api/wfm/rosters", json=_roster(bad), headers=wfm)
    assert refused.status_code == 422, refused.text
    assert refused.json()["problems"] == [
        {"field": "shifts[1].agent", "line": None, "problem": "no agent 'a999' in the center"},
        {"field": "shifts[2].skill", "line": None,
         "problem": "agent a002 has no skill 'email' (has installation, repair)"},
    ]  # fmt: skip
    rules = app_client.post("/api/wfm/rosters", json=_roster(bad[:1]), headers=wfm)
    assert [p["field"] for p in rules.json()["problems"]] == ["shifts[0].end", "shifts[0].breaks"]
    outside = _roster([{**GOOD[1], "date": "2026-03-09"}])
    assert app_client.post("/api/wfm/rosters", json=outside, headers=wfm).json()["problems"] == [
        {"field": "shifts[0].start", "line": None,
         "problem": "a002's shift starts on 2026-03-09, outside the roster's period 2026-03-02 "
                    "to 2026-03-08"},
    ]  # fmt: skip

    created = app_client.post("/api/wfm/rosters", json=_roster(GOOD), headers=wfm)
    assert created.status_code == 201, created.text
    roster = created.json()
    assert roster["status"] == "draft"
    assert [(s["agent"], s["start"], s["end"], s["paid_hours"]) for s in roster["shifts"]] == [
        ("a001", "08:00", "17:00", 8),
        ("a002", "09:00", "13:00", 4),
    ]
    assert roster["shifts"][0]["starts_at"] == "2026-03-02T08:00:00+08:00"

    # an edit is checked like a new roster, and a night shift ends the next day
    edit = f"/api/wfm/rosters/{roster['id']}/shifts"
    night = _shift("a002", "22:00", "02:00")
    assert app_client.put(edit, json={"shifts": [night]}, headers=wfm).status_code == 200
    shifts = app_client.get(f"/api/wfm/rosters/{roster['id']}", headers=wfm).json()["shifts"]
    assert (shifts[0]["starts_at"], shifts[0]["ends_at"]) == (
        "2026-03-02T22:00:00+08:00",
        "2026-03-03T02:00:00+08:00",
    )
    too_close = {"shifts": [GOOD[0], _shift("a001", "23:00", "03:00")]}
    refused_edit = app_client.put(edit, json=too_close, headers=wfm)
    assert [p["field"] for p in refused_edit.json()["problems"]] == ["shifts[1].start"]
    assert app_client.put(edit, json={"shifts": GOOD}, headers=wfm).status_code == 200

    published = app_client.post(f"/api/wfm/rosters/{roster['id']}/publish", headers=wfm)
    assert published.status_code == 200, published.text
    assert (published.json()["roster"]["status"], published.json()["superseded"]) == (
        "published",
        [],
    )
    assert app_client.put(edit, json={"shifts": GOOD}, headers=wfm).status_code == 409
    again = app_client.post(f"/api/wfm/rosters/{roster['id']}/publish", headers=wfm)
    assert again.status_code == 409

    # a second roster over the same period supersedes the first once published
    second = app_client.post("/api/wfm/rosters", json=_roster(GOOD[:1]), headers=wfm).json()
    replaced = app_client.post(f"/api/wfm/rosters/{second['id']}/publish", headers=wfm).json()
    assert replaced["superseded"] == [roster["id"]]
    listed = app_client.get("/api/wfm/rosters", headers=wfm).json()["rosters"]
    assert [(r["id"], r["status"]) for r in listed] == [
        (second["id"], "published"),
        (roster["id"], "superseded"),
    ]
    assert app_client.get("/api/wfm/rosters/99999", headers=wfm).status_code == 404

    actions = db_session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.actor == "wfm", AuditEntry.action.like("roster.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "roster.create",
        "roster.edit",
        "roster.edit",
        "roster.publish",
        "roster.create",
        "roster.publish",
    ]


def test_the_agent_reads_their_own_published_schedule_only(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    wfm = _headers(token_for, "wfm")
    agent = _headers(token_for, "agent")  # agent a001
    mine = app_client.get("/api/wfm/me/schedule", params={"start": DAY, "days": 7}, headers=agent)
    assert mine.json()["shifts"] == []
    roster = app_client.post("/api/wfm/rosters", json=_roster(GOOD), headers=wfm).json()
    draft = app_client.get("/api/wfm/me/schedule", params={"start": DAY}, headers=agent)
    assert draft.json()["shifts"] == []  # a draft is not shown to agents
    app_client.post(f"/api/wfm/rosters/{roster['id']}/publish", headers=wfm)
    schedule = app_client.get(
        "/api/wfm/me/schedule", params={"start": DAY, "days": 7}, headers=agent
    ).json()
    assert schedule["agent"] == "a001"
    assert [(s["agent"], s["date"], s["start"], s["end"]) for s in schedule["shifts"]] == [
        ("a001", DAY, "08:00", "17:00")
    ]
    assert schedule["shifts"][0]["breaks"] == LUNCH
    # the shift is long past: nothing comes next
    assert (schedule["next_shift"], schedule["next_break"]) == (None, None)
    admin = app_client.get("/api/wfm/me/schedule", headers=_headers(token_for, "admin"))
    assert admin.status_code == 404


def test_adherence_attendance_and_shrinkage_against_the_roster_in_force(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    wfm = _headers(token_for, "wfm")
    shifts = [
        _shift("a001", "08:00", "17:00", breaks=LUNCH),
        _shift("a002", "09:00", "13:00"),
        _shift("a011", "08:00", "12:00"),  # t-repair: another lead's team
    ]
    roster = app_client.post("/api/wfm/rosters", json=_roster(shifts), headers=wfm).json()
    state = EventKind.AGENT_STATE
    event_log.append(
        db_session,
        [
            # a001: 15 min late, lunch on time, an hour of training, leaves at 16:00
            Event(1, _local(8.25), state, agent_id="a001", data={"state": "available"}),
            Event(2, _local(12), state, agent_id="a001",
                  data={"state": "not_ready", "reason": "lunch"}),
            Event(3, _local(13), state, agent_id="a001",
                  data={"state": "not_ready", "reason": "Training"}),
            Event(4, _local(14), state, agent_id="a001", data={"state": "on_contact"}),
            Event(5, _local(16), state, agent_id="a001", data={"state": "logged_out"}),
            # a002 never comes
        ],
        source="roster-test",
    )  # fmt: skip
    db_session.commit()
    params = {"day": DAY}
    unpublished = app_client.get("/api/wfm/adherence/day", params=params, headers=wfm).json()
    assert (unpublished["agents"], unpublished["shrinkage"]) == ([], None)
    app_client.post(f"/api/wfm/rosters/{roster['id']}/publish", headers=wfm)

    day = app_client.get("/api/wfm/adherence/day", params=params, headers=wfm).json()
    figures = {a["agent"]: a for a in day["agents"]}
    # a001: 540 scheduled minutes (lunch included); out of adherence 15 min late, an hour of
    # training, an hour gone early
    assert (figures["a001"]["scheduled_minutes"], figures["a001"]["adherent_minutes"]) == (
        540,
        405,
    )
    assert figures["a002"]["adherence"] == 0
    rows = {a["agent"]: a for a in day["attendance"]}
    assert (rows["a001"]["late_minutes"], rows["a001"]["early_leave_minutes"]) == (15, 60)
    assert rows["a002"]["absent"] and not rows["a001"]["absent"]
    # phones scheduled: a001 480, a002 240, a011 240 = 960 min; lost: training 60,
    # absence 15 + 60 (a001) + 240 (a002) + 240 (a011)
    assert day["shrinkage"]["scheduled_minutes"] == 960
    assert day["shrinkage"]["lost_minutes"] == {"absence": 555, "training": 60}
    assert day["shrinkage"]["assumed"] == 0.25
    assert day["shrinkage"]["measured"] == round(615 / 960, 4)

    # the team lead of t-install sees their team only, and not another team
    lead = _headers(token_for, "team_lead")
    theirs = app_client.get("/api/wfm/adherence/day", params=params, headers=lead).json()
    assert sorted(a["agent"] for a in theirs["agents"]) == ["a001", "a002"]
    other = {**params, "team": "t-repair"}
    assert app_client.get("/api/wfm/adherence/day", params=other, headers=lead).status_code == 403

    # the scorecard's adherence is the roster's, and the "no schedule" note is gone
    card = app_client.get(
        "/api/people/scorecard", params={"start": DAY, "end": DAY}, headers=lead
    ).json()
    adherence = {a["agent"]: a["figures"]["adherence"] for a in card["agents"]}
    assert adherence["a001"] == figures["a001"]["adherence"]
    assert adherence["a002"] == 0
    assert adherence["a003"] is None  # no shift: not available
    assert not any(note.startswith("adherence") for note in card["notes"])


def test_the_solver_s_schedule_is_saved_as_a_draft_roster(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    wfm = _headers(token_for, "wfm")
    need = [0.0] * 24
    need[8:17] = [1.0] * 9
    lunch = {"length": 1, "earliest": 4, "latest": 4, "paid": False}
    problem = {
        "first_day": DAY,
        "interval_s": 3600,
        "requirements": {"repair": [need]},
        "agents": [{"agent_id": "a001", "skills": ["repair"]}],
        "templates": [{"name": "day", "start": 8, "length": 9, "breaks": [lunch]}],
        "min_days_off": 0,
        "time_limit_s": 5,
    }
    solved = app_client.post("/api/wfm/schedule", json=problem, headers=wfm)
    assert solved.status_code == 200, solved.text
    shifts = solved.json()["roster_shifts"]
    assert shifts == [_shift("a001", "08:00", "17:00", breaks=LUNCH)]
    saved = app_client.post("/api/wfm/rosters", json=_roster(shifts), headers=wfm)
    assert saved.status_code == 201, saved.text
    assert saved.json()["shifts"][0]["paid_hours"] == 8


def test_the_desk_shows_the_agent_s_next_shift_and_break(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    wfm = _headers(token_for, "wfm")
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).date().isoformat()
    shift = {**_shift("a001", "08:00", "17:00", breaks=LUNCH), "date": tomorrow}
    roster = {**_roster([shift]), "period_start": tomorrow, "period_end": tomorrow}
    created = app_client.post("/api/wfm/rosters", json=roster, headers=wfm).json()
    agent = _headers(token_for, "agent")  # agent a001
    assert 'id="desk-next-shift"' not in app_client.get("/desk", headers=agent).text
    app_client.post(f"/api/wfm/rosters/{created['id']}/publish", headers=wfm)
    desk = app_client.get("/desk", headers=agent).text
    assert f"下一班次: {tomorrow} 08:00–17:00 · 下一次休息: 12:00–13:00 (午餐)" in desk


def test_agents_ask_for_swaps_and_leave_and_the_planner_decides(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    wfm = _headers(token_for, "wfm")
    agent = _headers(token_for, "agent")  # agent a001
    today = datetime.now(SHANGHAI).date()
    first, second, third = (today + timedelta(days=n) for n in (1, 2, 3))
    shifts = [
        {**_shift("a001", "08:00", "17:00", breaks=LUNCH), "date": first.isoformat()},
        {**_shift("a002", "09:00", "13:00"), "date": first.isoformat()},
        {**_shift("a001", "08:00", "12:00", skill="chat"), "date": second.isoformat()},
        {**_shift("a002", "10:00", "14:00"), "date": second.isoformat()},
        {**_shift("a001", "08:00", "12:00"), "date": third.isoformat()},
    ]
    period = {"period_start": first.isoformat(), "period_end": third.isoformat()}
    roster = app_client.post("/api/wfm/rosters", json={**_roster(shifts), **period}, headers=wfm)
    ids = {(s["agent"], s["date"], s["start"]): s["id"] for s in roster.json()["shifts"]}
    mine, theirs = ids["a001", str(first), "08:00"], ids["a002", str(first), "09:00"]
    chat = ids["a001", str(second), "08:00"]
    ask = "/api/wfm/me/requests"
    draft = app_client.post(ask, json={"kind": "leave", "shift_id": mine}, headers=agent)
    assert draft.json()["problems"][0]["problem"] == f"shift {mine} is not in a published roster"
    app_client.post(f"/api/wfm/rosters/{roster.json()['id']}/publish", headers=wfm)
    not_mine = app_client.post(ask, json={"kind": "leave", "shift_id": theirs}, headers=agent)
    assert not_mine.json()["problems"][0] == {
        "field": "shift_id", "line": None, "problem": f"shift {theirs} is not yours"
    }  # fmt: skip

    swap = {"kind": "swap", "shift_id": mine, "other_shift_id": theirs, "reason": "doctor"}
    asked = app_client.post(ask, json=swap, headers=agent)
    assert asked.status_code == 201, asked.text
    assert app_client.post(ask, json=swap, headers=agent).status_code == 409  # already waiting
    queue = app_client.get("/api/wfm/requests", params={"status": "pending"}, headers=wfm).json()
    assert [(r["kind"], r["agent"], r["reason"]) for r in queue["requests"]] == [
        ("swap", "a001", "doctor")
    ]
    decided = app_client.post(
        f"/api/wfm/requests/{asked.json()['id']}/decision", json={"approve": True}, headers=wfm
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    # the published roster changed: a001 now works 09:00–13:00, a002 08:00–17:00
    schedule = app_client.get(
        "/api/wfm/me/schedule", params={"start": first.isoformat(), "days": 1}, headers=agent
    ).json()
    assert [(s["id"], s["start"], s["end"]) for s in schedule["shifts"]] == [
        (theirs, "09:00", "13:00")
    ]
    again = app_client.post(
        f"/api/wfm/requests/{asked.json()['id']}/decision", json={"approve": False}, headers=wfm
    )
    assert again.status_code == 409

    # leave: rejected once, then asked again and approved; the shift leaves the roster
    leave = {"kind": "leave", "shift_id": theirs, "reason": "family"}
    first_ask = app_client.post(ask, json=leave, headers=agent).json()
    no = {"approve": False, "note": "short-staffed that day"}
    app_client.post(f"/api/wfm/requests/{first_ask['id']}/decision", json=no, headers=wfm)
    second_ask = app_client.post(ask, json=leave, headers=agent).json()
    yes = app_client.post(
        f"/api/wfm/requests/{second_ask['id']}/decision", json={"approve": True}, headers=wfm
    )
    assert yes.json()["shift"]["start"] == "09:00"  # as it was when asked
    schedule = app_client.get(
        "/api/wfm/me/schedule", params={"start": first.isoformat(), "days": 1}, headers=agent
    ).json()
    assert schedule["shifts"] == []
    mine_listed = app_client.get(ask, headers=agent).json()["requests"]
    assert [(r["kind"], r["status"], r["note"]) for r in mine_listed] == [
        ("leave", "approved", ""),
        ("leave", "rejected", "short-staffed that day"),
        ("swap", "approved", ""),
    ]

    # a swap is refused when the colleague cannot work the shift's skill (a002 has no chat)
    a002_now = mine  # a002's since the swap
    cross = {"kind": "swap", "shift_id": chat, "other_shift_id": a002_now}
    refused = app_client.post(ask, json=cross, headers=agent).json()
    answer = app_client.post(
        f"/api/wfm/requests/{refused['id']}/decision", json={"approve": True}, headers=wfm
    )
    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        {"field": "shift_id", "line": None, "problem": "a002 cannot work chat"}
    ]
    # a swap that would break the rules is refused and leaves the roster as it was: a001
    # would work a002's 10:00–14:00 over their own 08:00–12:00 chat shift
    later = ids["a001", str(third), "08:00"]
    overlap = {
        "kind": "swap",
        "shift_id": later,
        "other_shift_id": ids["a002", str(second), "10:00"],
    }
    unsafe = app_client.post(ask, json=overlap, headers=agent).json()
    answer = app_client.post(
        f"/api/wfm/requests/{unsafe['id']}/decision", json={"approve": True}, headers=wfm
    )
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["problem"] == (
        f"after the swap: a001 on {second} 10:00 overlaps a001 on {second} 08:00"
    )
    days = app_client.get(
        "/api/wfm/me/schedule", params={"start": second.isoformat(), "days": 2}, headers=agent
    ).json()
    assert [(s["date"], s["start"]) for s in days["shifts"]] == [
        (str(second), "08:00"),
        (str(third), "08:00"),
    ]
    actions = db_session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.action.like("roster.request%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "roster.request.swap",
        "roster.request.approved",
        "roster.request.leave",
        "roster.request.rejected",
        "roster.request.leave",
        "roster.request.approved",
        "roster.request.swap",
        "roster.request.swap",
    ]
