"""The back office in headless Chromium against the real server (uvicorn on 127.0.0.1).

One repair order goes round the whole loop in the browser: a supervisor finds it in the work
queue (filters, a saved view, bulk assign), opens the ticket page and dispatches it to a
provider with an appointment window; the work queue, still open, shows the provider within
seconds (live feed); the provider's technician accepts it in the provider portal and reports
the visit and a claim; the supervisor's ticket page follows live, records the verification
callback and closes the ticket, the closed loop showing what blocked it until then; its
history shows the call it was opened in (with the recording), the caller's survey answer and
the follow-up task the visit made. Every page passes axe-core (no serious or critical
violations) at 1366×768, in zh-CN and en.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.config.validate import load_center
from hotline.core.files import PNG_MAGIC
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store import event_log
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
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
from tests.integration.web.test_history_api import recorded, survey_answer

pytestmark = pytest.mark.e2e
PHOTO = PNG_MAGIC + b"nameplate JSQ25-13"
VIEWPORT = {"width": 1366, "height": 768}
OPEN, DISPATCHED, RESOLVED, CLOSED = "处理中", "已派工", "已解决", "已关闭"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on a temporary SQLite database with one repair order waiting."""
    _require_browser()

    from hotline.crm import service as crm
    from hotline.tickets import service as tickets

    home = tmp_path_factory.mktemp("backoffice")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    digest = hash_password(PASSWORD)
    center = load_center(SAMPLE)
    with factory() as session:
        for username, roles, agent_id in (
            ("boss", ["supervisor"], None),
            ("lead", ["team_lead"], "a001"),  # a001 leads t-install
            ("anjia1", ["provider"], None),
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
        customer = crm.create_customer(session, name="张伟", phones=["13800138000"], actor="e2e")
        product = crm.add_product(
            session,
            customer_id=customer.id,
            model="JSQ25-13",
            category="water_heater",
            serial_number="SN2026001",
            purchased_on=date.today() - timedelta(days=200),
            warranty_until=date.today() + timedelta(days=165),
        )
        # the call the order was opened in: recorded, and the caller answered the survey
        called = datetime.now(UTC) - timedelta(hours=1)
        crm.record_contact(
            session,
            customer_id=customer.id,
            channel="voice",
            contact_id="voice-1",
            agent_id="a001",
            at=called,
            summary="热水器不加热",
        )
        session.add(recorded(home, "voice-1", called))
        answered = called + timedelta(minutes=5)
        event_log.append(session, survey_answer("voice-1", answered, {"overall": 4}))
        tickets.create_ticket(
            session,
            type="repair",
            subject="热水器不加热",
            description="洗澡时没有热水",
            customer_id=customer.id,
            contact_id="voice-1",
            product_id=product.id,
            category="water_heater",
            custom_fields={"model_number": "JSQ25-13", "serial_number": "SN2026001"},
            queue="repair",
            region="hefei",
            actor="a001",
            schema=center.ticket_categories,
        )
        session.commit()
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=center,
    )
    with serving(app, name="backoffice") as url:
        yield url
    engine.dispose()


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def _signed_in(browser: Any, base_url: str, username: str, locale: str = "zh-CN") -> Any:
    context = browser.new_context(viewport=VIEWPORT, locale=locale, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/console")
    return page


def _accessible(page: Any, shot: str = "") -> None:
    """No serious accessibility violation, no sideways scrolling; ``shot`` photographs the
    page into ``HOTLINE_SCREENSHOTS`` when that names a folder."""
    folder = os.environ.get("HOTLINE_SCREENSHOTS")
    if shot and folder:
        page.screenshot(path=str(Path(folder) / shot), full_page=True)
    assert serious_violations(page) == []
    # Usable at 1366×768: nothing forces the page sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORT["width"]


def test_a_repair_order_goes_round_the_loop_in_the_browser(browser: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    boss = _signed_in(browser, base_url, "boss")
    boss.click("#nav-work")
    rows = boss.locator("#queue-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("热水器不加热")
    expect(boss.locator("body")).to_have_attribute("data-live", "ws", timeout=5000)
    _accessible(boss)
    # Filters: nothing breached yet; repair orders of hefei show it. Then a saved view.
    boss.select_option("select[name=sla]", "breached")
    boss.click("#queue-filters button[type=submit]")
    expect(rows).to_have_count(0)
    boss.select_option("select[name=sla]", "")
    boss.select_option("select[name=type]", "repair")
    boss.select_option("select[name=region]", "hefei")
    boss.click("#queue-filters button[type=submit]")
    expect(rows).to_have_count(1)
    boss.fill("#view-name", "合肥维修")
    boss.click("#view-save")
    expect(boss.locator("#view-select option", has_text="合肥维修")).to_have_count(1)
    # Bulk assign by keyboard: tick the row, choose the agent, press the button.
    boss.locator("#queue-table .pick").first.check()
    boss.select_option("#bulk-assignee", "a002")
    boss.focus("#bulk-assign")
    boss.keyboard.press("Enter")
    expect(boss.locator("#queue-message")).to_contain_text("已分派 1")
    expect(rows.first).to_contain_text("a002")
    expect(rows.first.locator(".sla-left")).not_to_have_text("–")
    _accessible(boss, "backoffice-work-queue.png")

    # The ticket page, in a second tab, while the work queue stays open.
    ticket = boss.context.new_page()
    ticket.goto(base_url + boss.locator("#queue-table tbody a").first.get_attribute("href"))
    expect(ticket.locator("#t-state")).to_have_text(OPEN)
    # What blocks closing, in the reader's language (the ticket's state and type too).
    expect(ticket.locator("#t-blockers li")).to_have_text(
        ["只有已解决的工单才能关闭（当前：处理中）", "报修工单关闭前需要回访确认"]
    )
    expect(ticket.locator("#t-facts")).to_contain_text("SN2026001")
    expect(ticket.locator("#t-facts")).to_contain_text("保内")
    _accessible(ticket)
    ticket.fill("#n-text", "已联系客户,约明天上门")
    ticket.click("#note-form button[type=submit]")
    expect(ticket.locator("#t-history li.internal")).to_have_count(1)
    # The whole history: the call it was opened in (a supervisor may hear it), its survey.
    expect(ticket.locator("#t-history li.contact")).to_contain_text("播放录音 (42 s)")
    expect(ticket.locator("#t-history li.survey")).to_contain_text("评分 4 / 5")
    # A photo of the nameplate is kept with the ticket; a program is refused, saying why.
    ticket.set_input_files(
        "#f-file", files=[{"name": "铭牌.png", "mimeType": "image/png", "buffer": PHOTO}]
    )
    ticket.click("#file-form button[type=submit]")
    expect(ticket.locator("#t-files a")).to_have_text(["铭牌.png"])
    expect(ticket.locator("#t-no-files")).to_be_hidden()
    ticket.set_input_files(
        "#f-file",
        files=[{"name": "x.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ"}],
    )
    ticket.click("#file-form button[type=submit]")
    expect(ticket.locator("#page-error")).to_contain_text("are not accepted")
    expect(ticket.locator("#t-files a")).to_have_count(1)
    expect(ticket.locator("#d-provider option")).not_to_have_count(0)
    ticket.select_option("#d-provider", "hf-anjia")
    ticket.click("#dispatch-form button[type=submit]")
    expect(ticket.locator("#t-state")).to_have_text(DISPATCHED)
    # The work queue learned of it from the live feed, without a reload.
    expect(rows.first).to_contain_text("hf-anjia", timeout=5000)

    # The provider's technician: only their own order; accept, visit, claim.
    provider = _signed_in(browser, base_url, "anjia1")
    expect(provider.locator("#notice-count")).to_have_text("1")  # the dispatch notice
    provider.click("#nav-provider")
    orders = provider.locator("#p-orders tr")
    expect(orders).to_have_count(1)
    _accessible(provider)
    orders.first.locator("button").click()
    provider.click("#o-accept")
    expect(provider.locator("#o-visit")).to_be_visible()
    provider.fill("#w-fault", "加热管烧坏")
    provider.fill("#w-parts", "加热管")
    provider.click("#o-visit button[type=submit]")
    expect(provider.locator("#o-state")).to_have_text(RESOLVED)
    provider.fill("#c-parts", "加热管")
    provider.fill("#c-amount", "120")
    provider.click("#o-claim button[type=submit]")
    expect(provider.locator("#o-facts")).to_contain_text("待定")
    expect(provider.locator("#o-claim")).to_be_hidden()  # one claim per order
    expect(provider.locator("#p-figures")).to_contain_text("100.0%")
    _accessible(provider, "backoffice-provider.png")

    # Back at the center: the ticket page followed live; verify, then close.
    expect(ticket.locator("#t-state")).to_have_text(RESOLVED, timeout=5000)
    expect(ticket.locator("#t-blockers li").first).to_have_text("报修工单关闭前需要回访确认")
    expect(ticket.locator("#t-history")).to_contain_text("加热管烧坏")
    # the warranty repair with parts got its follow-up (回访) task when the visit resolved it
    expect(ticket.locator("#t-history li.followup")).to_contain_text("生成回访任务")
    ticket.check("#v-part")
    ticket.click("#verify-form button[type=submit]")
    expect(ticket.locator("#t-can-close")).to_be_visible()
    ticket.click("#act-close")
    expect(ticket.locator("#t-state")).to_have_text(CLOSED)
    expect(ticket.locator("#t-can-close")).to_have_text(CLOSED)
    expect(ticket.locator("#t-facts")).to_contain_text("已接受")  # the claim, decided
    _accessible(ticket, "backoffice-ticket-closed.png")


def test_the_pages_in_english_pass_the_accessibility_check(browser: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    boss = _signed_in(browser, base_url, "boss", locale="en")
    boss.goto(f"{base_url}/work?lang=en")
    expect(boss.locator("h1")).to_have_text("Work queue")
    _accessible(boss)
    boss.goto(f"{base_url}/tickets/1?lang=en")
    expect(boss.locator("#clocks-title")).to_have_text("SLA clocks")
    expect(boss.locator("#t-number")).not_to_be_empty()
    expect(boss.locator("#t-history li.contact")).to_contain_text("Play the recording")
    expect(boss.locator("#t-history li.survey")).to_contain_text("Survey answered")
    _accessible(boss)
    provider = _signed_in(browser, base_url, "anjia1", locale="en")
    provider.goto(f"{base_url}/provider?lang=en")
    expect(provider.locator("h1")).to_contain_text("Provider portal")
    _accessible(provider)
    # A provider cannot open the work queue.
    assert provider.goto(f"{base_url}/work").status == 403


def test_the_complaint_board_walks_the_escalation_path(browser: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    boss = _signed_in(browser, base_url, "boss")
    created = boss.evaluate(
        """async () => (await fetch('/api/tickets', {method: 'POST',
             headers: {'Content-Type': 'application/json'},
             body: JSON.stringify({type: 'complaint', subject: '师傅未按约上门',
                                   complaint_level: '2'})})).json()"""
    )
    boss.click("#nav-complaints")
    row = boss.locator("#board-rows tr", has_text=created["number"])
    expect(row).to_contain_text("重大投诉")
    expect(row.locator("td").nth(4)).to_have_text("组长")  # the team lead must act first
    expect(row.locator("button")).to_have_count(0)  # not the supervisor's turn yet
    _accessible(boss, "backoffice-complaints.png")
    # The team lead acknowledges (through the API); the board follows live.
    lead = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    try:
        page = lead.new_page()
        page.goto(f"{base_url}/login")
        page.fill("input[name=username]", "lead")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/console")
        page.evaluate(
            f"""async () => fetch('/api/tickets/{created["id"]}/actions', {{method: 'POST',
                 headers: {{'Content-Type': 'application/json'}},
                 body: JSON.stringify({{action: 'escalate', target: 'team_lead'}})}})"""
        )
    finally:
        lead.close()
    expect(row.locator("button")).to_have_count(1, timeout=5000)
    row.locator("button").focus()
    boss.keyboard.press("Enter")
    expect(row).to_contain_text("路径已完成")
    boss.locator("#only-mine").check()
    expect(boss.locator("#board-rows tr", has_text=created["number"])).to_have_count(0)
    boss.locator("#only-mine").uncheck()
    # The complaint is about the repair order: link them from the complaint's page.
    row.locator("a").click()
    repair = boss.evaluate("async () => (await fetch('/api/tickets/1')).json()")
    boss.fill("#r-number", repair["number"])
    boss.click("#btn-link")
    expect(boss.locator("#t-related")).to_contain_text(repair["number"])
    expect(boss.locator("#complaint-card")).to_contain_text("路径已完成")
    _accessible(boss)


def test_the_fault_statistics_show_the_repaired_model_in_both_languages(
    browser: Any, base_url: str
) -> None:
    """After the loop above, the product units see the repair under its model: the fault
    the technician found, the part, a first-visit fix; the workbook holds the same."""
    import io

    from openpyxl import load_workbook
    from playwright.sync_api import expect

    boss = _signed_in(browser, base_url, "boss")
    boss.click("#nav-faults")
    row = boss.locator("#fault-models tbody tr", has_text="JSQ25-13")
    expect(row).to_contain_text("water_heater")
    expect(row.locator("td").nth(1)).to_have_text("1")  # repairs
    expect(row).to_contain_text("100.0%")  # fixed on the first visit
    expect(row).to_contain_text("加热管烧坏 (1)")
    expect(row).to_contain_text("加热管 (1)")
    expect(boss.locator("#fault-trend meter")).not_to_have_count(0)
    _accessible(boss, "backoffice-faults.png")
    book = boss.request.get(base_url + boss.locator("#fault-export").get_attribute("href"))
    assert book.status == 200
    workbook = load_workbook(io.BytesIO(book.body()))
    assert [c.value for c in workbook["summary"][3]] == ["water_heater", "JSQ25-13", 1, 0, 1.0]
    assert [c.value for c in workbook["faults"][2]] == ["water_heater", "JSQ25-13", "加热管烧坏", 1]
    assert [c.value for c in workbook["parts"][2]] == ["water_heater", "JSQ25-13", "加热管", 1]
    boss.goto(f"{base_url}/faults?lang=en")
    expect(boss.locator("h1")).to_have_text("Fault statistics per product and model")
    expect(boss.locator("#fault-models tbody tr")).to_have_count(1)
    _accessible(boss)
    # A period that runs backwards is refused, naming the field.
    wrong = boss.request.get(f"{base_url}/api/backoffice/faults?since=2026-12&until=2026-01")
    assert wrong.status == 422 and "since" in wrong.text()
    ancient = boss.request.get(f"{base_url}/api/backoffice/faults?since=0001-01&until=0001-02")
    assert ancient.status == 422
    # The team lead has no link to it and may not open it.
    lead = _signed_in(browser, base_url, "lead")
    expect(lead.locator("#nav-faults")).to_have_count(0)
    assert lead.goto(f"{base_url}/faults").status == 403
