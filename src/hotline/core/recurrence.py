"""When a scheduled report is due, and which days it covers.

A manager asks for a report "every day at 07:30", "every Monday at 08:00" or "on the 1st of
each month at 06:00", in the center's time zone. Each such moment is a *due time*; a report
sent at a due time covers the whole local days before it: a daily one yesterday, a weekly
one the seven days ending yesterday, a monthly one the previous calendar month. Due times
are computed in local wall-clock time and then turned into instants, so a 07:30 report stays
at 07:30 across a change of daylight-saving time (a time skipped by the change runs at the
instant the clock jumps to).

>>> rule = Recurrence(frequency="weekly", at=time(8, 0), weekday=0, timezone="Asia/Shanghai")
>>> due = latest_due(rule, datetime(2026, 11, 25, 3, 0, tzinfo=UTC))  # a Wednesday
>>> due.isoformat(), covered_days(rule, due)
('2026-11-23T00:00:00+00:00', (datetime.date(2026, 11, 16), datetime.date(2026, 11, 22)))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

Frequency = Literal["daily", "weekly", "monthly"]
FREQUENCIES: tuple[Frequency, ...] = ("daily", "weekly", "monthly")
#: The last day of the month a monthly report may fall on (every month has it).
LAST_DAY_OF_MONTH = 28


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A report's rhythm: ``daily``, ``weekly`` on ``weekday`` (0 = Monday) or ``monthly``
    on ``day_of_month`` (1–28), at the local time ``at`` of ``timezone``."""

    frequency: Frequency
    at: time
    timezone: str
    weekday: int | None = None
    day_of_month: int | None = None

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency: use one of {', '.join(FREQUENCIES)}")
        if self.frequency == "weekly" and not (self.weekday is not None and 0 <= self.weekday <= 6):
            raise ValueError("weekday: a weekly report needs a weekday from 0 (Monday) to 6")
        if self.frequency == "monthly" and not (
            self.day_of_month is not None and 1 <= self.day_of_month <= LAST_DAY_OF_MONTH
        ):
            raise ValueError(
                f"day_of_month: a monthly report needs a day from 1 to {LAST_DAY_OF_MONTH}"
            )
        ZoneInfo(self.timezone)  # an unknown zone raises here, not at the first due time


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A local time skipped by a daylight-saving change is read with the offset before the
    # change (fold=0), which lands on the instant the clock jumped to, or after it.
    return datetime.combine(day, at, zone).astimezone(UTC)


def _due_on_or_before(rule: Recurrence, day: date) -> date:
    """The latest day on or before ``day`` on which ``rule`` is due."""
    if rule.frequency == "daily":
        return day
    if rule.frequency == "weekly":
        assert rule.weekday is not None
        return day - timedelta(days=(day.weekday() - rule.weekday) % 7)
    assert rule.day_of_month is not None
    if day.day >= rule.day_of_month:
        return day.replace(day=rule.day_of_month)
    previous = day.replace(day=1) - timedelta(days=1)
    return previous.replace(day=rule.day_of_month)


def latest_due(rule: Recurrence, now: datetime) -> datetime:
    """The latest due time at or before ``now`` (an aware instant), in UTC.

    >>> rule = Recurrence(frequency="daily", at=time(7, 30), timezone="Asia/Shanghai")
    >>> latest_due(rule, datetime(2026, 11, 23, 23, 0, tzinfo=UTC)).isoformat()
    '2026-11-22T23:30:00+00:00'
    """
    zone = ZoneInfo(rule.timezone)
    day = _due_on_or_before(rule, now.astimezone(zone).date())
    due = _instant(day, rule.at, zone)
    if due > now:
        due = _instant(_due_on_or_before(rule, day - timedelta(days=1)), rule.at, zone)
    return due


def covered_days(rule: Recurrence, due: datetime) -> tuple[date, date]:
    """The first and last local day the report due at ``due`` covers (both included).

    >>> rule = Recurrence(frequency="monthly", at=time(6), day_of_month=1, timezone="UTC")
    >>> covered_days(rule, datetime(2026, 12, 1, 6, tzinfo=UTC))
    (datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    """
    last = due.astimezone(ZoneInfo(rule.timezone)).date() - timedelta(days=1)
    if rule.frequency == "daily":
        return last, last
    if rule.frequency == "weekly":
        return last - timedelta(days=6), last
    first_of_month = last.replace(day=1)
    if rule.day_of_month == 1:
        return first_of_month, last
    # Due mid-month: the previous whole calendar month.
    end = first_of_month - timedelta(days=1)
    return end.replace(day=1), end
