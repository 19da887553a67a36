"""Demo traffic: simulated callers and simulated agents driving the *live* engine in real time.

``hotline demo`` uses it so the wallboard and the reports move from the first minute. Callers
arrive per queue as a Poisson process (exponential gaps at the profile's hourly rate, scaled
by ``rate``) and give up after an exponential patience, which the engine logs as an abandon.
Simulated agents log in, answer after a short ring, talk for an exponential handle time,
finish wrap-up with a disposition code, and now and then take a break with a reason code.
The first few agents are left alone for people to drive from the agent desktop.

Everything goes through :class:`~hotline.live.driver.LiveDriver` jobs, like the web API
does, so the demo exercises the same path as real traffic. Draws come from one seeded
generator; the wall clock's timing still varies, so two demos are alike, not identical.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from hotline.config.center import CenterConfig
from hotline.live.driver import LiveDriver
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    AgentState,
    AgentStateChanged,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    Offer,
    OfferAnswered,
    WrapUpEnded,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueProfile:
    """Traffic of one queue: arrivals per hour, mean talk time and mean caller patience."""

    queue: str
    calls_per_hour: float
    mean_talk_s: float
    mean_patience_s: float
    dispositions: tuple[str, ...] = ("resolved", "info_given")


#: The sample center's traffic: busy enough that queues form when agents take breaks.
SAMPLE_PROFILE: tuple[QueueProfile, ...] = (
    QueueProfile("vip", 40, 150, 90, ("resolved", "repair_dispatched")),
    QueueProfile("installation", 150, 120, 80, ("installation_booked", "info_given")),
    QueueProfile("repair", 220, 150, 70, ("repair_dispatched", "ticket_created", "resolved")),
    QueueProfile("complaints", 50, 200, 120, ("complaint_escalated", "resolved")),
    QueueProfile("chat", 90, 240, 150, ("resolved", "info_given")),
    QueueProfile("email", 30, 300, 86400, ("resolved", "ticket_created")),
)

#: Reason codes simulated agents use, with how often and how long (mean minutes).
BREAKS: tuple[tuple[str, float, float], ...] = (
    ("break", 0.05, 3.0),
    ("coaching", 0.015, 4.0),
    ("system_issue", 0.005, 1.5),
)


def default_profile(center: CenterConfig) -> tuple[QueueProfile, ...]:
    """The sample profile for queues the center has; 60 calls an hour for any other queue."""
    known = {p.queue: p for p in SAMPLE_PROFILE}
    return tuple(known.get(q.id, QueueProfile(q.id, 60, 180, 90)) for q in center.queues)


class DemoTraffic:
    """Simulated callers and agents for a live driver.

    ``rate`` scales every queue's arrivals; ``human_agents`` are never driven. A simulated
    agent answers ``ring_delay_s`` (uniform range) after the offer and spends ``wrap_s``
    (uniform range) in wrap-up before choosing a disposition; tests shorten both.
    """

    def __init__(
        self,
        driver: LiveDriver,
        *,
        seed: int = 7,
        rate: float = 1.0,
        human_agents: Iterable[str] = (),
        profile: tuple[QueueProfile, ...] | None = None,
        ring_delay_s: tuple[float, float] = (1.0, 4.0),
        wrap_s: tuple[float, float] = (5.0, 25.0),
    ) -> None:
        if rate < 0:
            raise ValueError("the traffic rate cannot be negative")
        self.driver = driver
        self.rate = rate
        self.rng = random.Random(seed)
        self.seed = seed
        self.profile = profile or default_profile(driver.center)
        self.humans = frozenset(human_agents)
        self.simulated = [a.id for a in driver.center.agents if a.id not in self.humans]
        self.reasons = {r.id for r in driver.center.reason_codes}
        self._profile_by_queue = {p.queue: p for p in self.profile}
        self.ring_delay_s = ring_delay_s
        self.wrap_s = wrap_s
        self._tasks: list[asyncio.Task[None]] = []
        self._handles: set[asyncio.TimerHandle] = set()
        self.callers = 0
        self.abandons_scheduled = 0

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> None:
        """Log the simulated agents in and start the arrival processes."""
        self.driver.add_listener(self._on_result)
        for agent_id in self.simulated:
            self.driver.post_command(partial(_login, agent_id=agent_id))
        for queue in self.profile:
            if queue.calls_per_hour * self.rate > 0:
                self._tasks.append(
                    asyncio.create_task(self._arrivals(queue), name=f"demo-{queue.queue}")
                )

    async def stop(self) -> None:
        """Stop arrivals and pending simulated actions."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()

    # ------------------------------------------------------------------ callers

    async def _arrivals(self, queue: QueueProfile) -> None:
        per_second = queue.calls_per_hour * self.rate / 3600.0
        while True:
            await asyncio.sleep(self.rng.expovariate(per_second))
            self._caller(queue)

    def _caller(self, queue: QueueProfile) -> None:
        contact_id = self.driver.new_contact_id()
        customer = f"1{self.rng.randint(3, 9)}{self.rng.randrange(10**9):09d}"
        self.driver.attached[contact_id] = {"customer": customer, "simulated": True}
        self.callers += 1
        self.driver.post_command(
            lambda now: ContactQueued(
                at=now, contact_id=contact_id, queue=queue.queue, customer=customer
            )
        )
        patience = self.rng.expovariate(1.0 / queue.mean_patience_s)
        self._later(patience, lambda: self._give_up(contact_id))

    def _give_up(self, contact_id: str) -> None:
        def job(engine: RoutingEngine, now: float) -> tuple[None, Result | None]:
            # Only a caller still waiting (or ringing) can abandon; one being served stays.
            if engine.contact_stage(contact_id) not in ("waiting", "ringing"):
                return None, None
            return None, engine.handle(ContactAbandoned(at=now, contact_id=contact_id))

        self.abandons_scheduled += 1
        self.driver.post(job)

    # ------------------------------------------------------------------ agents

    def _on_result(self, result: Result) -> None:
        for effect in result.effects:
            if isinstance(effect, Offer) and effect.agent_id not in self.humans:
                self._later(self.rng.uniform(*self.ring_delay_s), partial(self._answer, effect))
            elif (
                isinstance(effect, AgentStateChanged)
                and effect.agent_id not in self.humans
                and effect.state is AgentState.NOT_READY
                and effect.reason == self.driver.config.ring_no_answer_reason
            ):
                # A simulated agent who missed a call (it was answered elsewhere) comes back.
                self._later(5.0, partial(self._ready, effect.agent_id))

    def _answer(self, offer: Offer) -> None:
        def job(engine: RoutingEngine, now: float) -> tuple[None, Result | None]:
            if offer.contact_id not in engine.agent_contacts(offer.agent_id):
                return None, None
            if engine.agent_contacts(offer.agent_id)[offer.contact_id] != "ringing":
                return None, None
            return None, engine.handle(
                OfferAnswered(at=now, contact_id=offer.contact_id, agent_id=offer.agent_id)
            )

        self.driver.post(job)
        queue = self._profile_by_queue.get(offer.queue or "")
        mean_talk = queue.mean_talk_s if queue else 180.0
        # Nobody settles a call in no time: at least a tenth of the mean.
        talk = max(0.1 * mean_talk, self.rng.expovariate(1.0 / mean_talk))
        self._later(talk, lambda: self._hang_up(offer))

    def _hang_up(self, offer: Offer) -> None:
        def job(engine: RoutingEngine, now: float) -> tuple[None, Result | None]:
            if engine.agent_contacts(offer.agent_id).get(offer.contact_id) != "talking":
                return None, None
            return None, engine.handle(ContactEnded(at=now, contact_id=offer.contact_id))

        self.driver.post(job)
        queue = self._profile_by_queue.get(offer.queue or "")
        codes = queue.dispositions if queue else ("resolved",)
        disposition = self.rng.choice(codes)
        wrap = self.rng.uniform(*self.wrap_s)
        self._later(wrap, lambda: self._wrap_up_done(offer, disposition))

    def _wrap_up_done(self, offer: Offer, disposition: str) -> None:
        agent_id = offer.agent_id

        def job(engine: RoutingEngine, now: float) -> tuple[None, Result | None]:
            if engine.agent_contacts(agent_id).get(offer.contact_id) != "wrap_up":
                return None, None
            return None, engine.handle(
                WrapUpEnded(
                    at=now, agent_id=agent_id, contact_id=offer.contact_id, disposition=disposition
                )
            )

        self.driver.post(job)
        self._maybe_break(agent_id)

    def _maybe_break(self, agent_id: str) -> None:
        draw = self.rng.random()
        for reason, share, mean_minutes in BREAKS:
            if reason not in self.reasons:
                continue
            if draw < share:
                minutes = self.rng.expovariate(1.0 / mean_minutes)
                self.driver.post_command(partial(_not_ready, agent_id=agent_id, reason=reason))
                self._later(minutes * 60.0, lambda: self._ready(agent_id))
                return
            draw -= share

    def _ready(self, agent_id: str) -> None:
        def job(engine: RoutingEngine, now: float) -> tuple[None, Result | None]:
            if engine.agent_state(agent_id) is AgentState.LOGGED_OUT:
                return None, None
            if engine.agent_reason(agent_id) is None:
                return None, None
            return None, engine.handle(AgentReady(at=now, agent_id=agent_id))

        self.driver.post(job)

    # ------------------------------------------------------------------ timing

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._handles.discard(handle)
            action()

        handle = loop.call_later(delay, fire)
        self._handles.add(handle)


def _login(now: float, *, agent_id: str) -> AgentLoggedIn:
    return AgentLoggedIn(at=now, agent_id=agent_id)


def _not_ready(now: float, *, agent_id: str, reason: str) -> AgentNotReady:
    return AgentNotReady(at=now, agent_id=agent_id, reason=reason)
