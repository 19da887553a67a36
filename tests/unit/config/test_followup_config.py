"""The center file's follow-up section: checked, every problem with its line and field."""

from __future__ import annotations

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import check_file, check_text

BROKEN = """\
center:
  name: Follow-up hotline
ticket_categories:
  - type: repair
    categories: [{id: water_heater}]
followup:
  calendar: nowhere
  scripts:
    - {id: repair, questions: [done, csat, done]}
    - {id: repair, questions: [done]}
  rules:
    - {id: r1, type: repair, categories: [toaster], due_hours: 48, script: missing}
    - {id: r1, type: complaint, parts: true, due_hours: 24, script: repair}
    - {id: r3, type: repair, due_hours: 0, sample_percent: 120, script: repair}
  escalations:
    - {id: soon, stage: due_soon, hours: 4, notify: nobody}
"""


def test_every_followup_problem_is_located() -> None:
    shapes = check_text(BROKEN, file="center.yaml")
    assert not shapes.ok
    found = {(p.line, p.field) for p in shapes.errors}
    # Shapes first: a zero due time, a rate over 100 % and an unknown role.
    assert found == {
        (14, "followup.rules[2].due_hours"),
        (14, "followup.rules[2].sample_percent"),
        (16, "followup.escalations[0].notify"),
    }
    fixed = BROKEN.replace("due_hours: 0, sample_percent: 120", "due_hours: 8").replace(
        "nobody", "supervisor"
    )
    result = check_text(fixed, file="center.yaml")
    assert {(p.line, p.field, p.rule) for p in result.errors} == {
        (7, "followup.calendar", "unknown calendar 'nowhere' (defined: none defined)"),
        (9, "followup.scripts[0].questions", "a script asks each question once"),
        (10, "followup.scripts[1].id", "duplicate follow-up script 'repair'"),
        (12, "followup.rules[0].script", "unknown follow-up script 'missing' (defined: repair)"),
        (
            12,
            "followup.rules[0].categories[0]",
            "unknown repair category 'toaster' (configured: water_heater)",
        ),
        (13, "followup.rules[1].id", "duplicate follow-up rule 'r1'"),
        (13, "followup.rules[1]", "a complaint has no warranty or replaced parts: leave them out"),
    }
    assert all(p.file == "center.yaml" for p in result.errors)


def test_the_sample_center_ships_follow_up_rules() -> None:
    result = check_file(SAMPLE_CENTER)
    assert result.ok and result.config is not None and result.config.followup is not None
    rules = {rule.id: rule for rule in result.config.followup.rules}
    assert rules["warranty-repair-parts"].sample_percent == 100
    assert rules["installations"].sample_percent == 20
