"""Sticky agent: a contact prefers one agent for a while, then anyone eligible may take it.

The caller-recognition rules route a caller with an open ticket to the agent who owns it
(``ContactQueued(preferred_agent=..., preferred_for_s=...)``); the engine keeps the contact for
that agent alone until the time is up, or until one offer to them failed, and the contact
keeps its place in line throughout.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    Command,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    Offer,
    OfferAnswered,
    OfferRejected,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
    WrapUpEnded,
)
from tests.unit.routing.test_routing_pools import check_no_missed_match
from tests.unit.routing.test_routing_properties import AGENTS, CONFIG, EXTRAS, QUEUES


def _center() -> RoutingEngine:
    engine = RoutingEngine(
        RoutingConfig(
            queues=(QueueConfig("repair", requirements=("repair",), wrap_up_s=0),),
            agents=(
                AgentConfig("owner", skills={"repair": 2}),
                AgentConfig("other", skills={"repair": 2}),
            ),
        )
    )
    engine.handle(AgentLoggedIn(at=0.0, agent_id="owner", ready=False, reason="lunch"))
    engine.handle(AgentLoggedIn(at=0.0, agent_id="other"))
    return engine


def _offers(effects: Sequence[object]) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in effects if isinstance(e, Offer)]


def test_the_contact_waits_for_its_agent_then_falls_back_after_the_time() -> None:
    engine = _center()
    queued = engine.handle(
        ContactQueued(
            at=1.0, contact_id="c1", queue="repair", preferred_agent="owner", preferred_for_s=30
        )
    )
    assert _offers(queued.effects) == []  # "other" is free, but the caller waits for "owner"
    assert engine.position("c1") == 1
    assert _offers(engine.advance(30.9).effects) == []
    assert _offers(engine.advance(31.0).effects) == [("c1", "other")]


def test_the_preferred_agent_coming_free_in_time_takes_the_contact() -> None:
    engine = _center()
    engine.handle(AgentNotReady(at=0.5, agent_id="other", reason="break"))
    engine.handle(
        ContactQueued(
            at=1.0, contact_id="c1", queue="repair", preferred_agent="owner", preferred_for_s=30
        )
    )
    engine.handle(AgentReady(at=2.0, agent_id="other"))  # not theirs: nothing is offered
    assert engine.agent_contacts("other") == {}
    ready = engine.handle(AgentReady(at=5.0, agent_id="owner"))
    assert _offers(ready.effects) == [("c1", "owner")]


def test_a_declined_offer_ends_the_preference_at_once() -> None:
    engine = _center()
    engine.handle(AgentNotReady(at=0.5, agent_id="other", reason="break"))
    engine.handle(AgentReady(at=0.6, agent_id="owner"))
    queued = engine.handle(
        ContactQueued(
            at=1.0, contact_id="c1", queue="repair", preferred_agent="owner", preferred_for_s=60
        )
    )
    assert _offers(queued.effects) == [("c1", "owner")]
    engine.handle(OfferRejected(at=3.0, contact_id="c1", agent_id="owner"))
    back = engine.handle(AgentReady(at=4.0, agent_id="other"))
    assert _offers(back.effects) == [("c1", "other")]


def test_an_unknown_preferred_agent_is_no_preference() -> None:
    engine = _center()
    queued = engine.handle(
        ContactQueued(
            at=1.0, contact_id="c1", queue="repair", preferred_agent="ghost", preferred_for_s=60
        )
    )
    assert _offers(queued.effects) == [("c1", "other")]


def test_the_preference_does_not_lift_the_queues_own_requirements() -> None:
    engine = RoutingEngine(
        RoutingConfig(
            queues=(QueueConfig("repair", requirements=("repair >= 3",)),),
            agents=(AgentConfig("novice", skills={"repair": 1}),),
        )
    )
    engine.handle(AgentLoggedIn(at=0.0, agent_id="novice"))
    queued = engine.handle(
        ContactQueued(
            at=1.0, contact_id="c1", queue="repair", preferred_agent="novice", preferred_for_s=5
        )
    )
    assert _offers(queued.effects) == []
    assert _offers(engine.advance(10.0).effects) == []


# ----------------------------------------------------------------------------- property


#: What a random run does with each engine result: (result, its instant, the command or
#: ``None`` for a timer).
Observer = Callable[[Result, float, Command | None], None]


def random_traffic(
    engine: RoutingEngine,
    ops: list[tuple[int, int, int, float]],
    *,
    arrival: Callable[[float, str, int, int], ContactQueued],
    observe: Observer,
) -> None:
    """Drive ``engine`` with random agents' and contacts' doings (``ops``), contacts made by
    ``arrival(now, contact_id, k, j)``; every result goes to ``observe``, timers one deadline
    at a time (so each offer is seen at its own instant), and the pools' invariant is checked
    around every command."""
    serial = 0
    now = 0.0

    def attempt(command: Command) -> None:
        deadline = engine.next_deadline()
        while deadline is not None and deadline <= command.at:
            observe(engine.advance(deadline), deadline, None)
            deadline = engine.next_deadline()
        check_no_missed_match(engine)
        with contextlib.suppress(RoutingConflict):
            observe(engine.handle(command), command.at, command)
        check_no_missed_match(engine)

    def in_stage(stage: str) -> list[str]:
        return sorted(c for c in engine.contacts() if engine.contact_stage(c) == stage)

    for op, k, j, dt in ops:
        now += dt
        agent = AGENTS[k % len(AGENTS)].id
        if op == 0:
            serial += 1
            attempt(arrival(now, f"c{serial}", k, j))
        elif op == 1:
            attempt(AgentLoggedIn(at=now, agent_id=agent, ready=j % 3 != 0))
        elif op == 2:
            attempt(AgentReady(at=now, agent_id=agent))
        elif op == 3:
            attempt(AgentNotReady(at=now, agent_id=agent, reason="break"))
        elif op in (4, 5):
            ringing = in_stage("ringing")
            if ringing:
                contact = ringing[k % len(ringing)]
                holder = next(
                    a.id for a in AGENTS if engine.agent_contacts(a.id).get(contact) == "ringing"
                )
                command = OfferAnswered if op == 4 else OfferRejected
                attempt(command(at=now, contact_id=contact, agent_id=holder))
        elif op == 6:
            waiting = in_stage("waiting")
            if waiting:
                attempt(ContactAbandoned(at=now, contact_id=waiting[k % len(waiting)]))
        elif op == 7:
            connected = in_stage("connected")
            if connected:
                attempt(ContactEnded(at=now, contact_id=connected[k % len(connected)]))
        elif op == 8:
            wraps = [
                (a.id, c)
                for a in AGENTS
                for c, s in engine.agent_contacts(a.id).items()
                if s == "wrap_up"
            ]
            if wraps:
                agent_id, contact = wraps[k % len(wraps)]
                attempt(WrapUpEnded(at=now, agent_id=agent_id, contact_id=contact))
        else:
            deadline = engine.next_deadline()
            while deadline is not None and deadline <= now:
                observe(engine.advance(deadline), deadline, None)
                deadline = engine.next_deadline()
            engine.advance(now)
            check_no_missed_match(engine)


def drive(ops: list[tuple[int, int, int, float]]) -> None:
    """Random traffic where half the contacts prefer an agent; check every offer made."""
    window: dict[str, tuple[str, float]] = {}  # contact -> (preferred agent, until)
    offered: set[str] = set()

    def arrival(now: float, contact_id: str, k: int, j: int) -> ContactQueued:
        requirements, language = EXTRAS[j % len(EXTRAS)]
        preferred = AGENTS[j % len(AGENTS)].id if k % 2 else None
        for_s = float(5 + 10 * (j % 3))
        if preferred is not None:
            window[contact_id] = (preferred, now + for_s)
        return ContactQueued(
            at=now,
            contact_id=contact_id,
            queue=QUEUES[k % len(QUEUES)].id,
            priority=j % 2,
            requirements=requirements,
            language=language,
            preferred_agent=preferred,
            preferred_for_s=for_s,
        )

    def observe(result: Result, at: float, command: Command | None) -> None:
        for effect in result.effects:
            if not isinstance(effect, Offer) or effect.kind != "queue":
                continue
            preference = window.get(effect.contact_id)
            if preference is not None and effect.contact_id not in offered:
                agent, until = preference
                assert effect.agent_id == agent or at >= until, (
                    f"{effect.contact_id} offered to {effect.agent_id} at {at}, "
                    f"while it waits for {agent} until {until}"
                )
            offered.add(effect.contact_id)

    random_traffic(RoutingEngine(CONFIG), ops, arrival=arrival, observe=observe)


OPERATIONS = [0] * 6 + [1] * 3 + [2] * 2 + [3] + [4] * 4 + [5, 6] + [7] * 3 + [8] * 2 + [9] * 2

operation = st.tuples(
    st.sampled_from(OPERATIONS),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=5),
    st.sampled_from([0.0, 0.0, 1.0, 4.0, 12.0, 25.0]),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=20, max_size=120))
def test_a_waiting_preference_is_offered_only_to_its_agent_and_never_blocks_after(
    ops: list[tuple[int, int, int, float]],
) -> None:
    """Before the time: only the preferred agent is offered the contact. Always: no pool
    holds a waiting contact and a ready agent who could take it (so after the time, or
    after a failed offer, the contact goes to any eligible agent at once)."""
    drive(ops)
