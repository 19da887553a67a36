"""More than one node: who owns each routing partition, and what is sent to the owner.

A routing partition (a site of the center) is routed by exactly one engine instance at a time.
The instance that holds a partition's **lease** row owns it until ``expires_at`` (seconds on
the database's clock, so nodes' clocks may disagree); it renews the lease well before then.
Every time the lease changes hands its ``epoch`` grows by one: the epoch is the owner's
*fencing token*. Each write of the owner — its contact events, the inbox position it has
reached — runs in a transaction that first updates the lease row *where the epoch is still its
own*, so an owner that was paused past its lease (and replaced) has every write refused by the
database when it wakes up.

The **inbox** is how work reaches the owner from any node: a contact is *accepted* when its
row commits; agents' commands (log in, answer, end, wrap up) come the same way. The owner
applies rows in id order and records the last one applied (``inbox_position``) in the same
fenced transaction as the events they produced, so after a takeover the next owner neither
skips nor repeats a row. ``partition_writes`` keeps which epoch wrote which events.

Web nodes keep nothing of their own: the one-use **stream tickets** a browser opens a live
stream with are rows here too, so a ticket issued by one node opens a stream on any other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base, BigIntId


class PartitionLease(Base):
    """The lease on one routing partition: owner, fencing epoch, expiry, inbox position."""

    __tablename__ = "partition_leases"

    partition: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Seconds since the epoch on the database's clock.
    expires_at: Mapped[float] = mapped_column(Float, default=0.0)
    #: The last inbox row the owner applied and wrote the events of.
    inbox_position: Mapped[int] = mapped_column(BigInteger, default=0)
    #: When the owner of ``epoch`` had rebuilt the engine and began routing (its clock).
    routing_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class PartitionInboxRow(Base):
    """One contact or agent command for a partition's owner; accepted once committed."""

    __tablename__ = "partition_inbox"
    __table_args__ = (Index("ix_partition_inbox_partition", "partition", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    partition: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    accepted_at: Mapped[float] = mapped_column(Float)


class PartitionWrite(Base):
    """One fenced batch of contact events: the epoch and owner that wrote it, and how many."""

    __tablename__ = "partition_writes"
    __table_args__ = (Index("ix_partition_writes_partition", "partition", "id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    partition: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[int] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(128))
    events: Mapped[int] = mapped_column(Integer)
    inbox_position: Mapped[int] = mapped_column(BigInteger)


class StreamTicketRow(Base):
    """A stream ticket issued and not yet used (``web.auth``): deleted when it is redeemed."""

    __tablename__ = "stream_tickets"
    __table_args__ = (Index("ix_stream_tickets_expires_at", "expires_at"),)

    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float)
