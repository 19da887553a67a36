"""The crisis sweep: the center file's rule switches crisis mode on (and off) by itself.

Every ``every_s`` seconds (default 15, ``HOTLINE_CRISIS_SWEEP_S``; ``0`` turns it off) the
sweep reads the live wallboard — callers waiting and this interval's service level, queue by
queue — and hands it to the pure rule (:func:`hotline.routing.crisis.watch_switch`): a queue
longer than X callers, or a service level below Y, held for Z minutes, switches the mode on;
with the rule's ``switch_off``, the condition clear for Z minutes switches it off again. A
switch by rule goes through the same door as a supervisor's
(:meth:`~hotline.live.driver.LiveDriver.switch_crisis`) and is on the audit record with the
actor ``rule`` and what held. A center without a ``crisis.switch`` rule is never switched.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from hotline.core.clock import Clock
from hotline.identity import audit
from hotline.live.sweeper import Sweeper, attach_sweeper, sweep_interval_from_env
from hotline.routing.crisis import QueueReading, watch_switch
from hotline.store.db import writing

#: The environment variable of the sweep's interval, and its default (seconds).
INTERVAL_VARIABLE = "HOTLINE_CRISIS_SWEEP_S"
DEFAULT_EVERY_S = 15.0
#: The audit record's actor for a switch by rule.
RULE_ACTOR = "rule"


def readings(board: dict[str, Any]) -> list[QueueReading]:
    """The rule's view of a wallboard: each queue's waiting callers and interval SL."""
    return [
        QueueReading(
            queue=str(tile["id"]),
            waiting=int(tile["waiting"]),
            service_level=tile["interval"]["service_level"],
        )
        for tile in board["queues"]
    ]


class CrisisSweeper(Sweeper):
    """Reads the wallboard and switches crisis mode by the center file's rule."""

    name = "crisis sweep"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._switch: dict[str, Any] | None = None

    async def sweep(self) -> dict[str, Any] | None:
        """One reading of the rule on the loop; a switch, if any, audited in a worker thread."""
        driver = getattr(self.app.state, "live", None)
        mode = driver.crisis if driver is not None else None
        rule = mode.config.switch if mode is not None and mode.config is not None else None
        if driver is None or mode is None or rule is None:
            self.sweeps += 1
            return None
        board = await driver.snapshot()
        decision = watch_switch(
            rule, mode.watch, on=mode.on, now=self.clock.now(), readings=readings(board)
        )
        mode.watch = decision.watch
        view = None
        if decision.switch_to is not None:
            view = await driver.switch_crisis(
                on=decision.switch_to, by=RULE_ACTOR, source="rule", reason=decision.why
            )
            if view is not None:
                self._switch = view
                await asyncio.to_thread(self.sweep_once)
        self.sweeps += 1
        return view

    def sweep_once(self) -> object:
        """Put the switch just made on the audit record (its own write transaction)."""
        switch, self._switch = self._switch, None
        if switch is None:
            return None
        with writing(self.session_factory()) as session:
            audit.record(
                session,
                actor=RULE_ACTOR,
                action="crisis.on" if switch["on"] else "crisis.off",
                target=str(switch["reason"]),
                detail={"source": "rule"},
            )
            session.commit()
        return switch


def attach_crisis_sweeper(
    app: Any, *, every_s: float | None = None, clock: Clock | None = None
) -> CrisisSweeper | None:
    """Switch crisis mode by rule while ``app`` runs: ``app.state.crisis_sweeper``;
    ``every_s`` defaults to ``HOTLINE_CRISIS_SWEEP_S`` (15 s; ``0``: no sweep)."""
    if every_s is None:
        every_s = (
            sweep_interval_from_env(INTERVAL_VARIABLE)
            if os.environ.get(INTERVAL_VARIABLE)
            else DEFAULT_EVERY_S
        )
    return attach_sweeper(
        app,
        CrisisSweeper,
        attribute="crisis_sweeper",
        variable=INTERVAL_VARIABLE,
        every_s=every_s,
        clock=clock,
    )
