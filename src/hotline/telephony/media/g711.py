"""G.711 audio and the supervisor's mixer arithmetic: decode, mix with saturation, encode.

Telephone audio on our calls is G.711 (ITU-T G.711): 8,000 samples a second, one byte a
sample, μ-law (PCMU, payload type 0) or A-law (PCMA, payload type 8). rtpengine relays it
without looking inside. When a supervisor listens to a call, the two parties' streams reach
the voice server separately (rtpengine's ``subscribe request`` forks each direction), and an
ordinary SIP phone plays one stream: so the two are mixed into one here — each 20 ms frame
decoded to 16-bit linear, the samples added, the sum clipped to the 16-bit range (two loud
voices saturate rather than wrap around into noise), and encoded again.

Who hears whom follows Asterisk's ChanSpy (``app_chanspy.c``): :data:`HEARS` names, for
each mode, the sources mixed into what each party receives.

Pure: no sockets, no clock (:mod:`hotline.telephony.supervision` is the edge).

>>> ulaw_to_linear(np.array([0xFF, 0x7F, 0x00], dtype=np.uint8)).tolist()
[0, 0, -32124]
>>> mix([("pcmu", bytes([0xFF] * 4)), ("pcma", bytes([0x2A] * 4))], law="pcmu", samples=4)
b'\\x00\\x00\\x00\\x00'
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

Law = Literal["pcmu", "pcma"]
#: The RTP payload type of each law (RFC 3551, table 4).
PAYLOAD_TYPE: Mapping[Law, int] = {"pcmu": 0, "pcma": 8}
#: The byte that encodes silence (linear 0) in each law.
SILENCE: Mapping[Law, int] = {"pcmu": 0xFF, "pcma": 0xD5}
FRAME_SAMPLES = 160  # 20 ms at 8 kHz: the packet size every phone of ours sends

_ULAW_BIAS, _ULAW_CLIP = 0x84, 32635
_INT16_MIN, _INT16_MAX = -32768, 32767

#: The supervision modes, as Asterisk's ChanSpy has them.
Mode = Literal["listen", "whisper", "barge"]
MODES: tuple[Mode, ...] = ("listen", "whisper", "barge")
CALLER, AGENT, SUPERVISOR = "caller", "agent", "supervisor"

#: Who hears whom in each mode (ChanSpy): listen — the supervisor hears both parties and
#: nobody hears the supervisor; whisper (coach) — the agent hears the supervisor too, the
#: caller does not; barge — all three hear each other. Receiver -> the sources mixed for it.
#: The caller and the agent always hear each other.
HEARS: Mapping[Mode, Mapping[str, tuple[str, ...]]] = {
    "listen": {SUPERVISOR: (CALLER, AGENT), AGENT: (CALLER,), CALLER: (AGENT,)},
    "whisper": {SUPERVISOR: (CALLER, AGENT), AGENT: (CALLER, SUPERVISOR), CALLER: (AGENT,)},
    "barge": {
        SUPERVISOR: (CALLER, AGENT),
        AGENT: (CALLER, SUPERVISOR),
        CALLER: (AGENT, SUPERVISOR),
    },
}


#: Whisper and barge on an agent at the browser softphone, whose call cannot pass through
#: the mixer (its DTLS-SRTP belongs to the caller's relay): the browser mixes, and the mixer
#: only joins the supervisor's phone to the browser's *coach line* (its ``AGENT`` port). The
#: browser sends there its microphone and the caller, and plays what it gets there (the
#: supervisor) beside the caller, adding it to what the caller hears in barge; so the mixer
#: sends the supervisor the coach line, and the coach line the supervisor. ChanSpy's table
#: (:data:`HEARS`) is kept whole, the browser doing the caller's and the agent's parts.
COACH_LINE_HEARS: Mapping[str, tuple[str, ...]] = {
    SUPERVISOR: (AGENT,),
    AGENT: (SUPERVISOR,),
    CALLER: (),
}


def heard_by(mode: Mode, receiver: str, *, coach_line: bool = False) -> tuple[str, ...]:
    """The sources mixed into what ``receiver`` hears in ``mode`` (``coach_line``: the
    agent is on the browser, coached through its coach line: :data:`COACH_LINE_HEARS`).

    >>> heard_by("whisper", "caller")
    ('agent',)
    >>> heard_by("barge", "caller")
    ('agent', 'supervisor')
    >>> heard_by("barge", "supervisor", coach_line=True)
    ('agent',)
    """
    if coach_line and mode != "listen":
        return COACH_LINE_HEARS[receiver]
    return HEARS[mode][receiver]


def ulaw_to_linear(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """Decode G.711 μ-law bytes to 16-bit linear samples (ITU-T G.711, table 2a)."""
    u = (~codes.astype(np.int32)) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def alaw_to_linear(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    """Decode G.711 A-law bytes to 16-bit linear samples (ITU-T G.711, table 1a)."""
    a = codes.astype(np.int32) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1)
    )
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


def linear_to_ulaw(samples: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """Encode 16-bit linear samples as G.711 μ-law (ITU-T G.711; the bias-and-clip form).

    >>> linear_to_ulaw(np.array([0, 32767, -32768])).tolist()
    [255, 128, 0]
    """
    x = samples.astype(np.int32)
    sign = (x < 0).astype(np.int32) << 7
    magnitude = np.minimum(np.abs(x), _ULAW_CLIP) + _ULAW_BIAS
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    codes: npt.NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return codes


def linear_to_alaw(samples: npt.NDArray[np.integer]) -> npt.NDArray[np.uint8]:
    """Encode 16-bit linear samples as G.711 A-law (ITU-T G.711, 13-bit segments).

    >>> linear_to_alaw(np.array([0, 32767, -32768])).tolist()
    [213, 170, 42]
    """
    x = samples.astype(np.int32)
    positive = x >= 0
    magnitude = np.minimum(np.where(positive, x, -x - 1), 0x7FFF) >> 3  # 12 bits
    exponent = np.clip(np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32) - 4, 0, 7)
    mantissa = np.where(exponent == 0, magnitude >> 1, magnitude >> exponent) & 0x0F
    code = (exponent << 4) | mantissa | np.where(positive, 0x80, 0)
    codes: npt.NDArray[np.uint8] = (code ^ 0x55).astype(np.uint8)
    return codes


def decode(payload: bytes, law: Law) -> npt.NDArray[np.int16]:
    """One RTP payload of ``law`` as linear samples."""
    codes = np.frombuffer(payload, dtype=np.uint8)
    return ulaw_to_linear(codes) if law == "pcmu" else alaw_to_linear(codes)


def encode(samples: npt.NDArray[np.integer], law: Law) -> bytes:
    """Linear samples as one RTP payload of ``law``."""
    return bytes(linear_to_ulaw(samples) if law == "pcmu" else linear_to_alaw(samples))


def mix(frames: Sequence[tuple[Law, bytes]], *, law: Law, samples: int = FRAME_SAMPLES) -> bytes:
    """Mix G.711 frames (each with its own law) into one frame of ``law``: decode, add,
    clip to 16 bits, encode.

    A missing party (no frame arrived this tick) is simply left out; a short frame counts
    as silence for its missing tail; no frames at all make a frame of silence.

    >>> loud = encode(np.full(4, 30000), "pcmu")
    >>> decode(mix([("pcmu", loud), ("pcmu", loud)], law="pcmu", samples=4), "pcmu").tolist()
    [32124, 32124, 32124, 32124]
    """
    total = np.zeros(samples, dtype=np.int32)
    for frame_law, frame in frames:
        linear = decode(frame[:samples], frame_law)
        total[: len(linear)] += linear
    return encode(np.clip(total, _INT16_MIN, _INT16_MAX), law)


#: RTP's fixed header (RFC 3550 §5.1): V=2, payload type, sequence number, timestamp, SSRC.
_RTP_HEADER = struct.Struct("!BBHII")
LAW_OF: Mapping[int, Law] = {0: "pcmu", 8: "pcma"}


def rtp_packet(*, payload_type: int, seq: int, timestamp: int, ssrc: int, payload: bytes) -> bytes:
    """One RTP packet (RFC 3550 §5.1, version 2, no CSRC, no extension).

    >>> rtp_packet(payload_type=0, seq=1, timestamp=160, ssrc=7, payload=b"\\xff")[:2].hex()
    '8000'
    """
    header = _RTP_HEADER.pack(
        0x80, payload_type & 0x7F, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc & 0xFFFFFFFF
    )
    return header + payload


def rtp_audio(datagram: bytes) -> tuple[Law, bytes] | None:
    """The G.711 audio an RTP packet carries (its law and payload); ``None`` for anything
    else (RTCP, RFC 4733 telephone-events, other codecs, a truncated packet).

    >>> rtp_audio(rtp_packet(payload_type=8, seq=1, timestamp=0, ssrc=1, payload=b"\\xd5"))
    ('pcma', b'\\xd5')
    >>> rtp_audio(rtp_packet(payload_type=101, seq=1, timestamp=0, ssrc=1, payload=b"1234"))
    """
    if len(datagram) < _RTP_HEADER.size or datagram[0] >> 6 != 2:
        return None
    law = LAW_OF.get(datagram[1] & 0x7F)
    if law is None:
        return None
    start = _RTP_HEADER.size + 4 * (datagram[0] & 0x0F)  # past the CSRC list
    if datagram[0] & 0x10 and len(datagram) >= start + 4:  # a header extension (§5.3.1)
        start += 4 + 4 * int.from_bytes(datagram[start + 2 : start + 4], "big")
    if datagram[0] & 0x20 and len(datagram) > start:  # padding: its length is the last byte
        datagram = datagram[: len(datagram) - datagram[-1]]
    payload = datagram[start:]
    return (law, payload) if payload else None
