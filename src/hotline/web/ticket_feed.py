"""Ticket changes on the live feed: screens showing tickets learn when one changed.

Every change of a ticket appends to its history (``tickets.service``), which notes the
ticket's id in the session (:data:`hotline.tickets.service.CHANGED`). When that session
commits, this module publishes one ``{"type": "tickets_changed", "ids": [...]}`` message on
the app's :class:`~hotline.web.events.EventHub`, whatever path made the change (the API,
the desk, the provider portal, the SLA sweep); a rolled-back change announces nothing.
The message names tickets only, no content, so it carries no personal data; a work queue or
ticket page that shows one of the ids reloads it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from hotline.tickets.service import CHANGED
from hotline.web.events import EventHub


def announce_ticket_changes(factory: sessionmaker[Session], hub: EventHub) -> None:
    """Publish the ids of the tickets each committed session of ``factory`` changed."""

    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        changed: set[int] = session.info.pop(CHANGED, set())
        # A factory outlives an app in tests and tools: a stopped app's hub stays quiet.
        if changed and not hub.closed:
            message: dict[str, Any] = {"type": "tickets_changed", "ids": sorted(changed)}
            with contextlib.suppress(RuntimeError):  # the server's loop already closed
                hub.publish_threadsafe(message)

    @event.listens_for(factory, "after_soft_rollback")
    def _rolled_back(session: Session, _previous: Any) -> None:
        if not session.in_transaction():
            session.info.pop(CHANGED, None)
