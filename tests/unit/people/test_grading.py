"""Agent grading from weighted rules: marks between floor and target, weights of missing
figures redistributed, the grade boundaries, and the points each figure lost."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hotline.config.grading import GradingConfig, GradingRule
from hotline.config.validate import check_text
from hotline.people.grading import grade

RULES = GradingConfig(
    rules=[
        GradingRule(metric="aht_s", weight=2, target=300, floor=600),
        GradingRule(metric="fcr", weight=1, target=0.9, floor=0.6),
        GradingRule(metric="csat", weight=1, target=0.9, floor=0.5),
    ],
    grades={"A": 85, "B": 70, "C": 55},
)


def test_each_figure_earns_marks_on_a_line_from_floor_to_target() -> None:
    # aht 450 s is half way from 600 to 300: 50 marks; fcr 0.9 full; csat 0.5 none
    result = grade({"aht_s": 450.0, "fcr": 0.9, "csat": 0.5}, RULES)
    marks = {p.metric: p.marks for p in result.parts}
    assert marks == {"aht_s": 50.0, "fcr": 100.0, "csat": 0.0}
    assert result.score == (2 * 50 + 100 + 0) / 4
    assert result.grade == "D"  # 50 < 55
    assert [p.metric for p in result.movers()] == ["aht_s", "csat"]  # 25 points each; by name
    assert {p.metric: p.points_lost for p in result.parts} == {
        "aht_s": 25.0,
        "fcr": 0.0,
        "csat": 25.0,
    }


@pytest.mark.parametrize(
    ("aht", "expected"),
    [(390.0, "A"), (391.0, "B"), (480.0, "B"), (481.0, "C"), (570.0, "C"), (571.0, "D")],
)
def test_grade_boundaries_are_the_lowest_score_of_each_grade(aht: float, expected: str) -> None:
    # fcr and csat full: score = (2 * marks(aht) + 200) / 4 = 50 + marks / 2, so A (85) needs
    # 70 marks (aht <= 390), B (70) 40 marks (aht <= 480), C (55) 10 marks (aht <= 570)
    result = grade({"aht_s": aht, "fcr": 0.95, "csat": 0.95}, RULES)
    assert result.score == pytest.approx(50 + (100 * (600 - aht) / 300) / 2, abs=0.01)
    assert result.grade == expected


def test_a_missing_figure_leaves_its_weight_to_the_others_until_too_little_is_left() -> None:
    result = grade({"aht_s": 300.0, "fcr": None, "csat": 0.5}, RULES)
    assert result.missing == ("fcr",)
    assert result.weight_available == 0.75
    assert result.score == pytest.approx((2 * 100 + 0) / 3, abs=0.01)
    # only csat (a quarter of the weight) is below the default minimum share of a half
    alone = grade({"csat": 0.9}, RULES)
    assert (alone.score, alone.grade, alone.weight_available) == (None, None, 0.25)
    assert grade({}, RULES).grade is None


@given(
    aht=st.floats(0, 2000),
    fcr=st.none() | st.floats(0, 1),
    csat=st.none() | st.floats(0, 1),
)
def test_points_lost_add_up_to_what_the_score_misses(
    aht: float, fcr: float | None, csat: float | None
) -> None:
    result = grade({"aht_s": aht, "fcr": fcr, "csat": csat}, RULES)
    assert result.score is not None and 0 <= result.score <= 100
    assert sum(p.points_lost for p in result.parts) == pytest.approx(100 - result.score, abs=0.05)


@given(first=st.floats(100, 900), second=st.floats(100, 900))
def test_a_shorter_handle_time_never_lowers_the_score(first: float, second: float) -> None:
    faster, slower = sorted((first, second))
    fixed = {"fcr": 0.8, "csat": 0.7}
    better = grade({"aht_s": faster, **fixed}, RULES).score
    worse = grade({"aht_s": slower, **fixed}, RULES).score
    assert better is not None and worse is not None and better >= worse


def test_rules_are_checked_with_the_field_and_the_rule_broken() -> None:
    with pytest.raises(ValidationError, match="floor is the value that earns no marks"):
        GradingRule(metric="fcr", weight=1, target=0.8, floor=0.8)
    with pytest.raises(ValidationError, match="fcr has two rules"):
        GradingConfig(rules=[GradingRule(metric="fcr", weight=1, target=0.9, floor=0.5)] * 2)
    with pytest.raises(ValidationError, match="lowest score of A, B and C"):
        GradingConfig(rules=RULES.rules, grades={"A": 90, "B": 80})


def test_the_center_file_locates_a_bad_grading_rule() -> None:
    text = """
center: {name: Test}
grading:
  rules:
    - {metric: aht_s, weight: 2, target: 300, floor: 600}
    - {metric: handle_time, weight: 1, target: 300, floor: 600}
    - {metric: csat, weight: 0, target: 0.9, floor: 0.5}
  grades: {A: 60, B: 70, C: 55}
"""
    problems = {(p.line, p.field): p.rule for p in check_text(text, file="c.yaml").errors}
    assert "unknown scorecard figure 'handle_time'" in problems[(6, "grading.rules[1].metric")]
    assert "greater than 0" in problems[(7, "grading.rules[2].weight")]
    assert "must fall from A to C" in problems[(8, "grading.grades")]
