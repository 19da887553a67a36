"""The customer pages in headless Chromium against the real server (uvicorn on 127.0.0.1).

An agent finds a customer by the traditional spelling of the name, opens the 360° page
(identities masked, products, contacts on every channel — call, chat, WeChat, SMS, e-mail,
with the transcript of the WeChat chat they handled — tickets, survey answers and
follow-ups) and reveals the personal data, which is audited. A supervisor reviews the
likely duplicates, merges a pair and undoes the merge. The pages run under their Content
Security Policy at 1366×768 and pass axe-core in zh-CN and en (no serious or critical
violations).

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store import event_log
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import AuditEntry, User
from hotline.store.models.crm import CustomerMerge
from hotline.web.app import create_app
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SAMPLE,
    _require_browser,
)
from tests.e2e.web.test_quality_pages import Site
from tests.integration.web.test_history_api import followup_task, survey_answer

pytestmark = pytest.mark.e2e


def _seed(factory: sessionmaker[Session]) -> dict[str, int]:
    from hotline.campaigns import service as campaigns
    from hotline.crm import service as crm
    from hotline.tickets import service as tickets

    digest = hash_password(PASSWORD)
    with factory() as session:
        for username, roles, agent_id in (
            ("a001", ["agent"], "a001"),
            ("boss", ["supervisor"], None),
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
        zhang = crm.create_customer(
            session,
            name="张伟",
            phones=["13812345678"],
            emails=["zhang.wei@example.cn"],
            addresses=["北京市朝阳区建国路88号"],
        )
        # the same person typed in again on another call: a likely duplicate
        again = crm.create_customer(session, name="张伟", phones=["138-1234-5678"])
        crm.create_customer(session, name="李娜", phones=["13900001111"])
        session.flush()
        # the customer asked never to be called by campaigns (the campaigns' own list)
        campaigns.add_do_not_call(session, number="13812345678", actor="e2e")
        crm.add_product(session, customer_id=zhang.id, model="JSQ30-16", serial_number="SN-88-001")
        for channel, day, summary in (("voice", 1, "热水器不加热"), ("chat", 2, "问维修进度")):
            crm.record_contact(
                session,
                customer_id=zhang.id,
                channel=channel,
                contact_id=f"{channel}-{day}",
                agent_id="a001",
                at=datetime(2026, 3, day, 9, 0, tzinfo=UTC),
                summary=summary,
            )
        _other_channels(session, customer_id=zhang.id)
        repair = tickets.create_ticket(
            session,
            type="repair",
            subject="热水器不加热",
            actor="a001",
            customer_id=zhang.id,
            queue="repair",
            contact_id="voice-1",
        )
        session.flush()
        # what he said afterwards: the call's survey, and the repair's follow-up (回访)
        answered = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
        event_log.append(session, survey_answer("voice-1", answered, {"overall": 4}))
        session.add(
            followup_task(
                repair,
                made=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
                finished=datetime(2026, 3, 3, 15, 0, tzinfo=UTC),
                answers={"done": True, "csat": 5},
            )
        )
        session.commit()
        return {"zhang": zhang.id, "again": again.id}


def _other_channels(session: Session, *, customer_id: int) -> None:
    """His WeChat chat (an agent linked the follower), an SMS and an e-mail, as the live
    engine finished them: found by the linked openid, his number and his address."""
    from hotline.crm import service as crm
    from hotline.store.models.chat import ChatConversation, ChatMessage

    crm.link_identity(
        session, customer_id=customer_id, identity=crm.Identity("wechat", "oZhang"), actor="a001"
    )
    session.add(
        ChatConversation(
            id="wechat-3",
            queue="chat",
            language="zh-CN",
            customer_name="张",
            topic="漏水",
            started_at=1_772_528_400.0,
            phase="ended",
            agent_id="a001",
        )
    )
    session.flush()
    for seq, sender, body in ((1, "customer", "热水器漏水了"), (2, "agent", "师傅明天上门")):
        session.add(
            ChatMessage(
                conversation_id="wechat-3",
                seq=seq,
                at=1_772_528_400.0 + seq,
                sender=sender,
                kind="text",
                body=body,
                agent_id="a001" if sender == "agent" else None,
            )
        )
    for contact_id, channel, key, agent, outcome, day in (
        ("wechat-3", "wechat", "wechat:oZhang", "a001", "answered", 3),
        ("sms-4", "sms", "13812345678", "a021", "answered", 4),
        ("email-5", "email", "zhang.wei@example.cn", "a011", "answered", 5),
    ):
        crm.record_finished_contact(
            session,
            key=key,
            channel=channel,
            at=datetime(2026, 3, day, 9, 0, tzinfo=UTC),
            contact_id=contact_id,
            agent_id=agent,
            queue="email" if channel == "email" else "chat",
            outcome=outcome,
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The real app on a temporary SQLite database, served by uvicorn in a thread."""
    _require_browser()

    home = tmp_path_factory.mktemp("customers")
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    _seed(factory)
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=load_center(SAMPLE),
    )
    with serving(app, name="customers") as url:
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
        viewport={"width": 1366, "height": 768}, locale="zh-CN", bypass_csp=axe
    )
    page = context.new_page()
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/console")
    return page


def test_an_agent_finds_a_customer_and_reveals_them_audited(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    agent = _page(browser, site, "a001")
    errors: list[str] = []
    agent.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    agent.click("#nav-customers")
    agent.fill("#cust-q", "張偉")  # traditional characters find the simplified name
    agent.press("#cust-q", "Enter")
    rows = agent.locator("#cust-results tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("JSQ30-16 SN-88-001")
    expect(rows.first).not_to_contain_text("13812345678")  # masked in the list
    rows.first.locator("a").click()

    # contacts on every channel, newest first; the agent opens their own WeChat chat only
    contacts = agent.locator("#c-contacts tbody tr")
    expect(contacts).to_have_count(5)
    expect(contacts.nth(0)).to_contain_text("邮件")
    expect(contacts.nth(1)).to_contain_text("短信")
    expect(contacts.nth(1).locator("button")).to_have_count(0)  # another agent's SMS
    expect(contacts.nth(3)).to_contain_text("问维修进度")
    contacts.nth(2).locator("button").click()
    expect(agent.locator("#c-record-lines li")).to_have_count(2)
    expect(agent.locator("#c-record-lines li").first).to_have_text("客户: 热水器漏水了")
    expect(agent.locator("#c-tickets tbody tr")).to_contain_text("热水器不加热")
    expect(agent.locator("#c-products tbody tr")).to_contain_text("SN-88-001")
    expect(agent.locator("#c-name-full")).not_to_have_text("张伟")
    expect(agent.locator("#c-phones")).not_to_contain_text("13812345678")
    expect(agent.locator("#c-flags")).to_contain_text("禁止外呼 (全中心名单)")
    expect(agent.locator("#c-flags")).not_to_contain_text("13812345678")
    agent.click("#c-reveal")
    expect(agent.locator("#c-name-full")).to_have_text("张伟")
    expect(agent.locator("#c-phones")).to_contain_text("+8613812345678")
    expect(agent.locator("#c-addresses")).to_have_text("北京市朝阳区建国路88号")
    expect(agent.locator("#c-masked")).to_be_hidden()
    with site.factory() as session:
        reveals = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.reveal")
        ).all()
        assert [e.actor for e in reveals] == ["a001"]
    assert errors == []


def test_a_supervisor_merges_duplicates_and_undoes_it(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    boss = _page(browser, site, "boss")
    boss.goto(f"{site.url}/customers")
    pairs = boss.locator("#dup-table tbody tr")
    expect(pairs).to_have_count(0)  # the review runs when asked
    boss.locator("#dup-scan").click()
    expect(pairs).to_have_count(1)
    pairs.first.locator("button.merge").click()
    expect(boss.locator("#dup-result")).to_contain_text("已合并")
    expect(boss.locator("#dup-none")).to_be_visible()
    expect(boss.locator("#dup-undo")).to_be_focused()
    boss.keyboard.press("Enter")
    expect(boss.locator("#dup-result")).to_have_text("已撤销合并。")
    expect(pairs).to_have_count(1)
    with site.factory() as session:
        [merge] = session.scalars(select(CustomerMerge)).all()
        assert merge.undone_at is not None


def test_the_customer_pages_pass_axe_in_both_languages(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    from tests.e2e.web.accessibility import serious_violations

    for lang, title, verified, labels, answered in (
        ("zh-CN", "客户", "已核实", ("邮件", "短信", "微信", "在线客服", "语音"), "已接通"),
        ("en", "Customers", "verified", ("E-mail", "SMS", "WeChat", "Chat", "Voice"), "answered"),
    ):
        boss = _page(browser, site, "boss", axe=True)
        boss.goto(f"{site.url}/customers?lang={lang}&q=13812345678")
        expect(boss.locator("h1")).to_have_text(title)
        expect(boss.locator("#cust-results tbody tr")).to_have_count(2)
        boss.locator("#dup-scan").click()
        expect(boss.locator("#dup-table tbody tr")).to_have_count(1)
        assert serious_violations(boss) == []
        boss.locator("#cust-results tbody tr a").first.click()
        contacts = boss.locator("#c-contacts tbody tr")
        expect(contacts).to_have_count(5)
        # every channel with its queue and outcome; the WeChat chat's transcript opens below
        for row, channel in enumerate(labels):
            expect(contacts.nth(row)).to_contain_text(channel)
        expect(contacts.nth(2)).to_contain_text(answered)
        contacts.nth(2).locator("button").click()
        expect(boss.locator("#c-record-lines li").last).to_contain_text("师傅明天上门")
        # the survey answer about his call, and the repair's follow-up with its outcome
        survey = boss.locator("#c-surveys tbody tr")
        expect(survey).to_contain_text("4 / 5")
        expect(survey).to_contain_text("overall: 4")
        expect(boss.locator("#c-followups tbody tr")).to_contain_text(verified)
        expect(boss.locator("#c-followups tbody tr")).to_contain_text("done: true; csat: 5")
        assert serious_violations(boss) == []
        boss.context.close()
