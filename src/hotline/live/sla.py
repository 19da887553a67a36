"""The SLA sweep: ticket clocks checked on a schedule while the platform runs.

:func:`hotline.tickets.service.check_sla` sends each warning and escalation once, but only
when something calls it. The sweeper calls it every ``every_s`` seconds (default 60, set with
``HOTLINE_SLA_SWEEP_S``; ``0`` turns the sweep off) in a worker thread, so a slow database
never stalls the event loop, then

* audits every escalation it sent (``ticket.sla_warning`` / ``ticket.sla_breach``, actor
  ``sla``), in the same transaction as the ticket event, so both are kept or neither is;
* publishes each one to screens as a live event (``{"type": "sla_warning" | "sla_breach",
  "ticket": …, "clock": …, "role": …}``) on the app's :class:`~hotline.web.events.EventHub`.

The clock is injected (a :class:`~hotline.core.clock.ManualClock` in tests), so tests move
time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.clock import Clock, WallClock
from hotline.identity.audit import record as audit
from hotline.store.db import writing
from hotline.tickets import service as tickets

log = logging.getLogger(__name__)

Publish = Callable[[dict[str, Any]], None]

#: Seconds between sweeps when ``HOTLINE_SLA_SWEEP_S`` is not set: warnings come at 80 % of
#: a target measured in hours, so a minute late is well inside the warning margin.
DEFAULT_EVERY_S = 60.0


def sweep_interval_from_env() -> float:
    """The sweep interval in seconds from ``HOTLINE_SLA_SWEEP_S`` (``0`` = no sweep)."""
    raw = os.environ.get("HOTLINE_SLA_SWEEP_S", "")
    if not raw:
        return DEFAULT_EVERY_S
    value = float(raw)
    if value < 0:
        raise ValueError(f"HOTLINE_SLA_SWEEP_S must be 0 or more seconds, not {raw!r}")
    return value


@dataclass
class SweepStats:
    """Counters a health page or test reads."""

    sweeps: int = 0
    sent: int = 0
    failures: int = 0


class SlaSweeper:
    """Runs :func:`~hotline.tickets.service.check_sla` every ``every_s`` seconds.

    Example (a test moves the injected clock instead of waiting)::

        sweeper = SlaSweeper(session_factory=factory, publish=hub.publish, clock=ManualClock(t0))
        clock.advance(3600)
        sent = await sweeper.sweep()  # [{"ticket": "20261123000001", "stage": "breach", …}]
    """

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        publish: Publish | None = None,
        clock: Clock | None = None,
        every_s: float = DEFAULT_EVERY_S,
        actor: str = "sla",
    ) -> None:
        if every_s <= 0:
            raise ValueError("the SLA sweep interval must be more than 0 seconds")
        self.session_factory = session_factory
        self.publish: Publish = publish or (lambda message: None)
        self.clock: Clock = clock or WallClock()
        self.every_s = every_s
        self.actor = actor
        self.stats = SweepStats()
        self._task: asyncio.Task[None] | None = None

    def sweep_once(self) -> list[dict[str, Any]]:
        """Check every open ticket now, audit what was sent and commit; return it."""
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        with writing(self.session_factory()) as session:
            sent = tickets.check_sla(session, now=now, actor=self.actor)
            for escalation in sent:
                audit(
                    session,
                    actor=self.actor,
                    action=f"ticket.sla_{escalation['stage']}",
                    target=f"ticket:{escalation['ticket']}",
                    detail={"clock": escalation["clock"], "role": escalation["role"]},
                )
            session.commit()
        return sent

    async def sweep(self) -> list[dict[str, Any]]:
        """One sweep in a worker thread, then each escalation published as a live event."""
        sent = await asyncio.to_thread(self.sweep_once)
        self.stats.sweeps += 1
        self.stats.sent += len(sent)
        for escalation in sent:
            self.publish({"type": f"sla_{escalation['stage']}", **escalation})
        return sent

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a database hiccup must not end the sweeps for good
                self.stats.failures += 1
                log.exception("SLA sweep failed")
            await asyncio.sleep(self.every_s)

    async def start(self, _: Any = None) -> None:
        """Start sweeping on the running loop (the first sweep runs at once)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="sla-sweep")

    async def stop(self, _: Any = None) -> None:
        """Stop sweeping (a sweep in its worker thread finishes its transaction first)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


def attach_sla_sweeper(
    app: Any, *, every_s: float | None = None, clock: Clock | None = None
) -> SlaSweeper | None:
    """Sweep SLA clocks while ``app`` runs: ``app.state.sla``, started and stopped with it.

    ``every_s`` defaults to ``HOTLINE_SLA_SWEEP_S`` (60 s); ``0`` attaches nothing.
    Escalations are published on ``app.state.hub``.
    """
    every = sweep_interval_from_env() if every_s is None else every_s
    if every <= 0:
        app.state.sla = None
        return None
    sweeper = SlaSweeper(
        session_factory=app.state.session_factory,
        publish=app.state.hub.publish,
        clock=clock,
        every_s=every,
    )
    app.state.sla = sweeper
    app.state.on_start.append(sweeper.start)
    app.state.on_stop.append(sweeper.stop)
    return sweeper
