"""One calendar in the center file gives routing, the IVR and the SLA clocks the same hours.

The sample center's ``hotline`` calendar (weekdays 08:00-21:00, weekends 09:00-18:00, a
holiday closed all day and holidays with their own hours) is asked by a routing queue with
epoch seconds, by the IVR's hours node with the caller's local time, and by the ticket SLA
clocks through its open intervals; all three must be the one core value and agree everywhere.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hotline.config.center import Calendar, Holiday, WeeklyHours
from hotline.config.flow import HoursNode
from hotline.config.validate import check_text, load_center
from hotline.core.calendar import BusinessCalendar
from hotline.routing.from_center import routing_config_from_center

SAMPLE = Path(__file__).parents[3] / "src/hotline/config/samples/appliance_center.yaml"


def test_the_sample_calendar_is_one_value_everywhere() -> None:
    center = load_center(SAMPLE)
    hotline = next(c for c in center.calendars if c.id == "hotline")
    core = hotline.business_calendar(center.center.timezone)
    queues = {q.id: q for q in routing_config_from_center(center).queues}
    node = center.ivr_flows()["appliance-hotline"].nodes["hours"]
    assert isinstance(node, HoursNode) and node.hours is not None
    assert queues["installation"].calendar == core
    assert node.hours.calendar.weekly == core.weekly
    assert node.hours.calendar.holidays == core.holidays
    # Every 7 minutes through the year (holidays and both weekday hours included): the
    # engine's question, the IVR's question and the SLA clocks' intervals say the same.
    queue_calendar = queues["installation"].calendar
    assert queue_calendar is not None
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=7)
    opened = 0
    while moment < datetime(2027, 1, 1, tzinfo=UTC):
        local = moment.astimezone(core.zone).replace(tzinfo=None)
        routing = queue_calendar.is_open(moment.timestamp())
        assert node.hours.is_open(local) == routing, moment
        assert any(core.open_intervals(moment, moment + step / 7)) == routing, moment
        opened += routing
        moment += step
    assert 0 < opened < 366 * 24 * 60 // 7


def test_holiday_hours_shape_the_day() -> None:
    cal = Calendar(
        id="c",
        timezone="Asia/Shanghai",
        hours=WeeklyHours(thu=["08:00-21:00"], fri=["08:00-21:00"]),
        holidays=[
            Holiday(date=date(2026, 10, 1)),
            Holiday(date=date(2026, 10, 2), hours=["13:00-16:00", "10:00-12:00"]),
        ],
    ).business_calendar("UTC")
    assert cal == BusinessCalendar(
        "Asia/Shanghai",
        {d: ((28_800, 75_600),) if d in (3, 4) else () for d in range(7)},
        {date(2026, 10, 1): (), date(2026, 10, 2): ((36_000, 43_200), (46_800, 57_600))},
    )


def test_overlapping_holiday_hours_are_refused_with_their_line() -> None:
    text = (
        "center: {name: X}\ncalendars:\n  - id: c\n    holidays:\n"
        "      - date: 2026-10-02\n        hours: ['10:00-14:00', '13:00-16:00']\n"
    )
    result = check_text(text)
    assert not result.ok
    assert "opening periods overlap" in result.errors[0].rule
    assert "holidays[0].hours" in str(result.errors[0]), result.errors
