"""A voice node killed with a call in progress (issue #20), real processes on PostgreSQL.

A partition owner (``hotline node``) and two voice nodes (``hotline telephony serve
--node-name … --partition …``, each with its own rtpengine) on 127.0.0.1; a baresip agent
phone given both nodes as its registrars (baresip's ``outbound`` and ``outbound2``: it keeps a
registration through each). A sipp caller reaches node A and the agent answers; node A is
killed with SIGKILL. The call drops with it, but within the stated time the log has the
contact ended once as ``interrupted`` (reason ``voice_node_lost``), the agent ``available``
again and one ``voice_node_lost`` alarm, written by the owner under its lease's epoch. Then
the next caller, through node B, reaches the same agent.

Run with ``HOTLINE_E2E=1`` and a PostgreSQL test server (``make test`` provides both).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.live.failover_drill import NodeProcess, fresh_database, lease_of
from hotline.store import voice_requests
from hotline.store.db import make_engine, make_session_factory
from hotline.store.models.core import ContactEventRow
from hotline.store.models.voice_nodes import VoiceLegRow, VoiceNodeRow
from hotline.store.models.voice_requests import VoiceRequestRow
from hotline.store.pg_cluster import wait_for
from hotline.telephony.media.prompts import generate_all
from tests.conftest import postgres_url
from tests.e2e.telephony.telephony_peers import (
    HERE,
    BaresipAgent,
    VoiceServer,
    free_port,
    require_tools,
    sipp_command,
    write_direct_flow,
    write_quick_center,
)

#: The longest wait allowed from the kill to the contact's end and the agent freed: the
#: heartbeat (3 s) plus the owner's check (a quarter lease) and its write, on a busy machine.
LOSS_BOUND_S = 8.0

#: RTP ports above every ``port_block`` (20000-31199): this test runs in the cluster group,
#: beside the voice group's tests on another worker, whose blocks it must never meet.
RTP = {"voice-a": (31200, 31399), "voice-b": (31400, 31599), "agent": (31600, 31699)}
CALLER_RTP = {"13800000101": 31700, "13800000102": 31720, "customer": 31740}


def _log(factory: sessionmaker[Session]) -> list[ContactEventRow]:
    with factory() as session:
        rows = list(session.scalars(select(ContactEventRow).order_by(ContactEventRow.id)))
        session.expunge_all()
    return rows


def _caller(root: Path, port: int, number: str) -> subprocess.Popen[bytes]:
    numbers = root / f"numbers-{number}.csv"
    numbers.write_text(f"SEQUENTIAL\n{number};\n")
    command = sipp_command(
        HERE / "caller_waits_for_bye.xml",
        port,
        root / f"sipp-{number}",
        timeout_s=60,
        extra=["-inf", str(numbers), "-mp", str(CALLER_RTP[number])],
    )
    return subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


@pytest.fixture
def processes() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def test_a_killed_voice_nodes_call_ends_as_interrupted_and_its_agent_takes_the_next_call(
    tmp_path: Path, processes: ExitStack
) -> None:
    require_tools()
    url = postgres_url()
    if not url:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    partition = load_center(write_quick_center(tmp_path / "probe.yaml")).sites[0].id
    database_url = processes.enter_context(fresh_database(url))
    engine = make_engine(database_url)
    processes.callback(engine.dispose)
    factory = make_session_factory(engine)
    prompts = tmp_path / "prompts"
    phones = tmp_path / "phones.yaml"
    phones.write_text("- {agent: a001, user: '1001', password: 'agent-secret'}\n")
    center = write_quick_center(tmp_path / "center.yaml")
    owner = NodeProcess(
        name="owner",
        partition=partition,
        database_url=database_url,
        home=tmp_path,
        center=center,
        lease_s=1.5,
    )
    processes.callback(owner.close)

    customer_port = free_port()  # node B's trunk: a sipp customer a web node's desk dials

    def voice_node(name: str) -> VoiceServer:
        server = VoiceServer(
            workdir=tmp_path / name,
            prompts=prompts,
            phones=phones,
            rtp_ports=RTP[name],
            database_at=database_url,
            trunk=f"sip:{{number}}@127.0.0.1:{customer_port}" if name == "voice-b" else None,
            ready_timeout_s=90,  # three interpreters start at once on a shared machine
            extra_args=(
                "--flow", str(write_direct_flow(tmp_path / "flow.yaml")), "--recording-notice", "",
                "--node-name", name, "--partition", partition, "--heartbeat-s", "3",
            ),
        )  # fmt: skip
        processes.callback(server.stop)
        return server

    node_a, node_b = voice_node("voice-a"), voice_node("voice-b")
    with ThreadPoolExecutor(3) as starting:  # side by side: each takes seconds
        started = [starting.submit(node.start) for node in (node_a, node_b)]
        generate_all(prompts)  # read at the first call, not at start
        for future in started:
            future.result()
    agent = BaresipAgent(
        workdir=tmp_path / "agent",
        user="1001",
        password="agent-secret",
        registrar_port=node_a.sip_port,
        also_registrar_port=node_b.sip_port,
        voice=prompts / "en" / "welcome.wav",
        rtp_ports=RTP["agent"],
        talk_s=60.0,
        stop_timeout_s=1.0,  # node A is gone: its un-REGISTER would wait for it
    )
    processes.callback(agent.stop)
    agent.start()

    def registered_on_both() -> bool:
        return all(
            any(e["kind"] == "agent_state" and e["agent_id"] == "a001" for e in node.events())
            for node in (node_a, node_b)
        )

    wait_for(
        registered_on_both,
        timeout_s=30,
        every_s=0.1,
        what="a001 registered on A and B",
        describe=lambda: (tmp_path / "agent" / "baresip.log").read_text()[-2000:],
    )
    lease = wait_for(
        lambda: (held := lease_of(factory, partition)) and held.routing_at and held,
        timeout_s=60,
        every_s=0.1,
        what="the owner routing",
        describe=lambda: str(owner.lines),
    )

    first = _caller(tmp_path, node_a.sip_port, "13800000101")
    processes.callback(_stop, first)

    def answered_on_a() -> Any:
        with factory() as session:
            return session.scalars(
                select(VoiceLegRow).where(
                    VoiceLegRow.stage == "talking", VoiceLegRow.agent_id == "a001"
                )
            ).first()

    leg = wait_for(
        answered_on_a,
        timeout_s=30,
        every_s=0.05,
        what="a001 talking on node A",
        describe=lambda: str(node_a.events()[-5:]),
    )
    contact = leg.contact_id
    assert node_a.process is not None
    node_a.process.kill()  # SIGKILL: the call, its media relay and the node's engine go
    killed = time.monotonic()

    def ended_and_freed() -> list[ContactEventRow] | None:
        log = _log(factory)
        ends = [e for e in log if e.contact_id == contact and e.kind == "finished"]
        freed = [
            e
            for e in log
            if e.agent_id == "a001"
            and e.kind == "agent_state"
            and e.data.get("reason") == "voice_node_lost"
        ]
        return log if ends and freed else None

    log = wait_for(
        ended_and_freed,
        timeout_s=30,
        every_s=0.05,
        what="the contact ended",
        describe=lambda: str(owner.lines),
    )
    took_s = time.monotonic() - killed
    print(f"voice node killed → contact ended and agent freed in {took_s:.2f} s")
    [end] = [e for e in log if e.contact_id == contact and e.kind == "finished"]
    assert end.data == {
        "outcome": "interrupted",
        "reason": "voice_node_lost",
        "voice_node": "voice-a",
    }
    [alarm] = [e for e in log if e.kind == "alarm" and e.data.get("alarm") == "voice_node_lost"]
    assert alarm.data["contacts"] == [contact] and alarm.data["agents"] == ["a001"]
    [freed] = [
        e for e in log if e.kind == "agent_state" and e.data.get("reason") == "voice_node_lost"
    ]
    assert freed.data["state"] == "available" and freed.data["previous"] == "on_contact"
    assert [e.kind for e in log if e.contact_id == contact][-2:] == ["disconnected", "finished"]
    with factory() as session:
        lost = session.scalars(select(VoiceNodeRow).where(VoiceNodeRow.name == "voice-a")).one()
        assert lost.lost_epoch == lease.epoch and lost.logged_at is not None
    assert took_s < LOSS_BOUND_S, f"{took_s:.2f} s from the kill to the contact's end"

    _stop(first)  # its call went with node A (sipp waits for a BYE that never comes)
    # A web node's click-to-dial for a001 (the row its endpoint writes): node A is dead, so
    # node B — a001's phone is registered there too — claims it, rings a001, then dials the
    # customer through its trunk (a sipp UAS that answers, then hangs up after 1.5 s).
    customer = subprocess.Popen(
        [
            "sipp", "-sf", str(HERE / "customers_dialled.xml"), "-i", "127.0.0.1",
            "-p", str(customer_port), "-mp", str(CALLER_RTP["customer"]), "-m", "1",
            "-nostdin", "-timeout", "30s", "-timeout_error",
        ],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    processes.callback(_stop, customer)
    asked = time.monotonic()
    with factory() as session:
        request_id = voice_requests.submit(
            session, partition=partition, kind="dial", agent_id="a001", number="13800000104",
            requested_by="a001",
        )  # fmt: skip
        session.commit()

    def answered_request() -> VoiceRequestRow | None:
        with factory() as session:
            row = session.get(VoiceRequestRow, request_id)
            return row if row is not None and row.state != "pending" else None

    row = wait_for(answered_request, timeout_s=10, every_s=0.05, what="the dial claimed")
    row = wait_for(
        lambda: (r := answered_request()) and r.state != "claimed" and r,
        timeout_s=10,
        every_s=0.05,
        what="the dial answered",
    )
    print(f"a voice request for a001 answered by node B in {time.monotonic() - asked:.2f} s")
    with factory() as session:
        node_b_id = session.scalars(
            select(VoiceNodeRow.id).where(
                VoiceNodeRow.name == "voice-b", VoiceNodeRow.lost_at.is_(None)
            )
        ).one()
    assert (row.state, row.claimed_by) == ("done", node_b_id), row.result
    dialled = str(row.result["contact_id"])
    node_b.wait_for(
        lambda events: any(e["kind"] == "finished" and e["contact_id"] == dialled for e in events),
        timeout_s=20.0,
    )
    assert customer.wait(timeout=15) == 0  # the customer's call was set up and ended
    print(f"the dialled call (rung, talked, hung up) ended {time.monotonic() - asked:.2f} s in")
    outbound = [e for e in node_b.events() if e["contact_id"] == dialled]
    assert any(e["kind"] == "answered" and e["agent_id"] == "a001" for e in outbound)
    finished = outbound[-1]["data"]
    assert isinstance(finished, dict) and finished["outcome"] == "answered", outbound[-1]
    # The phone is still registered through node B: the next caller there reaches a001.
    second = _caller(tmp_path, node_b.sip_port, "13800000102")
    processes.callback(_stop, second)

    def answered_on_b() -> bool:
        return any(e["kind"] == "answered" and e["agent_id"] == "a001" for e in node_b.events())

    wait_for(
        answered_on_b,
        timeout_s=30,
        every_s=0.05,
        what="a001 answering through node B",
        describe=lambda: str(node_b.events()[-5:]),
    )
