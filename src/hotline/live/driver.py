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
  (customer, subject), the open offer, when wrap-up ends, which contact is on hold;
* writes the case a callback continues (``case_id``: the chat's or call's contact id) into
  the callback's ``arrived`` event, so the reports count the contact and its callback as one
  case. The routing engine does not carry cases: the driver booked the callback, so it
  knows the case when the callback arrives.

This module is the engine task and its jobs. The rest has a module of its own: the desk
state (:mod:`hotline.live.desk_state`), the event log and recovery
(:mod:`hotline.live.persistence`), a saved configuration taking effect piece by piece
(:mod:`hotline.live.reconfiguration`), the wallboard (:mod:`hotline.live.wallboard`).

Commands that do not fit the engine's state (a caller hangs up while the agent answers) raise
:class:`~hotline.routing.model.RoutingConflict` to the caller of :meth:`LiveDriver.command`;
fire-and-forget jobs (:meth:`LiveDriver.post`) log the conflict and carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.core.clock import Clock, WallClock
from hotline.core.events import Channel, Event, EventKind
from hotline.live import callbacks, promises, recovery, takeover
from hotline.live.crisis import CrisisMode, CrisisState, Source
from hotline.live.desk_state import DeskState, OnFinished, OpenOffer
from hotline.live.persistence import EventLogPersistence
from hotline.live.reconfiguration import PendingConfiguration, engine_idle
from hotline.live.stats import DriverStats
from hotline.live.wallboard import Wallboard
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import (
    Command,
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    NewDay,
    RoutingConflict,
)
from hotline.store import event_log

log = logging.getLogger(__name__)

T = TypeVar("T")
Publish = Callable[[dict[str, Any]], None]
Listener = Callable[[Result], None]
#: A job runs inside the engine task with the engine and "now"; it returns what the caller
#: awaits, and the engine result it produced (or ``None`` when it only read state).
Job = Callable[[RoutingEngine, float], tuple[T, Result | None]]


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
        resume: bool = False,
    ) -> None:
        self.center = center
        self.clock: Clock = clock or WallClock()
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
        #: What the desktop shows beside the engine (attached data, offers, hold, wrap-up).
        self.desk = DeskState(on_finished)
        #: The event log (numbered, written off the loop) and recovery after a restart.
        self.persistence = EventLogPersistence(
            clock=self.clock, stats=self.stats, session_factory=session_factory
        )
        self._callback_handles: list[asyncio.TimerHandle] = []
        #: The case each booked callback continues, until its ``arrived`` event is logged.
        self._case_of: dict[str, str] = {}
        #: Where each digital contact came in (``web``, ``wechat``, ``sms``), until its
        #: ``arrived`` event is logged.
        self._entry_of: dict[str, str] = {}
        self._queue_ids = {q.id for q in center.queues}
        self._listeners: list[Listener] = []
        #: Applied in turn to each event before it is numbered into the log (a partition
        #: owner's: the voice node that places a call back, :mod:`hotline.live.voice_callbacks`).
        self.stamps: list[Callable[[Event], Event]] = []
        self._jobs: asyncio.Queue[tuple[Job[Any], asyncio.Future[Any] | None]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._changed: asyncio.Event | None = None
        self._day: str | None = None
        stamp = datetime.fromtimestamp(self.clock.now()).strftime("%y%m%d%H%M%S")
        self._prefix = contact_prefix or f"L{stamp}"
        self._numbers = itertools.count(1)
        #: This run of the driver, stamped on every live message with the position: a screen
        #: reconnecting names it, so a position another run published but never wrote (the
        #: server killed before its batch) is told to reload (:mod:`hotline.web.resume`).
        self.run_id = uuid.uuid4().hex[:12]
        #: Called with every saved configuration at once (the voice server takes new IVR
        #: flows and the emergency switch for new calls without waiting for an idle moment).
        self.on_reconfigure: list[Callable[[CenterConfig], None]] = []
        #: Crisis mode (:mod:`hotline.live.crisis`): off at start; see switch_crisis.
        self.crisis = CrisisMode(center.crisis)
        #: A saved configuration on its way into force (see reconfigure); while crisis mode
        #: is on, its queues come in force with their crisis rules.
        self.pending = PendingConfiguration(
            honour_hours=honour_hours, seed=seed, adjust=self.crisis.routing
        )
        #: When the last saved configuration was wholly in force.
        self.applied_at: float | None = None
        #: A partition owner taking over: resume what the log shows in progress (waiting
        #: contacts, contacts in hand, agents' presence) instead of closing it, and leave it
        #: open on stop for the next owner (:mod:`hotline.live.takeover`).
        self.resume = resume
        self.restored: takeover.RestoreReport | None = None

    # ------------------------------------------------------------------ the parts' state

    @property
    def session_factory(self) -> sessionmaker[Session] | None:
        """The database the event log goes to (``None``: nothing keeps the events)."""
        return self.persistence.session_factory

    @session_factory.setter
    def session_factory(self, factory: sessionmaker[Session] | None) -> None:
        self.persistence.session_factory = factory

    @property
    def attached(self) -> dict[str, dict[str, Any]]:
        """Each contact's attached data (customer, subject, ...) until it finishes."""
        return self.desk.attached

    @property
    def offers(self) -> dict[str, OpenOffer]:
        """The offer ringing at each agent."""
        return self.desk.offers

    @property
    def dispositions(self) -> dict[str, str]:
        """The disposition chosen at the end of each contact's wrap-up."""
        return self.desk.dispositions

    @property
    def on_finished(self) -> list[OnFinished]:
        """Hooks called with every finished contact (see :class:`DeskState`)."""
        return self.desk.on_finished

    @property
    def pending_center(self) -> CenterConfig | None:
        """A saved configuration not yet wholly in force (see :meth:`reconfigure`)."""
        return self.pending.center

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
        if self.session_factory is not None and self.resume:
            state = await asyncio.to_thread(takeover.read_state, self.session_factory)
            self.persistence.continue_after(state.last_seq)
            await asyncio.to_thread(self._rebuild_today)
            self.restored = takeover.restore(self, state, now=self.clock.now())
            self._resume_crisis(state.crisis)
            self._resume_callbacks(state.callbacks)
        elif self.session_factory is not None:
            # Number on from the log (as a takeover does): a screen's position stays valid.
            await asyncio.to_thread(self.persistence.continue_after_log)
            await asyncio.to_thread(self.persistence.recover, recovery.CRASH)
            await asyncio.to_thread(self._rebuild_today)
            # What outlives a restart as it outlives a takeover: the crisis mode the log's
            # last switch left, and the call backs promised and not yet fired.
            switch, promised = await asyncio.to_thread(self._read_kept)
            self._resume_crisis(switch)
            self._resume_callbacks(promised)
        self._tasks = [
            asyncio.create_task(self._engine_loop(), name="live-engine"),
            asyncio.create_task(self._writer_loop(), name="live-event-log"),
            asyncio.create_task(self._wallboard_loop(), name="live-wallboard"),
        ]

    async def stop(self) -> None:
        """Stop the tasks, write the events still waiting, and close what is in progress.

        The contacts still open and the agents still signed in are closed in the log
        (outcome ``interrupted``, reason ``shutdown``): the next engine starts empty, and a
        stop must leave every contact that arrived with exactly one end. A partition owner
        (``resume``) leaves them open: the next owner takes them over.
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
        if (
            was_running
            and not self.resume
            and self.session_factory is not None
            and not self.persistence.pending
        ):
            try:
                await asyncio.to_thread(self.persistence.recover, recovery.SHUTDOWN)
            except Exception:  # the next start closes them instead (reason "crash")
                log.exception("live routing: closing the contacts in progress failed")

    def _read_kept(self) -> tuple[Event | None, list[tuple[dict[str, Any], Any]]]:
        """The log's last crisis switch and its promises not yet fired (blocking)."""
        assert self.session_factory is not None
        with self.session_factory() as session:
            switch = event_log.latest_of(session, EventKind.CRISIS)
            promised = callbacks.read_pending(session, now=self.clock.now())
        return switch, promised

    def _rebuild_today(self) -> None:
        """Feed the wallboard today's logged events (its figures survive a restart)."""
        now = self.clock.now()
        midnight = datetime.fromtimestamp(now, self.wallboard.tz).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        self.wallboard.record(self.persistence.events_since(midnight.timestamp()))

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

    # ------------------------------------------------------------------ digital contacts

    async def offer_digital(
        self,
        queue: str,
        *,
        channel: Channel,
        customer: str | None,
        attached: dict[str, Any],
        contact_id: str | None = None,
        entry: str | None = None,
    ) -> str:
        """Route a digital contact (a chat, an e-mail) with the same engine as calls.

        It waits in ``queue`` and is offered to an agent with room on ``channel`` (the
        agent's capacity: e.g. three chats beside the phone), and the event log records it
        like a call, with its channel. The agent accepts it as they answer a call. ``entry``
        says where it came in when the channel does not (a WeChat follower's chat:
        ``wechat``); the ``arrived`` event carries it, so the reports can break down by it.
        """
        if entry is not None and contact_id is not None:
            self._entry_of[contact_id] = entry
        try:
            return await self.queue_contact(
                queue, customer=customer, channel=channel, attached=attached, contact_id=contact_id
            )
        except RoutingConflict:
            self._entry_of.pop(contact_id or "", None)
            raise

    async def end_digital(self, contact_id: str) -> str | None:
        """End a digital contact: abandoned while it waits or rings, ended once accepted.

        Once ended the agent's wrap-up starts, as after a call. Returns what happened
        (``abandoned``, ``ended``), or ``None`` when the engine no longer has the contact in
        progress (already ended, or finished).
        """

        def job(engine: RoutingEngine, now: float) -> tuple[str | None, Result | None]:
            stage = engine.contact_stage(contact_id)
            if stage in ("waiting", "ringing"):
                return "abandoned", engine.handle(ContactAbandoned(at=now, contact_id=contact_id))
            if stage == "connected":
                return "ended", engine.handle(ContactEnded(at=now, contact_id=contact_id))
            return None, None

        return await self.run(job)

    def schedule_callback(
        self,
        *,
        queue: str,
        due_at: float,
        customer: str | None,
        requested_by: str,
        note: str = "",
        for_contact: str | None = None,
        callback_id: str | None = None,
    ) -> dict[str, Any]:
        """Promise the customer a call back at ``due_at``: then a callback contact is queued.

        The callback waits in ``queue`` like any contact (channel ``callback``), so the agent
        who promised it, or any other with the skills, dials the customer when it is offered.
        The promise is logged (``callback_promised``, :mod:`hotline.live.callbacks`), so a
        new owner or a restart keeps it until due; the timer lives in this process.
        A callback ``for_contact`` continues that contact's case (the case of the contact it
        was promised in, which is that contact's own id unless it continues one itself).
        ``callback_id`` is the id a web node gave the promise (through the partition inbox).
        """
        if queue not in self._queue_ids:
            raise RoutingConflict(f"unknown queue {queue!r}")
        callback_id = callback_id or self.new_contact_id() + "-cb"
        case_id = None
        if for_contact is not None:
            case_id = self._case_of.get(for_contact) or self.desk.cases.get(for_contact)
            case_id = case_id or for_contact
        entry = {
            "callback_id": callback_id,
            "queue": queue,
            "due_at": due_at,
            "customer": customer,
            "requested_by": requested_by,
            "note": note,
            "for_contact": for_contact,
        }
        self.record(promises.promise_event(entry, at=self.clock.now(), case_id=case_id))
        self._keep_callback(entry, case_id)
        return entry

    def _keep_callback(self, entry: dict[str, Any], case_id: str | None) -> None:
        """Keep a promise until due (in :attr:`DeskState.callbacks`), then queue its contact."""
        callback_id = str(entry["callback_id"])
        queue, customer, note = str(entry["queue"]), entry["customer"], str(entry["note"])
        for_contact = entry["for_contact"]
        self.desk.callbacks[callback_id] = entry
        delay = max(0.0, float(entry["due_at"]) - self.clock.now())

        def due() -> None:
            if self.desk.callbacks.pop(callback_id, None) is None or self._jobs is None:
                return
            self.attached[callback_id] = {
                "customer": customer,
                "note": note,
                "callback_for": for_contact,
                "requested_by": entry["requested_by"],
            }
            if case_id is not None:
                self._case_of[callback_id] = case_id
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

    def _resume_callbacks(self, promised: Sequence[tuple[dict[str, Any], Any]]) -> None:
        """Keep the promises the log shows not yet fired (a takeover, a restart): each fires
        at its time, at once when that passed meanwhile; a queue the center no longer has
        is logged and dropped."""
        for entry, case_id in promised:
            if entry["queue"] not in self._queue_ids:
                log.warning(
                    "live routing: call back %s dropped: queue %r is no longer in the center",
                    entry["callback_id"],
                    entry["queue"],
                )
                continue
            self._keep_callback(entry, str(case_id) if case_id else None)
        if promised:
            log.info("live routing: %d promised call backs kept from the log", len(promised))

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
        if center.crisis is not None:
            self.crisis.config = center.crisis
        self.pending.begin(center, self.engine.config)
        self._queue_ids = {q.id for q in center.queues}
        for hook in self.on_reconfigure:
            try:
                hook(center)
            except Exception:  # a hook's bug must not keep routing on the old configuration
                log.exception("live routing: on_reconfigure hook failed")
        if self._jobs is not None:
            self.post(lambda engine, now: (None, None))  # wake the engine task to try now

    async def switch_crisis(
        self, *, on: bool, by: str, source: Source, reason: str
    ) -> dict[str, Any] | None:
        """Switch crisis mode on or off now; ``None`` when it already was (nothing done).

        Every queue takes its crisis rules (closed, or offering callbacks to every caller
        waiting past the center file's time) or its normal ones at once, under live contacts
        (:meth:`RoutingEngine.change_queue_rules`); the switch is published to the screens
        (``crisis``) and the mode's listeners (the voice server's announcement) hear it.
        Raises :class:`RoutingConflict` when the center file defines no crisis mode.
        """
        crisis = self.crisis
        if crisis.config is None:
            raise RoutingConflict("the center file defines no crisis mode (no crisis section)")

        def job(engine: RoutingEngine, now: float) -> tuple[dict[str, Any] | None, Result | None]:
            if crisis.on == on:
                return None, None
            normal = routing_config_from_center(
                self.center, honour_hours=self.pending.honour_hours, seed=self.pending.seed
            )
            result = crisis.apply(engine, normal, on=on)
            self.config = engine.config
            crisis.switched(on=on, now=now, by=by, source=source, reason=reason)
            return crisis.view(), result

        view = await self.run(job)
        if view is not None:
            log.warning("crisis mode %s by %s (%s): %s", "on" if on else "off", by, source, reason)
            # In the log too, so web nodes (which draw their screens from it) show the mode.
            self.record(
                Event(
                    0,
                    float(view["since"]),
                    EventKind.CRISIS,
                    data={"on": on, "by": by, "source": source, "reason": reason},
                )
            )
            self.publish({"type": "crisis", **view})
        return view

    def _resume_crisis(self, switch: Event | None) -> None:
        """A new owner, or a restarted one-node server, keeps crisis mode as the log's last
        switch left it: after a takeover's contacts are back (a closed queue would refuse
        them), the queues take their crisis rules, as under a live switch; the switch itself
        is not logged again."""
        if switch is None or not switch.data.get("on") or self.crisis.config is None:
            return
        normal = routing_config_from_center(
            self.center, honour_hours=self.pending.honour_hours, seed=self.pending.seed
        )
        self.after_restore(self.crisis.apply(self.engine, normal, on=True))
        self.config = self.engine.config
        data = switch.data
        self.crisis.state = CrisisState(
            on=True,
            since=switch.at,
            by=data.get("by"),
            source=data.get("source"),
            reason=data.get("reason"),
        )

    def apply_status(self) -> dict[str, Any]:
        """Whether a saved configuration still waits to take effect, what of it, and why.

        ``waiting`` lists each queue and agent not yet applied with the reason (the contact
        that holds it up); ``whole`` names the engine-wide settings that wait for a moment
        with nothing in flight (then every piece waits for it).
        """
        return self.pending.status(applied_at=self.applied_at)

    def _apply_pending(self, now: float) -> None:
        """Apply what of the saved configuration has reached its safe point (every step)."""
        step = self.pending.step(
            self.engine,
            self.center,
            idle=lambda: engine_idle(self.engine, offers_open=bool(self.desk.offers)),
            now=now,
        )
        if step.engine is not None:
            self.engine = step.engine
        for result in step.results:
            self._after(result)
        if step.follow is not None:
            # The views (wallboard targets, names, teams; wrap-up times) show it from now on.
            self.center = step.follow
            self.wallboard.reconfigure(step.follow)
        if step.progress:
            self.publish({"type": "config_progress", "at": now, **self.apply_status()})
        if step.applied:
            self.config = self.engine.config
            self.applied_at = now
            log.info("live routing: new center configuration applied")
            self.publish({"type": "config_applied", "at": now})

    # ------------------------------------------------------------------ views

    async def snapshot(self) -> dict[str, Any]:
        """The wallboard now (advances the engine to now first, so waits are current)."""

        def job(engine: RoutingEngine, now: float) -> tuple[dict[str, Any], None]:
            # Timers that just fired must reach the board (once) before it is drawn.
            self._after(engine.advance(now))
            return {**self.wallboard.snapshot(engine, now), "crisis": self.crisis.view()}, None

        return await self.run(job)

    async def agent_view(self, agent_id: str) -> dict[str, Any]:
        """What one agent's desktop shows: state, reason, contacts in hand, the open offer."""

        def job(engine: RoutingEngine, now: float) -> tuple[dict[str, Any], None]:
            self._after(engine.advance(now))  # the desktop sees timers that just fired
            return self._agent_view(engine, agent_id, now), None

        return await self.run(job)

    def _agent_view(self, engine: RoutingEngine, agent_id: str, now: float) -> dict[str, Any]:
        presence = self.wallboard.agents.get(agent_id)
        since = presence.since if presence else None
        return self.desk.agent_view(engine, agent_id, now, since=since)

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

    def after_restore(self, result: Result) -> None:
        """Carry out a takeover's first real step (see :func:`hotline.live.takeover.restore`)."""
        self._after(result)

    def _after(self, result: Result) -> None:
        """Carry out one step's effects: remember, log, publish, tell the listeners."""
        if not result.events and not result.effects:
            return
        self._log(result.events)
        for message in self.desk.apply_effects(result.effects, now=self.engine.now):
            self.publish(message)
        for listener in self._listeners:
            try:
                listener(result)
            except Exception:  # a simulated peer's bug must not stop routing
                log.exception("live routing listener failed")
        if self._changed is not None:
            self._changed.set()

    def _log(self, events: Sequence[Event]) -> None:
        """Number events in the log's one sequence, keep them for the database, show them."""
        if self._case_of or self._entry_of:
            events = [self._with_case(event) for event in events]
        for stamp in self.stamps:
            events = [stamp(event) for event in events]
        numbered = self.persistence.number(events)
        self.wallboard.record(numbered)
        watched = self.watched()
        for event in numbered:
            self.desk.remember(event, engine=self.engine)
            if watched:
                self.publish(event.live_message())

    def _with_case(self, event: Event) -> Event:
        """A booked callback's ``arrived`` event with the case it continues in its data, a
        digital contact's with where it came in (``entry``)."""
        if event.kind is not EventKind.ARRIVED or event.contact_id is None:
            return event
        added: dict[str, str] = {}
        case_id = self._case_of.pop(event.contact_id, None)
        if case_id is not None:
            added["case_id"] = case_id
        entry = self._entry_of.pop(event.contact_id, None)
        if entry is not None:
            added["entry"] = entry
        if not added:
            return event
        return Event(
            event.seq,
            event.at,
            event.kind,
            event.contact_id,
            event.agent_id,
            event.queue,
            event.channel,
            {**event.data, **added},
        )

    async def _writer_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every_s)
            await self.flush()

    async def flush(self) -> None:
        """Write the events waiting for the database (in a worker thread)."""
        await self.persistence.flush()

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
