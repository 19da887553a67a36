"""Live event fan-out to browsers over WebSocket and Server-Sent Events.

One process holds a hub; the engine driver publishes, every connected screen receives.
Across several API nodes the hub is fed from PostgreSQL LISTEN/NOTIFY (DESIGN.md); in one
process it is an in-memory broadcast. A slow client never blocks the publisher: its queue is
bounded and the oldest events are dropped (a wallboard wants the newest state).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

QUEUE_LIMIT = 1000


class EventHub:
    """Broadcasts JSON-ready dicts to every subscriber."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the server's loop so other threads can publish safely."""
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        """How many screens are listening now."""
        return len(self._subscribers)

    def publish(self, message: dict[str, Any]) -> None:
        """Send ``message`` to every subscriber (call from the event loop's thread)."""
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    def publish_threadsafe(self, message: dict[str, Any]) -> None:
        """Send ``message`` from any thread."""
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self.publish, message)

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        """Yield messages as they are published, until the caller stops iterating."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)
