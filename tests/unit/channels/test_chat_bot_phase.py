"""A chat that starts with the first-line bot: only the bot writes until it hands over."""

from __future__ import annotations

from hotline.channels.chat.conversation import (
    AgentJoined,
    AgentWrote,
    BotWrote,
    Conversation,
    CustomerWrote,
    EndContact,
    Ended,
    HandedOver,
    Kind,
    Message,
    Phase,
    Post,
    Refuse,
    Sender,
    replay,
    transition,
)


def posted(effects: tuple[object, ...]) -> list[tuple[int, str, str, str]]:
    return [
        (e.message.seq, e.message.sender.value, e.message.kind.value, e.message.body)
        for e in effects
        if isinstance(e, Post)
    ]


def test_the_bot_answers_hands_over_and_the_agent_takes_it_from_there() -> None:
    c = Conversation(id="c", started_at=0.0, phase=Phase.BOT)
    c, effects = transition(c, CustomerWrote(at=1.0, text="热水器E4", client_id="k1"))
    assert posted(effects) == [(1, "customer", "text", "热水器E4")]
    c, effects = transition(c, BotWrote(at=1.1, text="调低出水温度"))
    assert posted(effects) == [(2, "bot", "text", "调低出水温度")]
    # No agent writes or joins while the bot has the chat.
    assert transition(c, AgentWrote(at=1.2, agent_id="a004", text="hi"))[1] == (
        Refuse("text", "the agent has not joined this conversation"),
    )
    assert transition(c, AgentJoined(at=1.2, agent_id="a004")) == (c, ())
    c, effects = transition(c, HandedOver(at=2.0, reason="asked"))
    assert c.phase is Phase.WAITING
    assert posted(effects) == [(3, "system", "handed_over", "asked")]
    # Handed over for good: the bot says nothing more, a second hand-over does nothing.
    assert transition(c, BotWrote(at=2.1, text="还在吗"))[1] == (
        Refuse("text", "the bot has handed this conversation over"),
    )
    assert transition(c, HandedOver(at=2.1, reason="asked")) == (c, ())
    c, _ = transition(c, AgentJoined(at=3.0, agent_id="a004"))
    assert c.phase is Phase.TALKING


def test_a_chat_the_bot_kept_to_the_end_was_never_routed() -> None:
    c = Conversation(id="c", started_at=0.0, phase=Phase.BOT)
    c, _ = transition(c, CustomerWrote(at=1.0, text="谢谢"))
    c, effects = transition(c, Ended(at=2.0, by=Sender.CUSTOMER))
    assert c.phase is Phase.ENDED
    assert not any(isinstance(e, EndContact) for e in effects)
    waiting = Conversation(id="w", started_at=0.0)
    _, effects = transition(waiting, Ended(at=2.0, by=Sender.CUSTOMER))
    assert EndContact(abandoned=True) in effects


def test_replay_restores_the_bot_phase_and_the_hand_over() -> None:
    with_bot = [
        Message(1, 1.0, Sender.CUSTOMER, Kind.TEXT, "q"),
        Message(2, 1.1, Sender.BOT, Kind.TEXT, "a"),
    ]
    assert replay(Conversation(id="c", started_at=0.0), with_bot).phase is Phase.BOT
    handed = [*with_bot, Message(3, 2.0, Sender.SYSTEM, Kind.HANDED_OVER, "asked")]
    assert replay(Conversation(id="c", started_at=0.0), handed).phase is Phase.WAITING
