"""Outbound origination (click-to-dial) against the in-tree fakes and the routing engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.config.flow import sample_flow
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.routing.engine import RoutingEngine
from hotline.telephony.acd import EngineRouter, voice_routing_config
from hotline.telephony.call_center import CallCenter, CallCenterSettings
from hotline.telephony.fake import FakeMediaServer, FakeNumberScreen, FakeSignalling, ListSink
from hotline.telephony.outbound import DoNotCallRefused, OriginationRefused
from hotline.telephony.ports import AgentPhone
from hotline.telephony.server import SAMPLE_CENTER

OPEN = 1772416800.0
PHONES = (AgentPhone("a001", "1001", "pw1"),)
TRUNK = "sip:{number}@127.0.0.1:5070"


def make_center(
    *, trunk: str | None = TRUNK, screen: FakeNumberScreen | None = None
) -> tuple[CallCenter, FakeSignalling, ListSink]:
    sip, sink = FakeSignalling(), ListSink()
    router = EngineRouter(RoutingEngine(voice_routing_config(load_center(SAMPLE_CENTER))))
    center = CallCenter(
        settings=CallCenterSettings(
            flow=sample_flow(),
            prompts=Path("/prompts"),
            recordings=Path("/recordings"),
            phones=PHONES,
            trunk=trunk,
            do_not_call=screen,
        ),
        media=FakeMediaServer(duration_ms=5),
        router=router,
        sink=sink,
        clock=ManualClock(OPEN),
    )
    center.signalling = sip
    return center, sip, sink


def outbound_kinds(sink: ListSink, contact: str) -> list[str]:
    events = [e for e in sink.events if e.contact_id == contact]
    assert all(e.data.get("direction") == "outbound" for e in events)
    return [e.kind.value for e in events]


def test_click_to_dial_rings_agent_then_customer_and_bridges() -> None:
    # With the routing engine the ACD keeps the log of routed contacts; an outbound call
    # never went through it, so the driver must still write its offered/answered events.
    async def scenario() -> None:
        center, sip, sink = make_center()
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        contact = await center.originate(agent_id="a001", number="13800000000")
        dials = [a for a in sip.actions if a[0] == "dial"]
        assert dials == [("dial", "ob-1", "sip:1001@127.0.0.1:5090")]  # the agent first
        center.answered("ob-1", "v=0 agent")
        await center.drain()
        dials = [a for a in sip.actions if a[0] == "dial"]
        assert dials[-1] == ("dial", "ob-2", "sip:13800000000@127.0.0.1:5070")
        center.answered("ob-2", "v=0 customer")
        await center.drain()
        media = center.media
        assert isinstance(media, FakeMediaServer)
        assert any(c[0] == "start_recording" for c in media.commands)
        center.hung_up("ob-2")  # the customer hangs up: the agent's leg is ended
        await center.drain()
        assert ("hang_up", "ob-1") in sip.actions
        assert outbound_kinds(sink, contact) == [
            "arrived",
            "offered",
            "offered",
            "answered",
            "recording_started",
            "disconnected",
            "finished",
        ]
        finished = [
            e for e in sink.events if e.contact_id == contact and e.kind.value == "finished"
        ]
        assert finished[0].data["outcome"] == "answered"
        assert finished[0].agent_id == "a001"
        assert contact not in center.outbound.calls

    asyncio.run(scenario())


def test_customer_busy_ends_agent_leg_as_failed() -> None:
    async def scenario() -> None:
        center, sip, sink = make_center()
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        contact = await center.originate(agent_id="a001", number="13800000000")
        center.answered("ob-1", "v=0 agent")
        await center.drain()
        center.failed("ob-2", 486)
        await center.drain()
        assert ("hang_up", "ob-1") in sip.actions
        finished = [
            e for e in sink.events if e.contact_id == contact and e.kind.value == "finished"
        ]
        assert finished[0].data["outcome"] == "failed"
        assert finished[0].data["reason"] == "customer_sip_486"

    asyncio.run(scenario())


def test_agent_not_answering_never_dials_customer() -> None:
    async def scenario() -> None:
        center, sip, _ = make_center()
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await center.originate(agent_id="a001", number="13800000000")
        center.failed("ob-1", 480)
        await center.drain()
        assert [a for a in sip.actions if a[0] == "dial"] == [
            ("dial", "ob-1", "sip:1001@127.0.0.1:5090")
        ]

    asyncio.run(scenario())


def test_refused_without_phone_or_trunk() -> None:
    async def scenario() -> None:
        center, _, _ = make_center()
        with pytest.raises(OriginationRefused, match="no registered phone"):
            await center.originate(agent_id="a001", number="1")
        center, _, _ = make_center(trunk=None)
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        with pytest.raises(OriginationRefused, match="no outbound trunk"):
            await center.originate(agent_id="a001", number="1")

    asyncio.run(scenario())


def test_a_listed_number_is_never_dialled_by_click_to_dial_and_the_refusal_is_kept() -> None:
    screen = FakeNumberScreen({"13800000000": "center"})

    async def scenario() -> None:
        center, sip, sink = make_center(screen=screen)
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        with pytest.raises(DoNotCallRefused, match="do-not-call list") as refused:
            await center.originate(agent_id="a001", number="13800000000")
        assert refused.value.list_name == "center"
        await center.drain()
        assert [a for a in sip.actions if a[0] == "dial"] == []  # not even the agent's phone
        assert [e for e in sink.events if e.contact_id] == [] and center.outbound.calls == {}
        # another number goes out as before
        await center.originate(agent_id="a001", number="13900000000")
        assert [a[0] for a in sip.actions] == ["dial"]

    asyncio.run(scenario())
    assert screen.refusals == [
        {
            "number": "13800000000",
            "list": "center",
            "agent": "a001",
            "path": "click_to_dial",
            "contact": None,
        }
    ]
