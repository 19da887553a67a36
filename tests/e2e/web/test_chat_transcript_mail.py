"""The chat widget's "e-mail me the transcript", in headless Chromium against the real server.

A customer on a shop's page (its own origin, allowed by the center file) starts a chat giving
an e-mail address, writes, and ends it; the end-of-chat panel offers the transcript by e-mail,
and the click queues it in the e-mail outbox to that address; the widget says where it went
(the address masked) and offers it no more. The panel passes axe-core.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from hotline.config.chat import ChatSettings
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.live.driver import LiveDriver, attach
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.email import EmailMessage
from hotline.web.app import create_app
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_chat_pages import SHOP_PAGE, Sites
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, SAMPLE, _require_browser
from tests.integration.live.test_email_contacts import add_mailbox

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sites(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Sites, sessionmaker[Session]]]:
    _require_browser()
    hotline_url: dict[str, str] = {}

    async def page(_: Request) -> HTMLResponse:
        return HTMLResponse(SHOP_PAGE.format(hotline=hotline_url["url"]))

    home = tmp_path_factory.mktemp("chat-transcript")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        add_mailbox(session)
    with serving(Starlette(routes=[Route("/", page)]), name="shop") as shop:
        sample = load_center(SAMPLE)
        assert sample.chat is not None
        settings = sample.chat.model_dump() | {"allowed_origins": [shop]}
        center = sample.model_copy(update={"chat": ChatSettings.model_validate(settings)})
        app = create_app(
            settings=Settings(home=home, secret_key="e2e-secret"),
            session_factory=factory,
            center=center,
        )
        attach(app, LiveDriver(center=center, honour_hours=False))
        with serving(app, name="chat-transcript") as url:
            hotline_url["url"] = url
            yield Sites(shop=shop, hotline=url), factory
    engine.dispose()


def test_the_customer_has_the_transcript_mailed_at_the_end(
    sites: tuple[Sites, sessionmaker[Session]],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    site, factory = sites
    with sync_playwright() as playwright:
        browser: Any = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        shop = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
        shop.goto(site.shop)
        shop.click("#hotline-chat .hc-launcher")
        shop.fill("#hc-name", "王小明")
        shop.fill("#hc-email", "wang@example.com")
        shop.fill("#hc-topic", "洗衣机漏水")
        shop.click("#hotline-chat .hc-form button[type=submit]")
        expect(shop.locator("#hotline-chat .hc-talk")).to_be_visible()
        shop.fill("#hc-text", "洗衣机漏水了")
        shop.press("#hc-text", "Enter")
        expect(shop.locator("#hotline-chat li.hc-customer[data-acked=true]")).to_have_count(1)
        shop.click("#hotline-chat .hc-compose .hc-secondary")
        mail_button = shop.get_by_role("button", name="把对话记录发到我的邮箱")
        expect(mail_button).to_be_visible()
        assert serious_violations(shop) == []
        mail_button.click()
        expect(shop.locator("#hotline-chat .hc-mailed")).to_have_text(
            "对话记录已发往 w***@example.com。"
        )
        expect(mail_button).to_be_hidden()
        browser.close()
    with factory() as session:
        sent = session.scalars(
            select(EmailMessage).where(EmailMessage.kind == "chat_transcript")
        ).all()
    assert [(m.recipients, m.status) for m in sent] == [(["wang@example.com"], "queued")]
    assert "您: 洗衣机漏水了" in sent[0].body
