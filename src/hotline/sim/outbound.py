"""Outbound and blended days in the digital twin: campaigns dialled through the real engine.

A campaign day: a pacer (:mod:`hotline.pacing`) says how many calls to place; the simulator
plays the customers — each call is answered by a person (30–60 % of calls, varying over the
day), busy, or rings out unanswered; some who answer hang up within seconds of hearing the
agent — and every answered call enters the **real routing engine** as a contact of the
campaign's queue, which hands it to an agent (the same engine, rules and event log as
inbound). A call not connected within 2 s is abandoned: the simulator carries out the
pacer's :class:`~hotline.pacing.state.PlaySafeMessage` and counts it.

**Blended** days add inbound queues (e.g. VIP at 99 % in 5 s) served by the same agents.
Inbound keeps its service level, outbound fills idle time: the dialler *holds* idle agents
(a not-ready with reason ``outbound`` in the engine) and hands one back to the engine the
moment an inbound contact waits. The inbound queues' **outbound reserve** — the center
file's ``queues[].outbound_reserve``, carried by :class:`InboundQueue` (the live dialler
leaves the same agents to the same queues, :meth:`RoutingEngine.may_lend
<hotline.routing.engine.RoutingEngine.may_lend>`) — is inbound's: that many of the held
agents (:attr:`CampaignDay.reserve`) the campaign does not count as free, places no calls on
their account and its answered calls do not take them, so they go to inbound at once; the
reserve is handed out first and refilled first (from the campaign's idle agents only while
the budget rule of :mod:`hotline.pacing.budget` allows). An answered campaign call readies
one of the campaign's held agents, and the campaign queue's top priority class makes the
engine give it to that call. Inbound figures come from the event log through :mod:`hotline.metrics`.

Agents also go not-ready on their own (breaks, short personal not-ready); with a pacer that
``defers_release`` their not-ready waits until the budget allows it.

Everything random has its own seeded stream, so a seed gives the same day whichever pacer
runs it: the same customers (each call's answer, ring and talk time are drawn from the
call's own number, not from how many calls came before) and the same breaks.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hotline.core.events import Event
from hotline.metrics.compute import events_to_frame, queue_figures
from hotline.metrics.definitions import MetricSettings, QueueThresholds
from hotline.pacing.budget import may_release, releases, wait_expired
from hotline.pacing.pacers import Pacer
from hotline.pacing.state import (
    ABANDON_AFTER_S,
    AbandonCap,
    CallResult,
    DialerState,
    Outcome,
    PlaySafeMessage,
)
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import (
    AgentConfig,
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    AgentState,
    AgentStateChanged,
    Command,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    Offer,
    QueueConfig,
    RoutingConfig,
    RoutingConflict,
)
from hotline.sim.distributions import Distribution, Exponential, LogNormal, poisson_arrivals

_P = TypeVar("_P")

#: The engine queue of the campaign's answered calls, and its priority class: above any
#: inbound queue's, since a person on the line may wait only 2 s.
CAMPAIGN_QUEUE = "campaign"
CAMPAIGN_PRIORITY = 1000
#: Not-ready reason of an idle agent the dialler holds for the campaign (blended days).
HOLD_REASON = "outbound"


@dataclass(frozen=True, slots=True)
class Customers:
    """How the campaign's customers respond (each call decided by its own draw).

    The answer rate moves over the day around ``answer_rate`` by ± ``answer_swing`` (a
    sine over the day: people are home more at some hours), so a pacer must keep learning.
    """

    answer_rate: float = 0.45
    answer_swing: float = 0.1
    busy_rate: float = 0.1
    hang_up_rate: float = 0.08
    """Of the answered: hang up within seconds of hearing the agent (answer-then-hang-up)."""
    ring_before_answer: Distribution = field(default_factory=lambda: LogNormal(10.0, 6.0))
    busy_after_s: float = 4.0
    no_answer_after_s: float = 25.0
    talk: Distribution = field(default_factory=lambda: LogNormal(180.0, 120.0))
    hang_up_talk: Distribution = field(default_factory=lambda: LogNormal(12.0, 6.0))

    def __post_init__(self) -> None:
        low = self.answer_rate - self.answer_swing
        high = self.answer_rate + self.answer_swing
        if not 0 <= low <= high <= 1:
            raise ValueError("customers: answer_rate ± answer_swing must stay within 0..1")
        if not 0 <= self.busy_rate <= 1 - high:
            raise ValueError("customers: busy_rate + answer rate must stay within 1")

    def rate_at(self, fraction_of_day: float) -> float:
        """The answer rate at a point of the day (0 = start, 1 = end)."""
        return self.answer_rate + self.answer_swing * math.sin(2 * math.pi * fraction_of_day)


@dataclass(frozen=True, slots=True)
class InboundQueue:
    """An inbound queue of a blended day: its target, traffic, handle time and patience."""

    id: str
    rates_per_hour: tuple[float, ...]
    handle: Distribution = field(default_factory=lambda: LogNormal(200.0, 150.0))
    patience: Distribution = field(default_factory=lambda: Exponential(120.0))
    priority: int = 0
    service_level: float = 0.8
    threshold_s: float = 20.0
    outbound_reserve: int = 0
    """Idle agents the dialler leaves to this queue: the center file's
    ``queues[].outbound_reserve`` (``hotline simulate-campaign`` reads it from ``--center``)."""


@dataclass(frozen=True, slots=True)
class CampaignDay:
    """One simulated day of a campaign: agents, customers, breaks and (blended) inbound.

    ``breaks`` are (start, length) in seconds for every agent, staggered by agent;
    ``not_ready_per_hour`` adds short personal not-ready spells at random (mean
    ``not_ready_s``). ``leads`` is the campaign list's size (``None``: it never runs out): a
    lead is done once connected to an agent; one not reached is dialled again later, never
    twice at once.
    """

    agents: int
    day_s: float = 8 * 3600.0
    customers: Customers = field(default_factory=Customers)
    wrap_up_s: float = 15.0
    breaks: tuple[tuple[float, float], ...] = ((2 * 3600.0, 900.0), (6 * 3600.0, 900.0))
    not_ready_per_hour: float = 0.5
    not_ready_s: float = 120.0
    inbound: tuple[InboundQueue, ...] = ()
    inbound_interval_s: float = 3600.0
    leads: int | None = None
    cap: AbandonCap = field(default_factory=AbandonCap)

    def __post_init__(self) -> None:
        if self.agents < 1:
            raise ValueError("a campaign day needs at least one agent")
        if self.day_s <= 0:
            raise ValueError("day_s must be positive")

    @property
    def reserve(self) -> int:
        """How many held agents are inbound's: the largest outbound reserve of the inbound
        queues. Every simulated agent serves every inbound queue's first ring, so one idle
        agent counts towards each queue's reserve at once, as the engine counts it live.

        >>> CampaignDay(agents=9, inbound=(InboundQueue("vip", (20.0,), outbound_reserve=2),
        ...                                InboundQueue("repair", (60.0,), outbound_reserve=1)),
        ...             ).reserve
        2
        """
        return max((q.outbound_reserve for q in self.inbound), default=0)


@dataclass
class DayResult:
    """What one simulated day gave: the dialler's counts, agent time, the inbound figures."""

    pacer: str
    seed: int
    dialled: int = 0
    answered: int = 0
    connected: int = 0
    abandoned: int = 0
    completed: int = 0
    talk_s: float = 0.0
    staffed_s: float = 0.0
    inbound_service_level: dict[str, float | None] = field(default_factory=dict)
    safe_messages: int = 0
    max_exposure_over_allowance: int = 0
    """The largest excess of the worst case over the allowance seen (0: (I) always held)."""
    events: list[Event] = field(default_factory=list)

    @property
    def abandon_rate(self) -> float:
        """Abandoned ÷ live answers (0 with no answer)."""
        return self.abandoned / self.answered if self.answered else 0.0

    @property
    def productivity(self) -> float:
        """Agent productive-time share: time talking ÷ time available (breaks excluded)."""
        return self.talk_s / self.staffed_s if self.staffed_s else 0.0


class _Call:
    __slots__ = ("answer_after", "handle_s", "outcome", "placed_at", "talk_s")

    def __init__(self, placed_at: float, outcome: Outcome, answer_after: float, talk_s: float):
        self.placed_at = placed_at
        self.outcome = outcome
        self.answer_after = answer_after
        self.talk_s = talk_s
        self.handle_s = 0.0


class CampaignSimulation:
    """Simulate one campaign day with one pacer through the real routing engine.

    >>> from hotline.pacing.pacers import ProgressivePacer
    >>> day = CampaignDay(agents=3, day_s=1800.0, breaks=())
    >>> result = CampaignSimulation(day, ProgressivePacer(), seed=1).run()
    >>> result.answered > 0, result.abandoned
    (True, 0)
    """

    def __init__(self, day: CampaignDay, pacer: Pacer, *, seed: int) -> None:
        self.day = day
        self.pacer = pacer
        self.seed = seed
        self.blended = bool(day.inbound)
        self.agent_ids = [f"agent-{i + 1:03d}" for i in range(day.agents)]
        queues = [
            QueueConfig(
                CAMPAIGN_QUEUE,
                wrap_up_s=day.wrap_up_s,
                target_threshold_s=ABANDON_AFTER_S,
                ring_timeout_s=math.inf,
            )
        ]
        for q in day.inbound:
            queues.append(
                QueueConfig(
                    q.id,
                    wrap_up_s=day.wrap_up_s,
                    target_service_level=q.service_level,
                    target_threshold_s=q.threshold_s,
                    default_priority=q.priority,
                    outbound_reserve=q.outbound_reserve,
                )
            )
        self.engine = RoutingEngine(
            RoutingConfig(
                queues=tuple(queues),
                agents=tuple(AgentConfig(a) for a in self.agent_ids),
                seed=seed,
                auto_answer=True,
            )
        )
        self.now = 0.0
        self._heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._seq = 0
        self._events: list[Event] = []
        self._state: dict[str, AgentState] = {}
        self._reason: dict[str, str | None] = {}
        self._held: set[str] = set()
        self._reserve: set[str] = set()  # held agents kept for inbound, not the campaign's
        self._releasing: dict[str, float] = {}  # agent -> length of the not-ready they wait for
        self._wants_break: dict[str, float] = {}  # busy agent -> length, when they come free
        self._on_break: set[str] = set()
        self._calls: dict[str, _Call] = {}
        self._ringing = 0
        self._waiting: set[str] = set()
        self._inbound_handle: dict[str, float] = {}
        self._talk_started: dict[str, float] = {}
        self._call_count = 0
        self._decision_due: float | None = None
        self.result = DayResult(pacer=pacer.name, seed=seed)
        prefix = f"{seed}"
        self._customer_seed = f"{prefix}:customer"
        self._people_rng = random.Random(f"{prefix}:people")
        self._inbound_rngs = [random.Random(f"{prefix}:inbound:{q.id}") for q in day.inbound]

    # ------------------------------------------------------------------ scheduling

    def _push(self, at: float, happening: Callable[[_P], None], payload: _P) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, happening, payload))

    def _command(self, command: Command) -> bool:
        try:
            result = self.engine.handle(command)
        except RoutingConflict:
            return False
        self._carry_out(result.effects, result.events)
        return True

    def _carry_out(self, effects: Sequence[Any], events: list[Event]) -> None:
        self._events.extend(events)
        for effect in effects:
            if isinstance(effect, AgentStateChanged):
                self._state[effect.agent_id] = effect.state
                self._reason[effect.agent_id] = effect.reason
                if effect.state is AgentState.AVAILABLE:
                    self._came_free(effect.agent_id)
            elif isinstance(effect, Offer):
                self._connected(effect)

    # ------------------------------------------------------------------ the dialler

    def state(self) -> DialerState:
        """The campaign as the pacer sees it now."""
        free = talking = wrapping = not_ready = 0
        for agent_id in self.agent_ids:
            state = self._state.get(agent_id)
            if state is AgentState.AVAILABLE:
                if not self.blended:
                    free += 1
            elif state is AgentState.NOT_READY:
                if agent_id in self._held and agent_id not in self._reserve:
                    free += 1
                else:
                    not_ready += 1
            elif state is AgentState.WRAP_UP:
                wrapping += 1
            elif state is not None:
                talking += 1
        counted_releasing = sum(1 for a in self._releasing if self._is_free_for_dialler(a))
        return DialerState(
            now=self.now,
            free_agents=free,
            talking_agents=talking,
            wrapping_agents=wrapping,
            not_ready_agents=not_ready,
            releasing_agents=counted_releasing,
            ringing=self._ringing,
            waiting=len(self._waiting),
            answered_today=self.result.answered,
            abandoned_today=self.result.abandoned,
            dialled_today=self.result.dialled,
            remaining_s=self.day.day_s - self.now,
        )

    def _is_free_for_dialler(self, agent_id: str) -> bool:
        state = self._state.get(agent_id)
        if self.blended:
            return (
                state is AgentState.NOT_READY
                and agent_id in self._held
                and agent_id not in self._reserve
            )
        return state is AgentState.AVAILABLE

    def _decide(self, _: None = None) -> None:
        """Rebalance agents, let pending not-readies go, then ask the pacer for calls."""
        if self.blended:
            self._rebalance()
        self._release_pending()
        state = self.state()
        allowance = self.day.cap.allowance(answered=state.answered_today)
        over = state.abandoned_today + max(0, state.waiting + state.ringing - state.free_agents)
        self.result.max_exposure_over_allowance = max(
            self.result.max_exposure_over_allowance, over - allowance
        )
        count = self.pacer.calls_to_place(state)
        if self.day.leads is not None:
            # One call at a time per open lead; a lead is done once connected.
            open_leads = self.day.leads - self.result.connected - state.ringing - state.waiting
            count = min(count, max(0, open_leads))
        for _call in range(count):
            self._dial()
        due = self.pacer.next_decision_at(self.now)
        if due is not None and due < self.day.day_s and due != self._decision_due:
            self._decision_due = due
            self._push(due, self._decide, None)

    def _held_idle(self) -> list[str]:
        """The campaign's held idle agents (blended days), those without a pending not-ready
        first; inbound's reserve is not among them."""
        idle = [a for a in sorted(self._held - self._reserve) if self._is_free_for_dialler(a)]
        return sorted(idle, key=lambda a: a in self._releasing)

    def _hand_to_inbound(self, agent_id: str) -> None:
        self._held.discard(agent_id)
        self._reserve.discard(agent_id)
        self._command(AgentReady(at=self.now, agent_id=agent_id))

    def _release_pending(self) -> None:
        """Agents waiting to go not-ready go, one by one, while the budget allows."""
        if not self._releasing:
            return
        if self.blended:
            # Agents the engine has (not held) and inbound's reserve are not the campaign's:
            # they go at once.
            for agent_id in list(self._releasing):
                if self._state.get(agent_id) is AgentState.AVAILABLE or (agent_id in self._reserve):
                    self._go_not_ready(agent_id, self._releasing.pop(agent_id))
        pending = [a for a in self._releasing if self._is_free_for_dialler(a)]
        for release in releases(self.state(), self.pacer.cap, pending):
            length = self._releasing.pop(release.agent_id)
            self._go_not_ready(release.agent_id, length)

    def _rebalance(self) -> None:
        """Blended: hold idle agents for the campaign or hand them back to inbound."""
        engine = self.engine
        inbound_waiting = sum(len(engine.waiting_contacts(q.id)) for q in self.day.inbound)
        idle = [
            a
            for a in self.agent_ids
            if self._state.get(a) is AgentState.AVAILABLE and a not in self._releasing
        ]
        if inbound_waiting:
            # Inbound first: give held agents back while the budget allows.
            # The reserve first (the campaign does not count on it), then the campaign's.
            for agent_id in [*sorted(self._reserve), *self._held_idle()]:
                if inbound_waiting <= 0:
                    break
                counted = agent_id not in self._reserve
                if (
                    counted
                    and self.pacer.defers_release
                    and not may_release(self.state(), self.pacer.cap)
                ):
                    break
                self._hand_to_inbound(agent_id)
                inbound_waiting -= 1
            return
        if self.now >= self.day.day_s:
            return
        for agent_id in idle:
            self._held.add(agent_id)
            if len(self._reserve) < self.day.reserve:
                self._reserve.add(agent_id)
            self._command(AgentNotReady(at=self.now, agent_id=agent_id, reason=HOLD_REASON))
        # Refill the reserve from the campaign's idle agents while the budget allows.
        for agent_id in self._held_idle():
            if len(self._reserve) >= self.day.reserve:
                break
            if self.pacer.defers_release and not may_release(self.state(), self.pacer.cap):
                break
            self._reserve.add(agent_id)

    def _dial(self) -> None:
        """Place one call: the customer's response is drawn from the call's own stream."""
        self._call_count += 1
        call_id = f"call-{self._call_count:06d}"
        rng = random.Random(f"{self._customer_seed}:{self._call_count}")
        customers = self.day.customers
        u = rng.random()
        rate = customers.rate_at(self.now / self.day.day_s)
        if u < rate:
            ring = min(customers.ring_before_answer.sample(rng), customers.no_answer_after_s)
            if rng.random() < customers.hang_up_rate:
                talk = customers.hang_up_talk.sample(rng)
            else:
                talk = customers.talk.sample(rng)
            call = _Call(self.now, Outcome.ANSWERED, ring, talk)
        elif u < rate + customers.busy_rate:
            call = _Call(self.now, Outcome.BUSY, customers.busy_after_s, 0.0)
        else:
            call = _Call(self.now, Outcome.NO_ANSWER, customers.no_answer_after_s, 0.0)
        self._calls[call_id] = call
        self._ringing += 1
        self.result.dialled += 1
        self._push(self.now + call.answer_after, self._resolve, call_id)

    def _resolve(self, call_id: str) -> None:
        """The ringing call is answered, busy, or rings out."""
        call = self._calls[call_id]
        self._ringing -= 1
        self.pacer.on_result(
            CallResult(at=self.now, outcome=call.outcome, ring_s=call.answer_after)
        )
        if call.outcome is not Outcome.ANSWERED:
            del self._calls[call_id]
            self._decide()
            return
        self.result.answered += 1
        self._waiting.add(call_id)
        self._command(ContactQueued(self.now, call_id, CAMPAIGN_QUEUE, priority=CAMPAIGN_PRIORITY))
        if call_id in self._waiting and self.blended:
            held = self._held_idle()
            if held:
                self._held.discard(held[0])
                self._command(AgentReady(at=self.now, agent_id=held[0]))
        if call_id in self._waiting:
            self._push(self.now + ABANDON_AFTER_S, self._abandon_if_waiting, call_id)
        self._decide()

    def _abandon_if_waiting(self, call_id: str) -> None:
        if call_id not in self._waiting:
            return
        _, safe_message = wait_expired(self.state(), call_id)
        self._waiting.discard(call_id)
        self._command(ContactAbandoned(self.now, call_id))
        self._calls.pop(call_id, None)
        self.result.abandoned += 1
        self._safe_message(safe_message)
        self.pacer.on_result(CallResult(at=self.now, outcome=Outcome.ABANDONED))
        self._decide()

    def _safe_message(self, effect: PlaySafeMessage) -> None:
        """The simulated safe message: counted (the live dialler plays the prompt)."""
        self.result.safe_messages += 1

    def _connected(self, offer: Offer) -> None:
        """The engine connected a contact to an agent: schedule the end of the conversation."""
        self._talk_started[offer.contact_id] = self.now
        call = self._calls.get(offer.contact_id)
        if call is not None:
            self._waiting.discard(offer.contact_id)
            self.result.connected += 1
            waited = self.now - call.placed_at - call.answer_after
            self.pacer.on_result(CallResult(at=self.now, outcome=Outcome.CONNECTED, wait_s=waited))
            self._push(self.now + call.talk_s, self._end, offer.contact_id)
            return
        handle = self._inbound_handle.pop(offer.contact_id, None)
        if handle is not None:
            self._push(self.now + handle, self._end, offer.contact_id)

    def _end(self, contact_id: str) -> None:
        """A conversation ends; the agent wraps up (the engine's timer)."""
        start = self._talk_started.pop(contact_id, None)
        if start is None or self.engine.contact_stage(contact_id) != "connected":
            return
        self.result.talk_s += max(0.0, min(self.now, self.day.day_s) - min(start, self.day.day_s))
        self._command(ContactEnded(self.now, contact_id))
        call = self._calls.pop(contact_id, None)
        if call is not None:
            self.result.completed += 1
            self.pacer.on_result(
                CallResult(
                    at=self.now,
                    outcome=Outcome.COMPLETED,
                    handle_s=call.talk_s + self.day.wrap_up_s,
                )
            )
        self._decide()

    # ------------------------------------------------------------------ agents

    def _came_free(self, agent_id: str) -> None:
        """An agent is available: a break they asked for while busy is asked for now.

        Acted on as a happening at the same instant, after the engine's other effects of
        this command have been taken in.
        """
        length = self._wants_break.pop(agent_id, None)
        if length is not None:
            self._push(self.now, self._request, (agent_id, length))
        else:
            self._push(self.now, self._decide, None)

    def _ask_not_ready(self, agent_id: str, length: float) -> None:
        """An agent asks to go not-ready for ``length`` seconds (break or personal)."""
        if agent_id in self._on_break or agent_id in self._releasing:
            return
        state = self._state.get(agent_id)
        if state in (AgentState.ON_CONTACT, AgentState.WRAP_UP, AgentState.RESERVED):
            self._wants_break[agent_id] = max(length, self._wants_break.get(agent_id, 0.0))
            return
        if self.pacer.defers_release and self._is_free_for_dialler(agent_id):
            self._releasing[agent_id] = length
            self._push(self.now, self._decide, None)
            return
        self._go_not_ready(agent_id, length)

    def _go_not_ready(self, agent_id: str, length: float) -> None:
        self._held.discard(agent_id)
        self._reserve.discard(agent_id)
        self._on_break.add(agent_id)
        if self._reason.get(agent_id) == HOLD_REASON or self._state.get(agent_id) is not (
            AgentState.NOT_READY
        ):
            self._command(AgentNotReady(at=self.now, agent_id=agent_id, reason="break"))
        self._push(self.now + length, self._back, agent_id)
        self._push(self.now, self._decide, None)

    def _back(self, agent_id: str) -> None:
        self._on_break.discard(agent_id)
        self._command(AgentReady(at=self.now, agent_id=agent_id))
        self._decide()

    def _request(self, request: tuple[str, float]) -> None:
        agent_id, length = request
        self._ask_not_ready(agent_id, length)

    def _schedule_people(self) -> None:
        rng = self._people_rng
        day = self.day
        for index, agent_id in enumerate(self.agent_ids):
            self._command(AgentLoggedIn(at=0.0, agent_id=agent_id))
            stagger = (index % 4) * 900.0
            for start, length in day.breaks:
                at = start + stagger
                if at < day.day_s:
                    self._push(at, self._request, (agent_id, length))
            per_second = day.not_ready_per_hour / 3600.0
            if per_second > 0:  # a rate so small it underflows means none
                at = rng.expovariate(per_second)
                while at < day.day_s:
                    length = rng.expovariate(1.0 / day.not_ready_s)
                    self._push(at, self._request, (agent_id, length))
                    at += rng.expovariate(per_second)

    def _schedule_inbound(self) -> None:
        for index, queue in enumerate(self.day.inbound):
            rates = tuple(r / 3600.0 for r in queue.rates_per_hour)
            stream = poisson_arrivals(
                rates, self.day.inbound_interval_s, 0.0, self._inbound_rngs[index]
            )
            for at in stream:
                if at >= self.day.day_s:
                    break
                self._push(at, self._inbound_arrives, (index, at))

    def _inbound_arrives(self, payload: tuple[int, float]) -> None:
        index, at = payload
        queue = self.day.inbound[index]
        rng = self._inbound_rngs[index]
        contact_id = f"in-{queue.id}-{at:.3f}"
        self._inbound_handle[contact_id] = queue.handle.sample(rng)
        self._command(ContactQueued(self.now, contact_id, queue.id))
        patience = queue.patience.sample(rng)
        if self.engine.contact_stage(contact_id) == "waiting" and math.isfinite(patience):
            self._push(self.now + patience, self._inbound_gives_up, contact_id)
        self._decide()

    def _inbound_gives_up(self, contact_id: str) -> None:
        if self.engine.contact_stage(contact_id) in ("waiting", "ringing"):
            self._inbound_handle.pop(contact_id, None)
            self._command(ContactAbandoned(self.now, contact_id))

    # ------------------------------------------------------------------ the loop

    def run(self) -> DayResult:
        """Run the day: dialling stops at its end, conversations in progress finish."""
        self._schedule_people()
        self._schedule_inbound()
        self._decide()
        heap = self._heap
        engine = self.engine
        while heap:
            at = heap[0][0]
            deadline = engine.next_deadline()
            if deadline is not None and deadline <= at:
                self.now = max(self.now, deadline)
                result = engine.advance(self.now)
                self._carry_out(result.effects, result.events)
                continue
            at, _, happening, payload = heapq.heappop(heap)
            self.now = at
            happening(payload)
        self._finish()
        return self.result

    def _finish(self) -> None:
        result = self.result
        result.events = self._events
        on_break = _break_seconds(self._events, self.day.day_s)
        result.staffed_s = self.day.agents * self.day.day_s - on_break
        if self.day.inbound:
            settings = MetricSettings(
                per_queue={
                    q.id: QueueThresholds(service_level_s=q.threshold_s) for q in self.day.inbound
                }
            )
            frame = events_to_frame(self._events)
            table = queue_figures(frame, interval="all", by=("queue",), settings=settings).table
            for row in table.iter_rows(named=True):
                if row["queue"] != CAMPAIGN_QUEUE:
                    result.inbound_service_level[row["queue"]] = row["service_level"]


def _break_seconds(events: Sequence[Event], until: float) -> float:
    """Seconds agents spent not-ready for anything but the dialler's hold, up to ``until``."""
    since: dict[str, float] = {}
    total = 0.0
    for event in events:
        agent = event.agent_id
        if event.kind.value != "agent_state" or agent is None:
            continue
        state = event.data.get("state")
        reason = event.data.get("reason")
        started = since.pop(agent, None)
        if started is not None:
            total += max(0.0, min(event.at, until) - min(started, until))
        if state == "not_ready" and reason != HOLD_REASON:
            since[agent] = event.at
    for started in since.values():
        total += max(0.0, until - min(started, until))
    return total


def run_day(day: CampaignDay, pacer: Pacer, *, seed: int) -> DayResult:
    """Simulate one campaign day with ``pacer`` (see :class:`CampaignSimulation`)."""
    return CampaignSimulation(day, pacer, seed=seed).run()
