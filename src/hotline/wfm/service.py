"""Rosters kept, edited and published: the workforce domain's persistence-facing service.

A planner saves a schedule (the solver's, or one made by hand) as a **draft roster** for a
period; every save is checked against the roster's labour rules
(:func:`hotline.wfm.roster.check_roster`) and refused with each problem located. Publishing
puts the roster in force for its period and supersedes any published roster overlapping
it, so a day has at most one roster in force; only a draft is edited. Every change is
audited.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.errors import Conflict, NotFound, Problem, ValidationFailed
from hotline.identity import audit
from hotline.store.models.wfm import ForecastOverrideRow, Roster, RosterRequest, RosterShiftRow
from hotline.wfm import files
from hotline.wfm.forecast import (
    Forecast,
    ForecastOverride,
    ForecastSettings,
    apply_overrides,
    forecast,
)
from hotline.wfm.roster import RosterBreak, RosterShift, ShiftRules, check_roster

DRAFT = "draft"
PUBLISHED = "published"
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class RosterView:
    """A roster with its shifts, as the planner and the API read it."""

    id: int
    name: str
    period_start: date
    period_end: date
    status: str
    shrinkage: float
    rules: ShiftRules
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None
    shifts: list[RosterShift]


def _rules(stored: dict[str, Any]) -> ShiftRules:
    return ShiftRules(**{k: float(v) for k, v in stored.items()})


def _shift(row: RosterShiftRow, zone: ZoneInfo) -> RosterShift:
    return RosterShift(
        agent_id=row.agent_id,
        start=row.start_at.astimezone(zone),
        end=row.end_at.astimezone(zone),
        skill=row.skill,
        breaks=tuple(
            RosterBreak(
                datetime.fromisoformat(b["start"]).astimezone(zone),
                datetime.fromisoformat(b["end"]).astimezone(zone),
                b.get("kind", "break"),
            )
            for b in row.breaks
        ),
        shift_id=row.id,
    )


def _row(roster_id: int, shift: RosterShift) -> RosterShiftRow:
    return RosterShiftRow(
        roster_id=roster_id,
        agent_id=shift.agent_id,
        skill=shift.skill,
        start_at=shift.start.astimezone(UTC),
        end_at=shift.end.astimezone(UTC),
        breaks=[
            {
                "start": b.start.astimezone(UTC).isoformat(),
                "end": b.end.astimezone(UTC).isoformat(),
                "kind": b.kind,
            }
            for b in shift.breaks
        ],
    )


def _checked(
    shifts: Sequence[RosterShift],
    *,
    rules: ShiftRules,
    period_start: date,
    period_end: date,
    timezone: str,
) -> None:
    """Raise :class:`ValidationFailed` with every located problem of ``shifts``."""
    zone = ZoneInfo(timezone)
    problems = [
        Problem(
            rule=f"{s.agent_id}'s shift starts on {s.start.astimezone(zone).date()}, outside "
            f"the roster's period {period_start} to {period_end}",
            field=f"shifts[{i}].start",
        )
        for i, s in enumerate(shifts)
        if not period_start <= s.start.astimezone(zone).date() <= period_end
    ]
    problems += [Problem(rule=p.problem, field=p.location) for p in check_roster(shifts, rules)]
    if period_end < period_start:
        problems.insert(
            0, Problem(rule=f"the period ends ({period_end}) before it starts", field="period_end")
        )
    if problems:
        raise ValidationFailed(problems)


def create_roster(
    *,
    session: Session,
    name: str,
    period_start: date,
    period_end: date,
    shifts: Sequence[RosterShift],
    rules: ShiftRules,
    shrinkage: float,
    timezone: str,
    actor: str,
) -> RosterView:
    """Save ``shifts`` as a draft roster for the period, once they keep ``rules``."""
    _checked(
        shifts, rules=rules, period_start=period_start, period_end=period_end, timezone=timezone
    )
    roster = Roster(
        name=name,
        period_start=period_start,
        period_end=period_end,
        status=DRAFT,
        shrinkage=shrinkage,
        rules=asdict(rules),
        created_by=actor,
    )
    session.add(roster)
    session.flush()
    session.add_all(_row(roster.id, s) for s in shifts)
    audit.record(
        session,
        actor=actor,
        action="roster.create",
        target=f"roster:{roster.id}",
        detail={"name": name, "period": f"{period_start}/{period_end}", "shifts": len(shifts)},
    )
    session.flush()
    return get_roster(session=session, roster_id=roster.id, timezone=timezone)


def _roster(session: Session, roster_id: int) -> Roster:
    roster = session.get(Roster, roster_id)
    if roster is None:
        raise NotFound(f"no roster {roster_id}")
    return roster


def replace_shifts(
    *,
    session: Session,
    roster_id: int,
    shifts: Sequence[RosterShift],
    timezone: str,
    actor: str,
) -> RosterView:
    """Replace a draft roster's shifts by ``shifts`` (an edit), once they keep its rules."""
    roster = _roster(session, roster_id)
    if roster.status != DRAFT:
        raise Conflict(f"roster {roster_id} is {roster.status}; only a draft is edited")
    _checked(
        shifts,
        rules=_rules(roster.rules),
        period_start=roster.period_start,
        period_end=roster.period_end,
        timezone=timezone,
    )
    before = session.scalars(
        select(RosterShiftRow).where(RosterShiftRow.roster_id == roster_id)
    ).all()
    for row in before:
        session.delete(row)
    session.flush()
    session.add_all(_row(roster_id, s) for s in shifts)
    audit.record(
        session,
        actor=actor,
        action="roster.edit",
        target=f"roster:{roster_id}",
        detail={"shifts_before": len(before), "shifts_after": len(shifts)},
    )
    session.flush()
    return get_roster(session=session, roster_id=roster_id, timezone=timezone)


def publish(*, session: Session, roster_id: int, timezone: str, actor: str) -> list[int]:
    """Put a draft roster in force for its period; return the ids of the published rosters
    it supersedes (those whose period overlaps it)."""
    roster = _roster(session, roster_id)
    if roster.status != DRAFT:
        raise Conflict(f"roster {roster_id} is {roster.status}; only a draft is published")
    overlapping = session.scalars(
        select(Roster).where(
            Roster.status == PUBLISHED,
            Roster.period_start <= roster.period_end,
            Roster.period_end >= roster.period_start,
        )
    ).all()
    for old in overlapping:
        old.status = SUPERSEDED
    roster.status = PUBLISHED
    roster.published_by = actor
    roster.published_at = datetime.now(UTC)
    superseded = sorted(r.id for r in overlapping)
    audit.record(
        session,
        actor=actor,
        action="roster.publish",
        target=f"roster:{roster_id}",
        detail={
            "period": f"{roster.period_start}/{roster.period_end}",
            "superseded": superseded,
        },
    )
    session.flush()
    return superseded


def get_roster(*, session: Session, roster_id: int, timezone: str) -> RosterView:
    """A roster and its shifts (times in ``timezone``)."""
    roster = _roster(session, roster_id)
    zone = ZoneInfo(timezone)
    rows = session.scalars(
        select(RosterShiftRow)
        .where(RosterShiftRow.roster_id == roster_id)
        .order_by(RosterShiftRow.start_at, RosterShiftRow.agent_id)
    ).all()
    return _view(roster, [_shift(r, zone) for r in rows])


def _view(roster: Roster, shifts: list[RosterShift]) -> RosterView:
    return RosterView(
        id=roster.id,
        name=roster.name,
        period_start=roster.period_start,
        period_end=roster.period_end,
        status=roster.status,
        shrinkage=roster.shrinkage,
        rules=_rules(roster.rules),
        created_by=roster.created_by,
        created_at=roster.created_at,
        published_by=roster.published_by,
        published_at=roster.published_at,
        shifts=shifts,
    )


def list_rosters(*, session: Session, limit: int = 100) -> list[RosterView]:
    """The newest rosters first, without their shifts."""
    rows = session.scalars(select(Roster).order_by(Roster.id.desc()).limit(limit)).all()
    return [_view(r, []) for r in rows]


@dataclass(frozen=True)
class Published:
    """The published shifts over a window and the shrinkage the plans in force assumed."""

    shifts: list[RosterShift]
    assumed_shrinkage: float | None


def published_shifts(
    *,
    session: Session,
    since: datetime,
    until: datetime,
    timezone: str,
    agents: Collection[str] | None = None,
) -> Published:
    """The shifts in force overlapping [``since``, ``until``) of ``agents`` (everyone when
    ``None``), and the shrinkage their rosters assumed (the mean over the rosters, ``None``
    when no roster is in force)."""
    zone = ZoneInfo(timezone)
    query = (
        select(RosterShiftRow, Roster.shrinkage)
        .join(Roster, Roster.id == RosterShiftRow.roster_id)
        .where(
            Roster.status == PUBLISHED,
            RosterShiftRow.start_at < until,
            RosterShiftRow.end_at > since,
        )
        .order_by(RosterShiftRow.start_at, RosterShiftRow.agent_id)
    )
    if agents is not None:
        query = query.where(RosterShiftRow.agent_id.in_(list(agents)))
    rows = session.execute(query).all()
    assumed = {r.roster_id: float(s) for r, s in rows}
    return Published(
        [_shift(r, zone) for r, _ in rows],
        sum(assumed.values()) / len(assumed) if assumed else None,
    )


# --------------------------------------------------------------------------- swap and leave

LEAVE = "leave"
SWAP = "swap"
PENDING = "pending"


@dataclass(frozen=True)
class RequestView:
    """An agent's swap or leave request with the shifts it names."""

    id: int
    kind: str
    agent_id: str
    shift: RosterShift
    other_shift: RosterShift | None
    reason: str
    status: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    note: str


def _published_shift(session: Session, shift_id: int, field: str) -> RosterShiftRow:
    row = session.get(RosterShiftRow, shift_id)
    if row is None:
        raise ValidationFailed([Problem(rule=f"no shift {shift_id}", field=field)])
    roster = _roster(session, row.roster_id)
    if roster.status != PUBLISHED:
        raise ValidationFailed(
            [Problem(rule=f"shift {shift_id} is not in a published roster", field=field)]
        )
    return row


def _snapshot(row: RosterShiftRow) -> dict[str, Any]:
    """A shift as it was when a request named it (the row may later be gone or reassigned)."""
    return {
        "id": row.id,
        "agent_id": row.agent_id,
        "skill": row.skill,
        "start_at": row.start_at.astimezone(UTC).isoformat(),
        "end_at": row.end_at.astimezone(UTC).isoformat(),
        "breaks": row.breaks,
    }


def _from_snapshot(stored: dict[str, Any], zone: ZoneInfo) -> RosterShift:
    row = RosterShiftRow(
        id=stored["id"],
        agent_id=stored["agent_id"],
        skill=stored["skill"],
        start_at=datetime.fromisoformat(stored["start_at"]),
        end_at=datetime.fromisoformat(stored["end_at"]),
        breaks=stored["breaks"],
    )
    return _shift(row, zone)


def _request_view(request: RosterRequest, zone: ZoneInfo) -> RequestView:
    other = request.shifts.get("other")
    return RequestView(
        id=request.id,
        kind=request.kind,
        agent_id=request.agent_id,
        shift=_from_snapshot(request.shifts["shift"], zone),
        other_shift=_from_snapshot(other, zone) if other else None,
        reason=request.reason,
        status=request.status,
        requested_at=request.requested_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        note=request.note,
    )


def request_change(
    *,
    session: Session,
    kind: str,
    agent_id: str,
    shift_id: int,
    other_shift_id: int | None,
    reason: str,
    timezone: str,
    actor: str,
    now: datetime,
) -> RequestView:
    """An agent asks for leave from one of their published shifts not yet started, or to swap
    it with a colleague's (``other_shift_id``); a planner decides it."""
    if kind not in (LEAVE, SWAP):
        raise ValidationFailed([Problem(rule="a request is a leave or a swap", field="kind")])
    shift = _published_shift(session, shift_id, "shift_id")
    if shift.agent_id != agent_id:
        raise ValidationFailed([Problem(rule=f"shift {shift_id} is not yours", field="shift_id")])
    if shift.start_at <= now:
        raise ValidationFailed(
            [Problem(rule=f"shift {shift_id} has started; ask your team lead", field="shift_id")]
        )
    shifts = {"shift": _snapshot(shift)}
    if kind == SWAP:
        if other_shift_id is None:
            raise ValidationFailed(
                [Problem(rule="a swap names the colleague's shift", field="other_shift_id")]
            )
        other = _published_shift(session, other_shift_id, "other_shift_id")
        if other.agent_id == agent_id:
            raise ValidationFailed(
                [
                    Problem(
                        rule="swap with a colleague's shift, not your own", field="other_shift_id"
                    )
                ]
            )
        shifts["other"] = _snapshot(other)
    elif other_shift_id is not None:
        raise ValidationFailed(
            [Problem(rule="a leave request names only your shift", field="other_shift_id")]
        )
    pending = session.scalars(
        select(RosterRequest.id).where(
            RosterRequest.status == PENDING, RosterRequest.shift_id == shift_id
        )
    ).first()
    if pending is not None:
        raise Conflict(f"request {pending} for shift {shift_id} is already waiting")
    request = RosterRequest(
        kind=kind,
        agent_id=agent_id,
        shift_id=shift_id,
        other_shift_id=other_shift_id if kind == SWAP else None,
        reason=reason,
        status=PENDING,
        requested_by=actor,
        shifts=shifts,
        note="",
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"roster.request.{kind}",
        target=f"roster_request:{request.id}",
        detail={"shift": shift_id, "other_shift": other_shift_id, "reason": reason},
    )
    return _request_view(request, ZoneInfo(timezone))


def list_requests(
    *,
    session: Session,
    timezone: str,
    agent_id: str | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[RequestView]:
    """Requests newest first, of one agent and in one status when given."""
    query = select(RosterRequest).order_by(RosterRequest.id.desc()).limit(limit)
    if agent_id is not None:
        query = query.where(RosterRequest.agent_id == agent_id)
    if status is not None:
        query = query.where(RosterRequest.status == status)
    zone = ZoneInfo(timezone)
    return [_request_view(r, zone) for r in session.scalars(query)]


def decide_request(
    *,
    session: Session,
    request_id: int,
    approve: bool,
    note: str,
    timezone: str,
    actor: str,
    can_work: Callable[[str, str], bool],
) -> RequestView:
    """Approve or reject a pending request. Approving a leave takes the shift off the roster;
    approving a swap gives each agent the other's shift, once both can work its skill
    (``can_work(agent, skill)``) and the roster still keeps its rules. Audited."""
    request = session.get(RosterRequest, request_id)
    if request is None:
        raise NotFound(f"no request {request_id}")
    if request.status != PENDING:
        raise Conflict(f"request {request_id} is already {request.status}")
    if approve:
        _apply(session, request, can_work=can_work, zone=ZoneInfo(timezone))
    request.status = "approved" if approve else "rejected"
    request.decided_by = actor
    request.decided_at = datetime.now(UTC)
    request.note = note
    audit.record(
        session,
        actor=actor,
        action=f"roster.request.{request.status}",
        target=f"roster_request:{request_id}",
        detail={"kind": request.kind, "shift": request.shift_id, "note": note},
    )
    session.flush()
    return _request_view(request, ZoneInfo(timezone))


def _apply(
    session: Session,
    request: RosterRequest,
    *,
    can_work: Callable[[str, str], bool],
    zone: ZoneInfo,
) -> None:
    """Change the published roster as an approved request asks."""
    stale = Conflict(f"the roster changed since request {request.id}; ask again")
    shift = session.get(RosterShiftRow, request.shift_id)
    if shift is None or shift.agent_id != request.agent_id:
        raise stale
    roster = _roster(session, shift.roster_id)
    if roster.status != PUBLISHED:
        raise stale
    if request.kind == LEAVE:
        session.delete(shift)
        session.flush()
        return
    other = session.get(RosterShiftRow, request.other_shift_id or 0)
    if other is None or other.agent_id != request.shifts["other"]["agent_id"]:
        raise stale
    mine, theirs = shift.agent_id, other.agent_id
    problems = [
        Problem(rule=f"{agent} cannot work {row.skill}", field=field)
        for agent, row, field in ((theirs, shift, "shift_id"), (mine, other, "other_shift_id"))
        if not can_work(agent, row.skill)
    ]
    if problems:
        raise ValidationFailed(problems)
    shift.agent_id, other.agent_id = theirs, mine
    session.flush()
    rows = session.scalars(
        select(RosterShiftRow).where(
            RosterShiftRow.roster_id.in_({shift.roster_id, other.roster_id})
        )
    ).all()
    broken = [
        p
        for p in check_roster([_shift(r, zone) for r in rows], _rules(roster.rules))
        if rows[p.index].agent_id in (mine, theirs)
    ]
    if broken:
        shift.agent_id, other.agent_id = mine, theirs
        session.flush()
        raise ValidationFailed(
            [Problem(rule=f"after the swap: {p.problem}", field="approve") for p in broken]
        )


# --------------------------------------------------------------------------- forecast overrides


def _override(row: ForecastOverrideRow) -> ForecastOverride:
    return ForecastOverride(
        day=row.day,
        start=time.fromisoformat(row.start),
        end=time.fromisoformat(row.end),
        percent=row.percent,
        reason=row.reason,
        queue=row.queue,
        id=row.id,
    )


def add_override(*, session: Session, override: ForecastOverride, actor: str) -> ForecastOverride:
    """Keep a planner's correction of the forecast (audited); every forecast of its day and
    queue applies it from now on."""
    row = ForecastOverrideRow(
        queue=override.queue,
        day=override.day,
        start=f"{override.start:%H:%M}",
        end=f"{override.end:%H:%M}",
        percent=override.percent,
        reason=override.reason,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="forecast.override.create",
        target=f"forecast_override:{row.id}",
        detail={"line": override.describe()},
    )
    return _override(row)


def delete_override(*, session: Session, override_id: int, actor: str) -> None:
    """Withdraw a forecast override (audited, with what it said)."""
    row = session.get(ForecastOverrideRow, override_id)
    if row is None:
        raise NotFound(f"no forecast override {override_id}")
    line = _override(row).describe()
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        action="forecast.override.delete",
        target=f"forecast_override:{override_id}",
        detail={"line": line},
    )
    session.flush()


def list_overrides(*, session: Session, first_day: date, last_day: date) -> list[ForecastOverride]:
    """The overrides of [``first_day``, ``last_day``] for every queue, in time order."""
    rows = session.scalars(
        select(ForecastOverrideRow)
        .where(ForecastOverrideRow.day >= first_day, ForecastOverrideRow.day <= last_day)
        .order_by(ForecastOverrideRow.day, ForecastOverrideRow.start, ForecastOverrideRow.id)
    ).all()
    return [_override(r) for r in rows]


def overridden(
    *, session: Session, result: Forecast, queue: str | None
) -> tuple[Forecast, list[ForecastOverride]]:
    """``result`` (a forecast of ``queue``, of the whole center when ``None``) with the kept
    overrides that apply to it, and those overrides.

    A queue's forecast takes that queue's overrides and the center-wide ones; the whole
    center's forecast takes the center-wide ones only (a queue's correction cannot be placed
    in a total without that queue's own forecast).
    """
    first = result.history.day(result.origin)
    last = result.history.day(result.origin + result.offered.shape[0] - 1)
    applying = [
        o
        for o in list_overrides(session=session, first_day=first, last_day=last)
        if o.queue is None or o.queue == queue
    ]
    return apply_overrides(result, applying), applying


#: Weeks of history a stored forecast reads: the forecaster's training weeks, the weeks of
#: its pseudo-out-of-sample bounds and one to spare.
LOOKBACK_WEEKS = ForecastSettings().training_weeks + ForecastSettings().pseudo_origins + 1


@dataclass(frozen=True)
class PlannedForecast:
    """A forecast of whole days from the stored history, the overrides applied to it, and how
    many of its first days the history already holds (their actuals)."""

    forecast: Forecast
    overrides: list[ForecastOverride]
    actual_days: int

    def actual(self, day: int) -> tuple[list[float], list[float], list[float]] | None:
        """Offered, answered and handling seconds per interval of day ``day`` of the forecast
        as recorded so far (``None`` when the history does not reach it)."""
        if day >= self.actual_days:
            return None
        history, at = self.forecast.history, self.forecast.origin + day
        return (
            history.offered[at].tolist(),
            history.answered[at].tolist(),
            history.handle_s[at].tolist(),
        )


def stored_forecast(
    *,
    session: Session,
    timezone: str,
    first_day: date,
    days: int,
    queue: str | None = None,
    interval_s: int = 1800,
) -> PlannedForecast:
    """The forecast of ``days`` days from ``first_day`` (local) made from the contact history
    before ``first_day``, with the kept overrides applied, beside the actuals recorded on
    those days. Raises ``ValueError`` (in words) when the history cannot make one."""
    zone = ZoneInfo(timezone)
    # Only the weeks the forecaster learns from are read, however long the history is.
    since = datetime.combine(first_day - timedelta(weeks=LOOKBACK_WEEKS), time(), zone)
    until = datetime.combine(first_day + timedelta(days=days), time(), zone)
    try:
        history = files.history_from_store(
            session=session,
            interval_s=interval_s,
            timezone=timezone,
            queue=queue,
            queued_from=since.timestamp(),
            queued_until=until.timestamp(),
        )
    except ValueError:
        raise ValueError(
            f"no contacts{f' of queue {queue}' if queue else ''} queued from {since.date()} "
            f"to {first_day + timedelta(days=days - 1)} to forecast from"
        ) from None
    origin = (first_day - history.first_day).days
    if origin < 0:
        raise ValueError(
            f"the contact history starts on {history.first_day}: nothing before {first_day} "
            "to forecast it from"
        )
    if origin <= history.days:
        result = forecast(history, days=days, origin=origin)
    else:
        # Beyond the history: forecast from its end and keep the days asked for.
        ahead = origin - history.days
        whole = forecast(history, days=ahead + days)
        result = replace(
            whole,
            origin=origin,
            offered=whole.offered[ahead:],
            offered_low=whole.offered_low[ahead:],
            offered_high=whole.offered_high[ahead:],
            aht_s=whole.aht_s[ahead:],
            aht_s_low=whole.aht_s_low[ahead:],
            aht_s_high=whole.aht_s_high[ahead:],
            labels=whole.labels[ahead:],
        )
    result, applied = overridden(session=session, result=result, queue=queue)
    return PlannedForecast(result, applied, max(0, min(days, history.days - origin)))
