"""Hotline's predictive pacer: what it learns, and that the budget always has the last word."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.pacing.budget import calls_allowed
from hotline.pacing.pacers import PredictivePacer
from hotline.pacing.state import AbandonCap, CallResult, DialerState, Outcome


def test_it_learns_the_answer_rate_ring_time_and_handling_time():
    pacer = PredictivePacer()
    for _ in range(300):
        pacer.on_result(CallResult(at=0.0, outcome=Outcome.ANSWERED, ring_s=8.0))
        for _ in range(2):
            pacer.on_result(CallResult(at=0.0, outcome=Outcome.BUSY, ring_s=4.0))
        pacer.on_result(CallResult(at=0.0, outcome=Outcome.COMPLETED, handle_s=240.0))
    assert abs(pacer.answer_rate - 1 / 3) < 0.01
    assert abs(pacer.ring_s - 8.0) < 0.1
    assert abs(pacer.handle_s - 240.0) < 2.0


def test_a_lower_answer_rate_places_more_calls_for_the_same_agents():
    state = DialerState(now=0.0, free_agents=3, talking_agents=20, answered_today=2000)
    placed = []
    for answered in (60, 30):
        pacer = PredictivePacer()
        for index in range(100):
            outcome = Outcome.ANSWERED if index < answered else Outcome.NO_ANSWER
            pacer.on_result(CallResult(at=0.0, outcome=outcome, ring_s=10.0))
        placed.append(pacer.calls_to_place(state))
    assert placed[0] >= 3 and placed[1] > placed[0]


@settings(max_examples=200, deadline=None)
@given(
    free=st.integers(0, 30),
    talking=st.integers(0, 60),
    ringing=st.integers(0, 60),
    waiting=st.integers(0, 5),
    answered=st.integers(0, 5000),
    abandoned=st.integers(0, 200),
    answers=st.integers(0, 50),
    misses=st.integers(0, 50),
)
def test_never_more_than_the_budget_allows(
    free, talking, ringing, waiting, answered, abandoned, answers, misses
):
    pacer = PredictivePacer(marginal_risk=0.9)
    for _ in range(answers):
        pacer.on_result(CallResult(at=0.0, outcome=Outcome.ANSWERED, ring_s=1.0))
    for _ in range(misses):
        pacer.on_result(CallResult(at=0.0, outcome=Outcome.NO_ANSWER, ring_s=30.0))
    state = DialerState(
        now=0.0,
        free_agents=free,
        talking_agents=talking,
        ringing=ringing,
        waiting=waiting,
        answered_today=answered,
        abandoned_today=abandoned,
    )
    assert 0 <= pacer.calls_to_place(state) <= calls_allowed(state, AbandonCap(3))


def test_the_answer_rate_follows_a_change_during_the_day():
    pacer = PredictivePacer(memory_calls=200)
    for index in range(2000):  # the morning: 6 in 10 answer
        outcome = Outcome.ANSWERED if index % 10 < 6 else Outcome.NO_ANSWER
        pacer.on_result(CallResult(at=0.0, outcome=outcome, ring_s=10.0))
    for index in range(600):  # the afternoon: 3 in 10
        outcome = Outcome.ANSWERED if index % 10 < 3 else Outcome.NO_ANSWER
        pacer.on_result(CallResult(at=0.0, outcome=outcome, ring_s=10.0))
    assert abs(pacer.answer_rate - 0.3) < 0.05  # a plain count would say 0.53
