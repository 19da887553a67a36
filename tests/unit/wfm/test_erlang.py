"""Erlang B/C/A against independent computations: the recursion and a brute-force chain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from hotline.wfm.erlang import (
    ServiceTarget,
    erlang_a_figures,
    erlang_b,
    erlang_c,
    erlang_c_figures,
    queue_figures,
    required_agents,
)


def erlang_b_recursion(agents: int, load: float) -> float:
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def brute_force_erlang_a(agents, arrival_rate, aht_s, patience_s, within_s, states=300):
    """M/M/n+M by a truncated birth-death chain and a tagged caller's absorbing chain."""
    service, abandon = 1.0 / aht_s, 1.0 / patience_s
    weights = [1.0]
    for k in range(1, states):
        rate = min(k, agents) * service + max(0, k - agents) * abandon
        weights.append(weights[-1] * arrival_rate / rate)
    p = np.array(weights) / sum(weights)
    ahead = states - agents
    q = np.zeros((ahead + 2, ahead + 2))
    served, left = ahead, ahead + 1
    for j in range(ahead):
        rate = agents * service + j * abandon
        q[j, j] = -(rate + abandon)
        q[j, j - 1 if j else served] = rate
        q[j, left] = abandon
    within = expm(q * within_s)
    transient = -q[:ahead, :ahead]
    fundamental = np.linalg.inv(transient)
    absorbed_served = fundamental @ q[:ahead, served]
    time_if_served = fundamental @ absorbed_served  # E[T · 1{served}] per start state
    arrival = p[agents:]
    wait = arrival.sum()
    abandon_rate = float(arrival @ (1.0 - absorbed_served))
    answered_within = p[:agents].sum() + float(arrival @ within[:ahead, served])
    asa = float(arrival @ time_if_served) / (1.0 - abandon_rate)
    return wait, answered_within, abandon_rate, asa


@pytest.mark.parametrize("load", [0.5, 10.0, 1000.0, 20000.0])
@pytest.mark.parametrize("ratio", [0.6, 1.0, 1.05, 1.3])
def test_erlang_b_matches_the_stable_recursion_up_to_20000_erlangs(load, ratio):
    agents = max(1, int(load * ratio))
    assert erlang_b(agents, load) == pytest.approx(erlang_b_recursion(agents, load), rel=1e-9)


def test_erlang_c_textbook_value():
    # 8 Erlangs on 10 agents: 40.9 % of callers wait (e.g. Gross & Harris tables).
    assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=1e-5)
    assert erlang_c(8, 8.0) == 1.0


def test_erlang_c_figures_follow_the_formulas():
    f = erlang_c_figures(agents=12, calls=100, aht_s=180, interval_s=1800, answer_within_s=20)
    wait = erlang_c(12, 10.0)
    assert f.load_erlangs == 10.0
    assert f.service_level == pytest.approx(1 - wait * math.exp(-2 * 20 / 180))
    assert f.asa_s == pytest.approx(wait * 180 / 2)
    assert f.occupancy == pytest.approx(10 / 12)


def test_unstable_erlang_c_queue_is_reported_as_such():
    f = erlang_c_figures(agents=10, calls=100, aht_s=180, interval_s=1800, answer_within_s=20)
    assert f.service_level == 0.0
    assert math.isinf(f.asa_s)


@pytest.mark.parametrize(
    ("agents", "calls", "patience_s"),
    [(10, 100, 120.0), (8, 100, 60.0), (12, 100, 300.0), (5, 100, 30.0), (3, 20, 600.0)],
)
def test_erlang_a_matches_a_brute_force_chain(agents, calls, patience_s):
    f = erlang_a_figures(
        agents=agents,
        calls=calls,
        aht_s=180,
        interval_s=1800,
        patience_s=patience_s,
        answer_within_s=20,
    )
    wait, answered_within, abandon_rate, asa = brute_force_erlang_a(
        agents, calls / 1800, 180.0, patience_s, 20.0
    )
    assert f.probability_of_wait == pytest.approx(wait, rel=1e-9)
    assert f.service_level == pytest.approx(answered_within, rel=1e-9)
    assert f.abandon_rate == pytest.approx(abandon_rate, rel=1e-9)
    assert f.asa_s == pytest.approx(asa, rel=1e-6)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    c = erlang_c_figures(agents=105, calls=1000, aht_s=180, interval_s=1800, answer_within_s=20)
    a = erlang_a_figures(
        agents=105, calls=1000, aht_s=180, interval_s=1800, patience_s=1e6, answer_within_s=20
    )
    assert a.service_level == pytest.approx(c.service_level, abs=1e-3)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-2)
    assert a.abandon_rate < 1e-4


@settings(max_examples=60, deadline=None)
@given(
    load=st.floats(min_value=0.5, max_value=20000.0),
    extra=st.integers(min_value=1, max_value=60),
    patience=st.one_of(st.none(), st.floats(min_value=10.0, max_value=3600.0)),
    within=st.floats(min_value=0.0, max_value=120.0),
)
def test_service_level_rises_with_agents(load, extra, patience, within):
    base = max(1, math.floor(load) + 1 if patience is None else math.floor(load * 0.8))
    figures = [
        queue_figures(
            agents=n,
            calls=load * 10,
            aht_s=180,
            interval_s=1800,
            answer_within_s=within,
            patience_s=patience,
        )
        for n in (base, base + extra)
    ]
    assert 0.0 <= figures[0].service_level <= figures[1].service_level + 1e-9 <= 1.0 + 1e-9
    assert figures[1].abandon_rate <= figures[0].abandon_rate + 1e-9


@pytest.mark.parametrize("patience_s", [None, 120.0])
@pytest.mark.parametrize("calls", [10, 1000, 200_000, 400_000])
def test_required_agents_is_the_smallest_count_meeting_the_target(calls, patience_s):
    target = ServiceTarget.parse("80/20")
    answer = required_agents(
        calls=calls, aht_s=180, interval_s=3600, target=target, patience_s=patience_s
    )
    assert answer.service_level >= 0.8
    fewer = queue_figures(
        agents=answer.agents - 1,
        calls=calls,
        aht_s=180,
        interval_s=3600,
        answer_within_s=20,
        patience_s=patience_s,
    )
    assert fewer.service_level < 0.8
    assert math.isfinite(answer.asa_s)


def test_vip_target_needs_more_agents_than_the_standard_one():
    standard = required_agents(
        calls=500, aht_s=240, interval_s=1800, target=ServiceTarget.parse("80/20")
    )
    vip = required_agents(calls=500, aht_s=240, interval_s=1800, target=ServiceTarget.parse("99/5"))
    assert vip.agents > standard.agents
    assert vip.service_level >= 0.99


def test_occupancy_cap_and_shrinkage():
    target = ServiceTarget.parse("80/60", max_occupancy=0.85)
    answer = required_agents(calls=4000, aht_s=180, interval_s=1800, target=target, shrinkage=0.35)
    assert answer.load_erlangs == 400.0
    assert answer.agents == math.ceil(400 / 0.85)
    assert answer.occupancy <= 0.85
    assert answer.scheduled_heads == math.ceil(answer.agents / 0.65)


def test_abandon_cap_raises_erlang_a_staffing():
    loose = required_agents(
        calls=1000, aht_s=180, interval_s=1800, target=ServiceTarget.parse("50/60"), patience_s=60
    )
    capped = required_agents(
        calls=1000,
        aht_s=180,
        interval_s=1800,
        target=ServiceTarget.parse("50/60", max_abandon_rate=0.02),
        patience_s=60,
    )
    assert capped.agents > loose.agents
    assert capped.abandon_rate <= 0.02 < loose.abandon_rate


def test_no_calls_needs_no_agents():
    answer = required_agents(calls=0, aht_s=180, interval_s=1800, target=ServiceTarget())
    assert answer.agents == 0
    assert answer.scheduled_heads == 0


@pytest.mark.parametrize("text", ["80", "80/x", "120/20", "0/20"])
def test_bad_targets_are_refused(text):
    with pytest.raises(ValueError, match=r"target|service level"):
        ServiceTarget.parse(text)


@pytest.mark.parametrize("patience_s", [None, 90.0])
def test_an_interval_without_calls_meets_any_target(patience_s):
    f = queue_figures(
        agents=0, calls=0, aht_s=180, interval_s=1800, answer_within_s=20, patience_s=patience_s
    )
    assert (f.service_level, f.asa_s, f.occupancy, f.abandon_rate) == (1.0, 0.0, 0.0, 0.0)


def test_a_load_of_a_few_1e_300_erlangs_needs_one_agent_not_a_domain_error():
    # A forecast's quiet night can hold such loads; Erlang B's recursion underflows to 0.
    tiny = required_agents(calls=1e-300, aht_s=300, interval_s=1800, target=ServiceTarget())
    assert (tiny.agents, tiny.service_level) == (1, 1.0)
    assert erlang_c(6, 1e-301) == 0.0
