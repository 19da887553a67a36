"""The center file's SMS notices: checked, every problem with its line and field."""

from __future__ import annotations

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import check_file, check_text

BROKEN = """\
center:
  name: Notices hotline
sms_notices:
  - kind: appointment_reminder
    hours_before: 0
    text: {zh-CN: "工单{number}于{due}上门"}
  - kind: follow_up
    hours_before: 2
    text: {en: "We will call about {number}"}
  - kind: reminder
    hours_before: 2
    text: {zh-CN: "x"}
"""


def test_every_notice_problem_is_located() -> None:
    shapes = check_text(BROKEN, file="center.yaml")
    assert not shapes.ok
    found = {(p.line, p.field): p.rule for p in shapes.errors}
    assert set(found) == {
        (5, "sms_notices[0].hours_before"),
        (6, "sms_notices[0].text"),
        (9, "sms_notices[1].text"),
        (10, "sms_notices[2].kind"),
    }, found
    assert found[(6, "sms_notices[0].text")].endswith(
        "zh-CN: unknown placeholder {due} in a appointment_reminder "
        "(known: {date}, {end}, {number}, {start})"
    )
    assert "zh-CN" in found[(9, "sms_notices[1].text")]


def test_one_rule_per_kind_and_the_sample_passes() -> None:
    twice = """\
center:
  name: Notices hotline
sms_notices:
  - {kind: follow_up, hours_before: 2, text: {zh-CN: "回访{number}"}}
  - {kind: follow_up, hours_before: 4, text: {zh-CN: "{due}回访"}}
"""
    result = check_text(twice, file="center.yaml")
    assert [(p.line, p.field, p.rule) for p in result.errors] == [
        (5, "sms_notices[1].kind", "a second follow_up rule (one per kind)")
    ]
    assert check_file(SAMPLE_CENTER).ok
