"""Effective staffing inferred from answered calls' concurrency (``fit_scenario(staffing=…)``)."""

from __future__ import annotations

import pytest

from hotline.metrics.records import ContactRecord, fold_events
from hotline.routing.model import QueueConfig
from hotline.sim.distributions import Exponential, Never
from hotline.sim.driver import Simulation
from hotline.sim.fit import effective_staffing, fit_scenario
from hotline.sim.scenario import AgentGroup, ArrivalStream, QueueSpec, Scenario


def call(n: int, queued: float, wait: float, agent: str | None, talk: float, queue: str = "q"):
    if agent is None:
        return ContactRecord(
            contact_id=f"c{n}", arrived_at=queued, queued_at=queued, abandoned_at=queued + wait,
            queue=queue, outcome="abandoned",
        )  # fmt: skip
    return ContactRecord(
        contact_id=f"c{n}", arrived_at=queued, queued_at=queued, answered_at=queued + wait,
        agent=agent, queue=queue, outcome="answered", talk_s=talk,
    )  # fmt: skip


def test_while_callers_wait_the_busy_agents_are_the_staff():
    # Quarter hour 0: a, b and c each take one early call; c leaves at 100 s. From 200 s to
    # 800 s callers wait while a and b stay busy: two on the phones, though three were seen.
    records = [
        call(1, 0, 0, "a", 850),
        call(2, 0, 0, "b", 850),
        call(3, 0, 0, "c", 100),
        call(4, 200, 600, None, 0),
        # Quarter hour 1: nobody waits; one agent busy at a time, two seen.
        call(5, 1000, 0, "a", 60),
        call(6, 1200, 0, "b", 60),
    ]
    staffing = effective_staffing(records, start=0, interval_s=900, intervals=2)
    assert staffing == {frozenset({"q"}): [2, 2]}


def test_the_peak_is_only_a_lower_bound_without_waiting():
    records = [call(1, 0, 0, "a", 60), call(2, 100, 0, "b", 60), call(3, 300, 0, "c", 60)]
    # Never more than one busy at once, nobody waited: peak 1 + 1 of slack (3 were seen).
    assert effective_staffing(records, start=0, interval_s=900, intervals=1) == {
        frozenset({"q"}): [2]
    }


def test_groups_follow_the_queues_agents_served_and_pseudo_agents_are_not_staff():
    records = [
        call(1, 0, 30, "a", 600, "sales"),
        call(2, 0, 30, "b", 600, "internet"),
        call(3, 0, 0, "NO_SERVER", 3, "sales"),
    ]
    staffing = effective_staffing(
        records, start=0, interval_s=900, intervals=1, pseudo_agents={"NO_SERVER"}
    )
    assert staffing == {frozenset({"sales"}): [1], frozenset({"internet"}): [1]}


def test_fit_scenario_uses_the_effective_staffing_when_asked():
    records = [
        call(1, 0, 0, "a", 850),
        call(2, 0, 0, "b", 850),
        call(3, 0, 0, "c", 100),
        call(4, 200, 600, None, 0),
    ]
    seen = fit_scenario(records, interval_s=900)
    effective = fit_scenario(records, interval_s=900, staffing="concurrency")
    assert sum(g.per_interval[0] for g in seen.agents if g.per_interval) == 3
    [group] = effective.agents
    assert group.per_interval == (2,) and group.skills == {"q": 1}
    with pytest.raises(ValueError, match="staffing must be"):
        fit_scenario(records, staffing="guess")


def test_a_simulated_days_staffing_is_recovered_from_its_own_records():
    # The method checked against a known truth: a day simulated through the routing engine
    # with 6, 10 and 4 agents per half hour under load (callers wait in every interval), its
    # contact records folded from the event log, the staff inferred from them.
    truth = [6, 10, 4]
    scenario = Scenario(
        name="known staff",
        start=0.0,
        timezone="UTC",
        interval_s=1800.0,
        queues=(
            QueueSpec(QueueConfig(id="q", requirements=("q >= 1",)), Exponential(120.0), Never()),
        ),
        agents=(AgentGroup(name="g", count=10, skills={"q": 1}, per_interval=tuple(truth)),),
        arrivals=(ArrivalStream("q", (0.06, 0.1, 0.04)),),  # 7.2, 12 and 4.8 Erlangs
    )
    records = fold_events(Simulation(scenario, seed=5).run().events)
    inferred = effective_staffing(records, start=0.0, interval_s=1800.0, intervals=3)
    assert inferred == {frozenset({"q"}): truth}
    # Agents seen with a call in hand overstate the last half hour: the six who left at its
    # start were still finishing their calls.
    seen = fit_scenario(records, interval_s=1800.0)
    assert [sum((g.per_interval or ())[k] for g in seen.agents) for k in range(3)] == [6, 10, 10]
