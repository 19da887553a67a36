"""The quality pages in headless Chromium against the real server (uvicorn on 127.0.0.1).

A QA specialist opens this month's sampling plan, opens the contact it proposes, plays its
recording (a real WAV file streamed by the recordings API, which audits the playback), changes
the speed, jumps to the hold segment the event log marks, sees the call's transcript with the
automated checks' flags beside the player (a flag seeks the recording), finds the call by
searching the transcripts for a traditional-character word, scores the contact on the sample
center's form and sees the score. The agent then sees the evaluation on their own quality
page with its trend and disputes it; a supervisor amends the score on review. The flow runs with
the QA specialist's page under its Content Security Policy; the other pages (and the QA
page once more) are checked with axe-core in zh-CN and en (no serious or critical
violations). A calibration session is opened, scored blind and closed on its page.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import math
import os
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Channel, Event, EventKind
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.quality.transcription import search_key
from hotline.store.db import make_engine, make_session_factory
from hotline.store.event_log import append
from hotline.store.migrate import upgrade
from hotline.store.models.core import AuditEntry, User
from hotline.store.models.quality import Transcript
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

pytestmark = pytest.mark.e2e

CONTACT = "v-qa-e2e"
SECONDS = 20.0
#: Full marks on every question of the sample form (voice-service v2).
PERFECT = {
    "greeting": 1,
    "recording_notice": 1,
    "verify_identity": 1,
    "no_disclosure": 1,
    "correct_info": 4,
    "ticket_complete": 2,
    "no_false_promise": 1,
    "courtesy": 4,
    "hold_etiquette": 1,
    "further_help": 1,
    "closing_phrase": 1,
}
#: Seconds from the start of the recording: the agent held the caller from 6 s to 11 s.
HOLD = (6.0, 11.0)
#: What ``hotline quality transcribe`` stored for the call, and what its checks flagged.
SAID: list[dict[str, Any]] = [
    {"channel": "agent", "start": 0.4, "end": 2.5, "text": "您好，欢迎致电家电服务热线"},
    {"channel": "caller", "start": 3.0, "end": 5.5, "text": "本次通话可能会被录音"},
    {"channel": "agent", "start": 12.0, "end": 14.0, "text": "这个不归我管"},
]
FLAGS = [
    {"kind": "closing_missing", "start": None, "end": None, "detail": ""},
    {"kind": "forbidden_phrase", "start": 12.0, "end": 14.0, "detail": "不归我管"},
]


@dataclass
class Site:
    """The running server and its database."""

    url: str
    factory: sessionmaker[Session]
    shots: Path


def _wav(path: Path) -> None:
    """A stereo 8 kHz recording as the voice server writes one: caller left, agent right."""
    t = np.arange(int(SECONDS * 8000)) / 8000
    left = (np.sin(2 * math.pi * 440 * t) * 6000).astype("<i2")
    right = (np.sin(2 * math.pi * 660 * t) * 6000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.column_stack([left, right]).tobytes())


def _seed(factory: sessionmaker[Session], home: Path) -> None:
    from hotline.tickets import service as tickets

    digest = hash_password(PASSWORD)
    zone = ZoneInfo("Asia/Shanghai")
    month_start = datetime.now(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = max(time.time() - 3600, month_start.timestamp() + 10)
    answered = start + 12.0
    events = [
        Event(1, start, EventKind.ARRIVED, CONTACT, channel=Channel.VOICE),
        Event(2, start + 5.0, EventKind.QUEUED, CONTACT, queue="repair", channel=Channel.VOICE),
        Event(3, answered, EventKind.ANSWERED, CONTACT, agent_id="a001", queue="repair"),
        Event(4, answered, EventKind.RECORDING_STARTED, CONTACT, agent_id="a001"),
        Event(5, answered + HOLD[0], EventKind.HELD, CONTACT, agent_id="a001"),
        Event(6, answered + HOLD[1], EventKind.RESUMED, CONTACT, agent_id="a001"),
        Event(7, answered + 15.0, EventKind.TRANSFERRED, CONTACT, agent_id="a001"),
        Event(8, answered + SECONDS, EventKind.DISCONNECTED, CONTACT, agent_id="a001"),
        Event(9, answered + SECONDS, EventKind.FINISHED, CONTACT, data={"outcome": "answered"}),
    ]
    audio = home / f"{CONTACT}.wav"
    _wav(audio)
    with factory() as session:
        for username, roles, agent_id in (
            ("qa1", ["qa"], None),
            ("a001", ["agent"], "a001"),
            ("boss", ["supervisor"], None),
            ("qa2", ["qa"], None),
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
        append(session, events)
        recording = Recording(
            contact_id=CONTACT,
            agent_id="a001",
            queue="repair",
            path=str(audio),
            seconds=SECONDS,
            channels=["caller", "agent"],
            recorded_at=answered + SECONDS,
        )
        session.add(recording)
        session.flush()
        session.add(
            Transcript(
                recording_id=recording.id,
                contact_id=CONTACT,
                agent_id="a001",
                state="done",
                model="faster-whisper:whisper-base",
                seconds=SECONDS,
                utterances=SAID,
                search_text=search_key(" ".join(u["text"] for u in SAID)),
                flags=FLAGS,
            )
        )
        tickets.create_ticket(
            session,
            type="repair",
            subject="热水器不加热",
            queue="repair",
            contact_id=CONTACT,
            actor="a001",
        )
        session.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a temporary SQLite database, served by uvicorn in a thread."""
    _require_browser()
    home = tmp_path_factory.mktemp("quality")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    _seed(factory, home)
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    shots = Path(os.environ.get("HOTLINE_SCREENSHOTS") or home / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with serving(app, name="quality") as url:
        yield Site(url=url, factory=factory, shots=shots)
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
        viewport={"width": 1366, "height": 1000}, locale="zh-CN", bypass_csp=axe
    )
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    return page


def _audio(page: Any, script: str) -> Any:
    return page.evaluate(f"() => {{ const a = document.getElementById('qa-audio'); {script} }}")


def test_qa_plays_scores_the_agent_disputes_and_a_supervisor_amends(
    browser: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    qa = _page(browser, site, "qa1")
    errors: list[str] = []
    qa.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    qa.goto(f"{site.url}/quality")
    pick = qa.locator(f"#plan-list button[data-contact={CONTACT}]")
    expect(pick).to_contain_text("转接")  # picked on purpose: the contact was transferred
    pick.click()
    expect(qa.locator("#qa-agent")).to_have_text("a001")
    expect(qa.locator("#qa-tickets")).to_contain_text("热水器不加热")

    # The recording plays, at the chosen speed, and the hold segment seeks to its start.
    qa.wait_for_function(
        "() => document.getElementById('qa-audio').readyState >= 1", timeout=10_000
    )
    assert _audio(qa, "return a.duration;") == pytest.approx(SECONDS, abs=0.1)
    qa.select_option("#qa-speed", "1.5")
    _audio(qa, "a.muted = true; return a.play();")
    qa.wait_for_function("() => document.getElementById('qa-audio').currentTime > 0.5")
    assert _audio(qa, "return a.playbackRate;") == 1.5
    _audio(qa, "a.pause();")
    kinds = qa.locator("#segment-bar button").evaluate_all("bs => bs.map(b => b.dataset.kind)")
    assert kinds == ["talk", "hold", "talk", "transfer"]
    qa.click("#segment-bar button[data-kind=hold]")
    qa.wait_for_function(
        f"() => Math.abs(document.getElementById('qa-audio').currentTime - {HOLD[0]}) < 0.2"
    )
    left = qa.locator("#segment-bar button[data-kind=hold]").evaluate("b => b.style.left")
    assert left == "30%"  # 6 s of 20 s: positioned through the CSSOM, despite the CSP

    # Beside the player: the transcript, both legs, and the checks' flags; a flag seeks.
    expect(qa.locator("#qa-flags li")).to_have_text(["缺少结束语", "0:12 禁用语 · 不归我管"])
    expect(qa.locator("#qa-utterances li")).to_have_count(3)
    expect(qa.locator("#qa-utterances li").nth(1)).to_have_text("0:03 客户 本次通话可能会被录音")
    qa.click("#qa-flags button")
    qa.wait_for_function(
        "() => Math.abs(document.getElementById('qa-audio').currentTime - 12) < 0.2"
    )
    # Transcript search: a traditional-character query finds the simplified transcript.
    qa.fill("#transcript-query", "錄音")
    qa.click("#transcript-search button")
    hit = qa.locator("#transcript-hits li")
    expect(hit).to_have_count(1)
    expect(hit).to_contain_text("本次通话可能会被录音")
    expect(hit.locator(".badge")).to_have_text(["缺少结束语", "禁用语"])
    qa.screenshot(path=str(site.shots / "quality-01-workspace.png"), full_page=True)

    # Score it: correct_info 2 of 4 costs a quarter of the accuracy section (45 × 3/6 × 1/2).
    qa.select_option("#q-voice-service-correct_info", "2")
    qa.fill("#c-voice-service-correct_info", "保修政策说明不完整")
    qa.select_option("#q-voice-service-ticket_complete", "na")
    qa.click("#submit-evaluation")
    expected = round(10 + 15 + 45 * (1.5 + 1) / 4 + 20 + 10, 1)
    expect(qa.locator("#evaluation-result")).to_have_text(f"已保存，得分 {expected}")
    expect(qa.locator("#accuracy-table tr[data-agent=a001]")).to_contain_text("100.0%")
    expect(qa.locator(f"#plan-list button[data-contact={CONTACT}]")).to_have_count(0)
    assert errors == []
    with site.factory() as session:
        plays = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "recording.play")
        ).all()
        assert [(e.actor, e.target) for e in plays][:1] == [("qa1", CONTACT)]

    # The agent sees it with its trend, and disputes it.
    agent = _page(browser, site, "a001", axe=True)
    agent.goto(f"{site.url}/quality/mine")
    row = agent.locator("#my-evaluations tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".status")).to_have_text("待确认")
    expect(row).to_contain_text("保修政策说明不完整")
    expect(agent.locator("#trend circle")).to_have_count(1)
    expect(agent.locator("#my-figures")).to_contain_text(f"平均分 {expected}")
    agent.click("#my-evaluations .dispute")
    expect(agent.locator("#mine-error")).to_contain_text("body.reason")
    agent.fill("#my-evaluations .dispute-reason", "客户已拒绝提供保修卡，无法说明")
    agent.click("#my-evaluations .dispute")
    expect(row.locator(".status")).to_have_text("申诉中")
    agent.screenshot(path=str(site.shots / "quality-02-mine.png"), full_page=True)
    assert serious_violations(agent) == []

    # A supervisor reviews the dispute: the form opens with the evaluation's answers, and the
    # corrected answer re-scores it.
    boss = _page(browser, site, "boss", axe=True)
    boss.goto(f"{site.url}/quality")
    dispute = boss.locator("#dispute-table tbody tr")
    expect(dispute).to_contain_text("客户已拒绝提供保修卡")
    expect(boss.locator("#form-card")).to_be_hidden()  # a supervisor does not score
    dispute.locator("button.amend").click()
    expect(boss.locator("#amending")).to_be_visible()
    expect(boss.locator("#q-voice-service-correct_info")).to_have_value("2")
    expect(boss.locator("#q-voice-service-ticket_complete")).to_have_value("na")
    boss.select_option("#q-voice-service-correct_info", "4")
    boss.fill("#qa-summary", "客户拒绝提供保修卡，说明已足够")
    boss.click("#submit-evaluation")
    expect(boss.locator("#evaluation-result")).to_have_text(f"已改分： {expected} → 100.0")
    expect(boss.locator("#disputes-empty")).to_be_visible()
    agent.goto(f"{site.url}/quality/mine?lang=en")
    expect(agent.locator("h1")).to_have_text("My quality")
    expect(agent.locator("#my-evaluations .status")).to_have_text("Amended")
    assert serious_violations(agent) == []

    # The pages pass axe with a contact open: the supervisor's in zh-CN, the QA form in en.
    boss.fill("#open-contact", CONTACT)
    boss.click("#open-form button")
    expect(boss.locator("#segment-bar button")).to_have_count(4)
    assert serious_violations(boss) == []
    checker = _page(browser, site, "qa1", axe=True)
    checker.goto(f"{site.url}/quality?lang=en")
    expect(checker.locator("h1")).to_have_text("Quality workspace")
    checker.fill("#open-contact", CONTACT)
    checker.click("#open-form button")
    expect(checker.locator("#segment-bar button")).to_have_count(4)
    expect(checker.locator("#qa-speech h3")).to_have_text("Call transcript")
    expect(checker.locator("#qa-flags li").first).to_have_text("no closing")
    assert serious_violations(checker) == []
    checker.screenshot(path=str(site.shots / "quality-03-workspace-en.png"), full_page=True)


def _score_all(page: Any, harsh: bool) -> None:
    from playwright.sync_api import expect

    forms = page.locator("form.cal-score")
    expect(forms).to_have_count(2)
    for i in range(2):
        form = forms.nth(i)
        if harsh:  # misses the greeting, the offer of further help and the closing phrase
            for question in ("greeting", "further_help", "closing_phrase"):
                form.locator(f"select[data-question={question}]").select_option("0")
        form.locator("button[type=submit]").click()
        expect(page.locator("form.cal-score").nth(i).locator("button")).to_contain_text("重新提交")


def test_a_calibration_session_is_scored_blind_and_shows_the_drifting_evaluator(
    browser: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    boss = _page(browser, site, "boss", axe=True)
    boss.goto(f"{site.url}/quality/calibration")
    boss.fill("#calibration-form input[name=name]", "十二月校准")
    boss.fill("#calibration-form input[name=contacts]", f"{CONTACT}, v-qa-e2e-2")
    boss.fill("#calibration-form input[name=evaluators]", "qa1, qa2, boss")
    boss.click("#calibration-form button[type=submit]")
    card = boss.locator("section.calibration").first
    expect(card.locator(".status")).to_have_text("进行中")
    assert serious_violations(boss) == []

    harsh = _page(browser, site, "qa1")
    harsh.goto(f"{site.url}/quality/calibration")
    _score_all(harsh, harsh=True)
    # qa2 agrees with the supervisor; scored through the API the page calls
    other = _page(browser, site, "qa2")
    session_id = card.get_attribute("data-calibration")
    for contact in (CONTACT, "v-qa-e2e-2"):
        answer = other.request.post(
            f"{site.url}/api/quality/calibrations/{session_id}/scores",
            data={"contact_id": contact, "answers": PERFECT},
            headers={"origin": site.url},
        )
        assert answer.status == 200, answer.text()
    boss.reload()
    _score_all(boss, harsh=False)
    expect(card).to_contain_text("boss 2/2 · qa1 2/2 · qa2 2/2")
    card.locator("button.close").click()
    expect(card.locator(".status")).to_have_text("已结束")
    expect(card.locator(".icc")).to_contain_text("ICC(2,1)")
    expect(card.locator("tr[data-evaluator=qa1] td").nth(2)).to_have_text("偏离")
    expect(card.locator("tr[data-evaluator=qa2] td").nth(2)).to_have_text("一致")
    expect(card.locator("tr[data-question=greeting] td").nth(2)).to_have_text("33%")
    boss.screenshot(path=str(site.shots / "quality-04-calibration.png"), full_page=True)
    assert serious_violations(boss) == []
    boss.goto(f"{site.url}/quality/calibration?lang=en")
    expect(boss.locator("h1")).to_have_text("QA calibration")
    expect(boss.locator("section.calibration .status").first).to_have_text("closed")
    assert serious_violations(boss) == []
