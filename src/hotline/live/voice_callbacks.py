"""Which voice node places a call back the partition owner's engine offers (issue #20).

On the one-node server the engine's offer of a callback contact (channel ``callback``) is a
:class:`~hotline.telephony.ports.DialCallback` for the voice driver in the same process: ring
the agent's phone, then dial the customer through the trunk. A partition owner has no SIP
stack; its voice nodes follow its log. So the owner says, in the ``offered`` event itself,
which node places the call and what number it dials (:class:`CallbackPlacement`, the owner
driver's event stamp):

* ``voice_node_id``: the run of the voice node through which the offered agent's phone is
  registered (:class:`~hotline.live.voice_nodes.VoicePhones`, as the nodes told the owner);
  with the phone registered through several, the least run id — one node, and the same one a
  new owner names after a takeover from the same registrations. No node is named when the
  agent has no phone on any node: then, as on the one-node server, nothing is dialled and the
  offer stays on the agent's desktop (they call the customer by hand).
* ``number``: the customer's number, from the callback's ``arrived`` event (the caller it
  was released from, or the promise's customer) or the contact's attached data. ``number``
  is a personal field of the live data (:data:`hotline.web.access.LIVE_PERSONAL_KEYS`), so
  screens of roles that must not see phone numbers get it masked, like ``customer``.

The named node takes the contact as its own leg and places it
(:func:`hotline.telephony.owner_routing.place_callbacks`); any other node ignores it. Pure:
no I/O.

>>> phones = VoicePhones()
>>> _ = phones.changed("a001", "run-b", registered=True)
>>> _ = phones.changed("a001", "run-a", registered=True)
>>> stamp = CallbackPlacement(phones)
>>> arrived = Event(1, 1.0, EventKind.ARRIVED, "v-1:callback", queue="repair",
...                 channel=Channel.CALLBACK, data={"customer": "13800000101"})
>>> stamp(arrived) is arrived
True
>>> offered = stamp(Event(2, 2.0, EventKind.OFFERED, "v-1:callback", "a001", "repair",
...                       Channel.CALLBACK, {"kind": "callback"}))
>>> offered.data
{'kind': 'callback', 'voice_node_id': 'run-a', 'number': '13800000101'}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hotline.core.events import Channel, Event, EventKind
from hotline.live.voice_nodes import VoicePhones

#: The ``offered`` event's data key naming the voice node run that places a call back.
PLACED_BY = "voice_node_id"


def placing_node(phones: VoicePhones, agent_id: str) -> str | None:
    """The voice node (run id) that places a call back offered to ``agent_id``: the least of
    the runs the agent's phone is registered through, ``None`` when there is none.

    >>> phones = VoicePhones()
    >>> placing_node(phones, "a001") is None
    True
    >>> _ = phones.changed("a001", "run-b", registered=True)
    >>> _ = phones.changed("a001", "run-a", registered=True)
    >>> placing_node(phones, "a001")
    'run-a'
    """
    nodes = phones.nodes.get(agent_id)
    return min(nodes) if nodes else None


class CallbackPlacement:
    """The owner's stamp on its engine's events: an ``offered`` of a callback contact gets the
    node that places it and the number it dials (see the module's text).

    ``attached`` gives a contact's attached data (the driver's: a desk's promise, or what a
    takeover read from the log), asked when no ``arrived`` was seen in this owner's term.
    """

    def __init__(
        self,
        phones: VoicePhones,
        attached: Callable[[str], Mapping[str, Any] | None] = lambda contact_id: None,
    ) -> None:
        self.phones = phones
        self.attached = attached
        #: Each callback contact's number, from its ``arrived``, until it finishes.
        self.numbers: dict[str, str] = {}

    def __call__(self, event: Event) -> Event:
        contact_id = event.contact_id
        if contact_id is None or event.channel is not Channel.CALLBACK:
            return event
        if event.kind is EventKind.ARRIVED:
            if event.data.get("customer"):
                self.numbers[contact_id] = str(event.data["customer"])
            return event
        if event.kind is EventKind.FINISHED:
            self.numbers.pop(contact_id, None)
            return event
        if event.kind is not EventKind.OFFERED or not event.agent_id:
            return event
        node = placing_node(self.phones, event.agent_id)
        if node is None:
            return event
        added: dict[str, Any] = {PLACED_BY: node}
        number = self.numbers.get(contact_id) or (self.attached(contact_id) or {}).get("customer")
        if number:
            added["number"] = str(number)
        return Event(
            event.seq,
            event.at,
            event.kind,
            contact_id,
            event.agent_id,
            event.queue,
            event.channel,
            {**event.data, **added},
        )
