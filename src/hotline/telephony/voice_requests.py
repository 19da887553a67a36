"""A voice node carries out what desks on web nodes ask of it: click-to-dial, transfers out.

A web node has no SIP stack; a desk's click-to-dial or transfer to an outside number there
becomes a row in ``voice_requests`` (:mod:`hotline.store.voice_requests`). Each voice node
(``hotline telephony serve --node-name … --partition …``) runs a :class:`VoiceRequestPoller`:
every ``poll_s`` it looks for pending requests (a read) and, when there are some, claims —
in one transaction that first renews its heartbeat (a node declared lost claims nothing) —
those it can carry out: a dial for an agent whose phone is registered through this node, a
transfer of a call this node carries. Before it carries one out it marks it ``placing``
(:func:`voice_requests.begin`, a conditional ``UPDATE``) and carries it out only if that
succeeded — a desk that stopped waiting meanwhile, or a request put back for another node
because this one was taken for dead, is left alone. It carries each out on its own call
center (the same :meth:`CallCenter.originate` and :meth:`CallCenter.transfer_out` the
one-process server's routes call) and answers it: the contact id, or the reason it refused.
A transfer out is the partition owner's to decide first: the node checks it, asks the owner,
and the owner answers the request (:mod:`hotline.live.transfers`); the call moves when the
owner's ``transferred`` reaches the node's log. Once a second it also runs
:func:`voice_requests.expire` on the database's clock (requests no node claimed in time
fail, those of a node that died go back to ``pending`` or fail), so nothing stays pending
when no web node waits any more. Once a minute it deletes the partition's requests answered
longer ago than ``--requests-keep-s`` (a day by default; :func:`voice_requests.prune`), in
batches of its own short transactions, so the table holds the open requests and a day of
answers; every desk's request and what it was told are in the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from hotline.store import voice_nodes, voice_requests
from hotline.store.db import reading, writing
from hotline.store.voice_requests import Request
from hotline.telephony.outbound import OriginationRefused
from hotline.telephony.owner_routing import OwnerRouter
from hotline.telephony.ports import TransferRefused
from hotline.telephony.voice_node import VoicePresence

log = logging.getLogger(__name__)

#: How often a voice node looks for requests (s): a desk's dial waits for it.
POLL_S = 0.1
#: How long a request may wait for a node before it fails (``no_voice_node``).
CLAIM_S = voice_requests.CLAIM_S
#: How often a node fails the requests nobody took in time, or whose node died (s).
EXPIRE_EVERY_S = 1.0
#: How often a node deletes the answered requests past their retention (s).
PRUNE_EVERY_S = 60.0
#: The most batches (:data:`voice_requests.PRUNE_BATCH` rows each) one pass deletes: a
#: backlog (a first start on an old table) goes at up to 10 000 rows a minute per node, far
#: faster than desks dial, and no pass holds SQLite's write lock for long.
PRUNE_BATCHES = 10


class Carrier(Protocol):
    """The voice node's call center, as requests use it."""

    @property
    def phone_of(self) -> dict[str, str]:
        """The agents with a phone registered here → the phone's contact."""

    @property
    def calls(self) -> dict[str, Any]:
        """The calls this node carries, by contact id."""

    async def originate(self, *, agent_id: str, number: str, reason: str = "click_to_dial") -> str:
        """Click-to-dial; raises ``OriginationRefused``."""

    def transfer_out(self, contact_id: str, number: str) -> None:
        """Blind transfer to an outside number; raises ``TransferRefused``."""

    def may_transfer_out(self, contact_id: str) -> Any:
        """Raises ``TransferRefused`` when the call cannot go to an outside number."""


class VoiceRequestPoller:
    """Claims, carries out and answers desks' requests on one voice node."""

    def __init__(
        self,
        center: Carrier,
        session_factory: sessionmaker[Session],
        *,
        node_id: str,
        partition: str,
        heartbeat_s: float,
        poll_s: float = POLL_S,
        claim_s: float = CLAIM_S,
        keep_s: float = voice_requests.KEEP_S,
        prune_every_s: float = PRUNE_EVERY_S,
    ) -> None:
        if not keep_s >= voice_requests.MIN_KEEP_S or not prune_every_s > 0:
            raise ValueError(
                f"keep_s ({keep_s:g}) must be at least {voice_requests.MIN_KEEP_S:g} s and "
                f"prune_every_s ({prune_every_s:g}) more than 0"
            )
        self.center = center
        self.session_factory = session_factory
        self.node_id = node_id
        self.partition = partition
        self.heartbeat_s = heartbeat_s
        self.poll_s = poll_s
        self.claim_s = claim_s
        #: Answered requests older than this are deleted, every ``prune_every_s``.
        self.keep_s = keep_s
        self.prune_every_s = prune_every_s
        self.carried_out = 0
        #: Answered requests this node deleted (:meth:`prune`).
        self.pruned = 0
        self._expire_at = 0.0
        self._prune_at = 0.0

    def _claim(self, agents: Collection[str], calls: Collection[str]) -> list[Request]:
        expiring = time.monotonic() >= self._expire_at
        if not expiring:
            # Most polls find nothing: a read, so an idle node writes once a second at most.
            with reading(self.session_factory(), purpose="a voice node's poll") as session:
                if not voice_requests.any_pending(session, partition=self.partition):
                    return []
        with writing(self.session_factory()) as session:
            if expiring:
                self._expire_at = time.monotonic() + EXPIRE_EVERY_S
                voice_requests.expire(session, partition=self.partition, claim_s=self.claim_s)
            mine: list[Request] = []
            if voice_nodes.beat(session, self.node_id, ttl_s=self.heartbeat_s):
                mine = voice_requests.claim_for(
                    session,
                    partition=self.partition,
                    node_id=self.node_id,
                    agents=agents,
                    calls=calls,
                )
            session.commit()
        return mine

    def _begin(self, request: Request) -> bool:
        with writing(self.session_factory()) as session:
            began = voice_requests.begin(session, request.id, node_id=self.node_id)
            session.commit()
        if not began:
            log.warning(
                "voice request %d is not this node's any more (the desk stopped waiting, or "
                "it went to another node): not carried out",
                request.id,
            )
        return began

    def _finish(self, request: Request, *, ok: bool, result: dict[str, Any]) -> None:
        with writing(self.session_factory()) as session:
            if not voice_requests.finish(
                session, request.id, node_id=self.node_id, ok=ok, result=result
            ):
                log.warning("voice request %d was failed before this node answered", request.id)
            session.commit()

    async def _carry_out(self, request: Request) -> tuple[bool, dict[str, Any]] | None:
        try:
            if request.kind == voice_requests.DIAL:
                contact_id = await self.center.originate(
                    agent_id=request.agent_id, number=request.number
                )
                return True, {"contact_id": contact_id}
            assert request.contact_id is not None
            if self._asks_owner(request):
                return None  # the partition owner answers it, having applied it or not
            self.center.transfer_out(request.contact_id, request.number)
            return True, {"contact_id": request.contact_id}
        except (OriginationRefused, TransferRefused) as refused:
            return False, {"reason": voice_requests.REFUSED, "detail": str(refused)}

    def _asks_owner(self, request: Request) -> bool:
        """A transfer out on a node routed by the partition owner: checked here (the call
        connected, no consult open, a trunk: :meth:`CallCenter.may_transfer_out`, raising
        :class:`TransferRefused`), then asked of the owner, which applies it (or refuses) and
        answers the request in its own fenced write (:mod:`hotline.live.transfers`); the call
        moves only when the owner's ``transferred`` reaches this node's log
        (:func:`~hotline.telephony.owner_routing.carry_out`). Returns False for a call center
        that routes itself (it transfers at once)."""
        router = getattr(self.center, "router", None)
        if not isinstance(router, OwnerRouter):
            return False
        assert request.contact_id is not None
        self.center.may_transfer_out(request.contact_id)
        router.ask_transfer_out(
            contact_id=request.contact_id, number=request.number, voice_request=request.id
        )
        return True

    def prune(self) -> int:
        """Delete the partition's requests answered more than ``keep_s`` ago, a batch a
        transaction, up to :data:`PRUNE_BATCHES` batches; return how many went."""
        gone = 0
        for _ in range(PRUNE_BATCHES):
            with writing(self.session_factory()) as session:
                batch = voice_requests.prune(
                    session,
                    partition=self.partition,
                    keep_s=self.keep_s,
                    limit=voice_requests.PRUNE_BATCH,
                )
                session.commit()
            gone += batch
            if batch < voice_requests.PRUNE_BATCH:
                break
        self.pruned += gone
        return gone

    async def step(self) -> int:
        """Claim and carry out what this node can, then prune when due (after, so that a
        desk's request never waits for a prune); return how many it claimed."""
        agents, calls = set(self.center.phone_of), set(self.center.calls)
        claimed = await asyncio.to_thread(self._claim, agents, calls)
        for request in claimed:
            if not await asyncio.to_thread(self._begin, request):
                continue
            outcome = await self._carry_out(request)
            self.carried_out += 1
            if outcome is None:
                log.info("voice request %d (%s) asked of the owner", request.id, request.kind)
                continue
            ok, result = outcome
            await asyncio.to_thread(self._finish, request, ok=ok, result=result)
            log.info("voice request %d (%s) %s: %s", request.id, request.kind, ok, result)
        if time.monotonic() >= self._prune_at:
            self._prune_at = time.monotonic() + self.prune_every_s
            try:
                gone = await asyncio.to_thread(self.prune)
            except Exception:
                log.exception("voice requests: pruning failed (the rows go next time)")
            else:
                if gone:
                    log.info("voice requests: %d answered ones deleted", gone)
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set (a failed poll is logged and retried)."""
        while not stop.is_set():
            try:
                await self.step()
            except Exception:
                log.exception("voice requests: the poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll_s)


def start_poller(
    center: Carrier,
    session_factory: sessionmaker[Session],
    presence: VoicePresence,
    stop: asyncio.Event,
) -> asyncio.Task[None]:
    """Start the voice node's poller (``telephony serve`` with ``--node-name``) until ``stop``."""
    poller = VoiceRequestPoller(
        center,
        session_factory,
        node_id=presence.node_id,
        partition=presence.options.partition,
        heartbeat_s=presence.options.heartbeat_s,
        keep_s=presence.options.requests_keep_s,
    )
    return asyncio.create_task(poller.run(stop), name="voice-requests")
