"""A voice node acting on the owner's log (``hotline.telephony.owner_routing``): which of the
owner's events about its calls become which of the voice driver's decisions, and that it
acts only on its own calls."""

from __future__ import annotations

import asyncio
import dataclasses
from types import SimpleNamespace
from typing import Any

import pytest

from hotline.core.events import Channel, Event, EventKind
from hotline.store.voice_nodes import Leg
from hotline.telephony.call_center import CallCenter
from hotline.telephony.call_state import Phase
from hotline.telephony.owner_routing import NodeOutbox, OwnerRouter, carry_out, log_decisions
from hotline.telephony.ports import (
    AgentPhone,
    AnnounceWait,
    QueueChanged,
    ReleaseCaller,
    RingAgent,
    StopRinging,
    TransferRefused,
)
from tests.unit.telephony.test_call_center import Rig, _to_queue
from tests.unit.telephony.test_transfer_out import TRUNK

VOICE = Channel.VOICE


def _event(kind: EventKind, agent: str | None = None, **data: Any) -> Event:
    return Event(5, 1.0, kind, "v-1", agent, "repair", VOICE, data)


@pytest.mark.parametrize(
    ("event", "decisions"),
    [
        (_event(EventKind.OFFERED, "a001"), [RingAgent("v-1", "a001", 0.0)]),
        (_event(EventKind.RING_NO_ANSWER, "a001"), [StopRinging("v-1", "a001", "ring_no_answer")]),
        (
            _event(EventKind.RING_NO_ANSWER, "a001", rejected=True),
            [StopRinging("v-1", "a001", "rejected")],
        ),
        (
            _event(EventKind.OVERFLOWED, to="complaints", reason="wait_exceeds"),
            [QueueChanged("v-1", "complaints", "wait_exceeds")],
        ),
        (
            _event(EventKind.OVERFLOWED, to="voicemail", reason="wait_exceeds"),
            [ReleaseCaller("v-1", "repair", "voicemail")],
        ),
        (
            _event(EventKind.OVERFLOWED, to="forward", number="13900000000", reason="closed"),
            [ReleaseCaller("v-1", "repair", "forward", number="13900000000")],
        ),
        (
            _event(EventKind.CALLBACK_REQUESTED, callback_id="v-1:callback", reason="pressed"),
            [ReleaseCaller("v-1", "repair", "callback", "v-1:callback")],
        ),
        (
            _event(EventKind.FINISHED, outcome="closed"),
            [ReleaseCaller("v-1", "repair", "closed_message")],
        ),
        (
            _event(EventKind.POSITION_ANNOUNCED, position=2, estimated_wait_s=90.0),
            [AnnounceWait("v-1", 2, 90.0)],
        ),
        (_event(EventKind.ANSWERED, "a001"), []),
        (_event(EventKind.FINISHED, outcome="answered"), []),
        (_event(EventKind.QUEUED), []),
    ],
)
def test_the_owners_events_become_the_voice_drivers_decisions(
    event: Event, decisions: list[object]
) -> None:
    assert log_decisions(event) == decisions


class _Call:
    def __init__(self, phase: Phase, ringing: str | None = None) -> None:
        self.state = SimpleNamespace(phase=phase, ringing_agent=ringing)


class _Center:
    def __init__(self, connected: set[str], router: Any = None) -> None:
        self.calls = {contact: _Call(Phase.TALKING) for contact in connected}
        self.connected = connected
        self.router = router
        self.routed: list[object] = []
        self.hung_up: list[str] = []

    def phase(self, contact_id: str) -> Phase:
        phase: Phase = self.calls[contact_id].state.phase
        return phase

    def hold(self, contact_id: str) -> None:  # the call state machine asks the ACD, as real
        self.calls[contact_id].state.phase = Phase.HELD
        self.router.contact_held(at=0.0, contact_id=contact_id)

    def resume(self, contact_id: str) -> None:
        self.calls[contact_id].state.phase = Phase.TALKING
        self.router.contact_resumed(at=0.0, contact_id=contact_id)

    def route(self, decisions: list[object]) -> None:
        self.routed += decisions

    def hang_up_agent(self, contact_id: str) -> None:
        if contact_id not in self.connected:
            raise TransferRefused(f"{contact_id} is not a connected call")
        self.hung_up.append(contact_id)


class _Presence:
    node_id = "run-1"

    class options:  # noqa: N801 - the shape of VoiceNodeOptions that NodeOutbox reads
        name = "voice-a"
        partition = "hefei"


def test_the_desks_hold_and_resume_reach_the_call_and_are_not_sent_back() -> None:
    outbox = NodeOutbox(_Presence())  # type: ignore[arg-type]
    outbox.legs = {"v-1": Leg("v-1", 0.0)}
    router = OwnerRouter(outbox, site_of_number=lambda number: None)
    center = _Center(connected={"v-1"}, router=router)

    def owner(kind: EventKind) -> None:
        carry_out(center, outbox, [Event(7, 1.0, kind, "v-1", "a001", "repair", VOICE)])  # type: ignore[arg-type]

    owner(EventKind.HELD)  # from the desk on a web node
    assert center.phase("v-1") is Phase.HELD
    owner(EventKind.HELD)  # this node's own hold, come back from the owner: nothing to do
    owner(EventKind.RESUMED)
    assert center.phase("v-1") is Phase.TALKING
    assert outbox._rows == [], "the owner's own steps are not sent back to it"
    center.hold("v-1")  # the agent's phone holds: news for the owner
    assert [(kind, payload) for kind, payload, _ in outbox._rows] == [
        ("hold", {"contact_id": "v-1"})
    ]


def test_a_node_acts_only_on_its_own_calls_and_hangs_up_on_the_desks_disconnect() -> None:
    outbox = NodeOutbox(_Presence())  # type: ignore[arg-type]
    outbox.legs = {"v-1": Leg("v-1", 0.0), "v-2": Leg("v-2", 0.0)}
    center, mirror = _Center(connected={"v-1"}), []

    class Mirror:
        def append(self, event: Event) -> None:
            mirror.append(event)

    events = [
        Event(1, 1.0, EventKind.OFFERED, "v-9", "a002", "repair", VOICE),  # another node's
        Event(2, 1.0, EventKind.OFFERED, "v-2", "a002", "repair", VOICE),
        Event(3, 1.0, EventKind.RECORDING_STARTED, "v-1", "a001", "repair", VOICE),  # ours
        Event(4, 2.0, EventKind.DISCONNECTED, "v-1", "a001", "repair", VOICE),  # the desk's
        Event(5, 2.0, EventKind.DISCONNECTED, "v-2", "a002", "repair", VOICE),  # not connected
    ]
    assert carry_out(center, outbox, events, Mirror()) == 4  # type: ignore[arg-type]
    assert center.routed == [RingAgent("v-2", "a002", 0.0)]
    assert center.hung_up == ["v-1"]
    assert [e.seq for e in mirror] == [2, 4, 5], "the node's own events are in its log already"
    assert outbox.legs["v-2"].agent_id == "a002" and outbox.legs["v-2"].stage == "wrap_up"


def test_an_offer_anew_while_a_phone_here_still_rings_stops_that_phone_first() -> None:
    """After a takeover the new owner offers a contact its predecessor left ringing (the log
    shows it waiting to a new owner): the phone ringing here stops, the new agent's rings."""
    outbox = NodeOutbox(_Presence())  # type: ignore[arg-type]
    outbox.legs = {"v-1": Leg("v-1", 0.0)}
    center = _Center(connected=set())
    center.calls["v-1"] = _Call(Phase.RINGING, ringing="a001")
    offered = Event(9, 1.0, EventKind.OFFERED, "v-1", "a002", "repair", VOICE)
    carry_out(center, outbox, [offered])  # type: ignore[arg-type]
    assert center.routed == [
        StopRinging("v-1", "a001", "offered_anew"),
        RingAgent("v-1", "a002", 0.0),
    ]
    # offered anew to the agent whose phone rings here (the new owner prefers them): the
    # phone keeps ringing, so an answer on it meets the new offer
    center.routed.clear()
    center.calls["v-1"] = _Call(Phase.RINGING, ringing="a002")
    carry_out(center, outbox, [offered])  # type: ignore[arg-type]
    assert center.routed == []


# -- the desk's transfers and consults, carried out on a real voice driver (SIP and media fakes)

A006 = AgentPhone("a006", "1006", "pw6")
MOBILE = "13900001111"


def _node_rig() -> tuple[Rig, NodeOutbox]:
    """A voice node's driver: the call center routed by an :class:`OwnerRouter` (no engine),
    a trunk, a001 and a006 registered here."""
    rig = Rig()
    outbox = NodeOutbox(_Presence())  # type: ignore[arg-type]
    router = OwnerRouter(outbox, site_of_number=lambda number: None)
    settings = dataclasses.replace(
        rig.center.settings, phones=(*rig.center.settings.phones, A006), trunk=TRUNK
    )
    rig.router = router  # type: ignore[assignment]
    rig.center = CallCenter(
        settings=settings, media=rig.media, router=router, sink=rig.sink, clock=rig.clock
    )
    rig.center.signalling = rig.sip
    return rig, outbox


def _owner(rig: Rig, outbox: NodeOutbox, kind: EventKind, agent: str, **data: Any) -> None:
    event = Event(7, rig.clock.now(), kind, rig.contact, agent, "installation", VOICE, data)
    carry_out(rig.center, outbox, [event])


def _rows(outbox: NodeOutbox) -> list[tuple[str, dict[str, Any]]]:
    return [(kind, payload) for kind, payload, _ in outbox._rows]


async def _talking_on_node(rig: Rig, outbox: NodeOutbox) -> str:
    """A caller through the IVR, queued with the owner, offered to a001 by the owner's log,
    answered on a001's phone (out-1); the outbox emptied."""
    rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
    rig.center.registration_changed("1006", "sip:1006@127.0.0.1:5076")
    await _to_queue(rig)
    contact = rig.contact
    outbox.legs[contact] = Leg(contact, 0.0)
    assert ("contact", contact) in [(k, p.get("contact_id")) for k, p in _rows(outbox)]
    _owner(rig, outbox, EventKind.OFFERED, "a001")
    await rig.settle()
    assert ("dial", "out-1", "sip:1001@127.0.0.1:5071") in rig.sip.actions
    rig.center.answered("out-1", "v=0 a001 phone")
    await rig.settle()
    assert rig.center.calls[contact].state.phase is Phase.TALKING
    outbox._rows.clear()
    return contact


def test_the_desks_blind_transfer_to_an_agent_moves_the_call_and_is_not_sent_back() -> None:
    rig, outbox = _node_rig()

    async def scenario() -> None:
        contact = await _talking_on_node(rig, outbox)
        _owner(rig, outbox, EventKind.TRANSFERRED, "a001", to_agent="a006")
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions  # a001's phone leaves the call
        assert rig.media.played(contact)[-1] == "music_on_hold"  # the caller waits on music
        assert rig.center.calls[contact].state.phase is Phase.TRANSFERRING
        _owner(rig, outbox, EventKind.OFFERED, "a006")  # the owner offers a006: it rings here
        await rig.settle()
        assert ("dial", "out-2", "sip:1006@127.0.0.1:5076") in rig.sip.actions
        rig.center.answered("out-2", "v=0 a006 phone")
        await rig.settle()
        assert rig.center.calls[contact].state.phase is Phase.TALKING
        assert _rows(outbox) == [("answer", {"contact_id": contact, "agent_id": "a006"})]
        # the owner's echo of a transfer this node made itself moves nothing twice
        _owner(rig, outbox, EventKind.TRANSFERRED, "a001", to_agent="a006", warm=True)
        assert rig.center.calls[contact].state.phase is Phase.TALKING
        await rig.center.drain()

    asyncio.run(scenario())


def test_the_desks_transfer_to_a_queue_puts_the_caller_on_music_until_the_owner_offers() -> None:
    rig, outbox = _node_rig()

    async def scenario() -> None:
        contact = await _talking_on_node(rig, outbox)
        _owner(rig, outbox, EventKind.TRANSFERRED, "a001", to_queue="complaints")
        await rig.settle()
        call = rig.center.calls[contact]
        assert ("hang_up", "out-1") in rig.sip.actions
        assert (call.state.phase, call.state.queue) == (Phase.TRANSFERRING, "complaints")
        assert rig.media.played(contact)[-1] == "music_on_hold"
        assert _rows(outbox) == [], "the owner's own transfer is not sent back"
        await rig.center.drain()

    asyncio.run(scenario())


def test_the_desks_transfer_out_forwards_the_caller_through_the_trunk() -> None:
    rig, outbox = _node_rig()

    async def scenario() -> None:
        contact = await _talking_on_node(rig, outbox)
        _owner(rig, outbox, EventKind.TRANSFERRED, "a001", to="number", number=MOBILE)
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions
        dials = [a for a in rig.sip.actions if a[0] == "dial" and a[1].startswith("fwd-")]
        assert [a[2] for a in dials] == [f"sip:{MOBILE}@127.0.0.1:5099"]
        assert rig.center.calls[contact].state.phase is Phase.RELEASED
        assert _rows(outbox) == []
        await rig.center.drain()

    asyncio.run(scenario())


def test_the_desks_consult_rings_the_consulted_phone_and_its_warm_transfer_hands_over() -> None:
    rig, outbox = _node_rig()

    async def scenario() -> None:
        contact = await _talking_on_node(rig, outbox)
        _owner(rig, outbox, EventKind.CONSULT_STARTED, "a001", consulted="a006")
        await rig.settle()
        assert ("dial", "cs-1", "sip:1006@127.0.0.1:5076") in rig.sip.actions
        assert rig.media.played(contact)[-1] == "music_on_hold"
        assert rig.center.calls[contact].state.phase is Phase.CONSULTING
        rig.center.answered("cs-1", "v=0 a006 phone")
        await rig.settle()
        assert ("update", "out-1") in rig.sip.actions  # a001 now talks to a006
        rig.center.answered("out-1", "v=0 a001 phone")
        await rig.settle()
        _owner(rig, outbox, EventKind.CONSULT_ENDED, "a001", consulted="a006", transfer=True)
        _owner(rig, outbox, EventKind.TRANSFERRED, "a001", to_agent="a006", warm=True)
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions
        assert ("update", "cs-1") in rig.sip.actions  # a006's phone moved to the caller
        assert rig.center.calls[contact].agent_leg == "cs-1"
        assert contact not in rig.center.consults.by_contact
        assert _rows(outbox) == [], "the owner's consult and its end are not sent back"
        await rig.center.drain()

    asyncio.run(scenario())


def test_the_desks_consult_back_to_the_caller_and_one_this_node_cannot_ring() -> None:
    rig, outbox = _node_rig()

    async def scenario() -> None:
        contact = await _talking_on_node(rig, outbox)
        _owner(rig, outbox, EventKind.CONSULT_STARTED, "a001", consulted="a006")
        await rig.settle()
        _owner(rig, outbox, EventKind.CONSULT_ENDED, "a001", consulted="a006", transfer=False)
        await rig.settle()
        assert ("hang_up", "cs-1") in rig.sip.actions  # a006's ringing phone stops
        assert rig.center.calls[contact].state.phase is Phase.TALKING
        assert contact not in rig.center.consults.by_contact
        assert _rows(outbox) == []
        # a002 has no phone registered through this node: the node tells the owner the
        # consult ended (its engine frees a002), and a later consult is not swallowed
        _owner(rig, outbox, EventKind.CONSULT_STARTED, "a001", consulted="a002")
        await rig.settle()
        assert rig.center.calls[contact].state.phase is Phase.TALKING
        ended = {"contact_id": contact, "transfer": False}
        assert _rows(outbox) == [("consult_end", ended)]
        rig.center.consult(contact, "a006")
        assert _rows(outbox)[-1] == ("consult", {"contact_id": contact, "to_agent": "a006"})
        await rig.center.drain()

    asyncio.run(scenario())


def test_an_agents_refer_waits_for_the_owners_answer_transferred_or_refused() -> None:
    """A REFER on a voice node asks the owner (the row says ``refer``) and moves nothing; the
    owner's ``transferred`` moves the call. Silence is no answer: only the owner's
    ``disconnected`` saying ``transfer_refused`` ends the conversation, as a refused transfer
    does on the one-process server (the caller gets the survey), and the end it causes is not
    sent back to the owner, who ended it already."""
    rig, outbox = _node_rig()

    async def scenario() -> None:
        contact = await _talking_on_node(rig, outbox)
        rig.center.transfer_requested("out-1", "<sip:1006@127.0.0.1>")
        await rig.settle()
        asked = {"contact_id": contact, "to_agent": "a006", "refer": "1006"}
        assert _rows(outbox) == [("transfer", asked)]
        assert rig.center.calls[contact].state.phase is Phase.TALKING  # not moved yet
        _owner(rig, outbox, EventKind.TRANSFERRED, "a001", to_agent="a006")
        await rig.settle()
        assert rig.center.calls[contact].state.phase is Phase.TRANSFERRING
        assert rig.media.played(contact)[-1] == "music_on_hold"
        _owner(rig, outbox, EventKind.OFFERED, "a006")
        await rig.settle()
        assert ("dial", "out-2", "sip:1006@127.0.0.1:5076") in rig.sip.actions
        assert len(_rows(outbox)) == 1, "the owner's transfer is not sent back"
        assert rig.center.calls[contact].state.phase is Phase.RINGING
        await rig.center.drain()

    asyncio.run(scenario())

    rig, outbox = _node_rig()

    async def refused() -> None:
        contact = await _talking_on_node(rig, outbox)
        rig.center.transfer_requested("out-1", "<sip:complaints@127.0.0.1>")
        await rig.settle(0.3)  # no answer yet: the caller waits on, nothing is decided here
        assert rig.center.calls[contact].state.phase is Phase.TALKING
        assert rig.media.played(contact)[-1] != "survey"
        refusal = {"by": "agent", "transfer_refused": "complaints", "reason": "queue closed"}
        _owner(rig, outbox, EventKind.DISCONNECTED, "a001", **refusal)
        await rig.settle()
        assert rig.media.played(contact)[-1] == "survey"
        assert rig.center.calls[contact].state.phase is Phase.SURVEY
        assert _rows(outbox) == [
            ("transfer", {"contact_id": contact, "to_queue": "complaints", "refer": "complaints"})
        ], "the end the owner logged is not sent back to it"
        # the same refusal again (a takeover re-applying the row) changes nothing
        _owner(rig, outbox, EventKind.DISCONNECTED, "a001", **refusal)
        await rig.settle()
        assert _rows(outbox)[-1][0] == "transfer"
        rig.center.hung_up("in-1")
        await rig.center.drain()
        assert not rig.router._echoes, "no echo left to swallow a later step"  # type: ignore[attr-defined]

    asyncio.run(refused())


def test_a_new_owners_offer_to_the_agent_whose_phone_rings_here_meets_its_answer() -> None:
    """The owner dies while a001's phone rings here; the new owner offers the caller to a001
    again (it prefers them): the phone keeps ringing (no hang-up, no second INVITE) and its
    answer goes to the owner as an answer to that offer. An offer arriving after the answer
    moves nothing."""
    rig, outbox = _node_rig()

    async def scenario() -> None:
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await _to_queue(rig)
        contact = rig.contact
        outbox.legs[contact] = Leg(contact, 0.0)
        _owner(rig, outbox, EventKind.OFFERED, "a001")
        await rig.settle()
        dials = [a for a in rig.sip.actions if a[0] == "dial"]
        assert dials == [("dial", "out-1", "sip:1001@127.0.0.1:5071")]
        outbox._rows.clear()
        _owner(rig, outbox, EventKind.OFFERED, "a001")  # the new owner's offer anew
        await rig.settle()
        assert [a for a in rig.sip.actions if a[0] == "dial"] == dials
        assert ("hang_up", "out-1") not in rig.sip.actions
        rig.center.answered("out-1", "v=0 a001 phone")
        await rig.settle()
        assert rig.center.calls[contact].state.phase is Phase.TALKING
        assert _rows(outbox) == [("answer", {"contact_id": contact, "agent_id": "a001"})]
        _owner(rig, outbox, EventKind.OFFERED, "a001")  # the other order: answered first
        await rig.settle()
        assert [a for a in rig.sip.actions if a[0] == "dial"] == dials
        assert rig.center.calls[contact].state.phase is Phase.TALKING
        await rig.center.drain()

    asyncio.run(scenario())
