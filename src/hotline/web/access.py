"""What the caller of a request may see: which agents (:mod:`hotline.identity.scope`) and
which personal data unmasked (:data:`hotline.identity.roles.PERSONAL_DATA_POLICY`).

The org chart comes from the center configuration the center runs now: the live driver's
(a saved configuration takes effect there) or, without live routing, the app's. Routes ask
:func:`scope_of` once and then :func:`require_agent` for a path's agent id, or filter lists
with :meth:`AgentScope.covers`; the live stream filters every message with
:func:`shows_message`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request, WebSocket, status

from hotline.config.center import CenterConfig
from hotline.crm.privacy import mask_address, mask_email, mask_name, mask_phone
from hotline.identity.roles import PersonalField, Role, hidden_fields
from hotline.identity.scope import AgentScope, agent_scope


def current_center(request: Request | WebSocket) -> CenterConfig | None:
    """The center configuration in force: the running live driver's, else the app's."""
    driver = getattr(request.app.state, "live", None)
    center = getattr(driver, "center", None) if driver is not None else None
    if isinstance(center, CenterConfig):
        return center
    loaded: CenterConfig | None = request.app.state.center
    return loaded


def scope_for(
    center: CenterConfig | None, roles: tuple[str, ...] | list[str], agent_id: str | None
) -> AgentScope:
    """The agent scope of a user holding ``roles``, linked to ``agent_id``, in ``center``."""
    teams: dict[str, str | None] = {}
    agent_teams: dict[str, str] = {}
    if center is not None:
        teams = {team.id: team.lead for team in center.teams}
        agent_teams = {agent.id: agent.team for agent in center.agents}
    return agent_scope(roles, agent_id, teams=teams, agent_teams=agent_teams)


def scope_of(request: Request | WebSocket, user: Any) -> AgentScope:
    """The agent scope of ``user`` (a :class:`~hotline.web.auth.CurrentUser`) in this app."""
    return scope_for(current_center(request), user.roles, user.agent_id)


def require_agent(scope: AgentScope, agent_id: str) -> None:
    """403 unless ``agent_id`` is one of the scope's agents (a team lead's own teams)."""
    if not scope.covers(agent_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"agent {agent_id} is not in your team(s)"
            if scope.teams
            else f"agent {agent_id} is not yours to oversee",
        )


def scoped_board(board: dict[str, Any], scope: AgentScope) -> dict[str, Any]:
    """A wallboard snapshot with only the agent rows of ``scope`` (queues stay whole)."""
    if scope.everyone or board.get("type") != "wallboard":
        return board
    agents = [row for row in board.get("agents", []) if scope.covers(row.get("id"))]
    return {**board, "agents": agents}


def shows_message(scope: AgentScope, message: dict[str, Any], *, queue_level: bool) -> bool:
    """Whether a live message reaches a screen of this scope.

    A message about an agent (an offer, a state change, a contact in their hands) reaches
    only screens that oversee that agent. Messages about no agent (a caller arriving in a
    queue, the board, a new configuration) reach supervision screens (``queue_level``),
    never an agent's desktop. Crisis mode's switch (``crisis``) is for the whole floor: it
    reaches every screen, desks too (their banner).
    """
    if scope.everyone or message.get("type") == "crisis":
        return True
    agent_id = message.get("agent_id")
    if agent_id is None:
        return queue_level
    return scope.covers(str(agent_id))


# --------------------------------------------------------------------------- personal data

#: Keys under which live data carries personal data, and which kind each is. Live data is
#: the routing driver's and the voice server's vocabulary: ``customer`` is the number a
#: contact came from, ``caller`` a phone call's calling number, ``number`` a dialled one.
LIVE_PERSONAL_KEYS: dict[str, PersonalField] = {
    "customer": PersonalField.PHONE,
    "caller": PersonalField.PHONE,
    "number": PersonalField.PHONE,
    "calling_number": PersonalField.PHONE,
    "e164": PersonalField.PHONE,
    "phone": PersonalField.PHONE,
    "customer_name": PersonalField.NAME,
    "email": PersonalField.EMAIL,
    "address": PersonalField.ADDRESS,
    "subject": PersonalField.SUBJECT,
    "note": PersonalField.CONTENT,
    "summary": PersonalField.CONTENT,
    "description": PersonalField.CONTENT,
}

_MASKS: dict[PersonalField, Callable[[str], str]] = {
    PersonalField.PHONE: mask_phone,
    PersonalField.NAME: mask_name,
    PersonalField.EMAIL: mask_email,
    PersonalField.ADDRESS: mask_address,
    PersonalField.SUBJECT: lambda _: "***",
    PersonalField.CONTENT: lambda _: "***",
}


def hides_customer_identity(roles: tuple[str, ...] | list[str]) -> bool:
    """True when ``roles`` may not see a customer's name, numbers, e-mails and addresses
    (the ``masked`` flag of the customer and ticket services)."""
    return bool(
        hidden_fields(roles)
        & {PersonalField.PHONE, PersonalField.NAME, PersonalField.EMAIL, PersonalField.ADDRESS}
    )


def mask_personal(data: Any, hidden: frozenset[PersonalField]) -> Any:
    """``data`` (JSON-ready live data) with the personal fields in ``hidden`` masked.

    >>> mask_personal({"agent_id": "a001", "attached": {"customer": "13812345678"}},
    ...               frozenset({PersonalField.PHONE}))
    {'agent_id': 'a001', 'attached': {'customer': '*******5678'}}
    """
    if not hidden:
        return data
    if isinstance(data, dict):
        masked: dict[str, Any] = {}
        for key, value in data.items():
            field = LIVE_PERSONAL_KEYS.get(key)
            if field in hidden and value is not None:
                masked[key] = _MASKS[field](str(value)) if isinstance(value, str | int) else "***"
            else:
                masked[key] = mask_personal(value, hidden)
        return masked
    if isinstance(data, list):
        return [mask_personal(item, hidden) for item in data]
    return data


Feed = Callable[[dict[str, Any]], dict[str, Any] | None]


def live_feed(
    center: CenterConfig | None, roles: tuple[str, ...] | list[str], agent_id: str | None
) -> Feed:
    """What one screen receives of each live message: ``None`` (not shown), or the message
    cut to the viewer's agents and masked by the personal-data policy."""
    scope = scope_for(center, roles, agent_id)
    hidden = hidden_fields(roles)
    # Supervision screens (a team lead's too) see queue-level messages; a desktop does not.
    queue_level = scope.everyone or Role.TEAM_LEAD in roles

    def feed(message: dict[str, Any]) -> dict[str, Any] | None:
        if not shows_message(scope, message, queue_level=queue_level):
            return None
        shown: dict[str, Any] = mask_personal(scoped_board(message, scope), hidden)
        return shown

    return feed
