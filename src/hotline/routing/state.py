"""The routing engine's state records: queues, pools, agents, contacts and their timers.

What the engine (:mod:`hotline.routing.engine`) knows between two commands lives in these
plain records, and only the engine's own modules touch them: the timer heap
(:mod:`hotline.routing.timers`), the matching pools (:mod:`hotline.routing.pools`) and the
command handlers (:mod:`hotline.routing.handlers`). A *queue* holds its contacts in *pools*,
one per (ageing ring, extra requirements, channel); an *agent* belongs to every pool whose
requirements they meet; a *contact* waits in one pool at a time and, once offered, is an
*item* in an agent's hands; a *timer* (ring-no-answer, wrap-up, ageing, overflow,
announcement) belongs to a contact or to one of its items.

The records are plain classes with ``__slots__``, not dataclasses: compiled with mypyc
(:mod:`hotline.compiled`) their constructors and attributes are native, and the engine makes
several of them per contact. The stages and presences are small integers for the same
reason; :data:`~hotline.routing.model.AgentState` is what an agent is *shown* as, derived from
their presence and items (:func:`_derive_state`). Pure: no I/O.

Also here, because drivers receive them: :class:`Result` (what one command produced),
:class:`Segment` (one agent's part of a contact) and :class:`QueueSnapshot`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from hotline.core.events import Channel, Event, EventKind, Outcome
from hotline.core.values import Value
from hotline.routing.model import (
    AgentConfig,
    AgentState,
    AgentStateChanged,
    Alternatives,
    Effect,
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    PriorityMode,
    QueueConfig,
    SkillTerm,
    Term,
    canonical,
    simplify,
)
from hotline.routing.strategies import AGENT_KEYS

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
    """Something due at ``deadline``: ``kind`` is ring, wrap, age, overflow or announce."""

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
    """A queue as configured, with its pools, members and waiting contacts."""

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
    """One (ring, extra terms, channel) of a queue: its waiting contacts and available agents
    (see :mod:`hotline.routing.pools`)."""

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


def identity_term(agent_id: str) -> SkillTerm:
    """The requirement only ``agent_id`` meets: how a contact prefers one agent (sticky agent).

    Every agent the engine knows carries a skill named ``@<agent id>`` at level 1
    (:func:`agent_skills`). No written requirement can name it (the grammar does not allow
    ``@``), so the term exists only while the engine puts it among a contact's own terms;
    ageing never relaxes it (level 1 is the lowest), and pools keyed by it hold exactly the
    contacts that wait for that agent.
    """
    return SkillTerm("@" + agent_id, ">=", 1)


def site_term(site: str) -> SkillTerm:
    """The requirement only the agents of ``site`` meet: how a caller prefers their region's site.

    Like :func:`identity_term`, for a set of agents: every agent with a site carries a skill
    named ``@site:<site>`` at level 1 (an agent id cannot hold ``:``, so it never names one
    agent's identity), which no written requirement can name.
    """
    return SkillTerm("@site:" + site, ">=", 1)


def _site_divides(queue: _Queue, site: str) -> bool:
    """Whether preferring ``site`` in ``queue`` changes who may be offered a contact.

    Only where the queue's agents include some of that site who are logged in (ready or
    not: one on a break comes back) and some of another: with none of that site at work a
    contact would wait for nobody, with all of them of it the preference is moot. (A scan
    of the members, made only for contacts that bring a site.)
    """
    own = other = False
    for agent in queue.members.values():
        if agent.cfg.site == site:
            own = own or agent.presence != _OUT
        else:
            other = True
        if own and other:
            return True
    return False


def agent_skills(cfg: AgentConfig) -> dict[str, int]:
    """The agent's skills as the engine matches them: the configured ones, their identity and
    their site."""
    skills = dict(cfg.skills)
    skills["@" + cfg.id] = 1
    if cfg.site is not None:
        skills["@site:" + cfg.site] = 1
    return skills


class _Agent:
    """An agent: presence, the contacts in hand (items), load per channel, pools, counters."""

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
        "shown_not_ready",
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
        self.skills = agent_skills(cfg)
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
        # (state, previous, reason) -> the event data and effect of that change, kept (made
        # while ready or signed out, and while not ready: a working state's data says which).
        self.shown: dict[
            tuple[AgentState, AgentState, str | None], tuple[Mapping[str, Any], AgentStateChanged]
        ] = {}
        self.shown_not_ready: dict[
            tuple[AgentState, AgentState, str | None], tuple[Mapping[str, Any], AgentStateChanged]
        ] = {}


#: A heap entry for an available agent: (strategy key, agent index, version, agent).
_AgentEntry = tuple[tuple[float, ...], int, int, "_Agent"]


class _Contact:
    """A contact the engine routes: its stage, queue, ring, place in line, timers, history."""

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
        "preferred",
        "preferred_until",
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
        # The sticky-agent or caller's-site term (``identity_term``, ``site_term``) among
        # ``extra``, while it holds.
        self.preferred: SkillTerm | None = None
        self.preferred_until = 0.0
        self.customer: str | None = None
        self.history: list[Segment] = []


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


def _position(contact: _Contact) -> int:
    """A waiting contact's position in its queue (1 = next)."""
    queue = contact.queue
    assert queue is not None
    mine = _contact_order(contact)
    return sum(1 for c in queue.waiting.values() if _contact_order(c) < mine) + 1
