"""The voice path prefers the site of the caller's region: the calling number names the site
(the center file's ``sites[].regions``), and the queue offers the call to that site's agent
first, ahead of the strategy's choice.

The driver runs against the in-tree fakes of the media server and SIP side, routed by the
real routing engine (as :mod:`tests.unit.telephony.test_call_center`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from hotline.config.flow import sample_flow
from hotline.core.clock import ManualClock
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import RoutingConfig
from hotline.telephony.acd import EngineRouter
from hotline.telephony.call_center import CallCenter, CallCenterSettings
from hotline.telephony.fake import FakeMediaServer, FakeSignalling, ListSink
from tests.unit.telephony.test_call_center import OPEN, PHONES, rig_routing_config


def two_site_config() -> RoutingConfig:
    """The sample center's voice routing with a002 moved to chengdu and the installation
    queue preferring the caller's site for 30 s (a001 works in hefei)."""
    config = rig_routing_config()
    agents = tuple(
        dataclasses.replace(a, site="chengdu") if a.id == "a002" else a for a in config.agents
    )
    queues = tuple(
        dataclasses.replace(q, prefer_caller_site_s=30) if q.id == "installation" else q
        for q in config.queues
    )
    return dataclasses.replace(config, agents=agents, queues=queues)


def test_a_caller_from_chengdus_region_is_answered_by_chengdus_agent() -> None:
    media, sip, sink = FakeMediaServer(duration_ms=5), FakeSignalling(), ListSink()
    clock = ManualClock(OPEN)
    center = CallCenter(
        settings=CallCenterSettings(
            flow=sample_flow(),
            prompts=Path("/prompts"),
            recordings=Path("/recordings"),
            phones=PHONES,
        ),
        media=media,
        router=EngineRouter(RoutingEngine(two_site_config())),
        sink=sink,
        clock=clock,
    )
    center.signalling = sip

    async def settle() -> None:
        await asyncio.sleep(0.05)
        await center.drain()

    async def scenario() -> None:
        center.registration_changed("1001", "sip:1001@127.0.0.1:5071")  # a001, hefei
        await settle()
        clock.advance(5)  # a001 has now been idle longest: the strategy's choice
        center.registration_changed("1002", "sip:1002@127.0.0.1:5072")  # a002, chengdu
        await settle()
        center.incoming("in-1", caller="028-8765 4321", called="400", sdp="v=0")
        await settle()
        contact = next(e.contact_id for e in sink.events if e.contact_id)
        for key in ("2", "2"):  # English, installation
            center.dtmf(contact, "caller", key)
            await settle()
            await settle()
        offered = [e.agent_id for e in sink.events if e.kind.value == "offered"]
        assert offered == ["a002"]
        assert any(
            action[0] == "dial" and action[2].startswith("sip:1002@") for action in sip.actions
        )
        center.answered("out-1", "v=0 agent")
        await settle()
        answered = [e.agent_id for e in sink.events if e.kind.value == "answered"]
        assert answered == ["a002"]
        center.hung_up("in-1")
        await center.drain()

    asyncio.run(scenario())
