"""The pure follow-up rules: which resolutions get a task, its due time, its life, answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.config.followup import FollowUpConfig, FollowUpEscalation, FollowUpRule, FollowUpScript
from hotline.core.calendar import BusinessCalendar
from hotline.core.errors import Conflict
from hotline.followup import rules
from hotline.followup.rules import (
    Answered,
    Answers,
    Cancelled,
    NotReached,
    Resolution,
    TaskFacts,
    TaskState,
)

CALENDAR = BusinessCalendar.weekdays("Asia/Shanghai", "09:00-18:00")
SCRIPTS = [
    FollowUpScript(
        id="repair", questions=["done", "fee", "part_matches", "csat", "nps", "comment"]
    ),
    FollowUpScript(id="install", questions=["done", "fee", "csat"]),
]
CONFIG = FollowUpConfig(
    scripts=SCRIPTS,
    rules=[
        FollowUpRule(
            id="warranty-parts",
            type="repair",
            warranty=True,
            parts=True,
            due_hours=48,
            priority="high",
            sample_percent=100,
            script="repair",
        ),
        FollowUpRule(
            id="installations",
            type="installation",
            due_hours=8,
            sample_percent=20,
            script="install",
            not_verified="complaint",
        ),
        FollowUpRule(
            id="complaints", type="complaint", categories=["charges"], due_hours=4, script="install"
        ),
    ],
)
# Friday 2026-11-27 17:00 in Shanghai: one business hour left that day.
FRIDAY_5PM = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _resolution(ticket_id: int = 1, **changes: object) -> Resolution:
    base: dict[str, object] = {
        "ticket_id": ticket_id,
        "type": "repair",
        "category": "water_heater",
        "warranty": True,
        "parts": ("heating element",),
        "at": FRIDAY_5PM,
    }
    return Resolution(**(base | changes))  # type: ignore[arg-type]


def test_a_warranty_repair_with_parts_is_always_followed_up_within_working_hours() -> None:
    plan = rules.plan_task(CONFIG, _resolution(), CALENDAR)
    assert plan is not None and plan.rule == "warranty-parts" and plan.priority == "high"
    # 48 working hours of 9 a day from Friday 17:00: 1 h Friday, then Mon..Fri (45 h), then
    # 2 h on the next Monday (weekends do not count).
    assert plan.due_at.astimezone(CALENDAR.zone) == datetime(
        2026, 12, 7, 11, 0, tzinfo=CALENDAR.zone
    )
    assert "part_matches" in plan.questions


def test_no_rule_no_task_and_a_repair_without_parts_does_not_ask_about_parts() -> None:
    assert rules.plan_task(CONFIG, _resolution(parts=()), CALENDAR) is None
    assert rules.plan_task(CONFIG, _resolution(type="inquiry"), CALENDAR) is None
    assert rules.matching_rule(CONFIG, _resolution(type="complaint", category="attitude")) is None
    assert (
        rules.matching_rule(CONFIG, _resolution(type="complaint", category="charges")) is not None
    )
    anything = FollowUpConfig(
        scripts=SCRIPTS, rules=[FollowUpRule(id="all", type="repair", due_hours=1, script="repair")]
    )
    plan = rules.plan_task(anything, _resolution(parts=()), CALENDAR)
    assert plan is not None and "part_matches" not in plan.questions


def test_sampling_is_deterministic_and_near_its_rate() -> None:
    picked = [
        i
        for i in range(1, 5001)
        if rules.plan_task(CONFIG, _resolution(i, type="installation"), CALENDAR)
    ]
    again = [
        i
        for i in range(1, 5001)
        if rules.plan_task(CONFIG, _resolution(i, type="installation"), CALENDAR)
    ]
    assert picked == again
    assert 0.18 < len(picked) / 5000 < 0.22


@given(st.integers(min_value=1, max_value=10**9), st.floats(0, 100), st.floats(0, 100))
def test_a_larger_rate_keeps_every_ticket_a_smaller_one_took(
    ticket: int, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    assert not rules.sampled(ticket, low) or rules.sampled(ticket, high)


def test_the_resolution_key_tells_two_resolutions_of_one_ticket_apart() -> None:
    first = _resolution(7)
    again = _resolution(7, at=FRIDAY_5PM + timedelta(days=3))
    assert first.key == _resolution(7).key and first.key != again.key


def test_answers_are_checked_against_the_script_with_every_problem_named() -> None:
    questions = ["done", "fee", "part_matches", "csat", "nps"]
    with pytest.raises(ValueError) as refused:
        rules.check_answers(questions, {"fee": True, "csat": 6, "nps": True, "colour": "red"})
    assert dict(refused.value.args[0]) == {
        "colour": "the script does not ask 'colour'",
        "csat": "a whole number from 1 to 5",
        "nps": "a whole number from 0 to 10",
        "done": "required: was the work done and the problem solved?",
        "part_matches": "required: does the replaced part match the fault?",
        "fee_amount": "a fee was charged: say how much (yuan)",
    }
    with pytest.raises(ValueError) as refused:
        rules.check_answers(["done", "fee"], {"done": True, "fee": False, "fee_amount": 10})
    assert refused.value.args[0] == [("fee_amount", "no fee was charged: leave the amount out")]
    ok = rules.check_answers(
        questions,
        {"done": True, "fee": True, "fee_amount": 80, "part_matches": True, "csat": 5, "nps": 10},
    )
    assert ok.as_dict() == {
        "done": True,
        "fee": True,
        "fee_amount": 80.0,
        "part_matches": True,
        "csat": 5,
        "nps": 10,
    }


REPAIR = TaskFacts(TaskState.OPEN, "repair", warranty=True, parts=("pump",), max_attempts=2)


def test_a_confirmed_repair_is_verified_and_a_fee_on_warranty_flags_the_claim() -> None:
    answers = Answers(done=True, fee=True, fee_amount=50.0, part_matches=True)
    state, attempts, effects = rules.transition(REPAIR, Answered(answers))
    assert (state, attempts) == (TaskState.VERIFIED, 1)
    assert [(e.kind, e.detail) for e in effects] == [
        ("verify", {"reached": True, "confirmed": True, "part_matches": True, "reopen": True}),
        ("flag_claim", {"flags": ["fee_charged"]}),
    ]


def test_not_verified_reopens_or_opens_a_complaint_as_the_rule_says() -> None:
    state, _, effects = rules.transition(REPAIR, Answered(Answers(done=False, part_matches=False)))
    assert state is TaskState.NOT_VERIFIED
    assert [e.kind for e in effects] == ["verify", "flag_claim"]
    assert effects[0].detail["reopen"] is True
    install = TaskFacts(
        TaskState.OPEN, "installation", warranty=False, parts=(), not_verified="complaint"
    )
    _, _, effects = rules.transition(install, Answered(Answers(done=False)))
    assert [(e.kind, e.detail.get("reopen")) for e in effects] == [
        ("verify", False),
        ("complaint", None),
    ]
    complaint = TaskFacts(TaskState.OPEN, "complaint", warranty=False, parts=())
    assert [e.kind for e in rules.transition(complaint, Answered(Answers(done=False)))[2]] == [
        "reopen"
    ]
    assert rules.transition(complaint, Answered(Answers(done=True)))[2] == []


def test_the_last_unanswered_attempt_ends_the_task_unreached() -> None:
    state, attempts, effects = rules.transition(REPAIR, NotReached())
    assert (state, attempts, effects) == (TaskState.OPEN, 1, [])
    second = TaskFacts(
        TaskState.OPEN, "repair", warranty=True, parts=("pump",), attempts=1, max_attempts=2
    )
    state, attempts, effects = rules.transition(second, NotReached())
    assert (state, attempts) == (TaskState.UNREACHED, 2)
    assert [(e.kind, e.detail) for e in effects] == [
        ("verify", {"reached": False, "confirmed": False})
    ]


@pytest.mark.parametrize("state", [s for s in TaskState if s is not TaskState.OPEN])
def test_a_finished_task_takes_nothing_more(state: TaskState) -> None:
    done = TaskFacts(state, "repair", warranty=True, parts=())
    for event in (Answered(Answers(done=True)), NotReached(), Cancelled("x")):
        with pytest.raises(Conflict):
            rules.transition(done, event)


def test_reminders_fire_in_order_and_once() -> None:
    due = datetime(2026, 12, 1, 12, tzinfo=UTC)
    escalations = [
        FollowUpEscalation(id="soon", stage="due_soon", hours=4, notify="followup"),
        FollowUpEscalation(id="late", stage="overdue", hours=0, notify="supervisor"),
    ]
    timeline = []
    fired: list[str] = []
    for hours in (-5, -4, -3, 0, 1):
        now = due + timedelta(hours=hours)
        new = rules.escalations_due(now, due, escalations, fired=fired)
        fired += [e.id for e in new]
        timeline.append((hours, [e.id for e in new]))
    assert timeline == [(-5, []), (-4, ["soon"]), (-3, []), (0, ["late"]), (1, [])]


def test_the_figures() -> None:
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    day = timedelta(days=1)
    records = [
        rules.TaskRecord("verified", t0, t0 + day, t0 + day / 2, "hf-anjia", "JSQ25"),
        rules.TaskRecord("not_verified", t0, t0 + day, t0 + 2 * day, "hf-anjia", "JSQ25"),
        rules.TaskRecord("open", t0, t0 + day, None, "hf-xinda", "KFR-35"),
        rules.TaskRecord("open", t0 - 3 * day, t0, None, "hf-xinda", "KFR-35"),
    ]
    assert rules.on_time_rate(records) == 0.5
    assert rules.backlog_by_age(records, t0 + day / 2) == {
        "under_1d": 1,
        "1_2d": 0,
        "2_7d": 1,
        "over_7d": 0,
    }
    assert rules.outcomes_by(records, "provider") == {
        "hf-anjia": {"verified": 1, "not_verified": 1, "unreached": 0}
    }
    assert rules.late_settlement_share([(t0, None, t0), (t0, t0, t0)]) == 0.5
    assert rules.on_time_rate([]) is None and rules.late_settlement_share([]) is None


def test_business_calendar_makes_a_friday_evening_resolution_due_next_week() -> None:
    one_day = FollowUpConfig(
        scripts=SCRIPTS, rules=[FollowUpRule(id="r", type="repair", due_hours=9, script="repair")]
    )
    plan = rules.plan_task(one_day, _resolution(), CALENDAR)
    assert plan is not None
    local = plan.due_at.astimezone(CALENDAR.zone)
    assert local.date() == date(2026, 11, 30) and local.hour == 17


def test_an_order_closed_before_its_call_reopens_without_a_verification() -> None:
    closed = TaskFacts(TaskState.OPEN, "installation", warranty=False, parts=(), ticket_closed=True)
    assert rules.transition(closed, Answered(Answers(done=True)))[2] == []
    _, _, effects = rules.transition(closed, Answered(Answers(done=False)))
    assert [e.kind for e in effects] == ["reopen"]
    last = TaskFacts(TaskState.OPEN, "installation", False, (), max_attempts=1, ticket_closed=True)
    assert rules.transition(last, NotReached())[::2] == (TaskState.UNREACHED, [])
