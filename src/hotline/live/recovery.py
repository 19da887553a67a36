"""Closing the contacts a stopped or crashed server left open, from the contact event log.

Every contact gets exactly one ``finished`` event (METRICS.md). A server that crashes (or is
killed) with callers queued, ringing or talking leaves their contacts open in the log: they
would vanish from reports, and the log would still show their agents on a call. The routing
engine lives in memory, and a SIP call does not outlive the voice server's process, so after
a restart those contacts cannot be resumed: they are closed.

On start, and again on a graceful stop after the last events are written, the live driver
asks the log (:func:`open_work`) for

* every live contact without a ``finished`` event: it gets a ``disconnected`` event if an
  agent was still talking to it, then ``finished`` with outcome
  :attr:`~hotline.core.events.Outcome.INTERRUPTED` and the ``reason`` (``crash`` when found
  on start, ``shutdown`` on a graceful stop) — reports count them (``interrupted``);
* every agent whose last logged state is not ``logged_out``: an ``agent_state`` event logs
  them out, as the new engine (which starts with nobody signed in) sees them; they sign in
  again from the desk.

:func:`closing_events` is the pure rule; :func:`recover` reads the log, writes the closing
events in one transaction and returns them. Running it twice writes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind, Outcome
from hotline.store.db import writing
from hotline.store.event_log import EVENT_COLUMNS, append
from hotline.store.models.core import ContactEventRow

#: Why a contact was interrupted: found open when the server started, or open when it stopped.
CRASH = "crash"
SHUTDOWN = "shutdown"

_LOGGED_OUT = "logged_out"


@dataclass(frozen=True)
class OpenWork:
    """What the log shows in progress: open contacts' events and agents still signed in."""

    contact_events: list[Event]
    agent_states: dict[str, Event]
    last_at: float


def closing_events(work: OpenWork, *, at: float, reason: str) -> list[Event]:
    """The events that close every open contact and sign out every signed-in agent.

    Events are numbered 0; the log that writes them renumbers them.

    >>> opened = [Event(1, 10.0, EventKind.QUEUED, "c1", queue="repair"),
    ...           Event(2, 12.0, EventKind.ANSWERED, "c1", agent_id="a1", queue="repair"),
    ...           Event(3, 11.0, EventKind.QUEUED, "c2", queue="sales")]
    >>> states = {"a1": Event(4, 12.0, EventKind.AGENT_STATE, agent_id="a1",
    ...                       data={"state": "on_contact"})}
    >>> [(e.kind.value, e.contact_id or e.agent_id, dict(e.data))
    ...  for e in closing_events(OpenWork(opened, states, 12.0), at=20.0, reason="crash")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('disconnected', 'c1', {'reason': 'crash'}),
     ('finished', 'c1', {'outcome': 'interrupted', 'reason': 'crash'}),
     ('finished', 'c2', {'outcome': 'interrupted', 'reason': 'crash'}),
     ('agent_state', 'a1', {'state': 'logged_out', 'previous': 'on_contact',
                            'reason': 'crash'})]
    """
    out: list[Event] = []
    for contact in _fold_open(work.contact_events):
        out += interrupted(
            contact.contact_id,
            at=at,
            queue=contact.queue,
            channel=contact.channel,
            talking_to=contact.talking_to,
            data={"reason": reason},
        )
    for agent_id, last in sorted(work.agent_states.items()):
        state = str(last.data.get("state", _LOGGED_OUT))
        if state == _LOGGED_OUT:
            continue
        out.append(
            Event(
                0,
                at,
                EventKind.AGENT_STATE,
                agent_id=agent_id,
                data={"state": _LOGGED_OUT, "previous": state, "reason": reason},
            )
        )
    return out


def interrupted(
    contact_id: str,
    *,
    at: float,
    queue: str | None,
    channel: Channel | None,
    talking_to: str | None,
    data: Mapping[str, Any],
) -> list[Event]:
    """The platform ends a contact: ``disconnected`` from the agent still talking to it (if
    any), then ``finished`` with outcome ``interrupted``; both carry ``data`` (the reason).

    >>> [(e.kind.value, dict(e.data)) for e in interrupted(
    ...     "c1", at=5.0, queue="q", channel=None, talking_to=None, data={"reason": "crash"})]
    [('finished', {'outcome': 'interrupted', 'reason': 'crash'})]
    """
    out: list[Event] = []
    if talking_to is not None:
        out.append(
            Event(
                0,
                at,
                EventKind.DISCONNECTED,
                contact_id,
                agent_id=talking_to,
                queue=queue,
                channel=channel,
                data=data,
            )
        )
    out.append(
        Event(
            0,
            at,
            EventKind.FINISHED,
            contact_id,
            queue=queue,
            channel=channel,
            data={"outcome": Outcome.INTERRUPTED.value, **data},
        )
    )
    return out


@dataclass
class _OpenContact:
    contact_id: str
    queue: str | None = None
    channel: Channel | None = None
    talking_to: str | None = None


def _fold_open(events: Iterable[Event]) -> Iterator[_OpenContact]:
    """Each open contact's queue, channel and the agent still connected to it, if any."""
    contacts: dict[str, _OpenContact] = {}
    for event in sorted(events, key=lambda e: (e.at, e.seq)):
        if event.contact_id is None:
            continue
        contact = contacts.setdefault(event.contact_id, _OpenContact(event.contact_id))
        if event.queue is not None:
            contact.queue = event.queue
        if event.channel is not None:
            contact.channel = event.channel
        if event.kind is EventKind.ANSWERED and event.agent_id:
            contact.talking_to = event.agent_id
        elif event.kind in (EventKind.TRANSFERRED, EventKind.DISCONNECTED):
            # A transfer hands the contact on: it is answered anew by whoever takes it.
            contact.talking_to = None
    yield from contacts.values()


def event_of(row: Row[Any]) -> Event:
    """The :class:`Event` of one ``contact_events`` row read with :data:`COLUMNS`."""
    return Event(
        seq=row.seq,
        at=row.at,
        kind=EventKind(row.kind),
        contact_id=row.contact_id,
        agent_id=row.agent_id,
        queue=row.queue,
        channel=Channel(row.channel) if row.channel else None,
        data=row.data or {},
    )


#: The ``contact_events`` columns an :class:`Event` is read from.
COLUMNS = EVENT_COLUMNS


def open_work(session: Session, *, source: str = "live") -> OpenWork:
    """Read from the log the contacts without a ``finished`` event and agents' last states."""
    live = ContactEventRow.source == source
    finished = select(ContactEventRow.contact_id).where(
        live, ContactEventRow.kind == EventKind.FINISHED.value
    )
    unfinished = (
        select(ContactEventRow.contact_id)
        .where(live, ContactEventRow.contact_id.is_not(None))
        .except_(finished)
    )
    contact_rows = session.execute(
        select(*COLUMNS)
        .where(live, ContactEventRow.contact_id.in_(unfinished))
        .order_by(ContactEventRow.at, ContactEventRow.seq)
    ).all()
    is_state = and_(live, ContactEventRow.kind == EventKind.AGENT_STATE.value)
    latest = (
        select(func.max(ContactEventRow.id))
        .where(is_state, ContactEventRow.agent_id.is_not(None))
        .group_by(ContactEventRow.agent_id)
    )
    state_rows = session.execute(select(*COLUMNS).where(ContactEventRow.id.in_(latest))).all()
    last_at = session.scalar(select(func.max(ContactEventRow.at)).where(live)) or 0.0
    return OpenWork(
        contact_events=[event_of(row) for row in contact_rows],
        agent_states={str(row.agent_id): event_of(row) for row in state_rows},
        last_at=float(last_at),
    )


def recover(
    session_factory: sessionmaker[Session],
    *,
    now: float,
    reason: str,
    first_seq: int,
    source: str = "live",
) -> list[Event]:
    """Close in the log whatever it shows in progress; return the events written.

    The closing events are stamped no earlier than the log's last event (a clock stepped
    back must not put an ending before its contact's start) and numbered from ``first_seq``.
    """
    with writing(session_factory()) as session:
        work = open_work(session, source=source)
        at = max(now, work.last_at)
        events = [
            event.renumbered(first_seq + n)
            for n, event in enumerate(closing_events(work, at=at, reason=reason))
        ]
        append(session, events, source=source)
        session.commit()
    return events


def events_since(
    session_factory: sessionmaker[Session], *, since: float, source: str = "live"
) -> list[Event]:
    """The live log from ``since`` on, in order (the wallboard rebuilds today from it)."""
    with session_factory() as session:
        rows = session.execute(
            select(*COLUMNS)
            .where(ContactEventRow.source == source, ContactEventRow.at >= since)
            .order_by(ContactEventRow.at, ContactEventRow.seq)
        ).all()
    return [event_of(row) for row in rows]
