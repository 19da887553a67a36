"""The life of a ticket or work order: types, states, allowed transitions and closing rules.

"One ticket to the end" (一票到底): a customer's problem is one ticket from the first call to
the verified fix. Repair and installation work orders are dispatched to field service
providers; they may only close after a **verification callback** (回访) in which the customer
confirms the work was done, and — when a warranty part was replaced — the agent records
whether the replaced part matches the fault the customer reported. A mismatch rejects the
provider's warranty claim: this is how the centers stop false service claims.

Complaints carry a **level**; each level has a mandatory escalation path (the roles that must
acknowledge it), and a complaint cannot be resolved until every role on its path has.

:func:`transition` is pure: given the facts of a ticket and an action, it returns the next
state and the effects the service layer must carry out, or raises :class:`Conflict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from hotline.core.errors import Conflict


class TicketType(StrEnum):
    """What the customer needs."""

    INQUIRY = "inquiry"
    INSTALLATION = "installation"
    REPAIR = "repair"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


class TicketState(StrEnum):
    """Where a ticket stands."""

    NEW = "new"
    OPEN = "open"
    WAITING_CUSTOMER = "waiting_customer"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Action(StrEnum):
    """What someone does to a ticket."""

    ASSIGN = "assign"
    START = "start"
    WAIT_CUSTOMER = "wait_customer"
    CUSTOMER_REPLIED = "customer_replied"
    DISPATCH = "dispatch"
    PROVIDER_UPDATE = "provider_update"
    PROVIDER_COMPLETED = "provider_completed"
    RESOLVE = "resolve"
    VERIFY = "verify"
    REOPEN = "reopen"
    CLOSE = "close"
    CANCEL = "cancel"
    ESCALATE = "escalate"
    UPDATE = "update"  # an update sent to the customer (a response)


class Priority(StrEnum):
    """How urgent a ticket is; SLA policies are chosen by type and priority."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


FIELD_WORK = frozenset({TicketType.REPAIR, TicketType.INSTALLATION})
#: Tickets still being worked: their SLA clocks run and ``check_sla`` escalates them.
OPEN_STATES = frozenset(
    {TicketState.NEW, TicketState.OPEN, TicketState.WAITING_CUSTOMER, TicketState.DISPATCHED}
)
#: Tickets at the end of their life: nothing more happens to them unless one is reopened.
FINAL_STATES = frozenset({TicketState.CLOSED, TicketState.CANCELLED})
#: Tickets not yet finished: the open ones and the resolved ones, which wait for their
#: verification callback before closing (the "one ticket to the end" loop). The screen pop
#: lists these, so the agent on a customer's next call sees the ticket awaiting verification.
NOT_FINISHED_STATES = frozenset(set(TicketState) - FINAL_STATES)

S, A = TicketState, Action
# The transition table: (state, action) → next state. Guards beyond the table (closed loop,
# complaint escalation, dispatch only for field work) are in ``transition``.
TRANSITIONS: dict[tuple[TicketState, Action], TicketState] = {
    (S.NEW, A.ASSIGN): S.OPEN,
    (S.NEW, A.START): S.OPEN,
    (S.OPEN, A.ASSIGN): S.OPEN,
    (S.WAITING_CUSTOMER, A.ASSIGN): S.WAITING_CUSTOMER,
    (S.DISPATCHED, A.ASSIGN): S.DISPATCHED,
    (S.OPEN, A.WAIT_CUSTOMER): S.WAITING_CUSTOMER,
    (S.DISPATCHED, A.WAIT_CUSTOMER): S.WAITING_CUSTOMER,
    (S.WAITING_CUSTOMER, A.CUSTOMER_REPLIED): S.OPEN,
    (S.NEW, A.DISPATCH): S.DISPATCHED,
    (S.OPEN, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.DISPATCH): S.DISPATCHED,  # re-dispatch to another provider
    (S.DISPATCHED, A.PROVIDER_UPDATE): S.DISPATCHED,
    (S.DISPATCHED, A.PROVIDER_COMPLETED): S.RESOLVED,
    (S.NEW, A.RESOLVE): S.RESOLVED,  # an inquiry answered on the first call
    (S.OPEN, A.RESOLVE): S.RESOLVED,
    (S.DISPATCHED, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.VERIFY): S.RESOLVED,
    (S.RESOLVED, A.REOPEN): S.OPEN,
    (S.CLOSED, A.REOPEN): S.OPEN,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.NEW, A.CANCEL): S.CANCELLED,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.WAITING_CUSTOMER, A.CANCEL): S.CANCELLED,
    (S.DISPATCHED, A.CANCEL): S.CANCELLED,
}
for _state in NOT_FINISHED_STATES:
    TRANSITIONS[(_state, A.ESCALATE)] = _state
    # Answering the customer starts work on a new ticket and leaves any other open one be.
    TRANSITIONS[(_state, A.UPDATE)] = S.OPEN if _state is S.NEW else _state
del _state


class ComplaintLevel(StrEnum):
    """Severity of a complaint; a higher level needs more senior acknowledgement."""

    ORDINARY = "1"  # 一般投诉
    SERIOUS = "2"  # 重大投诉
    CRITICAL = "3"  # 特大投诉: media, regulator, safety, repeated complaint


# Mandatory escalation path per complaint level: every role listed must acknowledge, in order.
ESCALATION_PATHS: dict[ComplaintLevel, tuple[str, ...]] = {
    ComplaintLevel.ORDINARY: ("team_lead",),
    ComplaintLevel.SERIOUS: ("team_lead", "supervisor"),
    ComplaintLevel.CRITICAL: ("team_lead", "supervisor", "manager"),
}


def escalation_path(level: ComplaintLevel | str) -> tuple[str, ...]:
    """The roles that must acknowledge a complaint of ``level``, in order.

    >>> escalation_path("2")
    ('team_lead', 'supervisor')
    """
    return ESCALATION_PATHS[ComplaintLevel(level)]


def missing_escalations(
    level: ComplaintLevel | str, acknowledged: Sequence[str]
) -> tuple[str, ...]:
    """Roles on the level's path that have not acknowledged yet.

    >>> missing_escalations("3", ["team_lead"])
    ('supervisor', 'manager')
    """
    done = set(acknowledged)
    return tuple(role for role in escalation_path(level) if role not in done)


def next_escalation(level: ComplaintLevel | str, acknowledged: Sequence[str]) -> str | None:
    """The next role a complaint must be escalated to, or ``None`` when the path is complete.

    The path is ordered: a supervisor cannot acknowledge before the team lead has.
    """
    missing = missing_escalations(level, acknowledged)
    return missing[0] if missing else None


@dataclass(frozen=True)
class Verification:
    """What the verification callback (回访) found."""

    reached: bool
    customer_confirmed: bool
    part_replaced: bool = False
    part_matches_fault: bool | None = None
    note: str = ""


class ClaimStatus(StrEnum):
    """The provider's warranty claim for a replaced part."""

    NONE = "none"
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def claim_status(verification: Verification | None, *, warranty: bool) -> ClaimStatus:
    """Decide the provider's warranty claim from the verification callback.

    >>> claim_status(Verification(True, True, part_replaced=True, part_matches_fault=False),
    ...              warranty=True)
    <ClaimStatus.REJECTED: 'rejected'>
    """
    if not warranty:
        return ClaimStatus.NONE
    if verification is None:
        return ClaimStatus.PENDING
    if not verification.part_replaced:
        return ClaimStatus.NONE
    if verification.part_matches_fault is None:
        return ClaimStatus.PENDING
    return ClaimStatus.ACCEPTED if verification.part_matches_fault else ClaimStatus.REJECTED


@dataclass(frozen=True)
class TicketFacts:
    """What the rules need to know about a ticket."""

    type: TicketType
    state: TicketState
    warranty: bool = False
    assignee: str | None = None
    provider: str | None = None
    verification: Verification | None = None
    complaint_level: ComplaintLevel | None = None
    acknowledged: tuple[str, ...] = ()
    #: The center's follow-up rules need no verification callback for this resolution
    #: (the order was not sampled, or its rule does not hold the close for it).
    verification_waived: bool = False


@dataclass(frozen=True)
class CloseBlocker:
    """One reason a ticket may not close yet: a stable ``code`` and its ``values`` (for a page
    to say it in the reader's language) and the English ``text``."""

    code: str
    text: str
    values: dict[str, str] = field(default_factory=dict)


def close_blockers(facts: TicketFacts) -> list[str]:
    """Reasons the ticket may not close yet, in English; empty when it may.

    >>> close_blockers(TicketFacts(TicketType.REPAIR, TicketState.RESOLVED))
    ['repair orders need a verification callback before closing']
    >>> close_blockers(TicketFacts(TicketType.REPAIR, TicketState.RESOLVED,
    ...                            verification_waived=True))
    []
    """
    return [blocker.text for blocker in what_blocks_closing(facts)]


def what_blocks_closing(facts: TicketFacts) -> list[CloseBlocker]:
    """What the ticket still lacks before it may close, each with its code and values.

    >>> [b.code for b in what_blocks_closing(TicketFacts(TicketType.REPAIR, TicketState.OPEN))]
    ['not_resolved', 'needs_verification']
    """
    reasons: list[CloseBlocker] = []
    if facts.state is not TicketState.RESOLVED:
        reasons.append(
            CloseBlocker(
                "not_resolved",
                f"only a resolved ticket can close (it is {facts.state.value})",
                {"state": facts.state.value},
            )
        )
    if facts.type in FIELD_WORK and not (facts.verification_waived and facts.verification is None):
        check = facts.verification
        if check is None:
            reasons.append(
                CloseBlocker(
                    "needs_verification",
                    f"{facts.type.value} orders need a verification callback before closing",
                    {"type": facts.type.value},
                )
            )
        elif not check.reached:
            reasons.append(
                CloseBlocker(
                    "verification_unreached",
                    "the verification callback did not reach the customer",
                )
            )
        elif not check.customer_confirmed:
            reasons.append(
                CloseBlocker("not_confirmed", "the customer did not confirm the work was done")
            )
        elif facts.warranty and check.part_replaced and check.part_matches_fault is None:
            reasons.append(
                CloseBlocker(
                    "part_match_unrecorded",
                    "a warranty part was replaced: record whether it matches the reported fault",
                )
            )
    reasons.extend(_complaint_blockers(facts))
    return reasons


def _complaint_blockers(facts: TicketFacts) -> list[CloseBlocker]:
    if facts.type is not TicketType.COMPLAINT or facts.complaint_level is None:
        return []
    missing = missing_escalations(facts.complaint_level, facts.acknowledged)
    if not missing:
        return []
    level = str(facts.complaint_level.value)
    return [
        CloseBlocker(
            "complaint_escalations",
            f"complaint level {level} still needs: {', '.join(missing)}",
            {"level": level, "missing": ",".join(missing)},
        )
    ]


@dataclass(frozen=True)
class Effect:
    """Something the service layer must do after a transition."""

    kind: str  # pause_clocks, resume_clocks, stop_resolution_clock, notify, claim, responded
    detail: dict[str, str] = field(default_factory=dict)


def notify(to_kind: str, to: str, notice: str, **params: str) -> Effect:
    """A notification to a ``role``, ``user`` or ``provider``: its kind and parameters.

    >>> notify("role", "team_lead", "complaint_acknowledge", level="1").detail["to"]
    'team_lead'
    """
    return Effect("notify", {"to_kind": to_kind, "to": to, "notice": notice, **params})


def complaint_notices(facts: TicketFacts) -> list[Effect]:
    """Who must act next on a complaint: the first role on its path that has not acknowledged.

    A new complaint, one raised to a more serious level and one just acknowledged by a role
    all notify the next role on the level's mandatory escalation path (none once complete).

    >>> facts = TicketFacts(TicketType.COMPLAINT, TicketState.NEW,
    ...                     complaint_level=ComplaintLevel.SERIOUS,
    ...                     acknowledged=("team_lead",))
    >>> [e.detail["to"] for e in complaint_notices(facts)]
    ['supervisor']
    """
    if facts.type is not TicketType.COMPLAINT or facts.complaint_level is None:
        return []
    role = next_escalation(facts.complaint_level, facts.acknowledged)
    if role is None:
        return []
    level = facts.complaint_level.value
    return [notify("role", role, "complaint_acknowledge", level=level)]


def transition(
    facts: TicketFacts, action: Action, *, target: str | None = None
) -> tuple[TicketState, list[Effect]]:
    """Apply ``action`` to a ticket; return the next state and the effects to carry out.

    ``target`` is the assignee (assign), the provider (dispatch) or the role (escalate).

    >>> facts = TicketFacts(TicketType.REPAIR, TicketState.OPEN)
    >>> transition(facts, Action.WAIT_CUSTOMER)[0]
    <TicketState.WAITING_CUSTOMER: 'waiting_customer'>
    >>> transition(facts, Action.CLOSE)
    Traceback (most recent call last):
    ...
    hotline.core.errors.Conflict: cannot close a ticket that is open
    """
    key = (facts.state, action)
    if key not in TRANSITIONS:
        raise Conflict(f"cannot {action.value} a ticket that is {facts.state.value}")
    state = TRANSITIONS[key]
    effects: list[Effect] = []
    if action is Action.DISPATCH:
        if facts.type not in FIELD_WORK:
            raise Conflict(f"only repair and installation orders are dispatched, not {facts.type}")
        if not target:
            raise Conflict("dispatch needs a service provider")
        effects.append(notify("provider", target, "work_order_dispatched"))
    elif action is Action.ASSIGN:
        if not target:
            raise Conflict("assign needs an assignee")
        effects.append(notify("user", target, "ticket_assigned"))
    elif action is Action.UPDATE:
        effects.append(Effect("responded"))
    elif action is Action.WAIT_CUSTOMER:
        effects.append(Effect("pause_clocks"))
    elif action is Action.CUSTOMER_REPLIED:
        effects.append(Effect("resume_clocks"))
    elif action in (Action.RESOLVE, Action.PROVIDER_COMPLETED):
        effects.extend(_resolve_effects(facts))
    elif action is Action.CLOSE:
        reasons = close_blockers(facts)
        if reasons:
            raise Conflict("; ".join(reasons))
        if facts.warranty and facts.type in FIELD_WORK:
            status = claim_status(facts.verification, warranty=True)
            effects.append(Effect("claim", {"status": status.value}))
    elif action is Action.REOPEN:
        effects.append(Effect("restart_resolution_clock"))
    elif action is Action.ESCALATE:
        effects.extend(_escalate_effects(facts, target))
    # Leaving "waiting on the customer" any other way (resolve, cancel) also restarts clocks.
    was_waiting = facts.state is TicketState.WAITING_CUSTOMER
    if was_waiting and state is not facts.state and action is not Action.CUSTOMER_REPLIED:
        effects.append(Effect("resume_clocks"))
    return state, effects


def _resolve_effects(facts: TicketFacts) -> list[Effect]:
    blockers = _complaint_blockers(facts)
    if blockers:
        raise Conflict(blockers[0])
    return [Effect("stop_resolution_clock")]


def _escalate_effects(facts: TicketFacts, role: str | None) -> list[Effect]:
    if not role:
        raise Conflict("escalate needs the role that acknowledges")
    if facts.type is TicketType.COMPLAINT and facts.complaint_level is not None:
        expected = next_escalation(facts.complaint_level, facts.acknowledged)
        if expected is None:
            raise Conflict("the complaint's escalation path is already complete")
        if role != expected:
            raise Conflict(f"the complaint must be escalated to {expected} next, not {role}")
        acknowledged = (*facts.acknowledged, role)
        return complaint_notices(replace(facts, acknowledged=acknowledged))
    return [notify("role", role, "ticket_escalated")]
