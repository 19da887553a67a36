"""Voice nodes' heartbeats and carried contacts (``store.models.voice_nodes``).

Like the partition lease (:mod:`hotline.store.partitions`), every decision is one conditional
``UPDATE`` on the database's clock, so the database decides, not the nodes:

* a voice node's heartbeat (:func:`beat`) pushes ``expires_at`` on only while the node has not
  been declared lost; it is also the first statement of every transaction in which the node
  writes its events and legs, so a node declared lost cannot write again (it stops);
* the partition owner claims a node (:func:`claim_lapsed`) only where ``expires_at`` has
  passed and nobody claimed it, inside the owner's fenced transaction: on PostgreSQL the two
  ``UPDATE`` statements on the node's row take turns, so either the node's write commits first
  (and the owner then reads its legs as they are) or the claim does (and the node's write is
  refused);
* the ends of a lost node's contacts are written by the owner's event log writer, in the same
  transaction as :func:`mark_logged`, so the loss is written to the log once even if an owner
  dies in between (the next owner finds the node claimed but not logged, and writes it).

>>> from hotline.store.db import make_engine, make_session_factory
>>> from hotline.store.migrate import upgrade
>>> engine = make_engine("sqlite://")
>>> upgrade(engine)
>>> factory = make_session_factory(engine)
>>> register(factory, node_id="n1", name="voice-a", partition="hefei", sip="", ttl_s=3.0)
>>> heartbeat(factory, "n1", ttl_s=3.0)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.store.db import writing
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.voice_nodes import VoiceLegRow, VoiceNodeRow, VoicePhoneRow
from hotline.store.partitions import database_now


class NodeNameTaken(RuntimeError):
    """Another run of a voice node with this name is alive (its heartbeat has not lapsed)."""


class NodeLost(RuntimeError):
    """The partition owner declared this voice node lost: it must not write again."""


@dataclass(frozen=True)
class Leg:
    """A contact a voice node carries, and the agent on it now (``stage``: ringing, talking,
    wrap_up), as :func:`hotline.live.voice_nodes.carry` folds it from the node's events."""

    contact_id: str
    opened_at: float
    queue: str | None = None
    channel: str | None = None
    agent_id: str | None = None
    stage: str | None = None
    #: When the contact finished on the node (``None`` while it goes on).
    closed_at: float | None = None


@dataclass(frozen=True)
class LostNode:
    """A voice node the owner has claimed as lost, what it still carried, and which of its
    agents are on another node's call (and so are not freed)."""

    node_id: str
    name: str
    lost_at: float
    legs: tuple[Leg, ...]
    busy_elsewhere: frozenset[str]


def _changed(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def register(
    session_factory: sessionmaker[Session],
    *,
    node_id: str,
    name: str,
    partition: str,
    sip: str,
    ttl_s: float,
) -> None:
    """Record a new run of voice node ``name``; :class:`NodeNameTaken` if one is alive."""
    with writing(session_factory()) as session:
        now = database_now(session)
        alive = session.scalars(
            select(VoiceNodeRow.id).where(
                VoiceNodeRow.name == name,
                VoiceNodeRow.lost_at.is_(None),
                VoiceNodeRow.expires_at >= now,
            )
        ).first()
        if alive is not None:
            raise NodeNameTaken(
                f"voice node {name!r} is already running (run {alive}); give this one another "
                "--node-name, or wait for its heartbeat to lapse"
            )
        session.add(
            VoiceNodeRow(
                id=node_id,
                name=name,
                partition=partition,
                sip=sip,
                started_at=now,
                heartbeat_at=now,
                expires_at=now + ttl_s,
            )
        )
        session.commit()


def beat(session: Session, node_id: str, *, ttl_s: float) -> bool:
    """Renew the node's heartbeat in the caller's transaction; ``False`` once it is lost."""
    now = database_now(session)
    return bool(
        _changed(
            session.execute(
                update(VoiceNodeRow)
                .where(VoiceNodeRow.id == node_id, VoiceNodeRow.lost_at.is_(None))
                .values(heartbeat_at=now, expires_at=now + ttl_s)
            )
        )
    )


def heartbeat(session_factory: sessionmaker[Session], node_id: str, *, ttl_s: float) -> bool:
    """Renew the node's heartbeat; ``False`` when the owner has declared it lost."""
    with writing(session_factory()) as session:
        alive = beat(session, node_id, ttl_s=ttl_s)
        session.commit()
    return alive


def stopped(session_factory: sessionmaker[Session], node_id: str) -> None:
    """A graceful stop: the heartbeat lapses now, so the owner closes what is left at once."""
    with writing(session_factory()) as session:
        session.execute(
            update(VoiceNodeRow)
            .where(VoiceNodeRow.id == node_id, VoiceNodeRow.lost_at.is_(None))
            .values(expires_at=0.0)
        )
        session.commit()


def write_legs(session: Session, node_id: str, legs: Iterable[Leg]) -> None:
    """Record the node's legs as they are now (in the transaction of the events they follow).

    A contact's leg moves to the node that writes it open (a call back placed through another
    node after its offer was withdrawn here); a node's late close of a leg another node has
    taken since is not written."""
    for leg in legs:
        row = session.get(VoiceLegRow, leg.contact_id)
        if row is not None and row.node_id != node_id and leg.closed_at is not None:
            continue
        if row is None:
            row = VoiceLegRow(contact_id=leg.contact_id, node_id=node_id, opened_at=leg.opened_at)
            session.add(row)
        row.node_id = node_id
        row.queue = leg.queue
        row.channel = leg.channel
        row.agent_id = leg.agent_id
        row.stage = leg.stage
        row.closed_at = leg.closed_at
    session.flush()


def lost_among(session: Session, node_ids: Iterable[str]) -> list[str]:
    """Which of ``node_ids`` (runs) the partition owner has declared lost."""
    wanted = sorted(set(node_ids))
    if not wanted:
        return []
    return list(
        session.scalars(
            select(VoiceNodeRow.id).where(
                VoiceNodeRow.id.in_(wanted), VoiceNodeRow.lost_at.is_not(None)
            )
        )
    )


def claim_lapsed(session: Session, *, partition: str, epoch: int) -> list[str]:
    """Declare lost every voice node of ``partition`` whose heartbeat has lapsed (in the
    owner's fenced transaction); return their run ids."""
    now = database_now(session)
    return list(
        session.scalars(
            update(VoiceNodeRow)
            .where(
                VoiceNodeRow.partition == partition,
                VoiceNodeRow.lost_at.is_(None),
                VoiceNodeRow.expires_at < now,
            )
            .values(lost_at=now, lost_epoch=epoch)
            .returning(VoiceNodeRow.id)
        ).all()
    )


def _leg(row: VoiceLegRow) -> Leg:
    return Leg(
        contact_id=row.contact_id,
        opened_at=row.opened_at,
        queue=row.queue,
        channel=row.channel,
        agent_id=row.agent_id,
        stage=row.stage,
    )


def unlogged(session: Session, *, partition: str) -> list[LostNode]:
    """The lost voice nodes of ``partition`` whose contacts' ends are not yet in the log."""
    nodes = session.scalars(
        select(VoiceNodeRow)
        .where(
            VoiceNodeRow.partition == partition,
            VoiceNodeRow.lost_at.is_not(None),
            VoiceNodeRow.logged_at.is_(None),
        )
        .order_by(VoiceNodeRow.lost_at, VoiceNodeRow.id)
    ).all()
    lost: list[LostNode] = []
    for node in nodes:
        legs = session.scalars(
            select(VoiceLegRow)
            .where(VoiceLegRow.node_id == node.id, VoiceLegRow.closed_at.is_(None))
            .order_by(VoiceLegRow.opened_at, VoiceLegRow.contact_id)
        ).all()
        agents = {leg.agent_id for leg in legs if leg.agent_id}
        elsewhere = session.scalars(
            select(VoiceLegRow.agent_id)
            .join(VoiceNodeRow, VoiceNodeRow.id == VoiceLegRow.node_id)
            .where(
                VoiceLegRow.node_id != node.id,
                VoiceLegRow.closed_at.is_(None),
                VoiceLegRow.agent_id.in_(agents),
                VoiceNodeRow.lost_at.is_(None),
            )
        ).all()
        lost.append(
            LostNode(
                node_id=node.id,
                name=node.name,
                lost_at=float(node.lost_at or 0.0),
                legs=tuple(_leg(leg) for leg in legs),
                busy_elsewhere=frozenset(str(a) for a in elsewhere),
            )
        )
    return lost


def mark_logged(session: Session, node_id: str, contact_ids: Sequence[str]) -> bool:
    """Note, in the transaction writing them, that the ends of a lost node's contacts are in
    the log; close those legs. ``False`` when it was noted already (nothing changed)."""
    now = database_now(session)
    done = _changed(
        session.execute(
            update(VoiceNodeRow)
            .where(VoiceNodeRow.id == node_id, VoiceNodeRow.logged_at.is_(None))
            .values(logged_at=now)
        )
    )
    if done and contact_ids:
        session.execute(
            update(VoiceLegRow)
            .where(VoiceLegRow.contact_id.in_(list(contact_ids)), VoiceLegRow.closed_at.is_(None))
            .values(closed_at=now)
        )
    if done:  # the node's phones went with it
        session.execute(delete(VoicePhoneRow).where(VoicePhoneRow.node_id == node_id))
    return bool(done)


def note_phone(
    session: Session,
    *,
    node_id: str,
    partition: str,
    agent_id: str,
    registered: bool,
    at: float,
    inbox_id: int,
) -> None:
    """Keep ``voice_phones`` as the node's inbox row ``inbox_id`` says, in its transaction:
    the agent's first phone through the node registered (a row), or the last one gone (none)."""
    row = session.get(VoicePhoneRow, (node_id, agent_id))
    if registered:
        if row is None:
            session.add(
                VoicePhoneRow(
                    node_id=node_id,
                    agent_id=agent_id,
                    partition=partition,
                    since=at,
                    inbox_id=inbox_id,
                )
            )
        else:
            row.since, row.inbox_id = at, inbox_id
    elif row is not None:
        session.delete(row)
    session.flush()


def phone_registrations(
    session: Session, *, partition: str, position: int
) -> list[tuple[str, str, bool]]:
    """``(agent, node run, True)`` for each agent's phones registered through a live voice
    node of ``partition`` *as the owner had applied the inbox up to row* ``position``: a new
    owner's count of where each agent is reachable, to which it then applies the rows after
    ``position`` (a lost or replaced run's phones are left out).

    ``voice_phones`` holds the registrations as the nodes have written them, which may be
    ahead of ``position``. A node says ``phone_registered`` and ``phone_unregistered`` for an
    agent in turn (the first phone there, then the last gone), so for a pair with rows after
    ``position`` the state at ``position`` is the opposite of the first of them; the others
    are as the table says. The table is read first: a node's write committing between the two
    reads then shows in the rows after ``position``, which decide for that pair. Reads the
    table and the inbox after ``position`` only (not the whole inbox: the owner prunes it)."""
    live = set(
        session.scalars(
            select(VoiceNodeRow.id).where(
                VoiceNodeRow.partition == partition, VoiceNodeRow.lost_at.is_(None)
            )
        )
    )
    if not live:
        return []
    registered = {
        (str(agent_id), str(node_id))
        for node_id, agent_id in session.execute(
            select(VoicePhoneRow.node_id, VoicePhoneRow.agent_id).where(
                VoicePhoneRow.partition == partition
            )
        )
        if node_id in live
    }
    later = session.execute(
        select(PartitionInboxRow.kind, PartitionInboxRow.payload)
        .where(
            PartitionInboxRow.partition == partition,
            PartitionInboxRow.id > position,
            PartitionInboxRow.kind.in_(("phone_registered", "phone_unregistered")),
        )
        .order_by(PartitionInboxRow.id)
    ).all()
    decided: set[tuple[str, str]] = set()
    for kind, payload in later:
        node_id, agent_id = (payload or {}).get("node_id"), (payload or {}).get("agent_id")
        if node_id not in live or not agent_id:
            continue
        pair = (str(agent_id), str(node_id))
        if pair in decided:
            continue
        decided.add(pair)
        if kind == "phone_registered":
            registered.discard(pair)  # not yet registered at ``position``
        else:
            registered.add(pair)  # still registered at ``position``
    return [(agent_id, node_id, True) for agent_id, node_id in sorted(registered)]
