"""The pieces under the voice driver: bencode, ng client, DTMF log, digest, recordings."""

from __future__ import annotations

import asyncio
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from hotline.telephony.media.bencode import BencodeError, decode, encode
from hotline.telephony.media.g711 import alaw_to_linear, linear_to_ulaw, ulaw_to_linear
from hotline.telephony.media.recording import (
    find_pcap,
    pcap_to_wav,
    read_rtp_streams,
    telephone_events,
    tone_seconds,
)
from hotline.telephony.media.rtpengine import NgClient, parse_dtmf_log
from hotline.telephony.ports import MediaRejected, MediaUnavailable
from hotline.telephony.sip.registrar import Registrar, digest_response, parse_digest
from hotline.telephony.sip.stack import parse_contact

# ------------------------------------------------------------------ bencode


def test_bencode_round_trip() -> None:
    value = {"command": "offer", "flags": ["trust-address", "record-call"], "n": -3, "sdp": "v=0"}
    assert decode(encode(value)) == value
    assert encode({"b": 1, "a": 2}) == b"d1:ai2e1:bi1ee"  # keys sorted


@pytest.mark.parametrize("raw", [b"i12", b"5:abc", b"d3:abce", b"x", b"l", b"i1ei2e"])
def test_bencode_refuses_broken_input(raw: bytes) -> None:
    with pytest.raises(BencodeError):
        decode(raw)


def test_bencode_keeps_binary_strings_as_bytes() -> None:
    assert decode(b"2:\xff\xfe") == b"\xff\xfe"


# ------------------------------------------------------------------ ng client


class _FakeRtpengine(asyncio.DatagramProtocol):
    """Answers ng requests like rtpengine: pong, an error, or nothing at all."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.seen = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.seen += 1
        cookie, _, body = data.partition(b" ")
        request = decode(body)
        if self.mode == "silent":
            return
        if self.mode == "error":
            reply = {"result": "error", "error-reason": "Unknown call-id"}
        else:
            reply = {"result": "pong"} if request["command"] == "ping" else {"result": "ok"}
        self.transport.sendto(cookie + b" " + encode(reply), addr)  # type: ignore[attr-defined]


async def _with_fake(mode: str) -> tuple[object, int, int]:
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(
        lambda: _FakeRtpengine(mode), local_addr=("127.0.0.1", 0)
    )
    port = transport.get_extra_info("sockname")[1]
    client = NgClient("127.0.0.1", port, timeout_s=0.05, attempts=2)
    try:
        if mode == "ok":
            result: object = await client.ping()
        else:
            try:
                await client.start_recording(call="c1")
                result = "no error"
            except MediaRejected as exc:
                result = f"rejected: {exc}"
            except MediaUnavailable as exc:
                result = f"unavailable: {exc}"
    finally:
        client.close()
        transport.close()
    return result, server.seen, port


def test_ng_client_ping() -> None:
    result, seen, _ = asyncio.run(_with_fake("ok"))
    assert result is True
    assert seen == 1


def test_ng_client_error_reply_is_a_rejection() -> None:
    result, _, _ = asyncio.run(_with_fake("error"))
    assert result == "rejected: rtpengine start recording: Unknown call-id"


def test_ng_client_silence_is_unavailable_after_retries() -> None:
    result, seen, port = asyncio.run(_with_fake("silent"))
    assert result == f"unavailable: rtpengine at 127.0.0.1:{port} did not answer"
    assert seen == 2  # re-sent once


def test_dtmf_log_parsing() -> None:
    event = parse_dtmf_log(b'{"callid":"v-1","source_tag":"caller","type":"DTMF","event":10}')
    assert event is not None
    assert (event.call, event.tag, event.key) == ("v-1", "caller", "*")
    assert parse_dtmf_log(b"not json") is None
    assert parse_dtmf_log(b'{"callid":"v-1","event":99}') is None
    assert parse_dtmf_log(b'{"callid":"v-1","type":"other","event":1}') is None


# ------------------------------------------------------------------ registrar


def _authorize(registrar: Registrar, *, user: str, password: str, now: float) -> str:
    challenge = parse_digest(registrar.challenge(now=now))
    response = digest_response(
        username=user,
        realm=challenge["realm"],
        password=password,
        method="REGISTER",
        uri="sip:127.0.0.1",
        nonce=challenge["nonce"],
        qop="auth",
        nc="00000001",
        cnonce="ab",
    )
    return (
        f'Digest username="{user}", realm="{challenge["realm"]}", nonce="{challenge["nonce"]}", '
        f'uri="sip:127.0.0.1", response="{response}", qop=auth, nc=00000001, cnonce="ab"'
    )


def test_register_challenge_then_accept_and_expire() -> None:
    changes: list[tuple[str, str | None]] = []
    registrar = Registrar(
        realm="hotline",
        users={"1001": "pw"},
        secret=b"k",
        on_change=lambda u, c: changes.append((u, c)),
    )
    first = registrar.register(
        now=100.0, user="1001", authorization=None, contact="sip:1001@127.0.0.1:5071", expires=60
    )
    assert (first.status, first.challenge is not None) == (401, True)
    auth = _authorize(registrar, user="1001", password="pw", now=100.0)
    ok = registrar.register(
        now=101.0, user="1001", authorization=auth, contact="sip:1001@127.0.0.1:5071", expires=60
    )
    assert ok.status == 200
    assert registrar.lookup("1001", now=150.0) is not None
    assert registrar.expire(now=170.0) == ["1001"]
    assert changes == [("1001", "sip:1001@127.0.0.1:5071"), ("1001", None)]


def test_register_wrong_password_stale_nonce_and_other_user() -> None:
    registrar = Registrar(realm="hotline", users={"1001": "pw", "1002": "pw2"}, secret=b"k")
    bad = _authorize(registrar, user="1001", password="nope", now=100.0)
    assert (
        registrar.register(
            now=100.0, user="1001", authorization=bad, contact="sip:x@h", expires=60
        ).status
        == 403
    )
    good = _authorize(registrar, user="1001", password="pw", now=100.0)
    stale = registrar.register(
        now=1000.0, user="1001", authorization=good, contact="sip:x@h", expires=60
    )
    assert stale.status == 401
    assert stale.challenge is not None and "stale=true" in stale.challenge
    # 1001's credentials cannot register 1002's phone
    assert (
        registrar.register(
            now=100.0, user="1002", authorization=good, contact="sip:x@h", expires=60
        ).status
        == 403
    )
    forged = good.replace('nonce="', 'nonce="9')
    assert registrar.register(
        now=100.0, user="1001", authorization=forged, contact="sip:x@h", expires=60
    ).status in (401, 403)


def test_register_zero_expires_unregisters_and_brief_interval_is_refused() -> None:
    registrar = Registrar(realm="hotline", users={"1001": "pw"}, secret=b"k")
    auth = _authorize(registrar, user="1001", password="pw", now=100.0)
    registrar.register(now=100.0, user="1001", authorization=auth, contact="sip:a@h", expires=60)
    brief = registrar.register(
        now=100.0, user="1001", authorization=auth, contact="sip:a@h", expires=3
    )
    assert (brief.status, brief.expires) == (423, 10)
    gone = registrar.register(
        now=100.0, user="1001", authorization=auth, contact="sip:a@h", expires=0
    )
    assert gone.status == 200
    assert registrar.lookup("1001", now=100.0) is None


def test_parse_contact_forms() -> None:
    assert parse_contact("<sip:1001-0x5@127.0.0.1:5071>;expires=3600") == (
        "1001-0x5",
        "127.0.0.1",
        5071,
        3600,
    )
    assert parse_contact("sip:127.0.0.1") == (None, "127.0.0.1", 5060, None)
    with pytest.raises(ValueError):
        parse_contact("garbage")


# ------------------------------------------------------------------ recordings


def test_g711_decoders_match_reference_points() -> None:
    # ITU-T G.711: μ-law 0x80 is the largest positive value, A-law 0xD5 the smallest positive
    assert ulaw_to_linear(np.array([0x80], dtype=np.uint8)).tolist() == [32124]
    assert alaw_to_linear(np.array([0xD5, 0x55], dtype=np.uint8)).tolist() == [8, -8]
    codes = np.arange(256, dtype=np.uint8)
    assert np.all(np.diff(ulaw_to_linear(codes[:128]).astype(int)) > 0)  # monotonic segment


def _pcap(
    path: Path, packets: list[tuple[float, int, int, bytes]], to: dict[int, int] | None = None
) -> None:
    """A capture as rtpengine writes it: each packet from its source port to the relay's
    port ``to[source]`` (30000 unless said)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)]  # raw IP
    for seq, (when, source_port, payload_type, payload) in enumerate(packets):
        rtp = struct.pack("!BBHII", 0x80, payload_type, seq, seq * 160, 7) + payload
        relay = (to or {}).get(source_port, 30000)
        udp = struct.pack("!HHHH", source_port, relay, 8 + len(rtp), 0) + rtp
        ip = (
            struct.pack(
                "!BBHHHBBH4s4s",
                0x45,
                0,
                20 + len(udp),
                0,
                0,
                64,
                17,
                0,
                bytes([127, 0, 0, 1]),
                bytes([127, 0, 0, 1]),
            )
            + udp
        )
        out.append(struct.pack("<IIII", int(when), int((when % 1) * 1e6), len(ip), len(ip)) + ip)
    path.write_bytes(b"".join(out))


def test_pcap_to_stereo_wav_places_each_side_in_its_channel(tmp_path: Path) -> None:
    loud = bytes([0x80]) * 160  # μ-law near full scale
    packets = [(1000.0 + i * 0.02, 4000, 0, loud) for i in range(50)]  # caller: 1 s
    packets += [(1000.5 + i * 0.02, 5000, 0, bytes([0xFF]) * 160) for i in range(25)]  # silence
    packets += [(1000.1, 4000, 101, b"\x05\x8a\x03\x20")]  # a DTMF event: not audio
    pcaps = tmp_path / "pcaps"
    pcaps.mkdir()
    _pcap(pcaps / "v-abc-123.pcap", packets, to={4000: 30000, 5000: 30002})
    found = find_pcap(tmp_path, "v-abc")
    assert found is not None
    streams = read_rtp_streams(found)
    assert sorted(len(s.packets) for s in streams) == [25, 50]
    # the caller (sending to the relay's caller side, 30000) on the left whatever its address
    summary = pcap_to_wav(found, tmp_path / "out.wav", caller_side=30002)
    assert summary.channels == ("127.0.0.1:5000", "127.0.0.1:4000")
    assert summary.rms[0] == 0 and summary.rms[1] > 30000
    summary = pcap_to_wav(found, tmp_path / "out.wav")  # no side said: the busiest's
    assert summary.channels == ("127.0.0.1:4000", "127.0.0.1:5000")
    assert summary.rms[0] > 30000 and summary.rms[1] == 0
    assert summary.seconds == pytest.approx(1.0, abs=0.01)
    with wave.open(str(tmp_path / "out.wav")) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)


def _ulaw_tone(hz: float, start_s: float, seconds: float, amplitude: float = 6000) -> list[bytes]:
    t = start_s + np.arange(round(seconds * 8000)) / 8000
    coded = linear_to_ulaw((amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16))
    return [coded[i : i + 160].tobytes() for i in range(0, len(coded), 160)]


def test_a_barged_call_is_recorded_with_everyone_the_caller_heard(tmp_path: Path) -> None:
    """A synthetic capture of a barge: the caller (440 Hz) sends to the relay's caller side
    (30000) throughout; the agent's phone (1 kHz) sends to the far side (30002) for the first
    and last two seconds; in between the session's mixer sends there, from its own port, the
    agent and the supervisor (2.5 kHz) added. The right channel holds all three phases."""
    caller, agent, mixer = 4000, 5000, 6000
    packets = [(100 + i * 0.02, caller, 0, p) for i, p in enumerate(_ulaw_tone(440, 0, 6))]
    for start in (0.0, 4.0):
        tone = _ulaw_tone(1000, start, 2)
        packets += [(100 + start + i * 0.02, agent, 0, p) for i, p in enumerate(tone)]
    both = [
        ulaw_to_linear(np.frombuffer(a, np.uint8)).astype(np.int32)
        + ulaw_to_linear(np.frombuffer(s, np.uint8))
        for a, s in zip(_ulaw_tone(1000, 2, 2, 3000), _ulaw_tone(2500, 2, 2, 3000), strict=True)
    ]
    packets += [
        (
            102 + i * 0.02,
            mixer,
            0,
            linear_to_ulaw(np.clip(p, -32768, 32767).astype(np.int16)).tobytes(),
        )
        for i, p in enumerate(both)
    ]
    packets.sort()
    _pcap(tmp_path / "barge.pcap", packets, to={caller: 30000, agent: 30002, mixer: 30002})
    summary = pcap_to_wav(tmp_path / "barge.pcap", tmp_path / "barge.wav", caller_side=30000)
    assert summary.channels == ("127.0.0.1:4000", "127.0.0.1:5000+127.0.0.1:6000")
    with wave.open(str(tmp_path / "barge.wav")) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    said, heard = frames[:, 0], frames[:, 1]
    assert tone_seconds(said, 440) == pytest.approx(6.0, abs=0.15)
    assert tone_seconds(heard, 440) == 0  # the caller is not heard on the caller's own side
    barge = heard[2 * 8000 : 4 * 8000]
    spectrum = np.abs(np.fft.rfft(barge.astype(np.float64)))
    bins = {hz: spectrum[round(hz * len(barge) / 8000)] for hz in (1000, 2500, 700)}
    assert bins[2500] > 100 * bins[700] and bins[1000] > 100 * bins[700], bins
    # the agent before and after the barge (the busiest source alone was all there was)
    assert tone_seconds(heard[: 2 * 8000], 1000) == pytest.approx(2.0, abs=0.15)
    assert tone_seconds(heard[4 * 8000 :], 1000) == pytest.approx(2.0, abs=0.15)


def test_telephone_events_in_a_capture_count_each_key_press_once(tmp_path: Path) -> None:
    def press(at: float, port: int, code: int) -> list[tuple[float, int, int, bytes]]:
        # RFC 4733: the event while the key is down, then its end (E bit) three times
        going = [
            (at + i * 0.02, port, 101, bytes([code, 10]) + (160 * (i + 1)).to_bytes(2, "big"))
            for i in range(3)
        ]
        end = [
            (at + 0.06 + i * 0.001, port, 101, bytes([code, 0x8A, 0x01, 0xE0])) for i in range(3)
        ]
        return going + end

    audio = [(999.0, 4000, 0, bytes([0xFF]) * 160), (999.0, 5000, 0, bytes([0xFF]) * 4)]
    packets = audio + press(1000.0, 5000, 1) + press(1000.5, 5000, 1) + press(1001.0, 4000, 11)
    _pcap(tmp_path / "keys.pcap", packets)
    assert telephone_events(tmp_path / "keys.pcap") == [
        ("127.0.0.1:5000", "1"),  # a 4-byte G.711 payload is no event
        ("127.0.0.1:5000", "1"),  # the same key twice: two presses
        ("127.0.0.1:4000", "#"),
    ]


def test_pcap_without_audio_is_refused(tmp_path: Path) -> None:
    _pcap(tmp_path / "x.pcap", [(1.0, 4000, 101, b"\x05\x8a\x03\x20")])
    with pytest.raises(ValueError, match=r"no G\.711 audio"):
        pcap_to_wav(tmp_path / "x.pcap", tmp_path / "x.wav")
    (tmp_path / "y.pcap").write_bytes(b"not a pcap at all, really not")
    with pytest.raises(ValueError, match="not a pcap"):
        read_rtp_streams(tmp_path / "y.pcap")


def test_register_answered_within_the_same_millisecond_is_not_stale() -> None:
    # The nonce's stamp is rounded to milliseconds: 100.0006 is written as 100.001.
    registrar = Registrar(realm="hotline", users={"1001": "pw"}, secret=b"k")
    auth = _authorize(registrar, user="1001", password="pw", now=100.0006)
    result = registrar.register(
        now=100.0008, user="1001", authorization=auth, contact="sip:a@h", expires=60
    )
    assert result.status == 200


def test_ng_client_out_of_ports_is_unavailable_not_rejected() -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()

        class Full(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                cookie = data.partition(b" ")[0]
                reply = {"result": "error", "error-reason": "Ran out of ports"}
                self.transport.sendto(cookie + b" " + encode(reply), addr)  # type: ignore[attr-defined]

        transport, _ = await loop.create_datagram_endpoint(Full, local_addr=("127.0.0.1", 0))
        client = NgClient("127.0.0.1", transport.get_extra_info("sockname")[1], timeout_s=0.2)
        try:
            await client.offer(call="c", from_tag="a", sdp="v=0")
        except MediaRejected:
            return "rejected"
        except MediaUnavailable:
            return "unavailable"
        finally:
            client.close()
            transport.close()
        return "ok"

    assert asyncio.run(main()) == "unavailable"


def test_upper_case_transport_in_a_phone_contact_is_normalised() -> None:
    from types import SimpleNamespace

    from hotline.telephony.sip.stack import _normalise_transport

    ua = SimpleNamespace(
        rTarget=SimpleNamespace(transport="UDP"), rAddr=(("127.0.0.1", 5071), "UDP")
    )
    _normalise_transport(ua)
    assert ua.rTarget.transport == "udp"
    assert ua.rAddr == (("127.0.0.1", 5071), "udp")
