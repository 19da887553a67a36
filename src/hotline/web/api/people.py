"""People API: the team scorecard with grades, one agent's card, and the agent's own figures.

``GET /api/people/scorecard`` gives every agent the caller oversees (a team lead: their own
teams; supervisors and managers: the floor) their figures over a period, each figure's target,
daily trends and grade (:mod:`hotline.people.service`); ``?team=`` narrows it to one team, and
a team lead naming another team is refused. ``GET /api/people/agents/{agent_id}`` is one
agent's card, refused outside the caller's scope. ``GET /api/people/me`` is the signed-in
agent's own card, compared with their targets and their team's average, with their recent
evaluations — never anyone else's. ``GET /api/people/leaderboard`` ranks agents or teams on
one figure, on the index against each entrant's queue mix where the figure depends on the
queue (:mod:`hotline.people.leaderboard`). ``/api/people/competitions`` runs contests over
chosen figures and periods between agents or teams (:mod:`hotline.people.competitions`):
team leads between their own teams, managers anywhere; ``/competitions/mine`` is what the
desk shows an agent. ``/api/people/coaching`` keeps coaching tasks from a QA evaluation, a
figure or a note (:mod:`hotline.people.coaching`): the agent acknowledges
(``/coaching/{id}/acknowledge``), the coach closes with the outcome; every step audited.
``/api/people/courses`` and ``/training`` keep courses and exam results
(:mod:`hotline.people.training`); a pass grants the course's routing skill through the center
file (:func:`hotline.web.center_file.grant_skill`, the administrator's path).

Periods are local dates of the center (``start``, ``end``, both included; by default the
last 28 days up to today).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi import Path as Path_
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.identity.roles import Role
from hotline.people import service
from hotline.people.coaching import MAX_TEXT, CoachingRefused, overdue
from hotline.people.competitions import MAX_METRICS, MAX_NAME, running
from hotline.people.grading import Grading, distribution
from hotline.people.leaderboard import NORMALISED, RANKABLE
from hotline.people.training import MAX_NAME as TRAINING_NAME
from hotline.store.models.people import (
    CoachingTask,
    Competition,
    TrainingCourse,
    TrainingResult,
)
from hotline.web.access import current_center, require_agent, scope_of
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles
from hotline.web.center_file import grant_skill

router = APIRouter(prefix="/api/people", tags=["people"])

#: Who reads team scorecards: team leads (their teams), supervisors and managers (the floor).
SCORECARD_READERS = (Role.MANAGER, Role.SUPERVISOR, Role.TEAM_LEAD)
DEFAULT_DAYS = 28


class PartOut(ResponseModel):
    """One figure's part in a grade: value, marks 0..100, share of the weight, points lost."""

    metric: str
    value: Number
    target: Number
    floor: Number
    marks: Number
    weight_share: Number
    points_lost: Number


class GradingOut(ResponseModel):
    """A weighted score 0..100 and grade A–D (``null`` when too few figures were available),
    the figures that cost points (``movers``, costliest first), every part, and the graded
    figures the agent had no value for."""

    score: Number | None
    grade: str | None
    movers: list[str]
    parts: list[PartOut]
    missing: list[str]
    weight_available: Number


class AgentCardOut(ResponseModel):
    """One agent's figures over the period (``null``: not available), daily trends (one value
    per day of ``days``), counts behind them and grade."""

    agent: str
    name: str
    team: str
    figures: dict[str, Number | None]
    trends: dict[str, list[Number | None]]
    answered: int
    surveys: int
    evaluations: int
    grading: GradingOut | None


class ScorecardOut(ResponseModel):
    """A team scorecard: the period, each figure's target, the agents' cards, each team's
    mean, how many agents earned each grade, and what could not be computed."""

    start: date
    end: date
    timezone: str
    days: list[date]
    targets: dict[str, Number]
    agents: list[AgentCardOut]
    team_averages: dict[str, dict[str, Number | None]]
    grades: dict[str, int]
    notes: list[str]


class EvaluationOut(ResponseModel):
    """One of the agent's recent evaluations."""

    id: int
    contact_id: str
    evaluated_at: datetime
    form_id: str
    score: Number
    fatal_error: bool
    status: str


class MyFiguresOut(ResponseModel):
    """The signed-in agent's own card, their targets and their team's average over the period,
    and their recent evaluations."""

    start: date
    end: date
    timezone: str
    days: list[date]
    targets: dict[str, Number]
    card: AgentCardOut
    team_average: dict[str, Number | None]
    evaluations: list[EvaluationOut]
    notes: list[str]


def _grading(result: Grading | None) -> GradingOut | None:
    if result is None:
        return None
    return GradingOut(
        score=result.score,
        grade=result.grade,
        movers=[part.metric for part in result.movers()],
        parts=[PartOut.model_validate(part, from_attributes=True) for part in result.parts],
        missing=list(result.missing),
        weight_available=result.weight_available,
    )


def card_out(card: service.AgentCard) -> AgentCardOut:
    """The response shape of one agent's card."""
    return AgentCardOut(
        agent=card.agent,
        name=card.name,
        team=card.team,
        figures=dict(card.figures),
        trends={k: list(v) for k, v in card.trends.items()},
        answered=card.answered,
        surveys=card.surveys,
        evaluations=card.evaluations,
        grading=_grading(card.grading),
    )


def _center(request: Request) -> CenterConfig:
    center = current_center(request)
    if center is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "no center configuration is loaded: no agents to score"
        )
    return center


def period(center: CenterConfig, start: date | None, end: date | None) -> tuple[date, date]:
    """The asked period, by default the last 28 days up to today (the center's time zone);
    422 with the rule broken when it is not one a scorecard covers."""
    today = datetime.now(ZoneInfo(center.center.timezone)).date()
    last = end or today
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    problem = service.period_problem(first, last)
    if problem is not None:
        raise HTTPException(422, f"start/end: {problem}")
    return first, last


START = Query(None, description="First local date of the period (default: 27 days before end).")
END = Query(None, description="Last local date of the period, included (default: today).")


def _scorecard_out(card: service.Scorecard) -> ScorecardOut:
    return ScorecardOut(
        start=card.start,
        end=card.end,
        timezone=card.timezone,
        days=card.days,
        targets=card.targets,
        agents=[card_out(a) for a in card.agents],
        team_averages=card.team_averages,
        grades=distribution([a.grading.grade if a.grading else None for a in card.agents]),
        notes=card.notes,
    )


@router.get("/scorecard", responses=errors(409, 422))
def scorecard(
    request: Request,
    start: date | None = START,
    end: date | None = END,
    team: str | None = Query(None, max_length=64, description="Only this team's agents."),
    user: CurrentUser = Depends(require_roles(*SCORECARD_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> ScorecardOut:
    """Each agent's figures against target, with trends and grade (a team lead: their teams)."""
    center = _center(request)
    first, last = period(center, start, end)
    scope = scope_of(request, user)
    if team is not None:
        if team not in {t.id for t in center.teams}:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"team {team} does not exist")
        if not scope.covers_team(team):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"team {team} is not one you lead")
    agents = [
        a.id for a in center.agents if scope.covers(a.id) and (team is None or a.team == team)
    ]
    card = service.scorecard(session=session, center=center, start=first, end=last, agents=agents)
    return _scorecard_out(card)


@router.get("/agents/{agent_id}", responses=errors(404, 409, 422))
def agent_card(
    request: Request,
    agent_id: str = Path_(..., max_length=64),
    start: date | None = START,
    end: date | None = END,
    user: CurrentUser = Depends(require_roles(*SCORECARD_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> ScorecardOut:
    """One agent's scorecard (403 outside the caller's teams)."""
    center = _center(request)
    first, last = period(center, start, end)
    require_agent(scope_of(request, user), agent_id)
    if agent_id not in {a.id for a in center.agents}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"agent {agent_id} does not exist")
    card = service.scorecard(
        session=session, center=center, start=first, end=last, agents=[agent_id]
    )
    return _scorecard_out(card)


@router.get("/me", responses=errors(409, 422))
def my_figures(
    request: Request,
    start: date | None = START,
    end: date | None = END,
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(read_session, scope="function"),
) -> MyFiguresOut:
    """My figures against my targets and my team's average, my grade, my recent evaluations."""
    center = _center(request)
    first, last = period(center, start, end)
    mine = next((a for a in center.agents if a.id == user.agent_id), None)
    if mine is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "your account is linked to no agent of the center configuration (users.agent_id)",
        )
    # The team average needs the team's figures; only the mean leaves this function.
    team = [a.id for a in center.agents if a.team == mine.team]
    card = service.scorecard(session=session, center=center, start=first, end=last, agents=team)
    own = next(c for c in card.agents if c.agent == mine.id)
    evaluations = service.recent_evaluations(session=session, agent_id=mine.id)
    return MyFiguresOut(
        start=card.start,
        end=card.end,
        timezone=card.timezone,
        days=card.days,
        targets=card.targets,
        card=card_out(own),
        team_average=card.team_averages.get(mine.team, {}),
        evaluations=[EvaluationOut.model_validate(e, from_attributes=True) for e in evaluations],
        notes=card.notes,
    )


class StandingOut(ResponseModel):
    """One place: the entrant's figure, the center's figure on their queue mix (``expected``)
    and the ratio of the two (``index``) for figures that depend on the queue, and the answered
    contacts behind it."""

    rank: int
    name: str
    value: Number
    expected: Number | None
    index: Number | None
    answered: int


class LeaderboardOut(ResponseModel):
    """Agents or teams ranked on one figure over a period, best first; ``normalised`` says
    whether the rank is on the index against each entrant's queue mix."""

    start: date
    end: date
    metric: str
    level: str
    normalised: bool
    minimum_answered: int
    standings: list[StandingOut]


@router.get("/leaderboard", responses=errors(409, 422))
def leaderboard(
    request: Request,
    metric: str = Query("aht_s", description=f"One of {', '.join(RANKABLE)}."),
    level: str = Query("agent", description="agent or team."),
    start: date | None = START,
    end: date | None = END,
    minimum_answered: int = Query(1, ge=0, le=100_000, description="Fewer contacts: left off."),
    user: CurrentUser = Depends(require_roles(*SCORECARD_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> LeaderboardOut:
    """Agents or teams ranked on a figure, fairly across queue mixes (a team lead: their
    teams' agents, or their teams)."""
    center = _center(request)
    first, last = period(center, start, end)
    if metric not in RANKABLE:
        raise HTTPException(422, f"metric: one of {', '.join(RANKABLE)}, not {metric!r}")
    if level not in ("agent", "team"):
        raise HTTPException(422, f"level: agent or team, not {level!r}")
    scope = scope_of(request, user)
    entrants = (
        [a.id for a in center.agents if scope.covers(a.id)]
        if level == "agent"
        else [t.id for t in center.teams if scope.covers_team(t.id)]
    )
    board = service.leaderboard(
        session=session,
        center=center,
        start=first,
        end=last,
        metric=metric,
        level=level,
        entrants=entrants,
        minimum_answered=minimum_answered,
    )
    return LeaderboardOut(
        start=first,
        end=last,
        metric=metric,
        level=level,
        normalised=metric in NORMALISED,
        minimum_answered=minimum_answered,
        standings=[StandingOut.model_validate(s, from_attributes=True) for s in board],
    )


#: Who runs contests: team leads (between their own teams) and managers.
ORGANISERS = (Role.MANAGER, Role.TEAM_LEAD)


class CompetitionIn(BaseModel):
    """A contest to run: its name, who competes (``agent`` or ``team``), 1–4 figures, the
    period (local dates, both included) and the teams whose agents (or which teams) compete
    (a team lead: only teams they lead; empty: every team the organiser oversees)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=MAX_NAME)
    level: str = Field("agent", max_length=8)
    metrics: list[str] = Field(..., min_length=1, max_length=MAX_METRICS)
    start: date
    end: date
    teams: list[str] = Field(default_factory=list, max_length=200)
    minimum_answered: int = Field(1, ge=0, le=100_000)


class CompetitionOut(ResponseModel):
    """A stored contest and where it stands in time (``upcoming``, ``running``,
    ``finished``; ``withdrawn`` once its organiser withdrew it)."""

    id: int
    name: str
    level: str
    metrics: list[str]
    start: date
    end: date
    teams: list[str]
    minimum_answered: int
    created_by: str
    created_at: datetime
    status: str


class ContestStandingOut(ResponseModel):
    """One overall place: place points over the contest's figures and the rank on each."""

    rank: int
    name: str
    display_name: str
    points: int
    places: dict[str, int]


class CompetitionStandingsOut(ResponseModel):
    """A contest, its overall places (most place points first) and each figure's own
    leaderboard (``normalised``: the figures ranked on the index against the queue mix)."""

    competition: CompetitionOut
    overall: list[ContestStandingOut]
    boards: dict[str, list[StandingOut]]
    normalised: list[str]


def competition_out(row: Competition, today: date) -> CompetitionOut:
    """The response shape of a stored contest."""
    return CompetitionOut(
        id=row.id,
        name=row.name,
        level=row.level,
        metrics=list(row.metrics),
        start=row.start,
        end=row.end,
        teams=list(row.teams),
        minimum_answered=row.minimum_answered,
        created_by=row.created_by,
        created_at=row.created_at,
        status="withdrawn" if row.withdrawn_at else running(row.start, row.end, today),
    )


def standings_out(
    center: CenterConfig, result: service.CompetitionStandings, today: date
) -> CompetitionStandingsOut:
    """The response shape of a contest's standings, entrants named as the center names them."""
    names = {a.id: a.name for a in center.agents} | {t.id: t.name or t.id for t in center.teams}
    return CompetitionStandingsOut(
        competition=competition_out(result.competition, today),
        overall=[
            ContestStandingOut(
                rank=s.rank,
                name=s.name,
                display_name=names.get(s.name, s.name),
                points=s.points,
                places=dict(s.places),
            )
            for s in result.overall
        ],
        boards={
            metric: [StandingOut.model_validate(s, from_attributes=True) for s in board]
            for metric, board in result.boards.items()
        },
        normalised=[m for m in result.boards if m in NORMALISED],
    )


def today_of(center: CenterConfig) -> date:
    """Today in the center's time zone."""
    return datetime.now(ZoneInfo(center.center.timezone)).date()


def visible_teams(request: Request, user: CurrentUser, center: CenterConfig) -> list[str] | None:
    """The teams whose contests the caller sees (``None``: every contest)."""
    scope = scope_of(request, user)
    if scope.everyone:
        return None
    return [t.id for t in center.teams if scope.covers_team(t.id)]


@router.post("/competitions", status_code=201, responses=errors(403, 409, 422))
def create_competition(
    body: CompetitionIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*ORGANISERS)),
    session: Session = Depends(db_session, scope="function"),
) -> CompetitionOut:
    """Run a contest between agents or teams over chosen figures (a team lead: between
    their own teams only); audited."""
    center = _center(request)
    scope = scope_of(request, user)
    teams = body.teams or [t.id for t in center.teams if scope.covers_team(t.id)]
    known = {t.id for t in center.teams}
    foreign = sorted(t for t in teams if t in known and not scope.covers_team(t))
    if foreign:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"teams: {', '.join(foreign)} is not a team you lead"
        )
    row = service.create_competition(
        session=session,
        center=center,
        actor=user.username,
        name=body.name,
        level=body.level,
        metrics=body.metrics,
        start=body.start,
        end=body.end,
        teams=teams,
        minimum_answered=body.minimum_answered,
    )
    return competition_out(row, today_of(center))


@router.get("/competitions", responses=errors(409, 422))
def list_competitions(
    request: Request,
    finished: bool = Query(False, description="Also contests that ended over 30 days ago."),
    user: CurrentUser = Depends(require_roles(*SCORECARD_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> list[CompetitionOut]:
    """The contests covering the caller's teams (supervisors and managers: every contest),
    newest first."""
    center = _center(request)
    today = today_of(center)
    rows = service.list_competitions(
        session=session,
        teams=visible_teams(request, user, center),
        ending_from=None if finished else today - timedelta(days=30),
    )
    return [competition_out(row, today) for row in rows]


@router.get("/competitions/mine", responses=errors(409))
def my_competitions(
    request: Request,
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(read_session, scope="function"),
) -> list[CompetitionStandingsOut]:
    """The running contests the signed-in agent (or their team) competes in, with standings."""
    center = _center(request)
    mine = next((a for a in center.agents if a.id == user.agent_id), None)
    if mine is None:
        return []
    return running_standings(session=session, center=center, teams=[mine.team])


def running_standings(
    *, session: Session, center: CenterConfig, teams: list[str] | None
) -> list[CompetitionStandingsOut]:
    """The standings of every running contest covering any of ``teams`` (every running
    contest when ``None``): what the desk and the wallboard show."""
    today = today_of(center)
    rows = service.list_competitions(session=session, teams=teams, ending_from=today)
    return [
        standings_out(
            center,
            service.competition_standings(
                session=session, center=center, competition=row, today=today
            ),
            today,
        )
        for row in rows
        if row.start <= today
    ]


@router.get("/competitions/{competition_id}", responses=errors(404, 409, 422))
def competition_standings(
    request: Request,
    competition_id: int = Path_(..., ge=1, le=2**62),
    user: CurrentUser = Depends(require_roles(*SCORECARD_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> CompetitionStandingsOut:
    """A contest's overall places and each figure's leaderboard (404 for a contest outside
    the caller's teams, as for one that does not exist)."""
    center = _center(request)
    row = _visible(request, user, center, session, competition_id)
    today = today_of(center)
    result = service.competition_standings(
        session=session, center=center, competition=row, today=today
    )
    return standings_out(center, result, today)


def _visible(
    request: Request, user: CurrentUser, center: CenterConfig, session: Session, number: int
) -> Competition:
    row = service.get_competition(session=session, competition_id=number)
    teams = visible_teams(request, user, center)
    if teams is not None and not set(teams) & set(row.teams):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"competition {number} does not exist")
    return row


@router.delete("/competitions/{competition_id}", responses=errors(403, 404, 409, 422))
def withdraw_competition(
    request: Request,
    competition_id: int = Path_(..., ge=1, le=2**62),
    user: CurrentUser = Depends(require_roles(*ORGANISERS)),
    session: Session = Depends(db_session, scope="function"),
) -> CompetitionOut:
    """Withdraw a contest (a team lead: only one between teams they all lead); audited."""
    center = _center(request)
    row = _visible(request, user, center, session, competition_id)
    scope = scope_of(request, user)
    foreign = sorted(t for t in row.teams if not scope.covers_team(t))
    if foreign:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"competition {competition_id} also covers {', '.join(foreign)}: not teams you lead",
        )
    row = service.withdraw_competition(
        session=session, competition_id=competition_id, actor=user.username
    )
    return competition_out(row, today_of(center))


#: Who coaches: team leads (their teams' agents), QA evaluators, supervisors and managers.
COACHES = (Role.MANAGER, Role.SUPERVISOR, Role.TEAM_LEAD, Role.QA)


class CoachingIn(BaseModel):
    """A coaching task for one agent, due on ``due``: from a QA evaluation of theirs
    (``evaluation_id``), from one of their figures over a period (``metric``, ``start``,
    ``end``: the server computes the figure), or from the coach's own note (neither)."""

    model_config = ConfigDict(extra="forbid")

    agent_id: str = Field(..., max_length=64)
    note: str = Field(..., max_length=MAX_TEXT)
    due: date
    evaluation_id: int | None = Field(None, ge=1, le=2**62)
    metric: str | None = Field(None, max_length=32)
    start: date | None = None
    end: date | None = None


class CoachingCloseIn(BaseModel):
    """What came of the coaching."""

    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(..., max_length=MAX_TEXT)


class CoachingOut(ResponseModel):
    """A coaching task: for whom, what, by when, where it came from (``source_detail``: the
    evaluation's score and form, or the figure with the team's mean and the target), and how
    far it got (``open`` → ``acknowledged`` by the agent → ``closed`` by the coach with an
    outcome; ``overdue`` past its due date and not closed)."""

    id: int
    agent_id: str
    agent_name: str
    team: str
    note: str
    due: date
    source: str
    source_detail: dict[str, str | Number | bool | None]
    status: str
    overdue: bool
    created_by: str
    created_at: datetime
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    outcome: str


def coaching_out(center: CenterConfig, row: CoachingTask) -> CoachingOut:
    """The response shape of a coaching task."""
    names = {a.id: a.name for a in center.agents}
    return CoachingOut(
        id=row.id,
        agent_id=row.agent_id,
        agent_name=names.get(row.agent_id, row.agent_id),
        team=row.team,
        note=row.note,
        due=row.due,
        source=row.source,
        source_detail=dict(row.source_detail),
        status=row.status,
        overdue=overdue(row.status, row.due, today_of(center)),
        created_by=row.created_by,
        created_at=row.created_at,
        acknowledged_at=row.acknowledged_at,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
        outcome=row.outcome,
    )


def _refused(error: CoachingRefused) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(error))


@router.post("/coaching", status_code=201, responses=errors(403, 404, 409, 422))
def create_coaching(
    body: CoachingIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*COACHES)),
    session: Session = Depends(db_session, scope="function"),
) -> CoachingOut:
    """Coach an agent (a team lead: their teams' agents) from an evaluation, a figure or a
    note, with a due date; audited."""
    center = _center(request)
    require_agent(scope_of(request, user), body.agent_id)
    row = service.create_coaching(
        session=session,
        center=center,
        actor=user.username,
        agent_id=body.agent_id,
        note=body.note,
        due=body.due,
        evaluation_id=body.evaluation_id,
        metric=body.metric,
        start=body.start,
        end=body.end,
    )
    return coaching_out(center, row)


@router.get("/coaching", responses=errors(409, 422))
def list_coaching(
    request: Request,
    closed: bool = Query(False, description="Also closed tasks."),
    user: CurrentUser = Depends(require_roles(*COACHES)),
    session: Session = Depends(read_session, scope="function"),
) -> list[CoachingOut]:
    """The coaching tasks of the caller's agents (a team lead: their teams'), soonest due
    first."""
    center = _center(request)
    scope = scope_of(request, user)
    agents = None if scope.everyone else [a.id for a in center.agents if scope.covers(a.id)]
    rows = service.list_coaching(session=session, agents=agents, include_closed=closed)
    return [coaching_out(center, row) for row in rows]


@router.get("/coaching/mine", responses=errors(409, 422))
def my_coaching(
    request: Request,
    closed: bool = Query(False, description="Also closed tasks."),
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(read_session, scope="function"),
) -> list[CoachingOut]:
    """The signed-in agent's own coaching tasks."""
    center = _center(request)
    if not user.agent_id:
        return []
    rows = service.list_coaching(session=session, agents=[user.agent_id], include_closed=closed)
    return [coaching_out(center, row) for row in rows]


@router.post("/coaching/{task_id}/acknowledge", responses=errors(403, 404, 409, 422))
def acknowledge_coaching(
    request: Request,
    task_id: int = Path_(..., ge=1, le=2**62),
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(db_session, scope="function"),
) -> CoachingOut:
    """The coached agent acknowledges their own task; audited."""
    center = _center(request)
    task = service.get_coaching(session=session, task_id=task_id)
    if task.agent_id != user.agent_id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"coaching task {task_id} is not yours to acknowledge"
        )
    try:
        row = service.acknowledge_coaching(
            session=session, task_id=task_id, actor=user.username, actor_agent=user.agent_id
        )
    except CoachingRefused as refused:
        raise _refused(refused) from None
    return coaching_out(center, row)


@router.post("/coaching/{task_id}/close", responses=errors(403, 404, 409, 422))
def close_coaching(
    body: CoachingCloseIn,
    request: Request,
    task_id: int = Path_(..., ge=1, le=2**62),
    user: CurrentUser = Depends(require_roles(*COACHES)),
    session: Session = Depends(db_session, scope="function"),
) -> CoachingOut:
    """The coach closes an acknowledged task with its outcome (a team lead: their teams'
    agents' tasks); audited."""
    center = _center(request)
    task = service.get_coaching(session=session, task_id=task_id)
    require_agent(scope_of(request, user), task.agent_id)
    try:
        row = service.close_coaching(
            session=session, task_id=task_id, actor=user.username, outcome=body.outcome
        )
    except CoachingRefused as refused:
        raise _refused(refused) from None
    return coaching_out(center, row)


#: Who records exam results: team leads (their teams' agents), supervisors and managers.
TRAINERS = (Role.MANAGER, Role.SUPERVISOR, Role.TEAM_LEAD)


class CourseIn(BaseModel):
    """A course teaching one of the center's skills to a proficiency (1–5), ending in an exam
    passed at ``pass_mark`` (0–100)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=TRAINING_NAME)
    skill: str = Field(..., max_length=64)
    proficiency: int = Field(..., ge=-1000, le=1000)
    pass_mark: float = Field(..., ge=-1000, le=1000)


class CourseOut(ResponseModel):
    """A course: the skill and proficiency a pass grants, and the pass mark."""

    id: int
    name: str
    skill: str
    proficiency: int
    pass_mark: Number
    created_by: str
    created_at: datetime


class ExamIn(BaseModel):
    """An agent's exam score (0–100) on a course."""

    model_config = ConfigDict(extra="forbid")

    agent_id: str = Field(..., max_length=64)
    score: float = Field(..., ge=-1000, le=1000)


class TrainingRecordOut(ResponseModel):
    """One exam result: the course, the score against the pass mark, whether it passed, and
    whether passing raised the agent's routing skill (``granted``: false when they already
    held it at that level or higher)."""

    id: int
    agent_id: str
    agent_name: str
    course_id: int
    course: str
    skill: str
    proficiency: int
    pass_mark: Number
    score: Number
    passed: bool
    granted: bool
    recorded_by: str
    recorded_at: datetime


def _course_out(row: TrainingCourse) -> CourseOut:
    return CourseOut.model_validate(row, from_attributes=True)


def record_out(
    center: CenterConfig, result: TrainingResult, course: TrainingCourse
) -> TrainingRecordOut:
    """The response shape of one exam result."""
    names = {a.id: a.name for a in center.agents}
    return TrainingRecordOut(
        id=result.id,
        agent_id=result.agent_id,
        agent_name=names.get(result.agent_id, result.agent_id),
        course_id=course.id,
        course=course.name,
        skill=course.skill,
        proficiency=course.proficiency,
        pass_mark=course.pass_mark,
        score=result.score,
        passed=result.passed,
        granted=result.granted,
        recorded_by=result.recorded_by,
        recorded_at=result.recorded_at,
    )


@router.post("/courses", status_code=201, responses=errors(409, 422))
def create_course(
    body: CourseIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(Role.MANAGER)),
    session: Session = Depends(db_session, scope="function"),
) -> CourseOut:
    """Set up a course on one of the center's skills (managers: a pass changes routing);
    audited."""
    center = _center(request)
    row = service.create_course(
        session=session,
        center=center,
        actor=user.username,
        name=body.name,
        skill=body.skill,
        proficiency=body.proficiency,
        pass_mark=body.pass_mark,
    )
    return _course_out(row)


@router.get("/courses", responses=errors())
def list_courses(
    user: CurrentUser = Depends(require_roles(*TRAINERS)),
    session: Session = Depends(read_session, scope="function"),
) -> list[CourseOut]:
    """Every course, by name."""
    return [_course_out(row) for row in service.list_courses(session=session)]


@router.post("/courses/{course_id}/results", status_code=201, responses=errors(403, 404, 409, 422))
def record_exam(
    body: ExamIn,
    request: Request,
    course_id: int = Path_(..., ge=1, le=2**62),
    user: CurrentUser = Depends(require_roles(*TRAINERS)),
    session: Session = Depends(db_session, scope="function"),
) -> TrainingRecordOut:
    """Record an agent's exam (a team lead: their teams' agents); a pass grants the course's
    skill at its proficiency through the center file, as an administrator's skill edit does,
    and the live engine routes with it from the agent's next free moment. Audited."""
    center = _center(request)
    require_agent(scope_of(request, user), body.agent_id)
    course, row = service.record_exam(
        session=session,
        center=center,
        actor=user.username,
        course_id=course_id,
        agent_id=body.agent_id,
        score=body.score,
    )
    if row.passed:
        row.granted = grant_skill(
            request,
            session,
            actor=user.username,
            agent_id=body.agent_id,
            skill=course.skill,
            proficiency=course.proficiency,
            detail={"course_id": course.id, "result_id": row.id},
        )
    return record_out(center, row, course)


@router.get("/training", responses=errors(409))
def training_records(
    request: Request,
    user: CurrentUser = Depends(require_roles(*TRAINERS)),
    session: Session = Depends(read_session, scope="function"),
) -> list[TrainingRecordOut]:
    """Exam results of the caller's agents (a team lead: their teams'), newest first."""
    center = _center(request)
    scope = scope_of(request, user)
    agents = None if scope.everyone else [a.id for a in center.agents if scope.covers(a.id)]
    rows = service.training_records(session=session, agents=agents)
    return [record_out(center, result, course) for result, course in rows]


@router.get("/training/mine", responses=errors(409))
def my_training(
    request: Request,
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(read_session, scope="function"),
) -> list[TrainingRecordOut]:
    """The signed-in agent's own exam results and certifications."""
    center = _center(request)
    if not user.agent_id:
        return []
    rows = service.training_records(session=session, agents=[user.agent_id])
    return [record_out(center, result, course) for result, course in rows]
