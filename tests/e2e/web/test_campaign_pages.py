"""The campaign pages in headless Chromium against the real server (uvicorn on 127.0.0.1).

A supervisor opens ``/campaigns`` from the top bar, creates a campaign with its calling hours
and retry rules, imports a CSV list, puts a number on the center's do-not-call list (the
record with that number is blocked), starts the campaign and sees its figures; an agent takes
the next record on the desk with its script, saves a busy result (the retry rule holds the
record back) and finds nothing else to call. Both pages pass axe-core in zh-CN and en.

A predictive follow-up campaign's call, dialled and connected to the agent by the voice
driver's dialler (SIP and media on the in-tree fakes, the real routing engine, the real
database through ``DatabaseDialLists``: no sipp or baresip here), pops on the agent's desk in
zh-CN and en (axe-core both): the campaign, the customer behind the dialled number, the
follow-up's questions; the agent's callback time on a holiday is refused naming
``callback_at``, the next day's is booked.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns import service as campaigns
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.crm import service as crm
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.campaigns import Campaign
from hotline.store.models.core import AuditEntry, User
from hotline.tickets import service as tickets
from hotline.web.app import create_app
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SAMPLE, _require_browser
from tests.e2e.web.test_quality_pages import Site

pytestmark = pytest.mark.e2e

LIST = "phone,name,model\n13812345678,Ada,KFR-35\n13912345678,Bo,XQG-70\n"
ALL_DAY = "00:00-24:00"
EVERY_DAY = {"weekdays": ALL_DAY, "saturday": ALL_DAY, "sunday": ALL_DAY}
#: A day the predictive campaign does not call (its calling hours' holiday), ahead of today.
HOLIDAY = date.today() + timedelta(days=10)


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


def _dialled_and_connected(site: Site) -> str:
    """A predictive follow-up campaign's call, dialled and connected to a001 by the voice
    driver's dialler (the fakes for SIP and media, the real engine, the real database through
    ``DatabaseDialLists``): the customer answers, a001's phone answers, the record passes to
    a001. Returns the contact id."""
    from hotline.desk.followup_calls import add_due_followups
    from hotline.followup import service as followup
    from hotline.telephony.dial_lists import DatabaseDialLists
    from hotline.telephony.dialler import Dialler
    from tests.integration.followup.test_followup_service import (
        ALL_REPAIRS,
        MONDAY_10,
        _center,
        _resolved,
    )
    from tests.unit.telephony.test_dialler import dials, voice_center

    with site.factory() as session:
        tickets.create_provider(session, code="hf-anjia", name="安家", actor="admin")
        customer = crm.create_customer(session, name="张伟", phones=["13812345679"], actor="a")
        product = crm.add_product(
            session, customer_id=customer.id, model="JSQ25-13", category="water_heater"
        )
        task = followup.generate_for_ticket(
            session,
            ticket_id=_resolved(session, product.id),
            center=_center(ALL_REPAIRS),
            now=MONDAY_10,
        )
        assert task is not None
        campaign = campaigns.create_campaign(
            session,
            name="回访-预测",
            kind="follow_up",
            mode="predictive",
            actor="boss",
            calling_hours={**EVERY_DAY, "holidays": [HOLIDAY.isoformat()]},
            script="您好，这里是售后回访。",
            agents=["a001"],
            queue="repair",
        )
        add_due_followups(session, campaign_id=campaign.id, until=datetime.now(UTC), actor="boss")
        campaigns.set_state(session, campaign_id=campaign.id, state="running", actor="boss")
        session.commit()

    async def scenario() -> str:
        center, sip, _ = voice_center()
        dialler = Dialler(center, DatabaseDialLists(site.factory), safe_message=Path("/s.wav"))
        center.dialler = dialler
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        [(_, customer_leg, number)] = dials(sip)
        assert number.startswith("sip:+8613812345679@")
        center.answered(customer_leg, "v=0 customer")
        await center.drain()
        agent_leg = dials(sip)[-1][1]
        center.answered(agent_leg, "v=0 agent")
        await center.drain()
        [contact] = dialler.calls
        return contact

    # In a thread of its own: Playwright's sync API keeps an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, scenario()).result(timeout=60)


def test_a_connected_predictive_call_pops_on_the_desk_and_the_agent_dispositions_it(
    browser: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    contact = _dialled_and_connected(site)
    context = browser.new_context(
        viewport={"width": 1366, "height": 900},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        bypass_csp=True,
    )
    agent = context.new_page()
    agent.goto(f"{site.url}/login?lang=zh-CN")
    agent.fill("input[name=username]", "a001")
    agent.fill("input[name=password]", PASSWORD)
    agent.click("button[type=submit]")
    agent.wait_for_url(f"{site.url}/console")
    for lang, title, question in (
        ("zh-CN", "外拨来电已接通：", "更换的配件"),
        ("en", "Dialled call connected:", "Does the replaced part match"),
    ):
        agent.goto(f"{site.url}/desk?lang={lang}")
        pop = agent.locator("#camp-call")
        expect(pop).to_be_visible(timeout=15000)
        expect(pop.locator("h3")).to_contain_text(title)
        expect(agent.locator("#camp-call-campaign")).to_have_text("回访-预测")
        expect(agent.locator("#camp-call-customer")).to_have_text("张伟")
        expect(agent.locator("#camp-call-script")).to_have_text("您好，这里是售后回访。")
        expect(agent.locator("#camp-call-questions")).to_contain_text(question)
        expect(agent.locator("#camp-call-earlier li")).to_have_count(1)  # none before: "None"
        assert serious_violations(agent) == []
    # The customer asks to be called back on the center's holiday: refused, naming the field.
    agent.select_option("#camp-call-result", "callback_requested")
    agent.fill("#camp-call-callback", f"{HOLIDAY.isoformat()}T10:00")
    agent.click("#camp-call-save")
    expect(agent.locator("#camp-call-error")).to_contain_text("callback_at")
    expect(agent.locator("#camp-call-error")).to_contain_text("outside the campaign's calling")
    callback = HOLIDAY + timedelta(days=1)
    agent.fill("#camp-call-callback", f"{callback.isoformat()}T10:00")
    agent.click("#camp-call-save")
    expect(agent.locator("#camp-call-status")).to_have_text(
        "Disposition saved: waiting, attempts 1."
    )
    expect(agent.locator("#camp-call")).to_be_hidden()
    with site.factory() as session:
        [campaign] = session.scalars(select(Campaign).where(Campaign.name == "回访-预测"))
        figures = campaigns.figures(session, campaign_id=campaign.id)
        [record] = campaigns.records_of(session, campaign_id=campaign.id)
        [attempt] = campaigns.attempts_of(session, record_id=record.id)
    assert figures.results == {"callback_requested": 1} and figures.connects == 1
    assert (attempt.contact_id, attempt.agent_id) == (contact, "a001")
    assert record.due_at == datetime(
        callback.year, callback.month, callback.day, 10, tzinfo=ZoneInfo("Asia/Shanghai")
    )
    actions = _actions(site.factory)
    assert actions.index("campaign.connect") < len(actions) - actions[::-1].index("campaign.result")
    context.close()
