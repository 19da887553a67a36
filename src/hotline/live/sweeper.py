"""Sweeps that run beside the web app: on start, then every few seconds, in a worker thread.

:class:`Sweeper` is the shape (start and stop with the app, one sweep in a worker thread so a
slow database never stalls the event loop, a failed sweep logged and counted, never the
last); a subclass says what one sweep does (:class:`hotline.live.followup_sweep.FollowUpSweeper`,
:class:`hotline.live.survey_sweep.SurveyLinkSweeper`). :func:`attach_sweeper` hangs one on an
app with its interval from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from abc import ABC, abstractmethod
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.clock import Clock, WallClock

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


class Sweeper(ABC):
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

    @abstractmethod
    def sweep_once(self) -> object:
        """One sweep in its own write transaction; returns what it did."""

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
