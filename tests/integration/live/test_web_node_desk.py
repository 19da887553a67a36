"""A web node without the engine: state changes and desk actions go into the partition's
inbox, and the desk view and the wallboard are drawn from the event log.

The node (``app.state.partition`` and ``app.state.log_board``, as ``hotline serve --web-only``
sets them) has no driver: the first ready or not ready signs the agent in (the log shows them
signed out), later ones are plain state changes, a supervisor's change is audited, and the
reason codes are checked as on a node with the engine. Answer, hold, resume, transfer,
hang-up and wrap-up are checked against the log (409 when it shows them impossible, 422 for a
disposition the center does not know) and become inbox rows the owner reads back into the
engine's commands. Each answer names the inbox row; the owner does the rest
(``test_web_node.py`` runs one). Here the log tail's part — folding the owner's events into
the node's board — is played by hand, so each view follows exactly the events given.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.events import Event, EventKind
from hotline.core.settings import Settings
from hotline.live.driver import LiveDriver
from hotline.live.log_board import LogBoard
from hotline.live.ownership import BadInboxRow, apply_inbox_row, inbox_command
from hotline.routing.crisis import NEVER_OPEN
from hotline.routing.model import (
    AgentLoggedOut,
    ContactEnded,
    ContactHeld,
    ContactMoved,
    ContactQueued,
    ContactResumed,
    OfferAnswered,
    OfferRejected,
    TransferredToQueue,
    WrapUpEnded,
)
from hotline.store import event_log
from hotline.store.models.cluster import PartitionInboxRow
from hotline.store.models.core import AuditEntry, ContactEventRow
from hotline.web.app import create_app
from hotline.web.events import EventHub
from hotline.web.log_tail import LogTail
from tests.integration.live.conftest import PASSWORD, SAMPLE, add_users


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    add_users(
        db_session,
        (
            ("a001", ["agent"], "a001"),
            ("a002", ["agent"], "a002"),
            ("boss", ["supervisor"], None),
        ),
    )
    center = load_center(SAMPLE)
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"),
        session_factory=session_factory,
        center=center,
    )
    app.state.partition = "hefei"  # no live driver: a web node of the partition
    app.state.log_board = LogBoard(center)  # fed by hand below (the log tail's part)
    with TestClient(app) as test_client:
        yield test_client


def auth(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


def inbox(db_session: Session) -> list[tuple[str, dict[str, Any]]]:
    return [(row.kind, row.payload) for row in inbox_rows(db_session)]


def inbox_rows(db_session: Session) -> list[PartitionInboxRow]:
    rows = db_session.scalars(select(PartitionInboxRow).order_by(PartitionInboxRow.id))
    return [row for row in rows if row.partition == "hefei"]


def test_state_changes_on_a_web_node_go_to_the_partition_inbox(
    client: TestClient, db_session: Session
) -> None:
    agent, boss = auth(client, "a001"), auth(client, "boss")
    state = "/api/live/agents/a001/state"
    first = client.post(state, json={"state": "ready"}, headers=agent)
    assert first.status_code == 200, first.text
    assert first.json()["events"] == [] and first.json()["accepted"] > 0
    assert inbox(db_session) == [
        ("agent_login", {"agent_id": "a001", "ready": True, "reason": None})
    ]
    # The owner applied it: the log shows the agent available.
    event_log.append(
        db_session,
        [Event(1, 1.0, EventKind.AGENT_STATE, agent_id="a001", data={"state": "available"})],
    )
    db_session.commit()
    refused = client.post(state, json={"state": "not_ready", "reason": "nap"}, headers=agent)
    assert refused.status_code == 422 and "choose a reason code" in refused.text
    assert client.post(
        state, json={"state": "not_ready", "reason": "break"}, headers=agent
    ).is_success
    assert client.post(state, json={"state": "logout"}, headers=boss).is_success
    assert inbox(db_session)[1:] == [
        ("agent_not_ready", {"agent_id": "a001", "reason": "break"}),
        ("agent_logout", {"agent_id": "a001"}),
    ]
    audited = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "agent.state"))
    assert [(a.actor, a.target) for a in audited] == [("boss", "a001")]
    unknown = client.post("/api/live/agents/a999/state", json={"state": "ready"}, headers=boss)
    assert unknown.status_code == 404


def test_a_state_change_sent_twice_before_the_owner_applied_it_takes_effect_once(
    client: TestClient, db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    # The log shows a001 signed out both times (the owner has not applied the first yet), so
    # each ready asks to sign in; so do two not readies for a002, and the supervisor signs
    # a001 out twice.
    agent, other, boss = auth(client, "a001"), auth(client, "a002"), auth(client, "boss")
    for _ in range(2):
        assert client.post(
            "/api/live/agents/a001/state", json={"state": "ready"}, headers=agent
        ).is_success
        assert client.post(
            "/api/live/agents/a002/state",
            json={"state": "not_ready", "reason": "break"},
            headers=other,
        ).is_success
    for _ in range(2):
        assert client.post(
            "/api/live/agents/a001/state", json={"state": "logout"}, headers=boss
        ).is_success
    rows = inbox_rows(db_session)
    assert [r.kind for r in rows] == ["agent_login"] * 4 + ["agent_logout"] * 2
    driver = LiveDriver(
        center=load_center(SAMPLE),
        session_factory=session_factory,
        honour_hours=False,
        flush_every_s=3600,
    )

    async def owner() -> list[str]:
        await driver.start()
        states = []
        try:
            for row in rows:
                await apply_inbox_row(driver, row)  # none refused (it used to raise)
                states.append(driver.engine.agent_state(row.payload["agent_id"]).value)
            assert driver.engine.agent_reason("a002") == "break"
            await driver.flush()
        finally:
            await driver.stop()
        return states

    assert asyncio.run(owner()) == [
        "available",
        "not_ready",
        "available",
        "not_ready",
        "logged_out",
        "logged_out",
    ]
    assert driver.stats.conflicts == 0
    logged = db_session.scalars(
        select(ContactEventRow.data)
        .where(ContactEventRow.kind == "agent_state", ContactEventRow.agent_id == "a001")
        .order_by(ContactEventRow.seq)
    ).all()
    assert [d["state"] for d in logged] == ["available", "logged_out"]  # once each


def test_the_desk_and_the_wallboard_on_a_web_node_follow_the_log(
    client: TestClient, db_session: Session
) -> None:
    board: LogBoard = client.app.state.log_board  # type: ignore[attr-defined]
    seq = 0

    def owner_wrote(*events: tuple[EventKind, str | None, dict[str, Any]]) -> None:
        """Events the owner committed, as the log tail folds them (a001's, at 100 s on)."""
        nonlocal seq
        folded = []
        for kind, contact, data in events:
            seq += 1
            queue = data.pop("queue", None)
            agent = None if kind in (EventKind.ARRIVED, EventKind.QUEUED) else "a001"
            folded.append(Event(seq, 100.0 + seq, kind, contact, agent, queue, data=data))
        board.record(folded)

    agent, other, boss = auth(client, "a001"), auth(client, "a002"), auth(client, "boss")
    desk = "/api/live/agents/a001"
    c1 = f"{desk}/contacts/c1"
    owner_wrote(
        (EventKind.AGENT_STATE, None, {"state": "available"}),
        (EventKind.ARRIVED, "c1", {"queue": "installation", "customer": "13800001111"}),
        (EventKind.QUEUED, "c1", {"queue": "installation"}),
    )
    wall = client.get("/api/live/wallboard", headers=boss)
    assert wall.status_code == 200, wall.text
    queues = {q["id"]: q for q in wall.json()["queues"]}
    assert queues["installation"]["waiting"] == 1 and queues["repair"]["waiting"] == 0
    assert {a["id"]: a["state"] for a in wall.json()["agents"]}["a001"] == "available"
    assert client.get("/api/live/wallboard", headers=agent).status_code == 403

    # Offered: the desk shows it ringing; only answering (or declining) fits.
    owner_wrote(
        (EventKind.OFFERED, "c1", {"queue": "installation", "kind": "queue"}),
        (EventKind.AGENT_STATE, None, {"state": "reserved"}),
    )
    view = client.get(desk, headers=agent)
    assert view.status_code == 200, view.text
    assert view.json()["state"] == "reserved"
    assert view.json()["offer"]["contact_id"] == "c1"
    assert view.json()["offer"]["attached"]["customer"] == "13800001111"
    assert client.get(desk, headers=other).status_code == 403
    pop = client.get(f"{c1}/screen-pop", headers=agent)
    assert pop.status_code == 200, pop.text
    assert pop.json()["attached"]["customer"] == "13800001111"
    assert client.get(f"{desk}/contacts/c9/screen-pop", headers=agent).status_code == 409
    wrap = client.post(f"{c1}/wrap-up", json={"disposition": "resolved"}, headers=agent)
    assert wrap.status_code == 409 and "the log shows it ringing" in wrap.text
    assert client.post(f"{c1}/hold", headers=agent).status_code == 409
    assert client.post(f"{desk}/contacts/c9/answer", headers=agent).status_code == 409
    assert client.post(f"{c1}/answer", headers=other).status_code == 403
    answered = client.post(f"{c1}/answer", headers=agent)
    assert answered.status_code == 200, answered.text
    assert answered.json()["events"] == [] and answered.json()["accepted"] > 0

    # Talking: hold and resume as the log shows the hold; a transfer's target is checked.
    owner_wrote(
        (EventKind.ANSWERED, "c1", {"queue": "installation"}),
        (EventKind.AGENT_STATE, None, {"state": "on_contact"}),
    )
    assert client.get(desk, headers=agent).json()["contacts"][0]["stage"] == "talking"
    assert client.post(f"{c1}/resume", headers=agent).status_code == 409
    assert client.post(f"{c1}/hold", headers=agent).status_code == 200
    owner_wrote((EventKind.HELD, "c1", {}))
    again = client.post(f"{c1}/hold", headers=agent)
    assert again.status_code == 409 and "already on hold" in again.text
    assert client.post(f"{c1}/resume", headers=agent).status_code == 200
    nowhere = client.post(f"{c1}/transfer", json={"queue": "nowhere"}, headers=agent)
    assert nowhere.status_code == 409 and "unknown queue" in nowhere.text
    away = client.post(f"{c1}/transfer", json={"agent_id": "a002"}, headers=agent)
    assert away.status_code == 409 and "logged_out" in away.text
    assert client.post(f"{c1}/transfer", json={"queue": "repair"}, headers=agent).is_success
    assert client.post(f"{c1}/hangup", headers=agent).status_code == 200

    # Wrap-up: only once the log shows it, with a disposition the center knows.
    owner_wrote(
        (EventKind.RESUMED, "c1", {}),
        (EventKind.DISCONNECTED, "c1", {}),
        (EventKind.AGENT_STATE, None, {"state": "wrap_up"}),
    )
    assert client.get(desk, headers=agent).json()["contacts"][0]["stage"] == "wrap_up"
    bad = client.post(f"{c1}/wrap-up", json={"disposition": "nap"}, headers=agent)
    assert bad.status_code == 422 and "choose a disposition" in bad.text
    done = client.post(f"{c1}/wrap-up", json={"disposition": "resolved"}, headers=agent)
    assert done.status_code == 200, done.text

    # The owner reads each row back into the engine's command.
    commands = [inbox_command(row, 200.0) for row in inbox_rows(db_session)]
    assert commands == [
        OfferAnswered(at=200.0, contact_id="c1", agent_id="a001"),
        ContactHeld(at=200.0, contact_id="c1"),
        ContactResumed(at=200.0, contact_id="c1"),
        TransferredToQueue(at=200.0, contact_id="c1", queue="repair"),
        ContactEnded(at=200.0, contact_id="c1"),
        WrapUpEnded(at=200.0, agent_id="a001", contact_id="c1", disposition="resolved"),
    ]


def test_the_supervisors_floor_actions_on_a_web_node_go_to_the_partition_inbox(
    client: TestClient, db_session: Session
) -> None:
    board: LogBoard = client.app.state.log_board  # type: ignore[attr-defined]
    add_users(db_session, (("sup", ["supervisor"], "a003"),))
    boss, sup, agent = auth(client, "boss"), auth(client, "sup"), auth(client, "a001")

    def owner_wrote(*events: Event) -> None:
        board.record(events)

    def state(seq: int, agent_id: str, value: str) -> Event:
        return Event(
            seq, float(seq), EventKind.AGENT_STATE, agent_id=agent_id, data={"state": value}
        )

    owner_wrote(
        state(1, "a001", "available"),
        Event(2, 2.0, EventKind.QUEUED, "c1", queue="installation"),
        Event(3, 3.0, EventKind.QUEUED, "c2", queue="installation"),
        Event(4, 4.0, EventKind.QUEUED, "c3", queue="repair"),
        state(5, "a004", "available"),
        Event(6, 6.0, EventKind.QUEUED, "c6", queue="repair"),
        Event(7, 7.0, EventKind.OFFERED, "c6", "a004", "repair"),
        Event(8, 8.0, EventKind.ANSWERED, "c6", "a004", "repair"),
    )
    waiting = client.get("/api/live/waiting", headers=boss)
    assert waiting.status_code == 200, waiting.text
    assert [(w["contact_id"], w["queue"], w["position"]) for w in waiting.json()["contacts"]] == [
        ("c1", "installation", 1),
        ("c2", "installation", 2),
        ("c3", "repair", 1),
    ]
    assert client.get("/api/live/waiting", headers=agent).status_code == 403

    # Moves: checked against the log (409) and the center (422), then the inbox.
    move = "/api/live/contacts/{}/move"
    unknown = client.post(move.format("c1"), json={"queue": "nowhere"}, headers=boss)
    assert unknown.status_code == 422 and "unknown queue" in unknown.text
    gone = client.post(move.format("c6"), json={"queue": "repair"}, headers=boss)
    assert gone.status_code == 409 and "c6 is not waiting" in gone.text
    away = client.post(move.format("c1"), json={"agent_id": "a002"}, headers=boss)
    assert away.status_code == 409 and "the log shows logged_out" in away.text
    moved = client.post(move.format("c1"), json={"queue": "repair"}, headers=boss)
    assert moved.status_code == 200 and moved.json()["accepted"] > 0, moved.text
    assert client.post(move.format("c2"), json={"agent_id": "a001"}, headers=boss).is_success
    assert (
        client.post(move.format("c3"), json={"queue": "repair"}, headers=agent).status_code == 403
    )

    # Picking for oneself: an agent id of one's own, available in the log.
    pick = "/api/live/contacts/c3/pick"
    assert client.post(pick, headers=boss).status_code == 409  # boss has no agent id
    busy = client.post(pick, headers=sup)
    assert busy.status_code == 409 and "agent a003 is not available" in busy.text
    owner_wrote(state(9, "a003", "available"))
    assert client.post(pick, headers=sup).is_success

    # A stuck agent logged out: not while talking; a ringing offer and a wrap-up let go first.
    logout = "/api/live/agents/{}/force-logout"
    talking = client.post(logout.format("a004"), headers=boss)
    assert talking.status_code == 409 and "a004 is on c6" in talking.text
    owner_wrote(
        Event(10, 10.0, EventKind.OFFERED, "c2", "a001", "installation"),
        Event(11, 11.0, EventKind.QUEUED, "c7", queue="installation"),
        Event(12, 12.0, EventKind.OFFERED, "c7", "a001", "installation"),
        Event(13, 13.0, EventKind.ANSWERED, "c7", "a001", "installation"),
        Event(14, 14.0, EventKind.DISCONNECTED, "c7", "a001", "installation"),
    )
    out = client.post(logout.format("a001"), headers=boss)
    assert out.status_code == 200, out.text

    audited = db_session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    assert [(a.actor, a.action, a.target) for a in audited if a.action != "auth.login"] == [
        ("boss", "contact.move", "c1"),
        ("boss", "contact.move", "c2"),
        ("sup", "contact.pick", "c3"),
        ("boss", "agent.force_logout", "a001"),
    ]
    commands = [inbox_command(row, 50.0) for row in inbox_rows(db_session)]
    assert commands == [
        ContactMoved(at=50.0, contact_id="c1", queue="repair"),
        ContactMoved(at=50.0, contact_id="c2", agent_id="a001"),
        ContactMoved(at=50.0, contact_id="c3", agent_id="a003"),
        OfferRejected(at=50.0, contact_id="c2", agent_id="a001"),
        WrapUpEnded(at=50.0, agent_id="a001", contact_id="c7", disposition=None),
        AgentLoggedOut(at=50.0, agent_id="a001"),
    ]
    assert out.json()["accepted"] == inbox_rows(db_session)[-1].id


def test_contacts_by_hand_call_backs_and_crisis_mode_on_a_web_node(
    client: TestClient, db_session: Session
) -> None:
    board: LogBoard = client.app.state.log_board  # type: ignore[attr-defined]
    boss, agent = auth(client, "boss"), auth(client, "a001")
    board.record(
        [
            Event(1, 1.0, EventKind.ARRIVED, "c1", data={"customer": "13800001111"}),
            Event(2, 2.0, EventKind.QUEUED, "c1", queue="installation"),
            Event(3, 3.0, EventKind.OFFERED, "c1", "a001", "installation"),
            Event(4, 4.0, EventKind.ANSWERED, "c1", "a001", "installation"),
        ]
    )
    # A contact queued by hand: its id given here, the row for the owner.
    new = {"queue": "repair", "customer": "13900002222", "subject": "web form"}
    nowhere = client.post("/api/live/contacts", json={**new, "queue": "nowhere"}, headers=boss)
    assert nowhere.status_code == 422 and "unknown queue" in nowhere.text
    placed = client.post("/api/live/contacts", json=new, headers=boss)
    assert placed.status_code == 201, placed.text
    contact_id = placed.json()["contact_id"]
    assert placed.json()["queue"] == "repair" and placed.json()["accepted"] > 0
    assert client.post("/api/live/contacts", json=new, headers=agent).status_code == 403

    # A call back promised from the desk: for a contact the log shows in the agent's hands.
    callback = "/api/live/agents/a001/contacts/{}/callback"
    promise = {"queue": "repair", "in_minutes": 30, "note": "after the repair"}
    assert client.post(callback.format("c9"), json=promise, headers=agent).status_code == 409
    bad = client.post(callback.format("c1"), json={**promise, "queue": "x"}, headers=agent)
    assert bad.status_code == 422 and "unknown queue" in bad.text
    promised = client.post(callback.format("c1"), json=promise, headers=agent)
    assert promised.status_code == 201, promised.text
    assert promised.json()["customer"] == "13800001111"  # the caller's number, from the log
    assert promised.json()["callback_id"].endswith("-cb")

    # Crisis mode: off as the log shows it; the switch goes to the owner, who logs it.
    assert client.get("/api/live/crisis", headers=agent).json()["on"] is False
    off = client.put("/api/live/crisis", json={"on": False, "reason": "calm"}, headers=boss)
    assert off.status_code == 409 and "already off" in off.text
    on = client.put("/api/live/crisis", json={"on": True, "reason": "storm"}, headers=boss)
    assert on.status_code == 200, on.text
    assert on.json()["on"] is True and on.json()["closed_queues"] == ["installation"]
    assert client.get("/api/live/crisis", headers=agent).json()["on"] is False  # not yet
    data = {"on": True, "by": "boss", "source": "supervisor", "reason": "storm"}
    board.record([Event(5, 5.0, EventKind.CRISIS, data=data)])
    shown = client.get("/api/live/crisis", headers=agent).json()
    assert (shown["on"], shown["by"], shown["reason"], shown["since"]) == (
        True,
        "boss",
        "storm",
        5.0,
    )
    assert client.get("/api/live/wallboard", headers=boss).json()["crisis"]["on"] is True
    again = client.put("/api/live/crisis", json={"on": True, "reason": "storm"}, headers=boss)
    assert again.status_code == 409 and "already on" in again.text
    audited = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "crisis.on"))
    assert [(a.actor, a.target) for a in audited] == [("boss", "storm")]

    rows = inbox_rows(db_session)
    assert [row.kind for row in rows] == ["contact", "callback", "crisis"]
    assert inbox_command(rows[0], 50.0) == ContactQueued(
        at=50.0, contact_id=contact_id, queue="repair", customer="13900002222"
    )
    assert rows[1].payload["callback_id"] == promised.json()["callback_id"]
    assert rows[2].payload == {"on": True, "by": "boss", "reason": "storm"}


def test_the_owner_carries_out_a_web_nodes_rows_and_logs_the_crisis_switch(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    center = load_center(SAMPLE)
    driver = LiveDriver(
        center=center, session_factory=session_factory, honour_hours=False, flush_every_s=3600
    )

    def row(id_: int, kind: str, **payload: Any) -> PartitionInboxRow:
        return PartitionInboxRow(
            id=id_, partition="hefei", kind=kind, payload=payload, accepted_at=0.0
        )

    promise = {
        "callback_id": "W_1-cb",
        "queue": "repair",
        "due_at": time.time() + 600,
        "customer": "13800001111",
        "requested_by": "a001",
        "note": "after the repair",
        "for_contact": "c1",
    }

    async def owner() -> None:
        await driver.start()
        try:
            await apply_inbox_row(
                driver, row(1, "contact", contact_id="W_1", queue="repair", subject="web form")
            )
            await apply_inbox_row(driver, row(2, "callback", **promise))
            await apply_inbox_row(driver, row(3, "crisis", on=True, by="boss", reason="storm"))
            with pytest.raises(BadInboxRow):
                await apply_inbox_row(driver, row(4, "callback", queue="repair"))
            assert driver.engine.waiting_contacts("repair") == ["W_1"]
            assert driver.attached["W_1"] == {"customer": None, "subject": "web form"}
            assert driver.desk.callbacks["W_1-cb"]["note"] == "after the repair"
            assert driver.crisis.on
        finally:
            await driver.stop()

    asyncio.run(owner())
    # A new owner (a takeover) keeps the mode the log's last switch left on.
    successor = LiveDriver(
        center=center, session_factory=session_factory, honour_hours=False, resume=True
    )

    async def takeover() -> None:
        await successor.start()
        try:
            view = successor.crisis.view()
            assert (view["on"], view["by"], view["reason"]) == (True, "boss", "storm")
            queues = {q.id: q for q in successor.engine.config.queues}
            assert queues["installation"].calendar is NEVER_OPEN  # closed for the crisis
            assert queues["repair"].calendar is None
        finally:
            await successor.stop()

    asyncio.run(takeover())
    # The switch is in the log: a web node's board folds it and shows the mode.
    switched = event_log.latest_of(db_session, EventKind.CRISIS)
    assert switched is not None
    assert dict(switched.data) == {
        "on": True,
        "by": "boss",
        "source": "supervisor",
        "reason": "storm",
    }
    board = LogBoard(center)
    board.record([switched])
    assert board.crisis_view()["on"] is True and board.crisis_view()["by"] == "boss"


def test_a_web_nodes_log_tail_shows_the_crisis_switch_in_force_and_announces_each_switch(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    days_ago = time.time() - 3 * 86400  # switched on days ago: not among today's events
    switch = {"by": "rule", "source": "rule", "reason": "surge"}
    event_log.append(
        db_session, [Event(1, days_ago, EventKind.CRISIS, data={"on": True, **switch})]
    )
    db_session.commit()
    hub = EventHub()
    tail = LogTail(session_factory=session_factory, hub=hub, board=LogBoard(load_center(SAMPLE)))

    async def web_node() -> dict[str, Any]:
        hub.bind(asyncio.get_running_loop())
        await tail.start()
        await tail.stop()  # the opening is folded; the steps below are taken by hand
        assert tail.board is not None and tail.board.crisis_view()["on"] is True
        with hub.subscribe() as screen:
            off = Event(2, time.time(), EventKind.CRISIS, data={"on": False, **switch})
            event_log.append(db_session, [off])
            db_session.commit()
            assert tail.step() == 1
            assert (await anext(screen))["kind"] == "crisis"  # the event, as every event
            return await asyncio.wait_for(anext(screen), 5)  # then the banners' message

    banner = asyncio.run(web_node())
    assert banner["type"] == "crisis" and banner["on"] is False and banner["reason"] == "surge"
