"""The live driver: one routing engine on the wall clock, fed by the server, seen by screens.

DESIGN.md's first driver. Everything that changes the engine — an agent pressing "ready" on
the desktop, a caller entering a queue, a caller hanging up, a timer falling due — becomes a
*job* on one asyncio queue, and a single engine task runs the jobs one after another, so the
engine (a pure, single-threaded state machine) never sees two commands at once. Between jobs
the task sleeps until :meth:`RoutingEngine.next_deadline`, so ring-no-answer, wrap-up, ageing
and overflow timers fire on time without polling.

After every step the driver

* appends the engine's events to the contact event log (the log's one writer,
  ``store.event_log.EventLogWriter``, source ``live``) in small batches written off the
  event loop, so a slow disk never stalls routing;
* publishes each event, each offer and each cancelled offer to screens (``publish``: the
  web :class:`~hotline.web.events.EventHub`), and a fresh wallboard as soon as anything
  changed — bursts coalesced, at most one board per ``snapshot_every_s`` — and every second
  regardless, so waiting times tick;
* keeps what the agent desktop needs that the engine does not: the contact's attached data
  (customer, subject), the open offer, when wrap-up ends, which contact is on hold.

Commands that do not fit the engine's state (a caller hangs up while the agent answers) raise
:class:`~hotline.routing.model.RoutingConflict` to the caller of :meth:`LiveDriver.command`;
fire-and-forget jobs (:meth:`LiveDriver.post`) log the conflict and carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.core.clock import Clock, WallClock
from hotline.core.events import Channel, Event, EventKind
from hotline.live import recovery
from hotline.live.wallboard import Wallboard
from hotline.routing.engine import Result, RoutingEngine, apply_ready, engine_wide_changes
from hotline.routing.model import (
    AgentLoggedIn,
    AgentState,
    CancelOffer,
    Command,
    ContactQueued,
    NewDay,
    Offer,
    RoutingConfig,
    RoutingConflict,
    StartCallback,
)
from hotline.routing.from_center import routing_config_from_center
from hotline.store.event_log import EventLogWriter

log = logging.getLogger(__name__)

T = TypeVar("T")
Publish = Callable[[dict[str, Any]], None]
Listener = Callable[[Result], None]
#: A job runs inside the engine task with the engine and "now"; it returns what the caller
#: awaits, and the engine result it produced (or ``None`` when it only read state).
Job = Callable[[RoutingEngine, float], tuple[T, Result | None]]

#: Events kept in memory waiting for the database before the oldest are dropped (and counted).
MAX_PENDING_EVENTS = 200_000


@dataclass
class OpenOffer:
    """A contact ringing at an agent, as the desktop shows it."""

    contact_id: str
    agent_id: str
    queue: str | None
    channel: str
    kind: str
    offered_at: float
    ring_timeout_s: float

    def as_dict(self, attached: dict[str, Any]) -> dict[str, Any]:
        """JSON-ready, with the contact's attached data (the screen pop's fallback)."""
        return {
            "type": "offer",
            "contact_id": self.contact_id,
            "agent_id": self.agent_id,
            "queue": self.queue,
            "channel": self.channel,
            "kind": self.kind,
            "offered_at": self.offered_at,
            "ring_timeout_s": self.ring_timeout_s,
            "attached": attached,
        }


@dataclass(frozen=True)
class FinishedContact:
    """A contact the live engine finished, as the ``on_finished`` hooks receive it.

    ``customer`` is the number the contact was attached with (the calling number for voice),
    ``agent_id`` the last agent who answered it, ``attached`` the rest of its attached data.
    """

    contact_id: str
    at: float
    channel: str | None
    queue: str | None
    outcome: str
    customer: str | None
    agent_id: str | None
    disposition: str | None
    attached: dict[str, Any]


OnFinished = Callable[[FinishedContact], None]


@dataclass
class DriverStats:
    """Counters a health page or test reads."""

    jobs: int = 0
    conflicts: int = 0
    events: int = 0
    events_written: int = 0
    write_failures: int = 0
    events_dropped: int = 0
    snapshots: int = 0
    #: Contacts found in progress on start or stop and closed as ``interrupted``.
    recovered: int = 0
    started_at: float = 0.0
    last_write_s: list[float] = field(default_factory=list)


class LiveDriver:
    """Runs the routing engine for one center on the wall clock.

    >>> import asyncio
    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> from hotline.routing.model import AgentLoggedIn
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> async def demo():
    ...     driver = LiveDriver(center=load_center(sample), honour_hours=False)
    ...     await driver.start()
    ...     await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a001"))
    ...     contact = await driver.queue_contact("installation", customer="13800000000")
    ...     view = await driver.agent_view("a001")
    ...     await driver.stop()
    ...     return view["offer"]["contact_id"] == contact
    >>> asyncio.run(demo())
    True
    """

    def __init__(
        self,
        *,
        center: CenterConfig,
        clock: Clock | None = None,
        session_factory: sessionmaker[Session] | None = None,
        publish: Publish | None = None,
        honour_hours: bool = True,
        seed: int = 0,
        flush_every_s: float = 0.25,
        snapshot_every_s: float = 0.25,
        contact_prefix: str | None = None,
        on_finished: Sequence[OnFinished] = (),
    ) -> None:
        self.center = center
        self.clock: Clock = clock or WallClock()
        self.session_factory = session_factory
        self.publish: Publish = publish or (lambda message: None)
        #: Whether any screen listens to what is published now: boards and the event stream
        #: are built only for someone (attach() asks the web app's hub).
        self.watched: Callable[[], bool] = lambda: True
        self.config = routing_config_from_center(center, honour_hours=honour_hours, seed=seed)
        self.engine = RoutingEngine(self.config)
        self.wallboard = Wallboard(center)
        self.flush_every_s = flush_every_s
        self.snapshot_every_s = snapshot_every_s
        self.stats = DriverStats()
        self.attached: dict[str, dict[str, Any]] = {}
        self.offers: dict[str, OpenOffer] = {}
        self.wrap_until: dict[tuple[str, str], float] = {}
        self.on_hold: set[str] = set()
        #: Contacts whose agent is consulting another agent → the consulted agent.
        self.consults: dict[str, str] = {}
        self.dispositions: dict[str, str] = {}
        self.callbacks: dict[str, dict[str, Any]] = {}
        #: Called (in the engine task; keep them quick) with every finished contact, e.g. to
        #: add it to the customer's contact history. The driver knows nothing of the CRM.
        self.on_finished: list[OnFinished] = list(on_finished)
        self._answered_by: dict[str, str] = {}
        self._arrived_from: dict[str, str] = {}
        self._callback_handles: list[asyncio.TimerHandle] = []
        self._queue_ids = {q.id for q in center.queues}
        self._listeners: list[Listener] = []
        self._event_log = EventLogWriter(source="live", max_pending=MAX_PENDING_EVENTS)
        self._jobs: asyncio.Queue[tuple[Job[Any], asyncio.Future[Any] | None]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._changed: asyncio.Event | None = None
        self._day: str | None = None
        stamp = datetime.fromtimestamp(self.clock.now()).strftime("%y%m%d%H%M%S")
        self._prefix = contact_prefix or f"L{stamp}"
        self._numbers = itertools.count(1)
        self._log_seq = itertools.count(1)
        self._honour_hours = honour_hours
        self._seed = seed
        #: Called with every saved configuration at once (the voice server takes new IVR
        #: flows and the emergency switch for new calls without waiting for an idle moment).
        self.on_reconfigure: list[Callable[[CenterConfig], None]] = []
        #: A saved configuration not yet wholly in force (see reconfigure).
        self.pending_center: CenterConfig | None = None
        self._target: RoutingConfig | None = None
        # Queues and agents of the pending configuration not yet applied, and why.
        self._waiting: dict[tuple[str, str], str] = {}
        # Engine-wide settings the pending configuration changes (a rebuild at full idle).
        self._whole: list[str] = []
        self.applied_at: float | None = None

    # ------------------------------------------------------------------ life cycle

    @property
    def running(self) -> bool:
        """Whether the engine task is running."""
        return bool(self._tasks) and not self._tasks[0].done()

    async def start(self) -> None:
        """Recover from the log, then start the engine, log-writer and wallboard tasks.

        With a database, whatever the log shows in progress — contacts a crash or a kill left
        open, agents still signed in — is closed first (:mod:`hotline.live.recovery`: outcome
        ``interrupted``, reason ``crash``), and the wallboard's figures for today are rebuilt
        from the log, so a restart neither loses contacts from reports nor resets the board.
        """
        if self.running:
            return
        self._jobs = asyncio.Queue()
        self._changed = asyncio.Event()
        self.stats.started_at = self.clock.now()
        self._day = self._local_day(self.clock.now())
        if self.session_factory is not None:
            await asyncio.to_thread(self._recover, recovery.CRASH)
            await asyncio.to_thread(self._rebuild_today)
        self._tasks = [
            asyncio.create_task(self._engine_loop(), name="live-engine"),
            asyncio.create_task(self._writer_loop(), name="live-event-log"),
            asyncio.create_task(self._wallboard_loop(), name="live-wallboard"),
        ]

    async def stop(self) -> None:
        """Stop the tasks, write the events still waiting, and close what is in progress.

        The contacts still open and the agents still signed in are closed in the log
        (outcome ``interrupted``, reason ``shutdown``): the next engine starts empty, and a
        stop must leave every contact that arrived with exactly one end.
        """
        for handle in self._callback_handles:
            handle.cancel()
        self._callback_handles = []
        was_running = bool(self._tasks)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.flush()
        if was_running and self.session_factory is not None and not self._event_log.pending:
            try:
                await asyncio.to_thread(self._recover, recovery.SHUTDOWN)
            except Exception:  # the next start closes them instead (reason "crash")
                log.exception("live routing: closing the contacts in progress failed")

    def _recover(self, reason: str) -> None:
        assert self.session_factory is not None
        events = recovery.recover(
            self.session_factory,
            now=self.clock.now(),
            reason=reason,
            first_seq=next(self._log_seq),
        )
        if events:
            # Keep this run's sequence ahead of the numbers the closing events took.
            self._log_seq = itertools.count(events[-1].seq + 1)
            self.stats.recovered += sum(e.kind is EventKind.FINISHED for e in events)
            self.stats.events += len(events)
            self.stats.events_written += len(events)
            log.warning(
                "live routing: closed %d contacts and %d agents left in progress (%s)",
                sum(e.kind is EventKind.FINISHED for e in events),
                sum(e.kind is EventKind.AGENT_STATE for e in events),
                reason,
            )

    def _rebuild_today(self) -> None:
        """Feed the wallboard today's logged events (its figures survive a restart)."""
        assert self.session_factory is not None
        now = self.clock.now()
        midnight = datetime.fromtimestamp(now, self.wallboard.tz).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        events = recovery.events_since(self.session_factory, since=midnight.timestamp())
        self.wallboard.record(events)

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(result)`` in the engine task after every step (simulated peers)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ jobs

    async def run(self, job: Job[T]) -> T:
        """Run ``job(engine, now)`` in the engine task and return its value."""
        if self._jobs is None:
            raise RuntimeError("the live driver is not started")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._jobs.put((job, future))
        return await future

    def post(self, job: Job[Any]) -> None:
        """Queue ``job`` without waiting for it (a conflict is logged, not raised)."""
        if self._jobs is None:
            raise RuntimeError("the live driver is not started")
        self._jobs.put_nowait((job, None))

    async def command(self, make: Callable[[float], Command]) -> Result:
        """Stamp a command with the engine's "now", apply it and return its result."""

        def job(engine: RoutingEngine, now: float) -> tuple[Result, Result]:
            result = engine.handle(make(now))
            return result, result

        return await self.run(job)

    def post_command(self, make: Callable[[float], Command]) -> None:
        """Like :meth:`command`, without waiting."""

        def job(engine: RoutingEngine, now: float) -> tuple[None, Result]:
            return None, engine.handle(make(now))

        self.post(job)

    def handle_now(self, make: Callable[[float], Command]) -> Result:
        """Apply a command at once and return its result, from code on the driver's loop.

        For adapters whose own protocol needs the answer straight away — the voice driver
        must know which phone to ring before it returns to the SIP stack. The loop is
        single-threaded and jobs never await, so this never interleaves with a job; the
        engine task is woken afterwards to take up any timer the command set. Raises
        :class:`~hotline.routing.model.RoutingConflict` like :meth:`command`.
        """
        if not self.running:
            raise RuntimeError("the live driver is not started")
        now = max(self.clock.now(), self.engine.now)
        self._roll_day(now)
        try:
            result = self.engine.handle(make(now))
        except RoutingConflict:
            self.stats.conflicts += 1
            raise
        self.stats.jobs += 1
        self._after(result)
        self.post(lambda engine, now: (None, None))  # the next deadline may be sooner now
        return result

    def record(self, event: Event) -> None:
        """Add an event from outside the engine to the log, the wallboard and the screens.

        The voice driver's own events — arrivals, IVR steps, recordings, surveys, alarms —
        join the engine's in the one contact event log this way.
        """
        self._log([event])

    def new_contact_id(self) -> str:
        """A contact id unique to this server run (``L<start time>-<number>``)."""
        return f"{self._prefix}-{next(self._numbers):06d}"

    async def queue_contact(
        self,
        queue: str,
        *,
        customer: str | None = None,
        channel: Channel | None = None,
        priority: int | None = None,
        attached: dict[str, Any] | None = None,
        contact_id: str | None = None,
    ) -> str:
        """Put a new contact in ``queue`` with its attached data; return its id."""
        if queue not in self._queue_ids:
            raise RoutingConflict(f"unknown queue {queue!r}")
        contact_id = contact_id or self.new_contact_id()
        self.attached[contact_id] = {"customer": customer, **(attached or {})}
        await self.command(
            lambda now: ContactQueued(
                at=now,
                contact_id=contact_id,
                queue=queue,
                channel=channel,
                priority=priority,
                customer=customer,
            )
        )
        return contact_id

    def schedule_callback(
        self,
        *,
        queue: str,
        due_at: float,
        customer: str | None,
        requested_by: str,
        note: str = "",
        for_contact: str | None = None,
    ) -> dict[str, Any]:
        """Promise the customer a call back at ``due_at``: then a callback contact is queued.

        The callback waits in ``queue`` like any contact (channel ``callback``), so the agent
        who promised it, or any other with the skills, dials the customer when it is offered.
        Scheduled callbacks live in this server process; a restart forgets those not yet due.
        """
        if queue not in self._queue_ids:
            raise RoutingConflict(f"unknown queue {queue!r}")
        callback_id = self.new_contact_id() + "-cb"
        entry = {
            "callback_id": callback_id,
            "queue": queue,
            "due_at": due_at,
            "customer": customer,
            "requested_by": requested_by,
            "note": note,
            "for_contact": for_contact,
        }
        self.callbacks[callback_id] = entry
        delay = max(0.0, due_at - self.clock.now())

        def due() -> None:
            if self.callbacks.pop(callback_id, None) is None or self._jobs is None:
                return
            self.attached[callback_id] = {
                "customer": customer,
                "note": note,
                "callback_for": for_contact,
                "requested_by": requested_by,
            }
            self.post_command(
                lambda now: ContactQueued(
                    at=now,
                    contact_id=callback_id,
                    queue=queue,
                    channel=Channel.CALLBACK,
                    customer=customer,
                )
            )

        self._callback_handles.append(asyncio.get_running_loop().call_later(delay, due))
        return entry

    async def tick(self) -> None:
        """Move the engine to the clock's "now" (tests with a manual clock call this)."""

        def job(engine: RoutingEngine, now: float) -> tuple[None, Result]:
            return None, engine.advance(now)

        await self.run(job)

    # ------------------------------------------------------------------ reconfiguration

    def reconfigure(self, center: CenterConfig) -> None:
        """Route with ``center``, each queue and agent from its own safe point on.

        The routing engine changes one queue when none of its contacts waits, rings, talks
        or is wrapped up, and one agent when they hold nothing (new queues and agents at
        once; see :meth:`RoutingEngine.configure_queue`): after every engine step the driver
        applies whatever of the saved configuration has reached its safe point, so a held
        call holds up only its own queue and agent. A changed agent stays logged in, in the
        same state and reason, with today's counters; an agent no longer in the
        configuration is logged out once they hold nothing. The views follow piece by piece:
        :attr:`center` is the configuration in force (new where applied, old where pending),
        and the wallboard's targets, names and teams and the wrap-up times shown with it.

        Engine-wide settings (channel capacities, and so the capacity an agent has on a
        channel) cannot change under live contacts: when the new configuration changes them,
        the whole engine is rebuilt at the next moment nothing is in flight, as before.
        Until everything applied, :attr:`pending_center` holds the new configuration and
        :meth:`apply_status` says what waits and why (the admin page shows it).
        """
        self.pending_center = center
        self._target = routing_config_from_center(
            center, honour_hours=self._honour_hours, seed=self._seed
        )
        self._waiting = {}
        self._whole = engine_wide_changes(self.engine.config, self._target)
        self._queue_ids = {q.id for q in center.queues}
        for hook in self.on_reconfigure:
            try:
                hook(center)
            except Exception:  # a hook's bug must not keep routing on the old configuration
                log.exception("live routing: on_reconfigure hook failed")
        if self._jobs is not None:
            self.post(lambda engine, now: (None, None))  # wake the engine task to try now

    def apply_status(self) -> dict[str, Any]:
        """Whether a saved configuration still waits to take effect, what of it, and why.

        ``waiting`` lists each queue and agent not yet applied with the reason (the contact
        that holds it up); ``whole`` names the engine-wide settings that wait for a moment
        with nothing in flight (then every piece waits for it).
        """
        waiting = [
            {"kind": kind, "id": item, "reason": reason, **_explained(reason)}
            for (kind, item), reason in sorted(self._waiting.items())
        ]
        return {
            "pending": self.pending_center is not None,
            "applied_at": self.applied_at,
            "waiting": waiting,
            "whole": list(self._whole) if self.pending_center is not None else [],
        }

    def _idle(self) -> bool:
        engine = self.engine
        if engine.contacts() or self.offers:
            return False
        busy = {AgentState.RESERVED, AgentState.ON_CONTACT, AgentState.WRAP_UP}
        return all(engine.agent_state(agent) not in busy for agent in engine.agents())

    def _apply_pending(self, now: float) -> None:
        """Apply what of the saved configuration has reached its safe point (every step)."""
        center = self.pending_center
        target = self._target
        if center is None or target is None:
            return
        if self._whole:
            if not self._idle():
                self._waiting = {
                    ("engine", ", ".join(self._whole)): "waits for no contact in flight"
                }
                return
            self._rebuild(center, target, now)
        else:
            results, waiting = apply_ready(self.engine, target)
            for result in results:
                self._after(result)
            if waiting:
                if results or waiting != self._waiting:
                    self._waiting = waiting
                    self._follow(self._in_force(center, waiting))
                    self.publish({"type": "config_progress", "at": now, **self.apply_status()})
                return
            self._follow(center)
        self.config = self.engine.config
        self.pending_center = None
        self._target = None
        self._waiting = {}
        self._whole = []
        self.applied_at = now
        log.info("live routing: new center configuration applied")
        self.publish({"type": "config_applied", "at": now})

    def _in_force(self, center: CenterConfig, waiting: dict[tuple[str, str], str]) -> CenterConfig:
        """``center`` with each queue and agent still waiting as it is now in force."""
        old_queues = {q.id: q for q in self.center.queues}
        old_agents = {a.id: a for a in self.center.agents}
        queues = [old_queues.get(q.id) if ("queue", q.id) in waiting else q for q in center.queues]
        new_queues = {q.id for q in center.queues}
        queues += [q for q in self.center.queues if q.id not in new_queues]
        agents = [old_agents.get(a.id) if ("agent", a.id) in waiting else a for a in center.agents]
        new_agents = {a.id for a in center.agents}
        agents += [a for a in self.center.agents if a.id not in new_agents]
        return center.model_copy(
            update={
                "queues": [q for q in queues if q is not None],
                "agents": [a for a in agents if a is not None],
            }
        )

    def _follow(self, center: CenterConfig) -> None:
        """Make the views (wallboard targets, names, teams; wrap-up times) show ``center``."""
        self.center = center
        self.wallboard.reconfigure(center)

    def _rebuild(self, center: CenterConfig, config: RoutingConfig, now: float) -> None:
        """A new engine for engine-wide changes, built while nothing is in flight."""
        old = self.engine
        engine = RoutingEngine(config)
        known = {agent.id for agent in center.agents}
        for agent in old.agents():
            state = old.agent_state(agent)
            if state is AgentState.LOGGED_OUT or agent not in known:
                continue
            # The agents' states do not change, so the re-login's events are not news for the
            # event log or the wallboard; they are dropped.
            with contextlib.suppress(RoutingConflict):
                engine.handle(
                    AgentLoggedIn(
                        at=max(now, engine.now),
                        agent_id=agent,
                        ready=state is AgentState.AVAILABLE,
                        reason=old.agent_reason(agent) if state is AgentState.NOT_READY else None,
                    )
                )
        self.engine = engine
        self._follow(center)

    # ------------------------------------------------------------------ views

    async def snapshot(self) -> dict[str, Any]:
        """The wallboard now (advances the engine to now first, so waits are current)."""

        def job(engine: RoutingEngine, now: float) -> tuple[dict[str, Any], None]:
            # Timers that just fired must reach the board (once) before it is drawn.
            self._after(engine.advance(now))
            return self.wallboard.snapshot(engine, now), None

        return await self.run(job)

    async def agent_view(self, agent_id: str) -> dict[str, Any]:
        """What one agent's desktop shows: state, reason, contacts in hand, the open offer."""

        def job(engine: RoutingEngine, now: float) -> tuple[dict[str, Any], None]:
            self._after(engine.advance(now))  # the desktop sees timers that just fired
            return self._agent_view(engine, agent_id, now), None

        return await self.run(job)

    def _agent_view(self, engine: RoutingEngine, agent_id: str, now: float) -> dict[str, Any]:
        presence = self.wallboard.agents.get(agent_id)
        contacts = []
        for contact_id, stage in engine.agent_contacts(agent_id).items():
            contacts.append(
                {
                    "contact_id": contact_id,
                    "stage": stage,
                    "queue": engine.contact_queue(contact_id),
                    "on_hold": contact_id in self.on_hold,
                    "consulting": self.consults.get(contact_id),
                    "wrap_until": self.wrap_until.get((agent_id, contact_id)),
                    "attached": self.attached.get(contact_id, {}),
                }
            )
        offer = self.offers.get(agent_id)
        return {
            "agent_id": agent_id,
            "now": now,
            "state": engine.agent_state(agent_id).value,
            "reason": engine.agent_reason(agent_id),
            "since": presence.since if presence else None,
            "contacts": contacts,
            "offer": offer.as_dict(self.attached.get(offer.contact_id, {})) if offer else None,
            # The call backs this agent promised that are not yet due, soonest first.
            "callbacks": sorted(
                (cb for cb in self.callbacks.values() if cb["requested_by"] == agent_id),
                key=lambda cb: float(cb["due_at"]),
            ),
        }

    def holds(self, agent_id: str, contact_id: str) -> bool:
        """Whether ``contact_id`` is in ``agent_id``'s hands (ringing, talking or wrap-up).

        Read between jobs: the engine is only changed inside the engine task, and reading
        it from another coroutine on the same loop never sees a half-applied command.
        """
        return contact_id in self.engine.agent_contacts(agent_id)

    # ------------------------------------------------------------------ the tasks

    async def _engine_loop(self) -> None:
        assert self._jobs is not None
        jobs = self._jobs
        while True:
            deadline = self.engine.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.clock.now())
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that arrives as the job does, and stop() would then wait forever.
            try:
                async with asyncio.timeout(timeout):
                    item = await jobs.get()
            except TimeoutError:
                item = None
            now = max(self.clock.now(), self.engine.now)
            self._roll_day(now)
            if self.pending_center is not None:
                self._apply_pending(now)
            if item is None:
                self._after(self.engine.advance(now))
                if self.pending_center is not None:
                    self._apply_pending(self.engine.now)
                continue
            job, future = item
            self.stats.jobs += 1
            try:
                value, result = job(self.engine, now)
            except RoutingConflict as conflict:
                self.stats.conflicts += 1
                if future is None:
                    log.info("live routing: %s", conflict)
                elif not future.done():
                    future.set_exception(conflict)
                continue
            except Exception as error:  # a bug in one job must not stop routing for everyone
                log.exception("live routing job failed")
                if future is not None and not future.done():
                    future.set_exception(error)
                continue
            if result is not None:
                self._after(result)
            if self.pending_center is not None:
                self._apply_pending(self.engine.now)  # a piece may have reached its safe point
            if future is not None and not future.done():
                future.set_result(value)

    def _local_day(self, now: float) -> str:
        return datetime.fromtimestamp(now, self.wallboard.tz).date().isoformat()

    def _roll_day(self, now: float) -> None:
        day = self._local_day(now)
        if day != self._day:
            self._day = day
            self._after(self.engine.handle(NewDay(at=now)))
            self.wallboard.start_day(now)

    def _after(self, result: Result) -> None:
        """Carry out one step's effects: remember, log, publish, tell the listeners."""
        if not result.events and not result.effects:
            return
        self._log(result.events)
        for effect in result.effects:
            if isinstance(effect, Offer):
                offer = OpenOffer(
                    contact_id=effect.contact_id,
                    agent_id=effect.agent_id,
                    queue=effect.queue,
                    channel=effect.channel.value,
                    kind=effect.kind,
                    offered_at=self.engine.now,
                    ring_timeout_s=effect.ring_timeout_s,
                )
                self.offers[effect.agent_id] = offer
                self.publish(offer.as_dict(self.attached.get(effect.contact_id, {})))
            elif isinstance(effect, CancelOffer):
                current = self.offers.get(effect.agent_id)
                if current is not None and current.contact_id == effect.contact_id:
                    del self.offers[effect.agent_id]
                self.publish(
                    {
                        "type": "offer_cancelled",
                        "contact_id": effect.contact_id,
                        "agent_id": effect.agent_id,
                        "reason": effect.reason,
                    }
                )
            elif isinstance(effect, StartCallback):
                self.attached[effect.callback_id] = {
                    **self.attached.get(effect.contact_id, {}),
                    "callback_for": effect.contact_id,
                }
        for listener in self._listeners:
            try:
                listener(result)
            except Exception:  # a simulated peer's bug must not stop routing
                log.exception("live routing listener failed")
        if self._changed is not None:
            self._changed.set()

    def _log(self, events: Sequence[Event]) -> None:
        """Number events in this log's one sequence, keep them for the database, show them.

        The engine numbers its events, the voice driver its own, and a new configuration
        starts a new engine: the log renumbers them all, so ``(at, seq)`` orders it.
        """
        numbered = [event.renumbered(next(self._log_seq)) for event in events]
        self.stats.events += len(numbered)
        self.stats.events_dropped += self._event_log.add(numbered)
        self.wallboard.record(numbered)
        watched = self.watched()
        for event in numbered:
            self._remember(event)
            if watched:
                self.publish({"type": "event", **event.as_dict()})

    def _remember(self, event: Event) -> None:
        """Keep the desktop's own state: answered offers, hold, wrap-up deadlines."""
        kind = event.kind
        contact_id = event.contact_id
        agent_id = event.agent_id
        if kind is EventKind.ANSWERED and agent_id:
            if contact_id:
                self._answered_by[contact_id] = agent_id
            current = self.offers.get(agent_id)
            if current is not None and current.contact_id == contact_id:
                del self.offers[agent_id]
        elif kind is EventKind.HELD and contact_id:
            self.on_hold.add(contact_id)
        elif kind is EventKind.CONSULT_STARTED and contact_id:
            self.consults[contact_id] = str(event.data.get("consulted", ""))
        elif kind is EventKind.CONSULT_ENDED and contact_id:
            self.consults.pop(contact_id, None)
        elif kind in (EventKind.RESUMED, EventKind.DISCONNECTED) and contact_id:
            self.on_hold.discard(contact_id)
        if kind is EventKind.DISCONNECTED and contact_id and agent_id:
            # The engine's rule (the agent's wrap-up time, else the queue's), not a copy of it.
            due = self.engine.wrap_up_due(agent_id, contact_id)
            if due is not None:
                self.wrap_until[(agent_id, contact_id)] = due
        elif kind is EventKind.WRAP_UP_ENDED and contact_id and agent_id:
            self.wrap_until.pop((agent_id, contact_id), None)
            if "disposition" in event.data:
                self.dispositions[contact_id] = str(event.data["disposition"])
        elif kind is EventKind.ARRIVED and contact_id and self.on_finished:
            # Contacts queued by command alone (not queue_contact) carry their number here.
            if event.data.get("customer"):
                self._arrived_from[contact_id] = str(event.data["customer"])
        elif kind is EventKind.FINISHED and contact_id:
            attached = self.attached.pop(contact_id, None) or {}
            self.on_hold.discard(contact_id)
            answered_by = self._answered_by.pop(contact_id, None)
            number = self._arrived_from.pop(contact_id, None)
            if self.on_finished:
                if number and not attached.get("customer"):
                    attached = {**attached, "customer": number}
                self._finished(event, contact_id, attached, answered_by)

    def _finished(
        self, event: Event, contact_id: str, attached: dict[str, Any], agent_id: str | None
    ) -> None:
        customer = attached.get("customer")
        finished = FinishedContact(
            contact_id=contact_id,
            at=event.at,
            channel=event.channel.value if event.channel else None,
            queue=event.queue,
            outcome=str(event.data.get("outcome", "")),
            customer=str(customer) if customer else None,
            agent_id=agent_id,
            disposition=self.dispositions.get(contact_id),
            attached={k: v for k, v in attached.items() if k != "customer"},
        )
        for hook in self.on_finished:
            try:
                hook(finished)
            except Exception:  # a history writer's bug must not stop routing
                log.exception("live routing: on_finished hook failed")

    async def _writer_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every_s)
            await self.flush()

    async def flush(self) -> None:
        """Write the events waiting for the database (in a worker thread)."""
        if self.session_factory is None:
            # No database (a unit test, a dry run): nothing keeps the events.
            self._event_log.discard()
            return
        if not self._event_log.pending:
            return
        try:
            written = await asyncio.to_thread(self._write, self.session_factory)
        except Exception:
            # The writer keeps the batch for the next try, ahead of newer events.
            self.stats.write_failures += 1
            log.exception(
                "live routing: writing %d events to the event log failed", self._event_log.pending
            )
            return
        self.stats.events_written += written

    def _write(self, session_factory: sessionmaker[Session]) -> int:
        started = self.clock.now()
        written = self._event_log.flush(session_factory)
        self.stats.last_write_s = [*self.stats.last_write_s[-9:], self.clock.now() - started]
        return written

    async def _wallboard_loop(self) -> None:
        assert self._changed is not None
        changed = self._changed
        while True:
            # Draw as soon as something changed; otherwise once a second, so waits tick.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await changed.wait()
            changed.clear()
            if not self.watched():
                continue  # nobody to show it to: a screen that connects gets one within 1 s
            try:
                board = await self.snapshot()
            except Exception:
                log.exception("live routing: wallboard snapshot failed")
            else:
                self.stats.snapshots += 1
                self.publish(board)
            # A burst of events (a login wave, a transfer) becomes one board, not dozens.
            await asyncio.sleep(self.snapshot_every_s)


Starter = Callable[[Any], Awaitable[None]]


_HELD_BY = re.compile(
    r"contact (?P<contact>\S+) (?P<stage>waiting|offered to|in hand of|in consultation with"
    r"|in wrap-up by|in wrap-up)(?: (?P<agent>\S+))?"
)
_OVERFLOWED_TO = re.compile(r"queue (?P<queue>\S+) still overflows to")
_STAGES = {
    "waiting": "waiting",
    "offered to": "offered",
    "in hand of": "in_hand",
    "in consultation with": "consult",
    "in wrap-up by": "wrap_up",
    "in wrap-up": "wrap_up",
}


def _explained(reason: str) -> dict[str, str]:
    """The parts of a routing engine's "why not yet" for screens to word in their language.

    ``contact``, ``stage`` (waiting, offered, in_hand, consult, wrap_up) and ``agent`` when a
    contact holds the piece up; ``overflow_from`` when a queue still overflows to it;
    ``stage: quiet`` when engine-wide settings wait for no contact in flight.
    """
    held = _HELD_BY.search(reason)
    if held is not None:
        parts = {"contact": held["contact"], "stage": _STAGES[held["stage"]]}
        if held["agent"]:
            parts["agent"] = held["agent"]
        return parts
    overflow = _OVERFLOWED_TO.search(reason)
    if overflow is not None:
        return {"stage": "overflow", "overflow_from": overflow["queue"]}
    return {"stage": "quiet"}


def attach(app: Any, driver: LiveDriver, *extra: Any) -> None:
    """Run ``driver`` with a web app: ``app.state.live``, started and stopped with the app.

    The driver writes to the app's database and publishes on the app's event hub.

    ``extra`` are objects with ``start()``/``stop()`` coroutines (demo traffic) that start after
    the driver and stop before it.
    """

    async def start(_: Any) -> None:
        await driver.start()
        for part in extra:
            await part.start()

    async def stop(_: Any) -> None:
        for part in reversed(extra):
            await part.stop()
        await driver.stop()

    app.state.live = driver
    if driver.session_factory is None:
        driver.session_factory = app.state.session_factory
    hub = app.state.hub
    driver.publish = hub.publish
    driver.watched = lambda: hub.subscriber_count > 0
    app.state.on_start.append(start)
    app.state.on_stop.append(stop)
