"""Crisis mode in routing terms: closed queues refuse, every waiter is offered a callback;
switched under live callers; switched by the center file's rule."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hotline.config.crisis import CrisisConfig, CrisisOverflow, CrisisSwitchRule
from hotline.config.validate import check_text
from hotline.core.events import EventKind
from hotline.routing.crisis import QueueReading, SwitchWatch, crisis_routing, watch_switch
from hotline.routing.engine import RoutingEngine
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    ContactQueued,
    ForwardCall,
    PlayClosedMessage,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
    RoutingError,
    StartCallback,
)

NORMAL = RoutingConfig(
    queues=(QueueConfig("repair"), QueueConfig("installation")),
    agents=(AgentConfig("a1"),),
)


def test_in_crisis_a_closed_queue_refuses_and_waiters_get_a_callback_after_the_time() -> None:
    crisis = crisis_routing(
        NORMAL, CrisisConfig(close_queues=["installation"], callback_after_s=30)
    )
    engine = RoutingEngine(crisis)
    engine.handle(AgentLoggedIn(at=0.0, agent_id="a1", ready=False, reason="break"))
    closed = engine.handle(ContactQueued(at=1.0, contact_id="booking", queue="installation"))
    assert PlayClosedMessage("booking", "installation") in closed.effects
    engine.handle(ContactQueued(at=2.0, contact_id="fault", queue="repair"))
    released = engine.advance(32.0)
    assert StartCallback("fault", "fault:callback", "repair") in released.effects
    assert engine.waiting_contacts("repair") == ["fault:callback"]


def test_without_crisis_the_same_callers_wait() -> None:
    engine = RoutingEngine(NORMAL)
    engine.handle(AgentLoggedIn(at=0.0, agent_id="a1", ready=False, reason="break"))
    engine.handle(ContactQueued(at=1.0, contact_id="booking", queue="installation"))
    engine.advance(100.0)
    assert engine.waiting_contacts("installation") == ["booking"]


def test_closing_an_unknown_queue_is_refused() -> None:
    with pytest.raises(RoutingError, match="unknown queue"):
        crisis_routing(NORMAL, CrisisConfig(close_queues=["sales"]))


def test_the_crisis_section_is_checked_with_located_errors() -> None:
    text = """\
center: {name: Demo}
queues:
  - {id: repair, target: {service_level: 0.8, threshold_s: 20}}
crisis:
  close_queues: [repair, sales]
  callback_after_s: 0
"""
    shape = check_text(text, file="center.yaml")
    assert [(p.line, p.field) for p in shape.errors] == [(6, "crisis.callback_after_s")]
    rules = check_text(text.replace("callback_after_s: 0", "callback_after_s: 30"), file="c.yaml")
    found = {(p.line, p.field): p.rule for p in rules.errors}
    assert "unknown queue 'sales'" in found[(5, "crisis.close_queues[1]")]
    assert "cannot close every queue" in found[(5, "crisis.close_queues")]


# ---------------------------------------------------------------------- switched under live calls


def test_switched_on_under_waiting_callers_a_long_waiter_is_offered_a_callback_at_once() -> None:
    engine = RoutingEngine(NORMAL)
    engine.handle(AgentLoggedIn(at=0.0, agent_id="a1", ready=False, reason="break"))
    engine.handle(ContactQueued(at=0.0, contact_id="early", queue="repair"))
    engine.handle(ContactQueued(at=40.0, contact_id="late", queue="repair"))
    engine.handle(ContactQueued(at=41.0, contact_id="booking", queue="installation"))
    engine.advance(50.0)
    crisis = crisis_routing(
        engine.config, CrisisConfig(close_queues=["installation"], callback_after_s=30)
    )
    for queue in crisis.queues:  # both queues have callers waiting: no safe point needed
        engine.change_queue_rules(queue)
    first = engine.advance(50.0)
    assert [type(e) for e in first.effects] == [StartCallback]  # "early" waited 50 s > 30 s
    assert engine.waiting_contacts("repair") == ["early:callback", "late"]
    assert StartCallback("late", "late:callback", "repair") in engine.advance(70.0).effects
    # The closed queue keeps its caller waiting, and refuses a new one.
    assert engine.waiting_contacts("installation") == ["booking"]
    refused = engine.handle(ContactQueued(at=71.0, contact_id="new", queue="installation"))
    assert PlayClosedMessage("new", "installation") in refused.effects
    # Switched back off: the normal rules again, a new caller waits.
    for queue in NORMAL.queues:
        engine.change_queue_rules(queue)
    engine.handle(ContactQueued(at=72.0, contact_id="after", queue="installation"))
    assert engine.waiting_contacts("installation") == ["booking", "after"]
    assert engine.config.queues == NORMAL.queues


def test_only_rules_and_hours_change_under_live_calls() -> None:
    engine = RoutingEngine(NORMAL)
    engine.handle(ContactQueued(at=0.0, contact_id="c", queue="repair"))
    with pytest.raises(RoutingConflict, match="only its overflow rules and hours"):
        engine.change_queue_rules(QueueConfig("repair", wrap_up_s=99))
    with pytest.raises(RoutingConflict, match="unknown queue"):
        engine.change_queue_rules(QueueConfig("sales"))


# ---------------------------------------------------------------------- switching by rule

RULE = CrisisSwitchRule(queue_longer_than=20, service_level_below=0.5, for_minutes=5)


def _read(
    rule: CrisisSwitchRule, readings: Sequence[tuple[float, int, float | None]], on: bool = False
) -> list[tuple[float, bool, str]]:
    """Feed timed readings (time, waiting, SL) of one queue; the switches the rule made."""
    watch = SwitchWatch()
    switches: list[tuple[float, bool, str]] = []
    for now, waiting, level in readings:
        decision = watch_switch(
            rule, watch, on=on, now=now, readings=[QueueReading("repair", waiting, level)]
        )
        watch = decision.watch
        if decision.switch_to is not None:
            switches.append((now, decision.switch_to, decision.why))
            on = decision.switch_to
            watch = SwitchWatch()  # the live mode starts a fresh watch after a switch
    return switches


def test_the_rule_switches_on_only_after_the_condition_held_for_the_minutes() -> None:
    # Long from 0 s; at 200 s it clears for one reading, so the 5 minutes start again at 260.
    switched = _read(RULE, [(0, 25, 0.9), (200, 5, None), (260, 30, 0.9), (500, 30, 0.9),
                            (560, 30, 0.9)])  # fmt: skip
    assert switched == [(560, True, "queue repair: 30 waiting, more than 20")]
    # A low service level alone is enough; a queue exactly at the bound is not.
    assert _read(RULE, [(0, 20, 0.4), (300, 20, 0.45)])[0][:2] == (300, True)
    assert _read(RULE, [(0, 20, None), (300, 20, 0.5)]) == []


def test_the_rule_switches_off_only_when_configured() -> None:
    clear = [(0, 0, 0.95), (300, 0, 0.95)]
    assert _read(RULE, clear, on=True) == []  # a supervisor switches it off
    off = RULE.model_copy(update={"switch_off": True})
    assert _read(off, clear, on=True) == [(300, False, "condition cleared")]


def test_a_switch_rule_needs_a_condition_and_is_located() -> None:
    text = """\
center: {name: Demo}
queues:
  - {id: repair, target: {service_level: 0.8, threshold_s: 20}}
  - {id: installation, target: {service_level: 0.8, threshold_s: 20}}
crisis:
  close_queues: [installation]
  switch:
    for_minutes: 5
"""
    errors = check_text(text, file="center.yaml").errors
    assert [(p.line, p.field) for p in errors] == [(7, "crisis.switch")]
    assert "give queue_longer_than, service_level_below or both" in errors[0].rule
    ok = text.replace("for_minutes: 5", "{queue_longer_than: 20, service_level_below: 1.5}")
    errors = check_text(ok.replace("\n    {", " {"), file="center.yaml").errors
    assert [(p.line, p.field) for p in errors] == [(7, "crisis.switch.service_level_below")]


# ---------------------------------------------------------------------- forwarding out


def test_in_crisis_a_caller_past_the_bound_is_forwarded_to_the_partner_number() -> None:
    overflow = CrisisOverflow(queue_longer_than=2, number="4008009000")
    engine = RoutingEngine(crisis_routing(NORMAL, CrisisConfig(overflow=overflow)))
    engine.handle(AgentLoggedIn(at=0.0, agent_id="a1", ready=False, reason="break"))
    for at, contact in ((1.0, "c1"), (2.0, "c2")):
        engine.handle(ContactQueued(at=at, contact_id=contact, queue="repair"))
    third = engine.handle(ContactQueued(at=3.0, contact_id="c3", queue="repair"))
    assert ForwardCall("c3", "repair", "4008009000") in third.effects
    [overflowed] = [e for e in third.events if e.kind is EventKind.OVERFLOWED]
    assert overflowed.data == {
        "to": "forward",
        "number": "4008009000",
        "reason": "queue_length_exceeds",
    }
    assert [e.data["outcome"] for e in third.events if e.kind is EventKind.FINISHED] == [
        "overflowed"
    ]
    assert engine.waiting_contacts("repair") == ["c1", "c2"]


AFTER_HOURS = """\
center: {name: Demo, timezone: Asia/Shanghai}
calendars:
  - {id: office, hours: {mon: ['09:00-18:00']}}
queues:
  - id: repair
    calendar: office
    target: {service_level: 0.8, threshold_s: 20}
    overflow:
      - {when: closed, action: forward, number: '+8610950000'}
      - {when: closed, action: closed_message}
  - {id: sales, calendar: office, target: {service_level: 0.8, threshold_s: 20}}
"""


def test_after_hours_a_queue_forwards_its_callers_to_the_duty_number() -> None:
    checked = check_text(AFTER_HOURS, file="center.yaml")
    assert checked.errors == [] and checked.config is not None
    engine = RoutingEngine(routing_config_from_center(checked.config))
    monday_evening = 1772449200.0  # Monday 2026-03-02 19:00 in Shanghai: closed
    day = engine.handle(ContactQueued(at=monday_evening - 8 * 3600, contact_id="d", queue="repair"))
    assert not any(isinstance(e, ForwardCall) for e in day.effects)  # open: the caller waits
    assert engine.waiting_contacts("repair") == ["d"]
    night = engine.handle(ContactQueued(at=monday_evening, contact_id="n", queue="repair"))
    assert ForwardCall("n", "repair", "+8610950000") in night.effects
    other = engine.handle(ContactQueued(at=monday_evening, contact_id="s", queue="sales"))
    assert PlayClosedMessage("s", "sales") in other.effects  # no duty number: closed


def test_a_forward_rule_needs_a_number_and_is_located() -> None:
    text = AFTER_HOURS.replace(", number: '+8610950000'", "").replace(
        "{when: closed, action: closed_message}",
        "{when: closed, action: closed_message, number: '12'}",
    )
    found = {(p.line, p.field): p.rule for p in check_text(text, file="center.yaml").errors}
    rule = "a forward rule needs a number, and only a forward rule has one"
    assert found == {(9, "queues[0].overflow[0]"): rule, (10, "queues[0].overflow[1]"): rule}
    bad = check_text(AFTER_HOURS.replace("+8610950000", "call-me"), file="center.yaml")
    assert [(p.line, p.field) for p in bad.errors] == [(9, "queues[0].overflow[0].number")]
