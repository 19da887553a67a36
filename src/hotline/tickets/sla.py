"""SLA policies and their clocks: first response, next update and resolution.

A policy sets three targets in **business seconds** on the ticket's calendar:

- *first response*: from creation until an agent first answers the customer;
- *next update*: after each update to the customer, the next one is due within the target
  (runs only between the first response and resolution);
- *resolution*: from creation until the ticket is resolved (reopening restarts the stop).

Clocks stop while the ticket waits on the customer. When a clock has used ``warn_at`` of its
target the ticket is in *warning* and is escalated to the first role of the policy's
``escalate_to``; at breach, to the second. :func:`evaluate` is pure: give it the timeline,
the calendar and "now"; it returns each clock's state, business time used and due time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial

from hotline.core.calendar import BusinessCalendar, Interval
from hotline.tickets.workflow import Priority, TicketType

HOUR = 3600.0


class ClockName(StrEnum):
    """The three SLA clocks."""

    FIRST_RESPONSE = "first_response"
    NEXT_UPDATE = "next_update"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    """Where one SLA clock stands."""

    RUNNING = "running"
    PAUSED = "paused"
    WARNING = "warning"
    BREACHED = "breached"
    MET = "met"  # stopped within target
    MISSED = "missed"  # stopped after target
    NOT_STARTED = "not_started"


@dataclass(frozen=True)
class SlaPolicy:
    """Targets (business seconds; ``None`` = no target) and the escalation ladder."""

    name: str
    first_response_s: float | None
    next_update_s: float | None
    resolution_s: float | None
    warn_at: float = 0.8
    escalate_to: tuple[str, ...] = ("team_lead", "supervisor")

    def target(self, clock: ClockName) -> float | None:
        """The target of ``clock`` in business seconds."""
        return {
            ClockName.FIRST_RESPONSE: self.first_response_s,
            ClockName.NEXT_UPDATE: self.next_update_s,
            ClockName.RESOLUTION: self.resolution_s,
        }[clock]


# Defaults per priority, in business hours; a center overrides them per type in its config.
# Business day = 8 business hours on the usual 09:00-17:00 / 08:30-17:30 calendars.
DEFAULT_POLICIES: Mapping[Priority, SlaPolicy] = {
    Priority.URGENT: SlaPolicy("urgent", 0.5 * HOUR, 2 * HOUR, 8 * HOUR),
    Priority.HIGH: SlaPolicy("high", 1 * HOUR, 4 * HOUR, 16 * HOUR),
    Priority.NORMAL: SlaPolicy("normal", 2 * HOUR, 8 * HOUR, 24 * HOUR),
    Priority.LOW: SlaPolicy("low", 8 * HOUR, 16 * HOUR, 40 * HOUR),
}
# Complaints get half the resolution time of the same priority: the centers treat them first.
COMPLAINT_RESOLUTION_FACTOR = 0.5


def policy_for(ticket_type: TicketType | str, priority: Priority | str) -> SlaPolicy:
    """The default policy of a ticket type and priority.

    >>> policy_for("complaint", "normal").resolution_s
    43200.0
    """
    base = DEFAULT_POLICIES[Priority(priority)]
    if TicketType(ticket_type) is TicketType.COMPLAINT and base.resolution_s is not None:
        return SlaPolicy(
            f"complaint-{base.name}",
            base.first_response_s,
            base.next_update_s,
            base.resolution_s * COMPLAINT_RESOLUTION_FACTOR,
            base.warn_at,
            base.escalate_to,
        )
    return base


@dataclass(frozen=True)
class Timeline:
    """The instants the SLA clocks need; ``paused_since`` is set while waiting on the customer."""

    created_at: datetime
    first_response_at: datetime | None = None
    last_update_at: datetime | None = None
    resolved_at: datetime | None = None
    pauses: tuple[Interval, ...] = ()
    paused_since: datetime | None = None


@dataclass(frozen=True)
class ClockStatus:
    """One clock's state at "now"."""

    clock: ClockName
    state: ClockState
    target_s: float | None
    elapsed_s: float
    due_at: datetime | None

    @property
    def remaining_s(self) -> float | None:
        """Business seconds left before breach (negative once breached)."""
        return None if self.target_s is None else self.target_s - self.elapsed_s


@dataclass(frozen=True)
class Escalation:
    """An escalation the SLA asks for: ``clock`` reached ``stage`` (warning/breach) → ``role``."""

    clock: ClockName
    stage: str
    role: str


def evaluate(
    policy: SlaPolicy, timeline: Timeline, calendar: BusinessCalendar, now: datetime
) -> list[ClockStatus]:
    """Evaluate the three clocks of a ticket at ``now``.

    >>> from datetime import UTC
    >>> cal = BusinessCalendar.weekdays("UTC", "09:00-17:00")
    >>> policy = SlaPolicy("p", 2 * HOUR, None, 8 * HOUR)
    >>> made = datetime(2026, 11, 20, 16, tzinfo=UTC)            # Friday 16:00
    >>> status = evaluate(policy, Timeline(made), cal, datetime(2026, 11, 23, 9, 45, tzinfo=UTC))
    >>> status[0].state, status[0].elapsed_s, status[0].due_at.hour
    (<ClockState.WARNING: 'warning'>, 6300.0, 10)
    """
    pauses = list(timeline.pauses)
    if timeline.paused_since is not None:
        pauses.append((timeline.paused_since, max(now, timeline.paused_since)))
    paused = timeline.paused_since is not None
    clock = partial(_clock, policy=policy, calendar=calendar, pauses=pauses, now=now, paused=paused)
    statuses = [
        clock(ClockName.FIRST_RESPONSE, start=timeline.created_at, stop=timeline.first_response_at)
    ]
    if timeline.first_response_at is None:
        statuses.append(
            ClockStatus(
                ClockName.NEXT_UPDATE, ClockState.NOT_STARTED, policy.next_update_s, 0, None
            )
        )
    else:
        since = max(
            timeline.last_update_at or timeline.first_response_at, timeline.first_response_at
        )
        stop = timeline.resolved_at
        if stop is not None and stop < since:
            stop = since
        statuses.append(clock(ClockName.NEXT_UPDATE, start=since, stop=stop))
    statuses.append(
        clock(ClockName.RESOLUTION, start=timeline.created_at, stop=timeline.resolved_at)
    )
    return statuses


def evaluate_resolution(
    policy: SlaPolicy, timeline: Timeline, calendar: BusinessCalendar, now: datetime
) -> ClockStatus:
    """The resolution clock alone, as :func:`evaluate` gives it (a work-queue row shows
    only this one, and each clock costs a walk over the calendar's days).

    >>> from datetime import UTC
    >>> cal = BusinessCalendar.weekdays("UTC", "09:00-17:00")
    >>> made = datetime(2026, 11, 20, 16, tzinfo=UTC)
    >>> now = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)
    >>> policy = SlaPolicy("p", 2 * HOUR, None, 8 * HOUR)
    >>> evaluate_resolution(policy, Timeline(made), cal, now) == evaluate(
    ...     policy, Timeline(made), cal, now)[2]
    True
    """
    pauses = list(timeline.pauses)
    if timeline.paused_since is not None:
        pauses.append((timeline.paused_since, max(now, timeline.paused_since)))
    return _clock(
        ClockName.RESOLUTION,
        policy,
        calendar=calendar,
        start=timeline.created_at,
        stop=timeline.resolved_at,
        pauses=pauses,
        now=now,
        paused=timeline.paused_since is not None,
    )


def _clock(
    name: ClockName,
    policy: SlaPolicy,
    *,
    calendar: BusinessCalendar,
    start: datetime,
    stop: datetime | None,
    pauses: Sequence[Interval],
    now: datetime,
    paused: bool,
) -> ClockStatus:
    target = policy.target(name)
    end = stop if stop is not None else now
    elapsed = calendar.business_seconds(start, end, pauses)
    if stop is not None:
        state = ClockState.MET if target is None or elapsed <= target else ClockState.MISSED
        return ClockStatus(name, state, target, elapsed, None)
    if target is None:
        return ClockStatus(
            name, ClockState.PAUSED if paused else ClockState.RUNNING, None, elapsed, None
        )
    if elapsed > target:
        state = ClockState.BREACHED
    elif paused:
        state = ClockState.PAUSED
    elif elapsed >= policy.warn_at * target:
        state = ClockState.WARNING
    else:
        state = ClockState.RUNNING
    due = None if paused else calendar.add_business_seconds(now, max(0.0, target - elapsed))
    return ClockStatus(name, state, target, elapsed, due)


def escalations(policy: SlaPolicy, statuses: Sequence[ClockStatus]) -> list[Escalation]:
    """The escalations the clocks call for now (the service skips ones already sent).

    >>> esc = escalations(SlaPolicy("p", 1, None, None),
    ...     [ClockStatus(ClockName.FIRST_RESPONSE, ClockState.BREACHED, 1, 5, None)])
    >>> [(e.stage, e.role) for e in esc]
    [('warning', 'team_lead'), ('breach', 'supervisor')]
    """
    ladder = policy.escalate_to
    found: list[Escalation] = []
    for status in statuses:
        if status.state in (ClockState.WARNING, ClockState.BREACHED) and ladder:
            found.append(Escalation(status.clock, "warning", ladder[0]))
        if status.state is ClockState.BREACHED and len(ladder) > 1:
            found.append(Escalation(status.clock, "breach", ladder[1]))
    return found
