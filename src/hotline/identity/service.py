"""User accounts and the audit log, on a database session."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict, NotFound
from hotline.identity.audit import record as record_audit
from hotline.identity.passwords import hash_password, verify_password
from hotline.identity.roles import validate_roles
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
    """Create a user with an Argon2 password hash; refuse a duplicate username."""
    validate_roles(roles)
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


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """Return the active user whose password matches, else ``None``."""
    user = get_user(session, username=username)
    if user is None or not user.active or not verify_password(user.password_hash, password):
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

    An inactive user cannot sign in, and every request carrying one of their tokens is refused
    (the web layer checks ``active`` on each request), so deactivating ends their sessions.
    """
    user = get_user(session, username=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    before = user.active
    user.active = active
    record_audit(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        target=username,
        detail={"before": before, "after": active},
    )
    return user


def set_password(session: Session, *, username: str, password: str, actor: str) -> User:
    """Replace a user's password with a new Argon2 hash (the password itself is never logged)."""
    user = get_user(session, username=username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    user.password_hash = hash_password(password)
    record_audit(session, actor=actor, action="user.password_reset", target=username)
    return user
