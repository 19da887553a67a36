"""The life of one inbound phone call as a pure state machine.

A caller's call goes through **phases**: media is set up (``setup``), the IVR talks to them
(``ivr``), they wait in a queue with music (``queued``), an agent's phone rings
(``ringing``), they talk (``talking``), the agent puts them on hold (``held``) or consults a
colleague while they wait (``consulting``), the agent hands them on to another queue or agent
(``transferring``: waiting again until the next phone rings), the agent hangs up and the IVR
asks the survey (``survey``), or the ACD sends them out of the queue by one of its exits —
closed message, voicemail, callback (``released``) — and finally the call ends (``ended``).

:func:`transition` takes the call's :class:`CallState` (immutable) and one :data:`CallEvent`
(something the SIP side, the media server, a timer, the IVR or the ACD reported) and returns
the next state with the **effects** the voice driver
(:class:`~hotline.telephony.call_center.CallCenter`) carries out: contact-log entries, SIP and
media actions, requests to the ACD. It does no I/O and reads no clock: every event carries
its time. An event that does not apply in the current phase (a late timer, a second hang-up,
a re-INVITE racing a BYE) changes nothing and has no effect, so after ``ended`` nothing
happens at all.

Who writes routing events: the ACD (the routing engine) keeps the routing events of the
contact event log and times the ring itself; the driver writes the routing events of the
:class:`Log` effects only for calls the ACD never saw (outbound), and does not log
``finished`` for a queued call (the engine writes it after wrap-up). There is no ring timer
here: the engine's ring-no-answer timer withdraws the offer (:class:`OfferWithdrawn`).

>>> state, effects = start(contact_id="v-1", caller="138", called="400", at=0.0)
>>> state.phase, [type(e).__name__ for e in effects]
(<Phase.SETUP: 'setup'>, ['Log'])
>>> state, _ = transition(state, MediaReady(at=0.1))
>>> state, _ = transition(state, QueueChosen(at=5.0, queue="repair", language="en"))
>>> state, effects = transition(state, QueueJoined(at=8.0, priority=0, data={}))
>>> state.phase, [type(e).__name__ for e in effects]
(<Phase.QUEUED: 'queued'>, ['Log', 'StartMusic', 'AskRouter'])
>>> state, effects = transition(state, CallerLeft(at=20.0))
>>> state.phase, [e.kind.value for e in effects if isinstance(e, Log)]
(<Phase.ENDED: 'ended'>, ['abandoned'])
>>> transition(state, CallerLeft(at=21.0))[1]
()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from hotline.core.events import OUTCOMES, EventKind, Outcome


class Phase(StrEnum):
    """Where a call stands."""

    SETUP = "setup"
    IVR = "ivr"
    QUEUED = "queued"
    RINGING = "ringing"
    TALKING = "talking"
    HELD = "held"
    CONSULTING = "consulting"
    TRANSFERRING = "transferring"
    SURVEY = "survey"
    RELEASED = "released"
    ENDED = "ended"


# The caller waits for an agent (music on hold, announcements, may ask for a callback).
WAITING = frozenset({Phase.QUEUED, Phase.TRANSFERRING})
# An agent is on the line with the caller (the bridge is up).
CONNECTED = frozenset({Phase.TALKING, Phase.HELD, Phase.CONSULTING})
# How a caller released by a queue exit ends, and what the exit is called in the log.
EXIT_OUTCOMES = {
    "closed_message": Outcome.CLOSED,
    "voicemail": Outcome.OVERFLOWED,
    "callback": Outcome.CALLBACK,
    "forward": Outcome.OVERFLOWED,
    # an agent's blind transfer to an outside number: the caller was answered
    "transfer_out": Outcome.ANSWERED,
}


@dataclass(frozen=True, slots=True)
class CallState:
    """One call's facts; change it only through :func:`transition`."""

    contact_id: str
    caller: str
    called: str
    arrived_at: float
    phase: Phase = Phase.SETUP
    language: str = "zh-CN"
    queue: str | None = None
    queued_at: float | None = None
    ringing_agent: str | None = None
    # Offers made so far.
    offers: int = 0
    agent_id: str | None = None
    answered_at: float | None = None
    held_since: float | None = None
    consulted: str | None = None
    released: str | None = None  # the queue exit the caller leaves by
    outcome: Outcome | None = None

    @property
    def finished(self) -> bool:
        """Whether the call has ended."""
        return self.phase is Phase.ENDED

    @property
    def waiting(self) -> bool:
        """Whether the caller waits in a queue (no agent ringing or talking, no exit taken)."""
        return self.phase in WAITING


# ---------------------------------------------------------------- events (inputs)


@dataclass(frozen=True, slots=True)
class MediaReady:
    """The media relay is set up and the caller answered; the IVR starts."""

    at: float


@dataclass(frozen=True, slots=True)
class CallerRefused:
    """The caller rules refuse this caller (a nuisance number): the call ends unqueued.

    ``reason`` says which rule (``nuisance_block``: refused before the IVR;
    ``nuisance_recording``: told so by a recording, then released).
    """

    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class MediaFailed:
    """The media relay refused or did not answer: the caller was rejected."""

    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class QueueChosen:
    """The IVR hands the caller to ``queue`` (the recording notice plays first)."""

    at: float
    queue: str
    language: str


@dataclass(frozen=True, slots=True)
class QueueJoined:
    """The caller enters the queue chosen (after the notice)."""

    at: float
    priority: int
    data: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Offered:
    """The ACD offers the call to ``agent_id``; ``phones`` are the agent's registered phones.

    How long they ring is the ACD's business: it withdraws the offer when its ring timer runs
    out (:class:`OfferWithdrawn`).
    """

    at: float
    agent_id: str
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentAnswered:
    """One of the ringing agent's phones answered."""

    at: float


@dataclass(frozen=True, slots=True)
class Bridged:
    """The media relay now connects the caller with the agent's phone (and records, when
    ``recording_started``: the first agent's answer starts the recording, a transfer's does not)."""

    at: float
    recording_started: bool = False


@dataclass(frozen=True, slots=True)
class RingFailed:
    """The agent's last ringing phone failed, hung up or was declined (``reason``)."""

    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class OfferWithdrawn:
    """The ACD took its offer to ``agent_id`` back."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class WaitAnnounced:
    """The ACD says to tell the waiting caller their position and estimated wait."""

    at: float
    position: int
    estimated_wait_s: float | None


@dataclass(frozen=True, slots=True)
class QueueMoved:
    """The ACD moved the waiting caller to ``queue`` (overflow)."""

    at: float
    queue: str


@dataclass(frozen=True, slots=True)
class QueueExited:
    """The ACD sends the caller out by ``exit`` (closed_message, voicemail, callback)."""

    at: float
    exit: str
    callback_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExitClosed:
    """The exit's message (and voicemail) is over: the line closes."""

    at: float


@dataclass(frozen=True, slots=True)
class HoldRequested:
    """The agent puts the caller on hold (``by``: their phone or the desktop)."""

    at: float
    by: str


@dataclass(frozen=True, slots=True)
class ResumeRequested:
    """The agent takes the caller off hold."""

    at: float


@dataclass(frozen=True, slots=True)
class AgentLeft:
    """The talking agent's phone left the call; ``refused_transfer`` names a REFER target the
    ACD refused (the conversation then ends as if the agent had hung up)."""

    at: float
    refused_transfer: str | None = None


@dataclass(frozen=True, slots=True)
class CallerLeft:
    """The caller hung up."""

    at: float


@dataclass(frozen=True, slots=True)
class IvrHungUp:
    """The IVR ended the call (goodbye, survey done) with ``outcome``, if it said one."""

    at: float
    outcome: str | None


@dataclass(frozen=True, slots=True)
class Transferred:
    """The ACD took the blind transfer to ``queue`` or ``agent_id``, or to an outside
    ``number`` (the caller then leaves the center by the ``transfer_out`` exit: the driver
    forwards them through the trunk, and the line closes when either side hangs up)."""

    at: float
    queue: str | None = None
    agent_id: str | None = None
    number: str | None = None


@dataclass(frozen=True, slots=True)
class ConsultBegan:
    """The ACD reserved ``agent_id`` for a consult; the caller waits with music."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class ConsultFinished:
    """The consult ended: the consulted agent takes the caller (``transfer``) or not."""

    at: float
    transfer: bool


CallEvent = (
    MediaReady
    | MediaFailed
    | CallerRefused
    | QueueChosen
    | QueueJoined
    | Offered
    | AgentAnswered
    | Bridged
    | RingFailed
    | OfferWithdrawn
    | WaitAnnounced
    | QueueMoved
    | QueueExited
    | ExitClosed
    | HoldRequested
    | ResumeRequested
    | AgentLeft
    | CallerLeft
    | IvrHungUp
    | Transferred
    | ConsultBegan
    | ConsultFinished
)


# ---------------------------------------------------------------- effects (outputs)


@dataclass(frozen=True, slots=True)
class Log:
    """Append ``kind`` to the contact event log (``agent_event``: about the agent only)."""

    kind: EventKind
    agent_id: str | None = None
    queue: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    agent_event: bool = False


class RouterRequest(StrEnum):
    """What the driver tells the ACD (:class:`~hotline.telephony.ports.CallRouter`)."""

    QUEUED = "contact_queued"
    ANSWERED = "offer_answered"
    REJECTED = "offer_rejected"
    ABANDONED = "contact_abandoned"
    HELD = "contact_held"
    RESUMED = "contact_resumed"


@dataclass(frozen=True, slots=True)
class AskRouter:
    """Tell the ACD; carry out the decisions it answers with."""

    request: RouterRequest
    agent_id: str | None = None
    queue: str | None = None
    priority: int = 0
    language: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RingPhones:
    """Dial every registered phone of ``agent_id``; the first to answer takes the call."""

    agent_id: str
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StopRingingPhones:
    """Hang up the agent's phones still ringing (all, or all but the one that answered)."""

    keep_answered: bool = False


@dataclass(frozen=True, slots=True)
class Bridge:
    """Connect the caller with the answering phone (and record); report :class:`Bridged`."""


@dataclass(frozen=True, slots=True)
class StartMusic:
    """Play music on hold to the caller."""


@dataclass(frozen=True, slots=True)
class EndMusic:
    """Stop the music on hold."""


@dataclass(frozen=True, slots=True)
class MuteCaller:
    """Stop (``muted``) or resume relaying what the caller says to the agent."""

    muted: bool


@dataclass(frozen=True, slots=True)
class Announce:
    """Speak the caller's position and estimated wait over the music."""

    position: int
    estimated_wait_s: float | None


@dataclass(frozen=True, slots=True)
class LeaveQueue:
    """Play the exit's message (take a voicemail), then report :class:`ExitClosed`."""

    exit: str
    callback_id: str | None


@dataclass(frozen=True, slots=True)
class HangUpCaller:
    """End the caller's leg."""


@dataclass(frozen=True, slots=True)
class HangUpAgent:
    """End the connected agent's leg."""


@dataclass(frozen=True, slots=True)
class EndConversation:
    """Stop recording, then tell the ACD the conversation ended (the agent wraps up)."""


class IvrNotice(StrEnum):
    """What the IVR hears about the call."""

    CALLER_HUNG_UP = "caller_hung_up"
    AGENT_HUNG_UP = "agent_hung_up"


@dataclass(frozen=True, slots=True)
class TellIvr:
    """Pass the notice to the call's IVR (the survey starts when the agent hangs up)."""

    notice: IvrNotice


@dataclass(frozen=True, slots=True)
class Finish:
    """The call ended: stop its timers and prompts, release its media (unless it failed to
    get any, or was refused before it had any: ``media`` false), and log ``finished`` when
    ``log``."""

    outcome: Outcome
    reason: str | None
    log: bool
    media: bool = True


CallEffect = (
    Log
    | AskRouter
    | RingPhones
    | StopRingingPhones
    | Bridge
    | StartMusic
    | EndMusic
    | MuteCaller
    | Announce
    | LeaveQueue
    | HangUpCaller
    | HangUpAgent
    | EndConversation
    | TellIvr
    | Finish
)
Step = tuple[CallState, tuple[CallEffect, ...]]


# ---------------------------------------------------------------- transitions


def start(*, contact_id: str, caller: str, called: str, at: float) -> Step:
    """A caller arrived: the call exists and its arrival is logged."""
    state = CallState(contact_id, caller, called, at)
    return state, (Log(EventKind.ARRIVED, data={"caller": caller, "called": called}),)


def transition(state: CallState, event: CallEvent) -> Step:
    """The next state of the call and what the driver must do; nothing after the end."""
    if state.phase is Phase.ENDED:
        return state, ()
    handler = _HANDLERS[type(event)]
    return handler(state, event)


def _nothing(state: CallState) -> Step:
    return state, ()


def _end(state: CallState, outcome: Outcome, reason: str | None, *effects: CallEffect) -> Step:
    """End the call: ``effects``, then :class:`Finish`."""
    out: list[CallEffect] = list(effects)
    # The ACD finishes the contacts it queued itself (after wrap-up).
    out.append(Finish(outcome, reason, state.queued_at is None))
    return replace(state, phase=Phase.ENDED, outcome=outcome), tuple(out)


def _media_ready(state: CallState, event: MediaReady) -> Step:
    if state.phase is not Phase.SETUP:
        return _nothing(state)
    return replace(state, phase=Phase.IVR), ()


def _media_failed(state: CallState, event: MediaFailed) -> Step:
    if state.phase is not Phase.SETUP:
        return _nothing(state)
    return _end(state, Outcome.FAILED, event.reason)


def _caller_refused(state: CallState, event: CallerRefused) -> Step:
    if state.phase not in (Phase.SETUP, Phase.IVR):
        return _nothing(state)
    if state.phase is Phase.SETUP:  # refused before media: nothing to hang up or release
        ended = replace(state, phase=Phase.ENDED, outcome=Outcome.CLOSED)
        return ended, (Finish(Outcome.CLOSED, event.reason, True, media=False),)
    return _end(state, Outcome.CLOSED, event.reason, HangUpCaller())


def _queue_chosen(state: CallState, event: QueueChosen) -> Step:
    if state.phase is not Phase.IVR:
        return _nothing(state)
    return replace(state, queue=event.queue, language=event.language), ()


def _queue_joined(state: CallState, event: QueueJoined) -> Step:
    if state.phase is not Phase.IVR or state.queue is None:
        return _nothing(state)
    queue = state.queue
    effects = (
        Log(EventKind.QUEUED, queue=queue, data={"priority": event.priority, **event.data}),
        StartMusic(),
        AskRouter(
            RouterRequest.QUEUED,
            queue=queue,
            priority=event.priority,
            language=state.language,
            data={"caller": state.caller, **event.data},
        ),
    )
    return replace(state, phase=Phase.QUEUED, queued_at=event.at), effects


def _offered(state: CallState, event: Offered) -> Step:
    if state.phase not in WAITING:
        return _nothing(state)
    data: dict[str, Any] = {"phone": event.phones[0] if event.phones else ""}
    if len(event.phones) > 1:
        data["phones"] = list(event.phones)
    offered = Log(EventKind.OFFERED, agent_id=event.agent_id, queue=state.queue, data=data)
    ringing = replace(
        state, phase=Phase.RINGING, ringing_agent=event.agent_id, offers=state.offers + 1
    )
    if not event.phones:
        after, rejected = _not_answered(ringing, "no_phone", stop_phones=False)
        return after, (offered, *rejected)
    # the routing engine runs the ring-no-answer timer (it withdraws the offer)
    return ringing, (offered, RingPhones(event.agent_id, event.phones))


def _not_answered(state: CallState, reason: str, *, stop_phones: bool = True) -> Step:
    """The ringing agent did not take the call: back to waiting, the ACD picks again."""
    agent_id = state.ringing_agent
    assert agent_id is not None
    effects: list[CallEffect] = []
    if stop_phones:
        effects.append(StopRingingPhones())
    effects += [
        Log(
            EventKind.RING_NO_ANSWER,
            agent_id=agent_id,
            queue=state.queue,
            data={"reason": reason},
        ),
        Log(
            EventKind.AGENT_STATE,
            agent_id=agent_id,
            data={"state": "not_ready", "reason": "ring_no_answer"},
            agent_event=True,
        ),
        AskRouter(RouterRequest.REJECTED, agent_id=agent_id),
    ]
    after = replace(state, phase=Phase.QUEUED, ringing_agent=None)
    return after, tuple(effects)


def _ring_failed(state: CallState, event: RingFailed) -> Step:
    if state.phase is not Phase.RINGING:
        return _nothing(state)
    return _not_answered(state, event.reason)


def _agent_answered(state: CallState, event: AgentAnswered) -> Step:
    if state.phase is not Phase.RINGING:
        return _nothing(state)
    effects: list[CallEffect] = [StopRingingPhones(keep_answered=True), Bridge()]
    talking = replace(
        state,
        phase=Phase.TALKING,
        agent_id=state.ringing_agent,
        ringing_agent=None,
        answered_at=event.at,
    )
    return talking, tuple(effects)


def _bridged(state: CallState, event: Bridged) -> Step:
    if state.phase not in CONNECTED and state.phase is not Phase.SURVEY:
        return _nothing(state)
    wait = (state.answered_at or 0.0) - (state.queued_at or state.arrived_at)
    effects: list[CallEffect] = [
        Log(
            EventKind.ANSWERED,
            agent_id=state.agent_id,
            queue=state.queue,
            data={"wait_s": round(wait, 3)},
        )
    ]
    if event.recording_started:
        effects.append(Log(EventKind.RECORDING_STARTED, agent_id=state.agent_id))
    effects.append(AskRouter(RouterRequest.ANSWERED, agent_id=state.agent_id))
    return state, tuple(effects)


def _offer_withdrawn(state: CallState, event: OfferWithdrawn) -> Step:
    if state.phase is not Phase.RINGING or state.ringing_agent != event.agent_id:
        return _nothing(state)
    return replace(state, phase=Phase.QUEUED, ringing_agent=None), (StopRingingPhones(),)


def _wait_announced(state: CallState, event: WaitAnnounced) -> Step:
    if state.phase not in WAITING:
        return _nothing(state)
    return state, (Announce(event.position, event.estimated_wait_s),)


def _queue_moved(state: CallState, event: QueueMoved) -> Step:
    return replace(state, queue=event.queue), ()  # the music goes on; the ACD logged it


def _queue_exited(state: CallState, event: QueueExited) -> Step:
    if state.phase not in WAITING and state.phase is not Phase.RINGING:
        return _nothing(state)
    effects: list[CallEffect] = []
    if state.phase is Phase.RINGING:  # the offer is void: the caller leaves
        effects.append(StopRingingPhones())
    if event.callback_id is not None:
        effects.append(
            Log(
                EventKind.CALLBACK_REQUESTED,
                queue=state.queue,
                data={"callback_id": event.callback_id, "number": state.caller},
            )
        )
    elif event.exit == "voicemail":
        effects.append(Log(EventKind.OVERFLOWED, queue=state.queue, data={"to": "voicemail"}))
    effects.append(LeaveQueue(event.exit, event.callback_id))
    released = replace(state, phase=Phase.RELEASED, released=event.exit, ringing_agent=None)
    return released, tuple(effects)


def _exit_closed(state: CallState, event: ExitClosed) -> Step:
    if state.phase is not Phase.RELEASED or state.released is None:
        return _nothing(state)
    return _end(state, EXIT_OUTCOMES[state.released], state.released, HangUpCaller())


def _hold_requested(state: CallState, event: HoldRequested) -> Step:
    if state.phase is not Phase.TALKING:
        return _nothing(state)
    effects = (
        Log(EventKind.HELD, agent_id=state.agent_id, queue=state.queue, data={"by": event.by}),
        AskRouter(RouterRequest.HELD),
        StartMusic(),
        MuteCaller(muted=True),
    )
    return replace(state, phase=Phase.HELD, held_since=event.at), effects


def _resume_requested(state: CallState, event: ResumeRequested) -> Step:
    if state.phase is not Phase.HELD or state.held_since is None:
        return _nothing(state)
    held_s = event.at - state.held_since
    effects = (
        Log(
            EventKind.RESUMED,
            agent_id=state.agent_id,
            queue=state.queue,
            data={"hold_s": round(held_s, 3)},
        ),
        AskRouter(RouterRequest.RESUMED),
        EndMusic(),
        MuteCaller(muted=False),
    )
    return replace(state, phase=Phase.TALKING, held_since=None), effects


def _agent_left(state: CallState, event: AgentLeft) -> Step:
    if state.phase is Phase.RINGING:
        return _not_answered(state, "hung_up_while_ringing")
    if state.phase not in CONNECTED:
        return _nothing(state)
    data: dict[str, Any] = {"by": "agent"}
    if event.refused_transfer is not None:
        data["transfer_refused"] = event.refused_transfer
    effects = (
        Log(EventKind.DISCONNECTED, agent_id=state.agent_id, queue=state.queue, data=data),
        EndConversation(),
        TellIvr(IvrNotice.AGENT_HUNG_UP),
    )
    # the survey prompt takes over from any music on hold
    return replace(state, phase=Phase.SURVEY, held_since=None, consulted=None), effects


def _caller_left(state: CallState, event: CallerLeft) -> Step:
    if state.phase is Phase.RELEASED and state.released is not None:
        # leaving by a queue exit (the ACD has finished the contact): a voicemail ends here
        return _end(state, EXIT_OUTCOMES[state.released], state.released)
    told: list[CallEffect] = []
    if state.phase is not Phase.SETUP:
        told.append(TellIvr(IvrNotice.CALLER_HUNG_UP))
    if state.phase in CONNECTED:
        return _end(
            state,
            Outcome.ANSWERED,
            None,
            *told,
            Log(
                EventKind.DISCONNECTED,
                agent_id=state.agent_id,
                queue=state.queue,
                data={"by": "caller"},
            ),
            HangUpAgent(),
            EndConversation(),
        )
    if state.phase is Phase.SURVEY:
        return _end(state, Outcome.ANSWERED, None, *told)  # hung up during the survey
    if state.queued_at is not None:
        if state.phase is Phase.RINGING:
            told.append(StopRingingPhones())
        told += [
            Log(
                EventKind.ABANDONED,
                queue=state.queue,
                data={"wait_s": round(event.at - state.queued_at, 3)},
            ),
            AskRouter(RouterRequest.ABANDONED),
        ]
        return _end(state, Outcome.ABANDONED, None, *told)
    return _end(state, Outcome.IVR_HANGUP, None, *told)


def _ivr_hung_up(state: CallState, event: IvrHungUp) -> Step:
    if state.phase not in (Phase.IVR, Phase.SURVEY):
        return _nothing(state)
    if state.answered_at is not None:
        outcome = Outcome.ANSWERED
    elif event.outcome in OUTCOMES:
        outcome = Outcome(event.outcome)
    else:
        outcome = Outcome.IVR_HANGUP
    return _end(state, outcome, event.outcome or "survey_done", HangUpCaller())


def _transferred(state: CallState, event: Transferred) -> Step:
    if state.phase not in CONNECTED:
        return _nothing(state)
    if event.number is not None:
        log = Log(
            EventKind.TRANSFERRED,
            agent_id=state.agent_id,
            queue=state.queue,
            data={"to": "number", "number": event.number},
        )
        released = replace(
            state,
            phase=Phase.RELEASED,
            released="transfer_out",
            agent_id=None,
            held_since=None,
            consulted=None,
        )
        if state.phase is Phase.HELD:  # the caller hears the far end ring, not the music
            return released, (HangUpAgent(), log, EndMusic(), MuteCaller(muted=False))
        return released, (HangUpAgent(), log)
    data = {"to_queue": event.queue} if event.queue else {"to_agent": event.agent_id}
    effects = (
        HangUpAgent(),
        Log(EventKind.TRANSFERRED, agent_id=state.agent_id, queue=state.queue, data=data),
        StartMusic(),
    )
    after = replace(
        state,
        phase=Phase.TRANSFERRING,
        queue=event.queue or state.queue,
        agent_id=None,
        answered_at=None,
        held_since=None,
        consulted=None,
        queued_at=event.at,
    )
    return after, effects


def _consult_began(state: CallState, event: ConsultBegan) -> Step:
    if state.phase not in (Phase.TALKING, Phase.HELD):
        return _nothing(state)
    effects = (
        Log(
            EventKind.CONSULT_STARTED,
            agent_id=state.agent_id,
            queue=state.queue,
            data={"consulted": event.agent_id},
        ),
    )
    return replace(state, phase=Phase.CONSULTING, consulted=event.agent_id), effects


def _consult_finished(state: CallState, event: ConsultFinished) -> Step:
    if state.phase is not Phase.CONSULTING or state.consulted is None:
        return _nothing(state)
    effects = (
        Log(
            EventKind.CONSULT_ENDED,
            agent_id=state.agent_id,
            queue=state.queue,
            data={"consulted": state.consulted, "transfer": event.transfer},
        ),
    )
    if event.transfer:  # the consulted agent has the caller now
        after = replace(
            state,
            phase=Phase.TALKING,
            agent_id=state.consulted,
            consulted=None,
            held_since=None,
        )
    else:
        back = Phase.HELD if state.held_since is not None else Phase.TALKING
        after = replace(state, phase=back, consulted=None)
    return after, effects


_HANDLERS: dict[type[Any], Callable[[CallState, Any], Step]] = {
    MediaReady: _media_ready,
    MediaFailed: _media_failed,
    CallerRefused: _caller_refused,
    QueueChosen: _queue_chosen,
    QueueJoined: _queue_joined,
    Offered: _offered,
    AgentAnswered: _agent_answered,
    Bridged: _bridged,
    RingFailed: _ring_failed,
    OfferWithdrawn: _offer_withdrawn,
    WaitAnnounced: _wait_announced,
    QueueMoved: _queue_moved,
    QueueExited: _queue_exited,
    ExitClosed: _exit_closed,
    HoldRequested: _hold_requested,
    ResumeRequested: _resume_requested,
    AgentLeft: _agent_left,
    CallerLeft: _caller_left,
    IvrHungUp: _ivr_hung_up,
    Transferred: _transferred,
    ConsultBegan: _consult_began,
    ConsultFinished: _consult_finished,
}
