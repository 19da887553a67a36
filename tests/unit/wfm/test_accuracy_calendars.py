"""Accuracy scores of a backtest, and the special-day calendars shipped as data."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from hotline.core.errors import ValidationFailed
from hotline.wfm.accuracy import naive_scale, score_origin, share_beating, summarise
from hotline.wfm.calendars import parse_calendar, shipped_calendar, shipped_calendars


def test_scores_count_only_the_scored_intervals():
    actual = np.array([[10.0, 0.0, 20.0]])
    predicted = np.array([[12.0, 50.0, 16.0]])
    scored = np.array([[True, False, True]])
    s = score_origin("m", origin=7, actual=actual, predicted=predicted, scored=scored, scale=2.0)
    assert s.wape == pytest.approx(6 / 30) and s.bias == pytest.approx(-2 / 30)
    assert s.mase == pytest.approx(3 / 2) and s.coverage is None and s.intervals == 2


def test_naive_scale_skips_recording_gaps():
    week = np.tile([[1.0, 3.0]], (7, 1))
    offered = np.vstack([week, week + 2.0, week])
    offered[10] = 0.0  # a gap: its pairs with day 3 and day 17 are not errors
    assert naive_scale(offered, origin=21, training_weeks=4) == pytest.approx(2.0)


def test_summary_weights_wape_by_volume_and_share_counts_origins():
    a = score_origin(
        "x",
        origin=0,
        actual=np.array([[100.0]]),
        predicted=np.array([[90.0]]),
        scored=np.ones((1, 1), bool),
        scale=1.0,
        low=np.array([[80.0]]),
        high=np.array([[95.0]]),
    )
    b = score_origin(
        "x",
        origin=3,
        actual=np.array([[10.0]]),
        predicted=np.array([[20.0]]),
        scored=np.ones((1, 1), bool),
        scale=1.0,
        low=np.array([[15.0]]),
        high=np.array([[25.0]]),
    )
    summary = summarise([a, b])
    assert summary.wape == pytest.approx(20 / 110) and summary.coverage == 0.0
    naive = summarise([a, b]).__class__  # same type, to build the baseline rows below
    assert naive is type(summary)
    worse = [
        score_origin(
            "n", origin=o, actual=np.array([[100.0]]), predicted=np.array([[p]]),
            scored=np.ones((1, 1), bool), scale=1.0,
        )
        for o, p in ((0, 80.0), (3, 95.0))
    ]  # fmt: skip
    table = {0: {"x": a, "n": worse[0]}, 3: {"x": b, "n": worse[1]}}
    assert share_beating(table, method="x", baseline="n") == 0.5
    assert share_beating(table, method="x", baseline="n", by_at_least=0.6) == 0.0


def test_shipped_calendars_hold_the_holidays_with_kinds():
    assert shipped_calendars() == ["china-2025-2026", "israel-1999"]
    israel = {d.day: d for d in shipped_calendar("israel-1999")}
    assert israel[date(1999, 4, 1)].kind == "bank_holiday"
    assert israel[date(1999, 3, 31)].like == "friday"
    china = shipped_calendar("china-2025-2026")
    festival = [d.day for d in china if d.kind == "spring_festival" and d.day.year == 2026]
    assert festival[0] == date(2026, 2, 15) and len(festival) == 9
    assert {d.kind for d in china} == {"public_holiday", "spring_festival", "adjusted_workday"}
    with pytest.raises(ValueError, match="shipped: china-2025-2026, israel-1999"):
        shipped_calendar("mars-2090")


def test_a_bad_calendar_row_names_its_line_and_field():
    with pytest.raises(ValidationFailed) as failed:
        parse_calendar(
            "date,label,factor\n2026-01-01,a,\n2026-01-02,b,lots\n2026-13-01,c,\n",
            source="cal.csv",
        )
    located = [(p.file, p.line, p.field) for p in failed.value.problems]
    assert located == [("cal.csv", 3, "factor"), ("cal.csv", 4, "date")]
