"""Server-side sign-in sessions and the persisted login-failure counters, on a database session.

Every token names a session row; a request is served only while that row is unrevoked and
unexpired. Signing out revokes one session; a password change or reset and deactivating the
user revoke all of that user's sessions.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hotline.identity.throttle import ThrottlePolicy
from hotline.store.models.core import User
from hotline.store.models.identity import AuthSession, LoginFailures


def start_session(
    session: Session, *, username: str, now: float, ttl_s: float, address: str = ""
) -> AuthSession:
    """Open a new session for ``username`` (and drop that user's long-expired ones)."""
    session.execute(
        delete(AuthSession).where(
            AuthSession.username == username, AuthSession.expires_at < now - 86400
        )
    )
    row = AuthSession(
        id=secrets.token_urlsafe(24),
        username=username,
        created_at=now,
        expires_at=now + ttl_s,
        address=address[:64],
        revoked_at=None,
        revoked_reason="",
    )
    session.add(row)
    session.flush()
    return row


def live_session(
    session: Session, *, session_id: str, username: str, now: float
) -> AuthSession | None:
    """The session ``session_id`` of ``username`` if it is neither revoked nor expired."""
    row = session.get(AuthSession, session_id)
    if row is None or row.username != username or row.revoked_at is not None:
        return None
    if row.expires_at <= now:
        return None
    return row


def live_account(session: Session, *, session_id: str, username: str, now: float) -> User | None:
    """The active user ``username`` if their session ``session_id`` is live, in one query.

    Every authenticated request asks this, so it is one round trip to the database (the
    session row joined to its user), not one for the session and another for the user: on
    PostgreSQL each round trip is a network wait on a worker thread.
    """
    query = (
        select(User)
        .join(AuthSession, AuthSession.username == User.username)
        .where(
            AuthSession.id == session_id,
            AuthSession.username == username,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
            User.username == username,
            User.active.is_(True),
        )
    )
    return session.scalars(query).first()


def revoke_session(session: Session, *, session_id: str, reason: str, now: float) -> bool:
    """Revoke one session; True when it was live."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason[:32])
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_user_sessions(
    session: Session, *, username: str, reason: str, now: float, keep: str | None = None
) -> int:
    """Revoke every live session of ``username`` except ``keep``; return how many."""
    query = update(AuthSession).where(
        AuthSession.username == username, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    result = session.execute(query.values(revoked_at=now, revoked_reason=reason[:32]))
    return int(getattr(result, "rowcount", 0))


def refused_until(session: Session, *, keys: list[str], now: float) -> float:
    """The latest time until which any of ``keys`` is locked out (0 when none is)."""
    until = session.scalars(
        select(LoginFailures.locked_until).where(
            LoginFailures.key.in_(keys), LoginFailures.locked_until > now
        )
    ).all()
    return max(until, default=0.0)


def record_failure(session: Session, *, key: str, policy: ThrottlePolicy, now: float) -> float:
    """Count one more wrong password for ``key``; return the lockout it starts (0 if none).

    Streaks forgotten by now are deleted on the way, so guessing random user names cannot
    grow the table beyond what the last hour brought.
    """
    session.execute(
        delete(LoginFailures).where(
            LoginFailures.key != key,
            LoginFailures.last_failure_at < now - policy.forget_after_s,
            LoginFailures.locked_until < now,
        )
    )
    row = session.get(LoginFailures, key)
    if row is None:
        row = LoginFailures(key=key, failures=0, last_failure_at=0.0, locked_until=0.0)
        session.add(row)
    row.failures = policy.failures_after(
        failures=row.failures, last_failure_at=row.last_failure_at, now=now
    )
    row.last_failure_at = now
    lockout = policy.lockout_s(row.failures)
    if lockout:
        row.locked_until = now + lockout
    return lockout


def clear_failures(session: Session, *, key: str) -> None:
    """Forget the wrong passwords counted for ``key`` (after a successful sign-in)."""
    session.execute(delete(LoginFailures).where(LoginFailures.key == key))
