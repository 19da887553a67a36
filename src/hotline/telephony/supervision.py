"""Supervising a live call: a supervisor listens in from their own phone (ChanSpy's listen).

From the wallboard a supervisor asks to listen to an agent's call. The voice server rings
the supervisor's own phone (a ``{supervisor, user, password}`` entry of the phones file);
when it answers, rtpengine forks both directions of the call — what the caller sends and
what the agent sends — with one ``subscribe request`` naming both tags (rtpengine 10.5
offers one ``sendonly`` audio section per tag). A phone plays one stream, so the two forks
come to a small mixer here (:class:`Mixer`): every 20 ms it takes the newest frame of each
party, adds them (:func:`hotline.telephony.media.g711.mix`, clipped to 16 bits) and sends
the sum to the supervisor's phone. Nobody hears the supervisor: the call's own media path
through rtpengine is not touched — the agent's phone is not re-INVITEd, the recording and
hold go on as before — and what the supervisor's phone sends is dropped.

Why mix here: rtpengine 10.5 forks media but cannot mix (its mixing arrived in later
versions), and a browser mixer would need the supervisor on a WebRTC page. G.711 needs no
codec library; two streams of 50 frames a second are a few hundred microseconds of numpy
a second on the loop, so the mixer runs on the voice server's own asyncio loop.

The session ends when the supervisor's phone hangs up, when the supervisor stops it from
the wallboard, when the call ends (the agent or the caller hangs up, a transfer), or when
the phone does not answer; rtpengine's fork is then ``unsubscribe``d and the mixer's
sockets closed. Each end is told to :attr:`Supervisions.listeners` (the web server puts it
on the audit record).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.telephony.call_control import CallControl
from hotline.telephony.media.g711 import (
    FRAME_SAMPLES,
    LAW_OF,
    PAYLOAD_TYPE,
    Law,
    Mode,
    mix,
    rtp_audio,
    rtp_packet,
)
from hotline.telephony.media.sdp import audio_sdp, audio_sections
from hotline.telephony.ports import MediaUnavailable, TransferRefused

log = logging.getLogger(__name__)

SUPERVISOR_RING_S = 20.0  # how long the supervisor's phone rings
FRAME_S = FRAME_SAMPLES / 8000  # one G.711 frame: 20 ms
#: Frames kept per party between two ticks: more is delay; a late burst drops the oldest.
JITTER_FRAMES = 5
FORKED = ("caller", "agent")  # the call's two parties, as the relay tags them


class SupervisionRefused(TransferRefused):
    """The session cannot start: the call is not connected, is already supervised, or the
    supervisor's phone is not registered."""


class _Port(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes, Any], None]) -> None:
        self.on_packet = on_packet

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_packet(data, addr)


@dataclass
class Mixer:
    """The supervisor's mixer: one UDP port per forked party and one towards the phone.

    ``open`` binds the ports (the kernel picks them); ``start`` begins the 20 ms ticks that
    mix the newest frame of each party and send it to the phone's address in its law.
    """

    host: str
    parties: int = len(FORKED)
    frames_in: int = 0
    frames_out: int = 0
    _transports: list[asyncio.DatagramTransport] = field(default_factory=list)
    _queues: list[collections.deque[tuple[Law, bytes]]] = field(default_factory=list)
    _to: tuple[str, int] | None = None
    _law: Law = "pcmu"
    _timer: asyncio.TimerHandle | None = None
    _next: float = 0.0
    _seq: int = field(default_factory=lambda: random.randrange(1 << 16))
    _timestamp: int = field(default_factory=lambda: random.randrange(1 << 32))
    _ssrc: int = field(default_factory=lambda: random.randrange(1 << 32))

    async def open(self) -> None:
        """Bind the phone's port and one port per party."""
        loop = asyncio.get_running_loop()
        for index in range(self.parties + 1):
            queue: collections.deque[tuple[Law, bytes]] = collections.deque(maxlen=JITTER_FRAMES)
            transport, _ = await loop.create_datagram_endpoint(
                self._port(index, queue), local_addr=(self.host, 0)
            )
            self._transports.append(transport)
            self._queues.append(queue)

    def _port(self, index: int, queue: collections.deque[tuple[Law, bytes]]) -> Callable[[], _Port]:
        return lambda: _Port(lambda data, _address: self._received(index, queue, data))

    def _received(
        self, index: int, queue: collections.deque[tuple[Law, bytes]], data: bytes
    ) -> None:
        if index == 0:
            return  # the supervisor's own voice: in listen mode nobody hears it
        audio = rtp_audio(data)
        if audio is not None:
            self.frames_in += 1
            queue.append(audio)

    @property
    def phone_port(self) -> int:
        """Where the supervisor's phone sends (and we send to it from)."""
        return int(self._transports[0].get_extra_info("sockname")[1])

    @property
    def party_ports(self) -> list[int]:
        """Where rtpengine sends each forked party, in the order of :data:`FORKED`."""
        return [int(t.get_extra_info("sockname")[1]) for t in self._transports[1:]]

    def start(self, *, to: tuple[str, int], law: Law) -> None:
        """Mix and send to the phone at ``to`` in ``law`` every 20 ms until :meth:`close`."""
        self._to, self._law = to, law
        loop = asyncio.get_running_loop()
        self._next = loop.time() + FRAME_S
        self._timer = loop.call_at(self._next, self._tick)

    def _tick(self) -> None:
        if not self._transports or self._to is None:
            return
        frames = [queue.popleft() for queue in self._queues[1:] if queue]
        payload = mix(frames, law=self._law)
        self._seq += 1
        self._timestamp += FRAME_SAMPLES
        packet = rtp_packet(
            payload_type=PAYLOAD_TYPE[self._law],
            seq=self._seq,
            timestamp=self._timestamp,
            ssrc=self._ssrc,
            payload=payload,
        )
        self._transports[0].sendto(packet, self._to)
        self.frames_out += 1
        loop = asyncio.get_running_loop()
        # keep 20 ms on average: a late tick is followed by a sooner one, never a burst
        self._next = max(self._next + FRAME_S, loop.time())
        self._timer = loop.call_at(self._next, self._tick)

    def close(self) -> None:
        """Stop the ticks and close every port."""
        if self._timer is not None:
            self._timer.cancel()
        for transport in self._transports:
            transport.close()
        self._transports = []


@dataclass
class Session:
    """One supervisor on one call: their phone's leg, the fork and the mixer."""

    contact_id: str
    supervisor: str
    agent_id: str
    mode: Mode
    leg: str
    started_at: float
    mixer: Mixer | None = None
    to_tag: str | None = None  # rtpengine's subscriber tag of the fork
    answered: bool = False
    timer: asyncio.TimerHandle | None = None
    stopped_by: str | None = None  # who stopped it from the wallboard (any overseer may)

    def view(self) -> dict[str, Any]:
        """What the wallboard and the API show of the session."""
        return {
            "contact_id": self.contact_id,
            "supervisor": self.supervisor,
            "agent_id": self.agent_id,
            "mode": self.mode,
            "connected": self.answered,
            "started_at": self.started_at,
        }


class Supervisions:
    """The supervision sessions of one :class:`~hotline.telephony.call_center.CallCenter`:
    at most one per call."""

    def __init__(self, center: CallControl, *, host: str = "127.0.0.1") -> None:
        self.center = center
        self.host = host
        self.by_contact: dict[str, Session] = {}
        self._by_leg: dict[str, Session] = {}
        self._legs = itertools.count(1)
        #: Told ``(session, reason)`` when a session ends (the web server audits it).
        self.listeners: list[Callable[[Session, str], None]] = []

    def owns(self, leg: str) -> bool:
        """Whether ``leg`` is a supervisor's phone leg."""
        return leg in self._by_leg

    # -- from the wallboard

    def start(self, contact_id: str, *, supervisor: str, phone: str, mode: Mode) -> Session:
        """Ring ``supervisor``'s phone (registered at ``phone``) to supervise ``contact_id``.

        Raises :class:`SupervisionRefused` when the call is not connected to an agent or is
        already supervised.
        """
        if mode != "listen":
            raise SupervisionRefused(f"{mode} is not available: this server can only listen")
        try:
            call = self.center.connected(contact_id)
        except TransferRefused:
            raise SupervisionRefused(f"{contact_id} is not a call connected to an agent") from None
        if call.agent_id is None:
            raise SupervisionRefused(f"{contact_id} is not a call connected to an agent")
        current = self.by_contact.get(contact_id)
        if current is not None:
            raise SupervisionRefused(f"{current.supervisor} already supervises {contact_id}")
        session = Session(
            contact_id=contact_id,
            supervisor=supervisor,
            agent_id=call.agent_id,
            mode=mode,
            leg=f"sv-{next(self._legs)}",
            started_at=self.center.clock.now(),
        )
        self.by_contact[contact_id] = session
        self._by_leg[session.leg] = session
        session.timer = asyncio.get_running_loop().call_later(
            SUPERVISOR_RING_S, self._end, session, "no_answer"
        )
        self.center.spawn(self._ring(session, phone, caller=call.caller))
        return session

    def stop(self, contact_id: str, *, by: str) -> Session:
        """End the session on ``contact_id`` (hang up the supervisor's phone); ``by`` is the
        login that stopped it."""
        session = self.by_contact.get(contact_id)
        if session is None:
            raise SupervisionRefused(f"nobody supervises {contact_id}")
        session.stopped_by = by
        self._end(session, "stopped")
        return session

    def call_ended(self, contact_id: str) -> None:
        """The call ended or lost its agent: the session ends with it."""
        session = self.by_contact.get(contact_id)
        if session is not None:
            self._end(session, "call_ended")

    def end_all(self, reason: str) -> None:
        """End every session (the server stops)."""
        for session in list(self.by_contact.values()):
            self._end(session, reason)

    # -- SIP events of the supervisor's leg

    def answered(self, leg: str, sdp: str) -> None:
        """The supervisor's phone answered: fork the call's media to the mixer."""
        session = self._by_leg.get(leg)
        if session is None or session.answered:
            return
        if session.timer is not None:
            session.timer.cancel()
        self.center.spawn(self._connect(session, sdp))

    def failed(self, leg: str, code: int) -> None:
        """The supervisor's phone was busy or refused."""
        session = self._by_leg.pop(leg, None)
        if session is not None:
            session.leg = ""
            self._end(session, f"sip_{code}")

    def hung_up(self, leg: str) -> None:
        """The supervisor hung up their phone."""
        session = self._by_leg.pop(leg, None)
        if session is not None:
            session.leg = ""
            self._end(session, "supervisor_hung_up")

    # -- the work

    async def _ring(self, session: Session, phone: str, *, caller: str) -> None:
        mixer = session.mixer = Mixer(self.host)
        try:
            await mixer.open()
        except OSError as exc:
            self._end(session, f"mixer_failed: {exc}")
            return
        if not session.leg or self.by_contact.get(session.contact_id) is not session:
            mixer.close()  # ended while the ports opened
            return
        offer = audio_sdp(self.host, [mixer.phone_port])
        self.center.sip.dial(session.leg, contact=phone, caller=caller, sdp=offer)

    async def _connect(self, session: Session, phone_sdp: str) -> None:
        sections = audio_sections(phone_sdp)
        law = next((LAW_OF[t] for t in sections[0][2] if t in LAW_OF), None) if sections else None
        if law is None or session.mixer is None:
            self._end(session, "phone_has_no_g711")
            return
        media = self.center.media
        try:
            fork = await media.subscribe(call=session.contact_id, from_tags=list(FORKED))
            session.to_tag = fork.to_tag
            forked = len(audio_sections(fork.sdp))
            ports = session.mixer.party_ports[:forked]
            answer = audio_sdp(self.host, ports, direction="recvonly")
            await media.subscribe_answer(call=session.contact_id, to_tag=fork.to_tag, sdp=answer)
        except MediaUnavailable as exc:
            self._end(session, f"media_unavailable: {exc}")
            return
        if self.by_contact.get(session.contact_id) is not session:
            return  # ended while we asked
        host, port, _ = sections[0]
        session.mixer.start(to=(host, port), law=law)
        session.answered = True
        log.info("%s listens to %s", session.supervisor, session.contact_id)

    def _end(self, session: Session, reason: str) -> None:
        if self.by_contact.get(session.contact_id) is not session:
            return
        del self.by_contact[session.contact_id]
        if session.timer is not None:
            session.timer.cancel()
        if session.leg:
            self._by_leg.pop(session.leg, None)
            with contextlib.suppress(RuntimeError):
                self.center.sip.hang_up(session.leg)
        if session.mixer is not None:
            session.mixer.close()
        if session.to_tag is not None:
            self.center.spawn(
                self.center.media.unsubscribe(call=session.contact_id, to_tag=session.to_tag)
            )
        log.info("supervision of %s ended: %s", session.contact_id, reason)
        for listener in self.listeners:
            try:
                listener(session, reason)
            except Exception:  # a listener's failure must not keep the call's state wrong
                log.exception("supervision listener failed")
