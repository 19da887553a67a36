"""The 大屏's charts from the database: today's offered and answered per half hour by the
METRICS.md definitions, the forecast from the weeks before, the service level, the ticket
backlog and the top reasons."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from hotline.config.validate import load_center
from hotline.metrics.service import ContactRecord, import_records
from hotline.web.wallboard_charts import build
from tests.integration.web.conftest import SAMPLE

ZONE = ZoneInfo("Asia/Shanghai")


def _call(contact: str, at: datetime, *, answered_after: float | None) -> ContactRecord:
    queued = at.timestamp()
    if answered_after is None:
        return ContactRecord(
            contact_id=contact, arrived_at=queued, queued_at=queued, abandoned_at=queued + 60,
            ended_at=queued + 60, outcome="abandoned", queue="repair",
        )  # fmt: skip
    return ContactRecord(
        contact_id=contact, arrived_at=queued, queued_at=queued,
        answered_at=queued + answered_after, ended_at=queued + answered_after + 200,
        outcome="answered", queue="repair", agent="a001", customer=f"138{contact}", talk_s=200,
    )  # fmt: skip


def test_today_against_the_forecast_and_the_service_level_per_half_hour(
    db_session: Session,
) -> None:
    center = load_center(SAMPLE)
    now = datetime(2026, 3, 16, 10, 20, tzinfo=ZONE)  # a Monday, 10:20 in Shanghai
    today = now.date()
    records = []
    # four weeks before: four calls every day at 09:00-09:30, none at other times
    for back in range(1, 29):
        day = datetime.combine(today - timedelta(days=back), time(9, 5), ZONE)
        records += [_call(f"h{back}-{n}", day, answered_after=5) for n in range(4)]
    # today at 09:00-09:30: two answered within 20 s, one after 60 s, one abandoned
    nine = datetime.combine(today, time(9, 10), ZONE)
    records += [
        _call("t1", nine, answered_after=5),
        _call("t2", nine, answered_after=10),
        _call("t3", nine, answered_after=60),
        _call("t4", nine, answered_after=None),
    ]
    import_records(session=db_session, records=records, source="charts")
    db_session.commit()

    charts = build(session=db_session, center=center, now=now.astimezone(UTC))
    nine_slot = charts.intervals.index("09:00")
    assert charts.offered[nine_slot] == 4 and charts.answered[nine_slot] == 3
    # 2 of 4 within the sample center's threshold; the abandoned call counts against it
    level = charts.service_level[nine_slot]
    assert level is not None and 0 < level < 1
    assert charts.offered[charts.intervals.index("10:00")] == 0  # the interval under way
    assert charts.offered[charts.intervals.index("10:30")] is None  # still to come
    assert charts.forecast is not None
    assert (
        3 < charts.forecast[nine_slot] < 5
        and charts.forecast[charts.intervals.index("15:00")] < 0.5
    )
    assert charts.backlog == [0.0] * 14 and charts.reasons == []
    assert "METRICS.md offered" in charts.definitions["offered"]


def test_without_history_the_forecast_is_left_out_with_a_note(db_session: Session) -> None:
    charts = build(session=db_session, center=load_center(SAMPLE), now=datetime.now(UTC))
    assert charts.forecast is None
    assert charts.notes == ["forecast: a forecast needs at least two weeks of history"]
