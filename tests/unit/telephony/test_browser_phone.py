"""The desk's browser softphone (registered over a WebSocket) gets the relay's WebRTC offer.

rtpengine keeps one offer per side of a call, so the driver offers the caller's SDP again
with the WebRTC flags before ringing a browser, registers the browser's answer as WebRTC
(the caller's side stays plain RTP), and goes back to the plain offer for a desk phone.
"""

from __future__ import annotations

import asyncio
import dataclasses

from hotline.telephony.call_center import CallCenter
from hotline.telephony.media.sdp import placeholder_sdp
from hotline.telephony.ports import AgentPhone
from tests.unit.telephony.test_call_center import Rig, _to_queue

BROWSER = "sip:q7w8e9r0@2f254d15-77c5-4a38-bac0-9794134dc50d.invalid:5060"
DESK_PHONE = "sip:1001@127.0.0.1:5071"
WEBRTC_SDP = placeholder_sdp(40004)  # the fake relay's WebRTC offer
PLAIN_SDP = placeholder_sdp(40000)  # and its plain one


def _rig() -> Rig:
    rig = Rig()
    phones = (
        AgentPhone("a001", "1001", "pw"),
        AgentPhone("a001", "1011", "pw"),
        AgentPhone("a002", "1002", "pw"),
    )
    settings = dataclasses.replace(rig.center.settings, phones=phones)
    rig.center = CallCenter(
        settings=settings, media=rig.media, router=rig.router, sink=rig.sink, clock=rig.clock
    )
    rig.center.signalling = rig.sip
    return rig


def _offers(rig: Rig) -> list[dict[str, object]]:
    return [params for command, params in rig.media.commands if command == "offer"]


def test_an_agent_on_the_browser_softphone_is_rung_there_with_the_webrtc_offer() -> None:
    rig = _rig()

    async def scenario() -> None:
        rig.center.registration_changed("1001", DESK_PHONE)
        rig.center.registration_changed("1011", BROWSER)
        await _to_queue(rig)
        await rig.settle()
        # the caller's SDP offered again, for a browser; only the browser rings
        assert _offers(rig)[-1] == {"call": rig.contact, "from_tag": "caller", "webrtc": True}
        dials = [a for a in rig.sip.actions if a[0] == "dial"]
        assert dials == [("dial", "out-1", BROWSER)]
        assert rig.sip.offers["out-1"] == WEBRTC_SDP
        rig.center.answered("out-1", "v=0 browser")
        await rig.settle()
        # the browser's answer registered as WebRTC: the caller's side stays plain RTP
        assert (
            "answer",
            {
                "call": rig.contact,
                "to_tag": "agent",
                "sdp": "v=0 browser",
                "webrtc": True,
                "keep_ports": True,  # the caller keeps the relay ports it was answered with
            },
        ) in rig.media.commands
        rig.center.hung_up("out-1")
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    [answered] = rig.data("answered")
    assert answered["wait_s"] == 0.0


def test_a_call_transferred_from_the_browser_to_a_desk_phone_gets_the_plain_offer_back() -> None:
    rig = _rig()

    async def scenario() -> None:
        rig.center.registration_changed("1011", BROWSER)
        rig.center.registration_changed("1002", "sip:1002@127.0.0.1:5072")
        await _to_queue(rig)
        await rig.settle()
        [(_, leg, contact)] = [a for a in rig.sip.actions if a[0] == "dial"]
        assert contact == BROWSER and rig.sip.offers[leg] == WEBRTC_SDP
        rig.center.answered(leg, "v=0 browser")
        await rig.settle()
        rig.center.transfer(rig.contact, agent_id="a002")  # from the desk's transfer button
        await rig.settle(0.2)
        (_, second, desk_phone) = [a for a in rig.sip.actions if a[0] == "dial"][-1]
        assert desk_phone == "sip:1002@127.0.0.1:5072"
        assert rig.sip.offers[second] == PLAIN_SDP
        assert _offers(rig)[-1] == {"call": rig.contact, "from_tag": "caller"}
        rig.center.answered(second, "v=0 desk phone")
        await rig.settle()
        assert (
            "answer",
            {"call": rig.contact, "to_tag": "agent", "sdp": "v=0 desk phone", "keep_ports": True},
        ) in rig.media.commands
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())


def test_desk_phones_alone_are_rung_with_the_first_offer() -> None:
    rig = _rig()

    async def scenario() -> None:
        rig.center.registration_changed("1001", DESK_PHONE)
        await _to_queue(rig)
        await rig.settle()
        assert len(_offers(rig)) == 1  # no second offer: the plain one is still good
        assert rig.sip.offers["out-1"] == PLAIN_SDP
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
