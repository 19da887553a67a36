"""The planner's page in headless Chromium against the real server.

A planner opens ``/planning`` from the top bar: the newest roster (a draft) as a Gantt chart
of its first day; they stretch a shift past the rules and see the broken rules at its row,
fix it, add a shift (checked the same way), move a lunch, remove a shift, save and publish.
An agent asks on ``/me`` to swap their shift with a colleague's and for leave; the planner
approves both on ``/planning``. The week before, held to its published roster: adherence per agent,
who was late or absent, and shrinkage by reason beside the plan's assumption. Over four weeks
of repair calls, the week's forecast against its Monday's actuals, an override with its reason
that raises Tuesday morning's forecast and requirements, the agents required against the
roster's heads per half hour, a what-if of two more agents, and the simulator's what-if of
overtime, of a moved break and of an overflow to the installation queue; the Hefei site's two
queues staffed together by the simulator beside Erlang per queue; one site's plan and
adherence, or the whole center's, chosen on the page. The page passes axe-core
in zh-CN and en (no serious or critical violations).

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Event, EventKind
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.metrics import service as metrics_service
from hotline.metrics.records import ContactRecord
from hotline.store.db import make_engine, make_session_factory
from hotline.store.event_log import append
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.web.app import create_app
from hotline.wfm import service as rosters
from hotline.wfm.roster import RosterBreak, RosterShift, ShiftRules
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SAMPLE, _require_browser

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Asia/Shanghai")
WEEK_1 = date(2026, 3, 2)
WEEK_2 = date(2026, 3, 9)


def _at(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(), ZONE) + timedelta(hours=hour)


def _week(day: date) -> list[RosterShift]:
    lunch = RosterBreak(_at(day, 12), _at(day, 13), "lunch")
    return [
        RosterShift("a001", _at(day, 8), _at(day, 17), "repair", (lunch,)),
        RosterShift("a002", _at(day, 9), _at(day, 13), "repair"),
    ]


def _installers(day: date) -> list[RosterShift]:
    """Three installation agents on ``day``, 08:00 to 17:00 with lunch at noon."""
    lunch = RosterBreak(_at(day, 12), _at(day, 13), "lunch")
    return [
        RosterShift(agent, _at(day, 8), _at(day, 17), "installation", (lunch,))
        for agent in ("a003", "a004", "a005")
    ]


def _repair_calls(day: date, per_half_hour: int, queue: str = "repair") -> list[ContactRecord]:
    """Repair calls (or ``queue``'s) every half hour from 09:00 to 17:00, handled in 300 s."""
    return [
        ContactRecord(
            contact_id=f"{queue[0]}{day}-{slot}-{k}",
            arrived_at=_at(day, slot / 2).timestamp() + 60 * k,
            queued_at=_at(day, slot / 2).timestamp() + 60 * k,
            answered_at=_at(day, slot / 2).timestamp() + 60 * k + 5,
            outcome="answered",
            queue=queue,
            agent="a001",
            talk_s=300.0,
        )
        for slot in range(18, 34)
        for k in range(per_half_hour)
    ]


def _seed(factory: sessionmaker[Session]) -> None:
    digest = hash_password(PASSWORD)
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    with factory() as session:
        for username, role, agent in (("planner", "wfm", None), ("a001", "agent", "a001")):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=digest,
                    roles=[role],
                    agent_id=agent,
                    language="zh-CN",
                    active=True,
                )
            )
        # week 1 in force (held to below), a001's shift tomorrow in force, week 2 a draft
        for first, publish, shifts in (
            (WEEK_1, True, _week(WEEK_1)),
            (tomorrow, True, _week(tomorrow)),
            (
                WEEK_2,
                False,
                _week(WEEK_2)
                + _week(WEEK_2 + timedelta(days=1))
                + _installers(WEEK_2 + timedelta(days=1)),
            ),
        ):
            roster = rosters.create_roster(
                session=session,
                name=f"week of {first}",
                period_start=first,
                period_end=first + timedelta(days=6),
                shifts=shifts,
                rules=ShiftRules(),
                shrinkage=0.3,
                timezone="Asia/Shanghai",
                actor="planner",
            )
            if publish:
                rosters.publish(
                    session=session, roster_id=roster.id, timezone="Asia/Shanghai", actor="planner"
                )
        # four weeks of repair calls before week 2, and its Monday's (busier) actuals
        calls = [c for d in range(28) for c in _repair_calls(WEEK_2 - timedelta(days=28 - d), 10)]
        # and a quieter installation queue, the same site's (for multi-skill and overflow)
        calls += [
            c
            for d in range(28)
            for c in _repair_calls(WEEK_2 - timedelta(days=28 - d), 2, "installation")
        ]
        # and three quiet weeks before today, for the intraday view
        today = datetime.now(ZONE).date()
        calls += [c for d in range(1, 22) for c in _repair_calls(today - timedelta(days=d), 1)]
        metrics_service.import_records(
            session=session, records=calls + _repair_calls(WEEK_2, 14), source="e2e"
        )
        state = EventKind.AGENT_STATE
        append(
            session,
            [
                # a001: 15 min late, lunch on time, an hour of training, gone at 16:00
                Event(1, _at(WEEK_1, 8.25).timestamp(), state, agent_id="a001",
                      data={"state": "available"}),
                Event(2, _at(WEEK_1, 12).timestamp(), state, agent_id="a001",
                      data={"state": "not_ready", "reason": "lunch"}),
                Event(3, _at(WEEK_1, 13).timestamp(), state, agent_id="a001",
                      data={"state": "not_ready", "reason": "training"}),
                Event(4, _at(WEEK_1, 14).timestamp(), state, agent_id="a001",
                      data={"state": "available"}),
                Event(5, _at(WEEK_1, 16).timestamp(), state, agent_id="a001",
                      data={"state": "logged_out"}),
            ],
        )  # fmt: skip
        session.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app on a temporary SQLite database, served by the shared helper."""
    _require_browser()
    home: Path = tmp_path_factory.mktemp("planning")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    _seed(factory)
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    with serving(app, name="planning") as url:
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


def _signed_in(browser: Any, site: str, username: str) -> Any:
    # axe-core is injected as a script, which the pages' CSP would refuse
    page = browser.new_context(viewport={"width": 1366, "height": 1000}, bypass_csp=True).new_page()
    page.goto(f"{site}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/console")
    return page


def test_a_planner_edits_publishes_and_holds_agents_to_the_roster(browser: Any, site: str) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    page = _signed_in(browser, site, "planner")
    page.click("#nav-planning")
    expect(page.locator("h1")).to_have_text("排班计划")
    # the newest roster, a draft, on its first day: two bars, a001's with its lunch
    expect(page.locator("#planning-status")).to_have_text("草稿")
    expect(page.locator("#planning-gantt g.gantt-shift")).to_have_count(2)
    expect(page.locator("#planning-gantt g[data-agent=a001] rect.gantt-break")).to_have_count(1)
    assert serious_violations(page) == []

    a002 = page.locator("#planning-shifts tr[data-agent=a002]")
    a002.locator(".shift-end").fill("21:00")
    page.click("#planning-save")
    problem = a002.locator(".shift-problem")
    expect(problem).to_contain_text("lasts 12 h; a shift lasts at most 10 h")
    expect(problem).to_contain_text("needs at least 30 min")
    a002.locator(".shift-end").fill("14:00")
    with page.expect_navigation():  # saved, the page reloads
        page.click("#planning-save")
    expect(page.locator("#planning-shifts tr[data-agent=a002] .shift-end")).to_have_value("14:00")
    expect(page.locator("#planning-shifts .shift-problem").first).to_have_text("")

    # a shift added for a003 is checked like the others, the problem at the new row
    new = page.locator("#planning-new-shift")
    new.locator(".new-agent").select_option("a003")
    new.locator(".new-skill").select_option("repair")
    new.locator(".new-start").fill("08:00")
    new.locator(".new-end").fill("20:00")
    page.click("#planning-add-shift")
    expect(new.locator(".shift-problem")).to_contain_text("lasts 12 h")
    new.locator(".new-end").fill("17:00")
    with page.expect_navigation():
        page.click("#planning-add-shift")
    expect(page.locator("#planning-gantt g.gantt-shift")).to_have_count(3)
    # a001's lunch moved half an hour later, a002's shift removed
    a001 = page.locator("#planning-shifts tbody tr[data-agent=a001]")
    a001.locator(".break-start").fill("12:30")
    a001.locator(".break-end").fill("13:30")
    with page.expect_navigation():
        page.click("#planning-save")
    expect(a001.locator(".break-start")).to_have_value("12:30")
    lunch = page.locator("#planning-gantt g[data-agent=a001] rect.gantt-break title")
    expect(lunch).to_have_text("lunch 12:30–13:30")
    page.locator("#planning-shifts tbody tr[data-agent=a002] .shift-remove").click()
    expect(page.locator("#planning-shifts tbody tr[data-agent=a002]")).to_have_count(0)
    expect(page.locator("#planning-gantt g.gantt-shift")).to_have_count(2)
    page.click("#planning-publish")
    expect(page.locator("#planning-status")).to_have_text("已发布")
    expect(page.locator("#planning-save")).to_have_count(0)

    # the week before, held to its published roster, in English
    page.goto(f"{site}/planning?roster=1&day={WEEK_1}&lang=en")
    expect(page.locator("h1")).to_have_text("Workforce planning")
    # a001: 405 of 540 scheduled minutes in the scheduled activity
    expect(page.locator("#planning-adherence tr[data-agent=a001]")).to_contain_text("75.0 %")
    expect(page.locator("#planning-attendance tr[data-agent=a001]")).to_contain_text(
        "late 15.0 min"
    )
    expect(page.locator("#planning-attendance tr[data-agent=a002]")).to_contain_text("absent")
    # 720 phone minutes scheduled: absence 15 + 60 + 240, training 60
    shrinkage = page.locator("#planning-shrinkage")
    expect(shrinkage).to_contain_text("measured 52.1 %")
    expect(shrinkage).to_contain_text("plan 30 %")
    expect(page.locator("svg.shrinkage rect[data-reason=training]")).to_have_count(1)
    assert serious_violations(page) == []


def test_an_agent_asks_for_a_swap_and_leave_and_the_planner_approves_them(
    browser: Any, site: str
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    agent = _signed_in(browser, site, "a001")
    agent.goto(f"{site}/me")
    shift = agent.locator("#my-shifts tbody tr")
    expect(shift).to_have_count(1)
    expect(shift).to_contain_text("08:00–17:00")
    # a swap with a colleague's shift tomorrow, asked on /me and approved on /planning
    expect(shift.locator(".swap-with option")).to_contain_text(["a002 黄艳"])
    shift.locator(".swap-request").click()
    expect(agent.locator("#my-requests tr[data-status=pending]")).to_contain_text("换班 ↔ a002")
    planner = _signed_in(browser, site, "planner")
    planner.goto(f"{site}/planning")
    planner.locator("#planning-requests tr[data-status=pending] .request-approve").click()
    expect(planner.locator("#planning-requests tr[data-status=approved]")).to_contain_text("a002")
    agent.goto(f"{site}/me")
    expect(shift).to_contain_text("09:00–13:00")

    shift.locator(".leave-reason").fill("family")
    shift.locator(".leave-request").click()
    expect(agent.locator("#my-requests tr[data-status=pending]")).to_contain_text("待审批")

    planner.goto(f"{site}/planning")
    asked = planner.locator("#planning-requests tr[data-status=pending]")
    expect(asked).to_contain_text("a001")
    expect(asked).to_contain_text("family")
    assert serious_violations(planner) == []
    asked.locator(".request-approve").click()
    # the swap's row is approved already: wait for the leave's own row to leave "pending"
    expect(planner.locator("#planning-requests tr[data-status=pending]")).to_have_count(0)
    expect(planner.locator("#planning-requests tr[data-status=approved]").first).to_contain_text(
        "已批准 planner"
    )

    # the shift is off a001's roster; the request shows its decision, in English too
    agent.goto(f"{site}/me?lang=en")
    expect(agent.locator("#my-shifts")).to_have_count(0)
    expect(agent.locator("#my-requests tr[data-status=approved]").first).to_contain_text("approved")
    assert serious_violations(agent) == []


def test_a_planner_overrides_the_forecast_and_sets_requirements_against_the_roster(
    browser: Any, site: str
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    tuesday = WEEK_2 + timedelta(days=1)
    page = _signed_in(browser, site, "planner")
    page.goto(f"{site}/planning?roster=3&day={tuesday}&queue=repair")
    chart = page.locator("#planning-forecast-chart svg.forecast-chart")
    expect(chart.locator("polyline.forecast-line")).to_have_count(1)
    expect(chart.locator("polyline.actual-line")).to_have_count(1)  # Monday's only
    expect(page.locator(f"#planning-week tr[data-day='{WEEK_2}'] td.actual")).to_have_text("224")
    expect(page.locator(f"#planning-week tr[data-day='{tuesday}'] td.actual")).to_have_text("–")
    ten = page.locator("#planning-intervals tr[data-start='10:00']")
    # a001 (lunch at noon) and a002 on the roster; ten 300-s calls need 4 agents, 6 heads
    # after the roster's 30 % shrinkage
    expect(ten.locator("td.scheduled")).to_have_text("2")
    # no caller gave up in the history: no patience to estimate, Erlang C
    expect(page.locator("#planning-staffing-model")).to_contain_text("Erlang C (前四周放弃太少")
    expect(ten.locator("td.required")).to_have_text("6")
    expect(ten).to_have_class("gap-short")
    expect(ten.locator("td.gap")).to_contain_text("-4 不足")
    expect(page.locator("#planning-intervals tr[data-start='12:00'] td.scheduled")).to_have_text(
        "1"
    )
    expect(page.locator("svg.requirements-chart rect.required.short")).not_to_have_count(0)
    before = float(ten.locator("td").nth(0).inner_text())
    assert serious_violations(page) == []

    form = page.locator("#planning-override-form")
    form.locator("input[name=start]").fill("12:00")
    form.locator("input[name=end]").fill("09:00")
    form.locator("input[name=reason]").fill("mailing")
    form.locator("button[type=submit]").click()
    expect(page.locator("#planning-override-message")).to_contain_text("end")
    form.locator("input[name=start]").fill("09:00")
    form.locator("input[name=end]").fill("12:00")
    form.locator("input[name=percent]").fill("20")
    form.locator("button[type=submit]").click()
    expect(page.locator("#planning-overrides tbody tr")).to_have_count(1)
    expect(page.locator("#planning-overrides tbody tr")).to_contain_text("mailing")
    expect(page.locator("#planning-forecast-notes")).to_contain_text(
        f"override +20 % on {tuesday} 09:00–12:00 (repair): mailing"
    )
    after = float(page.locator("#planning-intervals tr[data-start='10:00'] td").nth(0).inner_text())
    assert after == pytest.approx(1.2 * before, abs=0.06)

    # what if two more agents answered from now on: a better service level at 10:00
    page.fill("#planning-plan-form input[name=extra]", "2")
    page.click("#planning-plan-form button[type=submit]")
    ten = page.locator("#planning-intervals tr[data-start='10:00']")
    expect(ten.locator("td.what-if-sl")).not_to_have_text(ten.locator("td.sl").inner_text())
    assert float(ten.locator("td.what-if-sl").inner_text().rstrip(" %")) > float(
        ten.locator("td.sl").inner_text().rstrip(" %")
    )

    # the simulator's what-if: three agents on overtime for the day. Without them one agent
    # on the phones (two heads less shrinkage) falls behind all morning, and the queue carried
    # over is what Erlang's interval-by-interval figures cannot show
    sim = page.locator("#planning-sim-form")
    sim.locator("select[name=sim]").select_option("overtime")
    sim.locator("input[name=sim_agents]").fill("3")
    sim.locator("input[name=sim_start]").fill("09:00")
    sim.locator("input[name=sim_end]").fill("17:00")
    sim.locator("button[type=submit]").click()
    expect(page.locator("#planning-sim-summary")).to_contain_text("3")
    ten = page.locator("#planning-sim tr[data-start='10:00']")
    expect(ten.locator("td.agents")).to_have_text("1 → 4")
    simulated = ten.locator("td.sim-sl")
    with_change = float(simulated.get_attribute("data-with") or "nan")
    without = simulated.get_attribute("data-without") or "0"  # empty: nobody answered in time
    assert with_change > 0.5 > float(without)
    chart = page.locator("#planning-sim-chart svg.what-if-chart")
    expect(chart.locator("polyline.simulated-with-line")).to_have_count(1)
    expect(chart.locator("polyline.erlang-line")).to_have_count(1)
    assert serious_violations(page) == []

    # today: the intraday view, nothing recorded yet, so the re-forecast is the forecast
    today = datetime.now(ZONE).date()
    page.goto(f"{site}/planning?day={today}&queue=repair&extra=1")
    expect(page.locator("#planning-intraday")).to_contain_text("1.00")
    intraday = page.locator("#planning-intraday-chart svg.intraday-chart")
    expect(intraday.locator("polyline.forecast-line")).to_have_count(1)
    expect(intraday.locator("polyline.what-if-line")).to_have_count(1)

    # in English: a break that is not on the roster is refused in words; a001's lunch moved
    # to 14:00 leaves a001 on the phones at noon beside a002
    moved = f"{site}/planning?roster=3&day={tuesday}&queue=repair&lang=en&sim=break&sim_agent=a001"
    page.goto(f"{moved}&sim_start=10:00&sim_end=14:00")
    expect(page.locator("#planning-sim-problem")).to_contain_text("a001 has no break starting")
    page.goto(f"{moved}&sim_start=12:00&sim_end=14:00")
    expect(page.locator("#planning-sim-title")).to_have_text("What-if by simulation")
    expect(page.locator("#planning-staffing-model")).to_contain_text("Erlang C (too few abandons")
    expect(page.locator("#planning-sim-summary")).to_contain_text("break of a001 moved")
    expect(page.locator("#planning-sim tr[data-start='12:00'] td.agents")).to_have_text("0 → 1")
    page.goto(f"{site}/planning?roster=3&day={tuesday}&queue=repair&lang=en")
    expect(page.locator("#planning-forecast-title")).to_contain_text("Forecast")
    expect(page.locator("#planning-requirements-title")).to_contain_text("Agents required")
    expect(page.locator("#planning-intervals tr[data-start='10:00'] td.gap")).to_contain_text(
        "short"
    )
    assert serious_violations(page) == []
    page.click("#planning-overrides .override-delete")
    expect(page.locator("#planning-overrides")).to_have_count(0)


def test_a_planner_plans_and_holds_one_site_or_the_whole_center(browser: Any, site: str) -> None:
    """Week 1's roster (a001 and a002, both at Hefei): the site selector cuts the plan's
    queues and the adherence to the chosen site's, in zh-CN and en."""
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    page = _signed_in(browser, site, "planner")
    page.goto(f"{site}/planning?roster=1&day={WEEK_1}&queue=repair")
    queue = page.locator("#planning-plan-form select[name=queue]")
    expect(queue.locator("option")).to_have_count(6)  # the whole center's queues
    expect(page.locator("#planning-adherence tr[data-agent='a001']")).to_have_count(1)
    page.select_option("#planning-site", "chengdu")
    page.click("#planning-plan-form button[type=submit]")
    expect(page.locator("#planning-site")).to_have_value("chengdu")
    # Chengdu's queues only (repair, a Hefei queue, gives way to Chengdu's first); nobody
    # of Chengdu is on the roster, so no adherence to show
    expect(queue.locator("option")).to_have_count(4)
    expect(queue).to_have_value("vip")
    expect(page.locator("#planning-adherence")).to_have_count(0)
    expect(page.locator("label:has(#planning-site)")).to_contain_text("站点")
    assert serious_violations(page) == []

    page.goto(f"{site}/planning?roster=1&day={WEEK_1}&queue=repair&site=hefei&lang=en")
    expect(page.locator("label:has(#planning-site)")).to_contain_text("Site")
    expect(queue).to_have_value("repair")
    expect(queue.locator("option")).to_have_count(2)
    expect(page.locator("#planning-adherence tbody tr")).to_have_count(2)  # a001, a002
    assert serious_violations(page) == []
    refused = page.goto(f"{site}/planning?site=wuhan")
    assert refused is not None and refused.status == 422


def test_a_planner_simulates_multi_skill_requirements_and_an_overflow(
    browser: Any, site: str
) -> None:
    """Tuesday of week 2: the Hefei site's repair and installation queues staffed together by
    the simulator beside their Erlang answers added up; repair (one agent on the phones for
    ten calls a half hour) overflowing to installation (two agents for two calls) after 30 s,
    simulated on both queues. zh-CN first, then English; axe-core on both."""
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    tuesday = WEEK_2 + timedelta(days=1)
    page = _signed_in(browser, site, "planner")
    page.goto(f"{site}/planning?roster=3&day={tuesday}&queue=repair")
    expect(page.locator("#planning-multiskill-title")).to_contain_text("多技能需求")
    form = page.locator("#planning-multiskill-form")
    form.locator("select[name=ms_site]").select_option("hefei")
    form.locator("input[name=ms_start]").fill("10:00")
    form.locator("button[type=submit]").click()
    ten = page.locator("#planning-multiskill-pooling tr[data-start='10:00']")
    expect(ten.locator("td.met")).to_have_text("是")
    simulated, erlang = (int(ten.locator(f"td.{c}").inner_text()) for c in ("agents", "erlang"))
    assert 0 < simulated <= erlang
    expect(ten.locator("td.gain")).to_have_text(f"{erlang - simulated:+d}")
    queues = page.locator("#planning-multiskill-queues tr[data-start='10:00']")
    expect(queues).to_have_count(2)
    expect(page.locator("#planning-multiskill-queues tr[data-queue=repair] td.sl")).to_contain_text(
        "%"
    )
    assert serious_violations(page) == []

    sim = page.locator("#planning-sim-form")
    sim.locator("select[name=sim]").select_option("overflow")
    sim.locator("select[name=sim_to]").select_option("installation")
    sim.locator("input[name=sim_after]").fill("30")
    sim.locator("button[type=submit]").click()
    expect(page.locator("#planning-sim-summary")).to_contain_text("overflow to installation")
    own = page.locator("#planning-sim tr[data-start='10:00'] td.sim-sl")
    other = page.locator("#planning-sim-target tr[data-start='10:00'] td.sim-sl")
    expect(page.locator("#planning-sim-target tr[data-start='10:00'] td.agents")).to_have_text(
        "2 → 2"
    )
    # repair's callers gain what installation's lose
    assert float(own.get_attribute("data-with") or "nan") > float(
        own.get_attribute("data-without") or "0"
    )
    assert float(other.get_attribute("data-with") or "nan") <= float(
        other.get_attribute("data-without") or "nan"
    )
    expect(page.locator("#planning-sim-target-chart svg.what-if-chart")).to_have_count(1)
    assert serious_violations(page) == []

    page.goto(
        f"{site}/planning?roster=3&day={tuesday}&queue=repair&lang=en&ms=1&ms_site=hefei"
        "&ms_start=10:00&sim=overflow&sim_to=installation&sim_after=30&sim_start=12:00"
        "&sim_end=13:00"
    )
    expect(page.locator("#planning-multiskill-title")).to_contain_text(
        "Multi-skill requirements by simulation"
    )
    expect(page.locator("#planning-multiskill-pooling thead")).to_contain_text("Pooling gain")
    expect(page.locator("#planning-multiskill-pooling td.met")).to_have_text("yes")
    expect(page.locator("#planning-sim-target-title")).to_contain_text("overflowed to")
    assert serious_violations(page) == []
