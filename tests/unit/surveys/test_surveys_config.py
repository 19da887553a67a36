"""Surveys in the center file: checked field by field and across records, located."""

from __future__ import annotations

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import check_file, check_text

SURVEYS = """\
center: {name: VoC}
surveys:
  default: nowhere
  definitions:
    - id: after
      name: 回访
      overall: recommend
      questions:
        - {id: overall, kind: csat, text: {zh-CN: 满意吗, en: Satisfied}}
        - {id: recommend, kind: nps, text: {zh-CN: 推荐吗, en: Recommend}}
        - {id: overall, kind: resolved, text: {zh-CN: 解决了吗, en: Solved}}
    - id: after
      name: again
      questions:
        - {id: q, kind: stars, text: {zh-CN: 星, en: Stars}}
"""


def test_every_survey_problem_is_reported_with_its_line_and_field() -> None:
    result = check_text(SURVEYS, file="center.yaml")
    assert not result.ok
    found = {(p.line, p.field): p.rule for p in result.errors}
    # the shape first (pydantic): an unknown question kind
    assert (15, "surveys.definitions[1].questions[0].kind") in found
    assert (
        "'csat', 'nps', 'resolved' or 'text'"
        in found[(15, "surveys.definitions[1].questions[0].kind")]
    )


def test_survey_records_are_checked_across_each_other() -> None:
    text = SURVEYS.replace("kind: stars", "kind: csat")
    found = {(p.line, p.field): p.rule for p in check_text(text, file="center.yaml").errors}
    assert found == {
        (7, "surveys.definitions[0].overall"): (
            "overall must name a csat question of survey 'after' (csat: overall)"
        ),
        (11, "surveys.definitions[0].questions[2].id"): (
            "duplicate question 'overall' in survey 'after' (answers are keyed by question id)"
        ),
        (12, "surveys.definitions[1].id"): "duplicate survey 'after'",
        (3, "surveys.default"): "unknown survey 'nowhere' (defined: after)",
    }


def test_the_sample_center_defines_a_survey_page() -> None:
    result = check_file(SAMPLE_CENTER)
    assert result.ok, result.errors
    assert result.config is not None and result.config.surveys is not None
    survey = result.config.surveys.definition()
    assert survey.overall_question() == "overall"
    assert [q.kind for q in survey.questions] == ["csat", "csat", "csat", "nps", "resolved", "text"]
