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
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hotline.core.events import Direction, EventKind, Outcome
from hotline.telephony.fake import placeholder_sdp
from hotline.telephony.ports import MediaUnavailable

if TYPE_CHECKING:
    from hotline.telephony.call_center import CallCenter

CUSTOMER, AGENT = "customer", "agent"


class OriginationRefused(Exception):
    """The call cannot be placed (no registered phone, no trunk, media down)."""


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


class Originator:
    """Places and tracks outbound calls for one :class:`CallCenter`."""

    def __init__(self, center: CallCenter) -> None:
        self.center = center
        self.calls: dict[str, OutboundCall] = {}  # contact id -> call
        self._by_leg: dict[str, OutboundCall] = {}
        self._legs = itertools.count(1)

    def owns(self, leg: str) -> bool:
        """Whether ``leg`` belongs to an outbound call."""
        return leg in self._by_leg

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
        is configured, or the media server is down.
        """
        trunk = self.center.settings.trunk
        if trunk is None:
            raise OriginationRefused("no outbound trunk configured")
        phone = self.center.phone_of.get(agent_id)
        if phone is None:
            raise OriginationRefused(f"agent {agent_id} has no registered phone")
        contact_id = f"o-{secrets.token_hex(6)}"
        leg = f"ob-{next(self._legs)}"
        call = OutboundCall(contact_id, agent_id, number, leg, self.center.clock.now(), reason)
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
        self.center._sip().dial(leg, contact=phone, caller=number, sdp=to_agent)
        return contact_id

    def ringing(self, leg: str) -> None:
        """A leg rings (nothing to do; the phone or the trunk times out on its own)."""

    def answered(self, leg: str, sdp: str) -> None:
        """The agent or the customer picked up."""
        call = self._by_leg.get(leg)
        if call is None or call.finished:
            return
        if leg == call.agent_leg:
            call.agent_answered_at = self.center.clock.now()
            call.agent_sdp = sdp
            self.center._spawn(self._dial_customer(call, sdp))
        else:
            call.customer_answered_at = self.center.clock.now()
            self.center._spawn(self._bridge(call, sdp))

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
        trunk = self.center.settings.trunk
        assert trunk is not None
        leg = f"ob-{next(self._legs)}"
        call.customer_leg = leg
        self._by_leg[leg] = call
        self._emit(EventKind.OFFERED, call, leg="customer", number=call.number)
        self.center._sip().dial(
            leg, contact=trunk.format(number=call.number), caller=call.agent_id, sdp=to_customer
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
            self._end(call, Outcome.FAILED, reason=f"agent_sip_{code}")
        else:
            call.customer_leg = None
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
        if call.customer_answered_at is not None:
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
                self.center._sip().hang_up(leg)
        data: dict[str, object] = {"outcome": outcome.value}
        if reason:
            data["reason"] = reason
        self._emit(EventKind.FINISHED, call, **data)
        self.calls.pop(call.contact_id, None)
        self.center._spawn(self._release(call))

    async def _release(self, call: OutboundCall) -> None:
        with contextlib.suppress(MediaUnavailable):
            if call.recording:
                call.recording = False
                await self.center.media.stop_recording(call=call.contact_id)
            await self.center.media.delete(call=call.contact_id)
