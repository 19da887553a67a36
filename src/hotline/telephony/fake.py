"""In-tree fakes of the telephony ports, for fast tests of the call driver.

- :class:`FakeMediaServer` answers like rtpengine (an SDP per side, a duration per prompt)
  and remembers every command; ``down = True`` makes it fail like an unreachable server.
- :class:`FakeSignalling` remembers what the driver asked the SIP side to do.
- :class:`FakeRouter` is a tiny first-come-first-served ACD (longest-idle agent, wrap-up,
  ring-no-answer skips the agent) used until — and beside — the real routing engine.
- :class:`ListSink` keeps events in a list (the live driver writes JSON lines instead).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hotline.core.events import Event
from hotline.telephony.media.sdp import placeholder_sdp
from hotline.telephony.ports import (
    DialCallback,
    MediaRejected,
    MediaUnavailable,
    Playback,
    ReleaseCaller,
    RingAgent,
    RoutingDecision,
    StopRinging,
    TransferRefused,
)


@dataclass
class FakeMediaServer:
    """Remembers commands; each prompt 'lasts' ``duration_ms``.

    ``down`` fails every command like an unreachable server; ``reject_offers`` refuses
    offers like a healthy server handed an unusable SDP.
    """

    duration_ms: int = 10
    down: bool = False
    reject_offers: bool = False
    commands: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    def _record(self, command: str, **params: object) -> None:
        if self.down:
            raise MediaUnavailable("fake media server is down")
        self.commands.append((command, params))

    async def offer(self, *, call: str, from_tag: str, sdp: str) -> str:
        """Return a placeholder SDP for the other side (or refuse it, like a bad SDP)."""
        self._record("offer", call=call, from_tag=from_tag)
        if self.reject_offers:
            raise MediaRejected("rtpengine offer: Incomplete SDP specification")
        return placeholder_sdp(40000)

    async def answer(self, *, call: str, from_tag: str, to_tag: str, sdp: str) -> str:
        """Return a placeholder SDP for the caller."""
        self._record("answer", call=call, to_tag=to_tag, sdp=sdp)
        return placeholder_sdp(40002)

    async def play(self, *, call: str, tag: str, path: str, repeat: int = 1) -> Playback:
        """Pretend to play ``path``."""
        self._record("play", call=call, tag=tag, path=path, repeat=repeat)
        return Playback(self.duration_ms)

    async def stop(self, *, call: str, tag: str) -> None:
        """Pretend to stop playing."""
        self._record("stop", call=call, tag=tag)

    async def block(self, *, call: str, tag: str) -> None:
        """Pretend to stop relaying ``tag``."""
        self._record("block", call=call, tag=tag)

    async def unblock(self, *, call: str, tag: str) -> None:
        """Pretend to relay ``tag`` again."""
        self._record("unblock", call=call, tag=tag)

    async def start_recording(self, *, call: str) -> None:
        """Pretend to record."""
        self._record("start_recording", call=call)

    async def stop_recording(self, *, call: str) -> None:
        """Pretend to stop recording."""
        self._record("stop_recording", call=call)

    async def delete(self, *, call: str) -> None:
        """Pretend to release the call."""
        self._record("delete", call=call)

    async def ping(self) -> bool:
        """Up unless ``down``."""
        return not self.down

    def played(self, call: str) -> list[str]:
        """Names of the files played to ``call`` (without folders and extension)."""
        return [
            Path(str(p["path"])).stem for c, p in self.commands if c == "play" and p["call"] == call
        ]


@dataclass
class FakeSignalling:
    """Remembers answers, rejections, hang-ups and dials."""

    actions: list[tuple[str, ...]] = field(default_factory=list)
    answers: list[tuple[str, str]] = field(default_factory=list)  # (leg, SDP) in order

    def answer(self, leg: str, sdp: str) -> None:
        """Remember the answer."""
        self.actions.append(("answer", leg))
        self.answers.append((leg, sdp))

    def reject(self, leg: str, code: int, reason: str) -> None:
        """Remember the rejection."""
        self.actions.append(("reject", leg, str(code)))

    def hang_up(self, leg: str) -> None:
        """Remember the hang-up."""
        self.actions.append(("hang_up", leg))

    def dial(self, leg: str, *, contact: str, caller: str, sdp: str) -> None:
        """Remember the dial."""
        self.actions.append(("dial", leg, contact))

    def update(self, leg: str, sdp: str) -> None:
        """Remember the re-INVITE."""
        self.actions.append(("update", leg))
        self.answers.append((leg, sdp))


@dataclass
class _Agent:
    agent_id: str
    ready: bool = False
    busy_with: str | None = None
    idle_since: float = 0.0
    wrap_up_until: float | None = None


@dataclass
class FakeRouter:
    """A small ACD: FIFO per queue, the longest-idle ready agent serving it gets the call.

    ``queues_by_agent`` says which queues each agent serves (all when missing).
    """

    wrap_up_s: float = 0.0
    ring_timeout_s: float = 10.0
    queues_by_agent: Mapping[str, Iterable[str]] = field(default_factory=dict)
    _agents: dict[str, _Agent] = field(default_factory=dict)
    _waiting: deque[tuple[str, str]] = field(default_factory=deque)
    _ringing: dict[str, str] = field(default_factory=dict)  # contact -> agent
    _skipped: dict[str, set[str]] = field(default_factory=dict)
    _queue_of: dict[str, str] = field(default_factory=dict)  # contact -> queue
    held: set[str] = field(default_factory=set)  # contacts on hold
    customers: dict[str, str] = field(default_factory=dict)  # contact -> calling number
    consulting: dict[str, str] = field(default_factory=dict)  # contact -> consulted agent

    def _serves(self, agent_id: str, queue: str) -> bool:
        queues = self.queues_by_agent.get(agent_id)
        return queues is None or queue in set(queues)

    def _dispatch(self, at: float) -> list[RoutingDecision]:
        decisions: list[RoutingDecision] = []
        for contact_id, queue in list(self._waiting):
            free = [
                a
                for a in self._agents.values()
                if a.ready
                and a.busy_with is None
                and (a.wrap_up_until is None or a.wrap_up_until <= at)
                and self._serves(a.agent_id, queue)
                and a.agent_id not in self._skipped.get(contact_id, set())
            ]
            if not free:
                continue
            agent = min(free, key=lambda a: (a.idle_since, a.agent_id))
            agent.busy_with = contact_id
            self._waiting.remove((contact_id, queue))
            self._ringing[contact_id] = agent.agent_id
            if contact_id.endswith(":callback"):
                number = self.customers.get(contact_id) or None
                decisions.append(
                    DialCallback(contact_id, agent.agent_id, number, self.ring_timeout_s)
                )
            else:
                decisions.append(RingAgent(contact_id, agent.agent_id, self.ring_timeout_s))
        return decisions

    def contact_queued(
        self,
        *,
        at: float,
        contact_id: str,
        queue: str,
        priority: int,
        language: str | None,
        data: Mapping[str, str],
    ) -> list[RoutingDecision]:
        """Queue the contact and offer it if an agent is free."""
        self._waiting.append((contact_id, queue))
        self._queue_of[contact_id] = queue
        if data.get("caller"):
            self.customers[contact_id] = data["caller"]
        return self._dispatch(at)

    def agent_ready(self, *, at: float, agent_id: str) -> list[RoutingDecision]:
        """Make the agent available."""
        agent = self._agents.setdefault(agent_id, _Agent(agent_id, idle_since=at))
        agent.ready = True
        return self._dispatch(at)

    def agent_not_ready(self, *, at: float, agent_id: str, reason: str) -> list[RoutingDecision]:
        """Take the agent out of rotation; a call ringing there goes back to the queue."""
        agent = self._agents.setdefault(agent_id, _Agent(agent_id))
        agent.ready = False
        decisions: list[RoutingDecision] = []
        for contact_id, ringing in list(self._ringing.items()):
            if ringing == agent_id:
                del self._ringing[contact_id]
                agent.busy_with = None
                self._waiting.appendleft((contact_id, self._queue_of[contact_id]))
                decisions.append(StopRinging(contact_id, agent_id, reason))
        return decisions + self._dispatch(at)

    def offer_answered(self, *, at: float, contact_id: str, agent_id: str) -> list[RoutingDecision]:
        """The agent took the call."""
        self._ringing.pop(contact_id, None)
        return []

    def offer_rejected(self, *, at: float, contact_id: str, agent_id: str) -> list[RoutingDecision]:
        """Ring-no-answer: the agent goes not ready, the contact returns to the head."""
        self._ringing.pop(contact_id, None)
        agent = self._agents.get(agent_id)
        if agent is not None:
            agent.busy_with = None
            agent.ready = False
        self._skipped.setdefault(contact_id, set()).add(agent_id)
        self._waiting.appendleft((contact_id, self._queue_of[contact_id]))
        return self._dispatch(at)

    def contact_abandoned(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The caller left: forget the contact, free a ringing agent."""
        self._waiting = deque(w for w in self._waiting if w[0] != contact_id)
        decisions: list[RoutingDecision] = []
        agent_id = self._ringing.pop(contact_id, None)
        if agent_id is not None:
            self._agents[agent_id].busy_with = None
            decisions.append(StopRinging(contact_id, agent_id, "abandoned"))
        return decisions + self._dispatch(at)

    def contact_ended(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The conversation ended: the agent wraps up, then is idle again."""
        for agent in self._agents.values():
            if agent.busy_with == contact_id:
                agent.busy_with = None
                agent.idle_since = at
                agent.wrap_up_until = at + self.wrap_up_s
        return self._dispatch(at)

    def advance(self, *, at: float) -> list[RoutingDecision]:
        """Wrap-ups may have ended: offer waiting contacts."""
        return self._dispatch(at)

    def _hand_over(self, at: float, contact_id: str) -> None:
        for agent in self._agents.values():
            if agent.busy_with == contact_id:
                agent.busy_with = None
                agent.idle_since = at
                agent.wrap_up_until = at + self.wrap_up_s
        self._skipped.pop(contact_id, None)

    def transfer_to_queue(self, *, at: float, contact_id: str, queue: str) -> list[RoutingDecision]:
        """Re-queue the caller at the head of ``queue`` (one of the queues agents serve)."""
        known = {q for queues in self.queues_by_agent.values() for q in queues}
        if self.queues_by_agent and queue not in known:
            raise TransferRefused(f"unknown queue {queue}")
        self._hand_over(at, contact_id)
        self._waiting.appendleft((contact_id, queue))
        self._queue_of[contact_id] = queue
        return self._dispatch(at)

    def transfer_to_agent(
        self, *, at: float, contact_id: str, agent_id: str
    ) -> list[RoutingDecision]:
        """Ring ``agent_id`` at once when it is ready and free."""
        target = self._agents.get(agent_id)
        if target is None or not target.ready or target.busy_with is not None:
            raise TransferRefused(f"agent {agent_id} is not available")
        self._hand_over(at, contact_id)
        target.busy_with = contact_id
        self._ringing[contact_id] = agent_id
        return [RingAgent(contact_id, agent_id, self.ring_timeout_s)]

    def consult_started(
        self, *, at: float, contact_id: str, agent_id: str
    ) -> list[RoutingDecision]:
        """Reserve ``agent_id`` when ready and free."""
        target = self._agents.get(agent_id)
        if target is None or not target.ready or target.busy_with is not None:
            raise TransferRefused(f"agent {agent_id} is not available")
        target.busy_with = contact_id
        self.consulting[contact_id] = agent_id
        return []

    def consult_ended(self, *, at: float, contact_id: str, transfer: bool) -> list[RoutingDecision]:
        """Free the consulted agent, or hand the contact over to them."""
        agent_id = self.consulting.pop(contact_id, None)
        if agent_id is None:
            raise TransferRefused(f"{contact_id} has no consult")
        if transfer:
            for agent in self._agents.values():
                if agent.busy_with == contact_id and agent.agent_id != agent_id:
                    agent.busy_with = None
                    agent.idle_since = at
                    agent.wrap_up_until = at + self.wrap_up_s
        else:
            self._agents[agent_id].busy_with = None
        return self._dispatch(at)

    def callback_requested(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The caller leaves; ``<id>:callback`` waits in their place at the same queue."""
        waiting = [w for w in self._waiting if w[0] == contact_id]
        if not waiting:
            raise TransferRefused(f"{contact_id} is not waiting")
        index = self._waiting.index(waiting[0])
        queue = waiting[0][1]
        callback_id = f"{contact_id}:callback"
        self._waiting[index] = (callback_id, queue)
        self._queue_of[callback_id] = queue
        self.customers[callback_id] = self.customers.get(contact_id, "")
        return [ReleaseCaller(contact_id, queue, "callback", callback_id), *self._dispatch(at)]

    def contact_held(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """Hold changes nothing for this ACD (the driver logs it)."""
        self.held.add(contact_id)
        return []

    def contact_resumed(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """Off hold again."""
        self.held.discard(contact_id)
        return []


@dataclass
class ListSink:
    """Keeps appended events in memory."""

    events: list[Event] = field(default_factory=list)

    def append(self, event: Event) -> None:
        """Keep one event."""
        self.events.append(event)

    def kinds(self, contact_id: str | None = None) -> list[str]:
        """Event kinds in order (of one contact, or all)."""
        return [
            e.kind.value for e in self.events if contact_id is None or e.contact_id == contact_id
        ]
