"""Team scorecards and the agent's own figures: a composition of metrics, quality and grading.

A team lead runs a team on a scorecard: per agent, over a chosen period, handle time,
after-contact work, hold, occupancy, adherence, first contact resolution, satisfaction and
quality accuracy, each against its target, with a daily trend, and the agent's grade. The
contact figures come from :func:`hotline.metrics.service.agent_period_figures` (the METRICS.md
definitions, never redefined here), the quality figures from
:func:`hotline.quality.service.agent_accuracy`, the grade from :mod:`hotline.people.grading`
under the center's ``grading:`` rules, which also give each figure its target.

Adherence is measured against the published roster (:mod:`hotline.people.schedules`) over the
scheduled time already passed; an agent with no published shift in the period has none
(``None``), and grading leaves it out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.config.grading import SCORECARD_METRICS
from hotline.core.errors import Conflict, NotFound, Problem, ValidationFailed
from hotline.identity import audit
from hotline.metrics import service as metrics
from hotline.people import schedules
from hotline.people.coaching import MAX_TEXT, CoachingRefused, transition
from hotline.people.competitions import ContestStanding, combine, running
from hotline.people.competitions import problems as contest_problems
from hotline.people.grading import Grading, grade
from hotline.people.leaderboard import NORMALISED, RANKABLE, Entry, Standing, standings
from hotline.people.training import course_problems, passed
from hotline.quality import service as quality
from hotline.store.db import utcnow
from hotline.store.models.people import (
    CoachingTask,
    Competition,
    TrainingCourse,
    TrainingResult,
)

#: The figures of a scorecard, in the order a scorecard shows them.
METRICS: tuple[str, ...] = tuple(SCORECARD_METRICS)
#: Figures followed day by day (a sparkline each); quality comes from a handful of
#: evaluations a month, too few to draw per day.
TRENDED: tuple[str, ...] = ("aht_s", "acw_s", "avg_hold_s", "occupancy", "fcr", "csat")
#: The longest period a scorecard covers.
MAX_DAYS = 93
#: The dates a scorecard can cover: a calendar date outside these cannot be turned into
#: instants in every time zone (epoch seconds, a day after).
FIRST_DAY = date(1970, 1, 2)
LAST_DAY = date(2999, 12, 31)

NO_SCHEDULE = "adherence: no published schedule in the period"


@dataclass(frozen=True)
class AgentCard:
    """One agent's row of a scorecard."""

    agent: str
    name: str
    team: str
    figures: dict[str, float | None]
    trends: dict[str, list[float | None]]
    answered: int
    surveys: int
    evaluations: int
    grading: Grading | None


@dataclass(frozen=True)
class Scorecard:
    """Agents' figures over [``start``, ``end``] (local dates, both included), each figure's
    target (from the grading rules; absent when the center grades not on it), the mean of
    each team's agents, and notes on what could not be computed."""

    start: date
    end: date
    timezone: str
    days: list[date]
    targets: dict[str, float]
    agents: list[AgentCard]
    team_averages: dict[str, dict[str, float | None]]
    notes: list[str] = field(default_factory=list)


def period_problem(start: date, end: date) -> str | None:
    """Why [``start``, ``end``] is not a period a scorecard covers, or ``None``.

    >>> period_problem(date(2026, 3, 2), date(2026, 3, 1))
    'end 2026-03-01 is before start 2026-03-02'
    >>> period_problem(date(9999, 12, 31), date(9999, 12, 31))
    'give dates from 1970-01-02 to 2999-12-31, not 9999-12-31'
    """
    for day in (start, end):
        if not FIRST_DAY <= day <= LAST_DAY:
            return f"give dates from {FIRST_DAY} to {LAST_DAY}, not {day}"
    if end < start:
        return f"end {end} is before start {start}"
    if (end - start).days + 1 > MAX_DAYS:
        return f"a scorecard covers at most {MAX_DAYS} days, not {(end - start).days + 1}"
    return None


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def scorecard(
    *,
    session: Session,
    center: CenterConfig,
    start: date,
    end: date,
    agents: Collection[str] | None = None,
    now: datetime | None = None,
) -> Scorecard:
    """The scorecard of ``agents`` (every configured agent when ``None``) from ``start`` to
    ``end`` (local dates in the center's time zone, both included); adherence counts the
    scheduled time before ``now`` (the wall clock when ``None``)."""
    problem = period_problem(start, end)
    if problem is not None:
        raise ValueError(problem)
    timezone = center.center.timezone
    zone = ZoneInfo(timezone)
    since = datetime.combine(start, time(), zone)
    until = datetime.combine(end + timedelta(days=1), time(), zone)
    configured = [a for a in center.agents if agents is None or a.id in set(agents)]
    ids = [a.id for a in configured]
    figures = metrics.agent_period_figures(
        session=session,
        since=since.timestamp(),
        until=until.timestamp(),
        agents=ids,
        settings=metrics.settings_for_center(center),
        timezone=timezone,
    )
    policy = center.quality.sampling if center.quality is not None else None
    accuracy = quality.agent_accuracy(
        session=session,
        since=since.astimezone(UTC),
        until=until.astimezone(UTC),
        agents=ids,
        margin_points=policy.margin_points if policy else 5.0,
        assumed_sd=policy.assumed_sd_points if policy else 12.0,
    )
    held = schedules.schedule_figures(
        session=session,
        since=since,
        until=until,
        now=now or datetime.now(UTC),
        timezone=timezone,
        agents=ids,
    )
    totals = {row["agent"]: row for row in figures.totals.to_dicts()}
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    daily: dict[tuple[str, date], dict[str, Any]] = {
        (row["agent"], row["interval_start"]): row for row in figures.daily.to_dicts()
    }
    cards = []
    for agent in configured:
        row = totals.get(agent.id, {})
        qa = accuracy.get(agent.id)
        values: dict[str, float | None] = {
            "aht_s": _float(row.get("aht_s")),
            "acw_s": _float(row.get("acw_s")),
            "avg_hold_s": _float(row.get("avg_hold_s")),
            "occupancy": _float(row.get("occupancy")),
            "adherence": held.adherence[agent.id].adherence if agent.id in held.adherence else None,
            "fcr": _float(row.get("fcr")),
            "csat": _float(row.get("csat")),
            "quality_score": qa.mean_score if qa else None,
            "fatal_accuracy": qa.fatal_accuracy if qa else None,
            "nonfatal_accuracy": qa.nonfatal_accuracy if qa else None,
        }
        trends = {
            metric: [_float(daily.get((agent.id, day), {}).get(metric)) for day in days]
            for metric in TRENDED
        }
        cards.append(
            AgentCard(
                agent=agent.id,
                name=agent.name,
                team=agent.team,
                figures=values,
                trends=trends,
                answered=int(row.get("answered") or 0),
                surveys=int(row.get("surveys") or 0),
                evaluations=qa.evaluations if qa else 0,
                grading=grade(values, center.grading) if center.grading is not None else None,
            )
        )
    targets = {rule.metric: rule.target for rule in center.grading.rules} if center.grading else {}
    notes = [] if held.adherence else [NO_SCHEDULE]
    if center.grading is None:
        notes.append("no grading rules in the center configuration: no targets, no grades")
    return Scorecard(
        start=start,
        end=end,
        timezone=timezone,
        days=days,
        targets=targets,
        agents=cards,
        team_averages=team_averages(cards),
        notes=notes,
    )


def team_averages(cards: Collection[AgentCard]) -> dict[str, dict[str, float | None]]:
    """Each team's mean of its agents' figures (agents without the figure left out)."""
    teams: dict[str, list[AgentCard]] = {}
    for card in cards:
        teams.setdefault(card.team, []).append(card)
    out: dict[str, dict[str, float | None]] = {}
    for team, members in sorted(teams.items()):
        out[team] = {}
        for metric in METRICS:
            present = [v for c in members if (v := c.figures[metric]) is not None]
            out[team][metric] = round(fmean(present), 6) if present else None
    return out


@dataclass(frozen=True)
class RecentEvaluation:
    """One of an agent's evaluations, as the agent sees it on their own dashboard."""

    id: int
    contact_id: str
    evaluated_at: datetime
    form_id: str
    score: float
    fatal_error: bool
    status: str


def recent_evaluations(
    *, session: Session, agent_id: str, limit: int = 10
) -> list[RecentEvaluation]:
    """The agent's newest evaluations."""
    rows = quality.list_evaluations(session=session, agents=[agent_id], limit=limit)
    return [
        RecentEvaluation(
            id=row.id,
            contact_id=row.contact_id,
            evaluated_at=row.evaluated_at,
            form_id=row.form_id,
            score=row.score,
            fatal_error=row.fatal_error,
            status=row.status,
        )
        for row in rows
    ]


def leaderboard(
    *,
    session: Session,
    center: CenterConfig,
    start: date,
    end: date,
    metric: str,
    level: str = "agent",
    entrants: Collection[str] | None = None,
    minimum_answered: int = 1,
) -> list[Standing]:
    """Agents (or teams, ``level="team"``) ranked on ``metric`` from ``start`` to ``end``
    (local dates, both included), fairly across queue mixes (:mod:`hotline.people.leaderboard`);
    only ``entrants`` (agent or team ids; everyone when ``None``) are ranked, against the
    whole center's queue figures."""
    problem = period_problem(start, end)
    if problem is not None:
        raise ValueError(problem)
    if level not in ("agent", "team"):
        raise ValueError(f"a leaderboard ranks agents or teams, not {level!r}")
    if metric not in RANKABLE:
        raise ValueError(f"a leaderboard ranks on {', '.join(RANKABLE)}, not {metric!r}")
    zone = ZoneInfo(center.center.timezone)
    since = datetime.combine(start, time(), zone).timestamp()
    until = datetime.combine(end + timedelta(days=1), time(), zone).timestamp()
    totals, by_queue, queues = metrics.queue_mix_figures(
        session=session,
        since=since,
        until=until,
        level=level,
        teams=metrics.teams_for_center(center),
        settings=metrics.settings_for_center(center),
        timezone=center.center.timezone,
    )
    mixes: dict[str, dict[str, int]] = {}
    for row in by_queue.to_dicts():
        mixes.setdefault(row[level], {})[row["queue"]] = int(row["answered"])
    names = [a.id for a in center.agents] if level == "agent" else [t.id for t in center.teams]
    chosen = [n for n in names if entrants is None or n in set(entrants)]
    if metric in NORMALISED:
        values = {row[level]: _float(row[metric]) for row in totals.to_dicts()}
        entries = {n: Entry(values.get(n), mixes.get(n, {})) for n in chosen}
        queue_values = {row["queue"]: _float(row[metric]) for row in queues.to_dicts()}
        return standings(
            entries,
            metric=metric,
            queue_values=queue_values,
            minimum_answered=minimum_answered,
        )
    card = scorecard(session=session, center=center, start=start, end=end)
    if level == "agent":
        figures = {c.agent: _card_value(c, metric) for c in card.agents}
    else:
        figures = {}
        for team in chosen:
            present = [
                v
                for c in card.agents
                if c.team == team and (v := _card_value(c, metric)) is not None
            ]
            figures[team] = fmean(present) if present else None
    entries = {n: Entry(figures.get(n), mixes.get(n, {})) for n in chosen}
    return standings(entries, metric=metric, minimum_answered=minimum_answered)


def _card_value(card: AgentCard, metric: str) -> float | None:
    if metric == "score":
        return card.grading.score if card.grading is not None else None
    return card.figures.get(metric)


@dataclass(frozen=True)
class CompetitionStandings:
    """A contest and where it stands: the overall places (place points over its figures)
    and each figure's own leaderboard."""

    competition: Competition
    status: str
    overall: list[ContestStanding]
    boards: dict[str, list[Standing]]


def create_competition(
    *,
    session: Session,
    center: CenterConfig,
    actor: str,
    name: str,
    level: str,
    metrics: Sequence[str],
    start: date,
    end: date,
    teams: Collection[str],
    minimum_answered: int = 1,
) -> Competition:
    """Store a contest between the agents (or teams) of ``teams`` and audit it
    (``people.competition.create``); ``ValidationFailed`` names each field and rule broken."""
    found = contest_problems(
        name=name,
        level=level,
        metrics=metrics,
        start=start,
        end=end,
        teams=teams,
        known_teams=[t.id for t in center.teams],
    )
    period = period_problem(start, end)
    if period is not None:
        found.append(("start", period))
    if not teams:
        found.append(("teams", "name at least one team"))
    if found:
        raise ValidationFailed([Problem(rule, field=where) for where, rule in found])
    row = Competition(
        name=name.strip(),
        level=level,
        metrics=list(metrics),
        start=start,
        end=end,
        teams=sorted(set(teams)),
        minimum_answered=minimum_answered,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="people.competition.create",
        target=str(row.id),
        detail={
            "name": row.name,
            "level": level,
            "metrics": list(metrics),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "teams": row.teams,
        },
    )
    return row


Row = TypeVar("Row", Competition, CoachingTask, TrainingCourse)


def _one(session: Session, model: type[Row], number: int, what: str) -> Row:
    row = session.get(model, number)
    if row is None:
        raise NotFound(f"{what} {number} does not exist")
    return row


def get_competition(*, session: Session, competition_id: int) -> Competition:
    """One contest (``NotFound`` if there is none)."""
    return _one(session, Competition, competition_id, "competition")


def list_competitions(
    *,
    session: Session,
    teams: Collection[str] | None = None,
    ending_from: date | None = None,
    include_withdrawn: bool = False,
) -> list[Competition]:
    """Contests covering any of ``teams`` (every contest when ``None``), ending on or after
    ``ending_from``, newest first."""
    query = select(Competition).order_by(Competition.start.desc(), Competition.id.desc())
    if ending_from is not None:
        query = query.where(Competition.end >= ending_from)
    if not include_withdrawn:
        query = query.where(Competition.withdrawn_at.is_(None))
    rows = list(session.scalars(query))
    if teams is None:
        return rows
    wanted = set(teams)
    return [row for row in rows if wanted & set(row.teams)]


def withdraw_competition(*, session: Session, competition_id: int, actor: str) -> Competition:
    """Withdraw a contest (it leaves the desk and the wallboard; its row and audit trail
    stay), audited as ``people.competition.withdraw``."""
    row = get_competition(session=session, competition_id=competition_id)
    if row.withdrawn_at is not None:
        raise Conflict(f"competition {competition_id} was withdrawn already")
    row.withdrawn_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="people.competition.withdraw",
        target=str(row.id),
        detail={"name": row.name},
    )
    return row


def competition_standings(
    *, session: Session, center: CenterConfig, competition: Competition, today: date
) -> CompetitionStandings:
    """Where ``competition`` stands: each figure's leaderboard between its entrants over the
    contest's period (up to ``today`` while it runs), fairly across queue mixes, and the
    overall places by place points (:func:`hotline.people.competitions.combine`)."""
    teams = set(competition.teams)
    entrants = (
        [a.id for a in center.agents if a.team in teams]
        if competition.level == "agent"
        else [t.id for t in center.teams if t.id in teams]
    )
    status = running(competition.start, competition.end, today)
    end = min(competition.end, max(today, competition.start))
    boards = {
        metric: leaderboard(
            session=session,
            center=center,
            start=competition.start,
            end=end,
            metric=metric,
            level=competition.level,
            entrants=entrants,
            minimum_answered=competition.minimum_answered,
        )
        for metric in competition.metrics
    }
    return CompetitionStandings(
        competition=competition, status=status, overall=combine(boards), boards=boards
    )


def create_coaching(
    *,
    session: Session,
    center: CenterConfig,
    actor: str,
    agent_id: str,
    note: str,
    due: date,
    evaluation_id: int | None = None,
    metric: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> CoachingTask:
    """Store a coaching task for ``agent_id`` due on ``due`` and audit it
    (``people.coaching.create``). With ``evaluation_id`` it comes from that QA evaluation of
    the agent (its score, form and contact kept); with ``metric`` (and the period ``start`` –
    ``end``) from the agent's figure, which is computed here with the team's mean and the
    target, never taken from the caller. ``ValidationFailed`` names each field and rule."""
    agent = next((a for a in center.agents if a.id == agent_id), None)
    found: list[Problem] = []
    if agent is None:
        found.append(Problem(f"no agent {agent_id}", field="agent_id"))
    if not note.strip():
        found.append(Problem("write what the agent should work on", field="note"))
    elif len(note) > MAX_TEXT:
        found.append(Problem(f"at most {MAX_TEXT} characters, not {len(note)}", field="note"))
    if not FIRST_DAY <= due <= LAST_DAY:
        found.append(Problem(f"give a date from {FIRST_DAY} to {LAST_DAY}", field="due"))
    if evaluation_id is not None and metric is not None:
        found.append(Problem("from an evaluation or from a figure, not both", field="metric"))
    if metric is not None and metric not in METRICS:
        found.append(Problem(f"one of {', '.join(METRICS)}, not {metric!r}", field="metric"))
    if metric is not None and (start is None or end is None):
        found.append(Problem("a figure needs its period: start and end", field="start"))
    elif (
        metric is not None
        and start is not None
        and end is not None
        and (problem := period_problem(start, end)) is not None
    ):
        found.append(Problem(problem, field="start"))
    if found or agent is None:
        raise ValidationFailed(found)
    source, detail = "note", {}
    if evaluation_id is not None:
        evaluation = quality.get_evaluation(session=session, evaluation_id=evaluation_id)
        if evaluation.agent_id != agent_id:
            raise ValidationFailed(
                [
                    Problem(
                        f"evaluation {evaluation_id} is of {evaluation.agent_id}, not {agent_id}",
                        field="evaluation_id",
                    )
                ]
            )
        source = "evaluation"
        detail = {
            "evaluation_id": evaluation.id,
            "contact_id": evaluation.contact_id,
            "form_id": evaluation.form_id,
            "score": evaluation.score,
            "fatal_error": evaluation.fatal_error,
        }
    elif metric is not None and start is not None and end is not None:
        team = [a.id for a in center.agents if a.team == agent.team]
        card = scorecard(session=session, center=center, start=start, end=end, agents=team)
        own = next(c for c in card.agents if c.agent == agent_id)
        source = "figure"
        detail = {
            "metric": metric,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "value": own.figures[metric],
            "team_mean": card.team_averages.get(agent.team, {}).get(metric),
            "target": card.targets.get(metric),
        }
    row = CoachingTask(
        agent_id=agent_id,
        team=agent.team,
        note=note.strip(),
        due=due,
        source=source,
        source_detail=detail,
        status="open",
        created_by=actor,
        created_at=utcnow(),
        outcome="",
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="people.coaching.create",
        target=agent_id,
        detail={"task_id": row.id, "source": source, "due": due.isoformat(), **detail},
    )
    return row


def get_coaching(*, session: Session, task_id: int) -> CoachingTask:
    """One coaching task (``NotFound`` if there is none)."""
    return _one(session, CoachingTask, task_id, "coaching task")


def list_coaching(
    *, session: Session, agents: Collection[str] | None = None, include_closed: bool = False
) -> list[CoachingTask]:
    """Coaching tasks of ``agents`` (everyone's when ``None``), soonest due first."""
    query = select(CoachingTask).order_by(CoachingTask.due, CoachingTask.id)
    if agents is not None:
        query = query.where(CoachingTask.agent_id.in_(list(agents)))
    if not include_closed:
        query = query.where(CoachingTask.status != "closed")
    return list(session.scalars(query))


def acknowledge_coaching(
    *, session: Session, task_id: int, actor: str, actor_agent: str | None
) -> CoachingTask:
    """The coached agent acknowledges their task; audited (``people.coaching.acknowledge``).
    ``CoachingRefused`` when it is not theirs or not open."""
    row = get_coaching(session=session, task_id=task_id)
    row.status = transition(row.status, "acknowledge", actor_agent=actor_agent, agent=row.agent_id)
    row.acknowledged_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="people.coaching.acknowledge",
        target=row.agent_id,
        detail={"task_id": row.id},
    )
    return row


def close_coaching(*, session: Session, task_id: int, actor: str, outcome: str) -> CoachingTask:
    """The coach closes an acknowledged task with its outcome; audited
    (``people.coaching.close``). ``CoachingRefused`` when it cannot be closed now."""
    row = get_coaching(session=session, task_id=task_id)
    if len(outcome) > MAX_TEXT:
        raise CoachingRefused(f"outcome: at most {MAX_TEXT} characters, not {len(outcome)}")
    row.status = transition(row.status, "close", outcome=outcome)
    row.closed_by = actor
    row.closed_at = utcnow()
    row.outcome = outcome.strip()
    audit.record(
        session,
        actor=actor,
        action="people.coaching.close",
        target=row.agent_id,
        detail={"task_id": row.id, "outcome": row.outcome},
    )
    return row


def create_course(
    *,
    session: Session,
    center: CenterConfig,
    actor: str,
    name: str,
    skill: str,
    proficiency: int,
    pass_mark: float,
) -> TrainingCourse:
    """Store a course on one of the center's skills and audit it (``people.course.create``);
    ``ValidationFailed`` names each field and rule broken."""
    found = course_problems(
        name=name,
        skill=skill,
        proficiency=proficiency,
        pass_mark=pass_mark,
        skills=[s.id for s in center.skills],
    )
    if found:
        raise ValidationFailed([Problem(rule, field=where) for where, rule in found])
    row = TrainingCourse(
        name=name.strip(),
        skill=skill,
        proficiency=proficiency,
        pass_mark=pass_mark,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="people.course.create",
        target=str(row.id),
        detail={"name": row.name, "skill": skill, "proficiency": proficiency},
    )
    return row


def list_courses(*, session: Session) -> list[TrainingCourse]:
    """Every course, by name."""
    return list(session.scalars(select(TrainingCourse).order_by(TrainingCourse.name)))


def record_exam(
    *,
    session: Session,
    center: CenterConfig,
    actor: str,
    course_id: int,
    agent_id: str,
    score: float,
) -> tuple[TrainingCourse, TrainingResult]:
    """Record ``agent_id``'s exam score on a course and whether it passed, audited
    (``people.training.exam``). Granting the skill on a pass is a change of the center file,
    which the caller makes (``granted`` is set then)."""
    course = _one(session, TrainingCourse, course_id, "course")
    found: list[Problem] = []
    if agent_id not in {a.id for a in center.agents}:
        found.append(Problem(f"no agent {agent_id}", field="agent_id"))
    if not 0 <= score <= 100:
        found.append(Problem(f"from 0 to 100, not {score:g}", field="score"))
    if found:
        raise ValidationFailed(found)
    row = TrainingResult(
        course_id=course.id,
        agent_id=agent_id,
        score=score,
        passed=passed(score, course.pass_mark),
        granted=False,
        recorded_by=actor,
        recorded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="people.training.exam",
        target=agent_id,
        detail={"course_id": course.id, "score": score, "passed": row.passed},
    )
    return course, row


def training_records(
    *, session: Session, agents: Collection[str] | None = None
) -> list[tuple[TrainingResult, TrainingCourse]]:
    """Exam results of ``agents`` (everyone's when ``None``) with their courses, newest first."""
    query = (
        select(TrainingResult, TrainingCourse)
        .join(TrainingCourse, TrainingCourse.id == TrainingResult.course_id)
        .order_by(TrainingResult.recorded_at.desc(), TrainingResult.id.desc())
    )
    if agents is not None:
        query = query.where(TrainingResult.agent_id.in_(list(agents)))
    return [(row[0], row[1]) for row in session.execute(query)]
