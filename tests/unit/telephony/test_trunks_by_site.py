"""Trunks by site on the voice server's dial path: a call out leaves by the trunk of its
agent's site (click-to-dial, callbacks) or its queue's site (a caller forwarded out), else by
the center's default trunk, else by the server's ``--trunk`` — with the center file's trunks
carried to the driver as the server carries them (``caller_options``), against the fakes."""

from __future__ import annotations

import asyncio
import dataclasses

from hotline.config.validate import check_text
from hotline.telephony.call_center import CallCenter
from hotline.telephony.dialler import DialCampaign
from hotline.telephony.ports import AgentPhone
from hotline.telephony.server import SAMPLE_CENTER, caller_options
from tests.unit.telephony.test_call_center import Rig, _to_queue
from tests.unit.telephony.test_dialler import make_dialler

TRUNKS = """
trunks:
  - {id: hefei-ct, uri: 'sip:{number}@10.1.0.1:5060', site: hefei, caller_id: '055163360000',
     rewrite: [{starts_with: '0551', replace_with: ''}]}
  - {id: chengdu-cu, uri: 'sip:{number}@10.2.0.1:5060', site: chengdu, caller_id: '02888880000'}
"""
OVERRIDE = "sip:{number}@127.0.0.1:5070"


def _rig(trunks: str = TRUNKS, *, override: str | None = OVERRIDE) -> Rig:
    """The sample center (a001 at hefei, a021 at chengdu) with ``trunks`` added to its file."""
    result = check_text(SAMPLE_CENTER.read_text(encoding="utf-8") + trunks, file="center.yaml")
    assert result.ok, [str(p) for p in result.errors]
    assert result.config is not None
    rig = Rig()
    options = caller_options(result.config)
    settings = dataclasses.replace(
        rig.center.settings,
        trunk=override,
        trunks=options["trunks"],
        agent_sites=options["agent_sites"],
        queue_sites=options["queue_sites"],
        phones=(AgentPhone("a001", "1001", "pw1"), AgentPhone("a021", "1021", "pw2")),
    )
    rig.center = CallCenter(
        settings=settings, media=rig.media, router=rig.router, sink=rig.sink, clock=rig.clock
    )
    rig.center.signalling = rig.sip
    rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5091")
    rig.center.registration_changed("1021", "sip:1021@127.0.0.1:5092")
    return rig


async def _click_to_dial(rig: Rig, agent_id: str, number: str) -> tuple[str, str]:
    """Place a click-to-dial call; the agent answers; the customer leg's URI and caller."""
    await rig.center.originate(agent_id=agent_id, number=number)
    agent_leg = [a for a in rig.sip.actions if a[0] == "dial"][-1][1]
    rig.center.answered(agent_leg, "v=0 agent")
    await rig.center.drain()
    _, leg, contact = [a for a in rig.sip.actions if a[0] == "dial"][-1]
    return contact, rig.sip.callers[leg]


def test_click_to_dial_leaves_by_the_agents_site_trunk() -> None:
    async def scenario() -> None:
        rig = _rig()
        hefei = await _click_to_dial(rig, "a001", "055162223333")
        chengdu = await _click_to_dial(rig, "a021", "02866667777")
        assert hefei == ("sip:62223333@10.1.0.1:5060", "055163360000")
        assert chengdu == ("sip:02866667777@10.2.0.1:5060", "02888880000")
        trunks = [e.data.get("trunk") for e in rig.sink.events if e.data.get("leg") == "customer"]
        assert trunks == ["hefei-ct", "chengdu-cu"]

    asyncio.run(scenario())


def test_a_site_without_a_trunk_uses_the_centers_default_then_the_servers_trunk() -> None:
    async def scenario() -> None:
        only_hefei = TRUNKS.split("  - {id: chengdu-cu", maxsplit=1)[0]
        rig = _rig(only_hefei)
        # chengdu has no trunk and the center no default: the server's --trunk carries it.
        assert await _click_to_dial(rig, "a021", "02866667777") == (
            "sip:02866667777@127.0.0.1:5070",
            "a021",
        )
        default = only_hefei + "  - {id: main, uri: 'sip:{number}@10.0.0.1'}\n"
        rig = _rig(default, override=None)
        assert (await _click_to_dial(rig, "a021", "02866667777"))[0] == ("sip:02866667777@10.0.0.1")

    asyncio.run(scenario())


def test_a_forwarded_caller_leaves_by_the_trunk_of_the_queues_site() -> None:
    async def scenario() -> None:
        rig = _rig()
        await _to_queue(rig)  # menu key 2: installation, a hefei queue
        call = rig.center.calls[rig.contact]
        assert call.queue == "installation"
        assert rig.center.forwards.start(call, "055199998888")
        await rig.settle()  # the far end is dialled once the relay's plain offer is made
        _, leg, contact = [a for a in rig.sip.actions if a[0] == "dial"][-1]
        # A forwarded caller's own number is shown to the partner, not the trunk's.
        assert (contact, rig.sip.callers[leg]) == ("sip:99998888@10.1.0.1:5060", "13800000000")
        [dialling] = [e for e in rig.sink.events if e.data.get("state") == "dialling"]
        assert dialling.data["trunk"] == "hefei-ct"
        rig.center.hung_up(leg)
        await rig.settle()

    asyncio.run(scenario())


def test_a_campaign_dials_by_the_trunk_of_its_queues_site() -> None:
    async def scenario() -> None:
        configured = _rig().center.settings  # the sample center's sites and these trunks
        for queue, expected in (
            ("vip", ("sip:02866667777@10.2.0.1:5060", "02888880000")),
            ("repair", ("sip:02866667777@10.1.0.1:5060", "055163360000")),
        ):
            center, dialler, sip, sink, lists = make_dialler(["02866667777"])
            center.settings = dataclasses.replace(
                center.settings,
                trunk=None,
                trunks=configured.trunks,
                agent_sites=configured.agent_sites,
                queue_sites=configured.queue_sites,
            )
            lists.campaigns = [DialCampaign(7, "progressive", ("a001",), queue=queue)]
            center.registration_changed("1001", "sip:1001@127.0.0.1:5090")
            await dialler.round()
            [(_, leg, contact)] = [a for a in sip.actions if a[0] == "dial"]
            assert (contact, sip.callers[leg]) == expected
            [arrived] = [e for e in sink.events if e.kind.value == "arrived"]
            assert arrived.data["trunk"] == ("chengdu-cu" if queue == "vip" else "hefei-ct")

    asyncio.run(scenario())
