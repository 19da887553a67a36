"""Caller recognition in the voice driver: nuisance numbers refused, VIPs and complaint callers
raised, a ticket's owner offered the call first, the agent's job number announced.

The driver runs against the in-tree fakes of the media server and SIP side, routed by the
real routing engine; the caller directory is a small class with fixed answers (the real one,
over the CRM and ticket tables, is tested in the end-to-end voice test).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from hotline.config.caller_rules import CallerFacts, CallerRules, OpenTicket
from hotline.config.flow import sample_flow
from hotline.core.clock import ManualClock
from hotline.routing.engine import RoutingEngine
from hotline.telephony.acd import EngineRouter
from hotline.telephony.call_center import CallCenter, CallCenterSettings
from hotline.telephony.fake import FakeMediaServer, FakeSignalling, ListSink
from tests.unit.telephony.test_call_center import OPEN, PHONES, rig_routing_config

RULES = CallerRules.model_validate(
    {
        "nuisance": [
            {"number": "13900000001"},
            {"number": "13900000002", "action": "recording"},
        ],
        "vip": [{"min_level": 3, "priority": 50}],
        "complaints": {"priority": 40},
        "sticky": {"prefer_for_s": 60},
    }
)


class Directory:
    """A caller directory with fixed answers (or a failure)."""

    def __init__(self, facts: dict[str, CallerFacts], *, fail: bool = False) -> None:
        self.known = facts
        self.fail = fail
        self.asked: list[str] = []

    async def facts(self, number: str) -> CallerFacts:
        self.asked.append(number)
        if self.fail:
            raise ConnectionError("database is down")
        return self.known.get(number, CallerFacts(number))

    def normalize(self, number: str) -> str | None:
        return "".join(ch for ch in number if ch.isdigit()) or None


class Rig:
    def __init__(self, directory: Directory, **settings: object) -> None:
        self.media = FakeMediaServer(duration_ms=5)
        self.sip = FakeSignalling()
        self.router = EngineRouter(RoutingEngine(rig_routing_config()))
        self.sink = ListSink()
        self.clock = ManualClock(OPEN)
        base = CallCenterSettings(
            flow=sample_flow(),
            prompts=Path("/prompts"),
            recordings=Path("/recordings"),
            phones=PHONES,
            caller_rules=RULES,
            agents=frozenset({"a001", "a002"}),
        )
        self.directory = directory
        self.center = CallCenter(
            settings=dataclasses.replace(base, **settings),  # type: ignore[arg-type]
            media=self.media,
            router=self.router,
            sink=self.sink,
            clock=self.clock,
            callers=directory,
        )
        self.center.signalling = self.sip

    def events(self, kind: str, contact: str | None = None) -> list[dict[str, object]]:
        return [
            {**e.data, "queue": e.queue, "agent": e.agent_id}
            for e in self.sink.events
            if e.kind.value == kind and (contact is None or e.contact_id == contact)
        ]

    def contact_of(self, caller: str) -> str:
        return next(
            e.contact_id
            for e in self.sink.events
            if e.kind.value == "arrived" and e.data.get("caller") == caller and e.contact_id
        )

    async def settle(self, seconds: float = 0.05) -> None:
        await asyncio.sleep(seconds)
        await self.center.drain()

    async def to_installation(self, leg: str, caller: str) -> str:
        """Call in, choose English and installation: the caller is queued."""
        self.center.incoming(leg, caller=caller, called="400", sdp="v=0")
        await self.settle()
        contact = self.contact_of(caller)
        for key in ("2", "2"):  # English, installation
            self.center.dtmf(contact, "caller", key)
            await self.settle(0.08)
        return contact


def run(rig: Rig, scenario: object) -> None:
    async def main() -> None:
        await scenario(rig)  # type: ignore[operator]
        await rig.center.drain()

    asyncio.run(main())


def test_a_blocked_nuisance_number_is_refused_before_media_and_ivr() -> None:
    rig = Rig(Directory({}))

    async def scenario(rig: Rig) -> None:
        rig.center.incoming("in-1", caller="139-0000-0001", called="400", sdp="v=0")
        await rig.settle()

    run(rig, scenario)
    assert rig.sip.actions == [("reject", "in-1", "403")]
    assert rig.media.commands == []
    contact = rig.contact_of("139-0000-0001")
    assert [e["outcome"] for e in rig.events("finished", contact)] == ["closed"]
    assert rig.events("finished", contact)[0]["reason"] == "nuisance_block"
    assert rig.directory.asked == []  # no look-up is spent on a blocked number


def test_a_nuisance_number_sent_to_the_recording_hears_it_and_is_released() -> None:
    rig = Rig(Directory({}))

    async def scenario(rig: Rig) -> None:
        rig.center.incoming("in-1", caller="13900000002", called="400", sdp="v=0")
        await rig.settle(0.1)

    run(rig, scenario)
    contact = rig.contact_of("13900000002")
    assert rig.media.played(contact) == ["nuisance_notice"]
    assert ("hang_up", "in-1") in rig.sip.actions
    assert rig.events("finished", contact)[0]["reason"] == "nuisance_recording"
    assert rig.events("queued", contact) == []


def test_a_vip_with_an_open_complaint_is_queued_with_the_higher_priority() -> None:
    facts = CallerFacts("13800000001", vip_level=3, open_tickets=(OpenTicket("complaint", None),))
    rig = Rig(Directory({"13800000001": facts}))

    async def scenario(rig: Rig) -> None:
        await rig.to_installation("in-1", "13800000001")

    run(rig, scenario)
    contact = rig.contact_of("13800000001")
    [queued] = rig.events("queued", contact)
    assert queued["priority"] == 50
    [step] = [e for e in rig.events("ivr_step", contact) if e["action"] == "caller_recognised"]
    assert (step["rules"], step["from_queue"]) == ("vip:3 complaints:1", "installation")


def test_a_vip_jumps_the_queue_ahead_of_an_earlier_caller() -> None:
    vip = CallerFacts("13800000009", vip_level=3)
    rig = Rig(Directory({"13800000009": vip}))
    offered: list[str] = []

    async def scenario(rig: Rig) -> None:
        regular = await rig.to_installation("in-1", "13800000005")
        first_vip = await rig.to_installation("in-2", "13800000009")
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await rig.settle()
        for contact in (regular, first_vip):
            offered.extend(contact for _ in rig.events("offered", contact))

    run(rig, scenario)
    assert offered == [rig.contact_of("13800000009")]


def test_the_ticket_owner_is_offered_the_call_first_then_anyone_after_the_time() -> None:
    facts = CallerFacts("13800000002", open_tickets=(OpenTicket("repair", "a002"),))
    rig = Rig(Directory({"13800000002": facts}))

    async def scenario(rig: Rig) -> None:
        contact = await rig.to_installation("in-1", "13800000002")
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")  # a001 ready
        await rig.settle()
        assert rig.events("offered", contact) == []  # waits for a002
        [step] = [e for e in rig.events("ivr_step", contact) if e["action"] == "caller_recognised"]
        assert (step["preferred_agent"], step["preferred_for_s"]) == ("a002", "60")
        rig.clock.advance(61)
        rig.center.tick()
        await rig.settle()
        assert [e["agent"] for e in rig.events("offered", contact)] == ["a001"]

    run(rig, scenario)


def test_the_agents_job_number_is_announced_when_the_call_connects() -> None:
    rig = Rig(
        Directory({}),
        job_numbers={"a001": "1024"},
        announce_agent_number=frozenset({"installation"}),
    )

    async def scenario(rig: Rig) -> None:
        contact = await rig.to_installation("in-1", "13800000003")
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await rig.settle()
        rig.center.answered("out-1", "v=0 agent")
        await rig.settle(0.1)
        played = rig.media.played(contact)
        spoken = played[played.index("agent_number") :]
        assert spoken == ["agent_number", "num_1", "num_0", "num_2", "num_4", "agent_serving"]
        [step] = [e for e in rig.events("ivr_step", contact) if e.get("action") == "agent_number"]
        assert (step["job_number"], step["agent"]) == ("1024", "a001")

    run(rig, scenario)


def test_no_number_is_announced_in_a_queue_that_does_not_ask_for_it() -> None:
    rig = Rig(Directory({}), job_numbers={"a001": "1024"})

    async def scenario(rig: Rig) -> None:
        contact = await rig.to_installation("in-1", "13800000003")
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await rig.settle()
        rig.center.answered("out-1", "v=0 agent")
        await rig.settle(0.1)
        assert "agent_serving" not in rig.media.played(contact)

    run(rig, scenario)


def test_a_failing_directory_raises_an_alarm_and_the_caller_is_routed_as_usual() -> None:
    rig = Rig(Directory({}, fail=True))

    async def scenario(rig: Rig) -> None:
        await rig.to_installation("in-1", "13800000004")

    run(rig, scenario)
    contact = rig.contact_of("13800000004")
    [alarm] = rig.events("alarm", contact)
    assert (alarm["component"], alarm["state"]) == ("caller_directory", "failed")
    [queued] = rig.events("queued", contact)
    assert queued["queue"] == "installation"
    assert [e for e in rig.events("ivr_step", contact) if e["action"] == "caller_recognised"] == []
