"""Write a caller's media timeline (G.711 μ-law audio + RFC 4733 keys) as a pcap for sipp.

sipp's ``play_pcap_audio`` replays a capture towards the far end's SDP address with the
capture's own timing. Its stock ``dtmf_2833_N.pcap`` files all carry the same RTP sequence
numbers and timestamps, so a media relay that de-duplicates telephone-events (rtpengine
does, per RFC 4733 §2.5.1.3 an event is identified by its timestamp) hears the second
press of a key as a retransmission of the first. One pcap per call, with one SSRC and
monotonic sequence numbers and timestamps, plays like a real phone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotline.telephony.media.g711 import linear_to_ulaw

RATE = 8000
FRAME = 160  # 20 ms at 8 kHz
PCMU, TELEPHONE_EVENT = 0, 101
KEYS = "0123456789*#"


@dataclass(frozen=True)
class Key:
    """Press ``key`` at ``at`` seconds for 100 ms."""

    at: float
    key: str


@dataclass(frozen=True)
class Tone:
    """Speak (a tone of ``hz``) from ``at`` for ``seconds``."""

    at: float
    seconds: float
    hz: float = 440.0


def _frame(seq: int, ts: int, pt: int, payload: bytes, marker: bool = False) -> bytes:
    rtp = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts, 0x1234ABCD)
    udp_payload = rtp + payload
    udp = struct.pack("!HHHH", 40000, 6000, 8 + len(udp_payload), 0) + udp_payload
    ip = struct.pack(
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
    ethernet = b"\x00" * 12 + b"\x08\x00"
    return ethernet + ip + udp


def answers_survey_when_asked(
    key: str, *, from_s: float, until_s: float = 80.0, hz: float = 440.0
) -> list[Key | Tone]:
    """A caller who talks and presses ``key`` once a second from ``from_s`` on.

    Keys belong to the conversation until the agent hangs up; the survey takes the first one
    after it asks. So the caller rates the call a second at most after the survey listens,
    instead of at a fixed moment past the slowest expected hang-up, and the call lasts as long
    as the test's checks. Each second is 0.8 s of a tone of ``hz`` and the key at 0.85 s.
    """
    timeline: list[Key | Tone] = []
    second = from_s
    while second < until_s:
        timeline += [Tone(second, 0.8, hz), Key(second + 0.85, key)]
        second += 1.0
    return timeline


def write_timeline(path: Path, items: list[Key | Tone]) -> Path:
    """Write the timeline as an Ethernet pcap; packets sorted by time, one SSRC."""
    packets: list[tuple[float, int, int, bytes, bool]] = []  # time, ts, pt, payload, marker
    for item in items:
        if isinstance(item, Tone):
            frames = int(item.seconds * RATE / FRAME)
            t = np.arange(frames * FRAME) / RATE
            audio = linear_to_ulaw(8000 * np.sin(2 * np.pi * item.hz * t))
            for i in range(frames):
                when = item.at + i * FRAME / RATE
                payload = audio[i * FRAME : (i + 1) * FRAME].tobytes()
                packets.append((when, int(when * RATE), PCMU, payload, False))
        else:
            code = KEYS.index(item.key)
            start = int(item.at * RATE)
            for i in range(5):  # 100 ms of key, a packet every 20 ms
                duration = FRAME * (i + 1)
                payload = struct.pack("!BBH", code, 10, duration)
                packets.append((item.at + i * 0.02, start, TELEPHONE_EVENT, payload, i == 0))
            for i in range(3):  # the end packet, sent three times (RFC 4733 §2.5.1.4)
                payload = struct.pack("!BBH", code, 0x80 | 10, FRAME * 5)
                packets.append((item.at + 0.1 + i * 0.001, start, TELEPHONE_EVENT, payload, False))
    packets.sort(key=lambda p: p[0])
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    base = 1_700_000_000.0
    for seq, (when, ts, pt, payload, marker) in enumerate(packets, start=1):
        frame = _frame(seq, ts, pt, payload, marker)
        stamp = base + when
        out.append(struct.pack("<IIII", int(stamp), int((stamp % 1) * 1e6), len(frame), len(frame)))
        out.append(frame)
    path.write_bytes(b"".join(out))
    return path
