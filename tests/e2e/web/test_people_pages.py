"""The team scorecard and the agent's own figures in headless Chromium against the real server.

A team lead opens ``/team`` for a fixed period: their team's agents, each figure against its
target with a sparkline of its days, the grade and what moved it; another team is refused.
The agent opens ``/me``: their figures against target and team average, their grade, their
recent evaluation, and nobody else's row. Every page passes axe-core in zh-CN and en (no
serious or critical violations).

A team lead starts a contest from ``/team`` (handle time, today's calls); the agent finds
their place on the desk, marked as theirs, and the lead the standings on the wallboard; the
lead withdraws it and it leaves the desk. The wallboard also draws today's charts (offered
and answered per half hour against the forecast, service level, backlog, reasons). The lead
assigns a coaching task from the agent's QA evaluation; the agent acknowledges it on
``/me``; the lead closes it with the outcome. A manager sets up a course; the lead records
the agent's passing exam, which grants the skill in the center file; the agent sees the
certification on ``/me``.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Event, EventKind
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.metrics.service import ContactRecord, import_records
from hotline.store.db import make_engine, make_session_factory
from hotline.store.event_log import append
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.store.models.quality import Evaluation
from hotline.web.app import create_app
from hotline.wfm import service as rosters
from hotline.wfm.roster import RosterBreak, RosterShift, ShiftRules
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SAMPLE,
    _require_browser,
)

pytestmark = pytest.mark.e2e

#: 2026-03-02 08:00 in Shanghai; the scorecard covers 2 and 3 March.
T0 = 1_772_409_600.0
DAY = 86_400.0
PERIOD = "start=2026-03-02&end=2026-03-03"


@dataclass
class Site:
    """The running server, and where screenshots go."""

    url: str
    shots: Path
    home: Path


def _record(contact: str, agent: str, at: float, talk: float, wrap: float) -> ContactRecord:
    return ContactRecord(
        contact_id=contact,
        arrived_at=at,
        queued_at=at,
        answered_at=at + 8,
        ended_at=at + 8 + talk,
        outcome="answered",
        queue="repair",
        agent=agent,
        customer=f"1380000{contact}",
        talk_s=talk,
        wrap_s=wrap,
    )


def _seed(factory: sessionmaker[Session]) -> None:
    digest = hash_password(PASSWORD)
    with factory() as session:
        for username, roles, agent_id in (
            ("lead", ["team_lead"], "a001"),
            ("a002", ["agent"], "a002"),
            ("boss", ["manager"], None),
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
        # "today" is Shanghai's day: an hour ago, or halfway into the day just after midnight
        now = time.time()
        midnight = datetime.now(ZoneInfo("Asia/Shanghai")).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        recent = now - min(3600.0, (now - midnight.timestamp()) / 2)
        import_records(
            session=session,
            records=[
                _record("0001", "a002", T0 + 3600, 300, 40),
                _record("0002", "a002", T0 + DAY + 3600, 700, 150),
                _record("0003", "a003", T0 + 3600, 200, 30),
                _record("0004", "a011", T0 + 3600, 250, 30),
                # today, for a running contest: a002 the shorter calls
                _record("0101", "a002", recent, 200, 20),
                _record("0102", "a003", recent, 500, 20),
            ],
            source="people-e2e",
        )
        append(
            session,
            [
                Event(1, T0 + 5000, EventKind.SURVEY_ANSWERED, "0001", agent_id="a002",
                      data={"score": 5, "scale_max": 5}),
            ],
        )  # fmt: skip
        session.add(
            Evaluation(
                contact_id="0001",
                agent_id="a002",
                evaluator="qa",
                evaluated_at=datetime.fromtimestamp(T0 + 7200, UTC),
                form_id="voice-service",
                form_version=2,
                score=88.0,
                fatal_error=False,
                nonfatal_errors=1,
                nonfatal_opportunities=8,
                summary="",
            )
        )
        session.commit()
        _publish_tomorrow(session)


def _publish_tomorrow(session: Session) -> None:
    """A published roster giving a002 a shift tomorrow (by the wall clock, in Shanghai), with
    a lunch, so ``/me`` has a next shift and a next break to show."""
    zone = ZoneInfo("Asia/Shanghai")
    tomorrow = datetime.now(UTC).astimezone(zone).date() + timedelta(days=1)

    def at(hour: int) -> datetime:
        return datetime.combine(tomorrow, day_time(hour), zone)

    lunch = RosterBreak(at(12), at(13), "lunch")
    roster = rosters.create_roster(
        session=session,
        name="next week",
        period_start=tomorrow,
        period_end=tomorrow + timedelta(days=6),
        shifts=[RosterShift("a002", at(8), at(17), "repair", (lunch,))],
        rules=ShiftRules(),
        shrinkage=0.3,
        timezone="Asia/Shanghai",
        actor="wfm",
    )
    rosters.publish(session=session, roster_id=roster.id, timezone="Asia/Shanghai", actor="wfm")
    session.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a temporary SQLite database, served by uvicorn in a thread."""
    _require_browser()
    home: Path = tmp_path_factory.mktemp("people")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    _seed(factory)
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    shots = Path(os.environ.get("HOTLINE_SCREENSHOTS") or home / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with serving(app, name="people") as url:
        yield Site(url=url, shots=shots, home=home)
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


def _page(browser: Any, site: Site, username: str) -> Any:
    # axe-core is injected as a script, which the pages' CSP would refuse
    context = browser.new_context(viewport={"width": 1366, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    return page


def test_a_team_lead_reads_the_scorecard_of_their_team(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    lead = _page(browser, site, "lead")
    lead.click("#nav-team")
    expect(lead.locator("h1")).to_have_text("团队计分卡")
    lead.fill("input[name=start]", "2026-03-02")
    lead.fill("input[name=end]", "2026-03-03")
    lead.click("#team-filters button[type=submit]")
    lead.wait_for_url(f"{site.url}/team?start=2026-03-02&end=2026-03-03&team=")
    rows = lead.locator("#scorecard tbody tr")
    agents = rows.evaluate_all("rs => rs.map(r => r.dataset.agent)")
    assert "a002" in agents and "a003" in agents and "a011" not in agents  # t-repair is not theirs
    a002 = lead.locator("#scorecard tr[data-agent=a002]")
    # 300 + 40 and 700 + 150 seconds: 595 s against a 360 s target, missed
    aht = a002.locator("td[data-metric=aht_s]")
    expect(aht).to_contain_text("595 s")
    expect(aht).to_have_class("figure missed")
    expect(aht.locator("svg.spark polyline")).to_have_count(1)  # two days: a line
    expect(a002.locator("td[data-metric=csat]")).to_contain_text("100.0 %")
    expect(a002.locator("td[data-metric=quality_score]")).to_contain_text("88.0")
    # marks: aht 2.1, acw 33.3, hold, fcr, csat and fatal accuracy 100; weights 2 1 1 2 3 3
    expect(a002.locator(".grade-cell")).to_contain_text("B 78.1")
    # a003 has contact figures only (6 of 14 weight, under the half the rules ask): ungraded
    expect(lead.locator("#scorecard tr[data-agent=a003] .grade-cell")).to_have_text("未评级")
    assert serious_violations(lead) == []
    lead.screenshot(path=str(site.shots / "people-01-team.png"), full_page=True)

    # The leaderboard ranks handle time against the repair queue's 425 s (a011 counts in it):
    # a003's 230 s first, a002's 595 s second.
    board = lead.locator("#board tbody tr")
    assert board.evaluate_all("rs => rs.map(r => r.dataset.agent)") == ["a003", "a002"]
    expect(board.nth(1)).to_contain_text("1.40")
    lead.select_option("#board-form select[name=board]", "csat")
    lead.click("#board-form button[type=submit]")
    lead.wait_for_url("**board=csat")
    expect(lead.locator("#board tbody tr")).to_have_count(1)  # only a002 was surveyed
    assert serious_violations(lead) == []

    lead.goto(f"{site.url}/team?{PERIOD}&lang=en")
    expect(lead.locator("h1")).to_have_text("Team scorecard")
    expect(lead.locator(".note").first).to_contain_text("no published schedule")
    assert serious_violations(lead) == []

    refused = lead.goto(f"{site.url}/team?{PERIOD}&team=t-repair")
    assert refused is not None and refused.status == 403


def test_an_agent_sees_their_own_figures_grade_and_evaluations(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    agent = _page(browser, site, "a002")
    agent.goto(f"{site.url}/me?{PERIOD}")
    expect(agent.locator("h1")).to_have_text("我的指标")
    aht = agent.locator("#my-figures tr[data-metric=aht_s] td")
    expect(aht.nth(0)).to_have_text("595 s")
    expect(aht.nth(1)).to_have_text("360 s")  # the target from the grading rules
    expect(aht.nth(2)).to_have_text("412 s")  # the mean of a002 (595 s) and a003 (230 s)
    expect(agent.locator("#my-grade .grade")).to_have_count(1)
    expect(agent.locator("#my-movers li").first).to_contain_text("平均处理时长")
    expect(agent.locator("#my-evaluations tbody tr")).to_have_count(1)
    assert "a003" not in agent.content()  # colleagues count only in the team's mean
    # my published schedule: tomorrow 08:00–17:00 with a lunch, which is also what comes next
    expect(agent.locator("#my-shifts tbody tr")).to_have_count(1)
    expect(agent.locator("#my-shifts tbody tr td").nth(1)).to_have_text("08:00–17:00")
    expect(agent.locator("#my-next")).to_contain_text("下一班次")
    expect(agent.locator("#my-next")).to_contain_text("12:00–13:00 (午餐)")
    assert serious_violations(agent) == []
    agent.goto(f"{site.url}/me?{PERIOD}&lang=en")
    expect(agent.locator("h1")).to_have_text("My figures")
    expect(agent.locator("#my-next")).to_contain_text("Next shift")
    expect(agent.locator("#my-shifts tbody tr td").nth(3)).to_have_text("12:00–13:00 lunch")
    assert serious_violations(agent) == []
    agent.screenshot(path=str(site.shots / "people-02-me-en.png"), full_page=True)
    refused = agent.goto(f"{site.url}/team")
    assert refused is not None and refused.status == 403


def test_a_contest_started_on_the_team_page_shows_on_the_desk_and_the_wallboard(
    browser: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    lead = _page(browser, site, "lead")
    lead.goto(f"{site.url}/team?lang=en")
    expect(lead.locator("#contests .contest")).to_have_count(0)
    form = lead.locator("#contest-form")
    form.locator("input[name=name]").fill("本周 AHT 赛")
    form.locator("input[name=start]").fill((today - timedelta(days=1)).isoformat())
    form.locator("input[name=end]").fill((today + timedelta(days=6)).isoformat())
    form.locator("input[name=metrics][value=aht_s]").check()
    form.locator("button[type=submit]").click()
    contest = lead.locator("#contests .contest")
    expect(contest).to_have_count(1)
    expect(contest.locator("h3")).to_contain_text("running")
    # today's calls: a002's 220 s beats a003's 520 s on the repair queue's own figure
    places = contest.locator("tbody tr")
    assert places.evaluate_all("rs => rs.map(r => r.dataset.entrant)") == ["a002", "a003"]
    expect(places.first).to_contain_text("2")  # two ranked: first earns 2 points
    assert serious_violations(lead) == []

    agent = _page(browser, site, "a002")
    agent.goto(f"{site.url}/desk")
    card = agent.locator("#contest-card")
    expect(card.locator("h2")).to_have_text("我的竞赛")
    own = card.locator("tr.own")
    expect(own).to_have_attribute("data-entrant", "a002")
    expect(own).to_contain_text("我")
    assert serious_violations(agent) == []
    agent.goto(f"{site.url}/desk?lang=en")
    expect(agent.locator("#contest-card h2")).to_have_text("My contests")
    assert serious_violations(agent) == []
    agent.screenshot(path=str(site.shots / "people-03-desk-contest.png"), full_page=True)

    lead.goto(f"{site.url}/wallboard?mode=big")
    wall = lead.locator("#wall-contests")
    expect(wall.locator("h3")).to_contain_text("本周 AHT 赛")
    expect(wall.locator("tbody tr")).to_have_count(2)
    # the 大屏's charts: today per half hour (a002's and a003's calls earlier today), the
    # service level, the backlog, the reasons; no forecast from March's handful of calls
    charts = lead.locator("#wall-charts")
    expect(charts.locator("svg.wall-chart")).to_have_count(3)
    expect(charts.locator("#chart-volume polyline.offered")).not_to_have_count(0)
    expect(charts.locator(".note")).to_contain_text("two weeks of history")
    assert serious_violations(lead) == []
    lead.goto(f"{site.url}/wallboard?lang=en")
    expect(lead.locator("#wall-charts h2")).to_contain_text("Today")
    expect(lead.locator("#chart-reasons")).to_contain_text("No tickets opened today.")
    assert serious_violations(lead) == []
    lead.screenshot(path=str(site.shots / "people-04-wallboard-contest.png"), full_page=True)

    lead.goto(f"{site.url}/team")
    lead.locator("#contests .contest-withdraw").click()
    expect(lead.locator("#contests .contest")).to_have_count(0)
    agent.goto(f"{site.url}/desk")
    expect(agent.locator("#contest-card")).to_have_count(0)


def test_coaching_from_an_evaluation_is_acknowledged_on_me_and_closed_on_team(
    browser: Any, site: Site
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    lead = _page(browser, site, "lead")
    lead.goto(f"{site.url}/team?{PERIOD}")
    form = lead.locator("#coach-form")
    form.locator("select[name=agent_id]").select_option("a002")
    form.locator("input[name=evaluation_id]").fill("1")  # a002's one evaluation, 88.0
    form.locator("textarea[name=note]").fill("保持前先征得客户同意")
    form.locator("button[type=submit]").click()
    task = lead.locator("#coaching-tasks tbody tr")
    expect(task).to_have_count(1)
    expect(task).to_have_attribute("data-status", "open")
    expect(task).to_contain_text("质检评估 #1 · 88.0")
    assert serious_violations(lead) == []

    agent = _page(browser, site, "a002")
    agent.goto(f"{site.url}/me?{PERIOD}&lang=en")
    mine = agent.locator("#coaching tbody tr")
    expect(mine).to_contain_text("保持前先征得客户同意")
    assert serious_violations(agent) == []
    mine.locator(".coach-ack").click()
    expect(agent.locator("#coaching tbody tr")).to_have_attribute("data-status", "acknowledged")
    expect(agent.locator("#coaching tbody tr")).to_contain_text("acknowledged")

    lead.goto(f"{site.url}/team?{PERIOD}&lang=en")
    row = lead.locator("#coaching-tasks tbody tr")
    expect(row).to_have_attribute("data-status", "acknowledged")
    assert serious_violations(lead) == []
    row.locator(".coach-outcome").fill("asked before every hold in the next 20 calls")
    row.locator(".coach-close").click()
    expect(lead.locator("#coaching p.muted").first).to_have_text("No coaching tasks open.")
    agent.goto(f"{site.url}/me?{PERIOD}")
    expect(agent.locator("#coaching-tasks")).to_have_count(0)


def test_a_course_is_set_up_an_exam_passed_and_the_skill_granted(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    boss = _page(browser, site, "boss")
    boss.goto(f"{site.url}/team?{PERIOD}&lang=en")
    course = boss.locator("#course-form")
    course.locator("input[name=name]").fill("Repair, advanced")
    course.locator("select[name=skill]").select_option("repair")
    course.locator("input[name=proficiency]").fill("3")
    course.locator("button[type=submit]").click()
    expect(boss.locator("#exam-form select[name=course] option")).to_have_count(1)
    assert serious_violations(boss) == []

    lead = _page(browser, site, "lead")
    lead.goto(f"{site.url}/team?{PERIOD}")
    exam = lead.locator("#exam-form")
    expect(lead.locator("#course-form")).to_have_count(0)  # courses are the managers'
    exam.locator("select[name=agent_id]").select_option("a002")
    exam.locator("input[name=score]").fill("86")
    exam.locator("button[type=submit]").click()
    record = lead.locator("#training-records tbody tr[data-agent=a002]")
    expect(record).to_contain_text("86 / 80")
    expect(record).to_contain_text("已授予技能")  # a002 held repair 1
    assert serious_violations(lead) == []
    saved = (site.home / "center.yaml").read_text(encoding="utf-8")
    assert "id: a002" in saved and "repair: 3" in saved

    agent = _page(browser, site, "a002")
    agent.goto(f"{site.url}/me?{PERIOD}&lang=en")
    expect(agent.locator("#training tbody tr")).to_contain_text("skill granted")
    assert serious_violations(agent) == []
