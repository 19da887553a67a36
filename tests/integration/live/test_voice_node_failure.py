"""Voice nodes routed by the partition owner, a node killed with a call in progress, and the
owner's takeover under a live call (issue #20), real processes on PostgreSQL.

A partition owner (``hotline node``), a standby, and two voice nodes (``hotline telephony
serve --node-name … --partition …``, each with its own rtpengine, no engine: they route
through the owner's inbox and log) on 127.0.0.1; a baresip agent phone given both nodes as
its registrars (baresip's ``outbound`` and ``outbound2``: it keeps a registration through
each). A sipp caller reaches node A and the agent answers (the offer latency through the owner
is printed); a second caller reaches node B and waits — the phone is registered there too, but
only the owner's engine routes, so a001 gets one offer at a time. Node A is killed with
SIGKILL. The call drops with it, but within the stated time the log has the contact ended once
as ``interrupted`` (reason ``voice_node_lost``), the agent ``available`` again and one
``voice_node_lost`` alarm, written by the owner under its lease's epoch; then the waiting
caller on node B reaches a001. The owner is killed with SIGKILL during that call: the standby
takes over with the call in a001's hands, and a001's hang-up through node B is wrapped up and
finished by the new owner, the log one rising sequence throughout. Then a desk's dial that
node A had claimed but not begun when it died goes back to pending and node B places it
(rings a001, then dials a sipp customer on its trunk); and a caller through node B presses
the callback key while a001 is on a break: released, then once a001 is back the owner offers
the call back naming node B, which rings a001 and dials the caller's number on the trunk (one
offer, one dial, finished ``answered``). Last, a desk on a web
node (its API in process: no engine, no SIP) transfers a third caller on node B from one
agent to the other, whose second baresip answers, and that agent's desk hands the caller to
an outside number: the owner applies it and answers the desk before node B forwards the
caller to a sipp customer. A fourth caller's agent REFERs the call where the owner's engine
refuses it: the owner's ``disconnected`` says ``transfer_refused`` and node B ends the call
on that answer. Then node B's dialler
works a progressive campaign under the new owner, which lends it a001: two sipp customers
answer and reach a001, a listed number is never dialled; node B is killed while a third
customer rings, and the owner keeps that record as a failed attempt and frees a001.

Run with ``HOTLINE_E2E=1`` and a PostgreSQL test server (``make test`` provides both).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import wave
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns import service as campaigns
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.live.failover_drill import NodeProcess, fresh_database, lease_of
from hotline.live.log_board import LogBoard
from hotline.store import event_log, partitions, voice_requests
from hotline.store.db import make_engine, make_session_factory
from hotline.store.models.campaigns import CampaignAttempt, CampaignRecord
from hotline.store.models.cluster import PartitionInboxRow, PartitionWrite
from hotline.store.models.core import ContactEventRow
from hotline.store.models.voice_nodes import VoiceLegRow, VoiceNodeRow
from hotline.store.models.voice_requests import VoiceRequestRow
from hotline.store.pg_cluster import wait_for
from hotline.telephony.media.prompts import generate_all
from hotline.web.app import create_app
from tests.conftest import postgres_url
from tests.e2e.telephony.rtp_pcap import Key, write_timeline
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
from tests.integration.live.conftest import PASSWORD, add_users

#: The longest wait allowed from the kill to the contact's end and the agent freed: the
#: heartbeat (3 s) plus the owner's check (a quarter lease) and its write, on a busy machine.
LOSS_BOUND_S = 8.0

#: The routing events of a contact (the voice node's own — recordings, IVR steps — aside).
ROUTING = ("queued", "offered", "answered", "disconnected", "wrap_up_ended", "finished")

#: RTP ports above every ``port_block`` (20000-31199): this test runs in the cluster group,
#: beside the voice group's tests on another worker, whose blocks it must never meet.
RTP = {
    "voice-a": (31200, 31399),
    "voice-b": (31400, 31599),
    "agent": (31600, 31699),
    "agent-2": (31800, 31899),
}
CALLER_RTP = {
    "13800000101": 31700,
    "13800000102": 31720,
    "customer": 31740,
    "13800000103": 31760,
    "13800000105": 31780,
    "13800000104": 31920,
}
#: The caller released to a call back (customers_dialled.xml: a number ending in 4 answers
#: and hangs up after 1.5 s).
CALLBACK_NUMBER = "13800000104"
ALL_DAY = {"weekdays": "00:00-23:59", "saturday": "00:00-23:59", "sunday": "00:00-23:59"}
#: A campaign's customers (``customers_dialled.xml``: ...4 answers and hangs up after 1.5 s;
#: ...3 rings until the call is cancelled), and one on the center's do-not-call list.
CUSTOMERS, RINGS, LISTED = ("13800000114", "13800000124"), "13800000133", "13800000134"


def _log(factory: sessionmaker[Session]) -> list[ContactEventRow]:
    with factory() as session:
        rows = list(session.scalars(select(ContactEventRow).order_by(ContactEventRow.id)))
        session.expunge_all()
    return rows


def _long_voice(prompt: Path, path: Path, seconds: float = 120.0) -> Path:
    """The prompt over and over for ``seconds``: baresip hangs up when its voice file ends,
    and a001 stays on the line until the test hangs up."""
    with wave.open(str(prompt), "rb") as source:
        params, frames = source.getparams(), source.readframes(source.getnframes())
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        repeats = int(seconds * params.framerate / max(1, params.nframes)) + 1
        out.writeframes(frames * repeats)
    return path


def _descendants(pid: int) -> list[int]:
    """The process's children, theirs, and so on (from /proc)."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            found += [int(child), *_descendants(int(child))]
    return found


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _inbox_rows(factory: sessionmaker[Session]) -> list[tuple[str, float, Any]]:
    with factory() as session:
        rows = session.execute(
            select(PartitionInboxRow.kind, PartitionInboxRow.accepted_at, PartitionInboxRow.payload)
        ).all()
    return [(kind, at, (payload or {}).get("contact_id")) for kind, at, payload in rows]


def _inbox(factory: sessionmaker[Session], kind: str) -> set[tuple[str, str]]:
    """The (voice node, agent) pairs of the inbox rows of ``kind``."""
    with factory() as session:
        rows = session.scalars(
            select(PartitionInboxRow.payload).where(PartitionInboxRow.kind == kind)
        ).all()
    return {(str(p.get("voice_node")), str(p.get("agent_id"))) for p in rows}


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


def _customers(
    root: Path, port: int, processes: ExitStack, *, calls: int = 1, timeout_s: int = 30
) -> subprocess.Popen[bytes]:
    """A sipp UAS behind a voice node's trunk taking ``calls`` calls (``customers_dialled.xml``:
    a number ending in 4 answers and hangs up after 1.5 s, one ending in 3 rings until
    cancelled), stopped when the test ends."""
    customers = subprocess.Popen(
        [
            "sipp", "-sf", str(HERE / "customers_dialled.xml"), "-i", "127.0.0.1",
            "-p", str(port), "-mp", str(CALLER_RTP["customer"]), "-m", str(calls),
            "-nostdin", "-timeout", f"{timeout_s}s", "-timeout_error",
        ],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    processes.callback(_stop, customers)
    return customers


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
    began = time.monotonic()
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
    phones.write_text(  # a002's phone registers only at the end (the desk's transfers)
        "- {agent: a001, user: '1001', password: 'agent-secret'}\n"
        "- {agent: a002, user: '1002', password: 'agent-secret'}\n"
    )
    center = write_quick_center(tmp_path / "center.yaml")
    nodes = [
        NodeProcess(
            name=name,
            partition=partition,
            database_url=database_url,
            home=tmp_path,
            center=center,
            lease_s=1.5,
        )
        for name in ("node-1", "node-2")  # one owns, the other stands by
    ]
    for node in nodes:
        processes.callback(node.close)

    customer_port = free_port()  # node B's trunk: a sipp customer a web node's desk dials

    def voice_node(name: str) -> VoiceServer:
        server = VoiceServer(
            workdir=tmp_path / name,
            prompts=prompts,
            phones=phones,
            rtp_ports=RTP[name],
            database_at=database_url,
            trunk=f"sip:{{number}}@127.0.0.1:{customer_port}" if name == "voice-b" else None,
            ready_timeout_s=90,  # four interpreters start at once on a shared machine
            extra_args=(
                "--flow", str(write_direct_flow(tmp_path / "flow.yaml")), "--recording-notice", "",
                "--center", str(center), "--node-name", name, "--partition", partition,
                "--heartbeat-s", "3",
                # node B dials the campaign at the end (nothing runs before it is started)
                *(("--dialler", "--dial-ring-timeout", "30") if name == "voice-b" else ()),
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
        voice=_long_voice(prompts / "en" / "welcome.wav", tmp_path / "agent-voice.wav"),
        rtp_ports=RTP["agent"],
        talk_s=120.0,  # until the test hangs up
        stop_timeout_s=1.0,  # node A is gone: its un-REGISTER would wait for it
    )
    processes.callback(agent.stop)
    agent.start()

    def registered_on_both() -> bool:
        return _inbox(factory, "phone_registered") >= {("voice-a", "a001"), ("voice-b", "a001")}

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
        describe=lambda: str([node.lines for node in nodes]),
    )
    [owner] = [node for node in nodes if node.name == lease.owner]
    [standby] = [node for node in nodes if node is not owner]
    wait_for(  # up before the calls: an interpreter starting slows the voice nodes' loops
        lambda: standby.said("standby"),
        timeout_s=60,
        every_s=0.1,
        what="the standby node up",
        describe=lambda: standby.stderr_path.read_text()[-2000:],
    )
    calls_began = time.monotonic()
    print(f"processes up, a001 registered on both, owner routing: {calls_began - began:.1f} s")

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
    # Offer latency through the owner: the node hands the queued caller to the inbox → the
    # agent's phone gets the INVITE (both on this machine's clock).
    [queued_at] = [at for kind, at, c in _inbox_rows(factory) if kind == "contact" and c == contact]
    rang_at = next(float(str(e["at"])) for e in agent.events if e.get("type") == "CALL_INCOMING")
    offered_at = next(
        e.at for e in _log(factory) if e.kind == "offered" and e.contact_id == contact
    )
    print(
        f"offer latency through the owner: {1000 * (rang_at - queued_at):.0f} ms (inbox → "
        f"the owner's offer {1000 * (offered_at - queued_at):.0f} ms, → the phone rings "
        f"{1000 * (rang_at - offered_at):.0f} ms)"
    )

    # The second caller, through node B, while a001 talks on node A: the phone is registered
    # there too, but only the owner's engine routes, so it waits (a node with an engine of
    # its own would have offered a001 this call at once).
    second = _caller(tmp_path, node_b.sip_port, "13800000102")
    processes.callback(_stop, second)
    waiting = wait_for(
        lambda: next((e for e in _log(factory) if e.kind == "queued" and e.contact_id != contact),
                     None),
        timeout_s=30,
        every_s=0.05,
        what="the second caller queued",
        describe=lambda: str(node_b.events()[-5:]),
    )  # fmt: skip
    assert node_a.process is not None
    lease = lease_of(factory, partition)  # on a loaded machine the lease may have moved
    assert lease is not None
    orphans = _descendants(node_a.process.pid)  # its recording converter outlives a SIGKILL
    processes.callback(_kill_all, orphans)
    node_a.process.kill()  # SIGKILL: the call, its media relay and the node's state go
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
        describe=lambda: str([node.lines for node in nodes]),
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
    # The phone is still registered through node B: the waiting caller there reaches a001.
    later = waiting.contact_id

    def answered_on_b() -> bool:
        return any(
            e["kind"] == "answered" and e["agent_id"] == "a001" and e["contact_id"] == later
            for e in node_b.events()
        )

    wait_for(
        answered_on_b,
        timeout_s=30,
        every_s=0.05,
        what="a001 answering through node B",
        describe=lambda: str(node_b.events()[-5:]),
    )
    log = _log(factory)
    offers = [(e.id, e.contact_id) for e in log if e.kind == "offered"]
    assert [c for _, c in offers] == [contact, later], "one offer each, one at a time"
    assert offers[1][0] > freed.id, "the second caller waited until a001 was free"

    # The owner dies under the live call; the standby takes over with the call in hand.
    print(f"calls through A and B, A killed: {time.monotonic() - calls_began:.1f} s")
    held = lease_of(factory, partition)
    assert held is not None
    [owner] = [node for node in nodes if node.name == held.owner]
    [standby] = [node for node in nodes if node is not owner]
    owner.process.kill()
    owner_killed = time.monotonic()
    taken = wait_for(
        lambda: (now := lease_of(factory, partition)) and now.epoch > held.epoch
        and now.routing_at and now,
        timeout_s=30,
        every_s=0.05,
        what="the standby taking over",
        describe=lambda: str(standby.lines),
    )  # fmt: skip
    taken_at_id = max(e.id for e in _log(factory))
    owning = wait_for(  # its role line follows the lease's routing_at
        lambda: next((o for o in standby.said("owner") if o.get("epoch") == taken.epoch), None),
        timeout_s=10,
        every_s=0.05,
        what="the new owner's line",
        describe=lambda: str(standby.lines),
    )
    assert owning.get("in_hand") == 1, owning  # the voice call, restored in a001's hands
    agent.command("hangup")  # a001 hangs up: node B tells the new owner, who wraps up

    def finished_under_the_new_owner() -> list[ContactEventRow] | None:
        log = _log(factory)
        done = [e for e in log if e.contact_id == later and e.kind == "finished"]
        return log if done else None

    log = wait_for(
        finished_under_the_new_owner,
        timeout_s=30,
        every_s=0.05,
        what="the call finished under the new owner",
        describe=lambda: str(node_b.events()[-5:]) + str(standby.lines),
    )
    routing = [e for e in log if e.contact_id == later and e.kind in ROUTING]
    assert [e.kind for e in routing] == [
        "queued", "offered", "answered", "disconnected", "wrap_up_ended", "finished",
    ]  # fmt: skip
    assert routing[-1].data.get("outcome") == "answered", routing[-1].data
    assert routing[2].id < taken_at_id < routing[3].id, "answered before, ended after it"
    seqs = [e.seq for e in log]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "one rising log, no hole"
    with factory() as session:
        written = session.scalars(
            select(PartitionWrite.epoch).where(PartitionWrite.partition == partition)
        ).all()
    assert taken.epoch in written
    print(
        f"owner killed → call finished under the new owner: {time.monotonic() - owner_killed:.1f} s"
    )

    # A web node's click-to-dial for a001 (the row its endpoint writes), under the new owner,
    # as node A left it had it claimed the row just before its kill (claimed, not begun):
    # it goes back to pending, and node B — a001's phone is registered there too — claims
    # it, rings a001, then dials the customer through its trunk (a sipp UAS that answers,
    # then hangs up after 1.5 s).
    customer = _customers(tmp_path, customer_port, processes)
    asked = time.monotonic()
    with factory() as session:
        request_id = voice_requests.submit(
            session, partition=partition, kind="dial", agent_id="a001", number="13800000104",
            requested_by="a001",
        )  # fmt: skip
        node_a_id = session.scalars(
            select(VoiceNodeRow.id).where(VoiceNodeRow.name == "voice-a")
        ).one()
        assert voice_requests.claim(session, request_id, node_id=node_a_id)
        session.commit()

    def answered_request() -> VoiceRequestRow | None:
        with factory() as session:
            row = session.get(VoiceRequestRow, request_id)
            return row if row is not None and row.state != "pending" else None

    row = wait_for(
        lambda: (r := answered_request()) and r.claimed_by != node_a_id and r,
        timeout_s=10,
        every_s=0.05,
        what="the dial claimed by node B",
    )
    row = wait_for(
        lambda: (r := answered_request()) and r.state in ("done", "failed") and r,
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
    assert (row.state, row.claimed_by, row.retries) == ("done", node_b_id, 1), row.result
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

    # A call back placed by a voice node: a caller through node B waits (a001 on a break, as
    # a web node's desk asks through the inbox), presses the callback key and is released;
    # a001 back, the owner's engine offers the call back and names node B (a001's phone is
    # registered there), which rings a001 and dials the caller's number on its trunk (the
    # sipp customer again: a number ending in 4 answers and hangs up after 1.5 s).
    callback_began = time.monotonic()
    customer = _customers(tmp_path, customer_port, processes)

    def inbox(kind: str, **payload: str) -> None:
        with factory() as session:
            partitions.accept(session, partition=partition, kind=kind, payload=payload,
                              at=time.time())  # fmt: skip
            session.commit()

    on_break = max(e.id for e in _log(factory))
    inbox("agent_not_ready", agent_id="a001", reason="break")
    wait_for(
        lambda: any(e.id > on_break and e.agent_id == "a001" and e.data.get("reason") == "break"
                    for e in _log(factory)),
        timeout_s=10, every_s=0.05, what="a001 on a break",
    )  # fmt: skip
    pcap = write_timeline(tmp_path / "callback.pcap", [Key(1.0 + k, "1") for k in range(5)])
    scenario = tmp_path / "caller_presses_1.xml"
    scenario.write_text(
        (HERE / "caller_keys_then_bye.xml").read_text()
        .replace("__CALLER_PCAP__", str(pcap))
        .replace("1380000[call_number]", CALLBACK_NUMBER)
    )  # fmt: skip
    released_caller = subprocess.Popen(
        sipp_command(scenario, node_b.sip_port, tmp_path / "sipp-callback", timeout_s=30,
                     extra=["-mp", str(CALLER_RTP[CALLBACK_NUMBER])]),
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    processes.callback(_stop, released_caller)
    released = wait_for(
        lambda: next((e for e in _log(factory) if e.kind == "callback_requested"), None),
        timeout_s=20,
        every_s=0.05,
        what="the caller released to a call back",
        describe=lambda: str(node_b.events()[-5:]),
    )
    callback = str(released.data["callback_id"])
    inbox("agent_ready", agent_id="a001")  # back from the break: the call back is offered

    def callback_finished() -> list[ContactEventRow] | None:
        log = _log(factory)
        return log if any(e.contact_id == callback and e.kind == "finished" for e in log) else None

    log = wait_for(
        callback_finished,
        timeout_s=30,
        every_s=0.05,
        what="the call back placed by node B and finished",
        describe=lambda: str(node_b.events()[-5:]) + str([node.lines for node in nodes]),
    )
    mine = [e for e in log if e.contact_id == callback]
    [offered] = [e for e in mine if e.kind == "offered"]  # one offer, one node, one dial
    assert offered.agent_id == "a001" and offered.data["voice_node_id"] == node_b_id
    assert offered.data["number"] == CALLBACK_NUMBER
    [dialled] = [e for e in mine if e.kind == "dialled"]
    print(
        f"call back: break → released → placed by node B, talked, finished in "
        f"{time.monotonic() - callback_began:.2f} s (the owner's offer → the customer "
        f"answered {dialled.at - offered.at:.2f} s, → finished {mine[-1].at - dialled.at:.2f} s)"
    )
    assert dialled.data["result"] == "answered", dialled.data
    assert [e.kind for e in mine if e.kind in ROUTING] == [
        "queued", "offered", "answered", "disconnected", "wrap_up_ended", "finished",
    ]  # fmt: skip
    assert mine[-1].data.get("outcome") == "answered", mine[-1].data
    assert customer.wait(timeout=15) == 0  # the customer was dialled, answered, hung up

    def leg_closed() -> VoiceLegRow | None:  # node B's leg, closed once it follows the finish
        with factory() as session:
            leg = session.get(VoiceLegRow, callback)
            return leg if leg is not None and leg.closed_at is not None else None

    leg = wait_for(leg_closed, timeout_s=10, every_s=0.05, what="node B's call back leg closed")
    assert leg.node_id == node_b_id

    _desks_transfers_on_a_voice_node(
        tmp_path, processes, factory, partition, center, node_b, agent, customer_port
    )

    # A progressive campaign dialled through node B (the node places the calls; the owner —
    # the new one, since the takeover — lends a001 to node B's run): both customers answer
    # and reach a001, the listed number is never dialled.
    customers = _customers(tmp_path, customer_port, processes, calls=3, timeout_s=40)
    started_campaign = time.monotonic()
    with factory() as session:
        campaigns.add_do_not_call(session, number=LISTED, actor="boss")
        campaign = campaigns.create_campaign(
            session, name="installs-dec", kind="follow_up", mode="progressive", actor="boss",
            calling_hours=ALL_DAY, agents=["a001"],
        )  # fmt: skip
        campaigns.import_list_csv(
            session,
            campaign_id=campaign.id,
            text="phone\n" + "\n".join((*CUSTOMERS, LISTED, RINGS)) + "\n",
            file="list.csv",
            actor="boss",
        )
        campaigns.set_state(session, campaign_id=campaign.id, state="running", actor="boss")
        session.commit()
        campaign_id = campaign.id

    def campaign_calls(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        calls: dict[str, list[dict[str, Any]]] = {}
        for e in events:
            data = e.get("data")
            if isinstance(data, dict) and data.get("campaign") == campaign_id:
                calls.setdefault(str(e["contact_id"]), []).append(e)
        return calls

    events = node_b.wait_for(
        lambda events: sum(
            any(e["kind"] == "finished" for e in call)
            for call in campaign_calls(events).values()
        ) >= 2,
        timeout_s=40.0,
    )  # fmt: skip
    took = time.monotonic() - started_campaign
    print(f"campaign started → two customers dialled through node B, talked to a001: {took:.1f} s")
    calls = campaign_calls(events)
    called = {
        c: next(e["data"]["called"] for e in call if e["kind"] == "arrived")
        for c, call in calls.items()
    }
    # normalised by the list's import (+86): the listed number is never dialled
    called = {c: n for c, n in called.items() if n[-11:] != RINGS}  # (still ringing, below)
    assert sorted(n[-11:] for n in called.values()) == sorted(CUSTOMERS), called
    for call in (calls[c] for c in called):
        assert any(e["kind"] == "answered" and e["agent_id"] == "a001" for e in call), call
        assert next(e for e in call if e["kind"] == "finished")["data"]["result"] == "completed"
    log = _log(factory)
    lent = [
        e for e in log if e.kind == "agent_state" and e.agent_id == "a001" and e.data.get("lent_to")
    ]
    assert lent and lent[0].data["lent_to"] == node_b_id, "a001 lent to node B's run"
    assert lent[0].data["reason"] == "outbound"
    numbered = {e.contact_id for e in log if e.kind == "answered" and e.contact_id in calls}
    assert numbered == set(called), "the node's dialler events are in the owner's log"
    with factory() as session:
        attempts = session.scalars(
            select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign_id)
        ).all()
        records = {
            r.id: r
            for r in session.scalars(
                select(CampaignRecord).where(CampaignRecord.campaign_id == campaign_id)
            )
        }
    got = sorted((records[a.record_id].phone, a.result, a.connected) for a in attempts)
    assert [(p[-3:], r, c) for p, r, c in got] == [
        ("114", "completed", True),
        ("124", "completed", True),
    ], got
    assert {r.phone[-3:]: r.status for r in records.values()}["134"] == "blocked"

    # Node B dies while the third customer's phone rings: the owner gives a001 back to the
    # ACD and keeps the record's call as a failed attempt (its retry rules bring it back):
    # neither lost (held for good) nor dialled again while its call might be up.
    rings = node_b.wait_for(
        lambda events: any(
            e["kind"] == "arrived" and str(dict(e["data"]).get("called", "")).endswith(RINGS)
            for e in events
        ),
        timeout_s=20.0,
    )
    [ringing] = [
        e["contact_id"]
        for e in rings
        if e["kind"] == "arrived" and str(dict(e["data"]).get("called", "")).endswith(RINGS)
    ]
    wait_for(  # in the owner's log: the node wrote its leg in the same transaction
        lambda: any(e.contact_id == ringing and e.kind == "arrived" for e in _log(factory)),
        timeout_s=10,
        every_s=0.05,
        what="the ringing call in the owner's log",
    )
    assert node_b.process is not None
    orphans = _descendants(node_b.process.pid)
    processes.callback(_kill_all, orphans)
    node_b.process.kill()
    killed = time.monotonic()

    def given_back() -> CampaignRecord | None:
        with factory() as session:
            record = session.scalars(
                select(CampaignRecord).where(
                    CampaignRecord.campaign_id == campaign_id, CampaignRecord.phone.endswith(RINGS)
                )
            ).one()
            return record if record.status != "dialling" else None

    record = wait_for(given_back, timeout_s=30, every_s=0.05, what="the ringing record given back")
    print(f"node B killed while dialling → record given back in {time.monotonic() - killed:.2f} s")
    assert (record.status, record.held_by) == ("waiting", None)
    with factory() as session:
        [attempt] = session.scalars(
            select(CampaignAttempt).where(CampaignAttempt.record_id == record.id)
        ).all()
    assert (attempt.result, attempt.contact_id) == ("failed", ringing)

    def back_from_campaign() -> ContactEventRow | None:
        return next(
            (
                e
                for e in _log(factory)
                if e.kind == "agent_state" and e.agent_id == "a001" and e.id > lent[-1].id
            ),
            None,
        )

    back = wait_for(
        back_from_campaign, timeout_s=10, every_s=0.05, what="a001 back from the campaign"
    )
    # out of the campaign's hold; not ready as a lost phone makes them (both nodes are gone)
    assert (back.data["state"], back.data["reason"]) == ("not_ready", "phone_unregistered")
    log = _log(factory)
    [end] = [e for e in log if e.contact_id == ringing and e.kind == "finished"]
    assert end.data.get("outcome") == "interrupted", end.data
    _stop(customers)  # the third customer's INVITE went with node B


def _desks_transfers_on_a_voice_node(
    tmp_path: Path,
    processes: ExitStack,
    factory: sessionmaker[Session],
    partition: str,
    center: Path,
    node_b: VoiceServer,
    agent: BaresipAgent,
    customer_port: int,
) -> None:
    """A desk on a web node (the API in process: no engine, no SIP) moves a call node B
    carries: a third caller talking to one agent is transferred to the other, whose baresip
    answers through node B; that agent's desk then hands the caller to an outside number,
    which the owner applies first and answers the desk (the node forwards the caller only
    once the owner's ``transferred`` is in the log)."""
    began = time.monotonic()
    second_agent = BaresipAgent(
        workdir=tmp_path / "agent-2",
        user="1002",
        password="agent-secret",
        registrar_port=node_b.sip_port,
        voice=tmp_path / "agent-voice.wav",
        rtp_ports=RTP["agent-2"],
        talk_s=120.0,
        stop_timeout_s=1.0,
    )
    processes.callback(second_agent.stop)
    with ThreadPoolExecutor(1) as starting:  # the phone registers while the caller queues
        registering = starting.submit(second_agent.start)
        third = _caller(tmp_path, node_b.sip_port, "13800000103")
        processes.callback(_stop, third)
        with factory() as session:
            add_users(session, (("vn-a001", ["agent"], "a001"), ("vn-a002", ["agent"], "a002")))
        app = create_app(  # the web node, built while the phone registers and the caller queues
            settings=Settings(home=tmp_path, secret_key="test-secret"),
            session_factory=factory,
            center=load_center(center),
        )
        app.state.partition = partition  # a web node of the partition: no engine, no SIP
        registering.result()

    def talking() -> tuple[str, str] | None:
        log = _log(factory)
        mine = {e.contact_id for e in log if e.kind == "queued"} - {
            e.contact_id for e in log if e.kind == "finished"
        }
        answered = [e for e in log if e.kind == "answered" and e.contact_id in mine]
        ready = {e.agent_id for e in log if e.kind == "agent_state" and e.agent_id == "a002"}
        if not (answered and ready):
            return None
        return str(answered[0].contact_id), str(answered[0].agent_id)

    call, first_agent = wait_for(
        talking,
        timeout_s=30,
        every_s=0.05,
        what="the third caller talking, a002 signed in",
        describe=lambda: str(node_b.events()[-5:]),
    )
    other = "a002" if first_agent == "a001" else "a001"
    print(f"a002 up, the third caller talking to {first_agent}: {time.monotonic() - began:.1f} s")
    phone_of = {"a001": agent, "a002": second_agent}

    def web_node_board() -> LogBoard:  # what a web node's log tail shows now
        board = LogBoard(load_center(center))
        with factory() as session:
            board.record(event_log.events_after(session, after=0, limit=100_000))
        return board

    with TestClient(app) as client:

        def desk(agent_id: str) -> dict[str, str]:
            token = client.post(
                "/api/auth/login", json={"username": f"vn-{agent_id}", "password": PASSWORD}
            ).json()["token"]
            return {"authorization": f"Bearer {token}"}

        app.state.log_board = web_node_board()
        asked = time.monotonic()
        moved = client.post(
            f"/api/live/agents/{first_agent}/contacts/{call}/transfer",
            json={"agent_id": other},
            headers=desk(first_agent),
        )
        assert moved.status_code == 200, moved.text

        def answered_by_the_other() -> bool:
            return any(
                e["kind"] == "answered" and e["agent_id"] == other and e["contact_id"] == call
                for e in node_b.events()
            )

        wait_for(
            answered_by_the_other,
            timeout_s=20,
            every_s=0.05,
            what=f"{other}'s phone answering the transferred call",
            describe=lambda: str(node_b.events()[-5:]),
        )
        print(
            f"the desk's transfer {first_agent} → {other} on node B: the second phone answered "
            f"{time.monotonic() - asked:.2f} s after the request"
        )
        assert "CALL_ESTABLISHED" in phone_of[other].types()
        routing = [
            (e.kind, e.agent_id, e.seq)
            for e in _log(factory)
            if e.contact_id == call and e.kind in ("answered", "transferred", "offered")
        ]
        assert [(kind, who) for kind, who, _ in routing] == [
            ("offered", first_agent),
            ("answered", first_agent),
            ("transferred", first_agent),
            ("offered", other),
            ("answered", other),
        ], routing
        assert [seq for _, _, seq in routing] == sorted(seq for _, _, seq in routing)

        # The second agent's desk hands the caller to an outside number (a sipp customer
        # that answers and hangs up after 1.5 s): node B asks the owner, the owner applies
        # it and answers the desk, and only then does node B forward the caller.
        customer = _customers(tmp_path, customer_port, processes)
        app.state.log_board = web_node_board()
        asked = time.monotonic()
        out = client.post(
            f"/api/live/agents/{other}/contacts/{call}/transfer",
            json={"number": "13800000114"},
            headers=desk(other),
        )
        took = time.monotonic() - asked
        assert out.status_code == 200, out.text
        print(f"the desk's transfer out answered by the owner in {took:.2f} s")
    with factory() as session:
        request = session.scalars(
            select(VoiceRequestRow).where(VoiceRequestRow.contact_id == call)
        ).one()
    assert (request.kind, request.state, request.result) == (
        "transfer_out",
        "done",
        {"contact_id": call},
    )
    with factory() as session:
        node_b_id = session.scalars(
            select(VoiceNodeRow.id).where(VoiceNodeRow.name == "voice-b")
        ).one()
        asked_rows = session.scalars(
            select(PartitionInboxRow.payload).where(PartitionInboxRow.kind == "transfer")
        ).all()
    assert request.claimed_by == node_b_id
    assert {"contact_id": call, "to_number": "13800000114", "voice_request": request.id} in [
        dict(p) for p in asked_rows
    ], "node B asked the owner, which answered the desk"
    log = _log(factory)
    [out_event] = [
        e for e in log if e.contact_id == call and e.kind == "transferred" and e.data.get("number")
    ]
    assert out_event.data.get("to") == "number" and out_event.agent_id == other
    assert customer.wait(timeout=15) == 0, "the customer got the caller, talked and hung up"
    assert third.wait(timeout=15) == 0, "the caller's call ended with the customer's"
    seqs = [e.seq for e in _log(factory)]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "one rising log, no hole"
    print(f"the desk's transfers on a voice node took {time.monotonic() - began:.1f} s")

    # An agent's phone's REFER the owner's engine refuses (no such queue): the owner ends the
    # conversation at once and its disconnected says transfer_refused; node B ends the call on
    # that answer (the flow's next step) and sends no end back (the owner ended it already).
    asked_fourth = time.monotonic()
    fourth = _caller(tmp_path, node_b.sip_port, "13800000105")
    processes.callback(_stop, fourth)

    def fourth_talking() -> tuple[str, str] | None:
        log = _log(factory)
        answered = [e for e in log if e.kind == "answered" and e.contact_id not in (call, *earlier)]
        return (str(answered[0].contact_id), str(answered[0].agent_id)) if answered else None

    earlier = {e.contact_id for e in _log(factory) if e.contact_id}
    refused_call, refusing = wait_for(
        fourth_talking,
        timeout_s=30,
        every_s=0.05,
        what="the fourth caller talking",
        describe=lambda: str(node_b.events()[-5:]),
    )
    referred_at = time.time()  # the owner stamps its events on this machine's clock too
    phone_of[refusing].command("transfer", f"sip:nowhere@127.0.0.1:{node_b.sip_port}")

    def refused_and_wrapped() -> list[ContactEventRow] | None:
        log = _log(factory)
        kinds = [e.kind for e in log if e.contact_id == refused_call]
        return log if "disconnected" in kinds and "wrap_up_ended" in kinds else None

    log = wait_for(
        refused_and_wrapped,
        timeout_s=20,
        every_s=0.05,
        what="the REFER refused by the owner",
        describe=lambda: str(node_b.events()[-5:]),
    )
    [said] = [e for e in log if e.contact_id == refused_call and e.kind == "disconnected"]
    print(f"a REFER refused by the owner: its disconnected {said.at - referred_at:.2f} s after")
    assert said.agent_id == refusing and said.data["transfer_refused"] == "nowhere", said.data
    assert "nowhere" in said.data["reason"] and said.data["by"] == "agent"
    assert not [e for e in log if e.contact_id == refused_call and e.kind == "transferred"]
    # the node acted on the answer as a refused REFER on one node: the flow's next step (this
    # direct flow has no survey, so the caller is hung up and sipp ends on its BYE)
    assert fourth.wait(timeout=15) == 0, "the caller's call ended on the owner's answer"
    ends = [row for row in _inbox_rows(factory) if row[0] == "end" and row[2] == refused_call]
    assert ends == [], "the owner's own end is not sent back to it"
    print(f"the refused REFER (a fourth call) took {time.monotonic() - asked_fourth:.1f} s")
