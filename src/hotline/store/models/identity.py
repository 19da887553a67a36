"""Sign-in state: server-side sessions and the failed-login counters that throttle guessing.

A bearer token or session cookie names one row of ``auth_sessions``; signing out, a password
change or reset, and deactivating the user revoke the row, so the token stops working at once
instead of living out its expiry. ``login_failures`` keeps, per account and per client address,
how many wrong passwords came in a row and until when further attempts are refused; it lives in
the database so a restart does not hand an attacker a fresh budget.
"""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base


class AuthSession(Base):
    """One signed-in session: who, from where, until when, and whether it was revoked."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_username", "username"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_reason: Mapped[str] = mapped_column(String(32), default="")


class LoginFailures(Base):
    """Wrong passwords in a row for one key (``account:<name>`` or ``address:<ip>``)."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[float] = mapped_column(Float, default=0.0)
    locked_until: Mapped[float] = mapped_column(Float, default=0.0)
