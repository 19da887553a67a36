"""Crisis mode in routing terms: the center's queues as they run while the mode is on.

:class:`hotline.config.crisis.CrisisConfig` says which non-urgent queues close and after how
long a waiting caller is released with a callback; :func:`crisis_routing` turns that into queue
rules the engine already knows — a closed queue gets a calendar that is never open (its
callers hear the closed message and leave unqueued), every other queue gets a first overflow
rule "wait exceeds N s → callback in this queue" (the callback keeps the caller's place)
and, with the section's ``overflow``, "N callers waiting → forward a new caller to the
partner's number through the trunk". Everything else stays as configured. The live center
applies the same rules to the queues in force when the mode is switched
(:meth:`~hotline.routing.engine.RoutingEngine.change_queue_rules`), so the simulated effect
(``bench/crisis.py``) is what the live center does. When the center switches the mode by
itself is decided here too (:func:`watch_switch`). Pure: no I/O.

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

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hotline.config.crisis import CrisisConfig, CrisisSwitchRule
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
    first: list[OverflowRule] = []
    if crisis.overflow is not None:
        # Past the bound a new caller goes to the partner through the trunk.
        first.append(
            OverflowRule(
                OverflowCondition.QUEUE_LENGTH_EXCEEDS,
                OverflowAction.FORWARD,
                crisis.overflow.queue_longer_than,
                number=crisis.overflow.number,
            )
        )
    if crisis.callback_after_s is not None:
        first.append(
            OverflowRule(
                OverflowCondition.WAIT_EXCEEDS,
                OverflowAction.CALLBACK,
                crisis.callback_after_s,
                queue.id,
            )
        )
    if not first:
        return queue
    # Tried first: a caller is offered the callback (or forwarded) before any later rule
    # sends them on.
    return replace(queue, overflow=(*first, *queue.overflow))


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


# ---------------------------------------------------------------------- switching by rule


@dataclass(frozen=True)
class QueueReading:
    """One queue as the rule reads it: callers waiting now, service level this interval
    (``None`` while nothing was offered in the interval)."""

    queue: str
    waiting: int
    service_level: float | None


@dataclass(frozen=True)
class SwitchWatch:
    """What the rule has seen so far: since when its condition has held, or been clear."""

    held_since: float | None = None
    clear_since: float | None = None


@dataclass(frozen=True)
class SwitchDecision:
    """The rule's verdict at one reading: ``switch_to`` is ``True`` (on), ``False`` (off) or
    ``None`` (leave the mode as it is); ``why`` says what held (or that it cleared)."""

    watch: SwitchWatch
    switch_to: bool | None
    why: str


def crisis_condition(rule: CrisisSwitchRule, readings: Sequence[QueueReading]) -> str | None:
    """What makes the condition hold now, in words, or ``None`` when it does not.

    >>> rule = CrisisSwitchRule(queue_longer_than=20, service_level_below=0.5)
    >>> crisis_condition(rule, [QueueReading("repair", 21, 0.9)])
    'queue repair: 21 waiting, more than 20'
    >>> crisis_condition(rule, [QueueReading("repair", 3, 0.4)])
    'queue repair: service level 40% below 50%'
    >>> crisis_condition(rule, [QueueReading("repair", 20, None)]) is None
    True
    """
    for reading in readings:
        if rule.queue_longer_than is not None and reading.waiting > rule.queue_longer_than:
            return (
                f"queue {reading.queue}: {reading.waiting} waiting, "
                f"more than {rule.queue_longer_than}"
            )
        level, below = reading.service_level, rule.service_level_below
        if below is not None and level is not None and level < below:
            return f"queue {reading.queue}: service level {level:.0%} below {below:.0%}"
    return None


def watch_switch(
    rule: CrisisSwitchRule,
    watch: SwitchWatch,
    *,
    on: bool,
    now: float,
    readings: Sequence[QueueReading],
) -> SwitchDecision:
    """One reading of the rule: switch on once the condition has held ``for_minutes``; with
    ``switch_off``, switch off once it has been clear as long. Pure; the caller keeps
    ``watch`` between readings (and starts a fresh one whenever someone switches by hand, so
    the rule never undoes a supervisor's switch at once).

    >>> rule = CrisisSwitchRule(queue_longer_than=20, for_minutes=5, switch_off=True)
    >>> long = [QueueReading("repair", 30, None)]
    >>> first = watch_switch(rule, SwitchWatch(), on=False, now=0.0, readings=long)
    >>> first.switch_to, first.watch
    (None, SwitchWatch(held_since=0.0, clear_since=None))
    >>> watch_switch(rule, first.watch, on=False, now=300.0, readings=long).switch_to
    True
    """
    why = crisis_condition(rule, readings)
    hold_s = rule.for_minutes * 60
    if why is not None:
        held_since = watch.held_since if watch.held_since is not None else now
        switch = True if not on and now - held_since >= hold_s else None
        return SwitchDecision(SwitchWatch(held_since=held_since), switch, why)
    clear_since = watch.clear_since if watch.clear_since is not None else now
    switch_off = on and rule.switch_off and now - clear_since >= hold_s
    return SwitchDecision(
        SwitchWatch(clear_since=clear_since), False if switch_off else None, "condition cleared"
    )
