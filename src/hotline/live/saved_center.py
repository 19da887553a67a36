"""A center configuration saved on any node reaches the partition's owner and every web node.

An administrator may save the center file on a web node (``hotline serve --web-only``),
which has no routing engine. The saved text goes into the partition's inbox (kind
``center``, in the request's transaction with its audit entry): the inbox is already the one
durable, ordered path from any node to the owner, so the save is *accepted* when it commits,
survives the owner's death, and is applied in order with the desks' actions around it. The
owner checks the text again (the same rules), hands it to its live driver (each queue and agent
switches at its own safe point, :meth:`hotline.live.driver.LiveDriver.reconfigure`) and logs
a ``configured`` event naming the inbox row. Web nodes follow the log already (LISTEN and a
50 ms poll), so each one picks the new configuration up from that event — after the owner
took it up, and without a restart; one starting later, and a new owner taking over, read the
log's newest ``configured`` event (as they read the crisis switch).

The text stays in its inbox row rather than in the event: events go to every screen, a
center file can be large, and the row is already there.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.config.validate import check_text
from hotline.core.events import Event, EventKind
from hotline.store import event_log
from hotline.store.models.cluster import PartitionInboxRow

#: The inbox kind carrying a saved center configuration's text.
INBOX_KIND = "center"
#: The name a saved configuration is checked under (as the admin page's).
SAVED_NAME = "center.yaml"


class BadCenterRow(ValueError):
    """An inbox row whose configuration text is missing or no longer passes the check."""


def payload(text: str, *, by: str) -> dict[str, Any]:
    """The inbox row's payload for a checked configuration ``text`` saved by ``by``.

    >>> sorted(payload("center: {}", by="root"))
    ['by', 'text', 'version']
    """
    return {"text": text, "by": by, "version": version_of(text)}


def version_of(text: str) -> str:
    """A short fingerprint of a configuration text (the same text, the same version).

    >>> version_of("a") == version_of("a") != version_of("b")
    True
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def center_of(row: PartitionInboxRow) -> CenterConfig:
    """The configuration an inbox ``center`` row carries, checked by the validator's rules;
    :class:`BadCenterRow` naming the row and the first problem when it does not pass."""
    text = row.payload.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadCenterRow(f"inbox row {row.id} (center): no configuration text")
    result = check_text(text, file=SAVED_NAME)
    if not result.ok or result.config is None:
        first = result.errors[0] if result.errors else "no configuration"
        raise BadCenterRow(f"inbox row {row.id} (center): {first}")
    return result.config


def configured_event(row: PartitionInboxRow, *, at: float) -> Event:
    """The ``configured`` event the owner logs on taking up ``row``'s configuration
    (numbered 0: the log numbers it)."""
    data = {
        "inbox_id": int(row.id),
        "version": str(row.payload.get("version") or version_of(str(row.payload["text"]))),
        "by": str(row.payload.get("by") or ""),
    }
    return Event(0, at, EventKind.CONFIGURED, data=data)


def of_event(session: Session, event: Event) -> tuple[CenterConfig, str] | None:
    """The configuration a ``configured`` event names and its text (its inbox row's), or
    ``None`` when that row is gone or its text no longer passes the check."""
    row = session.get(PartitionInboxRow, int(event.data.get("inbox_id", 0)))
    if row is None:
        return None
    try:
        return center_of(row), str(row.payload["text"])
    except BadCenterRow:
        return None


def newest(session: Session) -> tuple[CenterConfig, str] | None:
    """The configuration the log's newest ``configured`` event names, and its text
    (``None``: the log has none, and the node's own file is in force)."""
    event = event_log.latest_of(session, EventKind.CONFIGURED)
    return None if event is None else of_event(session, event)
