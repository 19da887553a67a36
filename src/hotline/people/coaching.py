"""Coaching: a note and a task for one agent, followed to completion.

A team lead (or QA, a supervisor, a manager) coaches an agent after something they saw: a
QA evaluation (the evaluation's score and form are kept with the task) or a figure — an agent
standing out in the cockpit's spread of agents, or missing a target on the scorecard (the
agent's figure and the team's mean over the period are computed by the server and kept).
The task has a due date. The agent acknowledges it (they have read it and will work on it);
the coach closes it with the outcome::

    open ──acknowledge (the agent)──▶ acknowledged ──close (the coach, with an outcome)──▶ closed

Closing needs the agent's acknowledgement first, so no task is closed behind the agent's
back; a task past its due date and not closed is **overdue**. ``transition`` returns the next
status or raises :class:`CoachingRefused`.

Pure: no I/O.

>>> transition("open", "acknowledge", actor_agent="a1", agent="a1")
'acknowledged'
>>> transition("acknowledged", "close", outcome="AHT back under 360 s for two weeks")
'closed'
"""

from __future__ import annotations

from datetime import date

STATUSES = ("open", "acknowledged", "closed")
#: Where a task comes from.
SOURCES = ("evaluation", "figure", "note")
#: The longest note or outcome kept.
MAX_TEXT = 2000

_NEXT = {("open", "acknowledge"): "acknowledged", ("acknowledged", "close"): "closed"}


class CoachingRefused(ValueError):
    """The action is not allowed now, or not to this person; the message says why."""


def transition(
    status: str,
    action: str,
    *,
    actor_agent: str | None = None,
    agent: str | None = None,
    outcome: str = "",
) -> str:
    """The status after ``action`` on a task in ``status``.

    >>> transition("open", "close", outcome="done")
    Traceback (most recent call last):
    ...
    hotline.people.coaching.CoachingRefused: the agent has not acknowledged the task yet
    """
    if action == "acknowledge" and actor_agent != agent:
        raise CoachingRefused("only the coached agent acknowledges their task")
    if action == "close":
        if status == "open":
            raise CoachingRefused("the agent has not acknowledged the task yet")
        if not outcome.strip():
            raise CoachingRefused("say what came of it: an outcome is needed to close")
    following = _NEXT.get((status, action))
    if following is None:
        raise CoachingRefused(f"a task that is {status} cannot be {_past(action)}")
    return following


def _past(action: str) -> str:
    return {"acknowledge": "acknowledged", "close": "closed"}.get(action, action)


def overdue(status: str, due: date, today: date) -> bool:
    """Whether a task is past its due date and not closed.

    >>> due = date(2026, 3, 1)
    >>> overdue("acknowledged", due, date(2026, 3, 2)), overdue("closed", due, date(2026, 3, 9))
    (True, False)
    """
    return status != "closed" and today > due
