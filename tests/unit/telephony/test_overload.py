"""Overload control's policy: which new calls are admitted, and the overload alarms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.telephony.overload import (
    LOOP_LAG,
    MEDIA_DELAY,
    MEDIA_PENDING,
    RECOVERY_TICKS,
    SETUP_AGE,
    SETUP_BACKLOG,
    SIP_LAG,
    OverloadBounds,
    OverloadState,
    VoiceLoad,
    admit,
    overload_tick,
)

BOUNDS = OverloadBounds(
    max_setup_backlog=20,
    max_setup_age_s=0.25,
    max_sip_lag_s=0.08,
    max_media_delay_s=0.12,
    max_media_pending=40,
    max_loop_lag_s=0.1,
    retry_after_s=7,
)


def test_an_idle_server_admits() -> None:
    decision = admit(VoiceLoad(), BOUNDS)
    assert decision.admitted
    assert decision.reason is None and decision.retry_after_s is None


@pytest.mark.parametrize(
    ("load", "reason"),
    [
        (VoiceLoad(setup_backlog=20), SETUP_BACKLOG),
        (VoiceLoad(setup_backlog=500, oldest_setup_age_s=9.0), SETUP_BACKLOG),
        (VoiceLoad(setup_backlog=2, oldest_setup_age_s=0.25), SETUP_AGE),
        (VoiceLoad(sip_lag_s=0.08), SIP_LAG),
        (VoiceLoad(media_delay_s=0.12), MEDIA_DELAY),
        (VoiceLoad(media_pending=40), MEDIA_PENDING),
        (VoiceLoad(loop_lag_s=0.1), LOOP_LAG),
        (VoiceLoad(setup_backlog=1, loop_lag_s=2.0), LOOP_LAG),
    ],
)
def test_each_bound_refuses_with_its_reason_and_retry_after(load: VoiceLoad, reason: str) -> None:
    decision = admit(load, BOUNDS)
    assert not decision.admitted
    assert decision.reason == reason
    assert decision.retry_after_s == 7


def test_just_under_every_bound_admits() -> None:
    load = VoiceLoad(
        setup_backlog=19,
        oldest_setup_age_s=0.249,
        sip_lag_s=0.079,
        media_delay_s=0.119,
        media_pending=39,
        loop_lag_s=0.099,
    )
    assert admit(load, BOUNDS).admitted


def test_an_age_without_a_backlog_is_no_reason_to_refuse() -> None:
    # nobody waits for an answer: a stale age (the stack reports 0 then) refuses nobody
    assert admit(VoiceLoad(setup_backlog=0, oldest_setup_age_s=5.0), BOUNDS).admitted


@given(
    backlog=st.integers(0, 1000),
    age=st.floats(0, 60, allow_nan=False),
    sip_lag=st.floats(0, 60, allow_nan=False),
    media_delay=st.floats(0, 60, allow_nan=False),
    media=st.integers(0, 1000),
    lag=st.floats(0, 60, allow_nan=False),
)
def test_refused_exactly_when_some_bound_is_reached(
    backlog: int, age: float, sip_lag: float, media_delay: float, media: int, lag: float
) -> None:
    load = VoiceLoad(
        setup_backlog=backlog,
        oldest_setup_age_s=age,
        sip_lag_s=sip_lag,
        media_delay_s=media_delay,
        media_pending=media,
        loop_lag_s=lag,
    )
    over = (
        backlog >= BOUNDS.max_setup_backlog
        or (backlog > 0 and age >= BOUNDS.max_setup_age_s)
        or sip_lag >= BOUNDS.max_sip_lag_s
        or media_delay >= BOUNDS.max_media_delay_s
        or media >= BOUNDS.max_media_pending
        or lag >= BOUNDS.max_loop_lag_s
    )
    assert admit(load, BOUNDS).admitted is not over


@pytest.mark.parametrize(
    "fields",
    [
        {"max_setup_backlog": 0},
        {"max_media_pending": 0},
        {"max_setup_age_s": 0.0},
        {"max_loop_lag_s": -1.0},
        {"max_sip_lag_s": 0.0},
        {"max_media_delay_s": 0.0},
        {"retry_after_s": 0},
    ],
)
def test_bounds_that_would_refuse_everything_are_refused(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="overload bounds"):
        OverloadBounds(**fields)  # type: ignore[arg-type]


def test_an_overload_raises_one_alarm_then_recovers_after_quiet_ticks() -> None:
    state = OverloadState()
    log: list[tuple[float, str, int]] = []
    refused_per_tick = [0, 3, 5, 0, 2, 0, 0, 0, 0, 4]
    for at, refused in enumerate(refused_per_tick):
        state, alarm = overload_tick(
            state, at=float(at), refused=refused, reason=SETUP_AGE if refused else None
        )
        if alarm is not None:
            log.append((float(at), alarm.state, alarm.refused))
    # one episode of 3 + 5 + 2 (a single quiet second does not end it), then a new one
    assert RECOVERY_TICKS == 3
    assert log == [(1.0, "overload", 3), (7.0, "recovered", 10), (9.0, "overload", 4)]
    assert state.overloaded and state.since == 9.0
    assert state.refused_total == 14 and state.refused_in_episode == 4


def test_the_alarm_says_what_was_refused_and_why() -> None:
    state, alarm = overload_tick(OverloadState(), at=5.0, refused=2, reason=MEDIA_PENDING)
    assert alarm is not None
    assert alarm.data() == {
        "component": "sip",
        "state": "overload",
        "refused": 2,
        "reason": MEDIA_PENDING,
    }
    assert state.as_dict() == {
        "overloaded": True,
        "since": 5.0,
        "refused_total": 2,
        "refused_now": 2,
        "reason": MEDIA_PENDING,
    }


def test_no_refusals_no_alarm() -> None:
    state = OverloadState()
    for at in range(10):
        state, alarm = overload_tick(state, at=float(at), refused=0, reason=None)
        assert alarm is None
    assert state == OverloadState()
