"""Voice nodes known to the partition owner, and the contacts each one carries.

A **voice node** is a voice server (``hotline telephony serve --node-name … --partition …``)
that holds SIP calls: the caller's leg and the agent's. Calls live in the node's process and
die with it. So that the center still accounts for them, each node keeps a row here with a
heartbeat on the *database's* clock (``expires_at``, like a partition lease), and marks every
contact it carries — and the agent on it — in ``voice_legs``, in the same transaction as the
contact's events. When a node's heartbeat lapses, the partition owner claims the node
(``lost_at``, with its fencing epoch), ends every contact the node still carried as
``interrupted`` and frees its agents in the event log, and notes that it has (``logged_at``):
each node's loss is written once.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.db import Base


class VoiceNodeRow(Base):
    """One run of a voice node: its name, partition, heartbeat and, once lost, who said so."""

    __tablename__ = "voice_nodes"
    __table_args__ = (Index("ix_voice_nodes_partition", "partition", "lost_at"),)

    #: This run of the node (a new one every start; the name may be reused).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    partition: Mapped[str] = mapped_column(String(64))
    #: The node's SIP address, for people reading the table.
    sip: Mapped[str] = mapped_column(String(128), default="")
    #: Seconds since 1970 on the database's clock.
    started_at: Mapped[float] = mapped_column(Float)
    heartbeat_at: Mapped[float] = mapped_column(Float)
    #: The heartbeat lapses at this time unless renewed (0: the node stopped).
    expires_at: Mapped[float] = mapped_column(Float)
    #: When the partition owner declared the node lost, and under which lease epoch.
    lost_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    lost_epoch: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: When the ends of the node's contacts were written to the log (its loss is handled).
    logged_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class VoiceLegRow(Base):
    """A contact carried by a voice node, and the agent on it now (ringing, talking, wrap-up)."""

    __tablename__ = "voice_legs"
    __table_args__ = (Index("ix_voice_legs_node", "node_id", "closed_at"),)

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: ``ringing``, ``talking`` or ``wrap_up`` while ``agent_id`` is set.
    stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    opened_at: Mapped[float] = mapped_column(Float)
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class VoicePhoneRow(Base):
    """An agent reachable through a voice node run: their first phone there registered and
    the last one has not gone. Written by the node in the transaction of the inbox row that
    says so (``phone_registered`` adds it, ``phone_unregistered`` deletes it), so a new
    partition owner reads where phones are registered from here instead of from every such
    row of the inbox (which the owner prunes)."""

    __tablename__ = "voice_phones"
    __table_args__ = (Index("ix_voice_phones_partition", "partition"),)

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partition: Mapped[str] = mapped_column(String(64))
    #: When the node said so (the node's clock), and the inbox row that said it.
    since: Mapped[float] = mapped_column(Float)
    inbox_id: Mapped[int] = mapped_column(BigInteger)
