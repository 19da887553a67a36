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

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.evaluation import EvaluationForm
from hotline.core.errors import Conflict, NotFound
from hotline.identity import audit
from hotline.quality.scoring import score_answers
from hotline.quality.statistics import AccuracyFigures, EvaluationFacts, accuracy
from hotline.quality.workflow import TransitionRefused, transition
from hotline.store.db import utcnow
from hotline.store.models.quality import Evaluation


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
