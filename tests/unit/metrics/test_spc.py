"""Control charts, the Western Electric rules and outlier agents against hand-computed values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.metrics.spc import (
    agent_spread,
    individuals_chart,
    p_chart,
    two_sided_p_value,
    western_electric,
)


def rules(signals):
    return [(s.index, s.rule, s.side) for s in signals]


def test_individuals_chart_limits_by_hand():
    # Mean 50; every moving range 3 → mean 3; limits 50 ± 2.66 × 3 = 42.02, 57.98;
    # σ = 3 / 1.128.
    chart = individuals_chart([47, 50, 53, 50, 47, 50, 53])
    assert chart.centre == pytest.approx(50.0)
    assert chart.upper[0] == pytest.approx(57.98)
    assert chart.lower[0] == pytest.approx(42.02)
    assert chart.sigma[0] == pytest.approx(3 / 1.128)
    assert chart.signals == ()


def test_individuals_chart_flags_a_spike_beyond_the_upper_limit():
    # Wheeler's point: one wild day among steady ones. Values 10 ×9, 11 alternating, then 30.
    values = [10, 11, 10, 11, 10, 11, 10, 11, 10, 30]
    chart = individuals_chart(values)
    # mean 12.4; moving ranges eight 1s and one 20 → 28/9; UCL = 12.4 + 2.66 × 28/9 = 20.675…
    assert chart.centre == pytest.approx(12.4)
    assert chart.upper[0] == pytest.approx(12.4 + 2.66 * 28 / 9)
    # The wild day beyond 3σ, and the nine steady days before it all below the centre line
    # that it pulled up (rule 4 on the 8th and 9th).
    assert rules(chart.signals) == [(7, 4, "below"), (8, 4, "below"), (9, 1, "above")]
    assert chart.out_of_control == (7, 8, 9)


def test_p_chart_limits_vary_with_each_days_contacts():
    # p̄ = (40 + 90 + 170) / (50 + 100 + 200) = 300/350 = 6/7.
    chart = p_chart([40, 90, 170], [50, 100, 200])
    p = 6 / 7
    assert chart.centre == pytest.approx(p)
    for n, lower, upper in zip((50, 100, 200), chart.lower, chart.upper, strict=True):
        half = 3 * math.sqrt(p * (1 - p) / n)
        assert upper == pytest.approx(min(1.0, p + half))
        assert lower == pytest.approx(p - half)
    assert chart.values == pytest.approx((0.8, 0.9, 0.85))
    # The small day's limits are the widest.
    assert chart.upper[0] - chart.lower[0] > chart.upper[2] - chart.lower[2]


def test_p_chart_flags_a_day_far_below_the_others():
    trials = [400] * 10
    hits = [320, 316, 324, 318, 322, 320, 317, 323, 321, 240]  # 80 %, then 60 %
    chart = p_chart(hits, trials)
    assert (9, 1, "below") in rules(chart.signals)
    assert 9 in chart.out_of_control


def test_rule_2_two_of_three_beyond_2_sigma():
    sigma = [1.0] * 4
    assert rules(western_electric([0, 2.5, 0.5, 2.2], centre=0, sigma=sigma)) == [(3, 2, "above")]
    # Two beyond 2σ but on opposite sides: no signal.
    assert western_electric([2.5, 0, -2.5], centre=0, sigma=[1.0] * 3) == []


def test_rule_3_four_of_five_beyond_1_sigma():
    values = [1.5, 1.2, 0.3, 1.1, 1.4]
    assert rules(western_electric(values, centre=0, sigma=[1.0] * 5)) == [(4, 3, "above")]
    assert western_electric([1.5, 1.2, 0.3, 0.9, 1.4], centre=0, sigma=[1.0] * 5) == []


def test_rule_4_eight_in_a_row_on_one_side():
    values = [-0.1, -0.2, -0.5, -0.3, -0.1, -0.4, -0.2, -0.3, 0.5]
    assert rules(western_electric(values, centre=0, sigma=[1.0] * 9)) == [(7, 4, "below")]
    # A point on the centre line breaks the run.
    broken = [-0.1, -0.2, -0.5, 0.0, -0.1, -0.4, -0.2, -0.3]
    assert western_electric(broken, centre=0, sigma=[1.0] * 8) == []


def test_rules_refuse_mismatched_sigma_and_bad_points():
    with pytest.raises(ValueError, match="one σ per point"):
        western_electric([1, 2], centre=0, sigma=[1])
    with pytest.raises(ValueError, match="at least 2 points"):
        individuals_chart([1])
    with pytest.raises(ValueError, match="point 1"):
        p_chart([1, 5], [10, 4])
    with pytest.raises(ValueError, match=r"point 0: .* at least one trial"):
        p_chart([0, 1], [0, 4])
    with pytest.raises(ValueError, match="finite"):
        individuals_chart([1, math.nan])


def test_two_sided_p_values_of_the_normal_table():
    assert two_sided_p_value(0) == pytest.approx(1.0)
    assert two_sided_p_value(1.959964) == pytest.approx(0.05, abs=1e-6)
    assert two_sided_p_value(-2.575829) == pytest.approx(0.01, abs=1e-6)


def test_outlier_agent_by_hand():
    # Mean 320; squared deviations 400, 100, 900, 225, 625, 10000 → s² = 12250 / 5 = 2450.
    aht = {"a": 300, "b": 310, "c": 290, "d": 305, "e": 295, "f": 420}
    contacts = {"a": 40, "b": 38, "c": 41, "d": 39, "e": 42, "f": 12}
    report = agent_spread(aht, contacts, k=2)
    assert report.mean == pytest.approx(320)
    assert report.standard_deviation == pytest.approx(math.sqrt(2450))
    (outlier,) = report.outliers
    assert outlier.agent == "f"
    assert outlier.contacts == 12
    assert outlier.z == pytest.approx(100 / math.sqrt(2450))
    assert outlier.p_value == pytest.approx(math.erfc(outlier.z / math.sqrt(2)))
    assert outlier.adjusted_p_value == pytest.approx(min(1.0, 6 * outlier.p_value))
    # With k = 2.5 nobody is beyond.
    assert agent_spread(aht, contacts, k=2.5).outliers == ()


def test_outliers_of_a_team_with_no_spread_or_one_agent():
    assert agent_spread({"a": 5, "b": 5, "c": 5}, {}).outliers == ()
    single = agent_spread({"a": 5}, {"a": 3})
    assert single.agents[0].z == 0 and not single.agents[0].outlier
    with pytest.raises(ValueError, match="k must be above 0"):
        agent_spread({"a": 1, "b": 2}, {}, k=0)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.lists(finite, min_size=2, max_size=40), finite)
def test_individuals_chart_moves_with_the_data(values, shift):
    """Shifting every point shifts the centre and limits by the same amount, signals kept."""
    chart = individuals_chart(values)
    moved = individuals_chart([v + shift for v in values])
    tolerance = 1e-6 * (1 + max(abs(v) for v in values) + abs(shift))
    assert moved.centre == pytest.approx(chart.centre + shift, abs=tolerance)
    assert moved.upper[0] == pytest.approx(chart.upper[0] + shift, abs=tolerance)
    assert chart.lower[0] <= chart.centre <= chart.upper[0]


@given(
    st.lists(
        st.integers(min_value=1, max_value=500).flatmap(
            lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
        ),
        min_size=2,
        max_size=30,
    )
)
def test_p_chart_limits_stay_within_0_and_1_around_the_centre(points):
    chart = p_chart([h for h, _ in points], [n for _, n in points])
    for lower, upper in zip(chart.lower, chart.upper, strict=True):
        assert 0.0 <= lower <= chart.centre <= upper <= 1.0


@given(st.dictionaries(st.text(min_size=1, max_size=4), finite, min_size=2, max_size=30))
def test_no_agent_lies_beyond_samuelsons_bound(figures):
    """Samuelson's inequality: with the sample s, |z| ≤ (n − 1)/√n, so a team of n agents can
    never flag anyone at a k above that bound."""
    report = agent_spread(figures, {})
    n = len(figures)
    for agent in report.agents:
        assert abs(agent.z) <= (n - 1) / math.sqrt(n) * (1 + 1e-6)
        assert 0.0 <= agent.p_value <= agent.adjusted_p_value <= 1.0
