"""The recordings page in headless Chromium against the real server (uvicorn on 127.0.0.1).

A manager searches the recordings (server-side filters), plays one in the page with the
shared player (a real WAV streamed by the recordings API, which audits the playback), jumps
to the hold segment the event log marks and downloads it (audited too); a QA specialist may
play but is offered no download. The page runs under its Content Security Policy at
1366×768 and passes axe-core in zh-CN and en (no serious or critical violations).

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Channel, Event, EventKind
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.event_log import append
from hotline.store.migrate import upgrade
from hotline.store.models.core import AuditEntry, User
from hotline.store.models.telephony import Recording
from hotline.web.app import create_app
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SAMPLE,
    _require_browser,
)
from tests.e2e.web.test_quality_pages import HOLD, SECONDS, Site, _wav

pytestmark = pytest.mark.e2e

#: Two recorded calls: the held one (agent a001) and a short one (agent a002).
HELD_CALL, SHORT_CALL = "v-rec-held", "v-rec-short"


def _seed(factory: sessionmaker[Session], home: Path) -> None:
    digest = hash_password(PASSWORD)
    start = time.time() - 3600
    answered = start + 12.0
    events = [
        Event(
            1,
            start,
            EventKind.ARRIVED,
            HELD_CALL,
            channel=Channel.VOICE,
            data={"caller": "13800138000"},
        ),
        Event(2, start + 5.0, EventKind.QUEUED, HELD_CALL, queue="repair", channel=Channel.VOICE),
        Event(3, answered, EventKind.ANSWERED, HELD_CALL, agent_id="a001", queue="repair"),
        Event(4, answered, EventKind.RECORDING_STARTED, HELD_CALL, agent_id="a001"),
        Event(5, answered + HOLD[0], EventKind.HELD, HELD_CALL, agent_id="a001"),
        Event(6, answered + HOLD[1], EventKind.RESUMED, HELD_CALL, agent_id="a001"),
        Event(7, answered + SECONDS, EventKind.DISCONNECTED, HELD_CALL, agent_id="a001"),
        Event(8, answered + SECONDS, EventKind.FINISHED, HELD_CALL, data={"outcome": "answered"}),
        Event(
            9,
            start + 600,
            EventKind.ARRIVED,
            SHORT_CALL,
            channel=Channel.VOICE,
            data={"caller": "13900139000"},
        ),
        Event(
            10, start + 610, EventKind.ANSWERED, SHORT_CALL, agent_id="a002", queue="installation"
        ),
    ]
    audio = home / f"{HELD_CALL}.wav"
    _wav(audio)
    with factory() as session:
        for username, roles in (("boss", ["manager"]), ("qa1", ["qa"])):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=digest,
                    roles=roles,
                    language="zh-CN",
                    active=True,
                )
            )
        append(session, events)
        for contact, agent, queue, ended in (
            (HELD_CALL, "a001", "repair", answered + SECONDS),
            (SHORT_CALL, "a002", "installation", start + 630),
        ):
            session.add(
                Recording(
                    contact_id=contact,
                    agent_id=agent,
                    queue=queue,
                    path=str(audio),
                    seconds=SECONDS,
                    channels=["caller", "agent"],
                    recorded_at=ended,
                )
            )
        session.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a temporary SQLite database, served by uvicorn in a thread."""
    _require_browser()

    home = tmp_path_factory.mktemp("recordings")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    _seed(factory, home)
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    with serving(app, name="recordings") as url:
        yield Site(url=url, factory=factory, shots=home)
    engine.dispose()


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
            headless=True,
        )
        yield chromium
        chromium.close()


def _page(browser: Any, site: Site, username: str, *, axe: bool = False) -> Any:
    context = browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="zh-CN", bypass_csp=axe
    )
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    return page


def _audit(site: Site, action: str) -> list[tuple[str, str]]:
    with site.factory() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        return [(e.actor, e.target) for e in rows]


def test_a_manager_finds_plays_seeks_and_downloads_a_recording(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    boss = _page(browser, site, "boss")
    errors: list[str] = []
    boss.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    boss.click("#nav-recordings")
    rows = boss.locator("#rec-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(SHORT_CALL)  # newest first

    # Filter on the server, from the keyboard: agent a001, then Enter.
    boss.fill("#f-agent", "a001")
    boss.press("#f-agent", "Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("13800138000")
    expect(boss.locator("#rec-total")).to_have_text("1–1 / 1")

    rows.first.locator("button.play").click()
    boss.wait_for_function(
        "() => document.getElementById('rec-audio').readyState >= 1", timeout=10_000
    )
    audio = "document.getElementById('rec-audio')"
    assert boss.evaluate(f"() => {audio}.duration") == pytest.approx(SECONDS, abs=0.1)
    boss.select_option("#rec-speed", "1.25")
    boss.evaluate(f"() => {{ {audio}.muted = true; return {audio}.play(); }}")
    boss.wait_for_function(f"() => {audio}.currentTime > 0.3")
    assert boss.evaluate(f"() => {audio}.playbackRate") == 1.25
    boss.evaluate(f"() => {audio}.pause()")
    kinds = boss.locator("#rec-segment-bar button").evaluate_all(
        "bs => bs.map(b => b.dataset.kind)"
    )
    assert kinds == ["talk", "hold", "talk"]
    boss.click("#rec-segment-bar button[data-kind=hold]")
    boss.wait_for_function(f"() => Math.abs({audio}.currentTime - {HOLD[0]}) < 0.2")
    assert ("boss", HELD_CALL) in _audit(site, "recording.play")

    download = boss.locator("#rec-download")
    expect(download).to_be_visible()
    response = boss.request.get(f"{site.url}{download.get_attribute('href')}")
    assert response.status == 200 and response.body().startswith(b"RIFF")
    assert _audit(site, "recording.download") == [("boss", HELD_CALL)]
    assert errors == []

    # A filter the server refuses is shown, not swallowed.
    boss.fill("#f-min", "90")
    boss.fill("#f-max", "10")
    boss.click("#rec-find")
    expect(boss.locator("#rec-error")).to_contain_text("min_seconds")


def test_qa_plays_without_a_download_and_the_page_passes_axe(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    for lang, title in (("zh-CN", "通话录音"), ("en", "Recordings")):
        qa = _page(browser, site, "qa1", axe=True)
        qa.goto(f"{site.url}/recordings?lang={lang}")
        expect(qa.locator("h1")).to_have_text(title)
        expect(qa.locator("#rec-table tbody tr")).to_have_count(2)
        qa.locator("#rec-table tbody tr", has_text=HELD_CALL).locator("button.play").click()
        expect(qa.locator("#rec-segment-bar button")).to_have_count(3)
        expect(qa.locator("#rec-download")).to_be_hidden()
        assert serious_violations(qa) == []
        qa.context.close()
