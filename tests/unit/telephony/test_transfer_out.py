"""Blind transfer to an outside number: the agent's leg ends and the agent wraps up, the
caller is forwarded through the trunk of the queue's site with the relay's plain offer, and
the routing engine logs ``transferred`` (``to: number``) once, for desk phones and browsers."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from hotline.identity.roles import hidden_fields
from hotline.telephony.forwarding import TONE_REPEAT
from hotline.telephony.ports import TransferRefused
from hotline.web.access import mask_personal
from tests.unit.telephony.test_browser_phone import BROWSER, PLAIN_SDP, WEBRTC_SDP
from tests.unit.telephony.test_browser_phone import _rig as _browser_rig
from tests.unit.telephony.test_call_center import Rig, _to_queue, run
from tests.unit.telephony.test_transfer import _connected_to_a001

TRUNK = "sip:{number}@127.0.0.1:5099"
MOBILE = "13900001111"


def _with_trunk(rig: Rig, fallbacks: dict[str, tuple[str, ...]] | None = None) -> Rig:
    rig.center.settings = dataclasses.replace(
        rig.center.settings, trunk=TRUNK, forward_fallbacks=fallbacks or {}
    )
    return rig


def _dials(rig: Rig) -> list[tuple[str, str]]:
    return [(leg, contact) for _, leg, contact in (a for a in rig.sip.actions if a[0] == "dial")]


def test_a_desk_phone_agents_call_goes_out_through_the_trunk_and_the_agent_wraps_up() -> None:
    async def scenario(rig: Rig) -> None:
        _with_trunk(rig)
        await _connected_to_a001(rig)
        rig.center.transfer_out(rig.contact, MOBILE)
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions  # the agent's leg ends
        [(leg, contact)] = [d for d in _dials(rig) if d[0].startswith("fwd-")]
        assert contact == f"sip:{MOBILE}@127.0.0.1:5099"
        assert rig.sip.offers[leg] == PLAIN_SDP
        # a001 is free for the next caller once wrapped up: the engine says wrap_up now
        assert rig.router.engine.agent_state("a001") == "wrap_up"
        rig.center.answered(leg, "v=0 engineer")
        await rig.settle()
        assert rig.media.commands[-1][0] == "answer"
        assert rig.media.commands[-1][1]["to_tag"] == "agent"
        rig.center.hung_up(leg)  # the engineer hangs up: the caller's line closes
        await rig.settle()
        assert ("hang_up", "in-1") in rig.sip.actions

    rig = run(scenario)
    [transferred] = [e for e in rig.sink.events if e.kind.value == "transferred"]
    assert transferred.agent_id == "a001"
    assert dict(transferred.data) == {"to": "number", "number": MOBILE}
    # screens show it masked to roles the personal-data policy hides phone numbers from
    shown = mask_personal(dict(transferred.data), hidden_fields(["wfm"]))
    assert shown == {"to": "number", "number": "*******1111"}
    forward = [d["state"] for d in rig.data("ivr_step") if d.get("action") == "forward"]
    assert forward == ["dialling", "answered", "ended"]
    assert rig.data("survey_answered") == []  # the caller left with the engineer


def test_a_browser_agents_caller_is_offered_plain_to_the_trunk() -> None:
    rig = _with_trunk(_browser_rig())

    async def scenario() -> None:
        rig.center.registration_changed("1011", BROWSER)
        await _to_queue(rig)
        [(browser_leg, _)] = _dials(rig)
        assert rig.sip.offers[browser_leg] == WEBRTC_SDP
        rig.center.answered(browser_leg, "v=0 browser")
        await rig.settle()
        rig.center.transfer_out(rig.contact, MOBILE)
        await rig.settle()
        assert ("hang_up", browser_leg) in rig.sip.actions
        (trunk_leg, _) = _dials(rig)[-1]
        assert rig.sip.offers[trunk_leg] == PLAIN_SDP  # not the browser's WebRTC offer
        rig.center.answered(trunk_leg, "v=0 engineer")
        await rig.settle()
        assert rig.media.commands[-1][1]["keep_ports"] is True  # the caller keeps its ports
        rig.center.hung_up("in-1")  # the caller hangs up: the far end is hung up too
        await rig.center.drain()
        assert ("hang_up", trunk_leg) in rig.sip.actions

    asyncio.run(scenario())
    assert [e.data for e in rig.sink.events if e.kind.value == "transferred"] == [
        {"to": "number", "number": MOBILE}
    ]


def test_a_held_caller_stops_hearing_music_and_a_busy_number_is_followed_by_its_next() -> None:
    async def scenario(rig: Rig) -> None:
        _with_trunk(rig, {MOBILE: ("02866660000",)})
        await _connected_to_a001(rig)
        rig.center.hold(rig.contact)
        await rig.settle()
        before = len(rig.media.commands)
        rig.center.transfer_out(rig.contact, MOBILE)
        await rig.settle()
        after = rig.media.commands[before:]
        caller = {"call": rig.contact, "tag": "caller"}
        assert ("stop", caller) in after and ("unblock", caller) in after
        (first, _) = _dials(rig)[-1]
        rig.center.failed(first, 486)  # busy
        await rig.settle()
        (second, contact) = _dials(rig)[-1]
        assert second != first and contact == "sip:02866660000@127.0.0.1:5099"
        rig.center.hung_up("in-1")

    run(scenario)


def test_a_transfer_out_is_refused_unconnected_without_a_trunk_or_during_a_consult() -> None:
    async def scenario(rig: Rig) -> None:
        await _connected_to_a001(rig)
        with pytest.raises(TransferRefused, match="no trunk"):
            rig.center.transfer_out(rig.contact, MOBILE)
        _with_trunk(rig)
        with pytest.raises(TransferRefused, match="not a connected call"):
            rig.center.transfer_out("v-unknown", MOBILE)
        rig.center.consult(rig.contact, "a002")
        await rig.settle()
        with pytest.raises(TransferRefused, match="consult"):
            rig.center.transfer_out(rig.contact, MOBILE)
        assert rig.data("transferred") == []
        rig.center.hung_up("in-1")

    run(scenario)


RINGBACK = "/tones/ringback.wav"


def test_the_caller_hears_ringback_while_the_number_rings_and_it_stops_at_the_answer() -> None:
    async def scenario(rig: Rig) -> None:
        _with_trunk(rig)
        rig.center.settings = dataclasses.replace(rig.center.settings, ringback=Path(RINGBACK))
        await _connected_to_a001(rig)
        rig.center.transfer_out(rig.contact, MOBILE)
        await rig.settle()
        (leg, _) = _dials(rig)[-1]
        caller = {"call": rig.contact, "tag": "caller"}
        assert rig.media.played(rig.contact)[-1:] != [RINGBACK]  # 100 Trying: nothing yet
        rig.center.ringing(leg, "")  # 180
        rig.center.ringing(leg, "")  # a second 180: the tone is not started twice
        await rig.settle()
        tones = [c for c in rig.media.commands if c[0] == "play" and c[1]["path"] == RINGBACK]
        assert [(c[1]["tag"], c[1]["repeat"]) for c in tones] == [("caller", TONE_REPEAT)]
        before = len(rig.media.commands)
        rig.center.answered(leg, "v=0 engineer")
        await rig.settle()
        after = [c[0] for c in rig.media.commands[before:]]
        assert after == ["stop", "answer"]  # the tone stops before the caller meets the far end
        assert rig.media.commands[before][1] == caller
        rig.center.hung_up(leg)
        await rig.settle()

    rig = run(scenario)
    forward = [d["state"] for d in rig.data("ivr_step") if d.get("action") == "forward"]
    assert forward == ["dialling", "ringing", "answered", "ended"]


def test_early_media_from_the_far_end_replaces_the_ringback_and_a_failure_stops_it() -> None:
    early = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 7000 RTP/AVP 0\r\n"

    async def scenario(rig: Rig) -> None:
        _with_trunk(rig, {MOBILE: ("02866660000",)})
        rig.center.settings = dataclasses.replace(rig.center.settings, ringback=Path(RINGBACK))
        await _connected_to_a001(rig)
        rig.center.transfer_out(rig.contact, MOBILE)
        await rig.settle()
        (first, _) = _dials(rig)[-1]
        rig.center.ringing(first, "")
        await rig.settle()
        before = len(rig.media.commands)
        rig.center.failed(first, 486)  # busy: the tone stops, the next number is dialled
        await rig.settle()
        assert [c[0] for c in rig.media.commands[before:]][:1] == ["stop"]
        (second, _) = _dials(rig)[-1]
        rig.center.ringing(second, "")  # 180: ringback again
        await rig.settle()
        before = len(rig.media.commands)
        rig.center.ringing(second, early)  # 183 with SDP: the far end's own early media
        await rig.settle()
        assert [c[0] for c in rig.media.commands[before:]] == ["stop", "answer"]
        assert rig.media.commands[-1][1]["sdp"] == early
        rig.center.ringing(second, "")  # a 180 after the early media: no tone over it
        await rig.settle()
        assert rig.media.commands[-1][0] == "answer"
        rig.center.answered(second, early)
        await rig.settle()
        assert rig.media.commands[-1][0] == "answer"  # pointed again at the answer
        rig.center.hung_up("in-1")

    rig = run(scenario)
    forward = [d["state"] for d in rig.data("ivr_step") if d.get("action") == "forward"]
    assert forward == [
        "dialling",
        "ringing",
        "failed",
        "dialling",
        "ringing",
        "early_media",
        "answered",
        "ended",
    ]


def test_without_a_ringback_tone_the_caller_waits_in_silence_until_the_ring_times_out() -> None:
    async def scenario(rig: Rig) -> None:
        _with_trunk(rig)
        rig.center.settings = dataclasses.replace(rig.center.settings, ringback=None)
        rig.center.forwards.ring_timeout_s = 0.2
        await _connected_to_a001(rig)
        before = len(rig.media.commands)
        rig.center.transfer_out(rig.contact, MOBILE)
        await rig.settle()
        (leg, _) = _dials(rig)[-1]
        rig.center.ringing(leg, "")
        await rig.settle()
        assert [c for c in rig.media.commands[before:] if c[0] == "play"] == []
        # the agent's SDP the call still holds is no answer of the far end: the ring times
        # out (it used to be taken for one, and the caller waited for ever)
        await asyncio.sleep(0.3)
        await rig.settle()
        assert ("hang_up", leg) in rig.sip.actions and ("hang_up", "in-1") in rig.sip.actions

    rig = run(scenario)
    forward = [d for d in rig.data("ivr_step") if d.get("action") == "forward"]
    assert [(d["state"], d.get("reason")) for d in forward] == [
        ("dialling", None),
        ("ringing", None),
        ("failed", "no_answer"),
    ]
