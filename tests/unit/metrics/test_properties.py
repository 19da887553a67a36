"""Invariants of the metrics engine over arbitrary contact records (Hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.metrics.compute import queue_figures, records_to_frame
from hotline.metrics.records import ContactRecord

T0 = 1_772_409_600.0


@st.composite
def contacts(draw: st.DrawFn) -> list[ContactRecord]:
    out = []
    for i in range(draw(st.integers(0, 40))):
        at = T0 + draw(st.floats(0, 3 * 86400, allow_nan=False))
        kind = draw(st.sampled_from(["answered", "abandoned", "ivr_hangup", "callback"]))
        wait = draw(st.floats(0, 600, allow_nan=False))
        queue = draw(st.sampled_from(["repair", "vip", "sales"]))
        common: dict[str, Any] = {
            "contact_id": f"c{i}",
            "arrived_at": at,
            "queue": queue,
            "customer": draw(st.sampled_from([None, "x", "y", "z"])),
            "agent": draw(st.sampled_from(["a1", "a2"])),
        }
        if kind == "answered":
            out.append(
                ContactRecord(
                    **common,
                    outcome="answered",
                    queued_at=at,
                    answered_at=at + wait,
                    talk_s=draw(st.floats(1, 900, allow_nan=False)),
                )
            )
        elif kind == "abandoned":
            out.append(
                ContactRecord(
                    **{**common, "agent": None},
                    outcome="abandoned",
                    queued_at=at,
                    abandoned_at=at + wait,
                )
            )
        elif kind == "callback":
            out.append(
                ContactRecord(
                    **{**common, "agent": None},
                    outcome="callback",
                    queued_at=at,
                    ended_at=at + wait,
                )
            )
        else:
            out.append(
                ContactRecord(**{**common, "agent": None, "queue": None}, outcome="ivr_hangup")
            )
    return out


@settings(max_examples=60, deadline=None)
@given(contacts(), st.sampled_from(["15m", "1h", "day", "month"]))
def test_counts_add_up_and_ratios_stay_in_range(
    records: list[ContactRecord], interval: str
) -> None:
    frame = records_to_frame(records)
    by_queue = queue_figures(frame, interval=interval, by=("queue",)).rows()
    center = queue_figures(frame, interval=interval, by=()).rows()
    queued = [r for r in records if r.queued_at is not None]
    assert sum(r["offered"] for r in by_queue) == len(queued) == sum(r["offered"] for r in center)
    assert sum(r["answered"] for r in center) == sum(r.outcome == "answered" for r in records)
    assert sum(r["abandoned"] for r in center) == sum(r.outcome == "abandoned" for r in records)
    for row in by_queue + center:
        assert row["answered"] + row["abandoned"] <= row["offered"]
        assert row["short_abandoned"] <= row["abandoned"]
        for ratio in (
            "service_level",
            "service_level_answered",
            "service_level_sl2",
            "service_level_offered",
            "reported_service_level",
            "abandon_rate",
            "transfer_rate",
            "fcr",
        ):
            value = row[ratio]
            assert value is None or 0.0 <= value <= 1.0 + 1e-12, (ratio, value)
        if row["asa_s"] is not None:
            assert 0.0 <= row["asa_s"] <= row["longest_wait_s"] + 1e-9
