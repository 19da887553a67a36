"""Consult (warm) transfer on phone calls, carried out by the B2BUA from the agent's desktop.

The agent talking to a caller asks to consult another agent (``consult``): the ACD reserves
that agent; the caller hears music on hold and what they say goes nowhere; the consulted
agent's phone rings, offered a second media relay (``<contact>~consult``) whose other side
is the first agent's phone. When the consulted agent answers, the first agent's phone is
re-INVITEd onto that relay, so the two agents talk privately.

Ending the consult (``finish``):

* **transfer** — the caller's relay is re-pointed at the consulted agent's phone, which is
  re-INVITEd onto it; the first agent's phone is hung up and wraps up; the consulted agent
  now has the caller (the recording of the caller's relay goes on);
* **back to the caller** — the consulted agent's phone is hung up and the first agent's
  phone re-INVITEd back onto the caller's relay.

**A first agent on the browser softphone** cannot be re-INVITEd onto another relay: its
media is WebRTC, and the DTLS-SRTP session it keeps belongs to the caller's relay (rtpengine
uses one certificate, so a browser offered another relay's SDP keeps its old session and the
new relay never gets keys). Its call therefore stays where it is — the caller hears music over
it — and the consult rings the browser a second time: the *consult line*, a new call (a new
peer connection) offered WebRTC by the consult relay, which the softphone takes by itself
while the agent consults. Once the line is up the consulted agent's phone rings on the relay's
other side (rtpengine learns its address from its first packets: symmetric RTP). Going back
to the caller hangs up the line and stops the music, nothing else moved; the transfer hangs
up both browser calls and points the caller's relay at the consulted phone, offered plain
again (``CallControl.offer_for``).

**A consulted agent on the browser softphone** is rung by the consult relay offered WebRTC
(its side facing the first agent's desk phone stays plain RTP); the first agent's phone is
re-INVITEd onto the relay's plain side as for a desk phone, and going back to the caller is
the same as for a desk phone. The transfer cannot move the browser onto the caller's relay
(the DTLS-SRTP session above), so it moves nothing and *chains the relays*: the caller's
relay's agent side is answered with the consult relay's plain side that faced the first
agent's phone (now hung up), and that side follows the packets now coming from the caller's
relay, because the consult relay was offered with ``handover`` (rtpengine's ``media
handover``). Without it rtpengine 10.5 keeps sending to the address it confirmed a few seconds
after the last signalling — the first agent's phone — and the caller hears nothing; signalling
the consult relay again instead (an offer from either side) gives the browser's side new
ports, which the browser never learns. The two rtpengine calls then talk plain RTP to each
other; the caller's relay goes on recording both parties, and the consult relay is released
with the call (``Call.chained``), whoever hangs up. The browser was offered no ``a=ssrc``
(:func:`~hotline.telephony.media.sdp.without_ssrc`): Chromium plays only the SSRC it was told
of, and after the chaining the stream carries the caller's source instead of the first
agent's phone's.

**A browser consulting a browser** (a center working from home) uses two relays for the
consult, chained plain to plain: the consult line's relay (browser 1's line ↔ plain side) as
above, and a *bridge* (``<relay>~browser``) offered that plain side from its ``first`` tag
with ``handover`` and ringing the consulted browser WebRTC (no ``a=ssrc``). The line's relay
learns the bridge's address from its packets (its plain side was a placeholder), so the two
agents talk browser → DTLS-SRTP → line relay → plain RTP → bridge → DTLS-SRTP → browser.
Going back to the caller hangs up both consult calls and deletes both relays; nobody moved.
The transfer hangs up browser 1's two calls, offers the caller's relay plain again (its agent
side spoke WebRTC to browser 1; the caller keeps its ports) and answers it with the bridge's
plain side, then deletes the line's relay; the bridge's plain side, which faced the line's
relay, follows the caller's relay's packets (``handover``: without it rtpengine 10.5 keeps
sending the consulted agent's voice to the deleted line relay's port, and the caller and the
recording hear nothing of them — the e2e test fails so). The bridge is kept as
``Call.chained`` and released with the call, whoever hangs up.

The consulted agent not answering (ring timeout, busy), or hanging up, ends the consult back
to the caller; the caller or the first agent hanging up ends it too. The ACD (the routing
engine's ``ConsultStarted``/``ConsultEnded``) logs ``consult_started``/``consult_ended`` and
the transfer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass

from hotline.core.events import EventKind
from hotline.telephony.call_control import Call, CallControl
from hotline.telephony.call_state import ConsultBegan, ConsultFinished
from hotline.telephony.media.sdp import placeholder_sdp, without_ssrc
from hotline.telephony.ports import MediaUnavailable, TransferRefused
from hotline.telephony.sip.stack import is_websocket_contact

log = logging.getLogger(__name__)

FIRST, CONSULTED = "first", "consulted"  # the consult relay's two sides
CONSULT_RING_S = 20.0  # how long the consulted agent's phone rings


@dataclass
class Consult:
    """One open consult: the consulted agent's leg and the relay between the two agents."""

    contact_id: str
    agent_id: str
    leg: str
    relay: str
    answered: bool = False
    sdp: str = ""  # the consulted phone's SDP
    line: str = ""  # the consult line: a second call to a first agent on the browser softphone
    timer: asyncio.TimerHandle | None = None
    browser: str = ""  # the consulted agent's browser softphone (its contact), if it is one
    offer: str = ""  # the consult relay's offer the consulted phone was rung with
    to_first: str = ""  # the consult relay's SDP for the first agent's phone
    # browser to browser: the relay that rings the consulted browser, its plain side chained
    # to the plain side of the consult line's relay (``relay``)
    bridge: str = ""


class Consults:
    """The consults of one :class:`~hotline.telephony.call_center.CallCenter`."""

    def __init__(self, center: CallControl) -> None:
        self.center = center
        self.by_contact: dict[str, Consult] = {}
        self._by_leg: dict[str, Consult] = {}
        self._updating: set[str] = set()  # legs with a re-INVITE of ours in flight
        self._legs = itertools.count(1)

    def owns(self, leg: str) -> bool:
        """Whether an answer on ``leg`` is about a consult (its leg, or our re-INVITE)."""
        return leg in self._by_leg or leg in self._updating

    def is_consult_leg(self, leg: str) -> bool:
        """Whether ``leg`` is a consulted agent's leg (or a browser's consult line)."""
        return leg in self._by_leg

    # -- from the desktop

    def start(self, contact_id: str, agent_id: str) -> None:
        """Consult ``agent_id`` about the connected call ``contact_id``.

        Raises :class:`TransferRefused` when the call is not connected, a consult is already
        open, the agent has no registered phone or the ACD refuses (agent not available).
        """
        center = self.center
        call = center.connected(contact_id)
        if contact_id in self.by_contact:
            raise TransferRefused(f"{contact_id} already has a consult")
        phone = center.phone_of.get(agent_id)
        if phone is None:
            raise TransferRefused(f"agent {agent_id} has no registered phone")
        decisions = center.router.consult_started(
            at=center.clock.now(), contact_id=contact_id, agent_id=agent_id
        )
        center.step(call, ConsultBegan(at=center.clock.now(), agent_id=agent_id))
        leg = f"cs-{next(self._legs)}"
        # a relay chained by an earlier transfer keeps its name until the call ends
        relay = f"{contact_id}~consult" if call.chained is None else f"{contact_id}~{leg}"
        consult = Consult(contact_id, agent_id, leg, relay)
        if is_websocket_contact(phone):
            consult.browser = phone
        if call.on_browser:
            consult.line = f"cl-{next(self._legs)}"
            self._by_leg[consult.line] = consult
            if consult.browser:  # browser to browser: a second relay, chained to the line's
                consult.bridge = f"{relay}~browser"
        self.by_contact[contact_id] = consult
        self._by_leg[consult.leg] = consult
        consult.timer = asyncio.get_running_loop().call_later(
            CONSULT_RING_S, self._ring_timeout, consult
        )
        center.route(decisions)
        center.spawn(self._ring(call, consult, phone))

    def finish(self, contact_id: str, *, transfer: bool) -> None:
        """End the consult: hand the caller to the consulted agent, or go back to them."""
        consult = self.by_contact.get(contact_id)
        call = self.center.calls.get(contact_id)
        if consult is None or call is None:
            raise TransferRefused(f"{contact_id} has no consult")
        if transfer and not consult.answered:
            raise TransferRefused(f"agent {consult.agent_id} has not answered the consult yet")
        self._end(call, consult, transfer=transfer)

    # -- SIP events of consult legs

    def answered(self, leg: str, sdp: str) -> None:
        """The consulted phone answered, or a phone answered our re-INVITE."""
        if leg in self._updating:
            self._updating.discard(leg)
            return
        consult = self._by_leg.get(leg)
        call = self.center.calls.get(consult.contact_id) if consult else None
        if consult is None or call is None:
            return
        if leg == consult.line:
            self.center.spawn(self._ring_consulted(call, consult, sdp))
            return
        if consult.timer is not None:
            consult.timer.cancel()
        consult.sdp = sdp
        self.center.spawn(self._connect(call, consult))

    def failed(self, leg: str, code: int) -> None:
        """The consulted phone was busy or refused: back to the caller."""
        self._updating.discard(leg)
        consult = self._by_leg.pop(leg, None)
        if consult is not None:
            self._lost(consult, leg)
            self._give_up(consult, reason=f"sip_{code}")

    def hung_up(self, leg: str) -> None:
        """The consulted agent hung up: back to the caller."""
        consult = self._by_leg.pop(leg, None)
        if consult is not None:
            self._lost(consult, leg)
            self._give_up(consult, reason="consulted_hung_up")

    @staticmethod
    def _lost(consult: Consult, leg: str) -> None:
        """``leg`` is gone: the consulted agent's, or the browser's consult line."""
        if leg == consult.line:
            consult.line = ""
        else:
            consult.leg = ""

    def abandon(self, call: Call) -> None:
        """The caller or the first agent hung up: the consult ends with the call."""
        consult = self.by_contact.get(call.contact_id)
        if consult is None:
            return
        self._forget(consult)
        for leg in (consult.leg, consult.line):
            if leg:
                self.center.sip.hang_up(leg)
        self.center.spawn(self._delete(consult))
        with contextlib.suppress(TransferRefused):
            self.center.route(
                self.center.router.consult_ended(
                    at=self.center.clock.now(), contact_id=call.contact_id, transfer=False
                )
            )

    # -- the work

    async def _ring(self, call: Call, consult: Consult, phone: str) -> None:
        if consult.line:
            await self._ring_line(call, consult)
            return
        center = self.center
        try:
            # the caller waits with music; what they say reaches nobody meanwhile
            await center.media.answer(
                call=call.contact_id, from_tag="caller", to_tag="agent", sdp=placeholder_sdp()
            )
            if call.held_since is None:
                center.start_music(call)
            # a browser is offered WebRTC; the side facing the first agent's phone follows
            # its media, so that a transfer can chain the caller's relay to it
            to_consulted = await center.media.offer(
                call=consult.relay,
                from_tag=FIRST,
                sdp=call.agent_remote_sdp,
                webrtc=bool(consult.browser),
                handover=bool(consult.browser),
            )
        except MediaUnavailable as exc:
            self._give_up(consult, reason=f"media_unavailable: {exc}")
            return
        if consult.browser:  # its source changes when the relays are chained
            to_consulted = without_ssrc(to_consulted)
        consult.offer = to_consulted
        if consult.leg and consult.contact_id in self.by_contact:
            center.sip.dial(consult.leg, contact=phone, caller=call.caller, sdp=to_consulted)

    async def _ring_line(self, call: Call, consult: Consult) -> None:
        """Ring the first agent's browser a second time, offered WebRTC by the consult relay;
        its own call stays on the caller's relay, where the caller now hears music."""
        center = self.center
        if call.held_since is None:
            center.start_music(call)
        try:
            to_line = await center.media.offer(
                call=consult.relay, from_tag=CONSULTED, sdp=placeholder_sdp(), webrtc=True
            )
        except MediaUnavailable as exc:
            self._give_up(consult, reason=f"media_unavailable: {exc}")
            return
        browser = call.browsers.get(call.agent_leg or "")
        if consult.line and browser and consult.contact_id in self.by_contact:
            center.sip.dial(consult.line, contact=browser, caller=consult.agent_id, sdp=to_line)

    async def _ring_consulted(self, call: Call, consult: Consult, line_sdp: str) -> None:
        """The browser took its consult line: ring the consulted agent on the relay's other
        side (offered plain: the relay's own offer came from a plain placeholder)."""
        center = self.center
        phone = center.phone_of.get(consult.agent_id)
        try:
            to_consulted = await center.media.answer(
                call=consult.relay, from_tag=CONSULTED, to_tag=FIRST, sdp=line_sdp, webrtc=True
            )
        except MediaUnavailable as exc:
            self._give_up(consult, reason=f"media_unavailable: {exc}")
            return
        if phone is None:
            self._give_up(consult, reason="consulted_unregistered")
            return
        if consult.bridge:  # a consulted browser: rung by a relay of its own, see _ring_bridge
            to_consulted = await self._ring_bridge(consult, to_consulted)
        if to_consulted and consult.leg and consult.contact_id in self.by_contact:
            center.sip.dial(consult.leg, contact=phone, caller=call.caller, sdp=to_consulted)

    async def _ring_bridge(self, consult: Consult, line_plain: str) -> str:
        """The consulted browser's offer, from the bridge relay, whose plain side is offered
        the consult line relay's plain side (``line_plain``) and follows its packets
        (``handover``): after the transfer they come from the caller's relay instead.
        Empty when the relay failed (the consult then ends)."""
        try:
            to_consulted = await self.center.media.offer(
                call=consult.bridge, from_tag=FIRST, sdp=line_plain, webrtc=True, handover=True
            )
        except MediaUnavailable as exc:
            self._give_up(consult, reason=f"media_unavailable: {exc}")
            return ""
        consult.offer = without_ssrc(to_consulted)  # its source changes at the transfer
        return consult.offer

    async def _connect(self, call: Call, consult: Consult) -> None:
        if consult.line and consult.bridge:  # the consulted browser answered the bridge
            try:
                consult.to_first = await self.center.media.answer(
                    call=consult.bridge,
                    from_tag=FIRST,
                    to_tag=CONSULTED,
                    sdp=consult.sdp,
                    webrtc=True,
                )
            except MediaUnavailable as exc:
                self._give_up(consult, reason=f"media_unavailable: {exc}")
                return
        if consult.line:
            consult.answered = True  # the browser's line and the consulted phone talk
            return
        try:
            to_first = await self.center.media.answer(
                call=consult.relay,
                from_tag=FIRST,
                to_tag=CONSULTED,
                sdp=consult.sdp,
                webrtc=bool(consult.browser),
            )
        except MediaUnavailable as exc:
            self._give_up(consult, reason=f"media_unavailable: {exc}")
            return
        if consult.contact_id not in self.by_contact or call.agent_leg is None:
            return
        consult.answered = True
        consult.to_first = to_first
        self._update(call.agent_leg, to_first)  # the first agent now hears the consulted one

    def _update(self, leg: str, sdp: str) -> None:
        self._updating.add(leg)
        self.center.sip.update(leg, sdp)

    def _ring_timeout(self, consult: Consult) -> None:
        if consult.answered or consult.contact_id not in self.by_contact:
            return
        if consult.leg:
            self._by_leg.pop(consult.leg, None)
            self.center.sip.hang_up(consult.leg)
            consult.leg = ""
        self._give_up(consult, reason="ring_timeout")

    def _give_up(self, consult: Consult, *, reason: str) -> None:
        call = self.center.calls.get(consult.contact_id)
        if call is None or consult.contact_id not in self.by_contact:
            self._forget(consult)
            return
        log.info("consult for %s ended: %s", consult.contact_id, reason)
        self._end(call, consult, transfer=False)

    def _end(self, call: Call, consult: Consult, *, transfer: bool) -> None:
        center = self.center
        decisions = center.router.consult_ended(
            at=center.clock.now(), contact_id=call.contact_id, transfer=transfer
        )
        center.step(call, ConsultFinished(at=center.clock.now(), transfer=transfer))
        self._forget(consult)
        if consult.line:
            center.sip.hang_up(consult.line)
        if transfer:
            first_leg = call.agent_leg
            if first_leg is not None:
                center.unbind_leg(first_leg)
                center.sip.hang_up(first_leg)
            # the caller's relay keeps recording: the consulted agent joins the same recording
            call.agent_leg = consult.leg
            center.bind_leg(consult.leg, call)
            chained, call.chained = call.chained, None
            if consult.browser:  # the browser stays on the consult relay: chain the relays
                call.browsers[consult.leg] = consult.browser
                call.agent_remote_sdp = consult.to_first
                call.local_sdp["agent"] = consult.offer
                call.chained = consult.bridge or consult.relay
                center.spawn(self._chain(call, consult))
            else:
                call.agent_remote_sdp = consult.sdp
                center.spawn(self._rejoin(call, consult, consult.leg, consult.sdp))
            if chained is not None:  # an earlier transfer's relay: the caller leaves it
                center.spawn(self._delete_relay(chained))
        else:
            if consult.leg:
                center.sip.hang_up(consult.leg)
            if call.agent_leg is not None:
                moved = not consult.line  # a browser's own call never left the caller's relay
                center.spawn(
                    self._rejoin(call, consult, call.agent_leg, call.agent_remote_sdp, moved=moved)
                )
        center.route(decisions)

    async def _rejoin(
        self, call: Call, consult: Consult, leg: str, phone_sdp: str, *, moved: bool = True
    ) -> None:
        """Put ``leg``'s phone back on the caller's relay (and the relay back on the phone);
        only the music stops when the phone never left it (``moved``: a browser's call)."""
        center = self.center
        try:
            if call.held_since is None:
                center.stop_playing(call)
                if call.music is not None:
                    await call.music  # the music must have started before we stop it
                await center.media.stop(call=call.contact_id, tag="caller")
            if not moved:
                await self._delete(consult)
                return
            if call.webrtc:  # the relay's agent side spoke WebRTC to the first agent's browser
                await center.offer_for(call, webrtc=False)
                call.local_sdp["agent"] = call.agent_sdp
            await center.media.answer(
                call=call.contact_id,
                from_tag="caller",
                to_tag="agent",
                sdp=phone_sdp,
                keep_ports=call.offered_again,
            )
        except MediaUnavailable as exc:
            center.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "consult_rejoin_failed", "error": str(exc)},
            )
        if not call.finished and call.agent_leg == leg:
            self._update(leg, call.local_sdp["agent"])
        await self._delete(consult)

    async def _chain(self, call: Call, consult: Consult) -> None:
        """Hand the caller to a consulted browser without moving it: the caller's relay's
        agent side is answered with the consult relay's side that faced the first agent's
        phone (plain RTP), whose address follows the packets now coming from the caller's
        relay (``handover``). The browser's own call and its DTLS-SRTP session stay as they
        are; the caller's relay goes on recording both parties."""
        center = self.center
        try:
            if call.held_since is None:
                center.stop_playing(call)
                if call.music is not None:
                    await call.music  # the music must have started before we stop it
                await center.media.stop(call=call.contact_id, tag="caller")
            if call.webrtc:  # the side faced the first agent's browser: offered plain again
                await center.offer_for(call, webrtc=False)
            await center.media.answer(
                call=call.contact_id,
                from_tag="caller",
                to_tag="agent",
                sdp=consult.to_first,
                keep_ports=call.offered_again,
            )
        except MediaUnavailable as exc:
            center.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "consult_chain_failed", "error": str(exc)},
            )
        if consult.bridge:  # the consult line's relay carried only the first agent's line
            await self._delete_relay(consult.relay)

    async def _delete(self, consult: Consult) -> None:
        await self._delete_relay(consult.relay)
        if consult.bridge:
            await self._delete_relay(consult.bridge)

    async def _delete_relay(self, relay: str) -> None:
        with contextlib.suppress(MediaUnavailable):
            await self.center.media.delete(call=relay)

    def _forget(self, consult: Consult) -> None:
        if consult.timer is not None:
            consult.timer.cancel()
        self.by_contact.pop(consult.contact_id, None)
        for leg in (consult.leg, consult.line):
            if leg:
                self._by_leg.pop(leg, None)
