"""Effective staffing inferred from answered calls' concurrency (``fit_scenario(staffing=…)``)."""

from __future__ import annotations

import pytest

from hotline.metrics.records import ContactRecord
from hotline.sim.fit import effective_staffing, fit_scenario


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
