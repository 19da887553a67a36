"""A voice node routed by its partition's owner: no engine of its own.

``hotline telephony serve --node-name voice-a --partition hefei`` holds SIP calls, its IVR and
its media; which agent gets a caller is the partition owner's decision (``hotline node``, one
engine per partition, :mod:`hotline.live.ownership`). The node is a client of that owner
through the database, as a web node is (:mod:`hotline.web.log_tail`):

* :class:`OwnerRouter` is the voice driver's :class:`~hotline.telephony.ports.CallRouter`.
  What happens on the SIP side — a caller queued after the IVR (queue, priority, language,
  the caller's number and the IVR's data), the agent's phone answering, declining or timing
  out, hang-ups, hold, transfers, consults, an agent's first phone registering or last one
  going — becomes a row of the partition inbox. It decides nothing and answers no decision
  at once (every method returns ``[]``): the decisions come from the log.
* :class:`NodeOutbox` writes those rows, in the order the calls made them, together with the
  node's own events (arrivals, IVR steps, recordings, surveys, alarms: ``voice_event`` rows,
  which the owner numbers into the log — so the log stays one rising sequence, its web nodes'
  tails and ``?after=`` positions follow them, and a takeover reads them), the legs the node
  carries, where its agents' phones are registered (``voice_phones``, read by a new owner)
  and its heartbeat: one transaction, the heartbeat first, so a node the owner has
  declared lost writes nothing more (:class:`~hotline.store.voice_nodes.NodeLost`).
* :class:`OwnerLog` follows what the owner commits (LISTEN ``hotline_events`` and a poll every
  50 ms, as the web node's tail) and :func:`log_decisions` turns each event about a call this
  node carries into the voice driver's decision: ``offered`` rings that agent's phones here,
  ``ring_no_answer`` stops them, an overflow moves or releases the caller, a position
  announcement is spoken; a ``disconnected``, ``held`` or ``resumed`` the node did not cause
  (the desk's hang-up, hold or resume on a web node) is carried out on the call, and so are
  the desk's ``transferred`` (to an agent, a queue or an outside number) and
  ``consult_started`` / ``consult_ended``, with the one-process server's own moves
  (:meth:`~hotline.telephony.call_center.CallCenter.transfer`, ``transfer_out``, ``consult``,
  ``end_consult``), none of them sent back to the owner as news. A transfer this node waits
  on — an agent's phone's REFER, a desk's transfer out — moves nothing until the owner's
  answer is in the log (:mod:`hotline.live.transfers`): its ``transferred``, or for a REFER
  a ``disconnected`` saying ``transfer_refused``; silence decides nothing.

Only the owner's engine routes, so a phone registered through two voice nodes is offered one
call at a time, whichever node carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind
from hotline.live.phones import PHONE_UNREGISTERED
from hotline.live.voice_callbacks import PLACED_BY
from hotline.live.voice_nodes import carry
from hotline.store import event_log, notify, partitions, voice_nodes
from hotline.store.db import reading, writing
from hotline.store.voice_nodes import Leg, NodeLost
from hotline.telephony.call_center import ROUTING_KINDS, CallCenter
from hotline.telephony.call_state import CONNECTED, Phase
from hotline.telephony.ports import (
    AnnounceWait,
    DialCallback,
    EventSink,
    QueueChanged,
    ReleaseCaller,
    RingAgent,
    RoutingDecision,
    StopRinging,
    TransferRefused,
)
from hotline.telephony.voice_node import VoicePresence

log = logging.getLogger(__name__)

#: The inbox rows that also change ``voice_phones`` (:func:`voice_nodes.note_phone`).
PHONE_KINDS = frozenset({"phone_registered", "phone_unregistered"})


class NodeOutbox:
    """What a voice node sends its partition's owner, written in order with its heartbeat.

    :meth:`put` and :meth:`record` run on the node's loop and only queue; :meth:`flush`
    (blocking: a worker thread, one at a time) writes everything queued in one transaction —
    the heartbeat renewed first (refused: :class:`NodeLost`, nothing written), the inbox rows
    in order, the legs changed — and is retried whole on a database error.
    """

    def __init__(self, presence: VoicePresence) -> None:
        self.presence = presence
        self.partition = presence.options.partition
        self.node = presence.options.name
        self._lock = threading.Lock()
        self._rows: list[tuple[str, dict[str, Any], float]] = []
        self._legs: dict[str, Leg] = {}
        #: The legs open on this node (contact → leg), as written or about to be.
        self.legs: dict[str, Leg] = {}
        self._closed: set[str] = set()
        #: Set whenever something is queued (the node's flusher waits on it).
        self.wake = asyncio.Event()
        self.sent = 0

    def put(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Queue one inbox row (``kind`` one of :data:`hotline.store.partitions.INBOX_KINDS`)."""
        with self._lock:
            self._rows.append((kind, dict(payload), time.time()))
        self.wake.set()

    def record(self, event: Event) -> None:
        """The node's own event: to the owner's log (a ``voice_event`` row), and the legs."""
        self.put(
            "voice_event",
            {k: v for k, v in event.as_dict().items() if k != "seq" and v not in (None, {})},
        )
        self.follow([event], own=True)

    def follow(self, events: Sequence[Event], *, own: bool = False) -> None:
        """Fold events about this node's contacts into its legs (written at the next flush):
        the owner's, or (``own``) the node's own, whose ``arrived`` opens a leg."""
        mine = [
            e
            for e in events
            if e.contact_id is not None
            and e.contact_id not in self._closed
            and (e.contact_id in self.legs or (own and e.kind is EventKind.ARRIVED))
        ]
        if not mine:
            return
        with self._lock:
            changed = carry(self.legs, mine)
            for contact_id, leg in changed.items():
                self._legs[contact_id] = leg
                if leg.closed_at is None:
                    self.legs[contact_id] = leg
                else:
                    self.legs.pop(contact_id, None)
                    self._closed.add(contact_id)
        self.wake.set()

    def carries(self, contact_id: str) -> bool:
        """Whether the contact is one of this node's (open) legs."""
        return contact_id in self.legs

    def take(self, offered: Event) -> None:
        """Open a leg for a contact this node did not carry: a call back the owner's
        ``offered`` names this node to place (:func:`place_callbacks`)."""
        contact_id = offered.contact_id or ""
        with self._lock:
            self._closed.discard(contact_id)
            leg = carry({}, [offered])[contact_id]
            self._legs[contact_id] = self.legs[contact_id] = leg
        self.wake.set()

    def let_go(self, contact_id: str, *, at: float) -> None:
        """Close the leg of a call back this node no longer places (its offer withdrawn
        unanswered, or offered anew through another node); the contact goes on elsewhere."""
        with self._lock:
            leg = self.legs.pop(contact_id, None)
            if leg is None:
                return
            self._legs[contact_id] = replace(leg, agent_id=None, stage=None, closed_at=at)
            self._closed.add(contact_id)
        self.wake.set()

    def flush(self) -> int:
        """Renew the heartbeat and write what is queued; return the rows written.

        Raises :class:`NodeLost` when the owner has declared this node lost (then nothing is
        written, and nothing will be). A database error leaves everything queued.
        """
        with self._lock:
            rows, self._rows = self._rows, []
            legs, self._legs = self._legs, {}
        try:
            with writing(self.presence.session_factory()) as session:
                if not voice_nodes.beat(
                    session, self.presence.node_id, ttl_s=self.presence.options.heartbeat_s
                ):
                    raise NodeLost(f"voice node {self.node!r} was declared lost by the owner")
                for kind, payload, at in rows:
                    row_id = partitions.accept(
                        session, partition=self.partition, kind=kind, payload=payload, at=at
                    )
                    if kind in PHONE_KINDS:  # where phones are, kept compact for a new owner
                        voice_nodes.note_phone(
                            session,
                            node_id=self.presence.node_id,
                            partition=self.partition,
                            agent_id=str(payload["agent_id"]),
                            registered=kind == "phone_registered",
                            at=at,
                            inbox_id=row_id,
                        )
                voice_nodes.write_legs(session, self.presence.node_id, legs.values())
                session.commit()
        except NodeLost:
            raise
        except BaseException:
            with self._lock:  # again next time, in the same order
                self._rows[:0] = rows
                self._legs = {**legs, **self._legs}
            raise
        self.sent += len(rows)
        return len(rows)


class OwnerRouter:
    """The voice driver's ACD on a voice node: every call is a row of the partition inbox.

    Nothing is decided here, so every method returns ``[]``; the owner's decisions arrive
    through the log (:class:`OwnerLog`). What the dialler asks of an ACD (whether to lend an
    agent, which held agent takes a call) is not answered by this router, which lends no
    one: a voice node's dialler asks the owner through its own ACD
    (:class:`hotline.telephony.node_dialler.OwnerLending`).
    """

    def __init__(
        self, outbox: NodeOutbox, *, site_of_number: Callable[[str | None], str | None]
    ) -> None:
        self.outbox = outbox
        self.site_of_number = site_of_number
        self.conflicts = 0
        self._echoes: set[tuple[str, str | None]] = set()

    @property
    def _node(self) -> dict[str, str]:
        """This node by name and by run (a new owner counts registrations by live run)."""
        return {"voice_node": self.outbox.node, "node_id": self.outbox.presence.node_id}

    def _put(self, kind: str, **payload: Any) -> list[RoutingDecision]:
        echo = (kind, payload.get("contact_id"))
        if echo in self._echoes:
            self._echoes.discard(echo)  # the owner's own step, carried out here: not news
            return []
        self.outbox.put(kind, payload)
        return []

    def carrying_out(self, kind: str, contact_id: str) -> None:
        """The next ``kind`` row for ``contact_id`` is the owner's own step being carried out
        on the SIP side (a hold from the desk): it is not sent back."""
        self._echoes.add((kind, contact_id))

    def carried_out(self, kind: str, contact_id: str) -> None:
        """The owner's step is carried out (or was refused before it reached this router):
        forget the echo :meth:`carrying_out` expected."""
        self._echoes.discard((kind, contact_id))

    def contact_queued(
        self,
        *,
        at: float,
        contact_id: str,
        queue: str,
        priority: int,
        language: str | None,
        data: Mapping[str, str],
    ) -> list[RoutingDecision]:
        """The caller, after the IVR, joins ``queue``: the owner queues them."""
        caller = data.get("caller")
        payload: dict[str, Any] = {
            "contact_id": contact_id,
            "queue": queue,
            "channel": Channel.VOICE.value,
            "customer": caller,
            "priority": priority or None,
            "language": language,
            "preferred_agent": data.get("preferred_agent"),
            "preferred_for_s": float(data.get("preferred_for_s") or 0.0),
            "caller_site": self.site_of_number(caller),
            "data": {"customer": caller, **data},
            "voice_node": self.outbox.node,
        }
        return self._put("contact", **{k: v for k, v in payload.items() if v is not None})

    def phone_registered(self, *, at: float, agent_id: str) -> list[RoutingDecision]:
        """The agent's first phone here registered (the owner applies the phone policy)."""
        return self._put("phone_registered", agent_id=agent_id, **self._node)

    def phone_unregistered(self, *, at: float, agent_id: str) -> list[RoutingDecision]:
        """The agent's last phone here went away."""
        return self._put("phone_unregistered", agent_id=agent_id, **self._node)

    def waiting_for(self, agent_id: str) -> int:
        """Not known here: the dialler does not run on a voice node."""
        return 0

    def may_lend(self, agent_id: str) -> bool:
        """Never: the owner's engine has the agents (the dialler does not run here)."""
        return False

    def reserve_refill(self, held: Sequence[str]) -> list[str]:
        """Every held agent back (the dialler does not run here)."""
        return list(held)

    def choose_held(self, queue_id: str, free: Sequence[str]) -> str | None:
        """None (the dialler does not run here)."""
        return None

    def hold_agent(self, *, at: float, agent_id: str, reason: str) -> list[RoutingDecision]:
        """The agent not ready with ``reason``, through the owner."""
        return self._put("agent_not_ready", agent_id=agent_id, reason=reason)

    def release_agent(self, *, at: float, agent_id: str, phone: bool) -> list[RoutingDecision]:
        """The agent ready again, or not ready as a lost phone makes them."""
        if phone:
            return self._put("agent_ready", agent_id=agent_id)
        return self._put("agent_not_ready", agent_id=agent_id, reason=PHONE_UNREGISTERED)

    def offer_answered(self, *, at: float, contact_id: str, agent_id: str) -> list[RoutingDecision]:
        """The agent's phone answered."""
        return self._put("answer", contact_id=contact_id, agent_id=agent_id)

    def offer_rejected(self, *, at: float, contact_id: str, agent_id: str) -> list[RoutingDecision]:
        """The agent's phone declined or failed."""
        return self._put("reject", contact_id=contact_id, agent_id=agent_id)

    def contact_abandoned(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The caller hung up while waiting or ringing (or talking: the engine ends it)."""
        return self._put("abandon", contact_id=contact_id)

    def contact_ended(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The conversation ended; the owner's engine runs the wrap-up."""
        return self._put("end", contact_id=contact_id)

    def transfer_to_queue(self, *, at: float, contact_id: str, queue: str) -> list[RoutingDecision]:
        """Blind transfer to a queue (a refusal is the owner's, logged there)."""
        return self._put("transfer", contact_id=contact_id, to_queue=queue)

    def transfer_to_agent(
        self, *, at: float, contact_id: str, agent_id: str
    ) -> list[RoutingDecision]:
        """Blind transfer to an agent."""
        return self._put("transfer", contact_id=contact_id, to_agent=agent_id)

    def transfer_out(self, *, at: float, contact_id: str, number: str) -> list[RoutingDecision]:
        """Blind transfer to an outside number."""
        return self._put("transfer", contact_id=contact_id, to_number=number)

    def ask_transfer(
        self,
        *,
        at: float,
        contact_id: str,
        target: str,
        agent_id: str | None = None,
        queue: str | None = None,
    ) -> list[RoutingDecision]:
        """The agent's phone asked (REFER, to ``target``) for a transfer to ``agent_id`` or
        ``queue``; the phone has left the call. The row says so (``refer``): the owner answers
        it either way — ``transferred``, or a ``disconnected`` saying ``transfer_refused``."""
        where = {"to_agent": agent_id} if agent_id is not None else {"to_queue": queue}
        return self._put("transfer", contact_id=contact_id, **where, refer=target)

    def ask_transfer_out(self, *, contact_id: str, number: str, voice_request: int) -> None:
        """A desk's transfer to an outside ``number`` (the web node's ``voice_request``),
        asked of the owner before the call moves: the owner answers the request (done or
        refused) and logs ``transferred``, which this node then carries out."""
        self._put("transfer", contact_id=contact_id, to_number=number, voice_request=voice_request)

    def contact_held(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The agent put the caller on hold."""
        return self._put("hold", contact_id=contact_id)

    def contact_resumed(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The agent took the caller off hold."""
        return self._put("resume", contact_id=contact_id)

    def consult_started(
        self, *, at: float, contact_id: str, agent_id: str
    ) -> list[RoutingDecision]:
        """The agent consults ``agent_id``."""
        return self._put("consult", contact_id=contact_id, to_agent=agent_id)

    def consult_ended(self, *, at: float, contact_id: str, transfer: bool) -> list[RoutingDecision]:
        """The consult ended (a warm transfer when ``transfer``)."""
        return self._put("consult_end", contact_id=contact_id, transfer=transfer)

    def callback_requested(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The waiting caller pressed for a callback."""
        return self._put("callback_requested", contact_id=contact_id)

    def advance(self, *, at: float) -> list[RoutingDecision]:
        """Nothing: the owner's engine runs the timers."""
        return []


def log_decisions(event: Event) -> list[RoutingDecision]:
    """What the voice driver must do about one of the owner's events for a call it carries
    (pure: the caller checks the call is this node's).

    >>> log_decisions(Event(7, 1.0, EventKind.OFFERED, "v-1", "a001", "repair", Channel.VOICE))
    [RingAgent(contact_id='v-1', agent_id='a001', ring_timeout_s=0.0)]
    >>> log_decisions(Event(8, 9.0, EventKind.RING_NO_ANSWER, "v-1", "a001", "repair"))
    [StopRinging(contact_id='v-1', agent_id='a001', reason='ring_no_answer')]
    >>> log_decisions(Event(9, 9.0, EventKind.OVERFLOWED, "v-1", queue="repair",
    ...                     data={"to": "voicemail", "reason": "wait"}))
    ... # doctest: +NORMALIZE_WHITESPACE
    [ReleaseCaller(contact_id='v-1', queue='repair', exit='voicemail', callback_id=None,
                   number=None)]
    """
    contact_id = event.contact_id
    if contact_id is None:
        return []
    data = event.data
    queue = event.queue or ""
    match event.kind:
        case EventKind.OFFERED if event.agent_id and event.channel is Channel.CALLBACK:
            # a call back this node places: ring the agent, then dial the number
            number = data.get("number")
            return [DialCallback(contact_id, event.agent_id, str(number) if number else None, 0.0)]
        case EventKind.OFFERED if event.agent_id:
            # the ring-no-answer timer is the owner engine's: it withdraws the offer in the log
            return [RingAgent(contact_id, event.agent_id, 0.0)]
        case EventKind.RING_NO_ANSWER if event.agent_id:
            reason = "rejected" if data.get("rejected") else "ring_no_answer"
            return [StopRinging(contact_id, event.agent_id, reason)]
        case EventKind.OVERFLOWED:
            to = data.get("to")
            if to == "voicemail":
                return [ReleaseCaller(contact_id, queue, "voicemail")]
            if to == "forward":
                return [ReleaseCaller(contact_id, queue, "forward", number=data.get("number"))]
            if to:
                return [QueueChanged(contact_id, str(to), str(data.get("reason", "")))]
        case EventKind.CALLBACK_REQUESTED if data.get("callback_id"):
            return [ReleaseCaller(contact_id, queue, "callback", str(data["callback_id"]))]
        case EventKind.FINISHED if data.get("outcome") == "closed":
            return [ReleaseCaller(contact_id, queue, "closed_message")]
        case EventKind.POSITION_ANNOUNCED if data.get("position"):
            wait = data.get("estimated_wait_s")
            return [
                AnnounceWait(
                    contact_id, int(data["position"]), float(wait) if wait is not None else None
                )
            ]
    return []


class OwnerLog:
    """Follows the owner's committed events and carries out those about this node's calls.

    ``carry_out(events)`` runs on the node's loop with each batch read, in log order. It
    starts after the log's newest event (the node's calls are all new) and reads on from
    there: a takeover's new owner numbers on from the last committed event, so the node
    follows it without noticing.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        carry_out: Callable[[list[Event]], None],
        *,
        poll_s: float = 0.05,
        batch: int = 500,
    ) -> None:
        self.session_factory = session_factory
        self.carry_out = carry_out
        self.poll_s = poll_s
        self.batch = batch
        self.position = 0
        self._listener: notify.Listener | None = None

    def _read(self, after: int) -> list[Event]:
        with reading(self.session_factory(), purpose="a voice node's log tail") as session:
            return event_log.events_after(session, after=after, limit=self.batch)

    def _newest(self) -> int:
        with reading(self.session_factory(), purpose="a voice node's log tail") as session:
            return event_log.last_seq(session)

    async def start(self) -> None:
        """Start after the log's newest event."""
        self.position = await asyncio.to_thread(self._newest)

    def _wait(self) -> None:
        if self._listener is None:
            bind = self.session_factory.kw.get("bind")
            if isinstance(bind, Engine):
                with contextlib.suppress(Exception):  # the database is away: poll
                    self._listener = notify.listener(bind, notify.EVENTS)
        if self._listener is None:
            time.sleep(self.poll_s)
        else:
            self._listener.wait(self.poll_s)

    async def run(self, stop: asyncio.Event) -> None:
        """Read, carry out, wait for the next batch (NOTIFY or ``poll_s``) until ``stop``."""
        try:
            while not stop.is_set():
                try:
                    events = await asyncio.to_thread(self._read, self.position)
                except Exception:
                    log.exception("voice node: reading the event log failed; retrying")
                    if self._listener is not None:
                        self._listener.close()
                        self._listener = None
                    events = []
                if events:
                    self.position = events[-1].seq
                    try:
                        self.carry_out(events)
                    except Exception:  # one bad event must not stop the node's routing
                        log.exception("voice node: carrying out the owner's events failed")
                if len(events) < self.batch:
                    await asyncio.to_thread(self._wait)
        finally:
            if self._listener is not None:
                self._listener.close()
                self._listener = None


def _desk_step(center: CallCenter, kind: str, contact_id: str, step: Callable[[str], None]) -> bool:
    """Carry out on the SIP side a step the owner already took (from the desk on a web node),
    without sending it back to the owner as news. Returns False when the call refused it
    (:class:`TransferRefused`, logged): then nothing was sent, and nothing is swallowed later."""
    router = center.router if isinstance(center.router, OwnerRouter) else None
    if router is not None:
        router.carrying_out(kind, contact_id)
    try:
        step(contact_id)
    except TransferRefused as refused:
        log.warning("voice node: the owner's %s of %s refused here: %s", kind, contact_id, refused)
        return False
    finally:
        if router is not None:  # a step refused before it reached the router sent nothing
            router.carried_out(kind, contact_id)
    return True


def _desk_transfer(center: CallCenter, event: Event) -> None:
    """The owner's ``transferred`` (the desk's blind transfer, through any node) carried out
    on the call with the one-process server's own moves: :meth:`CallCenter.transfer` (the
    agent's phone hung up, the caller on music until the owner's ``offered`` rings the next
    agent) or :meth:`CallCenter.transfer_out` (the caller forwarded through the trunk). A
    warm transfer's ``transferred`` follows its ``consult_ended``, which moved the call."""
    data, contact_id = event.data, event.contact_id or ""
    if data.get("warm"):
        return
    if data.get("to") == "number" and data.get("number"):
        number = str(data["number"])
        _desk_step(center, "transfer", contact_id, lambda c: center.transfer_out(c, number))
    elif data.get("to_agent"):
        agent_id = str(data["to_agent"])
        _desk_step(center, "transfer", contact_id, lambda c: center.transfer(c, agent_id=agent_id))
    elif data.get("to_queue"):
        queue = str(data["to_queue"])
        _desk_step(center, "transfer", contact_id, lambda c: center.transfer(c, queue=queue))


def _desk_consult(center: CallCenter, event: Event) -> None:
    """The owner's ``consult_started`` (the desk's consult) carried out with
    :meth:`CallCenter.consult`: the caller on music, the consulted agent's phone rung here.
    When this node cannot (the consulted agent has no phone registered through it), the
    owner is told the consult ended, so its engine frees the consulted agent."""
    contact_id, consulted = event.contact_id or "", event.data.get("consulted")
    if not consulted:
        return
    agent_id = str(consulted)
    if not _desk_step(center, "consult", contact_id, lambda c: center.consult(c, agent_id)):
        router = center.router
        center.route(router.consult_ended(at=event.at, contact_id=contact_id, transfer=False))


def _desk_consult_end(center: CallCenter, contact_id: str, *, transfer: bool) -> None:
    """The owner's ``consult_ended`` (the desk's warm transfer, or back to the caller) carried
    out with :meth:`CallCenter.end_consult`."""
    end = center.end_consult
    _desk_step(center, "consult_end", contact_id, lambda c: end(c, transfer=transfer))


def _refused_transfer(center: CallCenter, contact_id: str, target: str) -> None:
    """The owner refused the transfer this node's agent asked for by REFER and ended the
    conversation (its ``disconnected`` says ``transfer_refused``): the call ends as a refused
    REFER does on the one-process server (the caller gets the survey), and the ``end`` that
    ending sends is the owner's own step, not news."""
    router = center.router if isinstance(center.router, OwnerRouter) else None
    if router is not None:
        router.carrying_out("end", contact_id)  # sent by the conversation's end, soon after
    if not center.transfer_refused_by_owner(contact_id, target) and router is not None:
        router.carried_out("end", contact_id)


def place_callbacks(center: CallCenter, outbox: NodeOutbox, events: Sequence[Event]) -> None:
    """Take the call backs the owner's ``offered`` names this node to place as this node's
    legs, and let go of those it no longer places (the owner names one node per offer:
    :mod:`hotline.live.voice_callbacks`).

    A taken call back is carried out by :func:`carry_out` with the one-node server's flow
    (:meth:`~hotline.telephony.outbound.Originator.call_back`: the agent's phone rung, the
    customer dialled through the trunk once the agent answers), its steps sent to the owner
    like any call's. An offer anew naming this node for a call back already placed here (a
    new owner's, after a takeover) rings no second time: the originator places a contact
    once; offered to another agent, the phone that rings now stops first. A call back's offer
    withdrawn before the agent answered (``ring_no_answer``), or offered anew through another
    node, stops the phone here and closes the leg: the contact waits in the owner's engine
    again, carried by no node until it is offered.
    """
    me = outbox.presence.node_id
    for event in events:
        contact_id = event.contact_id
        if contact_id is None or event.channel is not Channel.CALLBACK:
            continue
        outbound = center.outbound
        placing = outbound.calls.get(contact_id)
        unanswered = placing is not None and placing.agent_answered_at is None
        if event.kind is EventKind.OFFERED and event.agent_id:
            if event.data.get(PLACED_BY) == me:
                if not outbox.carries(contact_id):
                    outbox.take(event)
                elif placing is not None and unanswered and placing.agent_id != event.agent_id:
                    outbound.stop_ringing(contact_id, placing.agent_id)  # offered to another
            elif outbox.carries(contact_id) and (placing is None or unanswered):
                if placing is not None:
                    outbound.stop_ringing(contact_id, placing.agent_id)
                outbox.let_go(contact_id, at=event.at)
        elif event.kind is EventKind.RING_NO_ANSWER and outbox.carries(contact_id):
            if placing is not None and unanswered:
                outbound.stop_ringing(contact_id, placing.agent_id)
            if placing is None or unanswered:
                outbox.let_go(contact_id, at=event.at)


#: The owner's events about a node's calls that the node's JSON-lines log gets too (the
#: routing engine's; the node's own events are in it already).
OWNER_KINDS = ROUTING_KINDS | {
    EventKind.POSITION_ANNOUNCED,
    EventKind.WRAP_UP_ENDED,
    EventKind.FINISHED,
}


def carry_out(
    center: CallCenter,
    outbox: NodeOutbox,
    events: Sequence[Event],
    mirror: EventSink | None = None,
) -> int:
    """Carry out the owner's ``events`` about the calls ``center`` (the voice driver) holds on
    this node: their decisions, the legs they change, the desk's hang-up, hold, resume,
    transfers and consults (a step this node took itself has moved the call already: its
    phase, or the consult's absence, says so). ``mirror``
    (the node's JSON-lines log) gets them too. Returns how many concerned this node."""
    place_callbacks(center, outbox, events)
    mine = [e for e in events if e.contact_id is not None and outbox.carries(e.contact_id)]
    if not mine:
        return 0
    outbox.follow(mine)
    for event in mine:
        if mirror is not None and event.kind in OWNER_KINDS:  # not the node's own, again
            mirror.append(event)
        contact_id = event.contact_id or ""
        call = center.calls.get(contact_id)
        ringing = (
            call.state.ringing_agent
            if call is not None and call.state.phase is Phase.RINGING
            else None
        )
        if event.kind is EventKind.OFFERED and ringing is not None:
            # offered while a phone here still rings: a new owner offering anew what its
            # predecessor's offer left ringing (the takeover folds a ringing contact back to
            # waiting, offered first to the same agent)
            if ringing == event.agent_id:
                continue  # that agent's phone rings already: its answer meets this offer
            center.route([StopRinging(contact_id, ringing, "offered_anew")])  # stops first
        center.route(log_decisions(event))
        if call is None:
            continue
        if event.kind is EventKind.DISCONNECTED and event.data.get("transfer_refused"):
            _refused_transfer(center, contact_id, str(event.data["transfer_refused"]))
        elif event.kind is EventKind.DISCONNECTED:
            # ended by the desk (a web node's hang-up), not by this node's phone or caller
            with contextlib.suppress(TransferRefused):
                center.hang_up_agent(contact_id)
        elif event.kind is EventKind.HELD and call.state.phase is Phase.TALKING:
            _desk_step(center, "hold", contact_id, center.hold)  # the desk's hold
        elif event.kind is EventKind.RESUMED and call.state.phase is Phase.HELD:
            _desk_step(center, "resume", contact_id, center.resume)
        elif event.kind is EventKind.TRANSFERRED and call.state.phase in CONNECTED:
            _desk_transfer(center, event)  # (this node's own transfer has moved it already)
        elif (
            event.kind is EventKind.CONSULT_STARTED
            and call.state.phase in (Phase.TALKING, Phase.HELD)
            and contact_id not in center.consults.by_contact
        ):
            _desk_consult(center, event)
        elif event.kind is EventKind.CONSULT_ENDED and contact_id in center.consults.by_contact:
            _desk_consult_end(center, contact_id, transfer=bool(event.data.get("transfer")))
    return len(mine)


class OutboxSink:
    """The voice driver's :class:`~hotline.telephony.ports.EventSink` on a voice node: its
    own events go to the owner, who numbers them into the log (:meth:`NodeOutbox.record`)."""

    def __init__(self, outbox: NodeOutbox) -> None:
        self.outbox = outbox

    def append(self, event: Event) -> None:
        """Send the event to the owner with the node's next inbox rows."""
        self.outbox.record(event)


async def send(outbox: NodeOutbox, stop: asyncio.Event, *, every_s: float) -> None:
    """Write the outbox as soon as something is queued, and at least every ``every_s`` (the
    heartbeat), until ``stop``; return when the owner has declared the node lost."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(every_s):
                await outbox.wake.wait()
        outbox.wake.clear()
        try:
            await asyncio.to_thread(outbox.flush)
        except NodeLost:
            log.error("voice node declared lost by the partition owner: stopping")
            return
        except Exception:
            log.exception("voice node: writing to the partition inbox failed; retrying")
            await asyncio.sleep(min(every_s, 0.2))
