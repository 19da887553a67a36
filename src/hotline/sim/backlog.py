"""The planner's question: how many agents clear this follow-up backlog by the deadline?

"We have 3,000 verification calls (回访) to make by Friday, and inbound must keep its service
levels meanwhile: how many agents?" The simulator answers it by running the working days
until the deadline, blended, with the predictive pacer: each day dials the leads still open
(a connected call clears its lead; a lead not reached is tried again), inbound traffic is
served by the same agents through the same engine, and a head count *works* when the
backlog is cleared by the last day and every inbound queue met its service-level target on
every day. The fewest such agents is found by bisection (more agents never clear less, nor
serve inbound worse, up to the simulation's noise; every candidate is simulated with the
same seeds, so the noise is the same for all).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from hotline.pacing.pacers import PredictivePacer
from hotline.sim.outbound import CampaignDay, DayResult, run_day


@dataclass(frozen=True, slots=True)
class BacklogOutcome:
    """What one head count achieves over the days up to the deadline."""

    agents: int
    cleared: int
    backlog: int
    days: list[DayResult] = field(default_factory=list)
    inbound_met: bool = True
    cleared_on_day: int | None = None
    """The day (1-based) the backlog was cleared, ``None`` if it was not."""

    @property
    def works(self) -> bool:
        """Cleared in time with every inbound target met every day."""
        return self.cleared_on_day is not None and self.inbound_met


def simulate_backlog(
    day: CampaignDay, *, agents: int, backlog: int, days: int, seed: int
) -> BacklogOutcome:
    """Run up to ``days`` working days with ``agents`` until ``backlog`` leads are cleared.

    >>> day = CampaignDay(agents=1, day_s=3600.0, breaks=())
    >>> outcome = simulate_backlog(day, agents=4, backlog=20, days=2, seed=1)
    >>> outcome.works, outcome.cleared >= 20
    (True, True)
    """
    if backlog < 0 or days < 1:
        raise ValueError("the backlog must not be negative and there must be at least one day")
    remaining = backlog
    results: list[DayResult] = []
    inbound_met = True
    cleared_on: int | None = 0 if backlog == 0 else None
    for index in range(days):
        if remaining <= 0:
            break
        result = run_day(
            replace(day, agents=agents, leads=remaining),
            PredictivePacer(cap=day.cap),
            seed=seed + index,
        )
        result.events = []  # its figures are taken; many candidates' logs would fill memory
        results.append(result)
        remaining -= result.connected
        inbound_met = inbound_met and all(
            level is not None and level >= queue.service_level
            for queue in day.inbound
            for level in [result.inbound_service_level.get(queue.id)]
        )
        if remaining <= 0:
            cleared_on = index + 1
    return BacklogOutcome(
        agents=agents,
        cleared=backlog - max(0, remaining),
        backlog=backlog,
        days=results,
        inbound_met=inbound_met,
        cleared_on_day=cleared_on,
    )


def fewest_agents(
    day: CampaignDay,
    *,
    backlog: int,
    days: int,
    seed: int,
    most: int = 200,
    progress: Callable[[BacklogOutcome], None] | None = None,
) -> BacklogOutcome | None:
    """The smallest head count that works (bisection over 1..``most``), or ``None``.

    >>> day = CampaignDay(agents=1, day_s=3600.0, breaks=(), not_ready_per_hour=0.0)
    >>> best = fewest_agents(day, backlog=60, days=1, seed=1, most=20)
    >>> best is not None and best.works and best.agents < 20
    True
    """
    tried: dict[int, BacklogOutcome] = {}

    def attempt(agents: int) -> BacklogOutcome:
        if agents not in tried:
            tried[agents] = simulate_backlog(
                day, agents=agents, backlog=backlog, days=days, seed=seed
            )
            if progress is not None:
                progress(tried[agents])
        return tried[agents]

    if not attempt(most).works:
        return None
    low, high = 0, most  # low fails (or is nobody), high works
    while high - low > 1:
        middle = (low + high) // 2
        if attempt(middle).works:
            high = middle
        else:
            low = middle
    return tried[high]
