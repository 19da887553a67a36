"""User accounts and the audit log, on a database session."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict, NotFound
from hotline.identity.audit import record as record_audit
from hotline.identity.passwords import (
    burn_verification,
    check_password,
    hash_password,
    verify_password,
)
from hotline.identity.roles import Role, validate_roles
from hotline.identity.sessions import revoke_user_sessions
from hotline.store.models.core import User


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    roles: list[str],
    display_name: str = "",
    agent_id: str | None = None,
    language: str = "zh-CN",
    actor: str = "system",
) -> User:
    """Create a user with an Argon2 password hash; refuse a duplicate username or weak password."""
    validate_roles(roles)
    check_password(password, username=username)
    if get_user(session, username=username) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        roles=list(roles),
        agent_id=agent_id,
        language=language,
        active=True,
    )
    session.add(user)
    record_audit(
        session, actor=actor, action="user.create", target=username, detail={"roles": roles}
    )
    session.flush()
    return user


def get_user(session: Session, *, username: str) -> User | None:
    """Return the user named ``username`` or ``None``."""
    return session.scalars(select(User).where(User.username == username)).first()


def team_lead_usernames(session: Session, *, agent_ids: Iterable[str]) -> list[str]:
    """The active accounts holding the team-lead role linked to one of ``agent_ids`` (the
    leads named by ``teams[].lead``), by username: whom a team's own alert is addressed to."""
    wanted = sorted(set(agent_ids))
    if not wanted:
        return []
    query = select(User).where(User.agent_id.in_(wanted), User.active.is_(True))
    # Roles are a JSON list, read the same way on SQLite and PostgreSQL: filtered here.
    return sorted(u.username for u in session.scalars(query) if Role.TEAM_LEAD in u.roles)


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """Return the active user whose password matches, else ``None``.

    Every attempt costs one Argon2 verification, whether or not the account exists, so the
    time of the answer does not tell which user names are real.
    """
    user = get_user(session, username=username)
    if user is None or not user.active:
        burn_verification(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return user


def set_roles(session: Session, *, username: str, roles: list[str], actor: str) -> User:
    """Replace a user's roles, recording who changed them."""
    validate_roles(roles)
    user = get_user(session, username=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    before = list(user.roles)
    user.roles = list(roles)
    record_audit(
        session,
        actor=actor,
        action="user.roles",
        target=username,
        detail={"before": before, "after": roles},
    )
    return user


def set_active(session: Session, *, username: str, active: bool, actor: str) -> User:
    """Deactivate or reactivate a user, recording who did it.

    An inactive user cannot sign in, and deactivating revokes every session they hold.
    """
    user = get_user(session, username=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    before = user.active
    user.active = active
    detail: dict[str, Any] = {"before": before, "after": active}
    if not active:
        detail["sessions_revoked"] = revoke_user_sessions(
            session, username=username, reason="deactivated", now=time.time()
        )
    record_audit(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        target=username,
        detail=detail,
    )
    return user


def set_password(
    session: Session,
    *,
    username: str,
    password: str,
    actor: str,
    keep_session: str | None = None,
) -> User:
    """Check ``password`` against the policy, hash it and :func:`set_password_hash`.

    For the command line. A web route hashes before its write transaction begins and calls
    :func:`set_password_hash`: an Argon2 hash takes a fifth of a second, and every other
    writer would wait behind it.
    """
    check_password(password, username=username)
    return set_password_hash(
        session,
        username=username,
        password_hash=hash_password(password),
        actor=actor,
        keep_session=keep_session,
    )


def set_password_hash(
    session: Session,
    *,
    username: str,
    password_hash: str,
    actor: str,
    keep_session: str | None = None,
) -> User:
    """Replace a user's password with a new Argon2 hash and revoke their sessions.

    The caller checked the password against the policy (:func:`check_password`) and hashed
    it (:func:`hash_password`); the password itself is never logged. A user changing their
    own password keeps the session they did it from (``keep_session``); every other session
    of theirs, e.g. on a stolen laptop, ends.
    """
    user = get_user(session, username=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    user.password_hash = password_hash
    revoked = revoke_user_sessions(
        session, username=username, reason="password", now=time.time(), keep=keep_session
    )
    action = "user.password_change" if actor == username else "user.password_reset"
    record_audit(
        session, actor=actor, action=action, target=username, detail={"sessions_revoked": revoked}
    )
    return user
