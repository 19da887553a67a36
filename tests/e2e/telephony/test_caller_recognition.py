"""End-to-end caller recognition on real SIP: sipp callers, the voice server, a baresip agent.

The center's caller rules give VIP level 3 priority 90 and list a nuisance number; the CRM
(the voice server's own SQLite database) holds a VIP customer. With the one agent busy, a
regular caller queues first and the VIP second: when the agent comes free the VIP is offered
the call first. The nuisance number is refused with 403 before any media or IVR. The agent's
job number is announced on connect. Run with ``HOTLINE_E2E=1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.orm import Session

from hotline.crm.service import create_customer
from hotline.store.db import make_engine

from .telephony_peers import (
    HERE,
    BaresipAgent,
    VoiceServer,
    run_sipp,
    write_direct_flow,
    write_quick_center,
)

pytestmark = pytest.mark.e2e

VIP_NUMBER = "13800000777"
NUISANCE_NUMBER = "13900000666"


def _center(path: Path) -> Path:
    center = yaml.safe_load(write_quick_center(path).read_text(encoding="utf-8"))
    center["caller_rules"] = {
        "nuisance": [{"number": f"+86 {NUISANCE_NUMBER}"}],
        "vip": [{"min_level": 3, "priority": 90}],
    }
    for agent in center["agents"]:
        if agent["id"] == "a001":
            agent["job_number"] = "1024"
    for queue in center["queues"]:
        if queue["id"] == "installation":
            queue["announce_agent_number"] = True
    path.write_text(yaml.safe_dump(center, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def voice(
    tmp_path_factory: pytest.TempPathFactory, voice_prompts: Path
) -> Iterator[tuple[VoiceServer, BaresipAgent]]:
    root = tmp_path_factory.mktemp("recognition")
    prompts = voice_prompts
    phones = root / "phones.yaml"
    phones.write_text("- {agent: a001, user: '1001', password: 'agent-secret'}\n")
    center = _center(root / "center.yaml")
    server = VoiceServer(
        workdir=root / "server",
        prompts=prompts,
        phones=phones,
        slot=4,
        extra_args=(
            "--center",
            str(center),
            "--flow",
            str(write_direct_flow(root / "flow.yaml")),
            "--recording-notice",
            "",
        ),
    )
    server.start()
    with Session(make_engine(server.database_url)) as session:
        create_customer(session, name="贵宾", phones=[VIP_NUMBER], vip_level=3, actor="test")
        session.commit()
    agent = BaresipAgent(
        workdir=root / "agent",
        user="1001",
        password="agent-secret",
        registrar_port=server.sip_port,
        voice=prompts / "en" / "welcome.wav",
        slot=5,
        talk_s=2.5,
    )
    agent.start()
    server.wait_for(lambda events: any(e["kind"] == "agent_state" for e in events))
    try:
        yield server, agent
    finally:
        agent.stop()
        server.stop()


def _contact_of(events: list[dict[str, Any]], caller: str) -> str:
    return next(
        str(e["contact_id"])
        for e in events
        if e["kind"] == "arrived" and e["data"].get("caller") == caller
    )


def test_a_vip_caller_jumps_the_queue_and_hears_the_agents_number(
    voice: tuple[VoiceServer, BaresipAgent], tmp_path: Path
) -> None:
    server, _agent = voice
    # One sipp, three calls half a second apart, one calling number each (sipp's -inf file):
    # the first reaches the (only) agent, who talks 2.5 s; the next two wait, the regular
    # caller first.
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("SEQUENTIAL\n13800000101;\n13800000102;\n" + VIP_NUMBER + ";\n")
    result = run_sipp(
        HERE / "caller_waits_for_bye.xml",
        server.sip_port,
        tmp_path / "sipp",
        calls=3,
        rate=2.0,
        timeout_s=60,
        extra=["-inf", str(numbers)],
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    events = server.wait_for(
        lambda evs: sum(1 for e in evs if e["kind"] == "finished") >= 3, timeout_s=20
    )
    first, regular, vip = (
        _contact_of(events, n) for n in ("13800000101", "13800000102", VIP_NUMBER)
    )
    offered = [e["contact_id"] for e in events if e["kind"] == "offered"]
    assert offered.index(vip) < offered.index(regular), offered
    queued_at = {e["contact_id"]: e["at"] for e in events if e["kind"] == "queued"}
    assert queued_at[regular] < queued_at[vip]  # the VIP came later and was served first
    [recognised] = [
        e
        for e in events
        if e["contact_id"] == vip
        and e["kind"] == "ivr_step"
        and e["data"].get("action") == "caller_recognised"
    ]
    assert recognised["data"]["rules"] == "vip:3"
    announced = [
        e["contact_id"]
        for e in events
        if e["kind"] == "ivr_step" and e["data"].get("action") == "agent_number"
    ]
    assert set(announced) == {first, regular, vip}


def test_a_nuisance_number_is_refused_with_403(
    voice: tuple[VoiceServer, BaresipAgent], tmp_path: Path
) -> None:
    server, _agent = voice
    result = run_sipp(
        HERE / "caller_expects_403.xml",
        server.sip_port,
        tmp_path,
        keys={"caller": NUISANCE_NUMBER},
        timeout_s=20,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    events = server.wait_for(
        lambda evs: any(
            e["kind"] == "finished" and e["data"].get("reason") == "nuisance_block" for e in evs
        )
    )
    contact = _contact_of(events, NUISANCE_NUMBER)
    kinds = [e["kind"] for e in events if e["contact_id"] == contact]
    assert kinds == ["arrived", "finished"]
