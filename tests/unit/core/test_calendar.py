"""The business-hours calendar: opening hours, holidays, make-up days, pauses, adding time.

One calendar serves routing (is a queue open), the IVR (hours nodes) and tickets (SLA clocks);
these tests hold its arithmetic, and the properties tie its three ways of asking ``is_open``
to the open intervals the SLA clocks add up.
"""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core import calendar as calendar_module
from hotline.core.calendar import BusinessCalendar, parse_period, parse_periods

SHANGHAI = "Asia/Shanghai"


def cn(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(SHANGHAI))


def test_doctests_pass() -> None:
    assert doctest.testmod(calendar_module).failed == 0


def test_split_day_hours_skip_lunch() -> None:
    cal = BusinessCalendar.weekdays(SHANGHAI, "08:30-12:00,13:00-17:30")
    # Monday 11:00 → 14:00 is 1 h before lunch and 1 h after.
    assert cal.business_seconds(cn(2026, 11, 23, 11), cn(2026, 11, 23, 14)) == 7200
    assert not cal.is_open(cn(2026, 11, 23, 12, 30))
    assert cal.is_open(cn(2026, 11, 23, 13, 0))


def test_holiday_and_make_up_working_day() -> None:
    # National Day week: Thursday 1 Oct 2026 is a holiday, Saturday 10 Oct a make-up workday.
    cal = BusinessCalendar.weekdays(
        SHANGHAI,
        "09:00-17:00",
        holidays=[date(2026, 10, 1)],
        working_days={date(2026, 10, 10): "09:00-17:00"},
    )
    assert cal.business_seconds(cn(2026, 10, 1, 0), cn(2026, 10, 2, 0)) == 0
    assert cal.business_seconds(cn(2026, 10, 10, 0), cn(2026, 10, 11, 0)) == 8 * 3600
    # Wednesday 16:00 + 2 business hours skips the holiday: Friday 10:00.
    assert cal.add_business_seconds(cn(2026, 9, 30, 16), 7200) == cn(2026, 10, 2, 10)


def test_add_from_closed_time_starts_at_next_opening() -> None:
    cal = BusinessCalendar.weekdays(SHANGHAI, "09:00-18:00")
    assert cal.add_business_seconds(cn(2026, 11, 21, 23), 60) == cn(2026, 11, 23, 9, 1)
    assert cal.add_business_seconds(cn(2026, 11, 21, 23), 0) == cn(2026, 11, 21, 23)


def test_pauses_are_left_out_and_may_overlap() -> None:
    cal = BusinessCalendar.weekdays("UTC", "09:00-17:00")
    start = datetime(2026, 11, 23, 9, tzinfo=UTC)
    pauses = [
        (start + timedelta(hours=1), start + timedelta(hours=3)),
        (start + timedelta(hours=2), start + timedelta(hours=4)),
        (start + timedelta(hours=10), start + timedelta(hours=20)),  # overnight: closed anyway
    ]
    assert cal.business_seconds(start, start + timedelta(hours=8), pauses) == 5 * 3600


def test_time_zone_of_the_site_is_used() -> None:
    cal = BusinessCalendar.weekdays(SHANGHAI, "09:00-18:00")
    # 01:00 UTC is 09:00 in Shanghai.
    assert cal.is_open(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))
    assert not cal.is_open(datetime(2026, 11, 23, 0, 59, tzinfo=UTC))


def test_daylight_saving_day_has_its_real_length() -> None:
    cal = BusinessCalendar.always_open("Europe/Berlin")
    day_start = datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Berlin"))
    assert cal.business_seconds(day_start, day_start + timedelta(days=1)) == 23 * 3600


def test_bad_hours_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="end before they start"):
        parse_periods("18:00-09:00")
    with pytest.raises(ValueError, match="overlap"):
        parse_periods("09:00-12:00,11:00-13:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        BusinessCalendar.always_open().business_seconds(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="no opening hours"):
        BusinessCalendar("UTC", {}).add_business_seconds(datetime(2026, 1, 1, tzinfo=UTC), 1)


moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(start=moments, seconds=st.integers(min_value=0, max_value=5 * 86400))
def test_adding_then_measuring_gives_back_the_duration(start: datetime, seconds: int) -> None:
    cal = BusinessCalendar.weekdays(
        SHANGHAI, "08:30-12:00,13:00-17:30", saturday="09:00-12:00", holidays=[date(2026, 5, 1)]
    )
    due = cal.add_business_seconds(start, seconds)
    assert due >= start
    assert cal.business_seconds(start, due) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(a=moments, b=moments, c=moments)
def test_business_time_adds_up_over_consecutive_spans(
    a: datetime, b: datetime, c: datetime
) -> None:
    x, y, z = sorted((a, b, c))
    cal = BusinessCalendar.weekdays(SHANGHAI, "09:00-18:00")
    whole = cal.business_seconds(x, z)
    assert whole == pytest.approx(cal.business_seconds(x, y) + cal.business_seconds(y, z))
    assert 0 <= whole <= (z - x).total_seconds()


def test_period_text_is_checked_field_by_field() -> None:
    assert parse_period("00:00-24:00") == (0, 86_400)
    assert parse_periods(["13:00-17:30", "08:30-12:00"]) == ((30_600, 43_200), (46_800, 63_000))
    for text, problem in {
        "8am-5pm": "must look like 08:00-20:00",
        "24:00-24:00": "start time in '24:00-24:00' is not a time of day",
        "08:00-24:30": "24:00 is the latest",
        "08:00-08:00": "end before they start",
    }.items():
        with pytest.raises(ValueError, match=problem):
            parse_period(text)


def test_a_holiday_with_its_own_hours_replaces_the_week() -> None:
    cal = BusinessCalendar(
        SHANGHAI,
        weekly={day: parse_periods("08:00-20:00") for day in range(5)},
        holidays={date(2026, 10, 1): (), date(2026, 10, 2): parse_periods("10:00-16:00")},
    )
    assert not cal.is_open(cn(2026, 10, 1, 12))  # National Day, a Thursday: closed
    assert cal.is_open(cn(2026, 10, 2, 12)) and not cal.is_open(cn(2026, 10, 2, 9))
    assert cal.business_seconds(cn(2026, 10, 1), cn(2026, 10, 3)) == 6 * 3600
    assert cal.hours_on(date(2026, 10, 5)) == ((8 * 3600, 20 * 3600),)


def test_unknown_time_zone_is_refused_when_the_calendar_is_made() -> None:
    with pytest.raises(KeyError):
        BusinessCalendar("Mars/Olympus_Mons", {})


week = BusinessCalendar.weekdays(
    "Europe/Berlin",
    "08:30-12:00,13:00-17:30",
    saturday="09:00-12:00",
    holidays=[date(2026, 5, 1)],
    working_days={date(2026, 3, 29): "01:00-04:00"},  # a Sunday when clocks go forward at 2:00
)


@settings(max_examples=200, deadline=None)
@given(moment=moments)
def test_every_way_of_asking_is_open_agrees(moment: datetime) -> None:
    # Routing asks with epoch seconds, tickets with an aware instant, the IVR with local time.
    local = moment.astimezone(week.zone)
    answer = week.is_open(moment)
    assert week.is_open(moment.timestamp()) == answer
    assert week.is_open(local) == answer
    assert week.is_open(local.replace(tzinfo=None)) == answer


@settings(max_examples=200, deadline=None)
@given(moment=moments)
def test_is_open_agrees_with_the_open_intervals(moment: datetime) -> None:
    # Berlin has a daylight-saving change in the range: the wall-clock reading of is_open and
    # the UTC intervals SLA clocks sum must still say the same thing at every instant.
    inside = list(week.open_intervals(moment, moment + timedelta(microseconds=1)))
    assert week.is_open(moment) == bool(inside)
