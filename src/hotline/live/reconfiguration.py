"""Reconfiguration of the live engine: a saved center file takes effect piece by piece.

The routing engine changes one queue when none of its contacts waits, rings, talks or is
wrapped up, and one agent when they hold nothing (new queues and agents at once; see
:meth:`~hotline.routing.engine.RoutingEngine.configure_queue`). After every engine step the
live driver asks a :class:`PendingConfiguration` to apply whatever of the saved configuration
has reached its safe point, so a held call holds up only its own queue and agent. The views
(wallboard targets, names and teams, wrap-up times) follow piece by piece: the configuration
in force is new where applied and old where pending.

Engine-wide settings (channel capacities, and so the capacity an agent has on a channel)
cannot change under live contacts: when a new configuration changes them, the whole engine is
rebuilt at the next moment nothing is in flight, with every signed-in agent in the same state.

Until everything applied, :meth:`PendingConfiguration.status` says what waits and why, with
the reason taken apart (:func:`explained`) for screens to word in their own language.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.config.center import CenterConfig
from hotline.routing.engine import Result, RoutingEngine, apply_ready, engine_wide_changes
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import AgentLoggedIn, AgentState, RoutingConfig, RoutingConflict

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


def explained(reason: str) -> dict[str, str]:
    """The parts of a routing engine's "why not yet" for screens to word in their language.

    ``contact``, ``stage`` (waiting, offered, in_hand, consult, wrap_up) and ``agent`` when a
    contact holds the piece up; ``overflow_from`` when a queue still overflows to it;
    ``stage: quiet`` when engine-wide settings wait for no contact in flight.

    >>> explained("contact L1-000007 in hand of a002")
    {'contact': 'L1-000007', 'stage': 'in_hand', 'agent': 'a002'}
    >>> explained("queue vip still overflows to general")
    {'stage': 'overflow', 'overflow_from': 'vip'}
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


def engine_idle(engine: RoutingEngine, *, offers_open: bool) -> bool:
    """Whether nothing is in flight: no contact, no open offer, no agent reserved or busy."""
    if engine.contacts() or offers_open:
        return False
    busy = {AgentState.RESERVED, AgentState.ON_CONTACT, AgentState.WRAP_UP}
    return all(engine.agent_state(agent) not in busy for agent in engine.agents())


def in_force(
    center: CenterConfig, current: CenterConfig, waiting: dict[tuple[str, str], str]
) -> CenterConfig:
    """``center`` with each queue and agent still waiting as it is in force (``current``)."""
    old_queues = {q.id: q for q in current.queues}
    old_agents = {a.id: a for a in current.agents}
    queues = [old_queues.get(q.id) if ("queue", q.id) in waiting else q for q in center.queues]
    new_queues = {q.id for q in center.queues}
    queues += [q for q in current.queues if q.id not in new_queues]
    agents = [old_agents.get(a.id) if ("agent", a.id) in waiting else a for a in center.agents]
    new_agents = {a.id for a in center.agents}
    agents += [a for a in current.agents if a.id not in new_agents]
    return center.model_copy(
        update={
            "queues": [q for q in queues if q is not None],
            "agents": [a for a in agents if a is not None],
        }
    )


def rebuilt(
    old: RoutingEngine, center: CenterConfig, config: RoutingConfig, now: float
) -> RoutingEngine:
    """A new engine for engine-wide changes, built while nothing is in flight.

    Every agent signed in to ``old`` and still in ``center`` is signed in again, in the same
    state and reason. The agents' states do not change, so the re-login's events are not news
    for the event log or the wallboard: they are dropped.
    """
    engine = RoutingEngine(config)
    known = {agent.id for agent in center.agents}
    for agent in old.agents():
        state = old.agent_state(agent)
        if state is AgentState.LOGGED_OUT or agent not in known:
            continue
        with contextlib.suppress(RoutingConflict):
            engine.handle(
                AgentLoggedIn(
                    at=max(now, engine.now),
                    agent_id=agent,
                    ready=state is AgentState.AVAILABLE,
                    reason=old.agent_reason(agent) if state is AgentState.NOT_READY else None,
                )
            )
    return engine


@dataclass
class Step:
    """What one attempt to apply the pending configuration did, for the driver to carry out.

    ``results``: the engine's results of the pieces applied (log and publish them);
    ``engine``: a rebuilt engine to route with from now on; ``follow``: the configuration the
    views are to show now; ``progress``: some piece applied or the reasons changed (tell the
    screens); ``applied``: the whole configuration is in force.
    """

    results: list[Result] = field(default_factory=list)
    engine: RoutingEngine | None = None
    follow: CenterConfig | None = None
    progress: bool = False
    applied: bool = False


class PendingConfiguration:
    """A saved center configuration on its way into force, and what of it still waits.

    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> center = load_center(sample)
    >>> engine = RoutingEngine(routing_config_from_center(center, honour_hours=False))
    >>> pending = PendingConfiguration(honour_hours=False, seed=0)
    >>> pending.begin(center, engine.config)
    >>> pending.step(engine, center, idle=lambda: True, now=0.0).applied
    True
    >>> pending.status(applied_at=0.0)["pending"]
    False
    """

    def __init__(
        self,
        *,
        honour_hours: bool,
        seed: int,
        adjust: Callable[[RoutingConfig], RoutingConfig] | None = None,
    ) -> None:
        self.honour_hours = honour_hours
        self.seed = seed
        #: The routing configuration as it is to run now (crisis mode's rules while it is on).
        self.adjust: Callable[[RoutingConfig], RoutingConfig] = adjust or (lambda config: config)
        #: The saved configuration not yet wholly in force, or ``None``.
        self.center: CenterConfig | None = None
        self._target: RoutingConfig | None = None
        # Queues and agents of the pending configuration not yet applied, and why.
        self._waiting: dict[tuple[str, str], str] = {}
        # Engine-wide settings the pending configuration changes (a rebuild at full idle).
        self._whole: list[str] = []

    def begin(self, center: CenterConfig, current: RoutingConfig) -> None:
        """Start bringing ``center`` into force over the engine's ``current`` configuration."""
        self.center = center
        self._target = self.adjust(
            routing_config_from_center(center, honour_hours=self.honour_hours, seed=self.seed)
        )
        self._waiting = {}
        self._whole = engine_wide_changes(current, self._target)

    def status(self, *, applied_at: float | None) -> dict[str, Any]:
        """Whether a saved configuration still waits to take effect, what of it, and why.

        ``waiting`` lists each queue and agent not yet applied with the reason (the contact
        that holds it up); ``whole`` names the engine-wide settings that wait for a moment
        with nothing in flight (then every piece waits for it).
        """
        waiting = [
            {"kind": kind, "id": item, "reason": reason, **explained(reason)}
            for (kind, item), reason in sorted(self._waiting.items())
        ]
        return {
            "pending": self.center is not None,
            "applied_at": applied_at,
            "waiting": waiting,
            "whole": list(self._whole) if self.center is not None else [],
        }

    def step(
        self,
        engine: RoutingEngine,
        current: CenterConfig,
        *,
        idle: Callable[[], bool],
        now: float,
    ) -> Step:
        """Apply what of the configuration has reached its safe point in ``engine``.

        ``current`` is the configuration in force now; ``idle`` tells whether nothing is in
        flight (asked only when engine-wide settings wait for it).
        """
        center = self.center
        target = self._target
        if center is None or target is None:
            return Step()
        if self._whole:
            if not idle():
                self._waiting = {
                    ("engine", ", ".join(self._whole)): "waits for no contact in flight"
                }
                return Step()
            step = Step(engine=rebuilt(engine, center, target, now), follow=center, applied=True)
        else:
            results, waiting = apply_ready(engine, target)
            if waiting:
                step = Step(results=results)
                if results or waiting != self._waiting:
                    self._waiting = waiting
                    step.follow = in_force(center, current, waiting)
                    step.progress = True
                return step
            step = Step(results=results, follow=center, applied=True)
        self.center = None
        self._target = None
        self._waiting = {}
        self._whole = []
        return step
