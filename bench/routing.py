"""Benchmark: routing decisions per second and per-decision latency at 200, 2,000, 20,000 agents.

A center with 100 queues (80 voice, 20 chat; the six strategies in turn, or one for all with
``--strategy``; strict and head-start priority; ageing rings) over 50 skills; every agent
holds 4 random skills with proficiency 1–5 and up to 3 chats. A small discrete-event driver
runs it at about 90 % offered load: Poisson arrivals spread over the queues, answers after
2 s (2 % ring out and the agent comes back 30 s later), exponential talk time (mean 180 s),
10 s of wrap-up ended by the agent, and callers who abandon after an exponential patience
(mean 120 s). Agents start busy, so the measurement starts in a loaded state rather than an
empty center.

A **routing decision** is an engine call that must choose: a contact arriving (pick an agent
or queue it: ``ContactQueued``) or an agent coming free (pick the best waiting contact across
their queues or go idle: ``WrapUpEnded``). Each such call is timed alone — including
writing its events and effects — twice: in CPU time of the thread (``time.thread_time_ns``,
the headline figures: on a shared machine they leave out time the process spent preempted)
and in wall-clock time (``wall_*`` figures, which include that noise). The timer's own cost
is measured and subtracted. ``decisions_per_s`` is decisions ÷ the time spent in them;
``all_calls`` adds every other engine call (answers, hang-ups, abandons, timer advances) for
the whole-engine view. Single process, single core.

Garbage collection: like a long-running server, the driver calls ``gc.freeze()`` once the
center is loaded, so the collector does not keep re-scanning the static configuration; its
pauses during the run are part of the figures.

There is no external peer for an ACD decision engine in Python; the figures are absolute, and
``cost_growth`` says how the median decision cost grows from 200 to 20,000 agents (×100 agents).
Prints one JSON line.

    .venv/bin/python bench/routing.py [--quick] [--seed N] [--strategy longest_idle]

The engine runs as ``make setup`` leaves it, compiled with mypyc (``hotline_engine`` in the
output); ``HOTLINE_INTERPRETED=1`` measures the same source interpreted.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import os
import random
import statistics
import time
from typing import Any

from hotline import compiled
from hotline.core.events import Channel
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgeingStep,
    AgentConfig,
    AgentLoggedIn,
    AgentReady,
    CancelOffer,
    Command,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    Offer,
    OfferAnswered,
    PriorityMode,
    QueueConfig,
    RoutingConfig,
    Strategy,
    WrapUpEnded,
)

SKILLS = 50
QUEUES = 100
AHT_S = 180.0
WRAP_S = 10.0
ANSWER_S = 2.0
PATIENCE_S = 120.0
LOAD = 0.9
STRATEGIES = list(Strategy)


def build_config(
    agents: int, rng: random.Random, strategies: list[Strategy] = STRATEGIES
) -> RoutingConfig:
    """100 queues over 50 skills and ``agents`` agents with 4 skills each."""
    queues = []
    for i in range(QUEUES):
        skill = f"s{i % SKILLS}"
        level = 1 + i % 3
        ageing: tuple[AgeingStep, ...] = ()
        if level > 1:
            ageing = (AgeingStep(after_s=30, min_proficiency=1),)
        queues.append(
            QueueConfig(
                f"q{i}",
                channel=Channel.CHAT if i % 5 == 4 else Channel.VOICE,
                requirements=(f"{skill} >= {level}",),
                strategy=strategies[i % len(strategies)],
                priority_mode=PriorityMode.HEAD_START if i % 2 else PriorityMode.STRICT,
                head_start_s=90.0,
                wrap_up_s=3600.0,  # the driver ends wrap-up itself (a decision to time)
                ring_timeout_s=20.0,
                ageing=ageing,
            )
        )
    agent_configs = []
    for a in range(agents):
        skills = {f"s{s}": rng.randint(1, 5) for s in rng.sample(range(SKILLS), 4)}
        languages = frozenset({"zh-CN", "en"}) if rng.random() < 0.2 else frozenset({"zh-CN"})
        agent_configs.append(
            AgentConfig(f"a{a}", skills=skills, languages=languages, capacity={Channel.CHAT: 3})
        )
    return RoutingConfig(
        queues=tuple(queues), agents=tuple(agent_configs), seed=rng.randrange(1000)
    )


def timer_overheads() -> tuple[int, int]:
    """The median cost of an empty CPU-time and wall-clock measurement, in nanoseconds."""
    cpu, wall = [], []
    for _ in range(20_000):
        w = time.perf_counter_ns()
        c = time.thread_time_ns()
        cpu.append(time.thread_time_ns() - c)
        wall.append(time.perf_counter_ns() - w)
    return int(statistics.median(cpu)), int(statistics.median(wall))


def run(
    agents: int, decisions_wanted: int, seed: int, strategies: list[Strategy] = STRATEGIES
) -> dict[str, Any]:
    """Drive one center until ``decisions_wanted`` decisions are timed; return the figures."""
    cpu_overhead, wall_overhead = timer_overheads()
    rng = random.Random(seed)
    setup_started = time.perf_counter()
    config = build_config(agents, rng, strategies)
    engine = RoutingEngine(config)
    for agent in config.agents:
        engine.handle(AgentLoggedIn(at=0.0, agent_id=agent.id))
    setup_s = time.perf_counter() - setup_started

    plan: list[tuple[float, int, str, str]] = []  # (time, seq, what, contact or agent)
    seq = 0
    where: dict[str, str] = {}  # contact → agent it rings / talks at
    alive: set[str] = set()
    serial = 0
    decision_ns: list[int] = []
    decision_wall_ns: list[int] = []
    other_ns: list[int] = []
    offers = 0

    def schedule(at: float, what: str, who: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(plan, (at, seq, what, who))

    def absorb(result: Result, now: float) -> None:
        nonlocal offers
        for effect in result.effects:
            if isinstance(effect, Offer):
                offers += 1
                where[effect.contact_id] = effect.agent_id
                if rng.random() < 0.98:
                    schedule(now + ANSWER_S, "answer", effect.contact_id)
            elif isinstance(effect, CancelOffer) and effect.reason == "ring_no_answer":
                where.pop(effect.contact_id, None)
                schedule(now + 30.0, "ready", effect.agent_id)

    def call(command: Command, decision: bool) -> None:
        wall = time.perf_counter_ns()
        cpu = time.thread_time_ns()
        result = engine.handle(command)  # a conflict here is a driver bug: let it raise
        cpu = time.thread_time_ns() - cpu - cpu_overhead
        wall = time.perf_counter_ns() - wall - wall_overhead
        if decision:
            decision_ns.append(cpu)
            decision_wall_ns.append(wall)
        else:
            other_ns.append(cpu)
        absorb(result, command.at)

    def arrive(at: float, measured: bool) -> None:
        nonlocal serial
        serial += 1
        cid = f"c{serial}"
        queue = f"q{rng.randrange(QUEUES)}"
        alive.add(cid)
        command = ContactQueued(
            at=at,
            contact_id=cid,
            queue=queue,
            priority=1 if rng.random() < 0.1 else 0,
            language="en" if rng.random() < 0.05 else None,
        )
        if measured:
            call(command, decision=True)
        else:
            absorb(engine.handle(command), at)
        schedule(at + rng.expovariate(1 / PATIENCE_S), "abandon", cid)

    # Start loaded: fill the center to about the offered load before measuring.
    for _ in range(int(agents * LOAD)):
        arrive(0.0, measured=False)
    now = 0.0
    rate = LOAD * agents / (AHT_S + WRAP_S + ANSWER_S)
    schedule(now + rng.expovariate(rate), "arrival", "")
    gc.collect()
    gc.freeze()
    collections_before = sum(s["collections"] for s in gc.get_stats())

    started = time.perf_counter()
    while len(decision_ns) < decisions_wanted:
        deadline = engine.next_deadline()
        if deadline is not None and (not plan or deadline < plan[0][0]):
            cpu = time.thread_time_ns()
            result = engine.advance(deadline)
            other_ns.append(time.thread_time_ns() - cpu - cpu_overhead)
            absorb(result, deadline)
            continue
        now, _, what, who = heapq.heappop(plan)
        if what == "arrival":
            arrive(now, measured=True)
            schedule(now + rng.expovariate(rate), "arrival", "")
        elif what == "answer":
            agent = where.get(who)
            if agent is not None and who in alive and engine.contact_stage(who) == "ringing":
                call(OfferAnswered(at=now, contact_id=who, agent_id=agent), decision=False)
                schedule(now + rng.expovariate(1 / AHT_S), "end", who)
        elif what == "end":
            if who in alive:
                agent = where.pop(who)
                alive.discard(who)
                call(ContactEnded(at=now, contact_id=who), decision=False)
                schedule(now + WRAP_S, "wrap", f"{agent}|{who}")
        elif what == "wrap":
            agent, contact = who.split("|")
            call(WrapUpEnded(at=now, agent_id=agent, contact_id=contact), decision=True)
        elif what == "abandon":
            stage = engine.contact_stage(who)
            if stage in ("waiting", "ringing"):
                alive.discard(who)
                where.pop(who, None)
                call(ContactAbandoned(at=now, contact_id=who), decision=False)
        elif what == "ready":
            call(AgentReady(at=now, agent_id=who), decision=False)
    wall_s = time.perf_counter() - started
    collections = sum(s["collections"] for s in gc.get_stats()) - collections_before
    gc.unfreeze()

    decision_ns.sort()
    decision_wall_ns.sort()
    everything = sorted(decision_ns + other_ns)
    waiting = sum(engine.queue_snapshot(f"q{i}").waiting for i in range(QUEUES))
    return {
        "agents": agents,
        "setup_s": round(setup_s, 2),
        "decisions": len(decision_ns),
        "decisions_per_s": round(len(decision_ns) / (sum(decision_ns) / 1e9)),
        "median_ms": round(statistics.median(decision_ns) / 1e6, 4),
        "p99_ms": round(decision_ns[int(0.99 * (len(decision_ns) - 1))] / 1e6, 4),
        "max_ms": round(decision_ns[-1] / 1e6, 3),
        "wall_decisions_per_s": round(len(decision_wall_ns) / (sum(decision_wall_ns) / 1e9)),
        "wall_median_ms": round(statistics.median(decision_wall_ns) / 1e6, 4),
        "wall_p99_ms": round(decision_wall_ns[int(0.99 * (len(decision_wall_ns) - 1))] / 1e6, 4),
        "gc_collections": collections,
        "all_calls": len(everything),
        "all_calls_per_s": round(len(everything) / (sum(everything) / 1e9)),
        "all_calls_p99_ms": round(everything[int(0.99 * (len(everything) - 1))] / 1e6, 4),
        "offers": offers,
        "waiting_at_end": waiting,
        "simulated_s": round(now, 1),
        "wall_s": round(wall_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer decisions per size")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sizes", default="200,2000,20000", help="agent counts, comma-separated")
    parser.add_argument(
        "--strategy",
        default="mixed",
        help="mixed (the six strategies in turn, the default) or one strategy for every queue",
    )
    args = parser.parse_args()
    strategies = STRATEGIES if args.strategy == "mixed" else [Strategy(args.strategy)]
    wanted = 5_000 if args.quick else 40_000
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for agents in sizes:
        row = run(agents, wanted, args.seed, strategies)
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary: dict[str, Any] = {
        "benchmark": "routing",
        "hotline_engine": "compiled" if all(compiled.status().values()) else "interpreted",
        "seed": args.seed,
        "strategy": args.strategy,
        "decisions_per_s": {str(r["agents"]): r["decisions_per_s"] for r in rows},
        "median_ms": {str(r["agents"]): r["median_ms"] for r in rows},
        "p99_ms": {str(r["agents"]): r["p99_ms"] for r in rows},
        "wall_decisions_per_s": {str(r["agents"]): r["wall_decisions_per_s"] for r in rows},
        "wall_p99_ms": {str(r["agents"]): r["wall_p99_ms"] for r in rows},
        "timing": "CPU time of the thread per call (wall_* = wall clock)",
        "load_average": round(os.getloadavg()[0], 2),
        "all_calls_per_s": {str(r["agents"]): r["all_calls_per_s"] for r in rows},
    }
    if len(rows) > 1:
        summary["cost_growth"] = {
            "agents_ratio": rows[-1]["agents"] / rows[0]["agents"],
            "median_ratio": round(rows[-1]["median_ms"] / rows[0]["median_ms"], 2),
        }
    by_size = {r["agents"]: r for r in rows}
    if 2000 in by_size and 20000 in by_size:
        summary["targets_met"] = {
            "decisions_per_s_2000_ge_50000": by_size[2000]["decisions_per_s"] >= 50_000,
            "p99_ms_20000_lt_1": by_size[20000]["p99_ms"] < 1.0,
        }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
