"""The abandon cap's guarantee, tested against an adversary (Hypothesis).

A small dialler here keeps the three rules of :mod:`hotline.pacing.budget`; Hypothesis plays
the world: which ringing call is answered or not and when, when busy agents come free, when
answered calls run out of their 2 s, and agents asking to go not-ready at any moment. The cap
must hold at every step and at the end of every day — and a dialler that lets agents go at
once (rule 3 broken) must be caught, so the property can fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from hotline.pacing.budget import (
    calls_allowed,
    exposure,
    may_release,
    releases,
    wait_expired,
    within_cap,
)
from hotline.pacing.pacers import PredictivePacer, ProgressivePacer
from hotline.pacing.state import AbandonCap, CallResult, DialerState, Outcome

CAP = AbandonCap(3)

#: What the world does next: answer a ringing call, let one ring out, let the oldest waiting
#: call reach 2 s, free a busy agent, an agent asks for a not-ready, an agent comes back.
ACTIONS = ("answer", "miss", "expire", "free", "not_ready", "back")


@dataclass
class World:
    """The dialler's counts, with the three rules of the budget built in."""

    agents: int
    defer: bool = True
    free: int = 0
    busy: int = 0
    not_ready: int = 0
    pending: int = 0  # free agents whose not-ready waits for cover
    wants_break: int = 0  # busy agents who will ask when they come free
    ringing: int = 0
    waiting: int = 0
    answered: int = 0
    abandoned: int = 0
    worst: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.free = self.agents

    def state(self, now: float = 0.0) -> DialerState:
        return DialerState(
            now=now,
            free_agents=self.free,
            talking_agents=self.busy,
            not_ready_agents=self.not_ready,
            releasing_agents=self.pending,
            ringing=self.ringing,
            waiting=self.waiting,
            answered_today=self.answered,
            abandoned_today=self.abandoned,
        )

    def connect(self) -> None:
        """Rule 2: an answered call goes to a free agent at once."""
        while self.waiting and self.free:
            self.waiting -= 1
            self.free -= 1
            if self.pending > self.free:
                self.pending -= 1
                self.wants_break += 1
            self.busy += 1

    def release(self) -> None:
        """Rule 3: pending not-readies go while the budget allows (or at once, if not deferring)."""
        while self.pending and (not self.defer or may_release(self.state(), CAP)):
            self.pending -= 1
            self.free -= 1
            self.not_ready += 1

    def act(self, action: str) -> None:
        if action == "answer" and self.ringing:
            self.ringing -= 1
            self.answered += 1
            self.waiting += 1
        elif action == "miss" and self.ringing:
            self.ringing -= 1
        elif action == "expire" and self.waiting:
            self.waiting -= 1
            self.abandoned += 1
        elif action == "free" and self.busy:
            self.busy -= 1
            self.free += 1
            if self.wants_break:
                self.wants_break -= 1
                self.pending += 1
        elif action == "not_ready":
            if self.free > self.pending:
                self.pending += 1
            elif self.busy > self.wants_break:
                self.wants_break += 1
        elif action == "back" and self.not_ready:
            self.not_ready -= 1
            self.free += 1
        self.connect()
        self.release()

    def dial(self, count: int) -> None:
        """Rule 1 is the pacer's: it returns at most calls_allowed."""
        self.ringing += count


def play(steps: list[tuple[str, int]], agents: int, *, defer: bool, greedy: bool) -> World:
    """Run a day: after each of the world's moves the pacer places calls."""
    world = World(agents=agents, defer=defer)
    pacer = PredictivePacer(cap=CAP)
    for index, (action, burst) in enumerate(steps):
        for _ in range(burst):
            before = (world.ringing, world.answered)
            world.act(action)
            if (world.ringing, world.answered) != before:
                outcome = Outcome.ANSWERED if world.answered > before[1] else Outcome.NO_ANSWER
                pacer.on_result(CallResult(at=float(index), outcome=outcome, ring_s=5.0))
        state = world.state(float(index))
        # The greedy pacer spends the whole budget: the hardest case for the guarantee.
        count = calls_allowed(state, CAP) if greedy else pacer.calls_to_place(state)
        assert 0 <= count <= calls_allowed(state, CAP)
        world.dial(count)
        world.worst.append(exposure(world.state()) - CAP.allowance(answered=world.answered))
    return world


days = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(min_value=1, max_value=6)),
    min_size=1,
    max_size=400,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=days, agents=st.integers(min_value=1, max_value=12), greedy=st.booleans())
def test_the_cap_holds_at_every_instant_of_every_day(steps, agents, greedy):
    world = play(steps, agents, defer=True, greedy=greedy)
    assert max(world.worst) <= 0
    assert within_cap(world.state(), CAP)
    # The day ends: whatever still rings or waits is answered and abandoned in the worst case.
    end_abandoned = world.abandoned + max(0, world.waiting + world.ringing - world.free)
    assert end_abandoned * 100 <= 3 * (world.answered + world.ringing)
    assert world.abandoned * 100 <= 3 * world.answered


def test_a_dialler_that_lets_agents_go_at_once_is_caught():
    """Rule 3 broken: Hypothesis finds a day on which the cap is exceeded."""
    broken = find(
        st.tuples(days, st.integers(min_value=1, max_value=12)),
        lambda case: (
            play(case[0], case[1], defer=False, greedy=True).abandoned * 100
            > 3 * play(case[0], case[1], defer=False, greedy=True).answered
        ),
        settings=settings(max_examples=2000, deadline=None, database=None),
    )
    steps, _ = broken
    assert any(action == "not_ready" for action, _ in steps)


def test_progressive_places_one_call_per_free_agent_and_holds_pending_agents():
    state = DialerState(now=0.0, free_agents=5, releasing_agents=2, ringing=1)
    assert ProgressivePacer().calls_to_place(state) == 2
    assert (
        ProgressivePacer().calls_to_place(DialerState(now=0.0, free_agents=5, remaining_s=0)) == 0
    )


def test_no_budget_before_the_day_has_answers():
    # 33 answers allow no abandon at 3 %, 34 allow one.
    assert CAP.allowance(answered=33) == 0 and CAP.allowance(answered=34) == 1
    state = DialerState(now=0.0, talking_agents=10, answered_today=33)
    assert calls_allowed(state, CAP) == 0
    assert calls_allowed(DialerState(now=0.0, talking_agents=10, answered_today=34), CAP) == 1


def test_abandons_already_spent_leave_only_covered_calls():
    state = DialerState(now=0.0, free_agents=2, answered_today=100, abandoned_today=3)
    assert calls_allowed(state, CAP) == 2
    assert not may_release(DialerState(now=0.0, free_agents=1, ringing=1), CAP)


@pytest.mark.parametrize("percent", [-1, 101])
def test_a_cap_outside_0_to_100_percent_is_refused(percent):
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        AbandonCap(percent)


def test_a_wait_expiring_with_no_call_waiting_is_refused():
    with pytest.raises(ValueError, match="no answered call is waiting"):
        wait_expired(DialerState(now=0.0), "c1")


def test_releases_stop_where_the_commitments_need_the_agents():
    state = DialerState(now=0.0, free_agents=4, ringing=3, answered_today=34, releasing_agents=4)
    # One abandon of budget: 3 ringing need 2 free agents in the worst case.
    assert [r.agent_id for r in releases(state, CAP, ["a", "b", "c", "d"])] == ["a", "b"]
