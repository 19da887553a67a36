"""Business hours: the one calendar that routing, the IVR, tickets and the configuration share.

A contact center is open on **weekly hours** per weekday ("Monday to Friday 08:00-21:00,
weekends 09:00-18:00"), except on **special days**: a public holiday closes all day or opens on
its own hours (国庆节 10:00-16:00), and a make-up working day (调休: a weekend day the state
declares a working day) opens on its hours. All of it is read in the site's **time zone**.

The same value answers every question the domains ask of it:

* routing — is the queue open at this instant (:meth:`BusinessCalendar.is_open` with seconds
  since the Unix epoch), else play the closed message or overflow;
* the IVR — is the center open at the caller's local arrival time (``is_open`` with a local
  date-time), to branch an hours node;
* tickets — how many business seconds have passed (:meth:`~BusinessCalendar.business_seconds`)
  and when a target falls due (:meth:`~BusinessCalendar.add_business_seconds`), so SLA clocks
  tick only while the site is open.

Periods are seconds after local midnight (``24:00`` is 86 400). Durations are real elapsed
time: a day when clocks go forward has 23 hours. Everything here is pure arithmetic; nothing
reads the wall clock (the time-zone rules come from the standard library's tz database).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

DAY_SECONDS: Final = 86_400
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar with no opening hours at all would make "add N business seconds" loop forever;
# searching this far ahead for the next open moment is more than any real calendar needs.
MAX_SEARCH_DAYS: Final = 3_660

Period = tuple[int, int]  # (start, end) in seconds after local midnight, end ≤ 86 400
Periods = tuple[Period, ...]
Interval = tuple[datetime, datetime]

_PERIOD = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_NO_DAYS: Mapping[date, Periods] = MappingProxyType({})


def parse_period(text: str) -> Period:
    """Parse one opening period such as ``"08:00-21:00"`` (``24:00`` is the latest end).

    >>> parse_period("08:00-21:00")
    (28800, 75600)
    >>> parse_period("21:00-08:00")
    Traceback (most recent call last):
    ...
    ValueError: hours '21:00-08:00' end before they start
    """
    match = _PERIOD.match(text.strip())
    if not match:
        raise ValueError(f"hours {text!r} must look like 08:00-20:00")
    h1, m1, h2, m2 = [int(g) for g in match.groups()]
    if h1 > 23 or m1 > 59:
        raise ValueError(f"start time in {text!r} is not a time of day")
    if h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"end time in {text!r} is not a time of day (24:00 is the latest)")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if end <= start:
        raise ValueError(f"hours {text!r} end before they start")
    return start, end


def parse_periods(texts: str | Iterable[str]) -> Periods:
    """Parse a day's opening periods, sorted; ``"a,b"`` or a list; overlaps are refused.

    >>> parse_periods("13:00-17:30,08:30-12:00")
    ((30600, 43200), (46800, 63000))
    >>> parse_periods(["08:00-12:00", "11:00-18:00"])
    Traceback (most recent call last):
    ...
    ValueError: opening periods overlap
    >>> parse_periods("")
    ()
    """
    if isinstance(texts, str):
        texts = texts.split(",")
    periods = sorted(parse_period(text) for text in texts if text.strip())
    for (_, end_a), (start_b, _) in pairwise(periods):
        if start_b < end_a:
            raise ValueError("opening periods overlap")
    return tuple(periods)


def format_periods(periods: Iterable[Period]) -> str:
    """Write periods back as text, the inverse of :func:`parse_periods`.

    >>> format_periods(((30600, 43200), (46800, 86400)))
    '08:30-12:00,13:00-24:00'
    """
    return ",".join(f"{_clock(start)}-{_clock(end)}" for start, end in periods)


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Opening hours of one site: weekly periods, special days, a time zone.

    ``weekly`` maps a weekday (Monday = 0) to its periods; a missing day is closed.
    ``holidays`` maps a date to that day's own periods, which replace the week's: empty for
    a holiday closed all day, the day's hours for a holiday with short hours or a make-up
    working day. ``time_zone`` is an IANA name such as ``Asia/Shanghai``.

    >>> cal = BusinessCalendar.weekdays("Asia/Shanghai", "09:00-18:00")
    >>> friday_5pm = datetime(2026, 11, 20, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> cal.add_business_seconds(friday_5pm, 2 * 3600)   # 1 h on Friday, 1 h on Monday
    datetime.datetime(2026, 11, 23, 10, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))
    >>> cal.is_open(friday_5pm.timestamp()), cal.is_open(datetime(2026, 11, 21, 10, 0))
    (True, False)
    """

    time_zone: str
    weekly: Mapping[int, Periods]
    holidays: Mapping[date, Periods] = field(default_factory=lambda: _NO_DAYS)
    zone: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Resolved once: routing asks ``is_open`` for every arriving contact.
        object.__setattr__(self, "zone", ZoneInfo(self.time_zone))

    @classmethod
    def weekdays(
        cls,
        time_zone: str,
        hours: str,
        *,
        saturday: str = "",
        sunday: str = "",
        holidays: Iterable[date] = (),
        working_days: Mapping[date, str] | None = None,
    ) -> BusinessCalendar:
        """Build a calendar open Monday to Friday ``hours``, optionally on weekend days too.

        ``holidays`` close all day; ``working_days`` (make-up days) open on their own hours.
        """
        weekly: dict[int, Periods] = dict.fromkeys(range(5), parse_periods(hours))
        if saturday:
            weekly[5] = parse_periods(saturday)
        if sunday:
            weekly[6] = parse_periods(sunday)
        special: dict[date, Periods] = dict.fromkeys(holidays, ())
        special.update({d: parse_periods(h) for d, h in (working_days or {}).items()})
        return cls(time_zone=time_zone, weekly=weekly, holidays=special)

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """A 24×7 calendar: business time equals elapsed time."""
        return cls(time_zone=time_zone, weekly=dict.fromkeys(range(7), ((0, DAY_SECONDS),)))

    def hours_on(self, day: date) -> Periods:
        """Opening periods on ``day``: its own if it is a special day, else the week's."""
        periods = self.holidays.get(day)
        if periods is None:
            return self.weekly.get(day.weekday(), ())
        return periods

    def is_open(self, at: float | datetime) -> bool:
        """Whether the site is open at ``at``.

        ``at`` is seconds since the Unix epoch (routing's clock), an aware date-time, or a
        naive date-time read as local wall-clock time in the calendar's zone (the IVR's).
        A period includes its start and excludes its end.
        """
        if isinstance(at, datetime):
            local = at if at.tzinfo is None else at.astimezone(self.zone)
        else:
            local = datetime.fromtimestamp(at, self.zone)
        periods = self.holidays.get(local.date())
        if periods is None:
            periods = self.weekly.get(local.weekday(), ())
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return any(start <= second < end for start, end in periods)

    def _day_intervals(self, day: date) -> Iterator[Interval]:
        zone = self.zone
        midnight = datetime.combine(day, time(0), tzinfo=zone)
        for start, end in self.hours_on(day):
            # Local wall-clock times, converted to UTC: Python subtracts two datetimes of the
            # same zone as wall-clock times, which is wrong across a daylight-saving change.
            opens = _local(midnight, start, zone).astimezone(UTC)
            closes = _local(midnight, end, zone).astimezone(UTC)
            yield opens, closes

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Yield the open periods inside ``[start, end)`` in UTC, in order, clipped to it."""
        _require_aware(start, end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return
        zone = self.zone
        day = start.astimezone(zone).date() - timedelta(days=1)
        last_day = end.astimezone(zone).date()
        while day <= last_day:
            for opens, closes in self._day_intervals(day):
                lo, hi = max(opens, start), min(closes, end)
                if lo < hi:
                    yield lo, hi
            day += timedelta(days=1)

    def business_seconds(
        self, start: datetime, end: datetime, pauses: Sequence[Interval] = ()
    ) -> float:
        """Business seconds between ``start`` and ``end``, leaving out ``pauses``.

        Pauses are periods when an SLA clock is stopped (waiting on the customer); an open
        pause has ``end`` as its end.

        >>> cal = BusinessCalendar.weekdays("UTC", "09:00-17:00")
        >>> cal.business_seconds(datetime(2026, 11, 20, 16, tzinfo=UTC),
        ...                      datetime(2026, 11, 23, 10, tzinfo=UTC))
        7200.0
        """
        if end <= start:
            return 0.0
        total = 0.0
        merged = merge_intervals([(lo.astimezone(UTC), hi.astimezone(UTC)) for lo, hi in pauses])
        for lo, hi in self.open_intervals(start, end):
            total += (hi - lo).total_seconds()
            for pause_lo, pause_hi in merged:
                overlap_lo, overlap_hi = max(lo, pause_lo), min(hi, pause_hi)
                if overlap_lo < overlap_hi:
                    total -= (overlap_hi - overlap_lo).total_seconds()
        return total

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` business seconds after ``start`` (the due time of a target).

        Adding zero from a closed moment gives the moment itself, not the next opening.
        """
        _require_aware(start)
        if seconds < 0:
            raise ValueError("cannot add a negative business duration")
        remaining = seconds
        if remaining == 0:
            return start
        given_zone, start = start.tzinfo, start.astimezone(UTC)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(MAX_SEARCH_DAYS):
            for opens, closes in self._day_intervals(day):
                lo = max(opens, start)
                if lo >= closes:
                    continue
                span = (closes - lo).total_seconds()
                if remaining <= span:
                    return (lo + timedelta(seconds=remaining)).astimezone(given_zone)
                remaining -= span
            day += timedelta(days=1)
        raise ValueError(f"calendar has no opening hours within {MAX_SEARCH_DAYS} days")


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge overlapping intervals.

    >>> a = datetime(2026, 1, 1, 9, tzinfo=UTC)
    >>> h = timedelta(hours=1)
    >>> merge_intervals([(a + h, a + 3 * h), (a, a + 2 * h)]) == [(a, a + 3 * h)]
    True
    """
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if hi <= lo:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _local(midnight: datetime, seconds: int, zone: tzinfo) -> datetime:
    naive = midnight.replace(tzinfo=None) + timedelta(seconds=seconds)
    return naive.replace(tzinfo=zone)


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None:
            raise ValueError("business-hours arithmetic needs timezone-aware datetimes")
