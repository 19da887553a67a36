"""The log's fold shows the floor the routing engine shows: a web node's board and desks.

A seeded random walk drives the real engine (agents signing in, going ready and on breaks,
contacts queued, offered, answered, declined, left ringing, held, transferred to a queue or
an agent, consulted, hung up, wrapped up, abandoned) and feeds only its *events* to a
:class:`LogFloor` and a :class:`LogBoard`; after every step, what the web node would show —
each agent's state, reason and contacts with their stage, each queue's waiting count,
longest wait and agents, the wallboard's queue and agent rows, each desk's ringing offer —
must be the engine's.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

import pytest

from hotline.config.validate import load_center
from hotline.live.desk_state import DeskState
from hotline.live.log_board import LogBoard
from hotline.live.wallboard import Wallboard
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    Command,
    ConsultEnded,
    ConsultStarted,
    ContactAbandoned,
    ContactEnded,
    ContactHeld,
    ContactQueued,
    ContactResumed,
    OfferAnswered,
    OfferRejected,
    RoutingConflict,
    TransferredToAgent,
    TransferredToQueue,
    WrapUpEnded,
)
from tests.integration.live.conftest import SAMPLE

AGENTS = ("a001", "a002", "a003", "a004", "a011", "a012")
QUEUES = ("installation", "repair", "vip", "chat")


def _agents_rows(board: dict[str, Any]) -> list[dict[str, Any]]:
    # A break taken with a contact in hand is the engine's until the contact is done (the
    # log shows the agent's state, not their intent): reasons compared for not-ready agents.
    return [
        {k: a[k] for k in a if k not in ("since", "reason")}
        | {"reason": a["reason"] if a["state"] == "not_ready" else None}
        for a in board["agents"]
    ]


def _queue_rows(board: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("id", "waiting", "longest_wait_s", "agents_logged_in", "agents_by_state", "status")
    rows = [{k: q[k] for k in keys} for q in board["queues"]]
    for row, queue in zip(rows, board["queues"], strict=True):
        # An agent with a chat and room for more is available to the engine; the log shows
        # them on a contact (the documented difference): compared on calls only.
        if queue["channel"] == "voice":
            row["agents_available"] = queue["agents_available"]
    return rows


def _step(engine: RoutingEngine, rng: random.Random, now: float, n: int) -> Command:
    """A command that fits (mostly) what the engine shows now."""
    busy = [a for a in AGENTS if engine.agent_contacts(a)]
    agent = rng.choice(busy if busy and rng.random() < 0.7 else AGENTS)
    held = engine.agent_contacts(agent)
    choice = rng.random()
    if engine.agent_state(agent).value == "logged_out":
        return AgentLoggedIn(at=now, agent_id=agent, ready=rng.random() < 0.8, reason="break")
    ringing = [c for c, s in held.items() if s == "ringing"]
    talking = [c for c, s in held.items() if s == "talking"]
    wrapping = [c for c, s in held.items() if s == "wrap_up"]
    if ringing and choice < 0.6:
        contact = ringing[0]
        if rng.random() < 0.75:
            return OfferAnswered(at=now, contact_id=contact, agent_id=agent)
        return OfferRejected(at=now, contact_id=contact, agent_id=agent)
    if talking and choice < 0.7:
        contact = talking[0]
        pick = rng.random()
        if pick < 0.15:
            return ContactHeld(at=now, contact_id=contact)
        if pick < 0.25:
            return ContactResumed(at=now, contact_id=contact)
        if pick < 0.35:
            return TransferredToQueue(at=now, contact_id=contact, queue=rng.choice(QUEUES[:2]))
        free = [a for a in AGENTS if engine.agent_state(a).value == "available"] or AGENTS
        if pick < 0.45:
            return TransferredToAgent(at=now, contact_id=contact, agent_id=rng.choice(free))
        if pick < 0.6:
            return ConsultStarted(at=now, contact_id=contact, agent_id=rng.choice(free))
        if pick < 0.75:
            return ConsultEnded(at=now, contact_id=contact, transfer=rng.random() < 0.5)
        return ContactEnded(at=now, contact_id=contact)
    if wrapping and choice < 0.8:
        return WrapUpEnded(at=now, agent_id=agent, contact_id=wrapping[0], disposition="resolved")
    pick = rng.random()
    if pick < 0.35:
        return ContactQueued(
            at=now, contact_id=f"c{n}", queue=rng.choice(QUEUES), customer=f"1380000{n:04d}"
        )
    if pick < 0.45:
        return ContactAbandoned(at=now, contact_id=f"c{rng.randrange(max(n, 1))}")
    if pick < 0.6:
        return AgentNotReady(at=now, agent_id=agent, reason=rng.choice(["break", "lunch"]))
    if pick < 0.9:
        return AgentReady(at=now, agent_id=agent)
    return AgentLoggedOut(at=now, agent_id=agent)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_log_fold_shows_what_the_engine_shows(seed: int) -> None:
    center = load_center(SAMPLE)
    engine = RoutingEngine(routing_config_from_center(center, honour_hours=False))
    owner_board, owner_desk = Wallboard(center), DeskState()
    web = LogBoard(center)
    rng = random.Random(seed)
    now, seq, contacts = 1000.0, 0, 0

    def after(result: Result) -> None:
        """What the live driver does with a step (``LiveDriver._after``), and the log tail."""
        nonlocal seq
        owner_desk.apply_effects(result.effects, now=now)
        numbered = [event.renumbered(seq + 1 + i) for i, event in enumerate(result.events)]
        seq += len(numbered)
        owner_board.record(numbered)
        for event in numbered:
            owner_desk.remember(event, engine=engine)
        web.record(numbered)

    for n in range(400):
        now += rng.choice([0.5, 1.0, 3.0, 25.0])  # now and then past a ring timeout
        after(engine.advance(now))
        command = _step(engine, rng, now, contacts)
        contacts += isinstance(command, ContactQueued)
        with contextlib.suppress(RoutingConflict):  # a walk's misstep: the engine refuses it
            after(engine.handle(command))

        web.floor.now = now
        for queue in QUEUES:
            mine_, truth_ = web.floor.queue_snapshot(queue), engine.queue_snapshot(queue)
            assert (mine_.waiting, mine_.longest_wait_s, mine_.agents_logged_in) == (
                truth_.waiting,
                truth_.longest_wait_s,
                truth_.agents_logged_in,
            ), (seed, n, command, queue)
        if n % 20 == 0:  # the whole board (its figures cost a few milliseconds to draw)
            mine, theirs = web.snapshot(now), owner_board.snapshot(engine, now)
            assert _queue_rows(mine) == _queue_rows(theirs), (seed, n, command)
            assert _agents_rows(mine) == _agents_rows(theirs), (seed, n, command)
        for agent in AGENTS:
            desk = web.agent_view(agent, now)
            truth = owner_desk.agent_view(engine, agent, now, since=None)
            assert desk["state"] == truth["state"]
            if truth["state"] == "not_ready":
                assert desk["reason"] == truth["reason"]
            assert [_contact(c) for c in desk["contacts"]] == [
                _contact(c) for c in truth["contacts"]
            ], (seed, n, command)
            assert _offer(desk["offer"]) == _ringing_offer(truth["offer"], engine, agent), (
                seed,
                n,
                command,
                agent,
            )
    assert web.position == seq


def _contact(contact: dict[str, Any]) -> tuple[Any, ...]:
    return contact["contact_id"], contact["stage"], contact["queue"], contact["on_hold"]


def _offer(offer: dict[str, Any] | None) -> dict[str, Any] | None:
    return offer and {k: offer[k] for k in ("contact_id", "queue", "kind", "channel")}


def _ringing_offer(
    offer: dict[str, Any] | None, engine: RoutingEngine, agent: str
) -> dict[str, Any] | None:
    """The owner's desk offer while the engine has it ringing (a declined offer lingers in
    the owner's desk state until the next: the engine cancels nothing the desk declined)."""
    if offer is None or engine.agent_contacts(agent).get(offer["contact_id"]) != "ringing":
        return None
    return _offer(offer)
