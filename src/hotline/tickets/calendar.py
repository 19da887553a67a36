"""Business-hours calendars: the clock that SLA targets run on.

A service desk promises "first response within 4 business hours" and "repair within 3
business days", so SLA clocks only tick while the site is open. A calendar has a time zone,
weekly opening hours per weekday, public holidays (closed all day) and make-up working days
(调休: a weekend day the state declares a working day, with its own hours). Per-site hours are
simply one calendar per site.

While a ticket waits on the customer, its clocks pause: :meth:`BusinessCalendar.business_seconds`
takes the pauses and leaves them out.

Everything here is pure arithmetic on aware ``datetime`` values; nothing reads the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

DAY_SECONDS = 86_400
# A calendar with no opening hours at all would make "add N business seconds" loop forever;
# searching this far ahead for the next open minute is more than any real calendar needs.
MAX_SEARCH_DAYS = 3_660

Interval = tuple[datetime, datetime]
Hours = tuple[tuple[int, int], ...]  # (start second of day, end second of day), end ≤ 86 400


def parse_hours(text: str) -> Hours:
    """Parse opening hours such as ``"08:30-12:00,13:00-17:30"`` (``24:00`` allowed).

    >>> parse_hours("08:30-12:00,13:00-17:30")
    ((30600, 43200), (46800, 63000))
    >>> parse_hours("")
    ()
    """
    spans: list[tuple[int, int]] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        start_text, _, end_text = part.partition("-")
        start, end = _seconds_of_day(start_text), _seconds_of_day(end_text)
        if end <= start:
            raise ValueError(f"opening hours {part!r}: the end must come after the start")
        spans.append((start, end))
    spans.sort()
    for (_, end_a), (start_b, _) in pairwise(spans):
        if start_b < end_a:
            raise ValueError(f"opening hours {text!r} overlap")
    return tuple(spans)


def _seconds_of_day(text: str) -> int:
    hours_text, _, minutes_text = text.partition(":")
    hours, minutes = int(hours_text), int(minutes_text or 0)
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"not a time of day: {text!r}")
    return hours * 3600 + minutes * 60


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours of one site: weekly hours, holidays and make-up working days.

    ``weekly`` maps weekday (Monday = 0) to that day's hours; a missing day is closed.

    >>> from datetime import datetime
    >>> cal = BusinessCalendar.weekdays("Asia/Shanghai", "09:00-18:00")
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> friday_5pm = datetime(2026, 11, 20, 17, 0, tzinfo=tz)
    >>> cal.add_business_seconds(friday_5pm, 2 * 3600)   # 1 h on Friday, 1 h on Monday
    datetime.datetime(2026, 11, 23, 10, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))
    """

    time_zone: str
    weekly: Mapping[int, Hours]
    holidays: frozenset[date] = frozenset()
    working_days: Mapping[date, Hours] = field(default_factory=dict)

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
        """Build a calendar open Monday to Friday ``hours``, optionally on weekend days too."""
        weekday_hours = parse_hours(hours)
        weekly: dict[int, Hours] = dict.fromkeys(range(5), weekday_hours)
        if saturday:
            weekly[5] = parse_hours(saturday)
        if sunday:
            weekly[6] = parse_hours(sunday)
        return cls(
            time_zone=time_zone,
            weekly=weekly,
            holidays=frozenset(holidays),
            working_days={d: parse_hours(h) for d, h in (working_days or {}).items()},
        )

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """A 24×7 calendar: business time equals elapsed time."""
        return cls(time_zone=time_zone, weekly=dict.fromkeys(range(7), ((0, DAY_SECONDS),)))

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.time_zone)

    def hours_on(self, day: date) -> Hours:
        """Opening hours on ``day``: make-up working days win, then holidays, then the week."""
        if day in self.working_days:
            return self.working_days[day]
        if day in self.holidays:
            return ()
        return self.weekly.get(day.weekday(), ())

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
        """Yield the open periods inside ``[start, end)``, in order, clipped to it."""
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

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` falls inside opening hours."""
        return any(True for _ in self.open_intervals(at, at + timedelta(microseconds=1)))

    def business_seconds(
        self, start: datetime, end: datetime, pauses: Sequence[Interval] = ()
    ) -> float:
        """Business seconds between ``start`` and ``end``, leaving out ``pauses``.

        Pauses are periods when the SLA clock is stopped (waiting on the customer); an open
        pause has ``end`` as its end.

        >>> cal = BusinessCalendar.weekdays("UTC", "09:00-17:00")
        >>> from datetime import UTC
        >>> cal.business_seconds(datetime(2026, 11, 20, 16, tzinfo=UTC),
        ...                      datetime(2026, 11, 23, 10, tzinfo=UTC))
        7200.0
        """
        if end <= start:
            return 0.0
        total = 0.0
        merged = merge_intervals((lo.astimezone(UTC), hi.astimezone(UTC)) for lo, hi in pauses)
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
        zone = self.zone
        day = start.astimezone(zone).date() - timedelta(days=1)
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

    >>> from datetime import UTC
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


def _local(midnight: datetime, seconds: int, zone: ZoneInfo) -> datetime:
    naive = midnight.replace(tzinfo=None) + timedelta(seconds=seconds)
    return naive.replace(tzinfo=zone)


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None:
            raise ValueError("business-hours arithmetic needs timezone-aware datetimes")
