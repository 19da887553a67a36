"""Roster rules, attendance and shrinkage by reason code, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotline.core.events import Event, EventKind
from hotline.wfm.adherence import adherence_report
from hotline.wfm.roster import (
    RosterBreak,
    RosterShift,
    ShiftRules,
    activities,
    attendance,
    check_roster,
    shrinkage,
)

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(day: int, hour: float) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour)


def shift(agent: str, day: int, start: float, end: float, *breaks: RosterBreak) -> RosterShift:
    return RosterShift(agent, at(day, start), at(day, end), "repair", breaks)


def lunch(day: int, hour: float) -> RosterBreak:
    return RosterBreak(at(day, hour), at(day, hour + 1), "lunch")


def state(seq: int, when: datetime, agent: str, name: str, reason: str = "") -> Event:
    data = {"state": name, **({"reason": reason} if reason else {})}
    return Event(seq, when.timestamp(), EventKind.AGENT_STATE, agent_id=agent, data=data)


def test_a_roster_that_keeps_every_rule_has_no_problem() -> None:
    week = [shift("a001", d, 8, 17, lunch(d, 12)) for d in range(5)]
    assert check_roster(week, ShiftRules()) == []


def test_each_broken_rule_is_located_at_its_shift() -> None:
    shifts = [
        shift("a001", 0, 8, 17, lunch(0, 12)),
        # ends 20:00 on Tuesday; Wednesday 05:00 leaves 9 h of rest
        shift("a001", 1, 10, 20, lunch(1, 14)),
        shift("a001", 2, 5, 9),
        shift("a002", 0, 8, 10),  # 2 h: too short
        shift("a002", 1, 8, 16),  # 8 h with no break
        shift("a003", 0, 8, 17, RosterBreak(at(0, 16), at(0, 18), "lunch")),  # lunch past the end
    ]
    found = [(p.location, p.problem) for p in check_roster(shifts, ShiftRules())]
    assert found == [
        (
            "shifts[2].start",
            "a001 on 2026-03-04 05:00 starts 9 h after the shift before ends; "
            "at least 11 h of rest between shifts",
        ),
        ("shifts[3].end", "a002 on 2026-03-02 08:00 lasts 2 h; a shift lasts at least 4 h"),
        (
            "shifts[4].breaks",
            "a002 on 2026-03-03 08:00 lasts 8 h with 0 min of breaks; a shift over 6 h needs "
            "at least 30 min",
        ),
        (
            "shifts[5].breaks",
            "a003 on 2026-03-02 08:00: the lunch 16:00-18:00 is not inside the shift 08:00-17:00",
        ),
    ]


def test_overlapping_shifts_and_weekly_hours_are_refused() -> None:
    overlap = [shift("a001", 0, 8, 12), shift("a001", 0, 11, 15)]
    assert [p.location for p in check_roster(overlap, ShiftRules())] == ["shifts[1].start"]
    # six 9 h days, lunch unpaid: 48 paid hours in ISO week 2026-W10
    week = [shift("a001", d, 8, 17, lunch(d, 12)) for d in range(6)]
    problems = check_roster(week, ShiftRules(min_rest_hours=0))
    assert [(p.location, p.problem) for p in problems] == [
        ("shifts[5]", "a001 works 48 h paid in week 2026-W10; at most 40 h")
    ]


def test_a_published_shift_feeds_adherence_phones_around_its_breaks() -> None:
    day = shift("a001", 0, 8, 12, RosterBreak(at(0, 10), at(0, 10.25)))
    log = [
        state(1, at(0, 8), "a001", "available"),
        state(2, at(0, 10), "a001", "not_ready", "break"),
        state(3, at(0, 10.25), "a001", "available"),
        state(4, at(0, 12), "a001", "logged_out"),
    ]
    report = adherence_report(
        schedule=activities([day]),
        events=log,
        window_start=at(0, 0).timestamp(),
        window_end=at(1, 0).timestamp(),
    )
    assert report.agents[0].adherence == 1.0
    assert report.exceptions == []


def test_attendance_finds_late_absent_and_early_leave() -> None:
    shifts = [
        shift("late", 0, 8, 12),
        shift("absent", 0, 8, 12),
        shift("early", 0, 8, 12),
        shift("fine", 0, 8, 12),
        shift("tomorrow", 1, 8, 12),
    ]
    log = [
        state(1, at(0, 8.5), "late", "available"),
        state(2, at(0, 7.9), "early", "available"),
        state(3, at(0, 11), "early", "logged_out"),
        # two minutes late is within the five minutes' grace
        state(4, at(0, 8 + 2 / 60), "fine", "not_ready", "meeting"),
    ]
    kept = {a.agent_id: a for a in attendance(shifts, log, now=at(0, 13).timestamp())}
    assert (kept["late"].late_minutes, kept["late"].absent) == (30.0, False)
    assert kept["absent"].absent and kept["absent"].late_minutes == 0.0
    assert (kept["early"].late_minutes, kept["early"].early_leave_minutes) == (0.0, 60.0)
    assert (kept["fine"].late_minutes, kept["fine"].early_leave_minutes) == (0.0, 0.0)
    assert not kept["tomorrow"].started


def test_attendance_during_a_shift_counts_no_one_absent_before_its_end() -> None:
    (row,) = attendance([shift("a001", 0, 8, 12)], [], now=at(0, 9).timestamp())
    assert (row.absent, row.late_minutes) == (False, 60.0)


def test_shrinkage_by_reason_over_the_scheduled_phone_time_passed() -> None:
    shifts = [
        shift("a001", 0, 8, 12, RosterBreak(at(0, 10), at(0, 10.5))),
        shift("a002", 0, 8, 12),
    ]
    log = [
        state(1, at(0, 8), "a001", "available"),
        # the scheduled break taken as a break is not shrinkage
        state(2, at(0, 10), "a001", "not_ready", "break"),
        state(3, at(0, 10.5), "a001", "not_ready", "training"),
        state(4, at(0, 11), "a001", "available"),
        state(5, at(0, 9), "a002", "available"),  # an hour logged out: absence
    ]
    measured = shrinkage(shifts, log, now=at(0, 12).timestamp(), assumed=0.3)
    assert measured.scheduled_minutes == 210 + 240
    assert measured.lost_minutes == {"training": 30.0, "absence": 60.0}
    assert measured.by_reason() == {"absence": 60 / 450, "training": 30 / 450}
    assert measured.total == 90 / 450
    # at 09:00 only the first hour of each shift has passed
    early = shrinkage(shifts, log, now=at(0, 9).timestamp(), assumed=0.3)
    assert (early.scheduled_minutes, early.lost_minutes) == (120.0, {"absence": 60.0})
