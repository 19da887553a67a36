"""The center configuration's ticket categories: checked, and each problem located."""

from __future__ import annotations

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import check_file, check_text

BASE = """\
center:
  name: Categories hotline
"""

BROKEN = (
    BASE
    + """\
ticket_categories:
  - type: repair
    categories:
      - id: water_heater
        fields:
          - {name: model_number, required: true}
          - {name: model_number, type: number}
          - {name: fault, type: choice}
          - {name: colour, type: text, choices: [red]}
          - {name: size, type: choice, choices: [big, big]}
      - id: water_heater
  - type: repair
    categories: []
"""
)


def test_every_category_problem_is_found_with_its_line() -> None:
    result = check_text(BROKEN, file="center.yaml")
    assert not result.ok
    found = {(p.line, p.field, p.rule) for p in result.errors}
    assert found == {
        (9, "ticket_categories[0].categories[0].fields[1].name",
         "field 'model_number' is defined twice here"),
        (10, "ticket_categories[0].categories[0].fields[2]",
         "choice field 'fault' needs a list of choices"),
        (11, "ticket_categories[0].categories[0].fields[3].choices",
         "only choice fields have choices ('colour' is text)"),
        (12, "ticket_categories[0].categories[0].fields[4].choices",
         "field 'size' repeats a choice"),
        (13, "ticket_categories[0].categories[1].id", "duplicate repair category 'water_heater'"),
        (14, "ticket_categories[1].type", "ticket type 'repair' is listed twice"),
    }  # fmt: skip


def test_unknown_types_are_refused_by_shape() -> None:
    text = BASE + (
        "ticket_categories:\n"
        "  - type: repairs\n"
        "    categories:\n"
        "      - {id: tv, fields: [{name: size, type: inches}]}\n"
    )
    result = check_text(text, file="center.yaml")
    fields = {p.field for p in result.errors}
    assert "ticket_categories[0].type" in fields
    assert "ticket_categories[0].categories[0].fields[0].type" in fields
    assert all(p.line for p in result.errors)


def test_the_sample_center_configures_appliance_categories() -> None:
    result = check_file(SAMPLE_CENTER)
    assert result.ok and result.config is not None
    repair = next(s for s in result.config.ticket_categories if s.type == "repair")
    heater = next(c for c in repair.categories if c.id == "water_heater")
    required = {f.name for f in heater.fields if f.required}
    assert required == {"model_number", "serial_number"}
    assert {c.id for c in repair.categories} >= {"water_heater", "air_conditioner", "refrigerator"}
