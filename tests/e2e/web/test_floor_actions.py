"""Supervisor actions from the wallboard in headless Chromium against the real server.

A supervisor (who is also agent a005) opens the wallboard: agents are put on a break and made
ready from their rows, a waiting contact is moved to another queue and then offered to a
chosen agent, another is taken by the supervisor themselves ("take it myself"), and an agent
whose phone keeps ringing unanswered is logged out by force. Each action reaches the one
routing engine through the live driver and is on the audit record; the page passes axe-core
in zh-CN and English.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _require_browser()
    home = tmp_path_factory.mktemp("floor")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        session.add(
            User(
                username="boss",
                display_name="boss",
                password_hash=hash_password(PASSWORD),
                roles=["supervisor"],
                agent_id="a005",
                language="zh-CN",
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
    with serving(app, name="floor") as url:
        yield Site(url, driver, factory)
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


def _api(page: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    base = page.url.split("/wallboard")[0]
    # A signed-in change must say where it comes from, as the page's own calls do.
    answer = page.request.fetch(base + path, method=method, data=body, headers={"Origin": base})
    assert answer.ok, answer.text()
    return answer.json()


def _row(page: Any, contact: str) -> Any:
    return page.locator(f"#waiting-table tbody tr[data-contact='{contact}']")


def _agent_row(page: Any, agent: str) -> Any:
    return page.locator(f"#agents-table tbody tr[data-agent='{agent}']")


def _set_state(page: Any, agent: str, value: str) -> None:
    row = _agent_row(page, agent)
    row.locator(".floor-actions select").select_option(value)
    row.locator(".floor-actions button").first.click()
    page.wait_for_function(
        "() => document.getElementById('floor-status').textContent !== ''", timeout=5000
    )


def test_a_supervisor_acts_on_the_floor_from_the_wallboard(site: Site, browser: Any) -> None:
    context = browser.new_context(
        viewport={"width": 1500, "height": 1100}, locale="zh-CN", bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    page.goto(f"{site.url}/wallboard")
    assert page.locator("#floor h2").inner_text() == "排队中的来电"
    # Three agents and the supervisor's own agent id sign in on a break.
    for agent in ("a002", "a003", "a005"):
        _api(
            page,
            "POST",
            f"/api/live/agents/{agent}/state",
            {"state": "not_ready", "reason": "break"},
        )
    first = _api(page, "POST", "/api/live/contacts", {"queue": "installation"})["contact_id"]
    second = _api(page, "POST", "/api/live/contacts", {"queue": "installation"})["contact_id"]
    _row(page, second).wait_for(timeout=5000)
    assert _row(page, first).locator(".position").inner_text() == "1"

    # Move the first contact to the repair queue: none of the three serves it yet.
    _row(page, first).locator("select.move-queue").select_option("repair")
    _row(page, first).get_by_role("button", name="转到队列").click()
    page.wait_for_function(
        f"() => document.querySelector(\"tr[data-contact='{first}'] .queue\")"
        ".textContent.includes('Repair')",
        timeout=5000,
    )

    # a002 ready from their row: the installation contact goes to them at once.
    _agent_row(page, "a002").wait_for(timeout=5000)
    _set_state(page, "a002", "ready")
    _row(page, second).wait_for(state="detached", timeout=5000)
    assert site.driver.engine.agent_contacts("a002") == {second: "ringing"}

    # a003 ready too; then the repair contact is offered to a003 by name.
    _set_state(page, "a003", "ready")
    page.wait_for_function(
        f"() => [...document.querySelectorAll(\"tr[data-contact='{first}'] select.move-agent"
        " option\")].some((o) => o.value === 'a003')",
        timeout=5000,
    )
    _row(page, first).locator("select.move-agent").select_option("a003")
    _row(page, first).get_by_role("button", name="分配给坐席").click()
    _row(page, first).wait_for(state="detached", timeout=5000)
    assert site.driver.engine.agent_contacts("a003") == {first: "ringing"}

    # A complaint nobody on the floor can serve: the supervisor takes it themselves (a005).
    _set_state(page, "a005", "ready")
    third = _api(page, "POST", "/api/live/contacts", {"queue": "complaints"})["contact_id"]
    _row(page, third).wait_for(timeout=5000)
    assert serious_violations(page) == []
    _row(page, third).get_by_role("button", name="我来接").click()
    _row(page, third).wait_for(state="detached", timeout=5000)
    assert site.driver.engine.agent_contacts("a005") == {third: "ringing"}

    # a002's phone rings on and on (gone home): logged out by force, the call back in line.
    _agent_row(page, "a002").get_by_role("button", name="强制签出").click()
    _agent_row(page, "a002").wait_for(state="detached", timeout=5000)
    assert site.driver.engine.agent_state("a002").value == "logged_out"
    _row(page, second).wait_for(timeout=5000)

    # A move the engine refuses is said on the page, not lost.
    _row(page, second).locator("select.move-queue").select_option("installation")
    _row(page, second).get_by_role("button", name="转到队列").click()
    page.wait_for_function(
        "() => document.getElementById('floor-status').textContent.includes('already waits')",
        timeout=5000,
    )

    page.goto(f"{site.url}/wallboard?lang=en")
    _row(page, second).wait_for(timeout=5000)
    assert page.locator("#floor h2").inner_text() == "Waiting contacts"
    assert serious_violations(page) == []

    with site.factory() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == "boss").order_by(AuditEntry.id)
        ).all()
    assert actions.count("contact.move") == 2  # to repair, to a003 (the refused one is not)
    assert {"agent.state", "contact.pick", "agent.force_logout"} <= set(actions)
