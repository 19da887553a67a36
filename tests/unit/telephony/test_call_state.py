"""The pure call state machine: each transition, and invariants over random event sequences."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.core.events import EventKind, Outcome
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
    CallEvent,
    CallState,
    ConsultBegan,
    ConsultFinished,
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
    start,
    transition,
)

PHONE = "sip:1001@127.0.0.1:5071"


def run(events: Sequence[CallEvent]) -> tuple[CallState, list[CallEffect]]:
    """The state after ``events`` from a fresh call, and the effects of the last event."""
    state, effects = start(contact_id="v-1", caller="138", called="400", at=0.0)
    last: tuple[CallEffect, ...] = effects
    for event in events:
        state, last = transition(state, event)
    return state, list(last)


def logged(effects: Sequence[CallEffect]) -> list[str]:
    return [e.kind.value for e in effects if isinstance(e, Log)]


def asked(effects: Sequence[CallEffect]) -> list[RouterRequest]:
    return [e.request for e in effects if isinstance(e, AskRouter)]


IN_IVR: list[CallEvent] = [MediaReady(at=0.1)]
QUEUED: list[CallEvent] = [
    *IN_IVR,
    QueueChosen(at=5.0, queue="repair", language="en"),
    QueueJoined(at=8.0, priority=1, data={"serial": "A1"}),
]
RINGING: list[CallEvent] = [
    *QUEUED,
    Offered(at=10.0, agent_id="a001", phones=(PHONE,)),
]
TALKING: list[CallEvent] = [*RINGING, AgentAnswered(at=12.0)]
HELD: list[CallEvent] = [*TALKING, HoldRequested(at=20.0, by="agent")]


def test_arrival_is_logged_and_the_call_waits_for_media() -> None:
    state, effects = run([])
    assert state.phase is Phase.SETUP
    assert effects == [Log(EventKind.ARRIVED, data={"caller": "138", "called": "400"})]


def test_media_ready_starts_the_ivr_and_media_failure_ends_the_call_unreleased() -> None:
    assert run(IN_IVR)[0].phase is Phase.IVR
    state, effects = run([MediaFailed(at=0.2, reason="media_unavailable")])
    assert state.phase is Phase.ENDED and state.outcome is Outcome.FAILED
    assert effects == [Finish(Outcome.FAILED, "media_unavailable", log=True)]


def test_joining_the_queue_logs_plays_music_and_asks_the_acd() -> None:
    state, effects = run(QUEUED)
    assert (state.phase, state.queue, state.queued_at, state.language) == (
        Phase.QUEUED,
        "repair",
        8.0,
        "en",
    )
    assert effects == [
        Log(EventKind.QUEUED, queue="repair", data={"priority": 1, "serial": "A1"}),
        StartMusic(),
        AskRouter(
            RouterRequest.QUEUED,
            queue="repair",
            priority=1,
            language="en",
            data={"caller": "138", "serial": "A1"},
        ),
    ]


def test_an_offer_rings_every_phone_and_leaves_the_ring_timeout_to_the_engine() -> None:
    phones = (PHONE, "sip:1011@127.0.0.1:5081")
    offer = Offered(at=10.0, agent_id="a001", phones=phones)
    state, effects = run([*QUEUED, offer])
    assert (state.phase, state.ringing_agent) == (Phase.RINGING, "a001")
    assert effects == [
        Log(
            EventKind.OFFERED,
            agent_id="a001",
            queue="repair",
            data={"phone": PHONE, "phones": list(phones)},
        ),
        RingPhones("a001", phones),
    ]


def test_an_offer_to_an_agent_without_a_phone_is_ring_no_answer_at_once() -> None:
    state, effects = run([*QUEUED, Offered(at=10.0, agent_id="a001", phones=())])
    assert state.phase is Phase.QUEUED and state.ringing_agent is None
    assert logged(effects) == ["offered", "ring_no_answer", "agent_state"]
    assert asked(effects) == [RouterRequest.REJECTED]
    assert not any(isinstance(e, StopRingingPhones) for e in effects)


def test_answer_stops_the_other_phones_and_bridges() -> None:
    state, effects = run(TALKING)
    assert (state.phase, state.agent_id, state.answered_at) == (Phase.TALKING, "a001", 12.0)
    assert effects == [StopRingingPhones(keep_answered=True), Bridge()]


def test_bridged_logs_the_answer_with_the_wait_and_tells_the_acd() -> None:
    _, effects = run([*TALKING, Bridged(at=12.5, recording_started=True)])
    assert effects == [
        Log(EventKind.ANSWERED, agent_id="a001", queue="repair", data={"wait_s": 4.0}),
        Log(EventKind.RECORDING_STARTED, agent_id="a001"),
        AskRouter(RouterRequest.ANSWERED, agent_id="a001"),
    ]


def test_a_failed_or_declined_ring_puts_the_caller_back_in_the_queue() -> None:
    state, effects = run([*RINGING, RingFailed(at=11.0, reason="sip_486")])
    assert state.phase is Phase.QUEUED and state.ringing_agent is None
    assert logged(effects) == ["ring_no_answer", "agent_state"]
    assert asked(effects) == [RouterRequest.REJECTED]
    assert StopRingingPhones() in effects


def test_the_acd_withdrawing_its_offer_stops_the_phones() -> None:
    state, effects = run([*RINGING, OfferWithdrawn(at=11.0, agent_id="a001")])
    assert state.phase is Phase.QUEUED
    assert effects == [StopRingingPhones()]  # e.g. the engine's ring timeout
    assert run([*RINGING, OfferWithdrawn(at=11.0, agent_id="a002")])[1] == []


def test_announcements_only_while_waiting() -> None:
    _, effects = run([*QUEUED, WaitAnnounced(at=30.0, position=2, estimated_wait_s=40.0)])
    assert effects == [Announce(2, 40.0)]
    assert run([*TALKING, WaitAnnounced(at=30.0, position=2, estimated_wait_s=40.0)])[1] == []


def test_overflow_moves_the_queue() -> None:
    state, effects = run([*QUEUED, QueueMoved(at=40.0, queue="complaints")])
    assert state.queue == "complaints" and effects == []


def test_a_queue_exit_releases_the_caller_then_closes_the_line() -> None:
    state, effects = run([*QUEUED, QueueExited(at=40.0, exit="callback", callback_id="cb-1")])
    assert state.phase is Phase.RELEASED and state.released == "callback"
    assert effects == [
        Log(
            EventKind.CALLBACK_REQUESTED,
            queue="repair",
            data={"callback_id": "cb-1", "number": "138"},
        ),
        LeaveQueue("callback", "cb-1"),
    ]
    released = [*QUEUED, QueueExited(at=40.0, exit="voicemail")]
    state, effects = run(released)
    assert logged(effects) == ["overflowed"]
    state, effects = run([*released, ExitClosed(at=60.0)])
    assert state.outcome is Outcome.OVERFLOWED
    # the ACD queued the contact and finishes it itself
    assert effects == [HangUpCaller(), Finish(Outcome.OVERFLOWED, "voicemail", log=False)]
    state, effects = run([*released, CallerLeft(at=50.0)])
    assert effects == [Finish(Outcome.OVERFLOWED, "voicemail", log=False)]
    assert run([*TALKING, QueueExited(at=40.0, exit="closed_message")])[1] == []
    assert run([*IN_IVR, QueueExited(at=40.0, exit="closed_message")])[1] == []


def test_a_queue_exit_while_the_agent_rings_stops_the_phones() -> None:
    state, effects = run([*RINGING, QueueExited(at=40.0, exit="closed_message")])
    assert (state.phase, state.ringing_agent) == (Phase.RELEASED, None)
    assert effects == [StopRingingPhones(), LeaveQueue("closed_message", None)]


def test_hold_and_resume_only_while_talking() -> None:
    state, effects = run(HELD)
    assert state.phase is Phase.HELD and state.held_since == 20.0
    assert effects == [
        Log(EventKind.HELD, agent_id="a001", queue="repair", data={"by": "agent"}),
        AskRouter(RouterRequest.HELD),
        StartMusic(),
        MuteCaller(muted=True),
    ]
    assert run([*HELD, HoldRequested(at=21.0, by="desktop")])[1] == []
    state, effects = run([*HELD, ResumeRequested(at=27.5)])
    assert state.phase is Phase.TALKING and state.held_since is None
    assert effects == [
        Log(EventKind.RESUMED, agent_id="a001", queue="repair", data={"hold_s": 7.5}),
        AskRouter(RouterRequest.RESUMED),
        EndMusic(),
        MuteCaller(muted=False),
    ]
    assert run([*QUEUED, HoldRequested(at=21.0, by="agent")])[1] == []
    assert run([*TALKING, ResumeRequested(at=21.0)])[1] == []


def test_the_agent_hanging_up_starts_the_survey_and_the_wrap_up() -> None:
    state, effects = run([*HELD, AgentLeft(at=30.0)])
    assert state.phase is Phase.SURVEY and state.held_since is None
    assert effects == [
        Log(EventKind.DISCONNECTED, agent_id="a001", queue="repair", data={"by": "agent"}),
        EndConversation(),
        TellIvr(IvrNotice.AGENT_HUNG_UP),
    ]
    state, effects = run([*TALKING, AgentLeft(at=30.0, refused_transfer="nowhere")])
    assert logged(effects) == ["disconnected"]
    log = effects[0]
    assert isinstance(log, Log) and log.data["transfer_refused"] == "nowhere"
    # the survey's goodbye ends the call as answered
    state, effects = run([*TALKING, AgentLeft(at=30.0), IvrHungUp(at=40.0, outcome=None)])
    assert effects == [HangUpCaller(), Finish(Outcome.ANSWERED, "survey_done", log=False)]


def test_an_agent_phone_hanging_up_while_ringing_is_ring_no_answer() -> None:
    state, effects = run([*RINGING, AgentLeft(at=11.0)])
    assert state.phase is Phase.QUEUED
    assert logged(effects) == ["ring_no_answer", "agent_state"]


def test_the_caller_hanging_up_ends_the_call_as_the_phase_says() -> None:
    state, effects = run([*IN_IVR, CallerLeft(at=3.0)])
    assert state.outcome is Outcome.IVR_HANGUP
    assert effects == [TellIvr(IvrNotice.CALLER_HUNG_UP), Finish(Outcome.IVR_HANGUP, None, True)]
    state, effects = run([*RINGING, CallerLeft(at=11.0)])
    assert state.outcome is Outcome.ABANDONED
    assert effects == [
        TellIvr(IvrNotice.CALLER_HUNG_UP),
        StopRingingPhones(),
        Log(EventKind.ABANDONED, queue="repair", data={"wait_s": 3.0}),
        AskRouter(RouterRequest.ABANDONED),
        Finish(Outcome.ABANDONED, None, log=False),
    ]
    state, effects = run([*TALKING, CallerLeft(at=40.0)])
    assert state.outcome is Outcome.ANSWERED
    assert effects == [
        TellIvr(IvrNotice.CALLER_HUNG_UP),
        Log(EventKind.DISCONNECTED, agent_id="a001", queue="repair", data={"by": "caller"}),
        HangUpAgent(),
        EndConversation(),
        Finish(Outcome.ANSWERED, None, log=False),
    ]
    assert run([*TALKING, CallerLeft(at=40.0), CallerLeft(at=41.0)])[1] == []


def test_the_ivr_ending_the_call_takes_its_outcome() -> None:
    state, effects = run([*IN_IVR, IvrHungUp(at=9.0, outcome="closed")])
    assert state.outcome is Outcome.CLOSED
    assert effects == [HangUpCaller(), Finish(Outcome.CLOSED, "closed", log=True)]
    assert run([*IN_IVR, IvrHungUp(at=9.0, outcome="odd")])[0].outcome is Outcome.IVR_HANGUP


def test_a_blind_transfer_hangs_up_the_agent_and_waits_again() -> None:
    state, effects = run([*HELD, Transferred(at=50.0, queue="complaints")])
    assert (state.phase, state.queue, state.agent_id, state.answered_at, state.held_since) == (
        Phase.TRANSFERRING,
        "complaints",
        None,
        None,
        None,
    )
    assert state.queued_at == 50.0
    assert effects == [
        HangUpAgent(),
        Log(
            EventKind.TRANSFERRED,
            agent_id="a001",
            queue="repair",
            data={"to_queue": "complaints"},
        ),
        StartMusic(),
    ]
    # the next agent rings and answers as from the queue
    offer = Offered(at=51.0, agent_id="a002", phones=(PHONE,))
    state, _ = run([*HELD, Transferred(at=50.0, agent_id="a002"), offer, AgentAnswered(at=52.0)])
    assert (state.phase, state.agent_id) == (Phase.TALKING, "a002")
    assert run([*QUEUED, Transferred(at=50.0, queue="complaints")])[1] == []


def test_a_consult_ends_back_with_the_caller_or_with_the_consulted_agent() -> None:
    consulting = [*HELD, ConsultBegan(at=30.0, agent_id="a002")]
    state, effects = run(consulting)
    assert state.phase is Phase.CONSULTING and state.consulted == "a002"
    assert logged(effects) == ["consult_started"]
    assert run([*consulting, HoldRequested(at=31.0, by="agent")])[1] == []
    state, effects = run([*consulting, ConsultFinished(at=40.0, transfer=False)])
    assert state.phase is Phase.HELD  # back to the held caller
    assert effects == [
        Log(
            EventKind.CONSULT_ENDED,
            agent_id="a001",
            queue="repair",
            data={"consulted": "a002", "transfer": False},
        )
    ]
    state, _ = run([*consulting, ConsultFinished(at=40.0, transfer=True)])
    assert (state.phase, state.agent_id, state.held_since) == (Phase.TALKING, "a002", None)
    assert run([*QUEUED, ConsultBegan(at=30.0, agent_id="a002")])[1] == []


# ---------------------------------------------------------------- random event sequences

AGENTS = st.sampled_from(["a001", "a002"])
EVENTS: st.SearchStrategy[CallEvent] = st.one_of(
    st.just(MediaReady(at=0)),
    st.builds(MediaFailed, at=st.just(0.0), reason=st.just("media_unavailable")),
    st.builds(
        QueueChosen,
        at=st.just(0.0),
        queue=st.sampled_from(["repair", "vip"]),
        language=st.just("en"),
    ),
    st.builds(QueueJoined, at=st.just(0.0), priority=st.integers(0, 2), data=st.just({})),
    st.builds(
        Offered,
        at=st.just(0.0),
        agent_id=AGENTS,
        phones=st.sampled_from([(), (PHONE,), (PHONE, "sip:1011@h")]),
    ),
    st.just(AgentAnswered(at=0)),
    st.builds(Bridged, at=st.just(0.0), recording_started=st.booleans()),
    st.builds(RingFailed, at=st.just(0.0), reason=st.just("sip_486")),
    st.builds(OfferWithdrawn, at=st.just(0.0), agent_id=AGENTS),
    st.builds(
        WaitAnnounced, at=st.just(0.0), position=st.integers(1, 5), estimated_wait_s=st.none()
    ),
    st.builds(QueueMoved, at=st.just(0.0), queue=st.just("complaints")),
    st.builds(
        QueueExited,
        at=st.just(0.0),
        exit=st.sampled_from(["closed_message", "voicemail", "callback"]),
        callback_id=st.sampled_from([None, "cb-1"]),
    ),
    st.just(ExitClosed(at=0)),
    st.builds(HoldRequested, at=st.just(0.0), by=st.sampled_from(["agent", "desktop"])),
    st.just(ResumeRequested(at=0)),
    st.builds(AgentLeft, at=st.just(0.0), refused_transfer=st.sampled_from([None, "x"])),
    st.just(CallerLeft(at=0)),
    st.builds(IvrHungUp, at=st.just(0.0), outcome=st.sampled_from([None, "closed"])),
    st.builds(Transferred, at=st.just(0.0), queue=st.just("complaints")),
    st.builds(Transferred, at=st.just(0.0), agent_id=AGENTS),
    st.builds(ConsultBegan, at=st.just(0.0), agent_id=AGENTS),
    st.builds(ConsultFinished, at=st.just(0.0), transfer=st.booleans()),
)


# Random sequences rarely wander from arrival to an answered call on their own; they start
# from each milestone of a call's life instead.
MILESTONES = st.sampled_from([[], IN_IVR, QUEUED, RINGING, TALKING, HELD])


@settings(max_examples=1000, deadline=None)
@given(prefix=MILESTONES, events=st.lists(EVENTS, max_size=30))
def test_invariants_hold_over_any_sequence_of_events(
    prefix: list[CallEvent], events: list[CallEvent]
) -> None:
    """No effect after the end; exactly one end, logged by the driver only for a call the
    ACD never queued; at most one agent bridged at a time; hold only from talking."""
    state, _ = start(contact_id="v-1", caller="138", called="400", at=0.0)
    finishes = 0
    for n, raw in enumerate([*prefix, *events], start=1):
        event = dataclasses.replace(raw, at=float(n))  # time moves on
        before = state
        state, effects = transition(before, event)
        if before.phase is Phase.ENDED:
            assert effects == () and state == before
            continue
        for effect in effects:
            if isinstance(effect, Finish):
                finishes += 1
                # the engine writes ``finished`` for the contacts it queued (after wrap-up)
                assert effect.log == (before.queued_at is None)
            elif isinstance(effect, Bridge):
                assert before.phase is Phase.RINGING  # never a second agent on the line
            elif isinstance(effect, Log) and effect.kind is EventKind.HELD:
                assert before.phase is Phase.TALKING
        if effects and isinstance(effects[-1], Finish):
            assert sum(isinstance(e, Finish) for e in effects) == 1
        # the state's own facts agree with its phase
        assert (state.phase is Phase.ENDED) == (finishes == 1)
        assert finishes <= 1
        if state.phase in CONNECTED:
            assert state.agent_id is not None and state.answered_at is not None
        if state.phase not in CONNECTED and state.phase not in (Phase.SURVEY, Phase.ENDED):
            assert state.agent_id is None  # nobody on the line before an answer
        if state.held_since is not None:
            assert state.phase in (Phase.HELD, Phase.CONSULTING, Phase.ENDED)
        if state.phase is Phase.HELD:
            assert state.held_since is not None
        if state.phase is Phase.RINGING:
            assert state.ringing_agent is not None
