"""End-to-end click-to-dial: baresip agent rings first, then a sipp UAS customer via the trunk.

The voice server places the call when asked on its control port; the agent's baresip phone
answers, the server dials the customer (``sipp -sn uas`` on 127.0.0.1 standing in for the
trunk), bridges both through rtpengine, and the agent hangs up after a short talk. Run with
``HOTLINE_E2E=1``.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.campaigns import service as campaigns
from hotline.store.db import make_engine, make_session_factory
from hotline.store.models.core import AuditEntry

from .telephony_peers import (
    BaresipAgent,
    VoiceServer,
    free_port,
    originate,
    port_block,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def outbound(
    tmp_path_factory: pytest.TempPathFactory, voice_prompts: Path
) -> Iterator[tuple[VoiceServer, int, Path]]:
    root = tmp_path_factory.mktemp("outbound")
    prompts = voice_prompts
    phones = root / "phones.yaml"
    phones.write_text("- {agent: a001, user: '1001', password: 'agent-secret'}\n")
    customer_port = free_port()
    server = VoiceServer(
        workdir=root / "server",
        prompts=prompts,
        phones=phones,
        slot=0,
        trunk=f"sip:{{number}}@127.0.0.1:{customer_port}",
        control_port=free_port(socket.SOCK_STREAM),
    )
    server.start()
    agent = BaresipAgent(
        workdir=root / "agent",
        user="1001",
        password="agent-secret",
        registrar_port=server.sip_port,
        voice=prompts / "en" / "welcome.wav",
        slot=1,
        talk_s=2.0,
    )
    agent.start()
    server.wait_for(lambda events: any(e["kind"] == "agent_state" for e in events))
    try:
        yield server, customer_port, root
    finally:
        agent.stop()
        server.stop()


def test_click_to_dial_rings_agent_then_customer_and_logs_outbound(
    outbound: tuple[VoiceServer, int, Path],
) -> None:
    server, customer_port, root = outbound
    assert server.control_port is not None
    customer_log = (root / "customer.log").open("wb")
    customer = subprocess.Popen(
        [
            "sipp",
            "-sn",
            "uas",
            "-i",
            "127.0.0.1",
            "-p",
            str(customer_port),
            "-mp",
            str(port_block(3)[0]),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "30s",
            "-timeout_error",
        ],
        cwd=root,
        stdout=customer_log,
        stderr=subprocess.STDOUT,
    )
    try:
        reply = originate(server.control_port, "a001", "13800000000")
        assert "contact_id" in reply, reply
        contact = reply["contact_id"]
        events = server.wait_for(
            lambda events: any(
                e["kind"] == "finished" and e["contact_id"] == contact for e in events
            ),
            timeout_s=20.0,
        )
        assert customer.wait(timeout=15) == 0  # the customer's call was set up and ended
    finally:
        if customer.poll() is None:
            customer.kill()
            customer.wait()
        customer_log.close()
    mine = [e for e in events if e["contact_id"] == contact]
    assert all(dict(e["data"]).get("direction") == "outbound" for e in mine)
    kinds = [e["kind"] for e in mine]
    assert kinds[:3] == ["arrived", "offered", "offered"]
    assert "answered" in kinds and "recording_started" in kinds
    finished = mine[-1]
    assert finished["kind"] == "finished"
    assert dict(finished["data"])["outcome"] == "answered"
    # unknown agents are refused on the control port, not crashed on
    assert "error" in originate(server.control_port, "nobody", "1")
    assert server.alive()


def test_a_number_on_the_do_not_call_list_is_never_dialled_and_the_refusal_is_audited(
    outbound: tuple[VoiceServer, int, Path],
) -> None:
    """The real server asks its database's do-not-call list before ringing anyone."""
    server, _, _ = outbound
    assert server.control_port is not None
    engine = make_engine(server.database_url)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            campaigns.add_do_not_call(session, number="13900000000", actor="boss")
            session.commit()
        seen = len(server.events())
        reply = originate(server.control_port, "a001", "139-0000-0000")
        assert "do-not-call" in reply.get("error", ""), reply
        deadline = time.monotonic() + 10
        while True:
            with factory() as session:
                refused = list(
                    session.scalars(
                        select(AuditEntry).where(AuditEntry.action == "campaign.dnc_refused")
                    )
                )
            if refused or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert [(e.actor, e.target, e.detail["path"]) for e in refused] == [
            ("a001", "+8613900000000", "click_to_dial")
        ]
        # nothing rang: no contact was started for the refused number
        assert [e for e in server.events()[seen:] if e["kind"] in ("arrived", "offered")] == []
    finally:
        engine.dispose()
    assert server.alive()
