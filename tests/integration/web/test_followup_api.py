"""Follow-up (回访) and settlement over HTTP: resolve → task → answers → close, claims,
the statement in Excel, masking and refusals."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.settings import Settings
from hotline.crm import service as crm
from hotline.identity.sessions import start_session
from hotline.identity.tokens import TokenClaims, issue_token
from hotline.store.models.core import User
from hotline.web.app import create_app
from tests.integration.web.conftest import SAMPLE, with_staff

Headers = Callable[[str], dict[str, str]]
PEOPLE = {
    "a001": (["agent"], "a001"),
    "hf1": (["followup", "agent"], "a002"),  # a 回访 agent who dials from the desk too
    "clerk": (["settlement"], None),
    "planner": (["wfm"], None),
    "provider": (["provider"], None),  # staff of hf-anjia (with_staff)
}


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    for username, (roles, agent_id) in PEOPLE.items():
        db_session.add(
            User(
                username=username,
                display_name=username,
                password_hash="tokens-are-issued-directly",
                roles=roles,
                agent_id=agent_id,
                language="zh-CN",
                active=True,
            )
        )
    customer = crm.create_customer(db_session, name="张伟", phones=["13812345678"], actor="t")
    product = crm.add_product(
        db_session,
        customer_id=customer.id,
        model="JSQ25-13",
        category="water_heater",
        serial_number="SN0001",
        warranty_until=date.today() + timedelta(days=365),
    )
    db_session.commit()
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=session_factory, center=with_staff(SAMPLE))
    app.state.test_product_id = product.id
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def auth(client: TestClient) -> Headers:
    secret: bytes = client.app.state.secret  # type: ignore[attr-defined]
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    issued: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in issued:
            now = time.time()
            with factory() as session:
                opened = start_session(session, username=username, now=now, ttl_s=3600)
                session.commit()
            claims = TokenClaims(
                username=username,
                roles=tuple(PEOPLE[username][0]),
                expires_at=now + 3600,
                session_id=opened.id,
            )
            issued[username] = {"authorization": f"Bearer {issue_token(claims, secret=secret)}"}
        return issued[username]

    return headers


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _resolved_repair(client: TestClient, auth: Headers, parts: list[str]) -> int:
    """A warranty repair dispatched to hf-anjia and fixed, through the API as people do it."""
    body = {
        "type": "repair",
        "subject": "热水器不加热",
        "queue": "repair",
        "category": "water_heater",
        "custom_fields": {"model_number": "JSQ25-13", "serial_number": "SN0001"},
        "product_id": client.app.state.test_product_id,  # type: ignore[attr-defined]
        "region": "hefei",
    }
    ticket = _ok(client.post("/api/tickets", json=body, headers=auth("a001")), 201)
    start = datetime.now(UTC) + timedelta(hours=1)
    window = {
        "appointment_from": start.isoformat(),
        "appointment_to": (start + timedelta(hours=2)).isoformat(),
    }
    tid = ticket["id"]
    _ok(
        client.post(
            f"/api/backoffice/tickets/{tid}/dispatch",
            json={"provider": "hf-anjia", **window},
            headers=auth("a001"),
        )
    )
    _ok(client.post(f"/api/provider/work-orders/{tid}/accept", headers=auth("provider")))
    visit = {
        "arrived_at": start.isoformat(),
        "fault_found": "加热管烧坏",
        "parts": parts,
        "fixed": True,
    }
    order = _ok(
        client.post(f"/api/provider/work-orders/{tid}/visit", json=visit, headers=auth("provider"))
    )
    assert order["state"] == "resolved"
    return int(tid)


def _task_of(client: TestClient, auth: Headers, ticket_id: int) -> dict[str, Any]:
    tasks = _ok(client.get("/api/followup/tasks", headers=auth("hf1")))["tasks"]
    [task] = [t for t in tasks if t["ticket_id"] == ticket_id]
    return task


def test_resolve_makes_a_task_whose_answers_close_the_loop_and_settle_the_claim(
    client: TestClient, auth: Headers
) -> None:
    tid = _resolved_repair(client, auth, parts=['=HYPERLINK("http://x")'])
    task = _task_of(client, auth, tid)
    # The sample center's warranty-repairs-with-parts rule: high priority, the full script.
    assert task["rule"] == "warranty-repair-parts" and task["priority"] == "high"
    assert task["questions"] == ["done", "fee", "part_matches", "csat", "nps", "comment"]
    assert task["urgency"] == "later" and task["phones"] == ["+8613812345678"]
    assert task["customer_name"] == "张伟"
    # A part named like a formula: finance's spreadsheet must show it as text, not run it.
    formula = '=HYPERLINK("http://evil.example","x")'
    claim = {"parts": [formula], "amount_yuan": 150, "labour_yuan": 60, "travel_yuan": 20}
    _ok(client.post(f"/api/provider/work-orders/{tid}/claim", json=claim, headers=auth("provider")))
    early = client.post(
        f"/api/settlement/claims/{tid}/decision", json={"approve": True}, headers=auth("clerk")
    )
    assert early.status_code == 409 and "before its follow-up verified" in early.text
    closing = client.post(
        f"/api/tickets/{tid}/actions", json={"action": "close"}, headers=auth("a001")
    )
    assert closing.status_code == 409 and "verification callback" in closing.text
    bad = client.post(
        f"/api/followup/tasks/{task['id']}/answers",
        json={"done": True, "nps": 11},
        headers=auth("hf1"),
    )
    assert bad.status_code == 422
    assert {p["field"] for p in bad.json()["problems"]} >= {"answers.part_matches"}
    answered = _ok(
        client.post(
            f"/api/followup/tasks/{task['id']}/answers",
            json={"done": True, "fee": False, "part_matches": True, "csat": 5, "nps": 10},
            headers=auth("hf1"),
        )
    )
    assert answered["state"] == "verified" and answered["urgency"] == "done"
    again = client.post(
        f"/api/followup/tasks/{task['id']}/answers", json={"done": True}, headers=auth("hf1")
    )
    assert again.status_code == 409
    closed = _ok(
        client.post(f"/api/tickets/{tid}/actions", json={"action": "close"}, headers=auth("a001"))
    )
    assert closed["state"] == "closed" and closed["claim_status"] == "accepted"
    month = datetime.now(UTC).strftime("%Y-%m")
    before = _ok(client.get(f"/api/settlement/statements?month={month}", headers=auth("clerk")))
    [line] = before["claims"]
    assert (
        line["status"],
        line["verified"],
        line["labour_yuan"],
        line["parts_yuan"],
        line["travel_yuan"],
    ) == ("pending", True, 60, 70, 20)
    decided = _ok(
        client.post(
            f"/api/settlement/claims/{tid}/decision", json={"approve": True}, headers=auth("clerk")
        ),
        201,
    )
    assert decided["decision"] == "approved" and decided["amount_yuan"] == 150
    after = _ok(
        client.get(
            f"/api/settlement/statements?month={month}&provider=hf-anjia", headers=auth("clerk")
        )
    )
    assert after["providers"] == [
        {
            "provider": "hf-anjia",
            "approved": 1,
            "approved_yuan": 150,
            "rejected": 0,
            "rejected_yuan": 0,
            "pending": 0,
            "pending_yuan": 0,
        }
    ]
    excel = client.get(
        f"/api/settlement/statements/hf-anjia/statement.xlsx?month={month}", headers=auth("clerk")
    )
    assert excel.status_code == 200 and excel.headers["content-type"].startswith(
        "application/vnd.openxmlformats"
    )
    sheet = load_workbook(io.BytesIO(excel.content))["claims"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert rows[0][0] == closed["number"] and rows[0][8] == 150 and rows[0][11] == "approved"
    parts_cell = sheet.cell(row=3, column=5)
    assert parts_cell.value == formula and parts_cell.data_type == "s"
    figures = _ok(client.get("/api/followup/figures", headers=auth("clerk")))
    assert figures["on_time_rate"] == 1 and figures["late_settlement_share"] == 0


def test_an_unconfirmed_fix_reopens_the_order_and_the_sweep_adds_nothing_twice(
    client: TestClient, auth: Headers
) -> None:
    tid = _resolved_repair(client, auth, parts=["加热管"])
    task = _task_of(client, auth, tid)
    swept = _ok(client.post("/api/followup/sweep", headers=auth("hf1")))
    assert swept["created"] == []
    answered = _ok(
        client.post(
            f"/api/followup/tasks/{task['id']}/answers",
            json={"done": False, "part_matches": False, "comment": "还是不热"},
            headers=auth("hf1"),
        )
    )
    assert answered["state"] == "not_verified" and answered["ticket_state"] == "open"
    assert answered["claim_flags"] == ["part_mismatch"]


def test_who_sees_what(client: TestClient, auth: Headers) -> None:
    tid = _resolved_repair(client, auth, parts=["加热管"])
    task = _task_of(client, auth, tid)
    assert client.get("/api/followup/tasks", headers=auth("a001")).status_code == 403
    assert client.get("/api/followup/tasks", headers=auth("planner")).status_code == 403
    assert client.get(f"/api/followup/tasks/{task['id']}", headers=auth("clerk")).status_code == 403
    assert (
        client.get("/api/settlement/statements?month=2026-11", headers=auth("hf1")).status_code
        == 403
    )
    bad_month = client.get("/api/settlement/statements?month=2026-13", headers=auth("clerk"))
    assert bad_month.status_code == 422 and "month" in bad_month.text
    missing = client.get("/api/followup/tasks/999999", headers=auth("hf1"))
    assert missing.status_code == 404
    unknown = client.post(
        f"/api/settlement/claims/{tid}/decision",
        json={"approve": False, "reason": "x"},
        headers=auth("clerk"),
    )
    assert unknown.status_code == 404 and "no claim" in unknown.text
