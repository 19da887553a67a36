"""The discrete-event driver: the digital twin runs the real routing engine on a virtual clock.

The simulator does not model routing itself. It generates what the outside world does —
contacts arriving (non-stationary Poisson), callers giving up (patience), conversations ending
(handle time), agents logging in, taking breaks and leaving — and hands each happening to
:class:`hotline.routing.engine.RoutingEngine` as the same command the live server would send.
The engine answers with effects (offer this contact to that agent, start a callback…), which
the driver carries out, and with the contact event log, which the metrics engine turns into
figures. A simulated service level and a live one are therefore computed the same way, from
the same routing rules. Agents answer an offer after the scenario's ``answer_delay_s``; with
none, the engine answers each offer itself as it makes it (``RoutingConfig.auto_answer``),
which logs exactly what sending ``OfferAnswered`` at once would, in one call instead of two.

Time jumps from one happening to the next. The driver's own happenings sit in a heap ordered by
``(time, sequence number)`` — the counter keeps happenings at the same instant in the order they
were scheduled, as SimPy does, so runs repeat exactly — and the engine's timers (ring-no-answer,
wrap-up, ageing, overflow) are fired through :meth:`RoutingEngine.advance` whenever they fall
due before the next happening. Each kind of randomness has its own seeded stream: arrivals,
handle times and patience are all drawn when a contact arrives, so two what-if scenarios run
with the same seed see the same callers (common random numbers).
"""

from __future__ import annotations

import gc
import heapq
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hotline.core.events import Event
from hotline.replay.driver import TraceReplay
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    Command,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    Effect,
    Offer,
    OfferAnswered,
    RoutingConflict,
    StartCallback,
)
from hotline.sim.distributions import (
    Distribution,
    Exponential,
    Never,
    SurvivalCurve,
    poisson_arrivals,
)
from hotline.sim.scenario import Scenario

_P = TypeVar("_P")

#: After arrivals stop, contacts still in the system get this long to finish before the run is
#: cut (a queue with no agents and infinitely patient callers would otherwise never drain).
DRAIN_LIMIT_S = 4 * 3600.0
#: Events written between two freezes of the objects a run has made (see Simulation.run).
GC_FREEZE_EVERY = 20_000
#: The young generation's collection threshold during a run: above the objects a run makes
#: between two freezes, so the collector rarely runs at all (see Simulation.run).
GC_YOUNG_THRESHOLD = 100_000
#: An agent who cannot log out yet (still on a contact) tries again this much later.
LOGOUT_RETRY_S = 30.0


@dataclass
class Replication:
    """One simulated run: its seed, its contact event log and what it cost."""

    replication: int
    seed: int
    events: list[Event]
    contacts: int
    conflicts: int
    wall_s: float
    cut_at: float | None = None


class _Contact:
    """A simulated caller's conversation length and patience, drawn when they arrive (a plain
    class: compiled, its constructor is a C function, see hotline.compiled)."""

    __slots__ = ("handle_s", "patience_s")

    def __init__(self, handle_s: float, patience_s: float) -> None:
        self.handle_s = handle_s
        self.patience_s = patience_s


class Simulation:
    """Simulate one replication of a scenario through the real routing engine.

    >>> from hotline.sim.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({
    ...     "queues": [{"id": "q", "handle_time": {"constant": 60}}],
    ...     "agents": [{"group": "g", "count": 1}],
    ...     "arrivals": [{"queue": "q", "rates_per_hour": [60]}], "interval_s": 600})
    >>> run = Simulation(scenario, seed=7).run()
    >>> run.contacts > 0, run.events[0].kind.value
    (True, 'agent_state')
    """

    def __init__(self, scenario: Scenario, *, seed: int, replication: int = 0) -> None:
        self.scenario = scenario
        self.seed = seed
        self.replication = replication
        self.engine = RoutingEngine(scenario.routing_config(seed=seed * 1000 + replication))
        # What the simulator does with each kind of effect the engine returns. With
        # auto_answer the engine has answered an offer already: its conversation starts.
        self._on_effect: dict[type, Callable[[Any], None]] = {
            Offer: self._talk if self.engine.config.auto_answer else self._ring,
            StartCallback: self._call_back,
        }
        self.now = scenario.start
        # (time, sequence number, what happens, its argument): the method carrying out a
        # happening is stored with it, so the loop calls it without looking its kind up.
        self._heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._seq = 0
        self._last_skipped = -math.inf  # latest patience happening skipped as a no-op
        self._events: list[Event] = []
        self._contacts: dict[str, _Contact] = {}
        self._contact_count = 0
        self._conflicts = 0
        self._logged_in: set[str] = set()
        self._on_break: set[str] = set()
        self._leaving: set[str] = set()
        self._queues = {q.id: q for q in scenario.queues}
        prefix = f"{seed}:{replication}"
        self._arrival_rngs = [
            random.Random(f"{prefix}:arrivals:{i}") for i in range(len(scenario.arrivals))
        ]
        self._id_prefix = f"r{replication}-c"  # contact ids: r0-c0000001, r0-c0000002…
        self._handle_rng = random.Random(f"{prefix}:handle")
        # Historical contacts to bring back instead of the Poisson streams (--replay).
        self._trace = TraceReplay(scenario.trace)
        self._patience_rng = random.Random(f"{prefix}:patience")
        self._arrivals: list[Iterator[float]] = [
            poisson_arrivals(stream.rates_per_s, scenario.interval_s, scenario.start, rng)
            for stream, rng in zip(scenario.arrivals, self._arrival_rngs, strict=True)
        ]
        # Each stream's callers' patience (by the stream's priority), looked up once.
        self._stream_patience: list[Distribution] = [
            self._queues[stream.queue].patience_of(stream.priority) for stream in scenario.arrivals
        ]

    # ------------------------------------------------------------------ scheduling

    def _push(self, at: float, happening: Callable[[_P], None], payload: _P) -> None:
        """Schedule ``happening(payload)`` at ``at`` (after anything already due then)."""
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, happening, payload))

    def _schedule_people(self) -> None:
        start = self.scenario.start
        for group in self.scenario.agents:
            ids = group.agent_ids()
            if group.per_interval is not None:
                for index, count in enumerate(group.per_interval):
                    at = start + index * self.scenario.interval_s
                    self._push(at, self._staff, (tuple(ids), count))
                continue
            shifts = group.shifts or ()
            if not shifts:
                for agent_id in ids:
                    self._push(start, self._login, agent_id)
                continue
            for shift in shifts:
                for agent_id in ids:
                    self._push(start + shift.start_s, self._login, agent_id)
                    self._push(start + shift.end_s, self._logout, agent_id)
                    for break_start, length in shift.breaks:
                        self._push(start + break_start, self._break, agent_id)
                        self._push(start + break_start + length, self._back, agent_id)

    # ------------------------------------------------------------------ the engine

    def _command(self, command: Command) -> None:
        """Send one command to the engine and carry out what it asks for."""
        try:
            result = self.engine.handle(command)
        except RoutingConflict:
            # A race the live server also meets (e.g. the caller hung up as the agent
            # answered); the engine's state is unchanged, so the run carries on.
            self._conflicts += 1
            return
        self._carry_out(result.effects, result.events)

    def _carry_out(self, effects: list[Effect], events: list[Event]) -> None:
        """Log the events and carry out the effects in order, each by its kind's method.

        Most effects (agent state changes, announcements) need nothing from the simulator.
        """
        self._events.extend(events)
        on_effect = self._on_effect
        for effect in effects:
            carry_out = on_effect.get(type(effect))
            if carry_out is not None:
                carry_out(effect)

    def _ring(self, offer: Offer) -> None:
        """The agent's phone rings: they answer after the scenario's answer delay."""
        self._push(self.now + self.scenario.answer_delay_s, self._answer, offer)

    def _call_back(self, start: StartCallback) -> None:
        """The caller hangs up and is called back later.

        The callback keeps the caller's conversation length, and no longer has a patience to
        run out.
        """
        original = self._contacts.pop(start.contact_id, None)
        if original is not None:
            self._contacts[start.callback_id] = _Contact(original.handle_s, math.inf)

    def _answer(self, offer: Offer) -> None:
        """The agent answers an offer after the scenario's answer delay."""
        try:
            result = self.engine.handle(OfferAnswered(self.now, offer.contact_id, offer.agent_id))
        except RoutingConflict:
            self._conflicts += 1
            return
        self._events.extend(result.events)
        self._carry_out(result.effects, [])
        self._talk(offer)

    def _talk(self, offer: Offer) -> None:
        """The conversation of an answered offer starts: schedule its end."""
        contact = self._contacts.get(offer.contact_id)
        handle_s = contact.handle_s if contact is not None else self._draw_handle(offer.queue)
        self._push(self.now + handle_s, self._end, offer.contact_id)

    def _draw_handle(self, queue_id: str | None) -> float:
        spec = self._queues.get(queue_id or "") or self.scenario.queues[0]
        return spec.handle_time_at(self._interval_now()).sample(self._handle_rng)

    def _interval_now(self) -> int:
        """The arrival interval the virtual clock is in (may lie beyond the last)."""
        return int((self.now - self.scenario.start) // self.scenario.interval_s)

    def _advance_engine(self, until: float) -> None:
        """Fire every engine timer due at or before ``until``, each at its own instant."""
        engine = self.engine
        deadline = engine.next_deadline()
        while deadline is not None and deadline <= until:
            self.now = max(self.now, deadline)
            result = engine.advance(self.now)
            self._carry_out(result.effects, result.events)
            deadline = engine.next_deadline()

    # ------------------------------------------------------------------ happenings

    def _arrive(self, stream_index: int) -> None:
        stream = self.scenario.arrivals[stream_index]
        spec = self._queues[stream.queue]
        # Only a queue refined per interval pays for finding the interval.
        handle_time = (
            spec.handle_time_at(self._interval_now())
            if spec.handle_time_per_interval
            else spec.handle_time
        )
        self._contact_count += 1
        contact_id = f"{self._id_prefix}{self._contact_count:07d}"
        contact = _Contact(
            handle_s=handle_time.sample(self._handle_rng),
            patience_s=(
                spec.patience_of(stream.priority, len(self.engine.waiting_contacts(stream.queue)))
                if spec.waiting_bands
                else self._stream_patience[stream_index]
            ).sample(self._patience_rng),
        )
        self._contacts[contact_id] = contact
        if stream.caller_site is None:
            # Positional arguments (at, contact_id, queue, channel, priority): cheaper.
            self._command(
                ContactQueued(self.now, contact_id, stream.queue, stream.channel, stream.priority)
            )
        else:
            self._command(
                ContactQueued(
                    self.now,
                    contact_id,
                    stream.queue,
                    stream.channel,
                    stream.priority,
                    caller_site=stream.caller_site,
                )
            )
        if contact.patience_s < math.inf:
            self._expect_patience(contact_id, self.now + contact.patience_s)
        following = next(self._arrivals[stream_index], None)
        if following is not None:
            self._push(following, self._arrive, stream_index)

    def _replay(self, index: int) -> None:
        """A historical contact arrives again (:mod:`hotline.replay`), with its own handle time
        and patience; the next one is scheduled at its own recorded time."""
        replayed = self._trace
        self._contact_count += 1
        contact_id = f"{self._id_prefix}{self._contact_count:07d}"
        priority = replayed.trace[index].priority
        arrival = replayed.arrival(
            index,
            contact_id,
            handle=self._draw_handle,
            beyond=lambda queue_id, waited_s: self._patience_beyond(queue_id, waited_s, priority),
        )
        self._contacts[contact_id] = _Contact(arrival.handle_s, arrival.patience_s)
        self._command(arrival.command)
        if math.isfinite(arrival.patience_s):
            self._expect_patience(contact_id, self.now + arrival.patience_s)
        if index + 1 < len(replayed):
            self._push(replayed.at(index + 1), self._replay, index + 1)

    def _patience_beyond(
        self, queue_id: str, waited_s: float, priority: int | None = None
    ) -> float:
        """A patience for a contact of ``queue_id`` answered after ``waited_s``: longer than
        that (a right-censored observation), from the patience of the queue's callers of
        that ``priority`` (and of the queue the contact finds, when refined so)."""
        spec = self._queues[queue_id]
        waiting = len(self.engine.waiting_contacts(queue_id)) if spec.waiting_bands else None
        return _beyond(spec.patience_of(priority, waiting), waited_s, self._patience_rng)

    def _expect_patience(self, contact_id: str, at: float) -> None:
        """Schedule the caller giving up at ``at``, unless they already talk to an agent.

        A caller connected at once can never wait or ring again here (the simulator sends no
        transfers), so their patience running out would do nothing: skipping the happening
        saves a heap push, a pop and a stage look-up for most contacts — inlined for
        performance. The run loop still counts it in ``_last_skipped``, so the run is cut
        (or not) at the end exactly as if it were in the heap.
        """
        if self.engine.contact_stage(contact_id) == "connected":
            self._last_skipped = max(self._last_skipped, at)
            return
        self._push(at, self._patience_runs_out, contact_id)

    def _patience_runs_out(self, contact_id: str) -> None:
        if self.engine.contact_stage(contact_id) in ("waiting", "ringing"):
            self._command(ContactAbandoned(self.now, contact_id))

    def _end(self, contact_id: str) -> None:
        self._contacts.pop(contact_id, None)
        if self.engine.contact_stage(contact_id) == "connected":
            self._command(ContactEnded(self.now, contact_id))

    def _login(self, agent_id: str) -> None:
        self._leaving.discard(agent_id)
        if agent_id in self._logged_in:
            self._command(AgentReady(at=self.now, agent_id=agent_id))
            return
        self._logged_in.add(agent_id)
        self._command(AgentLoggedIn(at=self.now, agent_id=agent_id))

    def _logout(self, agent_id: str) -> None:
        if agent_id not in self._logged_in:
            return
        if agent_id not in self._leaving:
            self._leaving.add(agent_id)
            self._command(AgentNotReady(at=self.now, agent_id=agent_id, reason="end_of_shift"))
        if self.engine.agent_contacts(agent_id):
            # Still finishing a contact: agents do not drop callers at the end of a shift.
            self._push(self.now + LOGOUT_RETRY_S, self._logout, agent_id)
            return
        self._leaving.discard(agent_id)
        self._logged_in.discard(agent_id)
        self._on_break.discard(agent_id)
        self._command(AgentLoggedOut(at=self.now, agent_id=agent_id))

    def _break(self, agent_id: str) -> None:
        if agent_id in self._logged_in and agent_id not in self._leaving:
            self._on_break.add(agent_id)
            self._command(AgentNotReady(at=self.now, agent_id=agent_id, reason="break"))

    def _back(self, agent_id: str) -> None:
        if agent_id in self._on_break:
            self._on_break.discard(agent_id)
            if agent_id in self._logged_in and agent_id not in self._leaving:
                self._command(AgentReady(at=self.now, agent_id=agent_id))

    def _staff(self, staffing: tuple[tuple[str, ...], int]) -> None:
        """Match the number of working agents of a group to ``count`` for this interval."""
        ids, count = staffing
        working = [a for a in ids if a in self._logged_in and a not in self._leaving]
        if len(working) > count:
            # Idle agents leave first, then the most recently joined.
            surplus = sorted(
                working, key=lambda a: (bool(self.engine.agent_contacts(a)), -ids.index(a))
            )
            for agent_id in surplus[: len(working) - count]:
                self._logout(agent_id)
        elif len(working) < count:
            for agent_id in ids:
                if len(working) >= count:
                    break
                if agent_id not in working:
                    self._login(agent_id)
                    working.append(agent_id)

    # ------------------------------------------------------------------ the loop

    def run(self) -> Replication:
        """Run to the end of the arrivals plus the drain; return the event log."""
        began = time.perf_counter()
        self._schedule_people()
        if len(self._trace):
            self._push(self._trace.at(0), self._replay, 0)
        else:
            for index, stream in enumerate(self._arrivals):
                first = next(stream, None)
                if first is not None:
                    self._push(first, self._arrive, index)
        cut = self.scenario.start + self.scenario.duration_s + DRAIN_LIMIT_S
        # The event log only grows during a run and is kept until it returns, so every full
        # garbage collection would scan all of it again: about a quarter of the CPU time of a
        # simulated day. Every GC_FREEZE_EVERY events the run freezes what exists
        # (gc.freeze), so the collector looks only at younger objects. Short-lived cyclic
        # garbage is still collected by the young-generation passes in between; only what is
        # pending at a freeze waits for the end of the run, when everything is unfrozen.
        # Left alone when GC is off or the caller froze objects itself (a server after
        # start-up).
        manage_gc = gc.isenabled() and gc.get_freeze_count() == 0
        thresholds = gc.get_threshold()
        if manage_gc:
            gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
        try:
            cut_at = self._loop(cut, GC_FREEZE_EVERY if manage_gc else None)
        finally:
            if manage_gc:
                gc.set_threshold(*thresholds)
                gc.unfreeze()
        if cut_at is None and self._last_skipped > cut:
            # A skipped (no-op) patience happening would have been left beyond the cut.
            cut_at = cut
        if cut_at is None:
            self._advance_engine(cut)
        return Replication(
            replication=self.replication,
            seed=self.seed,
            events=self._events,
            contacts=self._contact_count,
            conflicts=self._conflicts,
            wall_s=time.perf_counter() - began,
            cut_at=cut_at,
        )

    def _loop(self, cut: float, freeze_every: int | None) -> float | None:
        """Carry out happenings and engine timers in time order, up to ``cut``.

        Returns ``cut`` when happenings were left beyond it, else ``None``.
        """
        heap = self._heap
        engine = self.engine
        events = self._events
        next_freeze = math.inf if freeze_every is None else freeze_every
        while heap:
            if len(events) >= next_freeze:
                assert freeze_every is not None
                gc.freeze()
                next_freeze = len(events) + freeze_every
            at = heap[0][0]
            if at > cut:
                return cut
            deadline = engine.next_deadline()
            if deadline is not None and deadline <= at:
                # The engine's own timer (wrap-up, ring, overflow…) comes first; what it sets
                # off may schedule happenings before ``at``, so look at the heap again after.
                self.now = max(self.now, deadline)
                result = engine.advance(self.now)
                self._carry_out(result.effects, result.events)
                continue
            at, _, happening, payload = heapq.heappop(heap)
            self.now = at
            happening(payload)
        return None


def _beyond(patience: Distribution, waited_s: float, rng: random.Random) -> float:
    """A patience drawn given that it exceeds ``waited_s`` (a right-censored observation)."""
    if isinstance(patience, SurvivalCurve):
        return patience.sample_beyond(rng, waited_s)
    if isinstance(patience, Exponential | Never):
        # Memoryless: the remaining patience has the same distribution.
        return waited_s + patience.sample(rng)
    for _ in range(1000):
        value = patience.sample(rng)
        if value > waited_s:
            return value
    return math.inf


@dataclass
class SimulationRun:
    """Several replications of one scenario with one seed."""

    scenario: Scenario
    seed: int
    replications: list[Replication] = field(default_factory=list)

    @property
    def contacts(self) -> int:
        """Contacts simulated over all replications."""
        return sum(r.contacts for r in self.replications)


def simulate(
    scenario: Scenario,
    *,
    replications: int,
    seed: int,
    progress: Callable[[Replication], None] | None = None,
) -> SimulationRun:
    """Run ``replications`` independent replications (streams derived from ``seed``)."""
    if replications < 1:
        raise ValueError("at least one replication is needed")
    run = SimulationRun(scenario=scenario, seed=seed)
    for index in range(replications):
        replication = Simulation(scenario, seed=seed, replication=index).run()
        run.replications.append(replication)
        if progress is not None:
            progress(replication)
    return run
