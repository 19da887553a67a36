"""Benchmark: 30-minute volume forecasts on the Anonymous Bank logs, rolling origins, vs peers.

Data: the 1999 call logs of an Israeli bank (Technion SEE lab; Guedj & Mandelbaum 2000;
Brown et al., JASA 100(469), 2005), read from ``../shared/data/anonymous-bank``.

For each origin (every ``--step`` days once 8 weeks of history exist, over all the shared
months) each method forecasts the next 14 days of offered calls per 30-minute interval from
the days before the origin only. Scored intervals: those the center is open (calls in at
least half of the same weekdays of the 8 weeks before the origin) on days present in the data.
Scores (:mod:`hotline.wfm.accuracy`): WAPE, MASE (scale: in-sample weekly seasonal naive),
bias, and for Hotline the coverage of its 80 % prediction band.

Methods:

* ``hotline`` — :func:`hotline.wfm.forecast.forecast` with the shipped Israel 1999 holiday
  calendar (``wfm/calendars/israel-1999.csv``: dates, labels and kinds; effects learnt);
* ``seasonal_naive_7d`` — the same interval one week before (the baseline to beat by 15 %);
* ``statsmodels_mstl`` — statsmodels' MSTL (day and week seasons) of the last 16 weeks plus
  simple exponential smoothing of the rest (in this process; not with ``--quick``);
* peers from ``bench/forecast_peers.py``, in their own environment ``var/forecast-peers``
  (statsforecast pins ``pandas<3``; the project locks pandas 3), made on first use with pip:
  statsforecast's ``SeasonalWindowAverage``, ``MSTL`` with ``AutoETS`` trend, ``AutoETS`` on
  daily totals with a 4-week intraday shape, and a LightGBM global model (Poisson loss,
  calendar features, lags of 14–35 days). ``--no-peers`` leaves them out.

Prints a Rich table (WAPE, MASE, bias, coverage per model) and one final JSON line with
``wape``, ``wape_seasonal_naive_7d``, ``share_of_origins_beating_naive`` (origins where
Hotline's WAPE is at least 15 % below the naive's), ``best_peer``, ``best_peer_wape``,
``ratio_to_best_peer`` and ``interval_coverage_80``. ``--quick`` uses origins every 35 days
(5) and leaves out statsmodels' MSTL (statsforecast's MSTL stays), to finish within 2
minutes once the peers' environment exists (making it takes a few minutes more, once).

    .venv/bin/python bench/forecast.py [--quick] [--step DAYS] [--no-peers]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from hotline.wfm.accuracy import OriginScore, naive_scale, score_origin, share_beating, summarise
from hotline.wfm.calendars import shipped_calendar
from hotline.wfm.files import bank_history
from hotline.wfm.forecast import (
    History,
    forecast,
    rolling_origins,
    seasonal_naive,
    staffed_mask,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "anonymous-bank"
PEERS_ENV = ROOT / "var" / "forecast-peers"
PEERS_SCRIPT = ROOT / "bench" / "forecast_peers.py"
HORIZON_DAYS = 14
TRAINING_WEEKS = 16
BASELINE = "seasonal_naive_7d"
console = Console(stderr=True, width=120)


def statsmodels_mstl(history: History, origin: int, days: int) -> np.ndarray:
    """MSTL (48, 336) + simple exponential smoothing of the seasonally adjusted rest."""
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
    clipped: np.ndarray = np.clip(total, 0.0, None).reshape(days, slots)
    return clipped


def peers_python() -> Path | None:
    """The peers' interpreter, making its environment on first use (None if that fails)."""
    python = PEERS_ENV / "bin" / "python"
    if python.exists():
        return python
    console.print(f"making the peers' environment {PEERS_ENV} (statsforecast, lightgbm)…")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_ENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "statsforecast", "lightgbm"],
            check=True,
        )
    except (subprocess.CalledProcessError, OSError) as exc:
        console.print(f"[yellow]peers unavailable[/yellow]: {exc}")
        return None
    return python


def run_peers(
    history: History, origins: list[int], special: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Forecasts of the out-of-process peers, per model: origins × days × intervals."""
    python = peers_python()
    if python is None:
        return {}, {}
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.npz", Path(folder) / "out.npz"
        np.savez(
            source,
            offered=history.offered,
            special=special,
            weekday=np.array([history.weekday(d) for d in range(history.days)]),
            origins=np.array(origins),
            horizon=HORIZON_DAYS,
            training_weeks=TRAINING_WEEKS,
        )
        subprocess.run([str(python), str(PEERS_SCRIPT), str(source), str(target)], check=True)
        with np.load(target) as data:
            output = {name: data[name] for name in data.files if name != "seconds"}
            seconds = data["seconds"]
    return output, {"statsforecast": float(seconds[0]), "lightgbm": float(seconds[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description="forecast benchmark on the bank logs")
    parser.add_argument("--quick", action="store_true", help="fewer origins (within 2 min)")
    parser.add_argument("--step", type=int, default=None, help="days between origins")
    parser.add_argument("--no-peers", action="store_true", help="leave out the peers' env")
    args = parser.parse_args()
    step = args.step or (35 if args.quick else 3)

    started = time.perf_counter()
    history = bank_history(DATA, interval_s=1800)
    calendar = shipped_calendar("israel-1999")
    origins = rolling_origins(history, horizon_days=HORIZON_DAYS, step_days=step)
    loaded = time.perf_counter() - started
    special_days = {s.day for s in calendar}
    special = np.array([history.day(d) in special_days for d in range(history.days)], dtype=int)

    seconds: dict[str, float] = {}
    forecasts: dict[str, list[np.ndarray]] = {}
    bands: list[tuple[np.ndarray, np.ndarray]] = []
    excluded: dict[object, str] = {}  # day → the latest reason it was left out
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(f"{len(origins)} origins", total=len(origins))
        for origin in origins:
            known = history.truncated(origin)
            clock = time.perf_counter()
            ours = forecast(known, days=HORIZON_DAYS, calendar=calendar)
            seconds["hotline"] = seconds.get("hotline", 0.0) + time.perf_counter() - clock
            forecasts.setdefault("hotline", []).append(ours.offered)
            bands.append((ours.offered_low, ours.offered_high))
            excluded.update((e.day, e.describe()) for e in ours.excluded)
            forecasts.setdefault(BASELINE, []).append(
                seasonal_naive(known, origin=origin, days=HORIZON_DAYS)
            )
            if not args.quick:
                clock = time.perf_counter()
                forecasts.setdefault("statsmodels_mstl", []).append(
                    statsmodels_mstl(known, origin, HORIZON_DAYS)
                )
                seconds["statsmodels_mstl"] = (
                    seconds.get("statsmodels_mstl", 0.0) + time.perf_counter() - clock
                )
            bar.advance(task)
    if not args.no_peers:
        with console.status("peers: statsforecast and LightGBM…"):
            peers, peer_seconds = run_peers(history, origins, special)
        seconds.update(peer_seconds)
        for name, matrix in peers.items():
            forecasts[name] = list(matrix)

    scores: dict[int, dict[str, OriginScore]] = {}
    for k, origin in enumerate(origins):
        window = history.truncated(origin + HORIZON_DAYS)
        present = window.offered[origin:].sum(axis=1) > 0
        scored = (staffed_mask(window, origin=origin, days=HORIZON_DAYS) > 0) & present[:, None]
        actual = window.offered[origin:]
        scale = naive_scale(history.offered, origin=origin, training_weeks=TRAINING_WEEKS)
        scores[origin] = {}
        for name, values in forecasts.items():
            low, high = bands[k] if name == "hotline" else (None, None)
            scores[origin][name] = score_origin(
                name,
                origin=origin,
                actual=actual,
                predicted=np.asarray(values[k]),
                scored=scored,
                scale=scale,
                low=low,
                high=high,
            )
    summaries = {name: summarise([scores[o][name] for o in origins]) for name in forecasts}
    peer_names = [n for n in summaries if n not in {"hotline", BASELINE}]
    best_peer = min(peer_names, key=lambda n: summaries[n].wape)
    hotline, naive = summaries["hotline"], summaries[BASELINE]

    table = Table(
        title=f"30-min offered calls, 14-day horizon, {len(origins)} origins "
        f"({history.day(origins[0])} … {history.day(origins[-1])}), {hotline.intervals} intervals"
    )
    for column in ("model", "WAPE", "MASE", "bias", "80 % coverage", "vs Hotline", "seconds*"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, summary in sorted(summaries.items(), key=lambda item: item[1].wape):
        table.add_row(
            name,
            f"{summary.wape:.3f}",
            f"{summary.mase:.3f}",
            f"{summary.bias:+.3f}",
            "—" if summary.coverage is None else f"{summary.coverage:.1%}",
            f"{summary.wape / hotline.wape:.2f}×",
            f"{seconds[timing]:.1f}"
            if (timing := "statsforecast" if name.startswith("sf_") else name) in seconds
            else "",
        )
    console.print(table)
    console.print("* seconds: all origins; the statsforecast models share one figure")
    for _, reason in sorted(excluded.items(), key=lambda item: str(item[0])):
        console.print(f"left out of fitting: {reason}", highlight=False)
    share = share_beating(scores, method="hotline", baseline=BASELINE, by_at_least=0.15)
    print(
        json.dumps(
            {
                "bench": "forecast",
                "data": "anonymous-bank 1999 (Technion SEE lab)",
                "interval_min": 30,
                "horizon_days": HORIZON_DAYS,
                "origins": len(origins),
                "step_days": step,
                "scored_intervals": hotline.intervals,
                "wape": hotline.wape,
                "wape_seasonal_naive_7d": naive.wape,
                "improvement_over_naive": round(1.0 - hotline.wape / naive.wape, 4),
                "share_of_origins_beating_naive": share,
                "share_of_origins_beating_naive_at_all": share_beating(
                    scores, method="hotline", baseline=BASELINE
                ),
                "best_peer": best_peer,
                "best_peer_wape": summaries[best_peer].wape,
                "ratio_to_best_peer": round(hotline.wape / summaries[best_peer].wape, 4),
                "interval_coverage_80": hotline.coverage,
                "mase": hotline.mase,
                "bias": hotline.bias,
                "peers": {
                    n: {"wape": s.wape, "mase": round(s.mase, 4), "bias": round(s.bias, 4)}
                    for n, s in summaries.items()
                    if n != "hotline"
                },
                "seconds": {k: round(v, 2) for k, v in seconds.items()},
                "load_seconds": round(loaded, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
