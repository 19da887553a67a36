"""Crisis mode in routing terms: the center's queues as they run while the mode is on.

:class:`hotline.config.crisis.CrisisConfig` says which non-urgent queues close and after how
long a waiting caller is released with a callback; :func:`crisis_routing` turns that into queue
rules the engine already knows — a closed queue gets a calendar that is never open (its
callers hear the closed message and leave unqueued), every other queue gets a first overflow
rule "wait exceeds N s → callback in this queue" (the callback keeps the caller's place).
Everything else stays as configured. Pure: no I/O.

>>> from hotline.routing.model import QueueConfig, RoutingConfig
>>> normal = RoutingConfig(queues=(QueueConfig("repair"), QueueConfig("installation")))
>>> crisis = crisis_routing(normal, CrisisConfig(close_queues=["installation"],
...     callback_after_s=30))
>>> [(q.id, [(r.when.value, r.action.value, r.value) for r in q.overflow]) for q in
...     crisis.queues]
[('repair', [('wait_exceeds', 'callback', 30.0)]), ('installation', [])]
>>> crisis.queues[1].calendar.is_open(0.0)
False
"""

from __future__ import annotations

from dataclasses import replace

from hotline.config.crisis import CrisisConfig
from hotline.core.calendar import BusinessCalendar
from hotline.routing.model import (
    OverflowAction,
    OverflowCondition,
    OverflowRule,
    QueueConfig,
    RoutingConfig,
    RoutingError,
)

#: Opening hours that never open: a queue closed for the crisis.
NEVER_OPEN = BusinessCalendar(time_zone="UTC", weekly={})


def crisis_queue(queue: QueueConfig, crisis: CrisisConfig) -> QueueConfig:
    """One queue as it runs in crisis mode (closed, or offering callbacks to every waiter)."""
    if queue.id in crisis.close_queues:
        return replace(queue, calendar=NEVER_OPEN, overflow=())
    if crisis.callback_after_s is None:
        return queue
    offer = OverflowRule(
        OverflowCondition.WAIT_EXCEEDS, OverflowAction.CALLBACK, crisis.callback_after_s, queue.id
    )
    # Tried first: a caller is offered the callback before any later rule sends them on.
    return replace(queue, overflow=(offer, *queue.overflow))


def crisis_routing(config: RoutingConfig, crisis: CrisisConfig) -> RoutingConfig:
    """The routing configuration with every queue in crisis mode (:func:`crisis_queue`).

    Raises :class:`RoutingError` when the crisis names a queue the configuration lacks, or
    closes a queue another open queue still overflows to.
    """
    known = {q.id for q in config.queues}
    unknown = sorted(set(crisis.close_queues) - known)
    if unknown:
        raise RoutingError(f"crisis mode closes unknown queue(s): {', '.join(unknown)}")
    queues = tuple(crisis_queue(q, crisis) for q in config.queues)
    return replace(config, queues=queues)
