"""Planning API: the forecast's manual overrides, and a day planned interval by interval.

A planner corrects the forecast where they know better than the history — a mailing lands on
Tuesday morning: +20 % from 09:00 to 12:00 — with the reason kept beside it
(``POST /api/wfm/overrides``, audited); every forecast of that day and queue applies it from
then on (this API, ``POST /api/wfm/forecast``, the planner's page).

``GET /api/wfm/plan/day`` is one local day of one queue per 30-minute interval: the forecast
(made before the day's week from the stored contact history, overrides applied) against the
actuals recorded so far, re-forecast from the day so far; the agents Erlang C (Erlang A where
the weeks before the day show how long callers wait before giving up) needs at the
queue's service-level target on that volume and AHT, grossed up for the roster's shrinkage;
the roster's scheduled heads (on shift, off break, on a skill the queue asks for) and the gap;
the service level and ASA the scheduled heads are expected to give — and, as a what-if, with
``extra_agents`` more or fewer on the phones from now on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi import Path as Path_
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.config.center import CenterConfig, Queue
from hotline.core.errors import Problem, ValidationFailed
from hotline.core.requirements import SkillTerm, parse_requirements
from hotline.metrics import service as metrics_service
from hotline.sim.distributions import exponential_rate_mle
from hotline.sim.driver import Replication
from hotline.sim.intraday import (
    Overflow,
    QueueRestOfDay,
    SimulatedInterval,
    simulate_queues_rest_of_day,
    simulate_rest_of_day,
)
from hotline.sim.staffing import IntervalVerdict, verify_intervals
from hotline.web.access import current_center
from hotline.web.api.responses import Number, ResponseModel, errors
from hotline.web.api.rosters import ClockTime
from hotline.web.api.wfm import MAX_SOLVE_S, PLANNERS, IntervalVerdictOut
from hotline.web.auth import CurrentUser, db_session, read_session, require_roles
from hotline.wfm import service
from hotline.wfm.erlang import ServiceTarget
from hotline.wfm.forecast import ForecastOverride
from hotline.wfm.intraday import (
    DayPlan,
    erlang_outcome,
    move_break,
    on_the_phones,
    plan_day,
    with_overtime,
)
from hotline.wfm.multiskill import (
    IntervalLoad,
    MultiSkillCenter,
    QueueLoad,
    SearchStep,
    center_from_config,
)
from hotline.wfm.roster import RosterShift, coverage

router = APIRouter(prefix="/api/wfm", tags=["wfm"])

#: The planner's intervals: half hours, as the Gantt and the staffing tables count them.
INTERVAL_S = 1800
#: Patience is estimated from the weeks of history just before the planned day, and trusted
#: for Erlang A only once that many callers were seen to give up.
PATIENCE_WEEKS = 4
MIN_ABANDONS = 20
#: The shrinkage assumed where no roster says (breaks aside: absence, training, meetings).
DEFAULT_SHRINKAGE = 0.3
MAX_ID = 2**62


def _center(request: Request) -> CenterConfig:
    center = current_center(request)
    if center is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "no center configuration is loaded")
    return center


class OverrideIn(BaseModel):
    """A correction of the forecast: ``percent`` more (negative: fewer) contacts on ``day``
    from ``start`` to ``end`` (local clock), on ``queue`` (every queue when omitted)."""

    day: date
    start: ClockTime
    end: ClockTime
    percent: float = Field(ge=-100, le=1000, allow_inf_nan=False)
    reason: str = Field(min_length=1, max_length=500)
    queue: str | None = Field(None, min_length=1, max_length=64)


class OverrideOut(ResponseModel):
    """A kept override and the line the forecast's notes show for it."""

    id: int
    day: date
    start: str
    end: str
    percent: Number
    reason: str
    queue: str | None
    line: str


class OverrideListOut(ResponseModel):
    """Overrides in time order."""

    overrides: list[OverrideOut]


class OverrideDeletedOut(ResponseModel):
    """The override withdrawn."""

    deleted: int


def _override_out(override: ForecastOverride) -> OverrideOut:
    return OverrideOut(
        id=override.id or 0,
        day=override.day,
        start=f"{override.start:%H:%M}",
        end=f"{override.end:%H:%M}",
        percent=override.percent,
        reason=override.reason,
        queue=override.queue,
        line=override.describe(),
    )


@router.get("/overrides", responses=errors(422))
def overrides(
    first_day: date = Query(description="first local day"),
    last_day: date = Query(description="last local day (included)"),
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> OverrideListOut:
    """The forecast overrides of the days asked for, every queue's."""
    if last_day < first_day:
        raise HTTPException(422, [{"field": "last_day", "problem": "ends before first_day"}])
    kept = service.list_overrides(session=session, first_day=first_day, last_day=last_day)
    return OverrideListOut(overrides=[_override_out(o) for o in kept])


@router.post("/overrides", status_code=201, responses=errors(409, 422))
def add_override(
    body: OverrideIn,
    request: Request,
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(db_session, scope="function"),
) -> OverrideOut:
    """Keep a correction of the forecast with its reason (audited); 422 names the field."""
    center = _center(request)
    problems = []
    if body.queue is not None and not any(q.id == body.queue for q in center.queues):
        known = ", ".join(q.id for q in center.queues)
        problems.append(Problem(rule=f"no queue {body.queue!r} (queues: {known})", field="queue"))
    if body.end <= body.start:
        problems.append(Problem(rule=f"ends at {body.end}, not after {body.start}", field="end"))
    if problems:
        raise ValidationFailed(problems)
    kept = service.add_override(
        session=session,
        override=ForecastOverride(
            day=body.day,
            start=time.fromisoformat(body.start),
            end=time.fromisoformat(body.end),
            percent=body.percent,
            reason=body.reason,
            queue=body.queue,
        ),
        actor=user.username,
    )
    return _override_out(kept)


@router.delete("/overrides/{override_id}", responses=errors(404, 422))
def delete_override(
    override_id: Annotated[int, Path_(ge=1, le=MAX_ID)],
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(db_session, scope="function"),
) -> OverrideDeletedOut:
    """Withdraw an override (audited)."""
    service.delete_override(session=session, override_id=override_id, actor=user.username)
    return OverrideDeletedOut(deleted=override_id)


# --------------------------------------------------------------------------- the day's plan


class PlanIntervalOut(ResponseModel):
    """One half hour of the day: forecast and bounds, actual so far, re-forecast, AHT, the
    agents required (on the phones; heads after shrinkage), heads scheduled, the gap
    (scheduled − required: negative is short) and the expected outcomes (``null`` once
    elapsed; ASA ``null`` when the queue cannot keep up)."""

    start: str = Field(description="HH:MM, local.")
    elapsed: bool
    forecast_offered: Number
    forecast_low: Number
    forecast_high: Number
    actual_offered: Number | None
    reforecast_offered: Number
    aht_s: Number
    required_agents: int
    required_heads: int
    scheduled_heads: Number
    gap: Number
    service_level: Number | None
    asa_s: Number | None
    what_if_service_level: Number | None
    what_if_asa_s: Number | None


class DayPlanOut(ResponseModel):
    """A day of one queue planned per interval (see the module's description)."""

    date: str = Field(description="ISO 8601 date.")
    queue: str
    timezone: str
    target: str = Field(description="service level / seconds, e.g. 80/20")
    roster: int | None = Field(description="The roster the coverage comes from (null: none).")
    shrinkage: Number
    extra_agents: int
    volume_ratio: Number
    aht_ratio: Number
    short_heads: Number
    staffing_model: Literal["Erlang C", "Erlang A"] = Field(
        description="Erlang A where the history shows the callers' patience, else Erlang C."
    )
    patience_s: Number | None = Field(
        description="Mean patience estimated from the weeks before the day (null: unknown)."
    )
    abandons: int = Field(description="Callers who gave up in those weeks.")
    notes: list[str]
    intervals: list[PlanIntervalOut]


@dataclass(frozen=True)
class PlannedDay:
    """What the page and the API show of one day: the plan and where its parts came from."""

    day: date
    queue: Queue
    target: ServiceTarget
    roster_id: int | None
    plan: DayPlan
    week: service.PlannedForecast
    notes: list[str]
    #: The shifts whose coverage the plan counts (on a skill the queue asks for).
    shifts: tuple[RosterShift, ...] = ()
    day_start: datetime | None = None
    #: Mean patience (s) estimated from the history, when known: requirements are Erlang A.
    patience_s: float | None = None
    abandons: int = 0

    @property
    def staffing_model(self) -> Literal["Erlang C", "Erlang A"]:
        """The formula the requirements come from."""
        return "Erlang C" if self.patience_s is None else "Erlang A"


@dataclass(frozen=True)
class Patience:
    """Callers' mean patience in a queue as the history shows it, and the abandons behind it
    (``mean_s`` ``None`` when too few gave up to trust it)."""

    mean_s: float | None
    abandons: int
    waits: int


def queue_patience(
    *, session: Session, queue_id: str, since: datetime, until: datetime
) -> Patience:
    """Estimate a queue's mean patience from its contacts queued in [since, until).

    Every caller who waited is a survival observation: one who gave up after ``w`` seconds
    is an observed event, one answered after ``w`` seconds a right-censored one (their
    patience was longer). For the exponential patience Erlang A assumes, the maximum-likelihood
    rate is abandons ÷ total waiting time (:func:`hotline.sim.distributions.exponential_rate_mle`,
    the estimator the simulator's fitting uses for its tail); the mean is its inverse.
    """
    frame = metrics_service.records_frame(
        session=session, queued_from=since.timestamp(), queued_until=until.timestamp()
    )
    waited = frame.filter(
        (frame["queue"] == queue_id)
        & frame["queued_at"].is_not_null()
        & (frame["answered_at"].is_not_null() | frame["abandoned_at"].is_not_null())
    )
    gave_up = waited["answered_at"].is_null().to_list()
    ended = waited["answered_at"].fill_null(waited["abandoned_at"]) - waited["queued_at"]
    waits = [max(0.0, float(w)) for w in ended.to_list()]
    abandons = sum(gave_up)
    rate = exponential_rate_mle(waits, gave_up)
    trusted = abandons >= MIN_ABANDONS and rate > 0
    return Patience(1.0 / rate if trusted else None, abandons, len(waits))


def queue_covers(queue: Queue, skill: str) -> bool:
    """Whether a shift on ``skill`` answers ``queue``: a ``default`` shift answers every
    queue; otherwise the skill must be one the queue's requirements name (any skill when
    the queue names none)."""
    skills = {t.skill for t in parse_requirements(queue.requirements) if isinstance(t, SkillTerm)}
    return skill == "default" or not skills or skill in skills


def planned_day(
    *,
    session: Session,
    center: CenterConfig,
    day: date,
    queue_id: str | None,
    roster_id: int | None,
    extra_agents: int,
    now: datetime,
    site: str | None = None,
) -> PlannedDay:
    """Compose the day's plan from the forecast of its week, its actuals and a roster's
    shifts (``roster_id``; else the shifts in force). Raises ``ValueError`` in words when
    the history cannot make a forecast.

    ``site``: the plan of one site — the queue must be one of the site's (default: its
    first) and only the site's agents' shifts count as its coverage; ``None``: the whole
    center's agents. Raises :class:`ValidationFailed` on ``site`` or ``queue``."""
    timezone = center.center.timezone
    zone = ZoneInfo(timezone)
    choices = center.queues
    members: set[str] | None = None
    if site is not None:
        site_queues, members = site_members(center, site)
        choices = [q for q in center.queues if q.id in site_queues]
    queue = next((q for q in choices if q.id == queue_id), None) if queue_id else None
    if queue is None:
        if queue_id is not None or not choices:
            where = f" at site {site!r}" if site is not None else ""
            raise ValidationFailed([Problem(rule=f"no queue {queue_id!r}{where}", field="queue")])
        queue = choices[0]
    monday = day - timedelta(days=day.weekday())
    planned = service.stored_forecast(
        session=session,
        timezone=timezone,
        first_day=monday,
        days=7,
        queue=queue.id,
        interval_s=INTERVAL_S,
    )
    d = (day - monday).days
    result = planned.forecast
    day_start = datetime.combine(day, time(), zone)
    slots = 86400 // INTERVAL_S
    shifts: list[RosterShift]
    if roster_id is not None:
        view = service.get_roster(session=session, roster_id=roster_id, timezone=timezone)
        shifts, shrinkage = view.shifts, view.shrinkage
    else:
        published = service.published_shifts(
            session=session, since=day_start, until=day_start + timedelta(days=1), timezone=timezone
        )
        shifts = published.shifts
        shrinkage = (
            DEFAULT_SHRINKAGE
            if published.assumed_shrinkage is None
            else published.assumed_shrinkage
        )
    covering = tuple(
        s
        for s in shifts
        if queue_covers(queue, s.skill) and (members is None or s.agent_id in members)
    )
    heads = coverage(
        covering,
        day_start=day_start,
        interval_s=INTERVAL_S,
        slots=slots,
    )
    actual = planned.actual(d)
    elapsed = 0
    if actual is not None:
        done = (now - day_start).total_seconds() // INTERVAL_S
        elapsed = int(min(slots, max(0, done)))
    offered, answered, handle = actual or ([], [], [])
    target = ServiceTarget(
        service_level=min(queue.target.service_level, 0.999),
        answer_within_s=queue.target.threshold_s,
    )
    patience = queue_patience(
        session=session,
        queue_id=queue.id,
        since=day_start - timedelta(weeks=PATIENCE_WEEKS),
        until=day_start,
    )
    plan = plan_day(
        forecast_offered=result.offered[d].tolist(),
        forecast_low=result.offered_low[d].tolist(),
        forecast_high=result.offered_high[d].tolist(),
        forecast_aht_s=result.aht_s[d].tolist(),
        actual_offered=offered[:elapsed],
        actual_answered=answered[:elapsed],
        actual_handle_s=handle[:elapsed],
        scheduled_heads=heads,
        interval_s=INTERVAL_S,
        target=target,
        shrinkage=shrinkage,
        extra_agents=extra_agents,
        patience_s=patience.mean_s,
    )
    return PlannedDay(
        day,
        queue,
        target,
        roster_id,
        plan,
        planned,
        list(result.notes),
        covering,
        day_start,
        patience.mean_s,
        patience.abandons,
    )


def _number(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def day_plan_out(planned: PlannedDay, *, timezone: str) -> DayPlanOut:
    """The plan as the API answers it."""
    plan = planned.plan
    return DayPlanOut(
        date=planned.day.isoformat(),
        queue=planned.queue.id,
        timezone=timezone,
        target=f"{100 * planned.target.service_level:g}/{planned.target.answer_within_s:g}",
        roster=planned.roster_id,
        shrinkage=plan.shrinkage,
        extra_agents=plan.extra_agents,
        volume_ratio=round(plan.volume_ratio, 4),
        aht_ratio=round(plan.aht_ratio, 4),
        short_heads=round(plan.short_heads, 2),
        staffing_model=planned.staffing_model,
        patience_s=_number(planned.patience_s, 1),
        abandons=planned.abandons,
        notes=planned.notes,
        intervals=[
            PlanIntervalOut(
                start=_clock(i.index),
                elapsed=i.elapsed,
                forecast_offered=round(i.forecast_offered, 2),
                forecast_low=round(i.forecast_low, 2),
                forecast_high=round(i.forecast_high, 2),
                actual_offered=i.actual_offered,
                reforecast_offered=round(i.reforecast_offered, 2),
                aht_s=round(i.aht_s, 1),
                required_agents=i.required_agents,
                required_heads=i.required_heads,
                scheduled_heads=round(i.scheduled_heads, 2),
                gap=round(i.gap, 2),
                service_level=_number(i.service_level, 4),
                asa_s=_number(i.asa_s, 1),
                what_if_service_level=_number(i.what_if_service_level, 4),
                what_if_asa_s=_number(i.what_if_asa_s, 1),
            )
            for i in plan.intervals
        ],
    )


def _planned_or_refused(
    request: Request,
    session: Session,
    *,
    day: date | None,
    queue: str | None,
    roster: int | None,
    extra_agents: int,
    site: str | None = None,
) -> PlannedDay:
    """The planned day (default: today, local), or 422 on ``day`` saying why the history
    cannot make its forecast."""
    center = _center(request)
    zone = ZoneInfo(center.center.timezone)
    now = datetime.now(UTC)
    try:
        return planned_day(
            session=session,
            center=center,
            day=day or now.astimezone(zone).date(),
            queue_id=queue,
            roster_id=roster,
            extra_agents=extra_agents,
            now=now,
            site=site,
        )
    except ValueError as exc:
        raise HTTPException(422, [{"field": "day", "problem": str(exc)}]) from None


@router.get("/plan/day", responses=errors(404, 409, 422))
def day_plan(
    request: Request,
    day: date | None = Query(None, description="local day (default: today)"),
    queue: str | None = Query(None, max_length=64, description="default: the first queue"),
    roster: int | None = Query(None, ge=1, le=MAX_ID, description="default: rosters in force"),
    extra_agents: int = Query(0, ge=-500, le=500, description="what-if: agents added from now"),
    site: str | None = Query(
        None, min_length=1, max_length=64, description="one site's queue and agents (default: all)"
    ),
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> DayPlanOut:
    """A day of one queue per half hour: forecast against actuals, re-forecast, agents
    required against the roster's coverage, and the expected service level and ASA with a
    what-if of ``extra_agents`` more from now. With ``site``: a queue of that site (default:
    its first), covered by that site's agents only."""
    planned = _planned_or_refused(
        request,
        session,
        day=day,
        queue=queue,
        roster=roster,
        extra_agents=extra_agents,
        site=site,
    )
    return day_plan_out(planned, timezone=_center(request).center.timezone)


# --------------------------------------------------------------------------- what-if by simulation

#: Replications of the simulated what-if: each side of the comparison runs this many days,
#: which bounds the run time (about a second per thousand contacts per replication).
WHAT_IF_REPLICATIONS = 3
#: A local clock time, HH:MM (the form fields, the query parameters and the command line).
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


@dataclass(frozen=True)
class WhatIfChange:
    """A supervisor's intraday change: ``overtime`` (``agents`` more on the phones from
    ``start`` to ``end``), ``break`` (``agent``'s break at ``start`` moved to ``end``) or
    ``overflow`` (the planned queue's callers who have waited ``after_s`` offered to queue
    ``to``'s agents too, for the rest of the day)."""

    kind: Literal["overtime", "break", "overflow"]
    start: str = ""
    end: str = ""
    agents: int = 0
    agent: str | None = None
    to: str | None = None
    after_s: int = 60

    def describe(self) -> str:
        """The change in words, as the page and the API name it."""
        if self.kind == "overtime":
            return f"overtime: {self.agents} agent(s) {self.start}–{self.end}"
        if self.kind == "overflow":
            return f"overflow to {self.to} after {self.after_s} s"
        return f"break of {self.agent} moved from {self.start} to {self.end}"


@dataclass(frozen=True)
class WhatIfInterval:
    """One interval to come: Erlang's and the simulator's figures without and with."""

    index: int
    agents: int
    agents_with: int
    erlang_service_level: float | None
    erlang_service_level_with: float | None
    simulated: SimulatedInterval
    simulated_with: SimulatedInterval


@dataclass(frozen=True)
class WhatIfDay:
    """The change's effect over the rest of the day; an overflow's on its target queue too."""

    change: WhatIfChange
    replications: int
    seed: int
    intervals: list[WhatIfInterval]
    target_queue: str | None = None
    target_intervals: list[WhatIfInterval] = field(default_factory=list)


def _slot(day_start: datetime, clock: str) -> datetime:
    return day_start.replace(hour=int(clock[:2]), minute=int(clock[3:]))


def _rest_of_day(planned: PlannedDay, first: int) -> QueueRestOfDay:
    """The planned queue's intervals from ``first`` on, with the roster's agents on the phones."""
    rest = planned.plan.intervals[first:]
    return QueueRestOfDay(
        planned.queue.id,
        offered=[i.reforecast_offered for i in rest],
        aht_s=[i.aht_s for i in rest],
        agents=[on_the_phones(i.scheduled_heads, planned.plan.shrinkage) for i in rest],
        answer_within_s=planned.target.answer_within_s,
        patience_s=planned.patience_s,
    )


def overflow_what_if(
    planned: PlannedDay, target: PlannedDay, change: WhatIfChange, *, seed: int
) -> WhatIfDay:
    """Run the rest of the day of both queues in one simulation, their forecasts and their
    rosters' agents, without and with the planned queue overflowing to ``target`` after
    ``change.after_s`` (same seed, :data:`WHAT_IF_REPLICATIONS` replications). Erlang has
    no answer for an overflow: its figures "with" are left empty."""
    if target.queue.id == planned.queue.id:
        raise ValidationFailed([Problem(rule="a queue cannot overflow to itself", field="to")])

    def pending(p: PlannedDay) -> int:
        return next((i.index for i in p.plan.intervals if not i.elapsed), len(p.plan.intervals))

    first = max(pending(planned), pending(target))
    queues = [_rest_of_day(planned, first), _rest_of_day(target, first)]
    overflow = Overflow(planned.queue.id, target.queue.id, float(change.after_s))
    without, opened = (
        simulate_queues_rest_of_day(
            queues,
            interval_s=INTERVAL_S,
            replications=WHAT_IF_REPLICATIONS,
            seed=seed,
            overflow=rule,
        )
        for rule in (None, overflow)
    )

    def rows(p: PlannedDay, queue: QueueRestOfDay) -> list[WhatIfInterval]:
        return [
            WhatIfInterval(
                index=i.index,
                agents=agents,
                agents_with=agents,
                erlang_service_level=i.service_level,
                erlang_service_level_with=None,
                simulated=without[p.queue.id][n],
                simulated_with=opened[p.queue.id][n],
            )
            for n, (i, agents) in enumerate(
                zip(p.plan.intervals[first:], queue.agents, strict=True)
            )
        ]

    return WhatIfDay(
        change,
        WHAT_IF_REPLICATIONS,
        seed,
        rows(planned, queues[0]),
        target.queue.id,
        rows(target, queues[1]),
    )


def simulated_what_if(planned: PlannedDay, change: WhatIfChange, *, seed: int) -> WhatIfDay:
    """Run the rest of the planned day through the simulator without and with ``change``
    (same seed, :data:`WHAT_IF_REPLICATIONS` replications), beside Erlang's figures.
    Raises :class:`ValidationFailed` naming the field when the change does not fit the day.
    (An overflow needs the other queue's day: :func:`overflow_what_if`.)"""
    plan, day_start = planned.plan, planned.day_start
    assert day_start is not None
    rest = [i for i in plan.intervals if not i.elapsed]
    agents = [on_the_phones(i.scheduled_heads, plan.shrinkage) for i in plan.intervals]
    start, end = _slot(day_start, change.start), _slot(day_start, change.end)
    try:
        if change.kind == "overtime":
            first = int((start - day_start).total_seconds() // INTERVAL_S)
            last = -int(-(end - day_start).total_seconds() // INTERVAL_S)
            changed = with_overtime(agents, extra=change.agents, first=first, last=last)
        else:
            shifts = move_break(planned.shifts, agent_id=change.agent or "", at=start, to=end)
            heads = coverage(shifts, day_start=day_start, interval_s=INTERVAL_S, slots=len(agents))
            changed = [on_the_phones(h, plan.shrinkage) for h in heads]
    except ValueError as exc:
        field = "end" if change.kind == "overtime" else "agent"
        raise ValidationFailed([Problem(rule=str(exc), field=field)]) from None

    def run(staffing: list[int]) -> list[SimulatedInterval]:
        return simulate_rest_of_day(
            queue_id=planned.queue.id,
            offered=[i.reforecast_offered for i in rest],
            aht_s=[i.aht_s for i in rest],
            agents=[staffing[i.index] for i in rest],
            interval_s=INTERVAL_S,
            answer_within_s=planned.target.answer_within_s,
            patience_s=planned.patience_s,
            replications=WHAT_IF_REPLICATIONS,
            seed=seed,
        )

    without, with_change = run(agents), run(changed)
    rows = []
    for n, i in enumerate(rest):
        erlang_with, _ = erlang_outcome(
            agents=changed[i.index],
            offered=i.reforecast_offered,
            aht_s=i.aht_s,
            interval_s=INTERVAL_S,
            target=planned.target,
            patience_s=planned.patience_s,
        )
        rows.append(
            WhatIfInterval(
                index=i.index,
                agents=agents[i.index],
                agents_with=changed[i.index],
                erlang_service_level=i.service_level,
                erlang_service_level_with=erlang_with,
                simulated=without[n],
                simulated_with=with_change[n],
            )
        )
    return WhatIfDay(change, WHAT_IF_REPLICATIONS, seed, rows)


class WhatIfIntervalOut(ResponseModel):
    """One half hour still to come: agents on the phones without and with the change, and
    the service level, ASA and abandon rate the simulator measured (mean of the
    replications; ``null`` where no contact was measured) beside Erlang's service level (C,
    or A where the callers' patience is known)."""

    start: str = Field(description="HH:MM, local.")
    agents: int
    agents_with: int
    erlang_service_level: Number | None
    erlang_service_level_with: Number | None
    offered: Number
    service_level: Number | None
    service_level_with: Number | None
    asa_s: Number | None
    asa_s_with: Number | None
    abandon_rate: Number | None
    abandon_rate_with: Number | None


class WhatIfOut(ResponseModel):
    """A change evaluated by the simulator over the rest of the day, without and with; an
    overflow's effect on the queue it overflows to as well (``target_queue``)."""

    date: str = Field(description="ISO 8601 date.")
    queue: str
    change: str
    replications: int
    seed: int
    intervals: list[WhatIfIntervalOut]
    target_queue: str | None = Field(None, description="overflow: the queue overflowed to")
    target_intervals: list[WhatIfIntervalOut] = Field(
        default_factory=list, description="overflow: that queue's own callers"
    )


def _clock(index: int) -> str:
    return f"{index * INTERVAL_S // 3600:02d}:{index * INTERVAL_S % 3600 // 60:02d}"


def what_if_out(planned: PlannedDay, result: WhatIfDay) -> WhatIfOut:
    """The simulated what-if as the API answers it."""
    return WhatIfOut(
        date=planned.day.isoformat(),
        queue=planned.queue.id,
        change=result.change.describe(),
        replications=result.replications,
        seed=result.seed,
        intervals=_what_if_rows(result.intervals),
        target_queue=result.target_queue,
        target_intervals=_what_if_rows(result.target_intervals),
    )


def _what_if_rows(intervals: list[WhatIfInterval]) -> list[WhatIfIntervalOut]:
    return [
        WhatIfIntervalOut(
            start=_clock(r.index),
            agents=r.agents,
            agents_with=r.agents_with,
            erlang_service_level=_number(r.erlang_service_level, 4),
            erlang_service_level_with=_number(r.erlang_service_level_with, 4),
            offered=round(r.simulated.offered, 2),
            service_level=_number(r.simulated.service_level, 4),
            service_level_with=_number(r.simulated_with.service_level, 4),
            asa_s=_number(r.simulated.asa_s, 1),
            asa_s_with=_number(r.simulated_with.asa_s, 1),
            abandon_rate=_number(r.simulated.abandon_rate, 4),
            abandon_rate_with=_number(r.simulated_with.abandon_rate, 4),
        )
        for r in intervals
    ]


@router.get("/plan/what-if", responses=errors(404, 409, 422))
def what_if(
    request: Request,
    change: Literal["overtime", "break", "overflow"] = Query(description="the change"),
    start: str | None = Query(
        None, pattern=CLOCK, description="overtime from / the break's start, HH:MM"
    ),
    end: str | None = Query(
        None, pattern=CLOCK, description="overtime until / the break's new start, HH:MM"
    ),
    agents: int = Query(1, ge=1, le=200, description="overtime: agents added"),
    agent: str | None = Query(None, min_length=1, max_length=64, description="break: whose"),
    to: str | None = Query(None, min_length=1, max_length=64, description="overflow: to"),
    after_s: int = Query(60, ge=0, le=3600, description="overflow: after waiting (s)"),
    day: date | None = Query(None, description="local day (default: today)"),
    queue: str | None = Query(None, max_length=64, description="default: the first queue"),
    roster: int | None = Query(None, ge=1, le=MAX_ID, description="default: rosters in force"),
    seed: int = Query(1, ge=0, le=2**31 - 1, description="the simulation's seed"),
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> WhatIfOut:
    """Evaluate a change for the rest of the day with the simulator (the real routing
    engine, a few replications with a fixed seed) against the roster as it stands; an
    overflow runs both queues' forecasts and rosters in the same simulation."""
    wanted = WhatIfChange(
        kind=change, start=start or "", end=end or "", agents=agents, agent=agent, to=to,
        after_s=after_s,
    )  # fmt: skip
    refused = what_if_problems(wanted)
    if refused:
        raise ValidationFailed(refused)
    planned = _planned_or_refused(
        request, session, day=day, queue=queue, roster=roster, extra_agents=0
    )
    if wanted.kind == "overflow":
        if to not in {q.id for q in _center(request).queues}:
            raise ValidationFailed([Problem(rule=f"no queue {to!r}", field="to")])
        other = _planned_or_refused(
            request, session, day=planned.day, queue=to, roster=roster, extra_agents=0
        )
        return what_if_out(planned, overflow_what_if(planned, other, wanted, seed=seed))
    return what_if_out(planned, simulated_what_if(planned, wanted, seed=seed))


def what_if_problems(change: WhatIfChange) -> list[Problem]:
    """What a change lacks, by field: overtime and a moved break name their times, a moved
    break its agent, an overflow the queue it goes to."""
    problems = []
    if change.kind != "overflow":
        problems += [
            Problem(rule=f"{change.kind} names its {name} time, HH:MM", field=name)
            for name, value in (("start", change.start), ("end", change.end))
            if not value
        ]
    if change.kind == "break" and change.agent is None:
        problems.append(Problem(rule="moving a break names the agent", field="agent"))
    if change.kind == "overflow" and change.to is None:
        problems.append(Problem(rule="an overflow names the queue it goes to", field="to"))
    return problems


# ---------------------------------------------------------------- multi-skill requirements

#: The simulated multi-skill requirements take a few intervals at a time (each one is a search
#: of its own, bounded in plans simulated), two replications unless asked for more.
MULTISKILL_INTERVALS = 4
MULTISKILL_REPLICATIONS = 2
MULTISKILL_EVALUATIONS = 16
#: Each simulated interval is preceded by this much of the same load, so it starts busy.
MULTISKILL_WARMUP_S = 600.0


@dataclass(frozen=True)
class MultiSkillDay:
    """The least staffing per team meeting every queue's target in a few intervals of a day,
    found by the simulator, beside each queue's own Erlang answer added up."""

    day: date
    site: str | None
    queues: tuple[str, ...]
    center: MultiSkillCenter
    verdicts: list[IntervalVerdict]
    replications: int
    seed: int
    notes: list[str]


def site_members(center: CenterConfig, site: str) -> tuple[set[str], set[str]]:
    """The queues and the agents of ``site`` (a queue's own site; an agent's own, else its
    team's). Raises :class:`ValidationFailed` on ``site`` when there is no such site or it
    answers no queue."""
    try:
        queues, agents = center.site_members(site)
    except ValueError as unknown:
        raise ValidationFailed([Problem(rule=str(unknown), field="site")]) from None
    if not queues:
        raise ValidationFailed([Problem(rule=f"site {site!r} answers no queue", field="site")])
    return queues, agents


def site_center(center: CenterConfig, site: str | None) -> tuple[MultiSkillCenter, list[str]]:
    """The staffing view of ``center`` cut to ``site`` (every queue and team when ``None``):
    the site's queues and its agents' teams; an overflow rule to a queue elsewhere is left
    out, since the run has no such queue. Raises :class:`ValidationFailed` on ``site``."""
    full = center_from_config(center)
    if site is None:
        return full, []
    kept, here = site_members(center, site)
    notes = []
    queues = []
    for queue in full.queues:
        if queue.id not in kept:
            continue
        rules = tuple(r for r in queue.overflow if r.target is None or r.target in kept)
        if len(rules) < len(queue.overflow):
            notes.append(f"{queue.id}: overflow to another site's queue left out")
        queues.append(replace(queue, overflow=rules))
    teams = {t: tuple(a for a in ids if a in here) for t, ids in full.teams.items()}
    cut = replace(
        full,
        queues=tuple(queues),
        agents={a: config for a, config in full.agents.items() if a in here},
        teams={t: ids for t, ids in teams.items() if ids},
    )
    return cut, notes


@dataclass(frozen=True)
class MultiSkillLoads:
    """The intervals of a day to staff: each queue's (re-)forecast, AHT and patience."""

    center: MultiSkillCenter
    queues: tuple[str, ...]
    intervals: list[IntervalLoad]
    notes: list[str]


def multiskill_loads(
    *,
    session: Session,
    center: CenterConfig,
    day: date,
    site: str | None,
    start: str | None,
    intervals: int,
    now: datetime,
) -> MultiSkillLoads:
    """The load of ``intervals`` half hours from ``start`` (default: the day's busiest) on
    the queues of ``site`` (or the whole center): each queue's planned day, as the
    requirements step makes it. A queue whose history cannot be forecast is left out with a
    note. Raises :class:`ValidationFailed` naming the field that does not fit."""
    staffing, notes = site_center(center, site)
    plans: list[PlannedDay] = []
    for queue in staffing.queues:
        try:
            plans.append(
                planned_day(
                    session=session, center=center, day=day, queue_id=queue.id,
                    roster_id=None, extra_agents=0, now=now,
                )
            )  # fmt: skip
        except ValueError as no_forecast:
            notes.append(f"{queue.id}: no forecast ({no_forecast})")
    if not plans:
        raise ValidationFailed([Problem(rule="no queue has a forecast for the day", field="day")])
    planned = {p.queue.id: p for p in plans}
    staffing = replace(staffing, queues=tuple(q for q in staffing.queues if q.id in planned))
    slots = len(plans[0].plan.intervals)
    if start is None:
        load = [sum(p.plan.intervals[i].reforecast_offered for p in plans) for i in range(slots)]
        first = max(range(slots), key=lambda i: (load[i], -i))
    else:
        first = (int(start[:2]) * 3600 + int(start[3:]) * 60) // INTERVAL_S
    loads = [
        IntervalLoad(
            _clock(i),
            tuple(
                QueueLoad(
                    q,
                    p.plan.intervals[i].reforecast_offered,
                    max(p.plan.intervals[i].aht_s, 1.0),
                    p.patience_s,
                )
                for q, p in planned.items()
            ),
        )
        for i in range(first, min(slots, first + intervals))
    ]
    return MultiSkillLoads(staffing, tuple(planned), loads, notes)


def multiskill_day(
    *,
    session: Session,
    center: CenterConfig,
    day: date,
    site: str | None,
    start: str | None,
    intervals: int,
    replications: int,
    seed: int,
    now: datetime,
    on_replication: Callable[[Replication], None] | None = None,
    on_step: Callable[[SearchStep], None] | None = None,
) -> MultiSkillDay:
    """Search, per half hour of :func:`multiskill_loads`, the fewest agents per team (the
    center file's teams: each a set of skill profiles) that meet every queue's target, by
    the simulator (:func:`hotline.sim.staffing.verify_intervals`: the real routing engine,
    ``replications`` runs with ``seed``, from each queue's Erlang answer on its home team,
    adding for the worst queue, then trimming). Raises :class:`ValidationFailed` naming the
    field that does not fit."""
    loads = multiskill_loads(
        session=session, center=center, day=day, site=site, start=start,
        intervals=intervals, now=now,
    )  # fmt: skip
    verdicts = verify_intervals(
        loads.center,
        loads.intervals,
        interval_s=INTERVAL_S,
        plan=None,
        search=True,
        replications=replications,
        seed=seed,
        warmup_s=MULTISKILL_WARMUP_S,
        max_evaluations=MULTISKILL_EVALUATIONS,
        time_limit_s=MAX_SOLVE_S / len(loads.intervals),
        on_replication=on_replication,
        on_step=on_step,
    )
    return MultiSkillDay(
        day, site, loads.queues, loads.center, verdicts, replications, seed, loads.notes
    )


class PoolingOut(ResponseModel):
    """One interval at a glance: agents the simulator needs, the per-queue Erlang answers
    added up, and the difference (positive: agents saved by pooling skills)."""

    start: str = Field(description="HH:MM, local.")
    agents: int
    erlang_agents: int
    pooling_gain: int
    meets_targets: bool


class MultiSkillDayOut(ResponseModel):
    """A few intervals of a day staffed per team by the simulator beside Erlang per queue."""

    date: str = Field(description="ISO 8601 date.")
    site: str | None
    queues: list[str]
    replications: int
    seed: int
    notes: list[str]
    pooling: list[PoolingOut]
    intervals: list[IntervalVerdictOut]


def multiskill_day_out(result: MultiSkillDay) -> MultiSkillDayOut:
    """The simulated requirements as the API answers them."""
    return MultiSkillDayOut.model_validate(
        {
            "date": result.day.isoformat(),
            "site": result.site,
            "queues": list(result.queues),
            "replications": result.replications,
            "seed": result.seed,
            "notes": result.notes,
            "pooling": [
                {
                    "start": v.interval.label or "",
                    "agents": v.evaluation.plan.total,
                    "erlang_agents": v.erlang_plan.total,
                    "pooling_gain": v.erlang_plan.total - v.evaluation.plan.total,
                    "meets_targets": v.evaluation.meets(result.center, rule=v.rule),
                }
                for v in result.verdicts
            ],
            "intervals": [v.as_dict(result.center) for v in result.verdicts],
        }
    )


@router.get("/plan/multiskill", responses=errors(404, 409, 422))
def multiskill_requirements(
    request: Request,
    day: date | None = Query(None, description="local day (default: today)"),
    site: str | None = Query(None, min_length=1, max_length=64, description="default: all"),
    start: str | None = Query(None, pattern=CLOCK, description="HH:MM; default: the busiest"),
    intervals: int = Query(1, ge=1, le=MULTISKILL_INTERVALS, description="half hours"),
    replications: int = Query(MULTISKILL_REPLICATIONS, ge=2, le=10),
    seed: int = Query(1, ge=0, le=2**31 - 1, description="the simulation's seed"),
    user: CurrentUser = Depends(require_roles(*PLANNERS)),
    session: Session = Depends(read_session, scope="function"),
) -> MultiSkillDayOut:
    """Requirements per half hour and team for the queues of a site (or all) by the
    simulator, where agents with several skills serve several queues, beside the per-queue
    Erlang answers added up (the pooling gain)."""
    center = _center(request)
    now = datetime.now(UTC)
    result = multiskill_day(
        session=session,
        center=center,
        day=day or now.astimezone(ZoneInfo(center.center.timezone)).date(),
        site=site,
        start=start,
        intervals=intervals,
        replications=replications,
        seed=seed,
        now=now,
    )
    return multiskill_day_out(result)
