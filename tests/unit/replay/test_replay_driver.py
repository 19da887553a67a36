"""The replay driver: command logs and historical contacts fed again through the real engine."""

from __future__ import annotations

import doctest

import pytest

from hotline.core.events import Channel, EventKind
from hotline.replay import driver
from hotline.replay.driver import TraceContact, TraceReplay, replay
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    ContactQueued,
    QueueConfig,
    RoutingConfig,
)


def test_docstring_examples() -> None:
    assert doctest.testmod(driver).failed == 0


def test_replay_runs_every_timer_to_the_end() -> None:
    engine = RoutingEngine(RoutingConfig(queues=(QueueConfig("q"),), agents=(AgentConfig("a"),)))
    log = replay(
        engine,
        [
            AgentLoggedIn(at=0, agent_id="a"),
            ContactQueued(at=1, contact_id="c1", queue="q"),
        ],
    )
    assert [e.kind.value for e in log if e.contact_id] == [
        "arrived",
        "queued",
        "offered",
        "ring_no_answer",
    ]


def test_replay_stops_even_when_announcements_would_go_on_for_ever() -> None:
    queue = QueueConfig("q", announce_every_s=60)
    engine = RoutingEngine(RoutingConfig(queues=(queue,)))
    log = replay(engine, [ContactQueued(at=0, contact_id="c1", queue="q")], settle_s=600)
    announced = [e.at for e in log if e.kind is EventKind.POSITION_ANNOUNCED]
    assert announced == [0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600]


TRACE = (
    TraceContact(at=100.0, queue="repair", channel=Channel.VOICE, handle_s=240.0, waited_s=30.0,
                 abandoned=False, priority=2),
    TraceContact(at=160.0, queue="sales", channel=Channel.CHAT, handle_s=None, waited_s=45.0,
                 abandoned=True),
)  # fmt: skip


def test_a_recorded_contact_comes_back_as_the_command_the_live_server_would_send() -> None:
    replayed = TraceReplay(TRACE)
    assert len(replayed) == 2 and [replayed.at(i) for i in range(2)] == [100.0, 160.0]
    first = replayed.arrival(
        0, "r0-c1", handle=lambda q: pytest.fail("drawn"), beyond=lambda q, w: w
    )
    assert first.command == ContactQueued(
        at=100.0, contact_id="r0-c1", queue="repair", channel=Channel.VOICE, priority=2
    )
    assert first.handle_s == 240.0  # the real handle time


def test_patience_is_the_real_wait_of_an_abandon_and_longer_than_an_answered_wait() -> None:
    asked: list[tuple[str, float]] = []

    def beyond(queue: str, waited: float) -> float:
        asked.append((queue, waited))
        return waited + 77.0

    replayed = TraceReplay(TRACE)
    answered = replayed.arrival(0, "a", handle=lambda q: 0.0, beyond=beyond)
    abandoned = replayed.arrival(1, "b", handle=lambda q: 0.0, beyond=beyond)
    assert answered.patience_s == 107.0  # censored at 30 s: drawn beyond it
    assert abandoned.patience_s == 45.0  # gave up after 45 s: exactly that
    assert asked == [("repair", 30.0)]


def test_a_contact_never_answered_gets_a_handle_time_of_its_queue_drawn_first() -> None:
    order: list[str] = []

    def handle(queue: str) -> float:
        order.append(f"handle:{queue}")
        return 321.0

    def beyond(queue: str, waited: float) -> float:
        order.append(f"patience:{queue}")
        return waited

    never_answered = TraceContact(0.0, "sales", Channel.VOICE, None, 10.0, abandoned=False)
    arrival = TraceReplay([never_answered]).arrival(0, "c", handle=handle, beyond=beyond)
    assert arrival.handle_s == 321.0
    # The handle time is drawn before the patience, so the random streams repeat run to run.
    assert order == ["handle:sales", "patience:sales"]


def test_a_replayed_trace_goes_through_the_real_engine() -> None:
    # Nobody is logged in: the engine queues every replayed contact at its recorded time.
    engine = RoutingEngine(RoutingConfig(queues=(QueueConfig("repair"), QueueConfig("sales"))))
    replayed = TraceReplay(TRACE)
    commands = [
        replayed.arrival(i, f"c{i}", handle=lambda q: 1.0, beyond=lambda q, w: w).command
        for i in range(len(replayed))
    ]
    log = replay(engine, commands)
    queued = [(e.at, e.contact_id, e.queue, e.channel) for e in log if e.kind is EventKind.QUEUED]
    assert queued == [(100.0, "c0", "repair", Channel.VOICE), (160.0, "c1", "sales", Channel.CHAT)]
