"""How good a volume forecast was: WAPE, MASE, bias and interval coverage over rolling origins.

A planner judges a forecaster on weeks it never saw. For every origin of a rolling-origin
backtest each method forecasts the next days from the days before the origin only; the
forecasts are scored over the *scored intervals* of that horizon (intervals the center is
open, on days present in the data) with:

* **WAPE** — Σ|forecast − actual| ÷ Σactual, the share of the volume mis-forecast;
* **MASE** — the mean absolute error divided by the in-sample mean absolute error of the
  weekly seasonal naive forecast over the training weeks (Hyndman & Koehler 2006), so origins
  of busy and quiet seasons weigh alike and 1.0 means "as good as last week's same slot was
  inside the training data";
* **bias** — Σ(forecast − actual) ÷ Σactual (positive: over-forecast);
* **coverage** — the share of scored intervals whose actual count fell inside the forecast's
  prediction band (an 80 % band should cover about 80 %).

Pure: numpy only, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: The seasonal period of the naive scale: one week of intervals.
WEEK_DAYS = 7


@dataclass(frozen=True, slots=True)
class OriginScore:
    """One method's accuracy at one origin, over that horizon's scored intervals."""

    method: str
    origin: int
    wape: float
    mase: float
    bias: float
    coverage: float | None
    actual_total: float
    intervals: int


def naive_scale(offered: FloatArray, *, origin: int, training_weeks: int) -> float:
    """Mean |y(t) − y(t − 1 week)| over the training weeks before ``origin``, skipping pairs
    where either day had no contacts at all (a recording gap is not a forecast error).

    >>> week = np.array([[1.0, 2.0]] * 7)
    >>> naive_scale(np.vstack([week, week + 1.0]), origin=14, training_weeks=4)
    1.0
    """
    first = max(WEEK_DAYS, origin - WEEK_DAYS * training_weeks)
    errors = []
    for d in range(first, origin):
        if offered[d].sum() > 0 and offered[d - WEEK_DAYS].sum() > 0:
            errors.append(np.abs(offered[d] - offered[d - WEEK_DAYS]))
    if not errors:
        return math.nan
    return float(np.mean(np.concatenate(errors)))


def score_origin(
    method: str,
    *,
    origin: int,
    actual: FloatArray,
    predicted: FloatArray,
    scored: BoolArray,
    scale: float,
    low: FloatArray | None = None,
    high: FloatArray | None = None,
) -> OriginScore:
    """Score one forecast (days × intervals) against the actual counts on ``scored`` cells.

    >>> a = np.array([[10.0, 10.0]]); p = np.array([[12.0, 9.0]]); m = np.ones((1, 2), bool)
    >>> s = score_origin("x", origin=0, actual=a, predicted=p, scored=m, scale=3.0,
    ...                  low=p - 1.5, high=p + 1.5)
    >>> s.wape, s.mase, s.bias, s.coverage
    (0.15, 0.5, 0.05, 0.5)
    """
    if actual.shape != predicted.shape or actual.shape != scored.shape:
        raise ValueError("actual, predicted and scored must have the same shape")
    a = actual[scored]
    p = predicted[scored]
    total = float(a.sum())
    error = np.abs(p - a)
    coverage = None
    if low is not None and high is not None:
        inside = (a >= low[scored]) & (a <= high[scored])
        coverage = float(inside.mean()) if a.size else math.nan
    return OriginScore(
        method=method,
        origin=origin,
        wape=round(float(error.sum()) / total, 12) if total > 0 else math.nan,
        mase=float(error.mean()) / scale if a.size and scale > 0 else math.nan,
        bias=round(float((p - a).sum()) / total, 12) if total > 0 else math.nan,
        coverage=coverage,
        actual_total=total,
        intervals=int(a.size),
    )


@dataclass(frozen=True, slots=True)
class MethodSummary:
    """A method's accuracy over all origins: volume-weighted WAPE and bias (the aggregate
    over every scored interval of every origin), mean MASE, pooled coverage."""

    method: str
    wape: float
    mase: float
    bias: float
    coverage: float | None
    origins: int
    intervals: int


def summarise(scores: Sequence[OriginScore]) -> MethodSummary:
    """Aggregate one method's origin scores (all of the same method).

    >>> s = [OriginScore("m", 0, 0.1, 1.0, 0.0, 0.8, 100.0, 10),
    ...      OriginScore("m", 7, 0.3, 2.0, -0.1, 0.9, 300.0, 10)]
    >>> t = summarise(s)
    >>> t.wape, t.mase, t.bias, t.coverage, t.origins, t.intervals
    (0.25, 1.5, -0.075, 0.85, 2, 20)
    """
    if not scores:
        raise ValueError("nothing to summarise")
    names = {s.method for s in scores}
    if len(names) != 1:
        raise ValueError(f"scores of several methods: {sorted(names)}")
    total = sum(s.actual_total for s in scores)
    intervals = sum(s.intervals for s in scores)
    covered = [s for s in scores if s.coverage is not None]
    covered_intervals = sum(s.intervals for s in covered)
    return MethodSummary(
        method=scores[0].method,
        wape=round(sum(s.wape * s.actual_total for s in scores) / total, 12),
        mase=round(float(np.mean([s.mase for s in scores])), 12),
        bias=round(sum(s.bias * s.actual_total for s in scores) / total, 12),
        coverage=(
            round(sum((s.coverage or 0.0) * s.intervals for s in covered) / covered_intervals, 12)
            if covered_intervals
            else None
        ),
        origins=len(scores),
        intervals=intervals,
    )


def share_beating(
    scores: Mapping[int, Mapping[str, OriginScore]],
    *,
    method: str,
    baseline: str,
    by_at_least: float = 0.0,
) -> float:
    """Share of origins where ``method``'s WAPE is at most ``(1 − by_at_least)`` times the
    ``baseline``'s (``by_at_least=0.15``: at least 15 % better).

    >>> o = {0: {"a": OriginScore("a", 0, 0.2, 1, 0, None, 1, 1),
    ...          "b": OriginScore("b", 0, 0.3, 1, 0, None, 1, 1)},
    ...      7: {"a": OriginScore("a", 7, 0.3, 1, 0, None, 1, 1),
    ...          "b": OriginScore("b", 7, 0.3, 1, 0, None, 1, 1)}}
    >>> share_beating(o, method="a", baseline="b", by_at_least=0.15)
    0.5
    """
    if not scores:
        raise ValueError("no origins")
    wins = sum(
        1
        for by_method in scores.values()
        if by_method[method].wape <= (1.0 - by_at_least) * by_method[baseline].wape
    )
    return wins / len(scores)
