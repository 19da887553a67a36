"""Quality API: evaluation forms, scoring contacts, disputes, accuracy with margins, sampling.

Who may do what:

* **QA** (and admin) score contacts; the score is computed by the server from the answers
  (:mod:`hotline.quality.scoring`), never taken from the client.
* An **agent** sees only their own evaluations and accuracy, and acknowledges or disputes
  them (a dispute needs a reason).
* **Supervisors and managers** review disputes (uphold or amend); the evaluator who scored
  an evaluation cannot review it.
* **Team leads** see the evaluations and accuracy of their own teams' agents.
* A contact's timeline segments (for the player) go to the roles that may hear recordings.

Every change is audited (``quality.*``); playing a recording is audited by the recordings
API (``recording.play``).

Example::

    POST /api/quality/evaluations {"contact_id": "v-1", "agent_id": "a001",
          "form_id": "voice-service", "answers": {"greeting": 1, ...}}   -> {"score": 86.5, ...}
    GET  /api/quality/accuracy?month=2026-12   -> per agent: fatal/non-fatal accuracy ± margin
    GET  /api/quality/sampling-plan?month=2026-12   -> the contacts to evaluate, and why
    GET  /api/contacts/v-1/segments   -> [{"kind": "hold", "start_s": 30.0, "end_s": 50.0}, ...]
    GET  /api/contacts/v-1/transcript   -> both legs' words with times, and the checks' flags
    GET  /api/quality/transcripts?q=录音   -> transcribed calls containing every word

Transcripts are what was said on a recording, so they go to the roles that may hear it
(team leads: their teams' agents only), and reading one is audited (``transcript.read``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.channels.email import service as mail
from hotline.config.center import CenterConfig
from hotline.config.evaluation import EvaluationForm, QualityConfig
from hotline.core.errors import NotFound, Problem, ValidationFailed
from hotline.identity import audit
from hotline.identity.roles import PersonalField, Role, hidden_fields
from hotline.identity.scope import AgentScope
from hotline.metrics import service as metrics
from hotline.quality import service as quality
from hotline.quality import transcription
from hotline.quality.sampling import Candidate, plan_sample
from hotline.quality.scoring import AnswerProblem
from hotline.quality.segments import timeline
from hotline.quality.statistics import AccuracyFigures
from hotline.store.models.core import ContactEventRow
from hotline.store.models.quality import Evaluation
from hotline.store.models.telephony import Recording
from hotline.store.models.tickets import Ticket
from hotline.web.access import current_center, scope_of
from hotline.web.api.recordings import LISTENERS
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import (
    CurrentUser,
    db_session,
    read_session,
    require_roles,
    writer_session,
)
from hotline.web.fields import RecordId
from hotline.web.limits import NAME_LENGTH, NOTE_LENGTH

router = APIRouter(tags=["quality"], responses=errors(422))

EVALUATORS = (Role.QA,)
REVIEWERS = (Role.SUPERVISOR, Role.MANAGER)
OVERSEERS = (Role.QA, Role.SUPERVISOR, Role.MANAGER, Role.TEAM_LEAD)
READERS = (*OVERSEERS, Role.AGENT)
PLANNERS = (Role.QA, Role.SUPERVISOR, Role.MANAGER)

MONTH = Query(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (this month)")


# --------------------------------------------------------------------------- models


class FormOut(BaseModel):
    """An evaluation form version, as the center configuration defines it."""

    id: str
    version: int
    name: str
    channels: list[str]
    sections: list[dict[str, Any]]


class EvaluationIn(BaseModel):
    """A scored contact: an answer per question (0..points, ``null`` for N/A)."""

    contact_id: str = Field(min_length=1, max_length=128)
    agent_id: str = Field(min_length=1, max_length=64)
    form_id: str = Field(min_length=1, max_length=64)
    form_version: int | None = Field(None, ge=1, le=10_000)
    answers: dict[str, int | None]
    comments: dict[str, str] = Field(default_factory=dict)
    summary: str = Field("", max_length=NOTE_LENGTH)


class DisputeIn(BaseModel):
    """Why the agent disagrees with an evaluation."""

    reason: str = Field(min_length=1, max_length=NOTE_LENGTH)


class ReviewIn(BaseModel):
    """A reviewer's decision on a dispute; ``amend`` carries the corrected answers."""

    decision: str = Field(pattern="^(uphold|amend)$")
    note: str = Field("", max_length=NOTE_LENGTH)
    answers: dict[str, int | None] | None = None


class EvaluationOut(BaseModel):
    """One evaluation with its score, errors, dispute and review."""

    id: int
    contact_id: str
    agent_id: str
    evaluator: str
    evaluated_at: datetime
    form_id: str
    form_version: int
    form: dict[str, Any]
    answers: dict[str, int | None]
    comments: dict[str, str]
    summary: str
    score: float
    fatal_error: bool
    nonfatal_errors: int
    nonfatal_opportunities: int
    status: str
    dispute_reason: str
    reviewer: str | None
    review_note: str
    original_score: float | None


class AccuracyOut(BaseModel):
    """One agent's QA figures for a month, each with its 95 % interval."""

    agent_id: str
    evaluations: int
    mean_score: float | None
    score_margin: float | None = Field(description="± points, 95 % t interval of the mean")
    fatal_accuracy: float | None
    fatal_low: float
    fatal_high: float
    nonfatal_accuracy: float | None
    nonfatal_low: float
    nonfatal_high: float
    nonfatal_opportunities: int
    evaluations_needed: int = Field(description="for a mean score known to ± margin_points")


class AccuracyReport(BaseModel):
    """Per-agent accuracy, and the precision the sample-size advice aims at."""

    month: str
    margin_points: float
    agents: list[AccuracyOut]


class PickOut(BaseModel):
    """A contact the sampling plan chose, and why."""

    contact_id: str
    agent_id: str
    reason: str
    stratum: str


class SamplingPlanOut(BaseModel):
    """The month's plan: contacts to evaluate per agent (already evaluated ones left out)."""

    month: str
    seed: int
    per_agent: int
    picks: list[PickOut]


class SegmentOut(BaseModel):
    """One stretch of a contact on the recording's time axis (seconds from its start)."""

    kind: str
    start_s: float
    end_s: float


class SegmentsOut(BaseModel):
    """The contact's timeline for the player, and the recording it is measured against."""

    contact_id: str
    recording_id: int | None
    seconds: float | None
    segments: list[SegmentOut]


class WorkspaceOut(BaseModel):
    """What a QA specialist needs beside the form: the agent, recordings and tickets."""

    contact_id: str
    agent_id: str | None
    queue: str | None
    channel: str | None
    recordings: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    evaluations: list[int]


# --------------------------------------------------------------------------- helpers


def _quality(request: Request) -> tuple[CenterConfig | None, QualityConfig]:
    center = current_center(request)
    config = center.quality if center is not None else None
    return center, config or QualityConfig()


def _month(month: str | None, center: CenterConfig | None) -> tuple[str, datetime, datetime]:
    zone = center.center.timezone if center is not None else "UTC"
    if month is None:
        now = datetime.now(ZoneInfo(zone))
        month = f"{now.year:04d}-{now.month:02d}"
    since, until = quality.month_bounds(month, zone)
    return month, since, until


def _scope_agents(scope: AgentScope) -> frozenset[str] | None:
    return None if scope.everyone else scope.agents


def _out(row: Evaluation) -> EvaluationOut:
    return EvaluationOut.model_validate(row, from_attributes=True)


def _visible(
    request: Request, user: CurrentUser, session: Session, evaluation_id: int
) -> Evaluation:
    row = quality.get_evaluation(session=session, evaluation_id=evaluation_id)
    if not scope_of(request, user).covers(row.agent_id):
        # The same answer as a missing one: nobody learns of others' evaluations.
        raise NotFound(f"evaluation {evaluation_id} does not exist")
    return row


def _answer_problem(problem: AnswerProblem | ValueError) -> ValidationFailed:
    if isinstance(problem, AnswerProblem):
        return ValidationFailed([Problem(problem.rule, field=problem.field)])
    field, _, rule = str(problem).partition(": ")
    return ValidationFailed([Problem(rule or field, field=field if rule else None)])


# --------------------------------------------------------------------------- routes


@router.get("/api/quality/forms", response_model=list[FormOut])
def forms(
    request: Request,
    all_versions: bool = Query(False, description="every version, not only the newest"),
    user: CurrentUser = Depends(require_roles(*READERS)),
) -> list[FormOut]:
    """The evaluation forms of the center configuration (the newest version of each)."""
    _, config = _quality(request)
    chosen = config.forms if all_versions else config.current_forms()
    return [FormOut.model_validate(form.model_dump(mode="json")) for form in chosen]


@router.post("/api/quality/evaluations", response_model=EvaluationOut, status_code=201)
def evaluate(
    body: EvaluationIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*EVALUATORS)),
    session: Session = Depends(db_session, scope="function"),
) -> EvaluationOut:
    """Score a contact on a form; the server computes the score from the answers."""
    center, config = _quality(request)
    try:
        form: EvaluationForm = config.form(body.form_id, body.form_version)
    except KeyError:
        version = f" version {body.form_version}" if body.form_version else ""
        raise ValidationFailed(
            [
                Problem(
                    f"no evaluation form {body.form_id!r}{version} in the center configuration",
                    field="form_id",
                )
            ]
        ) from None
    if center is not None and body.agent_id not in {a.id for a in center.agents}:
        raise ValidationFailed([Problem(f"unknown agent {body.agent_id!r}", field="agent_id")])
    handled_by = session.scalars(
        select(ContactEventRow.agent_id).where(
            ContactEventRow.contact_id == body.contact_id, ContactEventRow.kind == "answered"
        )
    ).all()
    if handled_by and body.agent_id not in handled_by:
        raise ValidationFailed(
            [
                Problem(
                    f"contact {body.contact_id} was answered by "
                    f"{', '.join(sorted({a for a in handled_by if a}))}, not {body.agent_id}",
                    field="agent_id",
                )
            ]
        )
    try:
        row = quality.create_evaluation(
            session=session,
            contact_id=body.contact_id,
            agent_id=body.agent_id,
            evaluator=user.username,
            form=form,
            answers=body.answers,
            comments=body.comments,
            summary=body.summary,
        )
    except (AnswerProblem, ValueError) as problem:
        raise _answer_problem(problem) from problem
    return _out(row)


@router.get("/api/quality/evaluations", response_model=list[EvaluationOut])
def evaluations(
    request: Request,
    agent_id: str | None = Query(None, max_length=NAME_LENGTH),
    contact_id: str | None = Query(None, max_length=128),
    status: str | None = Query(None, pattern="^(submitted|acknowledged|disputed|upheld|amended)$"),
    month: str | None = MONTH,
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> list[EvaluationOut]:
    """Evaluations the caller may see (an agent: their own; a team lead: their teams')."""
    scope = scope_of(request, user)
    agents = _scope_agents(scope)
    if agent_id is not None:
        if not scope.covers(agent_id):
            raise HTTPException(403, f"the evaluations of agent {agent_id} are not yours to see")
        agents = frozenset({agent_id})
    since = until = None
    if month is not None:
        _, since, until = _month(month, current_center(request))
    rows = quality.list_evaluations(
        session=session,
        agents=agents,
        since=since,
        until=until,
        contact_id=contact_id,
        status=status,
    )
    return [_out(row) for row in rows]


@router.get("/api/quality/evaluations/{evaluation_id}", response_model=EvaluationOut)
def evaluation(
    evaluation_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> EvaluationOut:
    """One evaluation (404 when it does not exist or is not the caller's to see)."""
    return _out(_visible(request, user, session, evaluation_id))


@router.post("/api/quality/evaluations/{evaluation_id}/acknowledge", response_model=EvaluationOut)
def acknowledge(
    evaluation_id: RecordId,
    request: Request,
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(db_session, scope="function"),
) -> EvaluationOut:
    """The evaluated agent accepts their evaluation."""
    _visible(request, user, session, evaluation_id)
    row = quality.acknowledge(
        session=session,
        evaluation_id=evaluation_id,
        actor=user.username,
        actor_agent=user.agent_id,
    )
    return _out(row)


@router.post("/api/quality/evaluations/{evaluation_id}/dispute", response_model=EvaluationOut)
def dispute(
    evaluation_id: RecordId,
    body: DisputeIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(db_session, scope="function"),
) -> EvaluationOut:
    """The evaluated agent disputes their evaluation; a supervisor or manager reviews it."""
    _visible(request, user, session, evaluation_id)
    row = quality.dispute(
        session=session,
        evaluation_id=evaluation_id,
        actor=user.username,
        actor_agent=user.agent_id,
        reason=body.reason,
    )
    return _out(row)


@router.post("/api/quality/evaluations/{evaluation_id}/review", response_model=EvaluationOut)
def review(
    evaluation_id: RecordId,
    body: ReviewIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*REVIEWERS)),
    session: Session = Depends(db_session, scope="function"),
) -> EvaluationOut:
    """Decide a dispute: uphold the score, or amend it with corrected answers."""
    _visible(request, user, session, evaluation_id)
    try:
        row = quality.review(
            session=session,
            evaluation_id=evaluation_id,
            reviewer=user.username,
            decision=body.decision,
            note=body.note,
            answers=body.answers,
        )
    except (AnswerProblem, ValueError) as problem:
        raise _answer_problem(problem) from problem
    return _out(row)


def _accuracy_out(agent: str, figures: AccuracyFigures) -> AccuracyOut:
    return AccuracyOut(
        agent_id=agent,
        evaluations=figures.evaluations,
        mean_score=figures.mean_score,
        score_margin=None if figures.score_margin is None else round(figures.score_margin, 2),
        fatal_accuracy=figures.fatal_accuracy,
        fatal_low=round(figures.fatal_interval[0], 4),
        fatal_high=round(figures.fatal_interval[1], 4),
        nonfatal_accuracy=figures.nonfatal_accuracy,
        nonfatal_low=round(figures.nonfatal_interval[0], 4),
        nonfatal_high=round(figures.nonfatal_interval[1], 4),
        nonfatal_opportunities=figures.nonfatal_opportunities,
        evaluations_needed=figures.evaluations_needed,
    )


@router.get("/api/quality/accuracy", response_model=AccuracyReport)
def accuracy(
    request: Request,
    month: str | None = MONTH,
    user: CurrentUser = Depends(require_roles(*READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> AccuracyReport:
    """Fatal and non-fatal accuracy and the mean score per agent, each with its margin, and
    the evaluations a mean known to ± ``margin_points`` would need (METRICS.md)."""
    center, config = _quality(request)
    month, since, until = _month(month, center)
    policy = config.sampling
    figures = quality.agent_accuracy(
        session=session,
        since=since,
        until=until,
        agents=_scope_agents(scope_of(request, user)),
        margin_points=policy.margin_points,
        assumed_sd=policy.assumed_sd_points,
    )
    return AccuracyReport(
        month=month,
        margin_points=policy.margin_points,
        agents=[_accuracy_out(agent, f) for agent, f in figures.items()],
    )


@router.get("/api/quality/sampling-plan", response_model=SamplingPlanOut)
def sampling_plan(
    request: Request,
    month: str | None = MONTH,
    seed: int = Query(0, ge=0, le=2**31 - 1, description="the same seed gives the same plan"),
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> SamplingPlanOut:
    """This month's contacts to evaluate per agent: targeted (long calls, transfers, repeat
    callers within 24 h, calls the speech checks flagged) first, the rest random and
    stratified by queue and channel."""
    center, config = _quality(request)
    month, since, until = _month(month, center)
    policy = config.sampling
    frame = metrics.records_frame(session=session)
    answered = frame.filter(
        pl.col("agent").is_not_null()
        & pl.col("answered_at").is_not_null()
        & (pl.col("arrived_at") >= since.timestamp())
        & (pl.col("arrived_at") < until.timestamp())
    )
    flagged = transcription.flagged_contacts(
        session=session, contact_ids=answered.get_column("contact_id").to_list()
    )
    candidates = [
        Candidate(
            contact_id=row["contact_id"],
            agent=row["agent"],
            queue=row["queue"],
            channel=row["channel"] or "voice",
            handle_s=float((row["talk_s"] or 0) + (row["hold_s"] or 0)),
            arrived_at=float(row["arrived_at"]),
            transferred=bool(row["transferred"]),
            customer=row["customer"],
            speech_flags=tuple(flagged.get(row["contact_id"], ())),
        )
        for row in answered.iter_rows(named=True)
    ]
    picks = plan_sample(
        candidates,
        per_agent=policy.per_agent_month,
        seed=seed,
        long_call_s=policy.targeted.long_call_s,
        long_calls=policy.targeted.long_calls,
        transfers=policy.targeted.transfers,
        repeat_callers=policy.targeted.repeat_callers,
        speech_flags=policy.targeted.speech_flags,
        already=quality.evaluated_contacts(session=session),
    )
    return SamplingPlanOut(
        month=month,
        seed=seed,
        per_agent=policy.per_agent_month,
        picks=[
            PickOut(contact_id=p.contact_id, agent_id=p.agent, reason=p.reason, stratum=p.stratum)
            for p in picks
        ],
    )


def _conversation(session: Session, contact_id: str) -> Recording | None:
    return session.scalars(
        select(Recording)
        .where(Recording.contact_id == contact_id, Recording.kind == "conversation")
        .order_by(Recording.recorded_at, Recording.id)
        .limit(1)
    ).first()


@router.get("/api/contacts/{contact_id}/segments", response_model=SegmentsOut)
def segments(
    contact_id: str,
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(read_session, scope="function"),
) -> SegmentsOut:
    """The contact's IVR, queue, talk, hold and transfer segments from the event log, in
    seconds from the start of its (first) recording; 404 when the log has no such contact."""
    rows = session.execute(
        select(ContactEventRow.at, ContactEventRow.kind)
        .where(ContactEventRow.contact_id == contact_id)
        .order_by(ContactEventRow.at, ContactEventRow.seq)
    ).all()
    if not rows:
        raise NotFound(f"contact {contact_id} is not in the event log")
    recording = _conversation(session, contact_id)
    start = recording.recorded_at - recording.seconds if recording else rows[0][0]
    started = [at for at, kind in rows if kind == "recording_started"]
    if recording is not None and started:
        start = started[0]
    return SegmentsOut(
        contact_id=contact_id,
        recording_id=recording.id if recording else None,
        seconds=recording.seconds if recording else None,
        segments=[
            SegmentOut(kind=s.kind, start_s=round(s.start_s, 3), end_s=round(s.end_s, 3))
            for s in timeline([(float(at), str(kind)) for at, kind in rows], recording_start=start)
        ],
    )


@router.get("/api/quality/contacts/{contact_id}", response_model=WorkspaceOut)
def workspace(
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(require_roles(*EVALUATORS, *REVIEWERS)),
    session: Session = Depends(read_session, scope="function"),
) -> WorkspaceOut:
    """A contact as the QA workspace opens it: who handled it, its recordings (only listed
    for roles that may hear them), its tickets and earlier evaluations."""
    events = session.scalars(
        select(ContactEventRow)
        .where(ContactEventRow.contact_id == contact_id)
        .order_by(ContactEventRow.at, ContactEventRow.seq)
    ).all()
    agent = next((e.agent_id for e in events if e.kind == "answered"), None)
    queue = next((e.queue for e in events if e.queue), None)
    channel = next((e.channel for e in events if e.channel), None)
    recordings = session.scalars(
        select(Recording).where(Recording.contact_id == contact_id).order_by(Recording.id)
    ).all()
    tickets = session.scalars(select(Ticket).where(Ticket.contact_id == contact_id)).all()
    if not tickets and channel == "email":
        # A later e-mail contact on a ticket: the ticket carries the first one's id.
        about = mail.ticket_of_contact(session, contact_id=contact_id)
        tickets = session.scalars(select(Ticket).where(Ticket.id == about)).all()
    masked = PersonalField.CONTENT in hidden_fields(user.roles)
    found = quality.list_evaluations(session=session, contact_id=contact_id)
    if not events and not recordings and not tickets and not found:
        raise NotFound(f"contact {contact_id} is not known")
    return WorkspaceOut(
        contact_id=contact_id,
        agent_id=agent or (found[0].agent_id if found else None),
        queue=queue,
        channel=channel,
        recordings=[
            {
                "id": r.id,
                "seconds": r.seconds,
                "kind": r.kind,
                "audio": f"/api/recordings/{r.id}/audio",
            }
            for r in recordings
        ]
        if user.has(*LISTENERS)
        else [],
        tickets=[
            {
                "id": t.id,
                "number": t.number,
                "type": t.type,
                "state": t.state,
                "subject": "***" if masked else t.subject,
            }
            for t in tickets
        ],
        evaluations=[row.id for row in found],
    )


# --------------------------------------------------------------------------- calibration

CALIBRATORS = (Role.QA, Role.SUPERVISOR, Role.MANAGER)


class CalibrationIn(BaseModel):
    """A new calibration session: who scores which contacts, on which form."""

    name: str = Field(min_length=1, max_length=200)
    form_id: str = Field(min_length=1, max_length=64)
    form_version: int | None = Field(None, ge=1, le=10_000)
    contact_ids: list[str] = Field(min_length=1, max_length=50)
    evaluators: list[str] = Field(min_length=2, max_length=20)


class CalibrationScoreIn(BaseModel):
    """One evaluator's blind answers for one contact of the session."""

    contact_id: str = Field(min_length=1, max_length=128)
    answers: dict[str, int | None]


class CalibrationScoreOut(BaseModel):
    """A blind score (shown to others only once the session is closed)."""

    evaluator: str
    contact_id: str
    answers: dict[str, int | None]
    score: float


class CalibrationOut(BaseModel):
    """A calibration session; while open, ``scores`` holds only the caller's own."""

    id: int
    name: str
    created_by: str
    created_at: datetime
    form_id: str
    form_version: int
    form: dict[str, Any]
    contact_ids: list[str]
    evaluators: list[str]
    status: str
    submitted: dict[str, int] = Field(description="scores in so far, per evaluator")
    scores: list[CalibrationScoreOut]
    outcome: dict[str, Any]


def _calibration_out(session: Session, row: Any, user: CurrentUser) -> CalibrationOut:
    scores = quality.calibration_scores(session=session, calibration_id=row.id)
    submitted: dict[str, int] = {name: 0 for name in row.evaluators}
    for score in scores:
        submitted[score.evaluator] = submitted.get(score.evaluator, 0) + 1
    # Blind while open: nobody sees another evaluator's answers before the session closes.
    shown = (
        scores if row.status == "closed" else [s for s in scores if s.evaluator == user.username]
    )
    return CalibrationOut(
        id=row.id,
        name=row.name,
        created_by=row.created_by,
        created_at=row.created_at,
        form_id=row.form_id,
        form_version=row.form_version,
        form=row.form,
        contact_ids=row.contact_ids,
        evaluators=row.evaluators,
        status=row.status,
        submitted=submitted,
        scores=[CalibrationScoreOut.model_validate(s, from_attributes=True) for s in shown],
        outcome=row.outcome,
    )


@router.post("/api/quality/calibrations", response_model=CalibrationOut, status_code=201)
def open_calibration(
    body: CalibrationIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*CALIBRATORS)),
    session: Session = Depends(db_session, scope="function"),
) -> CalibrationOut:
    """Open a calibration session on a form of the center configuration."""
    _, config = _quality(request)
    try:
        form = config.form(body.form_id, body.form_version)
    except KeyError:
        raise ValidationFailed(
            [
                Problem(
                    f"no evaluation form {body.form_id!r} in the center configuration",
                    field="form_id",
                )
            ]
        ) from None
    try:
        row = quality.create_calibration(
            session=session,
            name=body.name,
            form=form,
            contact_ids=body.contact_ids,
            evaluators=body.evaluators,
            actor=user.username,
        )
    except ValueError as problem:
        raise _answer_problem(problem) from problem
    return _calibration_out(session, row, user)


@router.get("/api/quality/calibrations", response_model=list[CalibrationOut])
def calibrations(
    user: CurrentUser = Depends(require_roles(*CALIBRATORS)),
    session: Session = Depends(read_session, scope="function"),
) -> list[CalibrationOut]:
    """Calibration sessions, newest first (blind while open)."""
    return [
        _calibration_out(session, row, user) for row in quality.list_calibrations(session=session)
    ]


@router.get("/api/quality/calibrations/{calibration_id}", response_model=CalibrationOut)
def calibration(
    calibration_id: RecordId,
    user: CurrentUser = Depends(require_roles(*CALIBRATORS)),
    session: Session = Depends(read_session, scope="function"),
) -> CalibrationOut:
    """One session: the caller's own scores while open; everything and the outcome once closed."""
    row = quality.get_calibration(session=session, calibration_id=calibration_id)
    return _calibration_out(session, row, user)


@router.post("/api/quality/calibrations/{calibration_id}/scores", response_model=CalibrationOut)
def calibration_score(
    calibration_id: RecordId,
    body: CalibrationScoreIn,
    user: CurrentUser = Depends(require_roles(*CALIBRATORS)),
    session: Session = Depends(db_session, scope="function"),
) -> CalibrationOut:
    """Score one contact of the session, blind (only the session's evaluators may)."""
    try:
        quality.score_calibration(
            session=session,
            calibration_id=calibration_id,
            evaluator=user.username,
            contact_id=body.contact_id,
            answers=body.answers,
        )
    except (AnswerProblem, ValueError) as problem:
        raise _answer_problem(problem) from problem
    row = quality.get_calibration(session=session, calibration_id=calibration_id)
    return _calibration_out(session, row, user)


@router.post("/api/quality/calibrations/{calibration_id}/close", response_model=CalibrationOut)
def close_calibration(
    calibration_id: RecordId,
    user: CurrentUser = Depends(require_roles(Role.SUPERVISOR, Role.MANAGER, Role.QA)),
    session: Session = Depends(db_session, scope="function"),
) -> CalibrationOut:
    """Close the session: agreement per question, ICC(2,1) on totals and drift are kept."""
    row = quality.close_calibration(
        session=session, calibration_id=calibration_id, actor=user.username
    )
    return _calibration_out(session, row, user)


# --------------------------------------------------------------------------- transcripts


class UtteranceOut(ResponseModel):
    """What one party said: ``channel`` is ``caller`` or ``agent``, times in seconds from the
    start of the recording."""

    channel: str
    start: Number
    end: Number
    text: str


class FlagOut(ResponseModel):
    """A finding of the automated checks (``greeting_missing``, ``closing_missing``,
    ``recording_notice_missing``, ``job_number_missing``, ``forbidden_phrase``, ``silence``,
    ``over_talk``), where it is if it has a place, and a detail."""

    kind: str
    start: Number | None
    end: Number | None
    detail: str


class TranscriptOut(ResponseModel):
    """One recording's transcript: ``state`` is ``queued``, ``running``, ``done`` or
    ``failed`` (then ``error`` says why); ``model`` names the model that heard it."""

    recording_id: int
    contact_id: str
    agent_id: str | None
    state: str
    error: str
    model: str
    seconds: Number
    utterances: list[UtteranceOut]
    flags: list[FlagOut]


class ContactTranscriptOut(ResponseModel):
    """A contact's transcripts, one per recording (none before any is queued)."""

    contact_id: str
    transcripts: list[TranscriptOut]


class TranscriptHitOut(ResponseModel):
    """A transcribed call that contains the query: its lines that match, and its flags."""

    recording_id: int
    contact_id: str
    agent_id: str | None
    seconds: Number
    matches: list[UtteranceOut]
    flags: list[str]


class TranscriptSearchOut(ResponseModel):
    """Calls whose transcript contains every word of ``query``, newest first."""

    query: str
    hits: list[TranscriptHitOut]


def _transcript_out(row: Any) -> TranscriptOut:
    return TranscriptOut(
        recording_id=row.recording_id,
        contact_id=row.contact_id,
        agent_id=row.agent_id,
        state=row.state,
        error=row.error,
        model=row.model,
        seconds=row.seconds,
        utterances=[UtteranceOut(**u) for u in row.utterances],
        flags=[FlagOut(**f) for f in row.flags],
    )


@router.get(
    "/api/contacts/{contact_id}/transcript",
    response_model=ContactTranscriptOut,
    responses=errors(401, 403, 404),
)
def contact_transcript(
    contact_id: str,
    request: Request,
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(writer_session, scope="function"),
) -> ContactTranscriptOut:
    """The contact's transcripts with the checks' flags, for the roles that may hear its
    recordings; reading is audited (a GET that writes, like playing the recording)."""
    rows = transcription.transcript_of(session=session, contact_id=contact_id)
    recording = None if rows else _conversation(session, contact_id)
    if not rows and recording is None:
        raise NotFound(f"contact {contact_id} has no recording")
    agents = [row.agent_id for row in rows] if rows else [recording.agent_id if recording else None]
    scope = scope_of(request, user)
    if not all(scope.covers(agent) for agent in agents):
        raise HTTPException(403, f"contact {contact_id} was handled outside your team(s)")
    audit.record(
        session,
        actor=user.username,
        action="transcript.read",
        target=contact_id,
        detail={"recordings": [row.recording_id for row in rows]},
    )
    return ContactTranscriptOut(
        contact_id=contact_id, transcripts=[_transcript_out(row) for row in rows]
    )


@router.get(
    "/api/quality/transcripts",
    response_model=TranscriptSearchOut,
    responses=errors(401, 403, 422),
)
def search_transcripts(
    request: Request,
    q: str = Query(..., min_length=1, max_length=NAME_LENGTH, description="words to find"),
    limit: int = Query(50, ge=1, le=200),
    user: CurrentUser = Depends(require_roles(*LISTENERS)),
    session: Session = Depends(read_session, scope="function"),
) -> TranscriptSearchOut:
    """Transcribed calls containing every word of ``q`` (traditional or simplified, spaces
    and punctuation ignored); a team lead finds only their teams' agents' calls."""
    scope = scope_of(request, user)
    try:
        rows = transcription.search(
            session=session,
            query=q,
            agents=None if scope.everyone else scope.agents,
            limit=limit,
        )
    except ValueError as error:
        raise ValidationFailed([Problem(str(error), field="query.q")]) from error
    keys = [transcription.search_key(word) for word in q.split()]
    hits = []
    for row in rows:
        matches = [
            UtteranceOut(**u)
            for u in row.utterances
            if any(key and key in transcription.search_key(u["text"]) for key in keys)
        ]
        hits.append(
            TranscriptHitOut(
                recording_id=row.recording_id,
                contact_id=row.contact_id,
                agent_id=row.agent_id,
                seconds=row.seconds,
                matches=matches,
                flags=sorted({str(f["kind"]) for f in row.flags}),
            )
        )
    return TranscriptSearchOut(query=q, hits=hits)
