"""Crisis mode's switch and banner in headless Chromium against the real server.

A supervisor switches crisis mode on from the wallboard (zh-CN) with a reason — refused
without one — and the banner shows the reason and the closed queue; an agent's desk (English)
opens with the banner and loses it the moment the supervisor switches the mode off (the live
feed). Both switches are on the audit record; both pages pass axe-core.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.live.driver import LiveDriver, attach
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import AuditEntry, User
from hotline.web.app import create_app
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SAMPLE,
    _require_browser,
)

pytestmark = pytest.mark.e2e


@dataclass
class Site:
    url: str
    driver: LiveDriver
    factory: Any
    app: Any


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with floor_site(tmp_path_factory, "crisis") as served:
        yield served


@contextmanager
def floor_site(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Site]:
    """The real app on the sample center with a supervisor (boss, zh-CN) and an agent (amy,
    a002, English), served until the block ends."""
    _require_browser()
    home = tmp_path_factory.mktemp(name)
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        for username, roles, agent, language in (
            ("boss", ["supervisor"], None, "zh-CN"),
            ("amy", ["agent"], "a002", "en"),
        ):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=hash_password(PASSWORD),
                    roles=roles,
                    agent_id=agent,
                    language=language,
                    active=True,
                )
            )
        session.commit()
    center = load_center(SAMPLE)
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=center,
    )
    driver = LiveDriver(center=center, honour_hours=False)
    attach(app, driver)
    with serving(app, name=name) as url:
        yield Site(url, driver, factory, app)
    engine.dispose()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def _signed_in(browser: Any, site: Site, username: str, locale: str) -> Any:
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale=locale, bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def test_a_supervisor_switches_crisis_mode_and_the_banners_follow(site: Site, browser: Any) -> None:
    boss = _signed_in(browser, site, "boss", "zh-CN")
    boss.goto(f"{site.url}/wallboard")
    banner = boss.locator("#crisis-banner")
    assert banner.is_hidden()
    assert boss.locator("#crisis-switch h2").inner_text() == "应急模式"
    toggle = boss.locator("#crisis-toggle")
    assert toggle.inner_text() == "开启应急模式"
    # No reason, no switch (the browser's own check, then ours on a blank one).
    boss.fill("#crisis-reason-input", "   ")
    toggle.click()
    boss.wait_for_function(
        "() => document.getElementById('crisis-status').textContent.includes('原因')"
    )
    assert not site.driver.crisis.on
    boss.fill("#crisis-reason-input", "台风登陆，停电报修激增")
    toggle.click()
    banner.wait_for(state="visible", timeout=5000)
    assert "应急模式已开启" in banner.inner_text()
    assert "台风登陆" in boss.locator("#crisis-reason").inner_text()
    assert "安装预约" in boss.locator("#crisis-closed-queues").inner_text()
    assert toggle.inner_text() == "关闭应急模式"
    assert site.driver.crisis.on
    assert serious_violations(boss) == []

    # The agent's desk, in English, opens with the banner.
    amy = _signed_in(browser, site, "amy", "en")
    amy.goto(f"{site.url}/desk?lang=en")
    desk_banner = amy.locator("#crisis-banner")
    assert desk_banner.is_visible()
    assert "Crisis mode is on" in desk_banner.inner_text()
    assert "Installation booking" in amy.locator("#crisis-closed-queues").inner_text()
    assert serious_violations(amy) == []
    # The desk's live feed is open (the page says so) before the switch it must hear.
    amy.wait_for_function("() => document.body.dataset.live", timeout=10000)

    boss.fill("#crisis-reason-input", "恢复正常")
    toggle.click()
    banner.wait_for(state="hidden", timeout=5000)
    desk_banner.wait_for(state="hidden", timeout=10000)
    assert toggle.inner_text() == "开启应急模式"

    boss.goto(f"{site.url}/wallboard?lang=en")
    assert boss.locator("#crisis-toggle").inner_text() == "Switch crisis mode on"
    assert serious_violations(boss) == []

    with site.factory() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("crisis.%")).order_by(AuditEntry.id)
        ).all()
    assert [(r.actor, r.action, r.target) for r in rows] == [
        ("boss", "crisis.on", "台风登陆，停电报修激增"),
        ("boss", "crisis.off", "恢复正常"),
    ]
