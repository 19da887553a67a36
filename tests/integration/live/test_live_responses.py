"""The live routes' typed responses: documented in the OpenAPI schema, and the JSON unchanged.

The routes answered plain dicts before they had response models; the models must describe
that JSON, not reshape it: a response model validating the driver's own views must give back
the same JSON text (no key dropped or added, ``null`` kept, an integer not turned into a float).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.clock import ManualClock
from hotline.core.settings import Settings
from hotline.live.driver import LiveDriver
from hotline.routing.model import AgentLoggedIn, ContactEnded, ContactHeld, OfferAnswered
from hotline.web.api.live.schemas import AgentDesk, CommandApplied, WallboardView
from hotline.web.app import create_app, iter_routes
from tests.integration.live.conftest import live_client
from tests.integration.live.test_live_api import auth
from tests.integration.web.test_role_matrix import MATRIX

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
T0 = 1772416800.25  # Monday 10:00 in Shanghai (a wall clock's time has a fraction)


def _success_schema(operation: dict[str, Any]) -> dict[str, Any]:
    responses = operation["responses"]
    code = next(c for c in ("200", "201") if c in responses)
    schema: dict[str, Any] = responses[code]["content"]["application/json"]["schema"]
    return schema


def test_every_live_route_documents_its_response_model(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"),
        session_factory=session_factory,
        center=load_center(SAMPLE),
    )
    spec = app.openapi()
    components = spec["components"]["schemas"]
    live = {
        (method.lower(), path)
        for path, route in iter_routes(app.router.routes)
        if path.startswith("/api/live/")
        for method in getattr(route, "methods", ())
    }
    # Every live route, as the role matrix writes the access policy out by hand.
    assert live == {(m.lower(), path) for m, path in MATRIX if path.startswith("/api/live/")}
    for method, path in sorted(live):
        schema = _success_schema(spec["paths"][path][method])
        if schema.get("type") == "array":
            schema = schema["items"]
        assert "$ref" in schema, f"{method.upper()} {path} documents no response model: {schema}"
        model = components[schema["$ref"].rsplit("/", 1)[-1]]
        assert model.get("properties"), f"{method.upper()} {path}: {model}"
        assert not model.get("additionalProperties"), f"{method.upper()} {path} is a bare dict"


def _same_json(
    model: type[BaseModel], raw: dict[str, Any], *, added: dict[str, Any] | None = None
) -> None:
    """``added``: what the route itself sets beside the driver's view (as it is when the
    route has nothing to add), the only keys the model's JSON may have more."""
    typed = model.model_validate(raw).model_dump(mode="json")
    assert json.dumps(typed) == json.dumps({**raw, **(added or {})})


def test_the_models_give_back_the_drivers_json_unchanged() -> None:
    clock = ManualClock(T0)
    center = load_center(SAMPLE)

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        driver = LiveDriver(center=center, clock=clock, honour_hours=False)
        await driver.start()
        await driver.command(lambda now: AgentLoggedIn(at=now, agent_id="a001"))
        contact = await driver.queue_contact(
            "installation", customer="13800000000", attached={"subject": "new fridge"}
        )
        ringing = await driver.agent_view("a001")  # the offer, with its attached data
        clock.advance(3.5)
        await driver.command(lambda now: OfferAnswered(at=now, contact_id=contact, agent_id="a001"))
        await driver.command(lambda now: ContactHeld(at=now, contact_id=contact))
        driver.schedule_callback(
            queue="installation",
            due_at=clock.now() + 3600,
            customer=None,
            requested_by="a001",
            note="",
            for_contact=contact,
        )
        # Callers in every other queue, where nobody is signed in: they wait and age.
        for queue in center.queues:
            if queue.id != "installation":
                await driver.queue_contact(queue.id, customer="13900000001")
        clock.advance(90.0)
        await driver.command(lambda now: ContactEnded(at=now, contact_id=contact))
        desk = await driver.agent_view("a001")  # in wrap-up, a call back promised
        board = await driver.snapshot()
        await driver.stop()
        return ringing, desk, board

    ringing, desk, board = asyncio.run(scenario())
    assert ringing["offer"] is not None and desk["contacts"] and desk["callbacks"]
    assert desk["contacts"][0]["wrap_until"] is not None
    codes = {alert["code"] for alert in board["alerts"]}
    assert {"no_agents", "long_wait"} <= codes  # an integer value and a float one
    installation = next(q for q in board["queues"] if q["id"] == "installation")
    assert installation["today"]["answered"] == 1
    # the desk route adds whether a supervisor is coaching the agent (the voice server's)
    _same_json(AgentDesk, ringing, added={"coached": None})
    _same_json(AgentDesk, desk, added={"coached": None})
    _same_json(WallboardView, board)


def test_a_call_control_on_a_phone_call_says_so_and_an_engine_one_does_not() -> None:
    assert CommandApplied(ok=True, events=["held"]).model_dump(mode="json") == {
        "ok": True,
        "events": ["held"],
    }
    assert CommandApplied(ok=True, events=[], phone=True).model_dump(mode="json") == {
        "ok": True,
        "events": [],
        "phone": True,
    }


class FakePhones:
    """The voice driver's call controls, for one phone call (an in-tree fake, not a mock)."""

    def __init__(self, contact_id: str) -> None:
        self.contact_id = contact_id
        self.held: list[str] = []

    def handles(self, contact_id: str) -> bool:
        return contact_id == self.contact_id

    def hold(self, contact_id: str) -> None:
        self.held.append(contact_id)


def test_through_the_app_a_phone_call_control_answers_phone_true_and_others_no_phone_key(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> None:
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(("a001", ["agent"], "a001"), ("boss", ["supervisor"], None)),
    ) as client:
        agent, boss = auth(client, "a001"), auth(client, "boss")
        base = "/api/live/agents/a001"
        client.post(f"{base}/state", json={"state": "ready"}, headers=agent)
        contacts = []
        for _ in range(2):
            placed = client.post(
                "/api/live/contacts", json={"queue": "installation"}, headers=boss
            ).json()
            assert set(placed) == {"contact_id", "queue"}
            contacts.append(placed["contact_id"])
        first, second = contacts
        client.post(f"{base}/contacts/{first}/answer", headers=agent)
        held = client.post(f"{base}/contacts/{first}/hold", headers=agent)
        assert held.status_code == 200 and held.json() == {"ok": True, "events": ["held"]}
        client.post(f"{base}/contacts/{first}/hangup", headers=agent)
        client.post(
            f"{base}/contacts/{first}/wrap-up",
            json={"disposition": "installation_booked"},
            headers=agent,
        )
        # The second contact is a phone call of the voice server: hold goes to the SIP call.
        client.post(f"{base}/contacts/{second}/answer", headers=agent)
        phones = FakePhones(second)
        client.app.state.voice = SimpleNamespace(parts=object(), center=phones)  # type: ignore[attr-defined]
        on_phone = client.post(f"{base}/contacts/{second}/hold", headers=agent)
        assert on_phone.status_code == 200, on_phone.text
        assert on_phone.json() == {"ok": True, "events": [], "phone": True}
        assert phones.held == [second]
