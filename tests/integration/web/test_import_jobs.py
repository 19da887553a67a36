"""Customer imports run as background jobs: 202 and a job to follow, all rows or none, and
the center keeps signing in and opening tickets while a big file goes in.

Before, ``POST /api/customers/import`` checked and wrote every row inside the request's one
write transaction: a 40,000-row file held SQLite's write lock for minutes, and sign-ins and
ticket creations failed with "database is locked" for the whole run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.crm import service as crm
from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory, session_scope
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.store.models.crm import Customer, CustomerPhone
from hotline.store.models.imports import StagedContactPoint, StagedCustomer
from hotline.store.models.tickets import Ticket
from hotline.web.app import create_app
from tests.integration.web.conftest import PASSWORD, SAMPLE

BIG = 12_000  # rows: a few seconds of checking and staging on a small machine


def _csv(rows: int, *, bad_line: int | None = None) -> str:
    lines = ["name,phones,emails,address,vip_level"]
    for i in range(rows):
        phone = "12345" if bad_line == i + 2 else f"139{i:08d}"
        lines.append(f"客户{i},{phone},c{i}@example.com,上海市{i}号,{i % 3}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def center_app(tmp_path: Path) -> Iterator[tuple[TestClient, sessionmaker[Session]]]:
    """The app on a migrated SQLite file with a supervisor and an agent (real commits)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    upgrade(engine)
    factory = make_session_factory(engine)
    digest = hash_password(PASSWORD)
    with session_scope(factory) as session:
        for name, roles, agent in (("boss", ["supervisor"], None), ("a001", ["agent"], "a001")):
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


def _wait(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(f"/api/customers/imports/{job_id}", headers=headers)
        assert job.status_code == 200, job.text
        if job.json()["state"] in ("done", "failed"):
            return dict(job.json())
        time.sleep(0.05)
    raise AssertionError(f"import job {job_id} did not end within 120 s")


def _count(factory: sessionmaker[Session], model: type[Any]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_bad_row_fails_the_job_and_imports_nothing(
    center_app: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = center_app
    boss = _sign_in(client, "boss")
    body = {"text": _csv(2_000, bad_line=1_500), "file": "customers.csv"}
    started = client.post("/api/customers/import", json=body, headers=boss)
    assert started.status_code == 202, started.text
    job = _wait(client, started.json()["job_id"], boss)
    assert job["state"] == "failed"
    assert job["result"]["imported"] == 0
    problem = job["result"]["problems"][0]
    assert (problem["line"], problem["field"]) == (1_500, "phones")
    assert problem["file"] == "customers.csv"
    assert _count(factory, Customer) == 0
    assert _count(factory, StagedCustomer) == 0


def test_logins_and_tickets_succeed_while_a_big_import_runs(
    center_app: tuple[TestClient, sessionmaker[Session]],
) -> None:
    client, factory = center_app
    boss = _sign_in(client, "boss")
    started = client.post(
        "/api/customers/import", json={"text": _csv(BIG), "file": "big.csv"}, headers=boss
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]

    answers: list[tuple[str, int, float]] = []
    during: list[str] = []  # what the job was doing when each ticket was created
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
            state = client.get(f"/api/customers/imports/{job_id}", headers=boss).json()["state"]
            during.append(state)

    worker = threading.Thread(target=desk)
    worker.start()
    try:
        job = _wait(client, job_id, boss)
    finally:
        done.set()
        worker.join(timeout=60)

    assert job["state"] == "done", job
    assert job["result"]["imported"] == BIG
    assert job["rows_done"] == job["rows_total"] == BIG
    assert [a for a in answers if a[1] not in (200, 201)] == []
    # The desk really worked while the import was checking and staging, not only after it.
    assert {"checking", "staging"} & set(during), during
    slowest = max(seconds for _, _, seconds in answers)
    assert slowest < 10, f"a sign-in or ticket took {slowest:.1f} s during the import"
    assert _count(factory, Ticket) == len([a for a in answers if a[0] == "ticket"])
    assert _count(factory, Customer) == BIG
    assert _count(factory, StagedCustomer) == _count(factory, StagedContactPoint) == 0
    first, last = job["result"]["first_id"], job["result"]["last_id"]
    assert last - first + 1 == BIG
    pop = client.get("/api/customers/pop", params={"number": f"139{BIG - 1:08d}"}, headers=boss)
    assert [c["id"] for c in pop.json()["customers"]] == [last]


def test_the_swap_keeps_ids_consecutive_and_later_customers_after_them(
    db_session: Session, db_engine: Engine
) -> None:
    """On both databases: the swap's ids, its rows, and the id sequence moved past them."""
    before = crm.create_customer(db_session, name="早到的", phones=["13900000001"])
    checked = crm.check_customers_csv(text=_csv(30).replace("139", "138"), file="c.csv")
    crm.stage_customers(db_session, job_id="j1", customers=checked[:20], first_seq=1)
    crm.stage_customers(db_session, job_id="j1", customers=checked[20:], first_seq=21)
    ids = crm.publish_staged_customers(db_session, job_id="j1", file="c.csv", actor="boss")
    assert len(ids) == 30 and ids[0] > before.id
    phones = db_session.scalars(
        select(CustomerPhone.e164).where(CustomerPhone.customer_id == ids[-1])
    ).all()
    assert phones == ["+8613800000029"]
    assert db_session.get(Customer, ids[0]).name == "客户0"  # type: ignore[union-attr]
    # Imported customers are found by pinyin like any other.
    assert db_session.get(Customer, ids[0]).name_pinyin == "kehu0"  # type: ignore[union-attr]
    after = crm.create_customer(db_session, name="晚到的", phones=["13900000002"])
    assert after.id > ids[-1]
    staged = db_session.scalar(select(func.count()).select_from(StagedCustomer))
    assert staged == 0
