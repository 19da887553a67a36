"""Calibration statistics: ICC(2,1) against its published example, kappa, drift."""

from __future__ import annotations

import numpy as np
import pytest

from hotline.quality.calibration import complete_table, drift, icc_2_1, question_agreement

#: Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges; ICC(2,1) = 0.29.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_icc_2_1_reproduces_shrout_and_fleiss() -> None:
    value = icc_2_1(SHROUT_FLEISS)
    assert value is not None
    assert round(value, 2) == 0.29


def test_icc_is_one_for_identical_evaluators_and_falls_with_a_constant_bias() -> None:
    scores = np.array([60.0, 75.0, 82.0, 90.0, 95.0])
    assert icc_2_1(np.column_stack([scores, scores]).tolist()) == pytest.approx(1.0)
    biased = icc_2_1(np.column_stack([scores, scores - 10]).tolist())
    assert biased is not None and biased < 0.8  # absolute agreement counts the offset
    assert icc_2_1([[80.0, 80.0]]) is None  # one contact: no variance to split


def test_kappa_is_undefined_when_everyone_gives_the_same_answer() -> None:
    same = {"qa1": {"c1": 1, "c2": 1}, "qa2": {"c1": 1, "c2": 1}}
    result = question_agreement("greeting", same, points=1)
    assert (result.kappa, result.observed, result.contacts) == (None, 1.0, 2)


def test_na_answers_leave_that_contact_out_of_the_question() -> None:
    answers: dict[str, dict[str, int | None]] = {
        "qa1": {"c1": 2, "c2": None, "c3": 0},
        "qa2": {"c1": 2, "c2": 1, "c3": 0},
        "qa3": {"c1": 2, "c2": 1, "c3": 0},
    }
    result = question_agreement("ticket_complete", answers, points=2)
    assert result.contacts == 2 and result.kappa == pytest.approx(1.0)


def test_a_harsh_evaluator_drifts_and_the_others_do_not() -> None:
    rng = np.random.default_rng(4)
    truth = rng.uniform(60, 95, 8)
    scores = {
        name: {f"c{i}": float(t + rng.normal(0, 2) + bias) for i, t in enumerate(truth)}
        for name, bias in (("qa1", 0.0), ("qa2", 0.0), ("qa3", 0.0), ("harsh", -12.0))
    }
    found = {d.evaluator: d for d in drift(scores)}
    assert found["harsh"].drifting and found["harsh"].mean_difference < -8
    assert not any(found[name].drifting for name in ("qa1", "qa2", "qa3"))
    shared, table = complete_table(scores)
    assert len(shared) == 8 and len(table[0]) == 4
