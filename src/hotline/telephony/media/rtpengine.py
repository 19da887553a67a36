"""rtpengine adapter: the media relay driven over its ng control protocol (UDP + bencode).

rtpengine relays RTP between the caller and the agent's phone in its own threads; Python
only sends control commands, one datagram each (``offer``, ``answer``, ``play media``,
``start recording``, ``subscribe request``, ``delete``). Nothing per-packet happens here.

DTMF: rtpengine parses RFC 4733 telephone-events itself and, when started with
``--dtmf-log-dest=HOST:PORT``, sends one JSON datagram per key press to that port;
:class:`DtmfListener` turns those into callbacks.

WebRTC: a browser softphone (the desk's, over SIP on a WebSocket) speaks ICE, DTLS-SRTP and
RTCP multiplexed on one port (``UDP/TLS/RTP/SAVPF``); callers and desk phones speak plain RTP
(``RTP/AVP``). rtpengine bridges the two in one call: the offer that goes to a browser
carries :data:`WEBRTC_OFFER_FLAGS`, and the browser's answer is registered with
:data:`PLAIN_FLAGS`, so the caller's side stays plain RTP. The caller was answered
before any agent was chosen, so the browser's offer is a second offer of the caller's SDP;
its answer carries :data:`KEEP_PORTS` so the caller's side keeps its ports. Recording, playback and
DTMF work on the decrypted media, the same as for a desk phone.

Recording: with ``--recording-method=pcap`` rtpengine writes one pcap per call into
``<recording-dir>/pcaps``; :mod:`hotline.telephony.media.recording` turns it into a WAV.

>>> request = encode_request("c1", "ping", {})
>>> request
b'c1 d7:command4:pinge'
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.telephony.media.bencode import BencodeError, decode, encode
from hotline.telephony.ports import MediaRejected, MediaUnavailable, Playback, Subscription

log = logging.getLogger(__name__)

# RFC 4733 section 3.2: event codes 0-9 are digits, 10 is '*', 11 is '#'.
DTMF_KEYS = "0123456789*#ABCD"


#: ng ``offer`` flags for a browser leg: ICE candidates of the relay's own (``force``), DTLS
#: with rtpengine as the passive side (the browser connects), the WebRTC profile, RTCP
#: multiplexed (browsers require it), no SDES keys (DTLS makes them), a ``mid`` per medium.
WEBRTC_OFFER_FLAGS: dict[str, Any] = {
    "ICE": "force",
    "DTLS": "passive",
    "transport-protocol": "UDP/TLS/RTP/SAVPF",
    "rtcp-mux": ["offer", "require"],
    "SDES": ["off"],
    "flags": ["generate mid"],
}
#: ng flags that keep a side plain RTP/AVP with no ICE and RTCP on its own port: on the
#: ``answer`` when a browser answered (the caller's side stays as the caller's offer had it),
#: and on every ``offer`` not for a browser — rtpengine otherwise offers a side the transport
#: its last answer had, so a call going from a browser to a desk phone (a transfer, a fork
#: the desk phone won, a consult's hand-over) would offer the desk phone DTLS-SRTP.
PLAIN_FLAGS: dict[str, Any] = {
    "ICE": "remove",
    "transport-protocol": "RTP/AVP",
    "rtcp-mux": ["demux"],
}


#: ng flag for the answer that follows a second offer (a browser rung after the caller was
#: answered): without it rtpengine (10.5) gives the caller's side new ports on that answer,
#: and the caller, who is never re-INVITEd, would keep sending to the old ones.
KEEP_PORTS = "port latching"


#: ng flag of an ``offer`` whose offering side must follow its media to a new address. rtpengine
#: (10.5) learns a side's address from its first packets and, once confirmed (about three
#: seconds after the last signalling), ignores any other source for sending back; with
#: ``media handover`` it moves to whichever address the side's packets now come from. A
#: consult to a browser needs it: the transfer chains the caller's relay to the consult
#: relay's side that faced the first agent's phone, without signalling the consult relay
#: (which would disturb the browser's DTLS-SRTP session).
HANDOVER = "media handover"


def encode_request(cookie: str, command: str, params: dict[str, Any]) -> bytes:
    """Build one ng datagram: ``<cookie> <bencoded dict>``."""
    return cookie.encode() + b" " + encode({"command": command, **params})


class _NgProtocol(asyncio.DatagramProtocol):
    def __init__(self, client: NgClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.client._reply(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: rtpengine is down. The pending request will time out.
        log.debug("ng socket error: %s", exc)


class NgClient:
    """An asyncio client of rtpengine's ng protocol; implements :class:`MediaServer`.

    Each request carries a unique cookie; a request unanswered after ``timeout_s`` is
    re-sent (UDP can drop it) and after ``attempts`` tries raises :class:`MediaUnavailable`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 22222,
        *,
        timeout_s: float = 0.5,
        attempts: int = 2,
    ) -> None:
        self.address = (host, port)
        self.timeout_s = timeout_s
        self.attempts = attempts
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        # cookie -> when it was sent (monotonic); insertion order: the first is the oldest
        self._sent_at: dict[str, float] = {}
        self._slowest: tuple[float, float] = (0.0, 0.0)  # (when, seconds) of a recent reply
        self._cookies = itertools.count(1)
        self._prefix = f"{os.getpid()}_"

    async def open(self) -> None:
        """Open the control socket (connected UDP, so ICMP errors reach us)."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _NgProtocol(self), remote_addr=self.address
        )
        self._transport = transport

    def close(self) -> None:
        """Close the control socket."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    @property
    def pending(self) -> int:
        """Requests sent and not yet answered: the relay's backlog as this client sees it."""
        return len(self._pending)

    #: How far back :meth:`delay_s` remembers a slow reply, in seconds.
    RECENT_S = 1.0

    def delay_s(self) -> float:
        """How slowly the relay answers now: the slowest reply of the last second, or the
        age of the oldest request still unanswered, whichever is longer. Safe to call from
        another thread (overload control asks from sippy's)."""
        now = time.monotonic()
        at, slowest = self._slowest
        recent = slowest if now - at <= self.RECENT_S else 0.0
        try:
            oldest = next(iter(self._sent_at.values()), None)
        except RuntimeError:  # changed under us by the loop's thread: no sample this time
            oldest = None
        return max(recent, 0.0 if oldest is None else now - oldest)

    def _note_reply(self, seconds: float) -> None:
        now = time.monotonic()
        at, slowest = self._slowest
        if seconds >= slowest or now - at > self.RECENT_S:
            self._slowest = (now, seconds)

    def _reply(self, data: bytes) -> None:
        cookie, _, body = data.partition(b" ")
        future = self._pending.pop(cookie.decode(errors="replace"), None)
        if future is None or future.done():
            return
        try:
            value = decode(body)
        except BencodeError as exc:
            future.set_exception(MediaUnavailable(f"rtpengine sent bad bencode: {exc}"))
            return
        if not isinstance(value, dict):
            future.set_exception(MediaUnavailable("rtpengine reply is not a dictionary"))
            return
        future.set_result(value)

    async def request(self, command: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its reply; raise on error or silence."""
        if self._transport is None:
            await self.open()
        assert self._transport is not None
        loop = asyncio.get_running_loop()
        for _ in range(self.attempts):
            cookie = f"{self._prefix}{next(self._cookies)}"
            future: asyncio.Future[dict[str, Any]] = loop.create_future()
            self._pending[cookie] = future
            sent = self._sent_at[cookie] = time.monotonic()
            self._transport.sendto(encode_request(cookie, command, params))
            try:
                reply = await asyncio.wait_for(future, self.timeout_s)
            except TimeoutError:
                self._pending.pop(cookie, None)
                continue
            finally:
                self._sent_at.pop(cookie, None)
            self._note_reply(time.monotonic() - sent)
            if reply.get("result") == "error":
                reason = f"rtpengine {command}: {reply.get('error-reason')}"
                if "out of ports" in reason.lower():
                    # capacity, not a bad request: callers get 503 and operators an alarm
                    raise MediaUnavailable(reason)
                raise MediaRejected(reason)
            return reply
        raise MediaUnavailable(f"rtpengine at {self.address[0]}:{self.address[1]} did not answer")

    # -- MediaServer

    async def offer(
        self, *, call: str, from_tag: str, sdp: str, webrtc: bool = False, handover: bool = False
    ) -> str:
        """Register the caller's SDP; return the SDP for the other side (a browser's with
        ``webrtc``: ICE, DTLS-SRTP, rtcp-mux). ``handover``: see :data:`HANDOVER`."""
        flags: dict[str, Any] = dict(WEBRTC_OFFER_FLAGS if webrtc else PLAIN_FLAGS)
        if handover:
            flags["flags"] = [*flags.get("flags", []), HANDOVER]
        reply = await self.request(
            "offer",
            **{"call-id": call, "from-tag": from_tag, "sdp": sdp, "replace": ["origin"]},
            **flags,
        )
        offer = str(reply["sdp"])
        if webrtc:
            # The browser's offer is a second offer on a side that already answered, and on
            # such a side rtpengine 10.5 takes the DTLS client role at once (whatever the
            # DTLS flag) while still writing ``setup:actpass``. A browser offered actpass
            # becomes the client too and starts its handshake as soon as ICE connects,
            # which can be before its answer reaches rtpengine: two clients, and the
            # browser's DTLS fails for good. Saying ``active`` makes the browser the server
            # (RFC 4145 roles), so rtpengine's handshake is the only one.
            offer = offer.replace("a=setup:actpass", "a=setup:active")
        return offer

    async def answer(
        self,
        *,
        call: str,
        from_tag: str,
        to_tag: str,
        sdp: str,
        webrtc: bool = False,
        keep_ports: bool = False,
    ) -> str:
        """Register the other side's SDP; return the SDP for the caller (plain RTP even when
        ``webrtc``: the answer came from a browser). ``keep_ports`` after a second offer:
        the caller keeps the relay address it was answered with."""
        params: dict[str, Any] = dict(PLAIN_FLAGS) if webrtc else {}
        if keep_ports:
            params["flags"] = [KEEP_PORTS]
        reply = await self.request(
            "answer",
            **{"call-id": call, "from-tag": from_tag, "to-tag": to_tag, "sdp": sdp},
            replace=["origin"],
            **params,
        )
        return str(reply["sdp"])

    async def play(self, *, call: str, tag: str, path: str, repeat: int = 1) -> Playback:
        """Play ``path`` to ``tag``; rtpengine reports the duration of one pass."""
        params: dict[str, Any] = {"call-id": call, "from-tag": tag, "file": path}
        if repeat > 1:
            params["repeat-times"] = repeat
        reply = await self.request("play media", **params)
        duration = reply.get("duration")
        return Playback(int(duration) if isinstance(duration, int) else None)

    async def stop(self, *, call: str, tag: str) -> None:
        """Stop playback to ``tag`` (an error means nothing was playing)."""
        with contextlib.suppress(MediaUnavailable):
            await self.request("stop media", **{"call-id": call, "from-tag": tag})

    async def block(self, *, call: str, tag: str) -> None:
        """Stop forwarding the media ``tag`` sends (``block media``)."""
        await self.request("block media", **{"call-id": call, "from-tag": tag})

    async def unblock(self, *, call: str, tag: str) -> None:
        """Forward the media ``tag`` sends again (``unblock media``)."""
        await self.request("unblock media", **{"call-id": call, "from-tag": tag})

    async def start_recording(self, *, call: str) -> None:
        """Start the pcap recording of the call."""
        await self.request("start recording", **{"call-id": call})

    async def stop_recording(self, *, call: str) -> None:
        """Stop the pcap recording of the call."""
        await self.request("stop recording", **{"call-id": call})

    async def delete(self, *, call: str) -> None:
        """Release the call (ignored when rtpengine no longer knows it)."""
        with contextlib.suppress(MediaUnavailable):
            await self.request("delete", **{"call-id": call})

    async def subscribe(self, *, call: str, from_tags: list[str]) -> Subscription:
        """Fork what each of ``from_tags`` sends to a new subscriber (``subscribe request``,
        rtpengine ≥ 10.5): the offer has one ``sendonly`` audio section per tag, in order.

        Asked with :data:`PLAIN_FLAGS`: a browser's side is otherwise offered as it is
        (``UDP/TLS/RTP/SAVPF``, ICE), which the plain-RTP subscriber cannot take — the fork of
        a browser agent's voice was left out and a supervisor listening heard only the caller.
        """
        reply = await self.request(
            "subscribe request", **{"call-id": call, "from-tags": list(from_tags)}, **PLAIN_FLAGS
        )
        return Subscription(str(reply["to-tag"]), str(reply["sdp"]))

    async def subscribe_answer(self, *, call: str, to_tag: str, sdp: str) -> None:
        """Tell rtpengine where the subscriber receives the forked media (its answer)."""
        await self.request("subscribe answer", **{"call-id": call, "to-tag": to_tag, "sdp": sdp})

    async def unsubscribe(self, *, call: str, to_tag: str) -> None:
        """Stop the fork (ignored when the call or the subscription is gone)."""
        with contextlib.suppress(MediaUnavailable):
            await self.request("unsubscribe", **{"call-id": call, "to-tag": to_tag})

    async def ping(self) -> bool:
        """Whether rtpengine answers ``ping`` with ``pong``."""
        try:
            reply = await self.request("ping")
        except MediaUnavailable:
            return False
        return reply.get("result") == "pong"

    async def query(self, *, call: str) -> dict[str, Any]:
        """rtpengine's statistics for a call (packets per stream)."""
        return await self.request("query", **{"call-id": call})


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    """One key press reported by rtpengine."""

    call: str
    tag: str
    key: str


class _DtmfProtocol(asyncio.DatagramProtocol):
    def __init__(self, on_key: Callable[[DtmfEvent], None]) -> None:
        self.on_key = on_key

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        event = parse_dtmf_log(data)
        if event is not None:
            self.on_key(event)


def parse_dtmf_log(data: bytes) -> DtmfEvent | None:
    """Parse one rtpengine DTMF log datagram (JSON); ``None`` if it is not a key press.

    >>> parse_dtmf_log(b'{"callid":"c1","source_tag":"a","type":"DTMF","event":11}')
    DtmfEvent(call='c1', tag='a', key='#')
    """
    try:
        record = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or record.get("type", "DTMF") != "DTMF":
        return None
    code = record.get("event")
    if not isinstance(code, int) or not 0 <= code < len(DTMF_KEYS):
        return None
    return DtmfEvent(
        str(record.get("callid", "")), str(record.get("source_tag", "")), DTMF_KEYS[code]
    )


class DtmfListener:
    """Receives rtpengine's DTMF log datagrams and calls ``on_key`` for each key."""

    def __init__(
        self, on_key: Callable[[DtmfEvent], None], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.on_key = on_key
        self.host = host
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None

    async def open(self) -> int:
        """Bind the socket; return the port (give it to rtpengine's ``--dtmf-log-dest``)."""
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _DtmfProtocol(self.on_key), local_addr=(self.host, self.port)
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self.port

    def close(self) -> None:
        """Close the socket."""
        if self._transport is not None:
            self._transport.close()


@dataclass
class RtpengineProcess:
    """A userspace rtpengine started for this process (tests, ``hotline telephony serve``).

    ``--table=-1`` keeps it out of the kernel (no kernel module needed); it relays,
    transcodes, plays media, detects DTMF and records in userspace.
    """

    workdir: Path
    ng_port: int
    dtmf_port: int
    port_min: int = 30000
    port_max: int = 34999
    host: str = "127.0.0.1"
    cli_port: int = 0  # rtpengine's TCP CLI; 0 picks a free port (the default 9900 clashes)
    process: subprocess.Popen[bytes] | None = None

    @property
    def recording_dir(self) -> Path:
        """Where rtpengine writes pcaps (``pcaps/``) and metadata."""
        return self.workdir / "recordings-raw"

    def command(self) -> list[str]:
        """The command line that starts rtpengine in the foreground, in userspace."""
        binary = shutil.which("rtpengine") or "/usr/bin/rtpengine"
        return [
            binary,
            # Debian's /etc/rtpengine/rtpengine.conf (kernel table 0, HTTP on 2225, proc
            # recording) is for the packaged service; ours is self-contained.
            "--config-file=none",
            "--table=-1",
            f"--interface={self.host}",
            f"--listen-ng={self.host}:{self.ng_port}",
            f"--listen-cli={self.host}:{self.cli_port}",
            "--foreground",
            "--log-stderr",
            "--log-level=5",
            f"--port-min={self.port_min}",
            f"--port-max={self.port_max}",
            f"--recording-dir={self.recording_dir}",
            "--recording-method=pcap",
            f"--dtmf-log-dest={self.host}:{self.dtmf_port}",
            "--delete-delay=0",
            f"--pidfile={self.workdir / 'rtpengine.pid'}",
        ]

    def start(self, *, wait_s: float = 5.0) -> None:
        """Start rtpengine and wait until it answers ``ping``."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.recording_dir.mkdir(parents=True, exist_ok=True)
        if self.cli_port == 0:
            self.cli_port = _free_tcp_port(self.host)
        with (self.workdir / "rtpengine.log").open("ab") as logfile:
            self.process = subprocess.Popen(
                self.command(),
                stdout=logfile,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # noqa: PLW1509 - only async-signal-safe calls
            )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MediaUnavailable(f"rtpengine exited with {self.process.returncode}")
            if ping_sync(self.host, self.ng_port):
                return
            time.sleep(0.05)
        self.stop()
        raise MediaUnavailable("rtpengine did not start in time")

    def stop(self) -> None:
        """Stop rtpengine (SIGTERM, then SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def die_with_parent() -> None:
    """Linux: have this process SIGTERMed when the one that started it dies, even by SIGKILL.

    Run in a child before it gets to work (``preexec_fn``, a process pool's
    ``initializer``): an orphaned rtpengine would keep playing music on hold to calls nobody
    controls, and an orphaned recording converter would wait for work for ever.
    """
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _free_tcp_port(host: str) -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def ping_sync(host: str, port: int, timeout_s: float = 0.2) -> bool:
    """A blocking ``ping`` for start-up checks (outside any event loop)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        try:
            sock.sendto(encode_request("startup", "ping", {}), (host, port))
            data, _ = sock.recvfrom(4096)
        except OSError:
            return False
    _, _, body = data.partition(b" ")
    try:
        reply = decode(body)
    except BencodeError:
        return False
    return isinstance(reply, dict) and reply.get("result") == "pong"
