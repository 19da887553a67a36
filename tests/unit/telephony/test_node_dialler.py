"""The dialler on a voice node, lent agents by the partition owner's engine (the fakes).

The node's :class:`Dialler` (SIP and media fakes, its records in memory) asks for agents
through :class:`OwnerLending`; the rows it queues are applied by the owner's side
(:class:`DiallerLends`) to a real routing engine, and the events that engine logs are fed
back to the node, as its log tail would. Checked: nothing is dialled before the owner lends;
the owner lends an agent to one node run at a time and not an agent it needs (a waiting
caller); the node's records are held under its run's name; the agent goes back to the ACD
(and takes the waiting caller) when the campaign pauses; a lost node's agents are freed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hotline.config.validate import load_center
from hotline.core.events import Event, EventKind
from hotline.live.dialler_lends import LEND, RETURN, DiallerLends, holder_prefix
from hotline.live.log_floor import LogFloor
from hotline.routing.engine import Result, RoutingEngine
from hotline.routing.model import AgentLoggedIn, AgentState, ContactQueued
from hotline.telephony.acd import voice_routing_config
from hotline.telephony.dialler import DialCampaign
from hotline.telephony.node_dialler import ASK_AGAIN_S, NodeDialler, OwnerLending
from hotline.telephony.owner_routing import NodeOutbox
from hotline.telephony.server import SAMPLE_CENTER
from tests.unit.telephony.test_dialler import MemoryLists, dials, voice_center


class _Presence:
    def __init__(self, node_id: str, name: str) -> None:
        self.node_id = node_id
        self.options = type("Options", (), {"name": name, "partition": "hefei"})


class _Owner:
    """The partition owner's engine and lends; applies a node's dialler rows in order."""

    def __init__(self) -> None:
        self.engine = RoutingEngine(voice_routing_config(load_center(SAMPLE_CENTER)))
        self.lends = DiallerLends()
        self.now = 1.0
        self.log: list[Event] = []
        self.handle(AgentLoggedIn(at=self.now, agent_id="a001"))

    def handle(self, command: Any) -> Result:
        result = self.engine.handle(command)
        self.log.extend(result.events)
        return result

    def apply(self, outbox: NodeOutbox) -> list[Event]:
        """The node's queued dialler rows, applied; the events they logged."""
        rows, outbox._rows = outbox._rows, []
        logged: list[Event] = []
        for kind, payload, _ in rows:
            if kind == LEND:
                job = self.lends.lend_job(payload)
            elif kind == RETURN:
                job = self.lends.return_job(payload, phone=lambda agent_id: True)
            else:
                continue  # the node's own events, its phones: not the dialler's
            _, result = job(self.engine, self.now)
            logged.extend(result.events)
        self.log.extend(logged)
        return logged


def _node(node_id: str, name: str) -> tuple[NodeOutbox, OwnerLending]:
    outbox = NodeOutbox(_Presence(node_id, name))  # type: ignore[arg-type]
    return outbox, OwnerLending(outbox)


def _kinds(outbox: NodeOutbox) -> list[str]:
    return [kind for kind, _, _ in outbox._rows]


def _states(events: Iterable[Event]) -> list[tuple[str | None, str, Any]]:
    return [
        (e.agent_id, str(e.data["state"]), e.data.get("lent_to"))
        for e in events
        if e.kind is EventKind.AGENT_STATE
    ]


def test_a_voice_nodes_dialler_dials_only_with_agents_the_owner_lent_it() -> None:
    async def scenario() -> None:
        owner = _Owner()
        center, sip, _ = voice_center()
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        outbox, lending = _node("run-a", "voice-a")
        lists = MemoryLists([DialCampaign(7, "progressive", ("a001",))], ["13800000001"])
        dialler = NodeDialler(
            center,
            lists,
            safe_message=Path("/prompts/en/safe_message.wav"),
            lending=lending,
            holder_prefix=holder_prefix("run-a"),
        )
        center.dialler = dialler
        await dialler.round()
        assert dials(sip) == [], "nothing is dialled before the owner lends an agent"
        assert _kinds(outbox) == [LEND]
        await dialler.round()
        assert _kinds(outbox) == [LEND], f"asked again only after {ASK_AGAIN_S} s"

        # Another node run asks for a001 after voice-a: the owner lends a001 once, to voice-a.
        other_outbox, other = _node("run-b", "voice-b")
        assert not other.may_lend("a001")
        lent = owner.apply(outbox) + owner.apply(other_outbox)
        assert _states(lent) == [("a001", "not_ready", "run-a")]
        assert owner.engine.agent_reason("a001") == "outbound"
        lending.follow(lent)
        other.follow(lent)
        assert lending.lent == {"a001"} and other.lent == set()

        await dialler.round()
        assert dials(sip) == [("dial", "dl-1", "sip:13800000001@127.0.0.1:5070")]
        assert lists.claimed == [(1, f"dialler:run-a:{next(iter(dialler.calls))}")]
        # An inbound caller meanwhile is not offered the held agent.
        queued = owner.handle(ContactQueued(at=owner.now, contact_id="v-1", queue="repair"))
        assert not [e for e in queued.events if e.kind is EventKind.OFFERED]

        center.answered("dl-1", "v=0 customer")
        await center.drain()
        assert dials(sip)[-1] == ("dial", "dl-2", "sip:1001@127.0.0.1:5090")  # a001 rung here
        center.answered("dl-2", "v=0 agent")
        await center.drain()
        center.hung_up("dl-1")
        await center.drain()
        assert lists.handed and lists.handed[0][1] == "a001"

        # Paused: the dialler gives a001 back and the owner's engine offers the waiting caller.
        lists.campaigns = []
        await dialler.round()
        assert _kinds(outbox) == [RETURN]
        back = owner.apply(outbox)
        assert _states(back) == [("a001", "reserved", None)]  # ready, and offered at once
        assert [(e.contact_id, e.agent_id) for e in back if e.kind is EventKind.OFFERED] == [
            ("v-1", "a001")
        ]
        lending.follow(back)
        assert lending.lent == set()

    asyncio.run(scenario())


def test_the_owner_lends_no_agent_it_needs_and_frees_a_lost_nodes_agents() -> None:
    owner = _Owner()
    outbox, lending = _node("run-a", "voice-a")
    owner.handle(ContactQueued(at=owner.now, contact_id="v-1", queue="repair"))
    # a001 took the waiting caller: busy, so not lent
    assert owner.engine.agent_state("a001") is not AgentState.AVAILABLE
    assert not lending.may_lend("a001")
    assert owner.apply(outbox) == [] and owner.lends.to == {}

    other = _Owner()  # an idle a001 this time
    assert not lending.may_lend("a002")  # not signed in there: refused too
    outbox._rows.clear()
    lending._asked.clear()
    assert not lending.may_lend("a001")
    lent = other.apply(outbox)
    assert _states(lent) == [("a001", "not_ready", "run-a")]
    # A return from a node run it was not lent to changes nothing.
    _, result = other.lends.return_job(
        {"agent_id": "a001", "node_id": "run-b"}, phone=lambda agent_id: True
    )(other.engine, other.now)
    assert result.events == [] and other.lends.to == {"a001": "run-a"}
    # A new owner finds a001 among the agents held outbound (seeded from the log's lent_to).
    assert DiallerLends.held_job(other.engine, 2.0)[0] == ["a001"]
    # voice-a is lost: a001 back to the ACD, and the lend forgotten.
    _, freed = other.lends.lost_job("run-a", phone=lambda agent_id: True)(other.engine, 2.0)
    assert _states(freed.events) == [("a001", "available", None)]
    assert other.lends.to == {} and DiallerLends.held_job(other.engine, 2.0)[0] == []


def test_an_agent_lent_after_the_campaign_paused_goes_straight_back() -> None:
    async def scenario() -> None:
        owner = _Owner()
        center, sip, _ = voice_center()
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        outbox, lending = _node("run-a", "voice-a")
        lists = MemoryLists([DialCampaign(7, "progressive", ("a001",))], ["13800000001"])
        dialler = NodeDialler(
            center, lists, safe_message=Path("/prompts/en/safe_message.wav"), lending=lending
        )
        await dialler.round()
        lists.campaigns = []  # paused while the owner lends a001
        lending.follow(owner.apply(outbox))
        assert lending.lent == {"a001"}
        await dialler.round()
        assert dials(sip) == [] and _kinds(outbox) == [RETURN]
        back = owner.apply(outbox)
        assert _states(back) == [("a001", "available", None)]
        assert owner.lends.to == {}

    asyncio.run(scenario())


def test_a_lent_agent_goes_back_for_an_inbound_caller_the_log_shows_waiting() -> None:
    async def scenario() -> None:
        owner = _Owner()
        center, _, _ = voice_center()
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        outbox = NodeOutbox(_Presence("run-a", "voice-a"))  # type: ignore[arg-type]
        config = voice_routing_config(load_center(SAMPLE_CENTER))
        members = RoutingEngine(config)
        floor = LogFloor({q.id: members.queue_members(q.id) for q in config.queues})
        lending = OwnerLending(outbox, floor=floor)
        lists = MemoryLists([DialCampaign(7, "progressive", ("a001",))], [])  # nothing to dial
        dialler = NodeDialler(
            center, lists, safe_message=Path("/prompts/en/safe_message.wav"), lending=lending
        )
        await dialler.round()
        lending.follow(owner.apply(outbox))
        await dialler.round()
        assert dialler.campaigns[7].held == {"a001"} and _kinds(outbox) == []
        # A caller queues for repair (a001 serves it) on the owner: the node reads it.
        queued = owner.handle(ContactQueued(at=owner.now, contact_id="v-1", queue="repair"))
        lending.follow(queued.events)
        assert lending.waiting_for("a001") == 1
        await dialler.round()
        assert _kinds(outbox) == [RETURN] and dialler.campaigns[7].held == set()
        back = owner.apply(outbox)
        assert [(e.contact_id, e.agent_id) for e in back if e.kind is EventKind.OFFERED] == [
            ("v-1", "a001")
        ]
        lending.follow(back)
        assert lending.waiting_for("a001") == 0  # ringing at a001 now, no longer waiting

    asyncio.run(scenario())


def test_the_campaign_queues_rings_choose_which_lent_agent_takes_the_call() -> None:
    """As on the one-process server: the campaign works repair, a001 (repair 3) serves its
    first ring and a002 (repair 1) a later one, so a001 takes the call though a002 came free
    first — ranked on the node from the center file."""

    async def scenario() -> None:
        owner = _Owner()
        owner.handle(AgentLoggedIn(at=owner.now, agent_id="a002"))
        center, sip, _ = voice_center()
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        center.registration_changed("1002", "sip:1002@127.0.0.1:5091")
        outbox = NodeOutbox(_Presence("run-a", "voice-a"))  # type: ignore[arg-type]
        ranker = RoutingEngine(voice_routing_config(load_center(SAMPLE_CENTER)))
        lending = OwnerLending(outbox, ranker=ranker)
        agents = ("a002", "a001")
        lists = MemoryLists([DialCampaign(7, "progressive", agents, queue="repair")], ["1380"])
        dialler = NodeDialler(
            center, lists, safe_message=Path("/prompts/en/safe_message.wav"), lending=lending
        )
        center.dialler = dialler
        await dialler.round()
        lending.follow(owner.apply(outbox))
        await dialler.round()
        assert dialler.campaigns[7].book.free == agents
        center.answered("dl-1", "v=0 customer")
        await center.drain()
        assert dials(sip)[-1][2] == "sip:1001@127.0.0.1:5090"  # a001's phone rings

    asyncio.run(scenario())


def test_an_agent_lent_while_a_round_awaits_is_taken_at_the_next_not_given_back() -> None:
    """The owner's lend of a001 reaches the node while the round awaits a claim (after it
    took its agents): the round leaves a001 lent, and the next one takes them."""

    async def scenario() -> None:
        owner = _Owner()
        owner.handle(AgentLoggedIn(at=owner.now, agent_id="a002"))
        center, _, _ = voice_center()
        center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
        center.registration_changed("1002", "sip:1002@127.0.0.1:5091")
        outbox, lending = _node("run-a", "voice-a")
        late: list[Event] = []

        class Lists(MemoryLists):
            async def claim(self, **kwargs: Any) -> Any:
                lending.follow(late)  # the log tail, while the claim awaits the database
                late.clear()
                return await super().claim(**kwargs)

        lists = Lists([DialCampaign(7, "progressive", ("a002", "a001"))], ["13800000001"])
        dialler = NodeDialler(
            center, lists, safe_message=Path("/prompts/en/safe_message.wav"), lending=lending
        )
        await dialler.round()  # asks for both
        rows = outbox._rows
        outbox._rows = [r for r in rows if r[1]["agent_id"] == "a002"]
        lending.follow(owner.apply(outbox))  # a002 lent now
        outbox._rows = [r for r in rows if r[1]["agent_id"] == "a001"]
        late.extend(owner.apply(outbox))  # a001's lend: read while the next round claims
        await dialler.round()
        assert dialler.campaigns[7].held == {"a002"} and lending.lent == {"a001", "a002"}
        assert _kinds(outbox) == [], "a001 was not given back"
        await dialler.round()
        assert dialler.campaigns[7].held == {"a002", "a001"}

    asyncio.run(scenario())
