"""The routing engine's handlers: what each command and each timer does to the engine's state.

:class:`Handlers` holds the engine's state — queues, agents, contacts, the timer heap — and one
method per command (``_on_queued``, ``_on_answered``, ``_on_ended``…) and per timer kind
(``_fire``). They share a small vocabulary of moves: a contact *enters* a queue (or meets an
entry rule), *waits* in the pool of its ring, is *offered* to an agent, *answered*, *wrapped
up* and *finished*; it may *age*, *overflow*, be *called back*, *transferred* or *consulted*
on. Matching itself — which agent, which contact — is the pools' (:mod:`hotline.routing.pools`);
the records are in :mod:`hotline.routing.state`, the timers in :mod:`hotline.routing.timers`.

Every change that may alter an agent's availability or strategy key marks the agent *dirty*
(``_invalidate``; ``_touch`` when only the shown state may change), and ``_settle`` then
offers them waiting work or announces them to their pools, and logs their new state — once per
command, after the handler, so the pools' invariant holds again when the command returns.

:class:`hotline.routing.engine.RoutingEngine` adds the public interface (``handle``,
``advance``, the queries and reconfiguration); drivers use that. Pure: no I/O.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from hotline.core.events import NO_DATA, Channel, Event, EventKind, Outcome
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    AgentState,
    AgentStateChanged,
    AnnouncePosition,
    CallbackRequested,
    CancelOffer,
    ConnectConsult,
    ConsultEnded,
    ConsultStarted,
    ContactAbandoned,
    ContactEnded,
    ContactHeld,
    ContactMoved,
    ContactQueued,
    ContactResumed,
    Effect,
    ForwardCall,
    MovedToQueue,
    NewDay,
    Offer,
    OfferAnswered,
    OfferRejected,
    OverflowRule,
    PlayClosedMessage,
    RouteToVoicemail,
    RoutingConfig,
    RoutingConflict,
    RoutingError,
    SkillTerm,
    StartCallback,
    Term,
    Tick,
    TransferredOut,
    TransferredToAgent,
    TransferredToQueue,
    WrapUpEnded,
    canonical,
    matches_any,
    parse_requirements,
)
from hotline.routing.pools import (
    best_agent,
    best_contact,
    can_take,
    join,
    leave_pool,
    pool_of,
    push,
    wait_in,
)
from hotline.routing.state import (
    _CONNECTED,
    _ENDED,
    _FINISHED,
    _ITEM_CONSULT,
    _ITEM_RINGING,
    _ITEM_STATES,
    _ITEM_TALKING,
    _ITEM_WRAP,
    _NOT_READY,
    _OUT,
    _READY,
    _RINGING,
    _TEXT,
    _WAITING,
    Result,
    Segment,
    _Agent,
    _AgentState,
    _Channel,
    _Contact,
    _contact_order,
    _derive_state,
    _EventKind,
    _Item,
    _Outcome,
    _OverflowAction,
    _OverflowCondition,
    _position,
    _PriorityMode,
    _Queue,
    _site_divides,
    _Timer,
    agent_skills,
    identity_term,
    site_term,
)
from hotline.routing.strategies import estimated_wait_s, smoothed_handle_s
from hotline.routing.timers import TimerHeap

#: Overflow moves one contact may make before the engine stops following rules (loop guard).
MAX_OVERFLOW_HOPS = 8

_K = TypeVar("_K", bound=Hashable)

#: Event data mappings the engine keeps for sharing, of each kind (see Handlers._shared).
_SHARED_DATA_LIMIT = 4096
# The data of the most frequent events whose data repeat, shared and read-only (see
# Handlers._shared): an arrival with no customer known, an offer or an answer without
# any wait, a wrap-up of no length.
_NO_CUSTOMER: Mapping[str, Any] = MappingProxyType({"customer": None})
_OFFERED_AT_ONCE: Mapping[str, Any] = MappingProxyType({"wait_s": 0.0, "kind": "queue"})
_NO_WAIT: Mapping[str, Any] = MappingProxyType({"wait_s": 0.0})
_NO_WRAP_UP: Mapping[str, Any] = MappingProxyType({"wrap_s": 0.0})


class Handlers:
    """The routing engine's state and what each command and timer does to it.

    The base of :class:`~hotline.routing.engine.RoutingEngine`, which drivers use; see
    :mod:`hotline.routing.engine` for an example.
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
                pool_of(queue, ring, (), queue.channel, self._exclusive)
        self._agents: dict[str, _Agent] = {}
        # Agents are numbered in registration order (ties between agents go to the lower
        # number); a removed agent's number is never reused.
        self._next_index = 0
        self._contacts: dict[str, _Contact] = {}
        self._timers = TimerHeap()
        self._event_seq = 0
        self._contact_seq = 0
        self._offer_seq = 0
        self._dirty: dict[_Agent, None] = {}
        self._extra_cache: dict[tuple[tuple[str, ...], str | None], tuple[Term, ...]] = {}
        self._text_cache: dict[tuple[Term, ...], tuple[str, ...]] = {}
        # Shared, read-only event data (see _shared), by what they say.
        self._state_data: dict[tuple[AgentState, AgentState, str | None], Mapping[str, Any]] = {}
        self._state_data_not_ready: dict[
            tuple[AgentState, AgentState, str | None], Mapping[str, Any]
        ] = {}
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
            TransferredOut: self._on_transfer_out,
            ContactMoved: self._on_moved,
            ConsultStarted: self._on_consult_started,
            ConsultEnded: self._on_consult_ended,
            CallbackRequested: self._on_callback_requested,
            NewDay: self._on_new_day,
            Tick: lambda command: None,
        }

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
        return self._timers.set(_Timer(self.now + delay, kind, contact, agent, value))

    def _fire_timers(self, until: float) -> None:
        timers = self._timers
        entries = timers.entries
        while entries and entries[0][0] <= until:
            deadline = entries[0][0]
            timer = timers.pop()
            if timer is None:  # cancelled
                continue
            if entries and entries[0][0] == deadline and timer.kind == "age":
                self._fire_together(deadline, timer)
                continue
            timer.cancelled = True  # fired: no longer in the heap
            self.now = max(self.now, deadline)
            self._fire(timer)
            self._settle()

    def _fire_together(self, deadline: float, first: _Timer) -> None:
        """Fire every timer due at ``deadline``, contacts reaching a wider ring in queue order
        (:meth:`TimerHeap.due_together`)."""
        timers = self._timers
        batch = timers.due_together(deadline, first)
        self.now = max(self.now, deadline)
        for timer in batch:
            if timer.cancelled:  # cancelled by a timer fired before it in this batch
                timers.forget_cancelled()
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
        elif kind == "prefer":
            assert contact is not None
            if contact.preferred is not None:
                self._drop_preference(contact)
                if contact.stage == _WAITING:
                    leave_pool(contact)
                    self._wait(contact)

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
                join(agent, pool)

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
        agent.skills = agent_skills(cfg)
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
                    contact = best_contact(agent, self.now, self._exclusive)
                    if contact is None:
                        push(agent, self._exclusive)
                        break
                    self._offer(contact, agent, "queue")
                agent.settled_version = agent.version
            del dirty[agent]
            self._show_state(agent)

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
        # are immutable, so they are made once and kept (inlined for performance). A working
        # state's data also says the agent's presence (``ready``): an agent made ready while a
        # contact waits is offered it at once, and the log shows no ``available`` between —
        # a takeover restores presence from it (hotline.live.takeover.fold).
        # Kept apart by presence, so the key stays the short tuple.
        change = (state, previous, reason)
        kept = agent.shown if presence != _NOT_READY else agent.shown_not_ready
        shown = kept.get(change)
        if shown is None:
            kept_data = self._state_data if presence != _NOT_READY else self._state_data_not_ready
            data = kept_data.get(change)
            if data is None:
                said: dict[str, Any] = {
                    "state": _TEXT[state],
                    "previous": _TEXT[previous],
                    "reason": reason,
                }
                if items and presence != _OUT:
                    said["ready"] = presence == _READY
                data = self._shared(kept_data, change, said)
            shown = (data, AgentStateChanged(agent.id, state, reason))
            if len(kept) < _SHARED_DATA_LIMIT:
                kept[change] = shown
        data, effect = shown
        self._event(_EventKind.AGENT_STATE, None, agent, None, data)
        self._effects.append(effect)

    # ------------------------------------------------------------------ contacts in queues

    def _enter_queue(
        self, contact: _Contact, queue: _Queue, place_at: float, check_rules: bool = True
    ) -> None:
        """Put a contact into ``queue`` (its place counted from ``place_at``) or overflow it."""
        if contact.timers:
            self._cancel_contact_timers(contact)
        if contact.queue is not None:
            # Moving on (overflow, transfer): the preference was for the first queue only.
            self._drop_preference(contact)
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
            if check_rules and queue.entry_rules and contact.hops < MAX_OVERFLOW_HOPS:
                for rule in cfg.overflow:
                    if rule.when is _OverflowCondition.NO_AGENT_FREE:
                        # Nobody could take it at once: it leaves before it ever waits.
                        self._overflow(contact, rule, "no_agent_free")
                        return
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
        self._arm_overflow(contact, elapsed)
        if cfg.announce_every_s is not None:
            contact.timers.append(self._timer(cfg.announce_every_s, "announce", contact))
        if contact.preferred is not None:
            delay = contact.preferred_until - self.now
            contact.timers.append(self._timer(delay, "prefer", contact))

    def _arm_overflow(self, contact: _Contact, elapsed: float) -> None:
        """Set the waiting contact's "wait exceeds" overflow timers, ``elapsed`` into its wait."""
        queue = contact.queue
        assert queue is not None
        is_callback = contact.channel is _Channel.CALLBACK
        for rule in queue.cfg.overflow:
            if rule.when is _OverflowCondition.WAIT_EXCEEDS:
                if is_callback and rule.action is _OverflowAction.CALLBACK:
                    # A callback is one already: nobody is on the line to release, and a
                    # callback of a callback would only replace it, again and again.
                    continue
                assert rule.value is not None
                delay = rule.value - elapsed
                contact.timers.append(self._timer(delay, "overflow", contact, value=rule))

    def _rearm_overflow(self, contact: _Contact) -> None:
        """Replace a waiting contact's overflow timers by its queue's rules now in force.

        A rule its wait has already passed fires at once (a timer due now)."""
        kept: list[_Timer] = []
        for timer in contact.timers:
            if timer.kind == "overflow":
                self._timers.cancel(timer)
            else:
                kept.append(timer)
        contact.timers = kept
        contact.overflow_due = None
        self._arm_overflow(contact, self.now - contact.queued_at)

    def _prefer(self, contact: _Contact, term: SkillTerm, for_s: float) -> None:
        """The contact waits for the agents meeting ``term`` (one agent, or one site's) for
        its first ``for_s`` seconds in the queue: the term joins its own terms until then."""
        contact.preferred = term
        contact.preferred_until = self.now + for_s
        contact.extra = canonical((*contact.extra, term))

    def _drop_preference(self, contact: _Contact) -> None:
        """The contact no longer waits for its preferred agent: anyone eligible may take it.

        Its own terms lose the identity term; a contact waiting in a pool must then move
        to the pool of its remaining terms (the caller does that: ``leave_pool``, ``_wait``).
        """
        preferred = contact.preferred
        if preferred is not None:
            contact.extra = tuple(t for t in contact.extra if t != preferred)
            contact.preferred = None

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
            pool = pool_of(queue, contact.ring, contact.extra, contact.channel, self._exclusive)
        contact.stage = _WAITING
        agent = best_agent(contact, pool, self._rng)
        if agent is not None:
            # An agent is free (so, by the engine's invariant, nobody in this pool waits):
            # offer straight away, without the contact ever entering the pool's heap.
            contact.pool = None
            self._offer(contact, agent, "queue")
            return
        wait_in(contact, pool)

    def _cancel_contact_timers(self, contact: _Contact) -> None:
        for timer in contact.timers:
            self._timers.cancel(timer)
        contact.timers = []

    def _age(self, contact: _Contact, ring: int) -> None:
        contact.ring = ring
        if contact.stage == _WAITING:
            leave_pool(contact)
            self._wait(contact)

    def _announce(self, contact: _Contact) -> None:
        queue = contact.queue
        assert queue is not None
        position = _position(contact)
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
            leave_pool(contact)
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
        elif action is _OverflowAction.FORWARD:
            assert rule.number is not None
            self._event(
                _EventKind.OVERFLOWED,
                contact,
                queue=queue,
                data={"to": "forward", "number": rule.number, "reason": reason},
            )
            self._effects.append(ForwardCall(contact.id, queue.id, rule.number))
            self._finish(contact, _Outcome.OVERFLOWED)
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
        self._drop_preference(contact)
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
            leave_pool(contact)
        if contact.preferred is not None:
            # One offer is the preference's due: should it fail, anyone may take the contact.
            self._drop_preference(contact)
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
            self._timers.cancel(item.timer)
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
            timers = self._timers.entries
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
            self._timers.cancel(item.timer)
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
            leave_pool(contact)
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
        if not can_take(agent, contact.channel, self._exclusive):
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

    def _on_transfer_out(self, command: TransferredOut) -> None:
        """The agent hands the call to an outside number: the contact leaves the center
        (ended before the wrap-up starts, so a zero wrap-up finishes it at once)."""
        contact, agent = self._connected(command.contact_id)
        if contact.consult is not None:
            self._end_consult(contact, transfer=False)
        contact.stage = _ENDED
        self._hand_over(contact, agent, {"to": "number", "number": command.number})

    def _on_moved(self, command: ContactMoved) -> None:
        """A supervisor moves a waiting contact to another queue (keeping its place) or
        straight to an available agent."""
        contact = self._contact(command.contact_id)
        source = contact.queue
        if contact.stage != _WAITING or source is None:
            raise RoutingConflict(f"{command.contact_id} is not waiting in a queue")
        if (command.queue is None) == (command.agent_id is None):
            raise RoutingConflict("move a waiting contact to a queue or to an agent, not both")
        if command.agent_id is not None:
            agent = self._available(command.agent_id, contact)
            if contact.declined:
                contact.declined.discard(agent.id)  # the supervisor's choice stands
            self._drop_preference(contact)
            self._offer(contact, agent, "transfer")
            return
        assert command.queue is not None
        target = self._queue(command.queue)
        if target is source:
            raise RoutingConflict(f"{contact.id} already waits in queue {target.id}")
        if contact.channel != target.channel and contact.channel is not _Channel.CALLBACK:
            raise RoutingConflict(
                f"queue {target.id} takes {target.channel.value}, not {contact.channel.value}"
            )
        leave_pool(contact)
        self._event(
            _EventKind.OVERFLOWED,
            contact,
            queue=source,
            data={"to": target.id, "reason": "moved"},
        )
        self._effects.append(MovedToQueue(contact.id, source.id, target.id, "moved"))
        self._enter_queue(contact, target, contact.place_at, check_rules=False)

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
        leave_pool(contact)
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
        preferred = command.preferred_agent
        site = command.caller_site
        if preferred is not None and command.preferred_for_s > 0 and preferred in self._agents:
            # An agent the engine does not know cannot take it: no preference then.
            self._prefer(contact, identity_term(preferred), command.preferred_for_s)
        elif site is not None and queue.cfg.prefer_caller_site_s > 0 and _site_divides(queue, site):
            self._prefer(contact, site_term(site), queue.cfg.prefer_caller_site_s)
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


def _parse_command_terms(requirements: tuple[str, ...], language: str | None) -> tuple[Term, ...]:
    """A command's own requirement terms; a bad expression refuses the command."""
    texts = [*requirements, f"language == {language}"] if language else list(requirements)
    try:
        return parse_requirements(texts)
    except RoutingError as error:
        raise RoutingConflict(str(error)) from error
