"""A voice server as one of a partition's voice nodes: its heartbeat and the legs it carries.

With ``--node-name`` and ``--partition`` a voice server (``hotline telephony serve``) records
itself in ``voice_nodes``, routes through the partition owner (no engine of its own:
:mod:`hotline.telephony.owner_routing`) and keeps a heartbeat there on the database's clock,
renewed with every write of its outbox (at least once a tick), together with the contacts it
carries and the agent on each (``voice_legs``, :func:`hotline.live.voice_nodes.carry`). When
the node dies, the partition owner finds the heartbeat lapsed, ends those contacts and frees
those agents in its engine and the log (:mod:`hotline.live.voice_nodes`). A node the owner
has declared lost (paused past its heartbeat, cut off from the database) is refused its next
write and heartbeat, and stops: its calls were already ended in the log.
:meth:`VoicePresence.before_write` renews and records the legs inside a write of events
through :class:`~hotline.telephony.event_store.DatabaseSink` (a node writing its own events).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Event
from hotline.live.voice_nodes import carry
from hotline.store import voice_nodes, voice_requests
from hotline.store.voice_nodes import Leg, NodeLost

#: The voice server's tick (s): it renews its heartbeat once a tick.
TICK_S = 1.0


@dataclass(frozen=True)
class VoiceNodeOptions:
    """``--node-name``, ``--partition``, ``--heartbeat-s`` and ``--requests-keep-s`` of
    ``telephony serve``.

    >>> VoiceNodeOptions("voice-a", "hefei", heartbeat_s=1.5)
    Traceback (most recent call last):
    ...
    ValueError: --heartbeat-s 1.5: at least 2 s (the heartbeat is renewed once a second)
    >>> VoiceNodeOptions("voice-a", "hefei", requests_keep_s=10)
    Traceback (most recent call last):
    ...
    ValueError: --requests-keep-s 10: at least 60 s (past a desk's wait for its answer)
    """

    name: str
    partition: str
    heartbeat_s: float = 3.0
    #: Desks' answered requests (``voice_requests``) older than this are deleted (s).
    requests_keep_s: float = voice_requests.KEEP_S

    def __post_init__(self) -> None:
        if not self.name or not self.partition:
            raise ValueError("a voice node needs both --node-name and --partition")
        if self.heartbeat_s < 2 * TICK_S:
            raise ValueError(
                f"--heartbeat-s {self.heartbeat_s}: at least {2 * TICK_S:g} s (the heartbeat "
                f"is renewed once a second)"
            )
        if not self.requests_keep_s >= voice_requests.MIN_KEEP_S:  # NaN too
            raise ValueError(
                f"--requests-keep-s {self.requests_keep_s:g}: at least "
                f"{voice_requests.MIN_KEEP_S:g} s (past a desk's wait for its answer)"
            )


class VoicePresence:
    """This voice node's row, heartbeat and legs in the database (blocking calls: run them
    in a worker thread)."""

    def __init__(
        self, session_factory: sessionmaker[Session], options: VoiceNodeOptions, *, sip: str
    ) -> None:
        self.session_factory = session_factory
        self.options = options
        self.sip = sip
        #: This run of the node (the name may be reused by a later run).
        self.node_id = uuid.uuid4().hex
        self.legs: dict[str, Leg] = {}

    def register(self) -> None:
        """Record this run; :class:`~hotline.store.voice_nodes.NodeNameTaken` if the name is
        held by a live node."""
        voice_nodes.register(
            self.session_factory,
            node_id=self.node_id,
            name=self.options.name,
            partition=self.options.partition,
            sip=self.sip,
            ttl_s=self.options.heartbeat_s,
        )

    def beat(self) -> bool:
        """Renew the heartbeat; ``False`` once the owner has declared this node lost."""
        return voice_nodes.heartbeat(
            self.session_factory, self.node_id, ttl_s=self.options.heartbeat_s
        )

    def before_write(self, session: Session, batch: Sequence[Event], mark: int) -> None:
        """First in each write of the node's events: renew (or be refused), record the legs."""
        if not voice_nodes.beat(session, self.node_id, ttl_s=self.options.heartbeat_s):
            raise NodeLost(f"voice node {self.options.name!r} was declared lost by the owner")
        changed = carry(self.legs, batch)
        voice_nodes.write_legs(session, self.node_id, changed.values())
        for contact_id, leg in changed.items():
            if leg.closed_at is None:
                self.legs[contact_id] = leg
            else:
                self.legs.pop(contact_id, None)

    def stop(self) -> None:
        """A graceful stop: let the heartbeat lapse now (the owner closes what is left)."""
        voice_nodes.stopped(self.session_factory, self.node_id)
