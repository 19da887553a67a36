"""The wallboard's site map: a tile per site of the center file, from the live engine.

Sample center: installation and repair are Hefei's queues, VIP, complaints, chat and e-mail
Chengdu's; a002 (team t-install) sits in Hefei, a031 (t-vip) in Chengdu.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.routing.model import AgentLoggedIn, ContactEnded, OfferAnswered, WrapUpEnded
from tests.unit.live.test_driver import T0, center


def test_each_site_shows_its_agents_waiting_contacts_and_service_level() -> None:
    clock = ManualClock(T0)

    async def scenario() -> dict[str, Any]:
        driver = LiveDriver(center=center(), clock=clock)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a002"))
        answered = await driver.queue_contact("installation", customer="13800000001")
        clock.advance(12)
        await driver.command(
            lambda now: OfferAnswered(at=now, contact_id=answered, agent_id="a002")
        )
        clock.advance(60)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=answered))
        await driver.command(lambda now: WrapUpEnded(at=now, agent_id="a002", contact_id=answered))
        # Two VIP callers wait in Chengdu, where nobody is logged in.
        for number in ("13900000001", "13900000002"):
            await driver.queue_contact("vip", customer=number)
            clock.advance(7)
        board = await driver.snapshot()
        await driver.stop()
        return board

    board = asyncio.run(scenario())
    sites = {tile["id"]: tile for tile in board["sites"]}
    assert list(sites) == ["hefei", "chengdu"]
    hefei, chengdu = sites["hefei"], sites["chengdu"]
    assert hefei["name"] == "合肥中心" and set(hefei["queues"]) == {"installation", "repair"}
    assert hefei["agents_by_state"]["available"] == 1 and hefei["agents_logged_in"] == 1
    assert (hefei["waiting"], hefei["longest_wait_s"]) == (0, 0.0)
    assert hefei["today"] == {"offered": 1, "answered": 1, "service_level": 1.0}
    assert chengdu["agents_logged_in"] == 0
    assert (chengdu["waiting"], chengdu["longest_wait_s"]) == (2, 14.0)
    assert chengdu["today"]["offered"] == 2 and chengdu["today"]["service_level"] is None
    assert chengdu["status"] == "bad"  # callers with nobody to answer them
