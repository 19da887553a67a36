"""Adherence/conformance from agent-state events, and the intraday re-forecast."""

from __future__ import annotations

import pytest

from hotline.core.events import Event, EventKind
from hotline.wfm.adherence import BREAK, PHONES, ScheduledActivity, adherence_report
from hotline.wfm.erlang import ServiceTarget, required_agents
from hotline.wfm.intraday import reforecast_day

HOUR = 3600.0


def state(seq, at, agent, value, reason=None):
    data = {"state": value} if reason is None else {"state": value, "reason": reason}
    return Event(seq=seq, at=at, kind=EventKind.AGENT_STATE, agent_id=agent, data=data)


def plan_for(agent):
    # 08:00–12:00 phones, 12:00–12:30 lunch, 12:30–16:30 phones (times in seconds from 0)
    return [
        ScheduledActivity(agent, 8 * HOUR, 12 * HOUR, PHONES),
        ScheduledActivity(agent, 12 * HOUR, 12.5 * HOUR, BREAK),
        ScheduledActivity(agent, 12.5 * HOUR, 16.5 * HOUR, PHONES),
    ]


def test_perfect_day_is_fully_adherent():
    events = [
        state(1, 8 * HOUR, "ann", "available"),
        state(2, 9 * HOUR, "ann", "on_contact"),
        state(3, 9.1 * HOUR, "ann", "wrap_up"),
        state(4, 9.2 * HOUR, "ann", "available"),
        state(5, 12 * HOUR, "ann", "not_ready", "lunch"),
        state(6, 12.5 * HOUR, "ann", "available"),
        state(7, 16.5 * HOUR, "ann", "logged_out"),
    ]
    report = adherence_report(
        schedule=plan_for("ann"), events=events, window_start=0, window_end=24 * HOUR
    )
    (ann,) = report.agents
    assert ann.adherence == 1.0
    assert ann.conformance == 1.0
    assert report.exceptions == []


def test_late_login_long_lunch_and_overtime():
    events = [
        state(1, 8.25 * HOUR, "bob", "available"),  # 15 min late
        state(2, 12 * HOUR, "bob", "not_ready", "lunch"),
        state(3, 12.75 * HOUR, "bob", "available"),  # lunch 15 min long
        state(4, 17 * HOUR, "bob", "logged_out"),  # 30 min overtime
    ]
    report = adherence_report(
        schedule=plan_for("bob"), events=events, window_start=0, window_end=24 * HOUR
    )
    (bob,) = report.agents
    assert bob.scheduled_minutes == 510
    assert bob.adherent_minutes == 510 - 15 - 15
    assert bob.adherence == pytest.approx(480 / 510)
    # on the phones 3h45 + 4h15 = 480 min against 480 scheduled: conformance ignores timing
    assert bob.conformance == pytest.approx(1.0)
    kinds = [(e.scheduled, e.actual, e.minutes) for e in report.exceptions]
    assert kinds == [("phones", "off", 15.0), ("phones", "break", 15.0), ("off", "phones", 30.0)]


def test_unscheduled_aux_and_grace_and_teams():
    events = [
        state(1, 8 * HOUR, "cy", "available"),
        state(2, 10 * HOUR, "cy", "not_ready", "meeting"),  # 20 min, not scheduled
        state(3, 10 * HOUR + 1200, "cy", "available"),
        state(4, 11 * HOUR, "cy", "not_ready", "toilet"),  # 3 min: within grace
        state(5, 11 * HOUR + 180, "cy", "available"),
        state(6, 12 * HOUR, "cy", "not_ready", "break"),
        state(7, 12.5 * HOUR, "cy", "available"),
        state(8, 16.5 * HOUR, "cy", "logged_out"),
        state(1, 8 * HOUR, "di", "available"),
        state(2, 12 * HOUR, "di", "not_ready", "lunch"),
        state(3, 12.5 * HOUR, "di", "available"),
        state(4, 16.5 * HOUR, "di", "logged_out"),
    ]
    report = adherence_report(
        schedule=plan_for("cy") + plan_for("di"),
        events=events,
        window_start=0,
        window_end=24 * HOUR,
        teams={"cy": "north", "di": "north"},
    )
    assert [(e.agent_id, e.actual, e.minutes) for e in report.exceptions] == [("cy", "other", 20)]
    (team,) = report.teams
    assert team.name == "north"
    assert team.scheduled_minutes == 1020
    assert team.adherent_minutes == 1020 - 23


def test_agent_without_events_is_off_all_day():
    report = adherence_report(
        schedule=plan_for("eve"), events=[], window_start=0, window_end=24 * HOUR
    )
    (eve,) = report.agents
    assert eve.adherence == 0.0
    assert eve.conformance == 0.0


def test_intraday_scales_the_rest_of_the_day_and_shows_the_gap():
    forecast = [100.0] * 8
    target = ServiceTarget.parse("80/20")
    scheduled = [required_agents(calls=100, aht_s=180, interval_s=1800, target=target).agents] * 8
    plan = reforecast_day(
        forecast_offered=forecast,
        forecast_aht_s=[180.0] * 8,
        actual_offered=[125, 120, 130, 125],
        actual_answered=[125, 120, 130, 125],
        actual_handle_s=[125 * 200, 120 * 200, 130 * 200, 125 * 200],
        scheduled_agents=scheduled,
        interval_s=1800,
        target=target,
        prior_contacts=50,
    )
    assert plan.volume_ratio == pytest.approx((500 + 50) / (400 + 50))
    assert plan.aht_ratio > 1.08
    rest = [i for i in plan.intervals if not i.elapsed]
    assert all(i.reforecast_offered == pytest.approx(100 * plan.volume_ratio) for i in rest)
    assert all(i.gap < 0 for i in rest)
    assert plan.short_agent_intervals > 0


def test_intraday_trusts_the_forecast_early_in_the_day():
    plan = reforecast_day(
        forecast_offered=[10.0] * 4,
        forecast_aht_s=[180.0] * 4,
        actual_offered=[20],
        actual_answered=[20],
        actual_handle_s=[3600],
        scheduled_agents=[3] * 4,
        interval_s=1800,
        target=ServiceTarget.parse("80/20"),
    )
    assert 1.0 < plan.volume_ratio < 1.2  # 20 vs 10 seen, but only 30 contacts of evidence


def test_intraday_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="actuals"):
        reforecast_day(
            forecast_offered=[1.0],
            forecast_aht_s=[1.0],
            actual_offered=[1, 2],
            actual_answered=[1, 2],
            actual_handle_s=[1, 2],
            scheduled_agents=[1],
            interval_s=1800,
            target=ServiceTarget(),
        )
