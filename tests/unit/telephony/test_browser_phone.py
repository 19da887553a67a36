"""The desk's browser softphone (registered over a WebSocket) gets the relay's WebRTC offer.

rtpengine keeps one offer per side of a call, so the driver offers the caller's SDP again
with the WebRTC flags before ringing a browser, registers the browser's answer as WebRTC
(the caller's side stays plain RTP), and goes back to the plain offer for a desk phone. An
agent with a browser and a desk phone registered is rung on both (each with its kind's
offer); the first to answer takes the call and the other is cancelled.
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


async def _ring_both(rig: Rig) -> tuple[str, str]:
    """a001, registered on a desk phone and the browser, is offered a caller: both phones
    ring together; returns their legs (desk, browser)."""
    rig.center.registration_changed("1001", DESK_PHONE)
    rig.center.registration_changed("1011", BROWSER)
    await _to_queue(rig)
    await rig.settle()
    dials = {contact: leg for _, leg, contact in (a for a in rig.sip.actions if a[0] == "dial")}
    assert set(dials) == {DESK_PHONE, BROWSER}  # both rang: a fork
    desk, browser = dials[DESK_PHONE], dials[BROWSER]
    # each with its own kind's offer: the plain one first, then the caller offered again
    assert rig.sip.offers[desk] == PLAIN_SDP and rig.sip.offers[browser] == WEBRTC_SDP
    assert _offers(rig) == [
        {"call": rig.contact, "from_tag": "caller"},
        {"call": rig.contact, "from_tag": "caller", "webrtc": True},
    ]
    return desk, browser


def test_the_browser_answering_first_takes_the_call_and_the_desk_phone_is_cancelled() -> None:
    rig = _rig()

    async def scenario() -> None:
        desk, browser = await _ring_both(rig)
        rig.center.answered(browser, "v=0 browser")
        await rig.settle()
        assert ("hang_up", desk) in rig.sip.actions  # CANCEL to the desk phone
        assert ("hang_up", browser) not in rig.sip.actions
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
        assert len(_offers(rig)) == 2  # no third offer: the relay's last was the browser's
        rig.center.hung_up(browser)
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    [answered] = rig.data("answered")
    assert answered["wait_s"] == 0.0


def test_the_desk_phone_answering_first_takes_the_call_on_the_plain_offer() -> None:
    rig = _rig()

    async def scenario() -> None:
        desk, browser = await _ring_both(rig)
        rig.center.answered(desk, "v=0 desk phone")
        await rig.settle()
        assert ("hang_up", browser) in rig.sip.actions  # CANCEL to the browser
        assert ("hang_up", desk) not in rig.sip.actions
        # the relay's last offer was the browser's: the caller's SDP is offered plain again
        # before the desk phone's answer is registered (plain, the caller keeping its ports)
        assert _offers(rig)[-1] == {"call": rig.contact, "from_tag": "caller"}
        answer = (
            "answer",
            {"call": rig.contact, "to_tag": "agent", "sdp": "v=0 desk phone", "keep_ports": True},
        )
        at = rig.media.commands.index(answer)
        assert rig.media.commands[at - 1] == ("offer", {"call": rig.contact, "from_tag": "caller"})
        # the relay's plain offer is the one the phone accepted: no re-INVITE needed
        assert ("update", desk) not in rig.sip.actions
        assert len(rig.data("answered")) == 1
        rig.center.hung_up(desk)
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())


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


def test_a_caller_forwarded_after_ringing_a_browser_is_offered_plain_to_the_trunk() -> None:
    rig = _rig()
    rig.center.settings = dataclasses.replace(
        rig.center.settings, trunk="sip:{number}@127.0.0.1:5099"
    )

    async def scenario() -> None:
        rig.center.registration_changed("1011", BROWSER)
        await _to_queue(rig)
        await rig.settle()
        [(_, leg, _)] = [a for a in rig.sip.actions if a[0] == "dial"]
        assert rig.sip.offers[leg] == WEBRTC_SDP  # the relay's last offer: the browser's
        rig.center.failed(leg, 486)  # the agent declines; the caller waits again
        await rig.settle()
        call = rig.center.calls[rig.contact]
        assert rig.center.forwards.start(call, "4008009000")  # e.g. crisis overflow
        await rig.settle()
        (_, trunk_leg, trunk) = [a for a in rig.sip.actions if a[0] == "dial"][-1]
        assert trunk == "sip:4008009000@127.0.0.1:5099"
        # the trunk gets the relay's plain offer, made again for it, not the browser's
        assert _offers(rig)[-1] == {"call": rig.contact, "from_tag": "caller"}
        assert rig.sip.offers[trunk_leg] == PLAIN_SDP
        rig.center.answered(trunk_leg, "v=0 partner")
        await rig.settle()
        assert rig.media.commands[-1] == (
            "answer",
            {"call": rig.contact, "to_tag": "agent", "sdp": "v=0 partner", "keep_ports": True},
        )
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
