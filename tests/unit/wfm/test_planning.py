"""The planner's steps without a database: forecast overrides, the roster's coverage per
interval, and a day's requirements, re-forecast and what-if."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.wfm.erlang import ServiceTarget
from hotline.wfm.forecast import Forecast, ForecastOverride, History, apply_overrides
from hotline.wfm.intraday import DayPlan, plan_day
from hotline.wfm.roster import RosterBreak, RosterShift, coverage

MONDAY = date(2026, 3, 2)
TARGET = ServiceTarget.parse("80/20")


def _forecast(days: int = 2, per_interval: float = 10.0) -> Forecast:
    shape = (days, 48)
    ones = np.ones(shape)
    history = History(MONDAY, 1800, "UTC", ones, ones, ones)
    return Forecast(
        history,
        0,
        np.full(shape, per_interval),
        np.full(shape, per_interval * 0.8),
        np.full(shape, per_interval * 1.2),
        np.full(shape, 300.0),
        np.full(shape, 280.0),
        np.full(shape, 320.0),
        [None] * days,
        0.0,
    )


def test_an_override_scales_only_the_intervals_it_covers_and_compounds() -> None:
    tuesday = MONDAY + timedelta(days=1)
    overrides = [
        ForecastOverride(tuesday, time(9), time(12), 20.0, "mailing"),
        ForecastOverride(tuesday, time(11), time(11, 30), 10.0, "radio spot", queue="repair"),
        ForecastOverride(MONDAY + timedelta(days=5), time(9), time(12), 50.0, "outside"),
    ]
    result = apply_overrides(_forecast(), overrides)
    tuesday_row = result.offered[1]
    assert tuesday_row[17] == 10.0  # 08:30
    assert tuesday_row[18] == pytest.approx(12.0)  # 09:00
    assert tuesday_row[22] == pytest.approx(13.2)  # 11:00, both
    assert tuesday_row[23] == pytest.approx(12.0)  # 11:30: the second ended
    assert tuesday_row[24] == 10.0  # 12:00 is not included
    assert (result.offered[0] == 10.0).all()
    assert result.offered_low[1, 18] == pytest.approx(9.6)
    assert (result.aht_s == 300.0).all()  # an override says how many call, not how long
    assert len(result.notes) == 2  # the one outside the forecast's days is not noted


def test_an_override_must_end_after_it_starts_and_take_at_most_everything() -> None:
    with pytest.raises(ValueError, match="ends"):
        ForecastOverride(MONDAY, time(12), time(9), 20.0, "x")
    with pytest.raises(ValueError, match="100 %"):
        ForecastOverride(MONDAY, time(9), time(12), -150.0, "x")
    closed = apply_overrides(
        _forecast(), [ForecastOverride(MONDAY, time(0), time(23, 59), -100, "closed")]
    )
    assert (closed.offered[0] == 0).all()


def at(hour: float) -> datetime:
    return datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=hour)


def test_coverage_counts_heads_on_shift_and_off_break_by_the_share_of_each_interval() -> None:
    shifts = [
        RosterShift("a001", at(8), at(17), breaks=(RosterBreak(at(12), at(13), "lunch"),)),
        RosterShift("a002", at(9.25), at(13)),
        # a night shift from the day before reaches into this one
        RosterShift("a003", at(-2), at(2)),
    ]
    heads = coverage(shifts, day_start=at(0), interval_s=1800, slots=48)
    assert heads[0:4] == [1.0, 1.0, 1.0, 1.0]
    assert heads[4] == 0.0
    assert heads[16] == 1.0  # 08:00
    assert heads[18] == 1.5  # 09:00: a002 from 09:15
    assert heads[20] == 2.0
    assert heads[24] == 1.0  # 12:00: a001 at lunch
    assert heads[26] == 1.0  # 13:00: a001 back, a002 gone
    assert heads[34] == 0.0


def _plan(**changes: Any) -> DayPlan:
    """A plan of intervals of ten 300-s calls (bounds 8 to 12) and six heads, 25 % shrinkage,
    with ``changes`` to those inputs."""
    inputs: dict[str, Any] = {
        "forecast_offered": [10.0] * 4,
        "forecast_low": [8.0] * 4,
        "forecast_high": [12.0] * 4,
        "forecast_aht_s": [300.0] * 4,
        "actual_offered": [],
        "actual_answered": [],
        "actual_handle_s": [],
        "scheduled_heads": [6.0] * 4,
        "interval_s": 1800,
        "target": TARGET,
        "shrinkage": 0.25,
    }
    return plan_day(**{**inputs, **changes})


def test_a_day_in_the_future_needs_erlangs_agents_grossed_up_for_shrinkage() -> None:
    plan = _plan(
        forecast_offered=[10.0, 0.0],
        forecast_low=[8.0, 0.0],
        forecast_high=[12.0, 0.0],
        forecast_aht_s=[300.0, 300.0],
        scheduled_heads=[3.0, 2.0],
    )
    busy, quiet = plan.intervals
    assert (busy.required_agents, busy.required_heads, busy.gap) == (4, 6, -3.0)
    assert (quiet.required_agents, quiet.required_heads, quiet.gap) == (0, 0, 2.0)
    assert plan.short_heads == 3.0
    # three heads less a quarter: two on the phones for 1.67 Erlangs
    assert busy.service_level is not None and busy.service_level < 0.8
    assert busy.what_if_service_level == busy.service_level  # no what-if asked


def test_the_elapsed_part_of_the_day_re_forecasts_the_rest() -> None:
    plan = _plan(
        actual_offered=[40.0, 40.0],
        actual_answered=[40.0, 40.0],
        actual_handle_s=[40 * 300.0] * 2,
        extra_agents=3,
    )
    done, _, ahead, _ = plan.intervals
    assert done.elapsed and done.actual_offered == 40.0 and done.service_level is None
    # (80 + 50) ÷ (20 + 50): the rest of the day runs 1.86 times the forecast
    assert plan.volume_ratio == pytest.approx(130 / 70)
    assert ahead.reforecast_offered == pytest.approx(10 * 130 / 70)
    assert ahead.required_agents > 4
    assert ahead.what_if_service_level is not None and ahead.service_level is not None
    assert ahead.what_if_service_level > ahead.service_level


@given(st.integers(min_value=-5, max_value=20), st.floats(min_value=0, max_value=60))
def test_more_agents_never_lower_the_projected_service_level(extra: int, calls: float) -> None:
    plan = _plan(
        forecast_offered=[calls],
        forecast_low=[calls],
        forecast_high=[calls],
        forecast_aht_s=[300.0],
        scheduled_heads=[8.0],
        extra_agents=extra,
    )
    row = plan.intervals[0]
    assert row.service_level is not None and row.what_if_service_level is not None
    if extra >= 0:
        assert row.what_if_service_level >= row.service_level
    else:
        assert row.what_if_service_level <= row.service_level


def test_a_plan_refuses_bounds_of_another_length() -> None:
    with pytest.raises(ValueError, match="bounds"):
        _plan(forecast_low=[1.0])
