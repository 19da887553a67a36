"""Regressions found by the property tests, kept as plain examples."""

from __future__ import annotations

import pytest

from hotline.core.events import Channel, EventKind
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    ConsultStarted,
    ContactEnded,
    ContactQueued,
    Offer,
    OfferAnswered,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
    TransferredToAgent,
    TransferredToQueue,
    WrapUpEnded,
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


@pytest.mark.parametrize("hand_back", ["consult", "transfer"])
def test_agent_wrapping_a_chat_cannot_be_handed_it_back_directly(hand_back: str) -> None:
    """Nor by a consult or a direct transfer: the engine refuses while they still hold it.

    Found by the auto-answer property test: a0 transferred a chat to a queue, a3 answered it
    there and consulted a0, who was still wrapping it up; the consult replaced a0's wrap-up,
    and the wrap-up timer later failed (KeyError in _end_wrap).
    """
    engine = RoutingEngine(
        RoutingConfig(
            queues=(
                QueueConfig("repair", requirements=("repair >= 3",), wrap_up_s=5),
                QueueConfig("chat", channel=Channel.CHAT, requirements=("chat",), wrap_up_s=3),
            ),
            agents=(
                AgentConfig("a0", skills={"repair": 4, "chat": 2}, capacity={Channel.CHAT: 2}),
                AgentConfig("a3", skills={"repair": 3, "chat": 1}, capacity={Channel.CHAT: 2}),
            ),
        )
    )
    engine.handle(AgentLoggedIn(at=0.0, agent_id="a0"))
    engine.handle(ContactQueued(at=0.0, contact_id="c1", queue="chat"))
    engine.handle(OfferAnswered(at=1.0, contact_id="c1", agent_id="a0"))
    engine.handle(AgentLoggedIn(at=1.0, agent_id="a3"))
    engine.handle(TransferredToQueue(at=2.0, contact_id="c1", queue="repair"))
    engine.handle(OfferAnswered(at=2.0, contact_id="c1", agent_id="a3"))
    assert engine.agent_contacts("a0") == {"c1": "wrap_up"}
    command = (
        ConsultStarted(at=3.0, contact_id="c1", agent_id="a0")
        if hand_back == "consult"
        else TransferredToAgent(at=3.0, contact_id="c1", agent_id="a0")
    )
    with pytest.raises(RoutingConflict, match="still holds c1"):
        engine.handle(command)
    assert engine.agent_contacts("a0") == {"c1": "wrap_up"}
    assert engine.agent_contacts("a3") == {"c1": "talking"}
    # a0's wrap-up ends on time; then the hand-back is accepted.
    ended = engine.advance(5.0)
    assert next(e.kind for e in ended.events if e.agent_id == "a0") is EventKind.WRAP_UP_ENDED
    engine.handle(ConsultStarted(at=6.0, contact_id="c1", agent_id="a0"))
    assert engine.agent_contacts("a0") == {"c1": "consult"}


def test_wrap_up_due_follows_the_agents_own_time_else_the_queues() -> None:
    # Drivers ask the engine when a wrap-up ends instead of repeating its rule.
    engine = RoutingEngine(
        RoutingConfig(
            queues=(QueueConfig("q", wrap_up_s=30.0),),
            agents=(AgentConfig("a"), AgentConfig("b", wrap_up_s=5.0)),
        )
    )
    pairs = (("a", "c1"), ("b", "c2"))
    for agent, contact in pairs:
        engine.handle(AgentLoggedIn(at=0.0, agent_id=agent))
        engine.handle(ContactQueued(at=0.0, contact_id=contact, queue="q"))
        assert engine.wrap_up_due(agent, contact) is None  # ringing, not wrapping
    for agent, contact in pairs:
        engine.handle(OfferAnswered(at=1.0, contact_id=contact, agent_id=agent))
    for _, contact in pairs:
        engine.handle(ContactEnded(at=10.0, contact_id=contact))
    assert engine.wrap_up_due("a", "c1") == 40.0
    assert engine.wrap_up_due("b", "c2") == 15.0
    engine.handle(WrapUpEnded(at=12.0, agent_id="b", contact_id="c2"))
    assert engine.wrap_up_due("b", "c2") is None
    assert engine.wrap_up_due("nobody", "c1") is None
