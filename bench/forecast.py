"""Benchmark: 30-minute volume forecasts on the Anonymous Bank logs, rolling origins.

Data: the 1999 call logs of an Israeli bank (Technion SEE lab; Guedj & Mandelbaum 2000;
Brown et al., JASA 100(469), 2005), read from ``../shared/data/anonymous-bank``.

For each origin (every ``--step`` days once 8 weeks of history exist) each method forecasts
the next 14 days of offered calls per 30-minute interval from the days before the origin only;
WAPE and bias are scored over staffed intervals (intervals that had calls in at least half of
the same weekdays of the 8 weeks before the origin) of days present in the data.

Methods, all in this process:

* ``hotline`` — :func:`hotline.wfm.forecast.forecast` with the Israeli 1999 holiday calendar
  in ``bench/data/israel_1999_calendar.csv`` (dates only: labels, no factors);
* ``seasonal_naive`` — same interval one week earlier;
* ``mstl`` — statsmodels' MSTL decomposition (periods 48 and 336) of the last 16 weeks,
  seasonal components repeated, the seasonally adjusted rest forecast by simple exponential
  smoothing, negatives clipped to 0. This re-creates statsforecast's ``MSTL`` model
  (decomposition + non-seasonal ETS on the rest), because statsforecast itself cannot be
  installed here: every release requires ``pandas<3`` and the project pins pandas 3.

Prints one JSON line. ``--quick`` uses fewer origins.

    .venv/bin/python bench/forecast.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

from hotline.wfm.files import bank_history, read_calendar
from hotline.wfm.forecast import History, backtest, rolling_origins

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "anonymous-bank"
CALENDAR = ROOT / "bench" / "data" / "israel_1999_calendar.csv"
HORIZON_DAYS = 14
TRAINING_WEEKS = 16


def mstl_forecast(history: History, origin: int, days: int) -> np.ndarray:
    """MSTL (48, 336) + simple exponential smoothing, as statsforecast's MSTL does."""
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing
    from statsmodels.tsa.seasonal import MSTL

    slots = history.slots
    first = max(0, origin - 7 * TRAINING_WEEKS)
    series = history.offered[first:origin].ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' convergence chatter
        decomposition = MSTL(series, periods=(slots, 7 * slots)).fit()
        seasonal = np.asarray(decomposition.seasonal)
        adjusted = series - seasonal.sum(axis=1)
        level = SimpleExpSmoothing(adjusted, initialization_method="estimated").fit()
        rest = np.asarray(level.forecast(days * slots))
    steps = np.arange(days * slots)
    total = rest.copy()
    for column, period in enumerate((slots, 7 * slots)):
        cycle = seasonal[-period:, column]
        total += cycle[steps % period]
    return np.clip(total, 0.0, None).reshape(days, slots)


def main() -> None:
    parser = argparse.ArgumentParser(description="forecast benchmark on the bank logs")
    parser.add_argument("--quick", action="store_true", help="fewer origins")
    parser.add_argument("--step", type=int, default=None, help="days between origins")
    args = parser.parse_args()
    step = args.step or (21 if args.quick else 6)

    started = time.perf_counter()
    history = bank_history(DATA, interval_s=1800)
    calendar = read_calendar(CALENDAR)
    origins = rolling_origins(history, horizon_days=HORIZON_DAYS, step_days=step)
    loaded = time.perf_counter() - started

    timings: dict[str, float] = {}

    def timed(name, method):
        def run(h, o, n):
            start = time.perf_counter()
            result = method(h, o, n)
            timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
            return result

        return run

    from hotline.wfm.forecast import forecast, seasonal_naive

    rows = backtest(
        history,
        horizon_days=HORIZON_DAYS,
        origins=origins,
        calendar=calendar,
        extra_methods={
            "hotline_timed": timed(
                "hotline",
                lambda h, o, n: forecast(h, days=n, origin=o, calendar=calendar).offered,
            ),
            "seasonal_naive_timed": timed(
                "seasonal_naive", lambda h, o, n: seasonal_naive(h, origin=o, days=n)
            ),
            "mstl": timed("mstl", mstl_forecast),
        },
    )
    overall = {r.method: r for r in rows if r.horizon_day == 0}
    by_horizon = {
        method: {
            r.horizon_day: [r.wape, r.bias] for r in rows if r.method == method and r.horizon_day
        }
        for method in ("hotline", "seasonal_naive", "mstl")
    }
    assert overall["hotline"].wape == overall["hotline_timed"].wape  # same method, run twice
    best_peer = min(("seasonal_naive", "mstl"), key=lambda m: overall[m].wape)
    print(
        json.dumps(
            {
                "bench": "forecast",
                "data": "anonymous-bank 1999 (Technion SEE lab)",
                "interval_min": 30,
                "horizon_days": HORIZON_DAYS,
                "origins": len(origins),
                "first_origin": str(history.day(origins[0])),
                "last_origin": str(history.day(origins[-1])),
                "scored_intervals": overall["hotline"].intervals,
                "wape": {m: overall[m].wape for m in ("hotline", "seasonal_naive", "mstl")},
                "bias": {m: overall[m].bias for m in ("hotline", "seasonal_naive", "mstl")},
                "best_peer": best_peer,
                "wape_ratio_hotline_to_best_peer": overall["hotline"].wape
                / overall[best_peer].wape,
                "seconds": {k: round(v, 2) for k, v in timings.items()},
                "load_seconds": round(loaded, 1),
                "by_horizon_day_wape_bias": by_horizon,
            }
        )
    )


if __name__ == "__main__":
    main()
