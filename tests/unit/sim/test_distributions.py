"""Distributions, Kaplan–Meier, and thinning of a non-stationary Poisson process."""

from __future__ import annotations

import doctest
import math
import random
import statistics

import pytest

from hotline.sim import distributions
from hotline.sim.distributions import (
    Empirical,
    Exponential,
    LogNormal,
    SurvivalCurve,
    from_spec,
    kaplan_meier,
    poisson_arrivals,
)


def test_docstring_examples() -> None:
    assert doctest.testmod(distributions).failed == 0


@pytest.mark.parametrize(
    "distribution",
    [Exponential(120.0), LogNormal(200.0, 150.0), Empirical((10.0, 20.0, 60.0))],
)
def test_sample_means_match(distribution: distributions.Distribution) -> None:
    rng = random.Random(11)
    draws = [distribution.sample(rng) for _ in range(40_000)]
    assert statistics.fmean(draws) == pytest.approx(distribution.mean, rel=0.03)


def test_lognormal_keeps_its_standard_deviation() -> None:
    rng = random.Random(5)
    draws = [LogNormal(200.0, 150.0).sample(rng) for _ in range(60_000)]
    assert statistics.stdev(draws) == pytest.approx(150.0, rel=0.05)


def test_kaplan_meier_against_a_textbook_example() -> None:
    # Kaplan & Meier style example: 6 subjects, censored at 3+ and 5+.
    times, survival = kaplan_meier([1, 3, 3, 4, 5, 6], [True, True, False, True, False, True])
    assert times == (1.0, 3.0, 4.0, 6.0)
    # 5/6; x (1 - 1/5) = 2/3; x (1 - 1/3) = 4/9; x (1 - 1/1) = 0
    assert survival == pytest.approx((5 / 6, 2 / 3, 4 / 9, 0.0))


def test_survival_curve_sampling_reproduces_the_curve() -> None:
    curve = SurvivalCurve(times=(10.0, 30.0), survival=(0.6, 0.2), tail_mean_s=50.0)
    rng = random.Random(3)
    draws = [curve.sample(rng) for _ in range(50_000)]
    share_10 = sum(d <= 10.0 for d in draws) / len(draws)
    share_30 = sum(d <= 30.0 for d in draws) / len(draws)
    assert share_10 == pytest.approx(0.4, abs=0.01)
    assert share_30 == pytest.approx(0.8, abs=0.01)
    assert statistics.fmean(draws) == pytest.approx(curve.mean, rel=0.03)
    never = SurvivalCurve(times=(10.0,), survival=(0.5,))
    assert math.isinf(never.quantile(0.9)) and math.isinf(never.mean)


def test_thinning_gives_the_rate_of_each_interval() -> None:
    rates = [0.0, 0.2, 0.05, 0.5]
    counts = [0, 0, 0, 0]
    for seed in range(40):
        for t in poisson_arrivals(rates, 600.0, 1000.0, random.Random(seed)):
            counts[int((t - 1000.0) // 600.0)] += 1
    expected = [r * 600.0 * 40 for r in rates]
    assert counts[0] == 0
    for got, want in zip(counts[1:], expected[1:], strict=True):
        assert got == pytest.approx(want, rel=0.05)


def test_arrivals_are_increasing_and_repeatable() -> None:
    first = list(poisson_arrivals([0.1, 0.3], 100.0, 0.0, random.Random("7:0:arrivals:0")))
    again = list(poisson_arrivals([0.1, 0.3], 100.0, 0.0, random.Random("7:0:arrivals:0")))
    assert first == again and first == sorted(first)


def test_from_spec_rejects_what_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="handle_time"):
        from_spec({"weibull": 3}, where="handle_time")
    assert from_spec("never").mean == math.inf


def test_exponential_draws_are_those_of_expovariate() -> None:
    # The inlined draws must give the very numbers random.expovariate gives, so event logs
    # stay what they were for a seed.
    ours, theirs = random.Random(11), random.Random(11)
    assert [Exponential(180.0).sample(ours) for _ in range(500)] == [
        theirs.expovariate(1.0 / 180.0) for _ in range(500)
    ]
    rates, start, interval = [0.2, 0.05], 50.0, 600.0
    rng, t, expected = random.Random(5), start, []
    while True:
        t += rng.expovariate(0.2)
        if t >= start + 2 * interval:
            break
        if t < start + interval or rng.random() * 0.2 < 0.05:
            expected.append(t)
    assert list(poisson_arrivals(rates, interval, start, random.Random(5))) == expected
