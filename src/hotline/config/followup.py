"""Follow-up (回访) rules, scripts and escalations, as the center file writes them.

A **follow-up** is the verification call the 回访 group makes after a repair or installation
order is resolved, or after a complaint is closed: was the work done, did the technician
charge a fee (and how much), does the replaced part match the fault the customer reported,
how satisfied is the customer (CSAT 1–5, NPS 0–10) and what else they want to say. The
answers decide the order: verified, it may close and its provider's claim may be paid; not
verified, it reopens or becomes a complaint.

Which resolutions get a follow-up is a **rule**: per ticket type (and optionally category,
warranty and replaced parts), a due time in working hours on the center's calendar, a
priority, a sampling rate (100 % of warranty repairs with parts, 20 % of installations — the
draw is a hash of the ticket id, so every rerun samples the same orders) and the **script**
asked. The first rule that matches a ticket decides; no match, no follow-up. **Escalations**
warn the 回访 group before a task is due and escalate overdue ones to a role.

The pure decisions are :mod:`hotline.followup.rules`; the rules across records (script ids
that exist, unique ids, a calendar the center has) are checked in
:mod:`hotline.config.validate`.

Example (in the center file)::

    followup:
      scripts:
        - {id: repair, questions: [done, fee, part_matches, csat, nps, comment]}
      rules:
        - {id: warranty-parts, type: repair, warranty: true, parts: true, due_hours: 48,
           priority: high, sample_percent: 100, script: repair}
      escalations:
        - {id: soon, stage: due_soon, hours: 4, notify: followup}
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

#: The questions a script may ask; their answers have fixed meanings the rules act on.
#: ``done``: the work was done and the problem is solved (yes/no); ``fee``: a fee was charged
#: (yes/no) and ``fee_amount`` how much in yuan; ``part_matches``: the replaced part matches
#: the reported fault (yes/no, not asked when no part was replaced); ``csat`` 1–5; ``nps``
#: 0–10; ``comment`` free text.
Question = Literal["done", "fee", "part_matches", "csat", "nps", "comment"]
QUESTIONS: tuple[str, ...] = ("done", "fee", "part_matches", "csat", "nps", "comment")

TicketKind = Literal["installation", "repair", "complaint"]
TaskPriority = Literal["low", "normal", "high", "urgent"]
#: What a follow-up the customer does not confirm does to the ticket: ``reopen`` it (the
#: provider goes back), or open a ``complaint`` about it and leave the order resolved.
NotVerified = Literal["reopen", "complaint"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FollowUpScript(_Strict):
    """The questions one kind of follow-up asks, in the order the agent asks them."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    questions: list[Question] = Field(min_length=1)


class FollowUpRule(_Strict):
    """Which resolved (or, for complaints, closed) tickets get a follow-up, and how.

    ``categories`` empty means every category of ``type``; ``warranty`` and ``parts`` left
    out match either. ``due_hours`` are working hours on the center's calendar.
    ``require_before_close``: the ticket may not close until this follow-up verified it.
    """

    id: str = Field(pattern=ID_PATTERN)
    type: TicketKind
    categories: list[str] = Field(default_factory=list)
    warranty: bool | None = None
    parts: bool | None = None
    due_hours: float = Field(gt=0, le=2000)
    priority: TaskPriority = "normal"
    sample_percent: float = Field(default=100, ge=0, le=100)
    script: str = Field(pattern=ID_PATTERN)
    require_before_close: bool = True
    not_verified: NotVerified = "reopen"
    max_attempts: int = Field(default=3, ge=1, le=20)


class FollowUpEscalation(_Strict):
    """A reminder or escalation: ``due_soon`` fires ``hours`` before the due time,
    ``overdue`` ``hours`` after it; each goes once per task to the ``notify`` role."""

    id: str = Field(pattern=ID_PATTERN)
    stage: Literal["due_soon", "overdue"]
    hours: float = Field(default=0, ge=0, le=2000)
    notify: Literal["followup", "team_lead", "supervisor", "manager"]


class FollowUpConfig(_Strict):
    """The center's follow-up work: scripts, rules (first match decides) and escalations.

    ``calendar`` names the business calendar due times count on (default: the center's).
    """

    calendar: str | None = None
    scripts: list[FollowUpScript] = Field(min_length=1)
    rules: list[FollowUpRule] = Field(default_factory=list)
    escalations: list[FollowUpEscalation] = Field(default_factory=list)

    def script(self, script_id: str) -> FollowUpScript:
        """The script ``script_id`` (``KeyError`` when there is none)."""
        for script in self.scripts:
            if script.id == script_id:
                return script
        raise KeyError(script_id)
