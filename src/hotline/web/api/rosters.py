"""Rosters API: draft, edit and publish rosters; agents read their own schedule; the floor
reads adherence, attendance and shrinkage against the roster in force.

A planner (``wfm``, ``manager``, ``supervisor``) saves shifts — the solver's answer of
``POST /api/wfm/schedule`` or shifts made by hand — as a draft roster for a period
(``POST /api/wfm/rosters``), replaces a draft's shifts (``PUT …/{id}/shifts``) and publishes
it (``POST …/{id}/publish``); every save is checked against the roster's labour rules and
refused (422) with each broken rule located at its shift. Times are the center's local
clock: a shift whose ``end`` is not after its ``start`` ends the next day.

``GET /api/wfm/me/schedule`` is the signed-in agent's own published shifts, next shift and
next break. ``GET /api/wfm/adherence/day`` is one day's adherence per agent, attendance per
shift and shrinkage by reason code against the plan's assumption; a team lead sees their
own teams' agents only.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi import Path as Path_
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig
from hotline.core.errors import Problem, ValidationFailed
from hotline.identity.roles import Role
from hotline.people import schedules
from hotline.web.access import current_center, scope_of
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.api.wfm import PLANNERS
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles
from hotline.wfm import service
from hotline.wfm.roster import RosterBreak, RosterShift, ShiftRules

router = APIRouter(prefix="/api/wfm", tags=["wfm"])

#: Who reads the day's adherence: planners, and team leads for their own teams.
ADHERENCE_READERS = (*PLANNERS, Role.TEAM_LEAD)
#: The most shifts one roster holds (a month of a 150-seat center).
MAX_SHIFTS = 5000
MAX_ID = 2**62
ClockTime = Annotated[
    str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, local time.")
]


class BreakIn(BaseModel):
    """A break inside a shift; a time before the shift's start falls on the next day."""

    start: ClockTime
    end: ClockTime
    kind: Literal["break", "lunch"] = "break"


class ShiftIn(BaseModel):
    """One agent's shift on ``date`` (local), on ``skill``, with its breaks."""

    agent: str = Field(min_length=1, max_length=64)
    date: date
    start: ClockTime
    end: ClockTime
    skill: str = Field("default", min_length=1, max_length=64)
    breaks: list[BreakIn] = Field(default_factory=list, max_length=8)


class RulesIn(BaseModel):
    """The labour rules a roster's shifts keep (defaults: 4–10 h shifts, 40 h a week, 11 h
    rest, 30 min of breaks in a shift over 6 h)."""

    min_shift_hours: float = Field(4.0, ge=0, le=24)
    max_shift_hours: float = Field(10.0, gt=0, le=24)
    max_week_hours: float = Field(40.0, gt=0, le=168)
    min_rest_hours: float = Field(11.0, ge=0, le=48)
    break_after_hours: float = Field(6.0, ge=0, le=24)
    min_break_minutes: float = Field(30.0, ge=0, le=240)


class RosterIn(BaseModel):
    """A draft roster: its name, period (local dates, both included), the share of paid time
    the plan assumed lost (shrinkage), its rules and its shifts."""

    name: str = Field(min_length=1, max_length=120)
    period_start: date
    period_end: date
    shrinkage: float = Field(0.3, ge=0, lt=1)
    rules: RulesIn = Field(default_factory=RulesIn)
    shifts: list[ShiftIn] = Field(max_length=MAX_SHIFTS)


class ShiftsIn(BaseModel):
    """A draft roster's new shifts, replacing all of its shifts."""

    shifts: list[ShiftIn] = Field(max_length=MAX_SHIFTS)


class BreakOut(ResponseModel):
    """A break: local clock times and its kind (``break`` paid, ``lunch`` unpaid)."""

    start: str
    end: str
    kind: str


class RosterShiftOut(ResponseModel):
    """One shift: its id (what a swap or leave request names), the agent, the local date it
    starts on, clock times, skill, breaks and the hours paid."""

    id: int | None
    agent: str
    date: str = Field(description="ISO 8601 date.")
    start: str
    end: str
    starts_at: datetime
    ends_at: datetime
    skill: str
    breaks: list[BreakOut]
    paid_hours: Number


class RulesOut(ResponseModel):
    """The labour rules a roster keeps."""

    min_shift_hours: Number
    max_shift_hours: Number
    max_week_hours: Number
    min_rest_hours: Number
    break_after_hours: Number
    min_break_minutes: Number


class RosterOut(ResponseModel):
    """A roster: draft, published (in force for its period) or superseded, with its shifts
    (empty in lists)."""

    id: int
    name: str
    period_start: date
    period_end: date
    status: str
    shrinkage: Number
    rules: RulesOut
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None
    shifts: list[RosterShiftOut]


class RosterListOut(ResponseModel):
    """The newest rosters first (without their shifts)."""

    rosters: list[RosterOut]


class PublishedOut(ResponseModel):
    """The roster now in force and the rosters it superseded."""

    roster: RosterOut
    superseded: list[int]


class MyScheduleOut(ResponseModel):
    """The agent's own published shifts from ``start`` for ``days`` days, the next shift (or
    the one under way) and the next break, in the center's time zone."""

    agent: str
    timezone: str
    shifts: list[RosterShiftOut]
    next_shift: RosterShiftOut | None
    next_break: BreakOut | None


class AttendanceOut(ResponseModel):
    """How an agent kept one shift so far: late, absent, left early (minutes)."""

    agent: str
    start: str
    end: str
    started: bool
    absent: bool
    late_minutes: Number
    early_leave_minutes: Number


class AgentAdherenceOut(ResponseModel):
    """One agent's adherence and conformance over the scheduled time passed."""

    agent: str
    name: str
    team: str
    scheduled_minutes: Number
    adherent_minutes: Number
    adherence: Number | None
    conformance: Number | None


class ExceptionOut(ResponseModel):
    """A stretch longer than the grace period in which the agent was out of adherence."""

    agent: str
    start: str
    end: str
    scheduled: str
    actual: str
    minutes: Number


class ShrinkageOut(ResponseModel):
    """Scheduled phone time lost, in total and per reason code (``absence``: logged out),
    as shares, beside the plan's assumed shrinkage."""

    scheduled_minutes: Number
    measured: Number | None
    assumed: Number
    by_reason: dict[str, Number]
    lost_minutes: dict[str, Number]


class DayAdherenceOut(ResponseModel):
    """One local day against the published roster, up to now."""

    date: str = Field(description="ISO 8601 date.")
    timezone: str
    agents: list[AgentAdherenceOut]
    attendance: list[AttendanceOut]
    exceptions: list[ExceptionOut]
    shrinkage: ShrinkageOut | None


def _center(request: Request) -> CenterConfig:
    center = current_center(request)
    if center is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "no center configuration is loaded")
    return center


def _my_agent(center: CenterConfig, user: CurrentUser) -> str:
    """The signed-in user's agent id; 404 when they are not an agent of the center."""
    if user.agent_id is None or not any(a.id == user.agent_id for a in center.agents):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "you are not an agent of this center")
    return user.agent_id


def _at(day: date, clock: str, zone: ZoneInfo, *, after: datetime | None = None) -> datetime:
    """``clock`` on ``day`` in ``zone``; on the next day when not after ``after``."""
    moment = datetime.combine(day, time.fromisoformat(clock), zone)
    if after is not None and moment <= after:
        moment = datetime.combine(day + timedelta(days=1), time.fromisoformat(clock), zone)
    return moment


def _shifts(center: CenterConfig, shifts: list[ShiftIn]) -> list[RosterShift]:
    """The request's shifts as roster shifts; unknown agents and skills refused, located."""
    zone = ZoneInfo(center.center.timezone)
    agents = {a.id: a for a in center.agents}
    problems = []
    out = []
    for i, s in enumerate(shifts):
        agent = agents.get(s.agent)
        if agent is None:
            problems.append(
                Problem(rule=f"no agent {s.agent!r} in the center", field=f"shifts[{i}].agent")
            )
        elif s.skill != "default" and s.skill not in agent.skills:
            problems.append(
                Problem(
                    rule=f"agent {s.agent} has no skill {s.skill!r} "
                    f"(has {', '.join(sorted(agent.skills)) or 'none'})",
                    field=f"shifts[{i}].skill",
                )
            )
        start = _at(s.date, s.start, zone)
        end = _at(s.date, s.end, zone, after=start)
        breaks = []
        for b in s.breaks:
            b0 = _at(s.date, b.start, zone)
            if b0 < start:
                b0 = _at(s.date + timedelta(days=1), b.start, zone)
            breaks.append(RosterBreak(b0, _at(b0.date(), b.end, zone, after=b0), b.kind))
        out.append(RosterShift(s.agent, start, end, s.skill, tuple(breaks)))
    if problems:
        raise ValidationFailed(problems)
    return out


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def _break_out(brk: RosterBreak) -> BreakOut:
    return BreakOut(start=_clock(brk.start), end=_clock(brk.end), kind=brk.kind)


def _shift_out(shift: RosterShift) -> RosterShiftOut:
    return RosterShiftOut(
        id=shift.shift_id,
        agent=shift.agent_id,
        date=shift.start.date().isoformat(),
        start=_clock(shift.start),
        end=_clock(shift.end),
        starts_at=shift.start,
        ends_at=shift.end,
        skill=shift.skill,
        breaks=[_break_out(b) for b in sorted(shift.breaks, key=lambda b: b.start)],
        paid_hours=round(shift.paid_hours, 2),
    )


def _roster_out(view: service.RosterView) -> RosterOut:
    return RosterOut(
        id=view.id,
        name=view.name,
        period_start=view.period_start,
        period_end=view.period_end,
        status=view.status,
        shrinkage=view.shrinkage,
        rules=RulesOut(**asdict(view.rules)),
        created_by=view.created_by,
        created_at=view.created_at,
        published_by=view.published_by,
        published_at=view.published_at,
        shifts=[_shift_out(s) for s in view.shifts],
    )


RosterId = Annotated[int, Path_(ge=1, le=MAX_ID)]


@router.get("/rosters", responses=errors())
def rosters(
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> RosterListOut:
    """The newest rosters first: drafts, the ones in force and those superseded."""
    return RosterListOut(rosters=[_roster_out(r) for r in service.list_rosters(session=session)])


@router.post("/rosters", status_code=201, responses=errors(409, 422))
def create_roster(
    body: RosterIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(db_session, scope="function"),
) -> RosterOut:
    """Save shifts as a draft roster; 422 with every broken rule located at its shift."""
    center = _center(request)
    view = service.create_roster(
        session=session,
        name=body.name,
        period_start=body.period_start,
        period_end=body.period_end,
        shifts=_shifts(center, body.shifts),
        rules=ShiftRules(**body.rules.model_dump()),
        shrinkage=body.shrinkage,
        timezone=center.center.timezone,
        actor=user.username,
    )
    return _roster_out(view)


@router.get("/rosters/{roster_id}", responses=errors(404, 409, 422))
def roster(
    request: Request,
    roster_id: RosterId,
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> RosterOut:
    """One roster with its shifts."""
    view = service.get_roster(
        session=session, roster_id=roster_id, timezone=_center(request).center.timezone
    )
    return _roster_out(view)


@router.put("/rosters/{roster_id}/shifts", responses=errors(404, 409, 422))
def edit_roster(
    body: ShiftsIn,
    request: Request,
    roster_id: RosterId,
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(db_session, scope="function"),
) -> RosterOut:
    """Replace a draft's shifts (409 once published); 422 with each broken rule located."""
    center = _center(request)
    view = service.replace_shifts(
        session=session,
        roster_id=roster_id,
        shifts=_shifts(center, body.shifts),
        timezone=center.center.timezone,
        actor=user.username,
    )
    return _roster_out(view)


@router.post("/rosters/{roster_id}/publish", responses=errors(404, 409, 422))
def publish_roster(
    request: Request,
    roster_id: RosterId,
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(db_session, scope="function"),
) -> PublishedOut:
    """Put a draft in force for its period, superseding the published rosters it overlaps."""
    timezone = _center(request).center.timezone
    superseded = service.publish(
        session=session, roster_id=roster_id, timezone=timezone, actor=user.username
    )
    view = service.get_roster(session=session, roster_id=roster_id, timezone=timezone)
    return PublishedOut(roster=_roster_out(view), superseded=superseded)


def my_schedule(
    *, session: Session, center: CenterConfig, agent_id: str, start: date, days: int, now: datetime
) -> MyScheduleOut:
    """The agent's published shifts from ``start`` for ``days`` days, with what comes next."""
    zone = ZoneInfo(center.center.timezone)
    since = datetime.combine(start, time(), zone)
    published = service.published_shifts(
        session=session,
        since=since,
        until=since + timedelta(days=days),
        timezone=center.center.timezone,
        agents=[agent_id],
    )
    upcoming = service.published_shifts(
        session=session,
        since=now,
        until=now + timedelta(days=31),
        timezone=center.center.timezone,
        agents=[agent_id],
    ).shifts
    next_shift = upcoming[0] if upcoming else None
    breaks = sorted(
        (b for s in upcoming for b in s.breaks if b.start >= now), key=lambda b: b.start
    )
    return MyScheduleOut(
        agent=agent_id,
        timezone=center.center.timezone,
        shifts=[_shift_out(s) for s in published.shifts],
        next_shift=_shift_out(next_shift) if next_shift else None,
        next_break=_break_out(breaks[0]) if breaks else None,
    )


@router.get("/me/schedule", responses=errors(404, 409, 422))
def my_schedule_route(
    request: Request,
    start: date | None = Query(None, description="first local day (default: today)"),
    days: int = Query(14, ge=1, le=62),
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(read_session, scope="function"),
) -> MyScheduleOut:
    """My published shifts, my next shift and my next break."""
    center = _center(request)
    agent_id = _my_agent(center, user)
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(center.center.timezone)).date()
    return my_schedule(
        session=session,
        center=center,
        agent_id=agent_id,
        start=start or today,
        days=days,
        now=now,
    )


@router.get("/adherence/day", responses=errors(409, 422))
def day_adherence(
    request: Request,
    day: date | None = Query(None, description="local day (default: today)"),
    team: str | None = Query(None, max_length=64),
    site: str | None = Query(
        None, min_length=1, max_length=64, description="one site's agents (default: all)"
    ),
    user: CurrentUser = Depends(require_roles(*ADHERENCE_READERS)),
    session: Session = Depends(read_session, scope="function"),
) -> DayAdherenceOut:
    """One day's adherence per agent, attendance per shift and shrinkage by reason code
    against the roster in force, as far as the day has come; with ``site``, of that site's
    agents (their own site, else their team's)."""
    center = _center(request)
    zone = ZoneInfo(center.center.timezone)
    now = datetime.now(UTC)
    day = day or now.astimezone(zone).date()
    scope = scope_of(request, user)
    if team is not None and not scope.covers_team(team):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"team {team} is not one you lead")
    here: set[str] | None = None
    if site is not None:
        try:
            here = center.site_members(site)[1]
        except ValueError as unknown:
            raise ValidationFailed([Problem(rule=str(unknown), field="site")]) from None
    people = [
        a.id
        for a in center.agents
        if scope.covers(a.id)
        and (team is None or a.team == team)
        and (here is None or a.id in here)
    ]
    since = datetime.combine(day, time(), zone)
    return day_figures(
        session=session,
        center=center,
        agents=people,
        since=since,
        until=since + timedelta(days=1),
        now=now,
    )


def day_figures(
    *,
    session: Session,
    center: CenterConfig,
    agents: list[str],
    since: datetime,
    until: datetime,
    now: datetime,
) -> DayAdherenceOut:
    """The day's figures of ``agents`` (center agents) as the API answers them."""
    zone = ZoneInfo(center.center.timezone)
    known = {a.id: a for a in center.agents}
    held = schedules.schedule_figures(
        session=session,
        since=since,
        until=until,
        now=now,
        timezone=center.center.timezone,
        agents=agents,
    )

    def local(at: float) -> str:
        return datetime.fromtimestamp(at, zone).strftime("%H:%M")

    shrink = held.shrinkage
    return DayAdherenceOut(
        date=since.date().isoformat(),
        timezone=center.center.timezone,
        agents=[
            AgentAdherenceOut(
                agent=agent,
                name=known[agent].name if agent in known else agent,
                team=known[agent].team if agent in known else "",
                scheduled_minutes=round(f.scheduled_minutes, 1),
                adherent_minutes=round(f.adherent_minutes, 1),
                adherence=None if f.adherence is None else round(f.adherence, 4),
                conformance=None if f.conformance is None else round(f.conformance, 4),
            )
            for agent, f in sorted(held.adherence.items())
        ],
        attendance=[
            AttendanceOut(
                agent=a.agent_id,
                start=a.shift_start.astimezone(zone).strftime("%H:%M"),
                end=a.shift_end.astimezone(zone).strftime("%H:%M"),
                started=a.started,
                absent=a.absent,
                late_minutes=round(a.late_minutes, 1),
                early_leave_minutes=round(a.early_leave_minutes, 1),
            )
            for a in held.attendance
        ],
        exceptions=[
            ExceptionOut(
                agent=e.agent_id,
                start=local(e.start),
                end=local(e.end),
                scheduled=e.scheduled,
                actual=e.actual,
                minutes=round(e.minutes, 1),
            )
            for e in held.exceptions
        ],
        shrinkage=None
        if shrink is None
        else ShrinkageOut(
            scheduled_minutes=round(shrink.scheduled_minutes, 1),
            measured=None if shrink.total is None else round(shrink.total, 4),
            assumed=shrink.assumed,
            by_reason={k: round(v, 4) for k, v in shrink.by_reason().items()},
            lost_minutes={k: round(v, 1) for k, v in shrink.lost_minutes.items()},
        ),
    )


# --------------------------------------------------------------------------- swap and leave


class ChangeRequestIn(BaseModel):
    """A leave request for one of my published shifts, or a swap of it with a colleague's."""

    kind: Literal["leave", "swap"]
    shift_id: int = Field(ge=1, le=MAX_ID)
    other_shift_id: int | None = Field(None, ge=1, le=MAX_ID)
    reason: str = Field("", max_length=500)


class DecisionIn(BaseModel):
    """A planner's decision on a request, with a note for the agent."""

    approve: bool
    note: str = Field("", max_length=500)


class ChangeRequestOut(ResponseModel):
    """A swap or leave request, the shifts it named (as they were when asked) and its
    decision."""

    id: int
    kind: str
    agent: str
    shift: RosterShiftOut
    other_shift: RosterShiftOut | None
    reason: str
    status: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str


class ChangeRequestListOut(ResponseModel):
    """Requests, newest first."""

    requests: list[ChangeRequestOut]


def _request_out(view: service.RequestView) -> ChangeRequestOut:
    return ChangeRequestOut(
        id=view.id,
        kind=view.kind,
        agent=view.agent_id,
        shift=_shift_out(view.shift),
        other_shift=_shift_out(view.other_shift) if view.other_shift else None,
        reason=view.reason,
        status=view.status,
        requested_at=view.requested_at,
        decided_by=view.decided_by,
        decided_at=view.decided_at,
        note=view.note,
    )


@router.post("/me/requests", status_code=201, responses=errors(404, 409, 422))
def request_change(
    body: ChangeRequestIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(db_session, scope="function"),
) -> ChangeRequestOut:
    """Ask for leave from one of my published shifts not yet started, or to swap it with a
    colleague's; a planner decides."""
    center = _center(request)
    view = service.request_change(
        session=session,
        kind=body.kind,
        agent_id=_my_agent(center, user),
        shift_id=body.shift_id,
        other_shift_id=body.other_shift_id,
        reason=body.reason,
        timezone=center.center.timezone,
        actor=user.username,
        now=datetime.now(UTC),
    )
    return _request_out(view)


@router.get("/me/requests", responses=errors(404, 409))
def my_requests(
    request: Request,
    user: CurrentUser = Depends(require_roles(Role.AGENT)),
    session: Session = Depends(read_session, scope="function"),
) -> ChangeRequestListOut:
    """My swap and leave requests and their decisions."""
    center = _center(request)
    views = service.list_requests(
        session=session, timezone=center.center.timezone, agent_id=_my_agent(center, user)
    )
    return ChangeRequestListOut(requests=[_request_out(v) for v in views])


@router.get("/requests", responses=errors(409, 422))
def requests(
    request: Request,
    status_: Literal["pending", "approved", "rejected"] | None = Query(None, alias="status"),
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> ChangeRequestListOut:
    """Agents' swap and leave requests, newest first (``?status=pending`` for the queue)."""
    views = service.list_requests(
        session=session, timezone=_center(request).center.timezone, status=status_
    )
    return ChangeRequestListOut(requests=[_request_out(v) for v in views])


@router.post("/requests/{request_id}/decision", responses=errors(404, 409, 422))
def decide_request(
    body: DecisionIn,
    request: Request,
    request_id: Annotated[int, Path_(ge=1, le=MAX_ID)],
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ChangeRequestOut:
    """Approve (the published roster changes: a leave takes the shift off, a swap exchanges
    the two agents, once each can work the other's skill and the rules still hold) or reject."""
    center = _center(request)
    skills = {a.id: set(a.skills) for a in center.agents}
    view = service.decide_request(
        session=session,
        request_id=request_id,
        approve=body.approve,
        note=body.note,
        timezone=center.center.timezone,
        actor=user.username,
        can_work=lambda agent, skill: skill == "default" or skill in skills.get(agent, set()),
    )
    return _request_out(view)
