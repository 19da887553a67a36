"""End-to-end voice: sipp callers → sippy B2BUA + IVR → queue → baresip agent, on 127.0.0.1.

Real peers throughout: the voice server (sippy + rtpengine in userspace), a headless
baresip agent phone registered with digest authentication and answering over ctrl_tcp,
and sipp callers pressing RFC 4733 keys. Run with ``HOTLINE_E2E=1`` (``make test`` sets it
after ``scripts/telephony-setup.sh`` installed the tools).
"""

from __future__ import annotations

import contextlib
import random
import socket
import time
import wave
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.store.db import make_engine
from hotline.store.models.core import ContactEventRow
from hotline.store.models.telephony import Recording
from hotline.surveys import service as surveys
from hotline.telephony.media.g711 import ulaw_to_linear
from hotline.telephony.media.rtpengine import RtpengineProcess

from .rtp_pcap import Key, Tone, answers_survey_when_asked, write_timeline
from .telephony_peers import (
    HERE,
    BaresipAgent,
    VoiceServer,
    free_port,
    port_block,
    run_sipp,
    sip_request,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def voice(
    tmp_path_factory: pytest.TempPathFactory, voice_prompts: Path
) -> Iterator[tuple[VoiceServer, BaresipAgent]]:
    root = tmp_path_factory.mktemp("voice")
    prompts = voice_prompts
    phones = root / "phones.yaml"
    phones.write_text("- {agent: a001, user: '1001', password: 'agent-secret'}\n")
    server = VoiceServer(workdir=root / "server", prompts=prompts, phones=phones, slot=0)
    server.start()
    agent = BaresipAgent(
        workdir=root / "agent",
        user="1001",
        password="agent-secret",
        registrar_port=server.sip_port,
        voice=prompts / "en" / "welcome.wav",
        slot=1,
        talk_s=3.0,
    )
    agent.start()
    server.wait_for(lambda events: any(e["kind"] == "agent_state" for e in events))
    try:
        yield server, agent
    finally:
        agent.stop()
        server.stop()


def _by_kind(events: list[dict[str, object]], kind: str) -> list[dict[str, object]]:
    return [e for e in events if e["kind"] == kind]


def test_agent_phone_registers_with_digest_and_becomes_ready(
    voice: tuple[VoiceServer, BaresipAgent],
) -> None:
    server, _ = voice
    [ready] = [e for e in _by_kind(server.events(), "agent_state") if e["agent_id"] == "a001"][:1]
    # the routing engine logged the agent in when the phone registered
    assert ready["data"]["state"] == "available"  # type: ignore[index]
    assert ready["data"]["previous"] == "logged_out"  # type: ignore[index]
    # An unauthenticated REGISTER is challenged, not accepted.
    assert sip_request(server.sip_port, "REGISTER") == "SIP/2.0 401 Unauthorized"


def test_caller_hears_the_greeting_prompt(
    voice: tuple[VoiceServer, BaresipAgent], tmp_path: Path
) -> None:
    server, _ = voice
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", free_port()))
    sink.settimeout(0.2)
    port = sink.getsockname()[1]
    packets: list[bytes] = []
    try:
        import threading

        done = threading.Event()

        def listen() -> None:
            while not done.is_set():
                try:
                    data, _ = sink.recvfrom(2048)
                except TimeoutError:
                    continue
                packets.append(data)

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        result = run_sipp(
            HERE / "caller_listens.xml",
            server.sip_port,
            tmp_path,
            keys={"rtp_sink": str(port)},
            timeout_s=20,
        )
        done.set()
        thread.join()
    finally:
        sink.close()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    audio = [p for p in packets if len(p) > 12 and p[0] >> 6 == 2 and p[1] & 0x7F == 0]
    assert len(audio) >= 50, f"only {len(audio)} PCMU packets in 2.5 s"  # ≥ 1 s of prompt
    samples = ulaw_to_linear(np.frombuffer(b"".join(p[12:] for p in audio), dtype=np.uint8))
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    assert rms > 300, f"the prompt is silence (rms {rms:.0f})"


def test_call_through_ivr_queue_agent_recording_and_survey(
    voice: tuple[VoiceServer, BaresipAgent], tmp_path: Path
) -> None:
    server, agent = voice
    before = len(server.events())
    pcap = write_timeline(
        tmp_path / "caller.pcap",
        # English, installation; talks; rates 4 as soon as the survey asks
        [Key(0.5, "2"), Key(3.0, "2"), Tone(3.5, 2.5), *answers_survey_when_asked("4", from_s=6)],
    )
    scenario = tmp_path / "caller.xml"
    template = (HERE / "caller_ivr_queue_survey.xml").read_text()
    scenario.write_text(template.replace("__CALLER_PCAP__", str(pcap)))
    started = time.monotonic()
    result = run_sipp(scenario, server.sip_port, tmp_path, timeout_s=40)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    wanted = {"recording_stopped", "finished"}
    # recording_stopped follows the pcap's conversion to WAV in a process pool: seconds on a
    # quiet machine, past ten beside two busy test workers
    events = server.wait_for(lambda evs: wanted <= {str(e["kind"]) for e in evs[before:]}, 30)[
        before:
    ]
    assert time.monotonic() - started < 60
    contact = events[0]["contact_id"] if events[0]["contact_id"] else None
    kinds = [e["kind"] for e in events]
    for expected in (
        "arrived",
        "queued",
        "offered",
        "answered",
        "recording_started",
        "disconnected",
        "survey_answered",
        "finished",
        "recording_stopped",
    ):
        assert expected in kinds, (expected, kinds)
    # IVR: English, installation menu → installation queue with the data attached
    [queued] = _by_kind(events, "queued")  # written by the routing engine
    assert queued["queue"] == "installation"
    [handed_over] = [
        e for e in events if e["kind"] == "ivr_step" and e["data"]["action"] == "enqueue"
    ]
    assert handed_over["data"] == {  # the data the IVR attached to the contact
        "node": "q_installation",
        "action": "enqueue",
        "queue": "installation",
        "menu": "2",
        "language": "en",
    }
    # Routing: offered to and answered by the registered agent
    [answered] = _by_kind(events, "answered")
    assert answered["agent_id"] == "a001"
    assert {"CALL_INCOMING", "CALL_ESTABLISHED", "CALL_RTPESTAB"} <= set(agent.types())
    # Survey: the caller's key 4 after the agent hung up
    [survey] = _by_kind(events, "survey_answered")
    assert survey["data"]["score"] == 4  # type: ignore[index]
    assert kinds.index("disconnected") < kinds.index("survey_answered")
    [finished] = _by_kind(events, "finished")
    assert finished["data"]["outcome"] == "answered"  # type: ignore[index]
    assert all(e["contact_id"] == contact for e in events if e["contact_id"])
    # Recording: a stereo WAV with audio from both sides
    [recording] = _by_kind(events, "recording_stopped")
    path = Path(str(recording["data"]["path"]))  # type: ignore[index]
    assert path.exists()
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert len(frames) / 8000 > 2.0
    channel_rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=0))
    assert (channel_rms > 300).all(), channel_rms
    # The caller heard that the call may be recorded before joining the queue
    notice = next(
        i
        for i, e in enumerate(events)
        if e["kind"] == "ivr_step" and e["data"]["action"] == "recording_notice"
    )
    assert notice < kinds.index("queued") < kinds.index("recording_started")
    # The database has the same contact: events (CSAT's survey answer) and the recording
    engine = make_engine(server.database_url)
    try:
        deadline = time.monotonic() + 5  # the server writes to the database once a second
        while True:
            with Session(engine) as session:
                stored = session.scalars(
                    select(ContactEventRow).where(ContactEventRow.contact_id == contact)
                ).all()
                recordings = session.scalars(
                    select(Recording).where(Recording.contact_id == contact)
                ).all()
            if {"survey_answered", "recording_stopped"} <= {r.kind for r in stored} and recordings:
                break
            assert time.monotonic() < deadline, [r.kind for r in stored]
            time.sleep(0.2)
        # The survey results read the caller's key 4 as the contact's overall CSAT answer,
        # with the call's channel, queue, agent and the agent's team.
        with Session(engine) as session:
            found = surveys.responses(
                session=session, since=0.0, until=time.time() + 60, teams={"a001": "t-install"}
            )
    finally:
        engine.dispose()
    assert {r.source for r in stored} == {"live"}
    [answer] = [r for r in stored if r.kind == "survey_answered"]
    assert answer.data["score"] == 4
    [response] = [r for r in found if r.contact_id == contact]
    assert (response.overall, response.channel, response.queue, response.agent, response.team) == (
        4,
        "voice",
        "installation",
        "a001",
        "t-install",
    )
    assert [(r.path, r.agent_id) for r in recordings] == [(str(path), "a001")]


def test_agent_puts_the_caller_on_hold_and_resumes(
    voice: tuple[VoiceServer, BaresipAgent], tmp_path: Path
) -> None:
    server, agent = voice
    before = len(server.events())
    pcap = write_timeline(
        tmp_path / "caller.pcap",
        [Key(0.5, "2"), Key(3.0, "2"), Tone(3.5, 2.5), *answers_survey_when_asked("5", from_s=6)],
    )
    scenario = tmp_path / "caller.xml"
    template = (HERE / "caller_ivr_queue_survey.xml").read_text()
    scenario.write_text(template.replace("__CALLER_PCAP__", str(pcap)))
    # baresip's ctrl_tcp: "hold" and "resume" send re-INVITEs (a=sendonly, then a=sendrecv).
    # Each re-INVITE restarts its voice file, and baresip hangs up when the file (2.2 s)
    # ends: the whole call stays inside that.
    agent.during_call, agent.talk_s = [(0.5, "hold"), (1.8, "resume")], 2.5
    try:
        result = run_sipp(scenario, server.sip_port, tmp_path, timeout_s=45)
    finally:
        agent.during_call, agent.talk_s = [], 3.0
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    events = server.wait_for(
        lambda evs: {"finished", "recording_stopped"} <= {str(e["kind"]) for e in evs[before:]},
        10,
    )[before:]
    kinds = [e["kind"] for e in events]
    assert kinds.count("held") == 1 and kinds.count("resumed") == 1, kinds
    assert kinds.index("answered") < kinds.index("held") < kinds.index("resumed")
    assert kinds.index("resumed") < kinds.index("disconnected") < kinds.index("survey_answered")
    [held] = _by_kind(events, "held")
    assert (held["agent_id"], held["queue"]) == ("a001", "installation")
    # the phone kept the call through both re-INVITEs: answered, held ~1.3 s, resumed
    [answered] = _by_kind(events, "answered")
    [resumed] = _by_kind(events, "resumed")
    assert 0.8 < float(resumed["at"]) - float(held["at"]) < 2.5  # type: ignore[arg-type]
    assert float(held["at"]) - float(answered["at"]) < 2.0  # type: ignore[arg-type]
    [survey] = _by_kind(events, "survey_answered")
    assert survey["data"]["score"] == 5  # type: ignore[index]
    assert server.alive()


def test_agent_blind_transfers_with_refer_to_another_agent(
    tmp_path: Path, voice_prompts: Path
) -> None:
    prompts = voice_prompts
    phones = tmp_path / "phones.yaml"
    # the two agents of the sample center who speak English (the caller picks English)
    phones.write_text(
        "- {agent: a001, user: '1001', password: 'one'}\n"
        "- {agent: a006, user: '1006', password: 'six'}\n"
    )
    low, _ = port_block(2)  # slot 2 shared: 100 ports for rtpengine, 50 per phone
    server = VoiceServer(
        workdir=tmp_path / "server",
        prompts=prompts,
        phones=phones,
        slot=2,
        rtp_ports=(low, low + 99),
    )
    server.start()
    agents = {
        agent_id: BaresipAgent(
            workdir=tmp_path / agent_id,
            user=user,
            password=password,
            registrar_port=server.sip_port,
            voice=prompts / "en" / "welcome.wav",
            rtp_ports=(low + offset, low + offset + 49),
        )
        for agent_id, user, password, offset in (
            ("a001", "1001", "one", 100),
            ("a006", "1006", "six", 150),
        )
    }
    users = {"a001": "1001", "a006": "1006"}
    try:
        for agent in agents.values():
            agent.start()
        server.wait_for(
            lambda evs: len({e["agent_id"] for e in evs if e["kind"] == "agent_state"}) == 2
        )
        pcap = write_timeline(
            tmp_path / "caller.pcap",
            [
                Key(0.5, "2"),
                Key(3.0, "2"),
                Tone(3.5, 2.5),
                *answers_survey_when_asked("3", from_s=6),
            ],
        )
        scenario = tmp_path / "caller.xml"
        template = (HERE / "caller_ivr_queue_survey.xml").read_text()
        scenario.write_text(template.replace("__CALLER_PCAP__", str(pcap)))
        with ThreadPoolExecutor(max_workers=1) as pool:
            caller = pool.submit(run_sipp, scenario, server.sip_port, tmp_path, timeout_s=45)
            events = server.wait_for(lambda evs: any(e["kind"] == "answered" for e in evs), 20)
            [first] = _by_kind(events, "answered")
            first_agent = str(first["agent_id"])
            [second_agent] = [a for a in agents if a != first_agent]
            time.sleep(0.5)
            # baresip's ctrl_tcp "transfer" sends REFER with Refer-To: the other agent's phone
            agents[first_agent].command(
                "transfer", f"sip:{users[second_agent]}@127.0.0.1:{server.sip_port}"
            )
            result = caller.result()
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        events = server.wait_for(  # the recording's conversion: see the first call's test
            lambda evs: {"finished", "recording_stopped"} <= {str(e["kind"]) for e in evs}, 30
        )
        kinds = [e["kind"] for e in events]
        [transferred] = _by_kind(events, "transferred")
        assert transferred["agent_id"] == first_agent
        assert transferred["data"] == {"to_agent": second_agent}
        answered = [e["agent_id"] for e in _by_kind(events, "answered")]
        assert answered == [first_agent, second_agent]
        last_answered = max(i for i, kind in enumerate(kinds) if kind == "answered")
        assert kinds.index("transferred") < last_answered
        # sippy answered the REFER with 202 and sent the first phone its BYE
        assert agents[first_agent].types()[-1] == "CALL_CLOSED"
        assert {"CALL_ESTABLISHED"} <= set(agents[second_agent].types())
        [survey] = _by_kind(events, "survey_answered")
        assert survey["data"]["score"] == 3  # type: ignore[index]
        assert kinds.count("recording_started") == 1  # one recording across both agents
        [recording] = _by_kind(events, "recording_stopped")
        assert Path(str(recording["data"]["path"])).exists()  # type: ignore[index]
    finally:
        for agent in agents.values():
            agent.stop()
        server.stop()


def _request(method: str, uri: str, port: int, extra: str = "", body: str = "") -> str:
    return (
        f"{method} {uri} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{{n}}\r\n"
        "From: <sip:fuzz@127.0.0.1>;tag={n}\r\nTo: <sip:400@127.0.0.1>\r\n"
        f"Call-ID: {method.lower()}-{{n}}\r\nCSeq: 1 {method}\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )


def _mutations(seed: int, count: int, port: int, reply_port: int) -> Iterator[bytes]:
    """``count`` mutated SIP datagrams (byte flips, cuts, repeats, junk headers)."""
    rng = random.Random(seed)
    sdp = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0\r\n"
    digest = (
        'Authorization: Digest username="1001", realm="hotline", nonce="1.abc", '
        'uri="sip:127.0.0.1", response="00"\r\n'
    )
    templates = [
        _request(
            "INVITE",
            f"sip:400@127.0.0.1:{port}",
            reply_port,
            "Content-Type: application/sdp\r\n",
            sdp,
        ),
        _request(
            "REGISTER",
            f"sip:127.0.0.1:{port}",
            reply_port,
            "Contact: <sip:1001@127.0.0.1:9>;expires=60\r\n" + digest,
        ),
        _request("OPTIONS", f"sip:400@127.0.0.1:{port}", reply_port),
        f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:{reply_port};branch=z9hG4bK{{n}}\r\n"
        "Call-ID: x-{n}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
    ]
    for n in range(count):
        # INVITEs that survive mutation become real calls with media; keep them a minority.
        text = rng.choices(templates, weights=(1, 3, 3, 1))[0].replace("{n}", str(n))
        message = bytearray(text.encode())
        for _ in range(rng.randint(1, 8)):
            operation = rng.randrange(6)
            at = rng.randrange(len(message))
            if operation == 0:  # flip a byte (also makes invalid UTF-8)
                message[at] = rng.randrange(256)
            elif operation == 1:  # truncate
                del message[at:]
            elif operation == 2:  # duplicate a slice
                message[at:at] = message[at : at + rng.randint(1, 40)]
            elif operation == 3:  # drop a line break
                index = message.find(b"\r\n", at)
                if index >= 0:
                    del message[index : index + 2]
            elif operation == 4:  # absurd numbers
                message = message.replace(b"Content-Length: ", b"Content-Length: 99999999", 1)
            else:  # garbage header
                junk = bytes(rng.randrange(256) for _ in range(20))
                message[at:at] = b"\r\nX-" + junk + b": \r\n"
            if not message:
                message = bytearray(b"\x00")
        yield bytes(message)


def test_malformed_sip_does_not_crash_the_server(voice: tuple[VoiceServer, BaresipAgent]) -> None:
    server, _ = voice
    responses = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        fuzz = _mutations(6, 2000, server.sip_port, sock.getsockname()[1])
        for index, datagram in enumerate(fuzz):
            sock.sendto(datagram, ("127.0.0.1", server.sip_port))
            if index % 50 == 0:
                time.sleep(0.005)  # a steady stream, not a burst the kernel drops
            with contextlib.suppress(BlockingIOError):
                while True:
                    sock.recvfrom(65535)
                    responses += 1
        time.sleep(1.0)
        with contextlib.suppress(BlockingIOError):
            while True:
                sock.recvfrom(65535)
                responses += 1
    assert server.alive()
    assert sip_request(server.sip_port) == "SIP/2.0 200 OK"  # still serving
    # Requests sippy could still parse were answered (400, 401, 403, 481…); datagrams
    # without a usable start line or Via are dropped, as RFC 3261 §18.3 allows. With this
    # seed about 4 % of the 2,000 datagrams get an answer.
    assert responses >= 20, responses


def test_media_server_down_gives_503_and_alarm_then_recovers(
    tmp_path: Path, voice_prompts: Path
) -> None:
    prompts = voice_prompts
    phones = tmp_path / "phones.yaml"
    phones.write_text("- {agent: a009, user: '1009', password: 'x'}\n")
    server = VoiceServer(
        workdir=tmp_path / "server", prompts=prompts, phones=phones, spawn_rtpengine=False, slot=2
    )
    server.start()
    rtpengine: RtpengineProcess | None = None
    try:
        result = run_sipp(
            HERE / "caller_expects_503.xml", server.sip_port, tmp_path / "a", timeout_s=20
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        events = server.wait_for(lambda evs: any(e["kind"] == "alarm" for e in evs))
        [alarm] = _by_kind(events, "alarm")
        assert alarm["data"]["state"] == "raised"  # type: ignore[index]
        assert alarm["data"]["component"] == "media"  # type: ignore[index]
        assert _by_kind(events, "finished")[-1]["data"]["outcome"] == "failed"  # type: ignore[index]
        # rtpengine comes back: the next call gets media and the alarm clears
        low, high = port_block(2)
        rtpengine = RtpengineProcess(
            workdir=tmp_path / "rtpengine",
            ng_port=server.ng_port,
            dtmf_port=server.dtmf_port,
            port_min=low,
            port_max=high,
        )
        rtpengine.start()
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        try:
            result = run_sipp(
                HERE / "caller_listens.xml",
                server.sip_port,
                tmp_path / "b",
                keys={"rtp_sink": str(sink.getsockname()[1])},
                timeout_s=20,
            )
        finally:
            sink.close()
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        events = server.wait_for(lambda evs: len(_by_kind(evs, "alarm")) >= 2)
        assert [a["data"]["state"] for a in _by_kind(events, "alarm")] == ["raised", "recovered"]  # type: ignore[index]
    finally:
        if rtpengine is not None:
            rtpengine.stop()
        server.stop()


def test_agent_phone_gone_makes_agent_not_ready(voice: tuple[VoiceServer, BaresipAgent]) -> None:
    server, agent = voice
    agent.stop()  # baresip unregisters (REGISTER with Expires: 0) on the way out
    events = server.wait_for(
        lambda evs: any(
            e["kind"] == "agent_state" and e["data"]["state"] == "not_ready" for e in evs
        )
    )
    gone = [e for e in _by_kind(events, "agent_state") if e["data"]["state"] == "not_ready"]  # type: ignore[index]
    assert gone[-1]["agent_id"] == "a001"
    assert gone[-1]["data"]["reason"] == "phone_unregistered"  # type: ignore[index]
