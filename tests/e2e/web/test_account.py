"""Changing your own password in a real Chromium: the page in zh-CN and en, reached from the
account menu, the policy's refusals in the page language, the other sessions ended, and no
serious accessibility violation (axe-core)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.test_console import (  # noqa: F401 (browser, server: module fixtures)
    PASSWORD,
    Server,
    _signed_in,
    browser,
    server,
)

NEW_PASSWORD = "staple-Battery-37"


def _token(running: Server, password: str) -> httpx.Response:
    return httpx.post(
        f"{running.url}/api/auth/login", json={"username": "boss", "password": password}
    )


def test_a_user_changes_their_password_from_the_account_menu(
    browser: Any,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    other_session = _token(server, PASSWORD).json()["token"]
    page = _signed_in(browser, server, "boss")
    page.click("#nav-password")
    page.wait_for_url(f"{server.url}/account/password")
    expect(page.locator("h1")).to_have_text("修改密码")

    def submit(current: str, new: str, confirm: str | None = None) -> None:
        page.fill("#current-password", current)
        page.fill("#new-password", new)
        page.fill("#confirm-password", new if confirm is None else confirm)
        page.click("#password-form button[type=submit]")

    result = page.locator("#password-result")
    submit(PASSWORD, NEW_PASSWORD, confirm="staple-Battery-38")
    expect(result).to_have_text("两次输入的新密码不一致。")
    submit("not-my-password", NEW_PASSWORD)
    expect(result).to_have_text("当前密码不正确。")
    submit(PASSWORD, "qwertyuiop")
    expect(result).to_contain_text("新密码不符合密码规则：")
    expect(result).to_contain_text("这是泄露数据中最常见的密码之一。")
    submit(PASSWORD, "boss12345678")
    expect(result).to_contain_text("不能是用户名加数字或符号。")
    page.screenshot(path=str(server.shots / "account-refused.png"), full_page=True)

    submit(PASSWORD, NEW_PASSWORD)
    expect(result).to_have_text("密码已修改，您的其他登录已退出。")
    assert page.input_value("#new-password") == ""
    # This browser stays signed in; the other session is over; the new password signs in.
    page.goto(f"{server.url}/console")
    assert page.url == f"{server.url}/console"
    me = httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {other_session}"})
    assert me.status_code == 401
    assert _token(server, PASSWORD).status_code == 401
    assert _token(server, NEW_PASSWORD).status_code == 200

    page.goto(f"{server.url}/account/password?lang=en")
    expect(page.locator("h1")).to_have_text("Change your password")
    expect(page.locator("#nav-password")).to_have_text("Change password")
    submit(NEW_PASSWORD, "password")
    expect(result).to_contain_text("The new password is refused:")
    expect(result).to_contain_text("it must have at least 10 characters.")
    page.screenshot(path=str(server.shots / "account-en.png"), full_page=True)


def test_the_password_page_has_no_serious_accessibility_violation(
    browser: Any,  # noqa: F811
    server: Server,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    # axe is injected as a script the page never loads: this context bypasses the CSP (the
    # test above runs the page under it).
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/console")
    for language in ("zh-CN", "en"):
        page.goto(f"{server.url}/account/password?lang={language}")
        assert serious_violations(page) == [], language
        page.fill("#current-password", PASSWORD)
        page.fill("#new-password", "qwertyuiop")
        page.fill("#confirm-password", "qwertyuiop")
        page.click("#password-form button[type=submit]")
        expect(page.locator("#password-result p")).to_have_count(2)
        assert serious_violations(page) == [], f"{language}, with the refusal on screen"
    context.close()
