"""Ticket states, closed loop and complaint escalation rules (pure)."""

from __future__ import annotations

import ast
import doctest
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hotline
from hotline.core.errors import Conflict
from hotline.tickets import workflow
from hotline.tickets.workflow import (
    Action,
    ClaimStatus,
    ComplaintLevel,
    TicketFacts,
    TicketState,
    TicketType,
    Verification,
    close_blockers,
    transition,
)


def test_doctests_pass() -> None:
    assert doctest.testmod(workflow).failed == 0


def run(facts: TicketFacts, *steps: tuple[Action, str | None]) -> TicketFacts:
    for action, target in steps:
        state, _ = transition(facts, action, target=target)
        facts = TicketFacts(**{**facts.__dict__, "state": state})
    return facts


def test_repair_order_life_to_verified_close() -> None:
    facts = TicketFacts(TicketType.REPAIR, TicketState.NEW, warranty=True)
    facts = run(facts, (Action.ASSIGN, "agent7"), (Action.DISPATCH, "P01"))
    assert facts.state is TicketState.DISPATCHED
    facts = run(facts, (Action.PROVIDER_UPDATE, None), (Action.PROVIDER_COMPLETED, None))
    assert facts.state is TicketState.RESOLVED
    with pytest.raises(Conflict, match="verification callback"):
        transition(facts, Action.CLOSE)
    confirmed = Verification(
        reached=True, customer_confirmed=True, part_replaced=True, part_matches_fault=True
    )
    state, effects = transition(
        TicketFacts(**{**facts.__dict__, "verification": confirmed}), Action.CLOSE
    )
    assert state is TicketState.CLOSED
    assert [(e.kind, e.detail) for e in effects] == [("claim", {"status": "accepted"})]


@pytest.mark.parametrize(
    ("check", "reason"),
    [
        (Verification(reached=False, customer_confirmed=False), "did not reach"),
        (Verification(reached=True, customer_confirmed=False), "did not confirm"),
        (
            Verification(reached=True, customer_confirmed=True, part_replaced=True),
            "matches the reported fault",
        ),
    ],
)
def test_closing_needs_a_confirmed_callback(check: Verification, reason: str) -> None:
    facts = TicketFacts(
        TicketType.INSTALLATION, TicketState.RESOLVED, warranty=True, verification=check
    )
    assert any(reason in r for r in close_blockers(facts))
    with pytest.raises(Conflict, match=reason):
        transition(facts, Action.CLOSE)


def test_mismatched_part_closes_with_the_claim_rejected() -> None:
    check = Verification(True, True, part_replaced=True, part_matches_fault=False)
    facts = TicketFacts(TicketType.REPAIR, TicketState.RESOLVED, warranty=True, verification=check)
    state, effects = transition(facts, Action.CLOSE)
    assert state is TicketState.CLOSED
    assert effects[0].detail == {"status": ClaimStatus.REJECTED.value}


def test_inquiry_closes_without_callback_and_is_never_dispatched() -> None:
    facts = run(TicketFacts(TicketType.INQUIRY, TicketState.NEW), (Action.RESOLVE, None))
    assert transition(facts, Action.CLOSE)[0] is TicketState.CLOSED
    with pytest.raises(Conflict, match="only repair and installation"):
        transition(TicketFacts(TicketType.INQUIRY, TicketState.OPEN), Action.DISPATCH, target="P01")


def test_waiting_on_customer_pauses_and_leaving_it_resumes() -> None:
    facts = TicketFacts(TicketType.REPAIR, TicketState.OPEN)
    state, effects = transition(facts, Action.WAIT_CUSTOMER)
    assert [e.kind for e in effects] == ["pause_clocks"]
    waiting = TicketFacts(TicketType.REPAIR, state)
    assert [e.kind for e in transition(waiting, Action.CUSTOMER_REPLIED)[1]] == ["resume_clocks"]
    assert [e.kind for e in transition(waiting, Action.CANCEL)[1]] == ["resume_clocks"]


def test_complaint_escalation_path_is_ordered_and_mandatory() -> None:
    facts = TicketFacts(
        TicketType.COMPLAINT, TicketState.OPEN, complaint_level=ComplaintLevel.SERIOUS
    )
    with pytest.raises(Conflict, match="still needs: team_lead, supervisor"):
        transition(facts, Action.RESOLVE)
    with pytest.raises(Conflict, match="team_lead next, not supervisor"):
        transition(facts, Action.ESCALATE, target="supervisor")
    # The team lead's acknowledgement notifies the next role on the path, the supervisor.
    assert transition(facts, Action.ESCALATE, target="team_lead")[1] == [
        workflow.notify("role", "supervisor", "complaint_acknowledge", level="2")
    ]
    assert workflow.complaint_notices(facts) == [
        workflow.notify("role", "team_lead", "complaint_acknowledge", level="2")
    ]
    done = TicketFacts(**{**facts.__dict__, "acknowledged": ("team_lead", "supervisor")})
    assert workflow.complaint_notices(done) == []
    assert transition(done, Action.RESOLVE)[0] is TicketState.RESOLVED
    with pytest.raises(Conflict, match="already complete"):
        transition(done, Action.ESCALATE, target="manager")


def test_critical_complaints_reach_the_manager() -> None:
    assert workflow.escalation_path(ComplaintLevel.CRITICAL)[-1] == "manager"
    assert workflow.next_escalation("3", ["team_lead", "supervisor"]) == "manager"


@given(st.lists(st.sampled_from(list(Action)), max_size=25), st.sampled_from(list(TicketType)))
def test_no_action_sequence_closes_field_work_without_verification(
    actions: list[Action], kind: TicketType
) -> None:
    facts = TicketFacts(kind, TicketState.NEW)
    for action in actions:
        try:
            state, _ = transition(
                facts, action, target="x" if action in (Action.ASSIGN, Action.DISPATCH) else None
            )
        except Conflict:
            continue
        facts = TicketFacts(**{**facts.__dict__, "state": state})
        if kind in workflow.FIELD_WORK:
            assert facts.state is not TicketState.CLOSED
        assert (
            facts.state is not TicketState.CANCELLED
            or action is Action.CANCEL
            or action is Action.ESCALATE
        )


def test_workflow_effects_name_whom_to_notify() -> None:
    repair = TicketFacts(TicketType.REPAIR, TicketState.OPEN)
    assert transition(repair, Action.DISPATCH, target="p-east")[1] == [
        workflow.notify("provider", "p-east", "work_order_dispatched")
    ]
    assert transition(repair, Action.ASSIGN, target="li.na")[1] == [
        workflow.notify("user", "li.na", "ticket_assigned")
    ]
    assert transition(repair, Action.ESCALATE, target="supervisor")[1] == [
        workflow.notify("role", "supervisor", "ticket_escalated")
    ]


@pytest.mark.parametrize(
    ("state", "after"),
    [
        (TicketState.NEW, TicketState.OPEN),
        (TicketState.OPEN, TicketState.OPEN),
        (TicketState.WAITING_CUSTOMER, TicketState.WAITING_CUSTOMER),
        (TicketState.DISPATCHED, TicketState.DISPATCHED),
        (TicketState.RESOLVED, TicketState.RESOLVED),
    ],
)
def test_an_update_to_the_customer_goes_through_the_workflow(
    state: TicketState, after: TicketState
) -> None:
    assert transition(TicketFacts(TicketType.INQUIRY, state), Action.UPDATE) == (
        after,
        [workflow.Effect("responded")],
    )


@pytest.mark.parametrize("state", [TicketState.CLOSED, TicketState.CANCELLED])
def test_no_update_on_a_finished_ticket(state: TicketState) -> None:
    with pytest.raises(Conflict, match=f"cannot update a ticket that is {state.value}"):
        transition(TicketFacts(TicketType.INQUIRY, state), Action.UPDATE)


def test_open_and_not_finished_are_the_two_meanings_of_open() -> None:
    """Open (SLA clocks run) is not finished less resolved; finished and not are a partition."""
    assert set(TicketState) == workflow.NOT_FINISHED_STATES | workflow.FINAL_STATES
    assert not workflow.NOT_FINISHED_STATES & workflow.FINAL_STATES
    assert {TicketState.RESOLVED} == workflow.NOT_FINISHED_STATES - workflow.OPEN_STATES


def _state_names(node: ast.AST) -> set[str]:
    """The ticket states a tuple, list or set literal names (as strings or members)."""
    if not isinstance(node, ast.Tuple | ast.List | ast.Set):
        return set()
    found = set()
    for element in node.elts:
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            found.add(element.value)
        elif isinstance(element, ast.Attribute):
            found.add(element.attr.lower())
    return found & {"waiting_customer", "dispatched", "resolved"}


def test_ticket_states_are_listed_only_in_the_workflow() -> None:
    """Every other module asks the workflow which states are open: no second list of states.

    A literal naming two of ``waiting_customer``, ``dispatched`` and ``resolved`` (as strings
    or ``TicketState`` members) is a list of states; ``tickets.service`` had two.
    """
    root = Path(hotline.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "tickets" / "workflow.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if len(_state_names(node)) >= 2:
                offenders.append(f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}")
    assert offenders == []
