"""Benchmark: Erlang C staffing, Hotline vs pyworkforce's ErlangC, in the same process.

For loads of 10, 100, 1,000 and 10,000 Erlangs (30-minute intervals, AHT 180 s, target
80 % in 20 s, 30 % shrinkage) both libraries answer "how many agents, and what service level";
the answers must be identical (same agents and heads, service level within 1e-9) and the
speed ratio is pyworkforce's time ÷ Hotline's. Prints one JSON line.

    .venv/bin/python bench/erlang.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from hotline.wfm.erlang import ServiceTarget, required_agents

AHT_S = 180.0
INTERVAL_S = 1800.0
SHRINKAGE = 0.3


def timed(function: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """Run ``function`` ``repeats`` times; return its result and the median seconds."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    try:
        from pyworkforce.queuing import ErlangC
    except ImportError as exc:  # the peer is a dev dependency; say so rather than skip
        sys.exit(f"pyworkforce is needed for this benchmark: {exc}")

    rows = []
    for load in (10, 100, 1_000, 10_000):
        calls = load * INTERVAL_S / AHT_S
        target = ServiceTarget(service_level=0.8, answer_within_s=20.0)
        ours, ours_s = timed(
            lambda calls=calls, target=target: required_agents(
                calls=calls,
                aht_s=AHT_S,
                interval_s=INTERVAL_S,
                target=target,
                shrinkage=SHRINKAGE,
            ),
            repeats=20 if args.quick else 200,
        )
        peer_repeats = 1 if (args.quick or load >= 10_000) else 5
        theirs, theirs_s = timed(
            lambda calls=calls: ErlangC(
                transactions=calls,
                aht=AHT_S / 60,
                asa=20 / 60,
                interval=INTERVAL_S / 60,
                shrinkage=SHRINKAGE,
            ).required_positions(service_level=0.8, max_occupancy=1.0),
            repeats=peer_repeats,
        )
        rows.append(
            {
                "load_erlangs": load,
                "agents": ours.agents,
                "peer_agents": theirs["raw_positions"],
                "heads": ours.scheduled_heads,
                "peer_heads": theirs["positions"],
                "service_level": round(ours.service_level, 12),
                "peer_service_level": round(theirs["service_level"], 12),
                "identical": ours.agents == theirs["raw_positions"]
                and ours.scheduled_heads == theirs["positions"]
                and abs(ours.service_level - theirs["service_level"]) < 1e-9,
                "hotline_s": ours_s,
                "pyworkforce_s": theirs_s,
                "speed_ratio": theirs_s / ours_s,
            }
        )
    print(
        json.dumps(
            {
                "bench": "erlang",
                "peer": "pyworkforce.queuing.ErlangC",
                "target": "80/20",
                "aht_s": AHT_S,
                "interval_s": INTERVAL_S,
                "all_identical": all(r["identical"] for r in rows),
                "speed_ratio_at_10000_erlangs": rows[-1]["speed_ratio"],
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
