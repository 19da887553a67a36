"""What a dialler knows at one instant, what it learns from each call, and what it must do.

A pacer never places calls or touches agents itself: the dialler (the live SIP dialler or the
simulator) describes the campaign's situation as a :class:`DialerState`, asks the pacer how many
calls to place, and reports every call's result back as a :class:`CallResult`. Pure: no I/O.

The words are the contact center's:

* an **answer** (a *live answer*) is a call answered by a person;
* an answered call is **connected** when an agent takes it; one not connected within
  :data:`ABANDON_AFTER_S` of the answer is **abandoned** (a *drop* in VICIdial, a *silent or
  abandoned call* to Ofcom and the TSR): the dialler plays the safe message
  (:class:`PlaySafeMessage`) and hangs up;
* the **abandon rate** of a campaign day is abandoned ÷ live answers of that day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

#: An answered call not connected to an agent within this many seconds is abandoned (the
#: TSR/Ofcom rule the issue names: "answered by a person and not connected within 2 s").
ABANDON_AFTER_S = 2.0


@dataclass(frozen=True, slots=True)
class AbandonCap:
    """The hard cap: at most ``percent`` % of a campaign day's live answers abandoned.

    Kept as an integer percentage so the budget is counted exactly, without rounding drift.

    >>> AbandonCap(3).allowance(answered=100), AbandonCap(3).allowance(answered=33)
    (3, 0)
    """

    percent: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.percent <= 100:
            raise ValueError(f"abandon cap: percent must be within 0..100, not {self.percent}")

    def allowance(self, *, answered: int) -> int:
        """Abandons the cap allows after ``answered`` live answers: ⌊percent × answered / 100⌋."""
        return self.percent * answered // 100


@dataclass(frozen=True, slots=True)
class DialerState:
    """One campaign's situation at ``now``, as the dialler sees it (counts for today only).

    ``free_agents`` are the agents ready and idle for this campaign *that the dialler can count
    on*: logged in, not on a call, not in wrap-up, not not-ready and not taken by inbound work.
    ``releasing_agents`` of them asked to go not-ready (or to take inbound work) and wait until
    the dialler's commitments are covered (see :mod:`hotline.pacing.budget`).

    >>> DialerState(now=0.0, free_agents=3).agents
    3
    """

    now: float
    free_agents: int = 0
    talking_agents: int = 0
    wrapping_agents: int = 0
    not_ready_agents: int = 0
    releasing_agents: int = 0
    ringing: int = 0
    """Calls placed and not yet answered or given up."""
    waiting: int = 0
    """Calls answered by a person and waiting for an agent (for less than ABANDON_AFTER_S)."""
    answered_today: int = 0
    abandoned_today: int = 0
    dialled_today: int = 0
    remaining_s: float = math.inf
    """Seconds until the campaign stops dialling today (the taper looks at it)."""

    @property
    def agents(self) -> int:
        """Agents logged in to the campaign, whatever their state."""
        return self.free_agents + self.talking_agents + self.wrapping_agents + self.not_ready_agents


class Outcome(StrEnum):
    """What happened to one placed call, or to the agent handling it."""

    ANSWERED = "answered"
    """A person answered (it now waits for an agent, or is connected at once)."""
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELLED = "cancelled"
    """The dialler hung up a call that was still ringing (not an abandon: nobody answered)."""
    CONNECTED = "connected"
    """An agent took an answered call (``wait_s``: after how long)."""
    ABANDONED = "abandoned"
    """Answered and not connected within ABANDON_AFTER_S: the safe message was played."""
    COMPLETED = "completed"
    """The agent finished the call and its wrap-up (``handle_s``: talk plus wrap-up)."""


@dataclass(frozen=True, slots=True)
class CallResult:
    """One call's result, reported to :meth:`Pacer.on_result` when it happens.

    ``ring_s`` is how long the call rang before it was answered or given up; ``handle_s`` how
    long an agent was occupied by a completed call; ``wait_s`` how long an answered call waited.
    """

    at: float
    outcome: Outcome
    ring_s: float = 0.0
    handle_s: float = 0.0
    wait_s: float = 0.0


@dataclass(frozen=True, slots=True)
class PlaySafeMessage:
    """Effect: play the campaign's safe message to an abandoned person, then hang up.

    The message names the caller and says the call will not be repeated today (Ofcom's
    persistent-misuse policy asks for exactly this on every abandoned call).
    """

    call_id: str


@dataclass(frozen=True, slots=True)
class ReleaseAgent:
    """Effect: the agent's not-ready (or move to inbound work) may take effect now."""

    agent_id: str
