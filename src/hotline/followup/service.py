"""Follow-up (回访) tasks and provider settlement on a database session.

The ticket-resolve path calls :func:`generate_for_ticket` after a repair or installation
order is resolved or a complaint closed; :func:`sweep` catches any resolution that path
missed (a crash, a change made outside the web app) and sends the reminders and
escalations that are due. Both are idempotent: a resolution gets one task at most
(``resolution_key`` is unique), and a resolution the rules leave alone is marked once on the
ticket as needing no verification to close.

The 回访 group works the open tasks (:func:`list_tasks`, :func:`task_view`) and records what
the customer said (:func:`record_answers`, :func:`record_not_reached`); the pure rules
(:mod:`hotline.followup.rules`) decide what that does to the ticket, and this module carries
it out through :mod:`hotline.tickets.service` (the only way this domain reaches tickets).

Settlement: a provider's warranty claim is approved only once the order was verified and no
follow-up flagged it (:func:`decide_claim`); :func:`statement` is a provider's month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.config.followup import FollowUpConfig
from hotline.core.calendar import BusinessCalendar
from hotline.core.errors import Conflict, NotFound, Problem, ValidationFailed
from hotline.crm import service as crm
from hotline.followup import rules
from hotline.followup.rules import TaskState
from hotline.identity.audit import record as audit
from hotline.notifications import service as notifications
from hotline.store.db import utcnow
from hotline.store.models.followup import ClaimDecision, FollowUpTask
from hotline.tickets import service as tickets

ACTOR = "followup"
#: How far back the sweep looks for resolutions the resolve path missed.
SWEEP_LOOKBACK = timedelta(days=30)


def followup_config(center: CenterConfig | None) -> FollowUpConfig | None:
    """The center's follow-up section, or ``None`` when it has none (no tasks are made)."""
    return center.followup if center is not None else None


def calendar_of(session: Session, center: CenterConfig) -> BusinessCalendar:
    """The business calendar due times count on: the follow-up section's, else the
    center's default, else the service desk's stored default calendar."""
    wanted = (
        center.followup.calendar if center.followup else None
    ) or center.center.default_calendar
    for calendar in center.calendars:
        if calendar.id == wanted:
            return calendar.business_calendar(center.center.timezone)
    return tickets.load_calendar(session, None)


# ---------------------------------------------------------------- generation


def generate_for_ticket(
    session: Session,
    *,
    ticket_id: int,
    center: CenterConfig | None,
    actor: str = ACTOR,
    now: datetime | None = None,
) -> FollowUpTask | None:
    """Make the follow-up task of the ticket's current resolution, once.

    Returns the task (new or already there), or ``None`` when the ticket has no resolution,
    the center has no follow-up rules, or the rules leave this resolution alone (then the
    ticket may close without a verification callback, which the history says).

    Example: ``generate_for_ticket(session, ticket_id=42, center=center)``.
    """
    config = followup_config(center)
    if config is None or center is None:
        return None
    facts = tickets.resolution_of(session, ticket_id=ticket_id)
    if facts is None:
        return None
    return _generate(session, facts, config, calendar_of(session, center), actor, now)


def _resolution(facts: tickets.ResolutionFacts) -> rules.Resolution:
    return rules.Resolution(
        ticket_id=facts.ticket_id,
        type=facts.type,
        category=facts.category,
        warranty=facts.warranty,
        parts=facts.parts,
        at=facts.at,
        provider=facts.provider,
        product_model=facts.product_model,
    )


def _generate(
    session: Session,
    facts: tickets.ResolutionFacts,
    config: FollowUpConfig,
    calendar: BusinessCalendar,
    actor: str,
    now: datetime | None,
) -> FollowUpTask | None:
    resolution = _resolution(facts)
    existing = session.scalars(
        select(FollowUpTask).where(FollowUpTask.resolution_key == resolution.key)
    ).first()
    if existing is not None:
        return existing
    plan = rules.plan_task(config, resolution, calendar)
    field_work = facts.type in tickets.FOLLOWED_TYPES
    if plan is None:
        rule = rules.matching_rule(config, resolution)
        if field_work:
            reason = (
                f"not sampled for follow-up by rule {rule.id} ({rule.sample_percent:g} %)"
                if rule
                else "no follow-up rule matches this order"
            )
            tickets.waive_verification(
                session, ticket_id=facts.ticket_id, actor=actor, reason=reason, now=now
            )
        return None
    task = FollowUpTask(
        ticket_id=facts.ticket_id,
        resolution_key=resolution.key,
        rule=plan.rule,
        script=plan.script,
        questions=list(plan.questions),
        priority=plan.priority,
        state=TaskState.OPEN.value,
        ticket_type=facts.type,
        warranty=facts.warranty,
        parts=list(facts.parts),
        provider=facts.provider,
        product_model=facts.product_model,
        require_before_close=plan.require_before_close,
        not_verified=plan.not_verified,
        max_attempts=plan.max_attempts,
        attempts=0,
        created_at=now or utcnow(),
        resolved_at=facts.at,
        due_at=plan.due_at,
        answers={},
        claim_flags=[],
        escalated=[],
    )
    # The unique resolution key is the guarantee: a second writer's insert fails here and
    # its task is the one returned.
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except IntegrityError:
        found = session.scalars(
            select(FollowUpTask).where(FollowUpTask.resolution_key == resolution.key)
        ).first()
        if found is None:
            raise
        return found
    if field_work and not plan.require_before_close:
        tickets.waive_verification(
            session,
            ticket_id=facts.ticket_id,
            actor=actor,
            reason=f"follow-up rule {plan.rule} does not hold the close",
            now=now,
        )
    audit(
        session,
        actor=actor,
        action="followup.create",
        target=f"ticket:{facts.number}",
        detail={"task": task.id, "rule": plan.rule, "due_at": plan.due_at.isoformat()},
    )
    return task


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did: tasks made for missed resolutions, reminders sent."""

    created: list[int]
    escalated: list[tuple[int, str]]


def sweep(
    session: Session,
    *,
    center: CenterConfig | None,
    now: datetime | None = None,
    actor: str = ACTOR,
    lookback: timedelta = SWEEP_LOOKBACK,
) -> SweepResult:
    """Make the tasks the resolve path missed and send the reminders that are due."""
    now = now or utcnow()
    config = followup_config(center)
    if config is None or center is None:
        return SweepResult([], [])
    calendar = calendar_of(session, center)
    created: list[int] = []
    for facts in tickets.resolutions_since(session, since=now - lookback):
        before = session.scalars(
            select(FollowUpTask.id).where(FollowUpTask.resolution_key == _resolution(facts).key)
        ).first()
        task = _generate(session, facts, config, calendar, actor, now)
        if task is not None and before is None:
            created.append(task.id)
    return SweepResult(created, escalate(session, config=config, now=now))


def escalate(session: Session, *, config: FollowUpConfig, now: datetime) -> list[tuple[int, str]]:
    """Send each open task's due reminders and overdue escalations, once each."""
    sent: list[tuple[int, str]] = []
    query = select(FollowUpTask).where(FollowUpTask.state == TaskState.OPEN.value)
    for task in session.scalars(query.order_by(FollowUpTask.due_at)):
        due = rules.escalations_due(now, task.due_at, config.escalations, fired=task.escalated)
        for escalation in due:
            ticket = tickets.get_ticket(session, ticket_id=task.ticket_id)
            notifications.send(
                session,
                to=notifications.Addressee.role(escalation.notify),
                kind=f"followup_{escalation.stage}",
                ticket_number=ticket.number,
                params={"task": task.id, "due_at": task.due_at.isoformat()},
                now=now,
            )
            task.escalated = [*task.escalated, escalation.id]
            sent.append((task.id, escalation.id))
    session.flush()
    return sent


# ---------------------------------------------------------------- the 回访 group's work


def get_task(session: Session, *, task_id: int) -> FollowUpTask:
    """The task ``task_id`` (``NotFound`` when there is none)."""
    task = session.get(FollowUpTask, task_id)
    if task is None:
        raise NotFound(f"follow-up task {task_id} does not exist")
    return task


def is_open(task: FollowUpTask) -> bool:
    """Whether the task still waits for its call (answers or attempts may be recorded)."""
    return task.state == TaskState.OPEN.value


def list_tasks(
    session: Session, *, states: Sequence[str] = ("open",), limit: int = 200
) -> list[FollowUpTask]:
    """Tasks in ``states``, the soonest due first, then the most urgent priority."""
    query = (
        select(FollowUpTask)
        .where(FollowUpTask.state.in_(list(states)))
        .order_by(FollowUpTask.due_at, FollowUpTask.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def tasks_of_tickets(session: Session, *, ticket_ids: Sequence[int]) -> list[FollowUpTask]:
    """Every follow-up task of ``ticket_ids``, whatever its state, oldest first: a ticket's
    or a customer's history shows when each was made, when it is due and how it ended."""
    if not ticket_ids:
        return []
    query = (
        select(FollowUpTask)
        .where(FollowUpTask.ticket_id.in_(sorted(set(ticket_ids))))
        .order_by(FollowUpTask.created_at, FollowUpTask.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class DueTask:
    """A follow-up to call, as a dialling list takes it."""

    task_id: int
    ticket_id: int
    customer_id: int | None
    phone: str | None
    due_at: datetime
    priority: str
    script: str
    questions: tuple[str, ...]


PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def due_tasks(session: Session, *, until: datetime, limit: int = 1000) -> list[DueTask]:
    """Open tasks due by ``until``, most urgent priority first, then soonest due: what a
    campaign's dialling list takes (the customer's first phone number, unmasked)."""
    query = (
        select(FollowUpTask)
        .where(FollowUpTask.state == TaskState.OPEN.value, FollowUpTask.due_at <= until)
        .order_by(FollowUpTask.due_at, FollowUpTask.id)
        .limit(limit)
    )
    found: list[DueTask] = []
    for task in session.scalars(query):
        ticket = tickets.get_ticket(session, ticket_id=task.ticket_id)
        customer = _customer(session, ticket.customer_id, masked=False)
        phones = customer["phones"] if customer else []
        found.append(
            DueTask(
                task_id=task.id,
                ticket_id=task.ticket_id,
                customer_id=ticket.customer_id,
                phone=phones[0]["e164"] if phones else None,
                due_at=task.due_at,
                priority=task.priority,
                script=task.script,
                questions=tuple(task.questions),
            )
        )
    found.sort(key=lambda d: (PRIORITY_ORDER.get(d.priority, 9), d.due_at, d.task_id))
    return found


def _customer(session: Session, customer_id: int | None, *, masked: bool) -> dict[str, Any] | None:
    if customer_id is None:
        return None
    customer = crm.get_customer(session, customer_id=customer_id)
    return crm.customer_view(session, customer=customer, masked=masked)


def task_view(
    session: Session, task: FollowUpTask, *, now: datetime, soon_hours: float, masked: bool
) -> dict[str, Any]:
    """A task as the workbench shows it: the ticket, the customer, urgency, the script."""
    ticket = tickets.get_ticket(session, ticket_id=task.ticket_id)
    customer = _customer(session, ticket.customer_id, masked=masked)
    return {
        "id": task.id,
        "ticket_id": ticket.id,
        "ticket_number": ticket.number,
        "ticket_type": task.ticket_type,
        "ticket_state": ticket.state,
        "subject": ticket.subject,
        "customer_id": ticket.customer_id,
        "customer_name": customer["name"] if customer else None,
        "phones": [p["e164"] for p in customer["phones"]] if customer else [],
        "rule": task.rule,
        "script": task.script,
        "questions": list(task.questions),
        "priority": task.priority,
        "state": task.state,
        "warranty": task.warranty,
        "parts": list(task.parts),
        "provider": task.provider,
        "product_model": task.product_model,
        "created_at": task.created_at,
        "resolved_at": task.resolved_at,
        "due_at": task.due_at,
        "finished_at": task.finished_at,
        "urgency": rules.urgency(now, task.due_at, soon_hours=soon_hours)
        if task.state == TaskState.OPEN.value
        else "done",
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "answers": dict(task.answers),
        "claim_flags": list(task.claim_flags),
        "agent": task.agent,
    }


def _facts(session: Session, task: FollowUpTask) -> rules.TaskFacts:
    ticket = tickets.get_ticket(session, ticket_id=task.ticket_id)
    return rules.TaskFacts(
        state=TaskState(task.state),
        ticket_type=task.ticket_type,
        warranty=task.warranty,
        parts=tuple(task.parts),
        attempts=task.attempts,
        max_attempts=task.max_attempts,
        not_verified=task.not_verified,
        ticket_closed=ticket.state == "closed" and task.ticket_type in tickets.FOLLOWED_TYPES,
    )


def _current(session: Session, task: FollowUpTask) -> None:
    """A task is worked only while its resolution is the ticket's current one."""
    facts = tickets.resolution_of(session, ticket_id=task.ticket_id)
    if facts is None or _resolution(facts).key != task.resolution_key:
        raise Conflict(
            f"ticket of follow-up {task.id} changed since it was resolved "
            "(reopened or resolved again): this follow-up no longer applies"
        )


def record_answers(
    session: Session,
    *,
    task_id: int,
    answers: Mapping[str, Any],
    actor: str,
    now: datetime | None = None,
) -> FollowUpTask:
    """Record the customer's answers; the ticket is verified, reopened or complained about,
    and the provider's claim flagged, as the rules say.

    Bad answers raise ``ValidationFailed`` naming each field (``answers.<question>``).
    Example: ``record_answers(session, task_id=3, answers={"done": True, "csat": 5}, actor="hf1")``.
    """
    now = now or utcnow()
    task = get_task(session, task_id=task_id)
    if task.state != TaskState.OPEN.value:  # a finished task is a conflict, whatever the answers
        raise Conflict(f"the follow-up is {task.state}: nothing more to record")
    try:
        checked = rules.check_answers(task.questions, answers)
    except ValueError as exc:
        problems = exc.args[0]
        raise ValidationFailed(
            [Problem(problem, field=f"answers.{name}") for name, problem in problems]
        ) from None
    state, attempts, effects = rules.transition(_facts(session, task), rules.Answered(checked))
    _current(session, task)
    _carry_out(session, task, effects, actor=actor, now=now, note=checked.comment)
    task.state, task.attempts = state.value, attempts
    task.answers = checked.as_dict()
    task.finished_at, task.agent = now, actor
    audit(
        session,
        actor=actor,
        action="followup.answer",
        target=f"followup:{task.id}",
        detail={"state": state.value, "flags": list(task.claim_flags)},
    )
    session.flush()
    return task


def record_not_reached(
    session: Session, *, task_id: int, actor: str, note: str = "", now: datetime | None = None
) -> FollowUpTask:
    """A call that did not reach the customer; after the rule's last attempt the task ends
    ``unreached`` and the ticket's verification says so."""
    now = now or utcnow()
    task = get_task(session, task_id=task_id)
    state, attempts, effects = rules.transition(_facts(session, task), rules.NotReached(note))
    _current(session, task)
    _carry_out(session, task, effects, actor=actor, now=now, note=note)
    task.state, task.attempts, task.agent = state.value, attempts, actor
    if state is not TaskState.OPEN:
        task.finished_at = now
    audit(
        session,
        actor=actor,
        action="followup.not_reached",
        target=f"followup:{task.id}",
        detail={"attempts": attempts, "state": state.value},
    )
    session.flush()
    return task


def _carry_out(
    session: Session,
    task: FollowUpTask,
    effects: Sequence[rules.Effect],
    *,
    actor: str,
    now: datetime,
    note: str,
) -> None:
    for effect in effects:
        detail = effect.detail
        if effect.kind == "verify":
            tickets.record_verification(
                session,
                ticket_id=task.ticket_id,
                actor=actor,
                reached=bool(detail["reached"]),
                customer_confirmed=bool(detail["confirmed"]),
                part_replaced=bool(task.parts),
                part_matches_fault=detail.get("part_matches"),
                note=note or f"follow-up {task.id}",
                now=now,
                reopen=bool(detail.get("reopen", True)),
            )
        elif effect.kind == "reopen":
            tickets.reopen(
                session,
                ticket_id=task.ticket_id,
                actor=actor,
                note=f"follow-up {task.id}: the customer says it is not settled",
                now=now,
            )
        elif effect.kind == "complaint":
            ticket = tickets.get_ticket(session, ticket_id=task.ticket_id)
            complaint = tickets.create_ticket(
                session,
                type="complaint",
                subject=f"回访未确认 Follow-up not confirmed: {ticket.subject}"[:200],
                actor=actor,
                customer_id=ticket.customer_id,
                description=note,
                now=now,
            )
            tickets.link_tickets(
                session, ticket_id=complaint.id, other_id=ticket.id, actor=actor, now=now
            )
        elif effect.kind == "flag_claim":
            task.claim_flags = list(detail["flags"])
            tickets.flag_claim(
                session, ticket_id=task.ticket_id, flags=detail["flags"], actor=actor, now=now
            )
        else:
            raise ValueError(f"the follow-up rules asked for an unknown effect {effect.kind!r}")


# ---------------------------------------------------------------- figures


def _records(session: Session, since: datetime | None) -> list[rules.TaskRecord]:
    query = select(FollowUpTask).where(FollowUpTask.state != TaskState.CANCELLED.value)
    if since is not None:
        query = query.where(FollowUpTask.created_at >= since)
    return [
        rules.TaskRecord(
            state=t.state,
            created_at=t.created_at,
            due_at=t.due_at,
            finished_at=t.finished_at,
            provider=t.provider,
            product_model=t.product_model,
        )
        for t in session.scalars(query)
    ]


def figures(session: Session, *, now: datetime, since: datetime | None = None) -> dict[str, Any]:
    """On-time follow-up rate, backlog by age, outcomes by provider and by product, and the
    share of settled claims that waited on a late follow-up."""
    records = _records(session, since)
    open_tasks = [r for r in records if r.state == TaskState.OPEN.value]
    settled: list[tuple[datetime, datetime | None, datetime]] = []
    decided = select(ClaimDecision, FollowUpTask).join(
        FollowUpTask, FollowUpTask.ticket_id == ClaimDecision.ticket_id
    )
    for decision, task in session.execute(decided):
        settled.append((task.due_at, task.finished_at, decision.at))
    return {
        "tasks": len(records),
        "open": len(open_tasks),
        "overdue": sum(1 for r in open_tasks if r.due_at <= now),
        "on_time_rate": rules.on_time_rate(records),
        "backlog_by_age": rules.backlog_by_age(records, now),
        "outcomes_by_provider": rules.outcomes_by(records, "provider"),
        "outcomes_by_product": rules.outcomes_by(records, "product_model"),
        "late_settlement_share": rules.late_settlement_share(settled),
    }


# ---------------------------------------------------------------- settlement


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first instant of ``month`` (``YYYY-MM``, UTC) and of the next month.

    >>> [moment.isoformat() for moment in month_bounds("2026-12")]
    ['2026-12-01T00:00:00+00:00', '2027-01-01T00:00:00+00:00']
    """
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValidationFailed(
            [Problem(f"a month is written YYYY-MM, not {month!r}", field="month")]
        ) from None
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return (
        datetime(first.year, first.month, 1, tzinfo=UTC),
        datetime(after.year, after.month, 1, tzinfo=UTC),
    )


@dataclass(frozen=True)
class StatementLine:
    """One claim on a provider's monthly statement."""

    ticket_id: int
    number: str
    provider: str
    submitted_at: datetime
    product_model: str
    parts: tuple[str, ...]
    labour_yuan: float
    parts_yuan: float
    travel_yuan: float
    amount_yuan: float
    verified: bool
    flags: tuple[str, ...]
    status: str  # approved | rejected | pending
    reason: str
    decided_at: datetime | None


def _flags_of(session: Session, ticket_id: int) -> tuple[str, ...]:
    query = select(FollowUpTask.claim_flags).where(FollowUpTask.ticket_id == ticket_id)
    return tuple(sorted({flag for flags in session.scalars(query) for flag in flags}))


def statement(session: Session, *, month: str, provider: str | None = None) -> list[StatementLine]:
    """The claims submitted in ``month`` (one provider's, or all), each approved, rejected
    with its reason, or pending."""
    since, until = month_bounds(month)
    lines: list[StatementLine] = []
    for claim in tickets.submitted_claims(session, since=since, until=until, provider=provider):
        decision = session.scalars(
            select(ClaimDecision).where(ClaimDecision.ticket_id == claim.ticket_id)
        ).first()
        lines.append(
            StatementLine(
                ticket_id=claim.ticket_id,
                number=claim.number,
                provider=claim.provider,
                submitted_at=claim.at,
                product_model=claim.product_model,
                parts=claim.parts,
                labour_yuan=claim.labour_yuan,
                parts_yuan=claim.parts_yuan,
                travel_yuan=claim.travel_yuan,
                amount_yuan=claim.amount_yuan,
                verified=claim.verified,
                flags=_flags_of(session, claim.ticket_id),
                status=decision.decision if decision else "pending",
                reason=decision.reason if decision else "",
                decided_at=decision.at if decision else None,
            )
        )
    return lines


def decide_claim(
    session: Session,
    *,
    ticket_id: int,
    approve: bool,
    actor: str,
    reason: str = "",
    now: datetime | None = None,
) -> ClaimDecision:
    """Approve or reject a provider's claim, once.

    Approval needs the order verified by its follow-up (reached, confirmed, the part
    matching) and no follow-up flag (a fee charged on a warranty order, a mismatched part);
    a rejection needs its reason.
    """
    now = now or utcnow()
    ticket = tickets.get_ticket(session, ticket_id=ticket_id)
    claims = tickets.submitted_claims(
        session,
        since=datetime(1970, 1, 1, tzinfo=UTC),
        until=now + timedelta(days=1),
        ticket_id=ticket.id,
    )
    claim = claims[0] if claims else None
    if claim is None:
        raise NotFound(f"work order {ticket.number} has no claim submitted")
    if session.scalars(select(ClaimDecision).where(ClaimDecision.ticket_id == ticket.id)).first():
        raise Conflict(f"the claim of work order {ticket.number} was already decided")
    flags = _flags_of(session, ticket.id)
    if approve:
        if not claim.verified:
            raise Conflict(
                f"the claim of work order {ticket.number} cannot be approved before its "
                "follow-up verified the work"
            )
        if flags:
            raise Conflict(
                f"the follow-up flagged the claim of work order {ticket.number} "
                f"({', '.join(flags)}): reject it or settle the dispute first"
            )
    elif not reason.strip():
        raise ValidationFailed([Problem("a rejection needs its reason", field="reason")])
    decision = ClaimDecision(
        ticket_id=ticket.id,
        decision="approved" if approve else "rejected",
        reason=reason.strip(),
        amount_yuan=claim.amount_yuan if approve else 0.0,
        actor=actor,
        at=now,
    )
    session.add(decision)
    audit(
        session,
        actor=actor,
        action=f"settlement.{decision.decision}",
        target=f"ticket:{ticket.number}",
        detail={"amount_yuan": claim.amount_yuan, "reason": decision.reason},
    )
    session.flush()
    return decision
