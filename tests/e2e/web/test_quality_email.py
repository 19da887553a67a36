"""Evaluating an e-mail contact in the QA workspace, in headless Chromium against the real server.

The server runs the live routing engine with its e-mail router. A customer's mail (with a
photo) arrives; the router queues it as an e-mail contact and the engine offers it to the
ready agent with the e-mail skill, who accepts it and replies through the API; the router
ends it in the engine, and the contact event log holds it. The QA specialist then finds it
in this month's sampling plan, opens it — the thread shows where a call shows its player:
the customer's mail with its attachment named, the acknowledgement and the reply, in order —
and scores it; reading the thread is audited. The page passes axe-core (no serious or
critical violations) in zh-CN and in en. The customer's thank-you is a new contact, which the
agent ends on the ticket page with "no reply needed".

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import service as mail
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.live.driver import LiveDriver, attach
from hotline.store.db import make_engine, make_session_factory, writing
from hotline.store.migrate import upgrade
from hotline.store.models.core import AuditEntry, ContactEventRow, User
from hotline.web.app import create_app
from hotline.web.email_relay import attach_email_router
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SAMPLE,
    _require_browser,
)
from tests.integration.live.test_email_contacts import add_mailbox
from tests.unit.channels.mail_samples import customer_mail

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Site:
    url: str
    factory: sessionmaker[Session]


def _until(check: Callable[[], Any], what: str, timeout_s: float = 20.0) -> Any:
    """``check()``'s first true answer, asked until ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout_s} s")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app with live routing and the e-mail router, on a temporary SQLite file."""
    _require_browser()
    home = tmp_path_factory.mktemp("quality-email")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        digest = hash_password(PASSWORD)
        for username, role, agent_id in (("qa1", "qa", None), ("a021", "agent", "a021")):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=digest,
                    roles=[role],
                    agent_id=agent_id,
                    language="zh-CN",
                    active=True,
                )
            )
        session.commit()
        add_mailbox(session)
    center = load_center(SAMPLE)
    app = create_app(
        settings=Settings(home=Path(home), secret_key="e2e-secret"),
        session_factory=factory,
        center=center,
    )
    attach(app, LiveDriver(center=center, honour_hours=False))
    attach_email_router(app)
    with serving(app, name="quality-email") as url:
        yield Site(url=url, factory=factory)
    engine.dispose()


def _arrives(site: Site, raw: bytes) -> tuple[str, int]:
    """A customer's mail arrives (as the SMTP receiver takes it): its contact and ticket."""
    with writing(site.factory()) as session:  # the writer's turn, as the receiver takes it
        box = mail.get_mailbox(session, address="help@support.example.com")
        received = mail.receive(session, raw=raw, mailbox=box, source="smtp")
        session.commit()
    assert received.contact_id is not None and received.ticket_id is not None
    return received.contact_id, received.ticket_id


def _accepted(api: httpx.Client, contact: str) -> None:
    """The agent is offered ``contact`` by the engine and accepts it."""
    desk = "/api/live/agents/a021"
    _until(
        lambda: (api.get(desk).json().get("offer") or {}).get("contact_id") == contact,
        "the offer of the e-mail contact",
    )
    assert api.post(f"{desk}/contacts/{contact}/answer").status_code == 200


def _finished(site: Site, contact: str) -> None:
    def finished() -> bool:
        with site.factory() as session:
            kinds = session.scalars(
                select(ContactEventRow.kind).where(ContactEventRow.contact_id == contact)
            ).all()
        return "finished" in kinds

    _until(finished, "the end of the e-mail contact in the event log")


@pytest.fixture(scope="module")
def agent_api(site: Site) -> Iterator[httpx.Client]:
    """The agent a021's API session, ready for contacts."""
    with httpx.Client(base_url=site.url, headers={"origin": site.url}) as api:
        login = api.post("/api/auth/login", json={"username": "a021", "password": PASSWORD})
        api.headers["authorization"] = f"Bearer {login.json()['token']}"
        ready = api.post("/api/live/agents/a021/state", json={"state": "ready"})
        assert ready.status_code == 200
        yield api


def _signed_in(browser: Any, site: Site, username: str) -> Any:
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    return page


def test_qa_evaluates_an_email_contact_from_its_thread(site: Site, agent_api: httpx.Client) -> None:
    from playwright.sync_api import expect, sync_playwright

    contact, ticket = _arrives(site, customer_mail(attachment=b"PHOTO" * 300))
    _accepted(agent_api, contact)
    reply = agent_api.post(f"/api/tickets/{ticket}/emails", json={"text": "已安排师傅明天上门。"})
    assert reply.status_code == 201, reply.text
    _finished(site, contact)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        page = _signed_in(browser, site, "qa1")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        # zh-CN: the sampling plan draws the e-mail contact; its thread replaces the player.
        page.goto(f"{site.url}/quality")
        page.locator(f"#plan-list button[data-contact={contact}]").click()
        expect(page.locator("#qa-agent")).to_have_text("a021")
        expect(page.locator("#qa-email h3")).to_contain_text("邮件往来")
        thread = page.locator("#qa-email-thread > li")
        expect(thread).to_have_count(3)
        expect(thread.nth(0)).to_contain_text("收到 · 客户来信")
        expect(thread.nth(0)).to_contain_text("您好，热水器从昨天起不加热。")
        expect(thread.nth(0).locator(".email-files li")).to_have_text(["fault.jpg (2 KB)"])
        expect(thread.nth(1)).to_contain_text("发出 · 自动确认")
        expect(thread.nth(2)).to_contain_text("已安排师傅明天上门。")
        expect(page.locator("#player")).to_be_hidden()
        expect(page.locator("#no-recording")).to_be_hidden()
        assert serious_violations(page) == []
        page.click("#submit-evaluation")
        expect(page.locator("#evaluation-result")).to_contain_text("已保存，得分 100.0")

        # en: the same contact opened by its id.
        page.goto(f"{site.url}/quality?lang=en")
        expect(page.locator("h1")).to_have_text("Quality workspace")
        page.fill("#open-contact", contact)
        page.click("#open-form button")
        expect(page.locator("#qa-email h3")).to_contain_text("E-mail thread")
        expect(thread).to_have_count(3)
        expect(thread.nth(0)).to_contain_text("In · From the customer")
        expect(thread.nth(2)).to_contain_text("Out · Reply")
        assert serious_violations(page) == []
        assert errors == []

        # The customer thanks them: a new contact on the ticket, which the agent accepts and
        # ends from the ticket page with "no reply needed".
        thanks, same = _arrives(
            site,
            customer_mail(
                message_id="<thanks@example.com>",
                in_reply_to=reply.json()["message_id"],
                body="谢谢！",
            ),
        )
        assert same == ticket and thanks != contact
        _accepted(agent_api, thanks)
        desk = _signed_in(browser, site, "a021")
        desk.goto(f"{site.url}/tickets/{ticket}")
        expect(desk.locator("#email-thread > li")).to_have_count(4)
        desk.get_by_role("button", name="无需回复").click()
        expect(desk.locator("#email-no-reply-done")).to_be_visible()
        browser.close()
    _finished(site, thanks)
    with site.factory() as session:
        reads = session.scalars(
            select(AuditEntry.actor).where(
                AuditEntry.action == "email.contact.read",
                AuditEntry.target == f"contact:{contact}",
            )
        ).all()
    assert reads == ["qa1", "qa1"]
