"""Crisis mode (应急模式) in the live center: the switch, who threw it, and what it changes.

The center file's ``crisis`` section (:class:`hotline.config.crisis.CrisisConfig`) says what
the mode does; :class:`CrisisMode` is whether it is on now. A supervisor switches it from the
wallboard with a reason, or the crisis sweep (:mod:`hotline.live.crisis_sweep`) by the
section's ``switch`` rule; either way the live driver (:meth:`LiveDriver.switch_crisis`)
gives every queue the routing rules of :func:`hotline.routing.crisis.crisis_routing` at once
— the same rules the simulator runs, so a simulated surge shows what the live center does —
and puts the normal rules back when it goes off. Listeners hear every switch: the voice
server plays the section's ``announcement`` to new callers before the menu while the mode is
on, and the wallboard and the desks show a banner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from hotline.config.crisis import CrisisConfig
from hotline.routing.crisis import SwitchWatch, crisis_routing
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import RoutingConfig

log = logging.getLogger(__name__)

#: Who threw the switch: a person from the wallboard, or the center file's rule.
Source = Literal["supervisor", "rule"]


@dataclass(frozen=True)
class CrisisState:
    """Whether crisis mode is on, since when, who switched it last and why."""

    on: bool = False
    since: float | None = None
    by: str | None = None
    source: Source | None = None
    reason: str | None = None


Listener = Callable[[CrisisState, CrisisConfig], None]


class CrisisMode:
    """The live center's crisis switch (one per live driver).

    >>> from hotline.routing.model import QueueConfig, RoutingConfig
    >>> mode = CrisisMode(CrisisConfig(close_queues=["installation"]))
    >>> normal = RoutingConfig(queues=(QueueConfig("repair"), QueueConfig("installation")))
    >>> engine = RoutingEngine(normal)
    >>> _ = mode.apply(engine, normal, on=True)
    >>> engine.config.queues[1].calendar.is_open(0.0)
    False
    """

    def __init__(self, config: CrisisConfig | None) -> None:
        #: The center file's ``crisis`` section (``None``: this center has no crisis mode).
        self.config = config
        self.state = CrisisState()
        #: What the rule has seen (a fresh watch after every switch).
        self.watch = SwitchWatch()
        #: Called after every switch with the new state and the section.
        self.listeners: list[Listener] = []

    @property
    def on(self) -> bool:
        """Whether crisis mode is on now."""
        return self.state.on

    def routing(self, normal: RoutingConfig) -> RoutingConfig:
        """The routing configuration to run with now: ``normal``, or its crisis version."""
        if not self.state.on or self.config is None:
            return normal
        return crisis_routing(normal, self.config)

    def apply(self, engine: RoutingEngine, normal: RoutingConfig, *, on: bool) -> Result:
        """Give every queue of ``engine`` its crisis rules (``on``) or its ``normal`` ones."""
        assert self.config is not None
        target = crisis_routing(normal, self.config) if on else normal
        effects: list[Any] = []
        events: list[Any] = []
        known = {q.id for q in engine.config.queues}
        for queue in target.queues:
            if queue.id not in known:
                continue  # a queue of a saved configuration not yet in force
            result = engine.change_queue_rules(queue)
            effects += result.effects
            events += result.events
        return Result(effects, events)

    def switched(
        self, *, on: bool, now: float, by: str, source: Source, reason: str
    ) -> CrisisState:
        """Record a switch; tell the listeners (a listener's failure is logged, not raised)."""
        self.state = CrisisState(on=on, since=now, by=by, source=source, reason=reason)
        self.watch = SwitchWatch()
        assert self.config is not None
        for listener in self.listeners:
            try:
                listener(self.state, self.config)
            except Exception:  # a screen or the voice server must not undo the switch
                log.exception("crisis mode: a listener failed")
        return self.state

    def view(self) -> dict[str, Any]:
        """The state for screens (``available``: the center file defines a crisis mode)."""
        announcement = self.config.announcement if self.config is not None else None
        closed = list(self.config.close_queues) if self.config is not None else []
        return {
            "available": self.config is not None,
            **asdict(self.state),
            "announcement": announcement,
            "closed_queues": closed if self.state.on else [],
        }
