"""The live driver: one engine task, timers on the clock, desktop state, wallboard figures."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from hotline.config.center import CenterConfig
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.routing.model import (
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    ContactEnded,
    OfferAnswered,
    RoutingConflict,
    WrapUpEnded,
)

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
T0 = 1_795_000_000.0  # Wednesday 18 Nov 2026, 19:06 in Shanghai: the hotline is open


def center(**queue_changes: Any) -> CenterConfig:
    base = load_center(SAMPLE)
    if not queue_changes:
        return base
    queues = [q.model_copy(update=queue_changes) for q in base.queues]
    return base.model_copy(update={"queues": queues})


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_offer_answer_wrap_up_and_the_board() -> None:
    published: list[dict[str, Any]] = []
    clock = ManualClock(T0)

    async def scenario() -> dict[str, Any]:
        driver = LiveDriver(center=center(), clock=clock, publish=published.append)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        contact = await driver.queue_contact(
            "installation", customer="13800000001", attached={"subject": "洗衣机安装"}
        )
        view = await driver.agent_view("a002")
        assert view["offer"]["contact_id"] == contact
        assert view["offer"]["attached"] == {"customer": "13800000001", "subject": "洗衣机安装"}
        clock.advance(12)
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a002"))
        view = await driver.agent_view("a002")
        assert view["offer"] is None and view["state"] == "on_contact"
        assert view["contacts"][0]["stage"] == "talking"
        clock.advance(100)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=contact))
        view = await driver.agent_view("a002")
        # The installation queue's wrap-up is 30 s; the desktop counts down to this instant.
        assert view["contacts"][0]["wrap_until"] == T0 + 112 + 30
        clock.advance(8)
        await driver.command(
            lambda now: WrapUpEnded(
                at=now, agent_id="a002", contact_id=contact, disposition="installation_booked"
            )
        )
        board = await driver.snapshot()
        await driver.stop()
        assert driver.dispositions[contact] == "installation_booked"
        return board

    board = run(scenario())
    install = next(q for q in board["queues"] if q["id"] == "installation")
    assert install["today"]["offered"] == 1 and install["today"]["answered"] == 1
    assert install["today"]["service_level"] == 1.0 and install["today"]["asa_s"] == 12.0
    assert install["interval"]["service_level"] == 1.0
    assert install["agents_by_state"]["available"] == 1
    kinds = [m.get("kind") for m in published if m["type"] == "event"]
    assert kinds[:2] == ["agent_state", "arrived"]
    assert "offered" in kinds and "answered" in kinds and kinds[-1] == "agent_state"
    assert any(m["type"] == "offer" for m in published)


def test_board_judges_each_queue_by_its_own_threshold() -> None:
    clock = ManualClock(T0)

    async def scenario() -> dict[str, Any]:
        driver = LiveDriver(center=center(), clock=clock)
        await driver.start()
        # Logged in but in a meeting: the queues are staffed (no voicemail), nobody is offered.
        for agent in ("a032", "a002"):
            await driver.command(
                partial(AgentLoggedIn, agent_id=agent, ready=False, reason="meeting")
            )
        contacts = {}
        for queue in ("vip", "installation"):
            contacts[queue] = await driver.queue_contact(queue)
        clock.advance(10)
        for agent, queue in (("a032", "vip"), ("a002", "installation")):
            await driver.command(partial(AgentReady, agent_id=agent))
            await driver.command(partial(OfferAnswered, contact_id=contacts[queue], agent_id=agent))
        waiting = await driver.queue_contact("vip")
        clock.advance(30)
        board = await driver.snapshot()
        assert waiting in driver.engine.waiting_contacts("vip")
        await driver.stop()
        return board

    board = run(scenario())
    tiles = {q["id"]: q for q in board["queues"]}
    # Both waited 10 s: over VIP's 5 s threshold, within installation's 20 s.
    assert tiles["vip"]["today"]["service_level"] == 0.0
    assert tiles["installation"]["today"]["service_level"] == 1.0
    assert tiles["vip"]["target"] == {
        "service_level": 0.99,
        "threshold_s": 5.0,
        "short_abandon_s": 5.0,
        "variant": "service_level",
    }
    assert tiles["vip"]["waiting"] == 1 and tiles["vip"]["longest_wait_s"] == 30.0
    codes = {(a["queue"], a["code"]) for a in board["alerts"]}
    assert ("vip", "sl_below_target") in codes and ("vip", "long_wait") in codes
    assert tiles["vip"]["status"] == "bad" and tiles["installation"]["status"] == "good"
    a032 = next(a for a in board["agents"] if a["id"] == "a032")
    assert a032["state"] == "on_contact" and a032["contact_queue"] == "vip"


def test_a_conflicting_command_raises_and_routing_carries_on() -> None:
    async def scenario() -> str:
        driver = LiveDriver(center=center(), clock=ManualClock(T0))
        await driver.start()
        contact = await driver.queue_contact("repair")
        with pytest.raises(RoutingConflict):
            await driver.command(
                lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a012")
            )
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a012"))
        await driver.command(lambda now: AgentNotReady(at=now, agent_id="a012", reason="break"))
        view = await driver.agent_view("a012")
        await driver.stop()
        assert driver.stats.conflicts == 1
        return str(view["reason"])

    # a012 was offered the waiting call on log-in, then asked for a break: the break waits.
    assert run(scenario()) == "break"


def test_ring_timer_fires_on_the_wall_clock_without_any_command() -> None:
    published: list[dict[str, Any]] = []

    async def scenario() -> None:
        # The wall clock may fall outside opening hours; hours are not what this test is about.
        driver = LiveDriver(
            center=center(ring_timeout_s=0.2), publish=published.append, honour_hours=False
        )
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        await driver.queue_contact("installation")
        await asyncio.sleep(0.6)
        view = await driver.agent_view("a002")
        await driver.stop()
        assert view["offer"] is None
        assert view["state"] == "not_ready" and view["reason"] == "ring_no_answer"

    run(scenario())
    cancelled = [m for m in published if m["type"] == "offer_cancelled"]
    assert cancelled and cancelled[0]["reason"] == "ring_no_answer"
    assert any(m["type"] == "wallboard" for m in published)


def test_callers_with_nobody_logged_in_raise_an_alert() -> None:
    async def scenario() -> dict[str, Any]:
        driver = LiveDriver(center=center(), clock=ManualClock(T0))
        await driver.start()
        await driver.queue_contact("chat", customer="wx:zhang")
        board = await driver.snapshot()
        await driver.stop()
        return board

    board = run(scenario())
    chat = next(q for q in board["queues"] if q["id"] == "chat")
    assert chat["waiting"] == 1 and chat["agents_logged_in"] == 0 and chat["status"] == "bad"
    assert {"level": "bad", "queue": "chat", "code": "no_agents", "value": 1, "target": None} in (
        board["alerts"]
    )
    assert board["totals"]["waiting"] == 1


def test_boards_and_the_event_stream_are_built_only_for_someone_watching() -> None:
    """Nobody subscribed: no wallboard snapshots, no per-event messages; then one joins."""
    published: list[dict[str, Any]] = []
    watching = False

    async def scenario() -> LiveDriver:
        driver = LiveDriver(
            center=center(), clock=ManualClock(T0), publish=published.append, snapshot_every_s=0
        )
        driver.watched = lambda: watching
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        await driver.queue_contact("installation", customer="13800000001")
        await asyncio.sleep(0.05)  # the wallboard task sees the change
        assert driver.stats.snapshots == 0
        assert not [m for m in published if m.get("type") in ("event", "wallboard")]
        offers = [m for m in published if m.get("type") == "offer"]
        assert len(offers) == 1  # an agent's offer is always sent: the desk needs it
        nonlocal watching
        watching = True
        await driver.queue_contact("installation", customer="13800000002")
        await asyncio.sleep(0.05)
        await driver.stop()
        return driver

    driver = run(scenario())
    assert driver.stats.snapshots >= 1
    kinds = {m["kind"] for m in published if m.get("type") == "event"}
    assert {"arrived", "queued"} <= kinds
    assert [m for m in published if m.get("type") == "wallboard"]
