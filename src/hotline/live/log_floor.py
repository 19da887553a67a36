"""The floor as the event log shows it: a web node's wallboard and desks without the engine.

A web node (``hotline serve --web-only``) has no routing engine in process; the partition's
owner writes every agent state change and every step of every contact to the log. The
wallboard (:class:`hotline.live.wallboard.Wallboard`) and the desk view
(:meth:`hotline.live.desk_state.DeskState.agent_view`) read the floor through a handful of
questions — an agent's state and reason, the contacts an agent holds and at which stage, a
queue's members and how many wait and for how long — which :class:`FloorView` names. The
routing engine answers them on the owner; :class:`LogFloor` answers them on a web node from
the owner's *committed* events, folded one by one as the log tail reads them, so both nodes
draw the same board from the same rules.

It differs from :func:`hotline.live.takeover.fold`, which rebuilds what a *new owner*
resumes: there a ringing contact waits again (its offer died with the old owner), here it
rings at its agent, as the owner's desks show it. What the log does not carry is not shown:
an agent with a free slot of a multi-contact channel counts as available only while the
log shows them ``available``. The call backs promised and not yet fired are folded from
their ``callback_promised`` events (:class:`hotline.live.callbacks.Promises`). The crisis
switch is logged (``crisis`` events) and shown by
:class:`hotline.live.log_board.LogBoard`.

>>> from hotline.core.events import Event, EventKind
>>> floor = LogFloor({"q": ["a1", "a2"]})
>>> floor.record(Event(1, 1.0, EventKind.AGENT_STATE, agent_id="a1", data={"state": "available"}))
>>> floor.record(Event(2, 2.0, EventKind.QUEUED, "c1", queue="q"))
>>> floor.now = 7.0
>>> snap = floor.queue_snapshot("q")
>>> snap.waiting, snap.longest_wait_s, snap.agents_logged_in, snap.agents_available
(1, 5.0, 1, 1)
>>> floor.record(Event(3, 8.0, EventKind.OFFERED, "c1", agent_id="a1", queue="q"))
>>> floor.agent_contacts("a1"), floor.queue_snapshot("q").waiting
({'c1': 'ringing'}, 0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.core.events import Event, EventKind
from hotline.live.promises import Promises
from hotline.routing.model import AgentState


class QueueCounts(Protocol):
    """A queue now, as the wallboard's tile reads it."""

    @property
    def waiting(self) -> int:
        """Contacts waiting in the queue."""

    @property
    def longest_wait_s(self) -> float:
        """The longest current wait."""

    @property
    def agents_logged_in(self) -> int:
        """Members signed in."""

    @property
    def agents_available(self) -> int:
        """Members who could take a contact now."""


class FloorView(Protocol):
    """What boards and desks read of the floor: the routing engine, or :class:`LogFloor`."""

    def agent_state(self, agent_id: str) -> AgentState:
        """The agent's state (``logged_out`` for one not signed in)."""

    def agent_reason(self, agent_id: str) -> str | None:
        """The not-ready reason code, when not ready."""

    def agent_contacts(self, agent_id: str) -> dict[str, str]:
        """The contacts the agent holds → ringing, talking, wrap_up or consult."""

    def contact_queue(self, contact_id: str) -> str | None:
        """The queue the contact is (or was last) in."""

    def queue_members(self, queue_id: str) -> list[str]:
        """The agents who serve the queue."""

    def queue_snapshot(self, queue_id: str) -> QueueCounts:
        """Waiting contacts, longest wait and agents of one queue, now."""


@dataclass(frozen=True)
class QueueNow:
    """A queue's counts as the log shows them."""

    queue: str
    waiting: int
    longest_wait_s: float
    agents_logged_in: int
    agents_available: int


#: The events that say which queue a contact is in now (an agent's wrap-up of a contact they
#: transferred names the queue the agent had it from).
_PLACING = frozenset(
    {EventKind.ARRIVED, EventKind.QUEUED, EventKind.OVERFLOWED, EventKind.OFFERED,
     EventKind.ANSWERED}
)  # fmt: skip
_SIGNED_IN_STATES = frozenset(s for s in AgentState if s is not AgentState.LOGGED_OUT)


class LogFloor:
    """Agents' states and contacts' places, folded from the log one event at a time.

    ``members`` is each queue's members as the engine computes them from the center file
    (:meth:`hotline.routing.engine.RoutingEngine.queue_members`); ``now`` is the clock the
    waits are measured against (set it before reading).
    """

    def __init__(self, members: Mapping[str, Iterable[str]]) -> None:
        self.members = {queue: list(agents) for queue, agents in members.items()}
        self.now = 0.0
        self._agents: dict[str, tuple[AgentState, str | None]] = {}
        #: Each agent's contacts → stage.
        self._holding: dict[str, dict[str, str]] = {}
        #: Contacts waiting → (queue, when their place in line counts from).
        self._waiting: dict[str, tuple[str, float]] = {}
        #: Each open contact's queue (waiting or not) and place in line.
        self._queue: dict[str, str] = {}
        self._place: dict[str, float] = {}
        #: The call backs promised and not yet fired (the desks list them).
        self.promises = Promises()

    # ------------------------------------------------------------------ feeding

    def record(self, event: Event) -> None:
        """Fold one logged event (in log order)."""
        kind, contact, agent = event.kind, event.contact_id, event.agent_id
        self.promises.record(event)
        if kind is EventKind.AGENT_STATE and agent is not None:
            state = AgentState(str(event.data.get("state", AgentState.LOGGED_OUT.value)))
            reason = event.data.get("reason")
            self._agents[agent] = (state, str(reason) if reason else None)
            if state is AgentState.LOGGED_OUT:
                self._holding.pop(agent, None)
            return
        if contact is None:
            return
        if event.queue is not None and kind in _PLACING:
            self._queue[contact] = event.queue
        if kind is EventKind.QUEUED:
            self._wait(contact, event.at)
        elif kind is EventKind.OVERFLOWED:  # keeps its place in line
            if contact in self._waiting:
                self._wait(contact, self._place.get(contact, event.at))
        elif kind is EventKind.OFFERED and agent is not None:
            self._waiting.pop(contact, None)
            self._hold(agent, contact, "ringing")
        elif kind is EventKind.RING_NO_ANSWER and agent is not None:
            self._let_go(agent, contact)
            self._wait(contact, self._place.get(contact, event.at))
        elif kind is EventKind.ANSWERED and agent is not None:
            self._waiting.pop(contact, None)
            self._hold(agent, contact, "talking")
        elif kind is EventKind.DISCONNECTED and agent is not None:
            if contact in self._holding.get(agent, {}):
                self._hold(agent, contact, "wrap_up")
        elif kind is EventKind.WRAP_UP_ENDED and agent is not None:
            self._let_go(agent, contact)
        elif kind is EventKind.TRANSFERRED and agent is not None:
            self._hold(agent, contact, "wrap_up")  # the agent hands it on and wraps up
            target = event.data.get("to_queue")
            if target:
                self._queue[contact] = str(target)
                self._wait(contact, event.at)
        elif kind is EventKind.CONSULT_STARTED:
            self._hold(str(event.data.get("consulted")), contact, "consult")
        elif kind is EventKind.CONSULT_ENDED:
            consulted = str(event.data.get("consulted"))
            if event.data.get("transfer"):
                self._hold(consulted, contact, "talking")
            else:
                self._let_go(consulted, contact)
        elif kind is EventKind.ABANDONED:
            self._waiting.pop(contact, None)
            for held in self._holding.values():
                if held.get(contact) == "ringing":
                    del held[contact]
        elif kind is EventKind.FINISHED:
            self._waiting.pop(contact, None)
            self._queue.pop(contact, None)
            self._place.pop(contact, None)
            for held in self._holding.values():
                held.pop(contact, None)

    def _wait(self, contact: str, since: float) -> None:
        queue = self._queue.get(contact)
        if queue is not None:
            self._waiting[contact] = (queue, since)
            self._place[contact] = since

    def _hold(self, agent: str, contact: str, stage: str) -> None:
        self._holding.setdefault(agent, {})[contact] = stage

    def _let_go(self, agent: str, contact: str) -> None:
        self._holding.get(agent, {}).pop(contact, None)

    # ------------------------------------------------------------------ FloorView

    def agent_state(self, agent_id: str) -> AgentState:
        """The state the log last showed for the agent."""
        return self._agents.get(agent_id, (AgentState.LOGGED_OUT, None))[0]

    def agent_reason(self, agent_id: str) -> str | None:
        """The reason code of a not-ready agent."""
        state, reason = self._agents.get(agent_id, (AgentState.LOGGED_OUT, None))
        return reason if state is AgentState.NOT_READY else None

    def agent_contacts(self, agent_id: str) -> dict[str, str]:
        """The contacts the agent holds, with their stage."""
        return dict(self._holding.get(agent_id, {}))

    def contact_queue(self, contact_id: str) -> str | None:
        """The queue the contact is (or was last) in."""
        return self._queue.get(contact_id)

    def queue_members(self, queue_id: str) -> list[str]:
        """The queue's members (from the center file, as the engine has them)."""
        return list(self.members.get(queue_id, ()))

    def queue_snapshot(self, queue_id: str) -> QueueNow:
        """The queue's waiting contacts and agents as the log shows them at ``now``."""
        since = [at for queue, at in self._waiting.values() if queue == queue_id]
        states = [self.agent_state(a) for a in self.members.get(queue_id, ())]
        return QueueNow(
            queue=queue_id,
            waiting=len(since),
            longest_wait_s=max((self.now - at for at in since), default=0.0),
            agents_logged_in=sum(s in _SIGNED_IN_STATES for s in states),
            agents_available=sum(s is AgentState.AVAILABLE for s in states),
        )

    def waiting_contacts(self, queue_id: str) -> list[str]:
        """The contacts waiting in a queue by their place in line (the log has no priority)."""
        line = [(at, c) for c, (queue, at) in self._waiting.items() if queue == queue_id]
        return [contact for _, contact in sorted(line)]

    def waiting_since(self, contact_id: str) -> float | None:
        """When the waiting contact's place in line counts from; ``None`` if not waiting."""
        waiting = self._waiting.get(contact_id)
        return None if waiting is None else waiting[1]

    def ringing(self, agent_id: str) -> str | None:
        """The contact ringing at the agent, if any."""
        return next((c for c, s in self._holding.get(agent_id, {}).items() if s == "ringing"), None)


class WaitingLine(Protocol):
    """Who waits in a queue and since when: the routing engine, or :class:`LogFloor`."""

    def waiting_contacts(self, queue_id: str) -> list[str]:
        """The contacts waiting in the queue, position 1 first."""
        ...

    def waiting_since(self, contact_id: str) -> float | None:
        """When the contact's place in line counts from (``None``: not waiting)."""
        ...


def waiting_rows(
    line: WaitingLine,
    queues: Iterable[tuple[str, str]],
    now: float,
    attached: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The contacts waiting now, queue by queue (``queues``: id and channel) in line order,
    with their wait at ``now`` and their caller (``attached``), as the wallboard lists them.

    >>> floor = LogFloor({"q": []})
    >>> floor.record(Event(1, 2.0, EventKind.QUEUED, "c1", queue="q"))
    >>> [(r["contact_id"], r["position"], r["waited_s"]) for r in
    ...  waiting_rows(floor, [("q", "voice")], 5.0, {})]
    [('c1', 1, 3.0)]
    """
    rows: list[dict[str, Any]] = []
    for queue_id, channel in queues:
        for position, contact_id in enumerate(line.waiting_contacts(queue_id), start=1):
            since = line.waiting_since(contact_id)
            rows.append(
                {
                    "contact_id": contact_id,
                    "queue": queue_id,
                    "channel": channel,
                    "position": position,
                    "waited_s": round(now - since, 1) if since is not None else 0,
                    "customer": (attached.get(contact_id) or {}).get("customer"),
                }
            )
    return rows
