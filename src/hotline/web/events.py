"""Live event fan-out to browsers over WebSocket and Server-Sent Events.

One process holds a hub; the engine driver publishes, every connected screen receives.
Across several API nodes the hub is fed from PostgreSQL LISTEN/NOTIFY (DESIGN.md); in one
process it is an in-memory broadcast. A slow client never blocks the publisher: its queue is
bounded and the oldest events are dropped (a wallboard wants the newest state).

Every stream ends (DESIGN.md): when the server is told to stop, :meth:`EventHub.close` ends
every subscription at once, so an open wallboard or desk never holds a stopping server up.
"""

from __future__ import annotations

import asyncio
from typing import Any

QUEUE_LIMIT = 1000

#: Put in a subscriber's queue to end its subscription (the hub is closing).
_CLOSED: dict[str, Any] = {"type": "closed"}


class EventHub:
    """Broadcasts JSON-ready dicts to every subscriber."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the server's loop so other threads can publish safely."""
        self._loop = loop

    @property
    def subscriber_count(self) -> int:
        """How many screens are listening now."""
        return len(self._subscribers)

    @property
    def closed(self) -> bool:
        """Whether the hub was closed (the server is stopping)."""
        return self._closed

    def close(self) -> None:
        """End every subscription now and refuse new ones (call from the loop's thread).

        The server calls this as soon as it is told to stop, before it waits for open
        connections: a stream blocked waiting for the next event then ends at once.
        """
        self._closed = True
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(_CLOSED)

    def publish(self, message: dict[str, Any]) -> None:
        """Send ``message`` to every subscriber (call from the event loop's thread)."""
        if self._closed:
            return
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    def publish_threadsafe(self, message: dict[str, Any]) -> None:
        """Send ``message`` from any thread."""
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self.publish, message)

    def subscribe(self) -> Subscription:
        """A subscription to the messages published from now on, until the hub closes.

        It is registered at once, before the caller's first ``await``: a stream that resumes
        from the log subscribes first and reads the log afterwards, so every message published
        after the read started reaches it (and it drops what the log already gave). Iterate it
        with ``async for``; :meth:`Subscription.close` (or leaving its ``with`` block) ends it.
        """
        return Subscription(self, closed=self._closed)


class Subscription:
    """One screen's queue of messages from an :class:`EventHub` (see :meth:`EventHub.subscribe`)."""

    def __init__(self, hub: EventHub, *, closed: bool = False) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self._ended = closed
        if not closed:
            hub._subscribers.add(self._queue)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._ended:
            raise StopAsyncIteration
        try:
            message = await self._queue.get()
        except BaseException:
            self.close()
            raise
        if message is _CLOSED:
            self.close()
            raise StopAsyncIteration
        return message

    def close(self) -> None:
        """Stop receiving messages."""
        self._ended = True
        self._hub._subscribers.discard(self._queue)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
