"""The routing engine (ACD): a pure, deterministic state machine.

Drivers — the live server (:mod:`hotline.live`), the simulator (:mod:`hotline.sim`), replay
(:mod:`hotline.replay`) — hand the engine timestamped commands (:mod:`hotline.routing.model`)
and carry out the effects it returns; every step is also written as an
:class:`~hotline.core.events.Event` of the contact event log (METRICS.md). The engine never
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

Where it lives
    This module is the engine's public face: :class:`RoutingEngine` (``handle``, ``advance``,
    the queries, reconfiguration) and :func:`apply_ready`. Behind it, one file per job, all
    compiled together as one mypyc group (:mod:`hotline.compiled`) so calls between them stay
    native: :mod:`hotline.routing.state` (the records: queues, pools, agents, contacts,
    timers), :mod:`hotline.routing.timers` (the timer heap), :mod:`hotline.routing.pools`
    (matching: who takes whom) and :mod:`hotline.routing.handlers` (what each command and
    timer does).

Driving it
    * Commands (all carry ``at``): ``ContactQueued``, ``AgentLoggedIn`` / ``AgentLoggedOut``,
      ``AgentReady`` / ``AgentNotReady(reason)``, ``OfferAnswered`` / ``OfferRejected``,
      ``ContactAbandoned``, ``ContactEnded``, ``WrapUpEnded``, ``ContactHeld`` /
      ``ContactResumed``, ``TransferredToQueue`` / ``TransferredToAgent`` /
      ``TransferredOut`` (to an outside number), ``ContactMoved``
      (a supervisor moves a waiting contact; a contact may prefer an agent for a while:
      ``ContactQueued(preferred_agent=, preferred_for_s=)``), ``ConsultStarted``
      / ``ConsultEnded(transfer)``, ``CallbackRequested``, ``NewDay``, ``Tick``.
    * Effects to carry out: ``Offer`` (ring the agent), ``CancelOffer``, ``ConnectConsult``,
      ``AnnouncePosition``, ``PlayClosedMessage``, ``RouteToVoicemail``, ``ForwardCall``,
      ``StartCallback``, ``MovedToQueue``, ``AgentStateChanged``.
    * Loop: ``result = engine.handle(cmd)``; carry out ``result.effects``; append
      ``result.events`` to the event log; sleep until ``engine.next_deadline()`` (or the next
      outside event) and call ``engine.advance(now)``.
    * Queries for screens: ``agent_state``, ``agent_reason``, ``agent_contacts``,
      ``contact_stage``, ``contact_queue``, ``contact_history``, ``waiting_contacts``,
      ``waiting_since``, ``position``,
      ``estimated_wait``, ``queue_estimated_wait``, ``queue_snapshot``, ``queue_members``,
      ``eligible``, ``requirements``.
    * Blending with a campaign's dialler: ``may_lend`` (whom it may hold), ``reserve_refill``
      (whom it hands back for a queue's outbound reserve), ``choose_held`` (which of its free
      held agents takes an answered outbound call, by the campaign queue's rules).
    * ``change_queue_rules``: a queue's overflow rules and hours, at once (crisis mode).
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

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from hotline.core.events import Channel
from hotline.routing.handlers import MAX_OVERFLOW_HOPS, Handlers
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedOut,
    AgentState,
    Alternatives,
    Command,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
    Strategy,
    matches_any,
)
from hotline.routing.pools import can_take, pool_of
from hotline.routing.state import (
    _ITEM_CONSULT,
    _ITEM_RINGING,
    _ITEM_TALKING,
    _ITEM_TEXT,
    _ITEM_WRAP,
    _NOT_READY,
    _OUT,
    _READY,
    _WAITING,
    QueueSnapshot,
    Result,
    Segment,
    _Agent,
    _busy_text,
    _contact_order,
    _position,
    _Queue,
    _ring_terms,
)
from hotline.routing.strategies import estimated_wait_s

__all__ = [
    "ENGINE_WIDE_SETTINGS",
    "MAX_OVERFLOW_HOPS",
    "QueueSnapshot",
    "Result",
    "RoutingEngine",
    "Segment",
    "apply_ready",
    "engine_wide_changes",
]


class RoutingEngine(Handlers):
    """The ACD state machine: ``handle(command) -> Result``, ``advance(now) -> Result``.

    Deterministic: the same configuration, seed and commands give the same effects and events.
    See the module documentation for an example; the handlers are in
    :mod:`hotline.routing.handlers`.
    """

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
        timers = self._timers.entries
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
        return self._timers.next_deadline()

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

        >>> from hotline.routing.model import AgentLoggedIn, ContactEnded, ContactQueued
        >>> from hotline.routing.model import OfferAnswered
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

    def waiting_since(self, contact_id: str) -> float | None:
        """When the waiting contact's place in line counts from, or ``None`` if not waiting.

        The first queueing: a contact moved to another queue, or a callback, keeps it.
        """
        contact = self._contacts.get(contact_id)
        if contact is None or contact.stage != _WAITING or contact.queue is None:
            return None
        return contact.place_at

    def position(self, contact_id: str) -> int | None:
        """The waiting contact's position in its queue (1 = next), or ``None``."""
        contact = self._contacts.get(contact_id)
        if contact is None or contact.stage != _WAITING or contact.queue is None:
            return None
        return _position(contact)

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
            if a.presence == _READY and can_take(a, queue.channel, self._exclusive)
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

    def first_ring_idle(self, queue_id: str) -> list[str]:
        """The queue's members the engine leaves idle now (available, nothing offered or held)
        who meet its first ring — those a caller arriving now would be offered at once."""
        queue = self._queue(queue_id)
        first = queue.rings[0][1]
        idle = []
        for agent_id in queue.members:
            agent = self._agents[agent_id]
            if agent.state is AgentState.AVAILABLE and matches_any(
                first, agent.skills, agent.languages
            ):
                idle.append(agent_id)
        return sorted(idle)

    def reserve_shortfall(self) -> dict[str, int]:
        """Blending: the queues whose outbound reserve is not met now, and by how many idle
        agents (a dialler hands that many of the agents it holds back to the engine).

        >>> from hotline.routing.model import AgentConfig, AgentLoggedIn, RoutingConfig
        >>> engine = RoutingEngine(RoutingConfig(
        ...     queues=(QueueConfig("vip", outbound_reserve=2),), agents=(AgentConfig("a"),)))
        >>> _ = engine.handle(AgentLoggedIn(at=0.0, agent_id="a"))
        >>> engine.reserve_shortfall()
        {'vip': 1}
        """
        shortfall: dict[str, int] = {}
        for queue in self._queues.values():
            reserve = queue.cfg.outbound_reserve
            if reserve > 0:
                missing = reserve - len(self.first_ring_idle(queue.id))
                if missing > 0:
                    shortfall[queue.id] = missing
        return shortfall

    def reserve_refill(self, held: Sequence[str]) -> list[str]:
        """Blending: which of the agents a dialler holds (``held``, in its order of preference)
        go back so that every queue's outbound reserve is met again — for each queue short of
        idle first-ring agents, that many of the held agents who would serve its first ring.

        >>> from hotline.routing.model import AgentConfig, AgentLoggedIn, RoutingConfig
        >>> engine = RoutingEngine(RoutingConfig(
        ...     queues=(QueueConfig("vip", requirements=("vip",), outbound_reserve=1),),
        ...     agents=(AgentConfig("a"), AgentConfig("b", skills={"vip": 1}))))
        >>> engine.reserve_refill(["a", "b"])  # a does not serve vip
        ['b']
        """
        back: list[str] = []
        for queue_id, missing in self.reserve_shortfall().items():
            queue = self._queue(queue_id)
            first = queue.rings[0][1]
            serving = [
                agent_id
                for agent_id in held
                if agent_id in queue.members
                and matches_any(
                    first, self._agents[agent_id].skills, self._agents[agent_id].languages
                )
            ]
            back += [agent_id for agent_id in serving[:missing] if agent_id not in back]
        return back

    def choose_held(self, queue_id: str, free: Sequence[str]) -> str | None:
        """Blending: which of the free agents a dialler holds (``free``, the one free longest
        first) takes an answered outbound call of a campaign working ``queue_id``.

        The queue's own rules decide, as for an inbound contact of it: an agent who meets the
        queue's first ring comes before one who meets only a later (wider) ring, who comes
        before one who does not serve the queue at all (a campaign's agent all the same: the
        customer on the line must not wait for a better one). Among equals the queue's
        strategy orders them, except the two that would read what a held agent lacks: the
        engine holds them not-ready, so their idle time stands still (``longest_idle``), and a
        draw would move the engine's seeded generator from a query (``random``); both keep
        the dialler's order. That order breaks every remaining tie. ``None`` when ``free`` is
        empty; an unknown queue leaves the dialler's order.

        >>> from hotline.routing.model import AgentConfig, RoutingConfig, Strategy
        >>> engine = RoutingEngine(RoutingConfig(
        ...     queues=(QueueConfig("vip", requirements=("vip",),
        ...                         strategy=Strategy.HIGHEST_PROFICIENCY),),
        ...     agents=(AgentConfig("a"), AgentConfig("b", skills={"vip": 1}),
        ...             AgentConfig("c", skills={"vip": 5}))))
        >>> engine.choose_held("vip", ["a", "b", "c"])  # a does not serve vip; c is the best
        'c'
        """
        if not free:
            return None
        queue = self._queues.get(queue_id)
        if queue is None:
            return free[0]
        strategy = queue.strategy
        rings = queue.rings
        ranked: list[tuple[tuple[float, ...], int, str]] = []
        for order, agent_id in enumerate(free):
            agent = self._agents.get(agent_id)
            if agent is None:
                ranked.append(((float(len(rings) + 1),), order, agent_id))
                continue
            tier = len(rings)
            if agent_id in queue.members:
                for ring, (_, alternatives, _) in enumerate(rings):
                    if matches_any(alternatives, agent.skills, agent.languages):
                        tier = ring
                        break
            key: tuple[float, ...] = (float(tier),)
            if strategy not in (Strategy.LONGEST_IDLE, Strategy.RANDOM):
                key += queue.key(agent, queue.id, Channel.VOICE, self._rng)
            ranked.append((key, order, agent_id))
        return min(ranked)[2]

    def may_lend(self, agent_id: str) -> bool:
        """Blending: whether a campaign's dialler may take the agent for outbound now.

        Inbound keeps its service level, outbound fills idle time: the engine lends an agent
        only when it leaves them idle, no waiting contact could take them, and every queue
        they serve keeps its ``outbound_reserve`` of idle first-ring agents without them.

        >>> from hotline.routing.model import AgentConfig, AgentLoggedIn, RoutingConfig
        >>> engine = RoutingEngine(RoutingConfig(
        ...     queues=(QueueConfig("vip", outbound_reserve=1),),
        ...     agents=(AgentConfig("a"), AgentConfig("b"))))
        >>> _ = engine.handle(AgentLoggedIn(at=0.0, agent_id="a"))
        >>> engine.may_lend("a")  # the reserve's only idle agent
        False
        >>> _ = engine.handle(AgentLoggedIn(at=0.0, agent_id="b"))
        >>> engine.may_lend("a"), engine.may_lend("b")
        (True, True)
        """
        agent = self._agents.get(agent_id)
        if agent is None or agent.state is not AgentState.AVAILABLE:
            return False
        for contact_id in self._contacts:
            if self.contact_stage(contact_id) == "waiting" and self.eligible(agent_id, contact_id):
                return False
        for queue in self._queues.values():
            reserve = queue.cfg.outbound_reserve
            if reserve > 0 and agent_id in queue.members:
                others = [a for a in self.first_ring_idle(queue.id) if a != agent_id]
                if agent_id in self.first_ring_idle(queue.id) and len(others) < reserve:
                    return False
        return True

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

    def change_queue_rules(self, cfg: QueueConfig) -> Result:
        """Change a queue's overflow rules and opening hours now, even while contacts wait.

        Unlike :meth:`configure_queue`, which rebuilds a queue at its safe point, this takes
        effect under live contacts — crisis mode (:mod:`hotline.routing.crisis`) closes
        queues and offers callbacks in the middle of a surge. Contacts entering from now on
        meet the new rules; each contact already waiting has its "wait exceeds" timers set
        again from the new rules, counted from when it queued (a rule its wait has passed
        fires at once); contacts ringing or in hand are left alone. Raises
        :class:`RoutingConflict` (nothing changed) when ``cfg`` differs from the queue in
        force in anything else, or an overflow rule names a queue the engine does not know.

        >>> from hotline.routing.model import (OverflowAction, OverflowCondition,
        ...     OverflowRule, QueueConfig, RoutingConfig, ContactQueued)
        >>> engine = RoutingEngine(RoutingConfig(queues=(QueueConfig("repair"),)))
        >>> _ = engine.handle(ContactQueued(at=0.0, contact_id="c1", queue="repair"))
        >>> offer = OverflowRule(OverflowCondition.WAIT_EXCEEDS, OverflowAction.VOICEMAIL, 10.0)
        >>> _ = engine.change_queue_rules(QueueConfig("repair", overflow=(offer,)))
        >>> [type(e).__name__ for e in engine.advance(10.0).effects]
        ['RouteToVoicemail']
        """
        queue = self._queue(cfg.id)
        if replace(cfg, overflow=queue.cfg.overflow, calendar=queue.cfg.calendar) != queue.cfg:
            raise RoutingConflict(
                f"queue {cfg.id}: only its overflow rules and hours change under live contacts"
            )
        for rule in cfg.overflow:
            if rule.target is not None and rule.target not in self._queues:
                raise RoutingConflict(
                    f"queue {cfg.id}: overflow target {rule.target!r} is not a queue"
                )
        queue.cfg = cfg
        queue.entry_rules = bool(cfg.overflow) or cfg.calendar is not None
        for contact in sorted(queue.waiting.values(), key=_contact_order):
            self._rearm_overflow(contact)
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
            pool_of(queue, ring, (), queue.channel, self._exclusive)

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
    Engine-wide settings are not looked at (:func:`engine_wide_changes`). The sites'
    ``regions`` take effect at once: a look-up the drivers make when a caller queues, they
    hold no state.
    """
    results: list[Result] = []
    waiting: dict[tuple[str, str], str] = {}
    if engine.config.regions != target.regions:
        engine.config = replace(engine.config, regions=target.regions)
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
