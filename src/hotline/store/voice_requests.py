"""Desks' requests to voice nodes (``store.models.voice_requests``): made, claimed, answered.

A web node cannot ring a phone: click-to-dial and a transfer to an outside number become a
row (:func:`submit`, in the request's writer transaction with its audit entry) that the voice
node able to carry it out claims (:func:`claim`), carries out and answers (:func:`finish`).
As with the partition lease and voice nodes' heartbeats, every decision is one conditional
``UPDATE`` on the database's clock:

* a claim is ``UPDATE … SET state = 'claimed' WHERE id = ? AND state = 'pending'``, in the
  node's transaction that first renews its heartbeat (a node declared lost claims nothing);
  on PostgreSQL the node reads the pending rows ``FOR UPDATE SKIP LOCKED``, so two nodes
  polling at once never wait on each other's rows, and the ``UPDATE`` makes it once either way;
* before it dials, the node moves its claimed row to ``placing`` (:func:`begin`: ``… WHERE
  state = 'claimed' AND claimed_by = ?``) and dials only if that changed the row; a web node
  that stops waiting fails the row (:func:`give_up`: ``… WHERE state = 'pending'``, then
  ``… WHERE state = 'claimed'``): one of the two wins, so a desk told ``voice_node_silent``
  never gets the call placed late, and a row already ``placing`` is waited for;
* :func:`expire` fails a row nobody claimed within ``claim_s`` of its (last) ``pending``
  (``no_voice_node``: no live node has the agent's phone registered, or carries the call);
  a row claimed by a node that has died (its heartbeat lapsed, or the owner declared it
  lost) before it began placing it goes back to ``pending`` (``retries`` + 1) for another
  node; one that died while ``placing`` fails (``voice_node_lost``: it may have rung the
  phone, so it is not placed twice). The web node waiting for the answer runs it, and so do
  every voice node's poll and the owner's voice-node check;
* :func:`finish` answers only a row its node is placing;
* :func:`prune` deletes, in bounded batches, the rows answered (``done``/``failed``) longer
  ago than a retention (:data:`KEEP_S`, each voice node's ``--requests-keep-s``); a row a desk
  may still wait on (``pending``, ``claimed``, ``placing``) is never deleted, whatever its
  age. The desk's request and what it was told are in the audit log (``voice.dial`` /
  ``voice.transfer_out``, then ``voice.answered``), so the row is needed only while the
  request is open.

>>> from hotline.store.db import make_engine, make_session_factory
>>> from hotline.store.migrate import upgrade
>>> engine = make_engine("sqlite://")
>>> upgrade(engine)
>>> factory = make_session_factory(engine)
>>> with factory() as session:
...     row = submit(session, partition="hefei", kind="dial", agent_id="a001",
...                  number="13800000000", requested_by="a001")
...     session.commit()
>>> with factory() as session:
...     claim(session, row, node_id="n1"), claim(session, row, node_id="n2")
(True, False)
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, select, update
from sqlalchemy.orm import Session

from hotline.store.models.voice_nodes import VoiceLegRow, VoiceNodeRow
from hotline.store.models.voice_requests import VoiceRequestRow
from hotline.store.partitions import database_now

DIAL = "dial"
TRANSFER_OUT = "transfer_out"
KINDS = (DIAL, TRANSFER_OUT)

PENDING, CLAIMED, PLACING, DONE, FAILED = "pending", "claimed", "placing", "done", "failed"
#: The states a request ends in: nobody waits on such a row any more.
FINAL = (DONE, FAILED)

#: How long a request may wait for a voice node to claim it before it fails (s).
CLAIM_S = 3.0

#: How long an answered request's row is kept before :func:`prune` deletes it (s): a day.
KEEP_S = 24 * 3600.0
#: The least retention allowed (s): well past a desk's whole wait for its answer (the claim
#: time, the answer and placing windows of :mod:`hotline.web.api.live.voice_requests`: 18 s),
#: so a row is never deleted between its answer and the desk's reading it.
MIN_KEEP_S = 60.0
#: Rows deleted by one :func:`prune` statement.
PRUNE_BATCH = 1000

#: Why a request failed (the desk shows each in its language: ``desk.voice_<reason>``).
NO_VOICE_NODE = "no_voice_node"
VOICE_NODE_LOST = "voice_node_lost"
REFUSED = "refused"
#: The desk stopped waiting before a node began carrying the request out (nothing placed).
SILENT = "voice_node_silent"


@dataclass(frozen=True)
class Request:
    """A pending request as a voice node reads it."""

    id: int
    kind: str
    agent_id: str
    contact_id: str | None
    number: str
    requested_by: str


@dataclass(frozen=True)
class Outcome:
    """Where a request stands: ``state`` and, once answered, the result."""

    id: int
    state: str
    claimed_by: str | None
    result: dict[str, Any] | None
    #: Seconds since it was made (on the database's clock).
    age_s: float
    #: Seconds since it last became ``pending`` (made, or back after its node died).
    waiting_s: float = 0.0
    #: How often it went back to ``pending`` after its node died.
    retries: int = 0


def _changed(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _fail(session: Session, *where: Any, now: float, reason: str, detail: str) -> int:
    """Fail the requests ``where`` selects (one conditional ``UPDATE``) with ``reason`` and
    ``detail``; return how many it failed."""
    return _changed(
        session.execute(
            update(VoiceRequestRow)
            .where(*where)
            .values(state=FAILED, finished_at=now, result={"reason": reason, "detail": detail})
        )
    )


def submit(
    session: Session,
    *,
    partition: str,
    kind: str,
    agent_id: str,
    number: str,
    requested_by: str,
    contact_id: str | None = None,
) -> int:
    """Add a pending request in the caller's (writer) transaction; return its id."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: one of {', '.join(KINDS)}")
    if kind == TRANSFER_OUT and not contact_id:
        raise ValueError("a transfer to an outside number names the call (contact_id)")
    row = VoiceRequestRow(
        partition=partition,
        kind=kind,
        agent_id=agent_id,
        contact_id=contact_id,
        number=number,
        requested_by=requested_by,
        created_at=database_now(session),
        state=PENDING,
    )
    session.add(row)
    session.flush()
    return int(row.id)


def any_pending(session: Session, *, partition: str) -> bool:
    """Whether the partition has a request waiting for a node (a read: a poll that finds none
    writes nothing)."""
    return bool(
        session.scalar(
            select(VoiceRequestRow.id)
            .where(VoiceRequestRow.partition == partition, VoiceRequestRow.state == PENDING)
            .limit(1)
        )
    )


def pending(session: Session, *, partition: str, limit: int = 50) -> list[Request]:
    """The partition's pending requests, oldest first; on PostgreSQL locked ``FOR UPDATE
    SKIP LOCKED`` until the caller's transaction ends (another node's poll skips them)."""
    query = (
        select(VoiceRequestRow)
        .where(VoiceRequestRow.partition == partition, VoiceRequestRow.state == PENDING)
        .order_by(VoiceRequestRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [
        Request(r.id, r.kind, r.agent_id, r.contact_id, r.number, r.requested_by)
        for r in session.scalars(query)
    ]


def claim(session: Session, request_id: int, *, node_id: str) -> bool:
    """Claim a pending request for voice node run ``node_id``; ``False`` if it is not pending
    any more (another node claimed it, or it expired)."""
    now = database_now(session)
    return bool(
        _changed(
            session.execute(
                update(VoiceRequestRow)
                .where(VoiceRequestRow.id == request_id, VoiceRequestRow.state == PENDING)
                .values(state=CLAIMED, claimed_by=node_id, claimed_at=now)
            )
        )
    )


def claim_for(
    session: Session,
    *,
    partition: str,
    node_id: str,
    agents: Collection[str],
    calls: Collection[str],
) -> list[Request]:
    """Claim the pending requests this node can carry out: a dial for an agent whose phone
    is registered here (``agents``), a transfer of a call it carries (``calls``)."""
    mine = [
        r
        for r in pending(session, partition=partition)
        if (r.kind == DIAL and r.agent_id in agents)
        or (r.kind == TRANSFER_OUT and r.contact_id in calls)
    ]
    return [r for r in mine if claim(session, r.id, node_id=node_id)]


def begin(session: Session, request_id: int, *, node_id: str) -> bool:
    """Mark a request this node claimed ``placing``, just before it dials or transfers;
    ``False`` (carry nothing out) when it is not this node's claim any more: the desk stopped
    waiting (:func:`give_up`), or the node was taken for dead and the request went back to
    ``pending`` (:func:`expire`), perhaps to another node."""
    now = database_now(session)
    return bool(
        _changed(
            session.execute(
                update(VoiceRequestRow)
                .where(
                    VoiceRequestRow.id == request_id,
                    VoiceRequestRow.state == CLAIMED,
                    VoiceRequestRow.claimed_by == node_id,
                )
                .values(state=PLACING, placing_at=now)
            )
        )
    )


def give_up(session: Session, request_id: int, *, waited_s: float) -> bool:
    """The desk stops waiting: fail the request unless a node has begun placing it (or
    answered); ``True`` when this failed it — then no node will carry it out.

    A ``pending`` row fails ``no_voice_node``, a ``claimed`` one ``voice_node_silent``; each
    is one conditional ``UPDATE``, so a node's :func:`begin` comes either before (this
    changes nothing: the desk waits for the node's answer) or after (it changes nothing:
    the node dials nothing)."""
    now = database_now(session)
    unclaimed = _fail(
        session,
        VoiceRequestRow.id == request_id,
        VoiceRequestRow.state == PENDING,
        now=now,
        reason=NO_VOICE_NODE,
        detail=f"no voice node took the request within {waited_s:g} s",
    )
    silent = _fail(
        session,
        VoiceRequestRow.id == request_id,
        VoiceRequestRow.state == CLAIMED,
        now=now,
        reason=SILENT,
        detail=f"the voice node took the request but did not begin it within {waited_s:g} s; "
        "nothing was placed",
    )
    return bool(unclaimed + silent)


def finish(
    session: Session, request_id: int, *, node_id: str, ok: bool, result: dict[str, Any]
) -> bool:
    """Answer a request this node is placing (``done`` or ``failed`` with ``result``);
    ``False`` when it is no longer this node's (it was failed meanwhile: the node was declared
    lost)."""
    now = database_now(session)
    return bool(
        _changed(
            session.execute(
                update(VoiceRequestRow)
                .where(
                    VoiceRequestRow.id == request_id,
                    VoiceRequestRow.state == PLACING,
                    VoiceRequestRow.claimed_by == node_id,
                )
                .values(state=DONE if ok else FAILED, result=result, finished_at=now)
            )
        )
    )


def expire(session: Session, *, partition: str, claim_s: float) -> int:
    """Fail the requests nobody claimed within ``claim_s`` of becoming ``pending``; put back
    to ``pending`` those claimed by a node that died (its heartbeat lapsed, or it was declared
    lost) before it began placing them, and fail those it was placing; return how many rows
    this changed."""
    now = database_now(session)
    waiting_since = func.coalesce(VoiceRequestRow.pending_at, VoiceRequestRow.created_at)
    unclaimed = _fail(
        session,
        VoiceRequestRow.partition == partition,
        VoiceRequestRow.state == PENDING,
        waiting_since < now - claim_s,
        now=now,
        reason=NO_VOICE_NODE,
        detail=f"no voice node took the request within {claim_s:g} s (the agent's phone is "
        "registered on none, or no node carries the call)",
    )
    dead = select(VoiceNodeRow.id).where(
        (VoiceNodeRow.expires_at < now) | VoiceNodeRow.lost_at.is_not(None)
    )
    retried = _changed(
        session.execute(
            update(VoiceRequestRow)
            .where(
                VoiceRequestRow.partition == partition,
                VoiceRequestRow.state == CLAIMED,
                VoiceRequestRow.claimed_by.in_(dead),
            )
            .values(
                state=PENDING,
                claimed_by=None,
                claimed_at=None,
                pending_at=now,
                retries=VoiceRequestRow.retries + 1,
            )
        )
    )
    lost = _fail(
        session,
        VoiceRequestRow.partition == partition,
        VoiceRequestRow.state == PLACING,
        VoiceRequestRow.claimed_by.in_(dead),
        now=now,
        reason=VOICE_NODE_LOST,
        detail="the voice node that was placing the call stopped before it answered",
    )
    return unclaimed + retried + lost


def answered_before(partition: str, before: float, *, limit: int = PRUNE_BATCH) -> Select[Any]:
    """The ids of up to ``limit`` of ``partition``'s requests answered before ``before`` (on
    the database's clock): what :func:`prune` deletes."""
    return (
        select(VoiceRequestRow.id)
        .where(
            VoiceRequestRow.partition == partition,
            VoiceRequestRow.state.in_(FINAL),
            VoiceRequestRow.finished_at < before,
        )
        .limit(limit)
    )


def prune(session: Session, *, partition: str, keep_s: float, limit: int = PRUNE_BATCH) -> int:
    """Delete up to ``limit`` of ``partition``'s answered requests (``done``/``failed``) that
    were answered more than ``keep_s`` ago on the database's clock; return how many went.

    Rows still open (``pending``, ``claimed``, ``placing``) are never deleted, however old:
    a desk or a node may still act on them (:func:`expire` settles them first). One
    statement, in the caller's transaction; the rows are found through
    ``ix_voice_requests_answered`` (``partition``, ``state``, ``finished_at``), so a pass that
    finds nothing to delete reads no row. Idempotent: two voice nodes pruning at once delete
    each row once (on PostgreSQL the second waits for the first's rows, then skips them).
    """
    if keep_s < MIN_KEEP_S:
        raise ValueError(f"keep_s {keep_s:g}: at least {MIN_KEEP_S:g} s")
    if limit < 1:
        raise ValueError(f"limit {limit}: at least 1")
    doomed = answered_before(partition, database_now(session) - keep_s, limit=limit)
    return _changed(
        session.execute(
            delete(VoiceRequestRow)
            .where(VoiceRequestRow.id.in_(doomed))
            .execution_options(synchronize_session=False)
        )
    )


def outcome(session: Session, request_id: int) -> Outcome | None:
    """Where request ``request_id`` stands (``None``: no such request)."""
    row = session.get(VoiceRequestRow, request_id)
    if row is None:
        return None
    now = database_now(session)
    return Outcome(
        id=row.id,
        state=row.state,
        claimed_by=row.claimed_by,
        result=dict(row.result) if row.result is not None else None,
        age_s=now - row.created_at,
        waiting_s=now - (row.pending_at if row.pending_at is not None else row.created_at),
        retries=int(row.retries or 0),
    )


def live_partitions(session: Session) -> list[str]:
    """The partitions that have a live voice node (heartbeat current, not declared lost),
    sorted."""
    now = database_now(session)
    return sorted(
        session.scalars(
            select(VoiceNodeRow.partition)
            .where(VoiceNodeRow.lost_at.is_(None), VoiceNodeRow.expires_at >= now)
            .distinct()
        )
    )


def carried_leg(session: Session, contact_id: str) -> tuple[str | None, str | None] | None:
    """The agent and stage of a call a live voice node carries (``None``: no node does)."""
    row = session.execute(
        select(VoiceLegRow.agent_id, VoiceLegRow.stage)
        .join(VoiceNodeRow, VoiceNodeRow.id == VoiceLegRow.node_id)
        .where(
            VoiceLegRow.contact_id == contact_id,
            VoiceLegRow.closed_at.is_(None),
            VoiceNodeRow.lost_at.is_(None),
        )
    ).first()
    return None if row is None else (row.agent_id, row.stage)


#: Why a transfer out failed when the partition owner's engine refused it (the contact was
#: no longer in the agent's hands there, say); the desk shows ``desk.voice_routing_refused``.
ROUTING_REFUSED = "routing_refused"


def answer_by_owner(session: Session, request_id: int, *, ok: bool, result: dict[str, Any]) -> bool:
    """The partition owner's answer to a transfer out a voice node asked it to apply
    (``done`` once its engine applied it, ``failed`` when it refused), in the owner's fenced
    write; ``False`` when the request is no longer the node's to answer (it failed
    meanwhile: its node died). The node marked it ``placing`` before it asked
    (:func:`begin`). Idempotent: a batch written again answers nothing twice."""
    now = database_now(session)
    return bool(
        _changed(
            session.execute(
                update(VoiceRequestRow)
                .where(
                    VoiceRequestRow.id == request_id,
                    VoiceRequestRow.state.in_((CLAIMED, PLACING)),
                )
                .values(state=DONE if ok else FAILED, result=result, finished_at=now)
            )
        )
    )
