"""Hold and resume: the agent's phone re-INVITEs; the caller hears music while held."""

from __future__ import annotations

import asyncio

from hotline.telephony.media.sdp import direction, is_hold, with_direction
from tests.unit.telephony.test_call_center import Rig, _engine_rig, _to_queue, run

AGENT_SDP = (
    "v=0\r\no=agent 1 1 IN IP4 127.0.0.1\r\nc=IN IP4 127.0.0.1\r\nm=audio 7000 RTP/AVP 0\r\n"
)


def _version(sdp: str) -> int:
    origin = next(line for line in sdp.splitlines() if line.startswith("o="))
    return int(origin.split()[2])


async def _connected(rig: Rig) -> None:
    rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
    await _to_queue(rig)
    rig.center.answered("out-1", AGENT_SDP + "a=sendrecv\r\n")
    await rig.settle()


def test_agent_holds_and_resumes_with_music_for_the_caller() -> None:
    async def scenario(rig: Rig) -> None:
        await _connected(rig)
        contact = rig.contact
        rig.clock.advance(10)
        rig.center.updated("out-1", AGENT_SDP + "a=sendonly\r\n")
        await rig.settle()
        leg, held_answer = rig.sip.answers[-1]
        assert leg == "out-1" and direction(held_answer) == "recvonly"
        assert rig.media.played(contact)[-1] == "music_on_hold"
        # the agent no longer hears the held caller
        assert ("block", {"call": contact, "tag": "caller"}) in rig.media.commands
        rig.clock.advance(7)
        rig.center.updated("out-1", AGENT_SDP + "a=sendrecv\r\n")
        await rig.settle()
        leg, resumed_answer = rig.sip.answers[-1]
        assert leg == "out-1" and direction(resumed_answer) == "sendrecv"
        assert _version(held_answer) < _version(resumed_answer)  # RFC 3264 §8
        assert sorted(
            c for c, p in rig.media.commands[-2:] if p == {"call": contact, "tag": "caller"}
        ) == ["stop", "unblock"]
        rig.center.hung_up("out-1")
        await rig.settle()
        assert rig.media.played(contact)[-1] == "survey"

    rig = run(scenario)
    [held] = [e for e in rig.sink.events if e.kind.value == "held"]
    assert held.agent_id == "a001"
    [resumed] = [e for e in rig.sink.events if e.kind.value == "resumed"]
    assert resumed.at - held.at == 7.0  # the hold time, as the metrics read it
    kinds = rig.sink.kinds(rig.contact)
    assert kinds.index("answered") < kinds.index("held") < kinds.index("resumed")


def test_a_repeated_hold_is_answered_but_logged_once() -> None:
    async def scenario(rig: Rig) -> None:
        await _connected(rig)
        for _ in range(2):
            rig.center.updated("out-1", AGENT_SDP + "a=inactive\r\n")
            await rig.settle()
        assert [direction(sdp) for leg, sdp in rig.sip.answers[-2:]] == ["inactive"] * 2
        rig.center.hung_up("in-1")

    rig = run(scenario)
    assert len(rig.data("held")) == 1
    assert rig.data("resumed") == []


def test_re_invite_on_an_unknown_leg_is_refused() -> None:
    async def scenario(rig: Rig) -> None:
        rig.center.updated("out-9", AGENT_SDP)
        await rig.settle()

    rig = run(scenario)
    assert ("reject", "out-9", "491") in rig.sip.actions


def test_with_the_routing_engine_hold_is_logged_by_the_engine_once() -> None:
    rig = _engine_rig()

    async def scenario() -> None:
        await _connected(rig)
        rig.clock.advance(5)
        rig.center.updated("out-1", AGENT_SDP + "a=sendonly\r\n")
        rig.clock.advance(4)
        rig.center.updated("out-1", AGENT_SDP + "a=sendrecv\r\n")
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    kinds = rig.sink.kinds(rig.contact)
    assert kinds.count("held") == 1 and kinds.count("resumed") == 1, kinds
    [held] = [e for e in rig.sink.events if e.kind.value == "held"]
    assert (held.agent_id, held.queue) == ("a001", "installation")


def test_sdp_direction_helpers() -> None:
    old_style = "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 7000 RTP/AVP 0\r\n"
    assert direction(old_style) == "inactive" and is_hold(old_style)
    assert direction(AGENT_SDP) == "sendrecv" and not is_hold(AGENT_SDP)
    added = with_direction(AGENT_SDP, "recvonly")
    assert added.endswith("a=recvonly\r\n") and _version(added) == 2
