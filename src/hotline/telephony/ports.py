"""The ports of the telephony driver: small Protocols between call logic and the world.

The live call driver (:mod:`hotline.telephony.call_center`) never speaks SIP, bencode or
RTP itself. It talks to three ports; the media server and the SIP side each have one real
adapter and one in-tree fake (:mod:`hotline.telephony.fake`), the ACD has no fake — tests
drive the real routing engine through :class:`hotline.telephony.acd.EngineRouter`:

- :class:`MediaServer` — the media relay (rtpengine over its ng protocol): offer/answer,
  play prompts and music on hold, record. DTMF digits come back as callbacks.
- :class:`Signalling` — the SIP side (sippy B2BUA and registrar): answer, reject, hang up
  the caller's leg; dial, cancel and hang up the agent's leg.
- :class:`CallRouter` — the ACD (automatic call distributor) that decides which agent gets
  which queued caller. Telephony never decides that itself (DESIGN.md).
- :class:`CallerDirectory` — who is calling: the CRM's customer behind the calling number
  and their open tickets, for the caller rules (:mod:`hotline.config.caller_rules`).

Call-leg events flow the other way through :class:`SignallingEvents`, which the driver
implements. All methods run on the driver's asyncio loop; adapters that own threads (sippy)
hop onto it first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from hotline.config.caller_rules import CallerFacts
from hotline.core.events import Event


class MediaUnavailable(Exception):
    """The media server did not answer or refused a command (calls cannot get media)."""


class TransferRefused(Exception):
    """The ACD cannot take the transfer (unknown queue, target agent not available)."""


class MediaRejected(MediaUnavailable):
    """The media server answered but refused this request (e.g. an unusable SDP offer).

    Unlike silence, this says nothing about the server's health: no alarm is raised.
    """


@dataclass(frozen=True, slots=True)
class Playback:
    """A playback the media server started: how long it lasts (ms), if it said."""

    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A fork of a call's media (rtpengine's ``subscribe request``): the subscriber's tag
    and the offer for it (one ``sendonly`` audio section per forked party)."""

    to_tag: str
    sdp: str


class MediaServer(Protocol):
    """A media relay that bridges two legs and plays, detects DTMF and records on them.

    ``call`` is the contact id; ``tag`` names one side (caller or agent side).
    """

    async def offer(
        self, *, call: str, from_tag: str, sdp: str, webrtc: bool = False, handover: bool = False
    ) -> str:
        """Register the caller's SDP; return the SDP to hand to the other side (with
        ``webrtc``: for a browser, ICE and DTLS-SRTP). ``handover``: the offering side's
        address follows where its media comes from, even after the first packets (a relay
        another relay is chained to later, see :mod:`hotline.telephony.consult`)."""
        ...

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
        """Register the other side's SDP (a browser's with ``webrtc``); return the SDP to
        hand to the caller (plain RTP either way). ``keep_ports``: after a second offer,
        the caller's side keeps the relay ports it was answered with."""
        ...

    async def play(self, *, call: str, tag: str, path: str, repeat: int = 1) -> Playback:
        """Play an audio file to the party ``tag`` (prompts, music on hold)."""
        ...

    async def stop(self, *, call: str, tag: str) -> None:
        """Stop whatever plays to ``tag``."""
        ...

    async def block(self, *, call: str, tag: str) -> None:
        """Stop relaying what ``tag`` says (a held caller is not heard by the agent)."""
        ...

    async def unblock(self, *, call: str, tag: str) -> None:
        """Relay what ``tag`` says again."""
        ...

    async def start_recording(self, *, call: str) -> None:
        """Record both directions of the call."""
        ...

    async def stop_recording(self, *, call: str) -> None:
        """Stop recording the call."""
        ...

    async def delete(self, *, call: str) -> None:
        """Release the call's media resources."""
        ...

    async def subscribe(self, *, call: str, from_tags: list[str]) -> Subscription:
        """Fork what each party of ``from_tags`` sends to a new subscriber (listening in)."""
        ...

    async def subscribe_answer(self, *, call: str, to_tag: str, sdp: str) -> None:
        """The subscriber's answer: where it receives the forked media."""
        ...

    async def unsubscribe(self, *, call: str, to_tag: str) -> None:
        """Stop forking to the subscriber ``to_tag``."""
        ...

    async def ping(self) -> bool:
        """Whether the media server answers."""
        ...


class Signalling(Protocol):
    """The SIP side: legs are named by the driver (``leg`` ids are strings it chose)."""

    def answer(self, leg: str, sdp: str) -> None:
        """Answer an incoming leg (200 OK) with our SDP."""
        ...

    def reject(self, leg: str, code: int, reason: str) -> None:
        """Refuse an incoming leg with a final SIP error (e.g. 503 when media is down)."""
        ...

    def hang_up(self, leg: str) -> None:
        """End a leg: BYE when connected, CANCEL when still ringing."""
        ...

    def dial(self, leg: str, *, contact: str, caller: str, sdp: str) -> None:
        """Start an outgoing leg (INVITE) to a registered contact URI."""
        ...

    def update(self, leg: str, sdp: str) -> None:
        """Re-INVITE a connected leg with new SDP (move its media to another relay port).

        The phone's 200 OK comes back as :meth:`SignallingEvents.answered` on the same leg.
        """
        ...


class SignallingEvents(Protocol):
    """What the SIP side reports to the driver."""

    def incoming(self, leg: str, *, caller: str, called: str, sdp: str) -> None:
        """A new call arrived (INVITE)."""
        ...

    def ringing(self, leg: str, sdp: str = "") -> None:
        """An outgoing leg is ringing (180), or in progress (183); ``sdp``: the far end's
        early media (a 18x with SDP), else empty."""
        ...

    def answered(self, leg: str, sdp: str) -> None:
        """An outgoing leg was answered (200 OK) with the far end's SDP."""
        ...

    def failed(self, leg: str, code: int) -> None:
        """An outgoing leg failed (4xx–6xx, timeout)."""
        ...

    def hung_up(self, leg: str) -> None:
        """The far end hung up (BYE, CANCEL)."""
        ...

    def transfer_requested(self, leg: str, target: str) -> None:
        """A connected phone sent REFER to ``target`` (a blind transfer; it has left)."""
        ...

    def updated(self, leg: str, sdp: str) -> None:
        """A connected leg sent a re-INVITE with ``sdp`` (hold, resume); answer it with
        :meth:`Signalling.answer`."""
        ...

    def registration_changed(self, user: str, contact: str | None) -> None:
        """A phone registered (``contact``) or unregistered / expired (``None``)."""
        ...


@dataclass(frozen=True, slots=True)
class RingAgent:
    """Routing decision: ring ``agent_id``'s phone with ``contact_id`` for ``ring_timeout_s``."""

    contact_id: str
    agent_id: str
    ring_timeout_s: float


@dataclass(frozen=True, slots=True)
class StopRinging:
    """Routing decision: stop offering ``contact_id`` to ``agent_id``."""

    contact_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class AnnounceWait:
    """Routing decision: tell the waiting caller their position and estimated wait."""

    contact_id: str
    position: int
    estimated_wait_s: float | None


@dataclass(frozen=True, slots=True)
class QueueChanged:
    """Routing decision: the waiting caller now waits in ``queue`` (overflow)."""

    contact_id: str
    queue: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReleaseCaller:
    """Routing decision: the caller leaves the queue by one of its exits.

    ``exit`` is ``closed_message`` (play the closed message, hang up), ``voicemail`` (take a
    message, then hang up) or ``callback`` (tell the caller they will be called back and hang
    up: ``callback_id`` now waits in ``queue`` in their place) or ``forward`` (tell them they
    are being transferred and forward them to ``number`` through the trunk).
    """

    contact_id: str
    queue: str
    exit: str
    callback_id: str | None = None
    number: str | None = None


@dataclass(frozen=True, slots=True)
class DialCallback:
    """Routing decision: the callback ``contact_id`` is offered to ``agent_id``.

    Ring the agent's phone; when they answer, dial ``number`` through the trunk. ``number``
    is ``None`` when the ACD does not know it (the driver then uses the caller it released).
    """

    contact_id: str
    agent_id: str
    number: str | None
    ring_timeout_s: float


RoutingDecision = (
    RingAgent | StopRinging | AnnounceWait | QueueChanged | ReleaseCaller | DialCallback
)


@runtime_checkable
class AsksOwner(Protocol):
    """A router that decides nothing itself (a voice node's: the partition owner decides, in
    its log): a transfer an agent's phone asks for (REFER) is asked of it, and moves nothing
    until the owner answers."""

    def ask_transfer(
        self,
        *,
        at: float,
        contact_id: str,
        target: str,
        agent_id: str | None = None,
        queue: str | None = None,
    ) -> list[RoutingDecision]:
        """Ask for the transfer the phone asked for (REFER, to ``target``): to ``agent_id``
        or ``queue``."""
        ...


class CallRouter(Protocol):
    """The ACD as the telephony driver sees it (the routing engine behind an adapter)."""

    def contact_queued(
        self,
        *,
        at: float,
        contact_id: str,
        queue: str,
        priority: int,
        language: str | None,
        data: Mapping[str, str],
    ) -> list[RoutingDecision]:
        """A caller entered a queue."""
        ...

    def phone_registered(self, *, at: float, agent_id: str) -> list[RoutingDecision]:
        """The agent's first phone registered (the agent may be logged in or made ready)."""
        ...

    def phone_unregistered(self, *, at: float, agent_id: str) -> list[RoutingDecision]:
        """The agent's last phone went away (calls stop ringing there; the agent may be made
        not ready with reason ``phone_unregistered``)."""
        ...

    def waiting_for(self, agent_id: str) -> int:
        """Contacts waiting in a queue that the agent could take (inbound keeps priority)."""
        ...

    def may_lend(self, agent_id: str) -> bool:
        """Whether the ACD lends the agent to outbound now: idle, wanted by no waiting
        contact, and every queue they serve keeps its outbound reserve without them."""
        ...

    def reserve_refill(self, held: Sequence[str]) -> list[str]:
        """Which of the held agents (in this order) the ACD wants back to meet its queues'
        outbound reserves."""
        ...

    def choose_held(self, queue_id: str, free: Sequence[str]) -> str | None:
        """Which of the free agents a dialler holds (``free``, longest free first) takes an
        answered outbound call of a campaign working ``queue_id``, by that queue's skill and
        proficiency rules."""
        ...

    def hold_agent(self, *, at: float, agent_id: str, reason: str) -> list[RoutingDecision]:
        """Take an idle agent out of the ACD's pool, not ready with ``reason`` (the dialler)."""
        ...

    def release_agent(self, *, at: float, agent_id: str, phone: bool) -> list[RoutingDecision]:
        """Hand a held agent back: ready if ``phone`` (registered), else not ready as a lost
        phone makes them."""
        ...

    def offer_answered(self, *, at: float, contact_id: str, agent_id: str) -> list[RoutingDecision]:
        """The agent answered."""
        ...

    def offer_rejected(self, *, at: float, contact_id: str, agent_id: str) -> list[RoutingDecision]:
        """The agent's phone did not answer in time or refused."""
        ...

    def contact_abandoned(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The caller hung up while queued or ringing."""
        ...

    def contact_ended(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The conversation ended; the agent goes to wrap-up."""
        ...

    def transfer_to_queue(self, *, at: float, contact_id: str, queue: str) -> list[RoutingDecision]:
        """The agent hands the caller to ``queue``; raises :class:`TransferRefused`."""
        ...

    def transfer_to_agent(
        self, *, at: float, contact_id: str, agent_id: str
    ) -> list[RoutingDecision]:
        """The agent hands the caller to ``agent_id``; raises :class:`TransferRefused`."""
        ...

    def transfer_out(self, *, at: float, contact_id: str, number: str) -> list[RoutingDecision]:
        """The agent hands the caller to an outside ``number``; raises
        :class:`TransferRefused`."""
        ...

    def contact_held(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The agent put the caller on hold."""
        ...

    def contact_resumed(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The agent took the caller off hold."""
        ...

    def consult_started(
        self, *, at: float, contact_id: str, agent_id: str
    ) -> list[RoutingDecision]:
        """The agent consults ``agent_id`` (reserved for it); raises :class:`TransferRefused`."""
        ...

    def consult_ended(self, *, at: float, contact_id: str, transfer: bool) -> list[RoutingDecision]:
        """The consult ended: back to the caller, or (``transfer``) the consulted agent takes
        the caller and the first agent wraps up. Raises :class:`TransferRefused`."""
        ...

    def callback_requested(self, *, at: float, contact_id: str) -> list[RoutingDecision]:
        """The waiting caller pressed for a callback (keeps their place); raises
        :class:`TransferRefused` when the caller is no longer waiting."""
        ...

    def advance(self, *, at: float) -> list[RoutingDecision]:
        """Let time pass (wrap-up timers, ageing)."""
        ...


class EventSink(Protocol):
    """Where the driver appends contact events (a JSON-lines file, the store, a list)."""

    def append(self, event: Event) -> None:
        """Append one event."""
        ...


@dataclass(frozen=True, slots=True)
class AgentPhone:
    """An agent's SIP credentials: the phone registers as ``user`` with ``password``.

    A supervisor's phone (the one the voice server rings to listen, whisper or barge) names
    the supervisor's Hotline login in ``supervisor`` and has no agent id (``""``): it takes
    no queued calls.
    """

    agent_id: str
    user: str
    password: str
    extra: Mapping[str, str] = field(default_factory=dict)
    supervisor: str | None = None


class NumberScreen(Protocol):
    """The do-not-call lists as the dialling paths see them: asked before any call goes out.

    Click-to-dial, the ACD's callbacks and the campaign dialler all ask :meth:`listed` before
    they ring anyone; a listed number is never dialled, and :meth:`refused` keeps the refusal
    (the audit log). The real adapter reads the campaigns' tables
    (:class:`hotline.telephony.do_not_call.DatabaseScreen`).
    """

    async def listed(self, number: str) -> str | None:
        """The list that holds ``number`` (``center``, ``campaign:<id>``), or ``None``."""
        ...

    async def refused(
        self, *, number: str, list_name: str, agent_id: str, path: str, contact_id: str | None
    ) -> None:
        """Keep the refusal to dial ``number`` on ``path`` for ``agent_id`` (audited)."""
        ...


class CallerDirectory(Protocol):
    """Who is calling: the facts the caller rules route on.

    The real adapter (:class:`hotline.telephony.callers.DatabaseCallerDirectory`) reads the
    CRM and the tickets; tests pass a small class with fixed answers.
    """

    async def facts(self, number: str) -> CallerFacts:
        """VIP level and open tickets of the customer(s) behind ``number``."""
        ...

    def normalize(self, number: str) -> str | None:
        """The number in the one form the CRM stores (E.164), ``None`` if it is none."""
        ...
