"""Benchmark: the QA statistics checked against maintained libraries on generated data.

Generated, seeded data; for each statistic Hotline computes, the same figure from a library
the field relies on, in the same run:

* Wilson intervals of fatal/non-fatal accuracy (``hotline.quality.statistics``) against
  ``statsmodels.stats.proportion.proportion_confint(method="wilson")``;
* sample sizes for a proportion against ``statsmodels`` ``samplesize_confint_proportion``;
* the mean score's 95 % margin against ``scipy.stats.t.interval``;
* ICC(2,1) on calibration totals (``hotline.quality.calibration``) against the same formula
  fed with the mean squares of ``statsmodels``' two-way ANOVA (``ols`` + ``anova_lm``);
* per-question agreement with N/A answers against ``statsmodels``' ``fleiss_kappa`` on the
  complete contacts;
* the sampling plan's stratified random part: over many seeds, each contact's inclusion
  frequency against its design probability (allocation ÷ stratum size), a Monte Carlo check
  with its own tolerance (``sampling_max_deviation``; no library draws our plan).

Prints one JSON line with ``max_abs_error`` (over the library comparisons) and ``ok``.

    .venv/bin/python bench/qa_stats.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from collections import Counter

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.formula.api import ols
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa
from statsmodels.stats.proportion import proportion_confint, samplesize_confint_proportion

from hotline.quality.calibration import icc_2_1, question_agreement
from hotline.quality.sampling import Candidate, allocate, plan_sample
from hotline.quality.statistics import mean_margin, proportion_sample_size, wilson_interval

TOLERANCE = 1e-9


def check_wilson(rng: np.random.Generator, cases: int) -> float:
    worst = 0.0
    for _ in range(cases):
        n = int(rng.integers(1, 400))
        k = int(rng.integers(0, n + 1))
        ours = wilson_interval(k, n)
        theirs = proportion_confint(k, n, alpha=0.05, method="wilson")
        worst = max(worst, abs(ours[0] - theirs[0]), abs(ours[1] - theirs[1]))
    return worst


def check_sample_size(rng: np.random.Generator, cases: int) -> float:
    worst = 0.0
    for _ in range(cases):
        p = float(rng.uniform(0.25, 0.75))  # where no floor on p(1-p) applies
        margin = float(rng.uniform(0.01, 0.2))
        theirs = math.ceil(samplesize_confint_proportion(p, margin, alpha=0.05))
        worst = max(worst, abs(proportion_sample_size(p, margin) - theirs))
    return worst


def check_margin(rng: np.random.Generator, cases: int) -> float:
    worst = 0.0
    for _ in range(cases):
        n = int(rng.integers(2, 40))
        scores = list(rng.normal(85, 9, n))
        low, high = stats.t.interval(0.95, n - 1, loc=np.mean(scores), scale=stats.sem(scores))
        ours = mean_margin(scores)
        assert ours is not None
        worst = max(worst, abs(ours - (high - low) / 2))
    return worst


def icc_from_statsmodels(table: np.ndarray) -> float:
    """ICC(2,1) (Shrout & Fleiss) from the mean squares of statsmodels' two-way ANOVA."""
    n, k = table.shape
    frame = pd.DataFrame(
        [(str(i), str(j), float(table[i, j])) for i in range(n) for j in range(k)],
        columns=["contact", "evaluator", "score"],
    )
    anova = anova_lm(ols("score ~ C(contact) + C(evaluator)", data=frame).fit())
    ms = anova["sum_sq"] / anova["df"]
    msr, msc, mse = ms["C(contact)"], ms["C(evaluator)"], ms["Residual"]
    return float((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n))


def check_icc(rng: np.random.Generator, cases: int) -> float:
    worst = 0.0
    for _ in range(cases):
        n, k = int(rng.integers(3, 12)), int(rng.integers(2, 6))
        truth = rng.uniform(55, 98, n)
        bias = rng.normal(0, 4, k)
        table = truth[:, None] + bias[None, :] + rng.normal(0, 3, (n, k))
        ours = icc_2_1(table.tolist())
        assert ours is not None
        worst = max(worst, abs(ours - icc_from_statsmodels(table)))
    return worst


def check_kappa(rng: np.random.Generator, cases: int) -> float:
    worst = 0.0
    for _ in range(cases):
        points = int(rng.integers(1, 5))
        raters, contacts = int(rng.integers(2, 6)), int(rng.integers(3, 15))
        truth = rng.integers(0, points + 1, contacts)
        answers: dict[str, dict[str, int | None]] = {}
        for r in range(raters):
            row: dict[str, int | None] = {}
            for c in range(contacts):
                value = int(truth[c]) if rng.random() < 0.7 else int(rng.integers(0, points + 1))
                row[f"c{c}"] = None if rng.random() < 0.1 else value
            answers[f"qa{r}"] = row
        ours = question_agreement("q", answers, points)
        complete = [
            [answers[f"qa{r}"][f"c{c}"] for r in range(raters)]
            for c in range(contacts)
            if all(answers[f"qa{r}"][f"c{c}"] is not None for r in range(raters))
        ]
        if ours.kappa is None:
            continue
        table, _ = aggregate_raters(np.array(complete, dtype=int), n_cat=points + 1)
        worst = max(worst, abs(ours.kappa - float(fleiss_kappa(table))))
    return worst


def check_sampling(draws: int) -> tuple[float, int]:
    """Largest |inclusion frequency − design probability| over one agent's random picks."""
    contacts = []
    mix = {("repair", "voice"): 30, ("care", "chat"): 12, ("vip", "voice"): 5}
    for (queue, channel), size in mix.items():
        for i in range(size):
            contacts.append(Candidate(f"{queue}-{i}", "a1", queue, channel, 100.0, float(i)))
    per_agent = 6
    shares = allocate({f"{q}/{c}": n for (q, c), n in mix.items()}, per_agent)
    design = {
        c.contact_id: shares[f"{c.queue}/{c.channel}"] / mix[(c.queue, c.channel)] for c in contacts
    }
    counts: Counter[str] = Counter()
    for seed in range(draws):
        for pick in plan_sample(
            contacts,
            per_agent=per_agent,
            seed=seed,
            long_call_s=1e9,
            long_calls=0,
            transfers=0,
            repeat_callers=0,
        ):
            counts[pick.contact_id] += 1
    deviation = max(abs(counts[c] / draws - p) for c, p in design.items())
    return deviation, draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer generated cases")
    args = parser.parse_args()
    cases = 200 if args.quick else 2000
    rng = np.random.default_rng(20261202)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' formula parser warns on some pandas
        errors = {
            "wilson_vs_statsmodels": check_wilson(rng, cases),
            "sample_size_vs_statsmodels": check_sample_size(rng, cases),
            "mean_margin_vs_scipy": check_margin(rng, cases),
            "icc_2_1_vs_statsmodels_anova": check_icc(rng, cases // 10),
            "fleiss_kappa_vs_statsmodels": check_kappa(rng, cases),
        }
    deviation, draws = check_sampling(2000 if args.quick else 20000)
    # A frequency over `draws` plans has standard error at most 0.5/sqrt(draws); 5 of them.
    sampling_tolerance = 5 * 0.5 / math.sqrt(draws)
    max_abs_error = max(errors.values())
    print(
        json.dumps(
            {
                "bench": "qa_stats",
                "quick": args.quick,
                "cases": cases,
                "errors": errors,
                "max_abs_error": max_abs_error,
                "tolerance": TOLERANCE,
                "sampling_draws": draws,
                "sampling_max_deviation": round(deviation, 5),
                "sampling_tolerance": round(sampling_tolerance, 5),
                "seconds": round(time.perf_counter() - started, 2),
                "ok": max_abs_error <= TOLERANCE and deviation <= sampling_tolerance,
            }
        )
    )


if __name__ == "__main__":
    main()
