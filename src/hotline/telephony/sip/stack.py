"""The sippy adapter: registrar + B2BUA legs on sippy's event loop, bridged to asyncio.

sippy (the Sippy B2BUA's SIP stack, BSD) runs its own event dispatcher, ``ED2``, a process
singleton that remembers the thread it belongs to. We run it in one dedicated thread and
keep every sippy object inside that thread:

- sippy → driver: call-control events (``CCEventTry``/``Ring``/``Connect``/``Fail``/
  ``Disconnect``) and registrations are handed to the asyncio loop with
  ``loop.call_soon_threadsafe``;
- driver → sippy: :class:`SippyStack`'s :class:`~hotline.telephony.ports.Signalling` methods
  post work into the sippy thread with ``ED2.callFromThread``.

sippy's UDP server defaults to three worker threads, each with its own sender; two
responses to one INVITE can then leave out of order (a ``100 Trying`` after the ``200 OK``).
We run it with exactly one worker, so datagrams leave in the order sippy produced them.

Overload control: the stack keeps the set-up backlog (incoming INVITEs not yet answered or
refused, with the time each arrived) in sippy's thread and, given an ``admission`` gate,
asks it about every new INVITE before any call object exists; a refused caller gets
``503 Service Unavailable`` with ``Retry-After`` straight from this thread, so shedding load
costs one parse and one datagram and never waits for the busy driver.

SIP over WebSocket (RFC 7118), for the desk's browser softphone: given ``ws_port``, the
stack also runs sippy's own WebSocket server (``sippy.Wss_server``, subprotocol ``sip``; plain
``ws://`` without a certificate, ``wss://`` behind a TLS proxy) as a second transport of the
*same* transaction manager. A browser's REGISTER, its answers and its in-dialog requests go
through the same registrar, dialogs and call events as a desk phone's datagrams. sippy names
each WebSocket connection ``<uuid>.invalid`` (RFC 7118 §5.2: the browser's own Via and
Contact hosts are ``.invalid`` too) and rewrites the Contact to that name, so the binding the
registrar keeps is ``sip:<user>@<uuid>.invalid``; :func:`is_websocket_contact` recognises it,
and :meth:`SippyStack.dial` sends the INVITE back over that connection.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import re
import threading
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from hotline.telephony.overload import Admission
from hotline.telephony.ports import SignallingEvents
from hotline.telephony.sip.registrar import Registrar

log = logging.getLogger(__name__)

_URI = re.compile(r"sips?:(?:(?P<user>[^@;>]+)@)?(?P<host>[^:;>]+)(?::(?P<port>\d+))?")
_EXPIRES = re.compile(r";\s*expires\s*=\s*(\d+)", re.IGNORECASE)


def parse_contact(value: str) -> tuple[str | None, str, int, int | None]:
    """Split a Contact header value into user, host, port and its ``expires`` parameter.

    >>> parse_contact('<sip:1001@127.0.0.1:5070;transport=udp>;expires=60')
    ('1001', '127.0.0.1', 5070, 60)
    """
    match = _URI.search(value)
    if match is None:
        raise ValueError(f"no SIP URI in {value!r}")
    expires = _EXPIRES.search(value.split(">", 1)[-1]) if ">" in value else _EXPIRES.search(value)
    return (
        match.group("user"),
        match.group("host"),
        int(match.group("port") or 5060),
        int(expires.group(1)) if expires else None,
    )


#: RFC 7118 §5.2: a WebSocket client has no reachable SIP address; the hosts it and the
#: server name it by end in ``.invalid`` (RFC 2606), and only the connection reaches it.
WEBSOCKET_HOST_SUFFIX = ".invalid"


def is_websocket_contact(contact: str) -> bool:
    """Whether a registered contact is reached over a WebSocket (a browser softphone).

    >>> is_websocket_contact("sip:k3f9@4c1d2e7a-0b6f-4a31-9c0e-5d8e1f2a3b4c.invalid:5060")
    True
    >>> is_websocket_contact("sip:1001@127.0.0.1:5070")
    False
    """
    try:
        _, host, _, _ = parse_contact(contact)
    except ValueError:
        return False
    return host.lower().endswith(WEBSOCKET_HOST_SUFFIX)


def _websocket_server_type() -> Any:
    # sippy.Wss_server names websockets' legacy protocol class in an annotation, and that
    # name warns (DeprecationWarning) on import in websockets >= 14; the server itself uses
    # websockets' current asyncio ``serve``.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from sippy.Wss_server import Wss_server, Wss_server_opts
    return Wss_server, Wss_server_opts


def _normalise_transport(ua: Any) -> None:
    # RFC 3261 §19.1.1: URI parameter values such as transport=UDP are case-insensitive,
    # but sippy 2.5 only routes in-dialog requests for a lower-case "udp" and raises
    # otherwise, so a phone whose Contact says ";transport=UDP" could never get our BYE.
    target: Any = getattr(ua, "rTarget", None)
    transport = getattr(target, "transport", None)
    if target is not None and isinstance(transport, str) and transport != transport.lower():
        target.transport = transport.lower()
    address = getattr(ua, "rAddr", None)  # ((host, port), transport), set from the Contact
    if isinstance(address, tuple) and len(address) == 2 and isinstance(address[1], str):
        ua.rAddr = (address[0], address[1].lower())


@functools.cache
def _retry_after_type() -> Any:
    from sippy.SipGenericHF import SipGenericHF

    class RetryAfter(SipGenericHF):  # type: ignore[misc]
        # sippy writes an unknown header's name capitalize()d ("Retry-after"): legal, as
        # names are case-insensitive (RFC 3261 §7.3.1), but some peers (sipp) match the
        # canonical spelling only.
        hf_names = ("retry-after",)

        def getCanName(self, name: str, compact: bool = False) -> str:  # noqa: N802
            return "Retry-After"

    return RetryAfter


def retry_after_header(seconds: int) -> Any:
    """A sippy ``Retry-After: <seconds>`` header, spelled canonically."""
    from sippy.SipHeader import SipHeader

    return SipHeader(name="retry-after", body=_retry_after_type()(str(seconds)))


class _SipLogger:
    """sippy's logger interface, sent to Python logging at debug level."""

    def write(self, *args: Any, **kwargs: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s", "".join(str(a) for a in args))


def _quiet_dump_exception(msg: str, f: Any = None, extra: Any = None) -> None:
    # sippy prints a traceback for every unparsable datagram; under a fuzz or a flood that
    # is megabytes on stdout. Count and log them instead.
    SippyStack.malformed += 1
    log.debug("sippy: %s", msg)


#: RFC 3261 Timer B (64 × T1): a caller without a final answer by then has given up.
INVITE_TIMEOUT_S = 32.0


class AdmissionGate(Protocol):
    """Decides, in sippy's thread, whether a new incoming call is taken (see
    :mod:`hotline.telephony.overload`)."""

    def decide(
        self, *, setup_backlog: int, oldest_setup_age_s: float, sip_lag_s: float
    ) -> Admission:
        """Admit or refuse one new INVITE, given the stack's own set-up backlog and how long
        the INVITE waited for sippy's thread."""
        ...


class SippyStack:
    """The SIP side of the platform on one UDP port; implements ``Signalling``."""

    malformed = 0  # unparsable datagrams seen (process-wide, like ED2)

    def __init__(
        self,
        *,
        host: str,
        port: int,
        events: SignallingEvents,
        loop: asyncio.AbstractEventLoop,
        registrar: Registrar,
        clock: Callable[[], float] = time.time,
        user_agent: str = "Hotline",
        admission: AdmissionGate | None = None,
        ws_port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.ws_port = ws_port  # SIP over WebSocket (RFC 7118) on host:ws_port; None: off
        self.events = events
        self.loop = loop
        self.registrar = registrar
        self.clock = clock
        self.user_agent = user_agent
        self.admission = admission
        # incoming legs waiting for their final answer -> when their INVITE arrived
        # (monotonic); insertion order is arrival order, so the first is the oldest
        self._setting_up: dict[str, float] = {}
        self.refused_overload = 0  # INVITEs refused with 503 (written by sippy's thread only)
        self._legs: dict[str, Any] = {}
        self._ua_leg: dict[int, str] = {}
        self._inbound = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._config: dict[str, Any] = {}
        self._startup_error: BaseException | None = None

    # -- lifecycle

    def start(self, timeout_s: float = 5.0) -> None:
        """Start sippy's loop in its own thread and wait until the socket is bound."""
        self._thread = threading.Thread(target=self._run, name="sippy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError("sippy did not start")
        if self._startup_error is not None:
            raise RuntimeError(f"sippy failed to start: {self._startup_error}")

    def stop(self) -> None:
        """Stop sippy's loop."""
        from sippy.Core.EventDispatcher import ED2

        if self._thread is not None and self._thread.is_alive():
            ED2.callFromThread(ED2.breakLoop)
            self._thread.join(timeout=5)
        websocket = self._config.get("_wss_server")
        if websocket is not None:
            websocket.shutdown()  # its loop ends and it closes its connections

    def _run(self) -> None:
        try:
            import sippy.SipTransactionManager as transaction_module  # noqa: N813
            from sippy.Core.EventDispatcher import ED2
            from sippy.SipConf import SipConf
            from sippy.SipTransactionManager import SipTransactionManager
            from sippy.Udp_server import Udp_server, Udp_server_opts

            class OneWorkerOptions(Udp_server_opts):  # type: ignore[misc]
                nworkers = 1

            class OneWorkerTransactions(SipTransactionManager):  # type: ignore[misc]
                model_udp_server = (Udp_server, OneWorkerOptions)

            transaction_module.dump_exception = _quiet_dump_exception
            # ED2 belongs to the thread that runs its loop: this one.
            ED2.my_ident = threading.get_ident()
            SipConf.my_address = self.host
            SipConf.my_port = self.port
            SipConf.my_uaname = self.user_agent
            SipConf.allow_formats = (0, 8, 101)
            self._config = {
                "_sip_address": self.host,
                "_sip_port": self.port,
                "_sip_logger": _SipLogger(),
            }
            transactions = OneWorkerTransactions(self._config, self._request)
            self._config["_sip_tm"] = transactions
            if self.ws_port is not None:
                server_type, options_type = _websocket_server_type()
                self._config["_wss_server"] = server_type(
                    self._config,
                    options_type((self.host, self.ws_port), transactions.handleIncoming),
                )
        except BaseException as exc:  # report any start-up failure to start()
            self._startup_error = exc
            self._ready.set()
            return
        self._ready.set()
        ED2.loop()

    # -- sippy thread: requests outside dialogs

    def _request(self, req: Any, sip_t: Any) -> tuple[Any, Any, Any]:
        from sippy.UA import UA

        method = req.getMethod()
        try:
            has_tag = req.getHFBody("to").getTag() is not None
        except Exception:
            return (req.genResponse(400, "Bad Request"), None, None)
        if has_tag and method != "REGISTER":
            return (req.genResponse(481, "Call Leg/Transaction Does Not Exist"), None, None)
        if method == "INVITE":
            refusal = self._overloaded(req)
            if refusal is not None:
                return (refusal, None, None)
            leg = f"in-{next(self._inbound)}"
            self._setting_up[leg] = time.monotonic()
            ua = UA(self._config, event_cb=partial(self._ua_event, leg))
            self._legs[leg] = ua
            try:
                return ua.recvRequest(req, sip_t)  # type: ignore[no-any-return]
            except Exception:
                # an INVITE sippy cannot take (no Contact, a broken header): no call, and
                # no set-up left waiting for an answer that will never come
                self._legs.pop(leg, None)
                self._setting_up.pop(leg, None)
                raise
        if method == "REGISTER":
            return (self._register(req), None, None)
        if method == "OPTIONS":
            return (req.genResponse(200, "OK"), None, None)
        return (req.genResponse(501, "Not Implemented"), None, None)

    @property
    def setup_backlog(self) -> int:
        """Incoming calls waiting for their answer (read from any thread: a snapshot)."""
        return len(self._setting_up)

    def _overloaded(self, req: Any) -> Any:
        """The 503 response for a new INVITE the gate refuses; ``None`` when admitted."""
        if self.admission is None:
            return None
        from sippy.Time.MonoTime import MonoTime

        self._prune_setting_up()
        oldest = next(iter(self._setting_up.values()), None)
        # sippy's receiving thread stamps each datagram before queueing it for this thread:
        # the difference is our lag. Its MonoTime reads clock id 4, which on Linux is
        # CLOCK_MONOTONIC_RAW (time.monotonic is CLOCK_MONOTONIC: they drift apart), so
        # the lag is taken on sippy's own clock.
        received = getattr(req, "rtime", None)
        sip_lag_s = max(0.0, MonoTime() - received) if isinstance(received, MonoTime) else 0.0
        decision = self.admission.decide(
            setup_backlog=len(self._setting_up),
            oldest_setup_age_s=0.0 if oldest is None else time.monotonic() - oldest,
            sip_lag_s=sip_lag_s,
        )
        if decision.admitted:
            return None
        self.refused_overload += 1
        resp = req.genResponse(503, "Service Unavailable")
        # RFC 3261 §20.33: how long the caller (or the carrier's proxy) should stay away
        resp.appendHeader(retry_after_header(decision.retry_after_s or 1))
        return resp

    def _prune_setting_up(self) -> None:
        """Forget set-ups that can no longer be answered: the leg is gone, its UA left the
        incoming states (it failed or was cancelled without telling us), or the caller has
        given up (RFC 3261 Timer B: 64 × T1 = 32 s). One stale entry would otherwise make
        the oldest set-up's age grow for ever and refuse every call after it. There are at
        most ``max_setup_backlog`` entries: calls are refused beyond that."""
        from sippy.UasStateProgressing import UasStateProgressing
        from sippy.UasStateRinging import UasStateRinging
        from sippy.UasStateTrying import UasStateTrying

        now = time.monotonic()
        for leg, since in list(self._setting_up.items()):
            ua = self._legs.get(leg)
            state = getattr(ua, "state", None)
            waiting = isinstance(state, UasStateTrying | UasStateRinging | UasStateProgressing)
            if not waiting or now - since > INVITE_TIMEOUT_S:
                del self._setting_up[leg]

    def _register(self, req: Any) -> Any:
        from sippy.SipHeader import SipHeader

        try:
            user = req.getHFBody("to").getUrl().username or ""
            authorization = (
                str(req.getHFBody("authorization")) if req.countHFs("authorization") else None
            )
            contact: str | None = None
            expires: int | None = None
            if req.countHFs("contact"):
                raw = str(req.getHFBody("contact"))
                if raw.strip() == "*":
                    contact, expires = "*", 0
                else:
                    c_user, host, port, expires = parse_contact(raw)
                    contact = f"sip:{c_user}@{host}:{port}" if c_user else f"sip:{host}:{port}"
            if expires is None and req.countHFs("expires"):
                expires = int(req.getHFBody("expires").getNum())
        except Exception:
            return req.genResponse(400, "Bad Request")
        result = self.registrar.register(
            now=self.clock(),
            user=user,
            authorization=authorization,
            contact=contact,
            expires=expires,
        )
        resp = req.genResponse(result.status, result.reason)
        if result.challenge:
            resp.appendHeader(SipHeader(name="www-authenticate", bodys=result.challenge))
        if result.status == 423:
            resp.appendHeader(SipHeader(name="min-expires", bodys=str(result.expires)))
        if result.binding is not None:
            remaining = max(0, int(result.binding.expires_at - self.clock()))
            resp.appendHeader(
                SipHeader(name="contact", bodys=f"<{result.binding.contact}>;expires={remaining}")
            )
        return resp

    def _ua_event(self, leg: str, event: Any, ua: Any) -> None:
        from sippy.CCEvents import (
            CCEventConnect,
            CCEventDisconnect,
            CCEventFail,
            CCEventRedirect,
            CCEventRing,
            CCEventTry,
            CCEventUpdate,
        )

        post = self.loop.call_soon_threadsafe
        if isinstance(event, CCEventTry):
            _, caller, called, body, _, _ = event.getData()
            post(
                partial(
                    self.events.incoming,
                    leg,
                    caller=str(caller or ""),
                    called=str(called or ""),
                    sdp=str(body) if body is not None else "",
                )
            )
        elif isinstance(event, CCEventRing):
            # sippy reports 100 Trying as a ring too: only 180 and 183 are. With a body, the
            # far end offers early media (its announcement, its own ringback: RFC 3960).
            code, _, body = event.getData()
            if code != 100:
                post(self.events.ringing, leg, str(body) if body is not None else "")
        elif isinstance(event, CCEventConnect):
            _normalise_transport(ua)
            _, _, body = event.getData()
            post(self.events.answered, leg, str(body) if body is not None else "")
        elif isinstance(event, CCEventFail | CCEventRedirect):
            data = event.getData()
            code = int(data[0]) if data and isinstance(data[0], int) else 500
            self._legs.pop(leg, None)
            self._setting_up.pop(leg, None)
            post(self.events.failed, leg, code)
        elif isinstance(event, CCEventUpdate):
            # A re-INVITE on a connected leg (hold/resume): the UA waits in its "updating"
            # state until the driver answers through answer() (CCEventConnect → 200 OK).
            body = event.getData()
            post(self.events.updated, leg, str(body) if body is not None else "")
        elif isinstance(event, CCEventDisconnect):
            self._legs.pop(leg, None)
            self._setting_up.pop(leg, None)  # a caller who gave up before the answer
            also = event.getData()
            if also is not None:
                # REFER: sippy answered 202 and sends the phone its BYE itself; the event
                # carries the Refer-To address (a blind transfer), e.g. <sip:1002@host>.
                post(self.events.transfer_requested, leg, str(also))
            else:
                post(self.events.hung_up, leg)

    # -- Signalling (called on the asyncio loop; hop into the sippy thread)

    def _call(self, function: Callable[..., None], *args: Any) -> None:
        from sippy.Core.EventDispatcher import ED2

        ED2.callFromThread(function, *args)

    def answer(self, leg: str, sdp: str) -> None:
        """Send 200 OK with ``sdp`` on an incoming leg, or to a re-INVITE on any leg."""
        self._call(self._answer, leg, sdp)

    def _answer(self, leg: str, sdp: str) -> None:
        from sippy.CCEvents import CCEventConnect
        from sippy.MsgBody import MsgBody

        self._setting_up.pop(leg, None)
        ua = self._legs.get(leg)
        if ua is not None:
            ua.recvEvent(CCEventConnect((200, "OK", MsgBody(sdp))))

    def reject(self, leg: str, code: int, reason: str) -> None:
        """Send a final error on an incoming leg."""
        self._call(self._reject, leg, code, reason)

    def _reject(self, leg: str, code: int, reason: str) -> None:
        from sippy.CCEvents import CCEventFail

        self._setting_up.pop(leg, None)
        ua = self._legs.pop(leg, None)
        if ua is not None:
            ua.recvEvent(CCEventFail((code, reason)))

    def hang_up(self, leg: str) -> None:
        """BYE (connected) or CANCEL (ringing) a leg."""
        self._call(self._hang_up, leg)

    def _hang_up(self, leg: str) -> None:
        from sippy.CCEvents import CCEventDisconnect

        self._setting_up.pop(leg, None)
        ua = self._legs.pop(leg, None)
        if ua is not None:
            ua.recvEvent(CCEventDisconnect())

    def dial(self, leg: str, *, contact: str, caller: str, sdp: str) -> None:
        """INVITE ``contact`` (a registered agent phone) with ``sdp``."""
        self._call(self._dial, leg, contact, caller, sdp)

    def _dial(self, leg: str, contact: str, caller: str, sdp: str) -> None:
        from sippy.CCEvents import CCEventTry
        from sippy.MsgBody import MsgBody
        from sippy.UA import UA

        user, host, port, _ = parse_contact(contact)
        # a browser is reached over its WebSocket connection, named by the .invalid host
        transport = "wss" if is_websocket_contact(contact) else "udp"
        ua = UA(
            self._config,
            event_cb=partial(self._ua_event, leg),
            nh_address=(host, port),
            nh_transport=transport,
        )
        self._legs[leg] = ua
        ua.recvEvent(
            CCEventTry((None, caller or "hotline", user or "", MsgBody(sdp), None, caller))
        )

    def update(self, leg: str, sdp: str) -> None:
        """Re-INVITE a connected leg with ``sdp``; its 200 OK comes back as ``answered``."""
        self._call(self._update, leg, sdp)

    def _update(self, leg: str, sdp: str) -> None:
        from sippy.CCEvents import CCEventUpdate
        from sippy.MsgBody import MsgBody

        ua = self._legs.get(leg)
        if ua is not None:
            ua.recvEvent(CCEventUpdate(MsgBody(sdp)))

    def expire_registrations(self) -> None:
        """Drop expired registrations (call periodically from the driver)."""
        self._call(self._expire)

    def _expire(self) -> None:
        self.registrar.expire(now=self.clock())
