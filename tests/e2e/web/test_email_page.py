"""The ticket page's e-mail thread and reply in headless Chromium against the real server.

A customer's mail (with a photo) opened a ticket and its acknowledgement waits in the outbox;
a supervisor sees both on the ticket page, with the attachment, and answers by e-mail; the
reply appears waiting to send, the outbox hands it to an aiosmtpd relay on 127.0.0.1 with
the threading headers, and the page then shows it sent. An administrator adds a mailbox on the
admin page (settings missing the IMAP user refused, naming the field) and sees the quarantine.
The pages pass axe-core (no serious or critical violations) in zh-CN and en.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import sender, service
from hotline.channels.email.settings import MailboxSettings
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.web.app import create_app, load_secret
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_backoffice import VIEWPORT
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, PASSWORD, _require_browser
from tests.integration.channels.test_email_servers import Relay, free_port
from tests.unit.channels.mail_samples import MALFORMED, customer_mail

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, int, sessionmaker[Session], bytes, Relay]]:
    """The real app with a mailbox whose relay is an aiosmtpd server, and one e-mail ticket."""
    _require_browser()
    home = tmp_path_factory.mktemp("email-page")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    settings = Settings(home=home, secret_key="e2e-secret")
    secret = load_secret(settings)
    relay, port = Relay(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    with factory() as session:
        digest = hash_password(PASSWORD)
        for username, role in (("boss", "supervisor"), ("root", "admin")):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=digest,
                    roles=[role],
                    agent_id=None,
                    language="zh-CN",
                    active=True,
                )
            )
        box = service.save_mailbox(
            session,
            settings=MailboxSettings(
                address="help@support.example.com",
                display_name="客服中心",
                smtp_host="127.0.0.1",
                smtp_port=port,
            ),
            secret=secret,
            actor="e2e",
        )
        opened = service.receive(
            session, raw=customer_mail(attachment=b"photo"), mailbox=box, source="smtp"
        )
        service.receive(session, raw=MALFORMED, mailbox=box, source="smtp")
        session.commit()
    assert opened.ticket_id is not None
    app = create_app(settings=settings, session_factory=factory)
    with serving(app, name="email") as url:
        yield url, opened.ticket_id, factory, secret, relay
    controller.stop()
    engine.dispose()


def _signed_in(browser: Any, base_url: str, locale: str, username: str = "boss") -> Any:
    context = browser.new_context(viewport=VIEWPORT, locale=locale, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/console")
    return page


def test_the_ticket_page_shows_the_thread_and_sends_a_reply(
    site: tuple[str, int, sessionmaker[Session], bytes, Relay],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, ticket_id, factory, secret, relay = site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        page = _signed_in(browser, base_url, "zh-CN")
        page.goto(f"{base_url}/tickets/{ticket_id}")
        thread = page.locator("#email-thread > li")
        expect(thread).to_have_count(2)
        expect(thread.nth(0)).to_contain_text("客户来信")
        expect(thread.nth(0)).to_contain_text("您好，热水器从昨天起不加热。")
        expect(thread.nth(0).get_by_role("link", name="fault.jpg (1 KB)")).to_be_visible()
        expect(thread.nth(1)).to_contain_text("自动确认")
        expect(thread.nth(1)).to_contain_text("待发送")
        assert serious_violations(page) == []
        # the reply: queued first, then sent by the outbox through the relay
        page.fill("#email-text", "已安排师傅明天上门。")
        page.get_by_role("button", name="发送回复").click()
        expect(thread).to_have_count(3)
        expect(thread.nth(2)).to_contain_text("已安排师傅明天上门。")
        expect(thread.nth(2)).to_contain_text("待发送")
        outcomes = sender.deliver_due(factory, secret=secret)
        assert [o.status for o in outcomes] == ["sent", "sent"]
        page.reload()
        expect(thread.nth(2)).to_contain_text("已发送")
        sent = email.message_from_bytes(
            relay.received[-1].original_content or b"", policy=email.policy.default
        )
        assert sent["In-Reply-To"] == "<c1@example.com>"
        assert "[#" in sent["Subject"]
        # English
        english = _signed_in(browser, base_url, "en")
        english.goto(f"{base_url}/tickets/{ticket_id}?lang=en")
        expect(english.locator("#email-title")).to_have_text("E-mail")
        expect(english.locator("#email-thread > li").nth(2)).to_contain_text("Sent")
        assert serious_violations(english) == []
        # the admin page's e-mail section: a second mailbox, a refusal, the quarantine
        admin = _signed_in(browser, base_url, "en", username="root")
        admin.goto(f"{base_url}/admin?lang=en")
        form = admin.locator("#mailbox-form")
        form.locator("input[name=address]").fill("vip@support.example.com")
        form.locator("input[name=smtp_host]").fill("127.0.0.1")
        form.locator("input[name=imap_host]").fill("127.0.0.1")  # but no IMAP user: refused
        form.get_by_role("button", name="Save mailbox").click()
        expect(admin.locator("#mailbox-problems")).to_contain_text("imap_username")
        form.locator("input[name=imap_host]").fill("")
        form.get_by_role("button", name="Save mailbox").click()
        expect(admin.locator("#mailbox-result")).to_contain_text("vip@support.example.com")
        expect(admin.locator("#mailboxes > tr")).to_have_count(2)
        expect(admin.locator("#quarantine")).to_contain_text("boundary never occurs")
        assert serious_violations(admin) == []
        browser.close()
