"""Follow-up (回访) API: the 回访 group's tasks, scripts and answers; the sweep; the figures.

``GET /api/followup/tasks`` lists tasks (open ones by default, soonest due first, each
highlighted ``overdue`` / ``due_soon`` / ``later``); ``GET /api/followup/tasks/{id}`` is one
task with its script; ``POST …/answers`` records what the customer said (the ticket is
verified, reopened or complained about, the provider's claim flagged, as the center's rules
say); ``POST …/not-reached`` counts a call that did not reach the customer.
``POST /api/followup/sweep`` makes the tasks the resolve path missed and sends the due
reminders now (the server also sweeps on its own). ``GET /api/followup/figures``: on-time
rate, backlog by age, outcomes by provider and product, claims settled late because of
follow-up. The customer's name and numbers are masked by the personal-data policy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.core.errors import NotFound
from hotline.followup import rules
from hotline.followup import service as followup
from hotline.store.db import utcnow
from hotline.store.models.followup import FollowUpTask
from hotline.web.access import current_center, hides_customer_identity
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.fields import RecordId
from hotline.web.limits import NOTE_LENGTH

router = APIRouter(prefix="/api/followup", tags=["followup"])

#: The 回访 group and the people who run it.
FOLLOWUP_ROLES = ("followup", "supervisor", "manager")


class TaskOut(ResponseModel):
    """A follow-up task: its ticket and customer, the script, when it is due, the answers."""

    id: int
    ticket_id: int
    ticket_number: str
    ticket_type: str
    ticket_state: str
    subject: str
    customer_id: int | None
    customer_name: str | None
    phones: list[str]
    rule: str
    script: str
    questions: list[str]
    priority: str
    state: str
    warranty: bool
    parts: list[str]
    provider: str | None
    product_model: str
    created_at: datetime
    resolved_at: datetime
    due_at: datetime
    finished_at: datetime | None
    urgency: str
    attempts: int
    max_attempts: int
    answers: dict[str, bool | Number | str]
    claim_flags: list[str]
    agent: str | None


class TaskListOut(ResponseModel):
    """Tasks in the states asked, soonest due first."""

    tasks: list[TaskOut]


class AnswersIn(BaseModel):
    """What the customer said; answer only the questions the task's script asks."""

    done: bool | None = Field(None, description="The work was done and the problem solved.")
    fee: bool | None = Field(None, description="The technician charged a fee.")
    fee_amount: float | None = Field(None, description="How much, in yuan.")
    part_matches: bool | None = Field(
        None, description="The replaced part matches the reported fault."
    )
    csat: int | None = Field(None, description="Satisfaction 1-5.")
    nps: int | None = Field(None, description="Would recommend, 0-10.")
    comment: str = Field("", max_length=2000)


class NotReachedIn(BaseModel):
    """A call that did not reach the customer."""

    note: str = Field("", max_length=NOTE_LENGTH)


class SweepOut(ResponseModel):
    """Tasks made for missed resolutions, and reminders sent as ``[task, escalation]``."""

    created: list[int]
    escalated: list[tuple[int, str]]


class FiguresOut(ResponseModel):
    """The 回访 group's figures."""

    tasks: int
    open: int
    overdue: int
    on_time_rate: Number | None
    backlog_by_age: dict[str, int]
    outcomes_by_provider: dict[str, dict[str, int]]
    outcomes_by_product: dict[str, dict[str, int]]
    late_settlement_share: Number | None


def _soon(request: Request) -> float:
    center = current_center(request)
    config = followup.followup_config(center)
    return rules.soon_hours(config) if config else 4.0


def _out(request: Request, session: Session, user: CurrentUser, task: FollowUpTask) -> TaskOut:
    view = followup.task_view(
        session,
        task,
        now=utcnow(),
        soon_hours=_soon(request),
        masked=hides_customer_identity(user.roles),
    )
    return TaskOut(**view)


@router.get("/tasks", responses=errors(422))
def list_tasks(
    request: Request,
    state: list[Literal["open", "verified", "not_verified", "unreached", "cancelled"]] = Query(
        ["open"], description="Task states to list (repeat the parameter for several)."
    ),
    limit: int = Query(200, ge=1, le=1000),
    user: CurrentUser = Depends(require_roles(*FOLLOWUP_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> TaskListOut:
    """Follow-up tasks, soonest due first, each highlighted by urgency."""
    found = followup.list_tasks(session, states=state, limit=limit)
    return TaskListOut(tasks=[_out(request, session, user, task) for task in found])


@router.get("/tasks/{task_id}", responses=errors(404, 422))
def get_task(
    task_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*FOLLOWUP_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> TaskOut:
    """One follow-up task with its script."""
    return _out(request, session, user, followup.get_task(session, task_id=task_id))


@router.post("/tasks/{task_id}/answers", responses=errors(404, 409, 422))
def answer(
    task_id: RecordId,
    body: AnswersIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*FOLLOWUP_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> TaskOut:
    """Record the customer's answers; the ticket and the provider's claim follow the rules."""
    raw = body.model_dump(exclude_none=True)
    if not raw.get("comment"):
        raw.pop("comment", None)
    task = followup.record_answers(session, task_id=task_id, answers=raw, actor=user.username)
    return _out(request, session, user, task)


@router.post("/tasks/{task_id}/not-reached", responses=errors(404, 409, 422))
def not_reached(
    task_id: RecordId,
    body: NotReachedIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*FOLLOWUP_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> TaskOut:
    """A call that did not reach the customer; the last allowed attempt ends the task."""
    task = followup.record_not_reached(
        session, task_id=task_id, actor=user.username, note=body.note
    )
    return _out(request, session, user, task)


@router.post("/sweep", responses=errors(404))
def sweep(
    request: Request,
    user: CurrentUser = Depends(require_roles(*FOLLOWUP_ROLES)),
    session: Session = Depends(db_session, scope="function"),
) -> SweepOut:
    """Make the tasks the resolve path missed and send the due reminders, now."""
    center = current_center(request)
    if followup.followup_config(center) is None:
        raise NotFound("the center configuration has no follow-up rules")
    result = followup.sweep(session, center=center, actor=user.username)
    return SweepOut(created=result.created, escalated=result.escalated)


@router.get("/figures", responses=errors())
def figures(
    _: CurrentUser = Depends(require_roles(*FOLLOWUP_ROLES, "settlement")),
    session: Session = Depends(db_session, scope="function"),
) -> FiguresOut:
    """On-time rate, backlog by age, outcomes by provider and product, late settlements."""
    return FiguresOut(**followup.figures(session, now=utcnow()))
