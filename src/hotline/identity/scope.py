"""Whose agents a user oversees: the whole floor, their own team(s), or only themselves.

A contact center's org chart lives in its center configuration: each team names its lead by
agent id (``teams[].lead``, checked to be an agent of that team). A user account links a
person to an agent id (``users.agent_id``). A **team lead** therefore oversees the agents of
every team whose ``lead`` is their own agent id — the agent list, agent detail, state
changes, the wallboard's agent rows, the live stream and per-agent reports are cut to them.
Supervisors, managers, WFM analysts and QA evaluators work across the floor and see every
agent; an agent oversees only themselves. Admin sees everything.

A team lead whose account has no agent id, or whose agent id leads no team, oversees nobody
but themselves: a misconfigured lead sees less, never more.

Example::

    >>> scope = agent_scope(
    ...     ["team_lead"], "a011", teams={"t-repair": "a011", "t-care": "a021"},
    ...     agent_teams={"a011": "t-repair", "a012": "t-repair", "a021": "t-care"},
    ... )
    >>> scope.covers("a012"), scope.covers("a021"), sorted(scope.teams)
    (True, False, ['t-repair'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotline.identity.roles import Role, allowed

#: Roles that oversee every agent of the center.
FLOOR_ROLES: tuple[str, ...] = (Role.MANAGER, Role.SUPERVISOR, Role.WFM, Role.QA)


@dataclass(frozen=True)
class AgentScope:
    """The agents (and teams) one user may see and act on; ``everyone`` for the whole floor."""

    everyone: bool
    agents: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()

    def covers(self, agent_id: str | None) -> bool:
        """True when ``agent_id`` is one of this user's agents (``None`` never is, unless
        the user sees everyone)."""
        return self.everyone or (agent_id is not None and agent_id in self.agents)

    def covers_team(self, team_id: str | None) -> bool:
        """True when ``team_id`` is one of this user's teams."""
        return self.everyone or (team_id is not None and team_id in self.teams)

    def keep(self, agent_ids: Iterable[str]) -> list[str]:
        """The ``agent_ids`` this user may see, in their order."""
        return [a for a in agent_ids if self.covers(a)]


EVERYONE = AgentScope(everyone=True)


def led_teams(agent_id: str | None, *, teams: Mapping[str, str | None]) -> frozenset[str]:
    """The teams whose lead is ``agent_id`` (``teams`` maps team id → lead's agent id).

    >>> sorted(led_teams("a001", teams={"t1": "a001", "t2": "a002", "t3": None}))
    ['t1']
    """
    if agent_id is None:
        return frozenset()
    return frozenset(team for team, lead in teams.items() if lead == agent_id)


def target_leads(
    level: str,
    target_id: str | None,
    *,
    teams: Mapping[str, str | None],
    agent_teams: Mapping[str, str],
) -> frozenset[str]:
    """The agent ids of the leads answerable for a target at ``level`` for ``target_id``: a
    team's lead, or the lead of an agent's team; nobody for a center or queue target (those
    are the floor's, not one team's).

    >>> teams, agent_teams = {"t1": "a001", "t2": None}, {"a001": "t1", "a002": "t1"}
    >>> sorted(target_leads("agent", "a002", teams=teams, agent_teams=agent_teams))
    ['a001']
    >>> target_leads("team", "t2", teams=teams, agent_teams=agent_teams)
    frozenset()
    >>> target_leads("queue", "repair", teams=teams, agent_teams=agent_teams)
    frozenset()
    """
    if target_id is None:
        return frozenset()
    team = {"team": target_id, "agent": agent_teams.get(target_id)}.get(level)
    lead = teams.get(team) if team is not None else None
    return frozenset({lead}) if lead else frozenset()


def agent_scope(
    roles: Iterable[str],
    agent_id: str | None,
    *,
    teams: Mapping[str, str | None],
    agent_teams: Mapping[str, str],
) -> AgentScope:
    """The scope of a user holding ``roles`` and linked to ``agent_id``.

    ``teams`` maps each team id to its lead's agent id; ``agent_teams`` maps each agent id to
    its team id (both from the center configuration).
    """
    held = tuple(roles)
    if allowed(held, FLOOR_ROLES):
        return EVERYONE
    own = frozenset({agent_id}) if agent_id is not None else frozenset()
    if Role.TEAM_LEAD not in held:
        return AgentScope(everyone=False, agents=own)
    led = led_teams(agent_id, teams=teams)
    members = frozenset(agent for agent, team in agent_teams.items() if team in led)
    return AgentScope(everyone=False, agents=members | own, teams=led)


def team_lead_problem(
    roles: Iterable[str], agent_id: str | None, *, teams: Mapping[str, str | None]
) -> str | None:
    """Why an account holding ``roles`` and linked to ``agent_id`` cannot lead a team, or
    ``None`` when it can (or does not need to: it holds no team-lead role, or works across
    the floor anyway). ``teams`` maps team id → lead's agent id.

    >>> print(team_lead_problem(["team_lead"], "a002", teams={"t-install": "a001"}))
    ... # doctest: +NORMALIZE_WHITESPACE
    agent 'a002' leads no team; a team lead's agent_id must be a team's lead in the center
    configuration (teams[].lead): a001 (t-install)
    >>> team_lead_problem(["team_lead"], "a001", teams={"t-install": "a001"}) is None
    True
    """
    held = tuple(roles)
    if Role.TEAM_LEAD not in held or allowed(held, FLOOR_ROLES):
        return None
    if led_teams(agent_id, teams=teams):
        return None
    leads = ", ".join(f"{lead} ({team})" for team, lead in sorted(teams.items()) if lead)
    rule = (
        "a team lead's agent_id must be a team's lead in the center configuration "
        f"(teams[].lead): {leads or 'no team names a lead'}"
    )
    if agent_id is None:
        return f"no agent_id given; {rule}"
    return f"agent {agent_id!r} leads no team; {rule}"
