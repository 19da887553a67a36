"""Taking over a routing partition: the engine state rebuilt from the contact event log.

When the node that owned a partition dies (or is cut off and loses its lease), the next owner
starts a fresh routing engine. Closing what the log shows in progress (as a restart on one
node does, :mod:`hotline.live.recovery`) would drop every caller waiting; a takeover instead
*resumes* it:

* agents signed in keep their presence (ready, or not ready with their reason code);
* a contact an agent was talking to stays theirs, a contact in wrap-up stays in wrap-up — it
  is not offered again, so nothing is routed twice;
* contacts waiting keep waiting, in their queue and in their arrival order; one that was
  ringing when the owner died rings anew — offered first to the agent it was ringing at
  (for :data:`RING_AGAIN_S`, if they are signed in and ready), so an answer given in the gap
  (the phone still rang on its voice node) meets the same offer and is accepted; an answer to
  an offer the new engine did not make is refused and the contact is offered again.

:func:`fold` is the pure rule (log → :class:`PartitionState`); :func:`read_state` reads the
log; :func:`restore` drives the new engine there. The engine only takes commands, so the
state is reached by *playing* the commands that lead to it, silently — their events are
already in the log — before the agents' real presence is applied (which may route the waiting
contacts: those offers are real and logged).

Not carried over: ageing and overflow timers restart at the takeover, a restored wrap-up
runs its full time again, holds and consultations resume as plain conversations, and a
contact's priority is the queue's default.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind
from hotline.live import callbacks, recovery
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgentLoggedIn,
    AgentNotReady,
    AgentReady,
    Command,
    ContactEnded,
    ContactQueued,
    OfferAnswered,
    RoutingConflict,
)
from hotline.store import event_log
from hotline.store.models.core import ContactEventRow

log = logging.getLogger(__name__)

#: The reason code agents hold while the engine is being restored (never logged).
RESTORING = "takeover"

_PRESENCE = {"available": True, "not_ready": False}
_IN_HAND = {"talking", "wrap_up"}

#: How long a contact that was ringing at an agent when the owner died is offered to that
#: agent alone by the new owner (then to anyone eligible, keeping its place; at once if the
#: agent declines or the phone goes away).
RING_AGAIN_S = 5.0


@dataclass(frozen=True)
class AgentPresence:
    """An agent signed in: ready, or not ready with a reason code."""

    agent_id: str
    ready: bool
    reason: str | None = None


@dataclass
class OpenContact:
    """A contact the log shows in progress: waiting, or in an agent's hands."""

    contact_id: str
    queue: str | None = None
    channel: Channel | None = None
    customer: str | None = None
    #: ``waiting``, ``talking`` or ``wrap_up``.
    stage: str = "waiting"
    agent_id: str | None = None
    #: When it entered its queue, or reached its agent (the order it is restored in).
    since: float = 0.0
    #: The agent it was ringing at when the log ends (a waiting contact's open offer).
    ringing: str | None = None


@dataclass(frozen=True)
class PartitionState:
    """What a new owner resumes: agents signed in, contacts in hand and contacts waiting."""

    agents: list[AgentPresence] = field(default_factory=list)
    in_hand: list[OpenContact] = field(default_factory=list)
    waiting: list[OpenContact] = field(default_factory=list)
    #: The highest event number in the log: the new owner numbers on from there.
    last_seq: int = 0
    #: The log's last crisis switch (``crisis`` event), which the new owner keeps in force.
    crisis: Event | None = None
    #: The call backs promised and not yet fired (:func:`hotline.live.callbacks.read_pending`:
    #: each entry and the case it continues), which the new owner keeps until due.
    callbacks: list[tuple[dict[str, Any], Any]] = field(default_factory=list)


def fold(
    contact_events: Iterable[Event], agent_events: Mapping[str, Iterable[Event]], last_seq: int = 0
) -> PartitionState:
    """The state a partition's log describes.

    ``contact_events`` are the events of the contacts without a ``finished`` event;
    ``agent_events`` each agent's ``agent_state`` events, newest first (only as many as it
    takes to find their presence). The newest event that says the agent's presence decides
    it: ``available``, ``not_ready`` (with its reason), or a working state whose data says
    ``ready`` (an agent made ready while a contact waited is offered it at once: the log
    shows ``reserved`` after ``not_ready``, never ``available``). An older log's working
    states say nothing, and are passed over as before.

    >>> events = [Event(1, 1.0, EventKind.ARRIVED, "c1", queue="q", data={"customer": "138"}),
    ...           Event(2, 1.0, EventKind.QUEUED, "c1", queue="q"),
    ...           Event(3, 2.0, EventKind.OFFERED, "c1", agent_id="a1", queue="q"),
    ...           Event(4, 3.0, EventKind.ANSWERED, "c1", agent_id="a1", queue="q"),
    ...           Event(5, 4.0, EventKind.QUEUED, "c2", queue="q"),
    ...           Event(6, 5.0, EventKind.OFFERED, "c2", agent_id="a2", queue="q")]
    >>> agents = {"a1": [Event(7, 3.0, EventKind.AGENT_STATE, agent_id="a1",
    ...                        data={"state": "on_contact"}),
    ...                  Event(8, 0.5, EventKind.AGENT_STATE, agent_id="a1",
    ...                        data={"state": "available"})],
    ...           "a2": [Event(9, 0.5, EventKind.AGENT_STATE, agent_id="a2",
    ...                        data={"state": "not_ready", "reason": "lunch"})]}
    >>> state = fold(events, agents)
    >>> [(c.contact_id, c.stage, c.agent_id, c.customer) for c in state.in_hand]
    [('c1', 'talking', 'a1', '138')]
    >>> [(c.contact_id, c.stage, c.ringing) for c in state.waiting]
    [('c2', 'waiting', 'a2')]
    >>> state.agents  # doctest: +NORMALIZE_WHITESPACE
    [AgentPresence(agent_id='a1', ready=True, reason=None),
     AgentPresence(agent_id='a2', ready=False, reason='lunch')]
    """
    contacts: dict[str, OpenContact] = {}
    for event in sorted(contact_events, key=lambda e: (e.at, e.seq)):
        if event.contact_id is None:
            continue
        contact = contacts.get(event.contact_id)
        if contact is None:
            contact = contacts[event.contact_id] = OpenContact(event.contact_id, since=event.at)
            contact.stage = ""  # not yet in a queue (an IVR step, an arrival)
        if event.queue is not None:
            contact.queue = event.queue
        if event.channel is not None:
            contact.channel = event.channel
        if event.kind is EventKind.ARRIVED and event.data.get("customer"):
            contact.customer = str(event.data["customer"])
        if event.kind in (EventKind.QUEUED, EventKind.TRANSFERRED, EventKind.OVERFLOWED):
            if event.kind is not EventKind.OVERFLOWED:  # an overflow keeps the place
                contact.since = event.at
            contact.stage, contact.agent_id, contact.ringing = "waiting", None, None
        elif event.kind in (EventKind.RING_NO_ANSWER, EventKind.OFFERED):
            if contact.stage not in _IN_HAND:
                contact.stage, contact.agent_id = "waiting", None
                contact.ringing = event.agent_id if event.kind is EventKind.OFFERED else None
        elif event.kind is EventKind.ANSWERED and event.agent_id:
            contact.stage, contact.agent_id, contact.since = "talking", event.agent_id, event.at
        elif event.kind is EventKind.DISCONNECTED and contact.stage == "talking":
            contact.stage = "wrap_up"
        elif event.kind is EventKind.ABANDONED:
            contact.stage = "gone"
    in_hand = sorted(
        (c for c in contacts.values() if c.stage in _IN_HAND and c.queue is not None),
        key=lambda c: (c.since, c.contact_id),
    )
    waiting = sorted(
        (c for c in contacts.values() if c.stage == "waiting" and c.queue is not None),
        key=lambda c: (c.since, c.contact_id),
    )
    agents: list[AgentPresence] = []
    for agent_id, newest in sorted(agent_events.items()):
        newest_first = list(newest)
        if not newest_first or newest_first[0].data.get("state") == "logged_out":
            continue
        agents.append(_presence(agent_id, newest_first))
    return PartitionState(agents, in_hand, waiting, last_seq)


def _says_ready(event: Event) -> bool | None:
    """The presence an ``agent_state`` event says, or None where it says none.

    ``available`` and ``not_ready`` say it; so does a working state (``reserved``,
    ``on_contact``, ``wrap_up``…) whose data carries ``ready`` — the engine has written it
    since an agent made ready straight into an offer showed no ``available`` in between.
    """
    state = event.data.get("state")
    if state in _PRESENCE:
        return _PRESENCE[str(state)]
    ready = event.data.get("ready")
    return ready if isinstance(ready, bool) else None


def _presence(agent_id: str, newest_first: list[Event]) -> AgentPresence:
    """The newest event that says the agent's presence decides it (see :func:`fold`)."""
    for i, event in enumerate(newest_first):
        ready = _says_ready(event)
        if ready is None:
            continue
        if ready:
            return AgentPresence(agent_id, True)
        # Not ready: the reason is on the ``not_ready`` event that began it (a working
        # state's event carries none), unless an event saying ready comes between.
        for earlier in newest_first[i:]:
            if _says_ready(earlier):
                break
            if earlier.data.get("state") == "not_ready":
                reason = earlier.data.get("reason")
                return AgentPresence(agent_id, False, str(reason) if reason else None)
        return AgentPresence(agent_id, False)
    # Signed in and busy since before anything says otherwise: they took contacts, so they
    # were ready.
    return AgentPresence(agent_id, True)


#: How many of an agent's newest state events are read to find their presence.
_PRESENCE_LOOKBACK = 50


def read_state(session_factory: sessionmaker[Session], *, source: str = "live") -> PartitionState:
    """Read the log and fold it (blocking: call it in a thread)."""
    with session_factory() as session:
        work = recovery.open_work(session, source=source)
        agent_events: dict[str, list[Event]] = {}
        for agent_id, latest in work.agent_states.items():
            if (
                latest.data.get("state") in _PRESENCE
                or latest.data.get("state") == "logged_out"
                or latest.data.get("ready") is True
            ):
                agent_events[agent_id] = [latest]
                continue
            rows = session.execute(
                select(*recovery.COLUMNS)
                .where(
                    ContactEventRow.source == source,
                    ContactEventRow.kind == EventKind.AGENT_STATE.value,
                    ContactEventRow.agent_id == agent_id,
                )
                .order_by(ContactEventRow.id.desc())
                .limit(_PRESENCE_LOOKBACK)
            ).all()
            agent_events[agent_id] = [recovery.event_of(row) for row in rows]
        newest = event_log.last_seq(session, source=source)
        crisis = event_log.latest_of(session, EventKind.CRISIS, source=source)
        promised = callbacks.read_pending(session, now=work.last_at, source=source)
    # A voice node's calls are ordinary contacts of the owner's engine (the node routes
    # through the inbox and the log), so a new owner takes them up like any other.
    return replace(
        fold(work.contact_events, agent_events, newest), crisis=crisis, callbacks=promised
    )


class Resuming(Protocol):
    """The driver a takeover restores (the live driver)."""

    @property
    def engine(self) -> RoutingEngine:
        """The fresh routing engine."""

    @property
    def attached(self) -> dict[str, dict[str, Any]]:
        """Each contact's attached data."""

    @property
    def offers(self) -> dict[str, Any]:
        """The offer ringing at each agent."""

    def after_restore(self, result: Result) -> None:
        """Log, publish and carry out a real step."""


@dataclass
class RestoreReport:
    """What a takeover restored, and what it could not."""

    agents: int = 0
    in_hand: int = 0
    waiting: int = 0
    conflicts: list[str] = field(default_factory=list)


def restore(driver: Resuming, state: PartitionState, *, now: float) -> RestoreReport:
    """Bring ``driver``'s fresh engine to ``state`` (before its tasks start).

    The commands that rebuild the state are applied silently; then each agent's presence is
    applied for real, which offers waiting contacts to ready agents (logged and published).
    """
    engine = driver.engine
    report = RestoreReport()

    def silently(command: Command) -> Result | None:
        try:
            return engine.handle(command)
        except RoutingConflict as conflict:
            report.conflicts.append(str(conflict))
            log.warning("takeover: %s", conflict)
            return None

    signed_in = {a.agent_id for a in state.agents}
    for agent in state.agents:
        if (
            silently(AgentLoggedIn(at=now, agent_id=agent.agent_id, ready=False, reason=RESTORING))
            is not None
        ):
            report.agents += 1
    for contact in state.in_hand:
        assert contact.queue is not None and contact.agent_id is not None
        if contact.agent_id not in signed_in:
            # The log shows the agent signed out with a contact in hand: it cannot be resumed.
            silently(
                AgentLoggedIn(at=now, agent_id=contact.agent_id, ready=False, reason=RESTORING)
            )
            signed_in.add(contact.agent_id)
        driver.attached.setdefault(contact.contact_id, {"customer": contact.customer})
        silently(_queued(contact, now))
        silently(AgentReady(at=now, agent_id=contact.agent_id))
        answered = silently(
            OfferAnswered(at=now, contact_id=contact.contact_id, agent_id=contact.agent_id)
        )
        silently(AgentNotReady(at=now, agent_id=contact.agent_id, reason=RESTORING))
        if answered is None:
            continue  # left waiting in its queue: it will be offered again
        if contact.stage == "wrap_up":
            silently(ContactEnded(at=now, contact_id=contact.contact_id))
        report.in_hand += 1
    ready = {a.agent_id for a in state.agents if a.ready}
    for contact in state.waiting:
        driver.attached.setdefault(contact.contact_id, {"customer": contact.customer})
        # offered first to the agent whose phone (or desk) it was ringing at, if ready
        prefer = contact.ringing if contact.ringing in ready else None
        if silently(_queued(contact, now, prefer=prefer)) is not None:
            report.waiting += 1
    driver.offers.clear()
    # Now for real: agents take up their presence, and ready ones are offered contacts.
    logged = {a.agent_id: a for a in state.agents}
    for agent in state.agents:
        try:
            if agent.ready:
                result = engine.handle(AgentReady(at=now, agent_id=agent.agent_id))
            else:
                result = engine.handle(
                    AgentNotReady(at=now, agent_id=agent.agent_id, reason=agent.reason or "break")
                )
        except RoutingConflict as conflict:
            report.conflicts.append(str(conflict))
            continue
        driver.after_restore(Result(result.effects, _news(result.events, logged)))
    return report


def _queued(contact: OpenContact, now: float, *, prefer: str | None = None) -> ContactQueued:
    assert contact.queue is not None
    return ContactQueued(
        at=now,
        contact_id=contact.contact_id,
        queue=contact.queue,
        channel=contact.channel,
        log_arrival=False,
        customer=contact.customer,
        preferred_agent=prefer,
        preferred_for_s=RING_AGAIN_S if prefer else 0.0,
    )


def _news(events: list[Event], logged: Mapping[str, AgentPresence]) -> list[Event]:
    """Drop the state changes that only return an agent to what the log already shows."""
    out = []
    for event in events:
        if (
            event.kind is EventKind.AGENT_STATE
            and event.agent_id is not None
            and event.agent_id in logged
        ):
            presence = logged[event.agent_id]
            state = event.data.get("state")
            if (state == "available" and presence.ready) or (
                state == "not_ready" and not presence.ready
            ):
                continue
        out.append(event)
    return out


def describe(report: RestoreReport) -> dict[str, Any]:
    """The report as a log line's fields."""
    return {
        "agents": report.agents,
        "in_hand": report.in_hand,
        "waiting": report.waiting,
        "conflicts": len(report.conflicts),
    }
