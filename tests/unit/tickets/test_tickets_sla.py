"""SLA clocks: first response, next update, resolution, pauses, warnings and escalation."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta

from hotline.core.calendar import BusinessCalendar
from hotline.tickets import figures, sla
from hotline.tickets.sla import HOUR, ClockName, ClockState, SlaPolicy, Timeline, evaluate

CAL = BusinessCalendar.weekdays("UTC", "09:00-17:00")
POLICY = SlaPolicy("test", first_response_s=2 * HOUR, next_update_s=4 * HOUR, resolution_s=8 * HOUR)
MONDAY_9 = datetime(2026, 11, 23, 9, tzinfo=UTC)
H = timedelta(hours=1)


def by_clock(statuses: list[sla.ClockStatus]) -> dict[ClockName, sla.ClockStatus]:
    return {s.clock: s for s in statuses}


def test_doctests_pass() -> None:
    assert doctest.testmod(sla).failed == 0
    assert doctest.testmod(figures).failed == 0


def test_clocks_run_warn_and_breach_in_business_time() -> None:
    timeline = Timeline(created_at=MONDAY_9)
    assert (
        by_clock(evaluate(POLICY, timeline, CAL, MONDAY_9 + H))[ClockName.FIRST_RESPONSE].state
        is ClockState.RUNNING
    )
    warn = by_clock(evaluate(POLICY, timeline, CAL, MONDAY_9 + 1.7 * H))[ClockName.FIRST_RESPONSE]
    assert warn.state is ClockState.WARNING
    assert warn.due_at == MONDAY_9 + 2 * H
    late = by_clock(evaluate(POLICY, timeline, CAL, MONDAY_9 + 3 * H))
    assert late[ClockName.FIRST_RESPONSE].state is ClockState.BREACHED
    assert late[ClockName.NEXT_UPDATE].state is ClockState.NOT_STARTED
    # Resolution: 8 business hours from Monday 09:00 is due Monday 17:00; overnight is free.
    overnight = by_clock(evaluate(POLICY, timeline, CAL, MONDAY_9 + 23 * H))[ClockName.RESOLUTION]
    assert overnight.elapsed_s == 8 * HOUR and overnight.state is ClockState.WARNING


def test_waiting_on_customer_stops_the_clocks() -> None:
    timeline = Timeline(
        created_at=MONDAY_9,
        first_response_at=MONDAY_9 + 0.5 * H,
        pauses=((MONDAY_9 + H, MONDAY_9 + 4 * H),),
        paused_since=MONDAY_9 + 5 * H,
    )
    clocks = by_clock(evaluate(POLICY, timeline, CAL, MONDAY_9 + 7 * H))
    resolution = clocks[ClockName.RESOLUTION]
    assert resolution.elapsed_s == 2 * HOUR  # 09-10 and 13-14; paused 10-13 and since 14
    assert resolution.state is ClockState.PAUSED and resolution.due_at is None
    assert clocks[ClockName.FIRST_RESPONSE].state is ClockState.MET


def test_next_update_restarts_with_each_update_and_stops_at_resolution() -> None:
    timeline = Timeline(
        created_at=MONDAY_9, first_response_at=MONDAY_9 + H, last_update_at=MONDAY_9 + 5 * H
    )
    update = by_clock(evaluate(POLICY, timeline, CAL, MONDAY_9 + 7 * H))[ClockName.NEXT_UPDATE]
    assert update.elapsed_s == 2 * HOUR and update.state is ClockState.RUNNING
    done = Timeline(**{**timeline.__dict__, "resolved_at": MONDAY_9 + 6 * H})
    clocks = by_clock(evaluate(POLICY, done, CAL, MONDAY_9 + 30 * H))
    assert clocks[ClockName.NEXT_UPDATE].state is ClockState.MET
    assert clocks[ClockName.RESOLUTION].state is ClockState.MET


def test_missed_resolution_is_reported_after_the_fact() -> None:
    timeline = Timeline(
        created_at=MONDAY_9, first_response_at=MONDAY_9, resolved_at=MONDAY_9 + 26 * H
    )
    resolution = by_clock(evaluate(POLICY, timeline, CAL, MONDAY_9 + 40 * H))[ClockName.RESOLUTION]
    assert resolution.state is ClockState.MISSED
    assert resolution.elapsed_s == 10 * HOUR


def test_escalation_ladder() -> None:
    statuses = evaluate(POLICY, Timeline(created_at=MONDAY_9), CAL, MONDAY_9 + 1.8 * H)
    assert [(e.clock, e.stage, e.role) for e in sla.escalations(POLICY, statuses)] == [
        (ClockName.FIRST_RESPONSE, "warning", "team_lead")
    ]


def test_complaints_get_a_shorter_resolution_target() -> None:
    repair = sla.policy_for("repair", "high").resolution_s
    assert repair is not None
    assert sla.policy_for("complaint", "high").resolution_s == repair / 2


def test_deferred_work_figures_follow_metrics_md() -> None:
    t0 = MONDAY_9
    items = [
        figures.WorkItem(
            t0, due_at=t0 + 10 * H, closed_at=t0 + 5 * H, first_response_s=600, resolution_s=3600
        ),
        figures.WorkItem(
            t0, due_at=t0 + 10 * H, closed_at=t0 + 14 * H, first_response_s=1200, resolution_s=7200
        ),
        figures.WorkItem(t0, due_at=None, closed_at=t0 + 2 * H),
        figures.WorkItem(t0 - 10 * 24 * H),  # old and still open
        figures.WorkItem(t0 + 20 * H),  # open, 4 hours old at the end
        figures.WorkItem(t0 + 30 * H),  # created after the interval: not backlog
    ]
    result = figures.deferred_work_figures(items, start=t0, end=t0 + 24 * H)
    assert result.closed == 3
    assert result.on_time_rate == 0.5
    assert result.avg_delay_s == 2 * 3600.0
    assert result.backlog == 2
    assert result.backlog_by_age[">=7d"] == 1 and result.backlog_by_age["4h-1d"] == 1
    assert result.first_response_s == 900 and result.resolution_s == 5400
