"""Contact-record imports run as background jobs: 202 and a job to follow, the center keeps
signing in and opening tickets meanwhile, and replace is all or nothing.

Before, ``POST /api/reports/contacts`` stored every record in the request's one write
transaction (a bank month is ~40,000 records per file) and answered 201 only when done,
holding SQLite's write lock, and so every sign-in and ticket, for the whole insert.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory, session_scope
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.store.models.imports import StagedContactRecord
from hotline.store.models.metrics import ContactRecordRow
from hotline.store.models.tickets import Ticket
from hotline.web.app import create_app
from tests.integration.web.conftest import PASSWORD, SAMPLE

BIG = 20_000  # records: half a bank month, ten staging chunks
HEADER = "contact_id,queue,arrived_at,queued_at,answered_at,abandoned_at,agent,talk_s,outcome\n"


def _csv(rows: int, *, prefix: str = "c") -> bytes:
    lines = [HEADER]
    for i in range(rows):
        minute = f"2026-03-02T{8 + (i // 3600) % 10:02d}:{(i // 60) % 60:02d}:{i % 60:02d}"
        lines.append(f"{prefix}{i},vip,{minute},{minute},,{minute},,,abandoned\n")
    return "".join(lines).encode()


@pytest.fixture
def center_app(tmp_path: Path) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    """The app on a migrated SQLite file with a planner (wfm) and an agent (real commits)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    digest = hash_password(PASSWORD)
    with session_scope(factory) as session:
        for name, roles, agent in (("planner", ["wfm"], None), ("a001", ["agent"], "a001")):
            session.add(
                User(
                    username=name,
                    display_name=name,
                    password_hash=digest,
                    roles=roles,
                    agent_id=agent,
                    language="en",
                    active=True,
                )
            )
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=factory, center=load_center(SAMPLE))
    with TestClient(app) as client:
        yield client, factory
    engine.dispose()


def _sign_in(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _start(
    client: TestClient, headers: dict[str, str], body: bytes, source: str, **form: str
) -> Any:
    return client.post(
        "/api/reports/contacts",
        headers=headers,
        files={"file": (f"{source}.csv", body, "text/csv")},
        data={"source": source, **form},
    )


def _wait(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/api/reports/imports/{job_id}", headers=headers)
        assert job.status_code == 200, job.text
        if job.json()["state"] in ("done", "failed"):
            return dict(job.json())
        time.sleep(0.02)
    raise AssertionError(f"import job {job_id} did not end within 120 s")


def _records(factory: sessionmaker[Session], source: str) -> list[str]:
    with factory() as session:
        return sorted(
            session.scalars(
                select(ContactRecordRow.contact_id).where(ContactRecordRow.source == source)
            )
        )


def _count(factory: sessionmaker[Session], model: type[Any]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_sign_ins_and_tickets_go_on_while_a_big_contact_import_runs(
    center_app: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = center_app
    planner = _sign_in(client, "planner")
    body = _csv(BIG)
    answers: list[tuple[str, int, float]] = []
    during: list[str] = []  # what the job was doing when each ticket had been created
    job_ids: list[str] = []
    done = threading.Event()

    def desk() -> None:
        while not done.is_set():
            t0 = time.monotonic()
            headers = _sign_in(client, "a001")
            answers.append(("login", 200, time.monotonic() - t0))
            t0 = time.monotonic()
            ticket = client.post(
                "/api/tickets",
                json={"type": "inquiry", "subject": "during import", "queue": "installation"},
                headers=headers,
            )
            answers.append(("ticket", ticket.status_code, time.monotonic() - t0))
            if job_ids:
                job = client.get(f"/api/reports/imports/{job_ids[0]}", headers=planner)
                during.append(job.json()["state"])

    worker = threading.Thread(target=desk)
    worker.start()
    try:
        started = _start(client, planner, body, "march")
        assert started.status_code == 202, started.text
        assert started.json()["kind"] == "contacts"
        assert started.json()["result"]["rows_read"] == BIG
        job_ids.append(started.json()["job_id"])
        job = _wait(client, job_ids[0], planner)
        while len(during) < 2 and worker.is_alive():  # a last round after the job ended
            time.sleep(0.05)
    finally:
        done.set()
        worker.join(timeout=60)

    assert job["state"] == "done", job
    assert job["rows_done"] == job["rows_total"] == BIG
    result = job["result"]
    assert (result["stored"], result["rows_read"], result["encoding"]) == (BIG, BIG, "utf-8")
    assert result["skipped_lines"] == [] and result["source"] == "march"
    assert [a for a in answers if a[1] not in (200, 201)] == []
    # The desk really worked while the job ran, not only after it.
    assert {"queued", "staging", "publishing"} & set(during), during
    slowest = max(seconds for _, _, seconds in answers)
    assert slowest < 5, f"a sign-in or ticket took {slowest:.1f} s during the import"
    assert _count(factory, Ticket) == len([a for a in answers if a[0] == "ticket"])
    assert len(_records(factory, "march")) == BIG
    assert _count(factory, StagedContactRecord) == 0


def test_replace_swaps_a_source_whole_and_a_clash_stores_nothing(
    center_app: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = center_app
    planner = _sign_in(client, "planner")
    first = _wait(client, _start(client, planner, _csv(5), "month").json()["job_id"], planner)
    assert first["state"] == "done"

    again = _start(client, planner, _csv(3, prefix="n"), "month")
    assert again.status_code == 409
    assert "already holds 5 contact records" in again.json()["message"]

    replaced = _start(client, planner, _csv(3, prefix="n"), "month", replace="true")
    assert replaced.status_code == 202, replaced.text
    job = _wait(client, replaced.json()["job_id"], planner)
    assert (job["state"], job["result"]["stored"]) == ("done", 3)
    assert _records(factory, "month") == ["n0", "n1", "n2"]

    # A bad file never becomes a job and leaves the source as it was.
    bad = _csv(4, prefix="b") + b"b9,vip,not-a-time,,,,,,abandoned\n"
    refused = _start(client, planner, bad, "month", replace="true")
    assert refused.status_code == 422
    assert any(p["line"] == 6 for p in refused.json()["problems"])
    assert _records(factory, "month") == ["n0", "n1", "n2"]
    assert _count(factory, StagedContactRecord) == 0


def test_only_importers_follow_a_job_and_an_unknown_one_is_404(
    center_app: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, _ = center_app
    planner = _sign_in(client, "planner")
    job_id = _start(client, planner, _csv(2), "small").json()["job_id"]
    assert _wait(client, job_id, planner)["state"] == "done"
    agent = _sign_in(client, "a001")
    assert client.get(f"/api/reports/imports/{job_id}", headers=agent).status_code == 403
    missing = client.get("/api/reports/imports/0123456789abcdef", headers=planner)
    assert missing.status_code == 404 and "does not exist" in missing.json()["message"]
