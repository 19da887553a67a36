"""The routing engine (ACD): a pure, deterministic state machine.

Drivers — the live server, the simulator, replay — hand the engine timestamped commands
(:mod:`hotline.routing.model`) and carry out the effects it returns; every step is also written
as an :class:`~hotline.core.events.Event` of the contact event log (METRICS.md). The engine never
reads a clock, never sleeps and does no I/O: timers (ring-no-answer, wrap-up, ageing, overflow,
announcements) are kept inside and fire when a driver moves time forward, either by sending a
command stamped later or by calling :meth:`RoutingEngine.advance`. :meth:`next_deadline` says
when the next timer is due, so a driver sleeps (or a simulator jumps) exactly that long. Timers
due at the same instant fire in the order they were set, before a command stamped at that
instant.

How a decision is made
    Each queue's contacts sit in *pools*, one per (ageing ring, extra requirements, channel).
    An agent belongs to every pool whose requirements they meet, so eligibility is decided once
    when an agent logs in, not on every decision. Each pool keeps two heaps: its waiting
    contacts (strict priority class, then credited waiting time, then arrival order) and its
    available agents (the queue strategy's key). A contact entering a pool takes the best
    available agent from that pool's heap; an agent becoming free takes, across all of their
    pools, the head contact that has waited longest *relative to its priority class and its
    queue's service-level threshold* — so an agent serving several queues always gets the
    longest waiter, measured fairly. Heaps delete lazily (entries carry a version), and the
    engine keeps the invariant that no pool holds both a waiting contact and an available agent
    after each command, so a decision looks at a handful of heap heads, never at all agents.

Driving it
    * Commands (all carry ``at``): ``ContactQueued``, ``AgentLoggedIn`` / ``AgentLoggedOut``,
      ``AgentReady`` / ``AgentNotReady(reason)``, ``OfferAnswered`` / ``OfferRejected``,
      ``ContactAbandoned``, ``ContactEnded``, ``WrapUpEnded``, ``ContactHeld`` /
      ``ContactResumed``, ``TransferredToQueue`` / ``TransferredToAgent``, ``ConsultStarted``
      / ``ConsultEnded(transfer)``, ``CallbackRequested``, ``NewDay``, ``Tick``.
    * Effects to carry out: ``Offer`` (ring the agent), ``CancelOffer``, ``ConnectConsult``,
      ``AnnouncePosition``, ``PlayClosedMessage``, ``RouteToVoicemail``, ``StartCallback``,
      ``MovedToQueue``, ``AgentStateChanged``.
    * Loop: ``result = engine.handle(cmd)``; carry out ``result.effects``; append
      ``result.events`` to the event log; sleep until ``engine.next_deadline()`` (or the next
      outside event) and call ``engine.advance(now)``.
    * Queries for screens: ``agent_state``, ``agent_reason``, ``agent_contacts``,
      ``contact_stage``, ``contact_queue``, ``contact_history``, ``waiting_contacts``, ``position``,
      ``estimated_wait``, ``queue_estimated_wait``, ``queue_snapshot``, ``queue_members``,
      ``eligible``, ``requirements``.
    * Reconfiguration, piece by piece, at each piece's own safe point: ``configure_queue`` /
      ``remove_queue`` when the queue has no contact waiting, offered, in hand or in wrap-up
      (``queue_busy`` says which one holds it up), ``configure_agent`` / ``remove_agent`` when
      the agent holds nothing (``agent_busy``). Adding a queue or an agent is always safe. A
      changed agent keeps state, reason, idle time and today's counters. The settings of
      :class:`~hotline.routing.model.RoutingConfig` as a whole (channel capacities, exclusive
      channels, seed, auto-answer) change only with a new engine.
    * A refused command raises :class:`~hotline.routing.model.RoutingConflict` and changes
      nothing. The engine reads the contact's state: ``ContactEnded`` on a contact still
      queued or ringing is an abandon; ``ContactAbandoned`` on a connected one ends it.
    * Every contact gets exactly one ``finished`` event. Its outcome is ``answered`` once an
      agent ever answered it (even if it was transferred and the caller later hung up in
      another queue), else ``abandoned``, ``callback`` (the caller left; a new contact
      ``<id>:callback`` keeps their place), ``overflowed`` (voicemail) or ``closed``.
    * Long-running drivers should call ``gc.freeze()`` once the engine is built: the
      configuration then stays out of the garbage collector's full scans.

Example::

    >>> from hotline.routing.model import *
    >>> engine = RoutingEngine(RoutingConfig(
    ...     queues=(QueueConfig("repair", requirements=("repair >= 2",), wrap_up_s=10),),
    ...     agents=(AgentConfig("alice", skills={"repair": 3}),)))
    >>> _ = engine.handle(AgentLoggedIn(at=0.0, agent_id="alice"))
    >>> result = engine.handle(ContactQueued(at=5.0, contact_id="c1", queue="repair"))
    >>> result.effects[0]
    Offer(contact_id='c1', agent_id='alice', queue='repair', channel=<Channel.VOICE: 'voice'>, \
ring_timeout_s=20.0, kind='queue')
    >>> _ = engine.handle(OfferAnswered(at=8.0, contact_id="c1", agent_id="alice"))
    >>> _ = engine.handle(ContactEnded(at=60.0, contact_id="c1"))
    >>> engine.next_deadline()
    70.0
    >>> [e.kind.value for e in engine.advance(70.0).events]
    ['wrap_up_ended', 'finished', 'agent_state']
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from types import MappingProxyType
from typing import Any, Final, TypeVar

from hotline.core.events import NO_DATA, Channel, Event, EventKind, Outcome
from hotline.core.values import Value
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    AgentState,
    AgentStateChanged,
    Alternatives,
    AnnouncePosition,
    CallbackRequested,
    CancelOffer,
    Command,
    ConnectConsult,
    ConsultEnded,
    ConsultStarted,
    ContactAbandoned,
    ContactEnded,
    ContactHeld,
    ContactQueued,
    ContactResumed,
    Effect,
    MovedToQueue,
    NewDay,
    Offer,
    OfferAnswered,
    OfferRejected,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    PlayClosedMessage,
    PriorityMode,
    QueueConfig,
    RouteToVoicemail,
    RoutingConfig,
    RoutingConflict,
    RoutingError,
    SkillTerm,
    StartCallback,
    Term,
    Tick,
    TransferredToAgent,
    TransferredToQueue,
    WrapUpEnded,
    canonical,
    matches_any,
    parse_requirements,
    simplify,
)
from hotline.routing.strategies import AGENT_KEYS, estimated_wait_s, smoothed_handle_s

# Contact stages.
_WAITING = 0
_RINGING = 1
_CONNECTED = 2
_ENDED = 3
_FINISHED = 4

# Stages of one contact in an agent's hands.
_ITEM_RINGING = 0
_ITEM_TALKING = 1
_ITEM_WRAP = 2
_ITEM_CONSULT = 3

# Agent presence (what the agent asked for; the shown state is derived from it and the items).
_OUT = 0
_READY = 1
_NOT_READY = 2

#: Overflow moves one contact may make before the engine stops following rules (loop guard).
MAX_OVERFLOW_HOPS = 8

#: Agent entries a pool keeps unsorted before heaping them (each draw scans them all).
_LOOSE_LIMIT = 12

# Enum ``.value`` goes through a Python-level descriptor in 3.11; plain strings are cheaper.
_TEXT: dict[AgentState | Outcome, str] = {m: m.value for m in (*AgentState, *Outcome)}


def _plain_members(enum: type[Enum]) -> Any:
    """The members of an enum as attributes of a plain class.

    Inlined for performance: on Python 3.11 every ``EventKind.QUEUED``-style read goes
    through a Python-level descriptor (~80 ns), and the engine reads a dozen of them per
    contact. The values are the very same members.
    """
    return type(f"_{enum.__name__}", (), {member.name: member for member in enum})


_EventKind = _plain_members(EventKind)
_AgentState = _plain_members(AgentState)
_Outcome = _plain_members(Outcome)
_PriorityMode = _plain_members(PriorityMode)
_OverflowCondition = _plain_members(OverflowCondition)
_OverflowAction = _plain_members(OverflowAction)
_Channel = _plain_members(Channel)

_K = TypeVar("_K", bound=Hashable)

#: Event data mappings the engine keeps for sharing, of each kind (see RoutingEngine._shared).
_SHARED_DATA_LIMIT = 4096
# The data of the most frequent events whose data repeat, shared and read-only (see
# RoutingEngine._shared): an arrival with no customer known, an offer or an answer without
# any wait, a wrap-up of no length.
_NO_CUSTOMER: Mapping[str, Any] = MappingProxyType({"customer": None})
_OFFERED_AT_ONCE: Mapping[str, Any] = MappingProxyType({"wait_s": 0.0, "kind": "queue"})
_NO_WAIT: Mapping[str, Any] = MappingProxyType({"wait_s": 0.0})
_NO_WRAP_UP: Mapping[str, Any] = MappingProxyType({"wrap_s": 0.0})


class Result(Value):
    """What one command (or time advance) produced: effects to carry out, events to log.

    A :class:`~hotline.core.values.Value` (one is made per command; compiled, its constructor
    is a C function); the lists are the caller's to keep.
    """

    __slots__ = ("effects", "events")
    __match_args__ = ("effects", "events")

    def __init__(
        self, effects: list[Effect] | None = None, events: list[Event] | None = None
    ) -> None:
        self.effects: Final[list[Effect]] = [] if effects is None else effects
        self.events: Final[list[Event]] = [] if events is None else events


class Segment(Value):
    """One agent's part of a contact: the queue it came through, the agent, when answered."""

    __slots__ = ("agent_id", "answered_at", "queue")
    __match_args__ = ("queue", "agent_id", "answered_at")

    def __init__(self, queue: str | None, agent_id: str, answered_at: float) -> None:
        self.queue: Final = queue
        self.agent_id: Final = agent_id
        self.answered_at: Final = answered_at


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """A queue right now, for wallboards: waiting contacts, longest wait, agents."""

    queue: str
    waiting: int
    longest_wait_s: float
    agents_logged_in: int
    agents_available: int
    average_handle_s: float


class _Timer:
    __slots__ = ("agent", "cancelled", "contact", "deadline", "kind", "value")

    def __init__(
        self,
        deadline: float,
        kind: str,
        contact: _Contact | None,
        agent: _Agent | None,
        value: Any = None,
    ) -> None:
        self.deadline = deadline
        self.kind = kind
        self.contact = contact
        self.agent = agent
        self.value = value
        self.cancelled = False


class _Item:
    """One contact in an agent's hands."""

    __slots__ = ("channel", "contact", "hold_s", "queue", "stage", "started", "timer")

    def __init__(self, contact: _Contact, stage: int, started: float, queue: _Queue | None):
        self.contact = contact
        self.channel = contact.channel
        self.stage = stage
        self.started = started
        self.queue = queue
        self.timer: _Timer | None = None
        self.hold_s = 0.0


class _Queue:
    __slots__ = (
        "cfg",
        "channel",
        "entry_rules",
        "handle_s",
        "id",
        "indexed",
        "key",
        "logged_in",
        "members",
        "pools",
        "rings",
        "serving_slots",
        "skills",
        "strategy",
        "target_s",
        "waiting",
        "widest",
    )

    def __init__(self, cfg: QueueConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.channel = cfg.channel
        self.rings = cfg.steps()
        self.widest: Alternatives = self.rings[-1][1]
        self.skills = tuple(t.skill for t in self.rings[0][1][0] if isinstance(t, SkillTerm))
        self.strategy = cfg.strategy
        self.key = AGENT_KEYS[cfg.strategy]
        self.target_s = cfg.target_threshold_s
        # Whether a contact entering may meet a rule (overflow, closed hours) at all.
        self.entry_rules = bool(cfg.overflow) or cfg.calendar is not None
        self.pools: dict[tuple[int, tuple[Term, ...], Channel], _Pool] = {}
        self.members: dict[str, _Agent] = {}
        self.waiting: dict[str, _Contact] = {}
        self.logged_in = 0
        self.serving_slots = 0
        self.handle_s = cfg.expected_handle_s
        # The skills this queue is found under in RoutingEngine._queues_by_skill; empty when
        # it is one of the open queues (an alternative that names no skill).
        self.indexed: tuple[str, ...] = ()


class _Pool:
    __slots__ = (
        "agents",
        "channel",
        "contacts",
        "extra",
        "family",
        "loose",
        "members",
        "pending",
        "queue",
        "ring",
        "run",
        "terms",
        "waiting",
    )

    def __init__(
        self,
        queue: _Queue,
        ring: int,
        extra: tuple[Term, ...],
        channel: Channel,
        terms: Alternatives,
    ):
        self.queue = queue
        self.ring = ring
        self.extra = extra
        self.channel = channel
        self.terms = terms
        # This pool and the inner rings of the same queue, extra terms and channel: every
        # agent of an inner ring also qualifies here, so an agent's entry lives only in the
        # innermost ring they belong to and a contact looks at the heads of all of these.
        self.family: list[_Pool] = [self]
        # (strategy key, agent index, version, agent)
        self.agents: list[_AgentEntry] = []
        # Entries that arrived in key order (see RoutingEngine._merge); the best agent is the
        # smaller of the run's first entry and the heap's.
        self.run: deque[_AgentEntry] = deque()
        # Out-of-order entries not yet heaped (at most _LOOSE_LIMIT; see RoutingEngine._merge).
        self.loose: list[_AgentEntry] = []
        # (-class, credited start, arrival seq, version, contact)
        self.contacts: list[tuple[int, float, int, int, _Contact]] = []
        self.members: set[str] = set()
        # (agent, version) notes not yet heaped; see RoutingEngine._push.
        self.pending: list[tuple[_Agent, int]] = []
        self.waiting = 0


class _Agent:
    __slots__ = (
        "capacity",
        "cfg",
        "channels",
        "contacts_today",
        "dirty",
        "exclusive_load",
        "handling_s_today",
        "id",
        "idle_since",
        "index",
        "innermost",
        "items",
        "languages",
        "last_offered",
        "load",
        "pools",
        "presence",
        "proficiency",
        "push_pools",
        "queues",
        "reason",
        "settled_version",
        "shown",
        "shown_reason",
        "skills",
        "state",
        "total_load",
        "version",
    )

    def __lt__(self, other: _Agent) -> bool:
        # Heap entries compare their fields in turn; two notes of the same agent and version
        # tie up to the agent itself, which must then compare without error.
        return self.index < other.index

    def __hash__(self) -> int:
        # Compiled, a class that defines an ordering is not hashable by default; agents are
        # keys of ``_dirty``. Equality stays identity, as for any object.
        return self.index

    def __init__(self, cfg: AgentConfig, index: int, capacity: dict[Channel, int]) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.index = index
        self.skills = dict(cfg.skills)
        self.languages = cfg.languages
        self.capacity = capacity
        self.presence = _OUT
        self.reason: str | None = None
        self.items: dict[str, _Item] = {}
        self.load: dict[Channel, int] = dict.fromkeys(capacity, 0)
        self.exclusive_load = 0
        self.total_load = 0
        self.version = 0
        self.settled_version = -1
        self.channels: list[Channel] = []
        self.idle_since = 0.0
        self.contacts_today = 0
        self.handling_s_today = 0.0
        self.last_offered: dict[str, int] = {}
        self.pools: list[_Pool] = []
        self.push_pools: list[_Pool] = []
        self.innermost: dict[tuple[str, tuple[Term, ...], Channel], _Pool] = {}
        self.queues: list[_Queue] = []
        self.proficiency: dict[str, int] = {}
        self.dirty = False
        self.state: AgentState = AgentState.LOGGED_OUT
        self.shown_reason: str | None = None
        # (state, previous, reason) -> the event data and effect of that change, kept.
        self.shown: dict[
            tuple[AgentState, AgentState, str | None], tuple[Mapping[str, Any], AgentStateChanged]
        ] = {}


#: A heap entry for an available agent: (strategy key, agent index, version, agent).
_AgentEntry = tuple[tuple[float, ...], int, int, "_Agent"]


class _Contact:
    __slots__ = (
        "agent",
        "answered",
        "channel",
        "cls",
        "consult",
        "credited_at",
        "customer",
        "declined",
        "extra",
        "history",
        "hold_started",
        "hops",
        "id",
        "offer_kind",
        "overflow_due",
        "place_at",
        "pool",
        "priority",
        "queue",
        "queued_at",
        "ring",
        "seq",
        "stage",
        "talk_started",
        "timers",
        "version",
        "wrapping",
    )

    def __init__(
        self, contact_id: str, channel: Channel, seq: int, priority: int, extra: tuple[Term, ...]
    ) -> None:
        self.id = contact_id
        self.channel = channel
        self.seq = seq
        self.priority = priority
        self.extra = extra
        self.cls = 0
        self.queue: _Queue | None = None
        self.queued_at = 0.0
        self.place_at = 0.0
        self.credited_at = 0.0
        self.ring = 0
        self.pool: _Pool | None = None
        self.version = 0
        self.stage = _WAITING
        self.agent: _Agent | None = None
        self.consult: _Agent | None = None
        self.declined: set[str] | None = None
        self.timers: list[_Timer] = []
        self.answered = False
        self.talk_started = 0.0
        self.hold_started: float | None = None
        self.wrapping = 0
        self.hops = 0
        self.overflow_due: OverflowRule | None = None
        self.offer_kind = "queue"
        self.customer: str | None = None
        self.history: list[Segment] = []


def _age_order(timer: _Timer) -> tuple[int, float, int]:
    """Where a contact waits in its queue: higher class first, then credited start, arrival."""
    contact = timer.contact
    assert contact is not None
    return (-contact.cls, contact.credited_at, contact.seq)


class RoutingEngine:
    """The ACD state machine: ``handle(command) -> Result``, ``advance(now) -> Result``.

    Deterministic: the same configuration, seed and commands give the same effects and events.
    See the module documentation for an example.
    """

    def __init__(self, config: RoutingConfig) -> None:
        self.config = config
        self.now = float("-inf")
        self._rng = random.Random(config.seed)
        self._exclusive = config.exclusive_channels
        self._queues: dict[str, _Queue] = {q.id: _Queue(q) for q in config.queues}
        self._queues_by_skill: dict[str, list[_Queue]] = {}
        self._open_queues: list[_Queue] = []
        for queue in self._queues.values():
            self._index_queue(queue)
            for ring in range(len(queue.rings)):
                self._pool(queue, ring, (), queue.channel)
        self._agents: dict[str, _Agent] = {}
        # Agents are numbered in registration order (ties between agents go to the lower
        # number); a removed agent's number is never reused.
        self._next_index = 0
        self._contacts: dict[str, _Contact] = {}
        self._timers: list[tuple[float, int, _Timer]] = []
        self._timer_seq = 0
        self._stale_timers = 0  # cancelled timers still in the heap
        self._event_seq = 0
        self._contact_seq = 0
        self._offer_seq = 0
        self._dirty: dict[_Agent, None] = {}
        self._extra_cache: dict[tuple[tuple[str, ...], str | None], tuple[Term, ...]] = {}
        self._text_cache: dict[tuple[Term, ...], tuple[str, ...]] = {}
        # Shared, read-only event data (see _shared), by what they say.
        self._state_data: dict[tuple[AgentState, AgentState, str | None], Mapping[str, Any]] = {}
        self._outcome_data: dict[Outcome, Mapping[str, Any]] = {}
        self._queued_data: dict[tuple[int, tuple[Term, ...]], Mapping[str, Any]] = {}
        self._effects: list[Effect] = []
        self._events: list[Event] = []
        self._auto_answer = config.auto_answer
        # Offers to answer at once (auto_answer), in the order they were made.
        self._answers: list[tuple[_Contact, _Agent]] = []
        for agent_cfg in config.agents:
            self._register(agent_cfg)
        self._handlers: dict[type, Callable[[Any], None]] = {
            ContactQueued: self._on_queued,
            AgentLoggedIn: self._on_login,
            AgentLoggedOut: self._on_logout,
            AgentReady: self._on_ready,
            AgentNotReady: self._on_not_ready,
            OfferAnswered: self._on_answered,
            OfferRejected: self._on_rejected,
            ContactAbandoned: self._on_abandoned,
            ContactEnded: self._on_ended,
            WrapUpEnded: self._on_wrap_up_ended,
            ContactHeld: self._on_held,
            ContactResumed: self._on_resumed,
            TransferredToQueue: self._on_transfer_to_queue,
            TransferredToAgent: self._on_transfer_to_agent,
            ConsultStarted: self._on_consult_started,
            ConsultEnded: self._on_consult_ended,
            CallbackRequested: self._on_callback_requested,
            NewDay: self._on_new_day,
            Tick: lambda command: None,
        }

    # ------------------------------------------------------------------ public interface

    def handle(self, command: Command) -> Result:
        """Apply one command stamped ``command.at``; return its effects and log events.

        Timers due at or before ``command.at`` fire first. Raises :class:`RoutingConflict`
        (state unchanged; effects of timers that fired are returned by the next call) when the
        command does not fit the current state, or when time would go backwards.
        """
        at = command.at
        if at < self.now:
            raise RoutingConflict(f"time went backwards: {at} is before {self.now}")
        timers = self._timers
        if timers and timers[0][0] <= at:
            self._fire_timers(at)
        self.now = at
        handler = self._handlers.get(type(command))
        if handler is None:
            raise RoutingConflict(f"unknown command {type(command).__name__}")
        try:
            handler(command)
        except RoutingConflict:
            if self._answers:
                # Offers made by timers that fired before the command are still answered.
                self._answer_offers()
            raise
        if self._dirty:
            self._settle()
        if self._answers:
            self._answer_offers()
        result = Result(self._effects, self._events)
        self._effects = []
        self._events = []
        return result

    def advance(self, now: float) -> Result:
        """Move time to ``now``, firing every timer due by then, in order."""
        if now < self.now:
            raise RoutingConflict(f"time went backwards: {now} is before {self.now}")
        self._fire_timers(now)
        self.now = now
        if self._answers:
            self._answer_offers()
        return self._take_result()

    def next_deadline(self) -> float | None:
        """When the next timer is due (``None`` when nothing is scheduled)."""
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)
            self._stale_timers -= 1
        return timers[0][0] if timers else None

    def agent_state(self, agent_id: str) -> AgentState:
        """The agent's current state (``logged_out`` for an agent the engine does not know)."""
        agent = self._agents.get(agent_id)
        return agent.state if agent else AgentState.LOGGED_OUT

    def agent_reason(self, agent_id: str) -> str | None:
        """The agent's not-ready reason code, if not ready."""
        agent = self._agents.get(agent_id)
        return agent.reason if agent and agent.presence == _NOT_READY else None

    def wrap_up_due(self, agent_id: str, contact_id: str) -> float | None:
        """When the agent's wrap-up of the contact ends by itself; ``None`` when not wrapping it.

        The wrap-up time is the agent's own, else the queue's (``_start_wrap``): drivers ask
        here rather than repeating that rule.

        >>> engine = RoutingEngine(RoutingConfig(queues=(QueueConfig("q", wrap_up_s=30.0),),
        ...     agents=(AgentConfig("a"),)))
        >>> _ = engine.handle(AgentLoggedIn(at=0, agent_id="a"))
        >>> _ = engine.handle(ContactQueued(at=0, contact_id="c", queue="q"))
        >>> _ = engine.handle(OfferAnswered(at=1, contact_id="c", agent_id="a"))
        >>> _ = engine.handle(ContactEnded(at=60.0, contact_id="c"))
        >>> engine.wrap_up_due("a", "c")
        90.0
        """
        agent = self._agents.get(agent_id)
        item = agent.items.get(contact_id) if agent is not None else None
        if item is None or item.stage != _ITEM_WRAP or item.timer is None:
            return None
        return item.timer.deadline

    def agent_contacts(self, agent_id: str) -> dict[str, str]:
        """The contacts an agent holds, with their stage (ringing, talking, wrap_up, consult)."""
        names = {
            _ITEM_RINGING: "ringing",
            _ITEM_TALKING: "talking",
            _ITEM_WRAP: "wrap_up",
            _ITEM_CONSULT: "consult",
        }
        agent = self._agents.get(agent_id)
        if agent is None:
            return {}
        return {cid: names[item.stage] for cid, item in agent.items.items()}

    def contact_stage(self, contact_id: str) -> str | None:
        """``waiting``, ``ringing``, ``connected``, ``ended`` — or ``None`` once finished."""
        contact = self._contacts.get(contact_id)
        if contact is None:
            return None
        return ("waiting", "ringing", "connected", "ended", "finished")[contact.stage]

    def contact_history(self, contact_id: str) -> list[Segment]:
        """Who has handled the contact so far, in order: its history travels with transfers.

        A desktop shows it on the screen pop of the next agent (earlier queues and agents).
        """
        contact = self._contacts.get(contact_id)
        return list(contact.history) if contact else []

    def contact_queue(self, contact_id: str) -> str | None:
        """The queue the contact is (or was last) in."""
        contact = self._contacts.get(contact_id)
        return contact.queue.id if contact and contact.queue else None

    def waiting_contacts(self, queue_id: str) -> list[str]:
        """The contacts waiting in a queue, in service order (position 1 first)."""
        queue = self._queue(queue_id)
        return [c.id for c in sorted(queue.waiting.values(), key=_contact_order)]

    def position(self, contact_id: str) -> int | None:
        """The waiting contact's position in its queue (1 = next), or ``None``."""
        contact = self._contacts.get(contact_id)
        if contact is None or contact.stage != _WAITING or contact.queue is None:
            return None
        mine = _contact_order(contact)
        ahead = sum(1 for c in contact.queue.waiting.values() if _contact_order(c) < mine)
        return ahead + 1

    def estimated_wait(self, contact_id: str) -> float | None:
        """Seconds until the waiting contact is likely answered (method: ``strategies``)."""
        position = self.position(contact_id)
        contact = self._contacts.get(contact_id)
        if position is None or contact is None or contact.queue is None:
            return None
        queue = contact.queue
        return estimated_wait_s(
            position=position, serving_slots=queue.serving_slots, average_handle_s=queue.handle_s
        )

    def queue_estimated_wait(self, queue_id: str) -> float | None:
        """Estimated wait of a contact joining ``queue_id`` now, at the back of the line."""
        queue = self._queue(queue_id)
        return estimated_wait_s(
            position=len(queue.waiting) + 1,
            serving_slots=queue.serving_slots,
            average_handle_s=queue.handle_s,
        )

    def queue_snapshot(self, queue_id: str) -> QueueSnapshot:
        """Waiting contacts, longest wait and agents of one queue, now."""
        queue = self._queue(queue_id)
        longest = max((self.now - c.queued_at for c in queue.waiting.values()), default=0.0)
        available = sum(
            1
            for a in queue.members.values()
            if a.presence == _READY and self._can_take(a, queue.channel)
        )
        return QueueSnapshot(
            queue=queue.id,
            waiting=len(queue.waiting),
            longest_wait_s=longest,
            agents_logged_in=queue.logged_in,
            agents_available=available,
            average_handle_s=queue.handle_s,
        )

    def queue_members(self, queue_id: str) -> list[str]:
        """Agents who serve the queue (meet its widest requirements)."""
        return list(self._queue(queue_id).members)

    def eligible(self, agent_id: str, contact_id: str) -> bool:
        """Whether the agent meets the waiting contact's requirements at its current ring."""
        agent = self._agents.get(agent_id)
        contact = self._contacts.get(contact_id)
        if agent is None or contact is None or contact.queue is None:
            return False
        pool = contact.queue.pools.get((contact.ring, contact.extra, contact.channel))
        if pool is not None:
            return agent.id in pool.members
        terms = _ring_terms(contact.queue, contact.ring, contact.extra)
        capacity = agent.capacity.get(contact.channel, 0)
        return capacity > 0 and matches_any(terms, agent.skills, agent.languages)

    def requirements(self, contact_id: str) -> Alternatives | None:
        """What an agent must meet to take the contact now: any one of these conjunctions."""
        contact = self._contacts.get(contact_id)
        if contact is None or contact.queue is None:
            return None
        return _ring_terms(contact.queue, contact.ring, contact.extra)

    def contacts(self) -> list[str]:
        """Every contact not yet finished."""
        return list(self._contacts)

    def agents(self) -> list[str]:
        """Every agent the engine knows."""
        return list(self._agents)

    def capacity(self, agent_id: str, channel: Channel) -> int:
        """How many contacts of ``channel`` the agent may hold at once."""
        return self._agent(agent_id).capacity.get(channel, 0)

    # ------------------------------------------------------------------ reconfiguration

    def queue_busy(self, queue_id: str) -> str | None:
        """Why ``queue_id`` is not at its safe point now, or ``None`` when it is.

        A queue's safe point: no contact of it waits, rings, talks or is being wrapped up.
        Only there may :meth:`configure_queue` change it or :meth:`remove_queue` remove it,
        since its pools, rings and timers hold nothing then.
        """
        queue = self._queue(queue_id)
        for contact in self._contacts.values():
            if contact.queue is queue:
                return _busy_text(contact)
        for agent in self._agents.values():
            for item in agent.items.values():
                if item.queue is queue:
                    return f"contact {item.contact.id} {_ITEM_TEXT[item.stage]} {agent.id}"
        return None

    def agent_busy(self, agent_id: str) -> str | None:
        """Why ``agent_id`` is not at their safe point now (they hold a contact), or ``None``."""
        agent = self._agent(agent_id)
        for contact_id, item in agent.items.items():
            return f"contact {contact_id} {_ITEM_TEXT[item.stage]} {agent.id}"
        return None

    def configure_queue(self, cfg: QueueConfig) -> Result:
        """Add a queue, or change one at its safe point (:meth:`queue_busy`), at ``now``.

        The queue is rebuilt from ``cfg`` — requirements, ageing rings, strategy, targets,
        overflow, hours — and every known agent is checked against it again, keeping their
        state and fairness keys; the other queues, their contacts and agents' places in them
        are untouched. The learned average handle time carries on unless ``cfg`` changes the
        expected one. Raises :class:`RoutingConflict` (nothing changed) while the queue is
        busy, or when an overflow rule names a queue the engine does not know.

        What the engine takes only as a whole — :class:`RoutingConfig`'s channel capacities,
        exclusive channels, seed, ring-no-answer reason and auto-answer — a driver changes by
        building a new engine.
        """
        return self.configure_queues((cfg,))

    def configure_queues(self, cfgs: Sequence[QueueConfig]) -> Result:
        """:meth:`configure_queue` for several queues at once, all or none.

        New queues that overflow to each other are added together this way; an overflow
        target may be any queue the engine knows or one of ``cfgs``.
        """
        known = {cfg.id for cfg in cfgs} | set(self._queues)
        for cfg in cfgs:
            if cfg.id in self._queues:
                busy = self.queue_busy(cfg.id)
                if busy is not None:
                    raise RoutingConflict(f"queue {cfg.id} is busy: {busy}")
            for rule in cfg.overflow:
                if rule.target is not None and rule.target not in known:
                    raise RoutingConflict(
                        f"queue {cfg.id}: overflow target {rule.target!r} is not a queue"
                    )
        for cfg in cfgs:
            self._install_queue(cfg)
        self._reconfigured()
        return self._take_result()

    def _install_queue(self, cfg: QueueConfig) -> None:
        old = self._queues.get(cfg.id)
        queue = _Queue(cfg)
        if old is not None:
            self._drop_queue(old)
            if old.cfg.expected_handle_s == cfg.expected_handle_s:
                queue.handle_s = old.handle_s
        self._queues[cfg.id] = queue
        self._index_queue(queue)
        for agent in sorted(self._agents.values(), key=lambda a: a.index):
            if not self._meets(agent, queue):
                continue
            queue.members[agent.id] = agent
            agent.queues.append(queue)
            agent.queues.sort(key=lambda q: q.id)
            agent.proficiency[queue.id] = sum(agent.skills.get(s, 0) for s in queue.skills)
            if agent.presence != _OUT:
                queue.logged_in += 1
            if agent.presence == _READY:
                queue.serving_slots += agent.capacity.get(queue.channel, 0)
        # The ring pools notify their available members (see _pool): new work finds them.
        for ring in range(len(queue.rings)):
            self._pool(queue, ring, (), queue.channel)

    def remove_queue(self, queue_id: str) -> Result:
        """Remove a queue at its safe point; refused while busy or another queue overflows to it."""
        return self.remove_queues((queue_id,))

    def remove_queues(self, queue_ids: Sequence[str]) -> Result:
        """:meth:`remove_queue` for several queues at once (that may overflow to each other)."""
        gone = set(queue_ids)
        for queue_id in queue_ids:
            self._queue(queue_id)
            busy = self.queue_busy(queue_id)
            if busy is not None:
                raise RoutingConflict(f"queue {queue_id} is busy: {busy}")
            blocker = self._overflowing_to(queue_id, gone)
            if blocker is not None:
                raise RoutingConflict(f"queue {blocker} still overflows to queue {queue_id}")
        for queue_id in queue_ids:
            self._drop_queue(self._queues.pop(queue_id))
        self._reconfigured()
        return self._take_result()

    def _overflowing_to(self, queue_id: str, leaving: set[str]) -> str | None:
        """A queue that stays (not in ``leaving``) and overflows to ``queue_id``, if any."""
        for other in self._queues.values():
            if other.id not in leaving and any(r.target == queue_id for r in other.cfg.overflow):
                return other.id
        return None

    def configure_agent(self, cfg: AgentConfig) -> Result:
        """Add an agent (logged out), or change one who holds nothing (:meth:`agent_busy`).

        A changed agent keeps presence, reason, idle time and today's counters (see
        :meth:`_update_agent`); if ready, they are matched at once with work their new skills
        open. Raises :class:`RoutingConflict` (nothing changed) while they hold a contact.
        """
        agent = self._agents.get(cfg.id)
        if agent is not None:
            busy = self.agent_busy(cfg.id)
            if busy is not None:
                raise RoutingConflict(f"agent {cfg.id} is busy: {busy}")
        self._register(cfg)
        self._reconfigured()
        self._settle()
        return self._take_result()

    def remove_agent(self, agent_id: str) -> Result:
        """Remove an agent who holds nothing; one still logged in is logged out first."""
        agent = self._agent(agent_id)
        busy = self.agent_busy(agent_id)
        if busy is not None:
            raise RoutingConflict(f"agent {agent_id} is busy: {busy}")
        if agent.presence != _OUT:
            self._on_logout(AgentLoggedOut(at=self.now, agent_id=agent_id))
            self._settle()
        agent.version += 1  # any entry left in a heap is stale from now on
        for queue in agent.queues:
            queue.members.pop(agent.id, None)
        for pool in agent.pools:
            pool.members.discard(agent.id)
        self._dirty.pop(agent, None)
        del self._agents[agent_id]
        self._reconfigured()
        return self._take_result()

    def _reconfigured(self) -> None:
        """Keep :attr:`config` saying what the engine routes with, after a piece changed."""
        self.config = replace(
            self.config,
            queues=tuple(q.cfg for q in self._queues.values()),
            agents=tuple(a.cfg for a in self._agents.values()),
        )

    def _index_queue(self, queue: _Queue) -> None:
        """Index a queue under one skill of every alternative of its widest ring.

        A new agent is then checked only against queues that name a skill they hold (or that
        need no skill at all).
        """
        firsts = [[t.skill for t in alt if isinstance(t, SkillTerm)] for alt in queue.widest]
        if any(not named for named in firsts):
            self._open_queues.append(queue)
        else:
            queue.indexed = tuple(sorted({named[0] for named in firsts}))
            for skill in queue.indexed:
                self._queues_by_skill.setdefault(skill, []).append(queue)

    def _meets(self, agent: _Agent, queue: _Queue) -> bool:
        """Whether the agent is a member of ``queue`` (the test of :meth:`_enrol`)."""
        if queue.indexed and not any(skill in agent.skills for skill in queue.indexed):
            return False
        return matches_any(queue.widest, agent.skills, agent.languages)

    def _drop_queue(self, queue: _Queue) -> None:
        """Take a queue at its safe point out of the indexes and its members' pools."""
        if queue in self._open_queues:
            self._open_queues.remove(queue)
        for skill in queue.indexed:
            queues = self._queues_by_skill[skill]
            queues.remove(queue)
            if not queues:
                del self._queues_by_skill[skill]
        for agent in queue.members.values():
            agent.queues.remove(queue)
            agent.proficiency.pop(queue.id, None)
            agent.pools = [p for p in agent.pools if p.queue is not queue]
            agent.push_pools = [p for p in agent.push_pools if p.queue is not queue]
            agent.innermost = {k: p for k, p in agent.innermost.items() if p.queue is not queue}
            channels: list[Channel] = []
            for pool in agent.pools:
                if pool.channel not in channels:
                    channels.append(pool.channel)
            agent.channels = channels
        queue.members = {}

    # ------------------------------------------------------------------ plumbing

    def _shared(
        self, kept: dict[_K, Mapping[str, Any]], key: _K, data: dict[str, Any]
    ) -> Mapping[str, Any]:
        """A read-only event ``data`` mapping, kept to be shared by every event that has it.

        Inlined for performance: most events' data repeat (an agent going from reserved to
        on a contact, a contact finishing answered), and one shared mapping instead of a new
        dict per event keeps a long event log about a third smaller, so a long simulation
        runs in less memory and faster. Read-only, so sharing cannot leak a change from one
        event to another; the number kept is bounded (keys come from configuration: states,
        outcomes, priorities, requirement sets, reason codes).
        """
        shared = MappingProxyType(data)
        if len(kept) < _SHARED_DATA_LIMIT:
            kept[key] = shared
        return shared

    def _take_result(self) -> Result:
        result = Result(self._effects, self._events)
        self._effects = []
        self._events = []
        return result

    def _event(
        self,
        kind: EventKind,
        contact: _Contact | None = None,
        agent: _Agent | None = None,
        queue: _Queue | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """Log one event of this call, numbered in turn and stamped now."""
        self._event_seq = seq = self._event_seq + 1
        self._events.append(
            Event(
                seq,
                self.now,
                kind,
                contact.id if contact is not None else None,
                agent.id if agent is not None else None,
                queue.id if queue is not None else None,
                contact.channel if contact is not None else None,
                data if data is not None else NO_DATA,
            )
        )

    def _queue(self, queue_id: str) -> _Queue:
        queue = self._queues.get(queue_id)
        if queue is None:
            raise RoutingConflict(f"unknown queue {queue_id!r}")
        return queue

    def _agent(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise RoutingConflict(f"unknown agent {agent_id!r}")
        return agent

    def _contact(self, contact_id: str) -> _Contact:
        contact = self._contacts.get(contact_id)
        if contact is None:
            raise RoutingConflict(f"unknown or finished contact {contact_id!r}")
        return contact

    def _timer(
        self,
        delay: float,
        kind: str,
        contact: _Contact | None = None,
        agent: _Agent | None = None,
        value: Any = None,
    ) -> _Timer:
        timer = _Timer(self.now + delay, kind, contact, agent, value)
        self._timer_seq += 1
        heapq.heappush(self._timers, (timer.deadline, self._timer_seq, timer))
        return timer

    def _fire_timers(self, until: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= until:
            deadline, _, timer = heapq.heappop(timers)
            if timer.cancelled:
                self._stale_timers -= 1
                continue
            if timers and timers[0][0] == deadline and timer.kind == "age":
                self._fire_together(deadline, timer)
                continue
            timer.cancelled = True  # fired: no longer in the heap
            self.now = max(self.now, deadline)
            self._fire(timer)
            self._settle()

    def _fire_together(self, deadline: float, first: _Timer) -> None:
        """Fire every timer due at ``deadline``, contacts reaching a wider ring in queue order.

        Contacts that age at the same instant are offered the agents their new ring reaches
        in the order they wait in the queue (class, credited start, arrival), not in the order
        their timers happened to be armed: a contact returned to the queue after a ring
        timeout re-arms its timers later than those who arrived after it.
        """
        timers = self._timers
        batch = [first]
        while timers and timers[0][0] == deadline:
            batch.append(heapq.heappop(timers)[2])
        ages = [t for t in batch if t.kind == "age" and t.contact is not None]
        others = [t for t in batch if t.kind != "age" or t.contact is None]
        ages.sort(key=_age_order)
        self.now = max(self.now, deadline)
        for timer in others + ages:
            if timer.cancelled:  # cancelled by a timer fired before it in this batch
                self._stale_timers = max(0, self._stale_timers - 1)
                continue
            timer.cancelled = True  # fired: no longer in the heap
            self._fire(timer)
            self._settle()

    def _fire(self, timer: _Timer) -> None:
        kind = timer.kind
        contact = timer.contact
        if kind == "ring":
            assert contact is not None and timer.agent is not None
            self._ring_no_answer(contact, timer.agent)
        elif kind == "wrap":
            assert contact is not None and timer.agent is not None
            self._end_wrap(timer.agent, contact, None)
        elif kind == "age":
            assert contact is not None
            self._age(contact, int(timer.value))
        elif kind == "overflow":
            assert contact is not None
            if contact.stage == _WAITING:
                self._overflow(contact, timer.value, "wait_exceeds")
            else:
                contact.overflow_due = timer.value
        elif kind == "announce":
            assert contact is not None
            if contact.stage == _WAITING:
                self._announce(contact)
            assert contact.queue is not None and contact.queue.cfg.announce_every_s is not None
            contact.timers.append(
                self._timer(contact.queue.cfg.announce_every_s, "announce", contact)
            )

    # ------------------------------------------------------------------ agents

    def _register(self, cfg: AgentConfig) -> _Agent:
        """Know an agent by ``cfg``: a new one (logged out), or a known one holding nothing.

        A known agent keeps their presence, reason, idle time and today's counters (the
        fairness keys of the strategies) and their number; only what the configuration says
        — skills, languages, capacity, wrap-up — and so their queues and pools change.
        """
        old = self._agents.get(cfg.id)
        if old is not None:
            self._update_agent(old, cfg)
            return old
        capacity = {ch: self.config.capacity(cfg, ch) for ch in Channel}
        agent = _Agent(cfg, self._next_index, capacity)
        self._next_index += 1
        self._agents[cfg.id] = agent
        self._enrol(agent)
        return agent

    def _enrol(self, agent: _Agent) -> None:
        """Make the agent a member of every queue (and its pools) whose requirements they meet."""
        candidates: dict[str, _Queue] = {q.id: q for q in self._open_queues}
        for skill in agent.skills:
            for queue in self._queues_by_skill.get(skill, ()):
                candidates[queue.id] = queue
        for queue in sorted(candidates.values(), key=lambda q: q.id):
            if not matches_any(queue.widest, agent.skills, agent.languages):
                continue
            queue.members[agent.id] = agent
            agent.queues.append(queue)
            agent.proficiency[queue.id] = sum(agent.skills.get(s, 0) for s in queue.skills)
            for pool in queue.pools.values():
                self._join(agent, pool)

    def _update_agent(self, agent: _Agent, cfg: AgentConfig) -> None:
        """Give a known agent who holds nothing a new configuration, in place.

        The agent leaves every queue and pool and joins those the new skills and languages
        meet; the queues' logged-in and serving counts follow. Presence, reason, idle time,
        today's counters and the agent's number stay, so the strategies' fairness keys carry
        on as if nothing happened. A queue the agent was the last one logged in to follows
        its no-agents rule, as after a logout.
        """
        assert not agent.items
        logged_in = agent.presence != _OUT
        self._leave_serving(agent)
        left = list(agent.queues)
        for queue in left:
            queue.members.pop(agent.id, None)
            if logged_in:
                queue.logged_in -= 1
        for pool in agent.pools:
            pool.members.discard(agent.id)
        agent.cfg = cfg
        agent.skills = dict(cfg.skills)
        agent.languages = cfg.languages
        agent.capacity = {ch: self.config.capacity(cfg, ch) for ch in Channel}
        agent.load = dict.fromkeys(agent.capacity, 0)
        agent.pools = []
        agent.push_pools = []
        agent.innermost = {}
        agent.channels = []
        agent.queues = []
        agent.proficiency = {}
        self._enrol(agent)
        if logged_in:
            for queue in agent.queues:
                queue.logged_in += 1
        if agent.presence == _READY:
            self._join_serving(agent)
        self._invalidate(agent)
        for queue in left:
            if logged_in and queue.logged_in == 0:
                self._empty_queue_rules(queue)

    def _join(self, agent: _Agent, pool: _Pool) -> None:
        if agent.capacity.get(pool.channel, 0) <= 0:
            return
        if not matches_any(pool.terms, agent.skills, agent.languages):
            return
        pool.members.add(agent.id)
        agent.pools.append(pool)
        if pool.channel not in agent.channels:
            agent.channels.append(pool.channel)
        # Keep push_pools (the innermost pool of each queue, extra terms and channel, in the
        # order the groups first appeared) up to date for this one pool, rather than rebuilt
        # from all of the agent's pools: pools are made lazily while contacts arrive, each
        # joined by all of the queue's members, so this runs inside decisions.
        group = (pool.queue.id, pool.extra, pool.channel)
        known = agent.innermost.get(group)
        if known is None:
            agent.innermost[group] = pool
            agent.push_pools.append(pool)
        elif pool.ring < known.ring:
            agent.innermost[group] = pool
            push_pools = agent.push_pools
            push_pools[push_pools.index(known)] = pool

    def _can_take(self, agent: _Agent, channel: Channel) -> bool:
        if agent.presence != _READY or agent.exclusive_load:
            return False
        if agent.load.get(channel, 0) >= agent.capacity.get(channel, 0):
            return False
        return not (channel in self._exclusive and agent.total_load)

    def _touch(self, agent: _Agent) -> None:
        """The agent's shown state may have changed (availability has not)."""
        self._dirty[agent] = None

    def _invalidate(self, agent: _Agent) -> None:
        """The agent's availability or strategy keys changed.

        A new version makes every heap entry of this agent stale at once; :meth:`_settle`
        looks for waiting work and pushes fresh entries. Changes that leave availability and
        keys alone only ``_touch`` — skipping the pushes is most of a decision's cost.
        """
        agent.version += 1
        self._dirty[agent] = None

    def _counted(self, agent: _Agent, contact: _Contact) -> None:
        # Answering changes "contacts today" (a strategy key) but not the load: an agent on a
        # call has no heap entries to refresh; one with free chat slots has.
        if contact.channel in self._exclusive:
            self._touch(agent)
        else:
            self._invalidate(agent)

    def _settle(self) -> None:
        dirty = self._dirty
        while dirty:
            agent = next(iter(dirty))
            if agent.version != agent.settled_version:
                # An agent on a call (exclusive load) can take nothing: no search, no push —
                # also right after being offered one here.
                while agent.presence == _READY and not agent.exclusive_load:
                    contact = self._best_contact(agent)
                    if contact is None:
                        self._push(agent)
                        break
                    self._offer(contact, agent, "queue")
                agent.settled_version = agent.version
            del dirty[agent]
            self._show_state(agent)

    def _push(self, agent: _Agent) -> None:
        """Announce an available agent to the innermost pools they belong to.

        Only a note ``(agent, version)`` is appended: the strategy key is computed and the
        entry heaped when a contact next draws from that pool (:meth:`_merge`). An agent
        serves many pools and usually gets work from one of them soon, so most notes go
        stale unread — and a stale note costs an append, not a heap push and pop. The key is
        the same either way: every change that moves a key also moves the version.
        """
        note = (agent, agent.version)
        if agent.total_load == 0 and agent.presence == _READY:
            # Idle and ready: every channel the agent has pools for has room (a pool is only
            # joined with capacity on its channel), so no per-channel check (_can_take).
            for pool in agent.push_pools:
                pending = pool.pending
                pending.append(note)
                if len(pending) > 2 * len(pool.members) + 16:
                    pool.pending = [n for n in pending if n[1] == n[0].version]
            return
        takeable = [ch for ch in agent.channels if self._can_take(agent, ch)]
        if not takeable:
            return
        for pool in agent.push_pools:
            if pool.channel in takeable:
                pending = pool.pending
                pending.append(note)
                if len(pending) > 2 * len(pool.members) + 16:
                    pool.pending = [n for n in pending if n[1] == n[0].version]

    def _merge(self, pool: _Pool) -> None:
        """Heap the pool's pending agent notes that are still current."""
        pending = pool.pending
        if not pending:
            return
        pool.pending = []
        queue = pool.queue
        key = queue.key
        channel = pool.channel
        rng = self._rng
        # A current version means nothing about the agent's availability has changed since
        # the note was made (every such change bumps the version), and notes are only made
        # while the agent can take this channel — so no availability check is needed here.
        heap = pool.agents
        run = pool.run
        loose = pool.loose
        for agent, version in pending:
            if version != agent.version:
                continue
            entry = (key(agent, queue.id, channel, rng), agent.index, version, agent)
            # Keys mostly arrive in order (longest idle: the time the agent came free), so
            # in-order entries go to a run — O(1) in and out. The rest wait in a short loose
            # list first: most agents get work from another pool before this one draws
            # again, and an entry dropped from the loose list never costs a heap push and pop.
            if not run or entry > run[-1]:
                run.append(entry)
            else:
                loose.append(entry)
        if len(loose) > _LOOSE_LIMIT:
            if len(loose) > len(heap) // 4:
                heap.extend(e for e in loose if e[2] == e[3].version)
                heapq.heapify(heap)
            else:
                for entry in loose:
                    if entry[2] == entry[3].version:
                        heapq.heappush(heap, entry)
            loose.clear()
        limit = 2 * len(pool.members) + 16
        if len(heap) > limit:
            heap[:] = [e for e in heap if e[2] == e[3].version]
            heapq.heapify(heap)
        if len(run) > limit:
            pool.run = deque([e for e in run if e[2] == e[3].version])

    def _show_state(self, agent: _Agent) -> None:
        # The common shapes (no contact, or one) inlined for performance; see _derive_state.
        items = agent.items
        presence = agent.presence
        if presence == _OUT:
            state = _AgentState.LOGGED_OUT
        elif not items:
            state = _AgentState.AVAILABLE if presence == _READY else _AgentState.NOT_READY
        elif len(items) == 1:
            state = _ITEM_STATES[next(iter(items.values())).stage]
        else:
            state = _derive_state(agent)
        reason = agent.reason if state is _AgentState.NOT_READY else None
        if state is agent.state and reason == agent.shown_reason:
            return
        previous = agent.state
        agent.state = state
        agent.shown_reason = reason
        # The event's data and the effect repeat for every such change of this agent: both
        # are immutable, so they are made once and kept (inlined for performance).
        change = (state, previous, reason)
        shown = agent.shown.get(change)
        if shown is None:
            data = self._state_data.get(change)
            if data is None:
                data = self._shared(
                    self._state_data,
                    change,
                    {"state": _TEXT[state], "previous": _TEXT[previous], "reason": reason},
                )
            shown = (data, AgentStateChanged(agent.id, state, reason))
            if len(agent.shown) < _SHARED_DATA_LIMIT:
                agent.shown[change] = shown
        data, effect = shown
        self._event(_EventKind.AGENT_STATE, None, agent, None, data)
        self._effects.append(effect)

    def _best_contact(self, agent: _Agent) -> _Contact | None:
        best: _Contact | None = None
        best_score: tuple[int, float, int] = (0, 0.0, 0)
        can: dict[Channel, bool] = {}
        now = self.now
        for pool in agent.pools:
            if not pool.waiting:
                continue
            channel = pool.channel
            ok = can.get(channel)
            if ok is None:
                ok = can[channel] = self._can_take(agent, channel)
            if not ok:
                continue
            contact = self._head_contact(pool, agent)
            if contact is None:
                continue
            score = (contact.cls, (now - contact.credited_at) / pool.queue.target_s, -contact.seq)
            if best is None or score > best_score:
                best = contact
                best_score = score
        return best

    def _head_contact(self, pool: _Pool, agent: _Agent) -> _Contact | None:
        heap = pool.contacts
        while heap:
            entry = heap[0]
            contact = entry[4]
            if entry[3] != contact.version:
                heapq.heappop(heap)
                continue
            if (contact.declined and agent.id in contact.declined) or contact.id in agent.items:
                # Rare: this agent declined the head, or is still wrapping it up after
                # transferring it to a queue; look further down without disturbing.
                for other in sorted(heap):
                    candidate = other[4]
                    if other[3] == candidate.version and not _refuses(agent, candidate):
                        return candidate
                return None
            return contact
        return None

    def _best_agent(self, contact: _Contact, pool: _Pool) -> _Agent | None:
        """The available agent the queue's strategy picks for a contact of ``pool``."""
        family = pool.family
        if len(family) == 1:
            # A queue without ageing rings: one pool to look at (inlined for performance).
            head = self._head_agent(pool, contact)
            return None if head is None else head[3]
        best: _AgentEntry | None = None
        for member in family:
            entry = self._head_agent(member, contact)
            if entry is not None and (best is None or entry[:2] < best[:2]):
                best = entry
        return None if best is None else best[3]

    def _head_agent(self, pool: _Pool, contact: _Contact) -> _AgentEntry | None:
        """The best available agent entry of one pool for this contact (stale ones dropped)."""
        if pool.pending:
            self._merge(pool)
        # A current version means the agent is still available (see _merge).
        heap = pool.agents
        while heap and heap[0][2] != heap[0][3].version:
            heapq.heappop(heap)
        run = pool.run
        while run and run[0][2] != run[0][3].version:
            run.popleft()
        entry: _AgentEntry | None = None
        if run and (not heap or run[0] < heap[0]):
            entry = run[0]
        elif heap:
            entry = heap[0]
        loose = pool.loose
        if loose:
            kept = [e for e in loose if e[2] == e[3].version]
            if len(kept) != len(loose):
                pool.loose = loose = kept
            for other in loose:
                if entry is None or other < entry:
                    entry = other
        if entry is None:
            return None
        if (contact.declined and entry[3].id in contact.declined) or contact.id in entry[3].items:
            # Rare: this agent declined the contact, or is still wrapping it up after
            # transferring it to a queue; look further down without disturbing.
            for other in sorted([*run, *heap, *pool.loose]):
                candidate = other[3]
                if other[2] == candidate.version and not _refuses(candidate, contact):
                    return other
            return None
        return entry

    # ------------------------------------------------------------------ contacts in queues

    def _pool(self, queue: _Queue, ring: int, extra: tuple[Term, ...], channel: Channel) -> _Pool:
        key = (ring, extra, channel)
        pool = queue.pools.get(key)
        if pool is not None:
            return pool
        pool = _Pool(queue, ring, extra, channel, _ring_terms(queue, ring, extra))
        queue.pools[key] = pool
        family = sorted(
            (p for p in queue.pools.values() if p.extra == extra and p.channel == channel),
            key=lambda p: p.ring,
        )
        for member in family:
            member.family = [p for p in family if p.ring <= member.ring]
        # A new pool has no contacts yet, so its ready members need no search: their current
        # entries elsewhere stay valid and each gets one note here (not a full refresh, which
        # would push every member into every pool of theirs at once).
        for agent in queue.members.values():
            self._join(agent, pool)
            if agent.id in pool.members and self._can_take(agent, channel):
                pool.pending.append((agent, agent.version))
        return pool

    def _enter_queue(
        self, contact: _Contact, queue: _Queue, place_at: float, check_rules: bool = True
    ) -> None:
        """Put a contact into ``queue`` (its place counted from ``place_at``) or overflow it."""
        if contact.timers:
            self._cancel_contact_timers(contact)
        contact.queue = queue
        contact.queued_at = self.now
        contact.place_at = place_at
        contact.ring = 0
        contact.overflow_due = None
        cfg = queue.cfg
        if cfg.priority_mode is _PriorityMode.STRICT:
            contact.cls = contact.priority
            contact.credited_at = place_at
        else:
            contact.cls = 0
            contact.credited_at = place_at - cfg.head_start(contact.priority)
        if check_rules and queue.entry_rules and contact.hops < MAX_OVERFLOW_HOPS:
            rule = self._entry_rule(queue)
            if rule is not None:
                self._apply(contact, rule, str(rule.when), queued=False)
                return
        asked = (contact.priority, contact.extra)
        data = self._queued_data.get(asked)
        if data is None:
            data = self._shared(
                self._queued_data,
                asked,
                {"priority": contact.priority, "requirements": self._texts(contact.extra)},
            )
        self._event(_EventKind.QUEUED, contact, None, queue, data)
        self._wait(contact)
        if contact.stage == _WAITING:
            self._arm(contact)
            if cfg.announce_every_s is not None:
                self._announce(contact)

    def _arm(self, contact: _Contact) -> None:
        """Set the waiting contact's timers: ageing rings, overflow after a wait, announcements.

        Armed only once a contact actually waits: most contacts meet an agent at once, and
        timers never set cost nothing to cancel.
        """
        queue = contact.queue
        assert queue is not None
        elapsed = self.now - contact.queued_at
        rings = queue.rings
        for ring in range(contact.ring + 1, len(rings)):
            contact.timers.append(self._timer(rings[ring][0] - elapsed, "age", contact, value=ring))
        cfg = queue.cfg
        for rule in cfg.overflow:
            if rule.when is _OverflowCondition.WAIT_EXCEEDS:
                assert rule.value is not None
                delay = rule.value - elapsed
                contact.timers.append(self._timer(delay, "overflow", contact, value=rule))
        if cfg.announce_every_s is not None:
            contact.timers.append(self._timer(cfg.announce_every_s, "announce", contact))

    def _texts(self, extra: tuple[Term, ...]) -> tuple[str, ...]:
        texts = self._text_cache.get(extra)
        if texts is None:
            texts = self._text_cache[extra] = tuple(str(t) for t in extra)
        return texts

    def _entry_rule(self, queue: _Queue) -> OverflowRule | None:
        cfg = queue.cfg
        is_open = cfg.calendar is None or cfg.calendar.is_open(self.now)
        for rule in cfg.overflow:
            when = rule.when
            if when is _OverflowCondition.CLOSED and not is_open:
                return rule
            if when is _OverflowCondition.QUEUE_LENGTH_EXCEEDS:
                assert rule.value is not None
                if len(queue.waiting) >= rule.value:
                    return rule
            if when is _OverflowCondition.NO_AGENTS_LOGGED_IN and queue.logged_in == 0:
                return rule
        if not is_open:
            return OverflowRule(_OverflowCondition.CLOSED, _OverflowAction.CLOSED_MESSAGE)
        return None

    def _wait(self, contact: _Contact) -> None:
        """Make the contact wait in the pool of its current ring, then try to match it."""
        queue = contact.queue
        assert queue is not None
        rule = contact.overflow_due
        if rule is not None and contact.hops < MAX_OVERFLOW_HOPS:
            contact.overflow_due = None
            contact.stage = _WAITING
            self._overflow(contact, rule, "wait_exceeds")
            return
        pool = queue.pools.get((contact.ring, contact.extra, contact.channel))
        if pool is None:
            pool = self._pool(queue, contact.ring, contact.extra, contact.channel)
        contact.stage = _WAITING
        agent = self._best_agent(contact, pool)
        if agent is not None:
            # An agent is free (so, by the engine's invariant, nobody in this pool waits):
            # offer straight away, without the contact ever entering the pool's heap.
            contact.pool = None
            self._offer(contact, agent, "queue")
            return
        contact.pool = pool
        contact.version += 1
        queue.waiting[contact.id] = contact
        pool.waiting += 1
        heap = pool.contacts
        heapq.heappush(
            heap, (-contact.cls, contact.credited_at, contact.seq, contact.version, contact)
        )
        if len(heap) > 2 * pool.waiting + 16:
            heap[:] = [e for e in heap if e[3] == e[4].version]
            heapq.heapify(heap)

    def _leave_pool(self, contact: _Contact) -> None:
        pool = contact.pool
        if pool is not None and contact.stage == _WAITING:
            pool.waiting -= 1
            assert contact.queue is not None
            contact.queue.waiting.pop(contact.id, None)
        contact.pool = None
        contact.version += 1

    def _cancel_contact_timers(self, contact: _Contact) -> None:
        for timer in contact.timers:
            self._cancel(timer)
        contact.timers = []

    def _cancel(self, timer: _Timer) -> None:
        """Cancel a timer; rebuild the timer heap once cancelled timers make up most of it.

        Cancelled timers leave the heap lazily, when they reach its top; a long wrap-up timer
        ended early by the agent would otherwise sit there (with its contact) for its full
        length, and the garbage collector would keep scanning it.
        """
        if timer.cancelled:
            return
        timer.cancelled = True
        self._stale_timers += 1
        timers = self._timers
        if self._stale_timers > 64 and 2 * self._stale_timers > len(timers):
            timers[:] = [entry for entry in timers if not entry[2].cancelled]
            heapq.heapify(timers)
            self._stale_timers = 0

    def _age(self, contact: _Contact, ring: int) -> None:
        contact.ring = ring
        if contact.stage == _WAITING:
            self._leave_pool(contact)
            self._wait(contact)

    def _announce(self, contact: _Contact) -> None:
        queue = contact.queue
        assert queue is not None
        position = self.position(contact.id)
        assert position is not None
        wait = estimated_wait_s(
            position=position, serving_slots=queue.serving_slots, average_handle_s=queue.handle_s
        )
        self._event(
            _EventKind.POSITION_ANNOUNCED,
            contact,
            queue=queue,
            data={"position": position, "estimated_wait_s": wait},
        )
        self._effects.append(AnnouncePosition(contact.id, queue.id, position, wait))

    def _overflow(self, contact: _Contact, rule: OverflowRule, reason: str) -> None:
        self._apply(contact, rule, reason, queued=True)

    def _apply(self, contact: _Contact, rule: OverflowRule, reason: str, queued: bool) -> None:
        """Carry out an overflow rule's action for a contact in (or entering) its queue."""
        queue = contact.queue
        assert queue is not None
        if queued:
            self._leave_pool(contact)
        self._cancel_contact_timers(contact)
        action = rule.action
        if action is _OverflowAction.QUEUE:
            assert rule.target is not None
            target = self._queues[rule.target]
            contact.hops += 1
            self._event(
                _EventKind.OVERFLOWED,
                contact,
                queue=queue,
                data={"to": target.id, "reason": reason},
            )
            self._effects.append(MovedToQueue(contact.id, queue.id, target.id, reason))
            self._enter_queue(contact, target, contact.place_at)
        elif action is _OverflowAction.CALLBACK:
            target = self._queues[rule.target] if rule.target else queue
            self._callback(contact, target, reason)
        elif action is _OverflowAction.VOICEMAIL:
            self._event(
                _EventKind.OVERFLOWED,
                contact,
                queue=queue,
                data={"to": "voicemail", "reason": reason},
            )
            self._effects.append(RouteToVoicemail(contact.id, queue.id))
            self._finish(contact, _Outcome.OVERFLOWED)
        else:
            self._effects.append(PlayClosedMessage(contact.id, queue.id))
            self._finish(contact, _Outcome.CLOSED)

    def _callback(self, contact: _Contact, target: _Queue, reason: str) -> None:
        queue = contact.queue
        callback_id = f"{contact.id}:callback"
        serial = 1
        while callback_id in self._contacts:
            serial += 1
            callback_id = f"{contact.id}:callback{serial}"
        self._event(
            _EventKind.CALLBACK_REQUESTED,
            contact,
            queue=queue,
            data={"callback_id": callback_id, "reason": reason},
        )
        self._effects.append(StartCallback(contact.id, callback_id, target.id))
        place_at = contact.place_at
        self._finish(contact, _Outcome.CALLBACK)
        self._contact_seq += 1
        callback = _Contact(
            callback_id, _Channel.CALLBACK, self._contact_seq, contact.priority, contact.extra
        )
        callback.customer = contact.customer
        self._contacts[callback_id] = callback
        self._event(
            _EventKind.ARRIVED,
            callback,
            queue=target,
            data={"callback_for": contact.id, "customer": contact.customer},
        )
        # The callback keeps the caller's place: its wait counts from the original queueing.
        self._enter_queue(callback, target, place_at, check_rules=False)

    def _finish(self, contact: _Contact, outcome: Outcome) -> None:
        if contact.answered:
            outcome = _Outcome.ANSWERED
        contact.stage = _FINISHED
        if contact.timers:
            self._cancel_contact_timers(contact)
        data = self._outcome_data.get(outcome)
        if data is None:
            data = self._shared(self._outcome_data, outcome, {"outcome": _TEXT[outcome]})
        self._event(_EventKind.FINISHED, contact, None, contact.queue, data)
        del self._contacts[contact.id]

    # ------------------------------------------------------------------ offers and talk

    def _offer(self, contact: _Contact, agent: _Agent, kind: str) -> None:
        queue = contact.queue
        if contact.stage == _WAITING:
            self._leave_pool(contact)
        contact.stage = _RINGING
        contact.agent = agent
        contact.offer_kind = kind
        item = _Item(contact, _ITEM_RINGING, self.now, queue)
        ring_timeout = queue.cfg.ring_timeout_s if queue else 20.0
        if self._auto_answer:
            self._answers.append((contact, agent))
        else:
            item.timer = self._timer(ring_timeout, "ring", contact, agent)
        agent.items[contact.id] = item
        # _add_load and _invalidate, inlined for performance (one offer per contact).
        channel = contact.channel
        agent.load[channel] = agent.load.get(channel, 0) + 1
        agent.total_load += 1
        if channel in self._exclusive:
            agent.exclusive_load += 1
        self._offer_seq += 1
        if queue is not None:
            agent.last_offered[queue.id] = self._offer_seq
        agent.version += 1
        self._dirty[agent] = None
        wait_s = self.now - contact.queued_at
        if wait_s == 0.0 and kind == "queue":
            data: Mapping[str, Any] = _OFFERED_AT_ONCE
        else:
            data = {"wait_s": wait_s, "kind": kind}
        self._event(_EventKind.OFFERED, contact, agent, queue, data)
        self._effects.append(
            Offer(
                contact.id,
                agent.id,
                queue.id if queue else None,
                contact.channel,
                ring_timeout,
                "callback" if contact.channel is _Channel.CALLBACK and kind == "queue" else kind,
            )
        )

    def _add_load(self, agent: _Agent, channel: Channel, delta: int) -> None:
        agent.load[channel] = agent.load.get(channel, 0) + delta
        agent.total_load += delta
        if channel in self._exclusive:
            agent.exclusive_load += delta

    def _drop_item(self, agent: _Agent, contact: _Contact) -> _Item:
        item = agent.items.pop(contact.id)
        if item.timer is not None:
            self._cancel(item.timer)
        # _add_load and _invalidate, inlined for performance (every contact leaves an agent).
        channel = item.channel
        agent.load[channel] -= 1
        agent.total_load -= 1
        if channel in self._exclusive:
            agent.exclusive_load -= 1
        if agent.total_load == 0:
            agent.idle_since = self.now
        agent.version += 1
        self._dirty[agent] = None
        return item

    def _return_to_queue(self, contact: _Contact) -> None:
        """Put a contact whose offer failed back in its place (the head, unless outranked)."""
        contact.agent = None
        queue = contact.queue
        assert queue is not None
        if contact.offer_kind == "transfer":
            # A direct transfer that nobody took goes to the queue, keeping its old place.
            self._enter_queue(contact, queue, contact.place_at, check_rules=False)
            return
        if contact.timers:
            self._wait(contact)
            return
        # Offered before it ever waited, so no timers were set: catch up on the rings and
        # overflow rules its time in the queue has already reached, then arm the rest.
        elapsed = self.now - contact.queued_at
        contact.ring = max(r for r, ring in enumerate(queue.rings) if ring[0] <= elapsed)
        for rule in queue.cfg.overflow:
            if rule.when is _OverflowCondition.WAIT_EXCEEDS:
                assert rule.value is not None
                if rule.value <= elapsed:
                    contact.overflow_due = rule
                    break
        self._wait(contact)
        if contact.stage == _WAITING:
            self._arm(contact)

    def _ring_no_answer(self, contact: _Contact, agent: _Agent) -> None:
        self._drop_item(agent, contact)
        self._event(_EventKind.RING_NO_ANSWER, contact, agent, contact.queue)
        self._effects.append(CancelOffer(contact.id, agent.id, "ring_no_answer"))
        self._leave_serving(agent)
        agent.presence = _NOT_READY
        agent.reason = self.config.ring_no_answer_reason
        self._invalidate(agent)
        self._return_to_queue(contact)

    def _on_answered(self, command: OfferAnswered) -> None:
        contact = self._contact(command.contact_id)
        agent = self._agent(command.agent_id)
        item = agent.items.get(contact.id)
        if contact.stage != _RINGING or item is None or item.stage != _ITEM_RINGING:
            raise RoutingConflict(f"{contact.id} is not ringing at {agent.id}")
        self._answer(contact, agent, item)

    def _answer_offers(self) -> None:
        """Answer the offers made while handling a command or advancing (``auto_answer``).

        Each is answered as if a driver had sent ``OfferAnswered`` for it right after the
        call that made it: after that call settled, one at a time, each answer settled before
        the next (an answer can free a chat agent for another offer, answered in turn), and
        after any timer falling due at this instant — so the event log is the same.
        """
        answers = self._answers
        index = 0
        while index < len(answers):
            contact, agent = answers[index]
            index += 1
            timers = self._timers
            if timers and timers[0][0] <= self.now:
                self._fire_timers(self.now)
            item = agent.items.get(contact.id)
            if contact.stage != _RINGING or item is None or item.stage != _ITEM_RINGING:
                continue  # no longer ringing here (the caller hung up, say): nothing to answer
            self._answer(contact, agent, item)
            if self._dirty:
                self._settle()
        answers.clear()

    def _answer(self, contact: _Contact, agent: _Agent, item: _Item) -> None:
        """The agent answers the ringing contact."""
        if item.timer is not None:
            self._cancel(item.timer)
            item.timer = None
        item.stage = _ITEM_TALKING
        item.started = self.now
        if contact.timers:
            self._cancel_contact_timers(contact)
        contact.stage = _CONNECTED
        contact.answered = True
        contact.talk_started = self.now
        contact.history.append(
            Segment(contact.queue.id if contact.queue else None, agent.id, self.now)
        )
        agent.contacts_today += 1
        # _counted, inlined for performance.
        if contact.channel in self._exclusive:
            self._dirty[agent] = None
        else:
            agent.version += 1
            self._dirty[agent] = None
        wait_s = self.now - contact.queued_at
        data = _NO_WAIT if wait_s == 0.0 else {"wait_s": wait_s}
        self._event(_EventKind.ANSWERED, contact, agent, contact.queue, data)

    def _on_rejected(self, command: OfferRejected) -> None:
        contact = self._contact(command.contact_id)
        agent = self._agent(command.agent_id)
        item = agent.items.get(contact.id)
        if contact.stage != _RINGING or item is None or item.stage != _ITEM_RINGING:
            raise RoutingConflict(f"{contact.id} is not ringing at {agent.id}")
        self._drop_item(agent, contact)
        self._event(_EventKind.RING_NO_ANSWER, contact, agent, contact.queue, {"rejected": True})
        if contact.declined is None:
            contact.declined = set()
        contact.declined.add(agent.id)
        self._return_to_queue(contact)

    def _on_abandoned(self, command: ContactAbandoned) -> None:
        contact = self._contact(command.contact_id)
        if contact.stage == _ENDED:
            raise RoutingConflict(f"{contact.id} has already ended")
        if contact.stage == _CONNECTED:
            # The customer hung up on an agent: that is the end of the conversation.
            self._on_ended(ContactEnded(command.at, command.contact_id))
            return
        self._abandon(contact)

    def _abandon(self, contact: _Contact) -> None:
        queue = contact.queue
        if contact.stage == _RINGING:
            agent = contact.agent
            assert agent is not None
            self._drop_item(agent, contact)
            self._effects.append(CancelOffer(contact.id, agent.id, "abandoned"))
        else:
            self._leave_pool(contact)
        self._event(
            _EventKind.ABANDONED, contact, None, queue, {"wait_s": self.now - contact.queued_at}
        )
        self._finish(contact, _Outcome.ABANDONED)

    def _on_ended(self, command: ContactEnded) -> None:
        contact = self._contacts.get(command.contact_id)
        if contact is None:
            contact = self._contact(command.contact_id)  # refuses it: unknown or finished
        if contact.stage in (_WAITING, _RINGING):
            self._abandon(contact)
            return
        if contact.stage != _CONNECTED:
            raise RoutingConflict(f"{contact.id} has already ended")
        agent = contact.agent
        assert agent is not None
        if contact.hold_started is not None:
            self._close_hold(contact, agent)
        item = agent.items[contact.id]
        self._event(
            _EventKind.DISCONNECTED,
            contact,
            agent,
            contact.queue,
            {"talk_s": self.now - item.started - item.hold_s, "hold_s": item.hold_s},
        )
        if contact.consult is not None:
            self._end_consult(contact, transfer=False)
        contact.stage = _ENDED
        self._start_wrap(agent, contact, item)

    def _start_wrap(self, agent: _Agent, contact: _Contact, item: _Item) -> None:
        """The agent's part of the contact is over; after-contact work starts."""
        item.stage = _ITEM_WRAP
        contact.wrapping += 1
        contact.agent = None
        queue_cfg = item.queue.cfg if item.queue else None
        wrap_s = agent.cfg.wrap_up_s
        if wrap_s is None:
            wrap_s = queue_cfg.wrap_up_s if queue_cfg else 0.0
        self._dirty[agent] = None  # _touch, inlined for performance
        if wrap_s <= 0:
            self._end_wrap(agent, contact, None)
        else:
            item.timer = self._timer(wrap_s, "wrap", contact, agent)
            item.timer.value = self.now

    def _end_wrap(self, agent: _Agent, contact: _Contact, disposition: str | None) -> None:
        item = agent.items[contact.id]
        now = self.now
        wrap_started: float = item.timer.value if item.timer is not None else now
        self._drop_item(agent, contact)
        wrap_s = now - wrap_started
        handled = wrap_started - item.started + wrap_s
        agent.handling_s_today += handled
        if item.queue is not None:
            item.queue.handle_s = smoothed_handle_s(item.queue.handle_s, handled)
        if disposition is not None:
            data: Mapping[str, Any] = {"wrap_s": wrap_s, "disposition": disposition}
        elif wrap_s == 0.0:
            data = _NO_WRAP_UP
        else:
            data = {"wrap_s": wrap_s}
        self._event(_EventKind.WRAP_UP_ENDED, contact, agent, item.queue, data)
        contact.wrapping -= 1
        if contact.stage == _ENDED and contact.wrapping == 0:
            self._finish(contact, _Outcome.ANSWERED)

    def _on_wrap_up_ended(self, command: WrapUpEnded) -> None:
        agent = self._agent(command.agent_id)
        item = agent.items.get(command.contact_id)
        if item is None or item.stage != _ITEM_WRAP:
            raise RoutingConflict(f"{agent.id} is not in wrap-up for {command.contact_id}")
        self._end_wrap(agent, item.contact, command.disposition)

    def _close_hold(self, contact: _Contact, agent: _Agent) -> None:
        if contact.hold_started is not None:
            agent.items[contact.id].hold_s += self.now - contact.hold_started
            contact.hold_started = None

    def _on_held(self, command: ContactHeld) -> None:
        contact = self._contact(command.contact_id)
        if contact.stage != _CONNECTED or contact.hold_started is not None:
            raise RoutingConflict(f"{contact.id} is not connected off hold")
        contact.hold_started = self.now
        self._event(_EventKind.HELD, contact, contact.agent, contact.queue)

    def _on_resumed(self, command: ContactResumed) -> None:
        contact = self._contact(command.contact_id)
        if contact.stage != _CONNECTED or contact.hold_started is None:
            raise RoutingConflict(f"{contact.id} is not on hold")
        assert contact.agent is not None
        self._close_hold(contact, contact.agent)
        self._event(_EventKind.RESUMED, contact, contact.agent, contact.queue)

    # ------------------------------------------------------------------ transfers and consults

    def _connected(self, contact_id: str) -> tuple[_Contact, _Agent]:
        contact = self._contact(contact_id)
        if contact.stage != _CONNECTED or contact.agent is None:
            raise RoutingConflict(f"{contact_id} is not connected to an agent")
        return contact, contact.agent

    def _on_transfer_to_queue(self, command: TransferredToQueue) -> None:
        contact, agent = self._connected(command.contact_id)
        target = self._queue(command.queue)
        extra = _parse_command_terms(command.requirements, None)
        if contact.consult is not None:
            self._end_consult(contact, transfer=False)
        self._hand_over(contact, agent, {"to_queue": target.id})
        if extra:
            contact.extra = canonical((*contact.extra, *extra))
        contact.declined = None
        source = contact.queue.id if contact.queue else None
        self._effects.append(MovedToQueue(contact.id, source, target.id, "transfer"))
        self._enter_queue(contact, target, self.now)

    def _hand_over(self, contact: _Contact, agent: _Agent, data: dict[str, Any]) -> None:
        """The agent hands the contact on: log it and start the agent's wrap-up."""
        self._close_hold(contact, agent)
        item = agent.items[contact.id]
        self._event(_EventKind.TRANSFERRED, contact, agent, contact.queue, data)
        self._start_wrap(agent, contact, item)

    def _available(self, agent_id: str, contact: _Contact) -> _Agent:
        """The agent a contact is handed to directly (transfer, consult), if they can take it.

        Not one who still holds it: an agent who transferred a chat on keeps free chat slots
        while wrapping it up, and a second item for the same contact would replace the first.
        """
        agent = self._agent(agent_id)
        if not self._can_take(agent, contact.channel):
            raise RoutingConflict(f"agent {agent_id} is not available for {contact.channel.value}")
        if contact.id in agent.items:
            raise RoutingConflict(f"agent {agent_id} still holds {contact.id}")
        return agent

    def _on_transfer_to_agent(self, command: TransferredToAgent) -> None:
        contact, agent = self._connected(command.contact_id)
        if command.agent_id == agent.id:
            raise RoutingConflict("an agent cannot transfer a contact to themselves")
        target = self._available(command.agent_id, contact)
        if contact.consult is not None:
            self._end_consult(contact, transfer=False)
        self._hand_over(contact, agent, {"to_agent": target.id})
        self._offer(contact, target, "transfer")

    def _on_consult_started(self, command: ConsultStarted) -> None:
        contact, agent = self._connected(command.contact_id)
        if contact.consult is not None:
            raise RoutingConflict(f"{contact.id} already has a consult")
        if command.agent_id == agent.id:
            raise RoutingConflict("an agent cannot consult themselves")
        target = self._available(command.agent_id, contact)
        target.items[contact.id] = _Item(contact, _ITEM_CONSULT, self.now, contact.queue)
        self._add_load(target, contact.channel, 1)
        self._invalidate(target)
        contact.consult = target
        self._event(
            _EventKind.CONSULT_STARTED, contact, agent, contact.queue, {"consulted": target.id}
        )
        self._effects.append(ConnectConsult(contact.id, target.id))

    def _on_consult_ended(self, command: ConsultEnded) -> None:
        contact, _agent = self._connected(command.contact_id)
        if contact.consult is None:
            raise RoutingConflict(f"{contact.id} has no consult")
        self._end_consult(contact, command.transfer)

    def _end_consult(self, contact: _Contact, transfer: bool) -> None:
        target = contact.consult
        agent = contact.agent
        assert target is not None and agent is not None
        contact.consult = None
        self._event(
            _EventKind.CONSULT_ENDED,
            contact,
            agent,
            contact.queue,
            {"consulted": target.id, "transfer": transfer},
        )
        if not transfer:
            self._drop_item(target, contact)
            return
        self._hand_over(contact, agent, {"to_agent": target.id, "warm": True})
        item = target.items[contact.id]
        item.stage = _ITEM_TALKING
        item.started = self.now
        contact.agent = target
        contact.history.append(
            Segment(contact.queue.id if contact.queue else None, target.id, self.now)
        )
        target.contacts_today += 1
        self._counted(target, contact)

    def _on_callback_requested(self, command: CallbackRequested) -> None:
        contact = self._contact(command.contact_id)
        if contact.stage != _WAITING or contact.queue is None:
            raise RoutingConflict(f"{contact.id} is not waiting in a queue")
        queue = contact.queue
        self._leave_pool(contact)
        self._cancel_contact_timers(contact)
        self._callback(contact, queue, "requested")

    # ------------------------------------------------------------------ arrivals and presence

    def _on_queued(self, command: ContactQueued) -> None:
        if command.contact_id in self._contacts:
            raise RoutingConflict(f"contact {command.contact_id!r} is already in the engine")
        queue = self._queues.get(command.queue)
        if queue is None:
            queue = self._queue(command.queue)  # refuses it: unknown queue
        asked = (command.requirements, command.language)
        extra = self._extra_cache.get(asked)
        if extra is None:
            extra = self._extra_cache[asked] = _parse_command_terms(*asked)
        priority = queue.cfg.default_priority if command.priority is None else command.priority
        self._contact_seq += 1
        contact = _Contact(
            command.contact_id,
            command.channel or queue.channel,
            self._contact_seq,
            priority,
            extra,
        )
        contact.customer = command.customer
        self._contacts[contact.id] = contact
        if command.log_arrival:
            if command.customer is None:
                self._event(_EventKind.ARRIVED, contact, None, queue, _NO_CUSTOMER)
            else:
                self._event(
                    _EventKind.ARRIVED, contact, None, queue, {"customer": command.customer}
                )
        self._enter_queue(contact, queue, self.now)

    def _on_login(self, command: AgentLoggedIn) -> None:
        agent = self._agents.get(command.agent_id)
        if agent is not None and agent.presence != _OUT:
            raise RoutingConflict(f"agent {command.agent_id} is already logged in")
        if command.config is not None:
            if command.config.id != command.agent_id:
                raise RoutingConflict("the agent configuration names another agent")
            agent = self._register(command.config)
        if agent is None:
            raise RoutingConflict(f"unknown agent {command.agent_id!r}; pass its config")
        agent.idle_since = self.now
        for queue in agent.queues:
            queue.logged_in += 1
        if command.ready:
            agent.presence = _READY
            agent.reason = None
            self._join_serving(agent)
        else:
            agent.presence = _NOT_READY
            agent.reason = command.reason or "login"
        self._invalidate(agent)

    def _on_logout(self, command: AgentLoggedOut) -> None:
        agent = self._agent(command.agent_id)
        if agent.presence == _OUT:
            raise RoutingConflict(f"agent {agent.id} is not logged in")
        if agent.items:
            raise RoutingConflict(f"agent {agent.id} still holds {', '.join(agent.items)}")
        self._leave_serving(agent)
        agent.presence = _OUT
        agent.reason = None
        self._invalidate(agent)
        for queue in agent.queues:
            queue.logged_in -= 1
            if queue.logged_in == 0:
                self._empty_queue_rules(queue)

    def _empty_queue_rules(self, queue: _Queue) -> None:
        """The last agent left: contacts still waiting follow the no-agents rule, if any."""
        for rule in queue.cfg.overflow:
            if rule.when is _OverflowCondition.NO_AGENTS_LOGGED_IN:
                for contact in sorted(queue.waiting.values(), key=_contact_order):
                    if contact.hops < MAX_OVERFLOW_HOPS:
                        self._overflow(contact, rule, "no_agents_logged_in")
                return

    def _join_serving(self, agent: _Agent) -> None:
        for queue in agent.queues:
            queue.serving_slots += agent.capacity.get(queue.channel, 0)

    def _leave_serving(self, agent: _Agent) -> None:
        if agent.presence == _READY:
            for queue in agent.queues:
                queue.serving_slots -= agent.capacity.get(queue.channel, 0)

    def _on_ready(self, command: AgentReady) -> None:
        agent = self._agent(command.agent_id)
        if agent.presence == _OUT:
            raise RoutingConflict(f"agent {agent.id} is not logged in")
        if agent.presence == _READY:
            return
        agent.presence = _READY
        agent.reason = None
        if not agent.items:
            agent.idle_since = self.now
        self._join_serving(agent)
        self._invalidate(agent)

    def _on_not_ready(self, command: AgentNotReady) -> None:
        agent = self._agent(command.agent_id)
        if agent.presence == _OUT:
            raise RoutingConflict(f"agent {agent.id} is not logged in")
        self._leave_serving(agent)
        agent.presence = _NOT_READY
        agent.reason = command.reason
        self._invalidate(agent)

    def _on_new_day(self, command: NewDay) -> None:
        for agent in self._agents.values():
            agent.contacts_today = 0
            agent.handling_s_today = 0.0
            if agent.presence == _READY:
                self._invalidate(agent)


#: An agent's state when they hold exactly one contact, by its stage (see _derive_state).
_ITEM_STATES = {
    _ITEM_RINGING: _AgentState.RESERVED,
    _ITEM_TALKING: _AgentState.ON_CONTACT,
    _ITEM_CONSULT: _AgentState.ON_CONTACT,
    _ITEM_WRAP: _AgentState.WRAP_UP,
}


def _derive_state(agent: _Agent) -> AgentState:
    if agent.presence == _OUT:
        return AgentState.LOGGED_OUT
    ringing = wrapping = False
    for item in agent.items.values():
        stage = item.stage
        if stage in (_ITEM_TALKING, _ITEM_CONSULT):
            return AgentState.ON_CONTACT
        if stage == _ITEM_RINGING:
            ringing = True
        else:
            wrapping = True
    if ringing:
        return AgentState.RESERVED
    if wrapping:
        return AgentState.WRAP_UP
    if agent.presence == _NOT_READY:
        return AgentState.NOT_READY
    return AgentState.AVAILABLE


def _parse_command_terms(requirements: tuple[str, ...], language: str | None) -> tuple[Term, ...]:
    """A command's own requirement terms; a bad expression refuses the command."""
    texts = [*requirements, f"language == {language}"] if language else list(requirements)
    try:
        return parse_requirements(texts)
    except RoutingError as error:
        raise RoutingConflict(str(error)) from error


def _ring_terms(queue: _Queue, ring: int, extra: tuple[Term, ...]) -> Alternatives:
    """What an agent must meet for a contact with its own ``extra`` terms at ``ring``."""
    _, alternatives, cap = queue.rings[ring]
    if not extra:
        return alternatives
    relaxed = extra if cap is None else tuple(t.relaxed(cap) for t in extra)
    return simplify([canonical((*alt, *relaxed)) for alt in alternatives])


def _refuses(agent: _Agent, contact: _Contact) -> bool:
    """Whether the agent must not be offered the contact now.

    They declined it, or still hold it: an agent who transferred a chat to a queue wraps it
    up while keeping free chat slots, and must not be offered their own contact back (it
    would replace their wrap-up of it).
    """
    return bool(contact.declined and agent.id in contact.declined) or contact.id in agent.items


#: How an agent holds a contact, by the item's stage (for "why not yet" texts).
_ITEM_TEXT = {
    _ITEM_RINGING: "offered to",
    _ITEM_TALKING: "in hand of",
    _ITEM_CONSULT: "in consultation with",
    _ITEM_WRAP: "in wrap-up by",
}


def _busy_text(contact: _Contact) -> str:
    """What a contact is doing, for the reason a change to its queue waits."""
    agent = contact.agent
    if contact.stage == _WAITING:
        return f"contact {contact.id} waiting"
    if contact.stage == _RINGING and agent is not None:
        return f"contact {contact.id} offered to {agent.id}"
    if contact.stage == _CONNECTED and agent is not None:
        return f"contact {contact.id} in hand of {agent.id}"
    return f"contact {contact.id} in wrap-up"


def _contact_order(contact: _Contact) -> tuple[int, float, int]:
    return (-contact.cls, contact.credited_at, contact.seq)


def replay(
    engine: RoutingEngine, commands: Iterable[Command], *, settle_s: float = 86_400.0
) -> list[Event]:
    """Feed commands in order, then run the timers due within ``settle_s`` of the last one.

    The bound matters: a caller who waits with nobody to serve them hears a position
    announcement every period for ever, so "run until no timer is left" need not end.
    Returns the whole event log.

    >>> from hotline.routing.model import QueueConfig, RoutingConfig, ContactQueued
    >>> log = replay(RoutingEngine(RoutingConfig(queues=(QueueConfig("q"),))),
    ...              [ContactQueued(at=0.0, contact_id="c1", queue="q")])
    >>> [e.kind.value for e in log]
    ['arrived', 'queued']
    """
    events: list[Event] = []
    for command in commands:
        events.extend(engine.handle(command).events)
    until = engine.now + settle_s
    deadline = engine.next_deadline()
    while deadline is not None and deadline <= until:
        events.extend(engine.advance(deadline).events)
        deadline = engine.next_deadline()
    return events


#: The settings of a routing configuration that apply to the whole engine (see
#: :func:`engine_wide_changes`); queues and agents change piece by piece.
ENGINE_WIDE_SETTINGS: Final = (
    "default_capacity",
    "exclusive_channels",
    "ring_no_answer_reason",
    "seed",
    "auto_answer",
)


def engine_wide_changes(current: RoutingConfig, target: RoutingConfig) -> list[str]:
    """The engine-wide settings ``target`` changes: those need a new engine, at full idle.

    >>> from hotline.routing.model import QueueConfig, RoutingConfig
    >>> engine_wide_changes(RoutingConfig(queues=()), RoutingConfig(queues=(), seed=2))
    ['seed']
    """
    return [
        name for name in ENGINE_WIDE_SETTINGS if getattr(current, name) != getattr(target, name)
    ]


def apply_ready(
    engine: RoutingEngine, target: RoutingConfig
) -> tuple[list[Result], dict[tuple[str, str], str]]:
    """Apply every queue and agent of ``target`` that differs from the engine's and is safe now.

    In an order that keeps overflow targets known: new queues, then changed queues, then
    removed ones (a queue still named by another's overflow waits for that one to change);
    then agents, new, changed and removed. Returns the results to carry out and, for each
    piece still waiting, ``("queue" | "agent", id) -> why`` (e.g. ``contact c-1 in hand of
    alice``); an empty mapping means the engine now routes with ``target``'s queues and agents.
    Engine-wide settings are not looked at (:func:`engine_wide_changes`).
    """
    results: list[Result] = []
    waiting: dict[tuple[str, str], str] = {}
    current_queues = {q.id: q for q in engine.config.queues}
    target_queues = {q.id: q for q in target.queues}
    added = [q for q in target.queues if q.id not in current_queues]
    changed = [q for q in target.queues if q.id in current_queues and current_queues[q.id] != q]
    if added:
        try:
            results.append(engine.configure_queues(added))
        except RoutingConflict as conflict:
            for cfg in added:
                waiting[("queue", cfg.id)] = str(conflict)
    for cfg in changed:
        try:
            results.append(engine.configure_queue(cfg))
        except RoutingConflict as conflict:
            waiting[("queue", cfg.id)] = str(conflict)
    # Removed queues go together once safe, except those a staying queue still overflows to.
    leaving: set[str] = set()
    for queue_id in current_queues:
        if queue_id not in target_queues:
            busy = engine.queue_busy(queue_id)
            if busy is None:
                leaving.add(queue_id)
            else:
                waiting[("queue", queue_id)] = f"queue {queue_id} is busy: {busy}"
    while True:
        blocked = {q: engine._overflowing_to(q, leaving) for q in leaving}
        held = {q: b for q, b in blocked.items() if b is not None}
        if not held:
            break
        for queue_id, blocker in held.items():
            leaving.discard(queue_id)
            waiting[("queue", queue_id)] = f"queue {blocker} still overflows to queue {queue_id}"
    if leaving:
        results.append(engine.remove_queues(sorted(leaving)))
    current_agents = {a.id: a for a in engine.config.agents}
    target_ids = {a.id for a in target.agents}
    for agent_cfg in target.agents:
        if current_agents.get(agent_cfg.id) != agent_cfg:
            try:
                results.append(engine.configure_agent(agent_cfg))
            except RoutingConflict as conflict:
                waiting[("agent", agent_cfg.id)] = str(conflict)
    for agent_id in current_agents:
        if agent_id not in target_ids:
            try:
                results.append(engine.remove_agent(agent_id))
            except RoutingConflict as conflict:
                waiting[("agent", agent_id)] = str(conflict)
    return results, waiting
