"""Timers that fire while a screen asks for a view reach the log and the board exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.routing.model import AgentLoggedIn

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
T0 = 1772416800.0  # Monday 10:00 in Shanghai


def test_a_ring_timeout_fired_by_the_wallboard_is_logged_once_and_numbered_in_order() -> None:
    clock = ManualClock(T0)
    published: list[dict[str, object]] = []

    async def scenario() -> tuple[LiveDriver, str]:
        driver = LiveDriver(center=load_center(SAMPLE), clock=clock, publish=published.append)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a012"))
        contact = await driver.queue_contact("repair", customer="13900000002")
        clock.advance(21)  # nobody answers: the ring timer is due
        await driver.snapshot()  # the wallboard's refresh fires it
        await driver.agent_view("a012")
        await driver.stop()
        return driver, contact

    driver, contact = asyncio.run(scenario())
    events = [m for m in published if m.get("type") == "event"]
    kinds = Counter(str(m["kind"]) for m in events if m.get("contact_id") == contact)
    assert kinds["ring_no_answer"] == 1
    board = Counter(e.kind.value for e in driver.wallboard._events[contact])
    assert board["ring_no_answer"] == 1  # the board folds each event once
    seqs = [int(str(m["seq"])) for m in events]
    assert seqs == list(range(1, len(seqs) + 1))  # one sequence for the whole live log
