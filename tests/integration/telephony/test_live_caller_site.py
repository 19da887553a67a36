"""The live driver prefers the site of the caller's region, from the center file to the phone.

The sample center's sites list their regions (hefei ``0551``…, chengdu ``028``…); with the
installation queue preferring the caller's site, a caller from chengdu's region rings the
phone of chengdu's agent although hefei's has been idle longer (the queue's strategy would
pick hefei's). The live driver (the web app's engine) with the in-tree SIP and media fakes,
as :mod:`tests.integration.telephony.test_live_router`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from hotline.config.flow import sample_flow
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.live.driver import LiveDriver
from hotline.telephony.call_center import CallCenter, CallCenterSettings
from hotline.telephony.fake import FakeMediaServer, FakeSignalling
from hotline.telephony.joined import DriverSink, LiveRouter
from hotline.telephony.ports import AgentPhone
from hotline.telephony.server import SAMPLE_CENTER
from tests.integration.telephony.test_live_router import OPEN


def test_a_caller_from_chengdus_region_rings_chengdus_agent_first(tmp_path: Path) -> None:
    text = SAMPLE_CENTER.read_text(encoding="utf-8")
    installation = "    strategy: longest_idle\n    wrap_up_s: 30\n"
    assert text.count(installation) == 1
    center_file = tmp_path / "center.yaml"
    center_file.write_text(
        text.replace(installation, installation + "    prefer_caller_site_s: 30\n"),
        encoding="utf-8",
    )
    clock = ManualClock(OPEN)
    driver = LiveDriver(center=load_center(center_file), clock=clock)
    router = LiveRouter(driver)
    sip = FakeSignalling()
    center = CallCenter(
        settings=CallCenterSettings(
            flow=sample_flow(),
            prompts=Path("/prompts"),
            recordings=Path("/recordings"),
            # a001 works in hefei, a036 in chengdu; both speak English and install
            phones=(AgentPhone("a001", "1001", "pw"), AgentPhone("a036", "1036", "pw")),
        ),
        media=FakeMediaServer(duration_ms=5),
        router=router,
        sink=DriverSink(driver),
        clock=clock,
    )
    center.signalling = sip
    router.attach(center)
    published: list[dict[str, object]] = []
    driver.publish = published.append

    async def settle() -> None:
        await asyncio.sleep(0.05)
        await center.drain()

    async def scenario() -> None:
        await driver.start()
        try:
            center.registration_changed("1001", "sip:1001@127.0.0.1:5071")
            await settle()
            clock.advance(5)  # a001 idle longest: the strategy's choice
            center.registration_changed("1036", "sip:1036@127.0.0.1:5072")
            await settle()
            center.incoming("in-1", caller="+86 28 8765 4321", called="400", sdp="v=0")
            await settle()
            contact = next(iter(center.calls))
            for key in ("2", "2"):  # English, installation
                center.dtmf(contact, "caller", key)
                await settle()
            await settle()
            assert [a for a in sip.actions if a[0] == "dial"] == [
                ("dial", "out-1", "sip:1036@127.0.0.1:5072")
            ]
            center.answered("out-1", "v=0 agent")
            await settle()
            assert driver.engine.contact_stage(contact) == "connected"
            center.hung_up("in-1")
            await settle()
        finally:
            await driver.stop()

    asyncio.run(scenario())
    answered = [
        m["agent_id"] for m in published if m.get("type") == "event" and m.get("kind") == "answered"
    ]
    assert answered == ["a036"]
