"""Compliance rules of outbound calling: calling hours, retries, callbacks, consent.

An outbound campaign calls people who did not ring us, so the center must say when it may
call them (calling hours in the *customer's* time zone, holidays included), how often it may
try again after each result (busy, no answer, failed, a callback the customer asked for), and
when it must stop (maximum attempts). Chinese rules allow outbound calls from a service
number only for callbacks the customer agreed to; the consent, the recording and the number
are kept for at least :data:`RETENTION_DAYS` days.

Everything here is pure: configuration comes in as plain data (a campaign's ``calling_hours``
and ``retry`` sections), is checked with located problems (file, field, rule), and the
decisions are functions of a moment and a record.

>>> hours = parse_calling_hours({"weekdays": "09:00-20:00"}, source="campaign")
>>> policy = parse_retry_policy({"max_attempts": 3, "busy": {"after_minutes": 10}})
>>> policy.rule_for(CallResult.BUSY).after_minutes, policy.max_attempts
(10.0, 3)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.core.calendar import BusinessCalendar, parse_periods
from hotline.core.errors import Problem, ValidationFailed

#: Consent evidence, recordings and dialled numbers are kept at least this long (days).
RETENTION_DAYS = 30

#: How far ahead :func:`next_call_time` looks for calling hours before giving up.
LOOKAHEAD_DAYS = 31


class CampaignKind(StrEnum):
    """What a campaign is for (the seeds: 回访 follow-ups, surveys, reminders, sales)."""

    FOLLOW_UP = "follow_up"
    SURVEY = "survey"
    REMINDER = "reminder"
    SALES = "sales"


class DialMode(StrEnum):
    """How records reach agents: the agent dials (preview), or the voice server's dialler
    dials customers first (progressive: one call per free agent; predictive: paced by
    :mod:`hotline.pacing` under the 3 % abandon cap)."""

    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class CallResult(StrEnum):
    """The result of one attempt to reach a record's customer.

    The network results (``busy``, ``no_answer``, ``failed``) come from the SIP leg; the rest
    are what the agent recorded after talking to the customer, or the dialler's own
    (``abandoned``: the customer answered and no agent was there).
    """

    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CALLBACK_REQUESTED = "callback_requested"
    ABANDONED = "abandoned"
    DECLINED = "declined"
    WRONG_NUMBER = "wrong_number"
    DO_NOT_CALL = "do_not_call"


#: Results after which a record is finished whatever the retry rules say.
FINAL_RESULTS = frozenset(
    {CallResult.COMPLETED, CallResult.DECLINED, CallResult.WRONG_NUMBER, CallResult.DO_NOT_CALL}
)
#: Results that may be retried (each has a rule; missing rules take :data:`DEFAULT_RETRY`).
RETRYABLE_RESULTS = (
    CallResult.BUSY,
    CallResult.NO_ANSWER,
    CallResult.FAILED,
    CallResult.CALLBACK_REQUESTED,
    CallResult.ABANDONED,
)


@dataclass(frozen=True)
class RetryRule:
    """After a result: try again ``after_minutes`` later, at most ``max_attempts`` times in all.

    ``max_attempts`` ``None`` leaves the campaign's overall maximum in force.
    """

    after_minutes: float
    max_attempts: int | None = None


DEFAULT_RETRY: Mapping[CallResult, RetryRule] = {
    CallResult.BUSY: RetryRule(15),
    CallResult.NO_ANSWER: RetryRule(120),
    CallResult.FAILED: RetryRule(240),
    CallResult.CALLBACK_REQUESTED: RetryRule(60),
    CallResult.ABANDONED: RetryRule(60),
}


@dataclass(frozen=True)
class RetryPolicy:
    """A campaign's retry rules: one per retryable result and an overall attempt cap."""

    max_attempts: int = 3
    rules: Mapping[CallResult, RetryRule] = field(default_factory=lambda: dict(DEFAULT_RETRY))

    def rule_for(self, result: CallResult) -> RetryRule:
        """The rule for ``result`` (the default one when the campaign set none)."""
        return self.rules.get(result) or DEFAULT_RETRY[result]

    def as_dict(self) -> dict[str, Any]:
        """The policy as configuration data (what :func:`parse_retry_policy` reads)."""
        out: dict[str, Any] = {"max_attempts": self.max_attempts}
        for result, rule in self.rules.items():
            entry: dict[str, Any] = {"after_minutes": rule.after_minutes}
            if rule.max_attempts is not None:
                entry["max_attempts"] = rule.max_attempts
            out[str(result)] = entry
        return out


def _positive_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_retry_policy(
    data: Mapping[str, Any] | None, *, source: str | None = None, prefix: str = "retry"
) -> RetryPolicy:
    """Read a ``retry`` section; raise :class:`ValidationFailed` naming each bad field.

    ``{"max_attempts": 4, "busy": {"after_minutes": 10}, "no_answer": {"after_minutes": 60,
    "max_attempts": 2}}``; results not named keep their defaults.

    >>> parse_retry_policy({"busy": {"after_minutes": -1}, "max_attempts": 0})
    Traceback (most recent call last):
    ...
    hotline.core.errors.ValidationFailed: retry.max_attempts: must be a whole number >= 1 ...
    """
    data = dict(data or {})
    problems: list[Problem] = []
    max_attempts = data.pop("max_attempts", 3)
    if not _positive_int(max_attempts) or max_attempts > 20:
        problems.append(
            Problem(
                f"must be a whole number >= 1 and <= 20, not {max_attempts!r}",
                source,
                None,
                f"{prefix}.max_attempts",
            )
        )
        max_attempts = 1
    rules = dict(DEFAULT_RETRY)
    names = {str(result) for result in RETRYABLE_RESULTS}
    for key, value in data.items():
        where = f"{prefix}.{key}"
        if key not in names:
            rule = f"unknown result {key!r}: retry rules are for {sorted(names)}"
            problems.append(Problem(rule, source, None, where))
            continue
        if not isinstance(value, Mapping):
            problems.append(Problem("must be a mapping with after_minutes", source, None, where))
            continue
        unknown = set(value) - {"after_minutes", "max_attempts"}
        if unknown:
            problems.append(Problem(f"unknown keys {sorted(unknown)}", source, None, where))
        after = value.get("after_minutes")
        if not isinstance(after, int | float) or not _positive_number(after) or after > 20160:
            problems.append(
                Problem(
                    f"must be a number of minutes > 0 and <= 20160, not {after!r}",
                    source,
                    None,
                    f"{where}.after_minutes",
                )
            )
            continue
        limit = value.get("max_attempts")
        if limit is not None and not _positive_int(limit):
            problems.append(
                Problem(
                    f"must be a whole number >= 1, not {limit!r}",
                    source,
                    None,
                    f"{where}.max_attempts",
                )
            )
            continue
        rules[CallResult(key)] = RetryRule(float(after), limit)
    if problems:
        raise ValidationFailed(problems)
    return RetryPolicy(max_attempts=max_attempts, rules=rules)


@dataclass(frozen=True)
class CallingHours:
    """When a campaign may ring customers, read in each customer's own time zone.

    ``weekdays`` (Monday–Friday), ``saturday`` and ``sunday`` are period lists such as
    ``"09:00-12:00,14:00-20:00"`` (empty: no calls that day); ``holidays`` are dates with no
    calls at all; ``time_zone`` is the zone of a customer whose record names none.
    """

    weekdays: str = "09:00-20:00"
    saturday: str = ""
    sunday: str = ""
    holidays: tuple[date, ...] = ()
    time_zone: str = "Asia/Shanghai"

    def calendar(self, time_zone: str | None = None) -> BusinessCalendar:
        """The calling hours as a business calendar in ``time_zone`` (the customer's)."""
        return BusinessCalendar.weekdays(
            time_zone or self.time_zone,
            self.weekdays,
            saturday=self.saturday,
            sunday=self.sunday,
            holidays=self.holidays,
        )

    def as_dict(self) -> dict[str, Any]:
        """The hours as configuration data (what :func:`parse_calling_hours` reads)."""
        return {
            "weekdays": self.weekdays,
            "saturday": self.saturday,
            "sunday": self.sunday,
            "holidays": [d.isoformat() for d in self.holidays],
            "time_zone": self.time_zone,
        }


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone, or ``None`` when it is one.

    >>> zone_problem("Asia/Shanghai") is None, zone_problem("Mars/Olympus")
    (True, "unknown time zone 'Mars/Olympus' (use an IANA name such as Asia/Shanghai)")
    """
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)"
    return None


def parse_calling_hours(
    data: Mapping[str, Any] | None, *, source: str | None = None, prefix: str = "calling_hours"
) -> CallingHours:
    """Read a ``calling_hours`` section; raise :class:`ValidationFailed` naming each bad field."""
    data = dict(data or {})
    problems: list[Problem] = []
    unknown = set(data) - {"weekdays", "saturday", "sunday", "holidays", "time_zone"}
    if unknown:
        problems.append(Problem(f"unknown keys {sorted(unknown)}", source, None, prefix))
    periods: dict[str, str] = {}
    for key, default in (("weekdays", "09:00-20:00"), ("saturday", ""), ("sunday", "")):
        value = data.get(key, default)
        if not isinstance(value, str):
            problems.append(Problem("must be periods like '09:00-20:00'", source, None, key))
            continue
        try:
            parse_periods(value)
        except ValueError as error:
            problems.append(Problem(str(error), source, None, f"{prefix}.{key}"))
        periods[key] = value
    holidays: list[date] = []
    raw_holidays = data.get("holidays", [])
    if not isinstance(raw_holidays, list):
        problems.append(Problem("must be a list of dates", source, None, f"{prefix}.holidays"))
        raw_holidays = []
    for index, value in enumerate(raw_holidays):
        try:
            holidays.append(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            problems.append(
                Problem(
                    f"not a date (YYYY-MM-DD): {value!r}",
                    source,
                    None,
                    f"{prefix}.holidays[{index}]",
                )
            )
    time_zone = data.get("time_zone", "Asia/Shanghai")
    why = zone_problem(time_zone) if isinstance(time_zone, str) else "must be a time zone name"
    if why:
        problems.append(Problem(why, source, None, f"{prefix}.time_zone"))
    if problems:
        raise ValidationFailed(problems)
    return CallingHours(
        weekdays=periods["weekdays"],
        saturday=periods["saturday"],
        sunday=periods["sunday"],
        holidays=tuple(sorted(set(holidays))),
        time_zone=time_zone,
    )


def may_call(hours: CallingHours, at: datetime, *, time_zone: str | None = None) -> bool:
    """Whether a customer in ``time_zone`` may be rung at the aware moment ``at``.

    >>> from datetime import timezone
    >>> hours = CallingHours(weekdays="09:00-20:00")
    >>> noon_utc = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)   # a Wednesday
    >>> may_call(hours, noon_utc, time_zone="Asia/Shanghai")   # 20:00 there: closed
    False
    >>> may_call(hours, noon_utc, time_zone="Europe/London")
    True
    """
    _require_aware(at)
    return hours.calendar(time_zone).is_open(at)


def next_call_time(
    hours: CallingHours, at: datetime, *, time_zone: str | None = None
) -> datetime | None:
    """The first moment at or after ``at`` the customer may be rung (``None``: not within
    :data:`LOOKAHEAD_DAYS` days), as an aware UTC date-time."""
    _require_aware(at)
    calendar = hours.calendar(time_zone)
    for start, _end in calendar.open_intervals(at, at + timedelta(days=LOOKAHEAD_DAYS)):
        return max(start, at).astimezone(_UTC)
    return None


_UTC = ZoneInfo("UTC")


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("calling-hours decisions need an aware date-time (with its zone)")


def keep_until(recorded_at: datetime, *, days: int = RETENTION_DAYS) -> datetime:
    """The earliest moment consent evidence recorded at ``recorded_at`` may be deleted.

    >>> keep_until(datetime(2026, 12, 1, tzinfo=_UTC)).date().isoformat()
    '2026-12-31'
    """
    if days < RETENTION_DAYS:
        raise ValueError(f"consent evidence is kept at least {RETENTION_DAYS} days, not {days}")
    return recorded_at + timedelta(days=days)
