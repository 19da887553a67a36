"""The live voice driver: turns SIP legs, DTMF and media into IVR and routing events.

One :class:`CallCenter` runs on an asyncio loop. For every incoming call it

1. asks the media server for a relay (caller side ``caller``, other side ``agent``) and
   answers the caller with the relay's SDP — while no agent is there, the other side is a
   placeholder, so the IVR's prompts and music reach the caller through the same relay;
2. runs the IVR interpreter (:mod:`hotline.ivr.interpreter`), carrying out its effects:
   prompts are played by the media server, keys come back from its DTMF detector;
3. tells the caller the call may be recorded, hands them to the ACD
   (:class:`~hotline.telephony.ports.CallRouter`) with the data the IVR gathered, plays
   music on hold with the position and estimated wait spoken when the ACD announces them,
   follows the ACD's overflow to another queue, and rings the agent's registered phone when
   the ACD says so (ring timeout → ring-no-answer, the ACD picks again);
   A waiting caller may press 1 to be called back without losing their place (when an
   outbound trunk is configured); the ACD's exits are carried out too: the closed message,
   voicemail (the caller's message is recorded and kept with the contact) and the callback
   (the caller is told and released; when the callback reaches the head of the queue the
   agent's phone rings first, then the customer is dialled through the trunk);
4. on answer re-points the relay at the agent's phone and records both directions; the
   agent's hold/resume re-INVITEs are answered in place (music on hold to the caller while
   held) and a REFER — or :meth:`CallCenter.transfer` — re-routes the caller through the
   ACD to another agent or queue (blind transfer);
5. when the agent hangs up, runs the post-call survey; every step lands in the contact
   event log.

When the media server does not answer, new calls get ``503 Service Unavailable`` and an
``alarm`` event; the alarm clears (another ``alarm`` event, ``state=recovered``) with the
first call that gets media again.

The driver is an adapter around a pure state machine: what a call *is* — its phase (IVR,
queued, ringing, talking, held, consulting, transferring, survey, released, ended), its
agent, queue and timestamps — lives in :mod:`hotline.telephony.call_state`, changed only by
``transition(state, event)``. The driver turns SIP, media, timer, IVR and ACD happenings into
that module's events (:meth:`CallCenter.step`) and carries out the effects it returns (log
entries, dials and hang-ups, media commands, requests to the ACD); the :class:`Call` record
keeps only the driver's handles on the world (legs, SDPs, tasks, timers).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config.caller_rules import (
    CallerFacts,
    CallerRules,
    NuisanceNumber,
    nuisance_entry,
    route_caller,
)
from hotline.config.flow import Flow
from hotline.config.trunks import OutboundRoute, Trunk, choose_trunk
from hotline.core.clock import Clock, WallClock
from hotline.core.events import Channel, Event, EventKind, Outcome
from hotline.ivr.interpreter import (
    AgentHungUp,
    CallerHungUp,
    CallStarted,
    DigitPressed,
    Effect,
    Enqueue,
    Hangup,
    Interpreter,
    IvrEvent,
    PlayPrompts,
    PromptEnded,
    StartTimer,
    Step,
    StopPrompts,
    SurveyAnswered,
    TimerFired,
)
from hotline.telephony.call_control import Call
from hotline.telephony.call_state import (
    CONNECTED,
    AgentAnswered,
    AgentLeft,
    Announce,
    AskRouter,
    Bridge,
    Bridged,
    CallEffect,
    CallerLeft,
    CallerRefused,
    CallEvent,
    EndConversation,
    EndMusic,
    ExitClosed,
    Finish,
    HangUpAgent,
    HangUpCaller,
    HoldRequested,
    IvrHungUp,
    IvrNotice,
    LeaveQueue,
    Log,
    MediaFailed,
    MediaReady,
    MuteCaller,
    Offered,
    OfferWithdrawn,
    Phase,
    QueueChosen,
    QueueExited,
    QueueJoined,
    QueueMoved,
    ResumeRequested,
    RingFailed,
    RingPhones,
    RouterRequest,
    StartMusic,
    StopRingingPhones,
    TellIvr,
    Transferred,
    WaitAnnounced,
    transition,
)
from hotline.telephony.call_state import start as start_call
from hotline.telephony.consult import Consults
from hotline.telephony.dialler import Dialler
from hotline.telephony.forwarding import Forwards
from hotline.telephony.media.g711 import Mode
from hotline.telephony.media.numbers import agent_number_announcement, announcement
from hotline.telephony.media.prompts import MUSIC_ON_HOLD, RECORDING_NOTICE, prompt_path
from hotline.telephony.media.sdp import (
    ANSWER_DIRECTION,
    audio_sections,
    direction,
    is_hold,
    placeholder_sdp,
    with_direction,
)
from hotline.telephony.outbound import Originator
from hotline.telephony.ports import (
    AgentPhone,
    AnnounceWait,
    AsksOwner,
    CallerDirectory,
    CallRouter,
    DialCallback,
    EventSink,
    MediaRejected,
    MediaServer,
    MediaUnavailable,
    NumberScreen,
    QueueChanged,
    ReleaseCaller,
    RingAgent,
    RoutingDecision,
    Signalling,
    StopRinging,
    TransferRefused,
)
from hotline.telephony.sip.stack import is_websocket_contact
from hotline.telephony.supervision import Session, SupervisionRefused, Supervisions

log = logging.getLogger(__name__)


_SIP_USER = re.compile(r"sips?:([^@;>:]+)@")


def _sip_user(target: str) -> str:
    """The user part of a SIP address (Refer-To, called number): ``<sip:1002@10.0.0.5>`` →
    ``1002``; a bare number stays as it is.

    >>> _sip_user("<sip:installation@127.0.0.1:5060;transport=udp>")
    'installation'
    """
    match = _SIP_USER.search(target)
    return match.group(1) if match else target.strip().strip("<>")


CALLER, AGENT = "caller", "agent"
# Events the ACD (the routing engine) writes itself; the driver writes them only for calls
# the ACD never saw (outbound calls, ``unrouted``).
ROUTING_KINDS = frozenset(
    {
        EventKind.QUEUED,
        EventKind.OFFERED,
        EventKind.ANSWERED,
        EventKind.RING_NO_ANSWER,
        EventKind.ABANDONED,
        EventKind.DISCONNECTED,
        EventKind.AGENT_STATE,
        EventKind.HELD,
        EventKind.RESUMED,
        EventKind.TRANSFERRED,
        EventKind.OVERFLOWED,
        EventKind.CALLBACK_REQUESTED,
        EventKind.CONSULT_STARTED,
        EventKind.CONSULT_ENDED,
    }
)
# What a caller released by a queue exit hears (how the call ends: call_state.EXIT_OUTCOMES).
EXIT_PROMPTS = {
    "closed_message": ("closed",),
    "voicemail": ("voicemail_greeting", "beep"),
    "callback": ("callback_confirmed",),
    "forward": ("transfer",),
}
MUSIC_REPEAT = 1000  # rtpengine repeats the music file this many times (hours of music)


@dataclass
class CallCenterSettings:
    """What the driver needs besides its ports."""

    flow: Flow
    prompts: Path
    recordings: Path
    # Other flows by called number (the center file's ``ivr.numbers``); ``flow`` answers the rest.
    flows_by_number: Mapping[str, Flow] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    phones: tuple[AgentPhone, ...] = ()
    emergency_prompt: str | None = None
    # (contact id, the relay's port on the caller's side: which direction is the caller's)
    recording_converter: Callable[[str, int | None], Mapping[str, Any] | None] | None = None
    # Where conversions run: None is the loop's thread pool; the server passes a process
    # pool, so decoding captures never competes with live calls for the interpreter lock.
    recording_executor: Executor | None = None
    # Prompt that tells the caller the call may be recorded, played before the caller joins
    # the queue — so before any agent can answer and the recording start; None: no notice.
    recording_notice: str | None = RECORDING_NOTICE
    # Outbound trunk as a SIP URI template, ``{number}`` replaced by the dialled number
    # (e.g. ``sip:{number}@127.0.0.1:5070``); None: no outbound calls.
    trunk: str | None = None
    # Offer waiting callers a callback (needs the trunk): the key they press for it.
    callback_key: str | None = "1"
    # The do-not-call lists asked before every outbound call (click-to-dial, callbacks).
    do_not_call: NumberScreen | None = None
    # The longest voicemail message taken before the line is closed.
    voicemail_max_s: float = 120.0
    # The center file's caller rules (VIP, complaints, sticky agent, nuisance numbers); they
    # need a CallerDirectory to look callers up. None: every caller is routed as the IVR says.
    caller_rules: CallerRules | None = None
    # The agents the center has: a ticket owned by anyone else makes no sticky preference.
    agents: frozenset[str] | None = None
    # Job numbers (工号) by agent, and the queues whose callers hear the number on connect.
    job_numbers: Mapping[str, str] = field(default_factory=dict)
    announce_agent_number: frozenset[str] = frozenset()
    # A forwarded number's next numbers, tried in order when it is busy, unreachable or does
    # not answer (the center file's ``if_busy``: :meth:`CenterConfig.forward_fallbacks`).
    forward_fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The center file's trunks and the sites of its agents and queues: a call out leaves by
    # its site's trunk, else the center's default, else ``trunk`` (the server's --trunk).
    trunks: tuple[Trunk, ...] = ()
    agent_sites: Mapping[str, str] = field(default_factory=dict)
    queue_sites: Mapping[str, str] = field(default_factory=dict)
    # One cycle of the ring tone (a WAV) played to a caller while a number dialled out for
    # them rings (:mod:`hotline.telephony.forwarding`); None: they hear nothing meanwhile.
    ringback: Path | None = None

    @property
    def dials_out(self) -> bool:
        """Whether any call out can be placed (a trunk in the center file or ``--trunk``)."""
        return self.trunk is not None or bool(self.trunks)

    def route_out(
        self, *, agent_id: str | None = None, queue: str | None = None
    ) -> OutboundRoute | None:
        """The trunk a call out of ``agent_id`` (else of ``queue``) leaves by: the site of the
        agent, else of the queue, chooses (:func:`~hotline.config.trunks.choose_trunk`)."""
        site = self.agent_sites.get(agent_id or "") or self.queue_sites.get(queue or "")
        return choose_trunk(self.trunks, site=site, fallback=self.trunk)


class CallCenter:
    """The asyncio voice driver; implements :class:`~hotline.telephony.ports.SignallingEvents`."""

    def __init__(
        self,
        *,
        settings: CallCenterSettings,
        media: MediaServer,
        router: CallRouter,
        sink: EventSink,
        clock: Clock | None = None,
        callers: CallerDirectory | None = None,
    ) -> None:
        self.settings = settings
        self.media = media
        self.router = router
        self.sink = sink
        self.callers = callers
        # contact id -> what the caller directory said about the caller (rules need it)
        self.caller_facts: dict[str, CallerFacts] = {}
        self.clock = clock or WallClock()
        self.signalling: Signalling | None = None
        self.interpreter = Interpreter(settings.flow)
        self._by_number = {n: Interpreter(f) for n, f in settings.flows_by_number.items()}
        # The emergency announcement switch: new calls hear this prompt while it is set.
        self.emergency_prompt = settings.emergency_prompt
        self.calls: dict[str, Call] = {}  # contact id -> call
        self._by_leg: dict[str, Call] = {}
        self._seq = itertools.count(1)
        self._legs = itertools.count(1)
        self._agent_by_user = {p.user: p.agent_id for p in settings.phones}
        # agent id -> {phone user -> registered contact URI}: an agent may have several phones
        self.phones: dict[str, dict[str, str]] = {}
        self.media_alarm = False
        # callback contact id -> the number to call back (callers released to a callback)
        self.callback_numbers: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._zone = ZoneInfo(settings.timezone)
        self.outbound = Originator(self)
        self.consults = Consults(self)
        # Supervisors listening in (their own phones, not agents': no ACD state).
        self.supervisions = Supervisions(self)
        self._supervisor_by_user = {
            p.user: p.supervisor for p in settings.phones if p.supervisor is not None
        }
        # supervisor's login -> their phone's registered contact URI
        self.supervisor_phones: dict[str, str] = {}
        # Callers forwarded out through the trunk (a partner center, the duty number).
        self.forwards = Forwards(self)
        self.forward_numbers: dict[str, str] = {}
        # The campaigns' dialler, when the server runs one (it owns its customers' legs).
        self.dialler: Dialler | None = None
        # The server's own engine gets our sink, so its events share one sequence with ours
        # (the web app's live driver writes the log of its engine itself).
        emit_to = getattr(router, "emit_to", None)
        if emit_to is not None:
            emit_to(self.append_routed)

    def append_routed(self, event: Event) -> None:
        """Append an event the router wrote, renumbered into this log's sequence."""
        self.sink.append(event.renumbered(next(self._seq)))

    # -- helpers

    def emit(
        self,
        kind: EventKind,
        *,
        contact_id: str | None = None,
        agent_id: str | None = None,
        queue: str | None = None,
        data: Mapping[str, Any] | None = None,
        unrouted: bool = False,
    ) -> Event:
        """Append one event to the contact event log (routing events only when ``unrouted``).

        ``unrouted``: the ACD never saw this contact (outbound calls), so routing events
        are ours to write even when the router keeps the log.
        """
        event = Event(
            seq=0,
            at=self.clock.now(),
            kind=kind,
            contact_id=contact_id,
            agent_id=agent_id,
            queue=queue,
            channel=Channel.VOICE if contact_id else None,
            data=dict(data or {}),
        )
        if unrouted or kind not in ROUTING_KINDS:
            event = event.renumbered(next(self._seq))
            self.sink.append(event)
        return event

    def spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        """Run ``coroutine`` as a task of this driver (:meth:`drain` waits for it)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("call task failed", exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for the background work in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @property
    def sip(self) -> Signalling:
        """The SIP side (raises when it is not attached yet)."""
        if self.signalling is None:
            raise RuntimeError("the SIP side is not attached")
        return self.signalling

    # -- the call state machine (:mod:`hotline.telephony.call_state`) and its effects

    def step(self, call: Call, event: CallEvent) -> None:
        """Feed ``event`` to the call's state machine and carry out what it says."""
        call.state, effects = transition(call.state, event)
        self._carry_out(call, effects)
        supervised = self.supervisions.by_contact.get(call.contact_id)
        if supervised is not None and (
            call.finished or call.agent_leg is None or call.agent_id != supervised.agent_id
        ):
            # As ChanSpy's: the session ends with the supervised agent's part of the call (the
            # agent hangs up, the caller goes to another agent, the call ends).
            self.supervisions.call_ended(call.contact_id)

    def _carry_out(self, call: Call, effects: Iterable[CallEffect]) -> None:
        for effect in effects:
            if isinstance(effect, Log):
                self.emit(
                    effect.kind,
                    contact_id=None if effect.agent_event else call.contact_id,
                    agent_id=effect.agent_id,
                    queue=effect.queue,
                    data=effect.data,
                )
            elif isinstance(effect, AskRouter):
                self._route(self._ask(call, effect))
            elif isinstance(effect, RingPhones):
                self._ring_phones(call, effect)
            elif isinstance(effect, StopRingingPhones):
                keep = call.answering if effect.keep_answered else None
                self._hang_up_ringing(call, keep=keep)
                if keep is not None:
                    call.agent_leg = keep
            elif isinstance(effect, Bridge):
                self.spawn(self._bridge(call))
            elif isinstance(effect, StartMusic):
                self.start_music(call)
            elif isinstance(effect, EndMusic):
                self.spawn(self._end_music(call))
            elif isinstance(effect, MuteCaller):
                self.spawn(self._mute_caller(call, muted=effect.muted))
            elif isinstance(effect, Announce):
                self.spawn(self._announce(call, effect))
            elif isinstance(effect, LeaveQueue):
                if effect.callback_id is not None:
                    self.callback_numbers[effect.callback_id] = call.caller
                self.spawn(self._leave_queue(call, effect))
            elif isinstance(effect, HangUpCaller):
                self._by_leg.pop(call.leg, None)
                self.sip.hang_up(call.leg)
            elif isinstance(effect, HangUpAgent):
                if call.agent_leg is not None:  # an API transfer: the agent's phone is still up
                    self._by_leg.pop(call.agent_leg, None)
                    self.sip.hang_up(call.agent_leg)
                    call.agent_leg = None
                call.local_sdp.pop(AGENT, None)
            elif isinstance(effect, EndConversation):
                self.spawn(self._end_conversation(call))
            elif isinstance(effect, TellIvr):
                now = self.clock.now()
                if effect.notice is IvrNotice.CALLER_HUNG_UP:
                    self._feed(call, CallerHungUp(at=now))
                else:
                    self._feed(call, AgentHungUp(at=now))
            else:
                self._finish(call, effect)

    def _ask(self, call: Call, request: AskRouter) -> list[RoutingDecision]:
        """Tell the ACD what the state machine says; its decisions come back."""
        now, contact_id = self.clock.now(), call.contact_id
        kind = request.request
        if kind is RouterRequest.QUEUED:
            assert request.queue is not None
            return self.router.contact_queued(
                at=now,
                contact_id=contact_id,
                queue=request.queue,
                priority=request.priority,
                language=request.language,
                data=request.data,
            )
        if kind is RouterRequest.ANSWERED:
            assert request.agent_id is not None
            return self.router.offer_answered(
                at=now, contact_id=contact_id, agent_id=request.agent_id
            )
        if kind is RouterRequest.REJECTED:
            assert request.agent_id is not None
            return self.router.offer_rejected(
                at=now, contact_id=contact_id, agent_id=request.agent_id
            )
        if kind is RouterRequest.ABANDONED:
            return self.router.contact_abandoned(at=now, contact_id=contact_id)
        if kind is RouterRequest.HELD:
            return self.router.contact_held(at=now, contact_id=contact_id)
        return self.router.contact_resumed(at=now, contact_id=contact_id)

    def _ring_phones(self, call: Call, effect: RingPhones) -> None:
        # Every registered phone of the agent rings, browser softphones and desk phones
        # alike (each with the offer of its kind); the first to answer takes the call.
        legs = [f"out-{next(self._legs)}" for _ in effect.phones]
        call.agent_leg, call.fork_legs = legs[0], legs[1:]
        call.rung_with.clear()
        call.browsers = {
            leg: phone
            for leg, phone in zip(legs, effect.phones, strict=True)
            if is_websocket_contact(phone)
        }
        for fork in legs:
            self._by_leg[fork] = call
        self.spawn(self._offer_then_dial(call, legs, effect.phones))

    async def _offer_then_dial(self, call: Call, legs: list[str], phones: tuple[str, ...]) -> None:
        """Get the relay's offer for each kind of phone that rings, then ring them all. The
        kind the relay was last offered for goes first, so one kind needs no second offer."""
        kinds = sorted({leg in call.browsers for leg in legs}, key=lambda w: w != call.webrtc)
        offers: dict[bool, str] = {}
        for webrtc in kinds:
            sdp = await self.offer_for(call, webrtc=webrtc)
            if sdp is None:
                return  # the ring times out and the engine offers the caller to someone else
            offers[webrtc] = sdp
        if call.finished or call.agent_leg != legs[0]:
            return  # the caller hung up, or the engine moved on, while the relay answered
        for leg, contact in zip(legs, phones, strict=True):
            call.rung_with[leg] = offers[leg in call.browsers]
            self.sip.dial(leg, contact=contact, caller=call.caller, sdp=call.rung_with[leg])

    async def offer_for(self, call: Call, *, webrtc: bool) -> str | None:
        """The caller relay's offer for a phone of one kind: a browser softphone's
        (``webrtc``: ICE, DTLS-SRTP) or a desk phone's or the trunk's (plain RTP).

        Every INVITE that puts a phone on the caller's relay — an agent's phones ringing, a
        blind or warm transfer's new agent, a number forwarded through the trunk — takes its
        SDP from here. rtpengine keeps one offer per side, so when the kind changes the
        caller's SDP is offered again (the caller keeps its ports: the answer that follows
        carries ``keep_ports``, see ``offered_again``). ``None`` when the relay refused (an
        alarm says why).
        """
        if webrtc == call.webrtc and call.agent_sdp:
            return call.agent_sdp
        try:
            sdp = await self.media.offer(
                call=call.contact_id, from_tag=CALLER, sdp=call.caller_sdp, webrtc=webrtc
            )
        except (MediaRejected, MediaUnavailable) as exc:
            self.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "offer_failed", "error": str(exc)},
            )
            return None
        call.agent_sdp, call.webrtc, call.offered_again = sdp, webrtc, True
        return sdp

    # -- SignallingEvents

    def incoming(self, leg: str, *, caller: str, called: str, sdp: str) -> None:
        """A caller arrived: get media, answer, start the IVR."""
        contact_id = f"v-{secrets.token_hex(6)}"
        state, effects = start_call(
            contact_id=contact_id,
            caller=caller,
            called=called,
            at=self.clock.now(),
        )
        call = Call(leg, state)
        self.calls[contact_id] = call
        self._by_leg[leg] = call
        self._carry_out(call, effects)
        self.spawn(self._setup(call, sdp))

    def _nuisance(self, call: Call) -> NuisanceNumber | None:
        """The nuisance entry the caller's number matches (caller rules), if any."""
        rules = self.settings.caller_rules
        if rules is None or not rules.nuisance:
            return None
        normalize = self.callers.normalize if self.callers is not None else None
        if normalize is None:
            return nuisance_entry(rules, call.caller)
        return nuisance_entry(rules, call.caller, normalize)

    async def _look_up_caller(self, call: Call) -> None:
        """Ask the caller directory about the caller, for the VIP/complaint/sticky rules.

        A directory that fails (database down) is no reason to drop the caller: they are
        routed as the IVR says, and an alarm says why they were not recognised.
        """
        rules = self.settings.caller_rules
        if self.callers is None or rules is None:
            return
        if not (rules.vip or rules.complaints or rules.sticky):
            return
        try:
            self.caller_facts[call.contact_id] = await self.callers.facts(call.caller)
        except Exception as exc:  # any failure of the look-up: route the caller unrecognised
            self.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "caller_directory", "state": "failed", "error": str(exc)},
            )

    async def _setup(self, call: Call, sdp: str) -> None:
        nuisance = self._nuisance(call)
        if nuisance is not None and nuisance.action == "block":
            # Refused before any media or IVR: the nuisance caller costs one SIP answer.
            self.sip.reject(call.leg, 403, "Forbidden")
            self.step(call, CallerRefused(at=self.clock.now(), reason="nuisance_block"))
            return
        if nuisance is None:
            await self._look_up_caller(call)
        try:
            agent_side = await self.media.offer(call=call.contact_id, from_tag=CALLER, sdp=sdp)
            caller_side = await self.media.answer(
                call=call.contact_id, from_tag=CALLER, to_tag=AGENT, sdp=placeholder_sdp()
            )
        except MediaRejected as exc:
            # The relay is healthy but cannot use this offer (no common codec, bad SDP).
            self.sip.reject(call.leg, 488, "Not Acceptable Here")
            self.step(call, MediaFailed(at=self.clock.now(), reason=f"media_rejected: {exc}"))
            return
        except MediaUnavailable as exc:
            self.sip.reject(call.leg, 503, "Service Unavailable")
            if not self.media_alarm:
                self.media_alarm = True
                self.emit(
                    EventKind.ALARM,
                    data={"component": "media", "state": "raised", "error": str(exc)},
                )
            self.step(call, MediaFailed(at=self.clock.now(), reason="media_unavailable"))
            return
        if self.media_alarm:
            self.media_alarm = False
            self.emit(EventKind.ALARM, data={"component": "media", "state": "recovered"})
        if call.finished:  # the caller gave up while the relay was set up: release it again
            with contextlib.suppress(MediaUnavailable):
                await self.media.delete(call=call.contact_id)
            return
        self.step(call, MediaReady(at=self.clock.now()))
        call.agent_sdp = agent_side
        call.caller_sdp = sdp
        call.local_sdp[CALLER] = caller_side
        self.sip.answer(call.leg, caller_side)
        if nuisance is not None:  # the rule says: a recording, then goodbye
            call.playing = self.spawn(self._refuse_with_recording(call, nuisance.prompt))
            return
        local = datetime.fromtimestamp(call.arrived_at, self._zone).replace(tzinfo=None)
        call.interpreter = self._by_number.get(_sip_user(call.called), self.interpreter)
        state, effects = call.interpreter.start(
            CallStarted(
                at=call.arrived_at,
                local_time=local,
                emergency_prompt=self.emergency_prompt,
                caller=call.caller,
            )
        )
        call.ivr = state
        self._apply(call, effects)

    async def _refuse_with_recording(self, call: Call, prompt: str) -> None:
        self.emit(
            EventKind.IVR_STEP,
            contact_id=call.contact_id,
            data={"action": "nuisance_recording", "prompt": prompt},
        )
        await self._say(call, (prompt,), go_on=lambda: not call.finished)
        if not call.finished:
            self.step(call, CallerRefused(at=self.clock.now(), reason="nuisance_recording"))

    async def originate(self, *, agent_id: str, number: str, reason: str = "click_to_dial") -> str:
        """Click-to-dial: ring the agent's phone, then the customer via the trunk.

        Example: ``contact = await center.originate(agent_id="a001", number="13800000000")``;
        see :mod:`hotline.telephony.outbound`. Raises
        :class:`~hotline.telephony.outbound.OriginationRefused`.
        """
        return await self.outbound.originate(agent_id=agent_id, number=number, reason=reason)

    def ringing(self, leg: str, sdp: str = "") -> None:
        """The agent's phone rings (nothing to do: the engine times the ring); a number
        dialled out for a caller rings or sends early media (the caller hears either)."""
        if self.outbound.owns(leg) or self._dialler_owns(leg):
            return
        if self.forwards.owns(leg):
            self.forwards.ringing(leg, sdp)
            return
        call = self._by_leg.get(leg)
        if call is not None:
            log.debug("agent leg %s ringing for %s", leg, call.contact_id)

    def answered(self, leg: str, sdp: str) -> None:
        """The agent picked up: bridge, record, log."""
        if self.outbound.owns(leg):
            self.outbound.answered(leg, sdp)
            return
        if self.dialler is not None and self.dialler.owns(leg):
            self.dialler.answered(leg, sdp)
            return
        if self.consults.owns(leg):
            self.consults.answered(leg, sdp)
            return
        if self.supervisions.owns(leg):
            self.supervisions.answered(leg, sdp)
            return
        if self.forwards.owns(leg):
            self.forwards.answered(leg, sdp)
            return
        call = self._by_leg.get(leg)
        if call is None or call.finished or (leg != call.agent_leg and leg not in call.fork_legs):
            return
        call.answering = leg  # the agent's other phones stop ringing
        call.local_sdp[AGENT] = call.rung_with.get(leg, call.agent_sdp)  # what it accepted
        call.agent_remote_sdp = sdp
        self.step(call, AgentAnswered(at=self.clock.now()))

    async def _bridge(self, call: Call) -> None:
        started_recording = False
        self.stop_playing(call)
        if call.music is not None:
            await call.music  # the music must have started before we stop it
        try:
            await self.media.stop(call=call.contact_id, tag=CALLER)
            await self._take_phone(call)
            if not call.recording:  # after a transfer the recording simply goes on
                await self.media.start_recording(call=call.contact_id)
                call.recording = started_recording = True
        except MediaUnavailable as exc:
            self.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "bridge_failed", "error": str(exc)},
            )
        self.step(call, Bridged(at=self.clock.now(), recording_started=started_recording))
        self._announce_agent_number(call)

    async def _take_phone(self, call: Call) -> None:
        """Point the relay's agent side at the phone that answered. When the agent's phones
        of both kinds rang, the relay's last offer may be the other kind's: it is offered
        again for this phone's kind, and the phone re-INVITEd if what it accepted changed."""
        leg, webrtc = call.agent_leg, call.on_browser
        accepted = call.local_sdp.get(AGENT, "")
        if webrtc != call.webrtc:
            await self.offer_for(call, webrtc=webrtc)
        await self.media.answer(
            call=call.contact_id,
            from_tag=CALLER,
            to_tag=AGENT,
            sdp=call.agent_remote_sdp,
            webrtc=webrtc,
            keep_ports=call.offered_again,
        )
        if leg is not None and audio_sections(call.agent_sdp) != audio_sections(accepted):
            call.local_sdp[AGENT] = call.rung_with[leg] = call.agent_sdp
            self.sip.update(leg, call.agent_sdp)  # its 200 OK changes nothing: talking

    def _announce_agent_number(self, call: Call) -> None:
        """ "N 号话务员为您服务": the queue says so, and the agent has a job number."""
        if call.finished or call.queue not in self.settings.announce_agent_number:
            return
        number = self.settings.job_numbers.get(call.agent_id or "")
        if number is None:
            return
        self.emit(
            EventKind.IVR_STEP,
            contact_id=call.contact_id,
            agent_id=call.agent_id,
            queue=call.queue,
            data={"action": "agent_number", "job_number": number},
        )
        prompts = agent_number_announcement(number, call.language)
        self.spawn(self._say(call, prompts, go_on=lambda: not call.finished))

    def failed(self, leg: str, code: int) -> None:
        """An agent leg failed (busy, declined, unreachable): ring-no-answer handling."""
        if self.outbound.owns(leg):
            self.outbound.failed(leg, code)
            return
        if self.dialler is not None and self.dialler.owns(leg):
            self.dialler.failed(leg, code)
            return
        if self.consults.is_consult_leg(leg):
            self.consults.failed(leg, code)
            return
        if self.supervisions.owns(leg):
            self.supervisions.failed(leg, code)
            return
        if self.forwards.owns(leg):
            self.forwards.failed(leg, code)
            return
        call = self._by_leg.pop(leg, None)
        if call is None or self._fork_gone(call, leg) or leg != call.agent_leg:
            return
        self.step(call, RingFailed(at=self.clock.now(), reason=f"sip_{code}"))

    def _dialler_owns(self, leg: str) -> bool:
        """Whether ``leg`` is one of the campaigns' dialler's customer or agent legs."""
        return self.dialler is not None and self.dialler.owns(leg)

    def _fork_gone(self, call: Call, leg: str) -> bool:
        """One of several ringing phones gave up; ``True`` while another still rings."""
        if leg in call.fork_legs:
            call.fork_legs.remove(leg)
            return True
        if leg == call.agent_leg and call.fork_legs and call.answered_at is None:
            call.agent_leg = call.fork_legs.pop(0)
            return True
        return False

    def _hang_up_ringing(self, call: Call, *, keep: str | None = None) -> None:
        """Stop the agent's ringing phones (all, or all but ``keep``)."""
        for leg in [call.agent_leg, *call.fork_legs]:
            if leg is not None and leg != keep and self._by_leg.pop(leg, None) is not None:
                self.sip.hang_up(leg)
        call.fork_legs = []
        if call.agent_leg != keep:
            call.agent_leg = None

    def hung_up(self, leg: str) -> None:
        """Someone hung up: the caller (abandon, IVR hang-up, end of talk) or the agent."""
        if self.outbound.owns(leg):
            self.outbound.hung_up(leg)
            return
        if self.dialler is not None and self.dialler.owns(leg):
            self.dialler.hung_up(leg)
            return
        if self.consults.is_consult_leg(leg):
            self.consults.hung_up(leg)
            return
        if self.supervisions.is_supervisor_leg(leg):
            self.supervisions.hung_up(leg)
            return
        if self.forwards.owns(leg):
            self.forwards.hung_up(leg)
            return
        call = self._by_leg.pop(leg, None)
        if call is None or call.finished:
            return
        self.consults.abandon(call)  # a consult in progress ends with the call
        now = self.clock.now()
        if call.answered_at is None and self._fork_gone(call, leg):
            return  # one of the agent's phones gave up; another still rings
        if leg == call.agent_leg:
            call.agent_leg = None
            self.step(call, AgentLeft(at=now))  # ringing: ring-no-answer; talking: survey
            return
        self.stop_playing(call)
        self.forwards.caller_left(call)
        self.step(call, CallerLeft(at=now))

    async def _end_conversation(self, call: Call) -> None:
        if call.recording:
            call.recording = False
            with contextlib.suppress(MediaUnavailable):
                await self.media.stop_recording(call=call.contact_id)
        self._route(self.router.contact_ended(at=self.clock.now(), contact_id=call.contact_id))

    def updated(self, leg: str, sdp: str) -> None:
        """A re-INVITE on a connected leg: hold or resume (RFC 3264 §8.4), answered at once.

        The relay's addresses do not change, so the answer is the SDP this side already has,
        with the mirrored direction. The agent putting the caller on hold starts music on
        hold to the caller and tells the ACD (which logs ``held``/``resumed`` and counts the
        hold time); resuming stops the music so the two hear each other again.
        """
        call = self._by_leg.get(leg)
        side = AGENT if call is not None and leg == call.agent_leg else CALLER
        if call is None or call.finished or side not in call.local_sdp:
            self.sip.reject(leg, 491, "Request Pending")
            return
        answer = with_direction(call.local_sdp[side], ANSWER_DIRECTION[direction(sdp)])
        call.local_sdp[side] = answer
        self.sip.answer(leg, answer)
        if side != AGENT or call.answered_at is None:
            return  # a caller's own hold changes nothing for the ACD
        now = self.clock.now()
        self.step(
            call, HoldRequested(at=now, by="agent") if is_hold(sdp) else ResumeRequested(at=now)
        )

    async def _mute_caller(self, call: Call, *, muted: bool) -> None:
        """While on hold the caller hears music and the agent no longer hears the caller."""
        try:
            if muted:
                await self.media.block(call=call.contact_id, tag=CALLER)
            else:
                await self.media.unblock(call=call.contact_id, tag=CALLER)
        except MediaUnavailable as exc:
            self.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "hold_mute_failed", "error": str(exc)},
            )

    # -- call controls from the agent's desktop (the web API)

    def handles(self, contact_id: str) -> bool:
        """Whether ``contact_id`` is a phone call of this driver (inbound, or a callback)."""
        return contact_id in self.calls or self.outbound.routed(contact_id)

    def connected(self, contact_id: str) -> Call:
        """The connected call ``contact_id``; raises :class:`TransferRefused` when it is not."""
        call = self.calls.get(contact_id)
        if call is None or call.state.phase not in CONNECTED or call.agent_leg is None:
            raise TransferRefused(f"{contact_id} is not a connected call")
        return call

    def hold(self, contact_id: str) -> None:
        """Put the caller on hold from the desktop: music on hold, the hold time counted.

        The agent's phone stays connected to the relay; the caller hears the music instead
        of the agent, and the agent no longer hears the caller. Raises
        :class:`TransferRefused` when the call is not connected.
        """
        call = self.connected(contact_id)
        self.step(call, HoldRequested(at=self.clock.now(), by="desktop"))

    def resume(self, contact_id: str) -> None:
        """Take the caller off hold from the desktop."""
        call = self.connected(contact_id)
        self.step(call, ResumeRequested(at=self.clock.now()))

    def hang_up_agent(self, contact_id: str) -> None:
        """End the conversation from the desktop: the agent's phone is hung up, the caller
        gets the survey, the agent wraps up."""
        call = self.connected(contact_id)
        leg = call.agent_leg
        assert leg is not None
        self.sip.hang_up(leg)
        self.hung_up(leg)

    def consult(self, contact_id: str, agent_id: str) -> None:
        """Consult ``agent_id`` while the caller waits (:mod:`hotline.telephony.consult`); a
        supervisor whispering or barging in on the call leaves it first."""
        self.supervisions.yield_agent_leg(contact_id)
        self.consults.start(contact_id, agent_id)

    def end_consult(self, contact_id: str, *, transfer: bool) -> None:
        """End the consult: warm-transfer the caller (``transfer``) or go back to them."""
        self.consults.finish(contact_id, transfer=transfer)

    def supervise(self, contact_id: str, *, supervisor: str, mode: Mode) -> Session:
        """Ring ``supervisor``'s own phone to listen, whisper or barge in on the connected
        call ``contact_id`` (:mod:`hotline.telephony.supervision`); raises
        :class:`~hotline.telephony.supervision.SupervisionRefused` when their phone is not
        registered, the call is not connected or is supervised already."""
        phone = self.supervisor_phones.get(supervisor)
        if phone is None:
            raise SupervisionRefused(f"{supervisor} has no registered phone")
        return self.supervisions.start(contact_id, supervisor=supervisor, phone=phone, mode=mode)

    def decline(self, contact_id: str, agent_id: str) -> None:
        """The agent declines the call ringing on their phone (from the desktop)."""
        call = self.calls.get(contact_id)
        if call is None or call.ringing_agent != agent_id or call.agent_leg is None:
            raise TransferRefused(f"{contact_id} is not ringing at agent {agent_id}")
        self.step(call, RingFailed(at=self.clock.now(), reason="declined"))

    def has_prompt(self, prompt: str) -> bool:
        """Whether audio for ``prompt`` exists (in any language's folder)."""
        return prompt_path(self.settings.prompts, "common", prompt).exists()

    def set_ivr(
        self, flow: Flow, *, by_number: Mapping[str, Flow], emergency_prompt: str | None
    ) -> None:
        """Answer new calls with these flows and emergency switch (calls in progress keep
        the flow they started with)."""
        interpreters = {n: Interpreter(f) for n, f in by_number.items()}  # checks them first
        self.interpreter = Interpreter(flow)
        self._by_number = interpreters
        self.emergency_prompt = emergency_prompt

    def route(self, decisions: Iterable[RoutingDecision]) -> None:
        """Carry out routing decisions the ACD made on its own (desk actions, timers)."""
        self._route(decisions)

    def transfer_requested(self, leg: str, target: str) -> None:
        """The agent's phone sent REFER (blind transfer); it has already left the call.

        The Refer-To user names the target: another agent's phone user or agent id rings
        that agent; anything else is taken as a queue id. The caller hears music on hold
        meanwhile. When the ACD refuses the target, the conversation ends as if the agent
        had hung up (the caller gets the survey).
        """
        call = self._by_leg.pop(leg, None)
        if call is None or call.finished or leg != call.agent_leg or call.answered_at is None:
            return
        call.agent_leg = None
        user = _sip_user(target)
        agent_ids = set(self._agent_by_user.values())
        to_agent = self._agent_by_user.get(user) or (user if user in agent_ids else None)
        if isinstance(self.router, AsksOwner):
            self._ask_transfer(self.router, call, to_agent, user)
            return
        try:
            self.transfer(call.contact_id, agent_id=to_agent, queue=None if to_agent else user)
        except TransferRefused as exc:
            log.info("transfer of %s to %s refused: %s", call.contact_id, target, exc)
            self.step(call, AgentLeft(at=self.clock.now(), refused_transfer=user))

    def _ask_transfer(self, router: AsksOwner, call: Call, to_agent: str | None, user: str) -> None:
        """A REFER on a voice node, whose router decides later (the partition owner): ask for
        the transfer and move nothing yet; the caller stays where they are until the owner
        answers in its log. Its ``transferred`` moves the call
        (:func:`hotline.telephony.owner_routing.carry_out` runs :meth:`transfer`); its
        refusal is a ``disconnected`` saying ``transfer_refused``
        (:meth:`transfer_refused_by_owner`). The node never takes silence for an answer, so
        it cannot give up on a transfer the owner applies later."""
        router.ask_transfer(
            at=self.clock.now(),
            contact_id=call.contact_id,
            target=user,
            agent_id=to_agent,
            queue=None if to_agent else user,
        )

    def transfer_refused_by_owner(self, contact_id: str, target: str) -> bool:
        """The partition owner refused the transfer this call's agent asked for by REFER (its
        ``disconnected`` says ``transfer_refused``): the conversation ends as a refused REFER
        does here (the phone has left: the caller gets the survey). Returns False when the
        call is not waiting for that answer (ended meanwhile, or its agent is back on it)."""
        call = self.calls.get(contact_id)
        if (
            call is None
            or call.finished
            or call.state.phase not in CONNECTED
            or call.agent_leg is not None
        ):
            return False
        log.info("transfer of %s to %s refused by the owner", contact_id, target)
        self.step(call, AgentLeft(at=self.clock.now(), refused_transfer=target))
        return True

    def transfer(
        self, contact_id: str, *, queue: str | None = None, agent_id: str | None = None
    ) -> None:
        """Blind-transfer a connected call to ``queue`` or ``agent_id`` (B2BUA re-route).

        The current agent's leg, if still up, is hung up; the ACD (the routing engine's
        ``TransferredToQueue``/``TransferredToAgent``) logs the transfer, wraps the agent up
        and picks who rings next. Raises :class:`TransferRefused` when it cannot.
        """
        call = self.calls.get(contact_id)
        if call is None or call.state.phase not in CONNECTED:
            raise TransferRefused(f"{contact_id} is not a connected call")
        if (queue is None) == (agent_id is None):
            raise ValueError("transfer to exactly one of queue or agent_id")
        now = self.clock.now()
        if agent_id is not None:
            decisions = self.router.transfer_to_agent(
                at=now, contact_id=contact_id, agent_id=agent_id
            )
        else:
            assert queue is not None
            decisions = self.router.transfer_to_queue(at=now, contact_id=contact_id, queue=queue)
        self.step(call, Transferred(at=now, queue=queue, agent_id=agent_id))
        self._route(decisions)

    def transfer_out(self, contact_id: str, number: str) -> None:
        """Blind-transfer a connected call to an outside ``number`` through the trunk of the
        queue's site (:mod:`hotline.telephony.forwarding`, with the number's ``if_busy``
        numbers after it, as a forwarded caller's).

        The ACD logs ``transferred`` (``to: number``) and wraps the agent up; the agent's leg
        is hung up and the caller's relay is offered plain to the far end. Raises
        :class:`TransferRefused` when the call is not connected, a consult is open (end it
        first: its line would be left up) or there is no trunk to dial by.
        """
        call = self.may_transfer_out(contact_id)
        now = self.clock.now()
        decisions = self.router.transfer_out(at=now, contact_id=contact_id, number=number)
        self.step(call, Transferred(at=now, number=number))
        self._route(decisions)
        self.forwards.start(call, number)  # the trunk is there: checked above

    def may_transfer_out(self, contact_id: str) -> Call:
        """The call, when :meth:`transfer_out` can hand it to an outside number; raises
        :class:`TransferRefused` naming why not (not connected, a consult open, no trunk)."""
        call = self.calls.get(contact_id)
        if call is None or call.state.phase not in CONNECTED:
            raise TransferRefused(f"{contact_id} is not a connected call")
        if call.state.phase is Phase.CONSULTING:
            raise TransferRefused(f"{contact_id} has a consult open: end it first")
        if self.settings.route_out(queue=call.queue) is None:
            raise TransferRefused("no trunk to dial an outside number by")
        return call

    async def _end_music(self, call: Call) -> None:
        if call.music is not None:
            await call.music  # the music must have started before we stop it
        with contextlib.suppress(MediaUnavailable):
            await self.media.stop(call=call.contact_id, tag=CALLER)

    @property
    def phone_of(self) -> dict[str, str]:
        """One registered phone per agent (the first): where consults and calls out ring."""
        return {agent: next(iter(p.values())) for agent, p in self.phones.items() if p}

    def registration_changed(self, user: str, contact: str | None) -> None:
        """An agent's first phone registered or the last one went away: the ACD applies the
        phone-registration policy (:func:`hotline.telephony.acd.on_phone_registered`); with
        several phones, the others keep the agent reachable."""
        supervisor = self._supervisor_by_user.get(user)
        if supervisor is not None:
            if contact is None:
                self.supervisor_phones.pop(supervisor, None)
            else:
                self.supervisor_phones[supervisor] = contact
            return
        agent_id = self._agent_by_user.get(user)
        if agent_id is None:
            return
        now = self.clock.now()
        phones = self.phones.setdefault(agent_id, {})
        had_phone = bool(phones)
        if contact is not None:
            phones[user] = contact
            if had_phone:
                return  # already reachable: one more phone to ring
            # the ACD logs the agent's state change
            self._route(self.router.phone_registered(at=now, agent_id=agent_id))
        else:
            phones.pop(user, None)
            if phones or not had_phone:
                return  # another phone still rings for the agent
            self._route(self.router.phone_unregistered(at=now, agent_id=agent_id))

    def dtmf(self, call_id: str, tag: str, key: str) -> None:
        """A key from the media server's DTMF detector (only the caller's keys matter)."""
        call = self.calls.get(call_id)
        if call is None or tag != CALLER:
            return
        if key == self.settings.callback_key and self._may_call_back(call):
            self._request_callback(call)
            return
        if call.ivr is None:
            return
        self._feed(call, DigitPressed(at=self.clock.now(), digit=key))

    def _waiting(self, call: Call) -> bool:
        """Whether the caller waits in a queue (no agent ringing or talking, no exit taken)."""
        return call.state.waiting

    def _may_call_back(self, call: Call) -> bool:
        return self.settings.dials_out and self._waiting(call)

    def _request_callback(self, call: Call) -> None:
        """The caller pressed for a callback: the ACD keeps their place, the caller is told."""
        try:
            decisions = self.router.callback_requested(
                at=self.clock.now(), contact_id=call.contact_id
            )
        except TransferRefused as refused:
            log.info("callback refused for %s: %s", call.contact_id, refused)
            return
        self._route(decisions)

    def tick(self) -> None:
        """Let the ACD's timers run (wrap-up ends); call about once a second."""
        self._route(self.router.advance(at=self.clock.now()))

    # -- IVR

    def _feed(self, call: Call, event: IvrEvent) -> None:
        if call.ivr is None:
            return
        call.ivr, effects = (call.interpreter or self.interpreter).transition(call.ivr, event)
        self._apply(call, effects)

    def _apply(self, call: Call, effects: Iterable[Effect]) -> None:
        loop = asyncio.get_running_loop()
        for effect in effects:
            if isinstance(effect, Step):
                self.emit(
                    EventKind.IVR_STEP,
                    contact_id=call.contact_id,
                    data={"node": effect.node, "action": effect.action, **effect.detail},
                )
            elif isinstance(effect, PlayPrompts):
                self.stop_playing(call)
                paths = [
                    str(prompt_path(self.settings.prompts, effect.language, p))
                    for p in effect.prompts
                ]
                call.playing = self.spawn(self._play(call, paths, effect.token))
            elif isinstance(effect, StopPrompts):
                self.stop_playing(call)
                self.spawn(self.media.stop(call=call.contact_id, tag=CALLER))
            elif isinstance(effect, StartTimer):
                handle = loop.call_later(
                    effect.seconds,
                    self._feed_later,
                    call,
                    TimerFired(at=0.0, token=effect.token),
                )
                call.timers.append(handle)
            elif isinstance(effect, Enqueue):
                self._enqueue(call, effect)
            elif isinstance(effect, SurveyAnswered):
                self.emit(
                    EventKind.SURVEY_ANSWERED,
                    contact_id=call.contact_id,
                    agent_id=call.agent_id,
                    queue=call.queue,
                    data={"score": effect.score, "scale_max": effect.scale_max, "survey": "csat"},
                )
            elif isinstance(effect, Hangup):
                self.stop_playing(call)
                self.step(call, IvrHungUp(at=self.clock.now(), outcome=effect.outcome))

    def _feed_later(self, call: Call, event: TimerFired) -> None:
        if not call.finished:
            self._feed(call, TimerFired(at=self.clock.now(), token=event.token))

    async def _play(self, call: Call, paths: list[str], token: int) -> None:
        for path in paths:
            playback = await self.media.play(call=call.contact_id, tag=CALLER, path=path)
            await asyncio.sleep((playback.duration_ms or 1000) / 1000)
        if not call.finished:
            call.playing = None
            self._feed(call, PromptEnded(at=self.clock.now(), token=token))

    def stop_playing(self, call: Call) -> None:
        """Cancel the prompts being played to the caller (not the music on hold)."""
        if call.playing is not None and not call.playing.done():
            call.playing.cancel()
        call.playing = None

    # -- queue and agents

    def _recognised(self, call: Call, effect: Enqueue) -> Enqueue:
        """The IVR's queue request after the caller rules: queue, priority, sticky agent.

        What applied is logged (an ``ivr_step`` of action ``caller_recognised``), and a
        preferred agent travels to the ACD as ``preferred_agent``/``preferred_for_s``.
        """
        rules = self.settings.caller_rules
        facts = self.caller_facts.get(call.contact_id)
        if rules is None or facts is None:
            return effect
        routed = route_caller(
            rules,
            facts,
            queue=effect.queue,
            priority=effect.priority,
            normalize=self.callers.normalize if self.callers is not None else lambda n: n,
            agents=self.settings.agents,
        )
        if not routed.reasons:
            return effect
        data = dict(effect.data)
        if routed.preferred_agent is not None:
            data["preferred_agent"] = routed.preferred_agent
            data["preferred_for_s"] = f"{routed.preferred_for_s:g}"
        self.emit(
            EventKind.IVR_STEP,
            contact_id=call.contact_id,
            queue=routed.queue,
            data={
                "action": "caller_recognised",
                "rules": " ".join(routed.reasons),
                "from_queue": effect.queue,
                "priority": routed.priority,
                **{k: data[k] for k in ("preferred_agent", "preferred_for_s") if k in data},
            },
        )
        return replace(effect, queue=routed.queue, priority=routed.priority, data=data)

    def _enqueue(self, call: Call, effect: Enqueue) -> None:
        effect = self._recognised(call, effect)
        self.step(
            call, QueueChosen(at=self.clock.now(), queue=effect.queue, language=effect.language)
        )
        if self.settings.recording_notice is None:
            self._join_queue(call, effect)
        else:
            call.music = self.spawn(self._notice_then_queue(call, effect))

    async def _notice_then_queue(self, call: Call, effect: Enqueue) -> None:
        # The notice comes before the queue, not at the bridge: no agent is offered the
        # call until the caller has heard it, so it always precedes the recording.
        notice = self.settings.recording_notice
        assert notice is not None
        prompt = prompt_path(self.settings.prompts, call.language, notice)
        try:
            playback = await self.media.play(call=call.contact_id, tag=CALLER, path=str(prompt))
        except (MediaUnavailable, MediaRejected) as exc:
            # No notice is no reason to drop the caller; the log says it was not played.
            self.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "notice_failed", "error": str(exc)},
            )
        else:
            self.emit(
                EventKind.IVR_STEP,
                contact_id=call.contact_id,
                data={"action": "recording_notice", "prompt": notice},
            )
            await asyncio.sleep((playback.duration_ms or 3000) / 1000)
        if not call.finished:
            self._join_queue(call, effect)

    def _join_queue(self, call: Call, effect: Enqueue) -> None:
        self.step(
            call, QueueJoined(at=self.clock.now(), priority=effect.priority, data=effect.data)
        )

    async def _leave_queue(self, call: Call, decision: LeaveQueue) -> None:
        """Carry out a queue exit: closed message, voicemail, callback or forwarding out
        (:mod:`hotline.telephony.forwarding`), then release."""
        self.stop_playing(call)
        if call.music is not None:
            await call.music  # the music must have started before we stop it
        with contextlib.suppress(MediaUnavailable):
            await self.media.stop(call=call.contact_id, tag=CALLER)
        await self._say(call, EXIT_PROMPTS[decision.exit], go_on=lambda: not call.finished)
        if call.finished:
            return
        if decision.exit == "forward":
            number = self.forward_numbers.pop(call.contact_id, None)
            if number is not None and self.forwards.start(call, number):
                return  # the exit closes when either side hangs up
        if decision.exit == "voicemail":
            try:
                await self.media.start_recording(call=call.contact_id)
            except MediaUnavailable as exc:
                self.emit(
                    EventKind.ALARM,
                    contact_id=call.contact_id,
                    data={"component": "media", "state": "voicemail_failed", "error": str(exc)},
                )
            else:
                call.recording = call.voicemail = True
                self.emit(
                    EventKind.RECORDING_STARTED,
                    contact_id=call.contact_id,
                    queue=call.queue,
                    data={"kind": "voicemail"},
                )
                # the caller hangs up when done; the line closes after the longest message
                call.timers.append(
                    asyncio.get_running_loop().call_later(
                        self.settings.voicemail_max_s, self._close_exit, call
                    )
                )
                return
        self._close_exit(call)

    def _close_exit(self, call: Call) -> None:
        self.step(call, ExitClosed(at=self.clock.now()))

    async def _announce(self, call: Call, decision: Announce) -> None:
        # Over the music: the comfort message, then position and estimated wait spoken from
        # number prompts played one after another, then the music again. Each prompt waits
        # for the previous one; an agent starting to ring ends the announcement (the bridge
        # must not find a prompt still queued behind it).
        spoken = announcement(decision.position, decision.estimated_wait_s, call.language)
        prompts = ["queue_comfort", *spoken]
        if self._may_call_back(call):
            prompts.append("callback_offer")
        said = await self._say(call, prompts, go_on=lambda: self._waiting(call))
        if said and self._waiting(call):
            self.start_music(call)

    async def _say(self, call: Call, prompts: Iterable[str], *, go_on: Callable[[], bool]) -> bool:
        """Play ``prompts`` to the caller one after another while ``go_on()`` holds; ``False``
        when it stopped holding or the media server failed."""
        for prompt in prompts:
            if not go_on():
                return False
            path = prompt_path(self.settings.prompts, call.language, prompt)
            try:
                playback = await self.media.play(call=call.contact_id, tag=CALLER, path=str(path))
            except MediaUnavailable:
                return False
            await asyncio.sleep((playback.duration_ms or 1000) / 1000)
        return True

    def start_music(self, call: Call) -> None:
        """Play music on hold to the caller (``call.music`` is the task starting it)."""
        call.music = self.spawn(self._music(call))

    def bind_leg(self, leg: str, call: Call) -> None:
        """SIP events of ``leg`` are about ``call`` from now on (a consulted agent's leg)."""
        self._by_leg[leg] = call

    def unbind_leg(self, leg: str) -> None:
        """Forget ``leg`` (it was hung up)."""
        self._by_leg.pop(leg, None)

    async def _music(self, call: Call) -> None:
        music = self.settings.prompts / "common" / f"{MUSIC_ON_HOLD}.wav"
        try:
            await self.media.play(
                call=call.contact_id, tag=CALLER, path=str(music), repeat=MUSIC_REPEAT
            )
        except MediaUnavailable as exc:
            self.emit(
                EventKind.ALARM,
                contact_id=call.contact_id,
                data={"component": "media", "state": "music_failed", "error": str(exc)},
            )

    def _route(self, decisions: Iterable[RoutingDecision]) -> None:
        for decision in decisions:
            if isinstance(decision, DialCallback):
                number = decision.number or self.callback_numbers.get(decision.contact_id)
                self.outbound.call_back(decision, number)
                continue
            if isinstance(decision, StopRinging) and self.outbound.routed(decision.contact_id):
                self.outbound.stop_ringing(decision.contact_id, decision.agent_id)
                continue
            call = self.calls.get(decision.contact_id)
            if call is None or call.finished:
                continue
            now = self.clock.now()
            if isinstance(decision, ReleaseCaller):
                if decision.number is not None:
                    self.forward_numbers[decision.contact_id] = decision.number
                event: CallEvent = QueueExited(
                    at=now, exit=decision.exit, callback_id=decision.callback_id
                )
            elif isinstance(decision, RingAgent):
                phones = tuple(self.phones.get(decision.agent_id, {}).values())
                event = Offered(at=now, agent_id=decision.agent_id, phones=phones)
            elif isinstance(decision, AnnounceWait):
                event = WaitAnnounced(
                    at=now, position=decision.position, estimated_wait_s=decision.estimated_wait_s
                )
            elif isinstance(decision, QueueChanged):
                event = QueueMoved(at=now, queue=decision.queue)
            else:
                event = OfferWithdrawn(at=now, agent_id=decision.agent_id)
            self.step(call, event)

    # -- end of a contact

    def _finish(self, call: Call, finish: Finish) -> None:
        for handle in call.timers:
            handle.cancel()
        self.stop_playing(call)
        if finish.log:
            data: dict[str, Any] = {"outcome": finish.outcome.value}
            if finish.reason:
                data["reason"] = finish.reason
            self.emit(
                EventKind.FINISHED,
                contact_id=call.contact_id,
                agent_id=call.agent_id,
                queue=call.queue,
                data=data,
            )
        if finish.outcome is not Outcome.FAILED and finish.media:
            self.spawn(self._release(call))
        self.calls.pop(call.contact_id, None)
        self.caller_facts.pop(call.contact_id, None)

    async def _release(self, call: Call) -> None:
        if call.recording:
            call.recording = False
            with contextlib.suppress(MediaUnavailable):
                await self.media.stop_recording(call=call.contact_id)
        await self.media.delete(call=call.contact_id)
        if call.chained is not None:  # a warm transfer's consult relay, chained to this one
            await self.media.delete(call=call.chained)
        if (call.answered_at is None and not call.voicemail) or (
            self.settings.recording_converter is None
        ):
            return
        converter = self.settings.recording_converter
        loop = asyncio.get_running_loop()
        # the relay's port the caller sends to: the recording's left channel is what reached it
        sections = audio_sections(call.local_sdp.get(CALLER, ""))
        caller_side = sections[0][1] if sections else None
        # Decoding the capture is batch work; keep it off the loop that serves live calls.
        summary = await loop.run_in_executor(
            self.settings.recording_executor, converter, call.contact_id, caller_side
        )
        if summary is not None:
            self.emit(
                EventKind.RECORDING_STOPPED,
                contact_id=call.contact_id,
                agent_id=call.agent_id,
                queue=call.queue,
                data={**summary, "kind": "voicemail" if call.voicemail else "conversation"},
            )
