"""A coaching task's life: acknowledged by the coached agent only, closed by the coach only
after that and only with an outcome; overdue past its due date until closed."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.people.coaching import CoachingRefused, overdue, transition


def test_the_agent_acknowledges_then_the_coach_closes_with_an_outcome() -> None:
    status = transition("open", "acknowledge", actor_agent="a2", agent="a2")
    assert transition(status, "close", outcome="hold asked first, 10 of 10 calls") == "closed"


@pytest.mark.parametrize(
    ("status", "action", "kwargs", "message"),
    [
        ("open", "acknowledge", {"actor_agent": "a1", "agent": "a2"}, "only the coached agent"),
        ("open", "acknowledge", {"actor_agent": None, "agent": "a2"}, "only the coached agent"),
        ("open", "close", {"outcome": "done"}, "not acknowledged"),
        ("acknowledged", "close", {"outcome": "  "}, "an outcome is needed"),
        ("acknowledged", "acknowledge", {"actor_agent": "a2", "agent": "a2"}, "cannot be"),
        ("closed", "close", {"outcome": "again"}, "a task that is closed cannot be closed"),
    ],
)
def test_refused_steps_say_why(
    status: str, action: str, kwargs: dict[str, str | None], message: str
) -> None:
    with pytest.raises(CoachingRefused, match=message):
        transition(status, action, **kwargs)  # type: ignore[arg-type]


def test_a_task_is_overdue_after_its_due_date_until_closed() -> None:
    due = date(2026, 3, 10)
    assert [overdue("open", due, day) for day in (date(2026, 3, 10), date(2026, 3, 11))] == [
        False,
        True,
    ]
    assert overdue("closed", due, date(2026, 4, 1)) is False
