"""Applying a saved configuration to the live driver, each queue and agent at its safe point."""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.routing.model import (
    AgentLoggedIn,
    AgentNotReady,
    ContactEnded,
    ContactHeld,
    OfferAnswered,
)
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
        # A contact of installation is in hand: that queue (and a002) must wait for the new
        # configuration (wrap-up 90 s); every other queue and agent takes it at once.
        driver.reconfigure(center(wrap_up_s=90.0))
        await driver.tick()
        status = driver.apply_status()
        assert status["pending"] is True
        assert [(w["kind"], w["id"]) for w in status["waiting"]] == [("queue", "installation")]
        assert f"contact {contact} in hand of a002" in status["waiting"][0]["reason"]
        wraps = {q.id: q.wrap_up_s for q in driver.engine.config.queues}
        assert wraps["installation"] == 30.0 and wraps["repair"] == 90.0
        clock.advance(60)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=contact))
        view = await driver.agent_view("a002")
        assert view["contacts"][0]["wrap_until"] == T0 + 60 + 30  # still the old wrap-up
        clock.advance(30)  # wrap-up ends by its timer; the center is idle again
        await driver.tick()
        await driver.tick()
        assert driver.apply_status() == {
            "pending": False,
            "applied_at": T0 + 90,
            "waiting": [],
            "whole": [],
        }
        assert {q.wrap_up_s for q in driver.engine.config.queues} == {90.0}
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


def test_a_held_call_holds_up_only_its_own_queue_and_agent() -> None:
    clock = ManualClock(T0)
    published: list[dict[str, Any]] = []

    async def scenario() -> None:
        driver = LiveDriver(center=center(), clock=clock, publish=published.append)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a003"))
        contact = await driver.queue_contact("installation")
        offer = driver.offers["a002"]  # installation 5: a002 takes it
        assert offer.contact_id == contact
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a002"))
        await driver.command(lambda now: ContactHeld(at=now, contact_id=contact))

        # Saved: installation and repair get new targets; a002 and a003 learn complaints.
        base = center()
        queues = [
            q.model_copy(update={"target": q.target.model_copy(update={"threshold_s": 45.0})})
            if q.id in ("installation", "repair")
            else q
            for q in base.queues
        ]
        agents = [
            a.model_copy(update={"skills": {**a.skills, "complaints": 4}})
            if a.id in ("a002", "a003")
            else a
            for a in base.agents
        ]
        driver.reconfigure(base.model_copy(update={"queues": queues, "agents": agents}))
        await driver.tick()

        # Repair and the idle a003 take it at once; installation and a002 wait for the call.
        settings = driver.wallboard.settings
        assert settings.for_queue("repair").service_level_s == 45.0
        assert settings.for_queue("installation").service_level_s == 20.0
        assert "a003" in driver.engine.queue_members("complaints")
        assert "a002" not in driver.engine.queue_members("complaints")
        status = driver.apply_status()
        assert status["pending"] is True and status["whole"] == []
        held = {"contact": contact, "stage": "in_hand", "agent": "a002"}
        assert status["waiting"] == [
            {
                "kind": "agent",
                "id": "a002",
                "reason": f"agent a002 is busy: contact {contact} in hand of a002",
                **held,
            },
            {
                "kind": "queue",
                "id": "installation",
                "reason": f"queue installation is busy: contact {contact} in hand of a002",
                **held,
            },
        ]
        assert any(m["type"] == "config_progress" for m in published)

        clock.advance(120)  # the held call goes on for two minutes: nothing else changes
        await driver.tick()
        assert len(driver.apply_status()["waiting"]) == 2
        await driver.command(lambda now: ContactEnded(at=now, contact_id=contact))
        # Wrap-up (30 s) still holds both; the wrap-up timer ends it and they apply.
        assert [w["stage"] for w in driver.apply_status()["waiting"]] == ["wrap_up", "wrap_up"]
        clock.advance(30)
        await driver.tick()
        assert driver.apply_status()["pending"] is False
        assert driver.applied_at == T0 + 150
        assert driver.wallboard.settings.for_queue("installation").service_level_s == 45.0
        assert "a002" in driver.engine.queue_members("complaints")
        # a002 kept state (available) and today's count (the call just handled).
        assert driver.engine.agent_state("a002").value == "available"
        complaint = await driver.queue_contact("complaints")
        assert driver.offers["a003"].contact_id == complaint  # equal skill: the longer idle
        await driver.stop()

    asyncio.run(scenario())
    assert any(m["type"] == "config_applied" for m in published)


def test_a_changed_channel_capacity_still_waits_for_a_quiet_center() -> None:
    clock = ManualClock(T0)

    async def scenario() -> None:
        driver = LiveDriver(center=center(), clock=clock)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        contact = await driver.queue_contact("installation")
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a002"))
        base = center()
        channels = [
            c.model_copy(update={"capacity": 5}) if c.id == "chat" else c for c in base.channels
        ]
        driver.reconfigure(base.model_copy(update={"channels": channels}))
        await driver.tick()
        status = driver.apply_status()
        assert status["pending"] is True and status["whole"] == ["default_capacity"]
        old_engine = driver.engine
        await driver.command(lambda now: ContactEnded(at=now, contact_id=contact))
        clock.advance(30)
        await driver.tick()
        assert driver.apply_status()["pending"] is False
        assert driver.engine is not old_engine
        assert driver.engine.agent_state("a002").value == "available"
        await driver.stop()

    asyncio.run(scenario())


def test_a_change_routing_does_not_use_applies_at_once() -> None:
    clock = ManualClock(T0)

    async def scenario() -> None:
        driver = LiveDriver(center=center(), clock=clock)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        contact = await driver.queue_contact("installation")
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a002"))
        base = center()
        agents = [
            a.model_copy(update={"team": "t-repair"}) if a.id == "a003" else a for a in base.agents
        ]
        driver.reconfigure(base.model_copy(update={"agents": agents}))
        await driver.tick()
        assert driver.apply_status()["pending"] is False
        assert next(a for a in driver.center.agents if a.id == "a003").team == "t-repair"
        await driver.stop()

    asyncio.run(scenario())
