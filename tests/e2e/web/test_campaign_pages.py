"""The campaign pages in headless Chromium against the real server (uvicorn on 127.0.0.1).

A supervisor opens ``/campaigns`` from the top bar, creates a campaign with its calling hours
and retry rules, imports a CSV list, puts a number on the center's do-not-call list (the
record with that number is blocked), starts the campaign and sees its figures; an agent takes
the next record on the desk with its script, saves a busy result (the retry rule holds the
record back) and finds nothing else to call. Both pages pass axe-core in zh-CN and en.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns import service as campaigns
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.campaigns import Campaign
from hotline.store.models.core import AuditEntry, User
from hotline.web.app import create_app
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SAMPLE, _require_browser
from tests.e2e.web.test_quality_pages import Site

pytestmark = pytest.mark.e2e

LIST = "phone,name,model\n13812345678,Ada,KFR-35\n13912345678,Bo,XQG-70\n"
ALL_DAY = "00:00-24:00"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a temporary SQLite database, served by uvicorn in a thread."""
    _require_browser()
    home = tmp_path_factory.mktemp("campaigns")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    digest = hash_password(PASSWORD)
    with factory() as session:
        for username, roles, agent_id in (
            ("boss", ["supervisor"], None),
            ("a001", ["agent"], "a001"),
        ):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=digest,
                    roles=roles,
                    agent_id=agent_id,
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
    (home / "list.csv").write_text(LIST, encoding="utf-8")
    with serving(app, name="campaigns") as url:
        yield Site(url=url, factory=factory, shots=home)
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


def _page(browser: Any, site: Site, username: str, *, axe: bool = False) -> Any:
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="en-US", bypass_csp=axe
    )
    page = context.new_page()
    page.goto(f"{site.url}/login?lang=en")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    return page


def _actions(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_a_supervisor_sets_up_a_campaign_and_an_agent_works_it(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    boss = _page(browser, site, "boss")
    errors: list[str] = []
    boss.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    boss.click("#nav-campaigns")
    expect(boss.locator("h1")).to_have_text("Outbound campaigns")
    expect(boss.locator("#camp-empty")).to_be_visible()

    # A rule the server refuses is shown with its field, and nothing is created.
    boss.fill("#c-name", "installs-dec")
    boss.fill("#c-weekdays", "09:00-25:00")
    boss.click("#camp-create-button")
    expect(boss.locator("#camp-error")).to_contain_text("calling_hours.weekdays")
    for day in ("#c-weekdays", "#c-saturday", "#c-sunday"):
        boss.fill(day, ALL_DAY)
    boss.fill("#c-busy", "15")
    boss.fill("#c-script", "Was the installation done? Was a fee charged?")
    boss.click("#camp-create-button")
    expect(boss.locator("#camp-status")).to_have_text("Campaign created.")
    row = boss.locator("#camp-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td.state")).to_have_text("Draft")

    boss.locator("#list-file").set_input_files(str(site.shots / "list.csv"))
    boss.click("#list-import")
    expect(boss.locator("#camp-status")).to_contain_text("Added 2")

    boss.fill("#dnc-number", "139 1234 5678")
    boss.fill("#dnc-reason", "asked not to be called")
    boss.click("#dnc-add")
    expect(boss.locator("#dnc-table tbody tr")).to_have_count(1)
    expect(boss.locator("#dnc-table tbody tr")).to_contain_text("+8613912345678")

    row.locator("button[data-state=running]").click()
    expect(row.locator("td.state")).to_have_text("Running")
    # the one refusal was the bad calling hours above (Chromium logs every 4xx it loads)
    assert [e for e in errors if "status of 422" not in e] == []
    assert len(errors) == 1

    agent = _page(browser, site, "a001")
    agent.click("#nav-desk")
    # The card's script binds its buttons once the page has loaded: a click before that is
    # lost (a fresh-clone run under load clicked too early and waited for nothing).
    agent.wait_for_load_state("load")
    agent.click("#camp-next")
    expect(agent.locator("#camp-record-name")).to_have_text("Ada", timeout=15000)
    expect(agent.locator("#camp-script")).to_have_text(
        "Was the installation done? Was a fee charged?"
    )
    expect(agent.locator("#camp-record-data")).to_contain_text("KFR-35")
    # no phone server in this test: the dial is refused, and the page says so
    agent.click("#camp-dial")
    expect(agent.locator("#camp-desk-error")).to_contain_text("takes no phone calls")
    agent.select_option("#camp-result", "busy")
    agent.click("#camp-save")
    expect(agent.locator("#camp-desk-status")).to_have_text("Saved: waiting, attempts 1.")
    # Bo is on the do-not-call list and Ada comes back in 15 minutes: nothing to call now
    agent.click("#camp-next")
    expect(agent.locator("#camp-desk-status")).to_have_text("Nothing to call in this campaign now.")

    boss.reload()
    figures = boss.locator("#camp-table tbody tr td")
    expect(figures.nth(5)).to_have_text("1")  # attempts
    expect(boss.locator("#camp-table tbody tr td.budget")).to_have_text("0")  # none earned yet
    expect(boss.locator("#camp-table tbody tr td.dialler")).to_have_text("–")  # no dialler yet
    # The voice server's dialler keeps what it sees; the page shows it.
    with site.factory() as session:
        [campaign_id] = session.scalars(select(Campaign.id))
        campaigns.keep_pacing(
            session,
            campaign_id=campaign_id,
            at=datetime.now(UTC),
            day="2026-12-03",
            ringing=3,
            waiting=1,
            free_agents=1,
            talking_agents=1,
            releasing_agents=0,
            answered_today=100,
            abandoned_today=1,
            allowance=3,
        )
        session.commit()
    boss.reload()
    expect(boss.locator("#camp-table tbody tr td.dialler")).to_contain_text(
        "level 2 · ringing 3 · waiting 1 · agents 1 free, 1 talking · budget used 33 %"
    )
    actions = _actions(site.factory)
    for action in (
        "campaign.create",
        "campaign.list_import",
        "campaign.dnc_add",
        "campaign.state",
        "campaign.claim",
        "campaign.result",
    ):
        assert action in actions, action
    boss.context.close()
    agent.context.close()


def test_the_campaign_pages_pass_axe_in_both_languages(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    boss = _page(browser, site, "boss", axe=True)
    agent = _page(browser, site, "a001", axe=True)
    for lang, title in (("zh-CN", "外呼活动"), ("en", "Outbound campaigns")):
        boss.goto(f"{site.url}/campaigns?lang={lang}")
        expect(boss.locator("h1")).to_have_text(title)
        expect(boss.locator("#camp-table tbody tr, #camp-empty:visible").first).to_be_visible()
        assert serious_violations(boss) == []
        agent.goto(f"{site.url}/desk?lang={lang}")
        expect(agent.locator("#camp-card")).to_be_visible()
        assert serious_violations(agent) == []
    boss.context.close()
    agent.context.close()
