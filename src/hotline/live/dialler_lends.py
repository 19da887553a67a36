"""The partition owner's side of campaigns dialled by voice nodes: which agents it lends.

A voice node's dialler (:mod:`hotline.telephony.node_dialler`) paces its campaigns and places
the calls, but the agents are the owner's: only its engine knows whether an agent is idle,
wanted by a waiting caller or part of a queue's outbound reserve. So the node *asks*
(``dialler_lend`` inbox rows) and the owner's engine decides, in one engine job:

* **lend**: when :meth:`RoutingEngine.may_lend` says so and the agent is lent to no node, the
  agent goes not ready ``outbound`` (as the one-process dialler holds them) and the logged
  ``agent_state`` says to which node run (``lent_to``, ``voice_node``): that node's dialler
  takes them when it reads it. Two nodes asking for one agent: the first row wins, the
  second finds them lent (or not idle) and nothing is logged for it.
* **return** (``dialler_return``): the agent ready again (or not ready ``phone_unregistered``
  when no node has their phone), only if they are still held for that node.
* **a lost node**: every agent lent to it is made ready again (:meth:`DiallerLends.lost_job`),
  and the records its calls held are kept as ``failed`` attempts
  (:func:`give_back_records`: the retry rules bring them back; none stays held for good).

The map of lends is the engine's own state written down: a new owner seeds it from the log
(:meth:`DiallerLends.seed`: each agent held ``outbound`` and the last ``lent_to`` logged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns import service as campaigns
from hotline.core.events import Event, EventKind
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import AgentNotReady, AgentReady, AgentState, RoutingConflict
from hotline.store import event_log, voice_nodes
from hotline.store.db import reading, writing

log = logging.getLogger(__name__)

#: The not-ready reason of an agent held for a campaign (the dialler's ``HOLD_REASON``).
LENT_REASON = "outbound"
#: The inbox kinds of a voice node's dialler.
LEND, RETURN = "dialler_lend", "dialler_return"
#: The not-ready reason of an agent with no phone registered anywhere (``live.phones``).
NO_PHONE = "phone_unregistered"

Job = Callable[[RoutingEngine, float], tuple[None, Result]]


def holder_prefix(node_id: str) -> str:
    """Who holds the records a voice node run's calls dial (``prefix:contact``).

    >>> holder_prefix("0f3a")
    'dialler:0f3a'
    """
    return f"dialler:{node_id}"


def _held_outbound(engine: RoutingEngine, agent_id: str) -> bool:
    return (
        engine.agent_state(agent_id) is AgentState.NOT_READY
        and engine.agent_reason(agent_id) == LENT_REASON
    )


def _stamped(result: Result, agent_id: str, stamp: Mapping[str, Any]) -> Result:
    """``result`` with the agent's ``agent_state`` events saying to whom they are lent."""
    events = [
        Event(
            e.seq,
            e.at,
            e.kind,
            e.contact_id,
            e.agent_id,
            e.queue,
            e.channel,
            {**e.data, **stamp},
        )
        if e.kind is EventKind.AGENT_STATE and e.agent_id == agent_id
        else e
        for e in result.events
    ]
    return Result(list(result.effects), events)


class DiallerLends:
    """The agents the owner's engine lent to voice nodes' diallers: agent → node run."""

    def __init__(self) -> None:
        self.to: dict[str, str] = {}

    def lend_job(self, payload: Mapping[str, Any]) -> Job:
        """The engine job of a ``dialler_lend`` row (``agent_id``, ``node_id``, ``voice_node``)."""
        agent_id, node_id = str(payload["agent_id"]), str(payload["node_id"])
        stamp = {"lent_to": node_id, "voice_node": payload.get("voice_node")}
        if payload.get("campaign") is not None:
            stamp["campaign"] = payload["campaign"]

        def job(engine: RoutingEngine, now: float) -> tuple[None, Result]:
            if agent_id in self.to or not engine.may_lend(agent_id):
                return None, Result()  # lent already (another node's row came first), or busy
            try:
                result = engine.handle(AgentNotReady(at=now, agent_id=agent_id, reason=LENT_REASON))
            except RoutingConflict as conflict:
                log.info("dialler lend of %s refused: %s", agent_id, conflict)
                return None, Result()
            self.to[agent_id] = node_id
            return None, _stamped(result, agent_id, stamp)

        return job

    def return_job(self, payload: Mapping[str, Any], *, phone: Callable[[str], bool]) -> Job:
        """The engine job of a ``dialler_return`` row: ready again, if still lent to that node
        (``phone(agent)``: whether any node has a phone of theirs, as the owner heard)."""
        agent_id, node_id = str(payload["agent_id"]), str(payload["node_id"])

        def job(engine: RoutingEngine, now: float) -> tuple[None, Result]:
            if self.to.get(agent_id) != node_id:
                return None, Result()
            del self.to[agent_id]
            return None, self._release(engine, agent_id, now, phone=phone(agent_id))

        return job

    def lost_job(self, node_id: str, *, phone: Callable[[str], bool]) -> Job:
        """The engine job freeing every agent lent to a lost node run."""

        def job(engine: RoutingEngine, now: float) -> tuple[None, Result]:
            merged = Result()
            for agent_id in sorted(a for a, n in self.to.items() if n == node_id):
                del self.to[agent_id]
                result = self._release(engine, agent_id, now, phone=phone(agent_id))
                merged.effects.extend(result.effects)
                merged.events.extend(result.events)
            return None, merged

        return job

    @staticmethod
    def _release(engine: RoutingEngine, agent_id: str, now: float, *, phone: bool) -> Result:
        if not _held_outbound(engine, agent_id):
            return Result()  # signed out, on a break meanwhile: theirs, not the dialler's
        command: AgentReady | AgentNotReady = (
            AgentReady(at=now, agent_id=agent_id)
            if phone
            else AgentNotReady(at=now, agent_id=agent_id, reason=NO_PHONE)
        )
        try:
            return engine.handle(command)
        except RoutingConflict as conflict:
            log.info("dialler return of %s refused: %s", agent_id, conflict)
            return Result()

    @staticmethod
    def held_job(engine: RoutingEngine, now: float) -> tuple[list[str], Result]:
        """The engine job naming the agents held ``outbound`` (a new owner's :meth:`seed`)."""
        return [a for a in engine.agents() if _held_outbound(engine, a)], Result()

    def seed(self, session_factory: sessionmaker[Session], held: list[str]) -> None:
        """A new owner: each of the agents its engine holds ``outbound`` (:meth:`held_job`)
        lent to the node run the log last named (blocking: a worker thread)."""
        if not held:
            return
        with reading(session_factory(), purpose="the dialler's lends") as session:
            for agent_id in held:
                event = event_log.latest_agent_event(session, agent_id)
                if event is not None and event.data.get("lent_to"):
                    self.to.setdefault(agent_id, str(event.data["lent_to"]))


def give_back_records(session_factory: sessionmaker[Session], node_id: str) -> list[int]:
    """The records a lost node run's calls held, kept as ``failed`` attempts (blocking)."""
    with writing(session_factory()) as session:
        done = campaigns.interrupt_held(
            session, holder_prefix=holder_prefix(node_id), now=datetime.now(UTC)
        )
        session.commit()
    if done:
        log.warning("voice node %s lost: records %s kept as failed attempts", node_id, done)
    return done


def give_back_lost_records(session_factory: sessionmaker[Session]) -> list[int]:
    """Every record still held by a call of a node run already declared lost (an owner that
    died between writing a loss and :func:`give_back_records`): kept as ``failed`` attempts
    (blocking; a new owner runs it once)."""
    with reading(session_factory(), purpose="records held by lost voice nodes") as session:
        holders = campaigns.dialler_holders(session, prefix="dialler:")
        # dialler:<run>:<contact> (the one-process dialler's dialler:<contact> names no run)
        runs = {h.split(":")[1] for h in holders if h.count(":") == 2}
        lost = voice_nodes.lost_among(session, runs)
    return [
        record for node_id in sorted(lost) for record in give_back_records(session_factory, node_id)
    ]
