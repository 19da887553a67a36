"""The quality domain's persistence-facing service: evaluations, disputes, accuracy by agent.

Every change is written with its audit entry in the caller's transaction (``quality.*``
actions). Scoring and statistics are the pure modules' (:mod:`~hotline.quality.scoring`,
:mod:`~hotline.quality.statistics`, :mod:`~hotline.quality.workflow`); this module only reads
and writes rows.

Example::

    row = create_evaluation(session=s, contact_id="v-1", agent_id="a001", evaluator="qa1",
                            form=center.quality.form("voice-service"), answers={...})
    dispute(session=s, evaluation_id=row.id, actor="a001", actor_agent="a001",
            reason="我已征得客户同意再保持")
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.evaluation import EvaluationForm
from hotline.core.errors import Conflict, NotFound
from hotline.identity import audit
from hotline.quality.calibration import complete_table, drift, icc_2_1, question_agreement
from hotline.quality.scoring import score_answers
from hotline.quality.statistics import AccuracyFigures, EvaluationFacts, accuracy
from hotline.quality.workflow import TransitionRefused, transition
from hotline.store.db import utcnow
from hotline.store.models.quality import Calibration, CalibrationScore, Evaluation


def month_bounds(month: str, timezone: str = "UTC") -> tuple[datetime, datetime]:
    """The first instant of ``month`` (``YYYY-MM``) and of the next, in ``timezone``.

    >>> [b.isoformat() for b in month_bounds("2026-12", "Asia/Shanghai")]
    ['2026-12-01T00:00:00+08:00', '2027-01-01T00:00:00+08:00']
    """
    try:
        year, number = (int(part) for part in month.split("-"))
        zone = ZoneInfo(timezone)
        start = datetime(year, number, 1, tzinfo=zone)
    except ValueError as error:
        raise ValueError(f"month {month!r} is not YYYY-MM") from error
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def create_evaluation(
    *,
    session: Session,
    contact_id: str,
    agent_id: str,
    evaluator: str,
    form: EvaluationForm,
    answers: Mapping[str, int | None],
    comments: Mapping[str, str] | None = None,
    summary: str = "",
) -> Evaluation:
    """Score ``answers`` on ``form`` and store the evaluation (``AnswerProblem`` if they do
    not fit the form); a contact is evaluated once per form in normal QA work."""
    scored = score_answers(form, answers)
    unknown = sorted(set(comments or {}) - {q.id for s in form.sections for q in s.questions})
    if unknown:
        raise ValueError(f"comments.{unknown[0]}: the form has no such question")
    row = Evaluation(
        contact_id=contact_id,
        agent_id=agent_id,
        evaluator=evaluator,
        evaluated_at=utcnow(),
        form_id=form.id,
        form_version=form.version,
        form=form.model_dump(mode="json"),
        answers=dict(answers),
        comments={k: v for k, v in (comments or {}).items() if v},
        summary=summary,
        score=scored.score,
        fatal_error=scored.fatal_error,
        nonfatal_errors=scored.nonfatal_errors,
        nonfatal_opportunities=scored.nonfatal_opportunities,
        status="submitted",
        dispute_reason="",
        review_note="",
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=evaluator,
        action="quality.evaluate",
        target=contact_id,
        detail={"evaluation_id": row.id, "agent_id": agent_id, "score": row.score},
    )
    return row


def get_evaluation(*, session: Session, evaluation_id: int) -> Evaluation:
    """The evaluation ``evaluation_id`` (``NotFound`` when there is none)."""
    row = session.get(Evaluation, evaluation_id)
    if row is None:
        raise NotFound(f"evaluation {evaluation_id} does not exist")
    return row


def list_evaluations(
    *,
    session: Session,
    agents: Collection[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    contact_id: str | None = None,
    status: str | None = None,
    limit: int = 500,
) -> list[Evaluation]:
    """Evaluations, newest first; ``agents`` (``None``: all) limits them to those agents."""
    query = select(Evaluation).order_by(Evaluation.evaluated_at.desc(), Evaluation.id.desc())
    if agents is not None:
        query = query.where(Evaluation.agent_id.in_(list(agents)))
    if since is not None:
        query = query.where(Evaluation.evaluated_at >= since)
    if until is not None:
        query = query.where(Evaluation.evaluated_at < until)
    if contact_id is not None:
        query = query.where(Evaluation.contact_id == contact_id)
    if status is not None:
        query = query.where(Evaluation.status == status)
    return list(session.scalars(query.limit(limit)))


def evaluated_contacts(*, session: Session, since: datetime | None = None) -> frozenset[str]:
    """The contact ids evaluated at least once (since ``since``)."""
    query = select(Evaluation.contact_id)
    if since is not None:
        query = query.where(Evaluation.evaluated_at >= since)
    return frozenset(session.scalars(query))


def _move(row: Evaluation, following: str) -> None:
    if row.status == following:
        raise Conflict(f"evaluation {row.id} is already {following}")
    row.status = following


def acknowledge(
    *, session: Session, evaluation_id: int, actor: str, actor_agent: str | None
) -> Evaluation:
    """The evaluated agent accepts the evaluation."""
    row = get_evaluation(session=session, evaluation_id=evaluation_id)
    try:
        following = transition(
            row.status, "acknowledge", actor_agent=actor_agent, agent=row.agent_id
        )
    except TransitionRefused as refused:
        raise Conflict(str(refused)) from refused
    _move(row, following)
    row.acknowledged_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="quality.acknowledge",
        target=row.contact_id,
        detail={"evaluation_id": row.id},
    )
    return row


def dispute(
    *, session: Session, evaluation_id: int, actor: str, actor_agent: str | None, reason: str
) -> Evaluation:
    """The evaluated agent disputes the evaluation, giving ``reason``; a reviewer decides."""
    row = get_evaluation(session=session, evaluation_id=evaluation_id)
    try:
        following = transition(
            row.status, "dispute", actor_agent=actor_agent, agent=row.agent_id, reason=reason
        )
    except TransitionRefused as refused:
        raise Conflict(str(refused)) from refused
    _move(row, following)
    row.dispute_reason = reason.strip()
    row.disputed_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="quality.dispute",
        target=row.contact_id,
        detail={"evaluation_id": row.id, "reason": row.dispute_reason},
    )
    return row


def review(
    *,
    session: Session,
    evaluation_id: int,
    reviewer: str,
    decision: str,
    note: str,
    answers: Mapping[str, int | None] | None = None,
) -> Evaluation:
    """A reviewer decides a dispute: ``uphold`` keeps the score, ``amend`` re-scores the
    evaluation with corrected ``answers`` on the form version it was made on."""
    row = get_evaluation(session=session, evaluation_id=evaluation_id)
    try:
        following = transition(row.status, decision, reviewer=reviewer, evaluator=row.evaluator)
    except TransitionRefused as refused:
        raise Conflict(str(refused)) from refused
    if decision == "amend":
        if answers is None:
            raise ValueError("answers: amending a dispute needs the corrected answers")
        form = EvaluationForm.model_validate(row.form)
        scored = score_answers(form, answers)
        row.original_score = row.score
        row.answers = dict(answers)
        row.score = scored.score
        row.fatal_error = scored.fatal_error
        row.nonfatal_errors = scored.nonfatal_errors
        row.nonfatal_opportunities = scored.nonfatal_opportunities
    _move(row, following)
    row.reviewer = reviewer
    row.reviewed_at = utcnow()
    row.review_note = note
    audit.record(
        session,
        actor=reviewer,
        action=f"quality.{decision}",
        target=row.contact_id,
        detail={"evaluation_id": row.id, "score": row.score, "original_score": row.original_score},
    )
    return row


def agent_accuracy(
    *,
    session: Session,
    since: datetime,
    until: datetime,
    agents: Collection[str] | None,
    margin_points: float,
    assumed_sd: float,
) -> dict[str, AccuracyFigures]:
    """Each agent's QA figures over the evaluations made in [``since``, ``until``)."""
    rows = list_evaluations(session=session, agents=agents, since=since, until=until, limit=100_000)
    by_agent: dict[str, list[EvaluationFacts]] = {}
    for row in rows:
        by_agent.setdefault(row.agent_id, []).append(
            EvaluationFacts(
                row.score, row.fatal_error, row.nonfatal_errors, row.nonfatal_opportunities
            )
        )
    return {
        agent: accuracy(facts, margin_points=margin_points, assumed_sd=assumed_sd)
        for agent, facts in sorted(by_agent.items())
    }


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (for comparisons with stored timestamps)."""
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- calibration


def create_calibration(
    *,
    session: Session,
    name: str,
    form: EvaluationForm,
    contact_ids: Sequence[str],
    evaluators: Sequence[str],
    actor: str,
) -> Calibration:
    """Open a calibration session: ``evaluators`` score ``contact_ids`` blind on ``form``."""
    if len(set(evaluators)) < 2:
        raise ValueError("evaluators: a calibration needs at least two different evaluators")
    if not contact_ids or len(set(contact_ids)) != len(contact_ids):
        raise ValueError("contact_ids: give one or more contacts, each once")
    row = Calibration(
        name=name,
        created_by=actor,
        created_at=utcnow(),
        form_id=form.id,
        form_version=form.version,
        form=form.model_dump(mode="json"),
        contact_ids=list(contact_ids),
        evaluators=sorted(set(evaluators)),
        status="open",
        outcome={},
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="quality.calibration_open",
        target=str(row.id),
        detail={"contacts": list(contact_ids), "evaluators": row.evaluators},
    )
    return row


def get_calibration(*, session: Session, calibration_id: int) -> Calibration:
    """The calibration session ``calibration_id`` (``NotFound`` when there is none)."""
    row = session.get(Calibration, calibration_id)
    if row is None:
        raise NotFound(f"calibration {calibration_id} does not exist")
    return row


def list_calibrations(*, session: Session, limit: int = 100) -> list[Calibration]:
    """Calibration sessions, newest first."""
    query = select(Calibration).order_by(Calibration.id.desc()).limit(limit)
    return list(session.scalars(query))


def calibration_scores(*, session: Session, calibration_id: int) -> list[CalibrationScore]:
    """Every blind score of a session, by evaluator and contact."""
    query = (
        select(CalibrationScore)
        .where(CalibrationScore.calibration_id == calibration_id)
        .order_by(CalibrationScore.evaluator, CalibrationScore.contact_id)
    )
    return list(session.scalars(query))


def score_calibration(
    *,
    session: Session,
    calibration_id: int,
    evaluator: str,
    contact_id: str,
    answers: Mapping[str, int | None],
) -> CalibrationScore:
    """Record ``evaluator``'s blind answers for one contact (again: replaces them while open)."""
    row = get_calibration(session=session, calibration_id=calibration_id)
    if row.status != "open":
        raise Conflict(f"calibration {calibration_id} is closed")
    if evaluator not in row.evaluators:
        raise Conflict(f"{evaluator} is not an evaluator of calibration {calibration_id}")
    if contact_id not in row.contact_ids:
        raise ValueError(f"contact_id: {contact_id} is not one of this calibration's contacts")
    scored = score_answers(EvaluationForm.model_validate(row.form), answers)
    existing = session.scalars(
        select(CalibrationScore).where(
            CalibrationScore.calibration_id == calibration_id,
            CalibrationScore.evaluator == evaluator,
            CalibrationScore.contact_id == contact_id,
        )
    ).first()
    if existing is None:
        existing = CalibrationScore(
            calibration_id=calibration_id, evaluator=evaluator, contact_id=contact_id
        )
        session.add(existing)
    existing.answers = dict(answers)
    existing.score = scored.score
    existing.scored_at = utcnow()
    audit.record(
        session,
        actor=evaluator,
        action="quality.calibration_score",
        target=str(calibration_id),
        detail={"contact_id": contact_id, "score": scored.score},
    )
    return existing


def close_calibration(
    *, session: Session, calibration_id: int, actor: str, drift_points: float = 5.0
) -> Calibration:
    """Close a session and keep its outcome: kappa per question, ICC(2,1), drift."""
    row = get_calibration(session=session, calibration_id=calibration_id)
    if row.status != "open":
        raise Conflict(f"calibration {calibration_id} is already closed")
    scores = calibration_scores(session=session, calibration_id=calibration_id)
    scorers = {s.evaluator for s in scores}
    if len(scorers) < 2:
        raise Conflict("at least two evaluators must have scored before the session closes")
    form = EvaluationForm.model_validate(row.form)
    answers: dict[str, dict[str, dict[str, int | None]]] = {}
    totals: dict[str, dict[str, float]] = {}
    for s in scores:
        totals.setdefault(s.evaluator, {})[s.contact_id] = s.score
        for question, value in s.answers.items():
            answers.setdefault(question, {}).setdefault(s.evaluator, {})[s.contact_id] = value
    agreement = [
        question_agreement(q.id, answers.get(q.id, {}), q.points)
        for section in form.sections
        for q in section.questions
    ]
    shared, table = complete_table(totals)
    row.outcome = {
        "questions": [
            {
                "question": a.question,
                "kappa": a.kappa,
                "observed": a.observed,
                "contacts": a.contacts,
            }
            for a in agreement
        ],
        "icc_2_1": icc_2_1(table),
        "icc_contacts": len(shared),
        "drift_points": drift_points,
        "evaluators": [
            {
                "evaluator": d.evaluator,
                "mean_difference": round(d.mean_difference, 2),
                "contacts": d.contacts,
                "drifting": d.drifting,
            }
            for d in drift(totals, drift_points=drift_points)
        ],
        "missing": sorted(set(row.evaluators) - scorers),
    }
    row.status = "closed"
    row.closed_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="quality.calibration_close",
        target=str(row.id),
        detail={"icc_2_1": row.outcome["icc_2_1"]},
    )
    return row
