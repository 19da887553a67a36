"""A contact's life through the engine, asserted as time-ordered event logs."""

from __future__ import annotations

import pytest

from hotline.core.events import Channel, Event, EventKind
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    AgentState,
    AgentStateChanged,
    CancelOffer,
    ContactAbandoned,
    ContactEnded,
    ContactHeld,
    ContactQueued,
    ContactResumed,
    Offer,
    OfferAnswered,
    OfferRejected,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
    WrapUpEnded,
)


def contact_log(events: list[Event]) -> list[tuple[str, float, str | None]]:
    """Contact events as (kind, at, agent) — the shape SimPy-style log assertions use."""
    return [(e.kind.value, e.at, e.agent_id) for e in events if e.kind is not EventKind.AGENT_STATE]


def offers(result: Result) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in result.effects if isinstance(e, Offer)]


def make_engine(*agents: AgentConfig, **queue_options: object) -> RoutingEngine:
    queue = QueueConfig("repair", **queue_options)  # type: ignore[arg-type]
    return RoutingEngine(RoutingConfig(queues=(queue,), agents=agents))


def test_answered_contact_log_is_time_ordered_and_finishes_once() -> None:
    engine = make_engine(AgentConfig("alice"), wrap_up_s=15)
    log: list[Event] = []
    log += engine.handle(AgentLoggedIn(at=0, agent_id="alice")).events
    log += engine.handle(ContactQueued(at=10, contact_id="c1", queue="repair")).events
    log += engine.handle(OfferAnswered(at=13, contact_id="c1", agent_id="alice")).events
    log += engine.handle(ContactHeld(at=20, contact_id="c1")).events
    log += engine.handle(ContactResumed(at=30, contact_id="c1")).events
    log += engine.handle(ContactEnded(at=100, contact_id="c1")).events
    log += engine.advance(200).events
    assert contact_log(log) == [
        ("arrived", 10, None),
        ("queued", 10, None),
        ("offered", 10, "alice"),
        ("answered", 13, "alice"),
        ("held", 20, "alice"),
        ("resumed", 30, "alice"),
        ("disconnected", 100, "alice"),
        ("wrap_up_ended", 115, "alice"),
        ("finished", 115, None),
    ]
    by_kind = {e.kind: e for e in log}
    assert by_kind[EventKind.ANSWERED].data["wait_s"] == 3
    assert by_kind[EventKind.DISCONNECTED].data == {"talk_s": 77, "hold_s": 10}
    assert by_kind[EventKind.FINISHED].data["outcome"] == "answered"
    assert [e.seq for e in log] == sorted(e.seq for e in log)
    states = [e.data["state"] for e in log if e.kind is EventKind.AGENT_STATE]
    assert states == ["available", "reserved", "on_contact", "wrap_up", "available"]
    assert engine.contacts() == []


def test_agent_wrap_up_override_beats_the_queue() -> None:
    engine = make_engine(AgentConfig("alice", wrap_up_s=5), wrap_up_s=60)
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair"))
    engine.handle(OfferAnswered(at=1, contact_id="c1", agent_id="alice"))
    engine.handle(ContactEnded(at=10, contact_id="c1"))
    assert engine.next_deadline() == 15
    assert engine.agent_state("alice") is AgentState.WRAP_UP


def test_wrap_up_ended_early_by_the_agent_records_disposition() -> None:
    engine = make_engine(AgentConfig("alice"), wrap_up_s=60)
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair"))
    engine.handle(OfferAnswered(at=1, contact_id="c1", agent_id="alice"))
    engine.handle(ContactEnded(at=10, contact_id="c1"))
    result = engine.handle(WrapUpEnded(at=12, agent_id="alice", contact_id="c1", disposition="ok"))
    wrap = next(e for e in result.events if e.kind is EventKind.WRAP_UP_ENDED)
    assert wrap.data == {"wrap_s": 2, "disposition": "ok"}
    assert engine.agent_state("alice") is AgentState.AVAILABLE
    assert engine.next_deadline() is None


def test_zero_wrap_up_frees_the_agent_for_the_next_waiting_contact_at_once() -> None:
    engine = make_engine(AgentConfig("alice"), wrap_up_s=0)
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair"))
    engine.handle(ContactQueued(at=1, contact_id="c2", queue="repair"))
    engine.handle(OfferAnswered(at=2, contact_id="c1", agent_id="alice"))
    result = engine.handle(ContactEnded(at=30, contact_id="c1"))
    assert offers(result) == [("c2", "alice")]


def test_ring_no_answer_makes_agent_not_ready_and_returns_contact_to_the_head() -> None:
    engine = make_engine(AgentConfig("alice"), AgentConfig("bob"), ring_timeout_s=10)
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    engine.handle(ContactQueued(at=1, contact_id="c1", queue="repair"))  # rings alice
    engine.handle(AgentLoggedIn(at=2, agent_id="bob"))
    engine.handle(ContactQueued(at=3, contact_id="c2", queue="repair"))  # rings bob
    engine.handle(ContactQueued(at=4, contact_id="c3", queue="repair"))  # waits
    assert engine.waiting_contacts("repair") == ["c3"]
    result = engine.advance(11)  # alice never answers c1
    assert contact_log(result.events) == [("ring_no_answer", 11, "alice")]
    assert CancelOffer("c1", "alice", "ring_no_answer") in result.effects
    assert engine.agent_state("alice") is AgentState.NOT_READY
    assert engine.agent_reason("alice") == "ring_no_answer"
    # c1 goes back ahead of c3, who arrived later.
    assert engine.waiting_contacts("repair") == ["c1", "c3"]
    assert engine.position("c1") == 1
    # bob rejects c2: bob takes the head, c1; c2 keeps its place (queued at 3) ahead of c3.
    result = engine.handle(OfferRejected(at=12, contact_id="c2", agent_id="bob"))
    assert offers(result) == [("c1", "bob")]
    assert engine.waiting_contacts("repair") == ["c2", "c3"]


def test_rejecting_agent_is_skipped_for_that_contact() -> None:
    engine = make_engine(AgentConfig("alice"), AgentConfig("bob"))
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    engine.handle(AgentLoggedIn(at=1, agent_id="bob"))
    first = engine.handle(ContactQueued(at=2, contact_id="c1", queue="repair"))
    assert offers(first) == [("c1", "alice")]  # alice has been idle longer
    result = engine.handle(OfferRejected(at=3, contact_id="c1", agent_id="alice"))
    assert offers(result) == [("c1", "bob")]
    assert engine.agent_state("alice") is AgentState.AVAILABLE


def test_abandon_while_queued_and_while_ringing() -> None:
    engine = make_engine(AgentConfig("alice"))
    engine.handle(AgentLoggedIn(at=0, agent_id="alice", ready=False, reason="meeting"))
    engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair"))
    result = engine.handle(ContactAbandoned(at=42, contact_id="c1"))
    assert contact_log(result.events) == [("abandoned", 42, None), ("finished", 42, None)]
    assert result.events[0].data["wait_s"] == 42
    assert result.events[1].data["outcome"] == "abandoned"

    engine.handle(AgentReady(at=50, agent_id="alice"))
    engine.handle(ContactQueued(at=60, contact_id="c2", queue="repair"))
    result = engine.handle(ContactAbandoned(at=65, contact_id="c2"))
    assert CancelOffer("c2", "alice", "abandoned") in result.effects
    assert result.events[-2].data["outcome"] == "abandoned"
    assert engine.agent_state("alice") is AgentState.AVAILABLE
    with pytest.raises(RoutingConflict):
        engine.handle(ContactAbandoned(at=66, contact_id="c2"))


def test_not_ready_reason_codes_are_logged_and_block_offers() -> None:
    engine = make_engine(AgentConfig("alice"))
    events = engine.handle(AgentLoggedIn(at=0, agent_id="alice")).events
    events += engine.handle(AgentNotReady(at=5, agent_id="alice", reason="lunch")).events
    events += engine.handle(AgentNotReady(at=6, agent_id="alice", reason="training")).events
    result = engine.handle(ContactQueued(at=7, contact_id="c1", queue="repair"))
    assert offers(result) == []
    events += engine.handle(AgentReady(at=8, agent_id="alice")).events
    reasons = [
        (e.data["state"], e.data["reason"], e.data.get("ready"))
        for e in events
        if e.kind is EventKind.AGENT_STATE
    ]
    # A working state also says the presence: ready at 8 and offered c1 at the same instant,
    # with no ``available`` between (a takeover restores presence from it).
    assert reasons == [
        ("available", None, None),
        ("not_ready", "lunch", None),
        ("not_ready", "training", None),
        ("reserved", None, True),
    ]
    # Going not ready while ringing keeps the offer: the agent may still answer it.
    result = engine.handle(AgentNotReady(at=9, agent_id="alice", reason="break"))
    assert not any(isinstance(e, AgentStateChanged) for e in result.effects)
    assert engine.agent_state("alice") is AgentState.RESERVED
    answered = engine.handle(OfferAnswered(at=10, contact_id="c1", agent_id="alice")).events
    assert engine.agent_state("alice") is AgentState.ON_CONTACT
    shown = [e.data for e in answered if e.kind is EventKind.AGENT_STATE]
    on_call = {"state": "on_contact", "previous": "reserved", "reason": None, "ready": False}
    assert shown == [on_call]  # not ready since 9: the break begins after the contacts


def test_not_ready_while_on_a_call_takes_effect_after_wrap_up() -> None:
    engine = make_engine(AgentConfig("alice"), wrap_up_s=5)
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair"))
    engine.handle(OfferAnswered(at=1, contact_id="c1", agent_id="alice"))
    engine.handle(AgentNotReady(at=2, agent_id="alice", reason="break"))
    assert engine.agent_state("alice") is AgentState.ON_CONTACT
    engine.handle(ContactQueued(at=3, contact_id="c2", queue="repair"))
    engine.handle(ContactEnded(at=10, contact_id="c1"))
    result = engine.advance(15)
    assert offers(result) == []
    assert engine.agent_state("alice") is AgentState.NOT_READY
    assert engine.agent_reason("alice") == "break"


def test_logout_is_refused_while_holding_a_contact() -> None:
    engine = make_engine(AgentConfig("alice"))
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair"))
    with pytest.raises(RoutingConflict):
        engine.handle(AgentLoggedOut(at=1, agent_id="alice"))
    engine.handle(ContactAbandoned(at=2, contact_id="c1"))
    engine.handle(AgentLoggedOut(at=3, agent_id="alice"))
    assert engine.agent_state("alice") is AgentState.LOGGED_OUT


def test_conflicts_leave_state_alone() -> None:
    engine = make_engine(AgentConfig("alice"))
    engine.handle(AgentLoggedIn(at=10, agent_id="alice"))
    with pytest.raises(RoutingConflict):
        engine.handle(ContactQueued(at=5, contact_id="c1", queue="repair"))
    with pytest.raises(RoutingConflict):
        engine.handle(OfferAnswered(at=11, contact_id="nobody", agent_id="alice"))
    with pytest.raises(RoutingConflict):
        engine.handle(ContactQueued(at=11, contact_id="c1", queue="no-such-queue"))
    with pytest.raises(RoutingConflict):
        engine.handle(AgentLoggedIn(at=11, agent_id="stranger"))
    engine.handle(ContactQueued(at=12, contact_id="c1", queue="repair"))
    with pytest.raises(RoutingConflict):
        engine.handle(ContactQueued(at=12, contact_id="c1", queue="repair"))
    assert engine.contact_stage("c1") == "ringing"


def test_agent_configuration_can_arrive_at_login() -> None:
    engine = RoutingEngine(RoutingConfig(queues=(QueueConfig("chat", channel=Channel.CHAT),)))
    engine.handle(AgentLoggedIn(at=0, agent_id="zoe", config=AgentConfig("zoe")))
    result = engine.handle(ContactQueued(at=1, contact_id="c1", queue="chat"))
    assert offers(result) == [("c1", "zoe")]


def test_same_commands_give_the_same_log() -> None:
    from hotline.routing.model import Strategy

    def run() -> list[dict[str, object]]:
        queue = QueueConfig("q", strategy=Strategy.RANDOM, wrap_up_s=3)
        agents = tuple(AgentConfig(f"a{i}") for i in range(4))
        engine = RoutingEngine(RoutingConfig(queues=(queue,), agents=agents, seed=42))
        log: list[Event] = []
        for i in range(4):
            log += engine.handle(AgentLoggedIn(at=0, agent_id=f"a{i}")).events
        for i in range(12):
            result = engine.handle(ContactQueued(at=i, contact_id=f"c{i}", queue="q"))
            log += result.events
            for offer in [e for e in result.effects if isinstance(e, Offer)]:
                log += engine.handle(
                    OfferAnswered(at=i, contact_id=offer.contact_id, agent_id=offer.agent_id)
                ).events
            log += engine.handle(ContactEnded(at=i + 0.5, contact_id=f"c{i}")).events
        log += engine.advance(100).events
        return [e.as_dict() for e in log]

    first = run()
    assert first == run()
    assert len({e["agent_id"] for e in first if e["kind"] == "answered"}) > 1


def test_a_bad_requirement_in_a_command_is_a_conflict() -> None:
    engine = make_engine(AgentConfig("alice"))
    with pytest.raises(RoutingConflict, match="requirement"):
        engine.handle(ContactQueued(at=0, contact_id="c1", queue="repair", requirements=("x>9",)))
    assert engine.contacts() == []


def test_timers_ended_early_do_not_pile_up() -> None:
    # Long wrap-up timers that agents end early are cancelled; the heap is rebuilt once
    # cancelled timers dominate it, so memory stays bounded by the live timers.
    engine = make_engine(AgentConfig("alice"), wrap_up_s=3600)
    engine.handle(AgentLoggedIn(at=0, agent_id="alice"))
    for i in range(1000):
        engine.handle(ContactQueued(at=i, contact_id=f"c{i}", queue="repair"))
        engine.handle(OfferAnswered(at=i, contact_id=f"c{i}", agent_id="alice"))
        engine.handle(ContactEnded(at=i + 0.5, contact_id=f"c{i}"))
        engine.handle(WrapUpEnded(at=i + 0.6, agent_id="alice", contact_id=f"c{i}"))
    assert len(engine._timers) < 200
    assert engine.next_deadline() is None
