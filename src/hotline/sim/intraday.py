"""Intraday what-if by simulation: the rest of today run through the real routing engine.

Erlang's formulas treat every half hour as a steady state of its own; a supervisor's actual
question mid-morning — "if I add two agents on overtime from 14:00 to 16:00, or move Li's break
to 15:30, what happens to the afternoon?" — involves queues that carry over from one interval
into the next. This module answers it the way the digital twin does: the remaining intervals'
re-forecast arrivals (a Poisson stream per interval) meet the roster's heads on the phones,
logged in and out at interval boundaries, in the discrete-event driver, which runs the same
routing engine as the live server. Each replication starts the rest of the day with an empty
queue; the figures of the contacts queued in each interval come from the metrics engine
(METRICS.md definitions), averaged over the replications.

Both sides of a what-if use the same seed, so they meet the same callers (common random
numbers) and their difference is the change's, not luck's. As in
:mod:`hotline.sim.staffing`, after-contact work is folded into the handle time (exponential
with the interval's offered-weighted AHT over the rest of the day) and the queue's wrap-up is
zero, keeping the comparison with Erlang like for like.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from hotline.metrics.compute import events_to_frame, queue_figures
from hotline.metrics.definitions import MetricSettings, QueueThresholds
from hotline.routing.model import QueueConfig
from hotline.sim.distributions import Exponential, Never
from hotline.sim.driver import simulate
from hotline.sim.scenario import AgentGroup, ArrivalStream, QueueSpec, Scenario

#: 2026-03-02 00:00 UTC: simulated time only needs to be some fixed instant.
_START = 1772409600.0


@dataclass(frozen=True, slots=True)
class SimulatedInterval:
    """One remaining interval's simulated outcome, the mean over replications.

    ``None`` where no replication had a contact to measure in the interval.
    """

    offered: float
    service_level: float | None
    asa_s: float | None
    abandon_rate: float | None


def _mean(values: list[float]) -> float | None:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else None


def simulate_rest_of_day(
    *,
    queue_id: str,
    offered: Sequence[float],
    aht_s: Sequence[float],
    agents: Sequence[int],
    interval_s: float,
    answer_within_s: float,
    patience_s: float | None,
    replications: int,
    seed: int,
) -> list[SimulatedInterval]:
    """Simulate the intervals still to come: ``offered`` contacts and ``agents`` on the
    phones in each, the queue's target threshold ``answer_within_s``; callers wait forever
    without ``patience_s`` (Erlang C's caller), else give up after an exponential patience
    of that mean.

    >>> rows = simulate_rest_of_day(queue_id="q", offered=[40, 40], aht_s=[180, 180],
    ...     agents=[6, 2], interval_s=1800, answer_within_s=20, patience_s=120,
    ...     replications=2, seed=7)
    >>> rows[0].service_level > rows[1].service_level
    True
    """
    if not (len(offered) == len(aht_s) == len(agents)):
        raise ValueError("offered, AHT and agents must cover the same intervals")
    if replications < 1:
        raise ValueError("at least one replication is needed")
    if not offered:
        return []
    total = sum(offered)
    mean_aht = (
        sum(o * a for o, a in zip(offered, aht_s, strict=True)) / total if total > 0 else max(aht_s)
    )
    queue = QueueConfig(
        queue_id,
        target_threshold_s=answer_within_s,
        wrap_up_s=0.0,
        expected_handle_s=max(mean_aht, 1.0),
    )
    heads = tuple(max(0, int(a)) for a in agents)
    scenario = Scenario(
        name=f"intraday what-if {queue_id}",
        start=_START,
        timezone="UTC",
        interval_s=interval_s,
        queues=(
            QueueSpec(
                config=queue,
                handle_time=Exponential(max(mean_aht, 1.0)),
                patience=Exponential(patience_s) if patience_s else Never(),
            ),
        ),
        agents=(AgentGroup(name="roster", count=max(heads), skills={}, per_interval=heads),),
        arrivals=(
            ArrivalStream(queue=queue_id, rates_per_s=tuple(o / interval_s for o in offered)),
        ),
    )
    settings = MetricSettings(
        per_queue={queue_id: QueueThresholds(service_level_s=answer_within_s)}
    )
    sums: list[dict[str, list[float]]] = [{} for _ in offered]
    for replication in simulate(scenario, replications=replications, seed=seed).replications:
        frame = events_to_frame(replication.events).filter(pl.col("queued_at").is_not_null())
        for index, slot in enumerate(sums):
            since = _START + index * interval_s
            part = frame.filter(
                (pl.col("queued_at") >= since) & (pl.col("queued_at") < since + interval_s)
            )
            row = (
                queue_figures(part, interval="all", by=(), settings=settings).rows()[0]
                if part.height
                else {"offered": 0.0}
            )
            for name in ("offered", "service_level", "asa_s", "abandon_rate"):
                value = row.get(name)
                slot.setdefault(name, []).append(math.nan if value is None else float(value))
    return [
        SimulatedInterval(
            offered=_mean(slot["offered"]) or 0.0,
            service_level=_mean(slot["service_level"]),
            asa_s=_mean(slot["asa_s"]),
            abandon_rate=_mean(slot["abandon_rate"]),
        )
        for slot in sums
    ]
