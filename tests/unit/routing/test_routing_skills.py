"""Skills, requirement expressions, ageing (bullseye) and capacity per channel."""

from __future__ import annotations

import pytest

from hotline.core.events import Channel
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgeingStep,
    AgentConfig,
    AgentLoggedIn,
    ContactEnded,
    ContactQueued,
    LanguageTerm,
    Offer,
    OfferAnswered,
    QueueConfig,
    RoutingConfig,
    RoutingError,
    SkillTerm,
    WrapUpEnded,
    parse_requirement,
    parse_requirements,
)


def offers(result: Result) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in result.effects if isinstance(e, Offer)]


def test_requirement_expressions_parse_and_match() -> None:
    assert parse_requirement("repair >= 3") == SkillTerm("repair", ">=", 3)
    assert parse_requirement("vip") == SkillTerm("vip", ">=", 1)
    assert parse_requirement("lang:en") == LanguageTerm("en")
    assert parse_requirement("language = zh-CN") == LanguageTerm("zh-CN")
    assert parse_requirement("billing > 2").matches({"billing": 3}, frozenset())
    assert not parse_requirement("billing > 2").matches({"billing": 2}, frozenset())
    assert parse_requirement("billing == 4").matches({"billing": 4}, frozenset())
    assert not parse_requirement("billing == 4").matches({"billing": 5}, frozenset())
    for bad in ["repair >= 9", "repair =< 3", "", "language"]:
        with pytest.raises(RoutingError):
            parse_requirement(bad)
    assert parse_requirements(["b", "a", "b"]) == (SkillTerm("a", ">=", 1), SkillTerm("b", ">=", 1))


def test_contact_goes_only_to_an_agent_meeting_every_requirement() -> None:
    queue = QueueConfig("repair", requirements=("repair >= 3",))
    engine = RoutingEngine(
        RoutingConfig(
            queues=(queue,),
            agents=(
                AgentConfig("novice", skills={"repair": 2}),
                AgentConfig("expert", skills={"repair": 4}, languages=frozenset({"zh-CN"})),
                AgentConfig("bilingual", skills={"repair": 3}, languages=frozenset({"en"})),
            ),
        )
    )
    assert sorted(engine.queue_members("repair")) == ["bilingual", "expert"]
    for name in ["novice", "expert", "bilingual"]:
        engine.handle(AgentLoggedIn(at=0, agent_id=name))
    result = engine.handle(ContactQueued(at=1, contact_id="c1", queue="repair", language="en"))
    assert offers(result) == [("c1", "bilingual")]
    result = engine.handle(
        ContactQueued(at=2, contact_id="c2", queue="repair", requirements=("repair >= 4",))
    )
    assert offers(result) == [("c2", "expert")]
    result = engine.handle(ContactQueued(at=3, contact_id="c3", queue="repair"))
    assert offers(result) == []  # the novice is not in the group


def test_ageing_widens_the_bullseye_step_by_step() -> None:
    queue = QueueConfig(
        "repair",
        requirements=("repair >= 4",),
        ageing=(
            AgeingStep(after_s=30, min_proficiency=2),
            AgeingStep(after_s=60, requirements=()),
        ),
    )
    engine = RoutingEngine(
        RoutingConfig(
            queues=(queue,),
            agents=(
                AgentConfig("level2", skills={"repair": 2}),
                AgentConfig("outsider", skills={"sales": 3}),
            ),
        )
    )
    engine.handle(AgentLoggedIn(at=0, agent_id="outsider"))
    engine.handle(AgentLoggedIn(at=0, agent_id="level2"))
    assert offers(engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair"))) == []
    assert not engine.eligible("level2", "c1")
    assert offers(engine.advance(29.9)) == []
    assert offers(engine.advance(30)) == [("c1", "level2")]
    assert engine.requirements("c1") == ((SkillTerm("repair", ">=", 2),),)
    engine.handle(OfferAnswered(at=31, contact_id="c1", agent_id="level2"))
    # A second contact reaches the last ring: anyone in the group — the outsider too.
    engine.handle(ContactQueued(at=31, contact_id="c2", queue="repair"))
    assert offers(engine.advance(90)) == []
    assert offers(engine.advance(91)) == [("c2", "outsider")]


def test_ageing_keeps_extra_terms_but_relaxes_their_levels() -> None:
    queue = QueueConfig("q", ageing=(AgeingStep(after_s=10, min_proficiency=3),))
    engine = RoutingEngine(RoutingConfig(queues=(queue,)))
    engine.handle(
        ContactQueued(at=0, contact_id="c1", queue="q", requirements=("vip >= 5",), language="en")
    )
    assert engine.requirements("c1") == ((SkillTerm("vip", ">=", 5), LanguageTerm("en")),)
    engine.advance(10)
    assert engine.requirements("c1") == ((SkillTerm("vip", ">=", 3), LanguageTerm("en")),)


def test_an_ageing_step_adds_a_group_and_keeps_the_earlier_rings() -> None:
    # As in the sample center: VIP callers go to VIP agents, after 30 s also to repair experts.
    queue = QueueConfig(
        "vip",
        requirements=("vip >= 3",),
        ageing=(AgeingStep(after_s=30, requirements=("repair >= 4",)),),
    )
    engine = RoutingEngine(
        RoutingConfig(
            queues=(queue,),
            agents=(
                AgentConfig("vip_agent", skills={"vip": 3}),
                AgentConfig("expert", skills={"repair": 4}),
                AgentConfig("junior", skills={"repair": 2}),
            ),
        )
    )
    assert sorted(engine.queue_members("vip")) == ["expert", "vip_agent"]
    for name in ["expert", "junior"]:
        engine.handle(AgentLoggedIn(at=0, agent_id=name))
    engine.handle(AgentLoggedIn(at=0, agent_id="vip_agent", ready=False, reason="meeting"))
    assert offers(engine.handle(ContactQueued(at=1, contact_id="c1", queue="vip"))) == []
    assert offers(engine.advance(31)) == [("c1", "expert")]
    assert engine.requirements("c1") == (
        (SkillTerm("repair", ">=", 4),),
        (SkillTerm("vip", ">=", 3),),
    )
    with pytest.raises(RoutingError, match="increasing"):
        QueueConfig("q", ageing=(AgeingStep(after_s=30, min_proficiency=2), AgeingStep(after_s=20)))
    with pytest.raises(RoutingError):
        QueueConfig("q", ageing=(AgeingStep(after_s=30, requirements=("repair >= 7",)),))


def test_chat_capacity_is_never_exceeded_and_voice_is_exclusive() -> None:
    engine = RoutingEngine(
        RoutingConfig(
            queues=(
                QueueConfig("chat", channel=Channel.CHAT, wrap_up_s=0),
                QueueConfig("voice", wrap_up_s=0),
            ),
            agents=(AgentConfig("alice", capacity={Channel.CHAT: 2}),),
        )
    )
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    got = []
    for i in range(4):
        got += offers(engine.handle(ContactQueued(at=i, contact_id=f"chat{i}", queue="chat")))
    assert got == [("chat0", "alice"), ("chat1", "alice")]
    # Holding chats, alice gets no call; the call waits.
    assert offers(engine.handle(ContactQueued(at=5, contact_id="call", queue="voice"))) == []
    engine.handle(OfferAnswered(at=6, contact_id="chat0", agent_id="alice"))
    result = engine.handle(ContactEnded(at=7, contact_id="chat0"))
    # A chat slot opens; the call needs an empty desk, so the next chat is offered.
    assert offers(result) == [("chat2", "alice")]
    # The customers of the ringing chats leave; each freed slot goes to the next chat, and
    # the call is offered only once alice holds nothing.
    assert offers(engine.handle(ContactEnded(at=8, contact_id="chat1"))) == [("chat3", "alice")]
    assert offers(engine.handle(ContactEnded(at=9, contact_id="chat2"))) == []
    assert engine.agent_contacts("alice") == {"chat3": "ringing"}
    assert offers(engine.handle(ContactEnded(at=10, contact_id="chat3"))) == [("call", "alice")]
    assert engine.agent_contacts("alice") == {"call": "ringing"}


def test_wrap_up_of_a_chat_still_holds_its_slot() -> None:
    engine = RoutingEngine(
        RoutingConfig(
            queues=(QueueConfig("chat", channel=Channel.CHAT, wrap_up_s=30),),
            agents=(AgentConfig("alice", capacity={Channel.CHAT: 1}),),
        )
    )
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    engine.handle(ContactQueued(at=0, contact_id="a", queue="chat"))
    engine.handle(ContactQueued(at=0, contact_id="b", queue="chat"))
    engine.handle(OfferAnswered(at=1, contact_id="a", agent_id="alice"))
    assert offers(engine.handle(ContactEnded(at=2, contact_id="a"))) == []
    result = engine.handle(WrapUpEnded(at=3, agent_id="alice", contact_id="a"))
    assert offers(result) == [("b", "alice")]


def test_a_contact_returned_after_ring_no_answer_catches_up_on_ageing() -> None:
    # Offered at once (no timers set yet), it rings out after 20 s; by then the 10 s ring
    # applies, so the level-2 agent may take it straight away.
    queue = QueueConfig(
        "repair",
        requirements=("repair >= 4",),
        ring_timeout_s=20,
        ageing=(AgeingStep(after_s=10, min_proficiency=2),),
    )
    engine = RoutingEngine(
        RoutingConfig(
            queues=(queue,),
            agents=(
                AgentConfig("expert", skills={"repair": 5}),
                AgentConfig("level2", skills={"repair": 2}),
            ),
        )
    )
    engine.handle(AgentLoggedIn(at=0, agent_id="expert"))
    engine.handle(AgentLoggedIn(at=0, agent_id="level2"))
    assert offers(engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair"))) == [
        ("c1", "expert")
    ]
    assert engine.next_deadline() == 20  # only the ring timer: nothing else was armed
    assert offers(engine.advance(20)) == [("c1", "level2")]


def test_universal_queue_mixes_channels_within_each_capacity() -> None:
    queues = tuple(
        QueueConfig(channel.value, channel=channel, wrap_up_s=0)
        for channel in (Channel.EMAIL, Channel.SMS, Channel.OUTBOUND, Channel.VOICE)
    )
    agent = AgentConfig("ann", capacity={Channel.EMAIL: 2, Channel.SMS: 2})
    engine = RoutingEngine(RoutingConfig(queues=queues, agents=(agent,)))
    engine.handle(AgentLoggedIn(at=0, agent_id="ann"))
    got = []
    for i, channel in enumerate(["email", "email", "email", "sms", "sms", "sms", "outbound"]):
        got += offers(engine.handle(ContactQueued(at=i, contact_id=f"{channel}{i}", queue=channel)))
    # Two e-mails and two SMS at once; the outbound task (a phone call) waits for a free desk.
    assert got == [("email0", "ann"), ("email1", "ann"), ("sms3", "ann"), ("sms4", "ann")]
    held = engine.agent_contacts("ann")
    for contact in list(held):
        engine.handle(ContactEnded(at=10, contact_id=contact))  # customers leave before answer
    # A free desk: the longest waiter relative to its target goes first (all 20 s targets).
    assert engine.agent_contacts("ann") == {"email2": "ringing", "sms5": "ringing"}
    engine.handle(ContactEnded(at=11, contact_id="email2"))
    engine.handle(ContactEnded(at=11, contact_id="sms5"))
    assert engine.agent_contacts("ann") == {"outbound6": "ringing"}
