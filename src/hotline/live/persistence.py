"""The live driver's persistence: the contact event log and what it tells after a restart.

The engine task must never wait for a disk. Every event the live engine (or the voice driver
beside it) produces is numbered in this run's one sequence and kept in memory by the log's
one writer (``store.event_log.EventLogWriter``, source ``live``); a background task writes
them in small batches from a worker thread, and a batch that fails stays for the next try,
ahead of newer events. Past :data:`MAX_PENDING_EVENTS` waiting events the oldest are dropped
and counted.

The same log is what a restart starts from: contacts a crash or a stop left open and agents
still signed in are closed (:mod:`hotline.live.recovery`: outcome ``interrupted``), and today's
events rebuild the wallboard's figures.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.clock import Clock
from hotline.core.events import Event, EventKind
from hotline.live import recovery
from hotline.live.stats import DriverStats
from hotline.store import event_log
from hotline.store.event_log import EventLogWriter
from hotline.store.partitions import Fenced

log = logging.getLogger(__name__)

#: Events kept in memory waiting for the database before the oldest are dropped (and counted).
MAX_PENDING_EVENTS = 200_000


class EventLogPersistence:
    """Numbers the live events, writes them to the database off the event loop, recovers.

    Without a ``session_factory`` (a unit test, a dry run) nothing keeps the events.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        stats: DriverStats,
        session_factory: sessionmaker[Session] | None = None,
        max_pending: int = MAX_PENDING_EVENTS,
    ) -> None:
        self.clock = clock
        self.stats = stats
        self.session_factory = session_factory
        self._writer = EventLogWriter(source="live", max_pending=max_pending)
        self._seq = itertools.count(1)
        self.first_seq = 1
        #: A partition owner's check, run first in every write transaction
        #: (``before(session, batch, inbox_position)``, see ``store.partitions.fence``).
        self.before_write: Callable[[Session, Sequence[Event], int], None] | None = None
        #: Set when the database refused a write: this node no longer owns its partition.
        self.fenced: Fenced | None = None

    def set_mark(self, position: int) -> None:
        """Note that the events numbered so far cover the owner's inbox up to ``position``."""
        self._writer.set_mark(position)

    def continue_after(self, seq: int) -> None:
        """Number this run's events after ``seq`` (a takeover continues the log's numbering)."""
        self._seq = itertools.count(seq + 1)
        #: The first position this run numbers: a screen that saw a position at or past it
        #: from another run saw an event that run never wrote (see ``hotline.web.resume``).
        self.first_seq = seq + 1

    def continue_after_log(self) -> None:
        """Number this run's events after the log's newest (blocking: call it in a thread).

        ``seq`` then rises across restarts too: it is the position a screen that lost its
        connection resumes from, so a restart must not number from 1 again.
        """
        assert self.session_factory is not None
        with self.session_factory() as session:
            self.continue_after(event_log.last_seq(session))

    @property
    def pending(self) -> int:
        """Events waiting for the database."""
        return self._writer.pending

    def number(self, events: Sequence[Event]) -> list[Event]:
        """Number events in this log's one sequence and keep them for the database.

        The engine numbers its events, the voice driver its own, and a new configuration
        starts a new engine: the log renumbers them all, so ``(at, seq)`` orders it.
        """
        numbered = [event.renumbered(next(self._seq)) for event in events]
        self.stats.events += len(numbered)
        self.stats.events_dropped += self._writer.add(numbered)
        return numbered

    async def flush(self) -> None:
        """Write the events waiting for the database (in a worker thread)."""
        if self.session_factory is None:
            self._writer.discard()
            return
        if not self._writer.pending and self.before_write is None:
            return
        try:
            written = await asyncio.to_thread(self._write, self.session_factory)
        except Fenced as refused:
            self.stats.write_failures += 1
            self.fenced = refused
            log.error("live routing: %s", refused)
            return
        except Exception:
            # The writer keeps the batch for the next try, ahead of newer events.
            self.stats.write_failures += 1
            log.exception(
                "live routing: writing %d events to the event log failed", self._writer.pending
            )
            return
        self.stats.events_written += written

    def _write(self, session_factory: sessionmaker[Session]) -> int:
        started = self.clock.now()
        written = self._writer.flush(session_factory, before=self.before_write)
        self.stats.last_write_s = [*self.stats.last_write_s[-9:], self.clock.now() - started]
        return written

    def recover(self, reason: str) -> None:
        """Close in the log what it shows in progress (blocking: call it in a thread)."""
        assert self.session_factory is not None
        first_seq = next(self._seq)
        # Nothing to close takes no number: the log's positions have no holes.
        self._seq = itertools.count(first_seq)
        events = recovery.recover(
            self.session_factory,
            now=self.clock.now(),
            reason=reason,
            first_seq=first_seq,
        )
        if events:
            # Keep this run's sequence ahead of the numbers the closing events took.
            self._seq = itertools.count(events[-1].seq + 1)
            self.stats.recovered += sum(e.kind is EventKind.FINISHED for e in events)
            self.stats.events += len(events)
            self.stats.events_written += len(events)
            log.warning(
                "live routing: closed %d contacts and %d agents left in progress (%s)",
                sum(e.kind is EventKind.FINISHED for e in events),
                sum(e.kind is EventKind.AGENT_STATE for e in events),
                reason,
            )

    def events_since(self, since: float) -> list[Event]:
        """The logged events from ``since`` on (blocking: call it in a thread)."""
        assert self.session_factory is not None
        return recovery.events_since(self.session_factory, since=since)
