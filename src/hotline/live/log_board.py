"""A web node's wallboard and desk views, kept from the partition owner's event log.

The owner draws its wallboard and desks from its routing engine; a web node has none, so it
folds the owner's committed events (:class:`hotline.live.log_floor.LogFloor`) and draws the
same :class:`~hotline.live.wallboard.Wallboard` and the same desk view
(:class:`~hotline.live.desk_state.DeskState`) from that fold. The web node's log tail feeds
it (:mod:`hotline.web.log_tail`), first with the log's open work and today's events, then
with each batch as it is committed; routes read it from other threads, so every read and
write holds one lock.

What the log cannot tell is left out: a wrap-up's end time (the engine's rule, asked of the
engine on the owner) is ``None``, and attached data beyond the caller's number (a web form's
subject) is the owner's alone. The crisis switch is in the log (``crisis`` events): the board
shows the mode as the owner last switched it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from hotline.config.center import CenterConfig
from hotline.core.events import Event, EventKind
from hotline.live.crisis import CrisisMode, CrisisState
from hotline.live.desk_state import DeskState, OpenOffer
from hotline.live.log_floor import LogFloor, waiting_rows
from hotline.live.wallboard import Wallboard
from hotline.routing.engine import RoutingEngine
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import RoutingConfig


class LogBoard:
    """The board and the desks of a partition, as its log shows them.

    >>> from pathlib import Path
    >>> from hotline.config.validate import load_center
    >>> sample = Path(__file__).parent.parent / "config/samples/appliance_center.yaml"
    >>> board = LogBoard(load_center(sample))
    >>> board.record([Event(1, 10.0, EventKind.QUEUED, "c1", queue="installation")])
    >>> [q["waiting"] for q in board.snapshot(12.0)["queues"] if q["id"] == "installation"]
    [1]
    """

    def __init__(self, center: CenterConfig) -> None:
        self.center = center
        config = routing_config_from_center(center)
        self.floor = LogFloor(_members(config))
        self._ring_timeouts = {q.id: q.ring_timeout_s for q in config.queues}
        self._queues = [(q.id, q.channel.value) for q in config.queues]
        self.wallboard = Wallboard(center)
        self.desk = DeskState()
        # The desks list the call backs the log shows promised and not yet fired.
        self.desk.callbacks = self.floor.promises.pending
        self.crisis = CrisisMode(center.crisis)
        #: The last log position folded (events at or below it are not folded again).
        self.position = 0
        self._day: date | None = None
        self._lock = threading.Lock()

    def reconfigure(self, center: CenterConfig) -> None:
        """Draw with ``center`` from now on (a configuration the owner took up: its queues,
        members, targets, names, teams and crisis rules); what the log showed so far — who
        waits, talks, and today's figures — carries on, as on the owner's wallboard."""
        config = routing_config_from_center(center)
        with self._lock:
            self.center = center
            self.floor.members = {q: list(a) for q, a in _members(config).items()}
            self._ring_timeouts = {q.id: q.ring_timeout_s for q in config.queues}
            self._queues = [(q.id, q.channel.value) for q in config.queues]
            self.wallboard.reconfigure(center)
            self.crisis.config = center.crisis

    def record(self, events: Iterable[Event]) -> None:
        """Fold events in log order (those already folded are skipped)."""
        with self._lock:
            fresh = [e for e in events if e.seq > self.position]
            for event in fresh:
                self._fold(event)
            if fresh:
                self.position = max(self.position, *(e.seq for e in fresh))
            self.wallboard.record(fresh)

    def _fold(self, event: Event) -> None:
        if event.kind is EventKind.CRISIS:
            data = event.data
            self.crisis.state = CrisisState(
                on=bool(data.get("on")),
                since=event.at,
                by=data.get("by"),
                source=data.get("source"),
                reason=data.get("reason"),
            )
            return
        self.floor.record(event)
        self.desk.remember(event, engine=None)
        contact, agent = event.contact_id, event.agent_id
        if contact is None:
            return
        if event.kind is EventKind.ARRIVED and event.data.get("customer"):
            self.desk.attached.setdefault(contact, {})["customer"] = event.data["customer"]
        if event.kind is EventKind.OFFERED and agent is not None:
            channel = event.channel.value if event.channel else "voice"
            kind = str(event.data.get("kind", "queue"))
            self.desk.offers[agent] = OpenOffer(
                contact_id=contact,
                agent_id=agent,
                queue=event.queue,
                channel=channel,
                # As the engine's offer names it: a call back from a queue rings as one.
                kind="callback" if channel == "callback" and kind == "queue" else kind,
                offered_at=event.at,
                ring_timeout_s=self._ring_timeouts.get(event.queue or "", 20.0),
            )
        # An offer ends when the log shows it no longer ringing (answered, declined, timed
        # out, abandoned, finished).
        for holder, offer in list(self.desk.offers.items()):
            held = self.floor.agent_contacts(holder)
            if offer.contact_id == contact and held.get(contact) != "ringing":
                del self.desk.offers[holder]

    def snapshot(self, now: float) -> dict[str, Any]:
        """The wallboard at ``now``, as the owner's driver draws it."""
        with self._lock:
            day = datetime.fromtimestamp(now, self.wallboard.tz).date()
            if day != self._day:  # a new local day: yesterday's finished contacts go
                self._day = day
                self.wallboard.start_day(now)
            self.floor.now = now
            return {**self.wallboard.snapshot(self.floor, now), "crisis": self.crisis.view()}

    def agent_view(self, agent_id: str, now: float) -> dict[str, Any]:
        """One agent's desktop at ``now``."""
        with self._lock:
            presence = self.wallboard.agents.get(agent_id)
            since = presence.since if presence else None
            return self.desk.agent_view(self.floor, agent_id, now, since=since)

    def holding(self, agent_id: str) -> dict[str, str]:
        """The contacts the log shows in the agent's hands, with their stage."""
        with self._lock:
            return self.floor.agent_contacts(agent_id)

    def attached(self, contact_id: str) -> dict[str, Any]:
        """The contact's attached data the log carries (the caller's number)."""
        with self._lock:
            return dict(self.desk.attached.get(contact_id, {}))

    def contact_queue(self, contact_id: str) -> str | None:
        """The queue the log shows the contact in (or last in)."""
        with self._lock:
            return self.floor.contact_queue(contact_id)

    def agent_state(self, agent_id: str) -> str:
        """The agent's state as the log last showed it."""
        with self._lock:
            return self.floor.agent_state(agent_id).value

    def on_hold(self, contact_id: str) -> bool:
        """Whether the log shows the contact on hold."""
        with self._lock:
            return contact_id in self.desk.on_hold

    def crisis_view(self) -> dict[str, Any]:
        """Crisis mode as the log last showed it switched (``CrisisMode.view``)."""
        with self._lock:
            return self.crisis.view()

    def waiting(self, now: float) -> list[dict[str, Any]]:
        """The contacts the log shows waiting at ``now``, queue by queue, in line order."""
        with self._lock:
            return waiting_rows(self.floor, self._queues, now, self.desk.attached)


def _members(config: RoutingConfig) -> dict[str, list[str]]:
    """Each queue's members as the routing engine computes them from ``config``."""
    engine = RoutingEngine(config)
    return {q.id: list(engine.queue_members(q.id)) for q in config.queues}
