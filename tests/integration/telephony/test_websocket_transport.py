"""SIP over WebSocket (RFC 7118) into the voice server's own SIP stack, with a real socket.

The sippy stack runs in this process with its WebSocket listener on a kernel-chosen port; a
WebSocket client (subprotocol ``sip``) plays the browser softphone, writing the messages
JsSIP writes: ``SIP/2.0/WSS`` Via and a Contact on a ``.invalid`` host. The REGISTER meets
the same digest challenge as a desk phone's; the binding names the connection; the INVITE
to the agent, the browser's 200 OK, its ACK and its BYE travel over that one socket and
reach the driver as the same call events as a UDP phone's.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from hotline.telephony.sip.registrar import Registrar, digest_response, parse_digest
from hotline.telephony.sip.stack import SippyStack, is_websocket_contact

#: sippy's transaction manager opens an IPv6 socket to probe for kernel support and never
#: closes it (sippy 2.5, SipTransactionManager.__init__); in this process the collector
#: reports it. That one socket only: family 10 is AF_INET6, ours are all IPv4.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket fd=[0-9]+, family=10:"
    "pytest.PytestUnraisableExceptionWarning"
)
PASSWORD = "agent-secret-1"
SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


class Events:
    """The driver's side of the stack: what it heard, in order (any thread)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[Any, ...]]] = []
        self.lock = threading.Lock()

    def _note(self, name: str, *args: Any) -> None:
        with self.lock:
            self.seen.append((name, args))

    def incoming(self, leg: str, *, caller: str, called: str, sdp: str) -> None:
        self._note("incoming", leg, caller, called)

    def ringing(self, leg: str, sdp: str = "") -> None:
        self._note("ringing", leg)

    def answered(self, leg: str, sdp: str) -> None:
        self._note("answered", leg, sdp)

    def failed(self, leg: str, code: int) -> None:
        self._note("failed", leg, code)

    def hung_up(self, leg: str) -> None:
        self._note("hung_up", leg)

    def updated(self, leg: str, sdp: str) -> None:
        self._note("updated", leg, sdp)

    def transfer_requested(self, leg: str, target: str) -> None:
        self._note("transfer_requested", leg, target)

    def names(self) -> list[str]:
        with self.lock:
            return [name for name, _ in self.seen]


def _free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[SippyStack, Events, Registrar, asyncio.AbstractEventLoop]]:
    loop = asyncio.new_event_loop()
    pump = threading.Thread(target=loop.run_forever, name="driver-loop", daemon=True)
    pump.start()
    events = Events()
    registrar = Registrar(realm="hotline", users={"1001": PASSWORD}, secret=b"test")
    stack = SippyStack(
        host="127.0.0.1",
        port=_free_udp_port(),
        events=events,  # type: ignore[arg-type]
        loop=loop,
        registrar=registrar,
        ws_port=_free_tcp_port(),
    )
    stack.start()
    deadline = time.monotonic() + 10
    while True:  # sippy's WebSocket thread binds after start() returns
        try:
            socket.create_connection(("127.0.0.1", stack.ws_port or 0), 0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail("the SIP WebSocket listener did not open")
            time.sleep(0.05)
    try:
        yield stack, events, registrar, loop
    finally:
        stack.stop()
        loop.call_soon_threadsafe(loop.stop)
        pump.join(timeout=5)
        loop.close()


class Browser:
    """The messages a browser softphone (JsSIP) sends, over one WebSocket."""

    def __init__(self, ws: ClientConnection, port: int) -> None:
        self.ws = ws
        self.port = port
        self.via_host = "k3f9x2.invalid"  # JsSIP's random Via host
        self.contact_user = "q7w8e9r0"  # JsSIP's random Contact user
        self.cseq = 0

    def receive(self, timeout_s: float = 5.0) -> str:
        message = self.ws.recv(timeout=timeout_s)
        return message if isinstance(message, str) else message.decode()

    def register(self, authorization: str | None = None) -> str:
        self.cseq += 1
        lines = [
            "REGISTER sip:127.0.0.1 SIP/2.0",
            f"Via: SIP/2.0/WSS {self.via_host};branch=z9hG4bK{time.monotonic_ns()}",
            "Max-Forwards: 69",
            "To: <sip:1001@127.0.0.1>",
            "From: <sip:1001@127.0.0.1>;tag=browser1",
            "Call-ID: register-1",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{self.contact_user}@x5y6z7.invalid;transport=ws>;expires=600",
            "Expires: 600",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        self.ws.send("\r\n".join([*lines, "Content-Length: 0", "", ""]))
        return self.receive()


def _header(message: str, name: str) -> str:
    found = re.search(rf"^{name}:\s*(.*)$", message, re.IGNORECASE | re.MULTILINE)
    assert found is not None, f"no {name} in {message!r}"
    return found.group(1).strip()


def _uri(name_addr: str) -> str:
    """The URI of a ``Name <uri;params>`` header value (a dialog's remote target)."""
    found = re.search(r"<([^>]+)>", name_addr)
    assert found is not None, name_addr
    return found.group(1)


def _answer(request: str, status: str, body: str = "") -> str:
    """A response to ``request`` with its Via, From, To (tagged), Call-ID and CSeq."""
    to = _header(request, "To")
    if ";tag=" not in to:
        to += ";tag=browser-leg"
    lines = [f"SIP/2.0 {status}"]
    lines += [line for line in request.split("\r\n") if line.lower().startswith("via:")]
    lines += [
        f"From: {_header(request, 'From')}",
        f"To: {to}",
        f"Call-ID: {_header(request, 'Call-ID')}",
        f"CSeq: {_header(request, 'CSeq')}",
        "Contact: <sip:q7w8e9r0@x5y6z7.invalid;transport=ws>",
    ]
    if body:
        lines += ["Content-Type: application/sdp", f"Content-Length: {len(body)}", "", body]
    else:
        lines += ["Content-Length: 0", "", ""]
    return "\r\n".join(lines)


def _wait(events: Events, name: str) -> None:
    deadline = time.monotonic() + 5
    while name not in events.names():
        if time.monotonic() > deadline:
            pytest.fail(f"no {name} event; got {events.names()}")
        time.sleep(0.02)


def test_a_browser_registers_and_takes_a_call_over_its_websocket(
    stack: tuple[SippyStack, Events, Registrar, asyncio.AbstractEventLoop],
) -> None:
    sip, events, registrar, loop = stack
    url = f"ws://127.0.0.1:{sip.ws_port}"
    with connect(url, subprotocols=["sip"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "sip"
        browser = Browser(ws, sip.ws_port or 0)
        # the same digest challenge as a desk phone's
        challenged = browser.register()
        assert challenged.startswith("SIP/2.0 401")
        # RFC 7118 §5: the reply goes back with the browser's own Via host (JsSIP drops
        # responses whose top Via is not its own)
        assert f"SIP/2.0/WSS {browser.via_host}" in _header(challenged, "Via")
        challenge = parse_digest(_header(challenged, "WWW-Authenticate"))
        response = digest_response(
            username="1001",
            realm=challenge["realm"],
            password=PASSWORD,
            method="REGISTER",
            uri="sip:127.0.0.1",
            nonce=challenge["nonce"],
            qop="auth",
            nc="00000001",
            cnonce="abc",
        )
        authorization = (
            f'Digest username="1001", realm="{challenge["realm"]}", '
            f'nonce="{challenge["nonce"]}", uri="sip:127.0.0.1", response="{response}", '
            'algorithm=MD5, qop=auth, nc=00000001, cnonce="abc"'
        )
        registered = browser.register(authorization)
        assert registered.startswith("SIP/2.0 200"), registered
        binding = registrar.lookup("1001", now=time.time())
        assert binding is not None
        # the binding names the connection (sippy's <uuid>.invalid), with the browser's user
        assert is_websocket_contact(binding.contact), binding.contact
        assert binding.contact.startswith(f"sip:{browser.contact_user}@")
        assert binding.contact.split("@")[1].split(":")[0] != "x5y6z7.invalid"

        # the driver rings the agent: the INVITE comes down this socket
        loop.call_soon_threadsafe(
            lambda: sip.dial("out-1", contact=binding.contact, caller="13800000001", sdp=SDP)
        )
        invite = browser.receive()
        assert invite.startswith(f"INVITE sip:{browser.contact_user}@"), invite[:200]
        assert "SIP/2.0/WSS" in _header(invite, "Via")
        assert "m=audio 40000 RTP/AVP 0" in invite
        ws.send(_answer(invite, "180 Ringing"))
        ws.send(_answer(invite, "200 OK", SDP.replace("40000", "41000")))
        _wait(events, "answered")
        [(_, (leg, answer_sdp))] = [e for e in events.seen if e[0] == "answered"]
        assert leg == "out-1" and "m=audio 41000" in answer_sdp
        ack = browser.receive()
        assert ack.startswith("ACK "), ack[:200]

        # the browser hangs up: its BYE, in the dialog, over the same socket
        bye = "\r\n".join(
            [
                f"BYE {_uri(_header(invite, 'Contact'))} SIP/2.0",
                f"Via: SIP/2.0/WSS {browser.via_host};branch=z9hG4bKbye{time.monotonic_ns()}",
                "Max-Forwards: 69",
                f"From: {_header(invite, 'To')};tag=browser-leg",
                f"To: {_header(invite, 'From')}",
                f"Call-ID: {_header(invite, 'Call-ID')}",
                "CSeq: 2 BYE",
                "Content-Length: 0",
                "",
                "",
            ]
        )
        ws.send(bye)
        ok = browser.receive()
        assert ok.startswith("SIP/2.0 200"), ok[:200]
        _wait(events, "hung_up")


def test_closing_the_socket_leaves_the_udp_side_working(
    stack: tuple[SippyStack, Events, Registrar, asyncio.AbstractEventLoop],
) -> None:
    """A browser that goes away (network change) costs nothing: the UDP phones still get
    answers, and a new WebSocket connection is taken."""
    sip, _, _, _ = stack
    with connect(f"ws://127.0.0.1:{sip.ws_port}", subprotocols=["sip"]) as ws:  # type: ignore[list-item]
        ws.send("garbage that is no SIP\r\n\r\n")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        udp.settimeout(2)
        local = udp.getsockname()[1]
        udp.sendto(
            (
                f"OPTIONS sip:hotline@127.0.0.1:{sip.port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKopt1\r\n"
                "From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:hotline@127.0.0.1>\r\n"
                "Call-ID: options-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                "Content-Length: 0\r\n\r\n"
            ).encode(),
            ("127.0.0.1", sip.port),
        )
        assert udp.recvfrom(65535)[0].startswith(b"SIP/2.0 200")
    with connect(f"ws://127.0.0.1:{sip.ws_port}", subprotocols=["sip"]) as ws:  # type: ignore[list-item]
        browser = Browser(ws, sip.ws_port or 0)
        assert browser.register().startswith("SIP/2.0 401")
