"""Listening in on a call: the G.711 mixer arithmetic (pure), ChanSpy's who-hears-whom, the
mixer's sockets on loopback, and the voice driver's supervision sessions against the in-tree
fakes of rtpengine and the SIP side."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import socket
from pathlib import Path

import numpy as np
import pytest

from hotline.telephony.call_center import CallCenter
from hotline.telephony.media.g711 import (
    AGENT,
    CALLER,
    HEARS,
    MODES,
    Mode,
    alaw_to_linear,
    decode,
    encode,
    heard_by,
    linear_to_alaw,
    linear_to_ulaw,
    mix,
    rtp_audio,
    rtp_packet,
    ulaw_to_linear,
)
from hotline.telephony.media.sdp import audio_sdp, audio_sections, placeholder_sdp
from hotline.telephony.ports import AgentPhone
from hotline.telephony.server import load_phones
from hotline.telephony.supervision import Mixer, Session, SupervisionRefused
from tests.unit.telephony.test_call_center import PHONES, Rig, _to_queue, run

SUPERVISOR_PHONE = AgentPhone("", "2001", "pw", supervisor="boss")
CODES = np.arange(256, dtype=np.uint8)


# -- G.711 and the mix (pure)


def test_every_ulaw_code_survives_decode_then_encode() -> None:
    back = linear_to_ulaw(ulaw_to_linear(CODES))
    # μ-law has two zeros (0x7F is -0, 0xFF is +0): -0 comes back as +0, every other code as is
    expected = CODES.copy()
    expected[0x7F] = 0xFF
    assert back.tolist() == expected.tolist()


def test_every_alaw_code_survives_decode_then_encode() -> None:
    assert linear_to_alaw(alaw_to_linear(CODES)).tolist() == CODES.tolist()


@pytest.mark.parametrize("law", ["pcmu", "pcma"])
def test_linear_audio_comes_back_within_the_laws_quantisation(law: str) -> None:
    samples = np.linspace(-32000, 32000, 801).astype(np.int16)
    back = decode(encode(samples, law), law).astype(np.int32)  # type: ignore[arg-type]
    # G.711's step grows with the level: within 1/16 of the value (plus the smallest step)
    assert np.all(np.abs(back - samples) <= np.abs(samples) / 16 + 16)


def test_mix_adds_the_parties_and_clips_instead_of_wrapping() -> None:
    quiet = encode(np.full(160, 1000), "pcmu")
    other = encode(np.full(160, -3000), "pcma")
    mixed = decode(mix([("pcmu", quiet), ("pcma", other)], law="pcmu"), "pcmu")
    assert np.all(np.abs(mixed - (-2000)) <= 64)
    loud = encode(np.full(160, 30000), "pcmu")
    assert decode(mix([("pcmu", loud)] * 2, law="pcmu"), "pcmu").min() == 32124  # not negative
    low = encode(np.full(160, -30000), "pcma")
    assert decode(mix([("pcma", low)] * 3, law="pcma"), "pcma").max() == -32256


def test_mix_without_frames_is_silence_and_a_short_frame_ends_in_silence() -> None:
    assert mix([], law="pcmu") == bytes([0xFF] * 160)
    assert mix([], law="pcma") == bytes([0xD5] * 160)
    short = decode(mix([("pcmu", encode(np.full(80, 5000), "pcmu"))], law="pcmu"), "pcmu")
    assert short[:80].min() > 4500 and not short[80:].any()


def test_who_hears_whom_follows_chanspy() -> None:
    for mode in MODES:
        # the supervisor always hears both parties; caller and agent always hear each other
        assert set(heard_by(mode, "supervisor")) == {"caller", "agent"}
        assert "agent" in heard_by(mode, "caller") and "caller" in heard_by(mode, "agent")
    hear_supervisor = {
        mode: {who for who, sources in HEARS[mode].items() if "supervisor" in sources}
        for mode in MODES
    }
    assert hear_supervisor == {"listen": set(), "whisper": {"agent"}, "barge": {"agent", "caller"}}


def test_rtp_audio_reads_g711_past_csrcs_and_ignores_other_payloads() -> None:
    packet = bytearray(rtp_packet(payload_type=0, seq=9, timestamp=0, ssrc=5, payload=b"\x10"))
    assert rtp_audio(bytes(packet)) == ("pcmu", b"\x10")
    with_csrc = bytes([0x81]) + bytes(packet[1:12]) + b"\x00\x00\x00\x07" + b"\x20\x21"
    assert rtp_audio(with_csrc) == ("pcmu", b"\x20\x21")
    assert rtp_audio(rtp_packet(payload_type=101, seq=1, timestamp=0, ssrc=5, payload=b"x")) is None
    assert rtp_audio(b"\x80\x00") is None  # truncated
    assert rtp_audio(bytes([0x00]) + bytes(packet[1:])) is None  # not RTP version 2


# -- the mixer's sockets, on loopback


def test_the_mixer_sends_the_phone_the_sum_of_both_parties() -> None:
    async def scenario() -> list[bytes]:
        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        phone.bind(("127.0.0.1", 0))
        phone.setblocking(False)
        mixer = Mixer("127.0.0.1")
        await mixer.open()
        try:
            mixer.start(to=phone.getsockname(), law="pcma")
            sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            caller, agent = mixer.party_ports
            for seq in range(3):
                for port, level in ((caller, 4000), (agent, 2000)):
                    payload = encode(np.full(160, level), "pcmu")
                    packet = rtp_packet(
                        payload_type=0, seq=seq, timestamp=0, ssrc=1, payload=payload
                    )
                    sender.sendto(packet, ("127.0.0.1", port))
            sender.close()
            received: list[bytes] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while loop.time() < deadline and len(received) < 8:
                try:
                    received.append(phone.recv(2048))
                except BlockingIOError:
                    await asyncio.sleep(0.01)
            return received
        finally:
            mixer.close()
            phone.close()

    received = asyncio.run(scenario())
    frames = [rtp_audio(packet) for packet in received]
    assert all(frame is not None and frame[0] == "pcma" for frame in frames)
    levels = [int(np.median(decode(frame[1], "pcma"))) for frame in frames if frame is not None]
    assert any(abs(level - 6000) < 200 for level in levels), levels  # caller + agent
    assert levels[-1] == 8  # then silence (A-law's smallest level) while nobody speaks
    sequence = [int.from_bytes(packet[2:4], "big") for packet in received]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(sequence))


@pytest.mark.parametrize(("mode", "caller_hears"), [("whisper", 2000), ("barge", 3000)])
def test_coaching_sends_each_party_what_chanspy_says_they_hear(
    mode: Mode, caller_hears: int
) -> None:
    """Whisper: the agent hears the caller and the supervisor, the caller the agent only;
    barge: the caller hears the supervisor too. Levels: caller 4000, agent 2000, supervisor
    1000, each party's port sending what its receiver hears."""

    async def scenario() -> dict[str, list[int]]:
        mixer = Mixer("127.0.0.1", mode=mode)
        await mixer.open()
        ends = {}
        for party in ("supervisor", CALLER, AGENT):
            end = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            end.bind(("127.0.0.1", 0))
            end.setblocking(False)
            ends[party] = end
        try:
            mixer.start(to=ends["supervisor"].getsockname(), law="pcmu")
            mixer.send_to(CALLER, to=ends[CALLER].getsockname(), law="pcmu")
            mixer.send_to(AGENT, to=ends[AGENT].getsockname(), law="pcmu")
            for seq in range(3):
                for party, level in (("supervisor", 1000), (CALLER, 4000), (AGENT, 2000)):
                    payload = encode(np.full(160, level), "pcmu")
                    packet = rtp_packet(
                        payload_type=0, seq=seq, timestamp=0, ssrc=1, payload=payload
                    )
                    ends[party].sendto(packet, ("127.0.0.1", mixer.port(party)))
            levels: dict[str, list[int]] = {party: [] for party in ends}
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 5
            while loop.time() < deadline and min(len(v) for v in levels.values()) < 6:
                for party, end in ends.items():
                    try:
                        frame = rtp_audio(end.recv(2048))
                    except BlockingIOError:
                        continue
                    assert frame is not None
                    levels[party].append(int(np.median(decode(frame[1], "pcmu"))))
                await asyncio.sleep(0.005)
            return levels
        finally:
            mixer.close()
            for end in ends.values():
                end.close()

    levels = asyncio.run(scenario())

    def heard(party: str, level: int) -> bool:
        return any(abs(got - level) < 150 for got in levels[party])

    assert heard("supervisor", 6000), levels  # caller + agent, as in listen
    assert heard(AGENT, 5000), levels  # caller + supervisor
    assert heard(CALLER, caller_hears), levels  # agent (+ supervisor in barge)
    assert heard(CALLER, 3000) == (mode == "barge"), levels  # the supervisor only in barge


# -- the voice driver's sessions (fakes of rtpengine and SIP)


def _supervised_rig(rig: Rig) -> None:
    settings = dataclasses.replace(rig.center.settings, phones=(*PHONES, SUPERVISOR_PHONE))
    rig.center = CallCenter(
        settings=settings, media=rig.media, router=rig.router, sink=rig.sink, clock=rig.clock
    )
    rig.center.signalling = rig.sip


async def _connected_call(rig: Rig, *, phone_sdp: str = "v=0 agent") -> str:
    """A call connected to a001's phone (answering with ``phone_sdp``); its contact id."""
    await _to_queue(rig)
    rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
    await rig.settle()
    rig.center.answered("out-1", phone_sdp)
    await rig.settle()
    return rig.contact


async def _listening(
    rig: Rig, ended: list[str], *, phone_sdp: str = "v=0 agent"
) -> tuple[str, Session]:
    """A connected call, boss's phone registered and ringing to listen to it."""
    _supervised_rig(rig)
    rig.center.supervisions.listeners.append(lambda _s, why: ended.append(why))
    contact = await _connected_call(rig, phone_sdp=phone_sdp)
    rig.center.registration_changed("2001", "sip:2001@127.0.0.1:5090")
    session = rig.center.supervise(contact, supervisor="boss", mode="listen")
    await rig.settle()
    return contact, session


def test_a_supervisor_listens_until_the_agent_hangs_up() -> None:
    ended: list[tuple[Session, str]] = []

    async def scenario(rig: Rig) -> None:
        _supervised_rig(rig)
        rig.center.supervisions.listeners.append(lambda s, why: ended.append((s, why)))
        contact = await _connected_call(rig)
        rig.center.registration_changed("2001", "sip:2001@127.0.0.1:5090")
        await rig.settle()
        assert not any(a[0] == "dial" and a[1] != "out-1" for a in rig.sip.actions[:-1])
        session = rig.center.supervise(contact, supervisor="boss", mode="listen")
        assert session.agent_id == "a001" and not session.answered
        await rig.settle()
        assert ("dial", session.leg, "sip:2001@127.0.0.1:5090") in rig.sip.actions
        assert session.mixer is not None
        phone_port = session.mixer.phone_port
        phone_sdp = f"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio {phone_port + 2} RTP/AVP 8 0\r\n"
        rig.center.answered(session.leg, phone_sdp)
        await rig.settle()
        assert session.answered
        commands = {name: params for name, params in rig.media.commands}
        assert commands["subscribe"] == {"call": contact, "from_tags": ["caller", "agent"]}
        answer = str(commands["subscribe_answer"]["sdp"])
        # one receive-only section per forked party, at the mixer's party ports, in order
        sections = audio_sections(answer)
        assert [port for _, port, _ in sections] == session.mixer.party_ports
        assert answer.count("a=recvonly") == 2
        assert rig.center.supervisions.by_contact == {contact: session}
        rig.center.hung_up("out-1")  # the agent hangs up: the caller goes to the survey
        await rig.settle()
        assert ("hang_up", session.leg) in rig.sip.actions
        assert ("unsubscribe", {"call": contact, "to_tag": session.to_tag}) in rig.media.commands
        assert rig.center.supervisions.by_contact == {}

    run(scenario)
    [(session, why)] = ended
    assert (session.supervisor, session.agent_id, why) == ("boss", "a001", "call_ended")


def test_the_supervisors_phone_hanging_up_ends_the_session_and_the_call_goes_on() -> None:
    ended: list[str] = []

    async def scenario(rig: Rig) -> None:
        contact, session = await _listening(rig, ended)
        rig.center.answered(session.leg, "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0\r\n")
        await rig.settle()
        rig.center.hung_up(session.leg)
        await rig.settle()
        assert rig.center.calls[contact].agent_id == "a001"  # still talking
        assert ("hang_up", "in-1") not in rig.sip.actions
        # another session may start now
        again = rig.center.supervise(contact, supervisor="boss", mode="listen")
        rig.center.supervisions.stop(contact, by="chief")
        assert again.stopped_by == "chief"
        assert ("hang_up", again.leg) in rig.sip.actions

    run(scenario)
    assert ended == ["supervisor_hung_up", "stopped"]


def test_supervising_is_refused_without_a_phone_a_call_or_twice() -> None:
    async def scenario(rig: Rig) -> None:
        _supervised_rig(rig)
        contact = await _connected_call(rig)
        with pytest.raises(SupervisionRefused, match="no registered phone"):
            rig.center.supervise(contact, supervisor="boss", mode="listen")
        rig.center.registration_changed("2001", "sip:2001@127.0.0.1:5090")
        with pytest.raises(SupervisionRefused, match="not a call connected"):
            rig.center.supervise("c-none", supervisor="boss", mode="listen")
        rig.center.supervise(contact, supervisor="boss", mode="listen")
        with pytest.raises(SupervisionRefused, match="boss already supervises"):
            rig.center.supervise(contact, supervisor="boss", mode="listen")
        rig.center.registration_changed("2001", None)  # the phone went away
        assert "boss" not in rig.center.supervisor_phones
        rig.center.supervisions.end_all("test over")
        assert not rig.center.supervisions.by_contact
        # a supervisor's phone is not an agent's: the ACD never heard of it
        assert all(e.agent_id != "" for e in rig.sink.events if e.kind.value == "agent_state")

    run(scenario)


def test_a_supervisors_phone_that_does_not_answer_ends_the_session() -> None:
    ended: list[str] = []

    async def scenario(rig: Rig) -> None:
        _, session = await _listening(rig, ended)
        rig.center.failed(session.leg, 486)
        await rig.settle()
        assert not rig.center.supervisions.by_contact
        assert not any(name == "subscribe" for name, _ in rig.media.commands)

    run(scenario)
    assert ended == ["sip_486"]


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ("- {agent: a001, supervisor: boss, user: '1', password: p}", "exactly one of agent or"),
        ("- {user: '1', password: p}", "exactly one of agent or supervisor"),
        ("- {supervisor: boss, user: '1'}", "give the phone's user and password"),
        ("- {supervisor: '', user: '1', password: p}", "the agent or supervisor is empty"),
        (
            "- {agent: a001, user: '1', password: p}\n- {supervisor: boss, user: '1', password: q}",
            "entry 2: SIP user '1' is listed twice",
        ),
    ],
)
def test_a_phones_file_entry_breaking_a_rule_is_named(
    tmp_path: Path, entries: str, problem: str
) -> None:
    path = tmp_path / "phones.yaml"
    path.write_text(entries)
    with pytest.raises(ValueError, match=problem) as refused:
        load_phones(path)
    assert str(path) in str(refused.value)


AGENT_PHONE_SDP = audio_sdp("127.0.0.1", [5072])


async def _supervising(rig: Rig, mode: Mode) -> tuple[str, str, Session]:
    """A call connected to a001's phone (at :data:`AGENT_PHONE_SDP`) and boss's phone ringing
    to supervise it in ``mode``: the contact, rtpengine's agent side, the session."""
    _supervised_rig(rig)
    contact = await _connected_call(rig, phone_sdp=AGENT_PHONE_SDP)
    relay_side = rig.center.calls[contact].local_sdp["agent"]
    rig.center.registration_changed("2001", "sip:2001@127.0.0.1:5090")
    session = rig.center.supervise(contact, supervisor="boss", mode=mode)
    await rig.settle()
    return contact, relay_side, session


def test_whisper_takes_the_agents_leg_through_the_mixer_and_gives_it_back() -> None:
    """The agent's phone is re-INVITEd onto the mixer and rtpengine's agent side answered
    with it; stopping points both back at each other, as before."""
    ended: list[str] = []
    told: list[Session] = []

    async def scenario(rig: Rig) -> None:
        contact, relay_side, session = await _supervising(rig, "whisper")
        center = rig.center
        center.supervisions.listeners.append(lambda _s, why: ended.append(why))
        center.supervisions.connected.append(told.append)
        call = center.calls[contact]
        assert session.mixer is not None and not told
        mixer = session.mixer
        commands_before = len(rig.media.commands)
        center.answered(session.leg, audio_sdp("127.0.0.1", [5092]))
        await rig.settle()
        assert session.answered and told == [session]
        new = rig.media.commands[commands_before:]
        assert not any(name == "subscribe" for name, _ in new)  # no fork: the leg is ours
        [(_, answer)] = [(n, p) for n, p in new if n == "answer"]
        assert answer["to_tag"] == "agent"
        assert [port for _, port, _ in audio_sections(str(answer["sdp"]))] == [mixer.port(CALLER)]
        # the agent's phone re-INVITEd onto the mixer; its own re-INVITEs are answered so
        assert rig.sip.actions[-1] == ("update", "out-1")
        to_mixer = rig.sip.answers[-1][1]
        assert audio_sections(to_mixer)[0][1] == mixer.port(AGENT)
        assert call.local_sdp["agent"] == to_mixer
        # the phone's 200 for our re-INVITE is ours, not a second answer of the call
        center.answered("out-1", audio_sdp("127.0.0.1", [5074]))
        await rig.settle()
        assert call.agent_remote_sdp == AGENT_PHONE_SDP
        assert mixer._outputs[AGENT].to == ("127.0.0.1", 5074)
        assert mixer._outputs[CALLER].to[1] == audio_sections(relay_side)[0][1]
        assert mixer.mode == "whisper"
        center.supervisions.stop(contact, by="boss")
        await rig.settle()
        restored = rig.media.commands[-1]
        assert restored == ("answer", {"call": contact, "to_tag": "agent", "sdp": AGENT_PHONE_SDP})
        assert rig.sip.answers[-1] == ("out-1", relay_side)
        assert call.local_sdp["agent"] == relay_side
        assert not mixer._transports  # closed
        center.answered("out-1", AGENT_PHONE_SDP)  # the phone accepts the way back
        await rig.settle()
        assert call.agent_id == "a001" and not call.finished

    run(scenario)
    assert ended == ["stopped"]


def test_a_barge_ends_when_the_agent_consults_and_the_leg_is_given_back() -> None:
    ended: list[str] = []

    async def scenario(rig: Rig) -> None:
        contact, _, session = await _supervising(rig, "barge")
        center = rig.center
        center.supervisions.listeners.append(lambda _s, why: ended.append(why))
        center.answered(session.leg, placeholder_sdp(5092))
        await rig.settle()
        assert session.mixer is not None and session.mixer.mode == "barge"
        center.supervisions.yield_agent_leg(contact)  # what the desk's consult does first
        await rig.settle()
        assert center.supervisions.by_contact == {}
        assert rig.media.commands[-1][1]["sdp"] == AGENT_PHONE_SDP

    run(scenario)
    assert ended == ["consult"]


def test_a_running_session_switches_mode_without_dropping_the_supervisors_phone() -> None:
    """ChanSpy's keys: listen -> whisper (the fork ends, the agent's leg comes through the
    mixer) -> barge (only the mixer's table changes) -> listen (the leg given back, the call
    forked again) -> whisper, on one supervisor's call."""
    switched: list[tuple[str, str]] = []
    ended: list[str] = []

    async def scenario(rig: Rig) -> None:
        contact, relay_side, session = await _supervising(rig, "listen")
        center = rig.center
        supervisions = center.supervisions
        supervisions.switched.append(lambda s, before: switched.append((before, s.mode)))
        supervisions.listeners.append(lambda _s, why: ended.append(why))
        call = center.calls[contact]
        mixer = session.mixer
        assert mixer is not None
        center.answered(session.leg, audio_sdp("127.0.0.1", [5092]))
        await rig.settle()
        fork = session.to_tag
        assert fork is not None and set(mixer._outputs) == {"supervisor"}

        def since(mark: int) -> list[tuple[str, dict[str, object]]]:
            return [(name, dict(params)) for name, params in rig.media.commands[mark:]]

        # listen -> whisper
        mark, sip_mark = len(rig.media.commands), len(rig.sip.actions)
        assert supervisions.switch(contact, mode="whisper") == "listen"
        await rig.settle()
        moves = since(mark)
        assert moves[0] == ("unsubscribe", {"call": contact, "to_tag": fork})
        assert [name for name, _ in moves] == ["unsubscribe", "answer"]
        assert audio_sections(str(moves[1][1]["sdp"]))[0][1] == mixer.port(CALLER)
        assert rig.sip.actions[sip_mark:] == [("update", "out-1")]
        assert audio_sections(call.local_sdp["agent"])[0][1] == mixer.port(AGENT)
        center.answered("out-1", audio_sdp("127.0.0.1", [5074]))  # the phone takes the mixer
        await rig.settle()
        assert mixer._outputs[AGENT].to == ("127.0.0.1", 5074)
        assert (session.mode, mixer.mode, session.to_tag) == ("whisper", "whisper", None)
        # whisper -> barge: the mixer's table, nothing on the wire
        mark, sip_mark = len(rig.media.commands), len(rig.sip.actions)
        assert supervisions.switch(contact, mode="barge") == "whisper"
        await rig.settle()
        assert since(mark) == [] and rig.sip.actions[sip_mark:] == []
        assert mixer.mode == "barge"
        # barge -> listen: the leg given back, then forked again to the same mixer
        mark, sip_mark = len(rig.media.commands), len(rig.sip.actions)
        assert supervisions.switch(contact, mode="listen") == "barge"
        await rig.settle()
        moves = since(mark)
        assert [name for name, _ in moves] == ["answer", "subscribe", "subscribe_answer"]
        assert moves[0][1]["sdp"] == AGENT_PHONE_SDP
        assert rig.sip.actions[sip_mark:] == [("update", "out-1")]
        assert rig.sip.answers[-1] == ("out-1", relay_side)
        answer = str(moves[2][1]["sdp"])
        assert [port for _, port, _ in audio_sections(answer)] == mixer.party_ports
        center.answered("out-1", AGENT_PHONE_SDP)  # the phone accepts the way back
        await rig.settle()
        assert set(mixer._outputs) == {"supervisor"}  # the parties hear rtpengine again
        assert session.to_tag is not None and session.to_tag != fork
        # and listen -> whisper once more
        assert supervisions.switch(contact, mode="whisper") == "listen"
        await rig.settle()
        assert session.agent_leg == "out-1" and call.local_sdp["agent"] != relay_side
        # the supervisor's phone was never hung up nor rung again, the mixer never closed
        assert ("hang_up", session.leg) not in rig.sip.actions
        assert [a for a in rig.sip.actions if a[0] == "dial" and a[1] == session.leg] == [
            ("dial", session.leg, "sip:2001@127.0.0.1:5090")
        ]
        assert mixer._transports and session.answered
        supervisions.stop(contact, by="boss")
        await rig.settle()
        assert rig.media.commands[-1] == (
            "answer",
            {"call": contact, "to_tag": "agent", "sdp": AGENT_PHONE_SDP},
        )
        assert call.local_sdp["agent"] == relay_side and not mixer._transports

    run(scenario)
    assert switched == [
        ("listen", "whisper"),
        ("whisper", "barge"),
        ("barge", "listen"),
        ("listen", "whisper"),
    ]
    assert ended == ["stopped"]


def test_switching_is_refused_without_a_session() -> None:
    switched: list[str] = []

    async def scenario(rig: Rig) -> None:
        contact, session = await _listening(rig, [], phone_sdp=AGENT_PHONE_SDP)
        supervisions = rig.center.supervisions
        supervisions.switched.append(lambda s, _before: switched.append(s.mode))
        with pytest.raises(SupervisionRefused, match="nobody supervises c-none"):
            supervisions.switch("c-none", mode="barge")
        assert supervisions.switch(contact, mode="listen") == "listen"  # already: nothing
        # while the phone rings the session simply connects in the new mode
        mark = len(rig.media.commands)
        assert supervisions.switch(contact, mode="barge") == "listen"
        await rig.settle()
        assert rig.media.commands[mark:] == []  # nothing moves before the phone answers
        rig.center.answered(session.leg, audio_sdp("127.0.0.1", [5092]))
        await rig.settle()
        assert session.mixer is not None and session.mixer.mode == "barge"
        assert session.agent_leg == "out-1" and session.to_tag is None
        supervisions.end_all("test over")
        await rig.settle()

    run(scenario)
    assert switched == []  # connected in barge: told as a connection, not a switch


BROWSER = "sip:q7w8e9r0@2f254d15-77c5-4a38-bac0-9794134dc50d.invalid:5060"


def test_a_browser_agent_is_coached_on_a_coach_line_and_the_call_never_moves() -> None:
    """An agent on the browser softphone: listen forks as for a phone; whisper rings the
    browser a coach line offered WebRTC by a relay of its own whose other side is the mixer
    (the fork ends once the line talks; the caller's relay and the browser's call are not
    touched); barge changes nothing on the wire (the browser mixes); back to listen hangs the
    line up, deletes its relay and forks again; a refused line ends the session."""
    switched: list[tuple[str, str]] = []
    ended: list[str] = []

    async def scenario(rig: Rig) -> None:
        contact, _relay_side, session = await _supervising(rig, "listen")
        center = rig.center
        supervisions = center.supervisions
        supervisions.switched.append(lambda s, before: switched.append((before, s.mode)))
        supervisions.listeners.append(lambda _s, why: ended.append(why))
        call = center.calls[contact]
        call.webrtc, call.browsers["out-1"] = True, BROWSER  # answered on the browser
        session.browser = True  # (as :meth:`Supervisions.start` sets it from the call)
        mixer = session.mixer
        assert mixer is not None
        center.answered(session.leg, audio_sdp("127.0.0.1", [5092]))
        await rig.settle()
        fork = session.to_tag
        assert fork is not None and not mixer.coach_line

        def since(mark: int) -> list[tuple[str, dict[str, object]]]:
            return [(name, dict(params)) for name, params in rig.media.commands[mark:]]

        # listen -> whisper: the coach line rings the browser; the fork goes on meanwhile
        mark, sip_mark = len(rig.media.commands), len(rig.sip.actions)
        assert supervisions.switch(contact, mode="whisper") == "listen"
        await asyncio.sleep(0.05)  # (not settle: the move waits for the line's answer)
        [offer] = since(mark)
        relay = f"{contact}~coach"
        assert offer == ("offer", {"call": relay, "from_tag": "mixer", "webrtc": True})
        [(_, line, to)] = rig.sip.actions[sip_mark:]
        assert (line.startswith("sc-"), to) == (True, BROWSER)
        assert rig.sip.offers[line] == placeholder_sdp(40004)  # the relay's WebRTC offer
        assert session.to_tag == fork and switched == []
        # the browser takes it: the relay answered WebRTC, the mixer sends the line there
        center.answered(line, "v=0 browser's coach line")
        await rig.settle()
        moves = since(mark)
        assert moves[1] == (
            "answer",
            {"call": relay, "to_tag": "browser", "sdp": "v=0 browser's coach line", "webrtc": True},
        )
        assert moves[2] == ("unsubscribe", {"call": contact, "to_tag": fork})
        assert len(moves) == 3  # the caller's relay not touched
        assert rig.sip.actions[sip_mark + 1 :] == []  # the browser's call not re-INVITEd
        assert mixer.coach_line and mixer._outputs[AGENT].to == ("127.0.0.1", 40002)
        assert (mixer.mode, session.to_tag, session.agent_leg) == ("whisper", None, None)
        # the mixer joins the supervisor and the coach line only: the browser mixes
        assert heard_by("whisper", "supervisor", coach_line=True) == (AGENT,)
        assert heard_by("barge", AGENT, coach_line=True) == ("supervisor",)
        assert supervisions.coaching("a001") is session
        # whisper -> barge: nothing on the wire
        mark, sip_mark = len(rig.media.commands), len(rig.sip.actions)
        assert supervisions.switch(contact, mode="barge") == "whisper"
        await rig.settle()
        assert since(mark) == [] and rig.sip.actions[sip_mark:] == []
        # barge -> listen: the line hung up, its relay deleted, the call forked again
        assert supervisions.switch(contact, mode="listen") == "barge"
        await rig.settle()
        assert [name for name, _ in since(mark)] == ["delete", "subscribe", "subscribe_answer"]
        assert since(mark)[0] == ("delete", {"call": relay})
        assert rig.sip.actions[sip_mark:] == [("hang_up", line)]
        assert not mixer.coach_line and set(mixer._outputs) == {"supervisor"}
        # listen -> whisper once more, and the browser refuses (a consult of its own): the
        # session ends, the relay deleted, the fork that went on meanwhile ended too
        supervisions.switch(contact, mode="whisper")
        await asyncio.sleep(0.05)
        [again] = [a[1] for a in rig.sip.actions if a[0] == "dial" and a[1].startswith("sc-")][1:]
        assert supervisions.owns(again) and supervisions.is_supervisor_leg(again)
        mark = len(rig.media.commands)
        center.failed(again, 486)
        await rig.settle()
        assert supervisions.by_contact == {}
        assert ("hang_up", session.leg) in rig.sip.actions  # the supervisor's phone too
        assert ("delete", {"call": relay}) in rig.media.commands[mark:]
        assert any(name == "unsubscribe" for name, _ in rig.media.commands[mark:])
        assert not mixer._transports
        assert call.agent_id == "a001" and not call.finished

    run(scenario)
    assert switched == [("listen", "whisper"), ("whisper", "barge"), ("barge", "listen")]
    assert ended == ["coach_line_sip_486"]


def test_a_coach_line_ringing_when_the_call_ends_is_hung_up_and_its_relay_deleted() -> None:
    ended: list[str] = []

    async def scenario(rig: Rig) -> None:
        _supervised_rig(rig)
        contact = await _connected_call(rig, phone_sdp=AGENT_PHONE_SDP)
        call = rig.center.calls[contact]
        call.webrtc, call.browsers["out-1"] = True, BROWSER
        rig.center.registration_changed("2001", "sip:2001@127.0.0.1:5090")
        session = rig.center.supervise(contact, supervisor="boss", mode="barge")
        assert session.browser
        rig.center.supervisions.listeners.append(lambda _s, why: ended.append(why))
        await rig.settle()
        rig.center.answered(session.leg, audio_sdp("127.0.0.1", [5092]))
        await asyncio.sleep(0.05)
        [line] = [a[1] for a in rig.sip.actions if a[0] == "dial" and a[1].startswith("sc-")]
        assert not session.answered  # connected once the line talks
        rig.center.hung_up("in-1")  # the caller hangs up while the line rings
        await rig.settle()
        assert ("hang_up", line) in rig.sip.actions
        assert ("delete", {"call": f"{contact}~coach"}) in rig.media.commands
        assert rig.center.supervisions.by_contact == {} and not rig.center.supervisions.owns(line)

    run(scenario)
    assert ended == ["call_ended"]


def test_a_browser_agent_handed_a_caller_over_chained_relays_is_coached_on_a_coach_line() -> None:
    """After a warm transfer to a browser agent the caller's relay speaks plain RTP (to the
    consult relay the browser stays on): the call is still a browser agent's, so whisper and
    barge ring the browser a coach line, never re-INVITE it onto the mixer."""

    async def scenario(rig: Rig) -> None:
        _supervised_rig(rig)
        contact = await _connected_call(rig, phone_sdp=AGENT_PHONE_SDP)
        call = rig.center.calls[contact]
        # as consult.py leaves it after a chained transfer: the agent's leg a browser's,
        # the relay's agent side offered plain
        assert call.agent_leg is not None
        call.webrtc, call.browsers[call.agent_leg] = False, BROWSER
        rig.center.registration_changed("2001", "sip:2001@127.0.0.1:5090")
        session = rig.center.supervise(contact, supervisor="boss", mode="whisper")
        await rig.settle()
        assert session.browser
        rig.center.answered(session.leg, audio_sdp("127.0.0.1", [5092]))
        await asyncio.sleep(0.05)  # (not settle: the move waits for the line's answer)
        lines = [a for a in rig.sip.actions if a[1].startswith("sc-")]
        assert [to for _, _, to in lines] == [BROWSER], rig.sip.actions  # the coach line
        assert not any(a[0] == "update" and a[1] == call.agent_leg for a in rig.sip.actions)
        rig.center.supervisions.stop(contact, by="boss")
        await rig.settle()

    run(scenario)
