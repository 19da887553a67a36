"""Regressions found by the property tests, kept as plain examples."""

from __future__ import annotations

from hotline.core.events import Channel, EventKind
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    ContactQueued,
    Offer,
    OfferAnswered,
    QueueConfig,
    RoutingConfig,
    TransferredToQueue,
)


def test_agent_wrapping_a_transferred_chat_is_not_offered_it_back() -> None:
    """A chat transferred to a queue the agent also serves waits until their wrap-up ends.

    The agent keeps a free chat slot during wrap-up, so the transferred chat used to be offered
    straight back to them, replacing their wrap-up of it (a later timer then failed).
    """
    engine = RoutingEngine(
        RoutingConfig(
            queues=(
                QueueConfig("repair", requirements=("repair >= 3",), wrap_up_s=5),
                QueueConfig("chat", channel=Channel.CHAT, requirements=("chat",), wrap_up_s=3),
            ),
            agents=(
                AgentConfig("a0", skills={"repair": 4, "chat": 2}, capacity={Channel.CHAT: 2}),
            ),
        )
    )
    engine.handle(AgentLoggedIn(at=0.0, agent_id="a0"))
    engine.handle(ContactQueued(at=0.0, contact_id="c1", queue="chat"))
    engine.handle(OfferAnswered(at=1.0, contact_id="c1", agent_id="a0"))
    moved = engine.handle(TransferredToQueue(at=2.0, contact_id="c1", queue="repair"))
    assert not [e for e in moved.effects if isinstance(e, Offer)]
    assert engine.contact_stage("c1") == "waiting"
    assert engine.agent_contacts("a0") == {"c1": "wrap_up"}
    # The chat queue's 3 s wrap-up ends; only then is the contact offered to a0 again.
    later = engine.advance(5.0)
    kinds = [e.kind for e in later.events if e.contact_id == "c1"]
    assert kinds == [EventKind.WRAP_UP_ENDED, EventKind.OFFERED]
    assert engine.agent_contacts("a0") == {"c1": "ringing"}
