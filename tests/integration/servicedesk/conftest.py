"""An app on the test database with one signed-in user per role, for the service-desk API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.identity.roles import ALL_ROLES
from hotline.identity.sessions import start_session
from hotline.identity.tokens import TokenClaims, issue_token
from hotline.store.models.core import User
from hotline.web.app import create_app

SAMPLE = Path(__file__).resolve().parents[3] / "src/hotline/config/samples/appliance_center.yaml"


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
                password_hash="not-used-tokens-are-issued-directly",
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
    """Authorization headers for the user named after ``role``.

    Sign-in itself is tested in ``tests/integration/web``; here tokens are issued directly,
    skipping Argon2's deliberately slow password check on every test.
    """
    secret: bytes = desk_client.app.state.secret  # type: ignore[attr-defined]

    factory = desk_client.app.state.session_factory  # type: ignore[attr-defined]
    issued: dict[str, dict[str, str]] = {}

    def headers(role: str) -> dict[str, str]:
        if role not in issued:
            now = time.time()
            with factory() as session:  # a server-side session, as signing in opens one
                opened = start_session(session, username=role, now=now, ttl_s=3600)
                session.commit()
            claims = TokenClaims(
                username=role, roles=(role,), expires_at=now + 3600, session_id=opened.id
            )
            issued[role] = {"authorization": f"Bearer {issue_token(claims, secret=secret)}"}
        return issued[role]

    return headers
