"""Benchmark: a surge (5× volume for two hours) with and without crisis mode, in the simulator.

The sample Monday morning (``src/hotline/sim/samples/appliance_monday.yaml``: the sample
center's queues, routing rules and teams, 08:00–12:00) with every queue's arrivals multiplied
by five from 09:00 to 11:00 — a storm knocks out power across the city and everyone calls —
is simulated twice in the same process, with the same seeds and so the same callers:

* **normal**: the center as configured (repair offers callbacks after 60 s, as the sample
  says);
* **crisis**: crisis mode on for the whole surge, as the center file's ``crisis`` section says
  (``--center``, the sample center by default; :func:`hotline.routing.crisis.crisis_queue`, the
  rules the live center switches to). The sample closes the installation-booking queue (its
  callers hear the closed message; its agents serve repair, which they also have the skills
  for) and releases every caller still waiting after 60 s with a callback that keeps their
  place.

The routing engine runs both (the same code as live); figures are METRICS.md's, computed from
the contact event log by ``hotline.metrics``: abandon rate and average speed of answer for the
center, and per queue, means over the replications. The peer is the run without the mode:
``*_ratio`` is crisis ÷ normal. One JSON line last.

    .venv/bin/python bench/crisis.py [--quick] [--replications N] [--seed S] [--center FILE]

Position announcements are off in both runs (see :func:`surge`). The front announcement of
crisis mode is not simulated: how many callers an announcement satisfies is a guess this
benchmark does not make.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from hotline.config.crisis import CrisisConfig
from hotline.config.validate import ValidationFailed, load_center
from hotline.routing.crisis import crisis_queue
from hotline.sim.driver import Simulation, SimulationRun
from hotline.sim.results import replication_frames, summarise
from hotline.sim.scenario import Scenario, load_scenario

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "src/hotline/sim/samples/appliance_monday.yaml"
CENTER = REPO / "src/hotline/config/samples/appliance_center.yaml"
SURGE = 5.0
SURGE_INTERVALS = range(2, 6)  # 09:00–11:00 in half hours from 08:00
FIGURES = ("offered", "answered", "abandoned", "abandon_rate", "asa_s", "service_level")


def surge(scenario: Scenario) -> Scenario:
    """The scenario with every queue's arrivals ×5 for two hours (announcements off)."""
    # Position announcements change nothing here (simulated callers do not react to them),
    # and each one counts the caller's position by walking the queue: with the thousands
    # waiting in a 5x surge that is quadratic and would dominate the run. Off in both runs.
    queues = tuple(
        replace(q, config=replace(q.config, announce_every_s=None)) for q in scenario.queues
    )
    arrivals = tuple(
        replace(
            stream,
            rates_per_s=tuple(
                rate * SURGE if index in SURGE_INTERVALS else rate
                for index, rate in enumerate(stream.rates_per_s)
            ),
        )
        for stream in scenario.arrivals
    )
    return replace(
        scenario, queues=queues, arrivals=arrivals, name=f"{scenario.name}, 5× surge 09–11"
    )


def crisis_of(center: Path) -> CrisisConfig:
    """The center file's crisis section; a file without one (or one that does not check)
    ends the benchmark with the file's problems."""
    try:
        crisis = load_center(center).crisis
    except ValidationFailed as failed:
        raise SystemExit(f"{center}: {failed}") from failed
    if crisis is None:
        raise SystemExit(f"{center}: no crisis section to simulate")
    return crisis


def in_crisis(scenario: Scenario, crisis: CrisisConfig) -> Scenario:
    """The scenario with crisis mode on for the whole run."""
    queues = tuple(replace(q, config=crisis_queue(q.config, crisis)) for q in scenario.queues)
    return replace(scenario, queues=queues, name=f"{scenario.name}, crisis mode")


def run(scenario: Scenario, *, replications: int, seed: int, bar: Any) -> dict[str, Any]:
    """Simulate and summarise: center and per-queue figures, outcomes counted."""
    task = bar.add_task(scenario.name, total=replications)
    result = SimulationRun(scenario=scenario, seed=seed)
    for index in range(replications):
        result.replications.append(Simulation(scenario, seed=seed, replication=index).run())
        bar.advance(task)
    summary = summarise(result, replication_frames(result))
    figures: dict[str, dict[str, float]] = {}
    for row in summary.rows():
        if row["figure"] in FIGURES or row["figure"] == "occupancy":
            figures.setdefault(row["queue"], {})[row["figure"]] = round(row["mean"], 4)
    outcomes: Counter[str] = Counter()
    for replication in result.replications:
        for event in replication.events:
            if event.kind.value == "finished":
                outcomes[str(event.data.get("outcome"))] += 1
    return {
        "center": figures.pop("*"),
        "queues": figures,
        "outcomes_per_replication": {
            k: round(v / replications, 1) for k, v in sorted(outcomes.items())
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="1 replication (< 2 minutes)")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--center", type=Path, default=CENTER, help="center file whose crisis section to use"
    )
    args = parser.parse_args()
    crisis_config = crisis_of(args.center)
    replications = args.replications or (1 if args.quick else 5)
    base = surge(load_scenario(SAMPLE))
    console = Console(stderr=True)
    console.print(f"seed {args.seed}, {replications} replications: {base.name}")
    with Progress(console=console, transient=True) as bar:
        normal = run(base, replications=replications, seed=args.seed, bar=bar)
        crisis = run(
            in_crisis(base, crisis_config), replications=replications, seed=args.seed, bar=bar
        )

    def ratio(figure: str) -> float | None:
        before, after = normal["center"].get(figure), crisis["center"].get(figure)
        if before is None or after is None or not before:
            return None
        return round(after / before, 3)

    repair = [normal["queues"]["repair"]["asa_s"], crisis["queues"]["repair"]["asa_s"]]
    print(
        json.dumps(
            {
                "benchmark": "crisis",
                "scenario": base.name,
                "surge": f"{SURGE:g}x for {len(SURGE_INTERVALS) / 2:g} h",
                "center": str(args.center),
                "crisis": crisis_config.model_dump(mode="json"),
                "seed": args.seed,
                "replications": replications,
                "normal": normal,
                "crisis_mode": crisis,
                "peer": "the same surge without crisis mode",
                "abandon_rate_ratio": ratio("abandon_rate"),
                "asa_s_ratio": ratio("asa_s"),
                "repair_asa_s_ratio": round(repair[1] / repair[0], 3) if repair[0] else None,
                "answered_change": round(
                    crisis["center"]["answered"] - normal["center"]["answered"], 1
                ),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
