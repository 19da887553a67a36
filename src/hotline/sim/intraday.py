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
from hotline.routing.model import OverflowAction, OverflowCondition, OverflowRule, QueueConfig
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


@dataclass(frozen=True, slots=True)
class QueueRestOfDay:
    """One queue's intervals still to come: contacts offered, their AHT and the agents on
    the phones in each, its target threshold and its callers' mean patience (``None``: they
    wait as long as it takes, Erlang C's caller)."""

    queue_id: str
    offered: Sequence[float]
    aht_s: Sequence[float]
    agents: Sequence[int]
    answer_within_s: float
    patience_s: float | None = None

    def __post_init__(self) -> None:
        if not (len(self.offered) == len(self.aht_s) == len(self.agents)):
            raise ValueError("offered, AHT and agents must cover the same intervals")

    @property
    def mean_aht_s(self) -> float:
        """The offered-weighted AHT over the rest of the day (at least a second)."""
        total = sum(self.offered)
        if total <= 0:
            return max(1.0, max(self.aht_s, default=1.0))
        weighted = sum(o * a for o, a in zip(self.offered, self.aht_s, strict=True))
        return max(1.0, weighted / total)


@dataclass(frozen=True, slots=True)
class Overflow:
    """Queue ``source``'s callers who have waited ``after_s`` go on to ``target``'s agents."""

    source: str
    target: str
    after_s: float


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
    queue = QueueRestOfDay(queue_id, offered, aht_s, agents, answer_within_s, patience_s)
    return simulate_queues_rest_of_day(
        [queue], interval_s=interval_s, replications=replications, seed=seed
    )[queue_id]


def simulate_queues_rest_of_day(
    queues: Sequence[QueueRestOfDay],
    *,
    interval_s: float,
    replications: int,
    seed: int,
    overflow: Overflow | None = None,
) -> dict[str, list[SimulatedInterval]]:
    """Simulate several queues' rest of the day in one run, each answered by its own
    roster's agents (a skill of the queue's own name), with ``overflow`` open when given:
    the source's callers who have waited that long are offered to the target's agents too.

    A caller keeps the queue they called (METRICS.md): an overflowed caller counts in the
    source queue's figures, waiting from their first queueing, wherever they are answered;
    the target's figures are its own callers', who now share its agents.

    >>> busy = QueueRestOfDay("a", [40], [180], [2], 20)
    >>> quiet = QueueRestOfDay("b", [5], [180], [5], 20)
    >>> run = lambda o: simulate_queues_rest_of_day([busy, quiet], interval_s=1800,
    ...     replications=2, seed=3, overflow=o)
    >>> closed, opened = run(None), run(Overflow("a", "b", 30))
    >>> opened["a"][0].service_level > closed["a"][0].service_level
    True
    """
    if replications < 1:
        raise ValueError("at least one replication is needed")
    ids = [q.queue_id for q in queues]
    if len(set(ids)) != len(ids):
        raise ValueError("each queue once")
    if overflow is not None and not {overflow.source, overflow.target} <= set(ids):
        raise ValueError("an overflow joins two of the simulated queues")
    if overflow is not None and overflow.source == overflow.target:
        raise ValueError("a queue cannot overflow to itself")
    slots = {len(q.offered) for q in queues}
    if len(slots) > 1:
        raise ValueError("every queue must cover the same intervals")
    if not queues or not slots or slots == {0}:
        return {q.queue_id: [] for q in queues}
    specs, groups, streams = [], [], []
    for queue in queues:
        rules: tuple[OverflowRule, ...] = ()
        if overflow is not None and overflow.source == queue.queue_id:
            rules = (
                OverflowRule(
                    OverflowCondition.WAIT_EXCEEDS,
                    OverflowAction.QUEUE,
                    overflow.after_s,
                    overflow.target,
                ),
            )
        config = QueueConfig(
            queue.queue_id,
            requirements=(f"{queue.queue_id} >= 1",),
            target_threshold_s=queue.answer_within_s,
            wrap_up_s=0.0,
            expected_handle_s=queue.mean_aht_s,
            overflow=rules,
        )
        specs.append(
            QueueSpec(
                config=config,
                handle_time=Exponential(queue.mean_aht_s),
                patience=Exponential(queue.patience_s) if queue.patience_s else Never(),
            )
        )
        heads = tuple(max(0, int(a)) for a in queue.agents)
        groups.append(
            AgentGroup(
                name=queue.queue_id,
                count=max(heads),
                skills={queue.queue_id: 1},
                per_interval=heads,
            )
        )
        streams.append(
            ArrivalStream(
                queue=queue.queue_id, rates_per_s=tuple(o / interval_s for o in queue.offered)
            )
        )
    scenario = Scenario(
        name="intraday what-if " + ", ".join(ids),
        start=_START,
        timezone="UTC",
        interval_s=interval_s,
        queues=tuple(specs),
        agents=tuple(groups),
        arrivals=tuple(streams),
    )
    settings = MetricSettings(
        per_queue={q.queue_id: QueueThresholds(service_level_s=q.answer_within_s) for q in queues}
    )
    (count,) = slots
    sums: dict[str, list[dict[str, list[float]]]] = {q: [{} for _ in range(count)] for q in ids}
    for replication in simulate(scenario, replications=replications, seed=seed).replications:
        frame = events_to_frame(replication.events).filter(pl.col("queued_at").is_not_null())
        for queue_id, per_interval in sums.items():
            own = frame.filter(pl.col("queue") == queue_id)
            for index, slot in enumerate(per_interval):
                since = _START + index * interval_s
                part = own.filter(
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
    return {
        queue_id: [
            SimulatedInterval(
                offered=_mean(slot["offered"]) or 0.0,
                service_level=_mean(slot["service_level"]),
                asa_s=_mean(slot["asa_s"]),
                abandon_rate=_mean(slot["abandon_rate"]),
            )
            for slot in per_interval
        ]
        for queue_id, per_interval in sums.items()
    }
