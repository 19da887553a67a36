"""The routing vocabulary: configuration, requirement expressions, commands and effects.

A **queue** holds contacts that need the same kind of help; an **agent** serves every queue
whose skill requirements they meet (at the queue's widest ageing step) on channels where they
have capacity. A contact's **requirements** are a conjunction of simple terms — ``repair >= 3``,
``vip``, ``language == en`` — that **ageing** relaxes step by step as the wait grows (the
"bullseye": first the experts, after 30 s anyone with proficiency 2, after 60 s anyone in the
group). Priority is either a **strict class** (higher is always served first) or a **head start**
credited as seconds of waiting (the Anonymous Bank credited priority customers 90 s).

Drivers talk to :class:`hotline.routing.engine.RoutingEngine` with the *commands* below, each
stamped with the time ``at`` (seconds, any epoch; the engine never reads a clock), and carry
out the *effects* it returns. Everything here is immutable plain data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from hotline.core.calendar import BusinessCalendar
from hotline.core.events import Channel
from hotline.core.requirements import LanguageTerm as LanguageTerm  # noqa: PLC0414 (re-exported)
from hotline.core.requirements import RequirementError
from hotline.core.requirements import SkillTerm as SkillTerm  # noqa: PLC0414 (re-exported)
from hotline.core.requirements import Term as Term  # noqa: PLC0414 (re-exported)
from hotline.core.requirements import canonical as canonical  # noqa: PLC0414 (re-exported)
from hotline.core.requirements import matches_all as matches_all  # noqa: PLC0414 (re-exported)
from hotline.core.requirements import parse_requirement as _parse_requirement
from hotline.core.requirements import parse_requirements as _parse_requirements
from hotline.core.values import Value


class RoutingError(ValueError):
    """A routing configuration or requirement expression is invalid."""


class RoutingConflict(Exception):
    """A command does not fit the current state (unknown contact, agent not ringing…).

    Live drivers meet races (a caller hangs up while the agent answers); they catch this,
    log it and carry on. The engine's state is unchanged when it is raised.
    """


# --------------------------------------------------------------------------- enumerations


class Strategy(StrEnum):
    """How a queue chooses among several available agents."""

    LONGEST_IDLE = "longest_idle"
    LEAST_OCCUPIED = "least_occupied"
    FEWEST_CONTACTS = "fewest_contacts"
    ROUND_ROBIN = "round_robin"
    HIGHEST_PROFICIENCY = "highest_proficiency"
    RANDOM = "random"


class PriorityMode(StrEnum):
    """How a contact's priority orders the queue.

    ``strict``: a higher priority is always served before a lower one. ``head_start``: priority
    credits seconds of waiting, so a long-waiting regular customer still beats a new VIP.
    """

    STRICT = "strict"
    HEAD_START = "head_start"


class AgentState(StrEnum):
    """An agent's state as shown on desktops and wallboards (derived, most-engaged first)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ON_CONTACT = "on_contact"
    WRAP_UP = "wrap_up"
    NOT_READY = "not_ready"


class OverflowCondition(StrEnum):
    """When an overflow rule fires."""

    WAIT_EXCEEDS = "wait_exceeds"
    QUEUE_LENGTH_EXCEEDS = "queue_length_exceeds"
    NO_AGENTS_LOGGED_IN = "no_agents_logged_in"
    CLOSED = "closed"
    #: On entry, no agent of the queue's first ring is free to take the contact (it would have
    #: to wait): e.g. on to another site's queue at once.
    NO_AGENT_FREE = "no_agent_free"


class OverflowAction(StrEnum):
    """Where an overflowing contact goes."""

    QUEUE = "queue"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    CLOSED_MESSAGE = "closed_message"
    #: To an outside number through the trunk (a partner center, a duty number): ``number``.
    FORWARD = "forward"


# --------------------------------------------------------------------------- requirements

# The grammar and the terms are hotline.core.requirements' (the center configuration checks the
# same expressions); routing re-exports them and raises its own error for a bad expression.


def parse_requirement(text: str) -> Term:
    """Parse one requirement term (:func:`hotline.core.requirements.parse_requirement`).

    >>> parse_requirement("repair>=3")
    SkillTerm(skill='repair', operator='>=', level=3)
    """
    try:
        return _parse_requirement(text)
    except RequirementError as error:
        raise RoutingError(str(error)) from None


def parse_requirements(texts: tuple[str, ...] | list[str]) -> tuple[Term, ...]:
    """Parse several terms into a canonical (sorted, de-duplicated) conjunction.

    >>> parse_requirements(["b >= 2", "a", "b >= 2"])
    (SkillTerm(skill='a', operator='>=', level=1), SkillTerm(skill='b', operator='>=', level=2))
    """
    try:
        return _parse_requirements(texts)
    except RequirementError as error:
        raise RoutingError(str(error)) from None


def widens(wider: tuple[Term, ...], narrower: tuple[Term, ...]) -> bool:
    """Whether ``wider`` accepts every agent that ``narrower`` accepts (each term implied)."""
    return all(t.implied_by(narrower) for t in wider)


#: Requirements in disjunctive form: an agent qualifies by meeting any one alternative.
Alternatives = tuple[tuple[Term, ...], ...]


def matches_any(
    alternatives: Alternatives, skills: Mapping[str, int], languages: frozenset[str]
) -> bool:
    """Whether an agent meets at least one alternative (each a conjunction of terms)."""
    return any(matches_all(alt, skills, languages) for alt in alternatives)


def simplify(alternatives: Iterable[tuple[Term, ...]]) -> Alternatives:
    """Drop duplicate alternatives and those another alternative already covers.

    >>> simplify([parse_requirements(["repair >= 4"]), parse_requirements(["repair >= 1"])])
    ((SkillTerm(skill='repair', operator='>=', level=1),),)
    """
    unique = sorted(set(alternatives), key=lambda alt: (len(alt), [str(t) for t in alt]))
    kept: list[tuple[Term, ...]] = []
    for alt in unique:
        if not any(widens(other, alt) for other in kept):
            kept.append(alt)
    return tuple(kept)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class AgeingStep:
    """After ``after_s`` seconds in the queue, widen the circle of agents (a bullseye ring).

    ``min_proficiency`` lowers every skill level asked for so far to at most this value;
    ``requirements`` *adds* a group of agents — those meeting these terms — to everyone the
    earlier rings accepted (``()`` adds anyone). Rings only grow: an agent who could take the
    contact before still can.
    """

    after_s: float
    min_proficiency: int | None = None
    requirements: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class OverflowRule:
    """When (``when``/``value``) a contact leaves the queue, and where it goes (``action``).

    >>> OverflowRule(OverflowCondition.WAIT_EXCEEDS, OverflowAction.QUEUE, 120, "general").target
    'general'
    """

    when: OverflowCondition
    action: OverflowAction
    value: float | None = None
    target: str | None = None
    #: The outside number of a ``forward`` rule.
    number: str | None = None


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue: requirements, strategy, priority scheme, targets, timers and exits.

    >>> QueueConfig("repair", requirements=("repair >= 3",), strategy=Strategy.LONGEST_IDLE).id
    'repair'
    """

    id: str
    channel: Channel = Channel.VOICE
    requirements: tuple[str, ...] = ()
    strategy: Strategy = Strategy.LONGEST_IDLE
    priority_mode: PriorityMode = PriorityMode.STRICT
    head_start_s: float = 0.0
    head_start_by_priority: Mapping[int, float] = field(
        default_factory=lambda: MappingProxyType({})
    )
    default_priority: int = 0
    target_service_level: float = 0.8
    target_threshold_s: float = 20.0
    wrap_up_s: float = 30.0
    ring_timeout_s: float = 20.0
    ageing: tuple[AgeingStep, ...] = ()
    overflow: tuple[OverflowRule, ...] = ()
    calendar: BusinessCalendar | None = None
    announce_every_s: float | None = None
    expected_handle_s: float = 180.0
    outbound_reserve: int = 0
    """Blending: how many idle agents who serve this queue's first ring a campaign's dialler
    must leave to it (:meth:`~hotline.routing.engine.RoutingEngine.may_lend`), so that a
    caller arriving while campaigns dial finds an agent at once."""
    prefer_caller_site_s: float = 0.0
    """Sites: a contact whose caller is in a site's region (``ContactQueued(caller_site=)``)
    is offered only to that site's agents for its first this many seconds here, then to
    anyone eligible (0: no preference)."""

    def __post_init__(self) -> None:
        parse_requirements(self.requirements)
        if self.outbound_reserve < 0:
            raise RoutingError(f"queue {self.id}: the outbound reserve cannot be negative")
        if self.target_threshold_s <= 0:
            raise RoutingError(f"queue {self.id}: target threshold must be positive")
        if self.ring_timeout_s <= 0:
            raise RoutingError(f"queue {self.id}: ring timeout must be positive")
        if self.wrap_up_s < 0 or self.head_start_s < 0:
            raise RoutingError(f"queue {self.id}: wrap-up and head start cannot be negative")
        if self.prefer_caller_site_s < 0:
            raise RoutingError(f"queue {self.id}: the caller's site preference cannot be negative")
        previous = 0.0
        for step in self.ageing:
            if step.after_s <= previous:
                raise RoutingError(f"queue {self.id}: ageing steps must come in increasing time")
            previous = step.after_s
        for rule in self.overflow:
            if rule.action is OverflowAction.QUEUE and not rule.target:
                raise RoutingError(f"queue {self.id}: an overflow to a queue needs a target")
            needs_value = rule.when in (
                OverflowCondition.WAIT_EXCEEDS,
                OverflowCondition.QUEUE_LENGTH_EXCEEDS,
            )
            if needs_value and rule.value is None:
                raise RoutingError(f"queue {self.id}: overflow '{rule.when}' needs a value")
        for step in self.ageing:
            if step.requirements is not None:
                parse_requirements(step.requirements)

    def steps(self) -> tuple[tuple[float, Alternatives, int | None], ...]:
        """The compiled bullseye: ``(after_s, alternatives, min proficiency)`` per ring.

        Ring 0 starts at 0 s with the queue's own requirements; each later ring keeps every
        earlier alternative (relaxed by ``min_proficiency``) and adds the step's group.

        >>> q = QueueConfig("vip", requirements=("vip >= 3",), ageing=(
        ...     AgeingStep(10, min_proficiency=1), AgeingStep(30, requirements=("repair >= 4",))))
        >>> [[[str(t) for t in alt] for alt in ring] for _, ring, _ in q.steps()]
        [[['vip >= 3']], [['vip >= 1']], [['repair >= 4'], ['vip >= 1']]]
        """
        alternatives: Alternatives = (parse_requirements(self.requirements),)
        rings: list[tuple[float, Alternatives, int | None]] = [(0.0, alternatives, None)]
        cap: int | None = None
        for step in self.ageing:
            grown = list(alternatives)
            if step.min_proficiency is not None:
                cap = step.min_proficiency if cap is None else min(cap, step.min_proficiency)
                grown = [canonical([t.relaxed(cap) for t in alt]) for alt in grown]
            if step.requirements is not None:
                # The added group is taken as written; the relaxation applies to earlier rings
                # (and, through ``cap``, to the contact's own terms).
                grown.append(parse_requirements(step.requirements))
            alternatives = simplify(grown)
            rings.append((step.after_s, alternatives, cap))
        return tuple(rings)

    def head_start(self, priority: int) -> float:
        """Seconds of waiting credited to a contact of ``priority`` (head-start mode only)."""
        if self.priority_mode is not PriorityMode.HEAD_START:
            return 0.0
        if priority in self.head_start_by_priority:
            return self.head_start_by_priority[priority]
        return max(0, priority) * self.head_start_s


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """An agent: skills with proficiency 1–5, languages, capacity per channel, wrap-up override.

    A channel missing from ``capacity`` takes the routing configuration's default; ``site``
    is where the agent works (callers from that site's region may prefer them).

    >>> AgentConfig("a1", skills={"repair": 4}, capacity={Channel.CHAT: 3}).skills["repair"]
    4
    """

    id: str
    skills: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    languages: frozenset[str] = frozenset({"zh-CN"})
    capacity: Mapping[Channel, int] = field(default_factory=lambda: MappingProxyType({}))
    wrap_up_s: float | None = None
    name: str = ""
    site: str | None = None

    def __post_init__(self) -> None:
        for skill, level in self.skills.items():
            if not 1 <= level <= 5:
                raise RoutingError(f"agent {self.id}: proficiency of {skill!r} must be 1 to 5")
        for channel, slots in self.capacity.items():
            if slots < 0:
                raise RoutingError(f"agent {self.id}: capacity on {channel} cannot be negative")


DEFAULT_CAPACITY: Mapping[Channel, int] = MappingProxyType(
    {
        Channel.VOICE: 1,
        Channel.VIDEO: 1,
        Channel.CHAT: 3,
        Channel.APP: 3,
        Channel.SMS: 3,
        Channel.EMAIL: 1,
        Channel.CALLBACK: 1,
        Channel.OUTBOUND: 1,
    }
)


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """Everything the engine needs: queues, known agents, channel rules and the RNG seed.

    ``exclusive_channels``: an agent on one of these (a phone call) gets nothing else, and is
    offered one only when holding nothing. ``seed`` drives the ``random`` strategy.
    ``auto_answer``: every offer is answered at once, at the instant it is made (agents'
    desktops set to auto-answer, or a simulation with no ringing time); the engine then logs
    the offer and the answer itself, in the order a driver answering each ``Offer`` at once
    would have sent ``OfferAnswered``, and sets no ring-no-answer timer.
    ``regions``: calling-number prefixes (``0551``, ``+86551``) and the site whose region
    each is (:meth:`site_of_number`).
    """

    queues: tuple[QueueConfig, ...]
    agents: tuple[AgentConfig, ...] = ()
    default_capacity: Mapping[Channel, int] = field(default_factory=lambda: DEFAULT_CAPACITY)
    exclusive_channels: frozenset[Channel] = frozenset(
        {Channel.VOICE, Channel.VIDEO, Channel.CALLBACK, Channel.OUTBOUND}
    )
    ring_no_answer_reason: str = "ring_no_answer"
    seed: int = 0
    auto_answer: bool = False
    regions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def site_of_number(self, number: str | None) -> str | None:
        """The site whose region ``number`` calls from: the longest prefix that matches.

        Spaces and dashes in the number are ignored; a number no region claims has no site.

        >>> config = RoutingConfig(queues=(), regions={"0551": "hefei", "028": "chengdu"})
        >>> config.site_of_number("0551-6288 1234"), config.site_of_number("13800138000")
        ('hefei', None)
        """
        if not number or not self.regions:
            return None
        digits = number.replace(" ", "").replace("-", "")
        for length in range(len(digits), 0, -1):
            site = self.regions.get(digits[:length])
            if site is not None:
                return site
        return None

    def __post_init__(self) -> None:
        ids = [q.id for q in self.queues]
        if len(set(ids)) != len(ids):
            raise RoutingError("queue ids must be unique")
        agent_ids = [a.id for a in self.agents]
        if len(set(agent_ids)) != len(agent_ids):
            raise RoutingError("agent ids must be unique")
        known = set(ids)
        for queue in self.queues:
            for rule in queue.overflow:
                if rule.target is not None and rule.target not in known:
                    raise RoutingError(
                        f"queue {queue.id}: overflow target {rule.target!r} is not a queue"
                    )

    def capacity(self, agent: AgentConfig, channel: Channel) -> int:
        """How many contacts of ``channel`` the agent may hold at once."""
        if channel in agent.capacity:
            return agent.capacity[channel]
        return self.default_capacity.get(channel, 1)


# --------------------------------------------------------------------------- commands


class ContactQueued(Value):
    """A contact enters a queue (after the IVR, or straight from a chat widget or mailbox).

    ``requirements`` and ``language`` add to the queue's own; ``priority`` defaults to the
    queue's. ``log_arrival`` also writes the ``arrived`` event (off when the IVR did).

    ``preferred_agent`` (a "sticky agent": the one who owns the caller's open ticket) is the
    only agent offered the contact for its first ``preferred_for_s`` seconds in the queue —
    provided they serve the queue and meet the contact's terms; after that, or as soon as
    the preferred agent lets an offer of it go (declined, rang out), anyone eligible may take
    it, the contact keeping its place.

    ``caller_site``: the site whose region the caller calls from
    (:meth:`RoutingConfig.site_of_number`). In a queue with ``prefer_caller_site_s`` the
    contact is offered only to that site's agents for that long, then to anyone eligible —
    the same preference as a sticky agent's, for a set of agents (a sticky agent comes
    first). It holds only where the queue has agents of that site logged in and agents of
    another.
    """

    __slots__ = (
        "at",
        "caller_site",
        "channel",
        "contact_id",
        "customer",
        "language",
        "log_arrival",
        "preferred_agent",
        "preferred_for_s",
        "priority",
        "queue",
        "requirements",
    )
    __match_args__ = (
        "at",
        "contact_id",
        "queue",
        "channel",
        "priority",
        "requirements",
        "language",
        "log_arrival",
        "customer",
        "preferred_agent",
        "preferred_for_s",
        "caller_site",
    )

    def __init__(
        self,
        at: float,
        contact_id: str,
        queue: str,
        channel: Channel | None = None,
        priority: int | None = None,
        requirements: tuple[str, ...] = (),
        language: str | None = None,
        log_arrival: bool = True,
        customer: str | None = None,
        preferred_agent: str | None = None,
        preferred_for_s: float = 0.0,
        caller_site: str | None = None,
    ) -> None:
        self.at: Final = at
        self.contact_id: Final = contact_id
        self.queue: Final = queue
        self.channel: Final = channel
        self.priority: Final = priority
        self.requirements: Final = requirements
        self.language: Final = language
        self.log_arrival: Final = log_arrival
        self.customer: Final = customer
        self.preferred_agent: Final = preferred_agent
        self.preferred_for_s: Final = preferred_for_s
        self.caller_site: Final = caller_site


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    """An agent logs in, ready or not ready with a reason; ``config`` updates their skills."""

    at: float
    agent_id: str
    ready: bool = True
    reason: str | None = None
    config: AgentConfig | None = None


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    """An agent logs out (refused while they still hold a contact)."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentReady:
    """An agent makes themselves available."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentNotReady:
    """An agent goes not ready with a reason code (break, lunch, training, meeting…).

    Contacts the agent already holds carry on; no new ones are offered.
    """

    at: float
    agent_id: str
    reason: str


class OfferAnswered(Value):
    """The agent answered (voice) or accepted (chat, e-mail) an offered contact."""

    __slots__ = ("agent_id", "at", "contact_id")
    __match_args__ = ("at", "contact_id", "agent_id")

    def __init__(self, at: float, contact_id: str, agent_id: str) -> None:
        self.at: Final = at
        self.contact_id: Final = contact_id
        self.agent_id: Final = agent_id


@dataclass(frozen=True, slots=True)
class OfferRejected:
    """The agent declined an offer; the contact returns to its place and skips this agent."""

    at: float
    contact_id: str
    agent_id: str


class ContactAbandoned(Value):
    """The customer left while queued or ringing."""

    __slots__ = ("at", "contact_id")
    __match_args__ = ("at", "contact_id")

    def __init__(self, at: float, contact_id: str) -> None:
        self.at: Final = at
        self.contact_id: Final = contact_id


class ContactEnded(Value):
    """The conversation ended (either side hung up, the chat closed); wrap-up starts."""

    __slots__ = ("at", "contact_id")
    __match_args__ = ("at", "contact_id")

    def __init__(self, at: float, contact_id: str) -> None:
        self.at: Final = at
        self.contact_id: Final = contact_id


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    """The agent finished after-contact work early (before the wrap-up timer)."""

    at: float
    agent_id: str
    contact_id: str
    disposition: str | None = None


@dataclass(frozen=True, slots=True)
class ContactHeld:
    """The agent put the customer on hold."""

    at: float
    contact_id: str


@dataclass(frozen=True, slots=True)
class ContactResumed:
    """The agent took the customer off hold."""

    at: float
    contact_id: str


@dataclass(frozen=True, slots=True)
class TransferredToQueue:
    """The agent transfers a connected contact to a queue; its history goes with it."""

    at: float
    contact_id: str
    queue: str
    requirements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TransferredToAgent:
    """The agent transfers a connected contact straight to another (available) agent."""

    at: float
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class TransferredOut:
    """The agent transfers a connected call out to an outside ``number`` (a field engineer's
    mobile, another department's line) through the trunk. The center's part of the contact
    is over: the engine logs ``transferred`` (``to: number`` and the number), the agent wraps
    up, and the contact finishes as answered once they have."""

    at: float
    contact_id: str
    number: str


@dataclass(frozen=True, slots=True)
class ContactMoved:
    """A supervisor moves a *waiting* contact: to another queue (``queue``), keeping its
    place — its wait still counts from when it first queued — or straight to an available
    agent (``agent_id``; a supervisor picking a call for themselves names their own), who is
    offered it at once; if that offer fails the contact returns to its queue and place.
    Exactly one of ``queue`` and ``agent_id``.
    """

    at: float
    contact_id: str
    queue: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConsultStarted:
    """The agent consults another (available) agent while the customer waits on hold."""

    at: float
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ConsultEnded:
    """The consult ends; ``transfer`` hands the customer to the consulted agent (warm)."""

    at: float
    contact_id: str
    transfer: bool = False


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """A queued caller asks to be called back; the callback keeps the caller's place."""

    at: float
    contact_id: str


@dataclass(frozen=True, slots=True)
class NewDay:
    """Start of a new business day: resets the "contacts today" counters."""

    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    """Only advances time (fires due timers); drivers may call ``advance`` instead."""

    at: float


Command = (
    ContactQueued
    | AgentLoggedIn
    | AgentLoggedOut
    | AgentReady
    | AgentNotReady
    | OfferAnswered
    | OfferRejected
    | ContactAbandoned
    | ContactEnded
    | WrapUpEnded
    | ContactHeld
    | ContactResumed
    | TransferredToQueue
    | TransferredToAgent
    | TransferredOut
    | ContactMoved
    | ConsultStarted
    | ConsultEnded
    | CallbackRequested
    | NewDay
    | Tick
)


# --------------------------------------------------------------------------- effects


class Offer(Value):
    """Ring the agent (or pop the chat) with this contact; it rings for ``ring_timeout_s``.

    ``kind`` is ``queue``, ``transfer`` (a direct transfer) or ``callback`` (dial the customer).
    """

    __slots__ = ("agent_id", "channel", "contact_id", "kind", "queue", "ring_timeout_s")
    __match_args__ = ("contact_id", "agent_id", "queue", "channel", "ring_timeout_s", "kind")

    def __init__(
        self,
        contact_id: str,
        agent_id: str,
        queue: str | None,
        channel: Channel,
        ring_timeout_s: float,
        kind: str = "queue",
    ) -> None:
        self.contact_id: Final = contact_id
        self.agent_id: Final = agent_id
        self.queue: Final = queue
        self.channel: Final = channel
        self.ring_timeout_s: Final = ring_timeout_s
        self.kind: Final = kind


@dataclass(frozen=True, slots=True)
class CancelOffer:
    """Stop ringing: ``reason`` is ``ring_no_answer``, ``abandoned`` or ``rejected``."""

    contact_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ConnectConsult:
    """Bridge the agent handling ``contact_id`` with ``agent_id`` for a consult."""

    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class AnnouncePosition:
    """Tell the waiting customer their position and estimated wait (seconds)."""

    contact_id: str
    queue: str
    position: int
    estimated_wait_s: float | None


@dataclass(frozen=True, slots=True)
class PlayClosedMessage:
    """The queue is closed (or the rule says so): play the closed message and hang up."""

    contact_id: str
    queue: str


@dataclass(frozen=True, slots=True)
class RouteToVoicemail:
    """Send the caller to leave a message."""

    contact_id: str
    queue: str


@dataclass(frozen=True, slots=True)
class ForwardCall:
    """Forward the caller to an outside ``number`` through the trunk (they leave the queue)."""

    contact_id: str
    queue: str
    number: str


@dataclass(frozen=True, slots=True)
class StartCallback:
    """Release the caller; ``callback_id`` now waits in ``queue`` in their place."""

    contact_id: str
    callback_id: str
    queue: str


@dataclass(frozen=True, slots=True)
class MovedToQueue:
    """The contact moved to another queue (overflow or transfer); play that queue's music."""

    contact_id: str
    from_queue: str | None
    to_queue: str
    reason: str


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """An agent's derived state changed; desktops and wallboards show it."""

    agent_id: str
    state: AgentState
    reason: str | None = None


Effect = (
    Offer
    | CancelOffer
    | ConnectConsult
    | AnnouncePosition
    | PlayClosedMessage
    | RouteToVoicemail
    | ForwardCall
    | StartCallback
    | MovedToQueue
    | AgentStateChanged
)
