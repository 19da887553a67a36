"""Property tests of the matching pools (``hotline.routing.pools``), beside the engine's own.

The pools keep one invariant that makes every decision cheap: **after each command, no pool
holds both a waiting contact and an available agent who could take it** — such a pair would
have been offered. These tests drive the engine with random command sequences (the
configuration of ``test_routing_properties``: ageing rings, extra requirements, chats several
at a time, calls exclusive, callbacks) and look inside after every call, judging "could take"
from the records themselves (ready, room on the channel, nothing exclusive in hand, member of
the pool, not declined, not still holding it), not through the pools' own functions.

They also hold the lazy structures to what they stand for: whatever notes, runs, loose
entries and stale versions a pool has piled up, its head agent and head contact are the ones
a plain scan of its current members and waiting contacts would pick.
"""

from __future__ import annotations

import contextlib
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.events import Channel
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    CallbackRequested,
    Command,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    OfferAnswered,
    OfferRejected,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
    Strategy,
    TransferredToQueue,
    WrapUpEnded,
)
from hotline.routing.pools import head_agent, head_contact
from hotline.routing.state import _READY, _WAITING, _Agent, _Contact, _Pool
from tests.unit.routing.test_routing_properties import AGENTS, CONFIG, EXTRAS, QUEUES


def could_take(agent: _Agent, contact: _Contact, pool: _Pool) -> bool:
    """Whether ``agent`` may be offered ``contact`` of ``pool`` now, from the raw records."""
    channel = pool.channel
    if agent.id not in pool.members or agent.presence != _READY:
        return False
    if agent.exclusive_load or agent.load.get(channel, 0) >= agent.capacity.get(channel, 0):
        return False
    if channel in CONFIG.exclusive_channels and agent.total_load:
        return False
    declined = contact.declined is not None and agent.id in contact.declined
    return not declined and contact.id not in agent.items


def waiting_in(pool: _Pool) -> list[_Contact]:
    """The contacts really waiting in ``pool`` (current heap entries of waiting contacts)."""
    return [
        entry[4]
        for entry in pool.contacts
        if entry[3] == entry[4].version and entry[4].stage == _WAITING and entry[4].pool is pool
    ]


def check_no_missed_match(engine: RoutingEngine) -> None:
    agents = list(engine._agents.values())
    for queue in engine._queues.values():
        for pool in queue.pools.values():
            waiting = waiting_in(pool)
            assert pool.waiting == len(waiting), f"{queue.id}: count {pool.waiting} ≠ {waiting}"
            for contact in waiting:
                for agent in agents:
                    assert not could_take(agent, contact, pool), (
                        f"{contact.id} waits in {queue.id} ring {pool.ring} while {agent.id} "
                        "could take it"
                    )


def check_heads(engine: RoutingEngine) -> None:
    """Each pool's lazy heads equal what a plain scan of current members picks."""
    for queue in engine._queues.values():
        for pool in queue.pools.values():
            waiting = waiting_in(pool)
            for agent in engine._agents.values():
                eligible = [c for c in waiting if not (c.declined and agent.id in c.declined)]
                eligible = [c for c in eligible if c.id not in agent.items]
                expected = min(eligible, key=lambda c: (-c.cls, c.credited_at, c.seq), default=None)
                assert head_contact(pool, agent) is expected


def drive(ops: list[tuple[int, int, int, float]], *, heads: bool = False) -> None:
    engine = RoutingEngine(CONFIG)
    now = 0.0
    serial = 0

    def attempt(command: Command) -> None:
        engine.advance(command.at)
        check_no_missed_match(engine)
        with contextlib.suppress(RoutingConflict):
            engine.handle(command)
        check_no_missed_match(engine)
        if heads:
            check_heads(engine)

    def in_stage(stage: str) -> list[str]:
        return sorted(c for c in engine.contacts() if engine.contact_stage(c) == stage)

    def pick(items: list[str], k: int) -> str | None:
        return items[k % len(items)] if items else None

    for op, k, j, dt in ops:
        now += dt
        agent = AGENTS[k % len(AGENTS)].id
        if op == 0:
            serial += 1
            requirements, language = EXTRAS[j % len(EXTRAS)]
            attempt(
                ContactQueued(
                    at=now,
                    contact_id=f"c{serial}",
                    queue=QUEUES[k % len(QUEUES)].id,
                    priority=j % 2,
                    requirements=requirements,
                    language=language,
                )
            )
        elif op == 1:
            attempt(AgentLoggedIn(at=now, agent_id=agent, ready=j % 3 != 0))
        elif op == 2:
            attempt(AgentLoggedOut(at=now, agent_id=agent))
        elif op == 3:
            attempt(AgentReady(at=now, agent_id=agent))
        elif op == 4:
            attempt(AgentNotReady(at=now, agent_id=agent, reason="break"))
        elif op in (5, 6):
            contact = pick(in_stage("ringing"), k)
            holders = [
                a.id for a in AGENTS if engine.agent_contacts(a.id).get(contact or "") == "ringing"
            ]
            if contact is not None and holders:
                command = OfferAnswered if op == 5 else OfferRejected
                attempt(command(at=now, contact_id=contact, agent_id=holders[0]))
        elif op == 7:
            contact = pick(in_stage("waiting") + in_stage("ringing"), k)
            if contact is not None:
                attempt(ContactAbandoned(at=now, contact_id=contact))
        elif op == 8:
            contact = pick(in_stage("connected"), k)
            if contact is not None:
                attempt(ContactEnded(at=now, contact_id=contact))
        elif op == 9:
            wraps = [
                (a.id, c)
                for a in AGENTS
                for c, s in engine.agent_contacts(a.id).items()
                if s == "wrap_up"
            ]
            if wraps:
                agent_id, contact = wraps[k % len(wraps)]
                attempt(WrapUpEnded(at=now, agent_id=agent_id, contact_id=contact))
        elif op == 10:
            contact = pick(in_stage("connected"), k)
            if contact is not None:
                queue = QUEUES[j % len(QUEUES)].id
                attempt(TransferredToQueue(at=now, contact_id=contact, queue=queue))
        elif op == 11:
            contact = pick(in_stage("waiting"), k)
            if contact is not None:
                attempt(CallbackRequested(at=now, contact_id=contact))
        else:
            engine.advance(now)
            check_no_missed_match(engine)


# Weighted towards arrivals and agents coming and going, so pools fill on both sides.
OPERATIONS = [0] * 6 + [1] * 3 + [2, 3, 3, 4] + [5] * 4 + [6, 7] + [8] * 3 + [9] * 2 + [10, 11, 12]

operation = st.tuples(
    st.sampled_from(OPERATIONS),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=5),
    st.sampled_from([0.0, 0.0, 1.0, 4.0, 12.0, 25.0]),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=20, max_size=120))
def test_no_pool_holds_a_waiting_contact_and_an_agent_who_could_take_it(
    ops: list[tuple[int, int, int, float]],
) -> None:
    drive(ops)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=20, max_size=80))
def test_a_pools_head_contact_is_the_one_a_plain_scan_picks(
    ops: list[tuple[int, int, int, float]],
) -> None:
    drive(ops, heads=True)


def test_a_busy_fixed_sequence_keeps_the_pools_invariant() -> None:
    rng = random.Random(20261202)
    ops = [
        (rng.choice(OPERATIONS), rng.randrange(21), rng.randrange(6), rng.choice([0.0, 1.0, 9.0]))
        for _ in range(1500)
    ]
    drive(ops)


def test_heads_stay_right_when_agents_decline_contacts_of_mixed_priority() -> None:
    # Declines send head_contact down its rare path (the head is refused by this agent):
    # arrivals of both priorities and many rejections, with the heads checked every step.
    rng = random.Random(11)
    mix = [0] * 6 + [1, 3] + [6] * 4 + [5, 8, 9]
    ops = [(rng.choice(mix), rng.randrange(21), rng.randrange(6), 0.5) for _ in range(400)]
    drive(ops, heads=True)


def test_a_pools_head_agent_is_the_best_current_entry_whatever_piled_up() -> None:
    # Forty agents of different proficiency come free and go on break many times (each time
    # a new version): the pool's notes, in-order run, loose list and heap fill with stale
    # entries, out of key order. The head is still the best current agent by the strategy's
    # key (highest proficiency, then longest idle, then registration order).
    # Mostly experts, some novices: a novice coming free after experts ends the in-order run,
    # so the experts after them go to the loose list and the heap.
    skill = [5 if i % 6 else 1 for i in range(40)]
    agents = tuple(AgentConfig(f"a{i:02d}", skills={"repair": skill[i]}) for i in range(40))
    config = RoutingConfig(
        queues=(QueueConfig("q", requirements=("repair",), strategy=Strategy.HIGHEST_PROFICIENCY),),
        agents=agents,
    )
    engine = RoutingEngine(config)
    for a in agents:
        engine.handle(AgentLoggedIn(at=0.0, agent_id=a.id, ready=False, reason="login"))
    pool = engine._queues["q"].pools[(0, (), Channel.VOICE)]
    rng = random.Random(5)
    now = 0.0
    for probe in range(200):
        for _ in range(rng.randrange(1, 8)):
            now += 1.0
            agent = engine._agents[rng.choice(agents).id]
            if agent.presence == _READY:
                engine.handle(AgentNotReady(at=now, agent_id=agent.id, reason="break"))
            else:
                engine.handle(AgentReady(at=now, agent_id=agent.id))
        ready = [a for a in engine._agents.values() if a.presence == _READY]
        head = head_agent(pool, _Contact(f"probe{probe}", Channel.VOICE, 0, 0, ()), engine._rng)
        expected = (
            min(((-float(a.proficiency["q"]), a.idle_since), a.index, a.id) for a in ready)
            if ready
            else None
        )
        found = None if head is None else (head[0], head[1], head[3].id)
        assert found == expected, f"probe {probe}: {found} ≠ {expected}"
