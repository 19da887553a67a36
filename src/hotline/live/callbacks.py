"""Reading the call backs promised and not yet fired from the contact event log.

See :mod:`hotline.live.promises` for how a promise is kept in the log and when it counts as
fired; a new owner (:mod:`hotline.live.takeover`), a one-node restart (the live driver) and a
web node's log tail read them here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.events import Event, EventKind
from hotline.live.promises import entry_of, unfired
from hotline.store.event_log import EVENT_COLUMNS, event_of
from hotline.store.models.core import ContactEventRow

#: How far back a restart or a takeover looks for promises not yet fired (a desk promises at
#: most seven days ahead; one a week overdue is still fired, one older is not looked for).
LOOKBACK_S = 14 * 24 * 3600.0


def pending_events(session: Session, *, now: float, source: str = "live") -> list[Event]:
    """The ``callback_promised`` events in the log whose call back has not arrived."""
    rows = session.execute(
        select(*EVENT_COLUMNS)
        .where(
            ContactEventRow.source == source,
            ContactEventRow.kind == EventKind.CALLBACK_PROMISED.value,
            ContactEventRow.at >= now - LOOKBACK_S,
        )
        .order_by(ContactEventRow.seq)
    ).all()
    promises = [event_of(row) for row in rows]
    ids = [str(e.data.get("callback_id")) for e in promises]
    if not ids:
        return []
    fired = session.scalars(
        select(ContactEventRow.contact_id)
        .where(ContactEventRow.source == source, ContactEventRow.contact_id.in_(ids))
        .distinct()
    ).all()
    return unfired(promises, [str(c) for c in fired])


def read_pending(
    session: Session, *, now: float, source: str = "live"
) -> list[tuple[dict[str, Any], Any]]:
    """The promises in the log whose call back has not arrived: ``(entry, case_id)`` each."""
    return [
        (entry_of(e), e.data.get("case_id"))
        for e in pending_events(session, now=now, source=source)
    ]
