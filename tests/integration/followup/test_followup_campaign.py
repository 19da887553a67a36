"""Follow-ups (回访) dialled by a campaign, on SQLite and PostgreSQL: the due tasks become the
campaign's list, most urgent first, and each call that did not reach the customer is an
attempt of its task (the last one leaves the order unverified)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.campaigns import service as campaigns
from hotline.desk.followup_calls import add_due_followups, result_to_followup
from hotline.followup import service as followup
from hotline.store.models.followup import FollowUpTask
from hotline.tickets import service as tickets
from tests.integration.campaigns.test_campaigns_api import Auth, make
from tests.integration.followup.test_followup_service import (
    ALL_REPAIRS,
    MONDAY_10,
    H,
    _center,
    _resolved,
    product,
)
from tests.integration.servicedesk.conftest import auth, desk_client

__all__ = ["auth", "desk_client", "product"]  # fixtures

ALWAYS = {"weekdays": "00:00-24:00", "saturday": "00:00-24:00", "sunday": "00:00-24:00"}


def _task(session: Session, product_id: int, max_attempts: int) -> FollowUpTask:
    rule = ALL_REPAIRS.model_copy(update={"max_attempts": max_attempts})
    task = followup.generate_for_ticket(
        session, ticket_id=_resolved(session, product_id), center=_center(rule), now=MONDAY_10
    )
    assert task is not None
    return task


def test_due_followups_are_dialled_and_each_miss_is_an_attempt_of_the_task(
    db_session: Session, product: int
) -> None:
    task = _task(db_session, product, max_attempts=2)
    campaign = campaigns.create_campaign(
        db_session,
        name="回访",
        kind="follow_up",
        mode="progressive",
        actor="boss",
        calling_hours=ALWAYS,
        retry={"max_attempts": 5, "no_answer": {"after_minutes": 1}},
    )
    counts = add_due_followups(
        db_session, campaign_id=campaign.id, until=MONDAY_10 + 30 * H, actor="boss"
    )
    assert counts == {"added": 1, "blocked": 0, "already_listed": 0, "no_phone": 0}
    campaigns.set_state(db_session, campaign_id=campaign.id, state="running", actor="boss")
    results = []
    for minute, result in ((0, "no_answer"), (2, "completed"), (4, "busy")):
        now = MONDAY_10 + minute * 60 * (H / 3600)
        record = campaigns.claim_next(
            db_session, campaign_id=campaign.id, agent_id="dialler:x", now=now
        )
        assert record is not None and record.data["followup_task"] == str(task.id)
        assert record.data["ticket"] == str(task.ticket_id) and record.phone == "+8613812345678"
        if result == "completed":
            # Reached: the task stays open for the answers on the workbench.
            campaigns.skip_record(db_session, record_id=record.id, agent_id="dialler:x", now=now)
            assert (
                result_to_followup(
                    db_session, record=record, result=result, actor="dialler", now=now
                )
                is None
            )
            continue
        campaigns.record_result(
            db_session, record_id=record.id, agent_id="dialler:x", result=result, now=now
        )
        results.append(
            result_to_followup(db_session, record=record, result=result, actor="dialler", now=now)
        )
    assert results == [task.id, task.id]
    assert task.state == "unreached" and task.attempts == 2
    assert tickets.close_blockers_of(db_session, ticket_id=task.ticket_id) == [
        "the verification callback did not reach the customer"
    ]


def test_a_supervisor_lists_the_due_followups_and_the_desk_s_miss_reaches_the_task(
    desk_client: TestClient, auth: Auth, db_session: Session, product: int
) -> None:
    task = _task(db_session, product, max_attempts=3)
    db_session.commit()
    campaign = make(desk_client, auth)
    path = f"/api/campaigns/{campaign['id']}/followup-list"
    naive = desk_client.post(
        path, json={"until": "2026-11-24T12:00:00"}, headers=auth("supervisor")
    )
    assert naive.status_code == 422 and "until" in naive.text
    until = (MONDAY_10 + 30 * H).astimezone(ZoneInfo("Asia/Shanghai")).isoformat()
    added = desk_client.post(path, json={"until": until}, headers=auth("supervisor"))
    assert added.status_code == 200, added.text
    assert added.json() == {"added": 1, "blocked": 0, "already_listed": 0, "no_phone": 0}
    agent = auth("agent")
    desk_client.post(
        f"/api/campaigns/{campaign['id']}/state",
        json={"state": "running"},
        headers=auth("supervisor"),
    )
    record = desk_client.post(f"/api/campaigns/{campaign['id']}/next", headers=agent).json()
    assert record["record"]["data"]["followup_task"] == str(task.id)
    missed = desk_client.post(
        f"/api/campaigns/records/{record['record']['id']}/result",
        json={"result": "no_answer"},
        headers=agent,
    )
    assert missed.status_code == 200, missed.text
    db_session.expire_all()
    reloaded = followup.get_task(db_session, task_id=task.id)
    assert reloaded.state == "open" and reloaded.attempts == 1
