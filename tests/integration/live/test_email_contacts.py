"""E-mail as a contact of the universal queue: a received message becomes a contact of channel
``email`` that the live engine queues and offers to an agent with e-mail capacity; the agent's
reply (or "no reply needed") ends it with its handle time; the event log and the KPI report
count it under channel ``email``, a contact that waited past the queue's target as such; the
QA sampling plan draws it and the QA workspace reads its thread (audited)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import service as mail
from hotline.channels.email.settings import MailboxSettings
from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.metrics import service as metrics
from hotline.store.models.core import AuditEntry, ContactEventRow
from hotline.tickets import service as tickets
from hotline.web.email_relay import EmailRouter, attach_email_router
from tests.integration.live.conftest import SAMPLE, live_client
from tests.integration.live.test_live_api import auth
from tests.unit.channels.mail_samples import customer_mail

#: The sample center's e-mail queue answers 90 % within four hours.
TARGET_S = 14400


@pytest.fixture
def clock() -> ManualClock:
    """Today at 01:00 UTC: the tests move it on by hours, and the day's report must hold them
    all (started at the wall clock's now, a run after 20:00 UTC split them over two days)."""
    return ManualClock(time.time() // 86_400 * 86_400 + 3_600)


def add_mailbox(session: Session, *, queue: str = "email") -> None:
    """The service mailbox help@support.example.com, whose contacts wait in ``queue``."""
    mail.save_mailbox(
        session,
        settings=MailboxSettings(
            address="help@support.example.com", display_name="客服中心", queue=queue
        ),
        secret=b"k" * 32,
        actor="admin",
    )
    session.commit()


def email_server(
    session_factory: sessionmaker[Session], db_session: Session, home: Path, **options: Any
) -> AbstractContextManager[TestClient]:
    """The app with live routing and its e-mail router (``options``: those of live_client).

    The router has no rounds of its own here: the test runs each one (the test's sessions
    share one connection, which the router's thread must not use while the test does).
    """
    options.setdefault("users", ())
    return live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=home,
        prepare=lambda app: attach_email_router(app, every_s=None),
        **options,
    )


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path, clock: ManualClock
) -> Iterator[TestClient]:
    users = (("a021", ["agent"], "a021"), ("qa1", ["qa"], None), ("wfm1", ["wfm"], None))
    with email_server(
        session_factory, db_session, tmp_path, users=users, clock=clock
    ) as test_client:
        yield test_client


def route(client: TestClient) -> tuple[int, int]:
    """One round of the app's e-mail router: (contacts queued, contacts ended)."""
    router: EmailRouter = client.app.state.email_router  # type: ignore[attr-defined]
    done: tuple[int, int] = client.portal.call(router.route_once)  # type: ignore[union-attr]
    return done


def receive(db_session: Session, clock: ManualClock, raw: bytes) -> mail.Received:
    box = mail.get_mailbox(db_session, address="help@support.example.com")
    received = mail.receive(
        db_session,
        raw=raw,
        mailbox=box,
        source="smtp",
        now=datetime.fromtimestamp(clock.now(), UTC),
    )
    db_session.commit()
    return received


def test_an_email_is_queued_offered_answered_replied_and_counted_under_email(
    client: TestClient, db_session: Session, clock: ManualClock
) -> None:
    add_mailbox(db_session)
    agent = auth(client, "a021")
    desk = "/api/live/agents/a021"

    # A new thread: a ticket and an e-mail contact, the ticket carrying the contact's id.
    first = receive(db_session, clock, customer_mail(attachment=b"PHOTO"))
    assert first.outcome == "opened" and first.contact_id and first.ticket_id
    assert tickets.get_ticket(db_session, ticket_id=first.ticket_id).contact_id == first.contact_id
    assert route(client) == (1, 0)
    # Nobody is ready: it waits past the queue's service target, then an agent with the
    # e-mail skill and room for e-mail takes it.
    clock.advance(TARGET_S + 60)
    ready = client.post(f"{desk}/state", json={"state": "ready"}, headers=agent)
    assert ready.status_code == 200, ready.text
    offer = client.get(desk, headers=agent).json()["offer"]
    assert offer["contact_id"] == first.contact_id
    assert offer["attached"]["ticket_number"] == first.ticket_number
    assert offer["attached"]["subject"] == "热水器不加热"
    answer = client.post(f"{desk}/contacts/{first.contact_id}/answer", headers=agent)
    assert answer.status_code == 200, answer.text
    clock.advance(300)
    reply = client.post(
        f"/api/tickets/{first.ticket_id}/emails", json={"text": "已安排上门"}, headers=agent
    )
    assert reply.status_code == 201, reply.text
    assert route(client) == (0, 1)
    # The customer answers the reply: a new contact on the same ticket; their next mail
    # while it is in progress joins it.
    clock.advance(60)
    again = receive(
        db_session,
        clock,
        customer_mail(message_id="<c2@example.com>", in_reply_to=reply.json()["message_id"]),
    )
    assert again.outcome == "threaded" and again.ticket_id == first.ticket_id
    assert again.contact_id not in (None, first.contact_id)
    more = receive(
        db_session,
        clock,
        customer_mail(message_id="<c3@example.com>", subject=f"Re: [#{first.ticket_number}]"),
    )
    assert (more.ticket_id, more.contact_id) == (first.ticket_id, again.contact_id)
    assert route(client) == (1, 0)
    offered = client.get(desk, headers=agent).json()["offer"]
    assert offered["contact_id"] == again.contact_id  # in time, this one
    assert client.post(f"{desk}/contacts/{again.contact_id}/answer", headers=agent).is_success
    clock.advance(40)
    # "No reply needed" ends it too; a second time there is nothing in progress.
    closed = client.post(f"/api/tickets/{first.ticket_id}/emails/no-reply", headers=agent)
    assert closed.status_code == 200, closed.text
    assert closed.json() == {
        "contact_id": again.contact_id,
        "ticket_id": first.ticket_id,
        "ended_by": "no_reply",
    }
    refused = client.post(f"/api/tickets/{first.ticket_id}/emails/no-reply", headers=agent)
    assert refused.status_code == 409
    assert route(client) == (0, 1)
    driver: LiveDriver = client.app.state.live  # type: ignore[attr-defined]
    client.portal.call(driver.flush)  # type: ignore[union-attr]

    # The event log holds both contacts like calls, with channel email.
    for contact in (first.contact_id, again.contact_id):
        rows = db_session.execute(
            select(ContactEventRow.kind, ContactEventRow.channel, ContactEventRow.agent_id)
            .where(ContactEventRow.contact_id == contact)
            .order_by(ContactEventRow.seq)
        ).all()
        kinds = [kind for kind, _, _ in rows]
        for kind in ("queued", "offered", "answered", "disconnected", "finished"):
            assert kind in kinds, (contact, kinds)
        assert {channel for _, channel, _ in rows if channel} == {"email"}
        assert {a for kind, _, a in rows if kind == "answered"} == {"a021"}
    center_settings = metrics.settings_for_center(client.app.state.center)  # type: ignore[attr-defined]
    report = metrics.kpi_report(
        session=db_session, interval="day", by=("channel",), settings=center_settings
    )
    (row,) = [r for r in report.rows() if r["channel"] == "email"]
    # One answered after the four-hour target, one within it; handle times 300 s and 40 s.
    assert (row["offered"], row["answered"], row["abandoned"]) == (2, 2, 0)
    assert row["service_level"] == pytest.approx(0.5)
    assert row["att_s"] == pytest.approx(170.0, abs=1.0)
    assert row["longest_wait_s"] >= TARGET_S + 60

    # QA: the sampling plan draws e-mail contacts; the thread reads in order, audited, and
    # only for the roles that may read the customer's words.
    qa = auth(client, "qa1")
    plan = client.get("/api/quality/sampling-plan", headers=qa).json()
    drawn = {p["contact_id"]: p["stratum"] for p in plan["picks"]}
    assert first.contact_id in drawn and "email" in drawn[first.contact_id]
    thread = client.get(f"/api/email/contacts/{first.contact_id}", headers=qa)
    assert thread.status_code == 200, thread.text
    body: dict[str, Any] = thread.json()
    assert (body["ticket_number"], body["queue"], body["ended_by"]) == (
        first.ticket_number,
        "email",
        "reply",
    )
    shown = [(m["direction"], m["kind"], m["in_contact"]) for m in body["messages"]]
    assert shown == [
        ("in", "customer", True),
        ("out", "acknowledgement", True),
        ("out", "reply", True),
    ]
    assert [a["filename"] for a in body["messages"][0]["attachments"]] == ["fault.jpg"]
    assert body["messages"][2]["body"] == "已安排上门"
    later = client.get(f"/api/email/contacts/{again.contact_id}", headers=qa).json()
    assert [(m["kind"], m["in_contact"]) for m in later["messages"]] == [
        ("customer", False),
        ("acknowledgement", False),
        ("reply", False),
        ("customer", True),
        ("customer", True),
    ]
    audited = db_session.scalars(
        select(AuditEntry.target).where(AuditEntry.action == "email.contact.read")
    ).all()
    assert f"contact:{first.contact_id}" in audited
    assert (
        client.get(
            f"/api/email/contacts/{first.contact_id}", headers=auth(client, "wfm1")
        ).status_code
        == 403
    )
    assert client.get("/api/email/contacts/email_nothing", headers=qa).status_code == 404
    workspace = client.get(f"/api/quality/contacts/{first.contact_id}", headers=qa).json()
    assert workspace["channel"] == "email" and workspace["agent_id"] == "a021"
    assert [t["number"] for t in workspace["tickets"]] == [first.ticket_number]
    reply_contact = client.get(f"/api/quality/contacts/{again.contact_id}", headers=qa).json()
    assert [t["number"] for t in reply_contact["tickets"]] == [first.ticket_number]


def test_a_mailbox_without_an_email_queue_leaves_the_ticket_to_the_work_queue(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> None:
    from hotline.config.validate import load_center

    center = load_center(SAMPLE)
    voice_only = center.model_copy(
        update={"queues": [q for q in center.queues if q.channel != "email"]}
    )
    with email_server(session_factory, db_session, tmp_path, center=voice_only) as client:
        add_mailbox(db_session)
        opened = receive(db_session, ManualClock(time.time()), customer_mail())
        assert route(client) == (0, 0)
        assert opened.ticket_id is not None
        assert tickets.get_ticket(db_session, ticket_id=opened.ticket_id).state == "new"
        # It stays out of the engine, and a reply still goes out as before.
        assert mail.contacts_to_route(db_session) == []
        mail.queue_reply(db_session, ticket_id=opened.ticket_id, text="好的", actor="a021")
        assert mail.ends_to_tell(db_session) == []


def test_a_contact_the_stopped_server_held_is_queued_again_after_the_restart(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> None:
    agent_user = (("a021", ["agent"], "a021"),)
    with email_server(session_factory, db_session, tmp_path, users=agent_user) as client:
        add_mailbox(db_session)
        lost = receive(db_session, ManualClock(time.time()), customer_mail())
        assert route(client) == (1, 0)
    # The stop closed the waiting contact in the event log; the next run queues the mail again.
    with email_server(session_factory, db_session, tmp_path) as client:
        assert route(client) == (1, 0)
        agent = auth(client, "a021")
        ready = client.post("/api/live/agents/a021/state", json={"state": "ready"}, headers=agent)
        assert ready.status_code == 200
        offer = client.get("/api/live/agents/a021", headers=agent).json()["offer"]
        assert offer["contact_id"] not in (None, lost.contact_id)
        assert offer["attached"]["ticket_number"] == lost.ticket_number
        assert route(client) == (0, 0)  # taken back once, not at every round
    assert lost.contact_id is not None
    old = mail.contact_thread(db_session, contact_id=lost.contact_id)
    assert (old.state, old.ended_by) == ("ended", "interrupted")
