"""Partition leases with fencing, and the partition inbox (``store.models.cluster``).

The lease is taken, renewed and checked with single conditional ``UPDATE`` statements, so the
database decides, not the nodes:

* :func:`try_acquire` takes a partition whose lease has lapsed (on the *database's* clock) and
  raises its epoch by one — the new owner's fencing token;
* :func:`renew` pushes the expiry on only while the epoch is still the caller's;
* :func:`fence` is the first statement of every transaction the owner writes in: it updates
  the lease row where the epoch is still the owner's and raises :class:`Fenced` when no row
  matched. On PostgreSQL the ``UPDATE`` holds the lease row's lock until commit, so a takeover
  either waits for the owner's batch to commit (and then reads it from the log) or commits
  first (and then the owner's ``UPDATE``, re-checked against the new row, matches nothing):
  a paused owner that wakes up after losing its lease cannot write.

>>> from hotline.store.db import make_engine, make_session_factory
>>> from hotline.store.migrate import upgrade
>>> engine = make_engine("sqlite://")
>>> upgrade(engine)
>>> factory = make_session_factory(engine)
>>> lease = try_acquire(factory, partition="hefei", owner="node-a", ttl_s=5.0)
>>> lease.epoch, try_acquire(factory, partition="hefei", owner="node-b", ttl_s=5.0)
(1, None)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event
from hotline.store.db import writing
from hotline.store.models.cluster import PartitionInboxRow, PartitionLease, PartitionWrite
from hotline.store.notify import EVENTS, INBOX, notify

#: What an inbox row may ask of the owner.
INBOX_KINDS = frozenset(
    {
        "contact",
        "agent_login",
        "agent_logout",
        "agent_ready",
        "agent_not_ready",
        "answer",
        "reject",
        "hold",
        "resume",
        "transfer",
        "consult",
        "consult_end",
        "end",
        "wrap_up_end",
        "abandon",
        "move",
        "callback",
        "crisis",
        # a center configuration saved on a web node (hotline.live.saved_center)
        "center",
        # from voice nodes (hotline.telephony.owner_routing): their own events, for the owner
        # to number into the log; their agents' phones; a waiting caller asking to be called
        "voice_event",
        "phone_registered",
        "phone_unregistered",
        "callback_requested",
        # a voice node's dialler asking the owner's engine for an agent, and giving one back
        # (hotline.live.dialler_lends)
        "dialler_lend",
        "dialler_return",
    }
)


class Fenced(RuntimeError):
    """The lease moved on: this owner's epoch is no longer the partition's; nothing was written."""


@dataclass(frozen=True)
class Lease:
    """A partition held by ``owner`` under fencing token ``epoch``."""

    partition: str
    owner: str
    epoch: int
    ttl_s: float
    #: The inbox row the previous owner had applied last (the new owner continues after it).
    inbox_position: int


def database_now(session: Session) -> float:
    """Seconds since 1970 on the database server's clock (every node reads the same clock)."""
    if session.get_bind().dialect.name == "postgresql":
        value = session.scalar(text("SELECT extract(epoch FROM clock_timestamp())"))
    else:
        value = session.scalar(text("SELECT (julianday('now') - 2440587.5) * 86400.0"))
    return float(value)


def try_acquire(
    session_factory: sessionmaker[Session], *, partition: str, owner: str, ttl_s: float
) -> Lease | None:
    """Take ``partition`` if its lease has lapsed (or was never taken); ``None`` if it is held."""
    with writing(session_factory()) as session:
        if session.get(PartitionLease, partition) is None:
            session.add(
                PartitionLease(
                    partition=partition, owner=None, epoch=0, expires_at=0.0, inbox_position=0
                )
            )
            try:
                session.flush()
            except Exception:
                # Another node inserted it at the same moment: the UPDATE below decides.
                session.rollback()
                writing(session)
        now = database_now(session)
        row = session.execute(
            update(PartitionLease)
            .where(PartitionLease.partition == partition, PartitionLease.expires_at < now)
            .values(
                owner=owner,
                epoch=PartitionLease.epoch + 1,
                expires_at=now + ttl_s,
                routing_at=None,
            )
            .returning(PartitionLease.epoch, PartitionLease.inbox_position)
        ).one_or_none()
        session.commit()
    if row is None:
        return None
    return Lease(partition, owner, int(row.epoch), ttl_s, int(row.inbox_position))


def _bounded(session: Session, lease: Lease) -> None:
    """Let PostgreSQL end this transaction if its client stops in the middle of it.

    An owner's transaction holds the lease row from its first ``UPDATE`` to its commit. An
    owner paused (SIGSTOP, a frozen VM) between the two would hold the row — and so every
    takeover — for as long as it is paused. With ``idle_in_transaction_session_timeout`` the
    server ends such a session after half a lease: the lock goes, a standby takes over, and
    the paused owner finds its connection closed when it wakes (then its lease gone).
    """
    if session.get_bind().dialect.name == "postgresql":
        limit_ms = max(100, int(lease.ttl_s * 500))
        session.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {limit_ms}"))


def _changed(result: Any) -> int:
    """How many rows an ``UPDATE`` changed."""
    return int(cast(CursorResult[Any], result).rowcount)


def _held(lease: Lease) -> Any:
    return (
        (PartitionLease.partition == lease.partition)
        & (PartitionLease.epoch == lease.epoch)
        & (PartitionLease.owner == lease.owner)
    )


def renew(session_factory: sessionmaker[Session], lease: Lease) -> bool:
    """Push the lease's expiry on by its ``ttl_s``; ``False`` when it has changed hands.

    A lease that lapsed but was not taken by anyone is renewed: its epoch is unchanged, so no
    other owner wrote in between.
    """
    with writing(session_factory()) as session:
        _bounded(session, lease)
        now = database_now(session)
        done = _changed(
            session.execute(
                update(PartitionLease).where(_held(lease)).values(expires_at=now + lease.ttl_s)
            )
        )
        session.commit()
    return bool(done)


def fence(session: Session, lease: Lease, *, inbox_position: int | None = None) -> None:
    """Check, inside the caller's transaction, that ``lease`` still holds; raise :class:`Fenced`.

    With ``inbox_position``, also record that the inbox was applied up to that row (the
    events of those rows are written in this same transaction).
    """
    _bounded(session, lease)
    values: dict[str, Any] = {"epoch": lease.epoch}
    if inbox_position is not None:
        values["inbox_position"] = inbox_position
    done = _changed(session.execute(update(PartitionLease).where(_held(lease)).values(**values)))
    if not done:
        raise Fenced(
            f"partition {lease.partition!r}: epoch {lease.epoch} of {lease.owner!r} is no "
            "longer the lease's; the write is refused"
        )


def record_write(session: Session, lease: Lease, *, events: int, inbox_position: int) -> None:
    """Note in the fenced transaction which epoch wrote how many events."""
    session.execute(
        insert(PartitionWrite).values(
            partition=lease.partition,
            epoch=lease.epoch,
            owner=lease.owner,
            events=events,
            inbox_position=inbox_position,
        )
    )


def fenced_writer(lease: Lease) -> Callable[[Session, Sequence[Event], int], None]:
    """The check an owner's event-log writer runs first in every batch (``flush(before=…)``).

    It fences (raising :class:`Fenced`), records the inbox position the batch reaches and which
    epoch wrote it, and tells listeners (:data:`~hotline.store.notify.EVENTS`) on commit.
    """
    news = json.dumps({"partition": lease.partition, "epoch": lease.epoch})

    def before(session: Session, batch: Sequence[Event], position: int) -> None:
        fence(session, lease, inbox_position=position)
        record_write(session, lease, events=len(batch), inbox_position=position)
        if batch:
            notify(session, EVENTS, news)

    return before


def mark_routing(session_factory: sessionmaker[Session], lease: Lease, *, at: float) -> None:
    """Record that the owner of ``lease`` has rebuilt its engine and routes (fenced)."""
    with writing(session_factory()) as session:
        fence(session, lease)
        session.execute(update(PartitionLease).where(_held(lease)).values(routing_at=at))
        session.commit()


def release(session_factory: sessionmaker[Session], lease: Lease) -> bool:
    """Give the partition up now (a graceful stop): a standby may take it at once."""
    with writing(session_factory()) as session:
        _bounded(session, lease)
        done = _changed(
            session.execute(update(PartitionLease).where(_held(lease)).values(expires_at=0.0))
        )
        session.commit()
    return bool(done)


def current(session: Session, partition: str) -> PartitionLease | None:
    """The lease row of ``partition`` as it is now."""
    return session.get(PartitionLease, partition)


def accept(
    session: Session, *, partition: str, kind: str, payload: dict[str, Any], at: float
) -> int:
    """Add one row to ``partition``'s inbox (accepted when the caller commits); return its id."""
    if kind not in INBOX_KINDS:
        raise ValueError(f"inbox kind {kind!r} is not one of {sorted(INBOX_KINDS)}")
    if session.get_bind().dialect.name == "postgresql":
        # Ids are drawn at insert but become visible at commit: without this lock a row with a
        # smaller id could commit after the owner read past it, and never be applied. Writers
        # to one partition's inbox take turns, so ids commit in order (SQLite has one writer).
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('hotline.inbox:' || :partition))"),
            {"partition": partition},
        )
    row = PartitionInboxRow(partition=partition, kind=kind, payload=dict(payload), accepted_at=at)
    session.add(row)
    session.flush()
    notify(session, INBOX, partition)  # the owner applies it as soon as it commits
    return int(row.id)


def inbox_after(
    session: Session, *, partition: str, position: int, limit: int = 500
) -> Sequence[PartitionInboxRow]:
    """The inbox rows of ``partition`` after ``position``, oldest first."""
    return session.scalars(
        select(PartitionInboxRow)
        .where(PartitionInboxRow.partition == partition, PartitionInboxRow.id > position)
        .order_by(PartitionInboxRow.id)
        .limit(limit)
    ).all()


#: Inbox kinds never pruned: a saved center configuration's row (``center``) holds the text
#: that the log's ``configured`` event names, which web nodes starting later and every new
#: owner read (:mod:`hotline.live.saved_center`); saves are rare, so they are all kept.
KEPT_KINDS = frozenset({"center"})


def prune_inbox(
    session_factory: sessionmaker[Session], *, partition: str, before: float, limit: int = 5000
) -> int:
    """Delete up to ``limit`` rows of ``partition``'s inbox that its owner has applied and
    that were accepted before ``before``; return how many went.

    A row at or below the lease's ``inbox_position`` is never read again: the position is
    written only in the owner's fenced transactions, with the events those rows caused, and
    it only rises, so every later owner starts after it (rows not yet applied — a voice
    node's or a web node's newest — are above it and stay). Where phones are registered is
    kept in ``voice_phones``, not read back from old rows. The position is read by the
    ``DELETE`` itself, so this needs no fencing: a stale owner running it deletes nothing a
    new one needs. ``before`` keeps recent applied rows for people reading the table. Rows of
    :data:`KEPT_KINDS` stay: they are read again after they are applied.

    The table's newest row is never deleted: SQLite gives a new row the largest id in the
    table plus one, so an emptied inbox would number its next rows from 1 again — below the
    owner's position, and never applied (PostgreSQL's sequence never goes back).
    """
    applied = (
        select(PartitionLease.inbox_position)
        .where(PartitionLease.partition == partition)
        .scalar_subquery()
    )
    newest = select(func.max(PartitionInboxRow.id)).scalar_subquery()
    doomed = (
        select(PartitionInboxRow.id)
        .where(
            PartitionInboxRow.partition == partition,
            PartitionInboxRow.id <= applied,
            PartitionInboxRow.id < newest,
            PartitionInboxRow.accepted_at < before,
            PartitionInboxRow.kind.not_in(KEPT_KINDS),
        )
        .order_by(PartitionInboxRow.id)
        .limit(limit)
    )
    with writing(session_factory()) as session:
        gone = _changed(
            session.execute(
                delete(PartitionInboxRow)
                .where(PartitionInboxRow.id.in_(doomed))
                .execution_options(synchronize_session=False)
            )
        )
        session.commit()
    return gone
