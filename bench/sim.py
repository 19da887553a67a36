"""Benchmark: Hotline's simulator (full routing engine) vs a plain SimPy M/M/N+M model.

One day of an M/M/N+M call center — 100 agents, exponential handle time of 180 s, exponential
patience of 300 s, 95 Erlangs offered (about 45,600 calls) — simulated twice in the same
process: written plainly in SimPy (a ``Resource`` of 100 agents, each caller a process that
waits for an agent or its patience), and by ``hotline.sim`` driving the real routing engine
(skills pools, the agent selection strategy, agent states, the full contact event log: about
ten events per contact, every KPI of METRICS.md computable from it).
Prints contacts simulated per second for both, the ratio Hotline ÷ SimPy, and both models'
abandon rate and service level next to Erlang A's, so a fast wrong model cannot win. One JSON
line.

The two run in turn (SimPy, Hotline, SimPy, …), so a change in the machine's load during the
benchmark weighs on both alike. Rates are medians over the repeats, in wall-clock time (the
headline) and in CPU time of the thread (``cpu_*``: on a shared machine these leave out time
the process spent preempted).

    .venv/bin/python bench/sim.py [--quick] [--hours H]

Hotline runs as ``make setup`` leaves it: the engine, the event vocabulary and the driver
compiled with mypyc (``"hotline_engine": "compiled"`` in the output). The same source
interpreted, for comparison: ``HOTLINE_INTERPRETED=1 .venv/bin/python bench/sim.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from typing import Any

from hotline import compiled
from hotline.metrics.compute import events_to_frame, queue_figures
from hotline.sim.driver import Simulation
from hotline.sim.scenario import Scenario, scenario_from_dict
from hotline.wfm.erlang import erlang_a_figures

AGENTS = 100
AHT_S = 180.0
PATIENCE_S = 300.0
LOAD_ERLANGS = 95.0
THRESHOLD_S = 20.0


def simpy_day(hours: float, seed: int) -> dict[str, Any]:
    """The same model written plainly in SimPy; returns counts and the wall time."""
    import simpy

    rng = random.Random(seed)
    rate = LOAD_ERLANGS / AHT_S
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    stats = {"offered": 0, "answered": 0, "abandoned": 0, "within": 0}
    horizon = hours * 3600.0

    def caller(patience: float, handle: float) -> Any:
        arrived = env.now
        with agents.request() as request:
            outcome = yield request | env.timeout(patience)
            if request in outcome:
                stats["answered"] += 1
                stats["within"] += env.now - arrived <= THRESHOLD_S
                yield env.timeout(handle)
            else:
                stats["abandoned"] += 1

    def source() -> Any:
        while True:
            yield env.timeout(rng.expovariate(rate))
            if env.now >= horizon:
                return
            stats["offered"] += 1
            env.process(caller(rng.expovariate(1 / PATIENCE_S), rng.expovariate(1 / AHT_S)))

    env.process(source())
    start = time.perf_counter()
    cpu = time.thread_time()
    env.run()
    stats["cpu_s"] = time.thread_time() - cpu
    stats["wall_s"] = time.perf_counter() - start
    return stats


def mmn_day(hours: float) -> Scenario:
    """The M/M/N+M model as a Hotline scenario, ``hours`` long (also ``bench/sim_scale.py``'s)."""
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
                    "service_level_threshold_s": THRESHOLD_S,
                }
            ],
            "agents": [{"group": "agents", "count": AGENTS}],
            "arrivals": [
                {"queue": "q", "rates_per_hour": [LOAD_ERLANGS / AHT_S * 3600] * int(hours * 2)}
            ],
        }
    )


def hotline_day(hours: float, seed: int) -> dict[str, Any]:
    """The same model through Hotline's simulator and routing engine."""
    scenario = mmn_day(hours)
    simulation = Simulation(scenario, seed=seed)
    cpu = time.thread_time()
    run = simulation.run()
    cpu_s = time.thread_time() - cpu
    row = queue_figures(events_to_frame(run.events), interval="all", by=()).rows()[0]
    return {
        "offered": row["offered"],
        "answered": row["answered"],
        "abandoned": row["abandoned"],
        "service_level_answered_share": row["service_level_offered"],
        "events": len(run.events),
        "wall_s": run.wall_s,
        "cpu_s": cpu_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 hours instead of 24")
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (median time)")
    args = parser.parse_args()
    hours = 4.0 if args.quick else args.hours
    try:
        import simpy  # noqa: F401
    except ImportError as exc:  # the peer is a dev dependency; say so rather than skip
        sys.exit(f"simpy is needed for this benchmark: {exc}")

    simpy_runs: list[dict[str, Any]] = []
    hotline_runs: list[dict[str, Any]] = []
    for seed in range(args.repeats):
        simpy_runs.append(simpy_day(hours, seed))
        hotline_runs.append(hotline_day(hours, seed))
    simpy_rate = statistics.median(r["offered"] / r["wall_s"] for r in simpy_runs)
    hotline_rate = statistics.median(r["offered"] / r["wall_s"] for r in hotline_runs)
    simpy_cpu_rate = statistics.median(r["offered"] / r["cpu_s"] for r in simpy_runs)
    hotline_cpu_rate = statistics.median(r["offered"] / r["cpu_s"] for r in hotline_runs)
    theory = erlang_a_figures(
        agents=AGENTS,
        calls=LOAD_ERLANGS / AHT_S * 1800,
        aht_s=AHT_S,
        interval_s=1800,
        patience_s=PATIENCE_S,
        answer_within_s=THRESHOLD_S,
    )

    def abandon(runs: list[dict[str, Any]]) -> float:
        return round(sum(r["abandoned"] for r in runs) / sum(r["offered"] for r in runs), 4)

    print(
        json.dumps(
            {
                "benchmark": "sim_mmn_plus_m_one_day",
                "agents": AGENTS,
                "hours": hours,
                "hotline_engine": (
                    "compiled" if all(compiled.status().values()) else "interpreted"
                ),
                "contacts_per_run": round(statistics.fmean(r["offered"] for r in hotline_runs)),
                "hotline_contacts_per_s": round(hotline_rate),
                "simpy_contacts_per_s": round(simpy_rate),
                "ratio_hotline_over_simpy": round(hotline_rate / simpy_rate, 2),
                "cpu_hotline_contacts_per_s": round(hotline_cpu_rate),
                "cpu_simpy_contacts_per_s": round(simpy_cpu_rate),
                "cpu_ratio_hotline_over_simpy": round(hotline_cpu_rate / simpy_cpu_rate, 2),
                "hotline_events_per_run": round(
                    statistics.fmean(r["events"] for r in hotline_runs)
                ),
                "abandon_rate_hotline": abandon(hotline_runs),
                "abandon_rate_simpy": abandon(simpy_runs),
                "abandon_rate_erlang_a": round(theory.abandon_rate, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
