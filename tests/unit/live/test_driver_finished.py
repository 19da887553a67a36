"""The driver's ``on_finished`` hooks: every finished contact, with number, agent and outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.live.desk_state import FinishedContact
from hotline.live.driver import LiveDriver
from hotline.live.history import summary_of
from hotline.routing.model import (
    AgentLoggedIn,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    OfferAnswered,
    WrapUpEnded,
)

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
T0 = 1_795_000_000.0  # Wednesday 18 Nov 2026, 19:06 in Shanghai: the hotline is open


def test_finished_contacts_reach_the_hooks_and_a_failing_hook_does_not_stop_routing() -> None:
    finished: list[FinishedContact] = []
    clock = ManualClock(T0)

    def broken(_: FinishedContact) -> None:
        raise RuntimeError("a history writer bug")

    async def scenario() -> LiveDriver:
        driver = LiveDriver(
            center=load_center(SAMPLE), clock=clock, on_finished=[broken, finished.append]
        )
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        answered = await driver.queue_contact(
            "installation", customer="13800000001", attached={"subject": "洗衣机安装"}
        )
        clock.advance(5)
        await driver.command(
            lambda now: OfferAnswered(at=now, contact_id=answered, agent_id="a002")
        )
        clock.advance(60)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=answered))
        clock.advance(10)
        await driver.command(
            lambda now: WrapUpEnded(
                at=now, agent_id="a002", contact_id=answered, disposition="installation_booked"
            )
        )
        # nobody with repair skills is logged in: this caller gives up waiting
        waiting = await driver.queue_contact("repair")
        await driver.command(lambda now: ContactAbandoned(at=now, contact_id=waiting))
        # queued by a bare command (as telephony and demo traffic do): the number comes
        # from the arrival event
        await driver.command(
            lambda now: ContactQueued(
                at=now, contact_id="T-1", queue="repair", customer="+8613900000002"
            )
        )
        await driver.command(lambda now: ContactAbandoned(at=now, contact_id="T-1"))
        await driver.stop()
        return driver

    driver = asyncio.run(scenario())
    first = finished[0]
    assert first.customer == "13800000001" and first.agent_id == "a002"
    assert first.outcome == "answered" and first.disposition == "installation_booked"
    assert first.channel == "voice" and first.queue == "installation"
    assert first.at == T0 + 75 and first.attached == {"subject": "洗衣机安装"}
    assert summary_of(first) == "installation · answered · installation_booked · 洗衣机安装"
    abandoned = finished[-2]
    assert abandoned.outcome == "abandoned" and abandoned.customer is None
    assert abandoned.agent_id is None
    bare = finished[-1]
    assert bare.contact_id == "T-1" and bare.customer == "+8613900000002"
    assert driver.desk.arrived_from == {} and driver.desk.answered_by == {}
    assert driver.attached.get(first.contact_id) is None  # forgotten once handed over
