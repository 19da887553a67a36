"""Due times of scheduled reports and the days each covers, in local time across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.core.recurrence import Recurrence, covered_days, latest_due

BERLIN = "Europe/Berlin"


def test_a_daily_report_is_due_at_its_local_time_across_a_clock_change() -> None:
    rule = Recurrence(frequency="daily", at=time(7, 30), timezone=BERLIN)
    # 2026-03-29: Berlin moves from UTC+1 to UTC+2; 07:30 local stays 07:30.
    before = latest_due(rule, datetime(2026, 3, 28, 12, tzinfo=UTC))
    after = latest_due(rule, datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert before == datetime(2026, 3, 28, 6, 30, tzinfo=UTC)
    assert after == datetime(2026, 3, 29, 5, 30, tzinfo=UTC)
    assert covered_days(rule, after) == (date(2026, 3, 28), date(2026, 3, 28))


def test_a_time_skipped_by_the_clock_change_runs_once_the_clock_has_jumped() -> None:
    rule = Recurrence(frequency="daily", at=time(2, 30), timezone=BERLIN)
    due = latest_due(rule, datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert due == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST


def test_weekly_and_monthly_rhythms() -> None:
    weekly = Recurrence(frequency="weekly", at=time(8), weekday=4, timezone="UTC")
    due = latest_due(weekly, datetime(2026, 12, 3, 9, tzinfo=UTC))  # a Thursday
    assert due == datetime(2026, 11, 27, 8, tzinfo=UTC)  # last Friday
    assert covered_days(weekly, due) == (date(2026, 11, 20), date(2026, 11, 26))
    monthly = Recurrence(frequency="monthly", at=time(6), day_of_month=15, timezone="UTC")
    due = latest_due(monthly, datetime(2026, 1, 10, tzinfo=UTC))
    assert due == datetime(2025, 12, 15, 6, tzinfo=UTC)
    assert covered_days(monthly, due) == (date(2025, 11, 1), date(2025, 11, 30))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"frequency": "hourly"}, "frequency"),
        ({"frequency": "weekly"}, "weekday"),
        ({"frequency": "monthly", "day_of_month": 29}, "day_of_month"),
    ],
)
def test_a_rhythm_missing_its_day_is_refused(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {"frequency": "daily", "at": time(7), "timezone": "UTC"}
    with pytest.raises(ValueError, match=field):
        Recurrence(**{**values, **changes})  # type: ignore[arg-type]


@given(
    frequency=st.sampled_from(["daily", "weekly", "monthly"]),
    minutes=st.integers(0, 24 * 60 - 1),
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
)
def test_the_latest_due_time_is_past_and_the_next_one_is_not(
    frequency: str, minutes: int, now: datetime
) -> None:
    rule = Recurrence(
        frequency=frequency,  # type: ignore[arg-type]
        at=time(minutes // 60, minutes % 60),
        timezone="Asia/Shanghai",
        weekday=2,
        day_of_month=28,
    )
    instant = now.replace(tzinfo=UTC)
    due = latest_due(rule, instant)
    assert due <= instant
    # A due time is its own latest; a moment before it, an earlier one is.
    assert latest_due(rule, due) == due
    assert latest_due(rule, due - timedelta(microseconds=1)) < due
    # It covers whole local days before it: up to yesterday, or the last whole month.
    first, last = covered_days(rule, due)
    local = due.astimezone(ZoneInfo("Asia/Shanghai")).date()
    if frequency == "monthly":
        assert first.day == 1 and (last + timedelta(days=1)).day == 1 and last < local
        assert first.month == last.month
    else:
        assert first <= last == local - timedelta(days=1)
