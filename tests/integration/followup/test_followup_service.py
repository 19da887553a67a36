"""Follow-up (回访) tasks and settlement on SQLite and PostgreSQL: generation once per
resolution, the sweep, answers into the ticket, reminders, claims and statements."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.config.followup import FollowUpConfig, FollowUpEscalation, FollowUpRule, FollowUpScript
from hotline.config.validate import load_center
from hotline.core.errors import Conflict, ValidationFailed
from hotline.crm import service as crm
from hotline.followup import service as followup
from hotline.store.models.followup import FollowUpTask
from hotline.store.models.notifications import Notification
from hotline.tickets import field_service
from hotline.tickets import service as tickets

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
# Monday 2026-11-23 10:00 in Shanghai (the hotline calendar opens 08:00-21:00 on weekdays).
MONDAY_10 = datetime(2026, 11, 23, 2, tzinfo=UTC)
H = timedelta(hours=1)
SCRIPTS = [
    FollowUpScript(
        id="repair", questions=["done", "fee", "part_matches", "csat", "nps", "comment"]
    ),
    FollowUpScript(id="short", questions=["done", "csat"]),
]


def _center(*rules: FollowUpRule, escalations: tuple[FollowUpEscalation, ...] = ()) -> CenterConfig:
    center = load_center(SAMPLE)
    section = FollowUpConfig(
        calendar="hotline", scripts=SCRIPTS, rules=list(rules), escalations=list(escalations)
    )
    return center.model_copy(update={"followup": section})


ALL_REPAIRS = FollowUpRule(
    id="repairs", type="repair", due_hours=13, priority="high", script="repair"
)


@pytest.fixture
def product(db_session: Session) -> int:
    tickets.create_provider(db_session, code="hf-anjia", name="安家", actor="admin")
    customer = crm.create_customer(db_session, name="张伟", phones=["13812345678"], actor="a")
    return crm.add_product(
        db_session,
        customer_id=customer.id,
        model="JSQ25-13",
        category="water_heater",
        warranty_until=date(2030, 1, 1),
    ).id


def _resolved(
    session: Session,
    product_id: int,
    *,
    kind: str = "repair",
    parts: tuple[str, ...] = ("heating element",),
    at: datetime = MONDAY_10,
) -> int:
    ticket = tickets.create_ticket(
        session,
        type=kind,
        subject="热水器不加热",
        product_id=product_id,
        actor="a001",
        now=at - 4 * H,
    )
    tickets.act(
        session,
        ticket_id=ticket.id,
        action="dispatch",
        target="hf-anjia",
        actor="a001",
        now=at - 3 * H,
    )
    tickets.provider_update(
        session,
        ticket_id=ticket.id,
        provider="hf-anjia",
        note="fixed",
        completed=True,
        parts=parts,
        now=at,
    )
    return ticket.id


def _tasks(session: Session) -> int:
    return session.scalar(select(func.count(FollowUpTask.id))) or 0


def test_a_resolution_gets_one_task_due_in_working_hours_however_often_asked(
    db_session: Session, product: int
) -> None:
    center = _center(ALL_REPAIRS)
    ticket_id = _resolved(db_session, product)
    first = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=center, now=MONDAY_10
    )
    again = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=center, now=MONDAY_10
    )
    swept = followup.sweep(db_session, center=center, now=MONDAY_10 + H)
    assert first is not None and again is not None and first.id == again.id
    assert swept.created == [] and _tasks(db_session) == 1
    # 13 working hours from Monday 10:00 on 08:00-21:00: 11 on Monday, 2 on Tuesday.
    assert first.due_at == datetime(2026, 11, 24, 10, tzinfo=UTC) - 8 * H
    assert first.questions == ["done", "fee", "part_matches", "csat", "nps", "comment"]
    assert tickets.close_blockers_of(db_session, ticket_id=ticket_id) == [
        "repair orders need a verification callback before closing"
    ]


def test_the_sweep_makes_the_task_the_resolve_path_missed(
    db_session: Session, product: int
) -> None:
    ticket_id = _resolved(db_session, product)  # resolved without asking for its follow-up
    swept = followup.sweep(db_session, center=_center(ALL_REPAIRS), now=MONDAY_10 + H)
    assert len(swept.created) == 1
    assert followup.get_task(db_session, task_id=swept.created[0]).ticket_id == ticket_id
    assert (
        followup.sweep(db_session, center=_center(ALL_REPAIRS), now=MONDAY_10 + 2 * H).created == []
    )


def test_an_order_the_rules_leave_alone_may_close_without_a_callback(
    db_session: Session, product: int
) -> None:
    never = FollowUpRule(id="none", type="repair", due_hours=8, sample_percent=0, script="repair")
    ticket_id = _resolved(db_session, product)
    assert (
        followup.generate_for_ticket(db_session, ticket_id=ticket_id, center=_center(never)) is None
    )
    assert tickets.close_blockers_of(db_session, ticket_id=ticket_id) == []
    history = [e.action for e in tickets.history(db_session, ticket_id=ticket_id)]
    followup.generate_for_ticket(db_session, ticket_id=ticket_id, center=_center(never))
    assert history.count("verification_waived") == 1
    assert [e.action for e in tickets.history(db_session, ticket_id=ticket_id)].count(
        "verification_waived"
    ) == 1
    closed = tickets.act(db_session, ticket_id=ticket_id, action="close", actor="a001")
    assert closed.state == "closed"
    # Without follow-up rules nothing changes: the order still waits for its callback.
    other = _resolved(db_session, product)
    assert (
        followup.generate_for_ticket(
            db_session,
            ticket_id=other,
            center=load_center(SAMPLE).model_copy(update={"followup": None}),
        )
        is None
    )
    assert tickets.close_blockers_of(db_session, ticket_id=other) != []


def test_confirmed_answers_let_the_order_close_and_its_claim_be_approved(
    db_session: Session, product: int
) -> None:
    center = _center(ALL_REPAIRS)
    ticket_id = _resolved(db_session, product)
    task = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=center, now=MONDAY_10
    )
    assert task is not None
    field_service.submit_claim(
        db_session,
        ticket_id=ticket_id,
        provider="hf-anjia",
        parts=["heating element"],
        amount_yuan=200,
        breakdown={"labour_yuan": 80, "parts_yuan": 100, "travel_yuan": 20},
        actor="anjia1",
        now=MONDAY_10 + H,
    )
    with pytest.raises(Conflict, match="before its follow-up verified"):
        followup.decide_claim(
            db_session, ticket_id=ticket_id, approve=True, actor="clerk", now=MONDAY_10 + 2 * H
        )
    with pytest.raises(ValidationFailed) as refused:
        followup.record_answers(
            db_session, task_id=task.id, answers={"done": True, "csat": 9}, actor="hf1"
        )
    assert {p.field for p in refused.value.problems} == {"answers.csat", "answers.part_matches"}
    done = followup.record_answers(
        db_session,
        task_id=task.id,
        actor="hf1",
        now=MONDAY_10 + 3 * H,
        answers={
            "done": True,
            "fee": False,
            "part_matches": True,
            "csat": 5,
            "nps": 9,
            "comment": "很好",
        },
    )
    assert done.state == "verified" and done.claim_flags == [] and done.finished_at is not None
    assert tickets.close_blockers_of(db_session, ticket_id=ticket_id) == []
    with pytest.raises(Conflict, match="nothing more to record"):
        followup.record_not_reached(db_session, task_id=task.id, actor="hf1")
    decision = followup.decide_claim(
        db_session, ticket_id=ticket_id, approve=True, actor="clerk", now=MONDAY_10 + 4 * H
    )
    assert decision.decision == "approved" and decision.amount_yuan == 200
    with pytest.raises(Conflict, match="already decided"):
        followup.decide_claim(
            db_session, ticket_id=ticket_id, approve=False, reason="x", actor="clerk"
        )
    [line] = followup.statement(db_session, month="2026-11", provider="hf-anjia")
    assert (line.status, line.labour_yuan, line.parts_yuan, line.travel_yuan, line.verified) == (
        "approved",
        80,
        100,
        20,
        True,
    )
    assert followup.statement(db_session, month="2026-10") == []
    figures = followup.figures(db_session, now=MONDAY_10 + 5 * H)
    assert figures["on_time_rate"] == 1.0 and figures["late_settlement_share"] == 0.0
    assert figures["outcomes_by_provider"] == {
        "hf-anjia": {"verified": 1, "not_verified": 0, "unreached": 0}
    }


def test_a_fee_on_a_warranty_order_flags_the_claim_and_a_rejection_needs_its_reason(
    db_session: Session, product: int
) -> None:
    center = _center(ALL_REPAIRS)
    ticket_id = _resolved(db_session, product)
    task = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=center, now=MONDAY_10
    )
    assert task is not None
    field_service.submit_claim(
        db_session,
        ticket_id=ticket_id,
        provider="hf-anjia",
        parts=["x"],
        amount_yuan=50,
        actor="anjia1",
        now=MONDAY_10,
    )
    followup.record_answers(
        db_session,
        task_id=task.id,
        actor="hf1",
        now=MONDAY_10 + H,
        answers={"done": True, "fee": True, "fee_amount": 60, "part_matches": True},
    )
    assert task.claim_flags == ["fee_charged"]
    assert "claim_flagged" in [e.action for e in tickets.history(db_session, ticket_id=ticket_id)]
    with pytest.raises(Conflict, match="flagged"):
        followup.decide_claim(db_session, ticket_id=ticket_id, approve=True, actor="clerk")
    with pytest.raises(ValidationFailed, match="reason"):
        followup.decide_claim(
            db_session, ticket_id=ticket_id, approve=False, reason=" ", actor="clerk"
        )
    rejected = followup.decide_claim(
        db_session,
        ticket_id=ticket_id,
        approve=False,
        reason="customer paid 60 yuan",
        actor="clerk",
    )
    assert rejected.decision == "rejected"
    [line] = followup.statement(db_session, month="2026-11")
    assert (line.status, line.reason, line.flags) == (
        "rejected",
        "customer paid 60 yuan",
        ("fee_charged",),
    )


def test_not_verified_reopens_and_the_next_resolution_gets_its_own_task(
    db_session: Session, product: int
) -> None:
    center = _center(ALL_REPAIRS)
    ticket_id = _resolved(db_session, product)
    task = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=center, now=MONDAY_10
    )
    assert task is not None
    followup.record_answers(
        db_session,
        task_id=task.id,
        answers={"done": False, "part_matches": False},
        actor="hf1",
        now=MONDAY_10 + H,
    )
    assert tickets.get_ticket(db_session, ticket_id=ticket_id).state == "open"
    assert task.state == "not_verified" and task.claim_flags == ["part_mismatch"]
    tickets.act(
        db_session,
        ticket_id=ticket_id,
        action="dispatch",
        target="hf-anjia",
        actor="a001",
        now=MONDAY_10 + 2 * H,
    )
    tickets.provider_update(
        db_session,
        ticket_id=ticket_id,
        provider="hf-anjia",
        note="again",
        completed=True,
        now=MONDAY_10 + 5 * H,
    )
    second = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=center, now=MONDAY_10 + 5 * H
    )
    assert second is not None and second.id != task.id and _tasks(db_session) == 2


def test_an_unconfirmed_installation_becomes_a_complaint_when_the_rule_says_so(
    db_session: Session, product: int
) -> None:
    rule = FollowUpRule(
        id="installs", type="installation", due_hours=8, script="short", not_verified="complaint"
    )
    ticket_id = _resolved(db_session, product, kind="installation", parts=())
    task = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=_center(rule), now=MONDAY_10
    )
    assert task is not None and task.questions == ["done", "csat"]
    followup.record_answers(
        db_session, task_id=task.id, answers={"done": False}, actor="hf1", now=MONDAY_10 + H
    )
    assert tickets.get_ticket(db_session, ticket_id=ticket_id).state == "resolved"
    [linked] = tickets.linked_ids(db_session, ticket_id=ticket_id)
    complaint = tickets.get_ticket(db_session, ticket_id=linked)
    assert complaint.type == "complaint" and complaint.customer_id is not None


def test_a_closed_complaint_is_followed_up_and_reopened_when_not_settled(
    db_session: Session, product: int
) -> None:
    rule = FollowUpRule(id="complaints", type="complaint", due_hours=4, script="short")
    complaint = tickets.create_ticket(
        db_session,
        type="complaint",
        subject="态度差",
        product_id=product,
        actor="a001",
        now=MONDAY_10,
    )
    for role in ("team_lead",):
        tickets.act(
            db_session,
            ticket_id=complaint.id,
            action="escalate",
            target=role,
            actor="lead",
            now=MONDAY_10,
        )
    for action in ("resolve", "close"):
        tickets.act(
            db_session, ticket_id=complaint.id, action=action, actor="a001", now=MONDAY_10 + H
        )
    task = followup.generate_for_ticket(
        db_session, ticket_id=complaint.id, center=_center(rule), now=MONDAY_10 + H
    )
    assert task is not None and task.ticket_type == "complaint"
    followup.record_answers(
        db_session, task_id=task.id, answers={"done": False}, actor="hf1", now=MONDAY_10 + 2 * H
    )
    assert tickets.get_ticket(db_session, ticket_id=complaint.id).state == "open"


def test_the_last_unanswered_call_leaves_the_order_unverified(
    db_session: Session, product: int
) -> None:
    rule = ALL_REPAIRS.model_copy(update={"max_attempts": 2})
    ticket_id = _resolved(db_session, product)
    task = followup.generate_for_ticket(
        db_session, ticket_id=ticket_id, center=_center(rule), now=MONDAY_10
    )
    assert task is not None
    followup.record_not_reached(db_session, task_id=task.id, actor="hf1", note="no answer")
    assert task.state == "open" and task.attempts == 1
    followup.record_not_reached(db_session, task_id=task.id, actor="hf1", note="busy")
    assert task.state == "unreached"
    assert tickets.close_blockers_of(db_session, ticket_id=ticket_id) == [
        "the verification callback did not reach the customer"
    ]


def test_reminders_and_escalations_go_once_each_to_their_roles(
    db_session: Session, product: int
) -> None:
    escalations = (
        FollowUpEscalation(id="soon", stage="due_soon", hours=2, notify="followup"),
        FollowUpEscalation(id="late", stage="overdue", hours=1, notify="supervisor"),
    )
    center = _center(ALL_REPAIRS, escalations=escalations)
    task = followup.generate_for_ticket(
        db_session, ticket_id=_resolved(db_session, product), center=center, now=MONDAY_10
    )
    assert task is not None
    sent = []
    for offset in (-3 * H, -2 * H, -H, H / 2, 2 * H, 3 * H):
        sent.append(followup.sweep(db_session, center=center, now=task.due_at + offset).escalated)
    assert sent == [[], [(task.id, "soon")], [], [], [(task.id, "late")], []]
    notices = db_session.execute(
        select(Notification.kind, Notification.addressee).where(
            Notification.kind.like("followup_%")
        )
    ).all()
    assert sorted(notices) == [
        ("followup_due_soon", "followup"),
        ("followup_overdue", "supervisor"),
    ]


def test_the_dialling_list_takes_due_tasks_most_urgent_first(
    db_session: Session, product: int
) -> None:
    low = FollowUpRule(id="low", type="installation", due_hours=2, priority="low", script="short")
    center = _center(ALL_REPAIRS, low)
    install = followup.generate_for_ticket(
        db_session,
        ticket_id=_resolved(db_session, product, kind="installation", parts=()),
        center=center,
        now=MONDAY_10,
    )
    repair = followup.generate_for_ticket(
        db_session, ticket_id=_resolved(db_session, product), center=center, now=MONDAY_10
    )
    assert install is not None and repair is not None
    due = followup.due_tasks(db_session, until=MONDAY_10 + 30 * H)
    assert [d.task_id for d in due] == [repair.id, install.id]
    assert (
        due[0].phone == "+8613812345678" and due[0].script == "repair" and due[0].priority == "high"
    )
    assert followup.due_tasks(db_session, until=MONDAY_10 + H) == []


def test_an_order_closed_before_its_call_reopens_when_the_customer_says_not_done(
    db_session: Session, product: int
) -> None:
    rule = FollowUpRule(
        id="installs", type="installation", due_hours=8, script="short", require_before_close=False
    )
    ticket_id = _resolved(db_session, product, kind="installation", parts=())
    task = followup.generate_for_ticket(db_session, ticket_id=ticket_id, center=_center(rule))
    assert task is not None and tickets.close_blockers_of(db_session, ticket_id=ticket_id) == []
    tickets.act(db_session, ticket_id=ticket_id, action="close", actor="a001", now=MONDAY_10 + H)
    followup.record_answers(
        db_session, task_id=task.id, answers={"done": False}, actor="hf1", now=MONDAY_10 + 2 * H
    )
    assert task.state == "not_verified"
    assert tickets.get_ticket(db_session, ticket_id=ticket_id).state == "open"
