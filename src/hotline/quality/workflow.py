"""The life of an evaluation once scored: the agent acknowledges or disputes, a reviewer decides.

::

    submitted ──acknowledge (the agent)──▶ acknowledged
        │
        └──dispute (the agent, with a reason)──▶ disputed ──uphold (reviewer)──▶ upheld
                                                     └─────amend (reviewer)───▶ amended

Only the evaluated agent acknowledges or disputes their own evaluation; a reviewer
(supervisor, manager — the QA lead) decides a dispute, and may not be the evaluator who
scored it. ``transition`` returns the next status or raises :class:`TransitionRefused`.

Pure: no I/O.

>>> transition("submitted", "dispute", actor_agent="a1", agent="a1", reason="客户已同意保持")
'disputed'
>>> transition("disputed", "amend", reviewer="boss", evaluator="qa1")
'amended'
"""

from __future__ import annotations

STATUSES = ("submitted", "acknowledged", "disputed", "upheld", "amended")
ACTIONS = ("acknowledge", "dispute", "uphold", "amend")

_NEXT = {
    ("submitted", "acknowledge"): "acknowledged",
    ("submitted", "dispute"): "disputed",
    ("disputed", "uphold"): "upheld",
    ("disputed", "amend"): "amended",
}


class TransitionRefused(ValueError):
    """The action is not allowed now, or not to this person; the message says why."""


def transition(
    status: str,
    action: str,
    *,
    actor_agent: str | None = None,
    agent: str | None = None,
    reason: str = "",
    reviewer: str | None = None,
    evaluator: str | None = None,
) -> str:
    """The status after ``action`` on an evaluation in ``status``."""
    if action not in ACTIONS:
        raise TransitionRefused(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    following = _NEXT.get((status, action))
    if following is None:
        raise TransitionRefused(f"cannot {action} an evaluation that is {status}")
    if action in ("acknowledge", "dispute"):
        if actor_agent is None or actor_agent != agent:
            raise TransitionRefused(f"only the evaluated agent ({agent}) may {action} it")
        if action == "dispute" and not reason.strip():
            raise TransitionRefused("a dispute needs a reason")
    elif reviewer is not None and reviewer == evaluator:
        raise TransitionRefused("the evaluator cannot review a dispute of their own evaluation")
    return following
