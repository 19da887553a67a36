"""A record's state machine: claims, results, retries by rule, caps, callbacks, do-not-call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.campaigns.records import (
    Attempted,
    AttemptLogged,
    Blocked,
    Claimed,
    Finished,
    RecordState,
    RecordStatus,
    Released,
    RetryScheduled,
    Rules,
    dialable,
    transition,
)
from hotline.campaigns.rules import CallingHours, CallResult, RetryPolicy, RetryRule
from hotline.core.errors import Conflict

ALWAYS = CallingHours(
    weekdays="00:00-24:00", saturday="00:00-24:00", sunday="00:00-24:00", time_zone="UTC"
)
RULES = Rules(
    ALWAYS,
    RetryPolicy(
        max_attempts=3,
        rules={
            CallResult.BUSY: RetryRule(10),
            CallResult.NO_ANSWER: RetryRule(60, max_attempts=2),
            CallResult.FAILED: RetryRule(240),
            CallResult.CALLBACK_REQUESTED: RetryRule(30),
            CallResult.ABANDONED: RetryRule(5),
        },
    ),
)
T0 = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def attempt(
    state: RecordState, result: CallResult, at: datetime = T0, **kw: datetime
) -> tuple[RecordState, list[object]]:
    state, _ = transition(state, Claimed(at=at, by="a001"), RULES)
    after, effects = transition(state, Attempted(at=at, result=result, **kw), RULES)
    return after, list(effects)


def test_busy_is_retried_after_its_own_delay() -> None:
    state, effects = attempt(RecordState(), CallResult.BUSY)
    assert state.status is RecordStatus.WAITING and state.attempts == 1
    assert effects == [
        AttemptLogged(1, CallResult.BUSY, "a001"),
        RetryScheduled(T0 + timedelta(minutes=10), CallResult.BUSY),
    ]
    assert not dialable(state, T0 + timedelta(minutes=9), RULES)
    assert dialable(state, T0 + timedelta(minutes=10), RULES)


def test_a_results_own_cap_ends_the_record_before_the_campaigns() -> None:
    state, _ = attempt(RecordState(), CallResult.NO_ANSWER)
    state, effects = attempt(state, CallResult.NO_ANSWER, T0 + timedelta(hours=1))
    assert state.status is RecordStatus.EXHAUSTED
    assert effects[-1] == Finished(RecordStatus.EXHAUSTED, "max_attempts")


def test_the_campaign_cap_ends_the_record() -> None:
    state = RecordState()
    for n in range(3):
        state, _ = attempt(state, CallResult.BUSY, T0 + timedelta(hours=n))
    assert state.status is RecordStatus.EXHAUSTED and state.attempts == 3


def test_a_requested_callback_is_kept_at_the_customers_time_even_past_the_cap() -> None:
    state = RecordState(attempts=2)
    wanted = T0 + timedelta(days=1, hours=3)
    state, effects = attempt(state, CallResult.CALLBACK_REQUESTED, callback_at=wanted)
    assert state.status is RecordStatus.WAITING and state.due_at == wanted
    assert effects[-1] == RetryScheduled(wanted, CallResult.CALLBACK_REQUESTED)


def test_a_retry_outside_calling_hours_moves_to_the_next_opening_in_the_customers_zone() -> None:
    rules = Rules(CallingHours(weekdays="09:00-18:00"), RULES.retry)
    # 17:55 in Shanghai on Wednesday; busy +10 min is 18:05 → Thursday 09:00 Shanghai
    at = datetime(2026, 12, 2, 9, 55, tzinfo=UTC)
    state = RecordState(time_zone="Asia/Shanghai")
    state, _ = transition(state, Claimed(at=at, by="a001"), rules)
    state, _ = transition(state, Attempted(at=at, result=CallResult.BUSY), rules)
    assert state.due_at == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "result",
    [CallResult.COMPLETED, CallResult.DECLINED, CallResult.WRONG_NUMBER, CallResult.DO_NOT_CALL],
)
def test_final_results_finish_the_record(result: CallResult) -> None:
    state, effects = attempt(RecordState(), result)
    assert state.status is RecordStatus.DONE
    assert effects[-1] == Finished(RecordStatus.DONE, str(result))


def test_illegal_steps_are_conflicts() -> None:
    with pytest.raises(Conflict):
        transition(RecordState(), Attempted(at=T0, result=CallResult.BUSY), RULES)
    with pytest.raises(Conflict):
        transition(RecordState(), Released(at=T0), RULES)
    held, _ = transition(RecordState(), Claimed(at=T0, by="a001"), RULES)
    with pytest.raises(Conflict):
        transition(held, Claimed(at=T0, by="a002"), RULES)
    back, _ = transition(held, Released(at=T0), RULES)
    assert back == RecordState()


events = st.one_of(
    st.builds(Claimed, at=st.just(T0), by=st.just("a001")),
    st.builds(Released, at=st.just(T0)),
    st.builds(Attempted, at=st.just(T0), result=st.sampled_from(list(CallResult))),
    st.builds(Blocked, at=st.just(T0), list_name=st.just("center")),
)


@given(st.lists(events, max_size=30))
def test_a_blocked_record_is_never_dialled_again_and_attempts_never_pass_the_cap(
    sequence: list[object],
) -> None:
    state = RecordState()
    blocked = False
    for event in sequence:
        try:
            state, _ = transition(state, event, RULES)  # type: ignore[arg-type]
        except Conflict:
            continue
        blocked = blocked or isinstance(event, Blocked)
        if blocked:
            assert state.status is RecordStatus.BLOCKED
            assert not dialable(state, T0 + timedelta(days=365), RULES)
        assert state.attempts <= RULES.retry.max_attempts
