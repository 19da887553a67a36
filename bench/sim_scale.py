"""Benchmark: the same batch of replications in this process and on a 2-worker Dask cluster.

Replications are independent, CPU-bound tasks (``hotline.sim.fanout``): a batch of them —
each an M/M/N+M day of the real routing engine, 100 agents at 95 Erlangs, exponential handle
time of 180 s and patience of 300 s, simulated and measured (the center's service level, ASA,
abandon rate and occupancy by the metrics engine: ``hotline.sim.sweep.measure_cell``, what a
sweep's cell runs) — runs first here, one after the other (``local_s``), then on a
``LocalCluster`` of worker processes (``dask_s``; the cluster already started, its workers
warmed up, as a long-lived cluster would be), in turn for a few rounds (medians reported).
``speedup`` is the ratio; ``identical`` says whether every replication's figures came back
equal to the local ones in every round.

The same replications returning their whole event log instead (what ``hotline simulate
--workers`` gathers, to write it) are timed too (``log_dask_s``, ``log_speedup``,
``log_identical``: event by event): the log crosses the process boundary and is rebuilt in
the one process that gathers it, at a cost per task measured here (``log_load_s_per_task``).

What the scaling on a real cluster depends on is measured as well: the mean task time
(``task_s``, from the local run) and the cost per task that does not spread over workers
(``overhead_ms_per_task``: wall time per task of a batch of empty tasks on the same cluster,
the scheduler's and the client's share). For a batch much larger than the cluster, W workers
finish it about ``min(W, task_s / overhead)`` times faster than one process:
``expected_speedup_at`` gives that for a few W.

    .venv/bin/python bench/sim_scale.py [--quick] [--workers 2]

The machine's load average before and after is printed: on a shared machine, two workers get
two cores only when nobody else wants them.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import sys
import tempfile
import time

from hotline import compiled
from hotline.sim.fanout import DaskCluster, InProcess, replicate
from hotline.sim.scenario import Scenario
from hotline.sim.sweep import CellTask, Grid, measure_cell, sweep
from sim import mmn_day


def nothing(index: int) -> int:
    """An empty task: what the scheduler costs per task, with no work in it."""
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 tasks of 4 hours (< 2 min).")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes.")
    parser.add_argument("--tasks", type=int, default=None, help="Replications in the batch.")
    parser.add_argument("--hours", type=float, default=None, help="Simulated hours per task.")
    parser.add_argument("--rounds", type=int, default=None, help="Local and Dask runs each.")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    tasks = args.tasks or (6 if args.quick else 16)
    args.hours = args.hours or (4.0 if args.quick else 8.0)
    args.rounds = args.rounds or (2 if args.quick else 5)
    grid = Grid(mmn_day(args.hours), replications=tasks, seed=args.seed)
    load_before = os.getloadavg()

    began = time.perf_counter()
    local_logs = replicate(grid.scenario, replications=tasks, seed=args.seed)
    log_local_s = time.perf_counter() - began
    packed = [pickle.dumps(r, protocol=5) for r in local_logs.replications]
    began = time.perf_counter()
    for data in packed:
        pickle.loads(data)
    log_load_s = (time.perf_counter() - began) / tasks

    local_times: list[float] = []
    dask_times: list[float] = []
    identical = True
    with tempfile.TemporaryDirectory(prefix="sim-scale-") as folder:
        began = time.perf_counter()
        cluster = DaskCluster.start(args.workers, local_directory=folder)
        start_s = time.perf_counter() - began
        with cluster:
            # Warm up: each worker imports Hotline (the compiled engine, polars) once.
            cluster.map(warm_up, [mmn_day(0.5)] * args.workers)
            empty = 100 if args.quick else 500
            began = time.perf_counter()
            cluster.map(nothing, list(range(empty)))
            overhead_s = (time.perf_counter() - began) / empty
            # In turn, here then there: a change in the machine's load weighs on both alike.
            for _ in range(args.rounds):
                began = time.perf_counter()
                local = sweep(grid, executor=InProcess())
                local_times.append(time.perf_counter() - began)
                began = time.perf_counter()
                fanned = sweep(grid, executor=cluster)
                dask_times.append(time.perf_counter() - began)
                identical = identical and fanned.figures == local.figures
            began = time.perf_counter()
            fanned_logs = replicate(
                grid.scenario, replications=tasks, seed=args.seed, executor=cluster
            )
            log_dask_s = time.perf_counter() - began
    log_identical = all(
        (a.events, a.contacts, a.cut_at) == (b.events, b.contacts, b.cut_at)
        for a, b in zip(local_logs.replications, fanned_logs.replications, strict=True)
    )
    local_s = statistics.median(local_times)
    dask_s = statistics.median(dask_times)
    task_s = local_s / tasks

    print(
        json.dumps(
            {
                "tasks": tasks,
                "hours_per_task": args.hours,
                "contacts": local_logs.contacts,
                "workers": args.workers,
                "cpu_count": os.cpu_count(),
                "cpus_usable": len(os.sched_getaffinity(0)),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "local_s": round(local_s, 2),
                "dask_s": round(dask_s, 2),
                "speedup": round(local_s / dask_s, 2),
                "identical": identical,
                "rounds": args.rounds,
                "task_s": round(task_s, 3),
                "overhead_ms_per_task": round(overhead_s * 1000, 2),
                "expected_speedup_at": {
                    str(w): round(min(w, task_s / overhead_s), 1) for w in (2, 8, 32, 128, 512)
                },
                "cluster_start_s": round(start_s, 2),
                "log_local_s": round(log_local_s, 2),
                "log_dask_s": round(log_dask_s, 2),
                "log_speedup": round(log_local_s / log_dask_s, 2),
                "log_identical": log_identical,
                "log_mb_per_task": round(statistics.fmean(map(len, packed)) / 1e6, 2),
                "log_load_s_per_task": round(log_load_s, 3),
                "hotline_engine": "compiled" if all(compiled.status().values()) else "interpreted",
                "python": sys.version.split()[0],
            }
        )
    )


def warm_up(scenario: Scenario) -> int:
    """A short replication on a worker: imports and first-call costs paid before timing."""
    return measure_cell(CellTask(0, scenario, 0, 0)).contacts


if __name__ == "__main__":
    main()
