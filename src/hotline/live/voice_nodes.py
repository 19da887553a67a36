"""Voice nodes and their failure: what the partition owner writes when a voice node dies.

A voice node holds SIP calls in its process; when it dies (``kill -9``, a lost machine) its
calls drop with it — unavoidably, since a SIP dialog and its media relay do not outlive the
process. What must not drop is the center's account of them. Each voice node marks the
contacts it carries and the agent on each (``voice_legs``, folded by :func:`carry` from the
node's own events and the owner's events about its calls) and keeps a heartbeat on the
database's clock (:mod:`hotline.store.voice_nodes`). The partition owner routes the node's
calls in its engine (:mod:`hotline.telephony.owner_routing`) and watches the heartbeats
(:class:`VoiceNodeWatch`); once one lapses it claims the node, ends its contacts in its engine
(:func:`close_lost`) and writes, in the contact event log (:func:`loss_events`, the vocabulary
of :mod:`hotline.live.recovery`):

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
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    Command,
    ContactAbandoned,
    ContactEnded,
    RoutingConflict,
    WrapUpEnded,
)
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
        # Desks' requests a dead node had claimed go back to pending (another node takes
        # them), those it was placing or no node took fail: none stays pending.
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

    async def claim(self) -> list[LostNode]:
        """Every ``every_s``: claim lapsed nodes; return each lost node not yet written and
        not yet handled by this owner (it closes them: :func:`close_lost` in its engine)."""
        if time.monotonic() < self._next:
            return []
        self._next = time.monotonic() + self.every_s
        lost = await asyncio.to_thread(claim_and_read, self.session_factory, self.lease)
        fresh = [node for node in lost if node.node_id not in self.handled]
        for node in fresh:
            self.handled.add(node.node_id)
            log.warning(
                "voice node %s lost: %d contacts ended (interrupted), agents freed: %s",
                node.name,
                len(node.legs),
                ", ".join(sorted({leg.agent_id for leg in node.legs if leg.agent_id})) or "none",
            )
        return fresh

    async def check(
        self, record: Callable[[Event], None], now: Callable[[], float]
    ) -> list[LostNode]:
        """:meth:`claim`, then ``record`` the closing events of each lost node as its legs
        show them (an owner without the contacts in its engine)."""
        fresh = await self.claim()
        for node in fresh:
            for event in loss_events(node, at=now()):
                record(event)
        return fresh

    @staticmethod
    def before_write(session: Session, batch: Sequence[Event]) -> None:
        """Note, in the owner's write transaction, each lost node whose alarm it carries."""
        for event in batch:
            if event.kind is EventKind.ALARM and event.data.get("alarm") == VOICE_NODE_LOST:
                voice_nodes.mark_logged(
                    session, str(event.data["node_id"]), list(event.data.get("contacts", ()))
                )


#: The engine's contact stage, as a leg's stage.
_LEG_STAGE = {"ringing": "ringing", "connected": "talking", "ended": "wrap_up"}


def close_lost(engine: RoutingEngine, node: LostNode, *, now: float) -> Result:
    """End a lost voice node's contacts in the partition owner's ``engine`` and free its
    agents, so the engine's state and the log agree; the result's events are the loss as
    :func:`loss_events` writes it, then whatever the engine did next with the freed agents
    (an offer of a waiting contact, say).

    Which agent holds each contact, and at which stage, is the engine's word (the legs the
    node wrote may lag it by a write). A contact still in its IVR is not in the engine: its
    leg is ended as it stands. The engine's own account of the close — ``abandoned``, a
    wrap-up, the agents' way back to ``available`` — is not logged: the loss events say it.
    """
    lost = {leg.contact_id for leg in node.legs}
    holders: dict[str, tuple[str, str]] = {}
    busy_elsewhere: set[str] = set()
    for holder_id in engine.agents():
        for contact_id, held in engine.agent_contacts(holder_id).items():
            if contact_id in lost:
                holders[contact_id] = (holder_id, held)
            else:
                busy_elsewhere.add(holder_id)
    legs = []
    for leg in node.legs:
        stage = engine.contact_stage(leg.contact_id)
        if stage is None:
            legs.append(leg)  # never queued (in its IVR), or finished meanwhile
            continue
        holder = holders.get(leg.contact_id)
        agent_id = holder[0] if holder is not None else None
        legs.append(
            replace(
                leg,
                queue=engine.contact_queue(leg.contact_id) or leg.queue,
                agent_id=agent_id,
                stage=_LEG_STAGE.get(stage) if agent_id else None,
            )
        )
    seen = replace(node, legs=tuple(legs), busy_elsewhere=frozenset(busy_elsewhere))
    freed = {leg.agent_id for leg in legs if leg.agent_id} - busy_elsewhere
    merged = Result(events=loss_events(seen, at=now))
    for leg in legs:
        for command in _closing(engine, leg, now):
            try:
                result = engine.handle(command)
            except RoutingConflict as conflict:
                log.info("voice node %s lost: %s", node.name, conflict)
                continue
            merged.effects.extend(result.effects)
            merged.events.extend(
                event
                for event in result.events
                if event.contact_id not in lost
                and not (
                    event.kind is EventKind.AGENT_STATE
                    and event.agent_id in freed
                    and event.data.get("state") in ("available", "wrap_up")
                )
            )
    return merged


def _closing(engine: RoutingEngine, leg: Leg, now: float) -> list[Command]:
    """The commands that take a lost leg's contact out of the engine, agent freed."""
    stage = engine.contact_stage(leg.contact_id)
    if stage in ("waiting", "ringing"):
        return [ContactAbandoned(at=now, contact_id=leg.contact_id)]
    if leg.agent_id is None:
        return []
    wrap_up = WrapUpEnded(at=now, agent_id=leg.agent_id, contact_id=leg.contact_id)
    if stage == "connected":
        return [ContactEnded(at=now, contact_id=leg.contact_id), wrap_up]
    if stage == "ended":
        return [wrap_up]
    return []


class VoicePhones:
    """Through which voice nodes each agent's phones are registered, as the owner heard it
    (``phone_registered`` / ``phone_unregistered`` inbox rows): the phone policy applies to
    the agent's first phone anywhere and their last one gone.

    >>> phones = VoicePhones()
    >>> phones.changed("a001", "voice-a", registered=True)
    True
    >>> phones.changed("a001", "voice-b", registered=True)  # reachable already
    False
    >>> phones.changed("a001", "voice-a", registered=False)  # still through voice-b
    False
    >>> phones.changed("a001", "voice-b", registered=False)
    True

    A new owner starts from where the live nodes' phones were registered as its predecessor
    had applied the inbox (:meth:`seed`, from
    :func:`hotline.store.voice_nodes.phone_registrations`: ``voice_phones`` and the rows
    after the inbox position).
    """

    def __init__(self) -> None:
        self.nodes: dict[str, set[str]] = {}

    def changed(self, agent_id: str, node: str, *, registered: bool) -> bool:
        """Note it; whether the policy applies (first phone anywhere, or last one gone)."""
        nodes = self.nodes.setdefault(agent_id, set())
        if registered:
            first = not nodes
            nodes.add(node)
            return first
        nodes.discard(node)
        return not nodes

    def seed(self, registrations: Iterable[tuple[str, str, bool]]) -> None:
        """Start from ``(agent, node, registered)`` in the order the nodes said them."""
        for agent_id, node, registered in registrations:
            self.changed(agent_id, node, registered=registered)

    def reachable(self, agent_id: str) -> bool:
        """Whether any live node has a phone of the agent's."""
        return bool(self.nodes.get(agent_id))

    def node_lost(self, node: str) -> None:
        """The node's registrations went with it."""
        for nodes in self.nodes.values():
            nodes.discard(node)
