"""Applying a saved configuration to the running live driver at the next idle moment."""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.routing.model import AgentLoggedIn, AgentNotReady, ContactEnded, OfferAnswered
from tests.unit.live.test_driver import T0, center


def test_new_configuration_waits_for_idle_then_keeps_agents_logged_in() -> None:
    clock = ManualClock(T0)
    published: list[dict[str, Any]] = []

    async def scenario() -> None:
        driver = LiveDriver(center=center(), clock=clock, publish=published.append)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a003"))
        await driver.command(lambda now: AgentNotReady(at=now, agent_id="a003", reason="lunch"))
        contact = await driver.queue_contact("installation", customer="13800000002")
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a002"))
        old_engine = driver.engine
        # A contact is in hand: the new configuration (wrap-up 90 s) must wait.
        driver.reconfigure(center(wrap_up_s=90.0))
        await driver.tick()
        assert driver.engine is old_engine and driver.apply_status()["pending"] is True
        clock.advance(60)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=contact))
        view = await driver.agent_view("a002")
        assert view["contacts"][0]["wrap_until"] == T0 + 60 + 30  # still the old wrap-up
        clock.advance(30)  # wrap-up ends by its timer; the center is idle again
        await driver.tick()
        await driver.tick()
        assert driver.engine is not old_engine
        assert driver.apply_status() == {"pending": False, "applied_at": T0 + 90}
        assert driver.engine.agent_state("a002").value == "available"
        assert driver.engine.agent_state("a003").value == "not_ready"
        assert driver.engine.agent_reason("a003") == "lunch"
        assert driver.engine.agent_state("a004").value == "logged_out"
        # The next contact routes on the new engine and wraps up for the new 90 s.
        second = await driver.queue_contact("installation")
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=second, agent_id="a002"))
        clock.advance(10)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=second))
        view = await driver.agent_view("a002")
        assert view["contacts"][0]["wrap_until"] == T0 + 100 + 90
        await driver.stop()

    asyncio.run(scenario())
    assert any(m["type"] == "config_applied" for m in published)


def test_idle_center_applies_at_once() -> None:
    clock = ManualClock(T0)

    async def scenario() -> None:
        driver = LiveDriver(center=center(), clock=clock)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        changed = center()
        queues = [
            q.model_copy(update={"target": q.target.model_copy(update={"threshold_s": 40.0})})
            for q in changed.queues
        ]
        driver.reconfigure(changed.model_copy(update={"queues": queues}))
        board = await driver.snapshot()
        assert driver.apply_status()["pending"] is False
        assert driver.wallboard.settings.for_queue("installation").service_level_s == 40.0
        assert board["queues"]
        await driver.stop()

    asyncio.run(scenario())
