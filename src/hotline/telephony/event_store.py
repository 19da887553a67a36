"""The voice server's contact event log in the database, and its recordings kept with the contact.

:class:`DatabaseSink` is an :class:`~hotline.telephony.ports.EventSink` that buffers the
driver's events and writes them in one transaction per :meth:`DatabaseSink.flush` through the
contact event log's one writer, :class:`hotline.store.event_log.EventLogWriter`
(``source="live"``), so METRICS figures — CSAT from
``survey_answered``, ``hotline report kpis`` — see voice calls like any other contact.
Each ``recording_stopped`` event that carries a WAV path also becomes a row of
``recordings`` (:class:`hotline.store.models.telephony.Recording`) for the API to list and
stream. The server flushes once a second (its tick) and on shutdown: batching keeps the
database round trips off the per-event path of live calls.

>>> from hotline.store.db import make_engine, make_session_factory
>>> from hotline.store.migrate import upgrade
>>> engine = make_engine("sqlite://")
>>> upgrade(engine)
>>> sink = DatabaseSink(make_session_factory(engine))
>>> from hotline.core.events import Event, EventKind
>>> sink.append(Event(seq=1, at=0.0, kind=EventKind.ARRIVED, contact_id="v-1"))
>>> sink.flush()
1
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event
from hotline.store.event_log import EventLogWriter, recording_rows
from hotline.telephony.ports import EventSink

log = logging.getLogger(__name__)

__all__ = ["DatabaseSink", "TeeSink", "recording_rows"]


class DatabaseSink:
    """An :class:`~hotline.telephony.ports.EventSink` over the contact event log's writer.

    The buffering, ordering and batch writes are :class:`hotline.store.event_log.EventLogWriter`'s
    (the live routing driver writes through the same class); this adapter adds the voice
    server's policy: a failed write is logged and retried at the next tick, never raised into
    the call handling.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        source: str = "live",
        before: Callable[[Session, Sequence[Event], int], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.source = source
        #: Run first in each write transaction (a voice node's heartbeat and legs).
        self.before = before
        self.log = EventLogWriter(source=source)
        self.written = 0

    def append(self, event: Event) -> None:
        """Queue one event for the next flush."""
        self.log.add((event,))

    def flush(self) -> int:
        """Write the queued events in one transaction; return how many were written.

        On a database error the events stay queued and the next flush tries again (the
        JSON-lines log beside it has them already), so a database restart loses nothing.
        """
        try:
            written = self.log.flush(self.session_factory, before=self.before)
        except Exception:
            log.exception("contact event log: database write failed; retrying next flush")
            return 0
        self.written += written
        return written

    def close(self) -> None:
        """Write what is left."""
        self.flush()


class TeeSink:
    """Appends every event to several sinks (the JSON-lines file and the database)."""

    def __init__(self, sinks: Sequence[EventSink]) -> None:
        self.sinks = tuple(sinks)

    def append(self, event: Event) -> None:
        """Append ``event`` to each sink in turn."""
        for sink in self.sinks:
            sink.append(event)
