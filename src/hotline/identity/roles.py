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
    #: Staff of a field-service provider (服务网点): the provider portal only, and only their
    #: own provider's work orders (the center configuration lists each provider's staff).
    PROVIDER = "provider"
    #: The 回访 group: calls customers back after repairs, installations and complaints and
    #: records what they say (with ``agent`` too, to dial from the desk).
    FOLLOWUP = "followup"
    #: The settlement clerk (结算): approves or rejects providers' claims, exports statements.
    SETTLEMENT = "settlement"


ALL_ROLES: tuple[str, ...] = tuple(r.value for r in Role)


class PersonalField(StrEnum):
    """A kind of personal data about a customer (PIPL: personal information).

    ``content`` is what a customer said or wrote in their own words: ticket descriptions,
    custom fields, notes. ``subject`` is the short line a ticket or contact is filed under.
    """

    PHONE = "phone"
    NAME = "name"
    EMAIL = "email"
    ADDRESS = "address"
    SUBJECT = "subject"
    CONTENT = "content"


# Roles that serve or supervise customers, and so need to see who they are. WFM plans
# staffing from volumes and handle times: it needs none of a customer's identity.
_SERVING: frozenset[str] = frozenset(
    {Role.ADMIN, Role.MANAGER, Role.SUPERVISOR, Role.TEAM_LEAD, Role.QA, Role.AGENT, Role.FOLLOWUP}
)

#: The one masking policy: which roles see each kind of personal data unmasked. Every route
#: and every live stream applies it in the API layer (``hotline.web.access``); a role absent
#: from a field's set gets that field masked (last four digits of a number, a surname…).
PERSONAL_DATA_POLICY: dict[PersonalField, frozenset[str]] = {
    PersonalField.PHONE: _SERVING,
    PersonalField.NAME: _SERVING,
    PersonalField.EMAIL: _SERVING,
    PersonalField.ADDRESS: _SERVING,
    # A ticket's subject names the fault ("washer leaks"), which WFM reads to see workload.
    # A provider's technician reads the fault and the customer's words to repair it.
    PersonalField.SUBJECT: _SERVING | {Role.WFM, Role.PROVIDER},
    PersonalField.CONTENT: _SERVING | {Role.PROVIDER},
}

# Roles that may see every kind of personal data unmasked.
PERSONAL_DATA_ROLES: frozenset[str] = frozenset.intersection(*PERSONAL_DATA_POLICY.values())
#: Roles that may list and play call recordings; a team lead only the recordings of their own
#: teams' agents (``hotline.identity.scope``), the others every recording.
RECORDING_ROLES: frozenset[str] = frozenset(
    {Role.ADMIN, Role.MANAGER, Role.SUPERVISOR, Role.QA, Role.TEAM_LEAD}
)
#: Roles that may take a recording away as a file (evidence for a complaint or a dispute);
#: the others who may hear a call listen in the browser only.
RECORDING_DOWNLOAD_ROLES: frozenset[str] = frozenset({Role.ADMIN, Role.MANAGER})


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


def hidden_fields(user_roles: list[str] | tuple[str, ...]) -> frozenset[PersonalField]:
    """The kinds of personal data a user holding ``user_roles`` sees only masked.

    >>> sorted(str(field) for field in hidden_fields(["wfm"]))
    ['address', 'content', 'email', 'name', 'phone']
    >>> hidden_fields(["wfm", "agent"]), hidden_fields(["admin"])
    (frozenset(), frozenset())
    """
    held = set(user_roles)
    if Role.ADMIN in held:
        return frozenset()
    return frozenset(
        field for field, roles in PERSONAL_DATA_POLICY.items() if not held.intersection(roles)
    )
