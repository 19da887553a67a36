"""The desk page on a web node without the engine, in headless Chromium.

The partition's owner is a real :class:`~hotline.live.ownership.PartitionNode` (in a thread of
the test process, so that it starts in a moment) on a fresh database (SQLite: the real-process
test on PostgreSQL is ``tests/integration/live/test_web_node.py``); the web node
is ``hotline serve --web-only``'s app (``attach_web_node``) served by uvicorn. Agent a001 (the
desk in zh-CN) goes ready with the desk's button; a contact accepted into the partition rings
on the desk with the caller's number; the agent answers, hangs up and finishes wrap-up with a
disposition, each with the desk's buttons — each click an inbox row the owner applies, each
change on the desk from the owner's events through the node's log tail — while a supervisor's
wallboard on the same web node (in English) follows a001's row. A call back promised from the
desk is listed there once the owner has logged it; a click-to-dial, with no voice node to take
it, fails with the reason in zh-CN. Both pages pass axe-core. An administrator's center file
saved on the web node is taken up by the owner, and the admin page (zh-CN) says so.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.live.ownership import PartitionNode
from hotline.store import partitions, voice_requests
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import ContactEventRow
from hotline.web.app import create_app
from hotline.web.log_tail import attach_web_node
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.serving import serving
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS, SAMPLE, _require_browser
from tests.integration.live.conftest import PASSWORD, add_users

pytestmark = pytest.mark.e2e


@dataclass
class WebNode:
    url: str
    factory: sessionmaker[Session]
    partition: str


class Owner:
    """A partition node running in its own thread and event loop until closed."""

    def __init__(self, node: PartitionNode) -> None:
        self.node = node
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()  # bound to the owner's loop when first awaited there
        self._thread = threading.Thread(target=self._run, name="partition-owner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self.node.run(self._stop))
        finally:
            self._loop.close()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=20)


@pytest.fixture(scope="module")
def web_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebNode]:
    _require_browser()
    home: Path = tmp_path_factory.mktemp("web-node")
    center = load_center(SAMPLE)
    partition = center.sites[0].id
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        add_users(session, (("a001", ["agent"], "a001"),))
        add_users(session, (("boss", ["supervisor"], None),), language="en")
        add_users(session, (("root", ["admin"], None),))
    owner = Owner(
        PartitionNode(center=center, partition=partition, name="owner", session_factory=factory)
    )
    app = create_app(
        settings=Settings(home=home, secret_key="e2e-secret"),
        session_factory=factory,
        center=center,
    )
    attach_web_node(app, partition=partition)
    try:
        with serving(app, name="web-node") as base:
            yield WebNode(base, factory, partition)
    finally:
        owner.close()
        engine.dispose()


@pytest.fixture(scope="module")
def browser(web_node: WebNode) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def _signed_in(browser: Any, base: str, username: str, locale: str) -> Any:
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale=locale, bypass_csp=True
    )
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console")
    return page


def test_the_desk_works_a_contact_through_a_web_node(
    web_node: WebNode, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setattr(voice_requests, "CLAIM_S", 0.5)  # no voice node here: fail soon

    base = web_node.url
    supervisor = _signed_in(browser, base, "boss", "en")
    supervisor.goto(f"{base}/wallboard")
    expect(supervisor.locator("#tiles .tile")).to_have_count(6)
    row = supervisor.locator("tr[data-agent=a001] td.state")
    agent = _signed_in(browser, base, "a001", "zh-CN")
    agent.goto(f"{base}/desk")
    expect(agent.locator("#state")).to_have_text("未签入")

    agent.click("#btn-ready")  # an inbox row; the owner signs a001 in; the log tail tells
    expect(agent.locator("#state")).to_have_text("空闲")
    expect(row).to_have_text("Available")

    with web_node.factory() as session:
        payload = {"contact_id": "w1", "queue": "installation", "customer": "13800138000"}
        partitions.accept(
            session, partition=web_node.partition, kind="contact", payload=payload, at=time.time()
        )
        session.commit()
    expect(agent.locator("#offer-card")).to_be_visible()
    expect(agent.locator("#offer-customer")).to_have_text("13800138000")
    expect(row).to_have_text("Reserved")
    assert serious_violations(agent) == []

    agent.click("#btn-answer")
    expect(agent.locator("#contact-stage")).to_have_text("通话")
    expect(agent.locator("#contact-id")).to_have_text("w1")
    expect(row).to_have_text("On contact")
    # A call back promised from the desk: the owner keeps (and logs) it; the web node's
    # board folds the promise and the desk lists it.
    agent.click("#callback-box summary")
    agent.fill("#callback-minutes", "45")
    agent.click("#btn-callback")
    expect(agent.locator("#callback-list tbody tr")).to_have_count(1)
    expect(agent.locator("#callback-none")).to_be_hidden()
    # Click-to-dial goes to the partition's voice nodes; none runs here, so none takes it and
    # the desk says so in the agent's language.
    agent.fill("#dial-number", "13800138001")
    agent.click("#btn-dial")
    expect(agent.locator("#dial-result")).to_contain_text("没有语音节点接手此呼叫")
    agent.click("#btn-hangup")
    expect(agent.locator("#wrap-controls")).to_be_visible()
    expect(row).to_have_text("Wrap-up")
    agent.select_option("#disposition", "installation_booked")
    agent.click("#btn-wrap-done")
    expect(agent.locator("#wrap-controls")).to_be_hidden()
    expect(agent.locator("#state")).to_have_text("空闲")
    expect(row).to_have_text("Available")
    assert serious_violations(supervisor) == []

    with web_node.factory() as session:
        kinds = list(
            session.scalars(
                select(ContactEventRow.kind)
                .where(ContactEventRow.contact_id == "w1")
                .order_by(ContactEventRow.seq)
            )
        )
        dispositions = session.scalars(
            select(ContactEventRow.data).where(
                ContactEventRow.contact_id == "w1", ContactEventRow.kind == "wrap_up_ended"
            )
        ).all()
    assert kinds.index("answered") < kinds.index("disconnected") < kinds.index("wrap_up_ended")
    assert kinds[-1] == "finished"
    assert [d.get("disposition") for d in dispositions] == ["installation_booked"]


def test_a_center_file_saved_on_a_web_node_is_taken_up_by_the_owner(
    web_node: WebNode, browser: Any
) -> None:
    from playwright.sync_api import expect

    base = web_node.url
    admin = _signed_in(browser, base, "root", "zh-CN")
    text = SAMPLE.read_text(encoding="utf-8").replace(
        "    name: 报修 Repair\n", "    name: 报修 Repair E2E\n", 1
    )
    saved = admin.request.post(
        f"{base}/admin/center", data={"text": text}, headers={"origin": base}
    )
    assert saved.ok, saved.text()
    assert saved.json()["pending"] is True
    admin.goto(f"{base}/admin")
    # the owner (a PartitionNode thread) took it up and the web node serves it, no restart
    expect(admin.locator("#apply-status")).to_have_text(
        "已保存——分区的主节点已采用该配置，本 Web 节点已按其提供服务。", timeout=15_000
    )
    assert "报修 Repair E2E" in admin.content()
    assert serious_violations(admin) == []
    admin.context.close()
