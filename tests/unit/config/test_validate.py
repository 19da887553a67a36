"""Center configuration checks: every problem found, located, and said in plain words."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.cli.platform import SAMPLE_CENTER
from hotline.config.validate import check_file, check_text

BROKEN = """\
center:
  name: Broken hotline
  timezone: Asia/Shanghia
calendars:
  - id: hotline
    hours:
      mon: ['08:00-25:00']
      tue: ['20:00-08:00']
skills:
  - {id: repair}
  - {id: installation}
queues:
  - id: repair
    requirements: ['repiar >= 2']
    target: {service_level: 0.8, threshold_s: 20}
    strategy: longest_idel
    overflow:
      - {when: wait_exceeds, value: 60, action: queue, target: vip}
teams:
  - {id: t1}
agents:
  - {id: a001, team: t1, skills: {repair: 3}}
  - {id: a001, team: t1, skills: {repair: 6}}
  - {id: a002, team: t9, skills: {plumbing: 2}, colour: blue}
"""


def test_sample_center_is_valid_and_realistic() -> None:
    result = check_file(SAMPLE_CENTER)
    assert result.errors == [] and result.warnings == []
    center = result.config
    assert center is not None
    assert len(center.agents) == 40 and len(center.teams) == 4
    assert {"installation", "repair", "complaints", "vip"} <= {q.id for q in center.queues}
    vip = center.queue("vip")
    assert (vip.target.service_level, vip.target.threshold_s) == (0.99, 5)


def test_field_errors_name_line_field_and_rule(tmp_path: Path) -> None:
    path = tmp_path / "center.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = check_file(path)
    assert not result.ok
    found = {(p.line, p.field): p.rule for p in result.errors}
    assert found[(7, "calendars[0].hours.mon[0]")] == (
        "end time in '08:00-25:00' is not a time of day (24:00 is the latest)"
    )
    assert found[(8, "calendars[0].hours.tue[0]")] == "hours '20:00-08:00' end before they start"
    assert found[(16, "queues[0].strategy")].startswith("unknown strategy 'longest_idel'")
    assert found[(23, "agents[1].skills")] == "proficiency of 'repair' is 6; it must be 1 to 5"
    assert found[(24, "agents[2].colour")] == "unknown field (check the spelling)"
    assert all(p.file == str(path) for p in result.errors)


def test_cross_record_rules_are_all_reported() -> None:
    text = BROKEN.replace("08:00-25:00", "08:00-20:00").replace("20:00-08:00", "08:00-20:00")
    text = text.replace("longest_idel", "longest_idle").replace("repair: 6", "repair: 4")
    text = text.replace(", colour: blue", "")
    result = check_text(text, file="center.yaml")
    rules = [str(p) for p in result.errors]
    assert any(
        r.startswith("center.yaml:3: center.timezone: unknown time zone 'Asia/Shanghia'")
        for r in rules
    )
    assert any(
        r.startswith("center.yaml:14: queues[0].requirements[0]: unknown skill 'repiar'")
        for r in rules
    )
    assert any(
        r.startswith("center.yaml:18: queues[0].overflow[0].target: unknown queue 'vip'")
        for r in rules
    )
    assert any(r == "center.yaml:23: agents[1].id: duplicate agent 'a001'" for r in rules)
    assert any(r.startswith("center.yaml:24: agents[2].team: unknown team 't9'") for r in rules)
    assert any(
        r.startswith("center.yaml:24: agents[2].skills.plumbing: unknown skill 'plumbing'")
        for r in rules
    )
    assert len(rules) == 6


def test_impossible_hours_and_overlaps() -> None:
    base = "center: {name: X}\ncalendars:\n  - id: c\n    hours:\n      {day}: {periods}\n"
    cases = {
        "['20:00-08:00']": "end before they start",
        "['08:00-24:30']": "24:00 is the latest",
        "['8am-5pm']": "must look like 08:00-20:00",
        "['08:00-12:00', '11:00-18:00']": "opening periods overlap",
    }
    for periods, rule in cases.items():
        result = check_text(base.replace("{day}", "mon").replace("{periods}", periods))
        assert not result.ok and rule in result.errors[0].rule, (periods, result.errors)
        assert result.errors[0].line == 5
    result = check_text(base.replace("{day}", "mondays").replace("{periods}", "['08:00-18:00']"))
    assert result.errors[0].rule.startswith("unknown weekday 'mondays'")


def test_yaml_syntax_and_duplicate_keys_are_located() -> None:
    syntax = check_text("center:\n  name: [unclosed\nqueues: []\n", file="c.yaml")
    assert syntax.errors[0].rule.startswith("YAML syntax") and syntax.errors[0].line == 3
    duplicate = check_text("center:\n  name: A\n  name: B\n", file="c.yaml")
    assert str(duplicate.errors[0]) == "c.yaml:3: center: key 'name' appears more than once here"


def test_overflow_loops_are_refused() -> None:
    text = """\
center: {name: X}
queues:
  - id: a
    target: {service_level: 0.8, threshold_s: 20}
    overflow: [{when: wait_exceeds, value: 30, action: queue, target: b}]
  - id: b
    target: {service_level: 0.8, threshold_s: 20}
    overflow: [{when: wait_exceeds, value: 30, action: queue, target: a}]
"""
    rules = [p.rule for p in check_text(text).errors]
    assert "overflow on waiting time loops back to 'a'" in rules
    assert "overflow on waiting time loops back to 'b'" in rules


def test_cli_validate_exits_non_zero_and_prints_located_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["config", "validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:16: queues[0].strategy: unknown strategy 'longest_idel'" in result.output
    assert "the configuration is not valid" in result.output
    ok = runner.invoke(app, ["config", "validate", str(SAMPLE_CENTER)])
    assert ok.exit_code == 0 and "40 agents" in ok.output


def test_missing_file_is_an_error() -> None:
    result = check_file("/nonexistent/center.yaml")
    assert str(result.errors[0]) == "/nonexistent/center.yaml: file not found"


GRAMMAR = """\
center: {name: Demo, languages: [zh-CN, en]}
skills:
  - {id: repair}
  - {id: vip}
queues:
  - id: english_repair
    requirements: ['repair >= 2', 'lang:en', vip]
    target: {service_level: 0.8, threshold_s: 20}
    ageing:
      - {after_s: 30, requirements: ['repair => 1']}
  - id: french
    requirements: ['language == fr']
    target: {service_level: 0.8, threshold_s: 20}
teams:
  - {id: t1}
agents:
  - {id: a001, team: t1, skills: {repair: 3, vip: 1}, languages: [zh-CN]}
"""


def test_requirements_follow_the_routing_grammar_and_are_checked_where_they_stand() -> None:
    """The configuration accepts what the routing engine matches (bare skills, languages) and
    refuses a bad term in an ageing step with its line, as in the queue's own requirements."""
    result = check_text(GRAMMAR, file="center.yaml")
    errors = {(p.line, p.field): p.rule for p in result.errors}
    assert errors.keys() == {(10, "queues[0].ageing[0].requirements[0]")}
    assert "must look like 'skill >= 3'" in errors[(10, "queues[0].ageing[0].requirements[0]")]
    fixed = check_text(GRAMMAR.replace("repair => 1", "repair >= 1"), file="center.yaml")
    problems = {(p.line, p.field): p.rule for p in [*fixed.errors, *fixed.warnings]}
    assert problems == {
        (12, "queues[1].requirements[0]"): "language 'fr' is not one of the center's: en, zh-CN",
        # a001 has the skills but speaks no English: the language term counts, as in routing
        (7, "queues[0].requirements"): "no agent has the skills queue 'english_repair' requires",
        (12, "queues[1].requirements"): "no agent has the skills queue 'french' requires",
    }


def test_a_queue_s_outbound_reserve_is_checked_with_its_line() -> None:
    text = """\
center: {name: Demo}
queues:
  - {id: vip, target: {service_level: 0.99, threshold_s: 5}, outbound_reserve: 1}
  - {id: repair, target: {service_level: 0.8, threshold_s: 20}, outbound_reserve: -1}
"""
    result = check_text(text, file="center.yaml")
    assert [(p.line, p.field) for p in result.errors] == [(4, "queues[1].outbound_reserve")]
    fixed = check_text(text.replace("-1}", "0}"), file="center.yaml")
    assert not fixed.errors


def test_queues_agents_and_teams_belong_to_known_sites() -> None:
    text = SAMPLE_CENTER.read_text(encoding="utf-8")
    wrong = text.replace("    site: hefei\n", "    site: wuhan\n", 1)
    wrong = wrong.replace(
        "name: 客户关怀组 Customer care, site: chengdu", "name: 客户关怀组 Customer care"
    )
    wrong = wrong.replace(
        "{id: a021, name: 潘桂, team: t-care, site: chengdu,",
        "{id: a021, name: 潘桂, team: t-care,",
    )
    result = check_text(wrong, file="center.yaml")
    assert [str(p) for p in result.errors] == [
        "center.yaml:69: queues[1].site: unknown site 'wuhan' (defined: chengdu, hefei)"
    ]
    assert [p.field for p in result.warnings] == ["agents[20].site"]
    assert "give the agent or its team one" in result.warnings[0].rule


def test_forward_rules_name_their_if_busy_numbers_once_and_never_themselves() -> None:
    text = """\
center: {name: X}
queues:
  - id: a
    target: {service_level: 0.8, threshold_s: 20}
    overflow:
      - {when: closed, action: forward, number: '4008009000', if_busy: ['4008009100']}
      - {when: wait_exceeds, value: 30, action: callback, if_busy: ['4008009100']}
  - id: b
    target: {service_level: 0.8, threshold_s: 20}
    overflow:
      - {when: closed, action: forward, number: '4008009000', if_busy: ['13900000000']}
      - {when: wait_exceeds, value: 90, action: forward, number: '110', if_busy: ['110']}
crisis:
  overflow: {queue_longer_than: 5, number: '4008009000', if_busy: ['4008009100']}
"""
    problems = {(p.field, p.line, p.rule) for p in check_text(text).errors}
    assert problems == {
        ("queues[0].overflow[1].if_busy", 7, "only a forward rule has numbers to try if busy"),
        (
            "queues[1].overflow[0].if_busy",
            11,
            "another forward rule for 4008009000 tries ['4008009100'] if busy, not ['13900000000']",
        ),
        ("queues[1].overflow[1].if_busy", 12, "number 110 cannot be its own if_busy number"),
    }
    good = check_text("""\
center: {name: X}
queues:
  - id: a
    target: {service_level: 0.8, threshold_s: 20}
    overflow: [{when: closed, action: forward, number: '110'}]
crisis:
  overflow: {queue_longer_than: 5, number: '4008009000', if_busy: ['4008009100', '+8613900000000']}
""")
    assert good.ok and good.config is not None, good.errors
    assert good.config.forward_fallbacks() == {"4008009000": ("4008009100", "+8613900000000")}
