"""Consult (warm) transfer on a phone call, with the routing engine and in-tree fakes."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from hotline.telephony.call_center import CallCenter
from hotline.telephony.media.sdp import placeholder_sdp
from hotline.telephony.ports import AgentPhone, TransferRefused
from tests.unit.telephony.test_call_center import Rig, _to_queue
from tests.unit.telephony.test_exits import _engine, _events, _rig

PHONES = (AgentPhone("a001", "1001", "pw1"), AgentPhone("a006", "1006", "pw6"))


def _consult_rig() -> Rig:
    rig = _rig(trunk=None)
    settings = dataclasses.replace(rig.center.settings, phones=PHONES)
    rig.center = CallCenter(
        settings=settings, media=rig.media, router=rig.router, sink=rig.sink, clock=rig.clock
    )
    rig.center.signalling = rig.sip
    return rig


async def _talking(
    rig: Rig, phone: str = "sip:1001@127.0.0.1:5071", answer: str = "v=0 a001 phone"
) -> str:
    """a001 (on ``phone``) and a006 registered; a caller reaches installation and a001
    answers with ``answer``."""
    rig.center.registration_changed("1001", phone)
    rig.clock.advance(1)
    rig.center.registration_changed("1006", "sip:1006@127.0.0.1:5076")
    await _to_queue(rig)
    await rig.settle()
    dial = [a for a in rig.sip.actions if a[0] == "dial"]
    assert dial == [("dial", "out-1", phone)]  # longest idle
    rig.clock.advance(2)
    rig.center.answered("out-1", answer)
    await rig.settle()
    return rig.contact


def test_warm_transfer_joins_the_agents_then_hands_the_caller_over() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact = await _talking(rig)
        rig.clock.advance(30)
        rig.center.consult(contact, "a006")
        await rig.settle()
        assert engine.agent_contacts("a006") == {contact: "consult"}
        assert ("dial", "cs-1", "sip:1006@127.0.0.1:5076") in rig.sip.actions
        relay = f"{contact}~consult"
        assert ("offer", {"call": relay, "from_tag": "first"}) in rig.media.commands
        assert "music_on_hold" in rig.media.played(contact)  # the caller waits with music
        with pytest.raises(TransferRefused):  # not before the consulted agent answers
            rig.center.end_consult(contact, transfer=True)
        rig.center.answered("cs-1", "v=0 a006 phone")
        await rig.settle()
        assert ("update", "out-1") in rig.sip.actions  # a001's phone moved to the consult relay
        rig.center.answered("out-1", "v=0 a001 phone")  # its 200 OK to our re-INVITE
        await rig.settle()
        assert contact in rig.center.calls
        rig.clock.advance(20)
        rig.center.end_consult(contact, transfer=True)
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions
        assert ("update", "cs-1") in rig.sip.actions  # a006's phone moved to the caller
        assert engine.agent_contacts("a006") == {contact: "talking"}
        assert engine.agent_contacts("a001") == {contact: "wrap_up"}
        rig.clock.advance(60)
        rig.center.hung_up("in-1")  # the caller ends the call with a006
        await rig.settle()
        assert ("hang_up", "cs-1") in rig.sip.actions
        await rig.center.drain()

    asyncio.run(scenario())
    events = _events(rig, rig.contact)
    kinds = [kind for kind, _ in events]
    assert kinds.count("consult_started") == kinds.count("consult_ended") == 1
    ended = dict(events[kinds.index("consult_ended")][1])
    assert ended["transfer"] is True and ended["consulted"] == "a006"
    [disconnected] = [e for e in rig.sink.events if e.kind.value == "disconnected"]
    assert disconnected.agent_id == "a006"
    assert kinds.count("answered") == 1  # one answer: the warm transfer is not a new offer


def test_going_back_to_the_caller_frees_the_consulted_agent() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact = await _talking(rig)
        rig.center.consult(contact, "a006")
        await rig.settle()
        rig.center.answered("cs-1", "v=0 a006 phone")
        await rig.settle()
        rig.center.answered("out-1", "v=0 a001 phone")
        rig.center.end_consult(contact, transfer=False)
        await rig.settle()
        assert ("hang_up", "cs-1") in rig.sip.actions
        assert [a for a in rig.sip.actions if a == ("update", "out-1")] == [("update", "out-1")] * 2
        assert engine.agent_contacts("a006") == {}
        assert engine.agent_contacts("a001") == {contact: "talking"}
        # the caller's relay faces a001's phone again
        last_answer = [p for c, p in rig.media.commands if c == "answer" and p["call"] == contact]
        assert last_answer[-1]["sdp"] == "v=0 a001 phone"
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())


def test_a_consulted_phone_that_is_busy_ends_the_consult_back_to_the_caller() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact = await _talking(rig)
        rig.center.consult(contact, "a006")
        await rig.settle()
        rig.center.failed("cs-1", 486)
        await rig.settle()
        assert engine.agent_contacts("a006") == {}
        assert contact in rig.center.calls
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    ended = [d for k, d in _events(rig, rig.contact) if k == "consult_ended"]
    assert [d["transfer"] for d in ended] == [False]


def test_the_caller_hanging_up_during_a_consult_ends_both_agent_legs() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact = await _talking(rig)
        rig.center.consult(contact, "a006")
        await rig.settle()
        rig.center.answered("cs-1", "v=0 a006 phone")
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.settle()
        assert ("hang_up", "cs-1") in rig.sip.actions
        assert ("hang_up", "out-1") in rig.sip.actions
        assert engine.agent_contacts("a006") == {}
        await rig.center.drain()

    asyncio.run(scenario())


def test_consulting_an_agent_who_is_not_available_is_refused() -> None:
    rig = _consult_rig()

    async def scenario() -> None:
        contact = await _talking(rig)
        rig.center.registration_changed("1006", None)  # a006's phone went away: not ready
        await rig.settle()
        with pytest.raises(TransferRefused):
            rig.center.consult(contact, "a006")
        with pytest.raises(TransferRefused):
            rig.center.consult(contact, "a002")  # no phone
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())


BROWSER = "sip:q7w8e9r0@2f254d15-77c5-4a38-bac0-9794134dc50d.invalid:5060"


async def _talking_on_the_browser(rig: Rig) -> str:
    """a001 on the browser softphone, a006 on a desk phone; a001 answers a caller."""
    return await _talking(rig, BROWSER, "v=0 a001 browser")


def test_a_browser_agent_consults_on_a_second_line_and_hands_the_caller_over() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact = await _talking_on_the_browser(rig)
        relay = f"{contact}~consult"
        answered = [p for c, p in rig.media.commands if c == "answer" and p["call"] == contact]
        rig.center.consult(contact, "a006")
        await rig.settle()
        # the browser's call stays on the caller's relay (the caller hears music over it);
        # the browser is rung again, the consult line, offered WebRTC by the consult relay
        assert [p for c, p in rig.media.commands if c == "answer" and p["call"] == contact] == (
            answered
        )
        assert "music_on_hold" in rig.media.played(contact)
        assert ("offer", {"call": relay, "from_tag": "consulted", "webrtc": True}) in (
            rig.media.commands
        )
        assert ("dial", "cl-2", BROWSER) in rig.sip.actions
        assert rig.sip.offers["cl-2"] == placeholder_sdp(40004)
        assert not any(a[:2] == ("dial", "cs-1") for a in rig.sip.actions)  # not yet
        rig.center.answered("cl-2", "v=0 a001 consult line")  # the softphone takes it
        await rig.settle()
        # then a006's desk phone rings on the relay's other side
        assert ("dial", "cs-1", "sip:1006@127.0.0.1:5076") in rig.sip.actions
        assert (
            "answer",
            {
                "call": relay,
                "to_tag": "first",
                "sdp": "v=0 a001 consult line",
                "webrtc": True,
            },
        ) in rig.media.commands
        rig.center.answered("cs-1", "v=0 a006 phone")
        await rig.settle()
        assert not any(a[0] == "update" for a in rig.sip.actions)  # no browser re-INVITEd
        rig.center.end_consult(contact, transfer=True)
        await rig.settle()
        # both browser calls end; the caller's relay is offered plain again for a006's
        # phone (keeping the caller's ports), which is re-INVITEd onto it
        assert ("hang_up", "out-1") in rig.sip.actions and ("hang_up", "cl-2") in rig.sip.actions
        at = rig.media.commands.index(
            (
                "answer",
                {"call": contact, "to_tag": "agent", "sdp": "v=0 a006 phone", "keep_ports": True},
            )
        )
        assert rig.media.commands[at - 1] == ("offer", {"call": contact, "from_tag": "caller"})
        assert ("update", "cs-1") in rig.sip.actions
        assert ("cs-1", placeholder_sdp(40000)) in rig.sip.answers
        assert engine.agent_contacts("a006") == {contact: "talking"}
        assert engine.agent_contacts("a001") == {contact: "wrap_up"}
        rig.center.hung_up("in-1")
        await rig.settle()
        await rig.center.drain()

    asyncio.run(scenario())


def test_a_browser_agent_back_from_a_consult_is_still_on_its_own_call() -> None:
    rig = _consult_rig()

    async def scenario() -> None:
        contact = await _talking_on_the_browser(rig)
        rig.center.consult(contact, "a006")
        await rig.settle()
        rig.center.answered("cl-2", "v=0 a001 consult line")
        await rig.settle()
        rig.center.answered("cs-1", "v=0 a006 phone")
        await rig.settle()
        answers_before = [c for c in rig.media.commands if c[0] == "answer"]
        rig.center.end_consult(contact, transfer=False)
        await rig.settle()
        assert ("hang_up", "cs-1") in rig.sip.actions and ("hang_up", "cl-2") in rig.sip.actions
        assert ("hang_up", "out-1") not in rig.sip.actions
        # nothing moved: no new answer on the caller's relay, no re-INVITE; the music stops
        assert [c for c in rig.media.commands if c[0] == "answer"] == answers_before
        assert not any(a[0] == "update" for a in rig.sip.actions)
        assert ("stop", {"call": contact, "tag": "caller"}) in rig.media.commands
        assert rig.center.calls[contact].agent_leg == "out-1"
        rig.center.hung_up("in-1")
        await rig.settle()
        await rig.center.drain()

    asyncio.run(scenario())


async def _consulted_browser(rig: Rig) -> tuple[str, str]:
    """a001 on a desk phone talks to the caller and consults a006, whose phone is the
    browser softphone; a006's browser answers and a001's phone moves to the consult relay."""
    contact = await _talking(rig)
    rig.center.registration_changed("1006", None)
    rig.center.registration_changed("1006", BROWSER)
    await rig.settle()
    rig.center.consult(contact, "a006")
    await rig.settle()
    relay = f"{contact}~consult"
    # the browser is offered WebRTC; the relay's side facing a001 follows its media
    offer = {"call": relay, "from_tag": "first", "webrtc": True, "handover": True}
    assert ("offer", offer) in rig.media.commands
    assert ("dial", "cs-1", BROWSER) in rig.sip.actions
    assert rig.sip.offers["cs-1"] == placeholder_sdp(40004)
    rig.center.answered("cs-1", "v=0 a006 browser")
    await rig.settle()
    answer = {"call": relay, "to_tag": "consulted", "sdp": "v=0 a006 browser", "webrtc": True}
    assert ("answer", answer) in rig.media.commands
    assert ("update", "out-1") in rig.sip.actions  # a001's phone moved to the consult relay
    rig.center.answered("out-1", "v=0 a001 phone")
    await rig.settle()
    return contact, relay


def test_a_browser_agent_consulted_takes_the_caller_through_the_chained_relays() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact, relay = await _consulted_browser(rig)
        updates = [a for a in rig.sip.actions if a[0] == "update"]
        rig.center.end_consult(contact, transfer=True)
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions
        # the browser is not moved: no re-INVITE; the caller's relay is answered with the
        # consult relay's side that faced a001's phone (the fake's answer: port 40002)
        assert [a for a in rig.sip.actions if a[0] == "update"] == updates
        last = [p for c, p in rig.media.commands if c == "answer" and p["call"] == contact][-1]
        assert last["sdp"] == placeholder_sdp(40002) and last["to_tag"] == "agent"
        assert ("delete", {"call": relay}) not in rig.media.commands  # it carries the call
        assert engine.agent_contacts("a006") == {contact: "talking"}
        assert engine.agent_contacts("a001") == {contact: "wrap_up"}
        # a006 puts the caller on hold from the browser: answered with what it was rung with
        rig.center.updated("cs-1", "v=0 a006 browser\r\na=sendonly\r\n")
        assert rig.sip.answers[-1][0] == "cs-1"
        assert "m=audio 40004 " in rig.sip.answers[-1][1]
        rig.center.hung_up("cs-1")  # a006 hangs up: the survey, then both relays go
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.settle()
        await rig.center.drain()
        assert ("delete", {"call": contact}) in rig.media.commands
        assert ("delete", {"call": relay}) in rig.media.commands

    asyncio.run(scenario())
    events = _events(rig, rig.contact)
    kinds = [kind for kind, _ in events]
    assert kinds.count("consult_started") == kinds.count("consult_ended") == 1
    assert dict(events[kinds.index("consult_ended")][1])["transfer"] is True
    [disconnected] = [e for e in rig.sink.events if e.kind.value == "disconnected"]
    assert disconnected.agent_id == "a006"


def test_the_caller_hanging_up_after_a_chained_transfer_releases_both_relays() -> None:
    rig = _consult_rig()

    async def scenario() -> None:
        contact, relay = await _consulted_browser(rig)
        rig.center.end_consult(contact, transfer=True)
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.settle()
        await rig.center.drain()
        assert ("hang_up", "cs-1") in rig.sip.actions
        assert ("delete", {"call": contact}) in rig.media.commands
        assert ("delete", {"call": relay}) in rig.media.commands

    asyncio.run(scenario())


def test_back_from_a_consult_with_a_browser_the_desk_phone_has_the_caller_again() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact, relay = await _consulted_browser(rig)
        rig.center.end_consult(contact, transfer=False)
        await rig.settle()
        assert ("hang_up", "cs-1") in rig.sip.actions
        assert [a for a in rig.sip.actions if a == ("update", "out-1")] == [("update", "out-1")] * 2
        last = [p for c, p in rig.media.commands if c == "answer" and p["call"] == contact][-1]
        assert last["sdp"] == "v=0 a001 phone"
        assert ("delete", {"call": relay}) in rig.media.commands
        assert engine.agent_contacts("a006") == {}
        assert engine.agent_contacts("a001") == {contact: "talking"}
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())


OTHER_BROWSER = BROWSER.replace("q7w8", "z9y8")


async def _browser_consults_browser(rig: Rig) -> tuple[str, str, str]:
    """a001 and a006 both on the browser softphone: a001 answers a caller and consults
    a006. a001's consult line rings first; once up, a006's browser is rung by a second relay
    (the bridge) offered the line relay's plain side; a006 answers."""
    contact = await _talking_on_the_browser(rig)
    rig.center.registration_changed("1006", None)
    rig.center.registration_changed("1006", OTHER_BROWSER)
    await rig.settle()
    rig.center.consult(contact, "a006")
    await rig.settle()
    relay, bridge = f"{contact}~consult", f"{contact}~consult~browser"
    assert ("dial", "cl-2", BROWSER) in rig.sip.actions
    assert not any(a[:2] == ("dial", "cs-1") for a in rig.sip.actions)  # not before the line
    rig.center.answered("cl-2", "v=0 a001 consult line")
    await rig.settle()
    # the line relay's plain side (its answer to a001's line) is offered to the bridge,
    # whose plain side follows its packets; a006's browser is offered WebRTC by the bridge
    offer = {"call": bridge, "from_tag": "first", "webrtc": True, "handover": True}
    line = {"call": relay, "to_tag": "first", "sdp": "v=0 a001 consult line", "webrtc": True}
    assert rig.media.commands.index(("answer", line)) < rig.media.commands.index(("offer", offer))
    [dial] = [a for a in rig.sip.actions if a[:2] == ("dial", "cs-1")]
    assert dial[2] == OTHER_BROWSER
    assert rig.sip.offers["cs-1"] == placeholder_sdp(40004)
    rig.center.answered("cs-1", "v=0 a006 browser")
    await rig.settle()
    answer = {"call": bridge, "to_tag": "consulted", "sdp": "v=0 a006 browser", "webrtc": True}
    assert ("answer", answer) in rig.media.commands
    assert not any(a[0] == "update" for a in rig.sip.actions)  # no browser re-INVITEd
    return contact, relay, bridge


def test_a_browser_agent_consults_another_and_hands_the_caller_over_the_bridge() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact, relay, bridge = await _browser_consults_browser(rig)
        updates = [a for a in rig.sip.actions if a[0] == "update"]
        rig.center.end_consult(contact, transfer=True)
        await rig.settle()
        # a001's two calls end; nobody is re-INVITEd; the caller's relay, whose agent side
        # spoke WebRTC to a001, is offered plain again and answered with the bridge's plain
        # side (the fake's answer to a006's browser: port 40002), keeping the caller's ports
        assert ("hang_up", "out-1") in rig.sip.actions and ("hang_up", "cl-2") in rig.sip.actions
        assert [a for a in rig.sip.actions if a[0] == "update"] == updates
        at = rig.media.commands.index(
            (
                "answer",
                {
                    "call": contact,
                    "to_tag": "agent",
                    "sdp": placeholder_sdp(40002),
                    "keep_ports": True,
                },
            )
        )
        assert rig.media.commands[at - 1] == ("offer", {"call": contact, "from_tag": "caller"})
        # the line's relay goes; the bridge carries the call
        assert ("delete", {"call": relay}) in rig.media.commands
        assert ("delete", {"call": bridge}) not in rig.media.commands
        assert engine.agent_contacts("a006") == {contact: "talking"}
        assert engine.agent_contacts("a001") == {contact: "wrap_up"}
        # a006 holds from the browser: answered with what the bridge rang it with
        rig.center.updated("cs-1", "v=0 a006 browser\r\na=sendonly\r\n")
        assert rig.sip.answers[-1][0] == "cs-1"
        assert "m=audio 40004 " in rig.sip.answers[-1][1]
        rig.center.hung_up("cs-1")  # a006 hangs up: the survey, then the relays go
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.settle()
        await rig.center.drain()
        assert ("delete", {"call": contact}) in rig.media.commands
        assert ("delete", {"call": bridge}) in rig.media.commands

    asyncio.run(scenario())
    events = _events(rig, rig.contact)
    kinds = [kind for kind, _ in events]
    assert kinds.count("consult_started") == kinds.count("consult_ended") == 1
    assert dict(events[kinds.index("consult_ended")][1])["transfer"] is True
    [disconnected] = [e for e in rig.sink.events if e.kind.value == "disconnected"]
    assert disconnected.agent_id == "a006"


@pytest.mark.parametrize("ending", ["back", "consulted_hangs_up", "caller_hangs_up"])
def test_a_consult_between_two_browsers_releases_both_relays_however_it_ends(
    ending: str,
) -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact, relay, bridge = await _browser_consults_browser(rig)
        answers = [c for c in rig.media.commands if c[0] == "answer" and c[1]["call"] == contact]
        if ending == "back":
            rig.center.end_consult(contact, transfer=False)
        elif ending == "consulted_hangs_up":
            rig.center.hung_up("cs-1")
        else:
            rig.center.hung_up("in-1")
        await rig.settle()
        assert ("delete", {"call": relay}) in rig.media.commands
        assert ("delete", {"call": bridge}) in rig.media.commands
        assert ("hang_up", "cl-2") in rig.sip.actions
        if ending != "caller_hangs_up":
            # a001's own call never left the caller's relay: nothing answered there again
            assert [
                c for c in rig.media.commands if c[0] == "answer" and c[1]["call"] == contact
            ] == answers
            assert rig.center.calls[contact].agent_leg == "out-1"
            assert engine.agent_contacts("a001") == {contact: "talking"}
            if ending == "back":
                assert ("hang_up", "cs-1") in rig.sip.actions
            rig.center.hung_up("in-1")
        else:
            assert ("hang_up", "cs-1") in rig.sip.actions
        await rig.settle()
        await rig.center.drain()
        assert engine.agent_contacts("a006") == {}

    asyncio.run(scenario())


def test_a_browser_handed_a_caller_over_chained_relays_consults_and_transfers_again() -> None:
    rig = _consult_rig()
    engine = _engine(rig)

    async def scenario() -> None:
        contact, relay = await _consulted_browser(rig)
        rig.center.end_consult(contact, transfer=True)
        await rig.settle()
        rig.clock.advance(31)  # a001's wrap-up (installation: 30 s) ends
        rig.center.tick()
        await rig.settle()
        # a006, on the browser now with the caller, consults a001's desk phone: a consult
        # line to the browser, on a relay of its own (the chained one keeps its name)
        rig.center.consult(contact, "a001")
        await rig.settle()
        [line] = [a for a in rig.sip.actions if a[0] == "dial" and a[1].startswith("cl-")]
        assert line[2] == BROWSER
        offers = [str(p["call"]) for c, p in rig.media.commands if c == "offer"]
        second = offers[-1]
        assert second not in (contact, relay) and second.startswith(f"{contact}~")
        rig.center.answered(line[1], "v=0 a006 consult line")
        await rig.settle()
        [desk] = [a for a in rig.sip.actions if a[0] == "dial" and a[2].endswith(":5071")][-1:]
        rig.center.answered(desk[1], "v=0 a001 phone again")
        await rig.settle()
        rig.center.end_consult(contact, transfer=True)
        await rig.settle()
        # a001's desk phone has the caller on the caller's relay; the first consult relay,
        # which the caller no longer uses, is released now
        assert ("delete", {"call": relay}) in rig.media.commands
        assert engine.agent_contacts("a001") == {contact: "talking"}
        rig.center.hung_up("in-1")
        await rig.settle()
        await rig.center.drain()
        assert ("delete", {"call": second}) in rig.media.commands

    asyncio.run(scenario())
