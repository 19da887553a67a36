"""How many customer calls the dialler places now: the pacing interface and progressive pacing.

The dialler asks a :class:`Pacer` once per tick, with the campaign's :class:`PacingState`
(agents the routing engine left free and reserved for the campaign, calls already ringing,
answered customers still waiting for an agent, today's answers and abandons), and places that
many calls. Progressive pacing places one call per free agent not already covered by a call
in flight, so an answered customer always finds an agent (no abandons by construction, at the
price of agents waiting through every ring). A predictive pacer (``hotline.pacing``) plugs in
behind the same interface.

>>> ProgressivePacer().calls_to_place(PacingState(free_agents=3, ringing=1, records_ready=10))
2
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PacingState:
    """What a pacer knows at one instant about one campaign."""

    free_agents: int
    ringing: int = 0
    waiting_for_agent: int = 0
    records_ready: int = 0
    answered_today: int = 0
    abandoned_today: int = 0


class Pacer(Protocol):
    """A pacing decision: the campaign's state now → the number of calls to place now."""

    def calls_to_place(self, state: PacingState) -> int:
        """How many new customer calls to place at this instant (never negative)."""
        ...


class ProgressivePacer:
    """One call per free agent: never more calls in flight than free agents.

    >>> ProgressivePacer().calls_to_place(PacingState(free_agents=1, ringing=1, records_ready=5))
    0
    """

    def calls_to_place(self, state: PacingState) -> int:
        """Free agents minus calls already ringing or waiting, capped by the records ready."""
        uncovered = state.free_agents - state.ringing - state.waiting_for_agent
        return max(0, min(uncovered, state.records_ready))
