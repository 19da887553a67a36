"""Demo traffic drives the live engine: callers arrive and abandon, agents answer and wrap up."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hotline.config.validate import load_center
from hotline.live.driver import LiveDriver
from hotline.live.traffic import DemoTraffic, QueueProfile, default_profile

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
HUMANS = ("a001", "a002", "a003", "a004", "a005")


def test_fast_traffic_produces_answers_abandons_dispositions_and_spares_humans() -> None:
    published: list[dict[str, Any]] = []
    # Seconds instead of minutes, for 2.5 s of real time: 2 calls a second per queue, 0.3 s
    # talks, and a mean patience of 10 ms on complaints, shorter than any ring (20-50 ms), so
    # most complaint callers abandon.
    profile = (
        QueueProfile("repair", 7200, 0.3, 30, ("repair_dispatched",)),
        QueueProfile("complaints", 7200, 0.3, 0.01, ("complaint_escalated",)),
    )

    async def scenario() -> tuple[LiveDriver, DemoTraffic]:
        driver = LiveDriver(
            center=load_center(SAMPLE), publish=published.append, honour_hours=False
        )
        traffic = DemoTraffic(
            driver,
            seed=3,
            human_agents=HUMANS,
            profile=profile,
            ring_delay_s=(0.02, 0.05),
            wrap_s=(0.02, 0.05),
        )
        await driver.start()
        await traffic.start()
        await asyncio.sleep(2.5)
        await traffic.stop()
        await driver.stop()
        return driver, traffic

    driver, traffic = asyncio.run(scenario())
    events = [m for m in published if m["type"] == "event"]
    kinds = Counter(e["kind"] for e in events)
    assert traffic.callers >= 5
    assert kinds["answered"] >= 3 and kinds["abandoned"] >= 1
    dispositions = {e["data"].get("disposition") for e in events if e["kind"] == "wrap_up_ended"}
    assert {"repair_dispatched"} <= dispositions
    assert not {e["agent_id"] for e in events if e["agent_id"]} & set(HUMANS)
    logged_in = {e["agent_id"] for e in events if e["kind"] == "agent_state"}
    assert len(logged_in) == 35
    assert driver.stats.conflicts == 0


def test_profile_covers_every_queue_and_rate_must_not_be_negative() -> None:
    center = load_center(SAMPLE)
    assert [p.queue for p in default_profile(center)] == [q.id for q in center.queues]
    with pytest.raises(ValueError, match="negative"):
        DemoTraffic(LiveDriver(center=center), rate=-1)
