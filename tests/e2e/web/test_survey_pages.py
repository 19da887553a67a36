"""The survey pages in headless Chromium against the real server (uvicorn on 127.0.0.1).

A customer opens the survey link of a voice contact in Chinese, sends an answer out of range
by hand (the browser's own checks are bypassed, as a hand-made request would), sees the
question named, corrects it, leaves a dissatisfied comment and is thanked; opening the link
again is refused, and a forged link too, in English. A manager then opens ``/surveys`` and
reads the answer among the IVR's ratings with its interval, the response rate per channel,
the driver chart and the comment as a DSAT root cause. Every page is checked with axe-core
(no serious or critical violations), in both languages.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Channel, Event, EventKind
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.event_log import append
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.surveys import service as surveys
from hotline.web.app import create_app
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SAMPLE,
    _require_browser,
)

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret"


@dataclass
class Site:
    """The running server, its database and the survey link sent to the customer."""

    url: str
    factory: sessionmaker[Session]
    link: str


def _seed(factory: sessionmaker[Session]) -> str:
    """A manager, three answered calls (two rated in the IVR) and a link about the third."""
    center = load_center(SAMPLE)
    assert center.surveys is not None
    now = time.time() - 600
    events: list[Event] = []
    for i, (agent, score) in enumerate([("a001", 5), ("a011", 2), ("a011", None)]):
        contact = f"v-s{i}"
        events += [
            Event(1, now + i, EventKind.ARRIVED, contact, channel=Channel.VOICE),
            Event(2, now + i + 1, EventKind.ANSWERED, contact, agent, "repair", Channel.VOICE),
        ]
        if score is not None:
            data = {"score": score, "scale_max": 5, "survey": "csat"}
            events.append(
                Event(3, now + i + 2, EventKind.SURVEY_ANSWERED, contact, agent, "repair",
                      Channel.VOICE, data)
            )  # fmt: skip
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
        append(session, events)
        _, token = surveys.send_link(
            session=session,
            survey=center.surveys.definition(),
            contact_id="v-s2",
            sent_by="boss",
            sent_via="email",
            ttl_hours=center.surveys.link_ttl_hours,
            secret=SECRET.encode(),
            now=datetime.now(UTC),
            product="water-heater",
        )
        session.commit()
    return f"/s/{token}"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a temporary SQLite database, served by uvicorn in a thread."""
    _require_browser()
    home = tmp_path_factory.mktemp("surveys")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    link = _seed(factory)
    app = create_app(
        settings=Settings(home=home, secret_key=SECRET),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    with serving(app, name="surveys") as url:
        yield Site(url=url, factory=factory, link=link)
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


def _watch(page: Any, errors: list[str]) -> None:
    """Collect script errors and failed scripts, styles or API calls. The refused survey
    pages themselves answer 404/409/422 on purpose, which Chromium also logs as a failed
    resource: those documents are left out."""
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )


def test_a_customer_answers_once_and_a_manager_reads_the_results(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    customer = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
    errors: list[str] = []
    _watch(customer, errors)
    customer.goto(f"{site.url}{site.link}")
    expect(customer.locator("h1")).to_have_text("服务满意度调查")
    assert serious_violations(customer) == []
    for question, value in [("overall", "2"), ("agent", "4"), ("recommend", "10")]:
        customer.check(f"input[name={question}][value='{value}']")
    customer.check("input[name=resolved][value=yes]")
    # An answer off the scale, as a hand-made form would send it: the question is named.
    customer.evaluate(
        "() => { const r = document.querySelector('input[name=speed]');"
        " r.value = '9'; r.checked = true;"
        " document.getElementById('survey-form').noValidate = true; }"
    )
    customer.click("button[type=submit]")
    expect(customer.locator("#e-speed")).to_contain_text("answer 9 is outside the scale 1-5")
    assert serious_violations(customer) == []
    customer.check("input[name=speed][value='3']")
    customer.fill("textarea[name=comment]", "师傅很专业，但是上门迟到了三天")
    customer.click("button[type=submit]")
    expect(customer.locator("#survey-thanks")).to_have_text("谢谢！您的评价已记录。")

    again = customer.goto(f"{site.url}{site.link}?lang=en")
    assert again is not None and again.status == 409
    expect(customer.locator("#survey-refused")).to_contain_text("already been answered")
    assert serious_violations(customer) == []
    forged = customer.goto(f"{site.url}{site.link[:-4]}AAAA?lang=en")
    assert forged is not None and forged.status == 404
    expect(customer.locator("#survey-refused")).to_contain_text("not valid")
    assert errors == []

    manager = browser.new_context(locale="zh-CN", bypass_csp=True).new_page()
    _watch(manager, errors)
    manager.goto(f"{site.url}/login")
    manager.fill("input[name=username]", "boss")
    manager.fill("input[name=password]", PASSWORD)
    manager.click("button[type=submit]")
    manager.wait_for_url(f"{site.url}/console")
    expect(manager.locator("#nav-surveys")).to_be_visible()
    manager.goto(f"{site.url}/surveys?lang=en")
    expect(manager.locator("h1")).to_have_text("Survey results")
    # three CSAT answers (IVR 5 and 2, the page's 2): 1 of 3 in the top two boxes
    expect(manager.locator("#surveys-overall")).to_contain_text("CSAT 33.3% [")
    expect(manager.locator("#surveys-overall")).to_contain_text("n=3")
    # the contacts' channel, and the e-mailed link (answered) on its carrier's row
    expect(manager.locator("#surveys-rates tbody tr")).to_have_count(2)
    expect(manager.locator("#surveys-rates tbody")).to_contain_text("voice")
    expect(manager.locator("#surveys-rates tbody")).to_contain_text("link:email")
    expect(manager.locator("#surveys-drivers tbody tr")).to_have_count(4)
    expect(manager.locator("#surveys-matrix title")).to_have_count(1)
    # the dissatisfied comment, cut into words, is the one root cause; no QA scores yet
    expect(manager.locator("#surveys-causes tbody tr")).to_have_count(1)
    expect(manager.locator("#surveys-causes tbody")).to_contain_text("上门迟到了三天")
    expect(manager.locator("#surveys-qa-r")).to_contain_text("too few agents")
    # the month's report for the product units downloads as a PDF
    with manager.expect_download() as download:
        manager.click("#voc-pdf")
    assert download.value.suggested_filename.startswith("voc-")
    assert serious_violations(manager) == []
    manager.select_option("#surveys-by", "product")
    manager.click("#surveys-filter button[type=submit]")
    expect(manager.locator("#surveys-groups tbody")).to_contain_text("water-heater")
    manager.goto(f"{site.url}/surveys?lang=zh-CN")
    expect(manager.locator("h1")).to_have_text("满意度调查结果")
    expect(manager.locator("#surveys-groups tbody tr")).to_have_count(1)
    assert serious_violations(manager) == []
    assert errors == []
