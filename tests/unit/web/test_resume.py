"""A resumed live stream: the log's events after the screen's position, then the live ones,
none missing and none twice; a position the log cannot continue gets a reload."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from hotline.core.events import Event, EventKind
from hotline.web import resume
from hotline.web.events import EventHub

DAY = 1_700_000_000.0


def event(seq: int, at: float = DAY + 60) -> Event:
    return Event(seq=seq, at=at, kind=EventKind.QUEUED, contact_id=f"c{seq}", queue="sales")


class Log:
    """The event log as a list; ``during_read`` runs while a read is in flight (the world
    goes on between the subscription and the read's answer)."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.during_read: Callable[[], None] | None = None
        self.reads = 0

    async def read(self, after: int, limit: int) -> tuple[list[Event], int]:
        self.reads += 1
        if self.during_read is not None:
            self.during_read()
            self.during_read = None
        await asyncio.sleep(0)
        found = [e for e in self.events if e.seq > after][:limit]
        return found, max((e.seq for e in self.events), default=0)


async def collect(
    hub: EventHub, log: Log, after: int | None, then: Callable[[], Coroutine[Any, Any, None]]
) -> list[tuple[int | None, dict[str, Any]]]:
    """Run one stream until ``then`` has published and the hub closed."""
    received: list[tuple[int | None, dict[str, Any]]] = []

    async def screen() -> None:
        async for item in resume.resumed(hub, after=after, read_log=log.read, day_start=DAY):
            received.append(item)

    task = asyncio.create_task(screen())
    await asyncio.sleep(0.01)
    await then()
    await asyncio.sleep(0.01)
    hub.close()
    await asyncio.wait_for(task, 5)
    return received


def seqs(received: list[tuple[int | None, dict[str, Any]]]) -> list[int]:
    return [m["seq"] for _, m in received if m.get("type") == "event"]


def test_backlog_then_live_without_a_hole_or_a_duplicate() -> None:
    """Events 3-5 are logged; 5 and 6 are published while the log is read (5 was already
    written): the screen at position 2 gets 3, 4, 5, 6 once each, in order."""
    log = Log([event(s) for s in range(1, 6)])
    hub = EventHub()

    def world_goes_on() -> None:
        hub.publish(event(5).live_message())
        log.events.append(event(6))
        hub.publish(event(6).live_message())

    log.during_read = world_goes_on

    async def later() -> None:
        hub.publish(event(6).live_message())  # a late echo is dropped too
        hub.publish({"type": "wallboard", "totals": {}})
        hub.publish(event(7).live_message())

    received = asyncio.run(collect(hub, log, 2, later))
    assert seqs(received) == [3, 4, 5, 6, 7]
    # Every message carries the position the screen resumes from next time.
    assert [p for p, _ in received] == [3, 4, 5, 6, 6, 7]
    assert received[4][1]["type"] == "wallboard"


def test_a_hole_in_the_live_messages_is_filled_from_the_log() -> None:
    """A slow screen's queue dropped events 2 and 3: they come from the log, before 4."""
    log = Log([event(s) for s in range(1, 5)])
    hub = EventHub()

    async def live() -> None:
        hub.publish(event(1).live_message())
        hub.publish(event(4).live_message())

    received = asyncio.run(collect(hub, log, None, live))
    assert seqs(received) == [1, 2, 3, 4]


def test_a_hole_the_log_never_fills_asks_for_a_reload(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resume, "HOLE_WAIT_S", 0.1)
    log = Log([event(1), event(4)])  # 2 and 3 were never written
    hub = EventHub()

    async def live() -> None:
        hub.publish(event(1).live_message())
        hub.publish(event(4).live_message())
        await asyncio.sleep(0.3)

    received = asyncio.run(collect(hub, log, None, live))
    assert seqs(received) == [1]
    assert received[-1][1]["type"] == "reload"
    assert "missing" in received[-1][1]["reason"]


@pytest.mark.parametrize(
    ("after", "logged", "limit", "reason"),
    [
        (9, [event(s) for s in range(1, 7)], 100, "ahead of the log"),
        (2, [event(1, DAY - 60), event(2, DAY - 30), event(3, DAY - 10)], 100, "earlier day"),
        (0, [event(s) for s in range(1, 30)], 10, "more than 10 events"),
        (1, [event(1), event(2), event(4)], 100, "no event 3"),
    ],
)
def test_a_position_the_log_cannot_continue_gets_a_reload(
    monkeypatch: pytest.MonkeyPatch, after: int, logged: list[Event], limit: int, reason: str
) -> None:
    monkeypatch.setattr(resume, "REPLAY_LIMIT", limit)
    hub = EventHub()

    async def nothing() -> None:
        hub.publish(event(99).live_message())  # the stream ended: not sent

    received = asyncio.run(collect(hub, Log(logged), after, nothing))
    assert len(received) == 1
    message = received[0][1]
    assert message["type"] == "reload" and reason in message["reason"]
    assert message["position"] == max(e.seq for e in logged)


def test_without_a_position_the_stream_starts_live() -> None:
    log = Log([event(s) for s in range(1, 4)])
    hub = EventHub()

    async def live() -> None:
        hub.publish(event(4).live_message())

    received = asyncio.run(collect(hub, log, None, live))
    assert seqs(received) == [4] and log.reads == 0


def test_the_subscription_counts_from_the_call_not_the_first_await() -> None:
    """Subscribing before reading the log is what makes resuming gap-free."""

    async def scenario() -> list[dict[str, Any]]:
        hub = EventHub()
        subscription = hub.subscribe()
        assert hub.subscriber_count == 1
        hub.publish({"type": "wallboard"})
        hub.close()
        received = [m async for m in subscription]
        assert hub.subscriber_count == 0
        return received

    assert asyncio.run(scenario()) == [{"type": "wallboard"}]
