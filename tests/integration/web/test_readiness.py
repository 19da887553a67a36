"""``/ready`` says ready only when serving works: writes commit, disk has room, routing runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.live.driver import LiveDriver, attach
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.web.app import create_app

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


def _app(factory: sessionmaker[Session], home: Path) -> TestClient:
    settings = Settings(home=home, secret_key="test-secret")
    return TestClient(create_app(settings=settings, session_factory=factory))


def test_ready_when_the_database_takes_writes(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with _app(session_factory, tmp_path) as client:
        answer = client.get("/ready")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ready"}


def test_not_ready_when_the_database_refuses_writes(tmp_path: Path) -> None:
    # Reads work and the schema is there — the old check ran SELECT 1 and said "ready" — but
    # every login, ticket and event-log write fails (as on a full disk or a read-only mount).
    path = tmp_path / "hotline.db"
    writable = make_engine(f"sqlite:///{path}")
    upgrade(writable)
    writable.dispose()
    read_only = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with _app(make_session_factory(read_only), tmp_path) as client:
            answer = client.get("/ready")
    finally:
        read_only.dispose()
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready"
    assert "readonly" in body["checks"]["database"]
    assert body["reason"].startswith("database: the database refuses writes")


def test_not_ready_when_the_disk_is_nearly_full(
    session_factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bound above any disk's free space stands for a full disk.
    monkeypatch.setenv("HOTLINE_MIN_FREE_DISK_MB", str(10**12))
    with _app(session_factory, tmp_path) as client:
        answer = client.get("/ready")
    assert answer.status_code == 503
    assert "MB free" in answer.json()["checks"]["disk"]


async def _kill_engine_task(driver: LiveDriver) -> None:
    """The engine task dies (a bug, a cancelled loop) while the web server goes on."""
    engine_task = driver._tasks[0]
    engine_task.cancel()
    await asyncio.gather(engine_task, return_exceptions=True)


def test_not_ready_while_the_routing_engine_is_not_running(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    center = load_center(SAMPLE)
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=session_factory, center=center)
    driver = LiveDriver(center=center, honour_hours=False, flush_every_s=3600)
    attach(app, driver)
    with TestClient(app) as client:
        assert client.get("/ready").status_code == 200
        assert client.portal is not None
        client.portal.call(_kill_engine_task, driver)  # on the app's loop, as a crash is
        answer = client.get("/ready")
        assert answer.status_code == 503
        assert answer.json()["checks"] == {"routing": "the live routing engine is not running"}
