"""The campaigns API end to end over HTTP: a supervisor sets up, an agent works the records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.crm import service as crm
from hotline.store.models.campaigns import CampaignRecord, DoNotCall
from hotline.store.models.core import AuditEntry, User
from tests.integration.servicedesk.conftest import auth, desk_client

__all__ = ["auth", "desk_client"]  # the fixtures, shared with the service-desk tests

Auth = Callable[[str], dict[str, str]]
ALWAYS = {"weekdays": "00:00-24:00", "saturday": "00:00-24:00", "sunday": "00:00-24:00"}


def make(client: TestClient, auth: Auth, **kw: object) -> dict[str, object]:
    body = {
        "name": "installs",
        "kind": "follow_up",
        "mode": "preview",
        "calling_hours": ALWAYS,
        "retry": {"max_attempts": 3, "busy": {"after_minutes": 10}},
        "script": "Was the installation done? Any fee charged?",
        **kw,
    }
    answer = client.post("/api/campaigns", json=body, headers=auth("supervisor"))
    assert answer.status_code == 201, answer.text
    created: dict[str, object] = answer.json()
    return created


def add_list(client: TestClient, auth: Auth, campaign_id: object, text: str) -> dict[str, object]:
    """Import a list file (202, a background job) and return its job once its worker ended it.

    Waits on the app's one job worker (a no-op queued behind the job) rather than polling, so
    no request shares the test's one database connection with the job while it runs.
    """
    headers = auth("supervisor")
    started = client.post(
        f"/api/campaigns/{campaign_id}/list",
        json={"file": "dec.csv", "text": text},
        headers=headers,
    )
    assert started.status_code == 202, started.text
    client.app.state.job_worker.submit(lambda: None).result(timeout=120)  # type: ignore[attr-defined]
    job = client.get(f"/api/campaigns/list-jobs/{started.json()['job_id']}", headers=headers)
    assert job.status_code == 200, job.text
    ended: dict[str, object] = job.json()
    return ended


def test_bad_rules_and_bad_list_files_are_located_4xx_never_a_500(
    desk_client: TestClient, auth: Auth
) -> None:
    answer = desk_client.post(
        "/api/campaigns",
        json={
            "name": "x",
            "kind": "follow_up",
            "mode": "preview",
            "calling_hours": {"weekdays": "09:00-25:00", "time_zone": "Nowhere/City"},
            "retry": {"busy": {"after_minutes": -5}},
        },
        headers=auth("supervisor"),
    )
    assert answer.status_code == 422
    assert {p["field"] for p in answer.json()["problems"]} == {
        "calling_hours.weekdays",
        "calling_hours.time_zone",
        "retry.busy.after_minutes",
    }
    campaign = make(desk_client, auth)
    bad = desk_client.post(
        f"/api/campaigns/{campaign['id']}/list",
        json={"file": "dec.csv", "text": "phone,name\n13812345678,Ada\nnot-a-number,Bo\n"},
        headers=auth("supervisor"),
    )
    assert bad.status_code == 422
    assert bad.json()["problems"] == [
        {"field": "phone", "line": 3, "problem": "not a phone number: 'not-a-number'"}
    ]
    records = desk_client.get(
        f"/api/campaigns/{campaign['id']}/records", headers=auth("supervisor")
    )
    assert records.json() == {"items": []}  # nothing half-imported


def test_a_supervisor_runs_a_campaign_and_an_agent_works_it(
    desk_client: TestClient, auth: Auth, db_session: Session
) -> None:
    campaign = make(desk_client, auth)
    cid = campaign["id"]
    listed = add_list(
        desk_client, auth, cid, "phone,name,model\n13812345678,Ada,KFR-35\n13912345678,Bo,\n"
    )
    assert listed["state"] == "done" and listed["rows_done"] == listed["rows_total"] == 2
    assert listed["result"] == {"added": 2, "blocked": 0, "already_listed": 0}
    # an agent may not start it; a draft campaign hands out nothing
    agent = auth("agent")
    assert desk_client.post(f"/api/campaigns/{cid}/next", headers=agent).status_code == 409
    started = desk_client.post(
        f"/api/campaigns/{cid}/state", json={"state": "running"}, headers=auth("supervisor")
    )
    assert started.json()["state"] == "running"
    # Bo's number goes on this campaign's do-not-call list
    entry = desk_client.post(
        "/api/do-not-call",
        json={"number": "139 1234 5678", "campaign_id": cid, "reason": "asked"},
        headers=auth("supervisor"),
    )
    assert entry.status_code == 201 and entry.json()["number"] == "+8613912345678"
    first = desk_client.post(f"/api/campaigns/{cid}/next", headers=agent).json()
    assert first["script"].startswith("Was the installation done")
    record = first["record"]
    assert (record["name"], record["phone"], record["data"]) == (
        "Ada",
        "+8613812345678",
        {"model": "KFR-35"},
    )
    # no phone server here: the dial is refused as unavailable, the record stays held
    assert (
        desk_client.post(f"/api/campaigns/records/{record['id']}/dial", headers=agent).status_code
        == 503
    )
    busy = desk_client.post(
        f"/api/campaigns/records/{record['id']}/result",
        json={"result": "busy", "contact_id": "o-1"},
        headers=agent,
    )
    assert busy.status_code == 200, busy.text
    assert (busy.json()["record"]["status"], busy.json()["record"]["attempts"]) == ("waiting", 1)
    # nothing else may be dialled now (Bo is listed, Ada is due in 10 minutes)
    assert desk_client.post(f"/api/campaigns/{cid}/next", headers=agent).json()["record"] is None
    figures = desk_client.get(f"/api/campaigns/{cid}", headers=auth("supervisor")).json()["figures"]
    assert figures["attempts"] == 1 and figures["records"]["blocked"] == 1
    assert figures["results"] == {"busy": 1}
    # a busy line is no live answer: no abandon budget earned yet today (3 % of 0)
    assert (figures["answers_today"], figures["abandons_today"]) == (0, 0)
    assert figures["abandon_budget_left"] == 0
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {
        "campaign.create",
        "campaign.list_import",
        "campaign.dnc_add",
        "campaign.result",
    } <= actions


def test_a_held_record_whose_number_gets_listed_is_refused_at_dial_time_and_audited(
    desk_client: TestClient, auth: Auth, db_session: Session
) -> None:
    campaign = make(desk_client, auth)
    cid = campaign["id"]
    assert add_list(desk_client, auth, cid, "phone\n13812345678\n")["state"] == "done"
    desk_client.post(
        f"/api/campaigns/{cid}/state", json={"state": "running"}, headers=auth("supervisor")
    )
    agent = auth("agent")
    record = desk_client.post(f"/api/campaigns/{cid}/next", headers=agent).json()["record"]
    # listed behind the desk's back (as if another server had written it): the dial asks again
    db_session.add(DoNotCall(number="+8613812345678", added_by="boss", reason=""))
    db_session.commit()
    dialled = desk_client.post(f"/api/campaigns/records/{record['id']}/dial", headers=agent)
    assert dialled.status_code == 201
    assert dialled.json() == {"record_id": record["id"], "contact_id": None, "refused": "center"}
    db_session.expire_all()
    assert db_session.get(CampaignRecord, record["id"]).status == "blocked"  # type: ignore[union-attr]
    refusals = list(
        db_session.scalars(select(AuditEntry).where(AuditEntry.action == "campaign.dnc_refused"))
    )
    assert [(r.actor, r.detail["path"]) for r in refusals] == [("a001", "campaign")]


def test_consent_and_the_do_not_call_list_for_supervisors(
    desk_client: TestClient, auth: Auth
) -> None:
    consent = desk_client.post(
        "/api/consents",
        json={
            "number": "13812345678",
            "evidence": "recorded call v-9 at 00:42",
            "contact_id": "v-9",
            "callback_at": "2026-12-04T10:00:00+08:00",
        },
        headers=auth("agent"),
    )
    assert consent.status_code == 201, consent.text
    kept = consent.json()
    assert kept["recorded_by"] == "agent"
    too_short = desk_client.post(
        "/api/consents",
        json={"number": "13812345678", "evidence": "x", "keep_days": 7},
        headers=auth("agent"),
    )
    assert too_short.status_code == 422
    listed = desk_client.get("/api/consents?number=13812345678", headers=auth("supervisor"))
    assert [c["id"] for c in listed.json()["items"]] == [kept["id"]]
    entry = desk_client.post(
        "/api/do-not-call", json={"number": "13812345678"}, headers=auth("manager")
    ).json()
    again = desk_client.post(
        "/api/do-not-call", json={"number": "+8613812345678"}, headers=auth("manager")
    )
    assert again.status_code == 409
    assert (
        desk_client.get("/api/do-not-call", headers=auth("supervisor")).json()["items"][0]["id"]
        == entry["id"]
    )
    gone = desk_client.delete(f"/api/do-not-call/{entry['id']}", headers=auth("supervisor"))
    assert gone.json() == {"removed": entry["id"]}
    assert desk_client.get("/api/do-not-call", headers=auth("supervisor")).json()["items"] == []


def test_a_team_lead_sees_and_runs_only_their_teams_campaigns(
    desk_client: TestClient, auth: Auth, db_session: Session
) -> None:
    """A campaign is a team's through its reserved agents: a team lead sees one that reserves
    an agent of a team they lead, and runs one that reserves only such agents."""
    lead = db_session.scalars(select(User).where(User.username == "team_lead")).one()
    lead.agent_id = "a001"  # leads t-install (a001, a002, ...); a011 is t-repair's
    db_session.commit()
    ours = make(desk_client, auth, name="install-team", agents=["a001", "a002"])
    mixed = make(desk_client, auth, name="mixed", agents=["a002", "a011"])
    theirs = make(desk_client, auth, name="repair-team", agents=["a011"])
    headers = auth("team_lead")
    seen = desk_client.get("/api/campaigns", headers=headers).json()["items"]
    assert sorted(c["name"] for c in seen) == ["install-team", "mixed"]
    for path in (f"/api/campaigns/{theirs['id']}", f"/api/campaigns/{theirs['id']}/records"):
        assert desk_client.get(path, headers=headers).status_code == 403

    def run(campaign: dict[str, object]) -> Any:
        path = f"/api/campaigns/{campaign['id']}/state"
        return desk_client.post(path, json={"state": "running"}, headers=headers)

    assert run(ours).json()["state"] == "running"
    refused = run(mixed)
    assert refused.status_code == 403 and "outside the teams you lead" in refused.text
    assert run(theirs).status_code == 403
    floor = desk_client.get("/api/campaigns", headers=auth("supervisor")).json()["items"]
    assert len(floor) == 3


def test_a_dialled_call_connected_to_the_agent_pops_on_the_desk_and_the_agent_dispositions_it(
    desk_client: TestClient, auth: Auth, db_session: Session
) -> None:
    """The dialler's connect path (claim, a busy attempt, claim again, hand the connected call
    to a001) as ``DatabaseDialLists`` runs it; then the desk's pop and the agent's disposition
    with a callback time checked against the calling hours and the do-not-call lists."""
    bad_queue = desk_client.post(
        "/api/campaigns",
        json={"name": "x", "kind": "survey", "mode": "predictive", "queue": "nowhere"},
        headers=auth("supervisor"),
    )
    assert bad_queue.status_code == 422
    assert [p["field"] for p in bad_queue.json()["problems"]] == ["queue"]
    hours = {"weekdays": "09:00-18:00", "saturday": "09:00-18:00", "sunday": "09:00-18:00"}
    campaign = make(
        desk_client,
        auth,
        mode="predictive",
        calling_hours={**hours, "time_zone": "Asia/Shanghai"},
        agents=["a001"],
        queue="installation",
    )
    assert campaign["queue"] == "installation"
    cid = int(str(campaign["id"]))
    assert add_list(desk_client, auth, cid, "phone,name\n13812345678,Ada\n")["state"] == "done"
    crm.create_customer(db_session, name="Ada Wang", phones=["13812345678"], vip_level=1)
    db_session.commit()
    desk_client.post(
        f"/api/campaigns/{cid}/state", json={"state": "running"}, headers=auth("supervisor")
    )
    agent = auth("agent")
    assert desk_client.get("/api/campaign-calls", headers=agent).json() == {"items": []}
    # 10:00 in Shanghai: the first call is busy, the second (an hour later) answered and
    # connected to a001
    morning = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    record = campaigns.claim_next(db_session, campaign_id=cid, agent_id="dialler:d-1", now=morning)
    assert record is not None
    campaigns.record_result(
        db_session, record_id=record.id, agent_id="dialler:d-1", result="busy", now=morning
    )

    def connected(contact: str, now: datetime) -> None:
        """The dialler claims the record for ``contact`` and connects the call to a001."""
        again = campaigns.claim_next(
            db_session, campaign_id=cid, agent_id=f"dialler:{contact}", now=now
        )
        assert again is not None and again.id == record.id
        campaigns.hand_over(
            db_session,
            record_id=record.id,
            holder=f"dialler:{contact}",
            agent_id="a001",
            contact_id=contact,
            now=now,
        )
        db_session.commit()

    connected("d-2", morning + timedelta(hours=1))
    [call] = desk_client.get("/api/campaign-calls", headers=agent).json()["items"]
    assert (call["contact_id"], call["campaign"], call["mode"]) == ("d-2", "installs", "predictive")
    assert call["script"].startswith("Was the installation done")
    assert (call["record"]["phone"], call["record"]["held_by"]) == ("+8613812345678", "a001")
    assert [c["name"] for c in call["customers"]] == ["Ada Wang"]  # popped by the dialled number
    assert [(a["number"], a["result"]) for a in call["earlier_attempts"]] == [(1, "busy")]
    assert call["followup"] is None
    # the answer counted at once (the day's live answers, the figures), as completed for now
    figures = desk_client.get(f"/api/campaigns/{cid}", headers=auth("supervisor")).json()
    assert figures["figures"]["results"] == {"busy": 1, "completed": 1}
    # another agent's desk does not see it
    db_session.add(
        User(
            username="other",
            password_hash="x",
            roles=["agent"],
            agent_id="a002",
            language="en",
            active=True,
        )
    )
    db_session.commit()
    assert desk_client.get("/api/campaign-calls", headers=auth("other")).json() == {"items": []}

    def disposition(at: datetime | None, result: str = "callback_requested") -> Any:
        body: dict[str, str] = {"result": result}
        if at is not None:
            body["callback_at"] = at.isoformat()
        return desk_client.post(
            f"/api/campaigns/records/{record.id}/result", json=body, headers=agent
        )

    # 23:00 in Shanghai (on a coming weekday) is outside the calling hours; a day gone by is
    # past; the year 9999 is too far ahead: 422 naming the field
    night = _next_weekday_at(datetime.now(UTC), hour_utc=15, minute=0)
    for refused, why in (
        (night, "outside the campaign's calling hours"),
        (datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "ahead"),
        (datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-23))), "366 days"),
    ):
        answer = disposition(refused)
        assert answer.status_code == 422, answer.text
        [problem] = answer.json()["problems"]
        assert problem["field"] == "callback_at" and why in problem["problem"], problem
    # a weekday at 10:30 in Shanghai, two days or more ahead: booked; the record comes back then
    callback = _next_weekday_at(datetime.now(UTC), hour_utc=2, minute=30)
    saved = disposition(callback)
    assert saved.status_code == 200, saved.text
    done = saved.json()["record"]
    assert (done["status"], done["attempts"], done["held_by"]) == ("waiting", 2, None)
    assert datetime.fromisoformat(done["due_at"]) == callback
    figures = desk_client.get(f"/api/campaigns/{cid}", headers=auth("supervisor")).json()
    assert figures["figures"]["results"] == {"busy": 1, "callback_requested": 1}
    assert (figures["figures"]["attempts"], figures["figures"]["connects"]) == (2, 1)
    assert desk_client.get("/api/campaign-calls", headers=agent).json() == {"items": []}
    steps = db_session.execute(
        select(AuditEntry.action, AuditEntry.actor)
        .where(AuditEntry.target == str(record.id))
        .order_by(AuditEntry.id)
    ).all()
    assert [tuple(step) for step in steps][-2:] == [
        ("campaign.connect", "dialler:d-2"),
        ("campaign.result", "a001"),
    ]
    # a number listed after the call takes no callback: the list, not the hold, is named
    db_session.expire_all()  # the API wrote the record in its own session
    connected("d-3", callback + timedelta(minutes=1))
    desk_client.post("/api/do-not-call", json={"number": "13812345678"}, headers=auth("supervisor"))
    listed = disposition(callback + timedelta(days=1))
    assert listed.status_code == 422, listed.text
    [problem] = listed.json()["problems"]
    assert problem["field"] == "callback_at" and "center do-not-call list" in problem["problem"]


def _next_weekday_at(now: datetime, *, hour_utc: int, minute: int) -> datetime:
    """A moment at least a day ahead, on a weekday, at ``hour_utc``:``minute`` UTC."""
    day = (now + timedelta(days=2)).replace(hour=hour_utc, minute=minute, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
