"""Appending to the contact event log (``contact_events``): the one write path for every driver.

Rows are only ever inserted; the database refuses updates and deletes (see the foundation
migration). ``source`` tells live traffic from a simulation run or a replay.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from hotline.core.events import Event
from hotline.store.models.core import ContactEventRow


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
