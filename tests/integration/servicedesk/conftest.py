"""An app on the test database with one signed-in user per role, for the service-desk API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

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
def desk_client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    """A client whose database has one user per role; the agent is a001 (install/repair/chat)."""
    for role in ALL_ROLES:
        db_session.add(
            User(
                username=role,
                display_name=role,
                password_hash=_password_hash(),
                roles=[role],
                agent_id="a001" if role == "agent" else None,
                language="zh-CN",
                active=True,
            )
        )
    db_session.commit()
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=session_factory, center=load_center(SAMPLE))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def auth(desk_client: TestClient) -> Callable[[str], dict[str, str]]:
    """Authorization headers for the user named after ``role``."""
    tokens: dict[str, str] = {}

    def headers(role: str) -> dict[str, str]:
        if role not in tokens:
            response = desk_client.post(
                "/api/auth/login", json={"username": role, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            tokens[role] = response.json()["token"]
        return {"authorization": f"Bearer {tokens[role]}"}

    return headers
