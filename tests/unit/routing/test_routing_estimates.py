"""Position and estimated wait, checked against outcomes of a small seeded simulation.

The engine announces ``position × AHT ÷ serving agents`` (Whitt's queue-length predictor,
see :mod:`hotline.routing.strategies`). In an M/M/s queue — Poisson arrivals, exponential
handle times, no abandonment — that is the exact conditional mean wait of a caller who finds
``position − 1`` callers ahead, so the announced waits must agree with the waits the same
engine then produces, on average and position by position.
"""

from __future__ import annotations

import heapq
import random
import statistics

from hotline.core.events import EventKind
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    ContactEnded,
    ContactQueued,
    Offer,
    OfferAnswered,
    QueueConfig,
    RoutingConfig,
)


def simulate(
    *, agents: int, arrival_rate: float, handle_s: float, contacts: int, seed: int
) -> list[tuple[int, float, float]]:
    """Run the engine on a seeded M/M/s queue; return (position, announced, actual) per waiter."""
    rng = random.Random(seed)
    queue = QueueConfig("q", wrap_up_s=0, expected_handle_s=handle_s, ring_timeout_s=600)
    engine = RoutingEngine(
        RoutingConfig(queues=(queue,), agents=tuple(AgentConfig(f"a{i}") for i in range(agents)))
    )
    for i in range(agents):
        engine.handle(AgentLoggedIn(at=0.0, agent_id=f"a{i}"))
    plan: list[tuple[float, int, str, str]] = []
    serial = 0
    announced: dict[str, tuple[int, float]] = {}
    queued_at: dict[str, float] = {}
    outcomes: list[tuple[int, float, float]] = []
    now = 0.0
    heapq.heappush(plan, (rng.expovariate(arrival_rate), 0, "arrival", ""))
    arrivals = 0
    while plan:
        now, _, what, who = heapq.heappop(plan)
        if what == "arrival":
            arrivals += 1
            cid = f"c{arrivals}"
            result = engine.handle(ContactQueued(at=now, contact_id=cid, queue="q"))
            queued_at[cid] = now
            position = engine.position(cid)
            if position is not None:
                estimate = engine.estimated_wait(cid)
                assert estimate is not None
                announced[cid] = (position, estimate)
            if arrivals < contacts:
                serial += 1
                heapq.heappush(plan, (now + rng.expovariate(arrival_rate), serial, "arrival", ""))
        else:
            result = engine.handle(ContactEnded(at=now, contact_id=who))
        for effect in result.effects:
            if isinstance(effect, Offer):
                answered = engine.handle(
                    OfferAnswered(at=now, contact_id=effect.contact_id, agent_id=effect.agent_id)
                )
                assert any(e.kind is EventKind.ANSWERED for e in answered.events)
                if effect.contact_id in announced:
                    position, estimate = announced.pop(effect.contact_id)
                    outcomes.append((position, estimate, now - queued_at[effect.contact_id]))
                serial += 1
                heapq.heappush(
                    plan, (now + rng.expovariate(1 / handle_s), serial, "end", effect.contact_id)
                )
    return outcomes


def test_estimated_wait_matches_simulated_waits_in_mm_s() -> None:
    outcomes = simulate(agents=5, arrival_rate=0.9 * 5 / 60, handle_s=60, contacts=8000, seed=5)
    assert len(outcomes) > 2000  # plenty of callers had to wait
    announced = statistics.fmean(o[1] for o in outcomes)
    actual = statistics.fmean(o[2] for o in outcomes)
    assert 0.9 < announced / actual < 1.1, (announced, actual)
    for low, high in [(1, 1), (2, 3), (4, 7), (8, 1000)]:
        bucket = [o for o in outcomes if low <= o[0] <= high]
        assert len(bucket) > 150
        ratio = statistics.fmean(o[1] for o in bucket) / statistics.fmean(o[2] for o in bucket)
        assert 0.85 < ratio < 1.15, (low, high, ratio)


def test_estimates_rank_callers_well_and_beat_a_constant_guess() -> None:
    outcomes = simulate(agents=3, arrival_rate=0.85 * 3 / 120, handle_s=120, contacts=6000, seed=9)
    errors = [abs(o[1] - o[2]) for o in outcomes]
    mean_wait = statistics.fmean(o[2] for o in outcomes)
    constant_errors = [abs(mean_wait - o[2]) for o in outcomes]
    assert statistics.fmean(errors) < 0.9 * statistics.fmean(constant_errors)
    assert statistics.correlation([o[1] for o in outcomes], [o[2] for o in outcomes]) > 0.5


def test_position_follows_service_order() -> None:
    engine = RoutingEngine(RoutingConfig(queues=(QueueConfig("q"),)))
    for i, priority in enumerate([0, 0, 1, 0]):
        engine.handle(ContactQueued(at=i, contact_id=f"c{i}", queue="q", priority=priority))
    assert [engine.position(f"c{i}") for i in range(4)] == [2, 3, 1, 4]
    assert engine.estimated_wait("c0") is None  # nobody serves the queue: no honest estimate
    assert engine.queue_snapshot("q").waiting == 4
    assert engine.queue_snapshot("q").longest_wait_s == 3
