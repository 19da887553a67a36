"""A live stream that resumes from the last event its screen saw.

Every event a screen receives carries its place in the live log (``seq``: the live driver
numbers on from the log across restarts and takeovers, so it only rises). A screen that lost
its connection — its web node restarted, a proxy sent it to another node — reconnects with
the last position it saw (``?after=N``, or SSE's ``Last-Event-ID``) and the server

1. subscribes to the hub *first*, so nothing published from then on is missed;
2. reads the log after the position and sends those events (:func:`check_backlog` refuses a
   position the log cannot continue: see below);
3. goes on with the live messages, dropping an event at or below the last one sent (the log
   already gave it) and filling a hole from the log (a slow screen's queue dropped events, or
   an event was published before the subscription but written after the read).

A screen gets ``{"type": "reload", "reason": …}`` instead when the log cannot continue its
view event by event: its position is ahead of the log (another database, a log replaced), the
first event after it is from an earlier day (screens show today, rebuilt from today's log), more
than :data:`REPLAY_LIMIT` events followed it, or the log lacks an event in between (never
written: an owner died before its batch committed). The page then loads its full view again.

A one-node server publishes each event at once and writes it a moment later (its batch): if it
is killed in between, its restart numbers on from the log's newest and so numbers those
positions again, with other events. A screen that saw them would resume past their
replacements. So every message also names the server's **run** (:class:`Run`, stamped with the
position), and a screen reconnecting names the run its position came from (``?run=``): a
position at or past the first one *this* run numbered, seen from another run, was published
by a run that ended before writing it — the screen reloads (:func:`check_run`). Nothing is
added on the live path (a field per message); a web node's positions are the log's committed
ones, so it has no run.

:class:`Cursor` is the pure rule; :func:`resumed` runs it against the hub and the log.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hotline.core.events import Event
from hotline.web.events import EventHub

#: The most events a resumed stream replays; a screen further behind reloads its full view.
REPLAY_LIMIT = 5000
#: How long a hole in the live messages may wait for the log to show the missing events (an
#: owner writes its batch a moment after a node publishes it) before the screen reloads.
HOLE_WAIT_S = 2.0
_HOLE_POLL_S = 0.05


@dataclass(frozen=True)
class Reload:
    """Why a screen must load its full view again instead of resuming."""

    reason: str

    def message(self, newest: int | None) -> dict[str, Any]:
        """The message that tells the screen (``position``: where its new view starts)."""
        return {"type": "reload", "reason": self.reason, "position": newest}


@dataclass(frozen=True)
class Run:
    """A run of the server that numbers the live events: its id and the first position it
    numbered (the log's newest at its start, plus one)."""

    id: str
    first: int


def check_run(after: int, seen_run: str | None, run: Run | None) -> Reload | None:
    """Whether a screen's position ``after``, seen from run ``seen_run``, may be resumed by
    this ``run``: not when it is at or past this run's first position and came from another
    run (that run published it and ended before writing it; this one numbered it again).

    >>> run = Run(id="b", first=11)
    >>> check_run(10, "a", run) is None, check_run(12, "b", run) is None
    (True, True)
    >>> check_run(11, "a", run).reason
    'position 11 was shown by a server run that ended before writing it: reload'
    >>> check_run(12, None, run) is None  # no run named: nothing to tell (see module)
    True
    """
    if run is None or seen_run is None or seen_run == run.id or after < run.first:
        return None
    return Reload(
        f"position {after} was shown by a server run that ended before writing it: reload"
    )


def check_backlog(
    after: int, events: Sequence[Event], *, newest: int, day_start: float, limit: int
) -> Reload | None:
    """Whether ``events`` (the log after ``after``, in order, at most ``limit + 1`` read)
    continue a screen's view with nothing missing; ``newest``: the log's last position.

    >>> from hotline.core.events import EventKind
    >>> def event(seq, at=100.0):
    ...     return Event(seq=seq, at=at, kind=EventKind.QUEUED, contact_id="c1")
    >>> check_backlog(4, [event(5), event(6)], newest=6, day_start=0.0, limit=10) is None
    True
    >>> check_backlog(4, [event(5), event(7)], newest=7, day_start=0.0, limit=10).reason
    'the log has no event 6 (never written): reload'
    >>> check_backlog(9, [], newest=6, day_start=0.0, limit=10).reason
    'position 9 is ahead of the log (newest 6): reload'
    """
    if after > newest:
        return Reload(f"position {after} is ahead of the log (newest {newest}): reload")
    if len(events) > limit:
        return Reload(f"more than {limit} events since position {after}: reload")
    if events and events[0].at < day_start:
        return Reload(f"position {after} is from an earlier day: reload")
    expected = after + 1
    for event in events:
        if event.seq != expected:
            return Reload(f"the log has no event {expected} (never written): reload")
        expected += 1
    return None


class Verdict(enum.Enum):
    """What a stream does with one live message."""

    NEW = "new"  # send it
    SEEN = "seen"  # an event the screen already has (from the log): drop it
    HOLE = "hole"  # an event after a hole: send the missing ones from the log first


class Cursor:
    """A stream's position: the last event it sent (``None``: none yet, nothing to resume).

    >>> cursor = Cursor(after=5)
    >>> [cursor.admit({"type": "event", "seq": s}).value for s in (4, 5, 6, 8)]
    ['seen', 'seen', 'new', 'hole']
    >>> cursor.position, cursor.admit({"type": "wallboard"}).value
    (6, 'new')
    """

    def __init__(self, after: int | None = None) -> None:
        self.position = after

    def admit(self, message: dict[str, Any]) -> Verdict:
        """Judge ``message``; an event that is new moves the position on."""
        seq = message.get("seq") if message.get("type") == "event" else None
        if not isinstance(seq, int):
            return Verdict.NEW
        if self.position is not None:
            if seq <= self.position:
                return Verdict.SEEN
            if seq > self.position + 1:
                return Verdict.HOLE
        self.position = seq
        return Verdict.NEW


#: Reads the log: ``(after, limit) -> (up to limit events after it, the log's newest position)``.
ReadLog = Callable[[int, int], Awaitable[tuple[list[Event], int]]]


async def resumed(
    hub: EventHub,
    *,
    after: int | None,
    read_log: ReadLog,
    day_start: float,
    before_read: Callable[[], Awaitable[None]] | None = None,
    seen_run: str | None = None,
    run: Run | None = None,
) -> AsyncGenerator[tuple[int | None, dict[str, Any]], None]:
    """The messages one screen receives, each with the stream's position after it.

    With ``after`` the log's events after it come first (or one reload message, and the
    stream ends), then the live messages without a duplicate or a hole. ``before_read`` runs
    after subscribing and before reading the log (the in-process driver writes the events it
    holds, so the read finds every event published before the subscription). ``seen_run``:
    the run the screen's position came from; ``run``: this server's (:func:`check_run`).
    """
    with hub.subscribe() as live:
        cursor = Cursor(after)
        if after is not None:
            if before_read is not None:
                await before_read()
            events, newest = await read_log(after, REPLAY_LIMIT + 1)
            problem = check_run(after, seen_run, run) or check_backlog(
                after, events, newest=newest, day_start=day_start, limit=REPLAY_LIMIT
            )
            if problem is not None:
                yield newest, problem.message(newest)
                return
            for event in events:
                cursor.admit({"type": "event", "seq": event.seq})
                yield cursor.position, event.live_message()
        async for message in live:
            verdict = cursor.admit(message)
            if verdict is Verdict.SEEN:
                continue
            if verdict is Verdict.HOLE:
                assert cursor.position is not None
                missing = await _fill(read_log, cursor.position, int(message["seq"]))
                if missing is None:
                    yield (
                        cursor.position,
                        Reload(
                            f"events after {cursor.position} are missing from the log: reload"
                        ).message(int(message["seq"])),
                    )
                    return
                for event in missing:
                    cursor.admit({"type": "event", "seq": event.seq})
                    yield cursor.position, event.live_message()
                cursor.admit(message)
            yield cursor.position, message


async def _fill(read_log: ReadLog, position: int, upto: int) -> list[Event] | None:
    """The logged events after ``position`` and before ``upto``, once the log has them all
    (waiting up to :data:`HOLE_WAIT_S` for a batch being written); ``None``: never came."""
    wanted = upto - position - 1
    if wanted > REPLAY_LIMIT:
        return None
    deadline = asyncio.get_running_loop().time() + HOLE_WAIT_S
    while True:
        events, _ = await read_log(position, wanted)
        events = [e for e in events if e.seq < upto]
        if [e.seq for e in events] == list(range(position + 1, upto)):
            return events
        if asyncio.get_running_loop().time() >= deadline:
            return None
        await asyncio.sleep(_HOLE_POLL_S)
