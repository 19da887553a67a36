"""The voice driver against in-tree fakes of the media server and SIP side, routed by the real
routing engine (the sample center's queues and agents) through :class:`EngineRouter`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

from hotline.config.flow import sample_flow
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.routing.engine import RoutingEngine
from hotline.routing.model import OverflowCondition, RoutingConfig
from hotline.telephony.acd import EngineRouter, voice_routing_config
from hotline.telephony.call_center import CallCenter, CallCenterSettings
from hotline.telephony.fake import FakeMediaServer, FakeSignalling, ListSink
from hotline.telephony.ports import AgentPhone
from hotline.telephony.server import SAMPLE_CENTER

# Monday 2026-03-02 10:00 in Shanghai: the hotline is open.
OPEN = 1772416800.0
PHONES = (AgentPhone("a001", "1001", "pw1"), AgentPhone("a002", "1002", "pw2"))


UNSTAFFED = OverflowCondition.NO_AGENTS_LOGGED_IN


def rig_routing_config() -> RoutingConfig:
    """The sample center's voice routing, with two changes the driver tests rely on.

    Both phone owners (a001, a002) speak English and serve repair as well, so an English
    caller in the installation or repair queue can ring either; and no queue has a voicemail
    exit for "no agent logged in", so a caller waits for the first phone to register.
    """
    config = voice_routing_config(load_center(SAMPLE_CENTER))
    agents = tuple(
        dataclasses.replace(
            a,
            languages=a.languages | {"en"},
            skills={**a.skills, "repair": max(a.skills.get("repair", 0), 3)},
        )
        if a.id in {"a001", "a002"}
        else a
        for a in config.agents
    )
    queues = tuple(
        dataclasses.replace(
            q,
            overflow=tuple(r for r in q.overflow if r.when is not UNSTAFFED),
        )
        for q in config.queues
    )
    return dataclasses.replace(config, agents=agents, queues=queues)


class Rig:
    def __init__(self, *, emergency: str | None = None) -> None:
        self.media = FakeMediaServer(duration_ms=5)
        self.sip = FakeSignalling()
        self.router = EngineRouter(RoutingEngine(rig_routing_config()))
        self.sink = ListSink()
        self.clock = ManualClock(OPEN)
        self.center = CallCenter(
            settings=CallCenterSettings(
                flow=sample_flow(),
                prompts=Path("/prompts"),
                recordings=Path("/recordings"),
                phones=PHONES,
                emergency_prompt=emergency,
                recording_converter=lambda contact, _: {"path": f"/recordings/{contact}.wav"},
            ),
            media=self.media,
            router=self.router,
            sink=self.sink,
            clock=self.clock,
        )
        self.center.signalling = self.sip

    @property
    def contact(self) -> str:
        return next(e.contact_id for e in self.sink.events if e.contact_id)

    def data(self, kind: str) -> list[dict[str, object]]:
        return [dict(e.data) for e in self.sink.events if e.kind.value == kind]

    async def settle(self, seconds: float = 0.05) -> None:
        await asyncio.sleep(seconds)
        await self.center.drain()

    async def key(self, key: str) -> None:
        self.center.dtmf(self.contact, "caller", key)
        await self.settle()


def run(test: Callable[[Rig], Awaitable[None]], **kwargs: object) -> Rig:
    rig = Rig(**kwargs)  # type: ignore[arg-type]

    async def main() -> None:
        await test(rig)
        await rig.center.drain()

    asyncio.run(main())
    return rig


async def _to_queue(rig: Rig) -> None:
    rig.center.incoming("in-1", caller="13800000000", called="400", sdp="v=0")
    await rig.settle()
    assert ("answer", "in-1") in rig.sip.actions
    await rig.key("2")  # English
    await rig.settle(0.05)  # welcome prompt ends
    await rig.key("2")  # installation
    await rig.settle(0.05)  # transfer prompt ends, enqueue


def test_full_call_ivr_queue_agent_survey() -> None:
    async def scenario(rig: Rig) -> None:
        await _to_queue(rig)
        contact = rig.contact
        [queued] = [e for e in rig.sink.events if e.kind.value == "queued"]
        assert queued.queue == "installation"  # menu key 2
        assert rig.media.played(contact)[-1] == "music_on_hold"
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await rig.settle()
        assert ("dial", "out-1", "sip:1001@127.0.0.1:5071") in rig.sip.actions
        rig.center.answered("out-1", "v=0 agent")
        await rig.settle()
        assert ("start_recording", {"call": contact}) in rig.media.commands
        rig.center.hung_up("out-1")  # the agent hangs up: survey
        await rig.settle()
        assert rig.media.played(contact)[-1] == "survey"
        await rig.key("5")
        await rig.settle()
        assert ("hang_up", "in-1") in rig.sip.actions
        rig.clock.advance(31)  # installation wrap-up is 30 s: the engine finishes the contact
        rig.center.tick()

    rig = run(scenario)
    kinds = rig.sink.kinds(rig.contact)
    for expected in (
        "arrived",
        "queued",
        "offered",
        "answered",
        "recording_started",
        "disconnected",
        "survey_answered",
        "finished",
        "recording_stopped",
    ):
        assert expected in kinds, expected
    assert kinds.index("queued") < kinds.index("offered") < kinds.index("answered")
    assert rig.data("survey_answered") == [{"score": 5, "scale_max": 5, "survey": "csat"}]
    assert rig.data("finished")[0]["outcome"] == "answered"
    answered = next(e for e in rig.sink.events if e.kind.value == "answered")
    assert answered.agent_id == "a001"
    assert answered.queue == "installation"


def test_media_server_down_rejects_with_503_and_raises_then_clears_alarm() -> None:
    async def scenario(rig: Rig) -> None:
        rig.media.down = True
        rig.center.incoming("in-1", caller="1", called="400", sdp="v=0")
        rig.center.incoming("in-2", caller="2", called="400", sdp="v=0")
        await rig.settle()
        assert ("reject", "in-1", "503") in rig.sip.actions
        assert ("reject", "in-2", "503") in rig.sip.actions
        rig.media.down = False
        rig.center.incoming("in-3", caller="3", called="400", sdp="v=0")
        await rig.settle()
        assert ("answer", "in-3") in rig.sip.actions
        rig.center.hung_up("in-3")

    rig = run(scenario)
    alarms = rig.data("alarm")
    assert [a["state"] for a in alarms] == ["raised", "recovered"]  # one alarm, not one per call
    outcomes = [d["outcome"] for d in rig.data("finished")]
    assert outcomes == ["failed", "failed", "ivr_hangup"]


def test_ring_no_answer_rings_the_next_agent() -> None:
    async def scenario(rig: Rig) -> None:
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        rig.center.registration_changed("1002", "sip:1002@127.0.0.1:5072")
        await _to_queue(rig)
        assert ("dial", "out-1", "sip:1001@127.0.0.1:5071") in rig.sip.actions
        rig.clock.advance(19)
        rig.center.tick()
        await rig.settle()
        assert ("hang_up", "out-1") not in rig.sip.actions  # still ringing
        rig.clock.advance(1)  # the engine's ring timeout (20 s) runs out
        rig.center.tick()
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions
        assert ("dial", "out-2", "sip:1002@127.0.0.1:5072") in rig.sip.actions
        rig.center.hung_up("in-1")

    rig = run(scenario)
    rna = next(e for e in rig.sink.events if e.kind.value == "ring_no_answer")
    assert rna.agent_id == "a001"
    assert rna.at == OPEN + 20.0  # timed by the engine's clock
    assert rig.data("finished")[0]["outcome"] == "abandoned"


def test_unregistered_phone_makes_agent_not_ready_and_call_goes_elsewhere() -> None:
    async def scenario(rig: Rig) -> None:
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await _to_queue(rig)
        assert ("dial", "out-1", "sip:1001@127.0.0.1:5071") in rig.sip.actions
        rig.center.registration_changed("1001", None)  # phone gone while ringing
        await rig.settle()
        assert ("hang_up", "out-1") in rig.sip.actions
        rig.center.registration_changed("1002", "sip:1002@127.0.0.1:5072")
        await rig.settle()
        assert ("dial", "out-2", "sip:1002@127.0.0.1:5072") in rig.sip.actions
        rig.center.hung_up("in-1")

    rig = run(scenario)
    states = [
        (e.agent_id, e.data["state"], e.data["reason"])
        for e in rig.sink.events
        if e.kind.value == "agent_state"
    ]
    assert ("a001", "not_ready", "phone_unregistered") in states


def test_caller_abandons_in_queue() -> None:
    async def scenario(rig: Rig) -> None:
        await _to_queue(rig)
        rig.clock.advance(12)
        rig.center.hung_up("in-1")
        await rig.settle()

    rig = run(scenario)
    assert rig.data("abandoned") == [{"wait_s": 12.0}]
    assert rig.data("finished")[0]["outcome"] == "abandoned"
    assert ("delete", {"call": rig.contact}) in rig.media.commands


def test_emergency_announcement_is_played_to_callers() -> None:
    async def scenario(rig: Rig) -> None:
        rig.center.incoming("in-1", caller="1", called="400", sdp="v=0")
        await rig.settle()
        await rig.key("1")
        assert rig.media.played(rig.contact)[:3] == ["language", "emergency", "welcome"]
        rig.center.hung_up("in-1")

    rig = run(scenario, emergency="emergency")
    assert rig.data("finished")[0]["outcome"] == "ivr_hangup"


def test_unknown_phone_user_and_unknown_legs_are_ignored() -> None:
    async def scenario(rig: Rig) -> None:
        rig.center.registration_changed("9999", "sip:9999@127.0.0.1:5000")
        rig.center.hung_up("no-such-leg")
        rig.center.answered("no-such-leg", "v=0")
        rig.center.failed("no-such-leg", 486)
        rig.center.dtmf("no-such-call", "caller", "1")
        await rig.settle()

    rig = run(scenario)
    assert rig.sink.events == []


def test_a_caller_gone_during_media_set_up_is_not_answered_nor_greeted() -> None:
    """The caller's CANCEL arrives before the relay is ready: no 200 OK, no IVR, one end."""

    async def scenario(rig: Rig) -> None:
        rig.center.incoming("in-1", caller="1", called="400", sdp="v=0")
        rig.center.hung_up("in-1")  # before the set-up task has run
        await rig.settle()

    rig = run(scenario)
    assert ("answer", "in-1") not in rig.sip.actions
    assert rig.sink.kinds() == ["arrived", "finished"]
    assert rig.data("finished") == [{"outcome": "ivr_hangup"}]
    assert rig.media.commands[-1] == ("delete", {"call": rig.contact})  # the relay released


def test_unusable_offer_is_refused_with_488_and_no_alarm() -> None:
    async def scenario(rig: Rig) -> None:
        rig.media.reject_offers = True
        rig.center.incoming("in-1", caller="1", called="400", sdp="v=0 broken")
        await rig.settle()
        assert ("reject", "in-1", "488") in rig.sip.actions

    rig = run(scenario)
    assert rig.data("alarm") == []
    assert rig.data("finished")[0]["outcome"] == "failed"


def _engine_rig() -> Rig:
    """A rig routed by the sample center exactly as the server runs it (no test changes)."""
    from hotline.config.validate import load_center
    from hotline.routing.engine import RoutingEngine
    from hotline.telephony.acd import EngineRouter, voice_routing_config
    from hotline.telephony.server import SAMPLE_CENTER

    rig = Rig()
    router = EngineRouter(RoutingEngine(voice_routing_config(load_center(SAMPLE_CENTER))))
    rig.router = router
    rig.center = CallCenter(
        settings=rig.center.settings,
        media=rig.media,
        router=router,
        sink=rig.sink,
        clock=rig.clock,
    )
    rig.center.signalling = rig.sip
    return rig


def test_with_the_routing_engine_events_come_once_in_one_sequence() -> None:
    rig = _engine_rig()

    async def scenario() -> None:
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        await _to_queue(rig)
        assert ("dial", "out-1", "sip:1001@127.0.0.1:5071") in rig.sip.actions
        rig.clock.advance(2)
        rig.center.answered("out-1", "v=0 agent")
        await rig.settle()
        rig.clock.advance(30)
        rig.center.hung_up("out-1")
        await rig.settle()
        await rig.key("4")
        await rig.settle()
        rig.clock.advance(31)  # installation wrap-up is 30 s in the sample center
        rig.center.tick()
        await rig.center.drain()

    asyncio.run(scenario())
    kinds = rig.sink.kinds(rig.contact)
    for kind in ("queued", "offered", "answered", "disconnected", "finished"):
        assert kinds.count(kind) == 1, (kind, kinds)  # written by the engine only
    assert kinds.index("queued") < kinds.index("offered") < kinds.index("answered")
    seqs = [e.seq for e in rig.sink.events]
    assert seqs == list(range(1, len(seqs) + 1))  # one sequence across driver and engine
    [answered] = [e for e in rig.sink.events if e.kind.value == "answered"]
    assert (answered.agent_id, answered.queue, answered.data["wait_s"]) == (
        "a001",
        "installation",
        2.0,
    )
    [finished] = [e for e in rig.sink.events if e.kind.value == "finished"]
    assert finished.data["outcome"] == "answered"


def test_with_the_routing_engine_a_phone_going_away_makes_the_agent_not_ready() -> None:
    rig = _engine_rig()

    async def scenario() -> None:
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
        rig.center.registration_changed("1001", None)
        await _to_queue(rig)

    asyncio.run(scenario())
    states = [dict(e.data) for e in rig.sink.events if e.kind.value == "agent_state"]
    assert states[-1]["state"] == "not_ready"
    assert states[-1]["reason"] == "phone_unregistered"
    assert not [a for a in rig.sip.actions if a[0] == "dial"]  # nobody to ring


ANNOUNCED = ["queue_comfort", "queue_position", "num_1", "music_on_hold"]


def _not_ready_installer(rig: Rig) -> None:
    """An installation agent logged in but not ready: the queue is staffed (no voicemail)."""
    from hotline.routing.model import AgentLoggedIn

    engine = rig.router.engine
    engine.handle(AgentLoggedIn(at=OPEN, agent_id="a002", ready=False, reason="break"))


def test_with_the_routing_engine_waiting_callers_hear_comfort_position_and_music() -> None:
    rig = _engine_rig()

    async def scenario() -> None:
        _not_ready_installer(rig)
        await _to_queue(rig)  # installation: announce_every_s 45 in the sample center
        await rig.settle(0.05)
        assert rig.media.played(rig.contact)[-4:] == ANNOUNCED
        rig.clock.advance(46)
        rig.center.tick()
        await rig.settle(0.1)
        rig.center.hung_up("in-1")
        await rig.center.drain()

    asyncio.run(scenario())
    played = rig.media.played(rig.contact)
    assert played[-4:] == ANNOUNCED
    # the engine announces on entry and then every 45 s; each time: comfort message, the
    # caller's position spoken ("you are caller number one"; no wait estimate yet), music
    announced = [e for e in rig.sink.events if e.kind.value == "position_announced"]
    assert [(e.at - OPEN, e.data["position"]) for e in announced] == [(0.0, 1), (45.0, 1)]
    assert played.count("queue_comfort") == 2
