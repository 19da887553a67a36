"""The campaigns' dialler in the voice driver, against the in-tree fakes and the routing engine.

Customer legs first through the trunk; an answered customer is connected to the campaign's
free agent; busy and unanswered legs are results of their own; a customer no agent takes
within 2 s hears the safe message and is hung up. Each call's result is kept as an attempt.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hotline.config.flow import sample_flow
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.routing.engine import RoutingEngine
from hotline.telephony.acd import EngineRouter, voice_routing_config
from hotline.telephony.call_center import CallCenter, CallCenterSettings
from hotline.telephony.dialler import DialCampaign, Dialler, DialRecord, PacingSnapshot
from hotline.telephony.fake import FakeMediaServer, FakeSignalling, ListSink
from hotline.telephony.ports import AgentPhone
from hotline.telephony.server import SAMPLE_CENTER

OPEN = 1772416800.0
PHONES = (AgentPhone("a001", "1001", "pw1"), AgentPhone("a002", "1002", "pw2"))
TRUNK = "sip:{number}@127.0.0.1:5070"


@dataclass
class MemoryLists:
    """The campaign's records in memory: claims in order, results kept."""

    campaigns: list[DialCampaign]
    numbers: list[str]
    claimed: list[tuple[int, str]] = field(default_factory=list)
    results: list[tuple[int, str, bool, bool]] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    kept: list[PacingSnapshot] = field(default_factory=list)
    handed: list[tuple[int, str, str]] = field(default_factory=list)

    async def running(self) -> list[DialCampaign]:
        return self.campaigns

    async def claim(self, *, campaign_id: int, holder: str, now: datetime) -> DialRecord | None:
        if not self.numbers:
            return None
        record = DialRecord(id=len(self.claimed) + 1, number=self.numbers.pop(0))
        self.claimed.append((record.id, holder))
        return record

    async def result(
        self,
        *,
        record_id: int,
        holder: str,
        result: str,
        now: datetime,
        contact_id: str,
        answered: bool,
        connected: bool,
    ) -> None:
        assert (record_id, holder) in self.claimed
        self.results.append((record_id, result, answered, connected))

    async def connected(
        self, *, record_id: int, holder: str, agent_id: str, contact_id: str, now: datetime
    ) -> None:
        assert (record_id, holder) in self.claimed
        self.handed.append((record_id, agent_id, contact_id))

    async def release(self, *, record_id: int, holder: str, now: datetime) -> None:
        self.released.append(record_id)

    async def pacing(self, snapshots: list[PacingSnapshot]) -> None:
        self.kept.extend(snapshots)


def voice_center(
    reserve: dict[str, int] | None = None,
) -> tuple[CallCenter, FakeSignalling, ListSink]:
    """The voice driver on the fakes and the real engine (the sample center's queues and
    a001/a002's phones); ``reserve`` sets queues' outbound reserve as the center file would
    (``queues[].outbound_reserve``)."""
    sip, sink = FakeSignalling(), ListSink()
    center_file = load_center(SAMPLE_CENTER)
    center_file = center_file.model_copy(
        update={
            "queues": [
                q.model_copy(update={"outbound_reserve": (reserve or {}).get(q.id, 0)})
                for q in center_file.queues
            ]
        }
    )
    router = EngineRouter(RoutingEngine(voice_routing_config(center_file)))
    center = CallCenter(
        settings=CallCenterSettings(
            flow=sample_flow(),
            prompts=Path("/prompts"),
            recordings=Path("/recordings"),
            phones=PHONES,
            trunk=TRUNK,
        ),
        media=FakeMediaServer(duration_ms=5),
        router=router,
        sink=sink,
        clock=ManualClock(OPEN),
    )
    center.signalling = sip
    return center, sip, sink


def make_dialler(
    numbers: list[str],
    *,
    agents: tuple[str, ...] = ("a001",),
    mode: str = "progressive",
    reserve: dict[str, int] | None = None,
) -> tuple[CallCenter, Dialler, FakeSignalling, ListSink, MemoryLists]:
    """A dialler of campaign 7 on :func:`voice_center`, its records in memory."""
    center, sip, sink = voice_center(reserve)
    lists = MemoryLists([DialCampaign(7, mode, agents)], numbers)
    dialler = Dialler(center, lists, safe_message=Path("/prompts/en/safe_message.wav"))
    center.dialler = dialler
    return center, dialler, sip, sink, lists


def dials(sip: FakeSignalling) -> list[tuple[str, ...]]:
    return [a for a in sip.actions if a[0] == "dial"]


def kinds(sink: ListSink, contact: str) -> list[str]:
    events = [e for e in sink.events if e.contact_id == contact]
    assert all(e.data.get("direction") == "outbound" for e in events)
    assert all(e.data.get("campaign") == 7 for e in events)
    return [e.kind.value for e in events]


def test_customer_first_then_the_free_agent_and_the_attempt_is_kept() -> None:
    async def scenario() -> None:
        center, dialler, sip, sink, lists = make_dialler(["13800000001", "13800000002"])
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        # one free agent, progressive: one call, to the customer first
        assert dials(sip) == [("dial", "dl-1", "sip:13800000001@127.0.0.1:5070")]
        [contact] = dialler.calls
        held = [e for e in sink.events if e.kind.value == "agent_state"]
        assert held[-1].data["reason"] == "outbound"  # inbound routing leaves a001 alone
        center.answered("dl-1", "v=0 customer")
        await center.drain()
        assert dials(sip)[-1] == ("dial", "dl-2", "sip:1001@127.0.0.1:5090")  # the agent
        center.answered("dl-2", "v=0 agent")
        await center.drain()
        await dialler.round()
        assert len(dials(sip)) == 2  # the agent is busy: no second call
        center.hung_up("dl-1")
        await center.drain()
        assert ("hang_up", "dl-2") in sip.actions
        assert kinds(sink, contact) == [
            "arrived",
            "dialled",
            "answered",
            "recording_started",
            "disconnected",
            "finished",
        ]
        # The agent holds the record now: their disposition from the desk is the attempt.
        assert lists.handed == [(1, "a001", contact)]
        assert lists.results == []
        await dialler.round()
        assert dials(sip)[-1] == ("dial", "dl-3", "sip:13800000002@127.0.0.1:5070")

    asyncio.run(scenario())


def test_the_routing_engine_chooses_which_held_agent_takes_the_answered_customer() -> None:
    """The campaign works the repair queue (``repair >= 2``): a001 (repair 3) serves its first
    ring, a002 (repair 1) only a later one, so a001 takes the call although a002 came free
    first."""

    async def scenario() -> None:
        center, dialler, sip, _, lists = make_dialler(
            ["13800000001", "13800000002"], agents=("a002", "a001")
        )
        lists.campaigns = [DialCampaign(7, "progressive", ("a002", "a001"), queue="repair")]
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        center.registration_changed("1002", "sip:1002@127.0.0.1:5091")
        await dialler.round()
        assert dialler.campaigns[7].book.free == ("a002", "a001")
        center.answered("dl-1", "v=0 customer")
        await center.drain()
        assert dials(sip)[-1][2] == "sip:1001@127.0.0.1:5090"  # a001's phone rings

    asyncio.run(scenario())


def test_busy_and_unanswered_customers_are_results_of_their_own() -> None:
    async def scenario() -> None:
        center, dialler, sip, sink, lists = make_dialler(["13800000001", "13800000002"])
        dialler.ring_timeout_s = 0.05
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        center.failed("dl-1", 486)
        await center.drain()
        await dialler.round()
        await asyncio.sleep(0.1)  # the second rings out
        await center.drain()
        assert ("hang_up", "dl-2") in sip.actions  # CANCEL
        assert lists.results == [(1, "busy", False, False), (2, "no_answer", False, False)]
        results = [e.data["result"] for e in sink.events if e.kind.value == "dialled"]
        assert results == ["busy", "no_answer"]

    asyncio.run(scenario())


def test_a_customer_no_agent_takes_within_2_s_hears_the_safe_message() -> None:
    async def scenario() -> None:
        center, dialler, sip, sink, lists = make_dialler(["13800000001"])
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        [contact] = dialler.calls
        center.answered("dl-1", "v=0 customer")
        await center.drain()
        assert dials(sip)[-1][1] == "dl-2"  # the agent's phone rings, and never answers
        await asyncio.sleep(2.2)
        await center.drain()
        media = center.media
        assert isinstance(media, FakeMediaServer)
        assert media.played(contact) == ["safe_message"]
        assert ("hang_up", "dl-2") in sip.actions and ("hang_up", "dl-1") in sip.actions
        assert "abandoned" in kinds(sink, contact)
        assert lists.results == [(1, "abandoned", True, False)]
        book = dialler.campaigns[7].book
        assert (book.answered, book.abandoned) == (1, 1)

    asyncio.run(scenario())


def test_an_agent_on_a_voice_call_or_not_registered_is_not_taken() -> None:
    async def scenario() -> None:
        center, dialler, sip, _, _ = make_dialler(["13800000001"], agents=("a001", "a002"))
        center.registration_changed("1002", "sip:1002@127.0.0.1:5091")
        await dialler.round()
        assert dialler.campaigns[7].held == {"a002"}  # a001 has no phone
        assert len(dials(sip)) == 1

    asyncio.run(scenario())


def test_a_paused_campaign_places_no_call_and_hands_its_agents_back_to_the_acd() -> None:
    async def scenario() -> None:
        center, dialler, sip, sink, lists = make_dialler(["13800000001", "13800000002"])
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        assert len(dials(sip)) == 1
        lists.campaigns = []  # paused: no longer among the running ones
        await dialler.round()
        # a001's release waits: the call it covers still rings (rule 3)
        assert dialler.campaigns[7].held == {"a001"}
        center.failed("dl-1", 486)
        await center.drain()
        await dialler.round()
        assert len(dials(sip)) == 1 and 7 not in dialler.campaigns
        states = [e.data for e in sink.events if e.kind.value == "agent_state"]
        assert states[-1]["state"] == "available"  # the ACD has a001 again

    asyncio.run(scenario())


def test_inbound_keeps_priority_a_held_agent_goes_to_a_waiting_caller_once_covered() -> None:
    async def scenario() -> None:
        center, dialler, sip, _, _ = make_dialler(["13800000001", "13800000002"])
        router = center.router
        assert isinstance(router, EngineRouter)
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        assert dialler.campaigns[7].held == {"a001"} and len(dials(sip)) == 1
        # An inbound caller a001 could serve waits: the engine has no idle agent for them.
        router.contact_queued(
            at=OPEN, contact_id="v-1", queue="repair", priority=0, language=None, data={}
        )
        assert router.waiting_for("a001") == 1
        await dialler.round()
        # a001 still covers the customer's ringing call: the release waits (rule 3) ...
        assert dialler.campaigns[7].held == {"a001"} and len(dials(sip)) == 1
        center.failed("dl-1", 486)
        await center.drain()
        await dialler.round()
        # ... then a001 is the ACD's again, offered the caller, and no new call is placed.
        assert dialler.campaigns[7].held == set()
        assert router.engine.agent_contacts("a001") == {"v-1": "ringing"}
        assert len(dials(sip)) == 1

    asyncio.run(scenario())


def test_a_queue_s_outbound_reserve_is_left_idle_so_its_caller_is_answered_at_once() -> None:
    """Blending through the engine: the center file keeps one idle installation agent back
    from the campaign (``outbound_reserve: 1``), so an installation caller arriving while
    the campaign dials is offered an agent at once, not after the campaign's call ends."""

    async def scenario() -> None:
        center, dialler, sip, sink, _ = make_dialler(
            ["13800000001", "13800000002"], agents=("a001", "a002"), reserve={"installation": 1}
        )
        router = center.router
        assert isinstance(router, EngineRouter)
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        center.registration_changed("1002", "sip:1002@127.0.0.1:5091")
        await dialler.round()
        # a001 is held; a002 is the installation queue's reserve, left idle by the engine
        assert dialler.campaigns[7].held == {"a001"} and len(dials(sip)) == 1
        assert router.engine.first_ring_idle("installation") == ["a002"]
        router.contact_queued(
            at=OPEN, contact_id="v-1", queue="installation", priority=0, language=None, data={}
        )
        assert router.engine.agent_contacts("a002") == {"v-1": "ringing"}  # at once
        clock = center.clock
        assert isinstance(clock, ManualClock)
        clock.advance(2)
        router.offer_answered(at=clock.now(), contact_id="v-1", agent_id="a002")
        [answered] = [
            e for e in sink.events if e.kind.value == "answered" and e.contact_id == "v-1"
        ]
        assert answered.data["wait_s"] <= 5
        # The reserve is short now: the engine wants a001 back, once its ringing call is covered.
        await dialler.round()
        assert dialler.campaigns[7].held == {"a001"} and len(dials(sip)) == 1
        center.failed("dl-1", 486)
        await center.drain()
        await dialler.round()
        assert dialler.campaigns[7].held == set() and len(dials(sip)) == 1
        assert router.engine.first_ring_idle("installation") == ["a001"] and not router.conflicts

    asyncio.run(scenario())


def test_without_a_reserve_the_campaign_holds_every_idle_agent_and_the_caller_waits() -> None:
    async def scenario() -> None:
        center, dialler, sip, _, _ = make_dialler(
            ["13800000001", "13800000002"], agents=("a001", "a002")
        )
        router = center.router
        assert isinstance(router, EngineRouter)
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        center.registration_changed("1002", "sip:1002@127.0.0.1:5091")
        await dialler.round()
        assert dialler.campaigns[7].held == {"a001", "a002"} and len(dials(sip)) == 2
        router.contact_queued(
            at=OPEN, contact_id="v-1", queue="installation", priority=0, language=None, data={}
        )
        assert router.engine.contact_stage("v-1") == "waiting"

    asyncio.run(scenario())


def test_at_the_campaigns_midnight_the_cap_counts_the_new_day_after_the_old_days_calls() -> None:
    async def scenario() -> None:
        center, dialler, sip, _, lists = make_dialler(["13800000001", "13800000002"])
        lists.campaigns = [DialCampaign(7, "progressive", ("a001",), 40, 1, day="2026-03-02")]
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        book = dialler.campaigns[7].book
        assert (book.day, book.answered, book.abandoned) == ("2026-03-02", 40, 1)
        assert len(dials(sip)) == 1
        lists.campaigns = [DialCampaign(7, "progressive", ("a001",), 0, 0, day="2026-03-03")]
        center.failed("dl-1", 480)  # the old day's call had not rung out yet: now it has
        await center.drain()
        await dialler.round()
        book = dialler.campaigns[7].book
        assert (book.day, book.answered, book.abandoned) == ("2026-03-03", 0, 0)
        assert book.dialled == 1 and len(dials(sip)) == 2  # the new day's first call

    asyncio.run(scenario())


def test_while_the_old_days_call_rings_the_new_day_places_no_call() -> None:
    async def scenario() -> None:
        center, dialler, sip, _, lists = make_dialler(
            ["13800000001", "13800000002", "13800000003"], agents=("a001", "a002")
        )
        lists.campaigns = [DialCampaign(7, "progressive", ("a001", "a002"), day="2026-03-02")]
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        assert len(dials(sip)) == 1
        lists.campaigns = [DialCampaign(7, "progressive", ("a001", "a002"), day="2026-03-03")]
        center.registration_changed("1002", "sip:1002@127.0.0.1:5091")
        await dialler.round()
        # a002 came free, but the day turns only once dl-1 no longer rings: no call meanwhile
        assert dialler.campaigns[7].book.turning and len(dials(sip)) == 1
        center.failed("dl-1", 486)
        await center.drain()
        await dialler.round()
        assert not dialler.campaigns[7].book.turning and len(dials(sip)) == 3

    asyncio.run(scenario())


def test_the_pacing_state_is_kept_when_it_changes_for_the_campaigns_page() -> None:
    async def scenario() -> None:
        center, dialler, sip, _, lists = make_dialler(
            ["13800000001", "13800000002"], agents=("a001", "a002"), mode="predictive"
        )
        lists.campaigns = [DialCampaign(7, "predictive", ("a001", "a002"), 100, 1, day="d1")]
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        await dialler.round()
        ringing = len(dials(sip))
        [first] = lists.kept
        assert (first.campaign_id, first.day, first.ringing, first.free_agents) == (
            7,
            "d1",
            ringing,
            1,
        )
        assert (first.answered_today, first.abandoned_today, first.allowance) == (100, 1, 3)
        await dialler.round()
        assert len(lists.kept) == 1  # nothing changed: nothing kept again
        center.answered("dl-1", "v=0 customer")
        await center.drain()
        await dialler.round()
        last = lists.kept[-1]
        assert last.answered_today == 101 and last.talking_agents == 1

    asyncio.run(scenario())
