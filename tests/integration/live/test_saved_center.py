"""A center configuration saved on a web node reaches the owner and every web node, no restart.

Two web nodes without the engine (A and B, each with its own home, as on two machines) and
the partition's owner (a live driver applying the inbox as ``hotline node`` does) share one
database. An administrator saves a new configuration on A: it goes into the partition's
inbox with its audit entry; the owner takes it up (its driver routes with it) and logs a
``configured`` event; A's and B's log tails (stepped by hand here, as their threads do)
serve it — the admin page, the wallboard's targets and ``app.state.center`` — and so does a
web node started afterwards and a new owner. A row whose text no longer passes is refused.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.config.validate import load_center
from hotline.core.events import EventKind
from hotline.core.settings import Settings
from hotline.live import saved_center
from hotline.live.driver import LiveDriver
from hotline.live.log_board import LogBoard
from hotline.live.ownership import BadInboxRow, PartitionNode, apply_inbox_row
from hotline.store import event_log
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.core import AuditEntry
from hotline.web.app import create_app
from hotline.web.log_tail import LogTail, center_server
from tests.integration.live.conftest import PASSWORD, SAMPLE, add_users


@functools.cache
def sample() -> CenterConfig:
    """The sample center, checked once (each check costs about 0.3 s)."""
    return load_center(SAMPLE)


def web_node(session_factory: sessionmaker[Session], home: Path) -> tuple[FastAPI, LogTail]:
    """A web node as ``attach_web_node`` makes one, its log tail not started (stepped here)."""
    center = sample()
    app = create_app(
        settings=Settings(home=home, secret_key="test-secret", center_config=SAMPLE),
        session_factory=session_factory,
        center=center,
    )
    board = LogBoard(center)
    tail = LogTail(
        session_factory=session_factory,
        hub=app.state.hub,
        board=board,
        on_center=center_server(app),
    )
    app.state.partition, app.state.log_board, app.state.log_tail = "hefei", board, tail
    return app, tail


@pytest.fixture
def nodes(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[tuple[TestClient, TestClient]]:
    add_users(db_session, (("root", ["admin"], None), ("boss", ["supervisor"], None)))
    with ExitStack() as stack:
        clients = []
        for name in ("a", "b"):
            app, _ = web_node(session_factory, tmp_path / name)
            client = TestClient(app, headers={"origin": "http://testserver"})
            clients.append(stack.enter_context(client))
        yield clients[0], clients[1]


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text


def tail_of(client: TestClient) -> LogTail:
    tail: LogTail = client.app.state.log_tail  # type: ignore[attr-defined]
    return tail


def center_of(client: TestClient) -> Any:
    return client.app.state.center  # type: ignore[attr-defined]


def new_text() -> str:
    """The sample with the repair queue's target and wrap-up changed."""
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    repair = next(q for q in data["queues"] if q["id"] == "repair")
    repair["target"] = {"service_level": 0.85, "threshold_s": 33}
    repair["wrap_up_s"] = 77
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def test_a_configuration_saved_on_one_web_node_reaches_the_owner_and_every_web_node(
    nodes: tuple[TestClient, TestClient],
    session_factory: sessionmaker[Session],
    db_session: Session,
    tmp_path: Path,
) -> None:
    a, b = nodes
    sign_in(a, "root")
    refused = a.post("/admin/center", json={"text": "queues: [{id: x}]\n"})
    assert refused.status_code == 422  # checked on the node first: nothing sent
    text = new_text()
    saved = a.post("/admin/center", json={"text": text})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["restart"], saved.json()["pending"]) == (False, True)
    rows = db_session.scalars(
        select(PartitionInboxRow).where(PartitionInboxRow.kind == "center")
    ).all()
    assert [(r.partition, r.payload["by"], r.payload["text"]) for r in rows] == [
        ("hefei", "root", text)
    ]
    assert db_session.scalars(
        select(AuditEntry.action).where(AuditEntry.action == "center.save")
    ).all() == ["center.save"]
    for node in (a, b):  # nothing in force before the owner took it up
        assert tail_of(node).step() == 0
        assert center_of(node).queue("repair").wrap_up_s != 77
    # A's admin page says the owner has it (not "at the next start", as with no live routing)
    status = a.get("/admin/center/status").json()
    assert (status["live"], status["owner"], status["pending"]) == (False, True, True)

    # The owner applies the inbox row: its driver routes with it, the log says so.
    driver = LiveDriver(
        center=sample(),
        session_factory=session_factory,
        honour_hours=False,
        flush_every_s=3600,
    )

    async def owner() -> dict[str, Any]:
        await driver.start()
        try:
            await apply_inbox_row(driver, rows[0])
            await driver.run(lambda engine, now: (None, None))  # a step: the safe point
            await driver.flush()
            return driver.apply_status()
        finally:
            await driver.stop()

    status = asyncio.run(owner())
    assert status["pending"] is False and status["waiting"] == []
    assert driver.center.queue("repair").wrap_up_s == 77
    configured = event_log.latest_of(db_session, EventKind.CONFIGURED)
    assert configured is not None
    assert configured.data == {
        "inbox_id": rows[0].id,
        "version": saved_center.version_of(text),
        "by": "root",
    }

    # Both web nodes take it up from the log: no restart, whichever node saved it.
    sign_in(b, "root")
    for node in (a, b):
        started = time.monotonic()
        assert tail_of(node).step() >= 1
        assert time.monotonic() - started < 2
        assert center_of(node).queue("repair").wrap_up_s == 77
        assert tail_of(node).center_version == saved_center.version_of(text)
        board = node.app.state.log_board  # type: ignore[attr-defined]
        assert board.wallboard.settings.for_queue("repair").service_level_s == 33
    assert a.get("/admin/center/status").json()["pending"] is False
    # B's admin page shows and edits the text the owner took up (not its own older file).
    page = b.get("/admin").text
    assert "85% / 33 s" in page and "wrap_up_s: 77" in page

    # A web node started later, and a new owner, start from the log's newest configuration.
    late, tail = web_node(session_factory, tmp_path / "late")
    with TestClient(late):
        asyncio.run(tail.start())
        asyncio.run(tail.stop())
        assert late.state.center.queue("repair").wrap_up_s == 77
    owner_node = PartitionNode(
        center=sample(), partition="hefei", name="n2", session_factory=session_factory
    )
    newest = owner_node._saved_center()
    assert newest is not None and newest.queue("repair").wrap_up_s == 77


def test_a_center_row_that_does_not_pass_is_refused_by_the_owner(
    session_factory: sessionmaker[Session],
) -> None:
    driver = LiveDriver(center=sample(), session_factory=session_factory, honour_hours=False)
    bad = PartitionInboxRow(
        id=7,
        partition="hefei",
        kind="center",
        accepted_at=0.0,
        payload={"text": "queues: [{id: x}]\n", "by": "root"},
    )
    empty = PartitionInboxRow(
        id=8, partition="hefei", kind="center", accepted_at=0.0, payload={"by": "root"}
    )

    async def owner() -> list[str]:
        await driver.start()
        problems = []
        try:
            for row in (bad, empty):
                with pytest.raises(BadInboxRow) as refused:
                    await apply_inbox_row(driver, row)
                problems.append(str(refused.value))
        finally:
            await driver.stop()
        return problems

    problems = asyncio.run(owner())
    assert problems[0].startswith("inbox row 7 (center): ")
    assert problems[1] == "inbox row 8 (center): no configuration text"
    assert driver.pending_center is None
