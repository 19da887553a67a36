"""The admin page's WeChat section in headless Chromium against the real server.

An administrator adds an official account in zh-CN (a malformed AppID refused naming the
field, a queue that is not a chat queue refused), sees the push URL to give WeChat and the
account listed with its secrets only as "set"; then sets the chat login secret (one too short
refused with the rule) and sees it only as set, by whom; the English page says the same. Both
pass axe-core (no serious or critical violations). Runs with ``HOTLINE_E2E=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.chat import ChatLoginSecret
from hotline.store.models.core import User
from hotline.store.models.wechat import WeChatAccount
from hotline.web.app import create_app
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, PASSWORD, _require_browser
from tests.e2e.web.test_email_page import _signed_in

pytestmark = pytest.mark.e2e
SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"

LOGIN_SECRET = "3f1c9a7e5b2d48c6a0e9f7d3b1c5a8e2"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """The real app with the sample center and an administrator."""
    _require_browser()
    home = tmp_path_factory.mktemp("wechat-admin")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        session.add(
            User(
                username="root",
                display_name="root",
                password_hash=hash_password(PASSWORD),
                roles=["admin"],
                agent_id=None,
                language="zh-CN",
                active=True,
            )
        )
        session.commit()
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    with serving(app, name="wechat-admin") as url:
        yield url, factory
    engine.dispose()


def test_an_administrator_adds_a_wechat_account_in_both_languages(
    site: tuple[str, sessionmaker[Session]],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, factory = site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        page = _signed_in(browser, base_url, "zh-CN", username="root")
        page.goto(f"{base_url}/admin")
        section = page.locator("#wechat")
        expect(section.get_by_role("heading", name="微信公众号")).to_be_visible()
        form = page.locator("#wechat-form")
        form.locator("input[name=app_id]").fill("gh_123")
        form.locator("input[name=token]").fill("QDG6eK")
        form.get_by_role("button", name="保存公众号").click()
        expect(page.locator("#wechat-problems")).to_contain_text("app_id")
        form.locator("input[name=app_id]").fill("wx5823bf96d3bd56c7")
        expect(page.locator("#wechat-push-url")).to_have_text(
            f"{base_url}/wechat/push/wx5823bf96d3bd56c7"
        )
        form.locator("input[name=queue]").fill("installation")
        form.get_by_role("button", name="保存公众号").click()
        expect(page.locator("#wechat-problems")).to_contain_text("not a chat queue")
        form.locator("input[name=queue]").fill("chat")
        form.locator("input[name=token]").fill("QDG6eK")
        form.locator("input[name=encoding_aes_key]").fill(
            "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
        )
        form.locator("input[name=app_secret]").fill("the-app-secret")
        form.get_by_role("button", name="保存公众号").click()
        expect(page.locator("#wechat-result")).to_contain_text("wx5823bf96d3bd56c7")
        rows = page.locator("#wechat-accounts > tr")
        expect(rows).to_have_count(1)
        expect(rows.nth(0)).to_contain_text("Token, EncodingAESKey, AppSecret")
        expect(form.locator("input[name=app_secret]")).to_have_value("")
        # The chat login secret: shown only as set or not, by whom.
        login = page.locator("#chat-login-form")
        expect(page.locator("#chat-login-state")).to_have_text(
            "未设置密钥：登录令牌无法识别任何人。"
        )
        login.locator("input[name=secret]").fill("too-short")
        login.get_by_role("button", name="保存密钥").click()
        expect(page.locator("#chat-login-problems")).to_contain_text("at least 32 characters")
        login.locator("input[name=secret]").fill(LOGIN_SECRET)
        login.get_by_role("button", name="保存密钥").click()
        expect(page.locator("#chat-login-state")).to_contain_text("已设置密钥，设置人 root")
        expect(login.locator("input[name=secret]")).to_have_value("")
        assert serious_violations(page) == []

        english = _signed_in(browser, base_url, "en", username="root")
        english.goto(f"{base_url}/admin?lang=en")
        expect(english.locator("#wechat h2")).to_have_text("WeChat official accounts")
        expect(english.locator("#wechat-accounts > tr")).to_have_count(1)
        expect(english.locator("#chat-login h2")).to_have_text("Chat login (signed-in visitors)")
        expect(english.locator("#chat-login-state")).to_contain_text("A secret is set, by root")
        assert serious_violations(english) == []
        browser.close()
    with factory() as session:
        stored = session.get(WeChatAccount, "wx5823bf96d3bd56c7")
        assert stored is not None and "the-app-secret" not in stored.app_secret
        login_secret = session.get(ChatLoginSecret, 1)
        assert login_secret is not None and LOGIN_SECRET not in login_secret.secret
