"""Overflow and ageing in the voice path: the routing engine's rules from the center file."""

from __future__ import annotations

import asyncio

from hotline.config.validate import load_center
from hotline.routing.model import OverflowAction
from hotline.telephony.acd import voice_routing_config
from hotline.telephony.server import SAMPLE_CENTER
from tests.unit.telephony.test_call_center import _engine_rig


def test_voice_config_keeps_ageing_and_exits_and_callbacks_only_with_a_trunk() -> None:
    config = voice_routing_config(load_center(SAMPLE_CENTER))
    queues = {q.id: q for q in config.queues}
    assert any(q.ageing for q in config.queues)  # ageing steps come from the center file
    assert all(q.calendar is None for q in config.queues)  # hours stay with the IVR
    actions = {r.action for q in config.queues for r in q.overflow}
    assert actions == {
        OverflowAction.QUEUE,
        OverflowAction.VOICEMAIL,
        OverflowAction.CLOSED_MESSAGE,
    }
    first = queues["complaints"].overflow[0]
    assert (first.value, first.target) == (180, "repair")
    with_trunk = voice_routing_config(load_center(SAMPLE_CENTER), callbacks=True)
    installation = {q.id: q for q in with_trunk.queues}["installation"]
    assert [r.action.value for r in installation.overflow] == [
        "callback",
        "voicemail",
        "closed_message",
    ]


def test_a_complaint_waiting_too_long_overflows_to_repair_and_rings_there() -> None:
    rig = _engine_rig()

    async def scenario() -> None:
        rig.center.incoming("in-1", caller="13800000000", called="400", sdp="v=0")
        await rig.settle()
        await rig.key("2")  # English
        await rig.settle(0.05)
        await rig.key("3")  # complaints
        await rig.settle(0.05)
        assert rig.center.calls[rig.contact].queue == "complaints"
        rig.clock.advance(181)  # the sample center: complaints overflow to repair after 180 s
        rig.center.tick()
        await rig.settle()
        assert rig.center.calls[rig.contact].queue == "repair"
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")  # a001: repair, en
        await rig.settle()
        assert ("dial", "out-1", "sip:1001@127.0.0.1:5071") in rig.sip.actions
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    [overflowed] = [e for e in rig.sink.events if e.kind.value == "overflowed"]
    assert (overflowed.queue, overflowed.data["to"]) == ("complaints", "repair")
    offered = [e for e in rig.sink.events if e.kind.value == "offered"]
    assert offered[-1].queue == "repair"
