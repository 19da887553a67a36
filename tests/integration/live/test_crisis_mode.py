"""Crisis mode in the live center: switched by a supervisor (reason required, audited) or by the
center file's rule (the crisis sweep, audited as ``rule``); while on, the installation queue is
closed, every caller waiting is offered a callback, new callers hear the front announcement
before the menu, and every screen — desks too — hears the switch.

The sample center's crisis section closes ``installation`` and announces ``emergency``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.config.crisis import CrisisOverflow, CrisisSwitchRule
from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.live.crisis_sweep import CrisisSweeper, attach_crisis_sweeper
from hotline.live.driver import LiveDriver
from hotline.routing.crisis import NEVER_OPEN
from hotline.routing.model import AgentLoggedIn, QueueConfig
from hotline.store.models.core import AuditEntry
from hotline.telephony.joined import LiveVoice
from hotline.telephony.server import ServerOptions
from hotline.web.access import live_feed
from tests.integration.live.conftest import SAMPLE, live_client
from tests.integration.live.test_access_scope import auth
from tests.integration.telephony.test_live_router import LiveRig

#: The rule the sweep test runs: more than one caller waiting for a minute; off by rule too.
QUICK_RULE = CrisisSwitchRule(queue_longer_than=1, for_minutes=1, switch_off=True)


def _center_with_rule() -> CenterConfig:
    center = load_center(SAMPLE)
    assert center.crisis is not None
    crisis = center.crisis.model_copy(update={"switch": QUICK_RULE, "callback_after_s": None})
    return center.model_copy(update={"crisis": crisis})


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(("a002", ["agent"], "a002"), ("boss", ["supervisor"], "a005")),
        center=_center_with_rule(),
    ) as test_client:
        yield test_client


def _audit(db_session: Session) -> list[tuple[str, str, str]]:
    db_session.expire_all()
    rows = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("crisis.%")).order_by(AuditEntry.id)
    ).all()
    return [(row.actor, row.action, row.target) for row in rows]


def _place(client: TestClient, queue: str, headers: dict[str, str]) -> dict[str, object]:
    placed = client.post("/api/live/contacts", json={"queue": queue}, headers=headers)
    assert placed.status_code == 201, placed.text
    return dict(placed.json())


def test_a_supervisor_switches_crisis_mode_with_a_reason_and_every_switch_is_audited(
    client: TestClient, db_session: Session
) -> None:
    boss, agent = auth(client, "boss"), auth(client, "a002")
    client.post(
        "/api/live/agents/a002/state", json={"state": "not_ready", "reason": "break"}, headers=boss
    )
    waiting = _place(client, "installation", boss)["contact_id"]
    assert client.get("/api/live/crisis", headers=agent).json()["on"] is False
    # A reason is required; an agent cannot switch; nothing changed.
    blank = client.put("/api/live/crisis", json={"on": True, "reason": "  "}, headers=boss)
    assert blank.status_code == 422 and "give the reason" in blank.text
    denied = client.put("/api/live/crisis", json={"on": True, "reason": "storm"}, headers=agent)
    assert denied.status_code == 403

    on = client.put("/api/live/crisis", json={"on": True, "reason": "台风 storm"}, headers=boss)
    assert on.status_code == 200, on.text
    assert on.json() | {"since": None} == {
        "available": True,
        "on": True,
        "since": None,
        "by": "boss",
        "source": "supervisor",
        "reason": "台风 storm",
        "announcement": "emergency",
        "closed_queues": ["installation"],
    }
    again = client.put("/api/live/crisis", json={"on": True, "reason": "again"}, headers=boss)
    assert again.status_code == 409
    # The desk and the wallboard read it; the closed queue refuses a new contact, the one
    # already waiting keeps its place.
    assert client.get("/api/live/crisis", headers=agent).json()["reason"] == "台风 storm"
    board = client.get("/api/live/wallboard", headers=boss).json()
    assert board["crisis"]["on"] is True
    refused = _place(client, "installation", boss)["contact_id"]
    rows = client.get("/api/live/waiting", headers=boss).json()["contacts"]
    assert [r["contact_id"] for r in rows] == [waiting]
    assert refused != waiting

    off = client.put("/api/live/crisis", json={"on": False, "reason": "over"}, headers=boss)
    assert off.status_code == 200 and off.json()["on"] is False
    after = _place(client, "installation", boss)["contact_id"]
    rows = client.get("/api/live/waiting", headers=boss).json()["contacts"]
    assert [r["contact_id"] for r in rows] == [waiting, after]
    assert _audit(db_session) == [
        ("boss", "crisis.on", "台风 storm"),
        ("boss", "crisis.off", "over"),
    ]


def test_the_switch_reaches_every_screen_desks_too() -> None:
    center = load_center(SAMPLE)
    message = {"type": "crisis", "on": True, "reason": "storm"}
    assert live_feed(center, ["agent"], "a002")(message) == message
    assert live_feed(center, ["agent"], "a002")({"type": "wallboard", "queues": []}) is None


def test_the_rule_switches_crisis_mode_on_and_off_and_is_audited(
    client: TestClient, db_session: Session
) -> None:
    boss = auth(client, "boss")
    for agent in ("a002", "a005"):
        client.post(
            f"/api/live/agents/{agent}/state",
            json={"state": "not_ready", "reason": "break"},
            headers=boss,
        )
    clock = ManualClock(1000.0)
    sweeper = attach_crisis_sweeper(client.app, every_s=3600, clock=clock)
    assert isinstance(sweeper, CrisisSweeper)
    driver = client.app.state.live  # type: ignore[attr-defined]
    first, second = (_place(client, "repair", boss)["contact_id"] for _ in range(2))
    portal = client.portal
    assert portal is not None
    assert portal.call(sweeper.sweep) is None  # two waiting: the minute starts now
    clock.advance(59)
    assert portal.call(sweeper.sweep) is None
    clock.advance(1)
    switched = portal.call(sweeper.sweep)
    assert switched is not None and switched["on"] is True and switched["source"] == "rule"
    assert driver.crisis.on
    # The queue empties; a minute later the rule switches the mode off again.
    for contact in (first, second):
        portal.call(driver.end_digital, contact)
    assert portal.call(sweeper.sweep) is None
    clock.advance(60)
    switched_off = portal.call(sweeper.sweep)
    assert switched_off is not None and switched_off["on"] is False
    assert _audit(db_session) == [
        ("rule", "crisis.on", "queue repair: 2 waiting, more than 1"),
        ("rule", "crisis.off", "condition cleared"),
    ]


def test_in_crisis_mode_new_callers_hear_the_announcement_before_the_menu() -> None:
    rig = LiveRig()
    voice = LiveVoice(
        rig.driver, ServerOptions(workdir=Path("/unused"), prompts=Path("/prompts"), phones=())
    )
    voice.parts = SimpleNamespace(center=rig.center)  # type: ignore[assignment]

    async def call(leg: str, keys: str) -> str:
        rig.center.incoming(leg, caller="13800000001", called="400", sdp="v=0")
        await rig.settle()
        contact = next(c.contact_id for c in rig.center.calls.values() if c.leg == leg)
        for key in keys:
            rig.center.dtmf(contact, "caller", key)
            await rig.settle()
        return contact

    async def scenario() -> None:
        await rig.driver.start()
        try:
            before = await call("in-1", "2")  # English
            await rig.driver.switch_crisis(on=True, by="boss", source="supervisor", reason="x")
            during = await call("in-2", "22")  # English, installation: closed for the crisis
            await rig.driver.switch_crisis(on=False, by="boss", source="supervisor", reason="y")
            after = await call("in-3", "2")
            played = {c: rig.media.played(c) for c in (before, during, after)}
            assert "emergency" not in played[before] and "emergency" not in played[after]
            heard = played[during]
            assert heard.index("emergency") < heard.index("menu_main")
            assert "closed" in heard[heard.index("menu_main") :]
            for leg in ("in-1", "in-2", "in-3"):
                rig.center.hung_up(leg)
            await rig.center.drain()
        finally:
            await rig.driver.stop()

    asyncio.run(scenario())


def test_a_configuration_saved_in_crisis_mode_comes_in_force_with_the_crisis_rules() -> None:
    center = load_center(SAMPLE)
    driver = LiveDriver(center=center, honour_hours=False)
    queues = [
        q.model_copy(update={"announce_every_s": 50}) if q.id == "installation" else q
        for q in center.queues
    ]
    saved = center.model_copy(update={"queues": queues})

    def installation() -> QueueConfig:
        return next(q for q in driver.engine.config.queues if q.id == "installation")

    async def scenario() -> None:
        await driver.start()
        try:
            await driver.switch_crisis(on=True, by="boss", source="supervisor", reason="storm")
            driver.reconfigure(saved)  # an administrator saves the center file meanwhile
            await driver.tick()
            assert driver.pending_center is None
            assert installation().announce_every_s == 50
            assert installation().calendar is NEVER_OPEN  # still closed for the crisis
            await driver.switch_crisis(on=False, by="boss", source="supervisor", reason="over")
            assert installation().calendar is None and installation().announce_every_s == 50
        finally:
            await driver.stop()

    asyncio.run(scenario())


def _forwarding_rig() -> LiveRig:
    """The voice driver on the live engine with a trunk, crisis mode forwarding past one."""
    rig = LiveRig()
    rig.center.settings.trunk = "sip:{number}@127.0.0.1:5099"
    crisis = rig.driver.crisis
    assert crisis.config is not None
    crisis.config = crisis.config.model_copy(
        update={"overflow": CrisisOverflow(queue_longer_than=1, number="4008009000")}
    )
    return rig


async def _forwarded_caller(rig: LiveRig) -> tuple[str, str]:
    """Crisis mode on, one contact waiting in complaints; a caller picks complaints and is
    forwarded: their contact id and the trunk leg dialled for them."""
    await rig.driver.command(
        lambda now: AgentLoggedIn(at=now, agent_id="a005", ready=False, reason="break")
    )
    await rig.driver.switch_crisis(on=True, by="boss", source="supervisor", reason="x")
    await rig.driver.queue_contact("complaints")  # one waits: the bound is reached
    rig.center.incoming("in-1", caller="13800000001", called="400", sdp="v=0")
    await rig.settle()
    contact = next(iter(rig.center.calls))
    for key in ("2", "3"):  # English, complaints
        rig.center.dtmf(contact, "caller", key)
        await rig.settle()
    [dial] = [a for a in rig.sip.actions if a[0] == "dial"]
    assert dial[2] == "sip:4008009000@127.0.0.1:5099"
    assert "transfer" in rig.media.played(contact)
    return contact, dial[1]


def _forward_steps(rig: LiveRig, contact: str) -> list[dict[str, object]]:
    return [
        data
        for m in rig.published
        if m.get("type") == "event"
        and m.get("kind") == "ivr_step"
        and m.get("contact_id") == contact
        and isinstance(data := m["data"], dict)
        and data.get("action") == "forward"
    ]


def test_in_crisis_mode_a_caller_past_the_bound_is_forwarded_to_the_partner_through_the_trunk() -> (
    None
):
    rig = _forwarding_rig()

    async def scenario() -> None:
        await rig.driver.start()
        try:
            contact, leg = await _forwarded_caller(rig)
            rig.center.answered(leg, "v=0 partner")
            await rig.settle()
            assert ("answer", contact, "v=0 partner") in [
                (c, p["call"], p.get("sdp")) for c, p in rig.media.commands
            ]
            rig.center.hung_up(leg)  # the partner hangs up: the caller is released
            await rig.settle()
            assert ("hang_up", "in-1") in rig.sip.actions
            await rig.center.drain()
        finally:
            await rig.driver.stop()
        steps = _forward_steps(rig, contact)
        assert [d["state"] for d in steps] == ["dialling", "answered", "ended"]
        assert steps[0]["number"] == "4008009000"

    asyncio.run(scenario())


def test_a_partner_that_refuses_releases_the_forwarded_caller() -> None:
    rig = _forwarding_rig()

    async def scenario() -> None:
        await rig.driver.start()
        try:
            contact, leg = await _forwarded_caller(rig)
            rig.center.failed(leg, 486)  # busy
            await rig.settle()
            assert ("hang_up", "in-1") in rig.sip.actions
            assert contact not in rig.center.calls
            await rig.center.drain()
        finally:
            await rig.driver.stop()
        steps = _forward_steps(rig, contact)
        assert [(d["state"], d.get("reason")) for d in steps] == [
            ("dialling", None),
            ("failed", "sip_486"),
        ]

    asyncio.run(scenario())


def test_a_busy_partner_is_followed_by_its_if_busy_number_then_the_caller_is_released() -> None:
    rig = _forwarding_rig()
    rig.center.settings.forward_fallbacks = {"4008009000": ("4008009100",)}

    async def scenario() -> None:
        await rig.driver.start()
        try:
            contact, leg = await _forwarded_caller(rig)
            rig.center.failed(leg, 486)  # busy: the second partner is dialled
            await rig.settle()
            dials = [a for a in rig.sip.actions if a[0] == "dial"]
            assert [d[2] for d in dials] == [
                "sip:4008009000@127.0.0.1:5099",
                "sip:4008009100@127.0.0.1:5099",
            ]
            assert ("hang_up", "in-1") not in rig.sip.actions
            rig.center.failed(dials[1][1], 503)  # the last one fails too: released
            await rig.settle()
            assert ("hang_up", "in-1") in rig.sip.actions
            assert contact not in rig.center.calls
            await rig.center.drain()
        finally:
            await rig.driver.stop()
        steps = _forward_steps(rig, contact)
        assert [(d["state"], d.get("number"), d.get("reason")) for d in steps] == [
            ("dialling", "4008009000", None),
            ("failed", None, "sip_486"),
            ("dialling", "4008009100", None),
            ("failed", None, "sip_503"),
        ]

    asyncio.run(scenario())
