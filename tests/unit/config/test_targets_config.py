"""Targets and costs in the center configuration: checked, located, and said in plain words."""

from __future__ import annotations

from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.targets import MetricTarget
from hotline.config.validate import check_file, check_text

HEADER = """\
center: {name: Demo}
teams: [{id: t1}]
agents: [{id: a1, team: t1}]
queues:
  - {id: q1, target: {service_level: 0.8, threshold_s: 20}}
"""


def problems(text: str) -> list[tuple[int | None, str | None, str]]:
    result = check_text(HEADER + text, file="center.yaml")
    return [(p.line, p.field, p.rule) for p in result.errors]


def test_sample_center_has_targets_and_costs() -> None:
    result = check_file(SAMPLE_CENTER)
    assert result.ok, result.errors
    targets = result.config.targets if result.config else None
    assert targets is not None and targets.costs is not None
    assert targets.costs.labour_per_agent_hour > 0
    assert targets.for_level("service_level", "queue", "vip") is not None
    assert {t.metric for t in targets.metrics} >= {"service_level", "abandon_rate", "aht_s"}


def test_targets_at_every_level_are_accepted() -> None:
    assert (
        problems(
            """\
targets:
  outlier_k: 2.5
  costs: {labour_per_agent_hour: 40, telephony_per_minute: 0.1}
  metrics:
    - {metric: service_level, at_least: 0.8}
    - {metric: service_level, level: queue, id: q1, at_least: 0.9}
    - {metric: aht_s, level: team, id: t1, at_most: 400}
    - {metric: aht_s, level: agent, id: a1, at_most: 450}
    - {metric: occupancy, at_least: 0.75, at_most: 0.85}
    - {metric: nps, at_least: -10}
"""
        )
        == []
    )


def test_bad_targets_are_located_with_the_rule_broken() -> None:
    found = problems(
        """\
targets:
  metrics:
    - {metric: service_level, at_least: 80}
    - {metric: handle_time, at_most: 300}
    - {metric: backlog, level: queue, id: q1, at_most: 10}
    - {metric: aht_s, level: team, at_most: 400}
    - {metric: occupancy, at_least: 0.9, at_most: 0.8}
    - {metric: asa_s}
  costs: {labour_per_agent_hour: -1, currency: yuan}
"""
    )
    lines = {line for line, _, _ in found}
    rules = "\n".join(rule for _, _, rule in found)
    assert (
        8,
        "targets.metrics[0]",
        "service_level is a share from 0 to 1 (write 0.8 for 80 %)",
    ) in found
    assert "unknown metric 'handle_time'" in rules
    assert "backlog has no queue figure; set it at center" in rules
    assert "a team target needs the id of its team" in rules
    assert (12, "targets.metrics[4]", "at_least 0.9 is above at_most 0.8") in found
    assert (13, "targets.metrics[5]", "give at_least, at_most or both") in found
    assert {8, 9, 10, 11, 12, 13, 14} <= lines
    assert any(
        (field or "").startswith("targets.costs.labour_per_agent_hour") for _, field, _ in found
    )
    assert any((field or "").startswith("targets.costs.currency") for _, field, _ in found)


def test_targets_naming_unknown_records_or_set_twice_are_located() -> None:
    found = problems(
        """\
targets:
  metrics:
    - {metric: aht_s, level: agent, id: a9, at_most: 400}
    - {metric: fcr, level: queue, id: q1, at_least: 0.7}
    - {metric: aht_s, at_most: 400}
    - {metric: aht_s, at_most: 420}
    - {metric: fcr, level: queue, id: q1, at_least: 0.8}
"""
    )
    assert found == [
        (8, "targets.metrics[0].id", "unknown agent 'a9' (defined: a1)"),
        (11, "targets.metrics[3]", "a second aht_s target for center"),
        (12, "targets.metrics[4]", "a second fcr target for queue q1"),
    ]


def test_a_target_knows_when_it_is_crossed() -> None:
    band = MetricTarget(metric="occupancy", at_least=0.75, at_most=0.85)
    assert band.crossed(0.7) and band.crossed(0.9)
    assert not band.crossed(0.8)
    assert not MetricTarget(metric="service_level", at_least=0.8).crossed(0.8)
