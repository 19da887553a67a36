"""The routing engine's timer heap: what falls due when, in a repeatable order.

The engine never reads a clock (:mod:`hotline.routing.engine`): a ring-no-answer, a wrap-up, a
contact reaching a wider ageing ring, an overflow after a wait and a position announcement are
*timers* it keeps here, and they fire when a driver moves time forward. Timers due at the same
instant fire in the order they were set (a sequence number breaks ties, as SimPy's event
queue does), except that contacts ageing at one instant reach their wider ring in the order
they wait in the queue (:meth:`TimerHeap.due_together`).

Cancelling is lazy: a cancelled timer stays in the heap, marked, until it reaches the top —
cheaper than removing it, since most timers (a ring timer on an answered call, the ageing
timers of a contact answered early) are cancelled. The heap is rebuilt once cancelled timers
make up most of it, so long wrap-up timers ended early do not pile up. Pure: no I/O.

>>> heap = TimerHeap()
>>> first = heap.set(_Timer(30.0, "wrap", None, None))
>>> second = heap.set(_Timer(20.0, "ring", None, None))
>>> heap.next_deadline()
20.0
>>> heap.cancel(second)
>>> heap.next_deadline(), len(heap)
(30.0, 1)
"""

from __future__ import annotations

import heapq

from hotline.routing.state import _Timer

#: Cancelled timers the heap tolerates before it considers a rebuild (see TimerHeap.cancel).
_STALE_REBUILD = 64


def _age_order(timer: _Timer) -> tuple[int, float, int]:
    """Where a contact waits in its queue: higher class first, then credited start, arrival."""
    contact = timer.contact
    assert contact is not None
    return (-contact.cls, contact.credited_at, contact.seq)


class TimerHeap:
    """The engine's pending timers: ``(deadline, sequence number, timer)`` in a binary heap.

    ``entries`` is the heap itself: the engine's hot path looks at ``entries[0][0]`` (is
    anything due before this command?) without a call.
    """

    __slots__ = ("entries", "seq", "stale")

    def __init__(self) -> None:
        self.entries: list[tuple[float, int, _Timer]] = []
        self.seq = 0
        self.stale = 0  # cancelled timers still in the heap

    def __len__(self) -> int:
        return len(self.entries)

    def set(self, timer: _Timer) -> _Timer:
        """Schedule ``timer`` at its deadline, after any timer already set for that instant."""
        self.seq += 1
        heapq.heappush(self.entries, (timer.deadline, self.seq, timer))
        return timer

    def next_deadline(self) -> float | None:
        """When the next live timer is due (``None`` when nothing is scheduled)."""
        entries = self.entries
        while entries and entries[0][2].cancelled:
            heapq.heappop(entries)
            self.stale -= 1
        return entries[0][0] if entries else None

    def pop(self) -> _Timer | None:
        """Take the earliest timer off the heap; ``None`` if it had been cancelled."""
        timer = heapq.heappop(self.entries)[2]
        if timer.cancelled:
            self.stale -= 1
            return None
        return timer

    def due_together(self, deadline: float, first: _Timer) -> list[_Timer]:
        """``first`` and every other timer due at ``deadline``, taken off the heap in firing
        order: contacts reaching a wider ring in queue order, after the other timers.

        Contacts that age at the same instant are offered the agents their new ring reaches
        in the order they wait in the queue (class, credited start, arrival), not in the order
        their timers happened to be armed: a contact returned to the queue after a ring
        timeout re-arms its timers later than those who arrived after it. A timer in the batch
        may be cancelled by one fired before it: the caller checks ``cancelled`` and counts it
        with :meth:`forget_cancelled`.
        """
        entries = self.entries
        batch = [first]
        while entries and entries[0][0] == deadline:
            batch.append(heapq.heappop(entries)[2])
        ages = [t for t in batch if t.kind == "age" and t.contact is not None]
        others = [t for t in batch if t.kind != "age" or t.contact is None]
        ages.sort(key=_age_order)
        return others + ages

    def forget_cancelled(self) -> None:
        """A cancelled timer left the heap outside :meth:`pop` (see :meth:`due_together`)."""
        self.stale = max(0, self.stale - 1)

    def cancel(self, timer: _Timer) -> None:
        """Cancel a timer; rebuild the heap once cancelled timers make up most of it.

        Cancelled timers leave the heap lazily, when they reach its top; a long wrap-up timer
        ended early by the agent would otherwise sit there (with its contact) for its full
        length, and the garbage collector would keep scanning it.
        """
        if timer.cancelled:
            return
        timer.cancelled = True
        self.stale += 1
        entries = self.entries
        if self.stale > _STALE_REBUILD and 2 * self.stale > len(entries):
            entries[:] = [entry for entry in entries if not entry[2].cancelled]
            heapq.heapify(entries)
            self.stale = 0
