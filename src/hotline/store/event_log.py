"""Appending to the contact event log (``contact_events``): the one write path for every driver.

Rows are only ever inserted; the database refuses updates and deletes (see the foundation
migration). ``source`` tells live traffic from a simulation run or a replay. Finished call
recordings among the events become rows of ``recordings`` (:func:`recording_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from hotline.core.events import Event, EventKind
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
