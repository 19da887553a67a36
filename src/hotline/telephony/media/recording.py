"""Call recordings: turn rtpengine's per-call pcap into a stereo WAV, one channel per side.

rtpengine (``--recording-method=pcap``) writes every RTP packet of a recorded call into one
pcap file, as it received them: from the sender's address to the relay's own port on that
side. After the call this module reads it once, decodes G.711 (PCMU/PCMA, ITU-T G.711
tables) with numpy and places each packet's samples at its capture time, so silence and gaps
stay where they were. It runs after hang-up, off the media path.

The left channel is what the caller said, the right what the caller heard — every party
that reached the caller, mixed as the caller heard them: the agent's phone; in a
supervisor's barge, the session's mixer (the agent and the supervisor, added); after a
transfer, the next agent or the outside number. A direction is the relay port the packets
arrived at: the caller's is the port the caller was answered with (``caller_side``), every
other is the far side's. (The converter used to keep the two busiest sources, so a barge's
mixer — or the agent's phone, whichever sent less — was missing from the recording.)

>>> ulaw_to_linear(np.array([0xFF, 0x7F, 0x00], dtype=np.uint8)).tolist()
[0, 0, -32124]
"""

from __future__ import annotations

import struct
import wave
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hotline.telephony.media.g711 import alaw_to_linear, ulaw_to_linear
from hotline.telephony.media.rtpengine import DTMF_KEYS

SAMPLE_RATE = 8000
PCMU, PCMA = 0, 8
_LINKTYPE_ETHERNET, _LINKTYPE_RAW, _LINKTYPE_IPV4 = 1, 101, 228


@dataclass
class Stream:
    """One source of RTP found in the capture: its address, its packets, and the relay's
    port they reached (which side of the call it is on)."""

    source: str
    packets: list[tuple[float, int, bytes]]  # capture time, payload type, payload
    destination: str = ""


@dataclass(frozen=True, slots=True)
class RecordingSummary:
    """What was written: the WAV, its length and each channel's source and loudness."""

    path: Path
    seconds: float
    channels: tuple[str, ...]
    rms: tuple[float, ...]


def _rtp_packets(pcap: Path) -> Iterator[tuple[float, str, str, int, bytes]]:
    """Each RTP packet of a pcap (classic format): capture time, source and destination
    addresses, payload type, and the RTP payload (after the header, its CSRCs and any
    extension)."""
    data = pcap.read_bytes()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{pcap} is not a pcap file")
    nanoseconds = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, _ = struct.unpack(endian + "IIII", data[offset : offset + 16])
        frame = data[offset + 16 : offset + 16 + captured]
        offset += 16 + captured
        when = seconds + fraction / (1e9 if nanoseconds else 1e6)
        packet = _udp_payload(frame, linktype)
        if packet is None:
            continue
        source, destination, payload = packet
        if len(payload) < 12 or payload[0] >> 6 != 2:
            continue
        header = 12 + 4 * (payload[0] & 0x0F)
        if payload[0] & 0x10 and len(payload) >= header + 4:
            header += 4 + 4 * struct.unpack("!H", payload[header + 2 : header + 4])[0]
        yield when, source, destination, payload[1] & 0x7F, payload[header:]


def read_rtp_streams(pcap: Path) -> list[Stream]:
    """Read the RTP audio packets of a pcap (classic format), grouped by source address."""
    streams: dict[str, Stream] = {}
    for when, source, destination, payload_type, payload in _rtp_packets(pcap):
        if payload_type not in (PCMU, PCMA):
            continue  # telephone-event, comfort noise…
        stream = streams.setdefault(source, Stream(source, [], destination))
        stream.packets.append((when, payload_type, payload))
    return list(streams.values())


def telephone_events(pcap: Path) -> list[tuple[str, str]]:
    """The keys sent as RFC 4733 telephone-events in a capture, in order: (source, key).

    An event is repeated in several packets (and its end, with the E bit, three times): a
    key counts once, from its first packet; the same key again after an end is a new press.
    Payload types are dynamic: a 4-byte payload that is not G.711 or comfort noise (13) and
    names an event 0-15 is taken as one.
    """
    keys: list[tuple[str, str]] = []
    last: dict[str, tuple[int, bool]] = {}  # source -> its last packet's event and E bit
    for _, source, _, payload_type, payload in _rtp_packets(pcap):
        if payload_type in (PCMU, PCMA, 13) or len(payload) != 4 or payload[0] > 15:
            continue
        event, ended = payload[0], bool(payload[1] & 0x80)
        before = last.get(source)
        if before is None or before[0] != event or (before[1] and not ended):
            keys.append((source, DTMF_KEYS[event]))
        last[source] = (event, ended)
    return keys


def _udp_payload(frame: bytes, linktype: int) -> tuple[str, str, bytes] | None:
    if linktype == _LINKTYPE_ETHERNET:
        if len(frame) < 14 or frame[12:14] != b"\x08\x00":
            return None
        frame = frame[14:]
    elif linktype not in (_LINKTYPE_RAW, _LINKTYPE_IPV4):
        return None
    if len(frame) < 28 or frame[0] >> 4 != 4 or frame[9] != 17:
        return None
    ihl = (frame[0] & 0x0F) * 4
    source_ip = ".".join(str(b) for b in frame[12:16])
    destination_ip = ".".join(str(b) for b in frame[16:20])
    source_port, destination_port = struct.unpack("!HH", frame[ihl : ihl + 4])
    return (
        f"{source_ip}:{source_port}",
        f"{destination_ip}:{destination_port}",
        frame[ihl + 8 :],
    )


def pcap_to_wav(pcap: Path, wav: Path, *, caller_side: int | None = None) -> RecordingSummary:
    """Write the call in ``pcap`` as a stereo 8 kHz WAV: left what the caller said, right
    every other party mixed, as the caller heard them.

    ``caller_side`` is the relay's port on the caller's side (the port in the SDP the caller
    was answered with); without it, or when no packet reached it, the caller's side is the
    one the busiest source sent to.
    """
    streams = read_rtp_streams(pcap)
    if not streams:
        raise ValueError(f"{pcap} holds no G.711 audio")
    ports = {s.destination: s.destination.rpartition(":")[2] for s in streams}
    caller = next((d for d, port in ports.items() if port == str(caller_side)), None)
    if caller is None:
        caller = max(streams, key=lambda s: len(s.packets)).destination
    sides = (
        sorted((s for s in streams if s.destination == caller), key=lambda s: s.source),
        sorted((s for s in streams if s.destination != caller), key=lambda s: s.source),
    )
    start = min(s.packets[0][0] for s in streams)
    end = max(when + len(payload) / SAMPLE_RATE for s in streams for when, _, payload in s.packets)
    total = round((end - start) * SAMPLE_RATE) + 1
    mixed = np.zeros((total, 2), dtype=np.int32)
    for index, side in enumerate(sides):
        for stream in side:
            mixed[:, index] += _placed(stream, start, total)
    channels = np.clip(mixed, -32768, 32767).astype(np.int16)
    wav.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(channels.astype("<i2").tobytes())
    rms = tuple(float(np.sqrt(np.mean(channels[:, i].astype(np.float64) ** 2))) for i in (0, 1))
    names = tuple("+".join(s.source for s in side) for side in sides)
    return RecordingSummary(wav, total / SAMPLE_RATE, names, rms)


def _placed(stream: Stream, start: float, total: int) -> npt.NDArray[np.int32]:
    """One source's decoded samples, each packet at its capture time (``start`` is 0)."""
    track = np.zeros(total, dtype=np.int32)
    by_type: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    for when, payload_type, payload in stream.packets:
        by_type[payload_type].append((round((when - start) * SAMPLE_RATE), payload))
    for payload_type, items in by_type.items():
        decode = ulaw_to_linear if payload_type == PCMU else alaw_to_linear
        for at, payload in items:
            samples = decode(np.frombuffer(payload, dtype=np.uint8))
            stop = min(at + len(samples), total)
            track[at:stop] = samples[: stop - at]
    return track


def find_pcap(recording_dir: Path, call: str) -> Path | None:
    """The pcap rtpengine wrote for ``call`` (named ``<call-id>-<random>.pcap``)."""
    matches = sorted((recording_dir / "pcaps").glob(f"{call}-*.pcap"))
    return matches[-1] if matches else None


def tone_seconds(samples: npt.NDArray[np.int16], hertz: float, *, rate: int = SAMPLE_RATE) -> float:
    """Seconds of ``samples`` (one channel) whose loudest frequency is ``hertz``: how a test
    or a benchmark tells that a recording holds a tone that was played into the call.

    Audible 100 ms blocks only (RMS 300 and up); each block's FFT peak, in 10 Hz bins, must
    be within 1 Hz of ``hertz`` (so whole tens of hertz, e.g. 440 and 1000, are found).

    >>> t = np.arange(16000) / 8000
    >>> tone_seconds((8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16), 1000.0)
    2.0
    """
    size = rate // 10
    blocks = 0
    for start in range(0, len(samples) - size + 1, size):
        block = samples[start : start + size].astype(np.float64)
        if np.sqrt(np.mean(block**2)) < 300:
            continue  # silence
        peak = int(np.argmax(np.abs(np.fft.rfft(block))[1:])) + 1
        blocks += abs(peak * rate / size - hertz) < 1
    return blocks / 10
