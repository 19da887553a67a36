"""The abandon budget: the hard cap checked at every instant, whatever the forecast says.

A predictive dialler places more calls than it has free agents, betting that some will not be
answered and that busy agents will free up in time. A bet lost is an *abandoned* call: a
person answered and no agent came within 2 s. VICIdial's adaptive pacing (``AST_VDadapt.pl``)
only looks at the day's drop rate after the fact, once a minute; the cap can be overshot
before it reacts. Hotline's pacers are held by this module instead, before every call placed.

The budget (per campaign per day, with A = abandoned so far, L = live answers so far,
W = answered calls waiting for an agent, R = calls still ringing, F = free agents the dialler
can count on) is the **exposure** — the abandons there could be if every ringing call were
answered now and no busy agent came free::

    exposure = A + max(0, W + R − F)   ≤   ⌊cap × L⌋                              (I)

**Guarantee.** If the dialler keeps three rules, (I) holds at every instant of the day, and so
at the end of the day ``abandoned ≤ cap × live answers`` — on every day, whatever the answer
rate, ring times, handling times or agents' behaviour:

1. it places calls only while (I) still holds with the new calls ringing
   (:func:`calls_allowed`; every pacer here returns at most that);
2. an answered call goes to a free agent if there is one, and a call not connected within
   2 s is abandoned (safe message, hang-up) and counted;
3. a free agent leaves the dialler's pool (not-ready, break, logout, inbound work) only when
   (I) holds without them (:func:`may_release`); until then their not-ready is *pending* and
   they still take the dialler's answered calls. Busy agents were never counted in F, so an
   agent may leave after a call without asking.

Proof sketch, event by event: a call placed (rule 1) keeps (I). A ringing call not answered
lowers R (exposure falls). A ringing call answered raises L (the allowance can only grow) and
moves one from R to W, or connects it to a free agent (R and F fall together): W + R − F is
unchanged. A waiting call connected to an agent coming free lowers W with F unchanged; an
abandon moves one from W to A: exposure unchanged. An agent coming free raises F. An agent
leaving is allowed only under (I) (rule 3). No other event changes A, W, R, F or L. ∎

**Why deferral and not cancelling ringing calls.** Agents going not-ready while calls are in
flight could also be covered by hanging up ringing calls (allowed: a call nobody answered is not
an abandon). But a call may be hung up only after a minimum ring time (Ofcom: 15 s), so during
that window the commitment exists anyway, and a cancelled call is a missed call on the
customer's phone that earns a call-back into an inbound queue. A pending not-ready costs an
agent at most one ring timeout (every ringing call is answered or given up by then and no
new call is placed on that agent's account), and usually nothing, since the budget has slack
most of the day. So Hotline defers; :class:`~hotline.pacing.state.Outcome` still has
``CANCELLED`` for a dialler that must hang up (it lowers R, which only helps).

At the start of a day L = 0, so the allowance is 0 and the pacing is progressive until answers
have earned a budget (34 answers per abandon at 3 %).

>>> from hotline.pacing.state import AbandonCap, DialerState
>>> s = DialerState(now=0.0, free_agents=2, ringing=1, answered_today=100, abandoned_today=1)
>>> exposure(s), calls_allowed(s, AbandonCap(3))
(1, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hotline.pacing.state import AbandonCap, DialerState, PlaySafeMessage, ReleaseAgent


def uncovered(state: DialerState) -> int:
    """Calls that could need an agent now and find none: waiting + ringing beyond the free."""
    return max(0, state.waiting + state.ringing - state.free_agents)


def exposure(state: DialerState) -> int:
    """Abandoned so far plus the worst case of the calls in flight (the left side of (I))."""
    return state.abandoned_today + uncovered(state)


def within_cap(state: DialerState, cap: AbandonCap) -> bool:
    """Whether (I) holds: the worst case stays within the day's allowance."""
    return exposure(state) <= cap.allowance(answered=state.answered_today)


def calls_allowed(state: DialerState, cap: AbandonCap) -> int:
    """The most calls that may be placed now with (I) still holding afterwards.

    Agents with a pending not-ready are not counted: no new call is placed on their account,
    so their commitments only run down.

    >>> calls_allowed(DialerState(now=0.0, free_agents=4, ringing=1), AbandonCap(3))
    3
    >>> calls_allowed(DialerState(now=0.0, free_agents=4, releasing_agents=4), AbandonCap(3))
    0
    """
    # Calls the free agents cover add nothing to the exposure; beyond them, each call may.
    # (A negative slack means the rules were broken elsewhere: still only covered calls.)
    slack = max(0, cap.allowance(answered=state.answered_today) - state.abandoned_today)
    counted = state.free_agents - state.releasing_agents
    return max(0, slack + counted - state.waiting - state.ringing)


def may_release(state: DialerState, cap: AbandonCap) -> bool:
    """Whether one free agent may leave the dialler's pool now, (I) holding without them.

    >>> s = DialerState(now=0.0, free_agents=2, ringing=2)
    >>> may_release(s, AbandonCap(3))
    False
    >>> may_release(DialerState(now=0.0, free_agents=2, ringing=1), AbandonCap(3))
    True
    """
    if state.free_agents < 1:
        return False
    without = state.abandoned_today + max(
        0, state.waiting + state.ringing - (state.free_agents - 1)
    )
    return without <= cap.allowance(answered=state.answered_today)


def releases(state: DialerState, cap: AbandonCap, pending: Sequence[str]) -> list[ReleaseAgent]:
    """Which of the free agents waiting to go not-ready may go now, in order (rule 3).

    Each release leaves one free agent fewer for the next one's check.

    >>> s = DialerState(now=0.0, free_agents=3, ringing=1, releasing_agents=3)
    >>> [r.agent_id for r in releases(s, AbandonCap(3), ["a1", "a2", "a3"])]
    ['a1', 'a2']
    """
    allowed: list[ReleaseAgent] = []
    for agent_id in pending:
        if not may_release(state, cap):
            break
        allowed.append(ReleaseAgent(agent_id))
        state = replace(
            state,
            free_agents=state.free_agents - 1,
            releasing_agents=max(0, state.releasing_agents - 1),
            not_ready_agents=state.not_ready_agents + 1,
        )
    return allowed


def wait_expired(state: DialerState, call_id: str) -> tuple[DialerState, PlaySafeMessage]:
    """An answered call reached 2 s without an agent (rule 2): one abandon, the safe message.

    >>> s, effect = wait_expired(DialerState(now=2.0, waiting=1, answered_today=40), "c7")
    >>> s.waiting, s.abandoned_today, effect
    (0, 1, PlaySafeMessage(call_id='c7'))
    """
    if state.waiting < 1:
        raise ValueError(f"call {call_id}: no answered call is waiting for an agent")
    after = replace(state, waiting=state.waiting - 1, abandoned_today=state.abandoned_today + 1)
    return after, PlaySafeMessage(call_id)
