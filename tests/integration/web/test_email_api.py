"""The e-mail API: mailbox settings checked with located errors and passwords never shown,
a ticket's thread masked by the personal-data policy, replies, attachments, the quarantine."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.channels.email import service
from hotline.tickets import service as tickets
from tests.unit.channels.mail_samples import MALFORMED, customer_mail

TokenFor = Callable[[str], str]
MAILBOX = {
    "address": "Help@Support.example.com",
    "display_name": "客服中心",
    "smtp_host": "127.0.0.1",
    "smtp_port": 2525,
    "smtp_username": "hotline",
    "smtp_password": "relay-pass",
}


def _as(token_for: TokenFor, role: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(role)}"}


def test_mailbox_settings_are_checked_and_passwords_never_shown(
    app_client: TestClient, token_for: TokenFor
) -> None:
    admin = _as(token_for, "admin")
    bad = app_client.put(
        "/api/email/mailboxes",
        json=MAILBOX | {"address": "not an address", "smtp_port": 70000},
        headers=admin,
    )
    assert bad.status_code == 422
    fields = {p["field"] for p in bad.json()["problems"]}
    assert {"body.address", "body.smtp_port"} <= fields
    good = app_client.put("/api/email/mailboxes", json=MAILBOX, headers=admin)
    assert good.status_code == 200, good.text
    assert good.json()["address"] == "help@support.example.com"
    assert good.json()["smtp_password_set"] is True
    listed = app_client.get("/api/email/mailboxes", headers=admin)
    assert "relay-pass" not in listed.text
    assert [m["address"] for m in listed.json()] == ["help@support.example.com"]
    # leaving the password out keeps it
    kept = app_client.put(
        "/api/email/mailboxes", json=MAILBOX | {"smtp_password": None}, headers=admin
    )
    assert kept.json()["smtp_password_set"] is True
    assert (
        app_client.delete("/api/email/mailboxes/nobody@x.example.com", headers=admin).status_code
        == 404
    )


def test_thread_reply_attachment_and_quarantine(
    app_client: TestClient, token_for: TokenFor, db_session: Session
) -> None:
    admin = _as(token_for, "admin")
    assert app_client.put("/api/email/mailboxes", json=MAILBOX, headers=admin).status_code == 200
    box = service.get_mailbox(db_session, address="help@support.example.com")
    opened = service.receive(
        db_session, raw=customer_mail(attachment=b"PHOTO"), mailbox=box, source="smtp"
    )
    service.receive(db_session, raw=MALFORMED, mailbox=box, source="smtp")
    db_session.commit()
    boss = _as(token_for, "supervisor")
    thread = app_client.get(f"/api/tickets/{opened.ticket_id}/emails", headers=boss).json()
    assert [m["kind"] for m in thread] == ["customer", "acknowledgement"]
    assert thread[0]["sender"] == "li.lei@example.com"
    file = thread[0]["attachments"][0]
    download = app_client.get(f"/api/email/attachments/{file['id']}", headers=boss)
    assert download.content == b"PHOTO"
    assert 'filename="fault.jpg"' in download.headers["content-disposition"]
    # WFM sees the ticket's mail without who wrote it or what they wrote
    wfm = _as(token_for, "wfm")
    masked = app_client.get(f"/api/tickets/{opened.ticket_id}/emails", headers=wfm).json()
    assert masked[0]["sender"] != "li.lei@example.com"
    assert masked[0]["body"] == ""
    assert masked[0]["attachments"] == []
    assert app_client.get(f"/api/email/attachments/{file['id']}", headers=wfm).status_code == 404
    reply = app_client.post(
        f"/api/tickets/{opened.ticket_id}/emails", json={"text": "已安排上门"}, headers=boss
    )
    assert reply.status_code == 201, reply.text
    assert (reply.json()["kind"], reply.json()["status"]) == ("reply", "queued")
    phone = tickets.create_ticket(db_session, type="inquiry", subject="电话", actor="x")
    db_session.commit()
    refused = app_client.post(f"/api/tickets/{phone.id}/emails", json={"text": "x"}, headers=boss)
    assert refused.status_code == 409
    assert "no e-mail" in refused.json()["message"]
    (kept,) = app_client.get("/api/email/quarantine", headers=admin).json()
    assert "boundary never occurs" in kept["reason"]
    assert kept["preview"].startswith("From: Wang")
