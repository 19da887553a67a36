"""Rosters: the shifts a planner publishes, the rules they must keep, and what agents did.

A schedule (:mod:`hotline.wfm.schedule`) is the solver's proposal; a **roster** is what the
planner keeps, edits by hand and publishes for a period, so agents know when they work and
the floor can hold them to it. Each shift is one agent's stretch on the phones on one skill,
with its breaks (a paid ``break`` or an unpaid ``lunch``) inside it.

The labour rules a roster keeps (:class:`ShiftRules`) are checked on every edit, each
violation located at the shift (and field) that breaks it:

* a shift lasts between ``min_shift_hours`` and ``max_shift_hours``;
* an agent works at most ``max_week_hours`` paid hours per ISO week;
* between the end of one shift and the start of the agent's next, ``min_rest_hours``;
* a shift longer than ``break_after_hours`` has at least ``min_break_minutes`` of breaks;
* breaks lie inside their shift and do not overlap; one agent's shifts do not overlap.

Against what agents did (their ``agent_state`` events), a published roster gives
**attendance** — late (first on the phones more than a grace period after the shift
starts), absent (never on the phones in a shift that has ended), early leave (off the
phones for good more than a grace period before the end) — and **shrinkage by reason
code**: the share of scheduled phone time lost to each not-ready reason or to absence,
compared with the share the plan assumed when it sized the heads
(:func:`hotline.wfm.erlang.scheduled_heads`).

Pure: plain data and events in, figures out; no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hotline.core.events import Event, EventKind
from hotline.wfm.adherence import BREAK, PHONES, ScheduledActivity
from hotline.wfm.schedule import Assignment, ShiftTemplate

#: The kinds of break a shift holds; a lunch is unpaid.
BREAK_KINDS: tuple[str, ...] = ("break", "lunch")
#: Time lost with no agent-state reason: the agent was logged out during scheduled time.
ABSENCE = "absence"


@dataclass(frozen=True, slots=True)
class ShiftRules:
    """The labour rules every shift of a roster keeps (hours, rest, breaks)."""

    min_shift_hours: float = 4.0
    max_shift_hours: float = 10.0
    max_week_hours: float = 40.0
    min_rest_hours: float = 11.0
    break_after_hours: float = 6.0
    min_break_minutes: float = 30.0


@dataclass(frozen=True, slots=True)
class RosterBreak:
    """A break inside a shift, from ``start`` to ``end``; ``kind`` is ``break`` or ``lunch``."""

    start: datetime
    end: datetime
    kind: str = "break"


@dataclass(frozen=True, slots=True)
class RosterShift:
    """One agent's shift: on the phones on ``skill`` from ``start`` to ``end`` (time-zone
    aware), less its breaks."""

    agent_id: str
    start: datetime
    end: datetime
    skill: str = "default"
    breaks: tuple[RosterBreak, ...] = ()
    #: The stored shift's id (``None`` before it is saved).
    shift_id: int | None = None

    @property
    def hours(self) -> float:
        """Length of the shift in hours, breaks included."""
        return (self.end - self.start).total_seconds() / 3600

    @property
    def paid_hours(self) -> float:
        """Hours paid: the shift less its lunches."""
        unpaid = sum((b.end - b.start).total_seconds() for b in self.breaks if b.kind == "lunch")
        return self.hours - unpaid / 3600

    def activities(self) -> list[ScheduledActivity]:
        """The shift as adherence reads it: phones around the breaks, each break a ``break``.

        >>> from datetime import UTC
        >>> at = lambda h, m=0: datetime(2026, 3, 2, h, m, tzinfo=UTC)
        >>> s = RosterShift("a001", at(8), at(12), breaks=(RosterBreak(at(10), at(10, 15)),))
        >>> [(a.activity, (a.end - a.start) / 60) for a in s.activities()]
        [('phones', 120.0), ('break', 15.0), ('phones', 105.0)]
        """
        out: list[ScheduledActivity] = []
        cursor = self.start.timestamp()
        for brk in sorted(self.breaks, key=lambda b: b.start):
            b0, b1 = brk.start.timestamp(), brk.end.timestamp()
            if b0 > cursor:
                out.append(ScheduledActivity(self.agent_id, cursor, b0, PHONES))
            out.append(ScheduledActivity(self.agent_id, b0, b1, BREAK))
            cursor = max(cursor, b1)
        if self.end.timestamp() > cursor:
            out.append(ScheduledActivity(self.agent_id, cursor, self.end.timestamp(), PHONES))
        return out


@dataclass(frozen=True, slots=True)
class RosterProblem:
    """A rule a roster breaks, located at ``shifts[index].field``."""

    index: int
    field: str
    problem: str

    @property
    def location(self) -> str:
        """Where the problem is, as a request body names it (``shifts[2].end``)."""
        return f"shifts[{self.index}].{self.field}" if self.field else f"shifts[{self.index}]"


def _hours(value: float) -> str:
    return f"{value:g} h" if value == round(value, 2) else f"{value:.2f} h"


def _label(shift: RosterShift) -> str:
    return f"{shift.agent_id} on {shift.start:%Y-%m-%d %H:%M}"


def check_roster(shifts: Sequence[RosterShift], rules: ShiftRules) -> list[RosterProblem]:
    """Every rule of ``rules`` the shifts break, in the order of the shifts.

    >>> from datetime import UTC
    >>> at = lambda d, h: datetime(2026, 3, d, h, tzinfo=UTC)
    >>> long = RosterShift("a001", at(2, 8), at(2, 20))
    >>> [p.location + ": " + p.problem for p in check_roster([long], ShiftRules())]
    ['shifts[0].end: a001 on 2026-03-02 08:00 lasts 12 h; a shift lasts at most 10 h', \
'shifts[0].breaks: a001 on 2026-03-02 08:00 lasts 12 h with 0 min of breaks; a shift over 6 h \
needs at least 30 min']
    """
    problems: list[RosterProblem] = []
    for i, shift in enumerate(shifts):
        label = _label(shift)
        if shift.end <= shift.start:
            problems.append(RosterProblem(i, "end", f"{label} ends before it starts"))
            continue
        if shift.hours < rules.min_shift_hours - 1e-9:
            problems.append(
                RosterProblem(
                    i,
                    "end",
                    f"{label} lasts {_hours(shift.hours)}; a shift lasts at least "
                    f"{_hours(rules.min_shift_hours)}",
                )
            )
        if shift.hours > rules.max_shift_hours + 1e-9:
            problems.append(
                RosterProblem(
                    i,
                    "end",
                    f"{label} lasts {_hours(shift.hours)}; a shift lasts at most "
                    f"{_hours(rules.max_shift_hours)}",
                )
            )
        problems.extend(_break_problems(i, shift, rules))
    by_agent: dict[str, list[int]] = {}
    for i, shift in enumerate(shifts):
        if shift.end > shift.start:
            by_agent.setdefault(shift.agent_id, []).append(i)
    for indexes in by_agent.values():
        ordered = sorted(indexes, key=lambda i: shifts[i].start)
        for before, after in itertools.pairwise(ordered):
            first, second = shifts[before], shifts[after]
            gap = (second.start - first.end).total_seconds() / 3600
            if gap < 0:
                problems.append(
                    RosterProblem(after, "start", f"{_label(second)} overlaps {_label(first)}")
                )
            elif gap < rules.min_rest_hours - 1e-9:
                problems.append(
                    RosterProblem(
                        after,
                        "start",
                        f"{_label(second)} starts {_hours(gap)} after the shift before ends; "
                        f"at least {_hours(rules.min_rest_hours)} of rest between shifts",
                    )
                )
        weeks: dict[tuple[int, int], float] = {}
        last_of_week: dict[tuple[int, int], int] = {}
        for i in ordered:
            week = shifts[i].start.isocalendar()[:2]
            weeks[week] = weeks.get(week, 0.0) + shifts[i].paid_hours
            last_of_week[week] = i
        for week, hours in weeks.items():
            if hours > rules.max_week_hours + 1e-9:
                i = last_of_week[week]
                problems.append(
                    RosterProblem(
                        i,
                        "",
                        f"{shifts[i].agent_id} works {_hours(hours)} paid in week "
                        f"{week[0]}-W{week[1]:02d}; at most {_hours(rules.max_week_hours)}",
                    )
                )
    problems.sort(key=lambda p: p.index)
    return problems


def _break_problems(i: int, shift: RosterShift, rules: ShiftRules) -> list[RosterProblem]:
    label = _label(shift)
    problems = []
    ordered = sorted(shift.breaks, key=lambda b: b.start)
    for brk in ordered:
        if brk.kind not in BREAK_KINDS:
            problems.append(
                RosterProblem(i, "breaks", f"{label}: a break is a {' or a '.join(BREAK_KINDS)}")
            )
        if brk.end <= brk.start or brk.start < shift.start or brk.end > shift.end:
            problems.append(
                RosterProblem(
                    i,
                    "breaks",
                    f"{label}: the {brk.kind} {brk.start:%H:%M}-{brk.end:%H:%M} is not inside "
                    f"the shift {shift.start:%H:%M}-{shift.end:%H:%M}",
                )
            )
    for first, second in itertools.pairwise(ordered):
        if second.start < first.end:
            problems.append(
                RosterProblem(
                    i,
                    "breaks",
                    f"{label}: the breaks at {first.start:%H:%M} and {second.start:%H:%M} overlap",
                )
            )
    minutes = sum((b.end - b.start).total_seconds() for b in shift.breaks) / 60
    if shift.hours > rules.break_after_hours + 1e-9 and minutes < rules.min_break_minutes - 1e-9:
        problems.append(
            RosterProblem(
                i,
                "breaks",
                f"{label} lasts {_hours(shift.hours)} with {minutes:g} min of breaks; a shift "
                f"over {_hours(rules.break_after_hours)} needs at least "
                f"{rules.min_break_minutes:g} min",
            )
        )
    return problems


def activities(shifts: Iterable[RosterShift]) -> list[ScheduledActivity]:
    """Every shift's scheduled activities, for :func:`hotline.wfm.adherence.adherence_report`."""
    return [a for shift in shifts for a in shift.activities()]


# --------------------------------------------------------------------------- attendance


@dataclass(frozen=True, slots=True)
class Attendance:
    """How an agent kept one shift: minutes late, absent, minutes left early.

    ``late_minutes`` and ``early_leave_minutes`` are 0 within the grace period; a shift not
    started yet has ``started`` false and nothing else set.
    """

    agent_id: str
    shift_start: datetime
    shift_end: datetime
    started: bool
    absent: bool
    late_minutes: float
    early_leave_minutes: float


def state_stretches(
    events: Iterable[Event], *, agent_id: str, since: float, until: float
) -> list[tuple[float, float, str, str]]:
    """The agent's (start, end, state, reason) stretches over [``since``, ``until``), from
    their ``agent_state`` events; before the first event the agent is ``logged_out``.

    >>> log = [Event(1, 100, EventKind.AGENT_STATE, agent_id="a", data={"state": "available"}),
    ...        Event(2, 200, EventKind.AGENT_STATE, agent_id="a",
    ...              data={"state": "not_ready", "reason": "Training"})]
    >>> state_stretches(log, agent_id="a", since=0.0, until=300.0)
    [(0.0, 100.0, 'logged_out', ''), (100.0, 200.0, 'available', ''), \
(200.0, 300.0, 'not_ready', 'training')]
    """
    ordered = sorted(
        (e for e in events if e.kind is EventKind.AGENT_STATE and e.agent_id == agent_id),
        key=lambda e: (e.at, e.seq),
    )
    current: tuple[float, str, str] = (since, "logged_out", "")
    out: list[tuple[float, float, str, str]] = []
    for event in ordered:
        state = str(event.data.get("state", "logged_out"))
        reason = str(event.data.get("reason") or "").lower() if state == "not_ready" else ""
        at = min(max(event.at, since), until)
        if at > current[0]:
            out.append((current[0], at, current[1], current[2]))
        current = (max(at, current[0]), state, reason)
    if until > current[0]:
        out.append((current[0], until, current[1], current[2]))
    return out


def _working(state: str) -> bool:
    return state != "logged_out"


def attendance(
    shifts: Sequence[RosterShift], events: Sequence[Event], *, now: float, grace_s: float = 300.0
) -> list[Attendance]:
    """Late, absent and early leave per shift, as far as ``now`` (epoch seconds) has come.

    Logged in (any state but ``logged_out``) counts as present: a not-ready agent came to
    work; what they did with the time is adherence's and shrinkage's business.
    """
    out = []
    for shift in shifts:
        start, end = shift.start.timestamp(), shift.end.timestamp()
        if now <= start:
            out.append(Attendance(shift.agent_id, shift.start, shift.end, False, False, 0.0, 0.0))
            continue
        seen = min(now, end)
        stretches = state_stretches(events, agent_id=shift.agent_id, since=start, until=seen)
        present = [(s0, s1) for s0, s1, state, _ in stretches if _working(state)]
        absent = not present and now >= end
        late = 0.0
        if present:
            late = present[0][0] - start
        elif not absent:
            late = seen - start
        early = 0.0
        if present and now >= end:
            early = end - present[-1][1]
        out.append(
            Attendance(
                shift.agent_id,
                shift.start,
                shift.end,
                True,
                absent,
                late / 60 if late > grace_s and not absent else 0.0,
                early / 60 if early > grace_s else 0.0,
            )
        )
    return out


# --------------------------------------------------------------------------- shrinkage


@dataclass(frozen=True)
class Shrinkage:
    """Scheduled phone minutes lost, per reason code (``absence`` for logged out), as a share
    of the scheduled phone minutes, beside the share the plan assumed."""

    scheduled_minutes: float
    lost_minutes: dict[str, float]
    assumed: float

    @property
    def total(self) -> float | None:
        """Share of scheduled phone time lost for any reason (``None``: nothing scheduled)."""
        if self.scheduled_minutes <= 0:
            return None
        return sum(self.lost_minutes.values()) / self.scheduled_minutes

    def by_reason(self) -> dict[str, float]:
        """Each reason's share of the scheduled phone time."""
        if self.scheduled_minutes <= 0:
            return {}
        return {r: m / self.scheduled_minutes for r, m in sorted(self.lost_minutes.items())}


def shrinkage(
    shifts: Sequence[RosterShift], events: Sequence[Event], *, now: float, assumed: float
) -> Shrinkage:
    """Shrinkage measured over the scheduled phone time elapsed by ``now``.

    Time an agent scheduled on the phones spent ``not_ready`` counts against its reason code
    (``not_ready`` with no reason as ``not_ready``), logged out as ``absence``; a scheduled
    break taken at its time is not shrinkage (the roster already left it out).

    >>> from datetime import UTC
    >>> shift = RosterShift("a", datetime.fromtimestamp(0, UTC), datetime.fromtimestamp(3600, UTC))
    >>> log = [Event(1, 0, EventKind.AGENT_STATE, agent_id="a", data={"state": "available"}),
    ...        Event(2, 2700, EventKind.AGENT_STATE, agent_id="a",
    ...              data={"state": "not_ready", "reason": "training"})]
    >>> s = shrinkage([shift], log, now=3600, assumed=0.3)
    >>> s.lost_minutes, round(s.total or 0, 2)
    ({'training': 15.0}, 0.25)
    """
    scheduled = 0.0
    lost: dict[str, float] = {}
    for shift in shifts:
        for item in shift.activities():
            if item.activity != PHONES or item.start >= now:
                continue
            until = min(item.end, now)
            scheduled += until - item.start
            for s0, s1, state, reason in state_stretches(
                events, agent_id=shift.agent_id, since=item.start, until=until
            ):
                if state == "logged_out":
                    key = ABSENCE
                elif state == "not_ready":
                    key = reason or "not_ready"
                else:
                    continue
                lost[key] = lost.get(key, 0.0) + (s1 - s0) / 60
    return Shrinkage(scheduled / 60, lost, assumed)


def roster_rows(
    assignments: Iterable[Assignment], *, interval_s: int, templates: Sequence[ShiftTemplate]
) -> list[dict[str, object]]:
    """The solver's shifts as a draft roster takes them (``POST /api/wfm/rosters``): local
    clock times, each break a ``lunch`` when its template's break is unpaid, else a ``break``.
    A time of 24:00 is written 00:00 (an end not after the start falls on the next day).

    >>> from datetime import date
    >>> from hotline.wfm.schedule import Assignment, Break, ShiftTemplate
    >>> day = ShiftTemplate("day", start=16, length=18, breaks=(Break(2, 8, 10, paid=False),))
    >>> shift = Assignment("a001", date(2026, 3, 2), "day", "repair", 16, 34, ((24, 26),), 8.0)
    >>> roster_rows([shift], interval_s=1800, templates=[day])
    [{'agent': 'a001', 'date': '2026-03-02', 'start': '08:00', 'end': '17:00', 'skill': 'repair', \
'breaks': [{'start': '12:00', 'end': '13:00', 'kind': 'lunch'}]}]
    """
    by_name = {t.name: t for t in templates}

    def clock(slot: int) -> str:
        seconds = slot * interval_s % 86400
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"

    rows: list[dict[str, object]] = []
    for a in assignments:
        kinds = [("break" if b.paid else "lunch") for b in by_name[a.template].breaks]
        rows.append(
            {
                "agent": a.agent_id,
                "date": a.day.isoformat(),
                "start": clock(a.start),
                "end": clock(a.end),
                "skill": a.skill,
                "breaks": [
                    {"start": clock(b0), "end": clock(b1), "kind": kind}
                    for (b0, b1), kind in zip(a.breaks, kinds, strict=True)
                ],
            }
        )
    return rows


def coverage(
    shifts: Iterable[RosterShift], *, day_start: datetime, interval_s: int, slots: int
) -> list[float]:
    """Heads on shift and off break per interval from ``day_start``: each shift counts for
    the share of the interval it covers, less its breaks (an agent on shift for the second
    half of an interval is half a head there).

    >>> from datetime import UTC
    >>> at = lambda h: datetime(2026, 3, 2, tzinfo=UTC) + timedelta(hours=h)
    >>> s = RosterShift("a001", at(8.5), at(11), breaks=(RosterBreak(at(9.5), at(9.75)),))
    >>> coverage([s], day_start=at(8), interval_s=1800, slots=7)
    [0.0, 1.0, 1.0, 0.5, 1.0, 1.0, 0.0]
    """
    heads = [0.0] * slots
    end_of_day = day_start + timedelta(seconds=interval_s * slots)
    for shift in shifts:
        pieces = [(shift.start, shift.end, 1.0)] + [(b.start, b.end, -1.0) for b in shift.breaks]
        for begins, ends, sign in pieces:
            start, end = max(begins, day_start), min(ends, end_of_day)
            if end <= start:
                continue
            first = int((start - day_start).total_seconds() // interval_s)
            last = int(((end - day_start).total_seconds() - 1e-9) // interval_s)
            for slot in range(first, min(last, slots - 1) + 1):
                begin = day_start + timedelta(seconds=slot * interval_s)
                overlap = min(end, begin + timedelta(seconds=interval_s)) - max(start, begin)
                heads[slot] += sign * overlap.total_seconds() / interval_s
    return [round(h, 4) for h in heads]
