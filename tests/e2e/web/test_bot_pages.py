"""The first-line bot in headless Chromium: an administrator turns it on, a customer chats
with it, asks for a person, and the agent who takes the chat reads the bot's turns.

The administrator (zh-CN) ticks the chat queue in the admin page's bot form and applies it;
the live driver takes the new configuration. A customer on a shop's page (another origin)
opens the widget: the bot answers a question from the published knowledge article, then the
customer writes "转人工" and the chat is routed to the ready agent, whose desk (en) shows the
bot's answer and the hand-over. The admin page and the desk pass axe-core (no serious or
critical violations).

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.live.driver import LiveDriver, attach
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.web.app import create_app
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_chat_pages import SHOP_PAGE, Sites, browser
from tests.e2e.web.test_console import PASSWORD, SAMPLE, _require_browser
from tests.integration.bot.test_bot_service import E4_BODY, E4_TITLE, publish

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the chat pages' module-scoped browser, on this module's sites


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    _require_browser()
    hotline_url: dict[str, str] = {}

    async def page(_: Request) -> HTMLResponse:
        return HTMLResponse(SHOP_PAGE.format(hotline=hotline_url["url"]))

    home = tmp_path_factory.mktemp("bot")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        digest = hash_password(PASSWORD)
        for username, roles, agent_id, language in (
            ("root", ["admin"], None, "zh-CN"),
            ("a004", ["agent"], "a004", "en"),
        ):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=digest,
                    roles=roles,
                    agent_id=agent_id,
                    language=language,
                    active=True,
                )
            )
        publish(session, E4_TITLE, E4_BODY)
        session.commit()
    with serving(Starlette(routes=[Route("/", page)]), name="shop") as shop:
        # The center as the server starts with it: the sample, the shop allowed, the bot off.
        data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
        data["chat"]["allowed_origins"] = [shop]
        started = home / "center-start.yaml"
        started.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        center = load_center(started)
        assert center.bot is not None and center.bot.queues == []
        app = create_app(
            settings=Settings(home=home, secret_key="e2e-secret", center_config=started),
            session_factory=factory,
            center=center,
        )
        attach(app, LiveDriver(center=center, honour_hours=False))
        with serving(app, name="bot") as url:
            hotline_url["url"] = url
            yield Sites(shop=shop, hotline=url)
    engine.dispose()


def sign_in(browser: Any, sites: Sites, username: str, locale: str) -> tuple[Any, Any]:
    context = browser.new_context(locale=locale, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{sites.hotline}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{sites.hotline}/console")
    return context, page


def test_an_admin_turns_the_bot_on_and_a_customer_is_answered_then_handed_to_an_agent(
    sites: Sites, browser: Any
) -> None:
    from playwright.sync_api import expect

    # The administrator ticks the chat queue in the bot's form (zh-CN) and applies it; a
    # threshold above 1 is refused on its own field first.
    admin_context, admin = sign_in(browser, sites, "root", "zh-CN")
    admin.goto(f"{sites.hotline}/admin")
    form = admin.locator("#edit-bot")
    expect(form.locator("h3")).to_have_text("智能助手（一线机器人）")
    form.locator('input[name="queues"][value="chat"]').check()
    form.locator('input[name="threshold"]').fill("1.5")
    with admin.expect_response("**/admin/center/edit") as refused:
        form.locator("button[type=submit]").click()
    assert refused.value.status == 422
    expect(form.locator('.field-error[data-for="threshold"]')).not_to_be_empty()
    form.locator('input[name="threshold"]').fill("0.5")
    with admin.expect_response("**/admin/center/edit") as kept:
        form.locator("button[type=submit]").click()
    assert kept.value.status == 200
    expect(form.locator('.field-error[data-for="threshold"]')).to_be_empty()
    assert serious_violations(admin) == []
    admin_context.close()

    # The agent opens the chat desk (en) and becomes ready.
    desk_context, desk = sign_in(browser, sites, "a004", "en")
    desk.goto(f"{sites.hotline}/chat/desk?lang=en")
    expect(desk.locator("#chat-desk")).to_have_attribute("data-connected", "true")
    desk.click("#chat-ready")
    expect(desk.locator("#chat-agent-state")).to_have_text("available")

    # The customer starts a chat: the bot answers from the knowledge article.
    shop_context = browser.new_context(locale="zh-CN", bypass_csp=True)
    shop = shop_context.new_page()
    shop.goto(sites.shop)
    shop.click("#hotline-chat .hc-launcher")
    shop.fill("#hc-name", "王小明")
    shop.fill("#hc-phone", "13800138000")
    shop.fill("#hc-topic", "热水器")
    shop.click("#hotline-chat .hc-form button[type=submit]")
    expect(shop.locator("#hotline-chat .hc-talk")).to_be_visible()
    shop.fill("#hc-text", "热水器显示E4怎么办")
    shop.press("#hc-text", "Enter")
    answer = shop.locator("#hotline-chat li.hc-bot")
    expect(answer.locator(".hc-body")).to_contain_text("燃气热水器显示E4故障")
    expect(answer.locator(".hc-meta")).to_contain_text("智能助手")
    # No offer while the bot has the chat.
    expect(desk.locator(".chat-accept")).to_have_count(0)

    # The customer asks for a person: handed over, routed to the agent with the bot's turns.
    shop.fill("#hc-text", "转人工")
    shop.press("#hc-text", "Enter")
    expect(shop.locator("#hotline-chat .hc-log .hc-system").first).to_contain_text("转接人工")
    desk.locator(".chat-accept").click()
    log = desk.locator(".chat-panel .chat-log")
    expect(log.locator("li.from-bot .meta")).to_contain_text("Assistant (bot)")
    expect(log.locator("li.from-bot .body")).to_contain_text("E4是超温保护")
    expect(log.locator("li.from-system .body").first).to_contain_text("Passing you to an agent")
    expect(shop.locator("#hotline-chat .hc-log .hc-system")).to_contain_text(["客服已接入"])
    assert serious_violations(desk) == []
    desk_context.close()
    shop_context.close()
