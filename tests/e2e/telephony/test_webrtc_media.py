"""rtpengine (the real one, in userspace) bridging a browser's WebRTC leg to a plain caller.

The caller is answered before any agent is chosen (the IVR and the queue need media), so a
browser agent gets a second offer of the caller's SDP with the WebRTC flags. The offer must
carry what a browser requires (ICE, a DTLS fingerprint, rtcp-mux, the SAVPF profile) and
name rtpengine's DTLS role truly (``active``: after a second offer it is the client), and the
browser's answer must leave the caller's side where it was: rtpengine 10.5 moves it to new
ports on that answer unless told to keep them, and the caller, never re-INVITEd, would talk
into a port nobody reads.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.telephony.media.rtpengine import NgClient, RtpengineProcess
from hotline.telephony.media.sdp import placeholder_sdp
from tests.e2e.telephony.telephony_peers import free_port, port_block, require_tools

pytestmark = pytest.mark.e2e

CALLER = (
    "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
)
#: What Chromium answers to the relay's WebRTC offer (trimmed to what rtpengine reads).
BROWSER = (
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 1\r\nm=audio 50000 UDP/TLS/RTP/SAVPF 0 101\r\nc=IN IP4 127.0.0.1\r\n"
    "a=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host generation 0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 BC:D9:B9:19:54:10:5C:C3:DB:46:A6:0C:82:95:DD:74:C4:6E:EB:3A:15:"
    "FC:86:08:67:15:74:FE:5C:9D:9F:FE\r\n"
    "a=setup:active\r\na=mid:1\r\na=sendrecv\r\na=rtcp-mux\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


@pytest.fixture(scope="module")
def rtpengine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    require_tools()
    low, high = port_block(2)
    process = RtpengineProcess(
        workdir=Path(tmp_path_factory.mktemp("rtpengine")),
        ng_port=free_port(),
        dtmf_port=free_port(),
        port_min=low,
        port_max=high,
    )
    process.start()
    try:
        yield process.ng_port
    finally:
        process.stop()


def _port(sdp: str) -> int:
    found = re.search(r"^m=audio (\d+) ", sdp, re.MULTILINE)
    assert found is not None, sdp
    return int(found.group(1))


def test_a_browser_gets_a_webrtc_offer_and_the_caller_keeps_its_ports(rtpengine: int) -> None:
    async def scenario() -> tuple[str, str, str, tuple[str, str]]:
        media = NgClient("127.0.0.1", rtpengine)
        await media.open()
        try:
            # the caller answered at once, for the IVR and the queue
            await media.offer(call="w1", from_tag="caller", sdp=CALLER)
            to_caller = await media.answer(
                call="w1", from_tag="caller", to_tag="agent", sdp=placeholder_sdp()
            )
            # a browser agent is chosen: the caller's SDP offered again, for WebRTC
            to_browser = await media.offer(call="w1", from_tag="caller", sdp=CALLER, webrtc=True)
            again = await media.answer(
                call="w1",
                from_tag="caller",
                to_tag="agent",
                sdp=BROWSER,
                webrtc=True,
                keep_ports=True,
            )
            moved = await _without_keeping(media)
        finally:
            media.close()
        return to_caller, to_browser, again, moved

    to_caller, to_browser, again, moved = asyncio.run(scenario())
    # what a browser requires of an offer (JSEP): the WebRTC profile, ICE, DTLS, rtcp-mux
    assert " UDP/TLS/RTP/SAVPF 0 101" in to_browser
    for required in ("a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:sha-256 ", "a=rtcp-mux"):
        assert required in to_browser, (required, to_browser)
    assert "a=candidate:" in to_browser
    # rtpengine is the DTLS client after a second offer: the browser is told to be the server
    assert "a=setup:active" in to_browser and "a=setup:actpass" not in to_browser
    # the caller's side stays plain RTP on the ports it was first answered with
    assert " RTP/AVP 0 101" in again
    assert "a=ice-" not in again and "a=fingerprint" not in again
    assert _port(again) == _port(to_caller)
    # without keeping them, rtpengine moves the caller's side (why the flag is there)
    first, after = moved
    assert _port(after) != _port(first)


async def _without_keeping(media: NgClient) -> tuple[str, str]:
    """The same second offer and browser answer on another call, without ``keep_ports``:
    the caller's first answer and the one after the browser's."""
    await media.offer(call="w2", from_tag="caller", sdp=CALLER)
    first = await media.answer(call="w2", from_tag="caller", to_tag="agent", sdp=placeholder_sdp())
    await media.offer(call="w2", from_tag="caller", sdp=CALLER, webrtc=True)
    after = await media.answer(
        call="w2", from_tag="caller", to_tag="agent", sdp=BROWSER, webrtc=True
    )
    return first, after
