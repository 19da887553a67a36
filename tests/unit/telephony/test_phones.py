"""An agent with several phones (desk phone and softphone): all ring, the first answer wins."""

from __future__ import annotations

import asyncio
import dataclasses

from hotline.telephony.call_center import CallCenter
from hotline.telephony.ports import AgentPhone
from tests.unit.telephony.test_call_center import Rig, _to_queue

PHONES = (AgentPhone("a001", "1001", "pw"), AgentPhone("a001", "1011", "pw"))


def _two_phone_rig() -> Rig:
    rig = Rig()
    settings = dataclasses.replace(rig.center.settings, phones=PHONES)
    rig.center = CallCenter(
        settings=settings, media=rig.media, router=rig.router, sink=rig.sink, clock=rig.clock
    )
    rig.center.signalling = rig.sip
    return rig


def _register_both(rig: Rig) -> None:
    rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
    rig.center.registration_changed("1011", "sip:1011@127.0.0.1:5081")


def test_every_phone_rings_and_the_first_to_answer_takes_the_call() -> None:
    rig = _two_phone_rig()

    async def scenario() -> None:
        _register_both(rig)
        await _to_queue(rig)
        dials = [a for a in rig.sip.actions if a[0] == "dial"]
        assert [d[2] for d in dials] == ["sip:1001@127.0.0.1:5071", "sip:1011@127.0.0.1:5081"]
        rig.center.answered("out-2", "v=0 softphone")  # the softphone answers first
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions  # the desk phone stops ringing
        assert rig.center.calls[rig.contact].agent_leg == "out-2"
        rig.center.answered("out-1", "v=0 late")  # a late answer is ignored
        await rig.settle()
        rig.center.hung_up("out-2")
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    [answered] = rig.data("answered")
    assert answered["wait_s"] == 0.0
    [offered] = [e for e in rig.sink.events if e.kind.value == "offered"]
    assert offered.agent_id == "a001"  # one offer, both phones rang (the dials above)
    assert ("answer", {"call": rig.contact, "to_tag": "agent", "sdp": "v=0 softphone"}) in [
        (c, {k: v for k, v in p.items() if k != "from_tag"}) for c, p in rig.media.commands
    ]


def test_one_phone_busy_leaves_the_other_ringing_and_all_busy_is_ring_no_answer() -> None:
    rig = _two_phone_rig()

    async def scenario() -> None:
        _register_both(rig)
        await _to_queue(rig)
        rig.center.failed("out-1", 486)  # the desk phone is busy
        await rig.settle()
        assert rig.data("ring_no_answer") == []
        rig.center.failed("out-2", 486)
        await rig.settle()
        assert [e.agent_id for e in rig.sink.events if e.kind.value == "ring_no_answer"] == ["a001"]
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())


def test_the_agent_stays_ready_until_the_last_phone_goes_away() -> None:
    rig = _two_phone_rig()

    async def scenario() -> None:
        _register_both(rig)
        rig.center.registration_changed("1001", None)
        assert rig.center.phone_of == {"a001": "sip:1011@127.0.0.1:5081"}
        rig.center.registration_changed("1011", None)
        await rig.center.drain()

    asyncio.run(scenario())
    states = [(d["state"], d.get("reason")) for d in rig.data("agent_state")]
    assert states == [("available", None), ("not_ready", "phone_unregistered")]
