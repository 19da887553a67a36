"""Queue exits on the voice path: voicemail, the callback (pressed or by rule), closed message.

The routing engine decides (the center file's overflow rules, or the caller pressing 1); the
voice driver tells the caller, records a voicemail, releases the caller, and places the
callback when the engine offers it: the agent's phone first, then the customer via the trunk.
"""

from __future__ import annotations

import asyncio
import dataclasses

from hotline.config.validate import load_center
from hotline.live.phones import PHONE_UNREGISTERED
from hotline.routing.engine import RoutingEngine
from hotline.routing.from_center import routing_config_from_center
from hotline.routing.model import AgentLoggedIn
from hotline.telephony.acd import EngineRouter, voice_routing_config
from hotline.telephony.call_center import CallCenter
from hotline.telephony.fake import FakeNumberScreen
from hotline.telephony.server import SAMPLE_CENTER
from tests.unit.telephony.test_call_center import OPEN, Rig, _to_queue

TRUNK = "sip:{number}@127.0.0.1:5090"


def _rig(
    *,
    trunk: str | None = TRUNK,
    honour_hours: bool = False,
    screen: FakeNumberScreen | None = None,
) -> Rig:
    rig = Rig()
    center = load_center(SAMPLE_CENTER)
    if honour_hours:
        config = routing_config_from_center(center, honour_hours=True)
    else:
        config = voice_routing_config(center, callbacks=trunk is not None)
    router = EngineRouter(RoutingEngine(config))
    rig.router = router
    settings = dataclasses.replace(rig.center.settings, trunk=trunk, do_not_call=screen)
    rig.center = CallCenter(
        settings=settings, media=rig.media, router=router, sink=rig.sink, clock=rig.clock
    )
    rig.center.signalling = rig.sip
    return rig


def _engine(rig: Rig) -> RoutingEngine:
    return rig.router.engine


def _events(rig: Rig, contact_id: str) -> list[tuple[str, dict[str, object]]]:
    return [(e.kind.value, dict(e.data)) for e in rig.sink.events if e.contact_id == contact_id]


def test_nobody_logged_in_sends_the_caller_to_voicemail_and_keeps_the_message() -> None:
    rig = _rig()

    async def scenario() -> None:
        await _to_queue(rig)  # installation: no_agents_logged_in -> voicemail
        await rig.settle(0.1)
        contact = rig.contact
        assert rig.media.played(contact)[-2:] == ["voicemail_greeting", "beep"]
        assert ("start_recording", {"call": contact}) in rig.media.commands
        assert contact in rig.center.calls  # the caller is still speaking
        rig.clock.advance(20)
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    events = _events(rig, rig.contact)
    kinds = [kind for kind, _ in events]
    assert ("overflowed", {"to": "voicemail", "reason": "no_agents_logged_in"}) in events
    assert kinds.count("finished") == 1
    assert dict(events[kinds.index("finished")][1])["outcome"] == "overflowed"
    [started] = [data for kind, data in events if kind == "recording_started"]
    assert started["kind"] == "voicemail"
    [stopped] = [data for kind, data in events if kind == "recording_stopped"]
    assert stopped["kind"] == "voicemail"
    assert stopped["path"] == f"/recordings/{rig.contact}.wav"


def test_the_voicemail_line_closes_after_the_longest_message() -> None:
    rig = _rig()
    rig.center.settings.voicemail_max_s = 0.05

    async def scenario() -> None:
        await _to_queue(rig)
        await rig.settle(0.2)

    asyncio.run(scenario())
    assert ("hang_up", "in-1") in rig.sip.actions
    assert rig.contact not in rig.center.calls


def _waiting_with_agents_phone_gone(rig: Rig) -> None:
    # a001 is logged in, made not ready by the system because the phone went away: a phone
    # registering makes them ready again (a break they chose would stay a break)
    _engine(rig).handle(
        AgentLoggedIn(at=OPEN, agent_id="a001", ready=False, reason=PHONE_UNREGISTERED)
    )


def test_pressing_1_keeps_the_place_and_the_callback_rings_the_agent_then_the_customer() -> None:
    rig = _rig()

    async def scenario() -> None:
        _waiting_with_agents_phone_gone(rig)
        await _to_queue(rig)
        await rig.settle(0.1)
        contact = rig.contact
        assert "callback_offer" in rig.media.played(contact)  # offered with the announcement
        rig.clock.advance(30)
        await rig.key("1")
        await rig.settle(0.05)
        assert rig.media.played(contact)[-1] == "callback_confirmed"
        assert ("hang_up", "in-1") in rig.sip.actions
        assert contact not in rig.center.calls
        callback = f"{contact}:callback"
        assert rig.center.callback_numbers[callback] == "13800000000"
        # a001 comes back, phone registered: the engine offers the callback, the phone rings
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await rig.settle()
        dial = [a for a in rig.sip.actions if a[0] == "dial"]
        assert dial[-1][2] == "sip:1001@127.0.0.1:5071"
        agent_leg = dial[-1][1]
        rig.clock.advance(3)
        rig.center.answered(agent_leg, "v=0 agent")
        await rig.settle()
        dial = [a for a in rig.sip.actions if a[0] == "dial"]
        assert dial[-1][2] == "sip:13800000000@127.0.0.1:5090"  # the customer, via the trunk
        customer_leg = dial[-1][1]
        rig.clock.advance(5)
        rig.center.answered(customer_leg, "v=0 customer")
        await rig.settle()
        assert ("start_recording", {"call": callback}) in rig.media.commands
        rig.clock.advance(60)
        rig.center.hung_up(customer_leg)
        await rig.settle()
        assert ("hang_up", agent_leg) in rig.sip.actions
        rig.clock.advance(31)  # installation wrap-up
        rig.center.tick()
        await rig.center.drain()

    asyncio.run(scenario())
    original = _events(rig, rig.contact)
    assert (
        "callback_requested",
        {"callback_id": f"{rig.contact}:callback", "reason": "requested"},
    ) in original
    assert [d["outcome"] for k, d in original if k == "finished"] == ["callback"]
    callback = _events(rig, f"{rig.contact}:callback")
    kinds = [kind for kind, _ in callback]
    for kind in ("queued", "offered", "answered", "dialled", "disconnected", "finished"):
        assert kinds.count(kind) == 1, (kind, kinds)
    assert dict(callback[kinds.index("dialled")][1])["result"] == "answered"
    assert dict(callback[kinds.index("finished")][1])["outcome"] == "answered"
    assert dict(callback[kinds.index("arrived")][1])["callback_for"] == rig.contact


async def _callback_ringing(rig: Rig) -> str:
    """A caller presses 1; a001 comes back from a break and the callback rings their phone."""
    _waiting_with_agents_phone_gone(rig)
    await _to_queue(rig)
    await rig.settle(0.1)
    await rig.key("1")
    await rig.settle(0.05)
    rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
    await rig.settle()
    return str([a for a in rig.sip.actions if a[0] == "dial"][-1][1])


def test_a_callback_nobody_answers_at_the_customer_end_is_logged_and_ends() -> None:
    rig = _rig()

    async def scenario() -> None:
        agent_leg = await _callback_ringing(rig)
        rig.center.answered(agent_leg, "v=0 agent")
        await rig.settle()
        customer_leg = [a for a in rig.sip.actions if a[0] == "dial"][-1][1]
        rig.center.failed(customer_leg, 486)
        await rig.settle()
        assert ("hang_up", agent_leg) in rig.sip.actions

    asyncio.run(scenario())
    callback = _events(rig, f"{rig.contact}:callback")
    assert [d["result"] for k, d in callback if k == "dialled"] == ["busy"]
    assert "disconnected" in [k for k, _ in callback]  # the agent wraps up


def test_an_agent_not_answering_a_callback_is_ring_no_answer_and_the_callback_waits() -> None:
    rig = _rig()

    async def scenario() -> None:
        agent_leg = await _callback_ringing(rig)
        rig.center.failed(agent_leg, 486)
        await rig.settle()

    asyncio.run(scenario())
    callback_id = f"{rig.contact}:callback"
    assert "ring_no_answer" in [k for k, _ in _events(rig, callback_id)]
    assert _engine(rig).contact_stage(callback_id) == "waiting"


def test_without_a_trunk_no_callback_is_offered_and_1_does_nothing_in_the_queue() -> None:
    rig = _rig(trunk=None)

    async def scenario() -> None:
        _waiting_with_agents_phone_gone(rig)
        await _to_queue(rig)
        await rig.settle(0.1)
        await rig.key("1")
        await rig.settle(0.05)
        assert rig.contact in rig.center.calls
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    assert "callback_offer" not in rig.media.played(rig.contact)
    assert "callback_requested" not in [k for k, _ in _events(rig, rig.contact)]


def test_the_callback_rule_releases_a_caller_who_waited_too_long() -> None:
    rig = _rig()

    async def scenario() -> None:
        _waiting_with_agents_phone_gone(rig)
        await _to_queue(rig)
        await rig.settle(0.1)
        rig.clock.advance(241)  # installation: wait_exceeds 240 -> callback
        rig.center.tick()
        await rig.settle(0.05)

    asyncio.run(scenario())
    assert rig.media.played(rig.contact)[-1] == "callback_confirmed"
    events = _events(rig, rig.contact)
    assert [d["outcome"] for k, d in events if k == "finished"] == ["callback"]
    assert ("hang_up", "in-1") in rig.sip.actions


def test_a_caller_reaching_a_queue_just_after_it_closed_hears_the_closed_message() -> None:
    rig = _rig(honour_hours=True)
    engine = _engine(rig)

    async def scenario() -> None:
        rig.clock.advance(11 * 3600 - 5)  # 20:59:55; the sample hotline closes at 21:00
        engine.handle(
            AgentLoggedIn(at=rig.clock.now(), agent_id="a001", ready=False, reason="break")
        )
        rig.center.incoming("in-1", caller="13800000000", called="400", sdp="v=0")
        await rig.settle()
        await rig.key("2")  # English; the IVR found the hotline open
        await rig.settle(0.05)
        rig.clock.advance(10)  # the caller listens to the menu past closing time
        await rig.key("2")  # installation
        await rig.settle(0.1)

    asyncio.run(scenario())
    events = _events(rig, rig.contact)
    assert [d["outcome"] for k, d in events if k == "finished"] == ["closed"]
    assert rig.media.played(rig.contact)[-1] == "closed"
    assert ("hang_up", "in-1") in rig.sip.actions
    assert rig.contact not in rig.center.calls


def test_a_callback_to_a_listed_number_is_never_dialled_and_frees_the_agent() -> None:
    screen = FakeNumberScreen({"13800000000": "center"})
    rig = _rig(screen=screen)

    async def scenario() -> None:
        _waiting_with_agents_phone_gone(rig)
        await _to_queue(rig)
        await rig.settle(0.1)
        await rig.key("1")
        await rig.settle(0.05)
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await rig.settle()
        await rig.center.drain()

    asyncio.run(scenario())
    callback = f"{rig.contact}:callback"
    # neither the agent's phone nor the customer's number was rung
    assert [a for a in rig.sip.actions if a[0] == "dial"] == []
    events = _events(rig, callback)
    assert ("dialled", {"direction": "outbound", "result": "do_not_call"}) in events
    assert [d["outcome"] for k, d in events if k == "finished"] == ["abandoned"]
    assert _engine(rig).agent_contacts("a001") == {}  # free again for the next one
    assert [(r["path"], r["contact"]) for r in screen.refusals] == [("callback", callback)]
