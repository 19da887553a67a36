"""Workforce-management API: Erlang staffing, forecasts, schedules, adherence, intraday,
multi-skill plans verified by the simulator.

Every route is for planners and the people who act on plans: ``wfm``, ``manager``,
``supervisor`` (and ``admin``). Forecasts and adherence read the contact records and event log
already in the database (import history through ``POST /api/reports/contacts``); staffing,
scheduling and intraday take their inputs in the request body.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.auth import CurrentUser, db_session, require_roles
from hotline.web.fields import TimeZoneQuery
from hotline.wfm import files, service
from hotline.wfm.adherence import ScheduledActivity, adherence_report
from hotline.wfm.erlang import Model, ServiceTarget, required_agents
from hotline.wfm.forecast import ForecastSettings, SpecialDay, forecast
from hotline.wfm.intraday import reforecast_day
from hotline.wfm.roster import roster_rows
from hotline.wfm.schedule import (
    Agent,
    Break,
    LabourRules,
    ScheduleProblem,
    ShiftTemplate,
    solve_schedule,
)

router = APIRouter(prefix="/api/wfm", tags=["wfm"])

#: Who plans and runs the workforce.
PLANNERS = ("wfm", "manager", "supervisor")
#: Starlette renamed the 422 constant; the number is what clients see.
UNPROCESSABLE = 422
#: A request may not hold a web worker longer than this.
MAX_SOLVE_S = 60.0


class StaffingOut(ResponseModel):
    """The staffing answer METRICS.md asks for: the offered load, the target, the agents
    needed (and heads to schedule after shrinkage) and the outcomes they give."""

    model: Model
    calls: Number
    aht_s: Number
    interval_s: Number
    patience_s: Number | None
    load_erlangs: Number
    target_service_level: Number
    target_answer_within_s: Number
    agents: int
    shrinkage: Number
    scheduled_heads: int
    service_level: Number
    asa_s: Number
    abandon_rate: Number
    occupancy: Number
    probability_of_wait: Number


class ForecastRowOut(ResponseModel):
    """One interval's forecast: offered contacts and AHT, each with its lower and upper bound,
    and the special day it falls on (empty when none)."""

    interval_start: str = Field(description="ISO 8601 date and time.")
    offered: Number
    offered_low: Number
    offered_high: Number
    aht_s: Number
    aht_s_low: Number
    aht_s_high: Number
    special_day: str


class ExcludedDayOut(ResponseModel):
    """A day left out of the forecast's fit (an outlier), its contacts and why."""

    day: str = Field(description="ISO 8601 date.")
    contacts: Number
    reason: str


class ForecastOut(ResponseModel):
    """A forecast per interval, at the bounds' confidence ``level``, with the model's notes."""

    interval_s: int
    timezone: str
    level: Number
    notes: list[str]
    excluded: list[ExcludedDayOut] = Field(
        description="Days of the training window left out of the fit, with the reason."
    )
    rows: list[ForecastRowOut]


class ShiftOut(ResponseModel):
    """One agent's shift on one day, with clock times and its breaks (``10:00-10:15 …``)."""

    agent: str
    date: str = Field(description="ISO 8601 date.")
    shift: str
    skill: str
    start: str
    end: str
    breaks: str
    paid_hours: Number


class CoverageOut(ResponseModel):
    """Agents required and scheduled per interval: one list of intervals per day."""

    required: list[list[Number]]
    scheduled: list[list[Number]]


class ScheduleOut(ResponseModel):
    """A roster: the solver's status, its cost, the understaffing left, the shifts and the
    coverage per skill."""

    status: str
    labour_cost: Number
    under_staffed_intervals: int
    under_staffed_agent_intervals: Number
    penalty_per_agent_interval: Number
    seconds: Number
    shifts: list[ShiftOut]
    coverage: dict[str, CoverageOut]
    roster_shifts: list[RosterShiftIn] = Field(
        description="The shifts as POST /api/wfm/rosters takes them, to save as a draft roster."
    )


class RosterBreakIn(ResponseModel):
    """A break of a roster shift: local clock times, ``break`` (paid) or ``lunch`` (unpaid)."""

    start: str
    end: str
    kind: str


class RosterShiftIn(ResponseModel):
    """A shift in the shape ``POST /api/wfm/rosters`` takes."""

    agent: str
    date: str = Field(description="ISO 8601 date.")
    start: str
    end: str
    skill: str
    breaks: list[RosterBreakIn]


class AdherenceOut(ResponseModel):
    """Adherence and conformance of one agent or team over the window (``null`` when nothing
    was scheduled)."""

    name: str
    scheduled_minutes: Number
    adherent_minutes: Number
    adherence: Number | None
    scheduled_phone_minutes: Number
    actual_phone_minutes: Number
    conformance: Number | None


class AdherenceExceptionOut(ResponseModel):
    """A stretch (epoch seconds) in which an agent did something other than scheduled."""

    agent_id: str
    start: Number
    end: Number
    scheduled: str
    actual: str
    minutes: Number


class AdherenceReportOut(ResponseModel):
    """Adherence per agent and per team, and the exceptions list."""

    agents: list[AdherenceOut]
    teams: list[AdherenceOut]
    exceptions: list[AdherenceExceptionOut]


class IntradayIntervalOut(ResponseModel):
    """One interval of today: forecast, actual so far, re-forecast, staffing and the gap
    (scheduled − required: negative means short)."""

    index: int
    elapsed: bool
    forecast_offered: Number
    actual_offered: Number | None
    reforecast_offered: Number
    forecast_aht_s: Number
    reforecast_aht_s: Number
    required_agents: int
    scheduled_agents: Number
    gap: Number


class IntradayOut(ResponseModel):
    """The re-forecast day, the volume and AHT ratios it used, and the agent-intervals short."""

    volume_ratio: Number
    aht_ratio: Number
    short_agent_intervals: Number
    intervals: list[IntradayIntervalOut]


class QueueVerdictOut(ResponseModel):
    """One queue: its load and target, the Erlang answer, and the simulated figures of the
    plan with their 95 % confidence half-widths (``null`` when the simulation saw none)."""

    interval_start: str | None
    queue: str
    offered: Number
    simulated_offered: Number | None
    aht_s: Number
    target: str
    home_team: str
    home_agents: int
    erlang_agents: int
    erlang_service_level: Number
    service_level: Number | None
    service_level_ci95: Number | None
    asa_s: Number | None
    asa_ci95: Number | None
    abandon_rate: Number | None
    abandon_ci95: Number | None
    occupancy: Number | None
    occupancy_ci95: Number | None
    meets_target: bool | None


class TeamVerdictOut(ResponseModel):
    """One team of the plan: agents on the phones, roster size, simulated occupancy."""

    team: str
    agents: int
    roster: int
    occupancy: Number | None


class EstimateOut(ResponseModel):
    """A simulated mean and its 95 % confidence half-width (``null``: not measured)."""

    mean: Number | None
    ci95_half_width: Number | None


class SearchStepOut(ResponseModel):
    """One plan the search evaluated: what changed, whether it met the targets, kept or not."""

    step: int
    phase: str
    change: str
    agents: int
    meets: bool
    worst_queue: str | None
    worst_gap: Number
    kept: bool


class SearchOut(ResponseModel):
    """How the search for the least plan went: ``met``, ``met (budget)`` or ``not met``."""

    status: str
    evaluations: int
    wall_s: Number
    steps: list[SearchStepOut]


class IntervalVerdictOut(ResponseModel):
    """One interval's verdict: the plan checked (or found) beside Erlang's, per queue and
    team; ``search`` only when the least plan was searched for."""

    interval_start: str | None
    plan: dict[str, int]
    agents: int
    erlang_plan: dict[str, int]
    erlang_agents: int
    meets_targets: bool
    rule: str
    queues: list[QueueVerdictOut]
    teams: list[TeamVerdictOut]
    center_occupancy: EstimateOut
    replications: int
    seed: int
    search: SearchOut | None = None


class MultiSkillOut(ResponseModel):
    """The verdict of each interval, with the seed and replications that reproduce it."""

    seed: int
    replications: int
    interval_s: Number
    intervals: list[IntervalVerdictOut]


def _target(text: str, **caps: float | None) -> ServiceTarget:
    try:
        return ServiceTarget.parse(text, **caps)
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from None


class ErlangRequest(BaseModel):
    """One interval to staff."""

    # Bounds keep the offered load (calls × AHT ÷ interval) a number Erlang formulas can
    # evaluate: a million calls in an interval is far beyond any contact center.
    calls: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)
    aht_s: float = Field(gt=0, le=86_400, allow_inf_nan=False)
    interval_s: float = Field(1800, ge=60, le=86_400, allow_inf_nan=False)
    target: str = Field("80/20", max_length=64)
    patience_s: float | None = Field(None, gt=0, le=86_400, allow_inf_nan=False)
    shrinkage: float = Field(0.0, ge=0, lt=1)
    max_occupancy: float | None = Field(None, gt=0, le=1)
    max_abandon_rate: float | None = Field(None, gt=0, lt=1)


@router.post("/erlang", responses=errors(422))
def erlang(
    body: ErlangRequest, user: CurrentUser = Depends(require_roles(*PLANNERS))
) -> StaffingOut:
    """Agents required for one interval (Erlang C, or Erlang A with ``patience_s``)."""
    target = _target(
        body.target, max_occupancy=body.max_occupancy, max_abandon_rate=body.max_abandon_rate
    )
    try:
        answer = required_agents(
            calls=body.calls,
            aht_s=body.aht_s,
            interval_s=body.interval_s,
            target=target,
            patience_s=body.patience_s,
            shrinkage=body.shrinkage,
        )
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from None
    return StaffingOut.model_validate(answer.as_dict())


class SpecialDayIn(BaseModel):
    """A calendar entry for the forecast."""

    day: date
    label: str
    factor: float | None = Field(None, ge=0)
    like: str | None = None
    kind: str | None = Field(None, description="Occasions of one kind learn from each other.")


@router.post("/forecast", responses=errors(422))
def forecast_route(
    calendar: list[SpecialDayIn] | None = None,
    interval: int = Query(1800, description="Interval length in seconds (900, 1800, 3600)."),
    horizon_days: int = Query(14, ge=1, le=92),
    timezone: TimeZoneQuery = "UTC",
    source: str | None = Query(None, description="Only this imported source."),
    channel: str | None = Query(None),
    queue: str | None = Query(None),
    level: float = Query(0.8, gt=0, lt=1),
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(db_session, scope="function"),
) -> ForecastOut:
    """Offered contacts and AHT per interval from the stored history, with bounds and the
    planner's overrides of those days (``GET /api/wfm/overrides``) applied."""
    try:
        history = files.history_from_store(
            session=session,
            interval_s=interval,
            timezone=timezone,
            source=source,
            channel=channel,
            queue=queue,
        )
        result = forecast(
            history,
            days=horizon_days,
            calendar=[SpecialDay(c.day, c.label, c.factor, c.like, c.kind) for c in calendar or []],
            settings=ForecastSettings(level=level),
        )
        # The planner's kept corrections apply to every forecast of their days and queue.
        result, _ = service.overridden(session=session, result=result, queue=queue)
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from None
    return ForecastOut.model_validate(
        {
            "interval_s": interval,
            "timezone": timezone,
            "level": level,
            "notes": result.notes,
            "excluded": [
                {"day": e.day.isoformat(), "contacts": e.actual, "reason": e.reason}
                for e in result.excluded
            ],
            "rows": [r.as_row() for r in result.intervals()],
        }
    )


#: A count or amount that cannot be negative (contacts, agents, seconds of handling).
Count = Annotated[float, Field(ge=0, allow_inf_nan=False)]
#: A duration that must be positive (an average handle time).
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
#: The most intervals one day's figures may have (one a minute).
MAX_INTERVALS = 1440


class BreakIn(BaseModel):
    """A break inside a shift template, in intervals from the shift start."""

    length: int = Field(gt=0)
    earliest: int = Field(ge=0)
    latest: int = Field(ge=0)
    paid: bool = True


class TemplateIn(BaseModel):
    """A shift template, in intervals of the day."""

    name: str
    start: int = Field(ge=0)
    length: int = Field(gt=0)
    breaks: list[BreakIn] = []


class AgentIn(BaseModel):
    """A schedulable agent; ``available`` maps weekday 0–6 to an interval window."""

    agent_id: str
    skills: list[str] = ["default"]
    hourly_cost: float = Field(1.0, ge=0)
    min_week_hours: float = Field(0.0, ge=0)
    max_week_hours: float = Field(40.0, ge=0)
    max_day_hours: float = Field(10.0, gt=0)
    available: dict[int, tuple[int, int]] | None = None


class ScheduleRequest(BaseModel):
    """A scheduling problem: requirements per skill as days × intervals."""

    first_day: date
    interval_s: int = Field(1800, ge=300, le=86400)
    requirements: dict[str, list[list[Count]]] = Field(min_length=1, max_length=50)
    agents: list[AgentIn] = Field(max_length=1000)
    templates: list[TemplateIn] = Field(min_length=1, max_length=100)
    min_rest_hours: float = Field(11.0, ge=0, le=48)
    min_days_off: int = Field(2, ge=0, le=7)
    under_staffing_penalty: float | None = None
    time_limit_s: float = Field(20.0, gt=0, le=MAX_SOLVE_S)


@router.post("/schedule", responses=errors(422))
def schedule(
    body: ScheduleRequest, user: CurrentUser = Depends(require_roles(*PLANNERS))
) -> ScheduleOut:
    """Roster with CP-SAT: cover the requirements at least cost; returns shifts and coverage."""
    try:
        problem = ScheduleProblem(
            first_day=body.first_day,
            interval_s=body.interval_s,
            requirements={k: np.asarray(v, dtype=float) for k, v in body.requirements.items()},
            agents=[
                Agent(
                    a.agent_id,
                    frozenset(a.skills),
                    a.hourly_cost,
                    a.min_week_hours,
                    a.max_week_hours,
                    a.max_day_hours,
                    a.available,
                )
                for a in body.agents
            ],
            templates=[
                ShiftTemplate(
                    t.name,
                    t.start,
                    t.length,
                    tuple(Break(b.length, b.earliest, b.latest, b.paid) for b in t.breaks),
                )
                for t in body.templates
            ],
            rules=LabourRules(min_rest_hours=body.min_rest_hours, min_days_off=body.min_days_off),
            under_staffing_penalty=body.under_staffing_penalty,
            time_limit_s=body.time_limit_s,
        )
        result = solve_schedule(problem)
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from None
    return ScheduleOut.model_validate(
        {
            "status": result.status,
            "labour_cost": result.labour_cost,
            "under_staffed_intervals": result.under_staffed_intervals,
            "under_staffed_agent_intervals": result.under_staffed_agent_intervals,
            "penalty_per_agent_interval": result.penalty_per_agent_interval,
            "seconds": result.seconds,
            "shifts": files.schedule_rows(result, interval_s=body.interval_s),
            "roster_shifts": roster_rows(
                result.assignments, interval_s=body.interval_s, templates=problem.templates
            ),
            "coverage": {
                skill: {
                    "required": result.required[skill].tolist(),
                    "scheduled": result.scheduled[skill].tolist(),
                }
                for skill in result.required
            },
        }
    )


class ActivityIn(BaseModel):
    """A scheduled stretch (epoch seconds)."""

    agent_id: str
    start: float
    end: float
    activity: str = "phones"


class AdherenceRequest(BaseModel):
    """The schedule to check the stored agent-state events against."""

    schedule: list[ActivityIn]
    window_start: float
    window_end: float
    teams: dict[str, str] | None = None
    grace_s: float = Field(300.0, ge=0)
    source: str | None = None


@router.post("/adherence", responses=errors(422))
def adherence(
    body: AdherenceRequest,
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(db_session, scope="function"),
) -> AdherenceReportOut:
    """Adherence and conformance per agent and team, and the exceptions list."""
    if body.window_end <= body.window_start:
        raise HTTPException(UNPROCESSABLE, "window_end ≤ window_start")
    report = adherence_report(
        schedule=[ScheduledActivity(a.agent_id, a.start, a.end, a.activity) for a in body.schedule],
        events=files.stored_events(session=session, source=body.source),
        window_start=body.window_start,
        window_end=body.window_end,
        teams=body.teams,
        grace_s=body.grace_s,
    )
    return AdherenceReportOut.model_validate(
        {
            "agents": [f.as_row() for f in report.agents],
            "teams": [f.as_row() for f in report.teams],
            "exceptions": [
                {
                    "agent_id": e.agent_id,
                    "start": e.start,
                    "end": e.end,
                    "scheduled": e.scheduled,
                    "actual": e.actual,
                    "minutes": round(e.minutes, 1),
                }
                for e in report.exceptions
            ],
        }
    )


class IntradayRequest(BaseModel):
    """Today's forecast and schedule per interval, and the actuals of elapsed intervals."""

    forecast_offered: list[Count] = Field(min_length=1, max_length=MAX_INTERVALS)
    forecast_aht_s: list[Seconds] = Field(min_length=1, max_length=MAX_INTERVALS)
    scheduled_agents: list[Count] = Field(min_length=1, max_length=MAX_INTERVALS)
    actual_offered: list[Count] = Field(max_length=MAX_INTERVALS)
    actual_answered: list[Count] = Field(max_length=MAX_INTERVALS)
    actual_handle_s: list[Count] = Field(max_length=MAX_INTERVALS)
    interval_s: float = Field(1800, ge=60, le=86400)
    target: str = "80/20"
    patience_s: float | None = Field(None, gt=0)


@router.post("/intraday", responses=errors(422))
def intraday(
    body: IntradayRequest, user: CurrentUser = Depends(require_roles(*PLANNERS))
) -> IntradayOut:
    """Re-forecast the rest of today from actuals so far and show the staffing gap."""
    try:
        plan = reforecast_day(
            forecast_offered=body.forecast_offered,
            forecast_aht_s=body.forecast_aht_s,
            actual_offered=body.actual_offered,
            actual_answered=body.actual_answered,
            actual_handle_s=body.actual_handle_s,
            scheduled_agents=body.scheduled_agents,
            interval_s=body.interval_s,
            target=_target(body.target),
            patience_s=body.patience_s,
        )
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from None
    return IntradayOut.model_validate(
        {
            "volume_ratio": plan.volume_ratio,
            "aht_ratio": plan.aht_ratio,
            "short_agent_intervals": plan.short_agent_intervals,
            "intervals": [i.as_row() for i in plan.intervals],
        }
    )


class QueueLoadIn(BaseModel):
    """Contacts offered to one queue in one interval (``interval_start`` groups intervals)."""

    queue: str
    offered: float = Field(ge=0)
    aht_s: float = Field(gt=0)
    patience_s: float | None = Field(None, gt=0)
    interval_start: str | None = None


class MultiSkillRequest(BaseModel):
    """A multi-skill plan to verify (or search), as ``hotline wfm verify-multiskill`` takes it.

    Without ``center_yaml`` the center configuration the platform runs with is used; without
    ``plan`` each queue's Erlang answer on its home team is checked (and searched from).
    """

    center_yaml: str | None = Field(None, max_length=2_000_000)
    volumes: list[QueueLoadIn] = Field(min_length=1, max_length=200)
    interval_s: float = Field(1800, gt=0, le=86400)
    plan: dict[str, int] | None = None
    search: bool = False
    rule: str = Field("mean", pattern="^(mean|lower)$")
    replications: int = Field(10, ge=2, le=50)
    seed: int = 1
    warmup_s: float = Field(900, ge=0, le=4 * 3600)
    measure_s: float | None = Field(None, gt=0, le=4 * 3600)
    max_evaluations: int = Field(30, ge=1, le=40)
    max_per_team: int | None = Field(None, ge=1)


#: At most this many intervals per request: each one is a search of its own.
MAX_MULTISKILL_INTERVALS = 4


@router.post(
    "/verify-multiskill",
    responses=errors(422),
    # ``search`` is left out of an interval when no search ran, as before the model.
    response_model_exclude_unset=True,
)
def verify_multiskill(
    body: MultiSkillRequest,
    request: Request,
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
) -> MultiSkillOut:
    """Simulate a multi-skill staffing plan per queue beside Erlang, or search the least one.

    The search's time limit per interval is this route's :data:`MAX_SOLVE_S` shared among the
    intervals; the answer says whether the search finished (``met``), stopped at its budget
    with targets met (``met (budget)``), or ran out first (``not met``).
    """
    from hotline.config.validate import check_text
    from hotline.core.errors import ValidationFailed
    from hotline.sim.staffing import verify_intervals
    from hotline.wfm import multiskill

    if body.center_yaml is not None:
        checked = check_text(body.center_yaml, file="<request>")
        if not checked.ok or checked.config is None:
            raise HTTPException(
                UNPROCESSABLE,
                [{"line": p.line, "field": p.field, "problem": p.rule} for p in checked.errors],
            )
        config = checked.config
    else:
        config = request.app.state.center
        if config is None:
            raise HTTPException(UNPROCESSABLE, "no center configuration loaded; send center_yaml")
    if body.plan is not None and any(n < 0 for n in body.plan.values()):
        raise HTTPException(UNPROCESSABLE, "a plan's agent counts must not be negative")
    grouped: dict[str | None, list[multiskill.QueueLoad]] = {}
    try:
        for load in body.volumes:
            loads = grouped.setdefault(load.interval_start, [])
            if any(existing.queue == load.queue for existing in loads):
                raise ValueError(f"queue {load.queue!r} given twice for one interval")
            loads.append(
                multiskill.QueueLoad(load.queue, load.offered, load.aht_s, load.patience_s)
            )
        if len(grouped) > MAX_MULTISKILL_INTERVALS:
            raise ValueError(f"at most {MAX_MULTISKILL_INTERVALS} intervals per request")
        intervals = [multiskill.IntervalLoad(label, tuple(ls)) for label, ls in grouped.items()]
        center = multiskill.center_from_config(config)
        verdicts = verify_intervals(
            center,
            intervals,
            interval_s=body.interval_s,
            plan=multiskill.StaffingPlan(body.plan) if body.plan is not None else None,
            search=body.search,
            replications=body.replications,
            seed=body.seed,
            warmup_s=body.warmup_s,
            measure_s=body.measure_s,
            rule=body.rule,
            max_evaluations=body.max_evaluations,
            time_limit_s=MAX_SOLVE_S / len(intervals),
            max_per_team=body.max_per_team,
        )
    except ValidationFailed as exc:
        raise HTTPException(
            UNPROCESSABLE, [{"field": p.field, "problem": p.rule} for p in exc.problems]
        ) from None
    except ValueError as exc:
        raise HTTPException(UNPROCESSABLE, str(exc)) from None
    return MultiSkillOut.model_validate(
        {
            "seed": body.seed,
            "replications": body.replications,
            "interval_s": body.interval_s,
            "intervals": [verdict.as_dict(center) for verdict in verdicts],
        }
    )
