"""The SMS page in headless Chromium against the real server and a stand-in SMSC.

A supervisor opens ``/sms`` in zh-CN: the server's SMS line is bound to the stand-in SMSC,
a malformed number is refused naming the field, a message goes out (the SMSC receives it)
and shows in the log, which a search by number narrows; the English page says the same.
Both pass axe-core (no serious or critical violations); the top bar links the page for a
supervisor and not for an agent. Runs with ``HOTLINE_E2E=1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hotline.channels.sms import service as sms
from hotline.channels.sms.rules import QuietHours
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.web.app import create_app
from hotline.web.sms_bridge import attach_sms_line
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, PASSWORD, _require_browser
from tests.e2e.web.test_email_page import _signed_in
from tests.integration.channels.test_sms_smpp import StandInSmsc, settings_for

pytestmark = pytest.mark.e2e
SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, StandInSmsc]]:
    """The real app with the sample center, its SMS line bound to a stand-in SMSC, a
    supervisor and an agent."""
    _require_browser()
    home = tmp_path_factory.mktemp("sms-page")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    smsc = StandInSmsc()
    with factory() as session:
        for name, roles, agent in (("floor", ["supervisor"], None), ("a1", ["agent"], "a001")):
            session.add(
                User(
                    username=name, display_name=name, password_hash=hash_password(PASSWORD),
                    roles=roles, agent_id=agent, language="zh-CN", active=True,
                )
            )  # fmt: skip
        sms.save_gateway(
            session,
            settings=settings_for(smsc),
            secret=app.state.secret,
            actor="admin",
        )  # fmt: skip
        session.commit()
    line = attach_sms_line(app)
    try:
        with serving(app, name="sms-page") as url:
            # Started with the server, the line binds in the background: wait for the bind.
            assert line.gateway is not None and line.gateway.wait_bound(10)
            # No quiet hours: the default (21:00–08:00 in Shanghai) would refuse the page's
            # SMS whenever the suite runs between 13:00 and 00:00 UTC.
            assert line.bridge is not None
            now = datetime.now(UTC).time()
            line.bridge.quiet_hours = QuietHours(start=now, end=now, zone="UTC")
            yield url, smsc
    finally:
        smsc.close()
        engine.dispose()


def test_a_supervisor_sees_the_line_and_sends_an_sms_in_both_languages(
    site: tuple[str, StandInSmsc],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base_url, smsc = site
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        page = _signed_in(browser, base_url, "zh-CN", username="floor")
        page.locator("#nav-sms").click()
        page.wait_for_url(f"{base_url}/sms")
        expect(page.get_by_role("heading", name="短信网关")).to_be_visible()
        expect(page.locator("#sms-state")).to_have_text("已连接")
        form = page.locator("#sms-form")
        form.locator("input[name=to]").fill("010-6552 1234")
        form.locator("textarea[name=text]").fill("您好，您的维修工单已处理完毕。")
        form.get_by_role("button", name="发送短信").click()
        expect(page.locator("#sms-result")).to_contain_text("to:")
        form.locator("input[name=to]").fill("13812345678")
        form.get_by_role("button", name="发送短信").click()
        expect(page.locator("#sms-result")).to_have_text("已发送")
        expect(page.locator("#sms-sent")).to_have_text("1")
        rows = page.locator("#sms-log tbody > tr")
        expect(rows).to_have_count(1)
        expect(rows.nth(0)).to_contain_text("+8613812345678")
        expect(rows.nth(0)).to_contain_text("您好，您的维修工单已处理完毕。")
        assert len(smsc.submitted) == 1
        search = page.locator("#sms-search")
        search.locator("input[name=number]").fill("139")
        search.get_by_role("button", name="查询").click()
        expect(page.locator("#sms-empty")).to_be_visible()
        expect(rows).to_have_count(0)
        assert serious_violations(page) == []

        english = _signed_in(browser, base_url, "en", username="floor")
        english.goto(f"{base_url}/sms?lang=en")
        expect(english.locator("#sms-line-title")).to_have_text("SMS gateway")
        expect(english.locator("#sms-state")).to_have_text("Bound")
        expect(english.locator("#sms-log tbody > tr")).to_have_count(1)
        # The stand-in SMSC sends its delivery receipt at once: sent, then delivered.
        expect(english.locator("#sms-log tbody > tr").nth(0)).to_contain_text(
            re.compile("Sent|Delivered")
        )
        assert serious_violations(english) == []

        agent = _signed_in(browser, base_url, "zh-CN", username="a1")
        expect(agent.locator("#nav-sms")).to_have_count(0)
        assert agent.goto(f"{base_url}/sms").status == 403
        browser.close()
