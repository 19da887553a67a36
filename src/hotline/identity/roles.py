"""The roles people hold in a contact center, and which of them see what.

Every API route names the roles that may call it; ``admin`` may call everything.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A role held by a user; a user may hold several."""

    ADMIN = "admin"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    TEAM_LEAD = "team_lead"
    QA = "qa"
    WFM = "wfm"
    AGENT = "agent"


ALL_ROLES: tuple[str, ...] = tuple(r.value for r in Role)

# Roles that may see personal data (customer phone numbers, addresses) and recordings unmasked.
PERSONAL_DATA_ROLES: frozenset[str] = frozenset(
    {Role.ADMIN, Role.MANAGER, Role.SUPERVISOR, Role.TEAM_LEAD, Role.QA, Role.AGENT}
)
RECORDING_ROLES: frozenset[str] = frozenset({Role.ADMIN, Role.MANAGER, Role.SUPERVISOR, Role.QA})


def validate_roles(roles: list[str]) -> list[str]:
    """Return ``roles`` if every one is known, else raise ``ValueError`` naming the bad one."""
    unknown = [r for r in roles if r not in ALL_ROLES]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r}; known roles: {', '.join(ALL_ROLES)}")
    if not roles:
        raise ValueError("a user needs at least one role")
    return roles


def allowed(user_roles: list[str] | tuple[str, ...], required: tuple[str, ...]) -> bool:
    """True when the user holds ``admin`` or any of ``required``.

    >>> allowed(["agent"], ("supervisor", "manager"))
    False
    >>> allowed(["admin"], ("supervisor",))
    True
    """
    held = set(user_roles)
    return Role.ADMIN in held or bool(held.intersection(required))
