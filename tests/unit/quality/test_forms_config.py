"""Evaluation forms in the center file: checked field by field and across records, located."""

from __future__ import annotations

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import check_file, check_text

FORMS = """\
center: {name: QA}
channels:
  - {id: voice}
quality:
  forms:
    - id: voice
      version: 1
      name: 语音质检
      channels: [voice, chat]
      sections:
        - id: opening
          name: 开场白
          weight: 10
          questions:
            - {id: greeting, text: 问候, points: 0}
            - {id: promise, text: 错误承诺, fatal: evaluation, points: 3}
        - id: opening
          name: 结束语
          weight: 10
          questions:
            - {id: greeting, text: 结束语}
    - id: voice
      version: 1
      name: again
      sections:
        - id: s
          name: s
          weight: -1
          questions: []
"""


def test_every_form_problem_is_reported_with_its_line_and_field() -> None:
    result = check_text(FORMS, file="center.yaml")
    assert not result.ok
    found = {(p.line, p.field): p.rule for p in result.errors}
    # shapes first (pydantic): a zero scale, a negative weight, a section without questions
    assert found[(15, "quality.forms[0].sections[0].questions[0].points")].startswith(
        "Input should be greater than or equal to 1"
    )
    assert (28, "quality.forms[1].sections[0].weight") in found
    assert (29, "quality.forms[1].sections[0].questions") in found
    fixed = FORMS.replace("points: 0}", "points: 1}").replace("weight: -1", "weight: 1")
    fixed = fixed.replace("questions: []", "questions: [{id: q, text: q}]")
    result = check_text(fixed, file="center.yaml")
    messages = [str(p) for p in result.errors]
    assert messages == [
        "center.yaml:9: quality.forms[0].channels[1]: channel 'chat' is not enabled in 'channels'",
        "center.yaml:16: quality.forms[0].sections[0].questions[1].points: fatal question "
        "'promise' must be pass/fail (points: 1), not a 0-3 rating",
        "center.yaml:17: quality.forms[0].sections[1].id: duplicate section 'opening' in form "
        "'voice'",
        "center.yaml:21: quality.forms[0].sections[1].questions[0].id: duplicate question "
        "'greeting' in form 'voice' (answers are keyed by question id, so ids are unique "
        "across sections)",
        "center.yaml:23: quality.forms[1].version: form 'voice' version 1 is defined twice",
    ]


def test_the_sample_center_ships_two_versions_of_its_voice_form() -> None:
    result = check_file(SAMPLE_CENTER)
    assert result.ok, result.errors
    assert result.config is not None and result.config.quality is not None
    quality = result.config.quality
    assert [(f.id, f.version) for f in quality.forms] == [
        ("voice-service", 1),
        ("voice-service", 2),
    ]
    current = quality.form("voice-service")
    assert current.version == 2
    assert [s.name.split()[0] for s in current.sections] == [
        "开场白",
        "身份核实",
        "业务准确性",
        "服务态度",
        "结束语",
    ]
    assert quality.form("voice-service", 1).question("no_false_promise").fatal == "evaluation"
