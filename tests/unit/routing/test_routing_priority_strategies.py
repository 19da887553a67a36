"""Priority (strict and head start), agent selection strategies and fairness across queues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline.core.events import Channel
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentReady,
    ContactEnded,
    ContactQueued,
    NewDay,
    Offer,
    OfferAnswered,
    PriorityMode,
    QueueConfig,
    RoutingConfig,
    Strategy,
    WrapUpEnded,
)


def offers(result: Result) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in result.effects if isinstance(e, Offer)]


def serve_order(engine: RoutingEngine, agent: str, start: float) -> list[str]:
    """Let one agent work through everything waiting; return the contacts in service order."""
    served: list[str] = []
    now = start
    result = engine.handle(AgentReady(at=now, agent_id=agent))
    while True:
        got = offers(result)
        if not got:
            return served
        contact = got[0][0]
        served.append(contact)
        now += 1
        engine.handle(OfferAnswered(at=now, contact_id=contact, agent_id=agent))
        now += 1
        engine.handle(ContactEnded(at=now, contact_id=contact))
        result = engine.handle(WrapUpEnded(at=now, agent_id=agent, contact_id=contact))


def test_strict_priority_classes_then_longest_waiting_first() -> None:
    engine = RoutingEngine(
        RoutingConfig(queues=(QueueConfig("q"),), agents=(AgentConfig("alice"),))
    )
    engine.handle(AgentLoggedIn(at=0, agent_id="alice", ready=False, reason="break"))
    arrivals = [("r1", 0), ("v1", 1), ("r2", 0), ("v2", 1), ("x", 2)]
    for at, (cid, priority) in enumerate(arrivals):
        engine.handle(ContactQueued(at=at, contact_id=cid, queue="q", priority=priority))
    assert engine.waiting_contacts("q") == ["x", "v1", "v2", "r1", "r2"]
    assert engine.position("r1") == 4
    assert serve_order(engine, "alice", 10) == ["x", "v1", "v2", "r1", "r2"]


def test_bank_head_start_credits_priority_customers_90_seconds() -> None:
    # The Anonymous Bank: priority 2 customers are credited 1.5 minutes of waiting.
    bank = QueueConfig(
        "bank", priority_mode=PriorityMode.HEAD_START, head_start_by_priority={2: 90.0}
    )
    engine = RoutingEngine(RoutingConfig(queues=(bank,), agents=(AgentConfig("teller"),)))
    engine.handle(AgentLoggedIn(at=0, agent_id="teller", ready=False, reason="meeting"))
    engine.handle(ContactQueued(at=0, contact_id="regular_early", queue="bank", priority=1))
    engine.handle(ContactQueued(at=60, contact_id="vip", queue="bank", priority=2))  # as if 60-90
    engine.handle(ContactQueued(at=70, contact_id="regular_late", queue="bank", priority=0))
    engine.handle(ContactQueued(at=100, contact_id="vip_late", queue="bank", priority=2))  # as 10
    assert engine.waiting_contacts("bank") == ["vip", "regular_early", "vip_late", "regular_late"]
    assert serve_order(engine, "teller", 101) == [
        "vip",
        "regular_early",
        "vip_late",
        "regular_late",
    ]


def three_agents(strategy: Strategy, **agent_options: Mapping[str, Any]) -> RoutingEngine:
    queue = QueueConfig("q", requirements=("repair",), strategy=strategy, wrap_up_s=0)
    agents = tuple(
        AgentConfig(name, **agent_options.get(name, {})) for name in ["ann", "ben", "cat"]
    )
    return RoutingEngine(RoutingConfig(queues=(queue,), agents=agents, seed=7))


def handle_one(engine: RoutingEngine, cid: str, at: float) -> str:
    """Queue one contact, answer and end it; return the agent who got it."""
    result = engine.handle(ContactQueued(at=at, contact_id=cid, queue="q"))
    ((_, agent),) = offers(result)
    engine.handle(OfferAnswered(at=at, contact_id=cid, agent_id=agent))
    engine.handle(ContactEnded(at=at + 0.5, contact_id=cid))
    return agent


def login_all(engine: RoutingEngine, times: dict[str, float]) -> None:
    for name, at in sorted(times.items(), key=lambda kv: kv[1]):
        engine.handle(AgentLoggedIn(at=at, agent_id=name))


SKILLED = {"skills": {"repair": 3}}


def test_longest_idle_agent_first() -> None:
    engine = three_agents(Strategy.LONGEST_IDLE, ann=SKILLED, ben=SKILLED, cat=SKILLED)
    login_all(engine, {"ben": 0, "cat": 1, "ann": 2})
    assert [handle_one(engine, f"c{i}", 10 + i) for i in range(4)] == ["ben", "cat", "ann", "ben"]


def test_ties_are_broken_by_registration_order() -> None:
    engine = three_agents(Strategy.LONGEST_IDLE, ann=SKILLED, ben=SKILLED, cat=SKILLED)
    login_all(engine, {"cat": 0, "ben": 0, "ann": 0})
    assert handle_one(engine, "c0", 5) == "ann"


def test_highest_proficiency_first() -> None:
    engine = three_agents(
        Strategy.HIGHEST_PROFICIENCY,
        ann={"skills": {"repair": 2}},
        ben={"skills": {"repair": 5}},
        cat={"skills": {"repair": 4}},
    )
    login_all(engine, {"ann": 0, "ben": 1, "cat": 2})
    engine.handle(ContactQueued(at=3, contact_id="a", queue="q"))
    engine.handle(ContactQueued(at=3, contact_id="b", queue="q"))
    result = engine.handle(ContactQueued(at=3, contact_id="c", queue="q"))
    assert engine.agent_contacts("ben") == {"a": "ringing"}
    assert engine.agent_contacts("cat") == {"b": "ringing"}
    assert offers(result) == [("c", "ann")]


def test_fewest_contacts_today_and_new_day_reset() -> None:
    engine = three_agents(Strategy.FEWEST_CONTACTS, ann=SKILLED, ben=SKILLED, cat=SKILLED)
    login_all(engine, {"ann": 0, "ben": 0, "cat": 0})
    got = [handle_one(engine, f"c{i}", 10 + i) for i in range(6)]
    assert sorted(got.count(n) for n in ["ann", "ben", "cat"]) == [2, 2, 2]
    assert got[:3] == ["ann", "ben", "cat"]
    engine.handle(NewDay(at=100))
    # counters reset: longest idle now breaks the tie among zeros.
    assert handle_one(engine, "d0", 101) == got[-3]


def test_least_occupied_spreads_chats() -> None:
    queue = QueueConfig("chat", channel=Channel.CHAT, strategy=Strategy.LEAST_OCCUPIED)
    agents = (
        AgentConfig("ann", capacity={Channel.CHAT: 3}),
        AgentConfig("ben", capacity={Channel.CHAT: 3}),
    )
    engine = RoutingEngine(RoutingConfig(queues=(queue,), agents=agents))
    engine.handle(AgentLoggedIn(at=0, agent_id="ann"))
    engine.handle(AgentLoggedIn(at=0, agent_id="ben"))
    got = []
    for i in range(4):
        got += offers(engine.handle(ContactQueued(at=1 + i, contact_id=f"c{i}", queue="chat")))
    assert [a for _, a in got] == ["ann", "ben", "ann", "ben"]


def test_round_robin_cycles_regardless_of_idle_time() -> None:
    engine = three_agents(Strategy.ROUND_ROBIN, ann=SKILLED, ben=SKILLED, cat=SKILLED)
    login_all(engine, {"cat": 0, "ben": 1, "ann": 2})
    got = [handle_one(engine, f"c{i}", 10 + i) for i in range(6)]
    assert got == ["ann", "ben", "cat", "ann", "ben", "cat"]


def test_random_strategy_repeats_with_the_same_seed_and_varies_with_another() -> None:
    def picks(seed: int) -> list[str]:
        queue = QueueConfig("q", strategy=Strategy.RANDOM, wrap_up_s=0)
        agents = tuple(AgentConfig(f"a{i}") for i in range(6))
        engine = RoutingEngine(RoutingConfig(queues=(queue,), agents=agents, seed=seed))
        for i in range(6):
            engine.handle(AgentLoggedIn(at=0, agent_id=f"a{i}"))
        return [handle_one(engine, f"c{i}", 1 + i) for i in range(12)]

    assert picks(1) == picks(1)
    assert picks(1) != picks(2)
    assert len(set(picks(1))) > 2


def test_agent_in_several_queues_gets_the_longest_waiter_relative_to_target() -> None:
    # Billing promises 20 s, e-mail-like back office 600 s: 30 s in billing is worse than
    # 300 s in the back office, even though the back-office contact waited longer.
    queues = (
        QueueConfig("billing", target_threshold_s=20),
        QueueConfig("backoffice", target_threshold_s=600),
        QueueConfig("sales", target_threshold_s=20),
    )
    engine = RoutingEngine(RoutingConfig(queues=queues, agents=(AgentConfig("ann"),)))
    engine.handle(AgentLoggedIn(at=0, agent_id="ann", ready=False, reason="meeting"))
    engine.handle(ContactQueued(at=0, contact_id="slow", queue="backoffice"))
    engine.handle(ContactQueued(at=270, contact_id="bill", queue="billing"))
    engine.handle(ContactQueued(at=280, contact_id="sale", queue="sales"))
    assert serve_order(engine, "ann", 300) == ["bill", "sale", "slow"]


def test_strict_class_beats_relative_wait_across_queues() -> None:
    queues = (QueueConfig("a"), QueueConfig("b"))
    engine = RoutingEngine(RoutingConfig(queues=queues, agents=(AgentConfig("ann"),)))
    engine.handle(AgentLoggedIn(at=0, agent_id="ann", ready=False, reason="meeting"))
    engine.handle(ContactQueued(at=0, contact_id="old", queue="a"))
    engine.handle(ContactQueued(at=50, contact_id="vip", queue="b", priority=5))
    assert serve_order(engine, "ann", 60) == ["vip", "old"]
