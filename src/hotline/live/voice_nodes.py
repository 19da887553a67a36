"""Voice nodes and their failure: what the partition owner writes when a voice node dies.

A voice node holds SIP calls in its process; when it dies (``kill -9``, a lost machine) its
calls drop with it — unavoidably, since a SIP dialog and its media relay do not outlive the
process. What must not drop is the center's account of them. Each voice node marks the
contacts it carries and the agent on each (``voice_legs``, folded by :func:`carry` from the
node's own events) and keeps a heartbeat on the database's clock
(:mod:`hotline.store.voice_nodes`). The partition owner watches the heartbeats
(:class:`VoiceNodeWatch`); once one lapses it claims the node and writes, in the contact event
log (:func:`loss_events`, the vocabulary of :mod:`hotline.live.recovery`):

* for each contact the node carried: ``disconnected`` if an agent was talking to it, then
  ``finished`` with outcome ``interrupted`` and reason ``voice_node_lost`` — reports count
  it among the interrupted contacts, as after a one-node crash;
* for each agent on one of those contacts (ringing, talking or in wrap-up) and on no other
  node's call: ``agent_state`` ``available`` (reason ``voice_node_lost``). A one-node crash
  signs agents out because the restarted engine starts empty; here the agents' phones are
  still in their hands and re-register to a surviving node, so they are free for the next
  call. A wrap-up is not run for a dropped call: no engine holds its timer any more;
* one ``alarm`` (``voice_node_lost``: the node, how many contacts, which agents), in the same
  fenced transaction that notes the loss as written (:meth:`VoiceNodeWatch.before_write`), so
  the log tells each node's loss once, even across an owner's own crash.

>>> from hotline.store.voice_nodes import LostNode, Leg
>>> node = LostNode("n1", "voice-a", 5.0, (Leg("c1", 1.0, "repair", "voice", "a001",
...                 "talking"), Leg("c2", 2.0, "repair", "voice")), frozenset())
>>> [(e.kind.value, e.contact_id or e.agent_id) for e in loss_events(node, at=9.0)]
... # doctest: +NORMALIZE_WHITESPACE
[('disconnected', 'c1'), ('finished', 'c1'), ('finished', 'c2'),
 ('agent_state', 'a001'), ('alarm', None)]
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind
from hotline.live.recovery import interrupted
from hotline.store import voice_nodes, voice_requests
from hotline.store.db import writing
from hotline.store.partitions import Lease, fence
from hotline.store.voice_nodes import Leg, LostNode

log = logging.getLogger(__name__)

#: The ``reason`` of the events that close a lost voice node's contacts.
VOICE_NODE_LOST = "voice_node_lost"

#: The agent's state while on a leg, by the leg's stage (the ``previous`` of its freeing).
_STATE_OF_STAGE = {"ringing": "reserved", "talking": "on_contact", "wrap_up": "wrap_up"}


def carry(legs: Mapping[str, Leg], events: Iterable[Event]) -> dict[str, Leg]:
    """The legs ``events`` change, from the node's legs so far (pure; events in log order).

    A contact is carried from its first event to its ``finished``; its agent is the one
    offered it (ringing) or talking to it, until a ring-no-answer, a transfer or the end of
    the agent's wrap-up lets them go.

    >>> changed = carry({}, [Event(1, 1.0, EventKind.ARRIVED, "c1", channel=Channel.VOICE),
    ...                      Event(2, 2.0, EventKind.ANSWERED, "c1", "a001", "repair")])
    >>> changed["c1"].agent_id, changed["c1"].stage, changed["c1"].queue
    ('a001', 'talking', 'repair')
    >>> carry(changed, [Event(3, 3.0, EventKind.FINISHED, "c1")])["c1"].closed_at
    3.0
    """
    changed: dict[str, Leg] = {}
    for event in events:
        contact_id = event.contact_id
        if contact_id is None:
            continue
        leg = changed.get(contact_id) or legs.get(contact_id) or Leg(contact_id, event.at)
        if event.queue is not None:
            leg = replace(leg, queue=event.queue)
        if event.channel is not None:
            leg = replace(leg, channel=event.channel.value)
        match event.kind:
            case EventKind.OFFERED if event.agent_id:
                leg = replace(leg, agent_id=event.agent_id, stage="ringing")
            case EventKind.ANSWERED if event.agent_id:
                leg = replace(leg, agent_id=event.agent_id, stage="talking")
            case EventKind.DISCONNECTED if leg.agent_id:
                leg = replace(leg, stage="wrap_up")
            case EventKind.RING_NO_ANSWER | EventKind.TRANSFERRED | EventKind.WRAP_UP_ENDED:
                leg = replace(leg, agent_id=None, stage=None)
            case EventKind.FINISHED:
                leg = replace(leg, agent_id=None, stage=None, closed_at=event.at)
        changed[contact_id] = leg
    return changed


def loss_events(node: LostNode, *, at: float) -> list[Event]:
    """The events that close a lost node's contacts and free its agents (numbered 0)."""
    out: list[Event] = []
    freed: dict[str, str] = {}
    reason = {"reason": VOICE_NODE_LOST, "voice_node": node.name}
    for leg in node.legs:
        out += interrupted(
            leg.contact_id,
            at=at,
            queue=leg.queue,
            channel=Channel(leg.channel) if leg.channel in _CHANNELS else None,
            talking_to=leg.agent_id if leg.stage == "talking" else None,
            data=reason,
        )
        if leg.agent_id and leg.agent_id not in node.busy_elsewhere:
            freed[leg.agent_id] = _STATE_OF_STAGE.get(leg.stage or "", "on_contact")
    for agent_id, previous in sorted(freed.items()):
        out.append(
            Event(
                0,
                at,
                EventKind.AGENT_STATE,
                agent_id=agent_id,
                data={"state": "available", "previous": previous, **reason},
            )
        )
    out.append(
        Event(
            0,
            at,
            EventKind.ALARM,
            data={
                "alarm": VOICE_NODE_LOST,
                "voice_node": node.name,
                "node_id": node.node_id,
                "contacts": [leg.contact_id for leg in node.legs],
                "agents": sorted(freed),
            },
        )
    )
    return out


_CHANNELS = frozenset(c.value for c in Channel)


def claim_and_read(session_factory: sessionmaker[Session], lease: Lease) -> list[LostNode]:
    """Claim the partition's lapsed voice nodes and read every lost node not yet logged, in
    one transaction fenced by the owner's ``lease`` (blocking: call it in a thread)."""
    with writing(session_factory()) as session:
        fence(session, lease)
        voice_nodes.claim_lapsed(session, partition=lease.partition, epoch=lease.epoch)
        lost = voice_nodes.unlogged(session, partition=lease.partition)
        # Desks' requests a dead node had claimed (or no node took) fail: none stays pending.
        voice_requests.expire(session, partition=lease.partition, claim_s=voice_requests.CLAIM_S)
        session.commit()
    return lost


class VoiceNodeWatch:
    """The partition owner's watch over its voice nodes' heartbeats (one per term).

    :meth:`check` claims lapsed nodes and hands their closing events to the owner's log;
    :meth:`before_write` runs in each of the owner's fenced write transactions and notes there
    each node whose closing events the batch carries, so they are written exactly once.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], lease: Lease, *, every_s: float
    ) -> None:
        self.session_factory = session_factory
        self.lease = lease
        self.every_s = every_s
        self._next = 0.0
        #: Lost nodes whose closing events this owner has put in its log (maybe not written).
        self.handled: set[str] = set()

    async def check(
        self, record: Callable[[Event], None], now: Callable[[], float]
    ) -> list[LostNode]:
        """Every ``every_s``: claim lapsed nodes and ``record`` the closing events of each
        lost node not yet written (the live driver's ``record``, stamped by its clock)."""
        if time.monotonic() < self._next:
            return []
        self._next = time.monotonic() + self.every_s
        lost = await asyncio.to_thread(claim_and_read, self.session_factory, self.lease)
        fresh = [node for node in lost if node.node_id not in self.handled]
        for node in fresh:
            self.handled.add(node.node_id)
            for event in loss_events(node, at=now()):
                record(event)
            log.warning(
                "voice node %s lost: %d contacts ended (interrupted), agents freed: %s",
                node.name,
                len(node.legs),
                ", ".join(sorted({leg.agent_id for leg in node.legs if leg.agent_id})) or "none",
            )
        return fresh

    @staticmethod
    def before_write(session: Session, batch: Sequence[Event]) -> None:
        """Note, in the owner's write transaction, each lost node whose alarm it carries."""
        for event in batch:
            if event.kind is EventKind.ALARM and event.data.get("alarm") == VOICE_NODE_LOST:
                voice_nodes.mark_logged(
                    session, str(event.data["node_id"]), list(event.data.get("contacts", ()))
                )
