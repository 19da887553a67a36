"""A web node without the engine (issue #20), with real processes on a real PostgreSQL.

``hotline node`` processes own the partition (one routes, one stands by). A web node made as
``hotline serve --web-only`` makes it (``attach_web_node``; served by uvicorn on a
kernel-chosen port in the test process, so that it starts while the nodes do) serves the desk
and the live stream with no engine in process. An agent signed in on the web node goes ready
through it (the partition inbox) and a supervisor's stream there shows the owner's
``available`` event (the log, tailed); the stream reconnects with ``?after=`` and gets exactly
the events in between; then the owner is killed with SIGKILL, the standby takes over, and the
web node goes on serving: its stream continues with the new owner's events, numbered on
without a hole or a repeat. Then the whole desk through the web node, with the new owner: a
contact accepted into the partition shows on the web node's wallboard (waiting), the agent
goes ready and the desk view there shows the offer, the agent answers, hangs up and wraps up
through the web node — the owner's log has each step — and the board shows the agent's state
at each. Last, an administrator saves a center configuration on the web node: the owner takes
it up and logs it, and the web node serves it without a restart."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from websockets.sync.client import ClientConnection, connect

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.live.failover_drill import NodeProcess, fresh_database, lease_of
from hotline.store import partitions
from hotline.store.db import make_engine, make_session_factory
from hotline.store.models.core import ContactEventRow
from hotline.store.pg_cluster import wait_for
from hotline.web.app import create_app
from hotline.web.log_tail import attach_web_node
from tests.conftest import postgres_url
from tests.e2e.web.serving import serving
from tests.integration.live.conftest import PASSWORD, SAMPLE, add_users


def token(base: str, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def stream(base: str, headers: dict[str, str], after: int | None = None) -> ClientConnection:
    url = base.replace("http://", "ws://") + "/api/events/ws"
    if after is not None:
        url += f"?after={after}"
    return connect(url, additional_headers={"Origin": base, **headers}, open_timeout=30)


def next_events(
    socket_: ClientConnection, until: Any, *, timeout_s: float = 20.0
) -> list[dict[str, Any]]:
    """Event messages received until one satisfies ``until`` (that one included)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no such event in {timeout_s} s; got {events}"
        message = json.loads(socket_.recv(timeout=left))
        assert message["type"] != "reload", message
        if message["type"] == "event":
            events.append(message)
            if until(message):
                return events


def agent_state(agent_id: str, state: str) -> Any:
    return lambda e: (
        e["kind"] == "agent_state" and e["agent_id"] == agent_id and e["data"]["state"] == state
    )


def logged_after(factory: sessionmaker[Session], position: int) -> list[int]:
    with factory() as session:
        return list(
            session.scalars(
                select(ContactEventRow.seq)
                .where(ContactEventRow.source == "live", ContactEventRow.seq > position)
                .order_by(ContactEventRow.seq)
            )
        )


def routing(
    factory: sessionmaker[Session],
    partition: str,
    nodes: list[NodeProcess],
    not_: NodeProcess | None = None,
    timeout_s: float = 30.0,
) -> NodeProcess:
    """The node whose lease is routing now (other than ``not_``), once there is one."""

    def owner() -> NodeProcess | None:
        lease = lease_of(factory, partition)
        if lease is None or lease.routing_at is None:
            return None
        return next((n for n in nodes if n.name == lease.owner and n is not not_), None)

    found: NodeProcess = wait_for(
        owner,
        timeout_s=timeout_s,
        what="an owner routing",
        describe=lambda: str([n.lines for n in nodes]),
    )
    return found


def test_a_web_node_serves_desks_and_streams_across_an_owner_kill(tmp_path: Path) -> None:
    url = postgres_url()
    if not url:
        pytest.skip("no PostgreSQL test server (HOTLINE_TEST_POSTGRES_URL); `make test` starts one")
    partition = load_center(SAMPLE).sites[0].id
    with fresh_database(url) as database_url:
        engine = make_engine(database_url)
        factory = make_session_factory(engine)
        with factory() as session:
            add_users(
                session,
                (
                    ("a001", ["agent"], "a001"),
                    ("boss", ["supervisor"], None),
                    ("root", ["admin"], None),
                ),
            )
        nodes = [
            NodeProcess(
                name=name,
                partition=partition,
                database_url=database_url,
                home=tmp_path,
                center=SAMPLE,
                lease_s=1.5,
            )
            for name in ("n1", "n2")
        ]
        try:
            # The web node starts while the nodes do (the nodes' start is most of the time).
            center = load_center(SAMPLE)
            app = create_app(
                settings=Settings(home=tmp_path, secret_key="test-secret"),
                session_factory=factory,
                center=center,
            )
            attach_web_node(app, partition=partition)
            with serving(app, name="web-node") as base:
                # A node's start is an interpreter's (seconds; a minute on a loaded machine).
                owner = routing(factory, partition, nodes, timeout_s=120)
                standby = next(n for n in nodes if n is not owner)
                agent, boss = token(base, "a001"), token(base, "boss")
                state = f"{base}/api/live/agents/a001/state"

                def set_state(body: dict[str, Any]) -> None:
                    answer = httpx.post(state, json=body, headers=agent, timeout=30)
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["accepted"] > 0 and answer.json()["events"] == []

                # Ready through the web node: the owner's event arrives on its stream.
                with stream(base, boss) as live:
                    set_state({"state": "ready"})
                    seen = next_events(live, agent_state("a001", "available"))
                position = seen[-1]["position"]
                assert position == seen[-1]["seq"]

                # Away: a break and back; reconnect with the last position seen.
                set_state({"state": "not_ready", "reason": "break"})
                set_state({"state": "ready"})
                with stream(base, boss, after=position) as live:
                    replayed = next_events(live, agent_state("a001", "available"))
                    seqs = [e["seq"] for e in replayed]
                    assert seqs == list(range(position + 1, position + 1 + len(seqs)))
                    assert seqs == logged_after(factory, position)[: len(seqs)]
                    assert any(agent_state("a001", "not_ready")(e) for e in replayed)

                    # The owner dies; the standby takes over; the stream goes on.
                    os.kill(owner.pid, signal.SIGKILL)
                    assert routing(factory, partition, nodes, not_=owner) is standby
                    set_state({"state": "not_ready", "reason": "lunch"})
                    after_kill = next_events(live, agent_state("a001", "not_ready"))
                    assert after_kill[-1]["data"]["reason"] == "lunch"
                    every = seqs + [e["seq"] for e in after_kill]
                    assert every == list(range(position + 1, position + 1 + len(every)))
                    assert every == logged_after(factory, position)[: len(every)]

                desk_through_the_web_node(base, factory, partition, agent, boss)

                # Crisis mode switched on the web node: the owner switches it and logs it, and
                # the web node's banner (and board) shows it from the log.
                crisis = f"{base}/api/live/crisis"
                switch = {"on": True, "reason": "storm"}
                switched = httpx.put(crisis, json=switch, headers=boss, timeout=30)
                assert switched.status_code == 200 and switched.json()["accepted"] > 0

                def crisis_on() -> dict[str, Any] | None:
                    view: dict[str, Any] = httpx.get(crisis, headers=agent, timeout=30).json()
                    return view if view["on"] else None

                shown = wait_for(crisis_on, timeout_s=20, what="crisis mode on, from the log")
                assert shown["by"] == "boss" and shown["since"] is not None

                # A center configuration saved on the web node: the owner (a real `hotline
                # node`) takes it up and logs it, and the web node serves it, no restart.
                text = SAMPLE.read_text(encoding="utf-8").replace(
                    "    name: 报修 Repair\n", "    name: 报修 Repair W5\n", 1
                )
                assert "报修 Repair W5" in text
                saved = httpx.post(
                    f"{base}/admin/center",
                    json={"text": text},
                    headers=token(base, "root"),
                    timeout=30,
                )
                assert saved.status_code == 200, saved.text
                assert saved.json()["pending"] is True and saved.json()["restart"] is False

                def served() -> bool | None:
                    return app.state.center.queue("repair").name == "报修 Repair W5" or None

                started = time.monotonic()
                wait_for(served, timeout_s=20, what="the saved configuration on the web node")
                took_s = time.monotonic() - started
                with factory() as session:
                    logged = session.scalars(
                        select(ContactEventRow.data).where(ContactEventRow.kind == "configured")
                    ).all()
                assert [d["by"] for d in logged] == ["root"], logged
                print(f"saved configuration served by the web node {took_s:.2f} s after the save")
        finally:
            for node in nodes:
                node.close()
            engine.dispose()


def desk_through_the_web_node(
    base: str,
    factory: sessionmaker[Session],
    partition: str,
    agent: dict[str, str],
    boss: dict[str, str],
) -> None:
    """A contact waits, is offered, answered, hung up and wrapped up through the web node."""
    desk = f"{base}/api/live/agents/a001"

    def board_shows(queue: str, waiting: int, state: str) -> bool:
        wall = httpx.get(f"{base}/api/live/wallboard", headers=boss, timeout=30).json()
        queues = {q["id"]: q["waiting"] for q in wall["queues"]}
        agents = {a["id"]: a["state"] for a in wall["agents"]}
        return queues[queue] == waiting and agents["a001"] == state

    def desk_shows(stage: str) -> dict[str, Any] | None:
        view = httpx.get(desk, headers=agent, timeout=30).json()
        if stage == "ringing":
            return view if view["offer"] and view["offer"]["contact_id"] == "w1" else None
        held = {c["contact_id"]: c["stage"] for c in view["contacts"]}
        return view if held.get("w1") == stage else None

    def act(path: str, body: dict[str, Any] | None = None) -> None:
        answer = httpx.post(f"{desk}/contacts/w1/{path}", json=body, headers=agent, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["accepted"] > 0 and answer.json()["events"] == []

    # a001 is on a break (lunch): the contact waits, and the web node's board shows it.
    with factory() as session:
        payload = {"contact_id": "w1", "queue": "installation", "customer": "13800002222"}
        partitions.accept(
            session, partition=partition, kind="contact", payload=payload, at=time.time()
        )
        session.commit()
    wait_for(lambda: board_shows("installation", 1, "not_ready"), timeout_s=20, what="w1 waiting")
    early = httpx.post(f"{desk}/contacts/w1/answer", headers=agent, timeout=30)
    assert early.status_code == 409, early.text  # the log shows nothing ringing at a001
    answer = httpx.post(f"{desk}/state", json={"state": "ready"}, headers=agent, timeout=30)
    assert answer.status_code == 200, answer.text
    offered = wait_for(lambda: desk_shows("ringing"), timeout_s=20, what="w1 offered")
    assert offered["state"] == "reserved" and offered["offer"]["queue"] == "installation"
    assert board_shows("installation", 0, "reserved")
    act("answer")
    wait_for(lambda: desk_shows("talking"), timeout_s=20, what="w1 answered")
    assert board_shows("installation", 0, "on_contact")
    act("hangup")
    wait_for(lambda: desk_shows("wrap_up"), timeout_s=20, what="w1 in wrap-up")
    act("wrap-up", {"disposition": "resolved"})
    wait_for(
        lambda: board_shows("installation", 0, "available") and not desk_shows("wrap_up"),
        timeout_s=20,
        what="w1 wrapped up",
    )
    with factory() as session:
        steps = session.execute(
            select(ContactEventRow.kind, ContactEventRow.agent_id)
            .where(ContactEventRow.contact_id == "w1")
            .order_by(ContactEventRow.seq)
        ).all()
    kinds = [kind for kind, _ in steps]
    for step in ("queued", "offered", "answered", "disconnected", "wrap_up_ended", "finished"):
        assert step in kinds, kinds
    assert kinds.index("answered") < kinds.index("disconnected") < kinds.index("wrap_up_ended")
    assert {agent_id for kind, agent_id in steps if kind == "answered"} == {"a001"}
