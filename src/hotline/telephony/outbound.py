"""Outbound origination: click-to-dial for an agent through the B2BUA.

Click-to-dial rings the agent's registered phone first; when the agent picks up, the
customer's number is dialled through the configured trunk and the two legs are bridged by
the media server (rtpengine), so the agent hears the customer's ringing only once the
customer answers. Every step lands in the contact event log with ``direction=outbound``.

Media negotiation, with the relay as the offerer towards both phones:

1. ``offer`` a placeholder on the customer side → the SDP to send the agent's phone;
2. the agent answers → ``answer`` with the agent's SDP gives the SDP to offer the trunk;
3. the customer answers → ``offer`` again with the customer's real SDP (re-points the
   customer side) and ``answer`` with the agent's SDP, and recording starts.

Either side hanging up ends the other; a failed or unanswered customer leg ends the
agent's leg with outcome ``failed``.

Callbacks (:meth:`Originator.call_back`) take the same path, but the contact is the ACD's:
it offered the callback to the agent, so the agent's phone ringing is the offer (no answer
or a refusal is ring-no-answer, the ACD picks again), the agent answering is the offer
answered, and the end of the call starts the agent's wrap-up. The customer leg's result is
logged as ``dialled`` (answered, busy, no_answer, failed).

Do-not-call: before either path rings anyone it asks the center's do-not-call lists
(``settings.do_not_call``, a :class:`~hotline.telephony.ports.NumberScreen`). A listed number
is never dialled: click-to-dial raises :class:`DoNotCallRefused` (nothing rings, nothing is
logged as a contact); a callback is logged ``dialled`` with result ``do_not_call`` and ended
as abandoned, so the ACD frees the agent. Each refusal is kept by the screen (audited), in a
task of its own: the caller may hold the database's writer turn while it waits here.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
from dataclasses import dataclass

from hotline.config.trunks import OutboundRoute
from hotline.core.events import Direction, EventKind, Outcome
from hotline.telephony.call_control import CallControl
from hotline.telephony.media.sdp import placeholder_sdp
from hotline.telephony.ports import DialCallback, MediaUnavailable

CUSTOMER, AGENT = "customer", "agent"


class OriginationRefused(Exception):
    """The call cannot be placed (no registered phone, no trunk, media down)."""


class DoNotCallRefused(OriginationRefused):
    """The number is on a do-not-call list (``list_name``): it is never dialled."""

    def __init__(self, number: str, list_name: str) -> None:
        super().__init__(f"{number} is on the do-not-call list ({list_name}): not dialled")
        self.number = number
        self.list_name = list_name


@dataclass
class OutboundCall:
    """One outbound contact: the agent's leg first, then the customer's."""

    contact_id: str
    agent_id: str
    number: str
    agent_leg: str
    started_at: float
    reason: str = "click_to_dial"
    customer_leg: str | None = None
    agent_sdp: str = ""
    agent_answered_at: float | None = None
    customer_answered_at: float | None = None
    recording: bool = False
    finished: bool = False
    # A callback the ACD offered (its events are the ACD's); else click-to-dial.
    routed: bool = False
    # The trunk the customer's leg leaves by (the agent's site's, chosen when placed).
    route: OutboundRoute | None = None


def _dial_result(code: int) -> str:
    """What a final SIP failure code says about the customer leg.

    >>> _dial_result(486), _dial_result(408), _dial_result(404)
    ('busy', 'no_answer', 'failed')
    """
    if code in (486, 600):
        return "busy"
    if code in (408, 480, 487):
        return "no_answer"
    return "failed"


class Originator:
    """Places and tracks outbound calls for one voice driver (a :class:`CallControl`)."""

    def __init__(self, center: CallControl) -> None:
        self.center = center
        self.calls: dict[str, OutboundCall] = {}  # contact id -> call
        self._by_leg: dict[str, OutboundCall] = {}
        self._legs = itertools.count(1)

    def owns(self, leg: str) -> bool:
        """Whether ``leg`` belongs to an outbound call."""
        return leg in self._by_leg

    def routed(self, contact_id: str) -> bool:
        """Whether ``contact_id`` is a callback this originator is placing."""
        call = self.calls.get(contact_id)
        return call is not None and call.routed

    def call_back(self, offer: DialCallback, number: str | None) -> None:
        """The ACD offered callback ``offer.contact_id`` to an agent: ring their phone.

        When the agent has no registered phone, no trunk is configured or the number is not
        known, nothing is dialled: the offer stays on the agent's desktop, where they call
        the customer by hand.
        """
        route = self.center.settings.route_out(agent_id=offer.agent_id)
        phone = self.center.phone_of.get(offer.agent_id)
        if route is None or phone is None or not number or offer.contact_id in self.calls:
            return
        leg = f"ob-{next(self._legs)}"
        call = OutboundCall(
            offer.contact_id,
            offer.agent_id,
            number,
            leg,
            self.center.clock.now(),
            reason="callback",
            routed=True,
            route=route,
        )
        self.calls[call.contact_id] = call
        self._by_leg[leg] = call
        self.center.spawn(self._ring_agent(call, phone))

    async def _ring_agent(self, call: OutboundCall, phone: str) -> None:
        listed = await self._listed(
            call.number, agent_id=call.agent_id, path="callback", contact_id=call.contact_id
        )
        if listed is not None:
            self._refuse_callback(call)
            return
        if call.finished:
            return
        try:
            to_agent = await self.center.media.offer(
                call=call.contact_id, from_tag=CUSTOMER, sdp=placeholder_sdp()
            )
        except MediaUnavailable:
            self._forget(call)
            self._reject(call)
            return
        if call.finished:
            return
        self.center.emit(
            EventKind.OFFERED,
            contact_id=call.contact_id,
            agent_id=call.agent_id,
            data={"phone": phone, "direction": Direction.OUTBOUND.value},
        )
        self.center.sip.dial(call.agent_leg, contact=phone, caller=call.number, sdp=to_agent)

    async def _listed(
        self, number: str, *, agent_id: str, path: str, contact_id: str | None
    ) -> str | None:
        """The do-not-call list holding ``number`` (its refusal kept), or ``None``."""
        screen = self.center.settings.do_not_call
        if screen is None:
            return None
        listed = await screen.listed(number)
        if listed is not None:
            self.center.spawn(
                screen.refused(
                    number=number,
                    list_name=listed,
                    agent_id=agent_id,
                    path=path,
                    contact_id=contact_id,
                )
            )
        return listed

    def _refuse_callback(self, call: OutboundCall) -> None:
        """A callback to a listed number: not dialled; the ACD ends it and frees the agent."""
        center = self.center
        call.finished = True  # nothing was set up on the media server yet: nothing to free
        self._by_leg.pop(call.agent_leg, None)
        self.calls.pop(call.contact_id, None)
        center.emit(
            EventKind.DIALLED,
            contact_id=call.contact_id,
            agent_id=call.agent_id,
            data={"direction": Direction.OUTBOUND.value, "result": "do_not_call"},
        )
        center.route(
            center.router.contact_abandoned(at=center.clock.now(), contact_id=call.contact_id)
        )

    def stop_ringing(self, contact_id: str, agent_id: str) -> None:
        """The ACD took the callback offer back (ring timeout): stop the agent's phone."""
        call = self.calls.get(contact_id)
        if call is None or call.agent_id != agent_id or call.agent_answered_at is not None:
            return
        if self._by_leg.pop(call.agent_leg, None) is not None:
            self.center.sip.hang_up(call.agent_leg)
        self._forget(call)

    def _forget(self, call: OutboundCall) -> None:
        call.finished = True
        for leg in (call.agent_leg, call.customer_leg):
            if leg:
                self._by_leg.pop(leg, None)
        self.calls.pop(call.contact_id, None)
        self.center.spawn(self._release(call))

    def _reject(self, call: OutboundCall) -> None:
        """The agent's phone did not take the callback: ring-no-answer for the ACD."""
        center = self.center
        center.emit(
            EventKind.RING_NO_ANSWER,
            contact_id=call.contact_id,
            agent_id=call.agent_id,
            data={"reason": "callback_not_answered"},
        )
        center.route(
            center.router.offer_rejected(
                at=center.clock.now(), contact_id=call.contact_id, agent_id=call.agent_id
            )
        )

    def _emit(self, kind: EventKind, call: OutboundCall, **data: object) -> None:
        self.center.emit(
            kind,
            contact_id=call.contact_id,
            agent_id=call.agent_id,
            data={"direction": Direction.OUTBOUND.value, **data},
            unrouted=True,
        )

    async def originate(self, *, agent_id: str, number: str, reason: str = "click_to_dial") -> str:
        """Ring ``agent_id``'s phone, then dial ``number`` via the trunk; return the contact id.

        Example: ``contact = await center.originate(agent_id="a001", number="13800000000")``.
        Raises :class:`OriginationRefused` when the agent has no registered phone, no trunk
        is configured, or the media server is down, and :class:`DoNotCallRefused` when the
        number is on a do-not-call list (``reason`` names the path that asked).
        """
        route = self.center.settings.route_out(agent_id=agent_id)
        if route is None:
            raise OriginationRefused("no outbound trunk configured")
        phone = self.center.phone_of.get(agent_id)
        if phone is None:
            raise OriginationRefused(f"agent {agent_id} has no registered phone")
        listed = await self._listed(number, agent_id=agent_id, path=reason, contact_id=None)
        if listed is not None:
            raise DoNotCallRefused(number, listed)
        contact_id = f"o-{secrets.token_hex(6)}"
        leg = f"ob-{next(self._legs)}"
        call = OutboundCall(
            contact_id, agent_id, number, leg, self.center.clock.now(), reason, route=route
        )
        try:
            to_agent = await self.center.media.offer(
                call=contact_id, from_tag=CUSTOMER, sdp=placeholder_sdp()
            )
        except MediaUnavailable as exc:
            raise OriginationRefused(f"media server unavailable: {exc}") from exc
        self.calls[contact_id] = call
        self._by_leg[leg] = call
        self._emit(EventKind.ARRIVED, call, caller=agent_id, called=number, reason=reason)
        self._emit(EventKind.OFFERED, call, phone=phone, leg="agent")
        self.center.sip.dial(leg, contact=phone, caller=number, sdp=to_agent)
        return contact_id

    def ringing(self, leg: str, sdp: str = "") -> None:
        """A leg rings (nothing to do; the phone or the trunk times out on its own)."""

    def answered(self, leg: str, sdp: str) -> None:
        """The agent or the customer picked up."""
        call = self._by_leg.get(leg)
        if call is None or call.finished:
            return
        if leg == call.agent_leg:
            call.agent_answered_at = self.center.clock.now()
            call.agent_sdp = sdp
            if call.routed:
                center = self.center
                center.emit(
                    EventKind.ANSWERED,
                    contact_id=call.contact_id,
                    agent_id=call.agent_id,
                    data={"direction": Direction.OUTBOUND.value},
                )
                center.route(
                    center.router.offer_answered(
                        at=call.agent_answered_at,
                        contact_id=call.contact_id,
                        agent_id=call.agent_id,
                    )
                )
            self.center.spawn(self._dial_customer(call, sdp))
        else:
            call.customer_answered_at = self.center.clock.now()
            self.center.spawn(self._bridge(call, sdp))

    async def _dial_customer(self, call: OutboundCall, agent_sdp: str) -> None:
        try:
            to_customer = await self.center.media.answer(
                call=call.contact_id, from_tag=CUSTOMER, to_tag=AGENT, sdp=agent_sdp
            )
        except MediaUnavailable as exc:
            self._end(call, Outcome.FAILED, reason=f"media_unavailable: {exc}")
            return
        if call.finished:
            return
        route = call.route
        assert route is not None
        leg = f"ob-{next(self._legs)}"
        call.customer_leg = leg
        self._by_leg[leg] = call
        if not call.routed:  # a callback's one offer was the ACD's, to the agent
            self._emit(
                EventKind.OFFERED, call, leg="customer", number=call.number, trunk=route.trunk_id
            )
        self.center.sip.dial(
            leg,
            contact=route.contact(call.number),
            caller=route.caller(call.agent_id),
            sdp=to_customer,
        )

    async def _bridge(self, call: OutboundCall, customer_sdp: str) -> None:
        try:
            await self.center.media.offer(call=call.contact_id, from_tag=CUSTOMER, sdp=customer_sdp)
            await self.center.media.answer(
                call=call.contact_id, from_tag=CUSTOMER, to_tag=AGENT, sdp=call.agent_sdp
            )
            await self.center.media.start_recording(call=call.contact_id)
            call.recording = True
        except MediaUnavailable as exc:
            self.center.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "bridge_failed", "error": str(exc)},
            )
        if call.routed:
            self._emit(EventKind.DIALLED, call, number=call.number, result="answered")
        else:
            wait = (call.customer_answered_at or 0.0) - call.started_at
            self._emit(EventKind.ANSWERED, call, wait_s=round(wait, 3))
        if call.recording:
            self._emit(EventKind.RECORDING_STARTED, call)

    def failed(self, leg: str, code: int) -> None:
        """A leg failed: the agent did not take it, or the customer's number failed."""
        call = self._by_leg.pop(leg, None)
        if call is None or call.finished:
            return
        if leg == call.agent_leg:
            if call.routed:
                self._forget(call)
                self._reject(call)
                return
            self._end(call, Outcome.FAILED, reason=f"agent_sip_{code}")
        else:
            call.customer_leg = None
            if call.routed:
                self._emit(EventKind.DIALLED, call, number=call.number, result=_dial_result(code))
            self._end(call, Outcome.FAILED, reason=f"customer_sip_{code}")

    def hung_up(self, leg: str) -> None:
        """One side hung up: hang up the other and finish the contact."""
        call = self._by_leg.pop(leg, None)
        if call is None or call.finished:
            return
        by = "agent" if leg == call.agent_leg else "customer"
        if by == "agent":
            call.agent_leg = ""
        else:
            call.customer_leg = None
        if call.routed and call.agent_answered_at is None:
            self._forget(call)  # the agent's phone gave up ringing
            self._reject(call)
        elif call.customer_answered_at is not None:
            if call.routed:  # a routing event: the ACD writes it when it keeps the log
                self.center.emit(
                    EventKind.DISCONNECTED,
                    contact_id=call.contact_id,
                    agent_id=call.agent_id,
                    data={"by": by},
                )
            else:
                self._emit(EventKind.DISCONNECTED, call, by=by)
            self._end(call, Outcome.ANSWERED)
        else:
            self._end(call, Outcome.FAILED, reason=f"{by}_hung_up_before_answer")

    def _end(self, call: OutboundCall, outcome: Outcome, *, reason: str | None = None) -> None:
        if call.finished:
            return
        call.finished = True
        for leg in (call.agent_leg, call.customer_leg):
            if leg and self._by_leg.pop(leg, None) is not None:
                self.center.sip.hang_up(leg)
        data: dict[str, object] = {"outcome": outcome.value}
        if reason:
            data["reason"] = reason
        if call.routed:
            # the ACD's contact: the agent wraps up, and the ACD writes ``finished`` after
            center = self.center
            center.route(
                center.router.contact_ended(at=center.clock.now(), contact_id=call.contact_id)
            )
        else:
            self._emit(EventKind.FINISHED, call, **data)
        self.calls.pop(call.contact_id, None)
        self.center.spawn(self._release(call))

    async def _release(self, call: OutboundCall) -> None:
        with contextlib.suppress(MediaUnavailable):
            if call.recording:
                call.recording = False
                await self.center.media.stop_recording(call=call.contact_id)
            await self.center.media.delete(call=call.contact_id)
