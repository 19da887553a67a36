"""Overflow and exits, business hours, callbacks that keep their place, transfers, consults."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from hotline.core.calendar import BusinessCalendar, parse_periods
from hotline.core.events import Channel, Event, EventKind
from hotline.routing.engine import Result, RoutingEngine, Segment
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReady,
    AnnouncePosition,
    CallbackRequested,
    ConnectConsult,
    ConsultEnded,
    ConsultStarted,
    ContactEnded,
    ContactQueued,
    MovedToQueue,
    Offer,
    OfferAnswered,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    PlayClosedMessage,
    QueueConfig,
    RouteToVoicemail,
    RoutingConfig,
    RoutingConflict,
    RoutingError,
    StartCallback,
    TransferredOut,
    TransferredToAgent,
    TransferredToQueue,
)

SHANGHAI = timezone(timedelta(hours=8))


def offers(result: Result) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in result.effects if isinstance(e, Offer)]


def outcomes(events: list[Event]) -> dict[str, str]:
    return {str(e.contact_id): e.data["outcome"] for e in events if e.kind is EventKind.FINISHED}


def test_overflow_after_a_wait_moves_to_another_queue_keeping_the_place() -> None:
    repair = QueueConfig(
        "repair",
        requirements=("repair",),
        overflow=(
            OverflowRule(OverflowCondition.WAIT_EXCEEDS, OverflowAction.QUEUE, 60, "general"),
        ),
    )
    general = QueueConfig("general")
    engine = RoutingEngine(RoutingConfig(queues=(repair, general), agents=(AgentConfig("gen"),)))
    engine.handle(AgentLoggedIn(at=0, agent_id="gen", ready=False, reason="meeting"))
    engine.handle(ContactQueued(at=0, contact_id="r1", queue="repair"))
    engine.handle(ContactQueued(at=30, contact_id="g1", queue="general"))
    result = engine.advance(60)
    assert MovedToQueue("r1", "repair", "general", "wait_exceeds") in result.effects
    overflowed = next(e for e in result.events if e.kind is EventKind.OVERFLOWED)
    assert (overflowed.queue, overflowed.data["to"]) == ("repair", "general")
    # r1 keeps its place from 0 s, so it is ahead of g1 who came at 30 s.
    assert engine.waiting_contacts("general") == ["r1", "g1"]


def test_queue_too_long_offers_a_callback_that_keeps_the_place() -> None:
    queue = QueueConfig(
        "q",
        overflow=(
            OverflowRule(OverflowCondition.QUEUE_LENGTH_EXCEEDS, OverflowAction.CALLBACK, 2),
        ),
    )
    engine = RoutingEngine(RoutingConfig(queues=(queue,), agents=(AgentConfig("ann"),)))
    log: list[Event] = []
    log += engine.handle(AgentLoggedIn(at=0, agent_id="ann", ready=False, reason="x")).events
    for i in range(3):
        log += engine.handle(ContactQueued(at=i, contact_id=f"c{i}", queue="q")).events
    assert outcomes(log) == {"c2": "callback"}
    assert engine.waiting_contacts("q") == ["c0", "c1", "c2:callback"]
    # A caller may also ask for a callback while waiting: the callback takes the same place.
    result = engine.handle(CallbackRequested(at=5, contact_id="c0"))
    assert StartCallback("c0", "c0:callback", "q") in result.effects
    assert engine.waiting_contacts("q") == ["c0:callback", "c1", "c2:callback"]
    result = engine.handle(AgentReady(at=6, agent_id="ann"))
    offer = next(e for e in result.effects if isinstance(e, Offer))
    assert (offer.contact_id, offer.channel, offer.kind) == (
        "c0:callback",
        Channel.CALLBACK,
        "callback",
    )


def test_no_agents_logged_in_sends_callers_to_voicemail() -> None:
    queue = QueueConfig(
        "q",
        overflow=(OverflowRule(OverflowCondition.NO_AGENTS_LOGGED_IN, OverflowAction.VOICEMAIL),),
    )
    engine = RoutingEngine(RoutingConfig(queues=(queue,), agents=(AgentConfig("ann"),)))
    result = engine.handle(ContactQueued(at=0, contact_id="c1", queue="q"))
    assert RouteToVoicemail("c1", "q") in result.effects
    assert outcomes(result.events) == {"c1": "overflowed"}
    assert EventKind.QUEUED not in [e.kind for e in result.events]
    # While someone is logged in callers wait; when the last agent leaves they go too.
    engine.handle(AgentLoggedIn(at=1, agent_id="ann", ready=False, reason="x"))
    engine.handle(ContactQueued(at=2, contact_id="c2", queue="q"))
    result = engine.handle(AgentLoggedOut(at=3, agent_id="ann"))
    assert RouteToVoicemail("c2", "q") in result.effects
    assert engine.contacts() == []


def week_calendar() -> BusinessCalendar:
    weekdays = {day: parse_periods("08:00-20:00") for day in range(5)}
    return BusinessCalendar(
        time_zone="Asia/Shanghai",  # UTC+8 all year, as SHANGHAI below
        weekly=weekdays,
        holidays={date(2026, 10, 1): (), date(2026, 10, 2): parse_periods("10:00-16:00")},
    )


def at_local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI).timestamp()


def test_business_hours_and_holidays() -> None:
    cal = week_calendar()
    assert cal.is_open(at_local(2026, 11, 23, 8, 0))  # Monday 08:00
    assert not cal.is_open(at_local(2026, 11, 23, 20, 0))  # closes at 20:00
    assert not cal.is_open(at_local(2026, 11, 22, 12, 0))  # Sunday
    assert not cal.is_open(at_local(2026, 10, 1, 12, 0))  # National Day, Thursday
    assert cal.is_open(at_local(2026, 10, 2, 12, 0))  # holiday hours 10-16
    assert not cal.is_open(at_local(2026, 10, 2, 9, 0))


def test_closed_queue_plays_the_closed_message_or_follows_its_rule() -> None:
    plain = QueueConfig("plain", calendar=week_calendar())
    with_rule = QueueConfig(
        "ruled",
        calendar=week_calendar(),
        overflow=(OverflowRule(OverflowCondition.CLOSED, OverflowAction.VOICEMAIL),),
    )
    engine = RoutingEngine(RoutingConfig(queues=(plain, with_rule), agents=(AgentConfig("a"),)))
    sunday = at_local(2026, 11, 22, 12, 0)
    result = engine.handle(ContactQueued(at=sunday, contact_id="c1", queue="plain"))
    assert PlayClosedMessage("c1", "plain") in result.effects
    assert outcomes(result.events) == {"c1": "closed"}
    result = engine.handle(ContactQueued(at=sunday + 1, contact_id="c2", queue="ruled"))
    assert RouteToVoicemail("c2", "ruled") in result.effects
    monday = at_local(2026, 11, 23, 9, 0)
    engine.handle(AgentLoggedIn(at=monday, agent_id="a"))
    result = engine.handle(ContactQueued(at=monday, contact_id="c3", queue="plain"))
    assert offers(result) == [("c3", "a")]


def test_overflow_rules_are_validated() -> None:
    with pytest.raises(RoutingError):
        QueueConfig(
            "q", overflow=(OverflowRule(OverflowCondition.WAIT_EXCEEDS, OverflowAction.QUEUE, 5),)
        )
    with pytest.raises(RoutingError):
        QueueConfig(
            "q", overflow=(OverflowRule(OverflowCondition.WAIT_EXCEEDS, OverflowAction.VOICEMAIL),)
        )
    bad_target = QueueConfig(
        "q",
        overflow=(OverflowRule(OverflowCondition.CLOSED, OverflowAction.QUEUE, None, "nowhere"),),
    )
    with pytest.raises(RoutingError):
        RoutingConfig(queues=(bad_target,))


def test_overflow_loops_stop() -> None:
    rule_to = lambda target: (  # noqa: E731
        OverflowRule(OverflowCondition.NO_AGENTS_LOGGED_IN, OverflowAction.QUEUE, None, target),
    )
    engine = RoutingEngine(
        RoutingConfig(
            queues=(
                QueueConfig("a", overflow=rule_to("b")),
                QueueConfig("b", overflow=rule_to("a")),
            )
        )
    )
    engine.handle(ContactQueued(at=0, contact_id="c1", queue="a"))
    assert engine.contact_stage("c1") == "waiting"


def test_position_announcements_repeat_while_waiting() -> None:
    queue = QueueConfig("q", announce_every_s=30, expected_handle_s=120)
    engine = RoutingEngine(
        RoutingConfig(queues=(queue,), agents=(AgentConfig("a"), AgentConfig("b")))
    )
    engine.handle(AgentLoggedIn(at=0, agent_id="a"))
    engine.handle(AgentLoggedIn(at=0, agent_id="b"))
    engine.handle(ContactQueued(at=0, contact_id="x", queue="q"))
    engine.handle(ContactQueued(at=0, contact_id="y", queue="q"))
    engine.handle(OfferAnswered(at=0.5, contact_id="x", agent_id="a"))
    engine.handle(OfferAnswered(at=0.5, contact_id="y", agent_id="b"))
    result = engine.handle(ContactQueued(at=1, contact_id="c1", queue="q"))
    assert AnnouncePosition("c1", "q", 1, 60.0) in result.effects  # 1 × 120 s ÷ 2 agents
    engine.handle(ContactQueued(at=2, contact_id="c2", queue="q"))
    result = engine.advance(32)
    announced = [e for e in result.effects if isinstance(e, AnnouncePosition)]
    assert [(a.contact_id, a.position) for a in announced] == [("c1", 1), ("c2", 2)]


def connected_pair() -> RoutingEngine:
    queues = (QueueConfig("sales", wrap_up_s=10), QueueConfig("repair", wrap_up_s=10))
    agents = (AgentConfig("ann"), AgentConfig("ben"), AgentConfig("cat"))
    engine = RoutingEngine(RoutingConfig(queues=queues, agents=agents))
    engine.handle(AgentLoggedIn(at=0, agent_id="ann"))
    engine.handle(ContactQueued(at=1, contact_id="c1", queue="sales"))
    engine.handle(OfferAnswered(at=2, contact_id="c1", agent_id="ann"))
    return engine


def test_transfer_to_a_queue_carries_history_and_finishes_once() -> None:
    engine = connected_pair()
    log: list[Event] = []
    result = engine.handle(
        TransferredToQueue(at=30, contact_id="c1", queue="repair", requirements=("repair",))
    )
    log += result.events
    assert MovedToQueue("c1", "sales", "repair", "transfer") in result.effects
    assert engine.contact_queue("c1") == "repair"
    assert engine.requirements("c1") is not None
    engine.handle(
        AgentLoggedIn(at=31, agent_id="ben", config=AgentConfig("ben", skills={"repair": 3}))
    )
    log += engine.handle(OfferAnswered(at=32, contact_id="c1", agent_id="ben")).events
    log += engine.handle(ContactEnded(at=60, contact_id="c1")).events
    log += engine.advance(100).events
    kinds = [
        (e.kind.value, e.agent_id, e.queue) for e in log if e.kind is not EventKind.AGENT_STATE
    ]
    assert kinds == [
        ("transferred", "ann", "sales"),
        ("queued", None, "repair"),
        ("answered", "ben", "repair"),
        ("wrap_up_ended", "ann", "sales"),  # at 40: ann's wrap-up runs on after the handover
        ("disconnected", "ben", "repair"),
        ("wrap_up_ended", "ben", "repair"),
        ("finished", None, "repair"),
    ]
    assert outcomes(log) == {"c1": "answered"}


def test_history_travels_with_transfers() -> None:
    engine = connected_pair()
    engine.handle(AgentLoggedIn(at=3, agent_id="cat"))
    engine.handle(TransferredToQueue(at=10, contact_id="c1", queue="repair"))
    engine.handle(OfferAnswered(at=11, contact_id="c1", agent_id="cat"))
    engine.handle(AgentLoggedIn(at=12, agent_id="ben"))
    engine.handle(ConsultStarted(at=13, contact_id="c1", agent_id="ben"))
    engine.handle(ConsultEnded(at=14, contact_id="c1", transfer=True))
    assert engine.contact_history("c1") == [
        Segment("sales", "ann", 2),
        Segment("repair", "cat", 11),
        Segment("repair", "ben", 14),
    ]


def test_transfer_to_an_agent_rings_them_and_falls_back_to_the_queue() -> None:
    engine = connected_pair()
    with pytest.raises(RoutingConflict):
        engine.handle(TransferredToAgent(at=10, contact_id="c1", agent_id="ben"))  # logged out
    engine.handle(AgentLoggedIn(at=10, agent_id="ben"))
    result = engine.handle(TransferredToAgent(at=11, contact_id="c1", agent_id="ben"))
    offer = next(e for e in result.effects if isinstance(e, Offer))
    assert (offer.agent_id, offer.kind) == ("ben", "transfer")
    result = engine.advance(31)  # ben lets it ring out; c1 goes back to sales
    assert engine.contact_queue("c1") == "sales"
    assert engine.agent_reason("ben") == "ring_no_answer"


def test_transfer_out_to_a_number_wraps_the_agent_up_and_finishes_once_answered() -> None:
    engine = connected_pair()
    engine.handle(AgentLoggedIn(at=3, agent_id="cat"))
    engine.handle(ConsultStarted(at=5, contact_id="c1", agent_id="cat"))
    result = engine.handle(TransferredOut(at=10, contact_id="c1", number="13900001111"))
    log = result.events
    [transferred] = [e for e in log if e.kind is EventKind.TRANSFERRED]
    assert (transferred.agent_id, transferred.queue) == ("ann", "sales")
    assert dict(transferred.data) == {"to": "number", "number": "13900001111"}
    assert engine.agent_contacts("ann") == {"c1": "wrap_up"}
    assert engine.agent_contacts("cat") == {}  # the open consult ended with it
    with pytest.raises(RoutingConflict):  # it left the center: nothing more to hand on
        engine.handle(TransferredOut(at=11, contact_id="c1", number="13900001111"))
    assert offers(engine.handle(ContactQueued(at=12, contact_id="c2", queue="sales"))) == [
        ("c2", "cat")
    ]
    log += engine.advance(21).events  # ann's 10 s of wrap-up
    assert outcomes(log) == {"c1": "answered"}
    assert [e.kind for e in log].count(EventKind.FINISHED) == 1


def test_consult_then_warm_transfer() -> None:
    engine = connected_pair()
    engine.handle(AgentLoggedIn(at=3, agent_id="cat"))
    result = engine.handle(ConsultStarted(at=10, contact_id="c1", agent_id="cat"))
    assert ConnectConsult("c1", "cat") in result.effects
    assert engine.agent_contacts("cat") == {"c1": "consult"}
    # cat is busy while consulting: a new contact is not offered to cat.
    assert offers(engine.handle(ContactQueued(at=11, contact_id="c2", queue="sales"))) == []
    result = engine.handle(ConsultEnded(at=20, contact_id="c1", transfer=True))
    assert engine.agent_contacts("cat") == {"c1": "talking"}
    assert engine.agent_contacts("ann") == {"c1": "wrap_up"}
    log = result.events
    log += engine.handle(ContactEnded(at=50, contact_id="c1")).events
    log += engine.advance(60).events
    assert outcomes(log) == {"c1": "answered"}


def test_consult_without_transfer_frees_the_consulted_agent() -> None:
    engine = connected_pair()
    engine.handle(AgentLoggedIn(at=3, agent_id="cat"))
    engine.handle(ConsultStarted(at=10, contact_id="c1", agent_id="cat"))
    engine.handle(ContactQueued(at=11, contact_id="c2", queue="sales"))
    result = engine.handle(ConsultEnded(at=20, contact_id="c1"))
    assert offers(result) == [("c2", "cat")]


def test_a_callback_waiting_past_the_callback_rule_is_not_called_back_again() -> None:
    """The rule "wait exceeds 60 s → callback" releases a caller once; the callback that
    keeps their place waits on, and is never replaced by a callback of itself."""
    from hotline.routing.model import (
        AgentConfig,
        ContactQueued,
        OverflowAction,
        OverflowCondition,
        OverflowRule,
        QueueConfig,
        RoutingConfig,
    )

    offer_callback = OverflowRule(
        OverflowCondition.WAIT_EXCEEDS, OverflowAction.CALLBACK, 60, "repair"
    )
    engine = RoutingEngine(
        RoutingConfig(
            queues=(QueueConfig("repair", overflow=(offer_callback,)),),
            agents=(AgentConfig("a1"),),
        )
    )
    engine.handle(ContactQueued(at=0.0, contact_id="c1", queue="repair"))
    kinds = [e.kind.value for e in engine.advance(60.0).events]
    assert kinds.count("callback_requested") == 1
    later = engine.advance(600.0)
    assert [e.kind.value for e in later.events if e.kind.value == "callback_requested"] == []
    assert engine.waiting_contacts("repair") == ["c1:callback"]
