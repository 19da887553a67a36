"""Web chat in headless Chromium: a company's page with the widget, and the agent's chat desk.

The customer's browser context opens a shop's page — served on its own origin, which the
center file allows (``chat.allowed_origins``) — with the one script tag of the widget; the
agent signs in to Hotline in another context and opens ``/chat/desk``. The customer fills the
pre-chat form, the live routing engine offers the chat to the ready agent, they exchange
messages through the real server, the customer's connection drops (offline, socket closed)
while the agent writes and the customer types, and after it comes back nothing is lost or
shown twice. The customer proves their e-mail address with a one-time code (sent through the
outbox), and the desk pops the customer behind it, "verified by one-time code". The customer
ends the chat and rates it; the agent wraps up. Both pages pass axe-core (no serious or
critical violations), the widget in zh-CN and the desk in en.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from hotline.config.chat import ChatSettings
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.crm import service as crm
from hotline.identity.passwords import hash_password
from hotline.live.driver import LiveDriver, attach
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.store.models.email import EmailMessage
from hotline.web.app import create_app
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SAMPLE, _require_browser
from tests.integration.live.test_email_contacts import add_mailbox

pytestmark = pytest.mark.e2e

SHOP_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>家电商城</title></head>
<body><main><h1>家电商城</h1><p>欢迎光临。</p></main>
<script src="{hotline}/chat/widget.js" data-lang="zh-CN" defer></script></body></html>"""


@dataclass
class Sites:
    """The shop's page and the Hotline server, each on its own origin."""

    shop: str
    hotline: str
    customer_id: int = 0
    factory: Any = None

    def last_code(self) -> str:
        """The one-time code in the last code e-mail the outbox holds."""
        with self.factory() as session:
            mail = session.scalars(
                select(EmailMessage)
                .where(EmailMessage.kind == "chat_code")
                .order_by(EmailMessage.id.desc())
            ).first()
        assert mail is not None and mail.recipients == ["wang.xm@example.com"]
        found = re.search(r"(?<![0-9])[0-9]{6}(?![0-9])", mail.body)
        assert found is not None, mail.body
        return found.group(0)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    _require_browser()
    hotline_url: dict[str, str] = {}

    async def page(_: Request) -> HTMLResponse:
        return HTMLResponse(SHOP_PAGE.format(hotline=hotline_url["url"]))

    shop_app = Starlette(routes=[Route("/", page)])
    home = tmp_path_factory.mktemp("chat")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        digest = hash_password(PASSWORD)
        for username, roles, agent_id in (("a004", ["agent"], "a004"), ("qa1", ["qa"], None)):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=digest,
                    roles=roles,
                    agent_id=agent_id,
                    language="en",
                    active=True,
                )
            )
        session.commit()
        # A customer on file under another number: the agent matches the chat to them.
        known = crm.create_customer(
            session, name="王小明", phones=["+86 139 0000 7777"], emails=["wang.xm@example.com"]
        )
        session.commit()
        customer_id = known.id
        add_mailbox(session)  # the one-time codes go out through the outbox
    with serving(shop_app, name="shop") as shop:
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
        with serving(app, name="chat") as url:
            hotline_url["url"] = url
            yield Sites(shop=shop, hotline=url, customer_id=customer_id, factory=factory)
    engine.dispose()


@pytest.fixture(scope="module")
def browser(sites: Sites) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def test_a_customer_and_an_agent_chat_through_the_server_across_a_dropped_connection(
    sites: Sites, browser: Any
) -> None:
    from playwright.sync_api import expect

    # The agent signs in, opens the chat desk (in English) and becomes ready.
    desk_context = browser.new_context(locale="en", bypass_csp=True)
    desk = desk_context.new_page()
    desk.goto(f"{sites.hotline}/login")
    desk.fill("input[name=username]", "a004")
    desk.fill("input[name=password]", PASSWORD)
    desk.click("button[type=submit]")
    desk.wait_for_url(f"{sites.hotline}/console")
    desk.click("#nav-chat")
    desk.wait_for_url(f"{sites.hotline}/chat/desk")
    desk.goto(f"{sites.hotline}/chat/desk?lang=en")
    expect(desk.locator("#chat-desk")).to_have_attribute("data-connected", "true")
    desk.click("#chat-ready")
    expect(desk.locator("#chat-agent-state")).to_have_text("available")

    # The customer opens the shop's page (another origin) and starts a chat.
    shop_context = browser.new_context(locale="zh-CN", bypass_csp=True)
    shop = shop_context.new_page()
    shop.goto(sites.shop)
    shop.click("#hotline-chat .hc-launcher")
    shop.click("#hotline-chat .hc-form button[type=submit]")
    expect(shop.locator("#hotline-chat .hc-form .hc-error")).to_contain_text("请填写姓名")
    shop.fill("#hc-name", "王小明")
    shop.fill("#hc-phone", "13800138000")
    shop.fill("#hc-topic", "洗衣机漏水")
    assert serious_violations(shop) == []
    shop.click("#hotline-chat .hc-form button[type=submit]")
    expect(shop.locator("#hotline-chat .hc-talk")).to_be_visible()

    # The engine offers it to the ready agent, who accepts: both see the agent join.
    desk.locator(".chat-accept").click()
    expect(desk.locator(".chat-panel .chat-who")).to_contain_text("王小明")
    expect(shop.locator("#hotline-chat .hc-log .hc-system")).to_contain_text("客服已接入")
    # The number is on nobody's record: the agent links the visitor to the customer they
    # matched; the screen pop then shows them, and the agent can unlink again.
    desk.fill(".chat-link-id", str(sites.customer_id))
    desk.click(".chat-link button[type=submit]")
    expect(desk.locator(".chat-linked-to")).to_contain_text(
        f"Linked to customer {sites.customer_id}"
    )
    expect(desk.locator(".chat-pop-customer")).to_contain_text("王小明")
    assert serious_violations(desk) == []
    desk.click(".chat-unlink")
    expect(desk.locator(".chat-link")).to_be_visible()
    expect(desk.locator(".chat-linked")).to_be_hidden()
    # The customer proves their e-mail address with a one-time code: the desk pops them.
    shop.click("#hotline-chat .hc-verify-open")
    shop.select_option("#hc-verify-kind", "email")
    shop.fill("#hc-verify-address", "wang.xm@example.com")
    shop.click("#hotline-chat .hc-verify-ask button[type=submit]")
    expect(shop.locator("#hotline-chat .hc-verify-status")).to_contain_text("验证码已发送至")
    assert serious_violations(shop) == []
    shop.fill("#hc-code", "000000" if sites.last_code() != "000000" else "111111")
    shop.click("#hotline-chat .hc-verify-code button[type=submit]")
    expect(shop.locator("#hotline-chat .hc-verify-status")).to_contain_text("未验证")
    shop.fill("#hc-code", sites.last_code())
    shop.click("#hotline-chat .hc-verify-code button[type=submit]")
    expect(shop.locator("#hotline-chat .hc-verify-status")).to_contain_text("验证成功")
    expect(desk.locator(".chat-verified")).to_have_text("Verified by one-time code")
    expect(desk.locator(".chat-linked-to")).to_contain_text(
        f"Linked to customer {sites.customer_id}"
    )
    expect(desk.locator(".chat-pop-customer")).to_contain_text("王小明")
    assert serious_violations(desk) == []
    shop.fill("#hc-text", "洗衣机漏水了")
    shop.press("#hc-text", "Enter")
    expect(shop.locator("#hotline-chat li.hc-customer[data-seq]")).to_have_count(1)
    expect(desk.locator(".chat-log li.from-customer .body")).to_have_text(["洗衣机漏水了"])
    desk.fill(".chat-text", "请问是什么型号？")
    desk.press(".chat-text", "Enter")
    expect(shop.locator("#hotline-chat li.hc-agent .hc-body")).to_have_text(["请问是什么型号？"])
    assert serious_violations(desk) == []

    # The customer's network drops: offline, and the socket is gone.
    shop_context.set_offline(True)
    shop.evaluate("() => window.HotlineChat.socket().close()")
    expect(shop.locator("#hotline-chat .hc-status")).to_contain_text("正在重新连接")
    desk.fill(".chat-text", "您还在吗？")
    desk.press(".chat-text", "Enter")
    expect(desk.locator(".chat-log li.from-agent")).to_have_count(2)
    shop.fill("#hc-text", "型号是 XQB80")
    shop.press("#hc-text", "Enter")
    shop_context.set_offline(False)
    # Back online: the widget resumes from the last number it saw and re-sends its message.
    expect(shop.locator("#hotline-chat li.hc-agent .hc-body")).to_have_text(
        ["请问是什么型号？", "您还在吗？"], timeout=15_000
    )
    expect(desk.locator(".chat-log li.from-customer .body")).to_have_text(
        ["洗衣机漏水了", "型号是 XQB80"], timeout=15_000
    )
    assert int(shop.locator("#hotline-chat").get_attribute("data-reconnects") or "0") >= 1
    seqs = shop.locator("#hotline-chat li[data-seq]").evaluate_all(
        "(nodes) => nodes.map((n) => Number(n.dataset.seq))"
    )
    assert seqs == sorted(set(seqs)) == list(range(1, len(seqs) + 1))

    # The agent offers a callback: scheduled, and both sides read the note.
    desk.click(".chat-callback")
    expect(desk.locator(".chat-log li.from-system .body").last).to_contain_text(
        "We will call you back"
    )
    expect(shop.locator("#hotline-chat .hc-log")).to_contain_text("已为您安排回电")

    # The agent types a canned reply; the customer ends the chat and rates it; wrap-up.
    desk.locator(".chat-canned").first.click()
    assert "很高兴为您服务" in desk.locator(".chat-text").input_value()
    desk.press(".chat-text", "Enter")
    expect(shop.locator("#hotline-chat li.hc-agent")).to_have_count(3)
    shop.click("#hotline-chat .hc-compose .hc-secondary")
    expect(shop.locator("#hotline-chat .hc-survey")).to_be_visible()
    assert serious_violations(shop) == []
    shop.click('#hotline-chat .hc-score[data-score="5"]')
    expect(shop.locator("#hotline-chat .hc-thanks")).to_be_visible()
    expect(desk.locator(".chat-wrap")).to_be_enabled()
    chat_id = desk.locator(".chat-panel").get_attribute("data-conversation")
    desk.select_option(".chat-disposition", "resolved")
    desk.click(".chat-wrap")
    expect(desk.locator(".chat-panel")).to_have_count(0)
    desk_context.close()
    shop_context.close()

    # QA opens the chat where they open any contact: the transcript stands in for a recording.
    qa_context = browser.new_context(locale="zh-CN", bypass_csp=True)
    qa = qa_context.new_page()
    qa.goto(f"{sites.hotline}/login")
    qa.fill("input[name=username]", "qa1")
    qa.fill("input[name=password]", PASSWORD)
    qa.click("button[type=submit]")
    qa.wait_for_url(f"{sites.hotline}/console")
    qa.goto(f"{sites.hotline}/quality")
    qa.fill("#open-contact", chat_id or "")
    qa.locator("#open-form button[type=submit]").click()
    expect(qa.locator("#qa-chat")).to_be_visible()
    expect(qa.locator("#qa-transcript li")).to_have_count(8)
    expect(qa.locator("#qa-transcript")).to_contain_text("型号是 XQB80")
    assert serious_violations(qa) == []
    qa_context.close()
