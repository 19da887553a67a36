"""The audit log: who did what, when. Every change made through the API or CLI adds a row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.store.models.core import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry: ``actor`` did ``action`` (e.g. ``ticket.create``) to ``target``."""
    entry = AuditEntry(actor=actor, action=action, target=target, detail=detail or {})
    session.add(entry)
    return entry


def newest(session: Session, *, limit: int = 100, actor: str | None = None) -> list[AuditEntry]:
    """Return the newest audit entries first, optionally only those of one actor."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    return list(session.scalars(query))
