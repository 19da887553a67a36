"""The voice driver's ACD port: the routing engine behind its :class:`~.ports.CallRouter`.

(Named for what it is to telephony — the automatic call distributor it asks — so it does not
repeat the name of the :mod:`hotline.routing` domain it adapts.)

Telephony never decides which agent gets a call: :class:`EngineRouter` turns the driver's
calls into :mod:`hotline.routing.model` commands for :class:`~hotline.routing.engine.RoutingEngine`
and its effects back into ring/stop-ringing decisions. The engine writes the routing events
of the contact event log itself (queued, offered, answered, ring-no-answer, abandoned,
disconnected, wrap-up, finished, agent state) and runs the ring-no-answer and wrap-up
timers; the driver advances its time about once a second.

:func:`voice_routing_config` builds the engine's configuration for the voice queues and the
agents of a center file. Business hours stay with the IVR (its ``hours`` node), so queue
calendars are left out here. Ageing steps, overflow to another queue and the queue exits
(closed message, voicemail, callback) are carried out; callbacks only when the server has an
outbound trunk to place them (without one, callback rules are left out). Position and wait
announcements are kept: the engine says when, the driver speaks them.

What an agent's phone registering or going away does to the agent's state is decided in one
place, :mod:`hotline.live.phones` (:func:`on_phone_registered`, :func:`on_phone_unregistered`),
for every router — a partition owner serving voice nodes too: a
logged-out agent is logged in, an agent the system made not ready because the phone went away
is ready again, and a state a person chose (a break, a reason code) is never overridden.
"""

from __future__ import annotations

import dataclasses
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence

from hotline.config.center import CenterConfig
from hotline.core.events import Channel, Event
from hotline.live.phones import (
    PHONE_UNREGISTERED,
    PhoneAction,
    on_phone_registered,
    on_phone_unregistered,
)
from hotline.routing.engine import RoutingEngine
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import (
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    AgentState,
    AnnouncePosition,
    CallbackRequested,
    CancelOffer,
    Command,
    ConsultEnded,
    ConsultStarted,
    ContactAbandoned,
    ContactEnded,
    ContactHeld,
    ContactQueued,
    ContactResumed,
    ForwardCall,
    MovedToQueue,
    Offer,
    OfferAnswered,
    OfferRejected,
    OverflowAction,
    PlayClosedMessage,
    RouteToVoicemail,
    RoutingConfig,
    RoutingConflict,
    StartCallback,
    TransferredOut,
    TransferredToAgent,
    TransferredToQueue,
)
from hotline.telephony.ports import (
    AnnounceWait,
    DialCallback,
    QueueChanged,
    ReleaseCaller,
    RingAgent,
    RoutingDecision,
    StopRinging,
    TransferRefused,
)

log = logging.getLogger(__name__)


# Overflow actions the voice path carries out without an outbound trunk; with one, the
# callback exit too (someone has to place the call back).
VOICE_OVERFLOW_ACTIONS = frozenset(
    {OverflowAction.QUEUE, OverflowAction.VOICEMAIL, OverflowAction.CLOSED_MESSAGE}
)


def voice_routing_config(
    center: CenterConfig, *, seed: int = 0, callbacks: bool = False
) -> RoutingConfig:
    """The engine's configuration for a center's queues and agents, as the voice path runs it.

    It is :func:`hotline.routing.from_center.routing_config_from_center` — the same queues,
    agents, capacities, ageing steps and overflow rules every channel uses — with calendars
    left to the IVR (its ``hours`` node), and callback rules kept only when ``callbacks``
    (the server has a trunk to call customers back on).

    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> config = voice_routing_config(load_center(sample))
    >>> [q.id for q in config.queues][:4], len(config.agents)
    (['vip', 'installation', 'repair', 'complaints'], 40)
    >>> [(r.when.value, r.target) for r in config.queues[3].overflow]
    [('wait_exceeds', 'repair'), ('closed', None)]
    """
    full = routing_config_from_center(center, honour_hours=False, seed=seed)
    actions = VOICE_OVERFLOW_ACTIONS | ({OverflowAction.CALLBACK} if callbacks else set())
    queues = tuple(
        dataclasses.replace(queue, overflow=tuple(r for r in queue.overflow if r.action in actions))
        for queue in full.queues
    )
    return dataclasses.replace(full, queues=queues)


def voice_decisions(
    effects: Sequence[object], number_of: Callable[[str], str | None]
) -> list[RoutingDecision]:
    """What the voice driver must do about the routing engine's effects.

    ``number_of(contact_id)`` gives the number to call a callback contact back on, when the
    caller of that number was not a voice caller of this driver (a desk-scheduled callback).
    """
    decisions: list[RoutingDecision] = []
    for effect in effects:
        if isinstance(effect, Offer):
            if effect.channel is Channel.VOICE:
                decisions.append(
                    RingAgent(effect.contact_id, effect.agent_id, effect.ring_timeout_s)
                )
            elif effect.channel is Channel.CALLBACK:
                decisions.append(
                    DialCallback(
                        effect.contact_id,
                        effect.agent_id,
                        number_of(effect.contact_id),
                        effect.ring_timeout_s,
                    )
                )
        elif isinstance(effect, CancelOffer):
            decisions.append(StopRinging(effect.contact_id, effect.agent_id, effect.reason))
        elif isinstance(effect, MovedToQueue) and effect.reason != "transfer":
            decisions.append(QueueChanged(effect.contact_id, effect.to_queue, effect.reason))
        elif isinstance(effect, AnnouncePosition):
            decisions.append(
                AnnounceWait(effect.contact_id, effect.position, effect.estimated_wait_s)
            )
        elif isinstance(effect, StartCallback):
            decisions.append(
                ReleaseCaller(effect.contact_id, effect.queue, "callback", effect.callback_id)
            )
        elif isinstance(effect, ForwardCall):
            decisions.append(
                ReleaseCaller(effect.contact_id, effect.queue, "forward", number=effect.number)
            )
        elif isinstance(effect, RouteToVoicemail):
            decisions.append(ReleaseCaller(effect.contact_id, effect.queue, "voicemail"))
        elif isinstance(effect, PlayClosedMessage):
            decisions.append(ReleaseCaller(effect.contact_id, effect.queue, "closed_message"))
    return decisions


class CommandRouter(ABC):
    """A :class:`~hotline.telephony.ports.CallRouter` that speaks routing-engine commands.

    Each call of the voice driver becomes one :mod:`hotline.routing.model` command; how the
    command reaches an engine is :meth:`_apply`'s business (the engine directly, or the web
    app's live driver). The engine logs the routing events and runs the ring timers.
    """

    def __init__(self) -> None:
        self.conflicts = 0

    @abstractmethod
    def _apply(
        self, at: float, make: Callable[[float], Command], *, refuse: bool = False
    ) -> list[RoutingDecision]:
        """Apply ``make(now)``; a refused command raises :class:`TransferRefused` when
        ``refuse``, else it is counted and logged (live races) and nothing happens."""

    @abstractmethod
    def _engine(self) -> RoutingEngine:
        """The engine, for reading agent states."""

    def waiting_for(self, agent_id: str) -> int:
        """Contacts waiting in a queue that the agent could take (inbound's claim on them)."""
        engine = self._engine()
        return sum(
            1
            for contact_id in engine.contacts()
            if engine.contact_stage(contact_id) == "waiting"
            and engine.eligible(agent_id, contact_id)
        )

    def may_lend(self, agent_id: str) -> bool:
        """Whether the engine lends the agent to a dialler now (:meth:`RoutingEngine.may_lend`:
        idle, no waiting contact for them, every queue's outbound reserve kept)."""
        return self._engine().may_lend(agent_id)

    def reserve_refill(self, held: Sequence[str]) -> list[str]:
        """The held agents the engine wants back for its queues' outbound reserves
        (:meth:`RoutingEngine.reserve_refill`)."""
        return self._engine().reserve_refill(held)

    def choose_held(self, queue_id: str, free: Sequence[str]) -> str | None:
        """Which of the dialler's free held agents takes an answered outbound call of a
        campaign working ``queue_id`` (:meth:`RoutingEngine.choose_held`: the queue's rings,
        then its strategy; ``free`` in the dialler's order breaks ties)."""
        return self._engine().choose_held(queue_id, free)

    def hold_agent(self, *, at: float, agent_id: str, reason: str) -> list[RoutingDecision]:
        """Take an idle agent out of the ACD's pool, not ready with ``reason`` (the dialler
        holds its campaign's agents this way; only an idle agent is held, so nothing rings)."""
        return self._apply(at, lambda now: AgentNotReady(at=now, agent_id=agent_id, reason=reason))

    def release_agent(self, *, at: float, agent_id: str, phone: bool) -> list[RoutingDecision]:
        """Hand an agent the dialler held back to the ACD: ready again, or — their phone gone
        meanwhile — not ready as :func:`on_phone_unregistered` would have made them, so the
        phone registering again makes them ready (the one registration policy)."""
        if phone:
            return self._apply(at, lambda now: AgentReady(at=now, agent_id=agent_id))
        return self._apply(
            at, lambda now: AgentNotReady(at=now, agent_id=agent_id, reason=PHONE_UNREGISTERED)
        )

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
        """Queue the caller (the driver already logged the arrival).

        The calling number's region names the caller's site
        (:meth:`~hotline.routing.model.RoutingConfig.site_of_number`), which the queue may
        prefer."""
        caller_site = self._engine().config.site_of_number(data.get("caller"))
        return self._apply(
            at,
            lambda now: ContactQueued(
                at=now,
                contact_id=contact_id,
                queue=queue,
                channel=Channel.VOICE,
                priority=priority or None,
                language=language,
                log_arrival=False,
                customer=data.get("caller"),
                # the caller rules' sticky agent (CallCenter._recognised)
                preferred_agent=data.get("preferred_agent"),
                preferred_for_s=float(data.get("preferred_for_s") or 0.0),
                caller_site=caller_site,
            ),
        )

    def phone_registered(self, *, at: float, agent_id: str) -> list[RoutingDecision]:
        """The agent's first phone registered: what :func:`on_phone_registered` says."""
        engine = self._engine()
        action = on_phone_registered(
            state=engine.agent_state(agent_id), reason=engine.agent_reason(agent_id)
        )
        if action is PhoneAction.LOG_IN:
            return self._apply(at, lambda now: AgentLoggedIn(at=now, agent_id=agent_id, ready=True))
        if action is PhoneAction.READY:
            return self._apply(at, lambda now: AgentReady(at=now, agent_id=agent_id))
        return []

    def phone_unregistered(self, *, at: float, agent_id: str) -> list[RoutingDecision]:
        """The agent's last phone went away: a call ringing there goes to the next agent, and
        the agent is made not ready as :func:`on_phone_unregistered` says.

        (The phone that rang is gone, so the offer is withdrawn at once rather than left
        to the ring-no-answer timer.)
        """
        engine = self._engine()
        state = engine.agent_state(agent_id)
        if state is AgentState.LOGGED_OUT:
            return []
        action = on_phone_unregistered(state=state, reason=engine.agent_reason(agent_id))
        decisions: list[RoutingDecision] = []
        for contact_id, stage in engine.agent_contacts(agent_id).items():
            if stage == "ringing":
                decisions.append(StopRinging(contact_id, agent_id, PHONE_UNREGISTERED))
                decisions += self.offer_rejected(at=at, contact_id=contact_id, agent_id=agent_id)
        if action is PhoneAction.NOT_READY:
            decisions += self._apply(
                at, lambda now: AgentNotReady(at=now, agent_id=agent_id, reason=PHONE_UNREGISTERED)
            )
        return decisions

    def offer_answered(self, *, at: float, contact_id: str, agent_id: str) -> list[RoutingDecision]:
        """The agent's phone answered."""
        return self._apply(
            at, lambda now: OfferAnswered(at=now, contact_id=contact_id, agent_id=agent_id)
        )

    def offer_rejected(self, *, at: float, contact_id: str, agent_id: str) -> list[RoutingDecision]:
        """The agent's phone refused or failed."""
        return self._apply(
            at, lambda now: OfferRejected(at=now, contact_id=contact_id, agent_id=agent_id)
        )

    def contact_abandoned(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The caller hung up while waiting or ringing."""
        return self._apply(at, lambda now: ContactAbandoned(at=now, contact_id=contact_id))

    def contact_ended(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The conversation ended; the agent wraps up."""
        return self._apply(at, lambda now: ContactEnded(at=now, contact_id=contact_id))

    def transfer_to_queue(self, *, at: float, contact_id: str, queue: str) -> list[RoutingDecision]:
        """Blind transfer to a queue (the engine logs ``transferred``, the agent wraps up)."""
        return self._apply(
            at,
            lambda now: TransferredToQueue(at=now, contact_id=contact_id, queue=queue),
            refuse=True,
        )

    def transfer_to_agent(
        self, *, at: float, contact_id: str, agent_id: str
    ) -> list[RoutingDecision]:
        """Blind transfer straight to an available agent."""
        return self._apply(
            at,
            lambda now: TransferredToAgent(at=now, contact_id=contact_id, agent_id=agent_id),
            refuse=True,
        )

    def transfer_out(self, *, at: float, contact_id: str, number: str) -> list[RoutingDecision]:
        """Blind transfer to an outside number (the engine logs ``transferred``, the agent
        wraps up, the contact leaves the center)."""
        return self._apply(
            at,
            lambda now: TransferredOut(at=now, contact_id=contact_id, number=number),
            refuse=True,
        )

    def contact_held(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The agent put the caller on hold (the engine logs ``held`` and times it)."""
        return self._apply(at, lambda now: ContactHeld(at=now, contact_id=contact_id))

    def contact_resumed(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The agent took the caller off hold (``resumed``; hold time counts to the agent)."""
        return self._apply(at, lambda now: ContactResumed(at=now, contact_id=contact_id))

    def consult_started(
        self, *, at: float, contact_id: str, agent_id: str
    ) -> list[RoutingDecision]:
        """The agent consults ``agent_id`` (the engine reserves them)."""
        return self._apply(
            at,
            lambda now: ConsultStarted(at=now, contact_id=contact_id, agent_id=agent_id),
            refuse=True,
        )

    def consult_ended(self, *, at: float, contact_id: str, transfer: bool) -> list[RoutingDecision]:
        """The consult ended (warm transfer when ``transfer``)."""
        return self._apply(
            at,
            lambda now: ConsultEnded(at=now, contact_id=contact_id, transfer=transfer),
            refuse=True,
        )

    def callback_requested(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The waiting caller pressed for a callback; the engine keeps their place."""
        return self._apply(
            at, lambda now: CallbackRequested(at=now, contact_id=contact_id), refuse=True
        )


class EngineRouter(CommandRouter):
    """The voice server's own routing engine (``hotline telephony serve``).

    The driver passes its contact event log with :meth:`emit_to` and advances the engine's
    time about once a second (:meth:`advance`).
    """

    def __init__(self, engine: RoutingEngine) -> None:
        super().__init__()
        self.engine = engine
        self._emit: Callable[[Event], None] = lambda event: None

    def emit_to(self, emit: Callable[[Event], None]) -> None:
        """Send the engine's events to ``emit`` (the driver's contact event log)."""
        self._emit = emit

    def _engine(self) -> RoutingEngine:
        return self.engine

    def _apply(
        self, at: float, make: Callable[[float], Command], *, refuse: bool = False
    ) -> list[RoutingDecision]:
        try:
            result = self.engine.handle(make(at))
        except (RoutingConflict, KeyError, ValueError) as exc:
            if refuse:
                raise TransferRefused(str(exc)) from exc
            if not isinstance(exc, RoutingConflict):
                raise
            # Live races (a caller hangs up as the agent answers): the engine is unchanged.
            self.conflicts += 1
            log.info("routing conflict: %s", exc)
            return []
        return self._decide(result.effects, result.events)

    def _decide(self, effects: Sequence[object], events: list[Event]) -> list[RoutingDecision]:
        for event in events:
            self._emit(event)
        return voice_decisions(effects, lambda contact_id: None)

    def advance(self, *, at: float) -> list[RoutingDecision]:
        """Fire the engine's due timers (ring-no-answer, wrap-up)."""
        try:
            result = self.engine.advance(at)
        except RoutingConflict:
            return []
        return self._decide(result.effects, result.events)
