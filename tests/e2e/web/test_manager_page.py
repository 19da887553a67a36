"""The manager cockpit in headless Chromium against the real server (uvicorn on 127.0.0.1).

A manager opens the cockpit over the ten days of the API test (a repair queue whose service
level falls from 80 % to 20 % on the last day, an agent with three times the team's AHT), in
zh-CN and then in English: today's tiles mark the targets crossed, the service-level p-chart
marks the last day in red with rule 1, the alerts list the crossed target and control limit,
and the outlier agents list a020 with its z-score. The manager then schedules the KPI report
(a refused format is named on the page), and its run, failed for want of a mailbox, shows
the reason. Both languages pass axe-core (no serious or critical violations).

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
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
from tests.integration.web.test_manager_cockpit_api import seed_ten_days

pytestmark = pytest.mark.e2e

PERIOD = "from=2026-03-01&to=2026-03-10"
#: The served app's session factory, for running the report sweep as the server would.
SERVED: dict[str, Any] = {}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on a temporary SQLite database with the ten days, served by uvicorn."""
    _require_browser()

    home = tmp_path_factory.mktemp("manager")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        session.add(
            User(
                username="boss",
                display_name="boss",
                password_hash=hash_password(PASSWORD),
                roles=["manager"],
                language="zh-CN",
                active=True,
            )
        )
        seed_ten_days(session)
        session.commit()
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    SERVED["factory"] = factory
    with serving(app, name="manager") as url:
        yield url
    engine.dispose()


@pytest.fixture(scope="module")
def browser(site: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def test_manager_reads_the_cockpit_in_both_languages(site: str, browser: Any) -> None:
    context = browser.new_context(
        viewport={"width": 1366, "height": 1000}, locale="zh-CN", bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{site}/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/console")
    page.click("#nav-manager")
    page.wait_for_url(f"{site}/manager")
    page.goto(f"{site}/manager?{PERIOD}")
    assert page.locator("h1").inner_text() == "经理驾驶舱"

    tile = page.locator("#today-service_level")
    assert "20.0%" in tile.inner_text()
    assert "未达目标" in tile.inner_text()
    assert "达标" in page.locator("#today-aht_s").inner_text()
    assert "82.50" in page.locator("#today-cost_per_contact").inner_text()

    chart = page.locator("#chart-service_level svg.control-chart")
    assert chart.count() == 1
    assert "p 图" in page.locator("#chart-service_level h3").inner_text()
    out = chart.locator("circle.point.out")
    # The last day (rule 1) and the 8th and 9th days (rule 4) are marked.
    assert out.count() == 3
    assert "rule 1" in out.last.locator("title").text_content()
    assert chart.locator("circle.point").count() == 10
    assert page.locator("#chart-csat svg").count() == 0  # no survey answers: no chart

    alerts = page.locator("#alerts tbody tr")
    texts = [alerts.nth(i).inner_text() for i in range(alerts.count())]
    assert any("失控" in t and "服务水平" in t for t in texts)
    assert any("未达目标" in t and "占用率" in t for t in texts)

    outliers = page.locator("#outliers tbody tr")
    assert outliers.count() == 1
    assert "a020" in outliers.first.inner_text() and "2.85" in outliers.first.inner_text()
    assert page.locator("#by-queue tbody tr").first.inner_text().startswith("repair")

    # A daily KPI report by queue: a PDF is refused (the KPI report exists as Excel or CSV).
    form = page.locator("#schedule-form")
    form.locator("input[name=name]").fill("每日 KPI")
    form.locator("select[name=report]").select_option("kpis")
    form.locator("select[name=format]").select_option("pdf")
    form.locator("input[name=at]").fill("07:30")
    form.locator("input[name=recipients]").fill("boss@example.com, lead@example.com")
    form.locator("input[name=filters]").fill("by=queue")
    form.locator("button[type=submit]").click()
    page.wait_for_function(
        "document.getElementById('schedule-message').textContent.includes('format')"
    )
    form.locator("select[name=format]").select_option("xlsx")
    form.locator("button[type=submit]").click()
    row = page.locator("#schedule-rows tbody tr")
    row.first.wait_for()
    assert "每日 KPI" in row.first.inner_text() and "尚未发送" in row.first.inner_text()
    assert "by=queue" in row.first.inner_text() and "每天 07:30" in row.first.inner_text()
    # The sweep runs it the next morning; the center has no mailbox, so the run fails.
    from hotline.web.scheduled_reports import run_due

    (outcome,) = run_due(
        SERVED["factory"], center=load_center(SAMPLE), now=datetime.now(UTC) + timedelta(days=1)
    )
    assert outcome.status == "failed"
    page.reload()
    assert "失败: no active mailbox" in page.locator("#schedule-rows .run-failed").inner_text()
    assert serious_violations(page) == []
    if shots := os.environ.get("HOTLINE_SCREENSHOTS"):
        page.screenshot(path=str(Path(shots) / "manager-cockpit.png"), full_page=True)

    page.goto(f"{site}/manager?{PERIOD}&lang=en")
    assert page.locator("h1").inner_text() == "Manager cockpit"
    assert "target crossed" in page.locator("#today-service_level").inner_text()
    assert "individuals (XmR) chart" in page.locator("#chart-aht_s h3").inner_text()
    assert "Scheduled reports" in page.locator("#schedules h2").inner_text()
    assert "failed: no active mailbox" in page.locator("#schedule-rows .run-failed").inner_text()
    assert serious_violations(page) == []
    page.locator(".schedule-remove").first.click()
    page.locator("#no-schedules").wait_for()

    bad = page.goto(f"{site}/manager?from=yesterday")
    assert bad is not None and bad.status == 422
    context.close()
