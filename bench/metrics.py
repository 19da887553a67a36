"""Benchmark: 30-minute queue KPIs by queue, Hotline's Polars engine vs plain pandas.

Generates N contacts (default 10 million: a year of a center taking ~27,000 contacts a day
across 20 queues; waits exponential, 8 % abandons, log-normal talk time, repeat callers), then
computes every METRICS.md queue figure per 30-minute interval and queue twice in the same
process: with ``hotline.metrics.compute.queue_figures`` and with a straightforward pandas
implementation of the same definitions. The two results must agree (counts exactly, ratios to
1e-9); the ratio is pandas seconds ÷ Hotline seconds (target ≥ 5). Peak resident memory is read
after each step. Prints one JSON line.

    .venv/bin/python bench/metrics.py [--rows N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import polars as pl

from hotline.metrics.compute import FRAME_SCHEMA, queue_figures
from hotline.metrics.definitions import FCR_WINDOW_S

YEAR_START = 1_735_689_600.0  # 2025-01-01 00:00 UTC
THRESHOLD_S = 20.0
SHORT_S = 5.0


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(rows: int, seed: int = 7) -> pl.DataFrame:
    """Generate ``rows`` contact records with realistic shapes (vectorised, seeded)."""
    rng = np.random.default_rng(seed)
    arrived = YEAR_START + np.sort(rng.uniform(0, 365 * 86400, rows))
    queued_mask = rng.random(rows) < 0.97  # 3 % end in the IVR
    queued = np.where(queued_mask, arrived + rng.uniform(5, 60, rows), np.nan)
    wait = rng.exponential(25.0, rows)
    abandons = queued_mask & (rng.random(rows) < 0.08)
    answers = queued_mask & ~abandons
    talk = np.where(answers, rng.lognormal(5.0, 0.6, rows), 0.0)
    hold = np.where(answers & (rng.random(rows) < 0.2), rng.exponential(40.0, rows), 0.0)
    wrap = np.where(answers, rng.exponential(30.0, rows), 0.0)
    numbers = pl.DataFrame(
        {
            "_n": np.arange(rows),
            "_customer": rng.integers(0, rows // 3 + 1, rows),
            "_queue": rng.integers(0, 20, rows),
            "_agent": rng.integers(0, 400, rows),
            "_queued": queued_mask,
            "_answered": answers,
            "_abandoned": abandons,
            "arrived_at": arrived,
            "queued_at": queued,
            "answered_at": np.where(answers, queued + wait, np.nan),
            "abandoned_at": np.where(abandons, queued + wait, np.nan),
            "ended_at": np.where(answers, queued + wait + talk + hold, np.nan),
            "talk_s": talk,
            "hold_s": hold,
            "wrap_s": wrap,
            "transferred": answers & (rng.random(rows) < 0.05),
        },
        nan_to_null=True,
    )
    # Text columns are built by Polars: NumPy string arrays of 10 million rows take
    # gigabytes and most of the generation time.
    return numbers.select(
        pl.col("_n").cast(pl.String).alias("contact_id"),
        "arrived_at",
        pl.when("_answered")
        .then(pl.lit("answered"))
        .when("_abandoned")
        .then(pl.lit("abandoned"))
        .otherwise(pl.lit("ivr_hangup"))
        .alias("outcome"),
        pl.lit("voice").alias("channel"),
        pl.lit("inbound").alias("direction"),
        pl.col("_customer").cast(pl.String).alias("customer"),
        pl.when("_queued")
        .then(pl.format("queue-{}", pl.col("_queue").cast(pl.String).str.zfill(2)))
        .alias("queue"),
        pl.lit(0, dtype=pl.Int64).alias("priority"),
        "queued_at",
        "answered_at",
        "abandoned_at",
        "ended_at",
        pl.when("_answered")
        .then(pl.format("agent-{}", pl.col("_agent").cast(pl.String).str.zfill(3)))
        .alias("agent"),
        pl.lit(None, dtype=pl.String).alias("team"),
        "talk_s",
        "hold_s",
        "wrap_s",
        "transferred",
        pl.lit(None, dtype=pl.String).alias("case_id"),
        pl.lit(None, dtype=pl.String).alias("entry"),
    ).cast(FRAME_SCHEMA)  # type: ignore[arg-type]


def pandas_figures(df: pd.DataFrame) -> pd.DataFrame:
    """The same METRICS.md figures, written plainly with pandas (UTC, 30 min, by queue)."""
    df = df.sort_values(["customer", "arrived_at"])
    next_arrival = df.groupby("customer")["arrived_at"].shift(-1)
    df["repeat"] = df["customer"].notna() & ((next_arrival - df["arrived_at"]) <= FCR_WINDOW_S)
    q = df[df["queued_at"].notna()].copy()
    q["interval_start"] = pd.to_datetime(q["queued_at"], unit="s", utc=True).dt.floor("30min")
    q["ans"] = q["answered_at"].notna()
    q["abn"] = q["abandoned_at"].notna() & ~q["ans"]
    q["wait"] = q["answered_at"].fillna(q["abandoned_at"]) - q["queued_at"]
    q["short"] = q["abn"] & (q["wait"] < SHORT_S)
    q["ans_in"] = q["ans"] & (q["wait"] <= THRESHOLD_S)
    q["abn_in"] = q["abn"] & (q["wait"] <= THRESHOLD_S)
    q["ans_wait"] = q["wait"].where(q["ans"], 0.0)
    q["abn_wait"] = q["wait"].where(q["abn"], 0.0)
    for column in ("talk_s", "hold_s", "wrap_s"):
        q[column] = q[column].where(q["ans"], 0.0)
    q["xfer"] = q["transferred"] & q["ans"]
    q["rep"] = q["repeat"] & q["ans"]
    q["known"] = q["customer"].notna() & q["ans"]
    g = q.groupby(["interval_start", "queue"]).agg(
        offered=("ans", "size"),
        answered=("ans", "sum"),
        abandoned=("abn", "sum"),
        short_abandoned=("short", "sum"),
        ans_in=("ans_in", "sum"),
        abn_in=("abn_in", "sum"),
        ans_wait=("ans_wait", "sum"),
        abn_wait=("abn_wait", "sum"),
        longest_wait_s=("wait", "max"),
        talk=("talk_s", "sum"),
        hold=("hold_s", "sum"),
        wrap=("wrap_s", "sum"),
        xfer=("xfer", "sum"),
        rep=("rep", "sum"),
        known=("known", "sum"),
    )
    ans, abn, short, off = g["answered"], g["abandoned"], g["short_abandoned"], g["offered"]
    handle = g["talk"] + g["hold"] + g["wrap"]
    out = pd.DataFrame(index=g.index)
    for column in ("offered", "answered", "abandoned", "short_abandoned"):
        out[column] = g[column]
    out["service_level"] = g["ans_in"] / (ans + abn - short)
    out["service_level_answered"] = g["ans_in"] / ans
    out["service_level_sl2"] = (g["ans_in"] + g["abn_in"]) / (ans + abn)
    out["service_level_offered"] = (g["ans_in"] + g["abn_in"]) / off
    out["asa_s"] = g["ans_wait"] / ans
    out["avg_abandon_wait_s"] = g["abn_wait"] / abn
    out["abandon_rate"] = (abn - short) / (off - short)
    out["longest_wait_s"] = g["longest_wait_s"]
    out["aht_s"] = handle / ans
    out["att_s"] = g["talk"] / ans
    out["avg_hold_s"] = g["hold"] / ans
    out["acw_s"] = g["wrap"] / ans
    out["transfer_rate"] = g["xfer"] / ans
    out["fcr"] = 1 - g["rep"] / g["known"]
    out["traffic_erlangs"] = off * handle / ans / 1800.0
    return out.replace([np.inf, -np.inf], np.nan).reset_index()


def agree(ours: pl.DataFrame, theirs: pd.DataFrame) -> bool:
    """True when both engines give the same figures for every interval and queue."""
    other = pl.from_pandas(theirs).with_columns(pl.col("interval_start").dt.cast_time_unit("us"))
    if ours.height != other.height:
        return False
    joined = ours.join(other, on=["interval_start", "queue"], suffix="_pd")
    if joined.height != ours.height:
        return False
    # Every METRICS.md figure pandas computed (Hotline's extra headline column is left out:
    # with default settings it is service_level itself).
    for column in [c for c in theirs.columns if c not in ("interval_start", "queue")]:
        a = joined[column].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        b = joined[f"{column}_pd"].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        if not np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True):
            print(f"disagree on {column}", file=sys.stderr)
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="contacts to generate")
    parser.add_argument("--quick", action="store_true", help="1 million contacts")
    args = parser.parse_args()
    rows = 1_000_000 if args.quick else args.rows

    start = time.perf_counter()
    frame = generate(rows)
    generate_s = time.perf_counter() - start
    rss_data = peak_rss_mb()

    start = time.perf_counter()
    report = queue_figures(frame, interval="30m", by=("queue",))
    hotline_s = time.perf_counter() - start
    rss_hotline = peak_rss_mb()

    pandas_input = frame.to_pandas()  # conversion is not timed: pandas gets its own frame
    start = time.perf_counter()
    theirs = pandas_figures(pandas_input)
    pandas_s = time.perf_counter() - start
    rss_pandas = peak_rss_mb()

    same = agree(report.table, theirs)
    print(
        json.dumps(
            {
                "benchmark": "metrics_30m_kpis_by_queue",
                "contacts": rows,
                "groups": report.table.height,
                "generate_s": round(generate_s, 2),
                "hotline_polars_s": round(hotline_s, 3),
                "pandas_s": round(pandas_s, 3),
                "ratio_pandas_over_hotline": round(pandas_s / hotline_s, 2),
                "target_ratio": 5,
                "results_agree": same,
                "peak_rss_mb_after_data": round(rss_data),
                "peak_rss_mb_after_hotline": round(rss_hotline),
                "peak_rss_mb_after_pandas": round(rss_pandas),
                "hotline_extra_rss_mb": round(rss_hotline - rss_data),
                "pandas_extra_rss_mb": round(rss_pandas - rss_hotline),
            }
        )
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
