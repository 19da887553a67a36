"""Call backs promised and not yet due, as the contact event log keeps them (pure).

A call back promised at the desk (or by the chat bot) waits until its time, then becomes a
contact (channel ``callback``, its id the callback's). The owner's live driver keeps the timer;
the *promise* is logged as a ``callback_promised`` event in the same batches (and, for one
that came through the partition inbox, in the same fenced transaction as the inbox position),
so it outlives the process that keeps it:

* a new owner (:mod:`hotline.live.takeover`) and a one-node restart read the promises whose
  call back has not yet arrived (:func:`hotline.live.callbacks.read_pending`) and keep them
  until due (at once when the time passed meanwhile);
* a call back *fires* by its contact's first event (``arrived``, contact id = callback id):
  one whose contact is in the log is never fired again, so it fires once across a takeover —
  a firing the old owner never committed reached no one, and the new owner fires it;
* a web node's board folds the same events (:class:`Promises`, in
  :class:`hotline.live.log_floor.LogFloor`) and lists each agent's promises on the desk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hotline.core.events import Event, EventKind

#: ``requested_by`` of a call back a chat's customer asked for (no agent promised it).
BY_CUSTOMER = "customer"

#: What a promise carries (the desk's ``PromisedCallback`` and the driver's timer).
FIELDS = ("callback_id", "queue", "due_at", "customer", "requested_by", "note", "for_contact")


def promise_event(entry: Mapping[str, Any], *, at: float, case_id: str | None) -> Event:
    """The ``callback_promised`` event of a promise (numbered 0: the log numbers it).

    >>> e = promise_event({"callback_id": "cb1", "queue": "q", "due_at": 70.0,
    ...                    "customer": "138", "requested_by": "a1", "note": "",
    ...                    "for_contact": "c1"}, at=10.0, case_id="c1")
    >>> e.kind.value, e.contact_id, e.agent_id, e.data["callback_id"], e.data["case_id"]
    ('callback_promised', None, 'a1', 'cb1', 'c1')
    """
    data: dict[str, Any] = {name: entry.get(name) for name in FIELDS}
    data["case_id"] = case_id
    # No contact id: the promise is not a contact (recovery must not close it, a takeover
    # must not resume it); the call back's own contact is its firing. The agent who promised
    # it (not a chat's customer) is named, so their desk's stream hears of it.
    by = entry.get("requested_by")
    agent_id = str(by) if by and by != BY_CUSTOMER else None
    return Event(0, at, EventKind.CALLBACK_PROMISED, agent_id=agent_id, data=data)


def entry_of(event: Event) -> dict[str, Any]:
    """The desk's entry of a logged promise (as ``LiveDriver.schedule_callback`` returns it).

    >>> entry_of(promise_event({"callback_id": "cb1", "queue": "q", "due_at": 70,
    ...                         "requested_by": "a1"}, at=1.0, case_id=None))["due_at"]
    70.0
    """
    entry = {name: event.data.get(name) for name in FIELDS}
    entry["due_at"] = float(entry["due_at"] or 0.0)
    entry["note"] = str(entry["note"] or "")
    return entry


class Promises:
    """The promises a log shows not yet fired, folded one event at a time (a web node's desk).

    >>> p = Promises()
    >>> p.record(promise_event({"callback_id": "cb1", "queue": "q", "due_at": 9.0,
    ...                         "requested_by": "a1"}, at=1.0, case_id=None))
    >>> list(p.pending)
    ['cb1']
    >>> p.record(Event(5, 9.0, EventKind.ARRIVED, "cb1", queue="q"))
    >>> p.pending
    {}
    """

    def __init__(self) -> None:
        #: Each promise not yet fired, by callback id (the desk view's ``callbacks``).
        self.pending: dict[str, dict[str, Any]] = {}

    def record(self, event: Event) -> None:
        """Fold one logged event (in log order: a promise comes before its firing)."""
        if event.kind is EventKind.CALLBACK_PROMISED:
            entry = entry_of(event)
            self.pending[str(entry["callback_id"])] = entry
        elif event.contact_id is not None:
            self.pending.pop(event.contact_id, None)


def unfired(promises: Iterable[Event], fired: Iterable[str]) -> list[Event]:
    """The promises whose call back has not fired (a promise logged twice is kept once).

    >>> made = promise_event({"callback_id": "cb1", "queue": "q", "due_at": 9.0,
    ...                       "requested_by": "a1"}, at=1.0, case_id="c0")
    >>> [e.data["case_id"] for e in unfired([made, made], fired=[])], unfired([made], ["cb1"])
    (['c0'], [])
    """
    done = set(fired)
    out = []
    for event in promises:
        callback_id = str(event.data.get("callback_id"))
        if callback_id not in done:
            done.add(callback_id)
            out.append(event)
    return out
