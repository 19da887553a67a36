"""The back-office and provider-portal API over HTTP: scoping, masking and the whole loop."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.settings import Settings
from hotline.crm import service as crm
from hotline.identity.sessions import start_session
from hotline.identity.tokens import TokenClaims, issue_token
from hotline.store.models.core import User
from hotline.web.app import create_app
from tests.integration.web.conftest import SAMPLE, with_staff

Headers = Callable[[str], dict[str, str]]
#: username → (roles, agent id). a001 leads t-install; a011 leads t-repair.
PEOPLE = {
    "a001": (["agent"], "a001"),
    "lead": (["team_lead"], "a001"),
    "boss": (["supervisor"], None),
    "planner": (["wfm"], None),
    "provider": (["provider"], None),  # staff of hf-anjia (with_staff)
    "xinda1": (["provider"], None),  # staff of hf-xinda in the sample center
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
    app.state.test_product_id = product.id  # ids differ between databases and runs
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


def _repair(client: TestClient, auth: Headers, **extra: Any) -> dict[str, Any]:
    body = {
        "type": "repair",
        "subject": "热水器不加热",
        "description": "客户说洗澡没热水",
        "queue": "repair",
        "category": "water_heater",
        "custom_fields": {"model_number": "JSQ25-13", "serial_number": "SN0001"},
        "product_id": client.app.state.test_product_id,  # type: ignore[attr-defined]
        "region": "hefei",
    } | extra
    return _ok(client.post("/api/tickets", json=body, headers=auth("a001")), 201)


def _window(hours: float = 24) -> dict[str, str]:
    start = datetime.now(UTC) + timedelta(hours=hours)
    return {
        "appointment_from": start.isoformat(),
        "appointment_to": (start + timedelta(hours=2)).isoformat(),
    }


def test_create_dispatch_provider_visit_verify_close_over_http(
    client: TestClient, auth: Headers
) -> None:
    ticket = _repair(client, auth)
    assert ticket["warranty"] and ticket["product_model"] == "JSQ25-13"
    tid = ticket["id"]
    fits = _ok(client.get(f"/api/backoffice/tickets/{tid}/providers", headers=auth("a001")))
    assert fits[0]["code"] == "hf-anjia" and fits[0]["eligible"]
    assert not next(f for f in fits if f["code"] == "cd-tianfu")["eligible"]
    refused = client.post(
        f"/api/backoffice/tickets/{tid}/dispatch",
        json={"provider": "cd-tianfu", **_window()},
        headers=auth("a001"),
    )
    assert refused.status_code == 409 and "does not serve region hefei" in refused.text
    _ok(
        client.post(
            f"/api/backoffice/tickets/{tid}/dispatch",
            json={"provider": "hf-anjia", **_window()},
            headers=auth("a001"),
        )
    )
    # The dispatched provider's staff are told, in their own inbox; another provider's not.
    inbox = _ok(client.get("/api/notifications", headers=auth("provider")))
    assert [(n["kind"], n["ticket_number"]) for n in inbox["items"]] == [
        ("work_order_dispatched", ticket["number"])
    ]
    assert _ok(client.get("/api/notifications", headers=auth("xinda1")))["items"] == []
    # The provider sees its own order (the fault, not the customer's number) ...
    orders = _ok(client.get("/api/provider/work-orders", headers=auth("provider")))
    assert [o["id"] for o in orders] == [tid] and orders[0]["description"] == "客户说洗澡没热水"
    assert "13812345678" not in str(orders)
    # ... another provider neither sees it nor can touch it.
    assert _ok(client.get("/api/provider/work-orders", headers=auth("xinda1"))) == []
    other = client.post(f"/api/provider/work-orders/{tid}/accept", headers=auth("xinda1"))
    assert other.status_code == 404
    _ok(client.post(f"/api/provider/work-orders/{tid}/accept", headers=auth("provider")))
    _ok(
        client.post(
            f"/api/provider/work-orders/{tid}/schedule",
            json=_window(1),
            headers=auth("provider"),
        )
    )
    visit = {
        "arrived_at": (datetime.now(UTC) + timedelta(hours=1, minutes=30)).isoformat(),
        "fault_found": "加热管烧坏",
        "parts": ["加热管"],
        "fixed": True,
    }
    order = _ok(
        client.post(f"/api/provider/work-orders/{tid}/visit", json=visit, headers=auth("provider"))
    )
    assert order["state"] == "resolved"
    _ok(
        client.post(
            f"/api/provider/work-orders/{tid}/claim",
            json={"parts": ["加热管"], "amount_yuan": 120},
            headers=auth("provider"),
        )
    )
    figures = _ok(client.get("/api/provider/figures", headers=auth("provider")))
    assert figures["code"] == "hf-anjia"
    assert figures["first_visit_fix_rate"] == 1.0 and figures["on_time_rate"] == 1.0
    page = _ok(client.get(f"/api/backoffice/tickets/{tid}", headers=auth("a001")))
    assert page["close_blockers"] == ["repair orders need a verification callback before closing"]
    assert page["blockers"] == [
        {
            "code": "needs_verification",
            "values": {"type": "repair"},
            "text": "repair orders need a verification callback before closing",
        }
    ]
    assert page["product"]["serial_number"] == "SN0001" and page["product"]["in_warranty"]
    visit_entry = next(h for h in page["history"] if h["action"] == "provider_completed")
    assert visit_entry["data"]["fault_found"] == "加热管烧坏" and visit_entry["data"]["on_time"]
    _ok(
        client.post(
            f"/api/tickets/{tid}/verification",
            json={
                "reached": True,
                "customer_confirmed": True,
                "part_replaced": True,
                "part_matches_fault": True,
            },
            headers=auth("a001"),
        )
    )
    closed = _ok(
        client.post(f"/api/tickets/{tid}/actions", json={"action": "close"}, headers=auth("a001"))
    )
    assert closed["state"] == "closed" and closed["claim_status"] == "accepted"
    boards = _ok(client.get("/api/backoffice/providers", headers=auth("boss")))
    assert next(b for b in boards if b["code"] == "hf-anjia")["visits"] == 1


def test_the_queue_is_cut_to_what_each_person_may_see(client: TestClient, auth: Headers) -> None:
    mine = _repair(client, auth)
    elsewhere = _repair(client, auth, queue="vip")  # a queue agent a001 does not serve
    queue = _ok(client.get("/api/backoffice/queue", headers=auth("a001")))
    assert [row["id"] for row in queue["items"]] == [mine["id"]] and queue["total"] == 1
    everything = _ok(client.get("/api/backoffice/queue", headers=auth("boss")))
    assert {row["id"] for row in everything["items"]} == {mine["id"], elsewhere["id"]}
    assert everything["items"][0]["resolution"]["clock"] == "resolution"
    # A team lead's team view: their own team only.
    assert (
        client.get("/api/backoffice/queue?team=t-repair", headers=auth("lead")).status_code == 403
    )
    _ok(client.get("/api/backoffice/queue?team=t-install", headers=auth("lead")))
    # Bulk assign: a team lead only to their team's agents, and only to real agents.
    other_team = {"ticket_ids": [mine["id"]], "assignee": "a011"}
    assert (
        client.post("/api/backoffice/assign", json=other_team, headers=auth("lead")).status_code
        == 403
    )
    ghost = {"ticket_ids": [mine["id"]], "assignee": "zz9"}
    assert (
        client.post("/api/backoffice/assign", json=ghost, headers=auth("boss")).status_code == 422
    )
    result = _ok(
        client.post(
            "/api/backoffice/assign",
            json={"ticket_ids": [mine["id"], elsewhere["id"]], "assignee": "a002"},
            headers=auth("lead"),
        )
    )
    assert result == {"assigned": [mine["id"], elsewhere["id"]], "refused": []}
    # The agent no longer holds the vip ticket's queue nor the assignment: a 404, not a 403.
    assert (
        client.get(f"/api/backoffice/tickets/{elsewhere['id']}", headers=auth("a001")).status_code
        == 404
    )


def test_wfm_reads_a_ticket_page_without_personal_data(client: TestClient, auth: Headers) -> None:
    ticket = _repair(client, auth)
    _ok(
        client.post(
            f"/api/backoffice/tickets/{ticket['id']}/notes",
            json={"note": "客户电话 13812345678", "internal": True},
            headers=auth("a001"),
        )
    )
    page = _ok(client.get(f"/api/backoffice/tickets/{ticket['id']}", headers=auth("planner")))
    assert "13812345678" not in str(page) and "客户说洗澡没热水" not in str(page)
    assert page["product"] is None and page["ticket"]["custom_fields"] == {}
    note = next(h for h in page["history"] if h["action"] == "note")
    assert note["internal"] and note["note"] == "***"


def test_saved_views_and_bad_filters_answer_clearly(client: TestClient, auth: Headers) -> None:
    saved = _ok(
        client.post(
            "/api/backoffice/views",
            json={"name": "超时维修", "filters": {"type": "repair", "sla": "breached"}},
            headers=auth("boss"),
        ),
        201,
    )
    assert _ok(client.get("/api/backoffice/views", headers=auth("boss"))) == [saved]
    assert _ok(client.get("/api/backoffice/views", headers=auth("lead"))) == []
    assert (
        client.delete(f"/api/backoffice/views/{saved['id']}", headers=auth("lead")).status_code
        == 404
    )
    bad = client.get("/api/backoffice/queue?sla=late", headers=auth("boss"))
    assert bad.status_code == 409 and "unknown SLA filter 'late'" in bad.text
    window = {"provider": "hf-anjia", **_window()}
    window["appointment_to"] = window["appointment_from"]
    ticket = _repair(client, auth)
    wrong = client.post(
        f"/api/backoffice/tickets/{ticket['id']}/dispatch", json=window, headers=auth("a001")
    )
    assert wrong.status_code == 422
    assert wrong.json()["problems"][0]["field"] == "appointment_to"


def test_the_complaint_board_shows_who_must_act_next(client: TestClient, auth: Headers) -> None:
    serious = _ok(
        client.post(
            "/api/tickets",
            json={"type": "complaint", "subject": "上门迟到三小时", "complaint_level": "2"},
            headers=auth("a001"),
        ),
        201,
    )
    ordinary = _ok(
        client.post(
            "/api/tickets",
            json={"type": "complaint", "subject": "态度不好", "priority": "low"},
            headers=auth("a001"),
        ),
        201,
    )
    assert client.get("/api/backoffice/complaints", headers=auth("a001")).status_code == 403
    board = _ok(client.get("/api/backoffice/complaints", headers=auth("boss")))
    # The nearest deadline first: the normal-priority complaint is due before the low one.
    assert [row["id"] for row in board] == [serious["id"], ordinary["id"]]
    assert board[0]["complaint"] == {
        "level": "2",
        "path": ["team_lead", "supervisor"],
        "acknowledged": [],
        "next_role": "team_lead",
        "deadline": board[0]["complaint"]["deadline"],
    }
    # The supervisor may not skip the team lead; the team lead acknowledges, then the boss.
    skipped = client.post(
        f"/api/tickets/{serious['id']}/actions",
        json={"action": "escalate", "target": "supervisor"},
        headers=auth("boss"),
    )
    assert skipped.status_code == 409 and "team_lead next" in skipped.text
    for who, role in (("lead", "team_lead"), ("boss", "supervisor")):
        _ok(
            client.post(
                f"/api/tickets/{serious['id']}/actions",
                json={"action": "escalate", "target": role},
                headers=auth(who),
            )
        )
    board = _ok(client.get("/api/backoffice/complaints", headers=auth("lead")))
    assert board[0]["complaint"]["next_role"] is None
    assert board[0]["complaint"]["acknowledged"] == ["team_lead", "supervisor"]


def test_link_and_merge_by_number_within_what_one_may_see(
    client: TestClient, auth: Headers
) -> None:
    first, duplicate = _repair(client, auth), _repair(client, auth)
    hidden = _repair(client, auth, queue="vip")  # not one of agent a001's queues
    blocked = client.post(
        f"/api/backoffice/tickets/{first['id']}/links",
        json={"number": hidden["number"]},
        headers=auth("a001"),
    )
    assert blocked.status_code == 404
    _ok(
        client.post(
            f"/api/backoffice/tickets/{first['id']}/links",
            json={"number": hidden["number"]},
            headers=auth("boss"),
        )
    )
    merged = _ok(
        client.post(
            f"/api/backoffice/tickets/{duplicate['id']}/merge",
            json={"number": first["number"]},
            headers=auth("a001"),
        )
    )
    assert merged["state"] == "cancelled"
    # The agent sees the merged duplicate among the related tickets, not the hidden one.
    page = _ok(client.get(f"/api/backoffice/tickets/{first['id']}", headers=auth("a001")))
    assert [r["number"] for r in page["related"]] == [duplicate["number"]]
    page = _ok(client.get(f"/api/backoffice/tickets/{first['id']}", headers=auth("boss")))
    assert [r["number"] for r in page["related"]] == [hidden["number"], duplicate["number"]]


def test_attachments_upload_list_download_and_refusals(
    client: TestClient, auth: Headers, session_factory: sessionmaker[Session]
) -> None:
    from sqlalchemy import select

    from hotline.core.files import PNG_MAGIC
    from hotline.store.models.core import AuditEntry
    from hotline.tickets.service import ATTACHMENT_MAX_BYTES

    tid = _repair(client, auth)["id"]
    photo = PNG_MAGIC + b"the nameplate"
    url = f"/api/backoffice/attachments/tickets/{tid}"
    kept = _ok(
        client.post(url, files={"file": ("铭牌.png", photo, "image/png")}, headers=auth("a001")),
        201,
    )
    assert (kept["filename"], kept["size_bytes"], kept["uploaded_by"]) == (
        "铭牌.png",
        len(photo),
        "a001",
    )
    page = _ok(client.get(f"/api/backoffice/tickets/{tid}", headers=auth("boss")))
    assert [a["id"] for a in page["attachments"]] == [kept["id"]]
    assert page["history"][-1]["action"] == "attachment"

    download = client.get(f"/api/backoffice/attachments/{kept['id']}", headers=auth("boss"))
    assert download.status_code == 200 and download.content == photo
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    with session_factory() as session:
        reads = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "ticket.attachment_read")
        ).all()
        assert [(r.actor, r.detail["attachment_id"]) for r in reads] == [("boss", kept["id"])]
    # WFM sees tickets without their content: not their files either (and nothing audited).
    refused = client.get(f"/api/backoffice/attachments/{kept['id']}", headers=auth("planner"))
    assert refused.status_code == 403
    assert client.get("/api/backoffice/attachments/999999", headers=auth("boss")).status_code == 404

    def refusal(name: str, data: bytes, media_type: str) -> str:
        answer = client.post(url, files={"file": (name, data, media_type)}, headers=auth("a001"))
        assert answer.status_code == 422, answer.text
        [problem] = answer.json()["problems"]
        assert problem["field"] == "file"
        return str(problem["problem"])

    assert refusal("a.exe", b"MZ...", "application/x-msdownload").startswith(
        "files of type application/x-msdownload are not accepted"
    )
    assert refusal("fake.png", b"MZ...", "image/png") == "the file's content is not image/png"
    too_big = b"a" * (ATTACHMENT_MAX_BYTES + 1)
    assert refusal("big.txt", too_big, "text/plain") == (
        f"a file may have at most {ATTACHMENT_MAX_BYTES} bytes; "
        f"this one has {ATTACHMENT_MAX_BYTES + 1}"
    )
    page = _ok(client.get(f"/api/backoffice/tickets/{tid}", headers=auth("boss")))
    assert len(page["attachments"]) == 1
