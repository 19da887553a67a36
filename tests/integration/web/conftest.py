"""An app on the test database, with one signed-in user per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.passwords import hash_password
from hotline.identity.roles import ALL_ROLES
from hotline.store.models.core import User
from hotline.web.app import create_app

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"
PASSWORD = "correct-horse-9"


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def app_client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    """A client for an app whose database has one user per role (named after the role).

    The agent and the team lead are both linked to agent a001, who leads team t-install.
    """
    # Argon2 is slow on purpose; hash the shared test password once, not once per user.
    for role in ALL_ROLES:
        db_session.add(
            User(
                username=role,
                display_name=role,
                password_hash=_password_hash(),
                roles=[role],
                # The team lead is the sample center's lead of t-install (agent a001).
                agent_id="a001" if role in ("agent", "team_lead") else None,
                language="zh-CN",
                active=True,
            )
        )
    db_session.commit()
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=session_factory, center=with_staff(SAMPLE))
    with TestClient(app) as client:
        yield client


def with_staff(path: Path) -> CenterConfig:
    """The center of ``path`` with the user ``provider`` on its first provider's staff."""
    center = load_center(path)
    first, *rest = center.service_providers
    staffed = first.model_copy(update={"staff": [*first.staff, "provider"]})
    return center.model_copy(update={"service_providers": [staffed, *rest]})


@pytest.fixture
def token_for(app_client: TestClient) -> Callable[[str], str]:
    """Sign in as the user named after ``role`` and return its bearer token."""
    cache: dict[str, str] = {}

    def sign_in(role: str) -> str:
        if role not in cache:
            response = app_client.post(
                "/api/auth/login", json={"username": role, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            cache[role] = response.json()["token"]
        return cache[role]

    return sign_in


def finished_contact_import(client: TestClient, started: Any, headers: dict[str, str]) -> Any:
    """The job of a ``POST /api/reports/contacts`` answer (202), once its worker ended it.

    Waits on the app's one job worker (a no-op queued behind the job) rather than polling, so
    no request shares the test's one database connection with the job while it runs.
    """
    assert started.status_code == 202, started.text
    client.app.state.job_worker.submit(lambda: None).result(timeout=120)  # type: ignore[attr-defined]
    job = client.get(f"/api/reports/imports/{started.json()['job_id']}", headers=headers)
    assert job.status_code == 200, job.text
    return job.json()
