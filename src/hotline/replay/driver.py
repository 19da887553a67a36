"""The replay driver: what happened before, fed again through the real routing engine.

DESIGN.md's third driver. Where the live driver takes what callers and agents do now and the
simulator makes it up, replay takes it from a record, and asks the same engine
(:class:`~hotline.routing.engine.RoutingEngine`) what it makes of it. Two records can be
replayed:

* **a command log** — the timestamped commands a driver sent (:func:`replay`): fed in order,
  then the engine's own timers run out; the result is the contact event log the engine writes
  for them. Tests use it to drive the engine from a script, and a logged session can be
  re-run after a change to the routing rules to see what would have been decided.
* **historical contacts** — contact records from any ACD's export (METRICS.md), as a *trace*
  of :class:`TraceContact` (made by :func:`hotline.sim.fit.replay_scenario`). Each comes back
  at its real queueing time, with its real handle time, and a patience that is exactly its
  real wait if it abandoned, and *longer* than its real wait if it was answered (a censored
  observation). :class:`TraceReplay` turns the trace into the engine's commands; the
  simulator (:class:`~hotline.sim.driver.Simulation`) supplies the clock, the fitted staff and
  the conversations around it, so ``hotline simulate --fit-from FILE --replay`` shows how the
  real traffic would have fared under other routing rules or staffing.

Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hotline.core.events import Channel, Event
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import Command, ContactQueued


def replay(
    engine: RoutingEngine, commands: Iterable[Command], *, settle_s: float = 86_400.0
) -> list[Event]:
    """Feed commands in order, then run the timers due within ``settle_s`` of the last one.

    The bound matters: a caller who waits with nobody to serve them hears a position
    announcement every period for ever, so "run until no timer is left" need not end.
    Returns the whole event log.

    >>> from hotline.routing.model import QueueConfig, RoutingConfig, ContactQueued
    >>> log = replay(RoutingEngine(RoutingConfig(queues=(QueueConfig("q"),))),
    ...              [ContactQueued(at=0.0, contact_id="c1", queue="q")])
    >>> [e.kind.value for e in log]
    ['arrived', 'queued']
    """
    events: list[Event] = []
    for command in commands:
        events.extend(engine.handle(command).events)
    until = engine.now + settle_s
    deadline = engine.next_deadline()
    while deadline is not None and deadline <= until:
        events.extend(engine.advance(deadline).events)
        deadline = engine.next_deadline()
    return events


@dataclass(frozen=True, slots=True)
class TraceContact:
    """One historical contact to replay through the engine (trace-driven simulation).

    ``handle_s`` is its real talk + hold + wrap (``None``: never answered, drawn from the
    queue's distribution if the replay answers it). A contact that abandoned after
    ``waited_s`` had exactly that patience; one that was answered after ``waited_s`` had a
    patience longer than that (censored), drawn from the queue's patience beyond it.
    """

    at: float
    queue: str
    channel: Channel
    handle_s: float | None
    waited_s: float
    abandoned: bool
    priority: int | None = None

    def patience_s(self, beyond: Callable[[float], float]) -> float:
        """The caller's patience: their real wait if they gave up, else ``beyond(waited_s)``.

        >>> TraceContact(0.0, "q", Channel.VOICE, None, 40.0, abandoned=True).patience_s(abs)
        40.0
        >>> answered = TraceContact(0.0, "q", Channel.VOICE, 90.0, 30.0, abandoned=False)
        >>> answered.patience_s(lambda waited: waited + 100.0)
        130.0
        """
        return self.waited_s if self.abandoned else beyond(self.waited_s)


class ReplayedArrival:
    """A historical contact arriving again: the engine's command, its handle time, patience."""

    __slots__ = ("command", "handle_s", "patience_s")

    def __init__(self, command: ContactQueued, handle_s: float, patience_s: float) -> None:
        self.command = command
        self.handle_s = handle_s
        self.patience_s = patience_s


class TraceReplay:
    """Recorded contacts arriving again, in the order they queued.

    The driver that carries the replay (its clock, its agents) asks :meth:`at` when the next
    one is due and :meth:`arrival` for it then; ``handle`` draws a handle time for a contact
    the history never answered and ``beyond`` a patience longer than a censored wait, both
    by queue — the driver's fitted distributions and random streams.

    >>> trace = [TraceContact(100.0, "q", Channel.VOICE, 60.0, 5.0, abandoned=False),
    ...          TraceContact(130.0, "q", Channel.CHAT, None, 20.0, abandoned=True)]
    >>> replayed = TraceReplay(trace)
    >>> len(replayed), replayed.at(1)
    (2, 130.0)
    >>> second = replayed.arrival(1, "c2", handle=lambda q: 300.0, beyond=lambda q, w: w)
    >>> second.command.channel.value, second.handle_s, second.patience_s
    ('chat', 300.0, 20.0)
    """

    def __init__(self, trace: Sequence[TraceContact]) -> None:
        self.trace = tuple(trace)

    def __len__(self) -> int:
        return len(self.trace)

    def at(self, index: int) -> float:
        """When the ``index``-th recorded contact queued."""
        return self.trace[index].at

    def arrival(
        self,
        index: int,
        contact_id: str,
        *,
        handle: Callable[[str], float],
        beyond: Callable[[str, float], float],
    ) -> ReplayedArrival:
        """The ``index``-th recorded contact arriving again as ``contact_id``, at its time.

        Its handle time is the recorded one, else ``handle(queue)``; then its patience (see
        :meth:`TraceContact.patience_s`) — in that order, so the driver's random streams are
        drawn the same way every run.
        """
        contact = self.trace[index]
        handle_s = contact.handle_s if contact.handle_s is not None else handle(contact.queue)
        patience_s = contact.patience_s(lambda waited: beyond(contact.queue, waited))
        command = ContactQueued(
            at=contact.at,
            contact_id=contact_id,
            queue=contact.queue,
            channel=contact.channel,
            priority=contact.priority,
        )
        return ReplayedArrival(command, handle_s, patience_s)
