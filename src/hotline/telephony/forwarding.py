"""Forwarding a caller out through the trunk: a partner center in a crisis, the duty number
after hours.

When the routing engine forwards a caller — an overflow rule's ``forward`` action: crisis
mode's overflow past a bound (:mod:`hotline.routing.crisis`), a queue's after-hours rule in
the center file — the voice driver releases them from the queue with "transferring you" and,
as a B2BUA, dials the number through the outbound trunk of the queue's site (else the
center's default trunk, else the server's ``--trunk``), offering the caller's media relay
(its other side, as for an agent's phone). When the far end answers, the relay is pointed at
it and the two talk until either hangs up; the contact's outcome is ``overflowed`` (the
engine logged ``overflowed`` with ``to: forward`` and the number). A number that fails
(busy, unreachable, no answer within ``ring_timeout_s``) is followed by its ``if_busy``
numbers in order (``CallCenterSettings.forward_fallbacks``: a second partner center, a duty
mobile); when the last one fails too, or the center has no trunk, the exit ends and the
caller is released. The far end is offered the relay's plain SDP (``CallControl.offer_for``:
after ringing a browser softphone the relay's last offer was WebRTC).

While the far end rings the caller hears ringback, not silence: on its 180 (or a 183 without
SDP) the center's ring tone (:mod:`hotline.config.tones`, written once at the server's start:
``CallCenterSettings.ringback``) is played to the caller's side of the relay, repeated, the
way music on hold is; it stops when the far end answers or fails. A far end that sends early
media instead (a 183 with SDP: its own ringback, an operator's announcement, RFC 3960) is
heard itself: the tone stops and the relay is pointed at the far end at once, and again at
its answer. Each step is an ``ivr_step`` event (``action: forward``, ``state``: dialling,
ringing, early_media, answered, failed, ended; the number on dialling and failed).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from pathlib import Path

from hotline.config.trunks import OutboundRoute
from hotline.core.events import EventKind
from hotline.telephony.call_control import Call, CallControl
from hotline.telephony.call_state import ExitClosed
from hotline.telephony.ports import MediaUnavailable

log = logging.getLogger(__name__)

#: The media relay's two sides: the caller's, and the one an agent's phone takes.
CALLER, AGENT = "caller", "agent"
#: How long the far end may ring before the caller is released (seconds).
RING_TIMEOUT_S = 60.0
#: rtpengine repeats the ringback tone's one cycle this many times (past any ring timeout).
TONE_REPEAT = 1000


class Forwards:
    """The voice driver's calls forwarded out through the trunk, by their outbound leg."""

    def __init__(self, control: CallControl, *, ring_timeout_s: float = RING_TIMEOUT_S) -> None:
        self.control = control
        self.ring_timeout_s = ring_timeout_s
        self._calls: dict[str, Call] = {}  # outbound leg -> the caller's call
        self._legs: dict[str, str] = {}  # contact id -> its outbound leg
        self._untried: dict[str, list[str]] = {}  # contact id -> numbers still to try
        self._numbers = itertools.count(1)
        self._rung: set[str] = set()  # outbound legs that said 180 (or 183) already
        self._early: set[str] = set()  # outbound legs sending early media
        self._answered: set[str] = set()  # outbound legs the far end answered
        # contact id -> the task that started the ringback tone, while it plays
        self._tones: dict[str, asyncio.Task[None]] = {}

    def owns(self, leg: str) -> bool:
        """Whether ``leg`` is the outbound leg of a forwarded call."""
        return leg in self._calls

    def start(self, call: Call, number: str) -> bool:
        """Dial ``number`` through the trunk for ``call`` (its ``if_busy`` numbers after it);
        ``False`` when there is no trunk."""
        route = self._route(call)
        if route is None:
            self._note(call, number, "failed", reason="no_trunk")
            return False
        self._untried[call.contact_id] = list(
            self.control.settings.forward_fallbacks.get(number, ())
        )
        self._dial(call, number, route)
        return True

    def _route(self, call: Call) -> OutboundRoute | None:
        """The trunk of the caller's queue's site (else the center's, else ``--trunk``)."""
        return self.control.settings.route_out(queue=call.queue)

    def _dial(self, call: Call, number: str, route: OutboundRoute) -> None:
        leg = f"fwd-{next(self._numbers)}"
        self._calls[leg] = call
        self._legs[call.contact_id] = leg
        self._note(call, number, "dialling", trunk=route.trunk_id)
        loop = asyncio.get_running_loop()
        call.timers.append(loop.call_later(self.ring_timeout_s, self._no_answer, leg, number))
        self.control.spawn(self._ring(call, leg, route.contact(number)))

    async def _ring(self, call: Call, leg: str, contact: str) -> None:
        """Dial the far end with the relay's plain offer: the caller may have rung a browser
        softphone before (its WebRTC offer is no use to a trunk). The caller's own number is
        passed on (a partner sees who calls), not the trunk's."""
        sdp = await self.control.offer_for(call, webrtc=False)
        if sdp is None:
            return  # the relay refused (an alarm says so): the far end's ring times out
        if self._legs.get(call.contact_id) == leg and not call.finished:
            self.control.sip.dial(leg, contact=contact, caller=call.caller, sdp=sdp)

    def ringing(self, leg: str, sdp: str) -> None:
        """The far end rings (180, or 183 without SDP): the caller hears the ringback tone.
        With SDP (183: early media) the caller hears the far end itself instead."""
        call = self._calls.get(leg)
        if call is None or call.finished or leg in self._answered:
            return
        if "m=audio" in sdp:
            if leg not in self._early:
                self._early.add(leg)
                self._note(call, None, "early_media")
                self.control.spawn(self._early_media(call, leg, sdp))
        elif leg not in self._rung and leg not in self._early:
            self._rung.add(leg)
            self._note(call, None, "ringing")
            self._start_tone(call)

    def _start_tone(self, call: Call) -> None:
        """Play the ringback tone to the caller, repeated until stopped (the music's way)."""
        path = self.control.settings.ringback
        if path is not None and call.contact_id not in self._tones:
            self._tones[call.contact_id] = self.control.spawn(self._play_tone(call, path))

    async def _play_tone(self, call: Call, path: Path) -> None:
        try:
            await self.control.media.play(
                call=call.contact_id, tag=CALLER, path=str(path), repeat=TONE_REPEAT
            )
        except MediaUnavailable as exc:
            self.control.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "ringback_failed", "error": str(exc)},
            )

    async def _stop_tone(self, call: Call) -> None:
        """Stop the ringback tone, once its start has reached the relay."""
        task = self._tones.pop(call.contact_id, None)
        if task is None:
            return
        await task
        with contextlib.suppress(MediaUnavailable):
            await self.control.media.stop(call=call.contact_id, tag=CALLER)

    async def _early_media(self, call: Call, leg: str, sdp: str) -> None:
        """Point the caller's relay at the far end before it answers (its early media)."""
        await self._stop_tone(call)
        if self._calls.get(leg) is not call or call.finished:
            return
        with contextlib.suppress(MediaUnavailable):  # the answer points it again, or alarms
            await self._point_relay(call, sdp)

    def answered(self, leg: str, sdp: str) -> None:
        """The far end answered: point the caller's relay at it."""
        call = self._calls.get(leg)
        if call is not None and not call.finished:
            call.agent_remote_sdp = sdp
            self._answered.add(leg)
            self._early.discard(leg)
            self._rung.discard(leg)
            self.control.spawn(self._bridge(call, leg, sdp))

    async def _point_relay(self, call: Call, sdp: str) -> None:
        await self.control.media.answer(
            call=call.contact_id,
            from_tag=CALLER,
            to_tag=AGENT,
            sdp=sdp,
            keep_ports=call.offered_again,  # the caller keeps the ports it was answered with
        )

    async def _bridge(self, call: Call, leg: str, sdp: str) -> None:
        await self._stop_tone(call)
        try:
            await self._point_relay(call, sdp)
        except MediaUnavailable as exc:
            self.control.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "forward_failed", "error": str(exc)},
            )
            self._hang_up(leg)
            self._close(call)
            return
        self._note(call, None, "answered")

    def failed(self, leg: str, code: int) -> None:
        """The far end refused (busy, unreachable): try the next number, else release the
        caller."""
        call = self._drop(leg)
        if call is not None:
            self._note(call, None, "failed", reason=f"sip_{code}")
            self._next_or_close(call)

    def hung_up(self, leg: str) -> None:
        """The far end hung up: the call is over."""
        call = self._drop(leg)
        if call is not None:
            self._untried.pop(call.contact_id, None)
            self._note(call, None, "ended", reason="far_end")
            self._close(call)

    def caller_left(self, call: Call) -> None:
        """The caller hung up: hang up the far end too."""
        self._untried.pop(call.contact_id, None)
        leg = self._legs.get(call.contact_id)
        if leg is not None:
            self._drop(leg)
            self._hang_up(leg)
            self._note(call, None, "ended", reason="caller")

    def _no_answer(self, leg: str, number: str) -> None:
        call = self._calls.get(leg)
        if call is None or leg in self._answered:
            # answered meanwhile (an agent's transferred caller has the agent's SDP in
            # ``agent_remote_sdp`` already: that said nothing about this leg)
            return
        self._drop(leg)
        self._hang_up(leg)
        self._note(call, number, "failed", reason="no_answer")
        self._next_or_close(call)

    def _next_or_close(self, call: Call) -> None:
        """Dial the caller's next ``if_busy`` number, or release them when none is left."""
        untried = self._untried.get(call.contact_id) or []
        route = self._route(call)
        if call.finished or not untried or route is None:
            self._untried.pop(call.contact_id, None)
            self._close(call)
            return
        self._dial(call, untried.pop(0), route)

    def _drop(self, leg: str) -> Call | None:
        """Forget the outbound ``leg``; its ringback stops (the next number rings anew)."""
        self._rung.discard(leg)
        self._early.discard(leg)
        self._answered.discard(leg)
        call = self._calls.pop(leg, None)
        if call is not None:
            self._legs.pop(call.contact_id, None)
            if call.contact_id in self._tones:
                self.control.spawn(self._stop_tone(call))
        return call

    def _hang_up(self, leg: str) -> None:
        with contextlib.suppress(Exception):  # the leg may be gone already
            self.control.sip.hang_up(leg)

    def _close(self, call: Call) -> None:
        if not call.finished:
            self.control.step(call, ExitClosed(at=self.control.clock.now()))

    def _note(
        self, call: Call, number: str | None, state: str, *, reason: str = "", trunk: str = ""
    ) -> None:
        data: dict[str, str] = {"action": "forward", "state": state}
        if number is not None:
            data["number"] = number
        if reason:
            data["reason"] = reason
        if trunk:
            data["trunk"] = trunk
        self.control.emit(
            EventKind.IVR_STEP, contact_id=call.contact_id, queue=call.queue, data=data
        )
