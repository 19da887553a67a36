"""Supervising a live call from the supervisor's own phone: Asterisk ChanSpy's listen,
whisper (coach) and barge.

From the wallboard a supervisor asks to supervise an agent's call. The voice server rings
the supervisor's own phone (a ``{supervisor, user, password}`` entry of the phones file);
when it answers, the session's mixer (:class:`Mixer`, one UDP port per party) is joined to
the call, and every 20 ms it sends each party the newest frame of each source that party
hears in the mode (:data:`hotline.telephony.media.g711.HEARS`), decoded, added, clipped to
16 bits and encoded again (:func:`hotline.telephony.media.g711.mix`).

* **Listen.** rtpengine forks both directions of the call — what the caller sends and what
  the agent sends — with one ``subscribe request`` naming both tags (rtpengine 10.5 offers
  one ``sendonly`` audio section per tag) to two ports of the mixer. The call's own path
  through rtpengine is not touched, and what the supervisor's phone sends is dropped.
* **Whisper and barge.** The supervisor's voice must reach the agent mixed with the
  caller's, so the agent's leg goes through the mixer: rtpengine's agent side is answered
  again with the mixer's ``caller`` port (rtpengine now sends the caller's voice there, and
  relays to the caller — and records — whatever the mixer sends from it) and the agent's
  phone is re-INVITEd onto the mixer's ``agent`` port (as a consult re-INVITEs it onto
  another relay). The mixer sends the agent the caller and the supervisor, the caller the
  agent (whisper) or the agent and the supervisor (barge), the supervisor both parties. No
  fork is needed: both parties' voices already come through the mixer. The caller's phone
  is never re-INVITEd. When the session ends the direct path is given back — rtpengine's
  agent side answered with the agent's phone again, the phone re-INVITEd back onto it —
  before the mixer's ports close.
* **Whisper and barge on an agent at the browser softphone: the coach line.** The browser's
  media is DTLS-SRTP, whose session belongs to the caller's relay (rtpengine 10.5 signs
  every call with one certificate: a browser offered another relay keeps its old session
  and the new relay never gets keys — the consult line's problem,
  :mod:`hotline.telephony.consult`), so its call cannot be taken through the mixer. Instead
  the server rings the browser a second call, the *coach line*, offered WebRTC by a relay
  of its own (``<contact>~coach``) whose other side is the mixer's ``agent`` port; the
  softphone takes it by itself and mixes with WebAudio: the agent hears the supervisor
  beside the caller; the line carries the agent's microphone and the caller to the
  supervisor; in barge the caller's call carries the microphone and the supervisor (the
  sender's track replaced by the mix), in whisper the microphone alone. The mixer only joins
  the supervisor's phone and the line (:data:`~hotline.telephony.media.g711.COACH_LINE_HEARS`).
  The caller's relay and the browser's own call are never touched, so hold, the recording
  (which holds what the browser sends the caller: a barge is recorded) and mute go on as
  before; mute silences the microphone's own track, which feeds every mix, so neither the
  caller nor the supervisor hears a muted agent (a barging supervisor stays heard by the
  caller). The fork goes on until the line talks, so the supervisor hears the call while
  the browser sets it up. The browser learns the mode from the desk's live ``coached``
  message (the one that draws the "being coached" notice); until told it whispers — the
  safe side, a caller never hears a supervisor they were not meant to. The line hung up,
  its relay deleted, the browser's call sends the microphone again: back to listen, and
  at every end. A browser that refuses the line (it is consulting) or hangs it up ends
  the session.

Why mix here — and in the browser for a browser agent. rtpengine 10.5 forks media but
cannot mix (its mixing arrived in later versions; ``play media`` and ``block media`` replace
a stream, they do not add one). A desk phone's leg is plain RTP, so a G.711 mixer on the
voice server's own asyncio loop serves it: G.711 needs no codec library, and three streams
of 50 frames a second are a few hundred microseconds of numpy a second. A browser's leg
cannot reach that mixer without a new DTLS session (the consult line's problem), and the
browser already has every stream its agent hears and sends, so it adds them itself; the
supervisor hears the browser's own mix (its microphone and the caller) through the coach
line rather than rtpengine's fork, which in barge would carry the supervisor's own voice
back to them, a fraction of a second late.

A running session changes mode as ChanSpy's DTMF keys change it (:meth:`Supervisions.switch`):
between whisper and barge only the mixer's table changes; from listen to whisper or barge
the fork is ``unsubscribe``d and the agent's leg taken through the mixer; back to listen the
leg is given back and the call forked again. The supervisor's phone stays connected
throughout, on the same mixer port; each switch is told to :attr:`Supervisions.switched`.
The moves of one session (connecting, switching, ending) run one at a time, in order.

The session ends when the supervisor's phone hangs up, when the supervisor stops it from
the wallboard, when the call ends (the agent or the caller hangs up, a transfer), when the
agent starts a consult (whisper, barge: the consult takes the agent's leg), or when the
phone does not answer; a fork is then ``unsubscribe``d and the mixer's sockets closed. Each
start is told to :attr:`Supervisions.connected` (the web server tells a coached agent's
desk) and each end to :attr:`Supervisions.listeners` (the web server audits it).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hotline.telephony.call_control import CallControl
from hotline.telephony.media.g711 import (
    AGENT,
    CALLER,
    FRAME_SAMPLES,
    LAW_OF,
    PAYLOAD_TYPE,
    SUPERVISOR,
    Law,
    Mode,
    heard_by,
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
FORKED = (CALLER, AGENT)  # the call's two parties, as the relay tags them
#: A browser agent's coach line: how long it may take to answer (the softphone answers by
#: itself, so this is the browser's WebRTC set-up), the From user it is known by, and its
#: relay's two sides.
COACH_LINE_RING_S = 10.0
COACH_LINE_CALLER = "hotline-coach"
MIXER_SIDE, BROWSER_SIDE = "mixer", "browser"


class SupervisionRefused(TransferRefused):
    """The session cannot start: the call is not connected, is already supervised, or the
    supervisor's phone is not registered."""


class _Port(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes, Any], None]) -> None:
        self.on_packet = on_packet

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.on_packet(data, addr)


@dataclass
class _Output:
    """One stream the mixer sends: where, in which law, its own RTP numbering."""

    to: tuple[str, int]
    law: Law
    seq: int = field(default_factory=lambda: random.randrange(1 << 16))
    timestamp: int = field(default_factory=lambda: random.randrange(1 << 32))
    ssrc: int = field(default_factory=lambda: random.randrange(1 << 32))


@dataclass
class Mixer:
    """The session's mixer: one UDP port per party, named by whose voice arrives there.

    ``supervisor``: the supervisor's phone. ``caller`` and ``agent``: in listen, rtpengine's
    two forks; in whisper and barge, ``caller`` is rtpengine's agent side answered with this
    port (the caller's voice arrives, what the caller hears leaves) and ``agent`` is the
    agent's phone, re-INVITEd here (the agent's voice arrives, what the agent hears leaves).
    ``open`` binds the ports (the kernel picks them); every 20 ms after the first
    :meth:`send_to` the newest frame of each party is taken once and each port with a
    destination is sent the mix of the parties its receiver hears in ``mode``
    (:data:`~hotline.telephony.media.g711.HEARS`).
    """

    host: str
    mode: Mode = "listen"
    #: Whisper, barge on a browser agent: the ``agent`` port is the browser's coach line,
    #: which carries the agent and the caller mixed (:data:`COACH_LINE_HEARS`).
    coach_line: bool = False
    frames_in: int = 0
    frames_out: int = 0
    _transports: dict[str, asyncio.DatagramTransport] = field(default_factory=dict)
    _queues: dict[str, collections.deque[tuple[Law, bytes]]] = field(default_factory=dict)
    _outputs: dict[str, _Output] = field(default_factory=dict)
    _timer: asyncio.TimerHandle | None = None
    _next: float = 0.0

    async def open(self) -> None:
        """Bind one port per party."""
        loop = asyncio.get_running_loop()
        for party in (SUPERVISOR, *FORKED):
            queue: collections.deque[tuple[Law, bytes]] = collections.deque(maxlen=JITTER_FRAMES)
            transport, _ = await loop.create_datagram_endpoint(
                self._port(queue), local_addr=(self.host, 0)
            )
            self._transports[party] = transport
            self._queues[party] = queue

    def _port(self, queue: collections.deque[tuple[Law, bytes]]) -> Callable[[], _Port]:
        return lambda: _Port(lambda data, _address: self._received(queue, data))

    def _received(self, queue: collections.deque[tuple[Law, bytes]], data: bytes) -> None:
        audio = rtp_audio(data)
        if audio is not None:
            self.frames_in += 1
            queue.append(audio)

    def port(self, party: str) -> int:
        """The local port where ``party``'s voice arrives (and what they hear leaves)."""
        return int(self._transports[party].get_extra_info("sockname")[1])

    @property
    def phone_port(self) -> int:
        """Where the supervisor's phone sends (and we send to it from)."""
        return self.port(SUPERVISOR)

    @property
    def party_ports(self) -> list[int]:
        """Where rtpengine sends each forked party, in the order of :data:`FORKED`."""
        return [self.port(party) for party in FORKED]

    def start(self, *, to: tuple[str, int], law: Law) -> None:
        """Mix and send to the supervisor's phone at ``to`` in ``law`` every 20 ms until
        :meth:`close`."""
        self.send_to(SUPERVISOR, to=to, law=law)

    def send_to(self, party: str, *, to: tuple[str, int], law: Law) -> None:
        """Send what ``party`` hears to ``to`` in ``law`` from ``party``'s port (a new
        address keeps the stream's numbering); the ticks start with the first."""
        output = self._outputs.get(party)
        if output is None:
            self._outputs[party] = _Output(to, law)
        else:
            output.to, output.law = to, law
        if self._timer is None and self._transports:
            loop = asyncio.get_running_loop()
            self._next = loop.time() + FRAME_S
            self._timer = loop.call_at(self._next, self._tick)

    def _tick(self) -> None:
        if not self._transports:
            return
        newest = {party: queue.popleft() for party, queue in self._queues.items() if queue}
        for party, output in self._outputs.items():
            sources = heard_by(self.mode, party, coach_line=self.coach_line)
            frames = [newest[source] for source in sources if source in newest]
            output.seq += 1
            output.timestamp += FRAME_SAMPLES
            packet = rtp_packet(
                payload_type=PAYLOAD_TYPE[output.law],
                seq=output.seq,
                timestamp=output.timestamp,
                ssrc=output.ssrc,
                payload=mix(frames, law=output.law),
            )
            self._transports[party].sendto(packet, output.to)
            self.frames_out += 1
        loop = asyncio.get_running_loop()
        # keep 20 ms on average: a late tick is followed by a sooner one, never a burst
        self._next = max(self._next + FRAME_S, loop.time())
        self._timer = loop.call_at(self._next, self._tick)

    def stop_sending(self, party: str) -> None:
        """Send ``party`` nothing more (their leg no longer passes through the mixer)."""
        self._outputs.pop(party, None)

    def close(self) -> None:
        """Stop the ticks and close every port."""
        if self._timer is not None:
            self._timer.cancel()
        for transport in self._transports.values():
            transport.close()
        self._transports = {}


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
    #: Whisper and barge: the agent's leg taken through the mixer, and the SDP of
    #: rtpengine's agent side the phone was on before (given back at the end).
    agent_leg: str | None = None
    relay_sdp: str | None = None
    #: An agent on the browser softphone (WebRTC): coached through the coach line.
    browser: bool = False
    #: Whisper and barge on a browser: the coach line's leg while it rings or talks, whether
    #: its relay (:attr:`relay`) was made, and the browser's answer once it comes.
    line: str = ""
    line_relay: bool = False
    line_answer: asyncio.Future[str] | None = field(default=None, repr=False, compare=False)
    #: Held while the session's media moves (connecting, switching mode, ending), so the
    #: moves run one after another and each finds the media where the last one left it.
    moving: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    @property
    def relay(self) -> str:
        """The coach line's rtpengine call: the browser on one side, the mixer on the other."""
        return f"{self.contact_id}~coach"

    @property
    def coaching(self) -> bool:
        """Whether the supervisor is heard (whisper, barge): the agent is told."""
        return self.mode != "listen"

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
        self._by_line: dict[str, Session] = {}  # browsers' coach lines
        self._legs = itertools.count(1)
        self._updating: dict[str, Session] = {}  # agent legs with a re-INVITE of ours out
        #: Told ``(session, reason)`` when a session ends (the web server audits it).
        self.listeners: list[Callable[[Session, str], None]] = []
        #: Told the session when the supervisor's phone is connected (the web server tells
        #: a coached agent's desk).
        self.connected: list[Callable[[Session], None]] = []
        #: Told ``(session, previous mode)`` when a connected session's media has moved to
        #: its new mode (the web server tells the agent's desk).
        self.switched: list[Callable[[Session, Mode], None]] = []

    def owns(self, leg: str) -> bool:
        """Whether ``leg`` is a supervisor's phone leg, a browser's coach line, or an agent's
        leg answering our re-INVITE."""
        return leg in self._by_leg or leg in self._by_line or leg in self._updating

    def coaching(self, agent_id: str) -> Session | None:
        """The connected whisper or barge session on ``agent_id``'s call, if any: what the
        agent's desk shows on load (the live feed tells it of later changes)."""
        return next(
            (
                s
                for s in self.by_contact.values()
                if s.agent_id == agent_id and s.answered and s.coaching
            ),
            None,
        )

    # -- from the wallboard

    def start(self, contact_id: str, *, supervisor: str, phone: str, mode: Mode) -> Session:
        """Ring ``supervisor``'s phone (registered at ``phone``) to supervise ``contact_id``.

        Raises :class:`SupervisionRefused` when the call is not connected to an agent or is
        already supervised.
        """
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
            browser=call.on_browser,  # (after a chained transfer the relay speaks plain to it)
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

    def switch(self, contact_id: str, *, mode: Mode) -> Mode:
        """Change the mode of the session on ``contact_id`` without hanging up the
        supervisor's phone (ChanSpy's DTMF keys); returns the mode it had.

        The media moves in the background (:attr:`switched` is told when it has); while the
        phone still rings, the new mode is simply the one it connects in. Raises
        :class:`SupervisionRefused` when nobody supervises the call.
        """
        session = self.by_contact.get(contact_id)
        if session is None:
            raise SupervisionRefused(f"nobody supervises {contact_id}")
        previous = session.mode
        if mode == previous:
            return previous
        session.mode = mode
        self.center.spawn(self._switch(session, previous))
        return previous

    def call_ended(self, contact_id: str) -> None:
        """The call ended or lost its agent: the session ends with it."""
        session = self.by_contact.get(contact_id)
        if session is not None:
            self._end(session, "call_ended")

    def yield_agent_leg(self, contact_id: str) -> None:
        """The agent's desktop re-points the agent's leg (a consult): a whisper or barge
        session on the call ends first and gives the leg back."""
        session = self.by_contact.get(contact_id)
        if session is not None and session.coaching:
            self._end(session, "consult")

    def end_all(self, reason: str) -> None:
        """End every session (the server stops)."""
        for session in list(self.by_contact.values()):
            self._end(session, reason)

    # -- SIP events of the supervisor's leg

    def answered(self, leg: str, sdp: str) -> None:
        """The supervisor's phone answered: fork the call's media to the mixer (listen), or
        take the agent's leg through it (whisper, barge). Or the agent's phone answered our
        re-INVITE: the mixer sends to where it says. Or the agent's browser took its coach
        line."""
        line = self._by_line.get(leg)
        if line is not None:
            if line.line_answer is not None and not line.line_answer.done():
                line.line_answer.set_result(sdp)
            return
        moved = self._updating.pop(leg, None)
        if moved is not None:
            current = self.by_contact.get(moved.contact_id) is moved
            # (the phone's answer to our re-INVITE back onto rtpengine moves nothing)
            if current and moved.mixer is not None and moved.agent_leg is not None:
                to = _address_and_law(sdp)
                if to is not None:
                    moved.mixer.send_to(AGENT, to=to[0], law=to[1])
            return
        session = self._by_leg.get(leg)
        if session is None or session.answered:
            return
        if session.timer is not None:
            session.timer.cancel()
        self.center.spawn(self._connect(session, sdp))

    def is_supervisor_leg(self, leg: str) -> bool:
        """Whether ``leg`` is a leg a session dialled — a supervisor's phone, a browser's
        coach line — (not an agent's we re-INVITEd)."""
        return leg in self._by_leg or leg in self._by_line

    def failed(self, leg: str, code: int) -> None:
        """The supervisor's phone was busy or refused; or the agent's phone refused our
        re-INVITE (the session ends, the direct path is restored); or the agent's browser
        refused its coach line (the session ends: the caller's call never moved)."""
        line = self._by_line.pop(leg, None)
        if line is not None:
            line.line = ""
            self._end(line, f"coach_line_sip_{code}")
            return
        moved = self._updating.pop(leg, None)
        if moved is not None:
            self._end(moved, f"agent_phone_sip_{code}")
            return
        session = self._by_leg.pop(leg, None)
        if session is not None:
            session.leg = ""
            self._end(session, f"sip_{code}")

    def hung_up(self, leg: str) -> None:
        """The supervisor hung up their phone, or the agent's browser its coach line (a page
        reloaded or closed): the session ends."""
        line = self._by_line.pop(leg, None)
        if line is not None:
            line.line = ""
            self._end(line, "coach_line_hung_up")
            return
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
        phone = _address_and_law(phone_sdp)
        if phone is None or session.mixer is None:
            self._end(session, "phone_has_no_g711")
            return
        async with session.moving:
            if not await self._arrange(session):
                return
            session.mixer.start(to=phone[0], law=phone[1])
            session.answered = True
        log.info("%s: %s on %s", session.supervisor, session.mode, session.contact_id)
        _tell(self.connected, session)

    async def _switch(self, session: Session, previous: Mode) -> None:
        """Move a connected session's media to its new mode (a session still ringing
        connects in it)."""
        async with session.moving:
            if not session.answered or not await self._arrange(session):
                return
        log.info(
            "%s: %s -> %s on %s", session.supervisor, previous, session.mode, session.contact_id
        )
        _tell(self.switched, session, previous)

    async def _arrange(self, session: Session) -> bool:
        """Put the media where ``session.mode`` wants it (called holding ``moving``):
        listen — the agent's leg given back if it was taken (a browser's coach line hung
        up), the call forked to the mixer; whisper, barge — the fork ended if there was one,
        the agent's leg taken through the mixer (a browser rung its coach line first).
        False when the session ended meanwhile or the media could not move (the session is
        then ended)."""
        mixer = session.mixer
        assert mixer is not None
        media = self.center.media
        try:
            if session.coaching:
                if session.browser and not mixer.coach_line:
                    # the supervisor goes on hearing the fork until the line talks
                    await self._ring_coach_line(session, mixer)
                if session.to_tag is not None:
                    to_tag, session.to_tag = session.to_tag, None
                    await media.unsubscribe(call=session.contact_id, to_tag=to_tag)
                if not session.browser and session.agent_leg is None:
                    await self._take_agent_leg(session)
            else:
                if session.agent_leg is not None:
                    await self._give_agent_leg_back(session, mixer)
                if session.line_relay:
                    await self._drop_coach_line(session, mixer)
                if session.to_tag is None and self.by_contact.get(session.contact_id) is session:
                    await self._fork(session, mixer)
        except (MediaUnavailable, TransferRefused) as exc:
            self._end(session, f"media_unavailable: {exc}")
            return False
        mixer.mode = session.mode
        return self.by_contact.get(session.contact_id) is session

    async def _fork(self, session: Session, mixer: Mixer) -> None:
        """Listen: rtpengine forks both parties to the mixer; the call's path is untouched."""
        media = self.center.media
        fork = await media.subscribe(call=session.contact_id, from_tags=list(FORKED))
        session.to_tag = fork.to_tag
        forked = len(audio_sections(fork.sdp))
        answer = audio_sdp(self.host, mixer.party_ports[:forked], direction="recvonly")
        await media.subscribe_answer(call=session.contact_id, to_tag=fork.to_tag, sdp=answer)

    async def _take_agent_leg(self, session: Session) -> None:
        """Whisper, barge: the agent's leg goes through the mixer.

        rtpengine's agent side is answered again with the mixer's ``caller`` port — the
        caller's voice now comes there, and what the mixer sends from it (the agent, and in
        barge the supervisor) is what rtpengine relays to the caller and records; the agent's
        phone is re-INVITEd onto the mixer's ``agent`` port, where it hears the caller and
        the supervisor. rtpengine learns the mixer's port as the agent's (symmetric RTP),
        so nothing else of the call changes: hold, music, the recording go on through it.
        """
        call = self.center.connected(session.contact_id)
        mixer = session.mixer
        assert mixer is not None and call.agent_leg is not None
        relay = _address_and_law(call.local_sdp.get(AGENT, ""))
        phone = _address_and_law(call.agent_remote_sdp)
        if relay is None or phone is None:
            raise MediaUnavailable("the agent's leg has no G.711 audio to take")
        await self.center.media.answer(
            call=session.contact_id,
            from_tag=CALLER,
            to_tag=AGENT,
            sdp=audio_sdp(self.host, [mixer.port(CALLER)]),
        )
        session.agent_leg, session.relay_sdp = call.agent_leg, call.local_sdp[AGENT]
        if self.by_contact.get(session.contact_id) is not session or call.finished:
            return  # ended while we asked: the ending gives the leg back
        mixer.mode = session.mode
        mixer.send_to(CALLER, to=relay[0], law=phone[1])
        mixer.send_to(AGENT, to=phone[0], law=phone[1])
        # the agent's phone now sends to the mixer; its own re-INVITEs (hold) are answered so
        to_mixer = audio_sdp(self.host, [mixer.port(AGENT)])
        call.local_sdp[AGENT] = to_mixer
        self._updating[call.agent_leg] = session
        self.center.sip.update(call.agent_leg, to_mixer)

    async def _give_agent_leg_back(self, session: Session, mixer: Mixer) -> None:
        """The direct path again: rtpengine's agent side answered with the agent's phone,
        the phone re-INVITEd back onto rtpengine; the mixer sends the two parties nothing
        more."""
        call = self.center.calls.get(session.contact_id)
        leg, relay_sdp = session.agent_leg, session.relay_sdp
        session.agent_leg = session.relay_sdp = None
        mixer.stop_sending(CALLER)
        mixer.stop_sending(AGENT)
        if call is None or call.finished or call.agent_leg != leg or relay_sdp is None:
            return
        call.local_sdp[AGENT] = relay_sdp
        with contextlib.suppress(MediaUnavailable):
            await self.center.media.answer(
                call=session.contact_id, from_tag=CALLER, to_tag=AGENT, sdp=call.agent_remote_sdp
            )
        if leg is not None and not call.finished and call.agent_leg == leg:
            self._updating[leg] = session
            self.center.sip.update(leg, relay_sdp)

    async def _ring_coach_line(self, session: Session, mixer: Mixer) -> None:
        """Whisper, barge on a browser agent: ring the browser its coach line.

        The browser's call cannot be taken through the mixer (its DTLS-SRTP session belongs
        to the caller's relay: rtpengine 10.5 has one certificate, so a browser offered
        another relay keeps the old session and the new relay gets no keys — the consult
        line's problem, :mod:`hotline.telephony.consult`). So the browser is rung a second
        call, offered WebRTC by a relay of its own (:attr:`Session.relay`) whose other side
        is the mixer's ``agent`` port; the softphone takes it by itself and mixes: it plays
        the supervisor beside the caller, sends on the line its microphone and the caller,
        and in barge sends the caller its microphone and the supervisor. The caller's relay
        is not touched. Returns once the line talks; raises :class:`MediaUnavailable` when
        the browser is not reachable or does not take the line in time.
        """
        call = self.center.connected(session.contact_id)
        browser = call.browsers.get(call.agent_leg or "")
        if browser is None:
            raise MediaUnavailable("the agent's browser is not reachable for a coach line")
        media = self.center.media
        session.line_relay = True
        offer = await media.offer(
            call=session.relay,
            from_tag=MIXER_SIDE,
            sdp=audio_sdp(self.host, [mixer.port(AGENT)]),
            webrtc=True,
        )
        if self.by_contact.get(session.contact_id) is not session:
            return  # ended meanwhile: the ending deletes the relay
        session.line = f"sc-{next(self._legs)}"
        self._by_line[session.line] = session
        answer = session.line_answer = asyncio.get_running_loop().create_future()
        self.center.sip.dial(session.line, contact=browser, caller=COACH_LINE_CALLER, sdp=offer)
        try:
            line_sdp = await asyncio.wait_for(asyncio.shield(answer), COACH_LINE_RING_S)
        except TimeoutError:
            raise MediaUnavailable("the agent's browser did not take the coach line") from None
        finally:
            session.line_answer = None
        if not line_sdp or self.by_contact.get(session.contact_id) is not session:
            return  # ended while it rang
        to_mixer = await media.answer(
            call=session.relay, from_tag=MIXER_SIDE, to_tag=BROWSER_SIDE, sdp=line_sdp, webrtc=True
        )
        relay = _address_and_law(to_mixer)
        if relay is None:
            raise MediaUnavailable("the coach line has no G.711 audio")
        mixer.coach_line = True
        mixer.send_to(AGENT, to=relay[0], law=relay[1])

    async def _drop_coach_line(self, session: Session, mixer: Mixer) -> None:
        """Back to listen, or the end: the coach line hung up and its relay deleted (the
        browser puts its own call back as it was)."""
        mixer.coach_line = False
        mixer.stop_sending(AGENT)
        line, session.line = session.line, ""
        if line:
            self._by_line.pop(line, None)
            with contextlib.suppress(RuntimeError):
                self.center.sip.hang_up(line)
        if session.line_relay:
            session.line_relay = False
            with contextlib.suppress(MediaUnavailable):
                await self.center.media.delete(call=session.relay)

    async def _tear_down(self, session: Session) -> None:
        """An ended session's media, after any move still under way: the agent's leg given
        back (or a browser's coach line hung up), the fork ended, the mixer closed."""
        async with session.moving:
            mixer = session.mixer
            try:
                if mixer is not None and session.agent_leg is not None:
                    await self._give_agent_leg_back(session, mixer)
                if mixer is not None and session.line_relay:
                    await self._drop_coach_line(session, mixer)
                if session.to_tag is not None:
                    await self.center.media.unsubscribe(
                        call=session.contact_id, to_tag=session.to_tag
                    )
            finally:
                if mixer is not None:
                    mixer.close()

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
        if session.line:  # a browser's coach line goes at once too (its relay after)
            self._by_line.pop(session.line, None)
            with contextlib.suppress(RuntimeError):
                self.center.sip.hang_up(session.line)
            session.line = ""
        if session.line_answer is not None and not session.line_answer.done():
            session.line_answer.set_result("")  # a coach line still ringing: stop waiting
        self.center.spawn(self._tear_down(session))
        log.info("supervision of %s ended: %s", session.contact_id, reason)
        _tell(self.listeners, session, reason)


def _tell(listeners: Iterable[Callable[..., None]], *args: Any) -> None:
    """Tell each listener; one's failure must not keep the call's state wrong."""
    for listener in listeners:
        try:
            listener(*args)
        except Exception:
            log.exception("supervision listener failed")


def _address_and_law(sdp: str) -> tuple[tuple[str, int], Law] | None:
    """Where an SDP's first audio section receives, and its first G.711 law; ``None`` when
    it offers no G.711."""
    sections = audio_sections(sdp)
    if not sections:
        return None
    host, port, types = sections[0]
    law = next((LAW_OF[t] for t in types if t in LAW_OF), None)
    return None if law is None else ((host, port), law)
