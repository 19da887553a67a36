"""The /api/wfm routes: roles, staffing, forecast from stored history, schedule, adherence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import EventKind
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.metrics import service as metrics_service
from hotline.metrics.records import ContactRecord
from hotline.store.models.core import User
from hotline.web.app import create_app

PASSWORD = "correct-horse-9"
ROLES = ("wfm", "agent", "supervisor")


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    hashed = hash_password(PASSWORD)
    for role in ROLES:
        db_session.add(
            User(
                username=role,
                display_name=role,
                password_hash=hashed,
                roles=[role],
                agent_id=None,
                language="en",
                active=True,
            )
        )
    db_session.commit()
    app = create_app(
        settings=Settings(home=tmp_path, secret_key="test-secret"), session_factory=session_factory
    )
    with TestClient(app) as test_client:
        yield test_client


def headers(client: TestClient, role: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": role, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_erlang_route_and_roles(client: TestClient) -> None:
    body = {"calls": 1000, "aht_s": 180, "interval_s": 1800, "target": "80/20", "shrinkage": 0.3}
    response = client.post("/api/wfm/erlang", json=body, headers=headers(client, "wfm"))
    assert response.status_code == 200, response.text
    assert response.json()["agents"] == 107
    assert response.json()["scheduled_heads"] == 153
    assert (
        client.post("/api/wfm/erlang", json=body, headers=headers(client, "agent")).status_code
        == 403
    )
    client.cookies.clear()  # signing in leaves a session cookie behind
    assert client.post("/api/wfm/erlang", json=body).status_code == 401
    bad = client.post(
        "/api/wfm/erlang", json={**body, "target": "eighty"}, headers=headers(client, "wfm")
    )
    assert bad.status_code == 422


def test_forecast_from_stored_contacts(client: TestClient, db_session: Session) -> None:
    rng = np.random.default_rng(3)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    records = []
    for day in range(28):
        for hour in range(9, 17):
            for k in range(int(rng.poisson(6))):
                t = (start + timedelta(days=day, hours=hour, minutes=k)).timestamp()
                records.append(
                    ContactRecord(
                        contact_id=f"c{day}-{hour}-{k}",
                        arrived_at=t,
                        queued_at=t,
                        answered_at=t + 5,
                        agent="a1",
                        talk_s=150.0,
                        outcome="answered",
                    )
                )
    metrics_service.import_records(session=db_session, records=records, source="wfm-test")
    db_session.commit()
    response = client.post(
        "/api/wfm/forecast",
        params={"interval": 3600, "horizon_days": 7, "timezone": "UTC", "source": "wfm-test"},
        headers=headers(client, "supervisor"),
    )
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert len(rows) == 7 * 24
    noon = next(r for r in rows if r["interval_start"].startswith("2026-02-02T12:00"))
    assert 3 < noon["offered"] < 9
    assert noon["aht_s"] == pytest.approx(150.0, rel=0.05)


def test_schedule_route(client: TestClient) -> None:
    need = [0.0] * 24
    need[8:16] = [2.0] * 8
    body = {
        "first_day": "2026-03-02",
        "interval_s": 3600,
        "requirements": {"default": [need]},
        "agents": [{"agent_id": "a1"}, {"agent_id": "a2"}, {"agent_id": "a3"}],
        "templates": [{"name": "day", "start": 8, "length": 8}],
        "min_days_off": 0,
        "time_limit_s": 5,
    }
    response = client.post("/api/wfm/schedule", json=body, headers=headers(client, "wfm"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "OPTIMAL"
    assert len(result["shifts"]) == 2
    assert result["under_staffed_intervals"] == 0
    assert result["coverage"]["default"]["scheduled"][0][8:16] == [2.0] * 8
    too_long = client.post(
        "/api/wfm/schedule", json={**body, "time_limit_s": 3600}, headers=headers(client, "wfm")
    )
    assert too_long.status_code == 422


def test_adherence_from_the_stored_event_log(client: TestClient, db_session: Session) -> None:
    from hotline.core.events import Event
    from hotline.store.models.core import ContactEventRow

    base = datetime(2026, 3, 2, 8, tzinfo=UTC).timestamp()
    events = [
        Event(1, base + 600, EventKind.AGENT_STATE, agent_id="a1", data={"state": "available"}),
        Event(
            2, base + 4 * 3600, EventKind.AGENT_STATE, agent_id="a1", data={"state": "logged_out"}
        ),
    ]
    for event in events:
        db_session.add(
            ContactEventRow(
                source="live",
                seq=event.seq,
                at=event.at,
                kind=event.kind.value,
                agent_id=event.agent_id,
                data=dict(event.data),
            )
        )
    db_session.commit()
    body = {
        "schedule": [{"agent_id": "a1", "start": base, "end": base + 4 * 3600}],
        "window_start": base - 3600,
        "window_end": base + 5 * 3600,
        "teams": {"a1": "north"},
        "source": "live",
    }
    response = client.post("/api/wfm/adherence", json=body, headers=headers(client, "wfm"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["agents"][0]["adherence"] == pytest.approx(230 / 240, abs=1e-4)
    assert result["teams"][0]["name"] == "north"
    assert result["exceptions"][0]["minutes"] == 10.0


def test_intraday_route(client: TestClient) -> None:
    body = {
        "forecast_offered": [100, 100, 100, 100],
        "forecast_aht_s": [180] * 4,
        "scheduled_agents": [12] * 4,
        "actual_offered": [130, 130],
        "actual_answered": [130, 130],
        "actual_handle_s": [130 * 180] * 2,
    }
    response = client.post("/api/wfm/intraday", json=body, headers=headers(client, "supervisor"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["volume_ratio"] > 1.2
    assert result["intervals"][3]["gap"] < 0
