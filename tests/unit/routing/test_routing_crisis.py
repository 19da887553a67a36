"""Crisis mode in routing terms: closed queues refuse, every waiter is offered a callback."""

from __future__ import annotations

import pytest

from hotline.config.crisis import CrisisConfig
from hotline.config.validate import check_text
from hotline.routing.crisis import crisis_routing
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    ContactQueued,
    PlayClosedMessage,
    QueueConfig,
    RoutingConfig,
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
