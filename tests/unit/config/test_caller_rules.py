"""Caller recognition rules: checked with located errors, and applied by a pure function."""

from __future__ import annotations

from hotline.config.caller_rules import (
    CallerFacts,
    CallerRules,
    OpenTicket,
    route_caller,
)
from hotline.config.validate import check_text
from hotline.crm.phones import try_normalize


def e164(number: str) -> str | None:
    """The CRM's normalisation, as the voice server passes it."""
    found = try_normalize(number)
    return found.e164 if found else None


HEADER = """\
center: {name: Demo}
skills: [{id: repair}]
teams: [{id: t1}]
agents:
  - {id: a1, team: t1, skills: {repair: 3}, job_number: "1024"}
  - {id: a2, team: t1, skills: {repair: 2}}
queues:
  - {id: general, target: {service_level: 0.8, threshold_s: 20}}
  - {id: vip, target: {service_level: 0.99, threshold_s: 5}, announce_agent_number: true}
"""

RULES = CallerRules.model_validate(
    {
        "nuisance": [
            {"number": "+86 139 0000 0001"},
            {"number": "13900000002", "action": "recording", "prompt": "nuisance_notice"},
        ],
        "vip": [{"min_level": 1, "priority": 10}, {"min_level": 3, "queue": "vip", "priority": 90}],
        "complaints": {"min_open": 1, "priority": 40},
        "sticky": {"prefer_for_s": 60, "ticket_types": ["repair", "complaint"]},
        "queues": ["general"],
    }
)


def problems(text: str) -> list[tuple[int | None, str | None, str]]:
    result = check_text(HEADER + text, file="center.yaml")
    return [(p.line, p.field, p.rule) for p in result.errors]


def test_valid_rules_are_accepted_and_a_job_number_gap_is_a_warning() -> None:
    result = check_text(
        HEADER
        + """\
caller_rules:
  nuisance: [{number: "13900000001"}, {number: "+86 139-0000-0002", action: recording}]
  vip: [{min_level: 2, queue: vip}, {min_level: 1, priority: 20}]
  complaints: {priority: 30}
  sticky: {prefer_for_s: 45}
  queues: [general]
""",
        file="center.yaml",
    )
    assert result.ok, result.errors
    assert [(w.line, w.field) for w in result.warnings] == [(9, "queues[1].announce_agent_number")]
    assert "a2" in result.warnings[0].rule


def test_badly_shaped_rules_are_located() -> None:
    found = problems(
        """\
caller_rules:
  nuisance:
    - {number: "call me"}
  sticky: {prefer_for_s: 0}
"""
    )
    rules = {(line, field): rule for line, field, rule in found}
    assert "pattern" in rules[(12, "caller_rules.nuisance[0].number")]
    assert "greater than 0" in rules[(13, "caller_rules.sticky.prefer_for_s")]


def test_rules_that_contradict_the_center_are_located_with_the_rule_broken() -> None:
    found = problems(
        """\
caller_rules:
  nuisance:
    - {number: "13900000001"}
    - {number: "139 0000 0001"}
  vip:
    - {min_level: 2, queue: platinum}
    - {min_level: 2, priority: 5}
    - {min_level: 4}
  queues: [nowhere]
"""
    )
    rules = {(line, field): rule for line, field, rule in found}
    assert "already listed as nuisance[0]" in rules[(13, "caller_rules.nuisance[1].number")]
    assert "unknown queue 'platinum'" in rules[(15, "caller_rules.vip[0].queue")]
    assert "already starts at 2" in rules[(16, "caller_rules.vip[1].min_level")]
    assert "must set a priority or a queue" in rules[(17, "caller_rules.vip[2]")]
    assert "unknown queue 'nowhere'" in rules[(18, "caller_rules.queues[0]")]
    assert len(found) == 5


def test_nuisance_numbers_are_blocked_or_sent_to_the_recording_however_written() -> None:
    blocked = route_caller(RULES, CallerFacts("8613900000001", vip_level=5), queue="x", priority=0)
    assert blocked.action == "block"
    recorded = route_caller(RULES, CallerFacts("139-0000-0002"), queue="general", priority=0)
    assert (recorded.action, recorded.prompt) == ("recording", "nuisance_notice")


def test_vip_level_picks_the_highest_rule_met() -> None:
    silver = route_caller(RULES, CallerFacts("1", vip_level=2), queue="general", priority=0)
    assert (silver.queue, silver.priority, silver.reasons) == ("general", 10, ("vip:2",))
    gold = route_caller(RULES, CallerFacts("1", vip_level=3), queue="general", priority=0)
    assert (gold.queue, gold.priority) == ("vip", 90)
    nobody = route_caller(RULES, CallerFacts("1"), queue="general", priority=5)
    assert (nobody.queue, nobody.priority, nobody.reasons) == ("general", 5, ())


def test_open_complaints_raise_priority_and_the_ticket_owner_is_preferred() -> None:
    facts = CallerFacts(
        "1",
        open_tickets=(OpenTicket("inquiry", "a9"), OpenTicket("complaint", "a1")),
    )
    routed = route_caller(RULES, facts, queue="general", priority=0, agents=frozenset({"a1"}))
    assert routed.priority == 40
    # The newest ticket of a sticky type decides; an inquiry is not one.
    assert (routed.preferred_agent, routed.preferred_for_s) == ("a1", 60.0)
    assert routed.reasons == ("complaints:1", "sticky:a1")


def test_a_ticket_owner_who_is_no_agent_makes_no_preference() -> None:
    facts = CallerFacts("1", open_tickets=(OpenTicket("repair", "backoffice-user"),))
    routed = route_caller(RULES, facts, queue="general", priority=0, agents=frozenset({"a1"}))
    assert routed.preferred_agent is None


def test_rules_leave_queues_they_do_not_name_alone_but_nuisance_is_always_refused() -> None:
    facts = CallerFacts("1", vip_level=9, open_tickets=(OpenTicket("complaint", "a1"),))
    routed = route_caller(RULES, facts, queue="sales", priority=0)
    assert (routed.queue, routed.priority, routed.preferred_agent) == ("sales", 0, None)
    blocked = route_caller(
        RULES, CallerFacts("13900000001"), queue="sales", priority=0, normalize=e164
    )
    assert blocked.action == "block"
