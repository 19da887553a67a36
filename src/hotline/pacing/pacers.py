"""The pacer protocol, progressive pacing, and Hotline's predictive pacer.

A pacer answers one question, again and again: *how many calls should the dialler place now?*
It learns from each call's result (:meth:`Pacer.on_result`). Every Hotline pacer returns at
most :func:`hotline.pacing.budget.calls_allowed`, so the abandon cap holds whatever its
forecast (the guarantee is stated in :mod:`hotline.pacing.budget`).

**Progressive** places one call per free agent: the budget with a cap of 0 % is exactly that
(no call beyond the free agents, so no abandon unless an agent leaves, which is deferred).

**Predictive** (Hotline's) forecasts from the campaign's own results, estimated online:

* the answer rate, as a Beta posterior over the day's answered and unanswered calls
  (prior Beta(2, 2): no opinion beyond "somewhere in the middle"), with exponential
  forgetting — each result weighs 1, the ones before it (1 − 1/``memory_calls``) as much as
  before — so the estimate follows an answer rate that moves over the day (people home at
  some hours more than others);
* how long answered calls ring first, and how long an agent is held by a call (talk plus
  wrap-up), as running means with a prior;
* how many busy agents come free before the next answers: each busy agent within the ring
  horizon *h* with probability 1 − exp(−h / mean handle) (memoryless approximation).

It places calls one by one while the next call, if answered, would find an agent: beyond the
free agents it places another only while that call's chance of being abandoned — what it adds
to the expected overflow E[max(0, D)] (D ≈ Normal(μ, σ²): the answers of the ringing and new
calls, binomial, minus the free and freeing agents, binomial), per expected answer — is at most
``marginal_risk``. The normal expectation E[max(0, D)] = σ·φ(μ/σ) + μ·Φ(μ/σ) is the standard
expected-shortfall formula. The marginal call's risk is much higher than the day's abandon
rate (most calls are placed with agents to spare); whatever the forecast gets wrong, the
budget check stops it before the cap.
"""

from __future__ import annotations

import math
from typing import Protocol

from hotline.pacing.budget import calls_allowed
from hotline.pacing.state import ABANDON_AFTER_S, AbandonCap, CallResult, DialerState, Outcome


class Pacer(Protocol):
    """How many calls to place now; learns from each result.

    ``defers_release``: whether the dialler must hold an agent's not-ready until
    :func:`~hotline.pacing.budget.may_release` allows it (Hotline's pacers), or may let agents
    go at once (VICIdial's adaptive pacing, which has no such rule).
    """

    name: str
    defers_release: bool
    cap: AbandonCap
    """The cap the pacer keeps; the dialler asks ``may_release`` with it."""

    def calls_to_place(self, state: DialerState) -> int:
        """Calls to place now (never negative)."""
        ...

    def on_result(self, result: CallResult) -> None:
        """Learn from one call's result."""
        ...

    def next_decision_at(self, now: float) -> float | None:
        """When to be asked again even if nothing happens (``None``: only on events)."""
        ...


class ProgressivePacer:
    """One call per free agent, never more (no abandon is possible while agents stay).

    >>> ProgressivePacer().calls_to_place(DialerState(now=0.0, free_agents=3, ringing=1))
    2
    """

    name = "progressive"
    defers_release = True

    def __init__(self) -> None:
        self.cap = AbandonCap(0)

    def calls_to_place(self, state: DialerState) -> int:
        """Free agents (without a pending not-ready) minus the calls already in flight."""
        if state.remaining_s <= 0:
            return 0
        return calls_allowed(state, self.cap)

    def on_result(self, result: CallResult) -> None:
        """Progressive pacing learns nothing."""

    def next_decision_at(self, now: float) -> float | None:
        """Only events matter."""
        return None


class PredictivePacer:
    """Hotline's predictive pacer: the forecast places calls, the budget check caps them.

    >>> pacer = PredictivePacer()
    >>> for _ in range(200):
    ...     pacer.on_result(CallResult(at=0.0, outcome=Outcome.ANSWERED, ring_s=10.0))
    ...     pacer.on_result(CallResult(at=0.0, outcome=Outcome.NO_ANSWER, ring_s=25.0))
    >>> round(pacer.answer_rate, 3)
    0.5
    >>> busy = DialerState(now=0.0, talking_agents=40, answered_today=400, abandoned_today=2)
    >>> 0 < pacer.calls_to_place(busy) <= 10  # none free: a bet on agents freeing
    True
    >>> pacer.calls_to_place(DialerState(now=0.0, talking_agents=40))  # no budget yet
    0
    """

    name = "predictive"
    defers_release = True

    def __init__(
        self,
        *,
        cap: AbandonCap | None = None,
        marginal_risk: float = 0.2,
        prior_answers: float = 2.0,
        prior_misses: float = 2.0,
        prior_ring_s: float = 12.0,
        prior_handle_s: float = 180.0,
        prior_weight: float = 5.0,
        memory_calls: float = 500.0,
    ) -> None:
        if not 0 <= marginal_risk < 1:
            raise ValueError(f"marginal_risk must be within [0, 1), not {marginal_risk}")
        if memory_calls < 1:
            raise ValueError(f"memory_calls must be at least 1, not {memory_calls}")
        self._keep = 1.0 - 1.0 / memory_calls
        self.cap = cap or AbandonCap(3)
        self.marginal_risk = marginal_risk
        self._answers = prior_answers
        self._misses = prior_misses
        self._ring_total = prior_ring_s * prior_weight
        self._ring_count = prior_weight
        self._handle_total = prior_handle_s * prior_weight
        self._handle_count = prior_weight

    @property
    def answer_rate(self) -> float:
        """The posterior mean of the answer rate: Beta(a, b) has mean a / (a + b).

        ``a`` and ``b`` are the (discounted) answered and unanswered calls plus the prior.
        """
        return self._answers / (self._answers + self._misses)

    @property
    def ring_s(self) -> float:
        """Mean time an answered call rings before the answer."""
        return self._ring_total / self._ring_count

    @property
    def handle_s(self) -> float:
        """Mean time an agent is held by a call (talk plus wrap-up)."""
        return self._handle_total / self._handle_count

    def on_result(self, result: CallResult) -> None:
        """Update the posterior and the running means."""
        outcome = result.outcome
        if outcome in _RESOLVED:
            self._answers *= self._keep
            self._misses *= self._keep
        if outcome is Outcome.ANSWERED:
            self._answers += 1
            self._ring_total += result.ring_s
            self._ring_count += 1
        elif outcome in (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED):
            self._misses += 1
        elif outcome is Outcome.COMPLETED:
            self._handle_total += result.handle_s
            self._handle_count += 1

    def next_decision_at(self, now: float) -> float | None:
        """Only events matter: every change of agents or calls asks again."""
        return None

    def calls_to_place(self, state: DialerState) -> int:
        """The forecast's number of calls, within the budget."""
        if state.remaining_s <= 0:
            return 0
        allowed = calls_allowed(state, self.cap)
        if allowed <= 0:
            return 0
        p = self.answer_rate
        busy = state.talking_agents + state.wrapping_agents
        # Agents freeing while the calls ring, or in the 2 s an answered call may wait.
        freeing = 1.0 - math.exp(-(self.ring_s + ABANDON_AFTER_S) / self.handle_s)
        agents = state.free_agents - state.releasing_agents - state.waiting
        agents_mean = agents + busy * freeing
        agents_var = busy * freeing * (1.0 - freeing)
        risk = self.marginal_risk
        placed = 0
        excess = _expected_excess(
            state.ringing * p - agents_mean, _sd(state.ringing, p, agents_var)
        )
        while placed < allowed:
            calls = state.ringing + placed + 1
            following = _expected_excess(calls * p - agents_mean, _sd(calls, p, agents_var))
            # The next call's chance of being abandoned if answered: what it adds to the
            # expected overflow, per expected answer.
            if calls > agents and (following - excess) / p > risk:
                break
            excess = following
            placed += 1
        return placed


#: Outcomes of a ringing call: each is one observation of the answer rate.
_RESOLVED = frozenset({Outcome.ANSWERED, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.FAILED})


def _sd(calls: int, answer_rate: float, agents_var: float) -> float:
    """Standard deviation of answers (binomial) minus freeing agents (binomial)."""
    return math.sqrt(calls * answer_rate * (1.0 - answer_rate) + agents_var)


def _expected_excess(mean: float, sd: float) -> float:
    """E[max(0, D)] for D ~ Normal(mean, sd²): sd·φ(mean/sd) + mean·Φ(mean/sd)."""
    if sd <= 0:
        return max(0.0, mean)
    z = mean / sd
    density = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    below = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
    return sd * density + mean * below
