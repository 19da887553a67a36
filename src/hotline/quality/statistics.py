"""How sure a QA figure is: Wilson intervals, the margin of a mean score, sample sizes.

A QA team evaluates a handful of an agent's contacts a month, and the figures it reports
(fatal accuracy, non-fatal accuracy, the mean score) are estimates from that sample. With
the usual 4–8 evaluations an agent's mean score is known only to about ±7–10 points, so
every figure here comes with its interval and the sample size a stated precision needs.

* Proportions (fatal and non-fatal accuracy) use the **Wilson score interval** (E. B. Wilson,
  "Probable inference, the law of succession, and statistical inference", JASA 22, 1927),
  which stays inside [0, 1] and behaves at 0 % and 100 % where the Wald interval collapses.
* The mean score uses Student's *t* interval, ``t(0.975, n−1) · s / √n`` (METRICS.md
  ``qa_margin``: the half-width of the 95 % interval).
* Sample sizes: ``n = z² p(1−p) / E²`` for a proportion (Cochran, *Sampling Techniques*,
  1977, §4.4), and the smallest ``n`` with ``t(n−1) · σ / √n ≤ E`` for a mean.

Non-fatal accuracy counts opportunities, several per evaluation; treating them as independent
would overstate precision, so its interval is computed on opportunities but the sample size
advice is stated in evaluations (``evaluations_needed``) from the mean score's spread.

Pure: no I/O.

>>> low, high = wilson_interval(6, 6)
>>> round(low, 3), high
(0.61, 1.0)
>>> round(mean_margin([80, 90, 70, 85, 95, 75]), 1)
9.8
>>> evaluations_needed(sd=12, margin=5)
25
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean, stdev

from scipy.stats import t as student_t


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``n`` (``(0, 1)`` when ``n`` is 0).

    >>> [round(x, 4) for x in wilson_interval(45, 50)]
    [0.7864, 0.9565]
    """
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} must lie between 0 and n = {n}")
    if n == 0:
        return (0.0, 1.0)
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def mean_margin(scores: Sequence[float], confidence: float = 0.95) -> float | None:
    """Half-width of the *t* interval of the mean of ``scores``; ``None`` below 2 scores."""
    n = len(scores)
    if n < 2:
        return None
    quantile = float(student_t.ppf(0.5 + confidence / 2, n - 1))
    return quantile * stdev(scores) / math.sqrt(n)


def proportion_sample_size(p: float, margin: float, confidence: float = 0.95) -> int:
    """Contacts needed to know a proportion near ``p`` to ± ``margin`` (Cochran).

    >>> proportion_sample_size(0.9, 0.05)
    139
    """
    if not 0 < margin < 1:
        raise ValueError("margin must lie between 0 and 1")
    p = min(max(p, 0.0), 1.0)
    # An observed 0 % or 100 % says little about the spread; plan with at least p(1-p)=0.05.
    spread = max(p * (1 - p), 0.05 * 0.95)
    return math.ceil(_z(confidence) ** 2 * spread / (margin * margin))


def mean_margin_for_sd(sd: float, n: int, confidence: float = 0.95) -> float:
    """The 95 % margin of a mean of ``n`` scores spread with standard deviation ``sd``.

    >>> round(mean_margin_for_sd(8, 4), 1), round(mean_margin_for_sd(8, 8), 1)
    (12.7, 6.7)
    """
    if n < 2:
        raise ValueError("a margin needs at least 2 evaluations")
    return float(student_t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)


def evaluations_needed(sd: float, margin: float, confidence: float = 0.95) -> int:
    """The fewest evaluations whose mean score is known to ± ``margin`` points, for scores
    spread with standard deviation ``sd`` (the *t* quantile shrinks as ``n`` grows)."""
    if sd <= 0 or margin <= 0:
        raise ValueError("sd and margin must be positive")
    n = 2
    while mean_margin_for_sd(sd, n, confidence) > margin:
        n += 1
        if n > 100_000:
            break
    return n


@dataclass(frozen=True)
class EvaluationFacts:
    """What accuracy needs of one evaluation: its score and error counts."""

    score: float
    fatal_error: bool
    nonfatal_errors: int
    nonfatal_opportunities: int


@dataclass(frozen=True)
class AccuracyFigures:
    """An agent's (or team's) QA figures for a period, each with its 95 % interval."""

    evaluations: int
    mean_score: float | None
    score_margin: float | None
    fatal_accuracy: float | None
    fatal_interval: tuple[float, float]
    nonfatal_accuracy: float | None
    nonfatal_interval: tuple[float, float]
    nonfatal_opportunities: int
    evaluations_needed: int


def accuracy(
    evaluations: Sequence[EvaluationFacts], *, margin_points: float, assumed_sd: float
) -> AccuracyFigures:
    """Fatal and non-fatal accuracy, mean score and their margins over ``evaluations``.

    ``evaluations_needed`` is how many evaluations a mean score known to ± ``margin_points``
    takes, from the observed spread once there are 4 scores, else from ``assumed_sd``.

    >>> facts = [EvaluationFacts(90, False, 1, 8), EvaluationFacts(0, True, 0, 8)]
    >>> a = accuracy(facts, margin_points=5, assumed_sd=12)
    >>> a.fatal_accuracy, a.nonfatal_accuracy, a.evaluations_needed
    (0.5, 0.9375, 25)
    """
    n = len(evaluations)
    scores = [e.score for e in evaluations]
    clean = sum(1 for e in evaluations if not e.fatal_error)
    opportunities = sum(e.nonfatal_opportunities for e in evaluations)
    errors = sum(e.nonfatal_errors for e in evaluations)
    sd = stdev(scores) if n >= 4 and stdev(scores) > 0 else assumed_sd
    return AccuracyFigures(
        evaluations=n,
        mean_score=round(fmean(scores), 2) if scores else None,
        score_margin=mean_margin(scores),
        fatal_accuracy=clean / n if n else None,
        fatal_interval=wilson_interval(clean, n),
        nonfatal_accuracy=1 - errors / opportunities if opportunities else None,
        nonfatal_interval=wilson_interval(opportunities - errors, opportunities),
        nonfatal_opportunities=opportunities,
        evaluations_needed=evaluations_needed(sd, margin_points),
    )
