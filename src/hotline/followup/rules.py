"""The follow-up (回访) rules, pure: which resolutions get a task, its life, what answers mean.

A repair or installation order resolved (or a complaint closed) is a **resolution**. The
center's rules (:mod:`hotline.config.followup`) decide whether it gets a follow-up task:
the first matching rule, then a deterministic draw at its sampling rate (a hash of the
ticket id, so a rerun or a second sweep samples the same orders). The task is due a number
of working hours later on the center's business calendar.

A task is a small state machine, like the ticket workflow: :func:`transition` takes its
facts and an event (the customer answered, could not be reached, the task was cancelled) and
returns the next state and the effects the service layer carries out on the ticket
(record the verification, reopen it, open a complaint, flag the provider's claim).

The figures the 回访 group and the managers watch (on-time rate, backlog by age, outcomes
by provider and product, orders settled late because of follow-up) are computed here too,
from plain records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hotline.config.followup import FollowUpConfig, FollowUpEscalation, FollowUpRule
from hotline.core.calendar import BusinessCalendar
from hotline.core.errors import Conflict

COMMENT_LENGTH = 2000
MAX_FEE_YUAN = 100_000


@dataclass(frozen=True)
class Resolution:
    """A ticket's resolution (or a complaint's closing): what the rules look at.

    ``at`` is the moment it was resolved (closed, for a complaint); one ticket resolved
    twice (reopened in between) has two resolutions, and each may get its task.
    """

    ticket_id: int
    type: str
    category: str
    warranty: bool
    parts: tuple[str, ...]
    at: datetime
    provider: str | None = None
    product_model: str = ""

    @property
    def key(self) -> str:
        """What makes a resolution unique: never two tasks for one key.

        >>> from datetime import UTC
        >>> Resolution(7, "repair", "", False, (), datetime(2026, 3, 2, tzinfo=UTC)).key
        '7@2026-03-02T00:00:00+00:00'
        """
        return f"{self.ticket_id}@{self.at.isoformat()}"


def sampled(ticket_id: int, percent: float) -> bool:
    """Whether ``ticket_id`` falls in a ``percent`` % sample: the same answer on every run.

    The ticket id is hashed (SHA-256) onto [0, 100); the ticket is in the sample when its
    point lies below ``percent``. A larger rate keeps every ticket a smaller one took.

    >>> sampled(12, 100), sampled(12, 0)
    (True, False)
    >>> sum(sampled(i, 20) for i in range(10_000))
    2026
    """
    digest = hashlib.sha256(f"followup:{ticket_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * 100
    return point < percent


def matching_rule(config: FollowUpConfig, resolution: Resolution) -> FollowUpRule | None:
    """The first rule that matches the resolution, or ``None``.

    >>> from datetime import UTC
    >>> from hotline.config.followup import FollowUpScript
    >>> config = FollowUpConfig(
    ...     scripts=[FollowUpScript(id="s", questions=["done"])],
    ...     rules=[FollowUpRule(id="parts", type="repair", parts=True, due_hours=8, script="s"),
    ...            FollowUpRule(id="any", type="repair", due_hours=48, script="s")])
    >>> at = datetime(2026, 3, 2, tzinfo=UTC)
    >>> matching_rule(config, Resolution(1, "repair", "ac", True, ("pump",), at)).id
    'parts'
    >>> matching_rule(config, Resolution(1, "repair", "ac", True, (), at)).id
    'any'
    """
    for rule in config.rules:
        if rule.type != resolution.type:
            continue
        if rule.categories and resolution.category not in rule.categories:
            continue
        if rule.warranty is not None and rule.warranty != resolution.warranty:
            continue
        if rule.parts is not None and rule.parts != bool(resolution.parts):
            continue
        return rule
    return None


@dataclass(frozen=True)
class TaskPlan:
    """A follow-up task to create: the rule that made it, when it is due, what it asks."""

    rule: str
    script: str
    questions: tuple[str, ...]
    priority: str
    due_at: datetime
    require_before_close: bool
    not_verified: str
    max_attempts: int


def plan_task(
    config: FollowUpConfig, resolution: Resolution, calendar: BusinessCalendar
) -> TaskPlan | None:
    """The task a resolution gets, or ``None`` (no rule matches, or it was not sampled).

    The due time is ``due_hours`` working hours after the resolution on ``calendar``
    (:meth:`BusinessCalendar.add_business_seconds`): an order resolved on Friday evening is
    not overdue on Monday morning.
    """
    rule = matching_rule(config, resolution)
    if rule is None or not sampled(resolution.ticket_id, rule.sample_percent):
        return None
    script = config.script(rule.script)
    questions = tuple(
        q for q in script.questions if q != "part_matches" or resolution.parts
    )  # no part replaced: nothing to match
    return TaskPlan(
        rule=rule.id,
        script=script.id,
        questions=questions,
        priority=rule.priority,
        due_at=calendar.add_business_seconds(resolution.at, rule.due_hours * 3600),
        require_before_close=rule.require_before_close,
        not_verified=rule.not_verified,
        max_attempts=rule.max_attempts,
    )


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Answers:
    """The customer's answers, checked against the script."""

    done: bool
    fee: bool | None = None
    fee_amount: float | None = None
    part_matches: bool | None = None
    csat: int | None = None
    nps: int | None = None
    comment: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The answers as stored (only those given)."""
        return {
            key: value
            for key, value in self.__dict__.items()
            if value is not None and (key != "comment" or value)
        }


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError("answer yes (true) or no (false)")


def _whole(value: Any, low: int, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"a whole number from {low} to {high}")
    return value


def check_answers(questions: Sequence[str], raw: Mapping[str, Any]) -> Answers:
    """Check raw answers against the script's questions; return them or raise ``ValueError``
    whose ``args[0]`` lists ``(field, problem)`` pairs, every problem at once.

    ``done`` is always required; ``fee_amount`` when a fee was charged; ``part_matches``
    when the script asks it. Answers to questions the script does not ask are refused.

    >>> check_answers(["done", "csat"], {"done": True, "csat": 4}).csat
    4
    >>> check_answers(["done", "fee"], {"done": True, "fee": True})
    Traceback (most recent call last):
    ...
    ValueError: [('fee_amount', 'a fee was charged: say how much (yuan)')]
    """
    problems: list[tuple[str, str]] = []
    asked = set(questions) | {"done"}
    allowed = asked | ({"fee_amount"} if "fee" in asked else set())
    for key in raw:
        if key not in allowed:
            problems.append((key, f"the script does not ask {key!r}"))
    values: dict[str, Any] = {}
    checks: dict[str, Any] = {
        "done": _flag,
        "fee": _flag,
        "part_matches": _flag,
        "csat": lambda v: _whole(v, 1, 5),
        "nps": lambda v: _whole(v, 0, 10),
    }
    for key, check in checks.items():
        if key not in allowed:
            continue
        try:
            values[key] = check(raw.get(key))
        except ValueError as exc:
            problems.append((key, str(exc)))
    if raw.get("done") is None and not any(f == "done" for f, _ in problems):
        problems.append(("done", "required: was the work done and the problem solved?"))
    if "part_matches" in asked and raw.get("part_matches") is None:
        problems.append(("part_matches", "required: does the replaced part match the fault?"))
    amount = raw.get("fee_amount")
    if values.get("fee"):
        if amount is None:
            problems.append(("fee_amount", "a fee was charged: say how much (yuan)"))
        elif isinstance(amount, bool) or not isinstance(amount, int | float):
            problems.append(("fee_amount", "a number of yuan"))
        elif not 0 <= amount <= MAX_FEE_YUAN:
            problems.append(("fee_amount", f"from 0 to {MAX_FEE_YUAN} yuan"))
    elif amount is not None:
        problems.append(("fee_amount", "no fee was charged: leave the amount out"))
    comment = raw.get("comment", "")
    if not isinstance(comment, str) or len(comment) > COMMENT_LENGTH:
        problems.append(("comment", f"text of at most {COMMENT_LENGTH} characters"))
    if problems:
        raise ValueError(problems)
    return Answers(
        done=bool(values["done"]),
        fee=values.get("fee"),
        fee_amount=float(amount) if values.get("fee") and amount is not None else None,
        part_matches=values.get("part_matches"),
        csat=values.get("csat"),
        nps=values.get("nps"),
        comment=comment.strip() if isinstance(comment, str) else "",
    )


# ---------------------------------------------------------------- the task's life


class TaskState(StrEnum):
    """Where a follow-up task stands."""

    OPEN = "open"  # due: the 回访 group calls
    VERIFIED = "verified"  # the customer confirmed the work
    NOT_VERIFIED = "not_verified"  # the customer says it is not done
    UNREACHED = "unreached"  # every attempt failed to reach the customer
    CANCELLED = "cancelled"


FINISHED = frozenset({TaskState.VERIFIED, TaskState.NOT_VERIFIED, TaskState.UNREACHED})


class ClaimFlag(StrEnum):
    """Why a provider's claim is held: what the customer said contradicts it."""

    FEE_CHARGED = "fee_charged"  # the customer paid a fee on a warranty order
    PART_MISMATCH = "part_mismatch"  # the replaced part does not match the fault


@dataclass(frozen=True)
class TaskFacts:
    """What the task's rules need to know."""

    state: TaskState
    ticket_type: str
    warranty: bool
    parts: tuple[str, ...]
    attempts: int = 0
    max_attempts: int = 3
    not_verified: str = "reopen"
    #: The order closed before the call (its rule did not hold the close): there is no
    #: verification left to record, but a customer who says it is not done still counts.
    ticket_closed: bool = False


@dataclass(frozen=True)
class Answered:
    """The customer was reached and answered the script."""

    answers: Answers


@dataclass(frozen=True)
class NotReached:
    """A call that did not reach the customer (no answer, busy, wrong number)."""

    note: str = ""


@dataclass(frozen=True)
class Cancelled:
    """The task is dropped (the ticket was cancelled or the customer refused follow-ups)."""

    reason: str


TaskEvent = Answered | NotReached | Cancelled


@dataclass(frozen=True)
class Effect:
    """Something the service layer does to the ticket after a transition.

    ``verify`` (record the verification: ``reached``, ``confirmed``, ``part_matches``),
    ``reopen``, ``complaint`` (open one about the order), ``flag_claim`` (``flags``).
    """

    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


def transition(facts: TaskFacts, event: TaskEvent) -> tuple[TaskState, int, list[Effect]]:
    """Apply ``event`` to a task: its next state, attempts so far, and the ticket effects.

    >>> facts = TaskFacts(TaskState.OPEN, "repair", warranty=True, parts=("pump",))
    >>> state, _, effects = transition(facts, Answered(Answers(done=True, part_matches=False)))
    >>> state.value, [e.kind for e in effects], effects[1].detail["flags"]
    ('verified', ['verify', 'flag_claim'], ['part_mismatch'])
    >>> transition(facts, NotReached())[:2]
    (<TaskState.OPEN: 'open'>, 1)
    """
    if facts.state is not TaskState.OPEN:
        raise Conflict(f"the follow-up is {facts.state.value}: nothing more to record")
    if isinstance(event, Cancelled):
        return TaskState.CANCELLED, facts.attempts, []
    field_work = facts.ticket_type in ("repair", "installation")
    if isinstance(event, NotReached):
        attempts = facts.attempts + 1
        if attempts < facts.max_attempts:
            return TaskState.OPEN, attempts, []
        unverified = field_work and not facts.ticket_closed
        effects = [Effect("verify", {"reached": False, "confirmed": False})] if unverified else []
        return TaskState.UNREACHED, attempts, effects
    answers = event.answers
    effects = []
    if field_work and facts.ticket_closed:
        if not answers.done:
            effects.append(Effect("reopen" if facts.not_verified == "reopen" else "complaint"))
    elif field_work:
        effects.append(
            Effect(
                "verify",
                {
                    "reached": True,
                    "confirmed": answers.done,
                    "part_matches": answers.part_matches if facts.parts else None,
                    "reopen": facts.not_verified == "reopen",
                },
            )
        )
        if not answers.done and facts.not_verified == "complaint":
            effects.append(Effect("complaint"))
    elif not answers.done:
        effects.append(Effect("reopen"))  # a closed complaint the customer says is not settled
    flags = claim_flags(answers, warranty=facts.warranty, parts=facts.parts)
    if flags and field_work:
        effects.append(Effect("flag_claim", {"flags": [f.value for f in flags]}))
    state = TaskState.VERIFIED if answers.done else TaskState.NOT_VERIFIED
    return state, facts.attempts + 1, effects


def claim_flags(answers: Answers, *, warranty: bool, parts: Sequence[str]) -> list[ClaimFlag]:
    """What in the answers holds the provider's claim.

    A fee on a warranty order is money the customer should not have paid; a replaced part
    that does not match the reported fault is a part claimed for work not needed.

    >>> claim_flags(Answers(done=True, fee=True, fee_amount=80.0), warranty=True, parts=())
    [<ClaimFlag.FEE_CHARGED: 'fee_charged'>]
    >>> claim_flags(Answers(done=True, fee=True, fee_amount=80.0), warranty=False, parts=())
    []
    """
    flags: list[ClaimFlag] = []
    if warranty and answers.fee and (answers.fee_amount or 0) > 0:
        flags.append(ClaimFlag.FEE_CHARGED)
    if parts and answers.part_matches is False:
        flags.append(ClaimFlag.PART_MISMATCH)
    return flags


# ---------------------------------------------------------------- reminders


def urgency(now: datetime, due_at: datetime, *, soon_hours: float) -> str:
    """``overdue``, ``due_soon`` (within ``soon_hours``) or ``later``: how the workbench
    highlights an open task.

    >>> from datetime import UTC
    >>> due = datetime(2026, 3, 2, 12, tzinfo=UTC)
    >>> [urgency(due - timedelta(hours=h), due, soon_hours=4) for h in (5, 3, -1)]
    ['later', 'due_soon', 'overdue']
    """
    if now >= due_at:
        return "overdue"
    if now >= due_at - timedelta(hours=soon_hours):
        return "due_soon"
    return "later"


def soon_hours(config: FollowUpConfig) -> float:
    """How many hours before its due time a task counts as due soon (the largest
    ``due_soon`` escalation; 4 hours when none is configured)."""
    hours = [e.hours for e in config.escalations if e.stage == "due_soon"]
    return max(hours) if hours else 4.0


def escalations_due(
    now: datetime,
    due_at: datetime,
    escalations: Iterable[FollowUpEscalation],
    *,
    fired: Iterable[str],
) -> list[FollowUpEscalation]:
    """The escalations of an open task whose moment has come and that have not fired yet.

    >>> from datetime import UTC
    >>> due = datetime(2026, 3, 2, 12, tzinfo=UTC)
    >>> rules = [FollowUpEscalation(id="soon", stage="due_soon", hours=4, notify="followup"),
    ...          FollowUpEscalation(id="late", stage="overdue", hours=2, notify="supervisor")]
    >>> [e.id for e in escalations_due(due, due, rules, fired=[])]
    ['soon']
    >>> [e.id for e in escalations_due(due + timedelta(hours=3), due, rules, fired=["soon"])]
    ['late']
    """
    done = set(fired)
    found = []
    for escalation in escalations:
        if escalation.id in done:
            continue
        offset = timedelta(hours=escalation.hours)
        moment = due_at - offset if escalation.stage == "due_soon" else due_at + offset
        if now >= moment:
            found.append(escalation)
    return found


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class TaskRecord:
    """A task as the figures see it."""

    state: str
    created_at: datetime
    due_at: datetime
    finished_at: datetime | None
    provider: str | None
    product_model: str


AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("under_1d", 1),
    ("1_2d", 2),
    ("2_7d", 7),
    ("over_7d", float("inf")),
)


def on_time_rate(tasks: Iterable[TaskRecord]) -> float | None:
    """Share of finished tasks (verified, not verified or unreached) finished by their due
    time; ``None`` when none finished.

    >>> from datetime import UTC
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> on_time_rate([TaskRecord("verified", t, t, t, None, ""),
    ...               TaskRecord("verified", t, t, t + timedelta(hours=1), None, "")])
    0.5
    """
    finished = [t for t in tasks if t.state in FINISHED and t.finished_at is not None]
    if not finished:
        return None
    on_time = sum(1 for t in finished if t.finished_at is not None and t.finished_at <= t.due_at)
    return on_time / len(finished)


def backlog_by_age(tasks: Iterable[TaskRecord], now: datetime) -> dict[str, int]:
    """Open tasks counted by age since they were created (under a day, 1–2, 2–7, over 7)."""
    counts = {name: 0 for name, _ in AGE_BUCKETS}
    for task in tasks:
        if task.state != TaskState.OPEN:
            continue
        days = (now - task.created_at).total_seconds() / 86400
        for name, limit in AGE_BUCKETS:
            if days < limit:
                counts[name] += 1
                break
    return counts


def outcomes_by(tasks: Iterable[TaskRecord], key: str) -> dict[str, dict[str, int]]:
    """Finished tasks counted by outcome per ``provider`` or ``product_model``."""
    table: dict[str, dict[str, int]] = {}
    for task in tasks:
        if task.state not in FINISHED:
            continue
        name = (task.provider if key == "provider" else task.product_model) or "-"
        row = table.setdefault(name, {state.value: 0 for state in FINISHED})
        row[task.state] += 1
    return table


def late_settlement_share(
    settled: Iterable[tuple[datetime, datetime | None, datetime]],
) -> float | None:
    """Share of settled claims that waited on a late follow-up.

    Each item is ``(task due, task finished or None, claim decided)``: the claim waited on
    follow-up when the task finished after its due time, or was still not finished when the
    claim was decided.

    >>> from datetime import UTC
    >>> t = datetime(2026, 3, 2, tzinfo=UTC)
    >>> late_settlement_share([(t, t, t), (t, t + timedelta(days=1), t + timedelta(days=2))])
    0.5
    """
    items = list(settled)
    if not items:
        return None
    late = sum(1 for due, finished, _ in items if finished is None or finished > due)
    return late / len(items)
