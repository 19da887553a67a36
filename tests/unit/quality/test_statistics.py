"""QA statistics against a maintained library (statsmodels) and the issue's honest figures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint, samplesize_confint_proportion

from hotline.quality.statistics import (
    EvaluationFacts,
    accuracy,
    evaluations_needed,
    mean_margin,
    proportion_sample_size,
    wilson_interval,
)


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 6), (3, 6), (6, 6), (45, 50), (97, 100)])
def test_wilson_interval_matches_statsmodels(k: int, n: int) -> None:
    low, high = wilson_interval(k, n)
    ref_low, ref_high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert low == pytest.approx(ref_low, abs=1e-12)
    assert high == pytest.approx(ref_high, abs=1e-12)


def test_proportion_sample_size_matches_statsmodels() -> None:
    for p, margin in ((0.5, 0.05), (0.9, 0.05), (0.95, 0.02)):
        assert proportion_sample_size(p, margin) == math.ceil(
            samplesize_confint_proportion(p, margin, alpha=0.05)
        )


def test_four_to_eight_evaluations_give_about_seven_to_ten_points() -> None:
    # The claim, for scores spread like real QA scores (sd about 8 points).
    rng = np.random.default_rng(15)
    margins = {n: [] for n in (4, 6, 8)}  # type: dict[int, list[float]]
    for _ in range(400):
        for n, found in margins.items():
            margin = mean_margin(list(rng.normal(85, 8, n)))
            assert margin is not None
            found.append(margin)
    medians = {n: float(np.median(found)) for n, found in margins.items()}
    assert 10 < medians[4] < 13.5
    assert 6 < medians[8] < 7.5
    assert medians[4] > medians[6] > medians[8]


def test_the_sample_size_for_a_stated_precision_actually_delivers_it() -> None:
    n = evaluations_needed(sd=8, margin=5)
    assert n == 13
    rng = np.random.default_rng(3)
    margins = [mean_margin(list(rng.normal(85, 8, n))) for _ in range(2000)]
    assert float(np.median([m for m in margins if m is not None])) <= 5.2


def test_accuracy_follows_metrics_md() -> None:
    facts = [
        EvaluationFacts(92.0, False, 1, 9),
        EvaluationFacts(0.0, True, 0, 9),
        EvaluationFacts(100.0, False, 0, 9),
        EvaluationFacts(85.0, True, 2, 9),
    ]
    figures = accuracy(facts, margin_points=5, assumed_sd=12)
    assert figures.fatal_accuracy == 0.5  # 2 of 4 evaluations without a fatal error
    assert figures.nonfatal_accuracy == pytest.approx(1 - 3 / 36)
    assert figures.fatal_interval == wilson_interval(2, 4)
    assert figures.mean_score == pytest.approx(69.25)
    # 4 scores: the observed spread (sd 46) drives the advice, not the assumed 12
    assert figures.evaluations_needed > 300


def test_no_evaluations_gives_no_figures_but_honest_advice() -> None:
    figures = accuracy([], margin_points=5, assumed_sd=12)
    assert figures.fatal_accuracy is None and figures.mean_score is None
    assert figures.fatal_interval == (0.0, 1.0)
    assert figures.evaluations_needed == evaluations_needed(sd=12, margin=5)
