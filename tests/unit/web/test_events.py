"""The live event hub: every subscription ends when the hub closes (the server stops)."""

from __future__ import annotations

import asyncio
from typing import Any

from hotline.web.events import EventHub


def test_closing_the_hub_ends_streams_waiting_for_the_next_event() -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        hub = EventHub()
        received: list[dict[str, Any]] = []

        async def screen() -> None:
            async for message in hub.subscribe():
                received.append(message)

        task = asyncio.create_task(screen())
        await asyncio.sleep(0)
        hub.publish({"type": "wallboard", "n": 1})
        await asyncio.sleep(0)
        hub.close()
        # A stream blocked on the next event ends at once, not when its client goes away.
        await asyncio.wait_for(task, timeout=1.0)
        late: list[dict[str, Any]] = [m async for m in hub.subscribe()]
        return received, late

    received, late = asyncio.run(scenario())
    assert received == [{"type": "wallboard", "n": 1}]
    assert late == []  # a screen connecting while the server stops gets nothing, and ends
