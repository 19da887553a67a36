"""The ticket workflow's notifications reach people (SQLite and PostgreSQL), and the inbox API.

Before, ``notify`` effects were computed by the workflow and dropped by the service, and an
update to the customer was written past the workflow (``open → open`` on a new ticket).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.calendar import BusinessCalendar
from hotline.core.errors import Conflict, NotFound
from hotline.notifications import service as notifications
from hotline.store.models.tickets import TicketEvent
from hotline.tickets import service as tickets

Auth = Callable[[str], dict[str, str]]
MONDAY_9 = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)


def _kinds(session: Session, username: str, roles: list[str]) -> list[tuple[str, str | None]]:
    items = notifications.inbox(session, username=username, roles=roles)
    return [(item.kind, item.ticket_number) for item in items]


@pytest.fixture
def desk(db_session: Session) -> Session:
    tickets.save_calendar(
        db_session, name="default", calendar=BusinessCalendar.weekdays("UTC", "09:00-17:00")
    )
    tickets.create_provider(db_session, code="P01", name="朝阳家电维修站", actor="admin")
    return db_session


def test_a_complaint_notifies_each_role_on_its_path_in_turn(desk: Session) -> None:
    complaint = tickets.create_ticket(
        desk, type="complaint", subject="维修人员未按时上门", complaint_level="2", actor="a001"
    )
    # Level 2: team lead, then supervisor. Only the team lead is asked first.
    assert _kinds(desk, "li.lead", ["team_lead"]) == [("complaint_acknowledge", complaint.number)]
    assert _kinds(desk, "wang.sup", ["supervisor"]) == []
    [notice] = notifications.inbox(desk, username="li.lead", roles=["team_lead"])
    assert notice.params["level"] == "2" and notice.params["subject"] == "维修人员未按时上门"
    tickets.act(
        desk, ticket_id=complaint.id, action="escalate", target="team_lead", actor="li.lead"
    )
    assert _kinds(desk, "wang.sup", ["supervisor"]) == [("complaint_acknowledge", complaint.number)]
    # Raised to level 3 after the supervisor acknowledged: now the manager must.
    tickets.act(
        desk, ticket_id=complaint.id, action="escalate", target="supervisor", actor="wang.sup"
    )
    assert _kinds(desk, "zhao.mgr", ["manager"]) == []
    tickets.raise_complaint_level(desk, ticket_id=complaint.id, level="3", actor="wang.sup")
    assert _kinds(desk, "zhao.mgr", ["manager"]) == [("complaint_acknowledge", complaint.number)]
    # An administrator sees every role's notifications.
    assert len(notifications.inbox(desk, username="root", roles=["admin"])) == 3


def test_assignment_dispatch_and_sla_breach_are_delivered(desk: Session) -> None:
    order = tickets.create_ticket(
        desk, type="repair", subject="热水器不加热", priority="urgent", actor="a001", now=MONDAY_9
    )
    tickets.act(desk, ticket_id=order.id, action="assign", target="a002", actor="li.lead")
    assert _kinds(desk, "a002", ["agent"]) == [("ticket_assigned", order.number)]
    assert _kinds(desk, "a003", ["agent"]) == []
    tickets.act(desk, ticket_id=order.id, action="dispatch", target="P01", actor="a002")
    dispatched = [
        (item.addressee_kind, item.addressee)
        for item in notifications.inbox(desk, username="root", roles=["admin"])
    ]
    assert ("provider", "P01") not in dispatched  # providers' notices wait for their own staff
    sent = tickets.check_sla(desk, now=MONDAY_9 + 30 * H)
    assert sent
    roles = {escalation["role"] for escalation in sent}
    for role in roles:
        assert ("sla_escalation", order.number) in _kinds(desk, f"someone.{role}", [role])


def test_reading_is_per_user(desk: Session) -> None:
    tickets.create_ticket(
        desk, type="complaint", subject="态度差", complaint_level="1", actor="a001"
    )
    assert notifications.unread_count(desk, username="lead1", roles=["team_lead"]) == 1
    assert notifications.mark_read(desk, username="lead1", roles=["team_lead"]) == 1
    assert notifications.unread_count(desk, username="lead1", roles=["team_lead"]) == 0
    assert notifications.unread_count(desk, username="lead2", roles=["team_lead"]) == 1
    [notice] = notifications.inbox(desk, username="lead2", roles=["team_lead"])
    with pytest.raises(NotFound):  # an agent cannot touch a team lead's notification
        notifications.mark_read(desk, username="a001", roles=["agent"], notification_id=notice.id)


def test_an_update_to_the_customer_goes_through_the_workflow(desk: Session) -> None:
    ticket = tickets.create_ticket(desk, type="inquiry", subject="保修期多久", actor="a001")
    tickets.respond(desk, ticket_id=ticket.id, note="整机三年", actor="a001", now=MONDAY_9)
    assert ticket.state == "open" and ticket.first_response_at == MONDAY_9
    update = desk.scalars(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == "update"
        )
    ).one()
    assert (update.from_state, update.to_state) == ("new", "open")  # was recorded open → open
    tickets.respond(desk, ticket_id=ticket.id, note="已寄出说明书", actor="a001", now=MONDAY_9 + H)
    assert ticket.first_response_at == MONDAY_9 and ticket.last_update_at == MONDAY_9 + H
    tickets.act(desk, ticket_id=ticket.id, action="cancel", actor="a001")
    with pytest.raises(Conflict, match="cannot update a ticket that is cancelled"):
        tickets.respond(desk, ticket_id=ticket.id, note="?", actor="a001")


def test_the_inbox_over_the_api(desk_client: TestClient, auth: Auth) -> None:
    created = desk_client.post(
        "/api/tickets",
        json={"type": "complaint", "subject": "投诉热线无人接听", "complaint_level": "1"},
        headers=auth("agent"),
    )
    assert created.status_code in (200, 201), created.text
    inbox = desk_client.get("/api/notifications", headers=auth("team_lead")).json()
    assert inbox["unread"] == 1
    [item] = inbox["items"]
    assert item["kind"] == "complaint_acknowledge" and item["read"] is False
    assert item["ticket_number"] == created.json()["number"]
    assert desk_client.get("/api/notifications", headers=auth("agent")).json()["unread"] == 0
    refused = desk_client.post(f"/api/notifications/{item['id']}/read", headers=auth("agent"))
    assert refused.status_code == 404
    assert desk_client.post("/api/notifications/0/read", headers=auth("agent")).status_code == 422
    marked = desk_client.post(f"/api/notifications/{item['id']}/read", headers=auth("team_lead"))
    assert marked.json() == {"marked": 1, "unread": 0}
    again = desk_client.get("/api/notifications?unread=true", headers=auth("team_lead")).json()
    assert again == {"unread": 0, "items": []}
    assert desk_client.get("/api/notifications").status_code == 401
