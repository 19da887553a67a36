"""Benchmark: the same batch of replications in this process and on a 2-worker Dask cluster.

Replications are independent, CPU-bound tasks (``hotline.sim.fanout``): a batch of them —
each an M/M/N+M day of the real routing engine, 100 agents at 95 Erlangs, exponential handle
time of 180 s and patience of 300 s — runs first here, one after the other (``local_s``),
then on a ``LocalCluster`` of worker processes (``dask_s``, the cluster already started and
its workers warmed up by a batch of empty tasks, as a long-lived cluster would be). The
ratio is the speed-up (``speedup``); ``identical`` says whether every replication's event log
came back equal to the local one, event by event.

What the scaling on a real cluster depends on is measured too: the mean task time
(``task_s``, from the local run) and the scheduler's cost per task (``overhead_ms_per_task``:
wall time per task of a batch of empty tasks on the same cluster, round trip included), plus
the bytes a replication's event log costs to send back (``result_mb_per_task``). With W
workers and tasks much longer than the overhead, the batch takes about
``ceil(tasks / W) × task_s`` plus the overhead of every task at the scheduler:
``expected_speedup_at`` gives that estimate for a few W.

    .venv/bin/python bench/sim_scale.py [--quick] [--workers 2]

The machine's load average before and after is printed: on a shared machine, two workers get
two cores only when nobody else wants them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import statistics
import sys
import tempfile
import time

from hotline import compiled
from hotline.sim.fanout import DaskCluster, InProcess, replicate
from hotline.sim.scenario import Scenario, scenario_from_dict

AGENTS = 100
AHT_S = 180.0
PATIENCE_S = 300.0
LOAD_ERLANGS = 95.0


def day(hours: float) -> Scenario:
    """The M/M/N+M day of ``bench/sim.py``, ``hours`` long."""
    return scenario_from_dict(
        {
            "start": "2026-03-02T00:00:00",
            "interval_s": 1800,
            "queues": [
                {
                    "id": "q",
                    "handle_time": {"exponential": AHT_S},
                    "patience": {"exponential": PATIENCE_S},
                    "wrap_up_s": 0,
                }
            ],
            "agents": [{"group": "agents", "count": AGENTS}],
            "arrivals": [
                {"queue": "q", "rates_per_hour": [LOAD_ERLANGS / AHT_S * 3600] * int(hours * 2)}
            ],
        }
    )


def nothing(index: int) -> int:
    """An empty task: what the scheduler costs per task, with no work in it."""
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 tasks of 4 hours (< 2 min).")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes.")
    parser.add_argument("--tasks", type=int, default=None, help="Replications in the batch.")
    parser.add_argument("--hours", type=float, default=None, help="Simulated hours per task.")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    tasks = args.tasks or (8 if args.quick else 24)
    hours = args.hours or (4.0 if args.quick else 8.0)
    scenario = day(hours)
    load_before = os.getloadavg()

    began = time.perf_counter()
    local = replicate(scenario, replications=tasks, seed=args.seed, executor=InProcess())
    local_s = time.perf_counter() - began
    task_times = [r.wall_s for r in local.replications]
    result_bytes = statistics.fmean(len(pickle.dumps(r)) for r in local.replications)

    with tempfile.TemporaryDirectory(prefix="sim-scale-") as folder:
        began = time.perf_counter()
        cluster = DaskCluster.start(args.workers, local_directory=folder)
        start_s = time.perf_counter() - began
        with cluster:
            # Warm up: each worker imports Hotline (the compiled engine, polars) once.
            cluster.map(replicate_warm_up, [scenario] * args.workers)
            empty = 200 if args.quick else 500
            began = time.perf_counter()
            cluster.map(nothing, list(range(empty)))
            overhead_s = (time.perf_counter() - began) / empty
            began = time.perf_counter()
            fanned = replicate(scenario, replications=tasks, seed=args.seed, executor=cluster)
            dask_s = time.perf_counter() - began
    identical = all(
        (a.events, a.contacts, a.cut_at) == (b.events, b.contacts, b.cut_at)
        for a, b in zip(local.replications, fanned.replications, strict=True)
    )
    task_s = statistics.fmean(task_times)

    def expected(workers: int) -> float:
        # Rounds of W tasks each, plus every task's cost at the scheduler (sent one by one).
        batch = math.ceil(tasks / workers) * task_s + tasks * overhead_s
        return round(tasks * task_s / batch, 2)

    print(
        json.dumps(
            {
                "tasks": tasks,
                "hours_per_task": hours,
                "contacts": local.contacts,
                "workers": args.workers,
                "cpu_count": os.cpu_count(),
                "cpus_usable": len(os.sched_getaffinity(0)),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "local_s": round(local_s, 2),
                "dask_s": round(dask_s, 2),
                "speedup": round(local_s / dask_s, 2),
                "identical": identical,
                "cluster_start_s": round(start_s, 2),
                "task_s": round(task_s, 3),
                "overhead_ms_per_task": round(overhead_s * 1000, 2),
                "result_mb_per_task": round(result_bytes / 1e6, 2),
                "expected_speedup_at": {str(w): expected(w) for w in (2, 8, 32, 128)},
                "hotline_engine": "compiled" if all(compiled.status().values()) else "interpreted",
                "python": sys.version.split()[0],
            }
        )
    )


def replicate_warm_up(scenario: Scenario) -> int:
    """A one-replication warm-up on a worker (imports, first-call costs)."""
    return replicate(scenario_head(scenario), replications=1, seed=0).contacts


def scenario_head(scenario: Scenario) -> Scenario:
    """The first interval of ``scenario`` only."""
    from dataclasses import replace

    return replace(
        scenario,
        arrivals=tuple(replace(a, rates_per_s=a.rates_per_s[:1]) for a in scenario.arrivals),
    )


if __name__ == "__main__":
    main()
