"""Deferred-work figures (METRICS.md, "Deferred work"): on-time rate, backlog, delay, durations.

Definitions, as written in METRICS.md:

- ``on_time_rate`` = items closed by their due time ÷ items closed (items closed in the
  interval; an item with no due time made no promise and is left out of both terms);
- ``backlog`` = open items at the end of the interval, also by age bucket (age = end − created);
- ``avg_delay_s`` = mean of max(0, closed − due) over closed items (with a due time);
- ``first_response_s``, ``resolution_s`` = mean business-hours durations on each ticket's
  calendar (the caller computes each ticket's durations with
  :meth:`hotline.core.calendar.BusinessCalendar.business_seconds`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

# Age buckets of the backlog: upper bounds in seconds, and their labels.
AGE_BUCKETS: tuple[tuple[float, str], ...] = (
    (4 * 3600, "<4h"),
    (24 * 3600, "4h-1d"),
    (3 * 86400, "1d-3d"),
    (7 * 86400, "3d-7d"),
    (float("inf"), ">=7d"),
)


@dataclass(frozen=True)
class WorkItem:
    """One ticket, e-mail or work order, as the figures see it."""

    created_at: datetime
    due_at: datetime | None = None
    closed_at: datetime | None = None
    first_response_s: float | None = None
    resolution_s: float | None = None


@dataclass(frozen=True)
class DeferredWorkFigures:
    """The deferred-work figures of one interval."""

    closed: int
    on_time_rate: float | None
    avg_delay_s: float | None
    backlog: int
    backlog_by_age: dict[str, int]
    first_response_s: float | None
    resolution_s: float | None


def age_bucket(age_s: float) -> str:
    """Label of the backlog age bucket holding ``age_s``.

    >>> age_bucket(3600), age_bucket(2 * 86400), age_bucket(30 * 86400)
    ('<4h', '1d-3d', '>=7d')
    """
    for upper, label in AGE_BUCKETS:
        if age_s < upper:
            return label
    return AGE_BUCKETS[-1][1]


def deferred_work_figures(
    items: Iterable[WorkItem], *, start: datetime, end: datetime
) -> DeferredWorkFigures:
    """Compute the figures for the interval ``[start, end)``.

    >>> from datetime import UTC, timedelta
    >>> t0 = datetime(2026, 11, 2, tzinfo=UTC)
    >>> h = timedelta(hours=1)
    >>> items = [WorkItem(t0, t0 + 4 * h, t0 + 2 * h), WorkItem(t0, t0 + 4 * h, t0 + 6 * h),
    ...          WorkItem(t0 + h)]
    >>> f = deferred_work_figures(items, start=t0, end=t0 + 24 * h)
    >>> f.on_time_rate, f.avg_delay_s, f.backlog, f.backlog_by_age["4h-1d"]
    (0.5, 3600.0, 1, 1)
    """
    closed: list[WorkItem] = []
    backlog_by_age = {label: 0 for _, label in AGE_BUCKETS}
    backlog = 0
    for item in items:
        if item.closed_at is not None and start <= item.closed_at < end:
            closed.append(item)
        if item.created_at < end and (item.closed_at is None or item.closed_at >= end):
            backlog += 1
            backlog_by_age[age_bucket((end - item.created_at).total_seconds())] += 1
    delays: list[float] = []
    for item in closed:
        if item.due_at is not None and item.closed_at is not None:
            delays.append(max(0.0, (item.closed_at - item.due_at).total_seconds()))
    on_time = sum(1 for delay in delays if delay == 0.0)
    promised = delays
    return DeferredWorkFigures(
        closed=len(closed),
        on_time_rate=on_time / len(promised) if promised else None,
        avg_delay_s=sum(delays) / len(delays) if delays else None,
        backlog=backlog,
        backlog_by_age=backlog_by_age,
        first_response_s=_mean(i.first_response_s for i in closed),
        resolution_s=_mean(i.resolution_s for i in closed),
    )


def _mean(values: Iterable[float | None]) -> float | None:
    present: Sequence[float] = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
