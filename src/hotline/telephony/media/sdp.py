"""Just enough SDP (RFC 4566) to answer a hold or resume re-INVITE (RFC 3264 §8.4).

A phone puts the other side on hold by offering ``a=sendonly`` (or ``a=inactive``, or the
old RFC 2543 way, a connection address of ``0.0.0.0``) and takes it off hold by offering
``a=sendrecv`` again. The B2BUA answers with the SDP it already gave that phone — the relay's
address does not move — with the mirrored direction and a higher ``o=`` version, so the
media path stays as it is and only the direction changes.

>>> direction("v=0\\r\\nc=IN IP4 10.0.0.1\\r\\nm=audio 4000 RTP/AVP 0\\r\\na=sendonly\\r\\n")
'sendonly'
>>> ANSWER_DIRECTION["sendonly"]
'recvonly'
"""

from __future__ import annotations

import re

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
# RFC 3264 §6.1: the answer's direction mirrors the offer's.
ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}
_DIRECTION_LINE = re.compile(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", re.MULTILINE)
_ORIGIN = re.compile(r"^(o=\S+ \S+ )(\d+)", re.MULTILINE)
_HELD_ADDRESS = re.compile(r"^c=IN IP4 0\.0\.0\.0\s*$", re.MULTILINE)


def direction(sdp: str) -> str:
    """The media direction an SDP offers (``sendrecv`` when it names none).

    The first direction attribute wins (one audio stream is all our calls carry); an offer
    with connection address ``0.0.0.0`` is a hold in the pre-RFC 3264 style.
    """
    match = _DIRECTION_LINE.search(sdp)
    if match is not None:
        return match.group(1)
    if _HELD_ADDRESS.search(sdp):
        return "inactive"
    return "sendrecv"


def is_hold(sdp: str) -> bool:
    """True when the offer puts the other side on hold (it will not receive our audio)."""
    return direction(sdp) in ("sendonly", "inactive")


def with_direction(sdp: str, wanted: str) -> str:
    """``sdp`` with its direction set to ``wanted`` and its ``o=`` version raised by one.

    >>> print(with_direction("v=0\\no=- 1 7 IN IP4 h\\nm=audio 9 RTP/AVP 0\\na=sendrecv\\n",
    ...                      "recvonly"), end="")
    v=0
    o=- 1 8 IN IP4 h
    m=audio 9 RTP/AVP 0
    a=recvonly
    """
    if wanted not in DIRECTIONS:
        raise ValueError(f"unknown SDP direction {wanted!r}")
    newline = "\r\n" if "\r\n" in sdp else "\n"
    if _DIRECTION_LINE.search(sdp):
        out = _DIRECTION_LINE.sub(f"a={wanted}", sdp)
    else:
        out = sdp.rstrip("\r\n") + f"{newline}a={wanted}{newline}"
    # RFC 3264 §8: a changed session description carries a higher version
    return _ORIGIN.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + 1}", out, count=1)


_SSRC_LINE = re.compile(r"^a=ssrc(-group)?:[^\r\n]*\r?\n", re.MULTILINE)


def without_ssrc(sdp: str) -> str:
    """``sdp`` without its ``a=ssrc``/``a=ssrc-group`` lines.

    A browser offered an SSRC plays that source only; packets of another source on the
    same stream (a relay chained to another, see :mod:`hotline.telephony.consult`) are
    received and dropped. Offered none, it plays whichever source the stream carries now.

    >>> without_ssrc("m=audio 9 RTP/AVP 0\\r\\na=ssrc:42 cname:x\\r\\na=sendrecv\\r\\n")
    'm=audio 9 RTP/AVP 0\\r\\na=sendrecv\\r\\n'
    """
    return _SSRC_LINE.sub("", sdp)


def placeholder_sdp(port: int = 9) -> str:
    """An SDP for 'nobody yet' (discard port): the IVR side of a call before an agent."""
    return (
        "v=0\r\no=hotline 1 1 IN IP4 127.0.0.1\r\ns=hotline\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
    )


_CONNECTION = re.compile(r"^c=IN IP4 (\S+)", re.MULTILINE)
_AUDIO = re.compile(r"^m=audio (\d+) RTP/AVP ([\d ]+)", re.MULTILINE)


def audio_sections(sdp: str) -> list[tuple[str, int, list[int]]]:
    """Each audio section of ``sdp``: its address (the section's ``c=``, else the session's),
    port and payload types in order of preference.

    >>> audio_sections("v=0\\r\\nc=IN IP4 10.0.0.1\\r\\nm=audio 4000 RTP/AVP 8 0 101\\r\\n")
    [('10.0.0.1', 4000, [8, 0, 101])]
    """
    sections = re.split(r"(?m)^(?=m=)", sdp)
    session = _CONNECTION.search(sections[0])
    found: list[tuple[str, int, list[int]]] = []
    for section in sections[1:]:
        audio = _AUDIO.match(section)
        if audio is None:
            continue
        address = _CONNECTION.search(section) or session
        host = address.group(1) if address is not None else "127.0.0.1"
        found.append((host, int(audio.group(1)), [int(t) for t in audio.group(2).split()]))
    return found


def audio_sdp(host: str, ports: list[int], *, direction: str = "sendrecv") -> str:
    """Our own SDP for G.711 audio (PCMU, PCMA; RFC 4733 key presses too, which rtpengine
    wants in a subscriber's answer as it offered them) at ``host``: one section per port.

    >>> print(audio_sdp("127.0.0.1", [7000], direction="recvonly").splitlines()[5])
    m=audio 7000 RTP/AVP 0 8 101
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown SDP direction {direction!r}")
    head = f"v=0\r\no=hotline 1 1 IN IP4 {host}\r\ns=hotline\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
    section = (
        "m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    )
    return head + "".join(section.format(port=port) + f"a={direction}\r\n" for port in ports)
