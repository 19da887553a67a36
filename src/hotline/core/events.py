"""The contact event log vocabulary (METRICS.md).

Every driver — live, simulation, replay — writes the same events, and every figure on a
wallboard or report is computed from them. Events are facts in the past tense; the routing
engine and the IVR interpreter emit them as effects and the store appends them, never
updating or deleting one.

A contact's life, in events::

    arrived → (ivr…) → queued → offered → answered → (held/resumed/transferred…)
            → disconnected → wrap_up_ended → finished(outcome=answered)

or ``queued → abandoned → finished(outcome=abandoned)``; every contact gets exactly one
``finished`` event, whose ``outcome`` is one of :data:`OUTCOMES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from hotline.core.values import Value


class Channel(StrEnum):
    """The media a contact arrives on; all share one universal queue."""

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    SMS = "sms"
    APP = "app"
    VIDEO = "video"
    CALLBACK = "callback"
    OUTBOUND = "outbound"


class Direction(StrEnum):
    """Who started the contact."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Outcome(StrEnum):
    """How a contact finished (the ``outcome`` column of the contact record)."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    SELF_SERVED = "self_served"
    IVR_HANGUP = "ivr_hangup"
    OVERFLOWED = "overflowed"
    CALLBACK = "callback"
    CLOSED = "closed"
    FAILED = "failed"
    #: The platform ended the contact: the server crashed or was stopped while the contact
    #: was in progress, and on its way down or its next start closed it (the ``reason`` of
    #: the ``finished`` event says ``crash`` or ``shutdown``).
    INTERRUPTED = "interrupted"


OUTCOMES: frozenset[str] = frozenset(o.value for o in Outcome)


class EventKind(StrEnum):
    """What happened. Contact events carry a contact id; agent events an agent id."""

    # contact events
    ARRIVED = "arrived"
    IVR_STEP = "ivr_step"
    QUEUED = "queued"
    POSITION_ANNOUNCED = "position_announced"
    OFFERED = "offered"
    RING_NO_ANSWER = "ring_no_answer"
    ANSWERED = "answered"
    HELD = "held"
    RESUMED = "resumed"
    TRANSFERRED = "transferred"
    CONSULT_STARTED = "consult_started"
    CONSULT_ENDED = "consult_ended"
    OVERFLOWED = "overflowed"
    CALLBACK_REQUESTED = "callback_requested"
    ABANDONED = "abandoned"
    DISCONNECTED = "disconnected"
    WRAP_UP_ENDED = "wrap_up_ended"
    RECORDING_STARTED = "recording_started"
    RECORDING_STOPPED = "recording_stopped"
    SURVEY_ANSWERED = "survey_answered"
    # an outbound leg's result (callbacks, click-to-dial): answered, no_answer, busy, failed
    DIALLED = "dialled"
    FINISHED = "finished"
    # agent events
    AGENT_STATE = "agent_state"
    # platform events
    ALARM = "alarm"
    # crisis mode switched on or off (``data``: on, by, source, reason), so web nodes show it
    CRISIS = "crisis"
    # a call back promised and kept until due (``data``: callback_id, queue, due_at, customer,
    # requested_by, note, for_contact, case_id), so a new owner or a restart keeps it; the
    # callback's own contact (``contact_id`` = callback_id) is its firing
    CALLBACK_PROMISED = "callback_promised"
    # a saved center configuration the partition's owner took up (``data``: inbox_id — the
    # inbox row holding its text —, version, by), so web nodes and a new owner follow it
    CONFIGURED = "configured"


#: The ``data`` of an event that carries none: one shared, read-only mapping.
NO_DATA: Mapping[str, Any] = MappingProxyType({})


class Event(Value):
    """One fact in the contact event log: immutable once made.

    ``seq`` orders events that share the same instant, so replays repeat exactly.

    >>> e = Event(seq=1, at=0.0, kind=EventKind.QUEUED, contact_id="c1", queue="repair")
    >>> e.kind.value, e.queue
    ('queued', 'repair')
    >>> e.renumbered(7).seq, e.seq
    (7, 1)

    A :class:`~hotline.core.values.Value` rather than a frozen dataclass: the routing engine
    writes about ten of these per contact, and compiled (``hotline.compiled``) this
    constructor is a C function and the ``Final`` attributes are read-only. Interpreted, mypy
    refuses any assignment to them outside ``__init__``. Not hashable: ``data`` is a mapping.
    """

    __slots__ = ("agent_id", "at", "channel", "contact_id", "data", "kind", "queue", "seq")
    __match_args__ = ("seq", "at", "kind", "contact_id", "agent_id", "queue", "channel", "data")

    def __init__(
        self,
        seq: int,
        at: float,
        kind: EventKind,
        contact_id: str | None = None,
        agent_id: str | None = None,
        queue: str | None = None,
        channel: Channel | None = None,
        data: Mapping[str, Any] = NO_DATA,
    ) -> None:
        self.seq: Final = seq
        self.at: Final = at
        self.kind: Final = kind
        self.contact_id: Final = contact_id
        self.agent_id: Final = agent_id
        self.queue: Final = queue
        self.channel: Final = channel
        self.data: Final = data

    def renumbered(self, seq: int) -> Event:
        """The same fact with another sequence number (a log merging several sources)."""
        return Event(
            seq,
            self.at,
            self.kind,
            self.contact_id,
            self.agent_id,
            self.queue,
            self.channel,
            self.data,
        )

    def live_message(self) -> dict[str, Any]:
        """The live message screens receive for this event (``type`` ``event``).

        Its ``seq`` is the event's place in the live log: the position a screen that lost its
        connection resumes from (``/api/events/stream?after=``). The in-process driver, the
        replay of a resumed stream and a web node tailing the log all send this one shape.
        """
        return {"type": "event", **self.as_dict()}

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of this event."""
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind.value,
            "contact_id": self.contact_id,
            "agent_id": self.agent_id,
            "queue": self.queue,
            "channel": self.channel.value if self.channel else None,
            "data": dict(self.data),
        }
