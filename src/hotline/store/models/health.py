"""The readiness probe's own row: ``/ready`` writes it to prove the database takes writes."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base


class ReadinessProbe(Base):
    """One row per server name, rewritten (and committed) by every readiness check.

    A read (``SELECT 1``) succeeds on a database that refuses every write — a full disk, a
    read-only file system, a lost write lock — while logins and the event log fail; only a
    committed write shows that serving can go on.
    """

    __tablename__ = "readiness_probes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    checked_at: Mapped[float] = mapped_column(Float)
