"""Calibration: several evaluators score the same contacts blind; how far do they agree?

A QA team is only fair when its evaluators apply the form the same way. In a calibration
session each evaluator scores the same handful of contacts without seeing the others'
scores; when the session closes, the team looks at:

* **agreement per question** — Fleiss' kappa (J. L. Fleiss, "Measuring nominal scale
  agreement among many raters", Psychological Bulletin 76, 1971), computed by
  ``statsmodels.stats.inter_rater.fleiss_kappa`` over the contacts every evaluator answered
  (N/A answers leave that contact out of that question). Kappa is undefined when every
  answer is the same (there is nothing to agree on beyond chance); it is reported as
  ``None`` with the raw agreement, which is then 100 %.
* **agreement on totals** — ICC(2,1), two-way random effects, absolute agreement, single
  rater (P. E. Shrout and J. L. Fleiss, "Intraclass correlations: uses in assessing rater
  reliability", Psychological Bulletin 86, 1979, case 2):
  ``(MSR − MSE) / (MSR + (k−1)·MSE + k·(MSC − MSE)/n)`` from the two-way ANOVA of the
  n contacts × k evaluators table of scores.
* **drift** — each evaluator's mean difference from the panel's median score on the same
  contacts (the median, so that one harsh evaluator does not make everyone else look
  lenient); beyond ``drift_points`` (default 5) the evaluator is shown as drifting (harsher
  when negative, more lenient when positive).

Pure: no I/O.

>>> scores = {"qa1": {"c1": 90.0, "c2": 70.0, "c3": 80.0},
...           "qa2": {"c1": 88.0, "c2": 72.0, "c3": 79.0},
...           "qa3": {"c1": 75.0, "c2": 60.0, "c3": 66.0}}
>>> [(d.evaluator, round(d.mean_difference, 1), d.drifting) for d in drift(scores)]
[('qa1', 1.0, False), ('qa2', 0.7, False), ('qa3', -12.0, True)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa


@dataclass(frozen=True)
class QuestionAgreement:
    """Agreement on one question: Fleiss' kappa (``None`` when undefined) and raw agreement
    (share of evaluator pairs giving the same answer), over ``contacts`` contacts."""

    question: str
    kappa: float | None
    observed: float | None
    contacts: int


@dataclass(frozen=True)
class Drift:
    """An evaluator's mean difference from the others on the same contacts."""

    evaluator: str
    mean_difference: float
    contacts: int
    drifting: bool


def question_agreement(
    question: str, answers: Mapping[str, Mapping[str, int | None]], points: int
) -> QuestionAgreement:
    """Agreement on ``question`` from ``answers`` (evaluator → contact → answer or N/A).

    >>> a = {"qa1": {"c1": 1, "c2": 0, "c3": 1}, "qa2": {"c1": 1, "c2": 0, "c3": 0}}
    >>> r = question_agreement("greeting", a, points=1)
    >>> round(r.kappa, 3), round(r.observed, 3), r.contacts
    (0.333, 0.667, 3)
    """
    evaluators = sorted(answers)
    contacts = sorted({c for per in answers.values() for c in per})
    rows = []
    for contact in contacts:
        row = [answers[e].get(contact) for e in evaluators]
        if all(value is not None for value in row):
            rows.append(row)
    if len(evaluators) < 2 or not rows:
        return QuestionAgreement(question, None, None, len(rows))
    table, _ = aggregate_raters(np.array(rows, dtype=int), n_cat=points + 1)
    k = len(evaluators)
    observed = float(np.mean((np.sum(table * table, axis=1) - k) / (k * (k - 1))))
    totals = table.sum(axis=0) / table.sum()
    if float(np.sum(totals * totals)) >= 1.0 - 1e-12:
        # Every answer was the same: chance agreement is 1 and kappa is 0/0.
        return QuestionAgreement(question, None, observed, len(rows))
    kappa = float(fleiss_kappa(table))
    return QuestionAgreement(question, kappa, observed, len(rows))


def icc_2_1(table: Sequence[Sequence[float]]) -> float | None:
    """ICC(2,1) of an n contacts × k evaluators table of total scores (Shrout & Fleiss 1979).

    Shrout & Fleiss's own example (6 targets, 4 judges) gives 0.29:

    >>> round(icc_2_1([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8],
    ...                [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]), 2)
    0.29
    """
    data = np.asarray(table, dtype=float)
    if data.ndim != 2 or data.shape[0] < 2 or data.shape[1] < 2:
        return None
    n, k = data.shape
    grand = data.mean()
    rows = data.mean(axis=1)
    columns = data.mean(axis=0)
    ms_rows = k * float(np.sum((rows - grand) ** 2)) / (n - 1)
    ms_columns = n * float(np.sum((columns - grand) ** 2)) / (k - 1)
    residual = data - rows[:, None] - columns[None, :] + grand
    ms_error = float(np.sum(residual**2)) / ((n - 1) * (k - 1))
    denominator = ms_rows + (k - 1) * ms_error + k * (ms_columns - ms_error) / n
    if denominator == 0:
        return None
    return float((ms_rows - ms_error) / denominator)


def drift(scores: Mapping[str, Mapping[str, float]], *, drift_points: float = 5.0) -> list[Drift]:
    """Each evaluator's mean difference from the panel's median score, contact by contact
    (contacts only one evaluator scored say nothing and are left out)."""
    out = []
    for evaluator in sorted(scores):
        differences = []
        for contact, score in scores[evaluator].items():
            panel = [per[contact] for per in scores.values() if contact in per]
            if len(panel) > 1:
                differences.append(score - float(np.median(panel)))
        mean = sum(differences) / len(differences) if differences else 0.0
        out.append(Drift(evaluator, mean, len(differences), abs(mean) > drift_points))
    return out


def complete_table(
    scores: Mapping[str, Mapping[str, float]],
) -> tuple[list[str], list[list[float]]]:
    """The contacts every evaluator scored, and their contacts × evaluators score table."""
    evaluators = sorted(scores)
    shared = sorted(set.intersection(*(set(scores[e]) for e in evaluators))) if evaluators else []
    return shared, [[scores[e][c] for e in evaluators] for c in shared]
