"""VICIdial's adaptive pacing, as re-implemented from AST_VDadapt.pl: each behaviour it cites."""

from __future__ import annotations

import pytest

from hotline.pacing.adaptive import AdaptiveMethod, AdaptivePacer
from hotline.pacing.state import CallResult, DialerState, Outcome


def run_seconds(pacer, seconds, start=0, **counts):
    """Ask the pacer once a second with the same situation; return the last answer."""
    placed = 0
    for second in range(start, start + seconds):
        placed = pacer.calls_to_place(DialerState(now=float(second), **counts))
    return placed


def log_day(pacer, *, at, calls, answers, drops):
    for _ in range(calls - answers):
        pacer.on_result(CallResult(at=at, outcome=Outcome.NO_ANSWER))
    for _ in range(answers):
        pacer.on_result(CallResult(at=at, outcome=Outcome.ANSWERED))
    for _ in range(drops):
        pacer.on_result(CallResult(at=at, outcome=Outcome.ABANDONED))


def test_the_level_rises_while_agents_wait_and_is_clamped_to_the_maximum():
    pacer = AdaptivePacer(maximum_level=2.0)
    run_seconds(pacer, 16, free_agents=5, talking_agents=5)
    assert pacer.dial_level == pytest.approx(1.5)  # ready 5 of 10 agents: +50 %
    run_seconds(pacer, 60, start=16, free_agents=5, talking_agents=5)
    assert pacer.dial_level == 2.0


def test_the_level_falls_while_calls_wait_but_never_below_one():
    pacer = AdaptivePacer(dial_level=2.0)
    run_seconds(pacer, 16, talking_agents=10, waiting=2)
    assert pacer.dial_level == pytest.approx(1.6)  # 2 calls waiting for 10 agents: −20 %
    run_seconds(pacer, 200, start=16, talking_agents=10, waiting=5)
    assert pacer.dial_level == 1.0


def test_intensity_scales_the_correction():
    bold = AdaptivePacer(intensity=20)
    run_seconds(bold, 16, free_agents=5, talking_agents=5)
    assert bold.dial_level == pytest.approx(1.6)  # +50 % × 1.2
    timid = AdaptivePacer(dial_level=2.0, intensity=20)
    run_seconds(timid, 16, talking_agents=10, waiting=2)
    assert timid.dial_level == pytest.approx(1.68)  # −20 % × |0.2 − 1|


def test_calls_placed_are_the_goal_less_the_calls_under_way():
    pacer = AdaptivePacer(dial_level=2.0)
    # round(2.0 × (4 ready + 6 in call)) − (3 ringing + 1 waiting + 6 talking) = 10
    assert (
        pacer.calls_to_place(
            DialerState(now=0.0, free_agents=4, talking_agents=6, ringing=3, waiting=1)
        )
        == 10
    )


@pytest.mark.parametrize(
    ("method", "remaining_s", "expected"),
    [
        (AdaptiveMethod.HARD_LIMIT, 8 * 3600.0, 1.0),
        (AdaptiveMethod.AVERAGE, 8 * 3600.0, 1.25),
        (AdaptiveMethod.TAPERED, 12 * 3600.0, 2.5),  # over ten hours left: no cut
        (AdaptiveMethod.TAPERED, 5 * 3600.0, 1.25),  # 500/1000 in HHMM units
    ],
)
def test_a_day_over_the_drop_limit_cuts_the_level(method, remaining_s, expected):
    pacer = AdaptivePacer(method=method, dial_level=2.5, maximum_level=3.0)
    pacer.calls_to_place(DialerState(now=0.0, talking_agents=10))
    log_day(pacer, at=1.0, calls=100, answers=60, drops=3)  # 5 % of answers
    # Balanced agents: no correction from the differential, only the drop rule acts.
    run_seconds(pacer, 60, start=1, talking_agents=10, remaining_s=remaining_s)
    assert pacer.dial_level == pytest.approx(expected)


def test_a_minute_with_most_calls_dropped_halves_the_level():
    pacer = AdaptivePacer(dial_level=3.0, dropped_percentage=100)
    pacer.calls_to_place(DialerState(now=0.0, talking_agents=10))
    log_day(pacer, at=50.0, calls=24, answers=24, drops=20)
    run_seconds(pacer, 10, start=61, talking_agents=10)
    assert pacer.dial_level == pytest.approx(1.5)


def test_the_settings_are_checked():
    with pytest.raises(ValueError, match="maximum_level"):
        AdaptivePacer(maximum_level=0.5)
    with pytest.raises(ValueError, match="intensity"):
        AdaptivePacer(intensity=60)
