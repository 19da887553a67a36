"""The metrics engine against figures worked out by hand."""

from __future__ import annotations

import doctest
from typing import Any

import polars as pl
import pytest

from hotline.core.events import Event, EventKind
from hotline.metrics import compute
from hotline.metrics.compute import conform, events_to_frame, queue_figures, records_to_frame
from hotline.metrics.definitions import MetricSettings, QueueThresholds
from hotline.metrics.records import ContactRecord

T0 = 1_772_409_600.0  # 2026-03-02 00:00 UTC


def answered(
    cid: str,
    queue: str,
    wait: float,
    *,
    at: float = T0,
    talk: float = 100.0,
    hold: float = 0.0,
    wrap: float = 0.0,
    agent: str = "a1",
    customer: str | None = None,
    transferred: bool = False,
) -> ContactRecord:
    return ContactRecord(
        contact_id=cid,
        arrived_at=at,
        queued_at=at,
        answered_at=at + wait,
        outcome="answered",
        agent=agent,
        queue=queue,
        talk_s=talk,
        hold_s=hold,
        wrap_s=wrap,
        customer=customer,
        transferred=transferred,
    )


def abandoned(
    cid: str, queue: str, wait: float, *, at: float = T0, customer: str | None = None
) -> ContactRecord:
    return ContactRecord(
        contact_id=cid,
        arrived_at=at,
        queued_at=at,
        abandoned_at=at + wait,
        outcome="abandoned",
        queue=queue,
        customer=customer,
    )


def test_docstring_examples() -> None:
    assert doctest.testmod(compute).failed == 0


def test_every_queue_figure_by_hand() -> None:
    records = [
        answered("c1", "repair", 10, talk=100, hold=20, wrap=30, customer="x", transferred=True),
        answered("c2", "repair", 20, talk=200, customer="y"),
        answered("c3", "repair", 40, talk=300, customer="x", at=T0 + 600),
        abandoned("c4", "repair", 3),  # short abandon
        abandoned("c5", "repair", 15),  # within T
        abandoned("c6", "repair", 60),
        ContactRecord(contact_id="c7", arrived_at=T0, outcome="ivr_hangup"),  # never queued
    ]
    row = queue_figures(records_to_frame(records), interval="1h").rows()[0]
    assert row["queue"] == "repair" and row["interval_start"] == "2026-03-02T00:00:00+00:00"
    assert (row["offered"], row["answered"], row["abandoned"], row["short_abandoned"]) == (
        6,
        3,
        3,
        1,
    )
    assert row["service_level"] == pytest.approx(2 / (3 + 3 - 1))
    assert row["service_level_answered"] == pytest.approx(2 / 3)
    assert row["service_level_sl2"] == pytest.approx((2 + 2) / 6)
    assert row["service_level_offered"] == pytest.approx((2 + 2) / 6)
    assert row["asa_s"] == pytest.approx(70 / 3)
    assert row["avg_abandon_wait_s"] == pytest.approx(78 / 3)
    assert row["abandon_rate"] == pytest.approx((3 - 1) / (6 - 1))
    assert row["longest_wait_s"] == 60
    assert row["aht_s"] == pytest.approx(650 / 3)
    assert row["att_s"] == pytest.approx(200.0)
    assert row["avg_hold_s"] == pytest.approx(20 / 3)
    assert row["acw_s"] == pytest.approx(10.0)
    assert row["transfer_rate"] == pytest.approx(1 / 3)
    # customer x calls again 10 minutes later: c1 was not resolved first time; c2, c3 were
    assert row["fcr"] == pytest.approx(1 - 1 / 3)
    assert row["traffic_erlangs"] == pytest.approx(6 * (650 / 3) / 3600)


def test_per_queue_thresholds_judge_each_contact_by_its_own_queue() -> None:
    records = [
        answered("v1", "vip", 4),
        answered("v2", "vip", 8),
        answered("r1", "repair", 15),
        abandoned("v3", "vip", 6),
    ]
    settings = MetricSettings(
        per_queue={
            "vip": QueueThresholds(
                service_level_s=5.0, short_abandon_s=0.0, variant="service_level_sl2"
            )
        }
    )
    report = queue_figures(records_to_frame(records), interval="day", by=(), settings=settings)
    (row,) = report.rows()
    # vip: only v1 within 5 s; repair: r1 within 20 s; v3 (6 s) is no short abandon at 0 s
    assert row["service_level"] == pytest.approx(2 / 4)
    by_queue = {
        r["queue"]: r
        for r in queue_figures(records_to_frame(records), interval="day", settings=settings).rows()
    }
    assert by_queue["vip"]["service_level_answered"] == pytest.approx(1 / 2)
    assert by_queue["vip"]["short_abandoned"] == 0
    # headline: vip under SL2 (v1 met; v1, v2, v3 count) + repair under the default
    # (r1 met; r1 counts) = 2 / 4
    assert row["reported_service_level"] == pytest.approx(2 / 4)
    assert by_queue["vip"]["reported_service_level"] == by_queue["vip"]["service_level_sl2"]
    assert by_queue["repair"]["reported_service_level"] == by_queue["repair"]["service_level"]
    assert report.header()["thresholds"]["per_queue"]["vip"] == {
        "variant": "service_level_sl2",
        "service_level_threshold_s": 5.0,
        "short_abandon_threshold_s": 0.0,
    }


def test_intervals_follow_the_queue_time_in_the_center_time_zone() -> None:
    records = [
        answered("c1", "q", 5, at=T0 + 15 * 60 + 1),
        answered("c2", "q", 5, at=T0 + 29 * 60),
        answered("c3", "q", 5, at=T0 + 31 * 60),
    ]
    rows = queue_figures(records_to_frame(records), interval="30m", timezone="Asia/Shanghai").rows()
    assert [(r["interval_start"], r["offered"]) for r in rows] == [
        ("2026-03-02T08:00:00+08:00", 2),
        ("2026-03-02T08:30:00+08:00", 1),
    ]
    quarter = queue_figures(records_to_frame(records), interval="15m").rows()
    assert [r["offered"] for r in quarter] == [2, 1]
    month = queue_figures(records_to_frame(records), interval="month").rows()
    # March has 31 days: traffic uses the real length of the month
    assert month[0]["traffic_erlangs"] == pytest.approx(3 * 100 / (31 * 86400))


def test_by_agent_and_channel_and_empty_ratios_are_null() -> None:
    records = [
        answered("c1", "q", 5, agent="a1"),
        answered("c2", "q", 5, agent="a2"),
        abandoned("c3", "q", 50),
    ]
    rows = queue_figures(records_to_frame(records), by=("agent",)).rows()
    assert [(r["agent"], r["offered"]) for r in rows] == [("a1", 1), ("a2", 1), (None, 1)]
    assert rows[2]["asa_s"] is None and rows[2]["aht_s"] is None
    assert rows[2]["traffic_erlangs"] is None
    with pytest.raises(ValueError, match="cannot break down"):
        queue_figures(records_to_frame(records), by=("colour",))
    with pytest.raises(ValueError, match="interval"):
        queue_figures(records_to_frame(records), interval="7m")


def test_event_log_and_records_give_the_same_figures() -> None:
    log = [
        Event(1, T0, EventKind.ARRIVED, "c1", data={"customer": "x"}),
        Event(2, T0 + 2, EventKind.QUEUED, "c1", queue="repair"),
        Event(3, T0 + 12, EventKind.ANSWERED, "c1", agent_id="a1"),
        Event(4, T0 + 50, EventKind.HELD, "c1", agent_id="a1"),
        Event(5, T0 + 70, EventKind.RESUMED, "c1", agent_id="a1"),
        Event(6, T0 + 112, EventKind.DISCONNECTED, "c1", agent_id="a1"),
        Event(7, T0 + 142, EventKind.WRAP_UP_ENDED, "c1", agent_id="a1"),
        Event(8, T0 + 142, EventKind.FINISHED, "c1", data={"outcome": "answered"}),
        Event(9, T0 + 5, EventKind.ARRIVED, "c2"),
        Event(10, T0 + 5, EventKind.QUEUED, "c2", queue="repair"),
        Event(11, T0 + 35, EventKind.ABANDONED, "c2"),
        Event(12, T0 + 35, EventKind.FINISHED, "c2", data={"outcome": "abandoned"}),
        Event(13, T0 + 40, EventKind.ARRIVED, "c3"),  # still in the IVR: not finished
    ]
    folded = queue_figures(events_to_frame(log), interval="1h").rows()
    records = [
        ContactRecord(
            contact_id="c1",
            arrived_at=T0,
            queued_at=T0 + 2,
            answered_at=T0 + 12,
            outcome="answered",
            agent="a1",
            queue="repair",
            talk_s=80,
            hold_s=20,
            wrap_s=30,
            customer="x",
        ),
        abandoned("c2", "repair", 30, at=T0 + 5),
    ]
    direct = queue_figures(records_to_frame(records), interval="1h").rows()
    assert folded == direct
    assert folded[0]["aht_s"] == 130.0 and folded[0]["asa_s"] == 10.0


def test_conform_fills_missing_columns() -> None:
    frame = pl.DataFrame(
        {
            "contact_id": ["c1"],
            "arrived_at": [T0],
            "queued_at": [T0],
            "answered_at": [T0 + 3],
            "outcome": ["answered"],
            "queue": ["q"],
        }
    )
    row = queue_figures(conform(frame), interval="1h").rows()[0]
    assert row["offered"] == 1 and row["aht_s"] == 0.0 and row["service_level"] == 1.0


def test_agent_figures_split_states_across_intervals_and_teams() -> None:
    from hotline.metrics.compute import agent_figures

    def state(seq: int, at: float, agent: str, name: str) -> Event:
        return Event(seq, T0 + at, EventKind.AGENT_STATE, agent_id=agent, data={"state": name})

    log = [
        state(1, 0, "a1", "available"),
        state(2, 1200, "a1", "on_contact"),  # 20 min idle, then 30 min on contact across 2 h
        state(3, 3000, "a1", "wrap_up"),
        state(4, 3600, "a1", "not_ready"),
        state(5, 4200, "a1", "logged_out"),
        state(6, 0, "a2", "on_contact"),
        state(7, 1800, "a2", "logged_out"),
    ]
    rows = agent_figures(log, interval="1h", by=("agent",)).to_dicts()
    first = {r["agent"]: r for r in rows if r["interval_start"].hour == 0}
    assert first["a1"]["handling_s"] == 2400 and first["a1"]["idle_s"] == 1200
    assert first["a1"]["occupancy"] == pytest.approx(2 / 3)
    assert first["a1"]["utilization"] == pytest.approx(2 / 3)
    second = [r for r in rows if r["interval_start"].hour == 1]
    assert second[0]["not_ready_s"] == 600 and second[0]["utilization"] == 0.0
    assert second[0]["occupancy"] is None
    team = agent_figures(log, interval="day", by=("team",), teams={"a1": "t", "a2": "t"})
    assert team.height == 1
    assert team.row(0, named=True)["handling_s"] == 2400 + 1800


def test_experience_figures_csat_dsat_nps() -> None:
    from hotline.metrics.compute import experience_figures

    answers = [(5, 5), (4, 5), (2, 5), (1, 5), (10, 10), (9, 10), (7, 10), (3, 10)]
    log = [
        Event(
            i,
            T0 + i,
            EventKind.SURVEY_ANSWERED,
            f"c{i}",
            queue="repair",
            data={"score": score, "scale_max": top},
        )
        for i, (score, top) in enumerate(answers)
    ]
    row = experience_figures(log, interval="day").row(0, named=True)
    assert row["surveys"] == 8
    assert row["csat"] == 0.5 and row["dsat"] == 0.25
    assert row["nps"] == pytest.approx(100 * (2 - 1) / 4)


def test_experience_figures_leave_out_answers_without_a_rating() -> None:
    """A survey page's response with only yes/no and text answers is no CSAT answer (it
    counted as a 1–5 answer below the top boxes before)."""
    from hotline.metrics.compute import experience_figures

    rated = Event(1, T0, EventKind.SURVEY_ANSWERED, "c1", queue="q", data={"score": 5})
    unrated = Event(
        2, T0 + 1, EventKind.SURVEY_ANSWERED, "c2", queue="q", data={"answers": {"ok": True}}
    )
    row = experience_figures([rated, unrated], interval="day").row(0, named=True)
    assert (row["surveys"], row["csat"]) == (1, 1.0)


def test_whole_period_interval_spans_the_data() -> None:
    records = [answered("c1", "q", 5, at=T0), answered("c2", "q", 30, at=T0 + 7200)]
    (row,) = queue_figures(records_to_frame(records), interval="all", by=()).rows()
    assert row["offered"] == 2 and row["service_level"] == 0.5
    # from the first quarter hour to the end of the last: 2 h 15 min
    assert row["traffic_erlangs"] == pytest.approx(2 * 100 / 8100)


def test_reported_service_level_follows_each_queue_variant() -> None:
    records = [
        answered("v1", "vip", 4),
        answered("v2", "vip", 8),
        abandoned("v3", "vip", 6),
        answered("r1", "repair", 15),
        abandoned("r2", "repair", 30),
    ]
    settings = MetricSettings(
        per_queue={"vip": QueueThresholds(service_level_s=5.0, variant="service_level_answered")}
    )
    (row,) = queue_figures(records_to_frame(records), by=(), settings=settings).rows()
    # vip answered-only: v1 of (v1, v2); repair default: r1 of (r1, r2) -> 2 / 4
    assert row["reported_service_level"] == pytest.approx(2 / 4)
    # the plain METRICS.md service_level counts vip's abandon too: 2 / 5
    assert row["service_level"] == pytest.approx(2 / 5)
    offered = MetricSettings(default=QueueThresholds(variant="service_level_offered"))
    (row,) = queue_figures(records_to_frame(records), by=(), settings=offered).rows()
    assert row["reported_service_level"] == row["service_level_offered"]


def test_written_csv_reads_back_to_the_same_figures(tmp_path: Any) -> None:
    from hotline.metrics.compute import frame_to_csv
    from hotline.metrics.importer import read_contact_records

    records = [
        answered("c1", "repair", 12.345678, hold=5, wrap=7, customer="x", transferred=True),
        abandoned("c2", "vip", 3.5, at=T0 + 900),
        ContactRecord(contact_id="c3", arrived_at=T0 + 5, outcome="ivr_hangup"),
    ]
    path = tmp_path / "out.csv"
    assert frame_to_csv(records_to_frame(records), path, timezone="Asia/Shanghai") == 3
    back = read_contact_records(path).records
    assert [r.contact_id for r in back] == ["c1", "c2", "c3"]
    assert back[0].transferred and back[0].wait_s == pytest.approx(12.345678)
    assert (
        queue_figures(records_to_frame(back), interval="15m").rows()
        == queue_figures(records_to_frame(records), interval="15m").rows()
    )


def test_parquet_round_trip_and_located_row_problems(tmp_path: Any) -> None:
    from hotline.core.errors import ValidationFailed
    from hotline.metrics.compute import frame_to_parquet, read_parquet_records

    records = [answered("c1", "repair", 12.5, customer="x"), abandoned("c2", "vip", 3.5)]
    path = tmp_path / "year.parquet"
    assert frame_to_parquet(records_to_frame(records), path) == 2
    frame, problems = read_parquet_records(path)
    assert problems == []
    assert (
        queue_figures(frame, interval="1h").rows()
        == queue_figures(records_to_frame(records), interval="1h").rows()
    )

    bad = pl.read_parquet(path).with_columns(
        pl.when(pl.col("contact_id") == "c2")
        .then(pl.lit("lost"))
        .otherwise(pl.col("outcome"))
        .alias("outcome")
    )
    bad.write_parquet(path)
    with pytest.raises(ValidationFailed) as caught:
        read_parquet_records(path)
    (problem,) = caught.value.problems
    assert problem.field == "outcome" and problem.rule.startswith("row 2:")
    kept, skipped = read_parquet_records(path, skip_bad_rows=True)
    assert kept["contact_id"].to_list() == ["c1"] and len(skipped) == 1
