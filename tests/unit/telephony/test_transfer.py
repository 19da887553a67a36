"""Blind transfer: REFER from the agent's phone, or a B2BUA re-route, through the ACD."""

from __future__ import annotations

import asyncio

import pytest

from hotline.telephony.ports import TransferRefused
from tests.unit.telephony.test_call_center import Rig, _engine_rig, _to_queue, run


async def _connected_to_a001(rig: Rig) -> None:
    rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
    await _to_queue(rig)
    rig.center.answered("out-1", "v=0 agent one")
    await rig.settle()
    rig.center.registration_changed("1002", "sip:1002@127.0.0.1:5072")
    await rig.settle()


def test_refer_to_another_agents_phone_rings_it_and_bridges_there() -> None:
    async def scenario(rig: Rig) -> None:
        await _connected_to_a001(rig)
        contact = rig.contact
        rig.center.transfer_requested("out-1", "<sip:1002@127.0.0.1:5060>")
        await rig.settle()
        assert ("dial", "out-2", "sip:1002@127.0.0.1:5072") in rig.sip.actions
        assert rig.media.played(contact)[-1] == "music_on_hold"  # while the next one rings
        rig.center.answered("out-2", "v=0 agent two")
        await rig.settle()
        rig.center.hung_up("out-2")
        await rig.settle()
        await rig.key("4")

    rig = run(scenario)
    [transferred] = [e for e in rig.sink.events if e.kind.value == "transferred"]
    assert (transferred.agent_id, dict(transferred.data)) == ("a001", {"to_agent": "a002"})
    answered = [e.agent_id for e in rig.sink.events if e.kind.value == "answered"]
    assert answered == ["a001", "a002"]
    # one recording for the whole call, across both agents
    assert [c for c, _ in rig.media.commands].count("start_recording") == 1
    assert rig.sink.kinds(rig.contact).count("recording_started") == 1
    assert rig.data("survey_answered")[0]["score"] == 4


def test_refer_to_a_queue_requeues_the_caller() -> None:
    async def scenario(rig: Rig) -> None:
        await _connected_to_a001(rig)
        rig.clock.advance(5)  # a001 (wrapping up now) has been idle less long than a002
        rig.center.transfer_requested("out-1", "<sip:repair@127.0.0.1>")
        await rig.settle()
        assert ("dial", "out-2", "sip:1002@127.0.0.1:5072") in rig.sip.actions
        rig.center.hung_up("in-1")

    rig = run(scenario)
    [transferred] = [e for e in rig.sink.events if e.kind.value == "transferred"]
    assert dict(transferred.data) == {"to_queue": "repair"}
    offered = [e for e in rig.sink.events if e.kind.value == "offered"]
    assert offered[-1].queue == "repair" and offered[-1].agent_id == "a002"


def test_refused_transfer_ends_the_conversation_with_the_survey() -> None:
    async def scenario(rig: Rig) -> None:
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await _to_queue(rig)
        rig.center.answered("out-1", "v=0 agent one")
        await rig.settle()
        rig.center.transfer_requested("out-1", "<sip:1002@127.0.0.1>")  # 1002 not registered
        await rig.settle()
        assert rig.media.played(rig.contact)[-1] == "survey"
        rig.center.hung_up("in-1")

    rig = run(scenario)
    assert rig.data("transferred") == []
    [disconnected] = [e for e in rig.sink.events if e.kind.value == "disconnected"]
    assert disconnected.agent_id == "a001"  # the conversation ended there


def test_api_transfer_hangs_up_the_agents_phone_and_needs_a_connected_call() -> None:
    async def scenario(rig: Rig) -> None:
        await _connected_to_a001(rig)
        with pytest.raises(TransferRefused):
            rig.center.transfer("v-unknown", queue="repair")
        with pytest.raises(ValueError):
            rig.center.transfer(rig.contact, queue="repair", agent_id="a002")
        rig.center.transfer(rig.contact, agent_id="a002")
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions
        assert ("dial", "out-2", "sip:1002@127.0.0.1:5072") in rig.sip.actions
        rig.center.hung_up("in-1")

    run(scenario)


def test_with_the_routing_engine_a_transfer_to_an_agent_is_logged_by_the_engine() -> None:
    rig = _engine_rig()

    async def scenario() -> None:
        await _connected_to_a001(rig)
        rig.clock.advance(20)
        rig.center.transfer_requested("out-1", "<sip:a002@127.0.0.1>")
        await rig.settle()
        rig.center.answered("out-2", "v=0 agent two")
        await rig.settle()
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    kinds = rig.sink.kinds(rig.contact)
    assert kinds.count("transferred") == 1, kinds
    answered = [e.agent_id for e in rig.sink.events if e.kind.value == "answered"]
    assert answered == ["a001", "a002"]
