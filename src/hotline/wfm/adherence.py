"""Schedule adherence and conformance from agent-state events.

A schedule says what each agent should be doing minute by minute: on the phones, on a break,
or not working. The contact event log says what they did: ``agent_state`` events
(:data:`hotline.core.events.EventKind.AGENT_STATE`) carry the derived state (``available``,
``reserved``, ``on_contact``, ``wrap_up``, ``not_ready`` with a reason code, ``logged_out``).

* **adherence** (METRICS.md) — minutes spent in the scheduled activity ÷ scheduled minutes,
  counted only over scheduled time: *when* the agent worked matters;
* **conformance** — minutes actually on the phones ÷ minutes scheduled on the phones, over the
  whole window: *how much* the agent worked, whenever it was;
* **exceptions** — each stretch, longer than a grace period, in which the agent did something
  other than the schedule said (late log-in, long lunch, unscheduled break).

Pure: works on plain timestamps (epoch seconds) and events; no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hotline.core.events import Event, EventKind

PHONES = "phones"
BREAK = "break"
OFF = "off"
OTHER = "other"

#: How an agent state maps to an activity; ``not_ready`` goes through the reason codes.
STATE_ACTIVITY: Mapping[str, str] = {
    "available": PHONES,
    "reserved": PHONES,
    "on_contact": PHONES,
    "wrap_up": PHONES,
    "logged_out": OFF,
}
#: Default reason codes that count as a scheduled break (the center can pass its own).
BREAK_REASONS: frozenset[str] = frozenset({"break", "lunch", "meal", "rest"})


@dataclass(frozen=True, slots=True)
class ScheduledActivity:
    """One scheduled stretch of an agent's day: ``activity`` from ``start`` to ``end``."""

    agent_id: str
    start: float
    end: float
    activity: str = PHONES


@dataclass(frozen=True, slots=True)
class AdherenceException:
    """A stretch in which the agent was out of adherence."""

    agent_id: str
    start: float
    end: float
    scheduled: str
    actual: str

    @property
    def minutes(self) -> float:
        """Length of the exception in minutes."""
        return (self.end - self.start) / 60.0


@dataclass(frozen=True, slots=True)
class AdherenceFigures:
    """Adherence and conformance of one agent (or a team: the sums of its agents)."""

    name: str
    scheduled_minutes: float
    adherent_minutes: float
    scheduled_phone_minutes: float
    actual_phone_minutes: float

    @property
    def adherence(self) -> float | None:
        """Minutes in the scheduled activity ÷ scheduled minutes."""
        if self.scheduled_minutes <= 0:
            return None
        return self.adherent_minutes / self.scheduled_minutes

    @property
    def conformance(self) -> float | None:
        """Minutes on the phones ÷ minutes scheduled on the phones."""
        if self.scheduled_phone_minutes <= 0:
            return None
        return self.actual_phone_minutes / self.scheduled_phone_minutes

    def as_row(self) -> dict[str, object]:
        """A flat row for tables and JSON."""
        return {
            "name": self.name,
            "scheduled_minutes": round(self.scheduled_minutes, 1),
            "adherent_minutes": round(self.adherent_minutes, 1),
            "adherence": None if self.adherence is None else round(self.adherence, 4),
            "scheduled_phone_minutes": round(self.scheduled_phone_minutes, 1),
            "actual_phone_minutes": round(self.actual_phone_minutes, 1),
            "conformance": None if self.conformance is None else round(self.conformance, 4),
        }


@dataclass(frozen=True)
class AdherenceReport:
    """Per-agent and per-team figures and the exceptions list for one window."""

    window_start: float
    window_end: float
    agents: list[AdherenceFigures]
    teams: list[AdherenceFigures]
    exceptions: list[AdherenceException]


def _actual_timeline(
    events: Iterable[Event],
    *,
    window_start: float,
    window_end: float,
    break_reasons: frozenset[str],
) -> dict[str, list[tuple[float, float, str]]]:
    """Per agent, the (start, end, activity) stretches inside the window, from state events.

    Before an agent's first event in the window the state is taken from the last event
    before the window, else ``off``.
    """
    last: dict[str, tuple[float, str]] = {}
    stretches: dict[str, list[tuple[float, float, str]]] = {}
    ordered = sorted(
        (e for e in events if e.kind is EventKind.AGENT_STATE and e.agent_id),
        key=lambda e: (e.at, e.seq),
    )
    for event in ordered:
        agent = str(event.agent_id)
        state = str(event.data.get("state", "logged_out"))
        activity = STATE_ACTIVITY.get(state)
        if activity is None:
            reason = str(event.data.get("reason") or "").lower()
            activity = BREAK if reason in break_reasons else OTHER
        at = min(max(event.at, window_start), window_end)
        if agent in last:
            since, previous = last[agent]
            if at > since:
                stretches.setdefault(agent, []).append((since, at, previous))
        elif at > window_start:
            stretches.setdefault(agent, []).append((window_start, at, OFF))
        last[agent] = (at, activity)
    for agent, (since, activity) in last.items():
        if window_end > since:
            stretches.setdefault(agent, []).append((since, window_end, activity))
    return stretches


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def adherence_report(
    *,
    schedule: Sequence[ScheduledActivity],
    events: Iterable[Event],
    window_start: float,
    window_end: float,
    teams: Mapping[str, str] | None = None,
    grace_s: float = 300.0,
    break_reasons: Iterable[str] = BREAK_REASONS,
) -> AdherenceReport:
    """Adherence, conformance and exceptions over ``[window_start, window_end)``.

    Exceptions shorter than ``grace_s`` (default 5 minutes) are not listed but still count
    in the figures.

    >>> from hotline.core.events import Event, EventKind
    >>> plan = [ScheduledActivity("ann", 0, 3600), ScheduledActivity("ann", 3600, 5400, "break"),
    ...         ScheduledActivity("ann", 5400, 7200)]
    >>> log = [Event(1, 600, EventKind.AGENT_STATE, agent_id="ann", data={"state": "available"}),
    ...        Event(2, 3600, EventKind.AGENT_STATE, agent_id="ann",
    ...              data={"state": "not_ready", "reason": "lunch"}),
    ...        Event(3, 5400, EventKind.AGENT_STATE, agent_id="ann", data={"state": "available"})]
    >>> report = adherence_report(schedule=plan, events=log, window_start=0, window_end=7200)
    >>> ann = report.agents[0]
    >>> round(ann.adherence, 3), round(ann.conformance, 3), report.exceptions[0].minutes
    (0.917, 0.889, 10.0)
    """
    reasons = frozenset(r.lower() for r in break_reasons)
    actual = _actual_timeline(
        events, window_start=window_start, window_end=window_end, break_reasons=reasons
    )
    planned: dict[str, list[ScheduledActivity]] = {}
    for item in schedule:
        if item.end > window_start and item.start < window_end:
            planned.setdefault(item.agent_id, []).append(item)
    agents = sorted(set(planned) | set(actual))
    figures: list[AdherenceFigures] = []
    exceptions: list[AdherenceException] = []
    for agent in agents:
        plan = sorted(planned.get(agent, []), key=lambda p: p.start)
        stretches = actual.get(agent, [])
        scheduled = adherent = scheduled_phones = 0.0
        for item in plan:
            start, end = max(item.start, window_start), min(item.end, window_end)
            scheduled += end - start
            if item.activity == PHONES:
                scheduled_phones += end - start
            for s0, s1, activity in stretches:
                if activity == item.activity:
                    adherent += _overlap(start, end, s0, s1)
        actual_phones = sum(s1 - s0 for s0, s1, activity in stretches if activity == PHONES)
        figures.append(
            AdherenceFigures(
                agent, scheduled / 60, adherent / 60, scheduled_phones / 60, actual_phones / 60
            )
        )
        exceptions.extend(
            _exceptions(
                agent,
                plan=plan,
                stretches=stretches,
                window_start=window_start,
                window_end=window_end,
                grace_s=grace_s,
            )
        )
    team_figures: list[AdherenceFigures] = []
    if teams:
        grouped: dict[str, list[AdherenceFigures]] = {}
        for f in figures:
            grouped.setdefault(teams.get(f.name, "(no team)"), []).append(f)
        for team, members in sorted(grouped.items()):
            team_figures.append(
                AdherenceFigures(
                    team,
                    sum(m.scheduled_minutes for m in members),
                    sum(m.adherent_minutes for m in members),
                    sum(m.scheduled_phone_minutes for m in members),
                    sum(m.actual_phone_minutes for m in members),
                )
            )
    exceptions.sort(key=lambda e: (e.start, e.agent_id))
    return AdherenceReport(window_start, window_end, figures, team_figures, exceptions)


def _exceptions(
    agent: str,
    *,
    plan: Sequence[ScheduledActivity],
    stretches: Sequence[tuple[float, float, str]],
    window_start: float,
    window_end: float,
    grace_s: float,
) -> list[AdherenceException]:
    """Merge the scheduled and actual timelines and keep the mismatching stretches."""
    cuts = {window_start, window_end}
    for item in plan:
        cuts.update((max(item.start, window_start), min(item.end, window_end)))
    for s0, s1, _ in stretches:
        cuts.update((s0, s1))
    points = sorted(c for c in cuts if window_start <= c <= window_end)
    found: list[AdherenceException] = []
    current: AdherenceException | None = None
    for a, b in itertools.pairwise(points):
        middle = (a + b) / 2
        wanted = next((p.activity for p in plan if p.start <= middle < p.end), OFF)
        did = next((act for s0, s1, act in stretches if s0 <= middle < s1), OFF)
        if wanted == did:
            if current is not None:
                found.append(current)
                current = None
            continue
        if (
            current is not None
            and (current.scheduled, current.actual) == (wanted, did)
            and current.end == a
        ):
            current = AdherenceException(agent, current.start, b, wanted, did)
        else:
            if current is not None:
                found.append(current)
            current = AdherenceException(agent, a, b, wanted, did)
    if current is not None:
        found.append(current)
    return [e for e in found if e.end - e.start >= grace_s]
