"""The voice driver on the live driver's engine: desk actions and engine timers reach the phones.

The live driver (the web app's routing engine) with the in-tree SIP and media fakes: an agent
pressing "ready" on the desktop picks the waiting caller and rings their phone; the engine's
ring-no-answer timer stops the phone ringing; the voice driver's events join the live log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.config.flow import sample_flow
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.routing.model import AgentNotReady, AgentReady
from hotline.telephony.call_center import CallCenter, CallCenterSettings
from hotline.telephony.fake import FakeMediaServer, FakeSignalling
from hotline.telephony.joined import DriverSink, LiveRouter
from hotline.telephony.ports import AgentPhone
from hotline.telephony.server import SAMPLE_CENTER

OPEN = 1772416800.0  # Monday 2026-03-02 10:00 in Shanghai


class LiveRig:
    def __init__(self) -> None:
        self.clock = ManualClock(OPEN)
        self.driver = LiveDriver(center=load_center(SAMPLE_CENTER), clock=self.clock)
        self.router = LiveRouter(self.driver)
        self.sip = FakeSignalling()
        self.media = FakeMediaServer(duration_ms=5)
        self.center = CallCenter(
            settings=CallCenterSettings(
                flow=sample_flow(),
                prompts=Path("/prompts"),
                recordings=Path("/recordings"),
                phones=(AgentPhone("a001", "1001", "pw"),),
            ),
            media=self.media,
            router=self.router,
            sink=DriverSink(self.driver),
            clock=self.clock,
        )
        self.center.signalling = self.sip
        self.router.attach(self.center)
        self.published: list[dict[str, object]] = []
        self.driver.publish = self.published.append

    async def settle(self, seconds: float = 0.05) -> None:
        await asyncio.sleep(seconds)
        await self.center.drain()

    def dials(self) -> list[tuple[str, ...]]:
        return [a for a in self.sip.actions if a[0] == "dial"]

    async def queue_caller(self) -> str:
        self.center.incoming("in-1", caller="13800000001", called="400", sdp="v=0")
        await self.settle()
        contact = next(iter(self.center.calls))
        for key in ("2", "2"):  # English, installation
            self.center.dtmf(contact, "caller", key)
            await self.settle()
        return contact


def test_the_desk_making_an_agent_ready_rings_their_phone_for_the_waiting_caller() -> None:
    rig = LiveRig()

    async def scenario() -> None:
        await rig.driver.start()
        try:
            rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
            await rig.settle()
            assert rig.driver.engine.agent_state("a001").value == "available"
            await rig.driver.command(
                lambda now: AgentNotReady(at=now, agent_id="a001", reason="break")
            )
            contact = await rig.queue_caller()
            assert rig.driver.engine.contact_stage(contact) == "waiting"
            assert rig.dials() == []
            # the screen pop has the calling number and what the IVR gathered
            assert rig.driver.attached[contact]["customer"] == "13800000001"
            assert rig.driver.attached[contact]["via"] == "phone"  # answered on the phone
            await rig.driver.command(lambda now: AgentReady(at=now, agent_id="a001"))  # the desk
            await rig.settle()
            assert rig.dials() == [("dial", "out-1", "sip:1001@127.0.0.1:5071")]
            # nobody picks up: the engine's ring-no-answer timer stops the phone ringing
            rig.clock.advance(21)
            await rig.driver.tick()
            await rig.settle()
            assert ("hang_up", "out-1") in rig.sip.actions
            assert rig.driver.engine.agent_state("a001").value == "not_ready"
            assert rig.driver.engine.contact_stage(contact) == "waiting"
            rig.center.hung_up("in-1")
            await rig.settle()
            await rig.center.drain()
        finally:
            await rig.driver.stop()

    asyncio.run(scenario())
    kinds = [m.get("kind") for m in rig.published if m.get("type") == "event"]
    # the voice driver's events (arrival, IVR) and the engine's share the live log
    for kind in ("arrived", "ivr_step", "queued", "offered", "ring_no_answer", "abandoned"):
        assert kind in kinds, kind
    assert kinds.count("queued") == 1  # written once, by the engine
    offers = [m for m in rig.published if m.get("type") == "offer"]
    assert offers and offers[0]["agent_id"] == "a001"  # the desk saw the phone ringing


def test_a_phone_coming_back_does_not_end_an_agents_break() -> None:
    rig = LiveRig()

    async def scenario() -> None:
        await rig.driver.start()
        try:
            rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
            await rig.settle()
            await rig.driver.command(
                lambda now: AgentNotReady(at=now, agent_id="a001", reason="break")
            )
            rig.center.registration_changed("1001", None)
            rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5072")
            await rig.settle()
            assert rig.driver.engine.agent_state("a001").value == "not_ready"
            assert rig.driver.engine.agent_reason("a001") == "break"
        finally:
            await rig.driver.stop()

    asyncio.run(scenario())


def test_saving_the_center_switches_the_emergency_announcement_on_for_new_calls() -> None:
    from types import SimpleNamespace

    from hotline.telephony.joined import LiveVoice
    from hotline.telephony.server import ServerOptions, center_ivr

    rig = LiveRig()
    center = load_center(SAMPLE_CENTER)
    ivr = center_ivr(center)
    assert ivr is not None
    rig.center.set_ivr(ivr.flow, by_number=ivr.by_number, emergency_prompt=None)
    voice = LiveVoice(
        rig.driver,
        ServerOptions(workdir=Path("/unused"), prompts=Path("/prompts"), phones=()),
        follow_center=True,
    )
    voice.parts = SimpleNamespace(center=rig.center)  # type: ignore[assignment]
    assert center.ivr is not None
    switched_on = center.model_copy(
        update={"ivr": center.ivr.model_copy(update={"emergency_prompt": "emergency"})}
    )

    async def scenario() -> None:
        await rig.driver.start()
        try:
            rig.center.incoming("in-1", caller="13800000001", called="4008001234", sdp="v=0")
            await rig.settle()
            rig.center.dtmf(next(iter(rig.center.calls)), "caller", "1")  # 中文
            await rig.settle()
            rig.driver.reconfigure(switched_on)  # an administrator saves the configuration
            rig.center.incoming("in-2", caller="13800000002", called="4008001234", sdp="v=0")
            await rig.settle()
            second = next(c for c in rig.center.calls.values() if c.leg == "in-2")
            rig.center.dtmf(second.contact_id, "caller", "1")
            await rig.settle()
            first = next(c for c in rig.center.calls.values() if c.leg == "in-1")
            assert "emergency" not in rig.media.played(first.contact_id)  # started before
            assert "emergency" in rig.media.played(second.contact_id)
            for leg in ("in-1", "in-2"):
                rig.center.hung_up(leg)
            await rig.center.drain()
        finally:
            await rig.driver.stop()

    asyncio.run(scenario())


def test_a_called_number_picks_its_own_ivr_flow() -> None:
    from hotline.config.flow import Flow

    rig = LiveRig()
    direct = Flow.model_validate(
        {
            "id": "vip-line",
            "start": "hello",
            "nodes": {
                "hello": {"type": "play", "prompts": ["welcome"], "next": "q"},
                "q": {"type": "queue", "queue": "vip"},
            },
        }
    )
    rig.center.set_ivr(
        rig.center.interpreter.flow, by_number={"4008009999": direct}, emergency_prompt=None
    )

    async def scenario() -> None:
        await rig.driver.start()
        try:
            rig.center.incoming("in-1", caller="13800000001", called="4008009999", sdp="v=0")
            rig.center.incoming("in-2", caller="13800000002", called="400", sdp="v=0")
            await rig.settle(0.1)
            by_leg = {c.leg: c.contact_id for c in rig.center.calls.values()}
            assert rig.media.played(by_leg["in-1"])[0] == "welcome"
            assert rig.media.played(by_leg["in-2"])[0] == "language"
            for leg in ("in-1", "in-2"):
                rig.center.hung_up(leg)
            await rig.center.drain()
        finally:
            await rig.driver.stop()

    asyncio.run(scenario())


def test_refused_calls_raise_an_overload_alarm_in_the_log_and_on_the_wallboard_feed() -> None:
    from types import SimpleNamespace

    from hotline.telephony.joined import LiveVoice
    from hotline.telephony.overload import OverloadBounds
    from hotline.telephony.server import LoadMonitor, ServerOptions

    rig = LiveRig()
    monitor = LoadMonitor(OverloadBounds(max_setup_backlog=2), media_pending=lambda: 0)
    voice = LiveVoice(
        rig.driver, ServerOptions(workdir=Path("/unused"), prompts=Path("/prompts"), phones=())
    )
    stack = SimpleNamespace(setup_backlog=2, expire_registrations=lambda: None)
    voice.parts = SimpleNamespace(center=rig.center, stack=stack, overload=monitor)  # type: ignore[assignment]

    def alarms() -> list[dict[str, object]]:
        return [
            dict(m["data"])  # type: ignore[call-overload]
            for m in rig.published
            if m["type"] == "event" and m["kind"] == "alarm"
        ]

    def boards() -> list[dict[str, object]]:
        return [m for m in rig.published if m["type"] == "voice_load"]

    async def scenario() -> None:
        await rig.driver.start()
        try:
            voice.tick()  # nothing refused yet: no alarm, the board says all is well
            assert alarms() == [] and boards()[-1]["overloaded"] is False
            # the SIP stack asks about three INVITEs while two callers wait: all refused
            for _ in range(3):
                decision = monitor.decide(setup_backlog=2, oldest_setup_age_s=0.01)
                assert not decision.admitted and decision.retry_after_s == 5
            assert monitor.decide(setup_backlog=1, oldest_setup_age_s=0.01).admitted
            rig.clock.advance(1.0)
            voice.tick()
            await asyncio.sleep(0)
            assert alarms() == [
                {"component": "sip", "state": "overload", "refused": 3, "reason": "setup_backlog"}
            ]
            board = boards()[-1]
            assert board["overloaded"] is True and board["refused_now"] == 3
            assert board["setup_backlog"] == 2
            for _ in range(3):  # quiet seconds: the overload is over
                rig.clock.advance(1.0)
                voice.tick()
            await asyncio.sleep(0)
            assert alarms()[-1]["state"] == "recovered" and alarms()[-1]["refused"] == 3
            assert boards()[-1]["overloaded"] is False and boards()[-1]["refused_total"] == 3
        finally:
            await rig.driver.stop()

    asyncio.run(scenario())


def test_a_coached_agent_is_told_on_their_feed_and_a_listened_one_is_not() -> None:
    from hotline.telephony.joined import LiveVoice
    from hotline.telephony.server import ServerOptions
    from hotline.telephony.supervision import Session

    rig = LiveRig()
    voice = LiveVoice(
        rig.driver, ServerOptions(workdir=Path("/unused"), prompts=Path("/prompts"), phones=())
    )

    def told() -> list[tuple[object, ...]]:
        return [
            (m["on"], m["agent_id"], m["contact_id"], m["mode"], m["supervisor"])
            for m in rig.published
            if m["type"] == "coached"
        ]

    for mode in ("listen", "whisper", "barge"):
        session = Session(f"c-{mode}", "boss", "a001", mode, "sv-1", 1.0)
        voice.coaching_began(session)
        session.answered = True
        voice.supervision_ended(session, "stopped")
    assert told() == [
        (True, "a001", "c-whisper", "whisper", "boss"),
        (False, "a001", "c-whisper", "whisper", "boss"),
        (True, "a001", "c-barge", "barge", "boss"),
        (False, "a001", "c-barge", "barge", "boss"),
    ]


def test_a_switch_of_mode_tells_the_agent_when_the_supervisor_starts_or_stops_being_heard() -> None:
    from hotline.telephony.joined import LiveVoice
    from hotline.telephony.media.g711 import Mode
    from hotline.telephony.server import ServerOptions
    from hotline.telephony.supervision import Session

    rig = LiveRig()
    voice = LiveVoice(
        rig.driver, ServerOptions(workdir=Path("/unused"), prompts=Path("/prompts"), phones=())
    )
    session = Session("c-1", "boss", "a001", "listen", "sv-1", 1.0, answered=True)
    modes: tuple[Mode, ...] = ("whisper", "barge", "listen", "barge", "whisper")
    for mode in modes:
        previous, session.mode = session.mode, mode
        voice.coaching_switched(session, previous)
    voice.supervision_ended(session, "stopped")
    assert [(m["on"], m["mode"]) for m in rig.published if m["type"] == "coached"] == [
        (True, "whisper"),  # listen -> whisper: heard now
        (True, "barge"),  # the notice says how
        (False, "listen"),  # silent again
        (True, "barge"),
        (True, "whisper"),
        (False, "whisper"),  # the end
    ]
