"""Auto-answer: the engine answering offers itself logs what a driver answering at once would.

Two engines get the same random commands (the property tests' configuration: voice and chat,
ageing, transfers, consults, callbacks). One has ``auto_answer`` off and a driver that answers
every ``Offer`` it is handed straight away, in order, the answers' own offers joining the end
of the line; the other has ``auto_answer`` on. Their event logs, refusals and states must be
the same throughout.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.core.events import Event, EventKind
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    CallbackRequested,
    Command,
    ConsultEnded,
    ConsultStarted,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    Offer,
    OfferAnswered,
    RoutingConflict,
    TransferredToAgent,
    TransferredToQueue,
    WrapUpEnded,
)

from .test_routing_properties import AGENTS, CONFIG, EXTRAS, QUEUES, operation, pick


class Pair:
    """The same commands to a driver-answered engine and an auto-answering one."""

    def __init__(self) -> None:
        self.driven = RoutingEngine(CONFIG)
        self.auto = RoutingEngine(replace(CONFIG, auto_answer=True))
        self.driven_log: list[Event] = []
        self.auto_log: list[Event] = []
        self.offers = 0

    def _answer_all(self, result: Result) -> None:
        """What a driver with no answer delay does with one call's effects."""
        self.driven_log.extend(result.events)
        effects = list(result.effects)
        index = 0
        while index < len(effects):
            effect = effects[index]
            index += 1
            if isinstance(effect, Offer):
                self.offers += 1
                answered = self.driven.handle(
                    OfferAnswered(self.driven.now, effect.contact_id, effect.agent_id)
                )
                self.driven_log.extend(answered.events)
                effects.extend(answered.effects)

    def advance(self, now: float) -> None:
        """Fire timers one instant at a time, answering in between (as the simulator does)."""
        while True:
            deadline = self.driven.next_deadline()
            assert deadline == self.auto.next_deadline()
            if deadline is None or deadline > now:
                break
            self._step(deadline)
        self._step(now)

    def _step(self, now: float) -> None:
        self._answer_all(self.driven.advance(now))
        self.auto_log.extend(self.auto.advance(now).events)
        self.check()

    def attempt(self, command: Command) -> None:
        self.advance(command.at)
        refused: list[bool] = []
        for engine in (self.driven, self.auto):
            try:
                result = engine.handle(command)
            except RoutingConflict:
                refused.append(True)
                continue
            refused.append(False)
            if engine is self.driven:
                self._answer_all(result)
            else:
                self.auto_log.extend(result.events)
        assert refused[0] == refused[1], command
        self.check()

    def check(self) -> None:
        assert [e.as_dict() for e in self.auto_log] == [e.as_dict() for e in self.driven_log]
        assert self.auto.contacts() == self.driven.contacts()
        for agent in AGENTS:
            assert self.auto.agent_state(agent.id) == self.driven.agent_state(agent.id)
            assert self.auto.agent_contacts(agent.id) == self.driven.agent_contacts(agent.id)


def run(ops: list[tuple[int, int, int, float]]) -> Pair:
    pair = Pair()
    engine = pair.auto
    now = 0.0
    serial = 0

    def stage(name: str) -> list[str]:
        return [c for c in engine.contacts() if engine.contact_stage(c) == name]

    for op, k, j, dt in ops:
        now += dt
        agent = AGENTS[k % len(AGENTS)].id
        command: Any = None
        if op == 0:
            serial += 1
            requirements, language = EXTRAS[j % len(EXTRAS)]
            command = ContactQueued(
                at=now,
                contact_id=f"c{serial}",
                queue=QUEUES[k % len(QUEUES)].id,
                priority=j % 2,
                requirements=requirements,
                language=language,
            )
        elif op == 1:
            command = AgentLoggedIn(at=now, agent_id=agent, ready=j % 3 != 0, reason="login")
        elif op == 2:
            command = AgentLoggedOut(at=now, agent_id=agent)
        elif op == 3:
            command = AgentReady(at=now, agent_id=agent)
        elif op == 4:
            command = AgentNotReady(at=now, agent_id=agent, reason="break")
        elif op in (5, 6, 7):
            c = pick(stage("waiting") + stage("connected"), k)
            if c is not None:
                command = ContactAbandoned(at=now, contact_id=c)
        elif op == 8:
            c = pick(stage("connected"), k)
            if c is not None:
                command = ContactEnded(at=now, contact_id=c)
        elif op == 9:
            wraps = [
                (a.id, c)
                for a in AGENTS
                for c, s in engine.agent_contacts(a.id).items()
                if s == "wrap_up"
            ]
            if wraps:
                a, c = wraps[k % len(wraps)]
                command = WrapUpEnded(at=now, agent_id=a, contact_id=c)
        elif op == 10:
            c = pick(stage("connected"), k)
            if c is not None:
                command = TransferredToQueue(at=now, contact_id=c, queue=QUEUES[j % len(QUEUES)].id)
        elif op == 11:
            c = pick(stage("connected"), k)
            if c is not None:
                command = TransferredToAgent(at=now, contact_id=c, agent_id=agent)
        elif op == 12:
            c = pick(stage("connected"), k)
            if c is not None:
                pair.attempt(ConsultStarted(at=now, contact_id=c, agent_id=agent))
                now += 1
                command = ConsultEnded(at=now, contact_id=c, transfer=j % 2 == 0)
        elif op == 13:
            c = pick(stage("waiting"), k)
            if c is not None:
                command = CallbackRequested(at=now, contact_id=c)
        if command is None:
            pair.advance(now)
        else:
            pair.attempt(command)
    pair.advance(now + 3600)
    return pair


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=20, max_size=150))
def test_auto_answer_logs_what_a_driver_answering_at_once_would(
    ops: list[tuple[int, int, int, float]],
) -> None:
    run(ops)


def test_a_busy_fixed_sequence_answers_many_offers_the_same_way() -> None:
    ops = [(op, k, j, dt) for op, k, j, dt in _busy_sequence()]
    pair = run(ops)
    assert pair.offers > 20
    kinds = [e.kind for e in pair.auto_log]
    assert kinds.count(EventKind.ANSWERED) == pair.offers
    assert pair.auto.next_deadline() is None or not any(
        pair.auto.agent_contacts(a.id) for a in AGENTS
    )


def _busy_sequence() -> list[tuple[int, int, int, float]]:
    """Everyone logs in, then contacts arrive and end in a fixed rhythm."""
    ops = [(1, k, 1, 0.0) for k in range(len(AGENTS))]
    for step in range(120):
        ops.append((0, step, step, 1.0))
        ops.append((8, step * 7, 0, 3.0))
        if step % 5 == 0:
            ops.append((9, step, 0, 1.0))
        if step % 11 == 0:
            ops.append((10, step, step, 1.0))
        if step % 13 == 0:
            ops.append((12, step, step, 1.0))
    return ops
