"""One routing engine per partition across several nodes: stand by, take over, step down.

Every node started for a partition (``hotline node --partition hefei``) runs a
:class:`PartitionNode`. One of them holds the partition's lease (``store.partitions``) and
routes; the others stand by, asking every ``poll_s`` whether the lease has lapsed. The owner

1. rebuilds its engine from the contact event log (:mod:`hotline.live.takeover`): contacts
   waiting, contacts in agents' hands and agents' presence, as the previous owner left them;
2. applies the partition's inbox from where the previous owner's last *written* batch left
   off — contacts accepted by any node, agents' commands — each row once;
3. writes its events in fenced transactions (the lease's epoch checked by the database, the
   inbox position recorded with them), and renews the lease every ``lease_s / 4``;
4. deletes the inbox rows it has applied once they are ``inbox_keep_s`` old
   (:func:`hotline.store.partitions.prune_inbox`), so the inbox stays as small as its
   unapplied tail and a few minutes of history.

The owner steps down — stops routing at once, without closing anything in the log — when a
renewal or a write is refused (another node took over while this one was paused or cut off),
or when it could not renew for a whole lease (it must assume another has taken over). A
paused owner that wakes up therefore never writes: the database refuses it, whatever it
believes. It steps down too when it loses the database while reading the inbox or taking
over (the primary died; :mod:`hotline.store.pg_cluster`): what it routed but had not written
is re-applied from the inbox by whichever node next takes the lease — itself, once the
promoted standby answers and the lease (replicated with everything else) has lapsed.

Voice calls, desks and wallboards reach the owner through the database too (the inbox), so no
node needs to know which node owns a partition: a voice node puts its callers, its phones'
answers and its own events there, and rings what the owner's log offers
(:mod:`hotline.telephony.owner_routing`). The owner also watches the partition's voice nodes'
heartbeats (:mod:`hotline.live.voice_nodes`): a lapsed node's calls are ended in its engine
and in the log as ``interrupted`` and its agents freed, in the owner's fenced writes, once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, exc
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.core.events import Channel, Event, EventKind
from hotline.live import saved_center
from hotline.live.dialler_lends import (
    LEND,
    RETURN,
    DiallerLends,
    give_back_lost_records,
    give_back_records,
)
from hotline.live.driver import LiveDriver
from hotline.live.phones import phone_changed
from hotline.live.takeover import describe
from hotline.live.transfers import TransferAnswers, answered_transfer, waits_for_answer
from hotline.live.voice_callbacks import CallbackPlacement
from hotline.live.voice_nodes import VoiceNodeWatch, VoicePhones, close_lost
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    AgentState,
    CallbackRequested,
    Command,
    ConsultEnded,
    ConsultStarted,
    ContactAbandoned,
    ContactEnded,
    ContactHeld,
    ContactMoved,
    ContactQueued,
    ContactResumed,
    OfferAnswered,
    OfferRejected,
    RoutingConflict,
    TransferredOut,
    TransferredToAgent,
    TransferredToQueue,
    WrapUpEnded,
)
from hotline.store import notify, partitions, voice_nodes
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.partitions import Fenced, Lease
from hotline.store.voice_nodes import LostNode

log = logging.getLogger(__name__)


class BadInboxRow(ValueError):
    """An inbox row that names no command the engine takes (it is skipped and logged)."""


def inbox_command(row: PartitionInboxRow, now: float) -> Command:
    """The routing command an inbox row asks for, stamped ``now``.

    >>> row = PartitionInboxRow(id=1, partition="hefei", kind="answer",
    ...                         payload={"contact_id": "c1", "agent_id": "a001"}, accepted_at=0.0)
    >>> inbox_command(row, 5.0)
    OfferAnswered(at=5.0, contact_id='c1', agent_id='a001')
    """
    p = row.payload
    try:
        match row.kind:
            case "contact":
                channel = p.get("channel")
                priority = p.get("priority")
                return ContactQueued(
                    at=now,
                    contact_id=str(p["contact_id"]),
                    queue=str(p["queue"]),
                    channel=Channel(channel) if channel else None,
                    customer=p.get("customer"),
                    # a voice node's caller, after its IVR (the node logged the arrival)
                    priority=int(priority) if priority else None,
                    language=p.get("language"),
                    log_arrival=not p.get("voice_node"),
                    preferred_agent=p.get("preferred_agent"),
                    preferred_for_s=float(p.get("preferred_for_s") or 0.0),
                    caller_site=p.get("caller_site"),
                )
            case "callback_requested":
                return CallbackRequested(at=now, contact_id=str(p["contact_id"]))
            case "agent_login":
                return AgentLoggedIn(
                    at=now,
                    agent_id=str(p["agent_id"]),
                    ready=bool(p.get("ready", True)),
                    reason=p.get("reason"),
                )
            case "agent_logout":
                return AgentLoggedOut(at=now, agent_id=str(p["agent_id"]))
            case "agent_ready":
                return AgentReady(at=now, agent_id=str(p["agent_id"]))
            case "agent_not_ready":
                return AgentNotReady(at=now, agent_id=str(p["agent_id"]), reason=str(p["reason"]))
            case "answer":
                return OfferAnswered(
                    at=now, contact_id=str(p["contact_id"]), agent_id=str(p["agent_id"])
                )
            case "reject":
                return OfferRejected(
                    at=now, contact_id=str(p["contact_id"]), agent_id=str(p["agent_id"])
                )
            case "hold":
                return ContactHeld(at=now, contact_id=str(p["contact_id"]))
            case "resume":
                return ContactResumed(at=now, contact_id=str(p["contact_id"]))
            case "transfer" if p.get("to_number"):
                return TransferredOut(
                    at=now, contact_id=str(p["contact_id"]), number=str(p["to_number"])
                )
            case "transfer" if p.get("to_queue"):
                return TransferredToQueue(
                    at=now, contact_id=str(p["contact_id"]), queue=str(p["to_queue"])
                )
            case "transfer":
                return TransferredToAgent(
                    at=now, contact_id=str(p["contact_id"]), agent_id=str(p["to_agent"])
                )
            case "consult":
                return ConsultStarted(
                    at=now, contact_id=str(p["contact_id"]), agent_id=str(p["to_agent"])
                )
            case "consult_end":
                return ConsultEnded(
                    at=now, contact_id=str(p["contact_id"]), transfer=bool(p.get("transfer"))
                )
            case "end":
                return ContactEnded(at=now, contact_id=str(p["contact_id"]))
            case "move":
                return ContactMoved(
                    at=now,
                    contact_id=str(p["contact_id"]),
                    queue=p.get("queue"),
                    agent_id=p.get("agent_id"),
                )
            case "abandon":
                return ContactAbandoned(at=now, contact_id=str(p["contact_id"]))
            case "wrap_up_end":
                return WrapUpEnded(
                    at=now,
                    agent_id=str(p["agent_id"]),
                    contact_id=str(p["contact_id"]),
                    disposition=p.get("disposition"),
                )
    except (KeyError, ValueError) as error:
        raise BadInboxRow(f"inbox row {row.id} ({row.kind}): missing or bad {error}") from None
    raise BadInboxRow(f"inbox row {row.id}: unknown kind {row.kind!r}")


#: How many applied inbox rows one ``DELETE`` of the owner's pruning takes at most.
PRUNE_BATCH = 5000


#: Inbox kinds the owner's live driver carries out itself (not one routing command each): a
#: call back promised on a web node (the driver keeps it until it is due), the crisis switch
#: (every queue's rules at once, and the switch in the log) and a saved center configuration
#: (taken up piece by piece, and logged for the web nodes: :mod:`hotline.live.saved_center`).
DRIVER_KINDS = frozenset({"callback", "crisis", saved_center.INBOX_KIND})


async def apply_to_driver(driver: LiveDriver, row: PartitionInboxRow) -> dict[str, Any] | None:
    """Carry out an inbox row of :data:`DRIVER_KINDS` on the owner's ``driver``; return what it
    did (the promised call back, the crisis view), ``None`` when crisis mode already was so.

    Raises :class:`RoutingConflict` when the driver refuses it (a queue or a crisis mode the
    center no longer has) and :class:`BadInboxRow` for a row that names no such action.
    """
    p = row.payload
    try:
        match row.kind:
            case "callback":
                for_contact = p.get("for_contact")
                return driver.schedule_callback(
                    callback_id=str(p["callback_id"]),
                    queue=str(p["queue"]),
                    due_at=float(p["due_at"]),
                    customer=p.get("customer"),
                    requested_by=str(p["requested_by"]),
                    note=str(p.get("note", "")),
                    for_contact=str(for_contact) if for_contact else None,
                )
            case "crisis":
                return await driver.switch_crisis(
                    on=bool(p["on"]), by=str(p["by"]), source="supervisor", reason=str(p["reason"])
                )
            case saved_center.INBOX_KIND:
                try:
                    center = saved_center.center_of(row)
                except saved_center.BadCenterRow as bad:
                    raise BadInboxRow(str(bad)) from None
                driver.reconfigure(center)
                event = saved_center.configured_event(row, at=time.time())
                driver.record(event)  # the web nodes take it up from the log
                log.warning(
                    "center configuration %s saved by %s taken up (inbox row %d)",
                    event.data["version"],
                    event.data["by"],
                    row.id,
                )
                return {**event.data, **driver.apply_status()}
    except BadInboxRow:
        raise
    except (KeyError, ValueError, TypeError) as error:
        raise BadInboxRow(f"inbox row {row.id} ({row.kind}): missing or bad {error}") from None
    raise BadInboxRow(f"inbox row {row.id}: {row.kind!r} is not a driver's action")


@dataclass
class NodeStats:
    """What one node did: terms as owner, rows applied, refusals."""

    terms: int = 0
    applied: int = 0
    conflicts: int = 0
    bad_rows: int = 0
    refused: int = 0
    last_epoch: int = 0
    #: Applied inbox rows deleted (:meth:`PartitionNode._prune_inbox`).
    pruned: int = 0
    restored: list[dict[str, Any]] = field(default_factory=list)


class PartitionNode:
    """A node that routes ``partition`` while it holds the lease, and stands by otherwise."""

    def __init__(
        self,
        *,
        center: CenterConfig,
        partition: str,
        name: str,
        session_factory: sessionmaker[Session],
        lease_s: float = 2.0,
        poll_s: float = 0.05,
        honour_hours: bool = False,
        on_state: Callable[[str, dict[str, Any]], None] | None = None,
        inbox_keep_s: float = 300.0,
        prune_every_s: float = 10.0,
    ) -> None:
        if partition not in {site.id for site in center.sites}:
            known = ", ".join(site.id for site in center.sites) or "none"
            raise ValueError(f"partition {partition!r} is not a site of the center ({known})")
        if lease_s <= 4 * poll_s:
            raise ValueError(f"lease_s ({lease_s}) must be more than 4 × poll_s ({poll_s})")
        if inbox_keep_s < 0 or prune_every_s <= 0:
            raise ValueError(
                f"inbox_keep_s ({inbox_keep_s}) must be 0 or more and prune_every_s "
                f"({prune_every_s}) more than 0"
            )
        self.center = center
        self.partition = partition
        self.name = name
        self.session_factory = session_factory
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.honour_hours = honour_hours
        #: Applied inbox rows older than this are deleted, every ``prune_every_s`` of a term.
        self.inbox_keep_s = inbox_keep_s
        self.prune_every_s = prune_every_s
        self.stats = NodeStats()
        bind = session_factory.kw.get("bind")
        #: Woken by the inbox's NOTIFY on PostgreSQL (polls every ``poll_s`` regardless).
        self._listener = notify.listener(bind, notify.INBOX) if isinstance(bind, Engine) else None
        self.lease: Lease | None = None
        self.driver: LiveDriver | None = None
        #: The voice nodes each agent's phones are registered through (this term's).
        self.phones = VoicePhones()
        #: The answers to desks' transfers out this owner owes (:mod:`hotline.live.transfers`).
        self.answers = TransferAnswers()
        #: The agents this term's engine lent to voice nodes' diallers.
        self.lends = DiallerLends()
        #: Told ``("owner" | "standby" | "stepped_down", details)`` as the node's role changes.
        self.on_state = on_state or (lambda state, details: None)

    async def run(self, stop: asyncio.Event) -> None:
        """Stand by and own the partition in turn until ``stop`` is set."""
        try:
            await self._run(stop)
        finally:
            if self._listener is not None:
                self._listener.close()

    async def _run(self, stop: asyncio.Event) -> None:
        self.on_state("standby", {"partition": self.partition})
        while not stop.is_set():
            try:
                lease = await asyncio.to_thread(
                    partitions.try_acquire,
                    self.session_factory,
                    partition=self.partition,
                    owner=self.name,
                    ttl_s=self.lease_s,
                )
            except Exception:
                log.exception("node %s: asking for the lease failed", self.name)
                lease = None
            if lease is None:
                await _sleep_or(stop, self.poll_s * 4)
                continue
            try:
                await self._own(lease, stop)
            except exc.DBAPIError as lost:
                # The database went away under the owner (a primary killed, a promotion):
                # stand by again rather than die; the lease decides who routes next.
                self.stats.refused += 1
                log.error("node %s steps down: lost the database: %s", self.name, lost.orig)
                self.on_state(
                    "stepped_down",
                    {
                        "partition": self.partition,
                        "epoch": lease.epoch,
                        "why": f"lost the database: {type(lost.orig).__name__}",
                        "write_refused": False,
                    },
                )

    async def _own(self, lease: Lease, stop: asyncio.Event) -> None:
        self.lease = lease
        self.stats.terms += 1
        self.stats.last_epoch = lease.epoch
        # a configuration saved on a web node and taken up by an earlier owner is in force,
        # not this node's file (the log's newest ``configured`` event names it)
        saved = await asyncio.to_thread(self._saved_center)
        if saved is not None:
            self.center = saved
        driver = LiveDriver(
            center=self.center,
            session_factory=self.session_factory,
            honour_hours=self.honour_hours,
            flush_every_s=self.poll_s,
            resume=True,
        )
        self.driver = driver

        fenced = partitions.fenced_writer(lease)
        voices = VoiceNodeWatch(self.session_factory, lease, every_s=self.lease_s / 4)
        phones = self.phones = VoicePhones()
        answers = self.answers = TransferAnswers()
        lends = self.lends = DiallerLends()

        def before_write(session: Session, batch: Sequence[Event], position: int) -> None:
            fenced(session, batch, position)
            voices.before_write(session, batch)
            answers.before_write(session, position)  # desks' transfers out the batch answers

        driver.persistence.before_write = before_write
        driver.persistence.set_mark(lease.inbox_position)
        position = lease.inbox_position
        why = "stopped"
        # the offer of a call back names the voice node that places it (voice_callbacks)
        driver.stamps.append(CallbackPlacement(phones, driver.attached.get))
        try:
            # which live voice nodes each agent's phones are registered through, as they said
            # up to the inbox position (the rows after it are applied next), before the start:
            # a takeover's first offers name a node (voice_callbacks)
            phones.seed(await asyncio.to_thread(self._registrations, position))
            await driver.start()
            # the agents the last owner lent to voice nodes' diallers, as its log says
            outbound = await driver.run(DiallerLends.held_job)
            await asyncio.to_thread(lends.seed, self.session_factory, outbound)
            # records a lost node's calls held, if the owner that wrote its loss died first
            await _giving_back(give_back_lost_records, self.session_factory)
            await asyncio.to_thread(
                partitions.mark_routing, self.session_factory, lease, at=time.time()
            )
            restored = describe(driver.restored) if driver.restored else {}
            self.stats.restored.append(restored)
            self.on_state("owner", {"partition": self.partition, "epoch": lease.epoch, **restored})
            renewed = time.monotonic()
            pruned = time.monotonic()
            while not stop.is_set():
                position = await self._apply_inbox(driver, position, phones, lends)
                if driver.persistence.fenced is not None:
                    raise driver.persistence.fenced
                lost = await voices.claim()
                for node in lost:
                    await driver.run(_closing_job(node))  # so the engine and the log agree
                    phones.node_lost(node.node_id)
                    # its dialler's agents back to the ACD, its calls' records to their lists
                    await driver.run(lends.lost_job(node.node_id, phone=phones.reachable))
                    await _giving_back(give_back_records, self.session_factory, node.node_id)
                if lost:
                    await driver.flush()  # a lost voice node's contacts end in the log at once
                if time.monotonic() - renewed >= self.lease_s / 4:
                    try:
                        held = await asyncio.to_thread(
                            partitions.renew, self.session_factory, lease
                        )
                    except Exception:
                        log.exception("node %s: renewing the lease failed", self.name)
                        held = True  # not refused; the lease's own time limits this below
                    else:
                        renewed = time.monotonic()
                    if not held:
                        raise Fenced(f"partition {self.partition!r}: the lease changed hands")
                    if time.monotonic() - renewed > self.lease_s:
                        raise Fenced(f"partition {self.partition!r}: not renewed for a lease")
                if time.monotonic() - pruned >= self.prune_every_s:
                    pruned = time.monotonic()
                    await self._prune_inbox()
                await self._wait_for_work(stop)
        except Fenced as refused:
            self.stats.refused += 1
            why = str(refused)
            log.error("node %s steps down: %s", self.name, refused)
        finally:
            await driver.stop()  # its last write is fenced too
            if driver.persistence.fenced is not None and why == "stopped":
                why = str(driver.persistence.fenced)
                self.stats.refused += 1
            self.driver = None
            self.lease = None
        if why == "stopped":
            await asyncio.to_thread(partitions.release, self.session_factory, lease)
            self.on_state("stopped", {"partition": self.partition, "epoch": lease.epoch})
        else:
            self.on_state(
                "stepped_down",
                {
                    "partition": self.partition,
                    "epoch": lease.epoch,
                    "why": why,
                    "write_refused": driver.persistence.fenced is not None,
                },
            )

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        """Wait ``poll_s``, or less: until the inbox is written to (PostgreSQL NOTIFY)."""
        if self._listener is None:
            await _sleep_or(stop, self.poll_s)
        else:
            await asyncio.to_thread(self._listener.wait, self.poll_s)

    async def _apply_inbox(
        self,
        driver: LiveDriver,
        position: int,
        phones: VoicePhones | None = None,
        lends: DiallerLends | None = None,
    ) -> int:
        """Apply the inbox rows after ``position`` in order; return the last one applied."""
        rows = await asyncio.to_thread(self._read_inbox, position)
        for row in rows:
            try:
                await apply_inbox_row(driver, row, phones, self.answers, lends)
            except RoutingConflict as conflict:
                self.stats.conflicts += 1
                log.info("node %s: inbox row %d refused: %s", self.name, row.id, conflict)
            except BadInboxRow as bad:
                self.stats.bad_rows += 1
                log.warning("node %s: %s", self.name, bad)
            self.stats.applied += 1
            position = row.id
            driver.persistence.set_mark(position)
        if rows:
            await driver.flush()  # what the rows caused reaches the log (and desks) at once
        return position

    def _saved_center(self) -> CenterConfig | None:
        with self.session_factory() as session:
            newest = saved_center.newest(session)
        return None if newest is None else newest[0]

    async def _prune_inbox(self) -> None:
        """Delete the inbox rows this partition's owner has applied, once older than
        ``inbox_keep_s`` (:func:`hotline.store.partitions.prune_inbox`), a batch a statement
        for up to a tenth of ``prune_every_s``, so a backlog (a first start on an old inbox)
        shrinks faster than a busy inbox grows. A failure is logged: the rows go next time."""
        before = time.time() - self.inbox_keep_s
        until = time.monotonic() + self.prune_every_s / 10
        while True:
            try:
                gone = await asyncio.to_thread(
                    partitions.prune_inbox,
                    self.session_factory,
                    partition=self.partition,
                    before=before,
                    limit=PRUNE_BATCH,
                )
            except Exception:
                log.exception("node %s: pruning the inbox failed", self.name)
                return
            self.stats.pruned += gone
            if gone < PRUNE_BATCH or time.monotonic() >= until:
                return

    def _registrations(self, position: int) -> list[tuple[str, str, bool]]:
        with self.session_factory() as session:
            return voice_nodes.phone_registrations(
                session, partition=self.partition, position=position
            )

    def _read_inbox(self, position: int) -> list[PartitionInboxRow]:
        with self.session_factory() as session:
            rows = partitions.inbox_after(session, partition=self.partition, position=position)
            session.expunge_all()
            return list(rows)


def voice_event(row: PartitionInboxRow) -> Event:
    """The voice node's own event an inbox row carries (numbered 0: the owner numbers it).

    >>> row = PartitionInboxRow(id=3, partition="hefei", kind="voice_event", accepted_at=0.0,
    ...     payload={"at": 1.5, "kind": "arrived", "contact_id": "v-1", "channel": "voice",
    ...              "data": {"caller": "138"}})
    >>> event = voice_event(row)
    >>> event.seq, event.kind.value, event.channel.value, dict(event.data)
    (0, 'arrived', 'voice', {'caller': '138'})
    """
    p = row.payload
    try:
        channel = p.get("channel")
        return Event(
            0,
            float(p["at"]),
            EventKind(p["kind"]),
            p.get("contact_id"),
            p.get("agent_id"),
            p.get("queue"),
            Channel(channel) if channel else None,
            dict(p.get("data") or {}),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise BadInboxRow(f"inbox row {row.id} (voice_event): missing or bad {error}") from None


async def apply_inbox_row(
    driver: LiveDriver,
    row: PartitionInboxRow,
    phones: VoicePhones | None = None,
    answers: TransferAnswers | None = None,
    lends: DiallerLends | None = None,
) -> None:
    """Apply one inbox row: a routing command in the engine task, or the driver's own action.

    A voice node's rows: its own events are numbered into the log (``voice_event``); its
    agents' phones (``phone_registered`` / ``phone_unregistered``, with the node's name) go
    through the one phone policy (:func:`hotline.live.phones.phone_changed`) when the agent's
    first phone on any node registers or the last one goes (``phones`` counts them by node).
    A transfer the node waits on (an agent's REFER, a desk's transfer out) is answered either
    way (:mod:`hotline.live.transfers`; ``answers`` holds what the desks are owed).
    """
    if row.kind in DRIVER_KINDS:
        await apply_to_driver(driver, row)
        return
    if row.kind == "voice_event":
        driver.record(voice_event(row))
        return
    if row.kind in (LEND, RETURN):
        # a voice node's dialler asks for an agent or gives one back (live.dialler_lends)
        lends = lends if lends is not None else DiallerLends()
        phones = phones if phones is not None else VoicePhones()
        try:
            lending = (
                lends.lend_job(row.payload)
                if row.kind == LEND
                else lends.return_job(row.payload, phone=phones.reachable)
            )
        except KeyError as error:
            raise BadInboxRow(f"inbox row {row.id} ({row.kind}): missing {error}") from None
        await driver.run(lending)
        return
    if row.kind in ("phone_registered", "phone_unregistered"):
        try:
            agent_id = str(row.payload["agent_id"])
            node = str(row.payload.get("node_id") or row.payload["voice_node"])
        except KeyError as error:
            raise BadInboxRow(f"inbox row {row.id} ({row.kind}): missing {error}") from None
        phones = phones if phones is not None else VoicePhones()
        registered = row.kind == "phone_registered"
        if not phones.changed(agent_id, node, registered=registered):
            return  # reachable through another node as before

        def policy(engine: RoutingEngine, now: float) -> Any:
            return None, phone_changed(engine, agent_id=agent_id, registered=registered, now=now)

        await driver.run(policy)
        return

    if waits_for_answer(row):
        answering = answers if answers is not None else TransferAnswers()
        await driver.run(answered_transfer(row, inbox_command, answering))
        return

    def job(engine: RoutingEngine, now: float) -> Any:
        command = once(engine, inbox_command(row, now))
        if command is None:
            return None, None  # asked again before the first was applied: done already
        if isinstance(command, ContactQueued):
            attached = {"customer": row.payload.get("customer")}
            if row.payload.get("subject"):  # a contact queued by hand on a web node
                attached["subject"] = row.payload["subject"]
            if row.payload.get("voice_node"):
                # the desktop's screen pop: the caller's number, the IVR's data, and that the
                # call rings on the agent's phone
                attached.update(row.payload.get("data") or {})
                attached["via"] = "phone"
            driver.attached.setdefault(command.contact_id, attached)
        return None, engine.handle(command)

    await driver.run(job)


def once(engine: RoutingEngine, command: Command) -> Command | None:
    """``command`` as it applies to the agent's state now, so a desk's request sent twice
    before the owner applied the first takes effect once: a sign-in for an agent already
    signed in is the state it asks for (ready, or not ready with its reason) — the web node
    chose ``agent_login`` from a log that did not show the first yet — and a sign-out of an
    agent already signed out is nothing (``None``). Anything else is unchanged (a repeated
    ready is already nothing to the engine; a repeated not ready only sets the same reason).

    >>> from hotline.routing.model import RoutingConfig
    >>> engine = RoutingEngine(RoutingConfig(queues=(), agents=()))
    >>> once(engine, AgentLoggedOut(at=1.0, agent_id="a1")) is None
    True
    """
    if isinstance(command, AgentLoggedIn) and command.config is None:
        if not _signed_in(engine, command.agent_id):
            return command
        if command.ready:
            return AgentReady(at=command.at, agent_id=command.agent_id)
        reason = command.reason or engine.agent_reason(command.agent_id) or "login"
        return AgentNotReady(at=command.at, agent_id=command.agent_id, reason=reason)
    if isinstance(command, AgentLoggedOut) and not _signed_in(engine, command.agent_id):
        return None
    return command


def _signed_in(engine: RoutingEngine, agent_id: str) -> bool:
    return engine.agent_state(agent_id) is not AgentState.LOGGED_OUT


def _closing_job(node: LostNode) -> Callable[[RoutingEngine, float], tuple[None, Result]]:
    """The engine job ending a lost voice node's contacts (:func:`close_lost`)."""

    def job(engine: RoutingEngine, now: float) -> tuple[None, Result]:
        return None, close_lost(engine, node, now=now)

    return job


async def _giving_back(give_back: Callable[..., list[int]], *args: Any) -> None:
    """Give a lost node's held records back (a worker thread); a failure is logged, not
    raised: the routing goes on, and the next owner's start gives them back."""
    try:
        await asyncio.to_thread(give_back, *args)
    except Exception:
        log.exception("giving back the records of a lost voice node's calls failed")


async def _sleep_or(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass
