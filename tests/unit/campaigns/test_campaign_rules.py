"""Compliance rules: calling hours in the customer's zone with holidays, retry rules, retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hotline.campaigns.rules import (
    CallingHours,
    CallResult,
    keep_until,
    may_call,
    next_call_time,
    parse_calling_hours,
    parse_retry_policy,
)
from hotline.core.errors import ValidationFailed

HOURS = CallingHours(weekdays="09:00-12:00,14:00-20:00", holidays=(date(2026, 12, 3),))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_calling_hours_are_read_in_the_customers_zone() -> None:
    # Wednesday 2026-12-02 05:00 UTC is 13:00 in Shanghai (lunch: closed), 06:00 in Paris
    at = utc(2026, 12, 2, 5, 0)
    assert not may_call(HOURS, at, time_zone="Asia/Shanghai")
    assert not may_call(HOURS, at, time_zone="Europe/Paris")
    assert may_call(HOURS, utc(2026, 12, 2, 6, 0), time_zone="Asia/Shanghai")  # 14:00 there
    assert may_call(HOURS, utc(2026, 12, 2, 9, 0), time_zone="Europe/Paris")  # 10:00 there


def test_a_holiday_has_no_calling_hours_and_the_next_time_skips_it() -> None:
    # Thursday 2026-12-03 is a holiday: 10:00 Shanghai that day is not callable
    assert not may_call(HOURS, utc(2026, 12, 3, 2, 0), time_zone="Asia/Shanghai")
    # from Wednesday 20:30 Shanghai the next time is Friday 09:00 Shanghai (01:00 UTC)
    after = next_call_time(HOURS, utc(2026, 12, 2, 12, 30), time_zone="Asia/Shanghai")
    assert after == utc(2026, 12, 4, 1, 0)
    # inside the hours the moment itself is the answer
    inside = utc(2026, 12, 2, 2, 0)
    assert next_call_time(HOURS, inside, time_zone="Asia/Shanghai") == inside


def test_no_calling_hours_at_all_gives_no_next_time() -> None:
    closed = CallingHours(weekdays="", time_zone="UTC")
    assert next_call_time(closed, utc(2026, 12, 2, 10, 0)) is None


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        may_call(HOURS, datetime(2026, 12, 2, 10, 0))


def test_calling_hours_configuration_names_every_bad_field() -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_calling_hours(
            {
                "weekdays": "09:00-25:00",
                "holidays": ["2026-13-01"],
                "time_zone": "Mars/Olympus",
                "evenings": "x",
            },
            source="campaign 'renewals'",
        )
    fields = {p.field for p in failed.value.problems}
    assert fields == {
        "calling_hours",
        "calling_hours.weekdays",
        "calling_hours.holidays[0]",
        "calling_hours.time_zone",
    }
    assert all(p.file == "campaign 'renewals'" for p in failed.value.problems)
    hours = parse_calling_hours({"saturday": "10:00-16:00", "holidays": ["2026-10-01"]})
    assert hours.holidays == (date(2026, 10, 1),)
    assert parse_calling_hours(hours.as_dict()) == hours


def test_retry_rules_are_validated_with_located_problems() -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_retry_policy(
            {
                "max_attempts": 0,
                "busy": {"after_minutes": 0},
                "completed": {"after_minutes": 5},
                "no_answer": {"after_minutes": 5, "max_attempts": "two"},
                "failed": 3,
            }
        )
    assert {p.field for p in failed.value.problems} == {
        "retry.max_attempts",
        "retry.busy.after_minutes",
        "retry.completed",
        "retry.no_answer.max_attempts",
        "retry.failed",
    }
    policy = parse_retry_policy({"max_attempts": 5, "no_answer": {"after_minutes": 30}})
    assert policy.rule_for(CallResult.NO_ANSWER).after_minutes == 30
    assert policy.rule_for(CallResult.BUSY).after_minutes == 15  # the default
    assert parse_retry_policy(policy.as_dict()) == policy


def test_consent_is_kept_at_least_thirty_days() -> None:
    at = utc(2026, 12, 1)
    assert keep_until(at) - at == timedelta(days=30)
    assert keep_until(at, days=90) - at == timedelta(days=90)
    with pytest.raises(ValueError, match="at least 30 days"):
        keep_until(at, days=7)
