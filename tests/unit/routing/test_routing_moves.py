"""A supervisor moves a waiting contact: to another queue keeping its place, or to an agent."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hotline.core.events import Channel
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentReady,
    ContactMoved,
    ContactQueued,
    MovedToQueue,
    Offer,
    OfferRejected,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
)


def _engine() -> RoutingEngine:
    engine = RoutingEngine(
        RoutingConfig(
            queues=(
                QueueConfig("repair", requirements=("repair",)),
                QueueConfig("sales", requirements=("sales",)),
                QueueConfig("chat", channel=Channel.CHAT),
            ),
            agents=(
                AgentConfig("fixer", skills={"repair": 3}),
                AgentConfig("seller", skills={"sales": 3}),
                AgentConfig("boss", skills={"sales": 1}),
            ),
        )
    )
    for agent in ("fixer", "seller", "boss"):
        engine.handle(AgentLoggedIn(at=0.0, agent_id=agent, ready=False, reason="break"))
    return engine


def _offers(effects: Sequence[object]) -> list[tuple[str, str, str]]:
    return [(e.contact_id, e.agent_id, e.kind) for e in effects if isinstance(e, Offer)]


def test_a_contact_moved_to_another_queue_keeps_its_place_there() -> None:
    engine = _engine()
    engine.handle(ContactQueued(at=1.0, contact_id="early", queue="repair"))
    engine.handle(ContactQueued(at=2.0, contact_id="regular", queue="sales"))
    moved = engine.handle(ContactMoved(at=5.0, contact_id="early", queue="sales"))
    assert [e for e in moved.effects if isinstance(e, MovedToQueue)] == [
        MovedToQueue("early", "repair", "sales", "moved")
    ]
    overflowed = moved.events[0]
    assert (overflowed.kind.value, dict(overflowed.data)) == (
        "overflowed",
        {"to": "sales", "reason": "moved"},
    )
    # It queued at 1 s, before "regular" at 2 s: it is first in line in its new queue.
    assert engine.waiting_contacts("sales") == ["early", "regular"]
    ready = engine.handle(AgentReady(at=6.0, agent_id="seller"))
    assert _offers(ready.effects) == [("early", "seller", "queue")]


def test_moving_a_contact_to_an_available_agent_offers_it_at_once() -> None:
    engine = _engine()
    engine.handle(ContactQueued(at=1.0, contact_id="c1", queue="repair"))
    engine.handle(AgentReady(at=2.0, agent_id="boss"))  # serves sales only
    picked = engine.handle(ContactMoved(at=3.0, contact_id="c1", agent_id="boss"))
    assert _offers(picked.effects) == [("c1", "boss", "transfer")]
    back = engine.handle(OfferRejected(at=4.0, contact_id="c1", agent_id="boss"))
    assert _offers(back.effects) == []
    assert engine.waiting_contacts("repair") == ["c1"]  # back in its queue, in its place


def test_moves_that_do_not_fit_are_refused_and_change_nothing() -> None:
    engine = _engine()
    engine.handle(ContactQueued(at=1.0, contact_id="c1", queue="repair"))
    with pytest.raises(RoutingConflict, match="not available"):
        engine.handle(ContactMoved(at=2.0, contact_id="c1", agent_id="seller"))  # on a break
    with pytest.raises(RoutingConflict, match="already waits"):
        engine.handle(ContactMoved(at=2.0, contact_id="c1", queue="repair"))
    with pytest.raises(RoutingConflict, match="takes chat"):
        engine.handle(ContactMoved(at=2.0, contact_id="c1", queue="chat"))
    with pytest.raises(RoutingConflict, match="not both"):
        engine.handle(ContactMoved(at=2.0, contact_id="c1", queue="sales", agent_id="boss"))
    with pytest.raises(RoutingConflict, match="unknown queue"):
        engine.handle(ContactMoved(at=2.0, contact_id="c1", queue="nowhere"))
    assert engine.waiting_contacts("repair") == ["c1"]
    engine.handle(AgentReady(at=3.0, agent_id="fixer"))
    with pytest.raises(RoutingConflict, match="not waiting"):
        engine.handle(ContactMoved(at=4.0, contact_id="c1", queue="sales"))  # ringing now
