"""Benchmark: Hotline's predictive pacing vs VICIdial's adaptive method and progressive 1:1.

Many simulated campaign days (``hotline.sim.outbound``: customers answering, busy or not
answering, agents taking breaks and short not-readies, every answered call routed by the
real routing engine). Each day draws its own conditions from its seed — 8 to 40 agents, an
answer rate of 30–60 % (moving ± 10 points over the day), a talk time of 120–300 s on average
(log-normal) — and the three pacers run the *same* days with the same customers: Hotline's
predictive pacer (``hotline.pacing.pacers.PredictivePacer``), the peer, VICIdial's adaptive
pacing re-implemented from ``AST_VDadapt.pl`` (``ADAPT_HARD_LIMIT``, its default settings:
drop limit 3 %, maximum level 3.0, intensity 0), and progressive (one call per free agent).

The figures: the worst day's abandon rate (abandoned ÷ live answers) of each, and the agent
productive-time share (talk time ÷ time agents were available, breaks excluded, over all
days) of Hotline's pacer divided by the peer's and by progressive's. One JSON line at the end.

    .venv/bin/python bench/pacing.py [--quick] [--days N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from typing import Any

from rich.console import Console
from rich.progress import Progress

from hotline.pacing.adaptive import AdaptivePacer
from hotline.pacing.pacers import Pacer, PredictivePacer, ProgressivePacer
from hotline.sim.distributions import LogNormal
from hotline.sim.outbound import CampaignDay, Customers, DayResult, run_day


def day_conditions(seed: int) -> CampaignDay:
    """The campaign day a seed stands for (the same for every pacer)."""
    rng = random.Random(f"pacing-bench:{seed}")
    talk = rng.uniform(120.0, 300.0)
    customers = Customers(
        answer_rate=rng.uniform(0.40, 0.50),
        answer_swing=0.10,
        busy_rate=rng.uniform(0.05, 0.15),
        talk=LogNormal(talk, talk * rng.uniform(0.5, 0.9)),
    )
    return replace(CampaignDay(agents=rng.randint(8, 40)), customers=customers)


def pacers() -> list[Pacer]:
    """A fresh pacer of each kind (a pacer learns one campaign day)."""
    return [PredictivePacer(), AdaptivePacer(), ProgressivePacer()]


def summary(results: list[DayResult]) -> dict[str, float]:
    """Worst and mean daily abandon rate, and productive share over all days."""
    talk = sum(r.talk_s for r in results)
    staffed = sum(r.staffed_s for r in results)
    answered = sum(r.answered for r in results)
    abandoned = sum(r.abandoned for r in results)
    return {
        "max_daily_abandon_rate": max(r.abandon_rate for r in results),
        "abandon_rate": abandoned / answered if answered else 0.0,
        "days_over_cap": sum(1 for r in results if r.abandoned * 100 > 3 * r.answered),
        "productivity": talk / staffed if staffed else 0.0,
        "connected_per_day": sum(r.connected for r in results) / len(results),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the days and print the comparison (one JSON line)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 days (well under two minutes)")
    parser.add_argument("--days", type=int, default=None, help="simulated days (default 150)")
    parser.add_argument("--seed", type=int, default=1, help="first day's seed")
    args = parser.parse_args(argv)
    days = args.days or (20 if args.quick else 150)
    if days < 1:
        parser.error("--days must be at least 1")
    console = Console(stderr=True)
    results: dict[str, list[DayResult]] = {}
    began = time.perf_counter()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("simulated days", total=days)
        for seed in range(args.seed, args.seed + days):
            day = day_conditions(seed)
            for pacer in pacers():
                result = run_day(day, pacer, seed=seed)
                result.events = []  # the figures are taken; the event logs would fill memory
                results.setdefault(pacer.name, []).append(result)
            bar.advance(task)
    figures = {name: summary(rs) for name, rs in results.items()}
    hotline, peer, progressive = (
        figures["predictive"],
        figures["adaptive"],
        figures["progressive"],
    )
    for name, f in figures.items():
        console.print(
            f"{name:12} worst day {f['max_daily_abandon_rate']:.2%}  "
            f"all days {f['abandon_rate']:.2%}  days over 3 %: {f['days_over_cap']}  "
            f"productive {f['productivity']:.3f}  connected/day {f['connected_per_day']:.0f}"
        )
    line: dict[str, Any] = {
        "benchmark": "pacing",
        "days": days,
        "first_seed": args.seed,
        "max_daily_abandon_rate": round(hotline["max_daily_abandon_rate"], 5),
        "peer_max_daily_abandon_rate": round(peer["max_daily_abandon_rate"], 5),
        "progressive_max_daily_abandon_rate": round(progressive["max_daily_abandon_rate"], 5),
        "abandon_rate": round(hotline["abandon_rate"], 5),
        "peer_abandon_rate": round(peer["abandon_rate"], 5),
        "days_over_cap": hotline["days_over_cap"],
        "peer_days_over_cap": peer["days_over_cap"],
        "productivity": round(hotline["productivity"], 4),
        "peer_productivity": round(peer["productivity"], 4),
        "progressive_productivity": round(progressive["productivity"], 4),
        "productivity_ratio_vs_peer": round(hotline["productivity"] / peer["productivity"], 4),
        "productivity_ratio_vs_progressive": round(
            hotline["productivity"] / progressive["productivity"], 4
        ),
        "peer": "VICIdial adaptive (AST_VDadapt.pl, ADAPT_HARD_LIMIT)",
        "wall_s": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
