"""Reconfiguring a running engine piece by piece, each queue and agent at its own safe point.

A queue's safe point: none of its contacts waits, rings, talks or is wrapped up. An agent's:
they hold nothing. One held call must hold up only its own queue and agent, never the rest;
a changed agent keeps state, reason, idle time and today's counters (the fairness keys). The
property test checks that a configuration applied piecewise, under traffic, routes new
contacts exactly as a fresh engine built from it.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.events import EventKind
from hotline.routing.engine import RoutingEngine, apply_ready, engine_wide_changes
from hotline.routing.model import (
    AgeingStep,
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentState,
    Command,
    ContactEnded,
    ContactHeld,
    ContactQueued,
    NewDay,
    Offer,
    OfferAnswered,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
    Strategy,
)

A = QueueConfig("a", requirements=("repair",), wrap_up_s=10)
B = QueueConfig("b", requirements=("sales",), wrap_up_s=5)
ALICE = AgentConfig("alice", skills={"repair": 3})
BOB = AgentConfig("bob", skills={"sales": 2})
CAROL = AgentConfig("carol", skills={"billing": 2})


def started(*agents: AgentConfig, queues: tuple[QueueConfig, ...] = (A, B)) -> RoutingEngine:
    engine = RoutingEngine(RoutingConfig(queues=queues, agents=agents))
    for agent in agents:
        engine.handle(AgentLoggedIn(at=0.0, agent_id=agent.id))
    return engine


def offers(engine: RoutingEngine, command: Command) -> list[tuple[str, str]]:
    return [
        (e.contact_id, e.agent_id) for e in engine.handle(command).effects if isinstance(e, Offer)
    ]


def test_a_held_call_on_one_queue_holds_up_that_queue_and_agent_only() -> None:
    engine = started(ALICE, BOB, CAROL)
    assert offers(engine, ContactQueued(at=1.0, contact_id="c1", queue="a")) == [("c1", "alice")]
    engine.handle(OfferAnswered(at=2.0, contact_id="c1", agent_id="alice"))
    engine.handle(ContactHeld(at=3.0, contact_id="c1"))

    assert engine.queue_busy("a") == "contact c1 in hand of alice"
    assert engine.agent_busy("alice") == "contact c1 in hand of alice"
    assert engine.queue_busy("b") is None and engine.agent_busy("carol") is None

    # Queue b now wants billing, and carol learns billing → she serves b at once.
    new_b = QueueConfig("b", requirements=("billing",), wrap_up_s=0)
    engine.configure_queue(new_b)
    assert engine.config.queues[1] == new_b
    assert engine.queue_members("b") == ["carol"]
    assert offers(engine, ContactQueued(at=4.0, contact_id="c2", queue="b")) == [("c2", "carol")]

    # An idle agent changes at once too: bob learns billing.
    engine.configure_agent(AgentConfig("bob", skills={"billing": 4}))
    assert sorted(engine.queue_members("b")) == ["bob", "carol"]

    with pytest.raises(RoutingConflict, match="contact c1 in hand of alice"):
        engine.configure_queue(QueueConfig("a", requirements=("repair >= 2",), wrap_up_s=0))
    with pytest.raises(RoutingConflict, match="contact c1"):
        engine.configure_agent(AgentConfig("alice", skills={"repair": 3, "billing": 1}))

    # The call ends: still wrapping up (10 s), so queue a waits; then it applies.
    engine.handle(ContactEnded(at=20.0, contact_id="c1"))
    assert engine.queue_busy("a") == "contact c1 in wrap-up"
    engine.advance(30.0)
    assert engine.queue_busy("a") is None
    engine.configure_queue(QueueConfig("a", requirements=("repair >= 2",), wrap_up_s=0))
    assert engine.config.queues[0].requirements == ("repair >= 2",)


def test_an_agent_on_a_call_gets_new_skills_after_wrap_up() -> None:
    engine = started(ALICE, BOB)
    offers(engine, ContactQueued(at=1.0, contact_id="c1", queue="a"))
    engine.handle(OfferAnswered(at=2.0, contact_id="c1", agent_id="alice"))
    target = RoutingConfig(
        queues=(A, B), agents=(AgentConfig("alice", skills={"repair": 3, "sales": 5}), BOB)
    )
    _, waiting = apply_ready(engine, target)
    assert waiting == {("agent", "alice"): "agent alice is busy: contact c1 in hand of alice"}
    # Bob is busy with a sales contact while alice finishes: it waits for the next one.
    offers(engine, ContactQueued(at=3.0, contact_id="c2", queue="b"))
    engine.handle(OfferAnswered(at=3.0, contact_id="c2", agent_id="bob"))
    engine.handle(ContactEnded(at=50.0, contact_id="c1"))
    assert apply_ready(engine, target)[1] == {
        ("agent", "alice"): "agent alice is busy: contact c1 in wrap-up by alice"
    }
    engine.advance(60.0)  # wrap-up over
    _, waiting = apply_ready(engine, target)
    assert waiting == {}
    assert engine.config.agents[0].skills == {"repair": 3, "sales": 5}
    assert "alice" in engine.queue_members("b")
    assert offers(engine, ContactQueued(at=61.0, contact_id="c3", queue="b")) == [("c3", "alice")]


def test_a_changed_agent_keeps_state_reason_and_fairness_counters() -> None:
    queue = QueueConfig(
        "a", requirements=("repair",), strategy=Strategy.FEWEST_CONTACTS, wrap_up_s=0
    )
    engine = started(ALICE, AgentConfig("ann", skills={"repair": 1}), queues=(queue,))
    now = 0.0
    # Alice answers two contacts, ann one.
    for n in range(3):
        now += 10.0
        ((contact, agent),) = offers(engine, ContactQueued(at=now, contact_id=f"c{n}", queue="a"))
        assert agent == ("alice", "ann", "alice")[n]
        engine.handle(OfferAnswered(at=now, contact_id=contact, agent_id=agent))
        engine.handle(ContactEnded(at=now + 1, contact_id=contact))
    engine.advance(now + 100)
    engine.handle(AgentNotReady(at=now + 100, agent_id="ann", reason="lunch"))

    engine.configure_agent(AgentConfig("alice", skills={"repair": 5, "sales": 1}))
    engine.configure_agent(AgentConfig("ann", skills={"repair": 2}))
    assert engine.agent_state("ann") is AgentState.NOT_READY
    assert engine.agent_reason("ann") == "lunch"
    # Re-registering at login (AgentLoggedIn.config) keeps the counters as well.
    engine.handle(AgentLoggedOut(at=now + 101, agent_id="ann"))
    engine.handle(AgentLoggedIn(at=now + 102, agent_id="ann", config=ann_v3()))
    # Fewest contacts today: ann (1) before alice (2) — not alice, as if both were new.
    assert offers(engine, ContactQueued(at=now + 103, contact_id="c9", queue="a")) == [
        ("c9", "ann")
    ]


def ann_v3() -> AgentConfig:
    return AgentConfig("ann", skills={"repair": 3})


def test_a_removed_queue_waits_for_the_queues_that_overflow_to_it() -> None:
    spill = QueueConfig(
        "a",
        requirements=("repair",),
        overflow=(
            OverflowRule(OverflowCondition.QUEUE_LENGTH_EXCEEDS, OverflowAction.QUEUE, 1, "b"),
        ),
    )
    engine = started(ALICE, BOB, queues=(spill, B))
    with pytest.raises(RoutingConflict, match="queue a still overflows to queue b"):
        engine.remove_queue("b")
    target = RoutingConfig(queues=(A,), agents=(ALICE, BOB))
    _, waiting = apply_ready(engine, target)  # a changes first, then b can go
    assert waiting == {}
    assert [q.id for q in engine.config.queues] == ["a"]
    assert engine.queue_members("a") == ["alice"]
    with pytest.raises(RoutingConflict, match="unknown queue"):
        engine.handle(ContactQueued(at=1.0, contact_id="c1", queue="b"))
    # Bob serves no queue now; removing him logs him out first.
    result = engine.remove_agent("bob")
    assert [(e.kind, e.data["state"]) for e in result.events] == [
        (EventKind.AGENT_STATE, "logged_out")
    ]
    assert engine.agents() == ["alice"]


def test_new_queues_and_agents_are_always_safe() -> None:
    engine = started(ALICE)
    offers(engine, ContactQueued(at=1.0, contact_id="c1", queue="a"))
    engine.handle(OfferAnswered(at=2.0, contact_id="c1", agent_id="alice"))
    engine.configure_queue(QueueConfig("c", requirements=("billing",)))
    engine.configure_agent(CAROL)
    assert engine.agent_state("carol") is AgentState.LOGGED_OUT
    engine.handle(AgentLoggedIn(at=3.0, agent_id="carol"))
    assert offers(engine, ContactQueued(at=4.0, contact_id="c2", queue="c")) == [("c2", "carol")]
    assert engine_wide_changes(engine.config, engine.config) == []


# ---------------------------------------------------------------- piecewise = fresh engine

SKILLS = ("repair", "sales", "vip")
STRATEGIES = (
    Strategy.LONGEST_IDLE,
    Strategy.FEWEST_CONTACTS,
    Strategy.HIGHEST_PROFICIENCY,
    Strategy.LEAST_OCCUPIED,
)


def random_queues(rng: random.Random) -> tuple[QueueConfig, ...]:
    ids = sorted(rng.sample(["q0", "q1", "q2", "q3"], rng.randint(1, 4)))
    queues = []
    for queue_id in ids:
        skill = rng.choice(SKILLS)
        overflow: tuple[OverflowRule, ...] = ()
        others = [q for q in ids if q != queue_id]
        if others and rng.random() < 0.4:
            overflow = (
                OverflowRule(
                    OverflowCondition.QUEUE_LENGTH_EXCEEDS,
                    OverflowAction.QUEUE,
                    rng.randint(1, 3),
                    rng.choice(others),
                ),
            )
        ageing = (AgeingStep(after_s=rng.choice((5.0, 15.0)), min_proficiency=1),)
        queues.append(
            QueueConfig(
                queue_id,
                requirements=(f"{skill} >= {rng.randint(1, 3)}",),
                strategy=rng.choice(STRATEGIES),
                wrap_up_s=rng.choice((0.0, 3.0)),
                ageing=ageing if rng.random() < 0.5 else (),
                overflow=overflow,
            )
        )
    return tuple(queues)


def random_agents(rng: random.Random, ids: list[str]) -> tuple[AgentConfig, ...]:
    return tuple(
        AgentConfig(
            agent_id,
            skills={s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(1, 3))},
        )
        for agent_id in ids
    )


class Traffic:
    """Contacts arriving, answered at once, ending after a while: the same for two engines."""

    def __init__(self, rng: random.Random, queues: list[str]) -> None:
        self.rng = rng
        self.queues = queues
        self.talking: dict[str, float] = {}

    def step(self, engine: RoutingEngine, now: float, serial: int) -> list[list[object]]:
        """Drive one step; return every command's effects (to compare two engines)."""
        seen: list[list[object]] = []

        def run(command: Command | None) -> None:
            result = engine.advance(now) if command is None else engine.handle(command)
            seen.append(list(result.effects))
            for effect in result.effects:
                if isinstance(effect, Offer):
                    answer = OfferAnswered(
                        at=now, contact_id=effect.contact_id, agent_id=effect.agent_id
                    )
                    seen.append(list(engine.handle(answer).effects))
                    self.talking[effect.contact_id] = now + self.rng.uniform(1, 30)

        run(None)  # timers due by now (an offer after wrap-up, say) come first
        for contact_id, until in sorted(self.talking.items()):
            if until <= now and contact_id in engine.contacts():
                del self.talking[contact_id]
                run(ContactEnded(at=now, contact_id=contact_id))
        if self.queues:
            run(ContactQueued(at=now, contact_id=f"x{serial}", queue=self.rng.choice(self.queues)))
        return seen


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_a_config_applied_piecewise_routes_like_a_fresh_engine(seed: int) -> None:
    rng = random.Random(seed)
    old_ids = sorted(rng.sample(["a0", "a1", "a2", "a3", "a4"], rng.randint(1, 5)))
    old = RoutingConfig(queues=random_queues(rng), agents=random_agents(rng, old_ids))
    kept = [a for a in old_ids if rng.random() < 0.7]
    added = [a for a in ["a5", "a6"] if rng.random() < 0.5]
    # New agents come after the kept ones, as the engine numbers them (ties go by number).
    new = RoutingConfig(queues=random_queues(rng), agents=random_agents(rng, kept + added))

    engine = RoutingEngine(old)
    for agent_id in old_ids:
        engine.handle(AgentLoggedIn(at=0.0, agent_id=agent_id))
    traffic = Traffic(random.Random(seed + 1), [q.id for q in old.queues])
    now = 0.0
    waiting: dict[tuple[str, str], str] = {("start", ""): ""}
    serial = 0
    # Traffic under the old configuration; the new one is saved at t=20 and applied piece by
    # piece, each at its safe point, while contacts keep coming (to queues of either).
    while now < 60.0 or waiting or engine.contacts():
        now += rng.uniform(0.5, 3.0)
        serial += 1
        if now < 60.0:
            traffic.step(engine, now, serial)
        else:
            traffic.queues = []
            traffic.step(engine, now, serial)
            for contact_id in engine.contacts():
                if engine.contact_stage(contact_id) == "waiting":
                    engine.handle(ContactEnded(at=now, contact_id=contact_id))
        if now >= 20.0:
            _, waiting = apply_ready(engine, new)
            traffic.queues = [q.id for q in engine.config.queues] if now < 60.0 else []
        assert now < 10_000, waiting
    assert sorted(engine.config.queues, key=str) == sorted(new.queues, key=str)
    assert sorted(engine.config.agents, key=str) == sorted(new.agents, key=str)

    # Everything applied: a new day, every agent signs in afresh in both engines.
    fresh = RoutingEngine(new)
    now += 1.0
    engine.handle(NewDay(at=now))
    for agent_id in engine.agents():
        if engine.agent_state(agent_id) is not AgentState.LOGGED_OUT:
            engine.handle(AgentLoggedOut(at=now, agent_id=agent_id))
    for agent in new.agents:
        engine.handle(AgentLoggedIn(at=now, agent_id=agent.id))
        fresh.handle(AgentLoggedIn(at=now, agent_id=agent.id))
    queues = [q.id for q in new.queues]
    assert shape(engine, queues) == shape(fresh, queues)
    mine = Traffic(random.Random(seed + 2), queues)
    theirs = Traffic(random.Random(seed + 2), queues)
    for serial in range(40):
        now += 1.5
        assert mine.step(engine, now, 1000 + serial) == theirs.step(fresh, now, 1000 + serial)
        assert shape(engine, queues) == shape(fresh, queues)


def shape(engine: RoutingEngine, queues: list[str]) -> list[object]:
    """Each queue's members, counts and serving slots (the learned handle time aside)."""
    seen: list[object] = []
    for queue_id in queues:
        snapshot = engine.queue_snapshot(queue_id)
        wait = engine.queue_estimated_wait(queue_id)
        slots = None if wait is None else round(snapshot.average_handle_s / wait, 9)
        seen.append(
            (
                sorted(engine.queue_members(queue_id)),
                snapshot.waiting,
                snapshot.agents_logged_in,
                snapshot.agents_available,
                slots,  # serving slots over the position of the next contact
            )
        )
    return seen
