"""Ticket categories and custom fields from the center configuration, enforced (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.validate import load_center
from hotline.core.errors import ValidationFailed
from hotline.store.models.core import AuditEntry
from hotline.tickets import service as tickets

Auth = Callable[[str], dict[str, str]]
SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
SCHEMA = load_center(SAMPLE).ticket_categories
HEATER = {"model_number": "JSQ25-13", "serial_number": "SN2025030800017"}


def test_service_checks_creates_and_edits(db_session: Session) -> None:
    with pytest.raises(ValidationFailed) as failed:
        tickets.create_ticket(
            db_session,
            type="repair",
            subject="热水器不加热",
            category="water_heater",
            custom_fields={"model_number": "JSQ25-13", "purchase_date": "2025-13-01"},
            actor="a001",
            schema=SCHEMA,
        )
    assert {p.field for p in failed.value.problems} == {
        "custom_fields.serial_number",
        "custom_fields.purchase_date",
    }
    ticket = tickets.create_ticket(
        db_session,
        type="repair",
        subject="热水器不加热",
        category="water_heater",
        custom_fields=HEATER | {"purchase_date": "2025-03-08", "fault": "不加热 No heat"},
        actor="a001",
        schema=SCHEMA,
    )
    db_session.commit()
    db_session.expire_all()
    assert ticket.custom_fields["purchase_date"] == "2025-03-08"
    # moving to another category must bring that category's required fields (the air
    # conditioner's fault list has no "no heat"), and nothing changes when refused
    with pytest.raises(ValidationFailed) as failed:
        tickets.update_fields(
            db_session,
            ticket_id=ticket.id,
            category="air_conditioner",
            custom_fields={"horsepower": "1.5P"},
            actor="a001",
            schema=SCHEMA,
        )
    assert {p.field for p in failed.value.problems} == {
        "custom_fields.fault",
        "custom_fields.horsepower",
    }
    assert ticket.category == "water_heater"
    tickets.update_fields(
        db_session,
        ticket_id=ticket.id,
        category="air_conditioner",
        custom_fields={"horsepower": "1.5", "fault": "漏水 Leak"},
        actor="a002",
        schema=SCHEMA,
    )
    db_session.commit()
    db_session.expire_all()
    ticket = tickets.get_ticket(db_session, ticket_id=ticket.id)
    assert ticket.category == "air_conditioner"
    assert ticket.custom_fields == HEATER | {
        "purchase_date": "2025-03-08",
        "fault": "漏水 Leak",
        "horsepower": 1.5,
    }
    last = tickets.history(db_session, ticket_id=ticket.id)[-1]
    assert last.action == "fields" and last.actor == "a002"
    assert last.data["category"] == {"from": "water_heater", "to": "air_conditioner"}
    assert last.data["fields"] == ["fault", "horsepower"]
    audited = db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.target == f"ticket:{ticket.number}")
    ).all()
    assert "ticket.fields" in audited
    # a null removes an optional field; removing a required one is refused
    tickets.update_fields(
        db_session,
        ticket_id=ticket.id,
        custom_fields={"horsepower": None},
        actor="a002",
        schema=SCHEMA,
    )
    assert "horsepower" not in ticket.custom_fields
    with pytest.raises(ValidationFailed, match="serial_number: is required"):
        tickets.update_fields(
            db_session,
            ticket_id=ticket.id,
            custom_fields={"serial_number": None},
            actor="a002",
            schema=SCHEMA,
        )


def test_api_refuses_with_the_field_and_the_problem(desk_client: TestClient, auth: Auth) -> None:
    listed = desk_client.get("/api/tickets/categories", headers=auth("agent"))
    assert listed.status_code == 200
    repair = next(s for s in listed.json() if s["type"] == "repair")
    assert "refrigerator" in [c["id"] for c in repair["categories"]]
    bad = desk_client.post(
        "/api/tickets",
        json={
            "type": "repair",
            "subject": "冰箱不制冷",
            "queue": "repair",
            "category": "refrigerator",
            "custom_fields": {"model_number": "BCD-470", "purchase_date": "去年"},
        },
        headers=auth("agent"),
    )
    assert bad.status_code == 422
    assert bad.json()["problems"] == [
        {
            "field": "custom_fields.purchase_date",
            "line": None,
            "problem": "must be a date written YYYY-MM-DD, not '去年'",
        },
        {
            "field": "custom_fields.serial_number",
            "line": None,
            "problem": "is required for refrigerator tickets",
        },
    ]
    unknown = desk_client.post(
        "/api/tickets",
        json={"type": "repair", "subject": "电视没声音", "category": "television"},
        headers=auth("agent"),
    )
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["field"] == "category"
    made = desk_client.post(
        "/api/tickets",
        json={
            "type": "repair",
            "subject": "冰箱不制冷",
            "queue": "repair",
            "category": "refrigerator",
            "custom_fields": {"model_number": "BCD-470", "serial_number": "R-889"},
        },
        headers=auth("agent"),
    )
    assert made.status_code == 201, made.text
    ticket_id = made.json()["id"]
    edited = desk_client.patch(
        f"/api/tickets/{ticket_id}/fields",
        json={"custom_fields": {"fault": "结霜 Frost"}},
        headers=auth("agent"),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["custom_fields"]["fault"] == "结霜 Frost"
    refused = desk_client.patch(
        f"/api/tickets/{ticket_id}/fields",
        json={"custom_fields": {"fault": "坏了"}},
        headers=auth("agent"),
    )
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["field"] == "custom_fields.fault"
    # types the sample center leaves open take any category
    free = desk_client.post(
        "/api/tickets",
        json={"type": "inquiry", "subject": "保修期多久", "category": "保修政策"},
        headers=auth("agent"),
    )
    assert free.status_code == 201
    assert (
        desk_client.patch(
            f"/api/tickets/{ticket_id}/fields", json={}, headers=auth("wfm")
        ).status_code
        == 403
    )
