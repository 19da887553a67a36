"""Agents held to the published roster: adherence, attendance and shrinkage by reason.

A composition above two domains: the shifts in force come from the workforce service
(:func:`hotline.wfm.service.published_shifts`), what agents did from the agent-state events
of the contact event log (:func:`hotline.metrics.service.agent_state_events`, live and
simulated alike), and the figures from the pure WFM rules (:mod:`hotline.wfm.adherence`,
:mod:`hotline.wfm.roster`). Only scheduled time that has already passed counts: an agent is
not out of adherence for a shift that has not begun.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.metrics import service as metrics
from hotline.wfm import service as wfm
from hotline.wfm.adherence import AdherenceException, AdherenceFigures, adherence_report
from hotline.wfm.roster import Attendance, RosterShift, Shrinkage, activities, attendance, shrinkage


@dataclass(frozen=True)
class ScheduleFigures:
    """Over one window: the shifts in force, each agent's adherence (only agents with
    scheduled time so far), the exceptions, attendance per shift, and shrinkage by reason
    beside the plan's assumption (``None`` when no roster is in force)."""

    shifts: list[RosterShift]
    adherence: dict[str, AdherenceFigures]
    exceptions: list[AdherenceException]
    attendance: list[Attendance]
    shrinkage: Shrinkage | None


def schedule_figures(
    *,
    session: Session,
    since: datetime,
    until: datetime,
    now: datetime,
    timezone: str,
    agents: Collection[str] | None = None,
    grace_s: float = 300.0,
) -> ScheduleFigures:
    """Adherence, attendance and shrinkage of ``agents`` (everyone when ``None``) against the
    published roster over [``since``, ``until``), counted up to ``now``."""
    published = wfm.published_shifts(
        session=session, since=since, until=until, timezone=timezone, agents=agents
    )
    start = since.timestamp()
    end = min(until.timestamp(), now.timestamp())
    if not published.shifts or end <= start:
        return ScheduleFigures(published.shifts, {}, [], [], None)
    events = metrics.agent_state_events(session=session, since=start, until=end, agents=agents)
    report = adherence_report(
        schedule=activities(published.shifts),
        events=events,
        window_start=start,
        window_end=end,
        grace_s=grace_s,
    )
    scheduled = {f.name: f for f in report.agents if f.scheduled_minutes > 0}
    in_window = [s for s in published.shifts if s.start >= since and s.start < until]
    return ScheduleFigures(
        shifts=published.shifts,
        adherence=scheduled,
        exceptions=[e for e in report.exceptions if e.agent_id in scheduled],
        attendance=attendance(in_window, events, now=end, grace_s=grace_s),
        shrinkage=shrinkage(in_window, events, now=end, assumed=published.assumed_shrinkage or 0.0),
    )
