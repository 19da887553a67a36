"""The center configuration's field-service providers: checked, and each problem located."""

from __future__ import annotations

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import check_file, check_text

BROKEN = """\
center:
  name: Providers hotline
ticket_categories:
  - type: repair
    categories: [{id: water_heater, warranty_months: 36}]
service_providers:
  - {code: hf-anjia, regions: [hefei], categories: [water_heater], staff: [anjia1]}
  - {code: hf-anjia, regions: [hefei], staff: [anjia1]}
  - {code: hf-xinda, regions: [hefei], categories: [toaster], staff: [anjia1]}
"""


def test_every_provider_problem_is_found_with_its_line() -> None:
    result = check_text(BROKEN, file="center.yaml")
    assert not result.ok
    found = {(p.line, p.field, p.rule) for p in result.errors}
    assert found == {
        (8, "service_providers[1].code", "duplicate service provider 'hf-anjia'"),
        (
            9,
            "service_providers[2].staff[0]",
            "'anjia1' is already staff of provider 'hf-anjia'; "
            "a provider's user works for one provider only",
        ),
        (
            9,
            "service_providers[2].categories[0]",
            "unknown ticket category 'toaster' (configured: water_heater)",
        ),
    }


def test_a_provider_takes_at_least_one_order() -> None:
    result = check_text(
        BROKEN.replace("[toaster], staff: [anjia1]}", "[water_heater], capacity: 0}")
    )
    assert [(p.line, p.field) for p in result.errors] == [(9, "service_providers[2].capacity")]


def test_the_sample_center_has_providers_and_warranty_periods() -> None:
    result = check_file(SAMPLE_CENTER)
    assert result.ok and result.config is not None
    codes = [p.code for p in result.config.service_providers]
    assert codes == ["hf-anjia", "hf-xinda", "cd-tianfu"]
    repair = next(s for s in result.config.ticket_categories if s.type == "repair")
    assert next(c for c in repair.categories if c.id == "water_heater").warranty_months == 36
