"""A voice node placing the call backs its partition's owner offers (issue #20): the node the
``offered`` names takes the contact as its leg and runs the one-node server's outbound flow
(the agent's phone, then the customer through the trunk), its steps sent to the owner; no
other node acts; an offer anew dials nothing twice. Real voice driver, SIP and media fakes."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from hotline.core.events import Channel, Event, EventKind
from hotline.identity.roles import PersonalField
from hotline.live.voice_callbacks import PLACED_BY, CallbackPlacement
from hotline.live.voice_nodes import VoicePhones
from hotline.telephony.call_center import CallCenter
from hotline.telephony.owner_routing import NodeOutbox, OwnerRouter, carry_out, log_decisions
from hotline.telephony.ports import AgentPhone, DialCallback
from hotline.web.access import mask_personal
from tests.unit.telephony.test_call_center import Rig
from tests.unit.telephony.test_transfer_out import TRUNK

CALLBACK = "v-1:callback"
NUMBER = "13800000101"
A006 = AgentPhone("a006", "1006", "pw6")


class _Presence:
    def __init__(self, node_id: str) -> None:
        self.node_id = node_id

    class options:  # noqa: N801 - the shape of VoiceNodeOptions that NodeOutbox reads
        name = "voice-a"
        partition = "hefei"


def _node(node_id: str) -> tuple[Rig, NodeOutbox]:
    """A voice node's driver routed by an :class:`OwnerRouter`, with a trunk, a001's and
    a006's phones registered here."""
    rig = Rig()
    outbox = NodeOutbox(_Presence(node_id))  # type: ignore[arg-type]
    router = OwnerRouter(outbox, site_of_number=lambda number: None)
    settings = dataclasses.replace(
        rig.center.settings, phones=(*rig.center.settings.phones, A006), trunk=TRUNK
    )
    rig.center = CallCenter(
        settings=settings, media=rig.media, router=router, sink=rig.sink, clock=rig.clock
    )
    rig.center.signalling = rig.sip
    rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
    rig.center.registration_changed("1006", "sip:1006@127.0.0.1:5076")
    outbox._rows.clear()  # the phones' registrations
    return rig, outbox


def _offered(agent: str = "a001", node: str | None = "run-a") -> Event:
    data: dict[str, Any] = {"kind": "callback", "number": NUMBER}
    if node is not None:
        data[PLACED_BY] = node
    return Event(9, 1.0, EventKind.OFFERED, CALLBACK, agent, "installation", Channel.CALLBACK, data)


def _owner(rig: Rig, outbox: NodeOutbox, kind: EventKind, agent: str | None = None) -> None:
    event = Event(10, rig.clock.now(), kind, CALLBACK, agent, "installation", Channel.CALLBACK)
    carry_out(rig.center, outbox, [event])


def _rows(outbox: NodeOutbox) -> list[tuple[str, dict[str, Any]]]:
    return [(kind, payload) for kind, payload, _ in outbox._rows]


def _dials(rig: Rig) -> list[tuple[str, str]]:
    return [(a[1], a[2]) for a in rig.sip.actions if a[0] == "dial"]


def test_a_call_backs_offer_is_the_voice_drivers_dial_callback() -> None:
    assert log_decisions(_offered()) == [DialCallback(CALLBACK, "a001", NUMBER, 0.0)]


def test_the_owner_names_the_node_the_agents_phone_is_registered_through_and_the_number() -> None:
    phones = VoicePhones()
    stamp = CallbackPlacement(phones, {CALLBACK: {"customer": "13900000009"}}.get)
    offered = Event(2, 2.0, EventKind.OFFERED, CALLBACK, "a001", "installation", Channel.CALLBACK)
    assert stamp(offered) is offered, "no phone on any node: nobody dials, the desk calls by hand"
    phones.changed("a001", "run-b", registered=True)
    phones.changed("a001", "run-a", registered=True)
    assert stamp(offered).data == {PLACED_BY: "run-a", "number": "13900000009"}
    # a voice call's offer is not a call back's: nothing added
    voice = Event(3, 2.0, EventKind.OFFERED, "v-2", "a001", "installation", Channel.VOICE)
    assert stamp(voice) is voice
    # the number shown to a role that may not see phone numbers is masked like ``customer``
    shown = mask_personal(stamp(offered).live_message(), frozenset({PersonalField.PHONE}))
    assert "13900000009" not in str(shown) and "0009" in str(shown)
    phones.node_lost("run-a")
    assert stamp(offered).data[PLACED_BY] == "run-b", "the survivor places it"


def test_the_named_node_rings_the_agent_then_dials_the_customer_and_tells_the_owner() -> None:
    rig, outbox = _node("run-a")

    async def scenario() -> None:
        assert carry_out(rig.center, outbox, [_offered()]) == 1
        await rig.settle()
        assert outbox.carries(CALLBACK) and outbox.legs[CALLBACK].stage == "ringing"
        assert _dials(rig) == [("ob-1", "sip:1001@127.0.0.1:5071")]
        rig.center.answered("ob-1", "v=0 a001 phone")
        await rig.settle()
        assert _dials(rig)[-1] == ("ob-2", f"sip:{NUMBER}@127.0.0.1:5099")  # via the trunk
        rig.center.answered("ob-2", "v=0 customer")
        await rig.settle()
        rig.center.hung_up("ob-2")  # the customer hangs up
        await rig.settle()
        assert ("hang_up", "ob-1") in rig.sip.actions
        steps = [(kind, p.get("contact_id")) for kind, p in _rows(outbox)]
        assert steps == [("answer", CALLBACK), ("end", CALLBACK)], "its steps, to the owner"
        # the node's own events (to the owner's log through the node's sink): the dial's
        # result; the routing events (offered, answered, disconnected) are the owner's
        own = [e for e in rig.sink.events if e.contact_id == CALLBACK]
        assert [e.kind.value for e in own] == ["dialled", "recording_started"]
        assert own[0].data["result"] == "answered"
        # the owner's wrap-up and finish close the leg
        _owner(rig, outbox, EventKind.DISCONNECTED, "a001")
        _owner(rig, outbox, EventKind.FINISHED)
        assert not outbox.carries(CALLBACK)
        await rig.center.drain()

    asyncio.run(scenario())


def test_exactly_one_of_two_nodes_places_it_and_an_offer_anew_dials_nothing_twice() -> None:
    (rig_a, outbox_a), (rig_b, outbox_b) = _node("run-a"), _node("run-b")

    async def scenario() -> None:
        for rig, outbox in ((rig_a, outbox_a), (rig_b, outbox_b)):
            carry_out(rig.center, outbox, [_offered()])
            await rig.settle()
        assert len(_dials(rig_a)) == 1 and _dials(rig_b) == [], "only the named node dials"
        assert not outbox_b.carries(CALLBACK)
        # a new owner offers it anew to the same agent through the same node (a takeover):
        # the phone that rings goes on ringing, nothing is dialled twice
        carry_out(rig_a.center, outbox_a, [_offered()])
        await rig_a.settle()
        assert len(_dials(rig_a)) == 1
        # offered anew to a006 here: a001's phone stops, a006's rings
        carry_out(rig_a.center, outbox_a, [_offered("a006")])
        await rig_a.settle()
        assert ("hang_up", "ob-1") in rig_a.sip.actions
        assert _dials(rig_a)[-1] == ("ob-2", "sip:1006@127.0.0.1:5076")
        # the owner withdraws it unanswered: the phone stops and the leg closes here
        _owner(rig_a, outbox_a, EventKind.RING_NO_ANSWER, "a006")
        await rig_a.settle()
        assert ("hang_up", "ob-2") in rig_a.sip.actions
        assert not outbox_a.carries(CALLBACK)
        # offered next through node B: B takes it, A does nothing
        for rig, outbox in ((rig_a, outbox_a), (rig_b, outbox_b)):
            carry_out(rig.center, outbox, [_offered(node="run-b")])
            await rig.settle()
        assert len(_dials(rig_a)) == 2 and _dials(rig_b) == [("ob-1", "sip:1001@127.0.0.1:5071")]
        assert outbox_b.carries(CALLBACK) and not outbox_a.carries(CALLBACK)
        # and offered back to node A before anyone answered: B stops and lets go, A rings
        for rig, outbox in ((rig_a, outbox_a), (rig_b, outbox_b)):
            carry_out(rig.center, outbox, [_offered()])
            await rig.settle()
        assert ("hang_up", "ob-1") in rig_b.sip.actions and not outbox_b.carries(CALLBACK)
        assert outbox_a.carries(CALLBACK) and _dials(rig_a)[-1][0] == "ob-3"
        for rig in (rig_a, rig_b):
            await rig.center.drain()

    asyncio.run(scenario())


def test_an_offer_naming_no_node_is_left_to_the_desk() -> None:
    rig, outbox = _node("run-a")

    async def scenario() -> None:
        assert carry_out(rig.center, outbox, [_offered(node=None)]) == 0
        await rig.settle()
        assert _dials(rig) == [] and not outbox.carries(CALLBACK)

    asyncio.run(scenario())
