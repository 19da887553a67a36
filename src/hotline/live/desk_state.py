"""The desk state: what the agent desktop shows that the routing engine does not keep.

The engine knows which contacts an agent holds and at which stage (ringing, talking, in
wrap-up). The desktop also needs the contact's attached data (the customer's number, the
subject typed at the web form, where a phone call came from), the offer ringing now with its
ring timeout, which contact is on hold or in consultation, when each wrap-up ends, the
disposition chosen, and the call backs an agent promised. The live driver feeds this state
every event and effect the engine produces, in the engine task; the state does no I/O.

When a contact finishes, the state hands a :class:`FinishedContact` to the ``on_finished``
hooks (the customer's contact history) and forgets the contact.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hotline.core.events import Event, EventKind
from hotline.live.log_floor import FloorView
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import CancelOffer, Effect, Offer, StartCallback

log = logging.getLogger(__name__)


@dataclass
class OpenOffer:
    """A contact ringing at an agent, as the desktop shows it."""

    contact_id: str
    agent_id: str
    queue: str | None
    channel: str
    kind: str
    offered_at: float
    ring_timeout_s: float

    def as_dict(self, attached: dict[str, Any]) -> dict[str, Any]:
        """JSON-ready, with the contact's attached data (the screen pop's fallback)."""
        return {
            "type": "offer",
            "contact_id": self.contact_id,
            "agent_id": self.agent_id,
            "queue": self.queue,
            "channel": self.channel,
            "kind": self.kind,
            "offered_at": self.offered_at,
            "ring_timeout_s": self.ring_timeout_s,
            "attached": attached,
        }


@dataclass(frozen=True)
class FinishedContact:
    """A contact the live engine finished, as the ``on_finished`` hooks receive it.

    ``customer`` is the number the contact was attached with (the calling number for voice),
    ``agent_id`` the last agent who answered it, ``attached`` the rest of its attached data.
    """

    contact_id: str
    at: float
    channel: str | None
    queue: str | None
    outcome: str
    customer: str | None
    agent_id: str | None
    disposition: str | None
    attached: dict[str, Any]


OnFinished = Callable[[FinishedContact], None]


class DeskState:
    """The desktop's own state beside the engine's, kept from the engine's events and effects.

    >>> from hotline.core.events import Event, EventKind
    >>> desk = DeskState()
    >>> desk.attached["c1"] = {"customer": "13800000000"}
    >>> finished = []
    >>> desk.on_finished.append(finished.append)
    >>> desk.remember(Event(seq=1, at=5.0, kind=EventKind.FINISHED, contact_id="c1",
    ...                     data={"outcome": "abandoned"}), engine=None)
    >>> finished[0].customer, finished[0].outcome, desk.attached
    ('13800000000', 'abandoned', {})
    """

    def __init__(self, on_finished: Iterable[OnFinished] = ()) -> None:
        #: Each contact's attached data (customer, subject, ...), until it finishes.
        self.attached: dict[str, dict[str, Any]] = {}
        #: The case each live contact continues (a callback's: the contact it was promised in).
        self.cases: dict[str, str] = {}
        #: The offer ringing at each agent.
        self.offers: dict[str, OpenOffer] = {}
        #: When each (agent, contact) wrap-up ends, by the engine's rule.
        self.wrap_until: dict[tuple[str, str], float] = {}
        self.on_hold: set[str] = set()
        #: Contacts whose agent is consulting another agent → the consulted agent.
        self.consults: dict[str, str] = {}
        #: The disposition chosen at the end of each contact's wrap-up.
        self.dispositions: dict[str, str] = {}
        #: Call backs promised and not yet due, by callback id.
        self.callbacks: dict[str, dict[str, Any]] = {}
        #: Called (in the engine task; keep them quick) with every finished contact, e.g. to
        #: add it to the customer's contact history. The desk state knows nothing of the CRM.
        self.on_finished: list[OnFinished] = list(on_finished)
        #: The last agent who answered each contact in progress.
        self.answered_by: dict[str, str] = {}
        #: The number each contact queued by command alone arrived from (for on_finished).
        self.arrived_from: dict[str, str] = {}

    # ------------------------------------------------------------------ effects

    def apply_effects(self, effects: Iterable[Effect], *, now: float) -> list[dict[str, Any]]:
        """Keep the offers and call backs the engine's effects open or cancel.

        Returns the messages screens are to see: each offer (with the contact's attached
        data, the screen pop's fallback) and each cancelled offer.
        """
        messages: list[dict[str, Any]] = []
        for effect in effects:
            if isinstance(effect, Offer):
                offer = OpenOffer(
                    contact_id=effect.contact_id,
                    agent_id=effect.agent_id,
                    queue=effect.queue,
                    channel=effect.channel.value,
                    kind=effect.kind,
                    offered_at=now,
                    ring_timeout_s=effect.ring_timeout_s,
                )
                self.offers[effect.agent_id] = offer
                messages.append(offer.as_dict(self.attached.get(effect.contact_id, {})))
            elif isinstance(effect, CancelOffer):
                current = self.offers.get(effect.agent_id)
                if current is not None and current.contact_id == effect.contact_id:
                    del self.offers[effect.agent_id]
                messages.append(
                    {
                        "type": "offer_cancelled",
                        "contact_id": effect.contact_id,
                        "agent_id": effect.agent_id,
                        "reason": effect.reason,
                    }
                )
            elif isinstance(effect, StartCallback):
                self.attached[effect.callback_id] = {
                    **self.attached.get(effect.contact_id, {}),
                    "callback_for": effect.contact_id,
                }
        return messages

    # ------------------------------------------------------------------ events

    def remember(self, event: Event, *, engine: RoutingEngine | None) -> None:
        """Keep the desktop's own state from one logged event: answered offers, hold,
        consults, wrap-up deadlines (asked of ``engine``), dispositions, finished contacts."""
        kind = event.kind
        contact_id = event.contact_id
        agent_id = event.agent_id
        if kind is EventKind.ANSWERED and agent_id:
            if contact_id:
                self.answered_by[contact_id] = agent_id
            current = self.offers.get(agent_id)
            if current is not None and current.contact_id == contact_id:
                del self.offers[agent_id]
        elif kind is EventKind.HELD and contact_id:
            self.on_hold.add(contact_id)
        elif kind is EventKind.CONSULT_STARTED and contact_id:
            self.consults[contact_id] = str(event.data.get("consulted", ""))
        elif kind is EventKind.CONSULT_ENDED and contact_id:
            self.consults.pop(contact_id, None)
        elif kind in (EventKind.RESUMED, EventKind.DISCONNECTED) and contact_id:
            self.on_hold.discard(contact_id)
        if kind is EventKind.ARRIVED and contact_id and event.data.get("case_id"):
            self.cases[contact_id] = str(event.data["case_id"])
        if kind is EventKind.DISCONNECTED and contact_id and agent_id and engine is not None:
            # The engine's rule (the agent's wrap-up time, else the queue's), not a copy of it.
            due = engine.wrap_up_due(agent_id, contact_id)
            if due is not None:
                self.wrap_until[(agent_id, contact_id)] = due
        elif kind is EventKind.WRAP_UP_ENDED and contact_id and agent_id:
            self.wrap_until.pop((agent_id, contact_id), None)
            if "disposition" in event.data:
                self.dispositions[contact_id] = str(event.data["disposition"])
        elif kind is EventKind.ARRIVED and contact_id and self.on_finished:
            # Contacts queued by command alone (not queue_contact) carry their number here.
            if event.data.get("customer"):
                self.arrived_from[contact_id] = str(event.data["customer"])
        elif kind is EventKind.FINISHED and contact_id:
            attached = self.attached.pop(contact_id, None) or {}
            self.cases.pop(contact_id, None)
            self.on_hold.discard(contact_id)
            answered_by = self.answered_by.pop(contact_id, None)
            number = self.arrived_from.pop(contact_id, None)
            if self.on_finished:
                if number and not attached.get("customer"):
                    attached = {**attached, "customer": number}
                self._finished(event, contact_id, attached, answered_by)

    def _finished(
        self, event: Event, contact_id: str, attached: dict[str, Any], agent_id: str | None
    ) -> None:
        customer = attached.get("customer")
        finished = FinishedContact(
            contact_id=contact_id,
            at=event.at,
            channel=event.channel.value if event.channel else None,
            queue=event.queue,
            outcome=str(event.data.get("outcome", "")),
            customer=str(customer) if customer else None,
            agent_id=agent_id,
            disposition=self.dispositions.get(contact_id),
            attached={k: v for k, v in attached.items() if k != "customer"},
        )
        for hook in self.on_finished:
            try:
                hook(finished)
            except Exception:  # a history writer's bug must not stop routing
                log.exception("live routing: on_finished hook failed")

    # ------------------------------------------------------------------ views

    def agent_view(
        self, engine: FloorView, agent_id: str, now: float, *, since: float | None
    ) -> dict[str, Any]:
        """What one agent's desktop shows: state, reason, contacts in hand, the open offer,
        the call backs they promised (``since``: when the agent entered their state)."""
        contacts = []
        for contact_id, stage in engine.agent_contacts(agent_id).items():
            contacts.append(
                {
                    "contact_id": contact_id,
                    "stage": stage,
                    "queue": engine.contact_queue(contact_id),
                    "on_hold": contact_id in self.on_hold,
                    "consulting": self.consults.get(contact_id),
                    "wrap_until": self.wrap_until.get((agent_id, contact_id)),
                    "attached": self.attached.get(contact_id, {}),
                }
            )
        offer = self.offers.get(agent_id)
        return {
            "agent_id": agent_id,
            "now": now,
            "state": engine.agent_state(agent_id).value,
            "reason": engine.agent_reason(agent_id),
            "since": since,
            "contacts": contacts,
            "offer": offer.as_dict(self.attached.get(offer.contact_id, {})) if offer else None,
            # The call backs this agent promised that are not yet due, soonest first.
            "callbacks": sorted(
                (cb for cb in self.callbacks.values() if cb["requested_by"] == agent_id),
                key=lambda cb: float(cb["due_at"]),
            ),
        }
