"""A campaign record's life: waiting, being dialled, retried by the rules, finished.

One record is one person to reach (a phone number, its time zone, what the agent needs to
know). Its state changes only through :func:`transition`, a pure ``(state, event) -> (state,
effects)`` step like the IVR's and the ticket workflow's; the service stores the state and
carries out the effects (an attempt row, the audit).

States:

* ``waiting`` — may be dialled from ``due_at`` on (within calling hours);
* ``dialling`` — an agent (preview) or the dialler (progressive) holds it now;
* ``done`` — reached, with a final result (completed, declined, wrong number, do not call);
* ``exhausted`` — the retry rules allow no further attempt;
* ``blocked`` — its number is on a do-not-call list: never dialled again.

>>> from datetime import datetime, timezone
>>> from hotline.campaigns.rules import CallingHours, RetryPolicy
>>> rules = Rules(CallingHours(weekdays="00:00-24:00", sunday="00:00-24:00",
...               saturday="00:00-24:00", time_zone="UTC"), RetryPolicy(max_attempts=2))
>>> t0 = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
>>> state = RecordState()
>>> state, _ = transition(state, Claimed(at=t0, by="a001"), rules)
>>> state, effects = transition(state, Attempted(at=t0, result=CallResult.BUSY), rules)
>>> str(state.status), state.attempts, state.due_at.isoformat()
('waiting', 1, '2026-12-02T10:15:00+00:00')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from hotline.campaigns.rules import (
    FINAL_RESULTS,
    CallingHours,
    CallResult,
    RetryPolicy,
    next_call_time,
)
from hotline.core.errors import Conflict


class RecordStatus(StrEnum):
    """Where a record stands (see the module docstring)."""

    WAITING = "waiting"
    DIALLING = "dialling"
    DONE = "done"
    EXHAUSTED = "exhausted"
    BLOCKED = "blocked"


#: States from which a record is never dialled again.
FINISHED = frozenset({RecordStatus.DONE, RecordStatus.EXHAUSTED, RecordStatus.BLOCKED})


@dataclass(frozen=True)
class Rules:
    """The campaign rules a record's transitions follow."""

    hours: CallingHours
    retry: RetryPolicy


@dataclass(frozen=True)
class RecordState:
    """A record's state: status, attempts made, when it may next be dialled, by whom held."""

    status: RecordStatus = RecordStatus.WAITING
    attempts: int = 0
    due_at: datetime | None = None
    held_by: str | None = None
    last_result: CallResult | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class Claimed:
    """An agent (preview) or the dialler (progressive) takes the record to dial it."""

    at: datetime
    by: str


@dataclass(frozen=True)
class Released:
    """The holder gives the record back undialled (the agent skipped it)."""

    at: datetime


@dataclass(frozen=True)
class Attempted:
    """One attempt ended with ``result``; ``callback_at`` is the customer's requested time."""

    at: datetime
    result: CallResult
    callback_at: datetime | None = None


@dataclass(frozen=True)
class Blocked:
    """The record's number is on a do-not-call list (``list_name`` says which)."""

    at: datetime
    list_name: str


RecordEvent = Claimed | Released | Attempted | Blocked


@dataclass(frozen=True)
class AttemptLogged:
    """Effect: keep an attempt row (number ``attempt``, ``result``, by ``agent``)."""

    attempt: int
    result: CallResult
    agent: str | None


@dataclass(frozen=True)
class RetryScheduled:
    """Effect: the record comes back at ``due_at`` (``reason``: the result's rule)."""

    due_at: datetime
    reason: CallResult


@dataclass(frozen=True)
class Finished:
    """Effect: the record is finished with ``status``."""

    status: RecordStatus
    reason: str


Effect = AttemptLogged | RetryScheduled | Finished


def dialable(state: RecordState, at: datetime, rules: Rules) -> bool:
    """Whether the record may be dialled at ``at``: waiting, due, inside calling hours."""
    if state.status is not RecordStatus.WAITING:
        return False
    if state.due_at is not None and state.due_at > at:
        return False
    return rules.hours.calendar(state.time_zone).is_open(at)


#: How far ahead a customer's callback may be booked (a promise the center means to keep).
MAX_CALLBACK_AHEAD = timedelta(days=366)


def callback_problem(
    callback_at: datetime, *, now: datetime, rules: Rules, time_zone: str | None
) -> str | None:
    """Why a callback time the customer asked for cannot be booked, or ``None`` if it can.

    It must be aware, still ahead (within :data:`MAX_CALLBACK_AHEAD`), and inside the
    campaign's calling hours read in the customer's own time zone (a holiday is closed): the
    record would otherwise come back at a time the rules forbid, and the promise the agent
    made could not be kept as made.

    >>> from datetime import timezone
    >>> from hotline.campaigns.rules import CallingHours, RetryPolicy
    >>> rules = Rules(CallingHours(weekdays="09:00-18:00", time_zone="UTC"), RetryPolicy())
    >>> noon = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)  # a Wednesday
    >>> callback_problem(noon.replace(hour=15), now=noon, rules=rules, time_zone=None) is None
    True
    >>> callback_problem(noon.replace(hour=20), now=noon, rules=rules, time_zone=None)
    "20:00 Wednesday 2026-12-02 in UTC is outside the campaign's calling hours"
    """
    if callback_at.tzinfo is None:
        return "a callback time needs its offset"
    if callback_at <= now:
        return "a callback time must be ahead, not in the past"
    if callback_at - now > MAX_CALLBACK_AHEAD:
        return f"a callback time must be within {MAX_CALLBACK_AHEAD.days} days"
    zone = time_zone or rules.hours.time_zone
    calendar = rules.hours.calendar(time_zone)
    if not calendar.is_open(callback_at):
        local = callback_at.astimezone(calendar.zone)
        return f"{local:%H:%M %A %Y-%m-%d} in {zone} is outside the campaign's calling hours"
    return None


def transition(
    state: RecordState, event: RecordEvent, rules: Rules
) -> tuple[RecordState, list[Effect]]:
    """Apply ``event`` to ``state``; raise :class:`Conflict` for an illegal step.

    A blocked record stays blocked whatever comes next: a do-not-call listing is final.
    """
    if isinstance(event, Blocked):
        if state.status is RecordStatus.BLOCKED:
            return state, []
        blocked = replace(state, status=RecordStatus.BLOCKED, held_by=None, due_at=None)
        return blocked, [Finished(RecordStatus.BLOCKED, f"do_not_call:{event.list_name}")]
    if isinstance(event, Claimed):
        if state.status is not RecordStatus.WAITING:
            raise Conflict(f"the record is {state.status}, not waiting: it cannot be dialled")
        return replace(state, status=RecordStatus.DIALLING, held_by=event.by), []
    if isinstance(event, Released):
        if state.status is not RecordStatus.DIALLING:
            raise Conflict(f"the record is {state.status}, not being dialled")
        return replace(state, status=RecordStatus.WAITING, held_by=None), []
    if state.status is not RecordStatus.DIALLING:
        raise Conflict(f"the record is {state.status}: only a record being dialled has a result")
    return _attempted(state, event, rules)


def _attempted(
    state: RecordState, event: Attempted, rules: Rules
) -> tuple[RecordState, list[Effect]]:
    attempts = state.attempts + 1
    effects: list[Effect] = [AttemptLogged(attempts, event.result, state.held_by)]
    after = replace(state, attempts=attempts, held_by=None, last_result=event.result)
    if event.result in FINAL_RESULTS:
        done = replace(after, status=RecordStatus.DONE, due_at=None)
        return done, [*effects, Finished(RecordStatus.DONE, str(event.result))]
    rule = rules.retry.rule_for(event.result)
    limit = rules.retry.max_attempts
    if rule.max_attempts is not None:
        limit = min(limit, rule.max_attempts)
    # A callback the customer asked for is a promise: it may take one attempt beyond the cap.
    promised = event.result is CallResult.CALLBACK_REQUESTED and event.callback_at is not None
    if attempts >= limit and not promised:
        exhausted = replace(after, status=RecordStatus.EXHAUSTED, due_at=None)
        return exhausted, [*effects, Finished(RecordStatus.EXHAUSTED, "max_attempts")]
    wanted = (
        event.callback_at
        if promised and event.callback_at is not None
        else event.at + timedelta(minutes=rule.after_minutes)
    )
    due = next_call_time(rules.hours, max(wanted, event.at), time_zone=state.time_zone)
    if due is None:
        exhausted = replace(after, status=RecordStatus.EXHAUSTED, due_at=None)
        return exhausted, [*effects, Finished(RecordStatus.EXHAUSTED, "no_calling_hours")]
    waiting = replace(after, status=RecordStatus.WAITING, due_at=due)
    return waiting, [*effects, RetryScheduled(due, event.result)]
