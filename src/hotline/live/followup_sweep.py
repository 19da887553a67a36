"""The follow-up (回访) sweep: tasks for missed resolutions and due reminders, while running.

The ticket-resolve paths make a resolution's follow-up task at once
(:func:`hotline.followup.service.generate_for_ticket`); this sweep catches the ones they
missed (a crash between the resolve and the task, a change made by the command line or a
script) and sends the due-soon reminders and overdue escalations the center's rules ask
for. It runs when the web app starts and then every ``every_s`` seconds (default 300, set
with ``HOTLINE_FOLLOWUP_SWEEP_S``; ``0`` turns it off), in a worker thread, so a slow
database never stalls the event loop. The center configuration is read from the app at
each sweep, so a saved configuration's new rules apply from the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.clock import Clock, WallClock
from hotline.followup import service as followup
from hotline.store.db import writing

log = logging.getLogger(__name__)

DEFAULT_EVERY_S = 300.0


def sweep_interval_from_env(variable: str = "HOTLINE_FOLLOWUP_SWEEP_S") -> float:
    """The sweep interval in seconds from ``variable`` (``0`` = no sweep; default 300)."""
    raw = os.environ.get(variable, "")
    if not raw:
        return DEFAULT_EVERY_S
    value = float(raw)
    if value < 0:
        raise ValueError(f"{variable} must be 0 or more seconds, not {raw!r}")
    return value


class Sweeper:
    """Runs :meth:`sweep_once` in a worker thread on start and every ``every_s`` seconds.

    A subclass says what one sweep does (:class:`FollowUpSweeper`, the survey links'
    :class:`hotline.live.survey_sweep.SurveyLinkSweeper`).
    """

    #: The sweep's name in the log and on its task.
    name = "sweep"

    def __init__(
        self,
        *,
        app: Any,
        session_factory: sessionmaker[Session],
        clock: Clock | None = None,
        every_s: float = DEFAULT_EVERY_S,
    ) -> None:
        if every_s <= 0:
            raise ValueError(f"the {self.name} interval must be more than 0 seconds")
        self.app = app
        self.session_factory = session_factory
        self.clock: Clock = clock or WallClock()
        self.every_s = every_s
        self.sweeps = 0
        self.failures = 0
        self._task: asyncio.Task[None] | None = None

    def sweep_once(self) -> object:
        """One sweep in its own write transaction; returns what it did."""
        raise NotImplementedError

    async def sweep(self) -> object:
        """One sweep in a worker thread."""
        result = await asyncio.to_thread(self.sweep_once)
        self.sweeps += 1
        return result

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a database hiccup must not end the sweeps for good
                self.failures += 1
                log.exception("%s failed", self.name)
            await asyncio.sleep(self.every_s)

    async def start(self, _: Any = None) -> None:
        """Start sweeping on the running loop (the first sweep runs at once)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self, _: Any = None) -> None:
        """Stop sweeping (a sweep in its worker thread finishes its transaction first)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


class FollowUpSweeper(Sweeper):
    """Runs :func:`hotline.followup.service.sweep` on start and every ``every_s`` seconds."""

    name = "follow-up sweep"

    def sweep_once(self) -> followup.SweepResult:
        """One sweep in its own write transaction; returns what it did."""
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        with writing(self.session_factory()) as session:
            result = followup.sweep(session, center=self.app.state.center, now=now)
            session.commit()
        return result


SweeperT = TypeVar("SweeperT", bound=Sweeper)


def attach_sweeper(
    app: Any,
    kind: type[SweeperT],
    *,
    attribute: str,
    variable: str,
    every_s: float | None = None,
    clock: Clock | None = None,
) -> SweeperT | None:
    """Run a ``kind`` sweeper while ``app`` runs, kept as ``app.state.<attribute>`` and
    started and stopped with it; ``every_s`` defaults to the environment's ``variable``
    (300 s; ``0`` adds none)."""
    every = sweep_interval_from_env(variable) if every_s is None else every_s
    if every <= 0:
        setattr(app.state, attribute, None)
        return None
    sweeper = kind(app=app, session_factory=app.state.session_factory, clock=clock, every_s=every)
    setattr(app.state, attribute, sweeper)
    app.state.on_start.append(sweeper.start)
    app.state.on_stop.append(sweeper.stop)
    return sweeper


def attach_followup_sweeper(
    app: Any, *, every_s: float | None = None, clock: Clock | None = None
) -> FollowUpSweeper | None:
    """Sweep follow-ups while ``app`` runs: ``app.state.followup_sweeper``, started and
    stopped with it; ``every_s`` defaults to ``HOTLINE_FOLLOWUP_SWEEP_S`` (300 s)."""
    return attach_sweeper(
        app,
        FollowUpSweeper,
        attribute="followup_sweeper",
        variable="HOTLINE_FOLLOWUP_SWEEP_S",
        every_s=every_s,
        clock=clock,
    )
