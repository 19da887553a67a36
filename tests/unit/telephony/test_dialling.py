"""The live dialler's book: connections, abandons, deferred not-ready, and the cap (Hypothesis).

Hypothesis plays the world against the book of :mod:`hotline.telephony.dialling` driven as
the adapter drives it (it places exactly what the pacer allows): which ringing call is
answered or not, when answered calls run out of their 2 s, when connected calls end, agents
asking to leave or coming back. At every step the abandon cap holds, no agent is on two
calls, and a call is connected to an agent only when that agent was free.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.pacing.budget import within_cap
from hotline.pacing.pacers import PredictivePacer, ProgressivePacer
from hotline.pacing.state import AbandonCap, Outcome, PlaySafeMessage, ReleaseAgent
from hotline.telephony.dialling import (
    AgentFree,
    AgentLeaving,
    CallAnswered,
    CallEnded,
    CallNotAnswered,
    CallPlaced,
    Connect,
    ConnectFailed,
    DayTurned,
    DiallerBook,
    DiallerEffect,
    PacingBroken,
    Report,
    WaitExpired,
    transition,
)


def kinds(effects: tuple[DiallerEffect, ...]) -> list[str]:
    return [type(e).__name__ for e in effects]


def test_an_answered_call_goes_at_once_to_the_free_agent() -> None:
    book = DiallerBook(campaign_id=1, cap=AbandonCap(0))
    book, _ = transition(book, AgentFree(at=0.0, agent_id="a1"))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
    book, effects = transition(book, CallAnswered(at=5.0, call_id="c1"))
    assert Connect("c1", "a1") in effects
    book, effects = transition(book, CallEnded(at=65.0, call_id="c1"))
    [report] = effects
    assert isinstance(report, Report) and report.result.outcome is Outcome.COMPLETED
    assert report.result.handle_s == 60.0
    assert book.free == ("a1",)


def test_the_engine_s_choice_takes_the_answered_call_not_the_agent_free_longest() -> None:
    book = DiallerBook(campaign_id=1, cap=AbandonCap(0))
    for agent in ("a1", "a2", "a3"):
        book, _ = transition(book, AgentFree(at=0.0, agent_id=agent))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
    asked: list[tuple[str, ...]] = []

    def choose(free: tuple[str, ...]) -> str | None:
        asked.append(free)
        return "a2"

    book, effects = transition(book, CallAnswered(at=5.0, call_id="c1"), choose=choose)
    assert Connect("c1", "a2") in effects and asked == [("a1", "a2", "a3")]
    assert book.free == ("a1", "a3")
    # a choice outside the free agents (a stale engine) leaves the one free longest
    book, _ = transition(book, CallPlaced(at=5.0, call_id="c2"))
    book, effects = transition(book, CallAnswered(at=6.0, call_id="c2"), choose=lambda _: "a2")
    assert Connect("c2", "a1") in effects


def test_a_call_beyond_the_budget_is_refused() -> None:
    book = DiallerBook(campaign_id=1, cap=AbandonCap(0))
    book, _ = transition(book, AgentFree(at=0.0, agent_id="a1"))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
    with pytest.raises(PacingBroken, match="c2 over budget"):
        transition(book, CallPlaced(at=0.0, call_id="c2"))


def test_a_waiting_call_past_two_seconds_is_abandoned_with_the_safe_message() -> None:
    book = DiallerBook(campaign_id=1, answered=100)  # 3 % of 100: room for 3 abandons
    book, _ = transition(book, AgentFree(at=0.0, agent_id="a1"))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c2"))
    book, _ = transition(book, CallAnswered(at=3.0, call_id="c1"))
    book, effects = transition(book, CallAnswered(at=4.0, call_id="c2"))
    assert kinds(effects) == ["Report"] and book.waiting == (("c2", 4.0),)
    book, effects = transition(book, WaitExpired(at=6.0, call_id="c2"))
    assert effects[0] == PlaySafeMessage("c2")
    assert book.abandoned == 1 and book.waiting == ()
    # the timer of a call that was connected in time changes nothing
    assert transition(book, WaitExpired(at=5.0, call_id="c1")) == (book, ())


def test_an_agents_phone_failing_after_the_two_seconds_abandons_the_call_at_once() -> None:
    """The 2 s timer fired while the agent's phone rang (or the phone refused late): the call
    must not go back to waiting for a timer that will not fire again, nor on to the next free
    agent past its 2 s. It is abandoned now, with the safe message."""
    book = DiallerBook(campaign_id=1, answered=100)
    book, _ = transition(book, AgentFree(at=0.0, agent_id="a1"))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
    book, effects = transition(book, CallAnswered(at=3.0, call_id="c1"))
    assert Connect("c1", "a1") in effects
    book, _ = transition(book, AgentFree(at=4.0, agent_id="a2"))
    book, effects = transition(book, ConnectFailed(at=5.5, call_id="c1", answered_at=3.0))
    assert effects[0] == PlaySafeMessage("c1") and Connect("c1", "a2") not in effects
    assert book.waiting == () and book.abandoned == 1
    # within the 2 s the next free agent takes it
    book, _ = transition(book, CallPlaced(at=6.0, call_id="c2"))
    book, effects = transition(book, CallAnswered(at=7.0, call_id="c2"))
    assert Connect("c2", "a2") in effects
    book, _ = transition(book, AgentFree(at=7.2, agent_id="a3"))
    book, effects = transition(book, ConnectFailed(at=7.5, call_id="c2", answered_at=7.0))
    assert Connect("c2", "a3") in effects and book.abandoned == 1


def test_a_free_agents_not_ready_waits_until_the_ringing_calls_are_covered() -> None:
    book = DiallerBook(campaign_id=1, cap=AbandonCap(0))
    for agent in ("a1", "a2"):
        book, _ = transition(book, AgentFree(at=0.0, agent_id=agent))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c2"))
    book, effects = transition(book, AgentLeaving(at=1.0, agent_id="a2"))
    assert effects == () and book.releasing == ("a2",)
    book, effects = transition(book, CallNotAnswered(at=20.0, call_id="c2", outcome=Outcome.BUSY))
    assert ReleaseAgent("a2") in effects and book.free == ("a1",)


def test_a_talking_agent_who_asks_leaves_after_the_call() -> None:
    book = DiallerBook(campaign_id=1, cap=AbandonCap(0))
    book, _ = transition(book, AgentFree(at=0.0, agent_id="a1"))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
    book, _ = transition(book, CallAnswered(at=1.0, call_id="c1"))
    book, effects = transition(book, AgentLeaving(at=2.0, agent_id="a1"))
    assert effects == ()
    book, effects = transition(book, CallEnded(at=30.0, call_id="c1"))
    assert ReleaseAgent("a1") in effects and book.free == ()


def test_the_day_turns_once_the_previous_days_calls_no_longer_ring() -> None:
    """Midnight in the campaign's zone: the cap counts the new day's answers, but the calls
    placed before it belong to the day that placed them; none is placed in between."""
    book = DiallerBook(campaign_id=1, cap=AbandonCap(0), answered=40, abandoned=1, day="d1")
    book, _ = transition(book, AgentFree(at=0.0, agent_id="a1"))
    book, _ = transition(book, CallPlaced(at=0.0, call_id="c1"))
    book, _ = transition(book, DayTurned(at=1.0, day="d2", answered=3, abandoned=0))
    assert book.turning and book.day == "d1" and book.answered == 40
    with pytest.raises(PacingBroken, match="c2 over budget"):
        transition(book, CallPlaced(at=1.0, call_id="c2"))
    book, _ = transition(book, CallAnswered(at=2.0, call_id="c1"))  # the old day's answer
    assert not book.turning and book.day == "d2"
    assert (book.answered, book.abandoned, book.dialled) == (3, 0, 0)
    assert book.talking == (("c1", "a1", 2.0),)  # still connected, on the agent it had
    same, effects = transition(book, DayTurned(at=3.0, day="d2"))
    assert same == book and effects == ()


ACTIONS = st.sampled_from(("answer", "miss", "expire", "end", "leave", "back", "midnight"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    agents=st.integers(min_value=1, max_value=5),
    predictive=st.booleans(),
    warm_answers=st.integers(min_value=0, max_value=300),
    steps=st.lists(st.tuples(ACTIONS, st.integers(min_value=0, max_value=50)), max_size=250),
)
def test_the_cap_holds_at_every_step_whatever_the_world_does(
    agents: int, predictive: bool, warm_answers: int, steps: list[tuple[str, int]]
) -> None:
    pacer = PredictivePacer() if predictive else ProgressivePacer()
    book = DiallerBook(campaign_id=1, cap=pacer.cap, answered=warm_answers)
    away: list[str] = []
    now = 0.0
    placed = 0
    days = 0
    effects: tuple[DiallerEffect, ...] = ()
    for i in range(agents):
        book, effects = transition(book, AgentFree(at=now, agent_id=f"a{i}"))
    for action, pick in steps:
        now += 1.0
        # The adapter's rule 1: exactly what the pacer says, never more (none while the day
        # turns).
        for _ in range(0 if book.turning else pacer.calls_to_place(book.state(now))):
            placed += 1
            book, effects = transition(book, CallPlaced(at=now, call_id=f"c{placed}"))
        # Who may be connected by this event: the free agents, and one who comes free by it.
        may_take = set(book.free)
        day_before = (book.day, book.answered, book.abandoned)
        if action == "answer" and book.ringing:
            call = book.ringing[pick % len(book.ringing)][0]
            book, effects = transition(book, CallAnswered(at=now, call_id=call))
        elif action == "miss" and book.ringing:
            call = book.ringing[pick % len(book.ringing)][0]
            event = CallNotAnswered(at=now, call_id=call, outcome=Outcome.NO_ANSWER)
            book, effects = transition(book, event)
        elif action == "expire" and book.waiting:
            book, effects = transition(book, WaitExpired(at=now, call_id=book.waiting[0][0]))
        elif action == "end" and book.talking:
            call, agent, _ = book.talking[pick % len(book.talking)]
            may_take.add(agent)
            book, effects = transition(book, CallEnded(at=now, call_id=call))
        elif action == "leave":
            pool = [*book.free, *(agent for _, agent, _ in book.talking)]
            if pool:
                book, effects = transition(
                    book, AgentLeaving(at=now, agent_id=pool[pick % len(pool)])
                )
        elif action == "midnight":
            days += 1
            book, effects = transition(book, DayTurned(at=now, day=f"day-{days}"))
        elif action == "back" and away:
            agent = away.pop()
            may_take.add(agent)  # back and free: it may take a waiting call at once
            book, effects = transition(book, AgentFree(at=now, agent_id=agent))
        else:
            continue
        for effect in effects:
            if isinstance(effect, Connect):
                assert effect.agent_id in may_take
            elif isinstance(effect, ReleaseAgent):
                assert effect.agent_id not in book.free
                away.append(effect.agent_id)
            elif isinstance(effect, Report):
                pacer.on_result(effect.result)
            else:
                assert isinstance(effect, PlaySafeMessage)
        talking = [agent for _, agent, _ in book.talking]
        assert len(talking) == len(set(talking))
        assert not set(talking) & set(book.free)
        assert within_cap(book.state(now), book.cap), book
        if book.day != day_before[0]:
            # The day that ended kept the cap, and the new one counts from its own start.
            _, answered, abandoned = day_before
            assert abandoned <= book.cap.allowance(answered=answered)
            assert book.abandoned == 0 and book.dialled == 0
    assert book.abandoned <= book.cap.allowance(answered=book.answered)
