"""Appending to the contact event log (``contact_events``): the one write path for every driver.

Rows are only ever inserted; the database refuses updates and deletes (see the foundation
migration). ``source`` tells live traffic from a simulation run or a replay. Finished call
recordings among the events become rows of ``recordings`` (:func:`recording_rows`).

A running driver (the live routing driver, the standalone voice server) does not write each
event as it happens: it hands them to an :class:`EventLogWriter`, which keeps them in order and
writes everything waiting in one short transaction per :meth:`EventLogWriter.flush`, queued with
the process's other writers (:func:`hotline.store.db.writing`), so database round trips stay off
the per-event path of live contacts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind
from hotline.store.db import writing
from hotline.store.models.core import ContactEventRow
from hotline.store.models.telephony import Recording


def append(session: Session, events: Iterable[Event], *, source: str = "live") -> int:
    """Insert ``events`` in order in one statement; return how many were written.

    >>> # append(session, engine_events, source="live")
    """
    rows = [
        {
            "source": source,
            "seq": event.seq,
            "at": event.at,
            "kind": event.kind.value,
            "contact_id": event.contact_id,
            "agent_id": event.agent_id,
            "queue": event.queue,
            "channel": event.channel.value if event.channel else None,
            "data": dict(event.data),
        }
        for event in events
    ]
    if rows:
        session.execute(insert(ContactEventRow), rows)
    return len(rows)


def event_of(row: Any) -> Event:
    """The :class:`Event` a ``contact_events`` row (or a row read with its columns) holds; a
    channel this version does not know reads as ``None``."""
    return Event(
        seq=row.seq,
        at=row.at,
        kind=EventKind(row.kind),
        contact_id=row.contact_id,
        agent_id=row.agent_id,
        queue=row.queue,
        channel=Channel(row.channel) if row.channel in _CHANNELS else None,
        data=row.data or {},
    )


_CHANNELS = frozenset(c.value for c in Channel)

#: The ``contact_events`` columns an :class:`Event` is read from (:func:`event_of`).
EVENT_COLUMNS = (
    ContactEventRow.seq,
    ContactEventRow.at,
    ContactEventRow.kind,
    ContactEventRow.contact_id,
    ContactEventRow.agent_id,
    ContactEventRow.queue,
    ContactEventRow.channel,
    ContactEventRow.data,
)


def last_seq(session: Session, *, source: str = "live") -> int:
    """The newest position in ``source``'s log (0 when it is empty).

    A driver starting on a log numbers its events after it, so ``seq`` keeps rising across
    restarts and takeovers: it is the position a screen resumes from.
    """
    newest = session.scalar(
        select(func.max(ContactEventRow.seq)).where(ContactEventRow.source == source)
    )
    return int(newest or 0)


def latest_agent_state(session: Session, agent_id: str, *, source: str = "live") -> str | None:
    """The state ``source``'s log last showed for ``agent_id`` (``None``: never signed in)."""
    data = session.scalar(
        select(ContactEventRow.data)
        .where(
            ContactEventRow.source == source,
            ContactEventRow.kind == EventKind.AGENT_STATE.value,
            ContactEventRow.agent_id == agent_id,
        )
        .order_by(ContactEventRow.id.desc())
        .limit(1)
    )
    return None if data is None else str(data.get("state"))


def latest_agent_event(session: Session, agent_id: str, *, source: str = "live") -> Event | None:
    """The newest ``agent_state`` event of ``agent_id`` in ``source``'s log, if any."""
    row = session.execute(
        select(*EVENT_COLUMNS)
        .where(
            ContactEventRow.source == source,
            ContactEventRow.kind == EventKind.AGENT_STATE.value,
            ContactEventRow.agent_id == agent_id,
        )
        .order_by(ContactEventRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else event_of(row)


def latest_of(session: Session, kind: EventKind, *, source: str = "live") -> Event | None:
    """The newest event of ``kind`` in ``source``'s log (the crisis switch in force), if any."""
    row = session.execute(
        select(*EVENT_COLUMNS)
        .where(ContactEventRow.source == source, ContactEventRow.kind == kind.value)
        .order_by(ContactEventRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else event_of(row)


def events_after(session: Session, *, after: int, limit: int, source: str = "live") -> list[Event]:
    """Up to ``limit`` events of ``source``'s log after position ``after``, in order."""
    rows = session.execute(
        select(*EVENT_COLUMNS)
        .where(ContactEventRow.source == source, ContactEventRow.seq > after)
        .order_by(ContactEventRow.seq)
        .limit(limit)
    ).all()
    return [event_of(row) for row in rows]


def recording_rows(events: Iterable[Event]) -> list[Recording]:
    """The ``recordings`` rows for the finished recordings among ``events``.

    A ``recording_stopped`` event without a path (the capture could not be decoded: its
    data holds ``error``) stores nothing: there is no audio to play back.
    """
    rows = []
    for event in events:
        if event.kind is not EventKind.RECORDING_STOPPED or event.contact_id is None:
            continue
        path = event.data.get("path")
        if not path:
            continue
        channels: list[Any] = list(event.data.get("channels") or [])
        rows.append(
            Recording(
                contact_id=event.contact_id,
                agent_id=event.agent_id,
                queue=event.queue,
                path=str(path),
                media_type="audio/wav",
                seconds=float(event.data.get("seconds") or 0.0),
                channels=channels,
                recorded_at=event.at,
                kind=str(event.data.get("kind") or "conversation"),
            )
        )
    return rows


class EventLogWriter:
    """The contact events a running driver has not written yet, written in batches.

    :meth:`add` keeps events in arrival order (dropping the oldest beyond ``max_pending``, so a
    database down for hours cannot exhaust memory); :meth:`flush` writes all of them, and
    their finished recordings, in one transaction queued at the database's writer gate. A
    failed write keeps the batch, ahead of newer events, for the next flush: the log stays in
    order and a database restart loses nothing. :meth:`add` and :meth:`flush` may run on
    different threads (the live driver adds on its event loop and flushes in a worker thread).

    >>> from hotline.store.db import make_engine, make_session_factory
    >>> from hotline.store.migrate import upgrade
    >>> engine = make_engine("sqlite://")
    >>> upgrade(engine)
    >>> writer = EventLogWriter(source="live")
    >>> writer.add([Event(seq=1, at=0.0, kind=EventKind.ARRIVED, contact_id="v-1")])
    0
    >>> writer.flush(make_session_factory(engine)), writer.pending
    (1, 0)
    """

    def __init__(self, *, source: str = "live", max_pending: int | None = None) -> None:
        self.source = source
        self.max_pending = max_pending
        self._pending: list[Event] = []
        self._lock = threading.Lock()
        #: How far the producer's input had been applied when the last events were added
        #: (a partition owner's inbox position); written with the batch by ``before``.
        self._mark = 0
        self._written_mark = 0
        # One flush at a time, start to commit: two batches taken in order must also commit in
        # order (the log's order, and an owner's inbox position that never goes back).
        self._flushing = threading.Lock()

    def set_mark(self, mark: int) -> None:
        """Note that the events added so far cover the input up to ``mark``."""
        with self._lock:
            self._mark = max(self._mark, mark)

    @property
    def pending(self) -> int:
        """How many events wait for the next flush."""
        return len(self._pending)

    def add(self, events: Iterable[Event]) -> int:
        """Keep ``events`` for the next flush; return how many of the oldest were dropped."""
        with self._lock:
            self._pending.extend(events)
            if self.max_pending is None or len(self._pending) <= self.max_pending:
                return 0
            dropped = len(self._pending) - self.max_pending
            del self._pending[:dropped]
            return dropped

    def discard(self) -> int:
        """Forget the waiting events (a driver without a database); return how many."""
        with self._lock:
            count = len(self._pending)
            self._pending = []
            return count

    def flush(
        self,
        session_factory: sessionmaker[Session],
        *,
        before: Callable[[Session, Sequence[Event], int], None] | None = None,
    ) -> int:
        """Write every waiting event in one transaction; return how many were written.

        ``before(session, batch, mark)`` runs first in the same transaction (a partition
        owner's fencing check, which also records the mark); when it raises, nothing is
        written. On an error the events are kept for the next flush and the error is raised.
        Flushes from several threads take turns.
        """
        with self._flushing:
            return self._flush(session_factory, before)

    def _flush(
        self,
        session_factory: sessionmaker[Session],
        before: Callable[[Session, Sequence[Event], int], None] | None,
    ) -> int:
        with self._lock:
            batch, self._pending = self._pending, []
            mark = self._mark
        if not batch and (before is None or mark == self._written_mark):
            return 0
        try:
            # One short transaction per batch, queued with the process's other writers (not
            # polling for SQLite's lock beside them): every event since the last flush.
            with writing(session_factory()) as session:
                if before is not None:
                    before(session, batch, mark)
                written = append(session, batch, source=self.source)
                session.add_all(recording_rows(batch))  # call recordings, kept per contact
                session.commit()
        except BaseException:
            with self._lock:
                self._pending[:0] = batch
            raise
        self._written_mark = mark
        return written
