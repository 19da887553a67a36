"""Benchmark: interactive report queries over 10 million contacts, Hotline (Polars) vs pandas.

The reports page, the reports API and the manager cockpit each ask one question at a time:
"this queue yesterday by half hour", "all queues this week", "the center this month by day".
Such a query has to come back while the reader waits (issue #18: p95 under 1 s). This bench
generates N contacts (default 10 million, a year of a center; :func:`bench.metrics.generate`:
20 queues, exponential waits, 8 % abandons, log-normal talk, repeat callers), keeps them sorted
by the time they queued (as an index on ``queued_at`` would), and then runs a fixed, seeded mix
of report queries:

* one queue, one day, 30-minute intervals;
* all queues, one day, 30-minute intervals by queue;
* all queues, one week, 30-minute intervals by queue;
* all queues, one month (30 days), 30-minute intervals by queue.

Each query cuts its span out of the sorted contacts by binary search and computes every
METRICS.md queue figure on it: Hotline with :func:`hotline.metrics.compute.queue_figures`
(Polars), the peer with the plain pandas implementation of the same definitions
(:func:`bench.metrics.pandas_figures`) on its own pandas frame, cut the same way. FCR looks
for a repeat contact within the span only (both engines alike). Every query's two answers must
agree (counts exactly, ratios to 1e-9). Prints a Rich progress bar, then one JSON line with
``contacts``, ``queries``, ``p95_ms`` and ``p50_ms`` (Hotline), ``pandas_p95_ms``, and
``ratio_vs_pandas`` (pandas total time ÷ Hotline total time, same queries, same process).

    .venv/bin/python bench/reports.py [--quick] [--rows N] [--queries Q]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hotline.metrics.compute import queue_figures
from metrics import YEAR_START, agree, generate, pandas_figures

DAY = 86400.0
#: The query kinds: name, span in days, and whether one queue only.
KINDS: tuple[tuple[str, int, bool], ...] = (
    ("queue_day", 1, True),
    ("center_day", 1, False),
    ("center_week", 7, False),
    ("center_month", 30, False),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="contacts to generate")
    parser.add_argument("--queries", type=int, default=10, help="queries of each kind")
    parser.add_argument("--quick", action="store_true", help="2 million contacts, 5 of each")
    args = parser.parse_args()
    rows = 2_000_000 if args.quick else args.rows
    per_kind = 5 if args.quick else args.queries

    start = time.perf_counter()
    frame = generate(rows).filter(pl.col("queued_at").is_not_null()).sort("queued_at")
    generate_s = time.perf_counter() - start
    queued = frame["queued_at"].to_numpy()
    theirs_all = frame.to_pandas()  # pandas gets its own frame, sorted the same way
    theirs_queued = theirs_all["queued_at"].to_numpy()

    rng = np.random.default_rng(18)
    plan = []
    for name, days, one_queue in KINDS:
        for _ in range(per_kind):
            first_day = int(rng.integers(0, 365 - days))
            queue = f"queue-{int(rng.integers(0, 20)):02d}" if one_queue else None
            plan.append((name, YEAR_START + first_day * DAY, days * DAY, queue))
    rng.shuffle(plan)

    hotline_ms: list[float] = []
    pandas_ms: list[float] = []
    agreed = True
    with Progress(transient=True) as progress:
        task = progress.add_task("report queries", total=len(plan))
        for _name, begin, length, queue in plan:
            t0 = time.perf_counter()
            low, high = np.searchsorted(queued, [begin, begin + length])
            span = frame.slice(int(low), int(high - low))
            if queue is not None:
                span = span.filter(pl.col("queue") == queue)
            ours = queue_figures(span, interval="30m", by=("queue",)).table
            hotline_ms.append((time.perf_counter() - t0) * 1000)

            t0 = time.perf_counter()
            low, high = np.searchsorted(theirs_queued, [begin, begin + length])
            cut = theirs_all.iloc[int(low) : int(high)]
            if queue is not None:
                cut = cut[cut["queue"] == queue]
            theirs = pandas_figures(cut.copy())
            pandas_ms.append((time.perf_counter() - t0) * 1000)
            agreed = agreed and agree(ours, theirs)
            progress.advance(task)

    print(
        json.dumps(
            {
                "benchmark": "report_queries",
                "contacts": rows,
                "queries": len(plan),
                "generate_s": round(generate_s, 2),
                "p50_ms": round(float(np.percentile(hotline_ms, 50)), 1),
                "p95_ms": round(float(np.percentile(hotline_ms, 95)), 1),
                "max_ms": round(max(hotline_ms), 1),
                "pandas_p95_ms": round(float(np.percentile(pandas_ms, 95)), 1),
                "ratio_vs_pandas": round(sum(pandas_ms) / sum(hotline_ms), 2),
                "target_p95_ms": 1000,
                "results_agree": agreed,
            }
        )
    )
    if not agreed:
        sys.exit(1)


if __name__ == "__main__":
    main()
