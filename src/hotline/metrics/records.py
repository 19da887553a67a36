"""The contact record: one row per contact, folded from the contact event log (METRICS.md).

A contact's events (``arrived → queued → answered → disconnected → wrap_up_ended →
finished``) say what happened moment by moment; most figures only need the summary: when it
queued, when it was answered or abandoned, how long the agent talked, held and wrapped up.
:func:`fold_events` turns the log into those summaries, the same way for live, simulated and
replayed traffic, and :func:`record_problems` states the rules a record must keep.

Timestamps are seconds since the Unix epoch (UTC). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from hotline.core.events import OUTCOMES, Channel, Direction, Event, EventKind, Outcome

CHANNELS: frozenset[str] = frozenset(c.value for c in Channel)
DIRECTIONS: frozenset[str] = frozenset(d.value for d in Direction)


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact, as the interchange format of METRICS.md describes it.

    >>> r = ContactRecord(contact_id="c1", arrived_at=0.0, queued_at=2.0, answered_at=12.0,
    ...                   outcome="answered", agent="a1", queue="repair", talk_s=100.0)
    >>> r.wait_s, r.handle_s
    (10.0, 100.0)
    """

    contact_id: str
    arrived_at: float
    outcome: str
    channel: str = "voice"
    direction: str = "inbound"
    customer: str | None = None
    queue: str | None = None
    priority: int = 0
    queued_at: float | None = None
    answered_at: float | None = None
    abandoned_at: float | None = None
    ended_at: float | None = None
    agent: str | None = None
    team: str | None = None
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrap_s: float = 0.0
    transferred: bool = False
    #: The case this contact continues (the first contact's id): a chat's callback carries the
    #: chat's id. ``None``: the contact is its own case (or the first of one).
    case_id: str | None = None
    #: Where the customer came in when the channel alone does not say: a chat's entry point
    #: (``web`` for the widget, ``wechat`` for a WeChat follower, ``sms``). ``None``: not
    #: recorded (calls, imported records of other systems).
    entry: str | None = None
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def wait_s(self) -> float | None:
        """(answered_at or abandoned_at) - queued_at; ``None`` when it never queued."""
        if self.queued_at is None:
            return None
        left = self.answered_at if self.answered_at is not None else self.abandoned_at
        if left is None:
            return None
        return left - self.queued_at

    @property
    def handle_s(self) -> float:
        """Talk + hold + after-contact work."""
        return self.talk_s + self.hold_s + self.wrap_s


#: Column order of the contact-record CSV (METRICS.md), plus ``team``, ``transferred``,
#: ``case_id`` and ``entry``, which Hotline writes and reads when present.
RECORD_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in fields(ContactRecord) if f.name != "attributes"
)
TIMESTAMP_COLUMNS: tuple[str, ...] = (
    "arrived_at",
    "queued_at",
    "answered_at",
    "abandoned_at",
    "ended_at",
)
DURATION_COLUMNS: tuple[str, ...] = ("talk_s", "hold_s", "wrap_s")

# Clocks of different boxes (IVR, ACD, recorder) disagree by a second or two; a record whose
# answer is logged one second before its queue exit is not wrong, so orderings allow this.
CLOCK_TOLERANCE_S = 2.0


def record_problems(record: ContactRecord) -> list[tuple[str, str]]:
    """Return the rules ``record`` breaks, as ``(column, rule)`` pairs; empty when valid.

    >>> for column, rule in record_problems(
    ...     ContactRecord(contact_id="c", arrived_at=0.0, outcome="answered")
    ... ):
    ...     print(column, "-", rule)
    answered_at - an answered contact needs answered_at
    agent - an answered contact needs an agent
    """
    problems: list[tuple[str, str]] = []
    if not record.contact_id:
        problems.append(("contact_id", "contact_id is required"))
    if record.outcome not in OUTCOMES:
        problems.append(("outcome", f"outcome must be one of {', '.join(sorted(OUTCOMES))}"))
    if record.channel not in CHANNELS:
        problems.append(("channel", f"channel must be one of {', '.join(sorted(CHANNELS))}"))
    if record.direction not in DIRECTIONS:
        problems.append(("direction", "direction must be inbound or outbound"))
    for name in DURATION_COLUMNS:
        if getattr(record, name) < 0:
            problems.append((name, f"{name} must not be negative"))
    for name in TIMESTAMP_COLUMNS[1:]:
        value = getattr(record, name)
        if value is not None and value < record.arrived_at - CLOCK_TOLERANCE_S:
            problems.append((name, f"{name} is before arrived_at"))
    if record.queued_at is not None:
        for name in ("answered_at", "abandoned_at"):
            value = getattr(record, name)
            if value is not None and value < record.queued_at - CLOCK_TOLERANCE_S:
                problems.append((name, f"{name} is before queued_at"))
    if record.answered_at is not None and record.abandoned_at is not None:
        problems.append(("abandoned_at", "a contact cannot be both answered and abandoned"))
    if record.outcome == Outcome.ANSWERED:
        if record.answered_at is None:
            problems.append(("answered_at", "an answered contact needs answered_at"))
        if not record.agent:
            problems.append(("agent", "an answered contact needs an agent"))
    if record.outcome == Outcome.ABANDONED and record.abandoned_at is None:
        problems.append(("abandoned_at", "an abandoned contact needs abandoned_at"))
    return problems


@dataclass
class _Folding:
    """A contact being folded from its events (mutable scratch state)."""

    contact_id: str
    arrived_at: float
    channel: str = "voice"
    direction: str = "inbound"
    customer: str | None = None
    queue: str | None = None
    priority: int = 0
    queued_at: float | None = None
    answered_at: float | None = None
    abandoned_at: float | None = None
    disconnected_at: float | None = None
    ended_at: float | None = None
    agent: str | None = None
    hold_s: float = 0.0
    held_since: float | None = None
    wrap_s: float | None = None
    talk_s: float | None = None
    transferred: bool = False
    outcome: str | None = None
    case_id: str | None = None
    entry: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


def fold_events(
    events: Iterable[Event],
    *,
    teams: Mapping[str, str] | None = None,
    include_unfinished: bool = False,
) -> list[ContactRecord]:
    """Fold a contact event log into one :class:`ContactRecord` per finished contact.

    Events are taken in ``(at, seq)`` order. The first ``queued`` sets ``queued_at`` and the
    queue (a transfer re-queues the same contact, which stays one offered contact); the first
    ``answered`` sets the agent. Talk time runs from answer to disconnect minus time on hold,
    after-contact work from disconnect to ``wrap_up_ended`` (or ``data["talk_s"]``,
    ``data["hold_s"]``, ``data["wrap_s"]`` when the driver states them); ``data["case_id"]``
    (else ``data["callback_for"]``) of ``arrived`` names the case the contact continues (a
    chat's callback, a queued caller's callback), its ``data["entry"]`` where a chat came in
    (``web``, ``wechat``, ``sms``). ``teams`` maps agent ids to team names.
    Contacts without a ``finished`` event are left out unless ``include_unfinished``.

    >>> from hotline.core.events import Event, EventKind
    >>> log = [Event(1, 0.0, EventKind.ARRIVED, "c1"),
    ...        Event(2, 1.0, EventKind.QUEUED, "c1", queue="repair"),
    ...        Event(3, 31.0, EventKind.ANSWERED, "c1", agent_id="a7"),
    ...        Event(4, 151.0, EventKind.DISCONNECTED, "c1", agent_id="a7"),
    ...        Event(5, 181.0, EventKind.WRAP_UP_ENDED, "c1", agent_id="a7"),
    ...        Event(6, 181.0, EventKind.FINISHED, "c1", data={"outcome": "answered"})]
    >>> r = fold_events(log)[0]
    >>> r.wait_s, r.talk_s, r.wrap_s, r.outcome
    (30.0, 120.0, 30.0, 'answered')
    """
    contacts: dict[str, _Folding] = {}
    order: list[str] = []
    for event in sorted(events, key=lambda e: (e.at, e.seq)):
        cid = event.contact_id
        if cid is None:
            continue
        c = contacts.get(cid)
        if c is None:
            c = _Folding(contact_id=cid, arrived_at=event.at)
            contacts[cid] = c
            order.append(cid)
        _apply(c, event)
    teams = teams or {}
    out: list[ContactRecord] = []
    for cid in order:
        c = contacts[cid]
        if c.outcome is None and not include_unfinished:
            continue
        out.append(_finish(c, teams))
    return out


def _apply(c: _Folding, event: Event) -> None:
    kind = event.kind
    data: Mapping[str, Any] = event.data
    if event.channel is not None:
        c.channel = event.channel.value
    if kind is EventKind.ARRIVED:
        c.arrived_at = event.at
        if "direction" in data:
            c.direction = str(data["direction"])
        if data.get("customer") is not None:
            c.customer = str(data["customer"])
        if "priority" in data:
            c.priority = int(data["priority"])
        # A callback continues its contact's case: the live driver names the case of a
        # callback it booked; the engine names the queued contact a callback took over.
        case_id = data.get("case_id") or data.get("callback_for")
        if case_id is not None:
            c.case_id = str(case_id)
        if data.get("entry") is not None:
            c.entry = str(data["entry"])
        for key, value in data.get("attributes", {}).items():
            c.attributes[str(key)] = str(value)
    elif kind is EventKind.QUEUED:
        if c.queued_at is None:
            c.queued_at = event.at
            c.queue = event.queue
        if "priority" in data:
            c.priority = int(data["priority"])
    elif kind is EventKind.ANSWERED:
        if c.answered_at is None:
            c.answered_at = event.at
            c.agent = event.agent_id
    elif kind is EventKind.HELD:
        c.held_since = event.at
    elif kind is EventKind.RESUMED:
        if c.held_since is not None:
            c.hold_s += event.at - c.held_since
            c.held_since = None
    elif kind is EventKind.TRANSFERRED:
        c.transferred = True
    elif kind is EventKind.ABANDONED:
        if c.answered_at is None and c.abandoned_at is None:
            c.abandoned_at = event.at
    elif kind is EventKind.DISCONNECTED:
        if c.held_since is not None:
            c.hold_s += event.at - c.held_since
            c.held_since = None
        c.disconnected_at = event.at
        c.ended_at = event.at
    elif kind is EventKind.WRAP_UP_ENDED:
        if c.disconnected_at is not None:
            c.wrap_s = event.at - c.disconnected_at
    elif kind is EventKind.FINISHED:
        c.outcome = str(data.get("outcome", Outcome.FAILED.value))
        if c.ended_at is None:
            c.ended_at = event.at
    for name in ("talk_s", "hold_s", "wrap_s"):
        if name in data and kind is not EventKind.ARRIVED:
            setattr(c, name, float(data[name]))


def _finish(c: _Folding, teams: Mapping[str, str]) -> ContactRecord:
    talk = c.talk_s
    if talk is None:
        talk = 0.0
        if c.answered_at is not None and c.disconnected_at is not None:
            talk = max(0.0, c.disconnected_at - c.answered_at - c.hold_s)
    return ContactRecord(
        contact_id=c.contact_id,
        arrived_at=c.arrived_at,
        outcome=c.outcome or Outcome.FAILED.value,
        channel=c.channel,
        direction=c.direction,
        customer=c.customer,
        queue=c.queue,
        priority=c.priority,
        queued_at=c.queued_at,
        answered_at=c.answered_at,
        abandoned_at=c.abandoned_at,
        ended_at=c.ended_at,
        agent=c.agent,
        team=teams.get(c.agent) if c.agent else None,
        talk_s=talk,
        hold_s=c.hold_s,
        wrap_s=c.wrap_s or 0.0,
        transferred=c.transferred,
        case_id=c.case_id,
        entry=c.entry,
        attributes=MappingProxyType(dict(c.attributes)),
    )
