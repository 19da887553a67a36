"""Desks' requests to voice nodes: claimed once by the node that can carry them out, answered,
and never left pending (issue #20: click-to-dial and transfers out from a web node).

On SQLite and PostgreSQL: a dial is claimed by the node through which the agent's phone is
registered, a transfer by the node that carries the call, each once; a node declared lost
claims nothing; a request no node takes within the claim time fails ``no_voice_node``; a
claimed one whose node dies fails ``voice_node_lost`` and the dead node's late answer is
refused. Then a web node's desk (the API, no engine in process) dials and transfers through
a :class:`VoiceRequestPoller` over a stand-in call center, and hears each failure's reason.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Channel, Event, EventKind
from hotline.core.settings import Settings
from hotline.live.driver import LiveDriver, attach
from hotline.live.log_board import LogBoard
from hotline.store import voice_nodes, voice_requests
from hotline.store.db import make_session_factory, writing
from hotline.store.models.core import AuditEntry, User
from hotline.store.models.identity import AuthSession
from hotline.store.models.voice_nodes import VoiceNodeRow
from hotline.store.models.voice_requests import VoiceRequestRow
from hotline.store.partitions import database_now
from hotline.telephony.outbound import OriginationRefused
from hotline.telephony.voice_requests import VoiceRequestPoller
from hotline.web.api.live import voice_requests as web_voice_requests
from hotline.web.app import create_app
from tests.integration.live.conftest import PASSWORD, SAMPLE, add_users


def _submit(session: Session, kind: str, agent: str, **more: Any) -> int:
    request_id = voice_requests.submit(
        session,
        partition="hefei",
        kind=kind,
        agent_id=agent,
        number=more.pop("number", "13800000000"),
        requested_by=agent,
        **more,
    )
    session.commit()
    return request_id


def _state(session: Session, request_id: int) -> tuple[str, str | None, Any]:
    found = voice_requests.outcome(session, request_id)
    assert found is not None
    return found.state, found.claimed_by, found.result


def test_a_request_is_claimed_once_by_the_node_that_can_carry_it_and_never_left_pending(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    for node in ("node-a", "node-b"):
        voice_nodes.register(
            session_factory, node_id=node, name=node, partition="hefei", sip="", ttl_s=30.0
        )
    dial = _submit(db_session, voice_requests.DIAL, "a001")
    nobody = _submit(db_session, voice_requests.DIAL, "a009")
    transfer = _submit(db_session, voice_requests.TRANSFER_OUT, "a002", contact_id="c1")
    with pytest.raises(ValueError, match="names the call"):
        voice_requests.submit(
            db_session, partition="hefei", kind="transfer_out", agent_id="a1", number="1",
            requested_by="a1",
        )  # fmt: skip

    def claim(node: str, agents: set[str], calls: set[str]) -> list[int]:
        with writing(session_factory()) as session:
            got = voice_requests.claim_for(
                session, partition="hefei", node_id=node, agents=agents, calls=calls
            )
            session.commit()
        return [r.id for r in got]

    # Node B carries call c1; node A has a001's phone registered: each claims its own, once.
    assert claim("node-b", set(), {"c1"}) == [transfer]
    assert claim("node-a", {"a001"}, set()) == [dial]
    assert claim("node-a", {"a001"}, {"c1"}) == []
    assert claim("node-b", {"a001"}, {"c1"}) == []
    assert _state(db_session, dial)[:2] == ("claimed", "node-a")
    # Only the node that claimed it begins it, and only the node placing it answers it.
    assert not voice_requests.finish(db_session, dial, node_id="node-a", ok=True, result={})
    assert not voice_requests.begin(db_session, dial, node_id="node-b")
    assert voice_requests.begin(db_session, dial, node_id="node-a")
    assert not voice_requests.begin(db_session, dial, node_id="node-a")  # once
    assert _state(db_session, dial)[:2] == ("placing", "node-a")
    assert not voice_requests.finish(db_session, dial, node_id="node-b", ok=True, result={})
    assert voice_requests.finish(
        db_session, dial, node_id="node-a", ok=True, result={"contact_id": "o-1"}
    )
    db_session.commit()
    assert _state(db_session, dial) == ("done", "node-a", {"contact_id": "o-1"})

    # Nobody has a009's phone: within the claim time it waits, after it it fails.
    assert voice_requests.expire(db_session, partition="hefei", claim_s=60.0) == 0
    assert _state(db_session, nobody)[0] == "pending"
    time.sleep(0.05)
    assert voice_requests.expire(db_session, partition="hefei", claim_s=0.01) == 1
    state, _, result = _state(db_session, nobody)
    assert state == "failed" and result["reason"] == "no_voice_node"
    assert "within 0.01 s" in result["detail"]
    assert _state(db_session, transfer)[0] == "claimed"  # node B is alive: it stays claimed

    # Node B dies (its heartbeat lapses) before it began the transfer: the request goes back
    # to pending for another node, its claim time starting again; node B can begin nothing.
    voice_nodes.stopped(session_factory, "node-b")
    assert voice_requests.expire(db_session, partition="hefei", claim_s=60.0) == 1
    assert _state(db_session, transfer) == ("pending", None, None)
    back = voice_requests.outcome(db_session, transfer)
    assert back is not None and back.retries == 1 and back.waiting_s < back.age_s
    assert not voice_requests.begin(db_session, transfer, node_id="node-b")
    assert claim("node-a", set(), {"c1"}) == [transfer]  # node A carries the call now
    assert voice_requests.begin(db_session, transfer, node_id="node-a")
    # Node A dies while placing it: it may have moved the call, so it is not retried but
    # fails, and node A's late answer is refused.
    voice_nodes.stopped(session_factory, "node-a")
    assert voice_requests.expire(db_session, partition="hefei", claim_s=60.0) == 1
    state, _, result = _state(db_session, transfer)
    assert state == "failed" and result["reason"] == "voice_node_lost"
    assert voice_requests.outcome(db_session, transfer).retries == 1  # type: ignore[union-attr]
    assert not voice_requests.finish(db_session, transfer, node_id="node-a", ok=True, result={})

    # A node declared lost claims nothing, even what it could carry out.
    late = _submit(db_session, voice_requests.DIAL, "a003")
    db_session.execute(update(VoiceNodeRow).where(VoiceNodeRow.id == "node-a").values(lost_at=1.0))
    db_session.commit()
    poller = VoiceRequestPoller(
        _Center({"a003"}), session_factory, node_id="node-a", partition="hefei", heartbeat_s=30
    )
    assert asyncio.run(poller.step()) == 0
    assert _state(db_session, late)[0] == "pending"


@pytest.mark.parametrize("first", ["desk", "node"])
def test_a_desk_that_stops_waiting_and_a_node_that_begins_late_are_one_or_the_other(
    first: str,
    session_factory: sessionmaker[Session],
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The desk's wait ends (:func:`voice_requests.give_up`) between a node's claim and its
    ``placing`` (:func:`voice_requests.begin`): whichever conditional UPDATE comes first wins
    and the other changes nothing — the desk told ``voice_node_silent`` gets no call, and a
    node that began first has its call answered to the desk."""
    voice_nodes.register(
        session_factory, node_id="node-a", name="node-a", partition="hefei", sip="", ttl_s=30.0
    )
    request_id = _submit(db_session, voice_requests.DIAL, "a001")
    begin = voice_requests.begin
    desk: list[bool] = []

    def desk_gives_up() -> None:
        with session_factory() as session:
            desk.append(voice_requests.give_up(session, request_id, waited_s=13.0))
            session.commit()

    def racing_begin(session: Session, claimed: int, *, node_id: str) -> bool:
        # The poller claimed the row (committed); the desk's wait ends now, or just after.
        if first == "desk":
            desk_gives_up()
        began = begin(session, claimed, node_id=node_id)
        if first == "node":
            session.commit()
            desk_gives_up()
        return began

    monkeypatch.setattr(voice_requests, "begin", racing_begin)
    center = _Center({"a001"})
    poller = VoiceRequestPoller(
        center, session_factory, node_id="node-a", partition="hefei", heartbeat_s=30
    )
    assert asyncio.run(poller.step()) == 1  # claimed either way
    state, claimed_by, result = _state(db_session, request_id)
    if first == "desk":
        assert desk == [True] and center.dialled == []  # nothing placed late
        assert state == "failed" and result["reason"] == "voice_node_silent", result
        assert "nothing was placed" in result["detail"]
    else:
        assert desk == [False] and center.dialled == [("a001", "13800000000")]
        assert (state, claimed_by, result) == ("done", "node-a", {"contact_id": "o-1"})
    # A request no node claimed fails no_voice_node when the desk stops waiting.
    unclaimed = _submit(db_session, voice_requests.DIAL, "a009")
    assert voice_requests.give_up(db_session, unclaimed, waited_s=13.0)
    db_session.commit()
    assert _state(db_session, unclaimed)[2]["reason"] == "no_voice_node"


class _Center:
    """A voice node's call center as requests use it: phones registered, calls carried."""

    def __init__(self, agents: Iterable[str], calls: Iterable[str] = ()) -> None:
        self.phone_of = {agent: f"sip:{agent}@127.0.0.1" for agent in agents}
        self.calls: dict[str, Any] = dict.fromkeys(calls)
        self.dialled: list[tuple[str, str]] = []
        self.transferred: list[tuple[str, str]] = []

    async def originate(self, *, agent_id: str, number: str, reason: str = "click_to_dial") -> str:
        if number.startswith("139"):
            raise OriginationRefused("no outbound trunk configured")
        self.dialled.append((agent_id, number))
        return f"o-{len(self.dialled)}"

    def transfer_out(self, contact_id: str, number: str) -> None:
        self.transferred.append((contact_id, number))

    def may_transfer_out(self, contact_id: str) -> None:
        pass  # a center that routes itself transfers at once (no owner to ask)


@pytest.fixture
def committed(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Real sessions on the test database (the web node and the voice node poll it from
    different threads at once), and what the test committed removed afterwards."""
    factory = make_session_factory(db_engine)
    tables = (AuditEntry, VoiceRequestRow)
    with factory() as session:
        before = {t: session.scalar(select(func.max(t.id))) or 0 for t in tables}
    try:
        yield factory
    finally:
        with writing(factory()) as session:
            for table, last in before.items():
                session.execute(delete(table).where(table.id > last))
            session.execute(delete(AuthSession).where(AuthSession.username == "vr-a001"))
            session.execute(delete(VoiceNodeRow).where(VoiceNodeRow.name.like("voice-%")))
            session.execute(delete(User).where(User.username == "vr-a001"))
            session.commit()


def test_a_web_nodes_desk_dials_and_transfers_out_through_a_voice_node(
    committed: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(voice_requests, "CLAIM_S", 0.5)
    with committed() as session:
        add_users(session, (("vr-a001", ["agent"], "a001"),))
    voice_nodes.register(
        committed, node_id="voice-t", name="voice-t", partition="hefei", sip="", ttl_s=30.0
    )
    center = _Center({"a001"}, {"c1"})
    poller = VoiceRequestPoller(
        center, committed, node_id="voice-t", partition="hefei", heartbeat_s=30, poll_s=0.05
    )
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    voice_node = threading.Thread(target=loop.run_until_complete, args=(poller.run(stop),))
    voice_node.start()
    board = LogBoard(load_center(SAMPLE))
    board.record(  # the log shows a001 talking on call c1 (and on chat c2)
        [
            Event(1, 1.0, EventKind.AGENT_STATE, agent_id="a001", data={"state": "available"}),
            Event(2, 2.0, EventKind.QUEUED, "c1", queue="repair", channel=Channel.VOICE),
            Event(3, 3.0, EventKind.ANSWERED, "c1", agent_id="a001", queue="repair"),
            Event(4, 2.0, EventKind.QUEUED, "c2", queue="chat", channel=Channel.CHAT),
            Event(5, 3.0, EventKind.ANSWERED, "c2", agent_id="a001", queue="chat"),
        ]
    )
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"),
        session_factory=committed,
        center=load_center(SAMPLE),
    )
    app.state.partition = "hefei"  # a web node of the partition: no engine, no voice server
    app.state.log_board = board
    try:
        with TestClient(app) as client:
            token = client.post(
                "/api/auth/login", json={"username": "vr-a001", "password": PASSWORD}
            ).json()["token"]
            me = {"authorization": f"Bearer {token}"}
            base = "/api/live/agents/a001"
            started = time.monotonic()
            placed = client.post(f"{base}/dial", json={"number": "13800000000"}, headers=me)
            took = time.monotonic() - started
            assert placed.status_code == 201, placed.text
            assert placed.json() == {
                "contact_id": "o-1",
                "agent_id": "a001",
                "number": "13800000000",
            }
            assert center.dialled == [("a001", "13800000000")]
            print(f"a web node's click-to-dial answered through the voice node in {took:.2f} s")
            # The voice node refuses (no trunk): the desk hears why.
            refused = client.post(f"{base}/dial", json={"number": "13900000000"}, headers=me)
            assert refused.status_code == 409
            assert refused.json()["reason"] == "refused"
            assert refused.json()["message"] == "no outbound trunk configured"
            # Another agent's desk is refused before anything is asked of a voice node.
            assert (
                client.post(
                    "/api/live/agents/a002/dial", json={"number": "13800000000"}, headers=me
                ).status_code
                == 403
            )
            # A call on the log goes to an outside number through the node that carries it.
            moved = client.post(
                f"{base}/contacts/c1/transfer", json={"number": "13800000009"}, headers=me
            )
            assert moved.status_code == 200, moved.text
            assert center.transferred == [("c1", "13800000009")]
            chat = client.post(
                f"{base}/contacts/c2/transfer", json={"number": "13800000009"}, headers=me
            )
            assert chat.status_code == 409 and "not a phone call" in chat.json()["message"]
            # The phone leaves the node: nobody takes the next dial, which fails in time.
            center.phone_of.clear()
            started = time.monotonic()
            lost = client.post(f"{base}/dial", json={"number": "13800000001"}, headers=me)
            took = time.monotonic() - started
            assert lost.status_code == 409 and lost.json()["reason"] == "no_voice_node", lost.text
            assert 0.4 < took < 5.0, took
    finally:
        loop.call_soon_threadsafe(stop.set)
        voice_node.join(timeout=10)
        loop.close()
    with committed() as session:
        rows = session.scalars(select(VoiceRequestRow).order_by(VoiceRequestRow.id)).all()
        mine = rows[-4:]
        assert [(r.kind, r.state) for r in mine] == [
            ("dial", "done"),
            ("dial", "failed"),
            ("transfer_out", "done"),
            ("dial", "failed"),
        ]
        assert {r.requested_by for r in mine} == {"vr-a001"}
        assert all(r.claimed_by == "voice-t" for r in mine[:3]) and mine[3].claimed_by is None
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.actor == "vr-a001").order_by(AuditEntry.id)
        ).all()
        voice = [e for e in entries if e.action.startswith("voice.")]
        assert [e.action for e in voice] == [
            "voice.dial",
            "voice.answered",
            "voice.dial",
            "voice.answered",
            "voice.transfer_out",
            "voice.answered",
            "voice.dial",
            "voice.answered",
        ]
        # What each desk was told is audited with its request's id, so the row may be pruned.
        answers = [e.detail for e in voice if e.action == "voice.answered"]
        assert [a["voice_request"] for a in answers] == [r.id for r in mine]
        assert [(a["state"], a.get("reason")) for a in answers] == [
            ("done", None),
            ("failed", "refused"),
            ("done", None),
            ("failed", "no_voice_node"),
        ]
        assert answers[0]["contact_id"] == (mine[0].result or {})["contact_id"]
        assert voice[4].target == voice[5].target == mine[2].contact_id


def _run_poller(poller: VoiceRequestPoller) -> tuple[threading.Thread, Any]:
    """Run a voice node's poller in a thread of its own; return it and what stops it."""
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(poller.run(stop),))
    thread.start()

    def stopping() -> None:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()

    return thread, stopping


def test_a_dial_whose_node_dies_before_placing_it_goes_to_another_node_within_the_wait(
    committed: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-process server without a voice server (an engine in process, no ``--sip``):
    503 while no voice node is live; then a dial claimed by node U, which dies before it
    places it, goes back to pending and is placed once by node V, where the phone is
    registered too — within the desk's one wait. Then the desk's wait ending before a node
    begins its claim (409 ``voice_node_silent``, never placed), and after it began
    (``placing_unconfirmed`` once ``PLACING_S`` more has passed)."""
    with committed() as session:
        add_users(session, (("vr-a001", ["agent"], "a001"),))
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"),
        session_factory=committed,
        center=load_center(SAMPLE),
    )
    attach(app, LiveDriver(center=load_center(SAMPLE), honour_hours=False))
    survivor = _Center({"a001"})
    stops: list[Any] = []
    try:
        with TestClient(app) as client, ThreadPoolExecutor(1) as desk:
            token = client.post(
                "/api/auth/login", json={"username": "vr-a001", "password": PASSWORD}
            ).json()["token"]
            me = {"authorization": f"Bearer {token}"}
            dial = "/api/live/agents/a001/dial"
            with committed() as session:
                assert voice_requests.live_partitions(session) == [], "a node left live"
            no_node = client.post(dial, json={"number": "13800000000"}, headers=me)
            assert no_node.status_code == 503, no_node.text
            for node in ("voice-u", "voice-v"):
                voice_nodes.register(
                    committed, node_id=node, name=node, partition="hefei", sip="", ttl_s=30.0
                )
            started = time.monotonic()
            answer = desk.submit(client.post, dial, json={"number": "13800000000"}, headers=me)

            def pending() -> int | None:
                with committed() as session:
                    return session.scalar(
                        select(VoiceRequestRow.id).where(
                            VoiceRequestRow.state == "pending",
                            VoiceRequestRow.requested_by == "vr-a001",
                        )
                    )

            request_id = _until(pending, "the desk's request written")
            # Node U claims it (in its heartbeat's transaction, as its poller does) and dies
            # before it begins placing it: its heartbeat stops.
            with writing(committed()) as session:
                assert voice_nodes.beat(session, "voice-u", ttl_s=30.0)
                got = voice_requests.claim_for(
                    session, partition="hefei", node_id="voice-u", agents={"a001"}, calls=()
                )
                session.commit()
            assert [r.id for r in got] == [request_id]
            voice_nodes.stopped(committed, "voice-u")
            # Node V, where the phone is registered too, polls from now on.
            node_v = VoiceRequestPoller(
                survivor, committed, node_id="voice-v", partition="hefei", heartbeat_s=30,
                poll_s=0.05,
            )  # fmt: skip
            stops.append(_run_poller(node_v)[1])
            placed = answer.result(timeout=30)
            took = time.monotonic() - started
            assert placed.status_code == 201, placed.text
            assert placed.json()["contact_id"] == "o-1"
            print(f"a dial retried on node V after node U died answered in {took:.2f} s")
            assert took < voice_requests.CLAIM_S + 10.0
            stops.pop()()  # node V stops polling (it stays live): the test claims for it

            # The desk's wait ends (shortened here) before node V begins its claim: 409
            # voice_node_silent, and node V can begin nothing after it.
            monkeypatch.setattr(voice_requests, "CLAIM_S", 1.0)  # time to claim under load
            monkeypatch.setattr(web_voice_requests, "ANSWER_S", 0.3)
            monkeypatch.setattr(web_voice_requests, "PLACING_S", 0.3)

            def claimed_by_v(begin: bool) -> int:
                found = _until(pending, "the desk's next request written")
                with writing(committed()) as session:
                    claim = voice_requests.claim(session, found, node_id="voice-v")
                    assert claim and (not begin or voice_requests.begin(
                        session, found, node_id="voice-v"
                    ))  # fmt: skip
                    session.commit()
                return int(found)

            answer = desk.submit(client.post, dial, json={"number": "13800000002"}, headers=me)
            silent_id = claimed_by_v(begin=False)
            silent = answer.result(timeout=30)
            assert silent.status_code == 409, silent.text
            assert silent.json()["reason"] == "voice_node_silent", silent.text
            with writing(committed()) as session:
                assert not voice_requests.begin(session, silent_id, node_id="voice-v")
            # Node V began it and says nothing more: the desk waits PLACING_S longer, then
            # hears that the call may still ring — not that it failed.
            started = time.monotonic()
            answer = desk.submit(client.post, dial, json={"number": "13800000003"}, headers=me)
            claimed_by_v(begin=True)
            unconfirmed = answer.result(timeout=30)
            took = time.monotonic() - started
            assert unconfirmed.status_code == 409, unconfirmed.text
            assert unconfirmed.json()["reason"] == "placing_unconfirmed", unconfirmed.text
            assert took >= 1.5, took  # the claim and answer windows, then PLACING_S
    finally:
        for stopping in stops:
            stopping()
    assert survivor.dialled == [("a001", "13800000000")]  # placed once, by node V
    with committed() as session:
        row = session.get(VoiceRequestRow, request_id)
        assert row is not None
        assert (row.state, row.claimed_by, row.retries) == ("done", "voice-v", 1)
        assert voice_requests.begin(session, request_id, node_id="voice-u") is False
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == "vr-a001").order_by(AuditEntry.id)
        ).all()
        assert [a for a in audited if a == "voice.dial"] == ["voice.dial"] * 3
        told = session.scalars(
            select(AuditEntry.detail)
            .where(AuditEntry.actor == "vr-a001", AuditEntry.action == "voice.answered")
            .order_by(AuditEntry.id)
        ).all()
        assert [(t["state"], t.get("reason")) for t in told] == [
            ("done", None),
            ("failed", "voice_node_silent"),
            ("placing", "placing_unconfirmed"),
        ]


def _until(condition: Any, what: str, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def test_desks_giving_up_while_a_node_polls_never_leave_a_call_placed_after_a_failure(
    committed: sessionmaker[Session],
) -> None:
    """The race for real: a node polling every 10 ms in its own thread and connection, and a
    desk that gives each of 12 dials up after 0-33 ms. Whatever the timing, a request is
    either failed by the desk (and never dialled) or begun by the node (and dialled once,
    answered done)."""
    voice_nodes.register(
        committed, node_id="voice-r", name="voice-r", partition="hefei", sip="", ttl_s=30.0
    )
    center = _Center({"a001"})
    poller = VoiceRequestPoller(
        center, committed, node_id="voice-r", partition="hefei", heartbeat_s=30, poll_s=0.01
    )
    _, stopping = _run_poller(poller)
    gave_up: dict[int, bool] = {}
    try:
        for index in range(12):
            with writing(committed()) as session:
                request_id = _submit(
                    session, voice_requests.DIAL, "a001", number=f"138000001{index:02d}"
                )
            time.sleep(0.003 * index)
            with writing(committed()) as session:
                gave_up[request_id] = voice_requests.give_up(session, request_id, waited_s=1.0)
                session.commit()

        def settled() -> list[VoiceRequestRow] | None:
            with committed() as session:
                rows = list(
                    session.scalars(select(VoiceRequestRow).where(VoiceRequestRow.id.in_(gave_up)))
                )
            return rows if all(r.state in ("done", "failed") for r in rows) else None

        rows = _until(settled, "every request settled")
    finally:
        stopping()
    dialled = [number for _, number in center.dialled]
    assert len(dialled) == len(set(dialled))  # each at most once
    by_number = {r.number: r for r in rows}
    for row in rows:
        assert (row.state == "done") == (row.number in dialled), (row.id, row.state, row.result)
        assert (row.state == "failed") == gave_up[row.id], (row.id, row.state, row.result)
        if row.state == "failed":
            assert row.result is not None
            assert row.result["reason"] in ("no_voice_node", "voice_node_silent"), row.result
    assert set(dialled) <= set(by_number)
    counts = {s: sum(r.state == s for r in rows) for s in ("done", "failed")}
    silent = sum(r.state == "failed" and r.claimed_by is not None for r in rows)
    print(f"12 dials raced: {counts}, {silent} failed after the node's claim")


def test_answered_requests_are_pruned_after_their_retention_and_open_ones_never(
    session_factory: sessionmaker[Session], db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows answered (``done``/``failed``) longer ago than the retention go, a bounded batch a
    statement; recent answers stay, and so do rows a desk may still wait on (``pending``,
    ``claimed``, ``placing``) however old, and other partitions' rows. The voice node's
    poller runs it in batches of its own transactions; the delete reads the answered rows
    through their index."""
    day = 24 * 3600.0

    def made(state: str, age_s: float, partition: str = "prune-p") -> int:
        request_id = voice_requests.submit(
            db_session, partition=partition, kind="dial", agent_id="a001", number="1",
            requested_by="a001",
        )  # fmt: skip
        at = database_now(db_session) - age_s
        answered = at if state in voice_requests.FINAL else None
        db_session.execute(
            update(VoiceRequestRow)
            .where(VoiceRequestRow.id == request_id)
            .values(state=state, created_at=at - 5, finished_at=answered)
        )
        db_session.commit()
        return request_id

    old_answers = [made("done", 2 * day), made("failed", 3 * day), made("done", day + 60)]
    recent = [made("done", 600), made("failed", day - 600)]
    open_ones = [made(state, 30 * day) for state in ("pending", "claimed", "placing")]
    elsewhere = made("done", 3 * day, partition="prune-q")

    def left() -> set[int]:
        return set(db_session.scalars(select(VoiceRequestRow.id)))

    with pytest.raises(ValueError, match="keep_s 10: at least 60 s"):
        voice_requests.prune(db_session, partition="prune-p", keep_s=10)
    with pytest.raises(ValueError, match="limit 0: at least 1"):
        voice_requests.prune(db_session, partition="prune-p", keep_s=day, limit=0)
    # Bounded batches: two rows, then the last old one, then nothing.
    assert voice_requests.prune(db_session, partition="prune-p", keep_s=day, limit=2) == 2
    assert voice_requests.prune(db_session, partition="prune-p", keep_s=day, limit=2) == 1
    assert voice_requests.prune(db_session, partition="prune-p", keep_s=day, limit=2) == 0
    db_session.commit()
    assert not left() & set(old_answers)
    assert {*recent, *open_ones, elsewhere} <= left()

    # The delete finds its rows through ix_voice_requests_answered, not the whole table.
    doomed = voice_requests.answered_before("prune-p", 1.0)
    dialect = db_session.get_bind().dialect
    sql = str(doomed.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "postgresql":
        db_session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = db_session.execute(text(f"EXPLAIN {sql}")).scalars().all()
    else:
        plan = [row[-1] for row in db_session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
    assert any("ix_voice_requests_answered" in line for line in plan), plan

    # The voice node's poller: its retention checked, then batches until one comes up short.
    with pytest.raises(ValueError, match=r"keep_s \(10\) must be at least 60 s"):
        VoiceRequestPoller(
            _Center(()), session_factory, node_id="n", partition="prune-p", heartbeat_s=30,
            keep_s=10,
        )  # fmt: skip
    monkeypatch.setattr(voice_requests, "PRUNE_BATCH", 1)
    poller = VoiceRequestPoller(
        _Center(()), session_factory, node_id="n", partition="prune-p", heartbeat_s=30,
        keep_s=120,
    )  # fmt: skip
    assert asyncio.run(poller.step()) == 0  # its first poll prunes: one row a batch
    assert poller.pruned == 2  # the two recent answers, now past 120 s; nothing else
    kept = {*open_ones, elsewhere}
    assert left() & {*recent, *kept} == kept
    assert poller.prune() == 0  # and the next pass finds nothing
