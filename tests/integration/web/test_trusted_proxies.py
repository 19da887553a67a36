"""Behind a reverse proxy: whose ``X-Forwarded-For`` is believed, for throttling and audit.

Before, the sign-in throttle counted every client behind a proxy as the proxy's one address
(twenty wrong passwords from one person locked everyone out), and the audit log recorded the
proxy. Now the proxies the deployment lists name the client; anyone else's header is ignored,
so a client cannot dodge the per-address limit by inventing addresses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.store.models.core import AuditEntry
from hotline.store.models.identity import AuthSession
from hotline.web.app import create_app
from tests.integration.web.conftest import PASSWORD, SAMPLE

PROXY = ("10.0.0.5", 40000)


def _client(factory: sessionmaker[Session], home: Path, peer: tuple[str, int]) -> TestClient:
    settings = Settings(home=home, secret_key="test-secret", trusted_proxies=("10.0.0.0/24",))
    app = create_app(settings=settings, session_factory=factory, center=load_center(SAMPLE))
    return TestClient(app, client=peer)


def _login(client: TestClient, username: str, password: str, forwarded_for: str) -> int:
    response = client.post(
        "/api/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def _addresses(session: Session, action: str) -> list[Any]:
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == action))
    return [entry.detail.get("address") for entry in entries]


def test_behind_a_trusted_proxy_each_client_has_its_own_address(
    app_client: TestClient, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with _client(session_factory, tmp_path, PROXY) as client:
        # One client behind the proxy sprays names until its address is locked out...
        codes = [_login(client, f"nobody{n}", "wrong-guess-1", "203.0.113.1") for n in range(20)]
        assert codes == [401] * 20
        assert _login(client, "qa", PASSWORD, "203.0.113.1") == 429
        # ...another client behind the same proxy is not (a spoofed first hop changes nothing).
        assert _login(client, "qa", PASSWORD, "198.51.100.66, 203.0.113.2") == 200
    with session_factory() as session:
        assert set(_addresses(session, "auth.failed")) == {"203.0.113.1"}
        assert _addresses(session, "auth.throttled") == ["203.0.113.1"]
        assert _addresses(session, "auth.login") == ["203.0.113.2"]
        assert session.scalars(select(AuthSession.address)).all() == ["203.0.113.2"]


def test_the_header_from_anyone_else_is_ignored(
    app_client: TestClient, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with _client(session_factory, tmp_path, ("198.51.100.7", 40000)) as client:
        # A made-up address per attempt does not escape the per-address limit.
        codes = [_login(client, f"nobody{n}", "wrong-guess-1", f"203.0.113.{n}") for n in range(20)]
        assert codes == [401] * 20
        assert _login(client, "qa", PASSWORD, "192.0.2.200") == 429
    with session_factory() as session:
        assert set(_addresses(session, "auth.failed")) == {"198.51.100.7"}


def test_an_invalid_trusted_proxy_is_refused_naming_it() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"trusted proxy 'proxy\.local' is not an IP"):
        Settings(trusted_proxies=("10.0.0.1", "proxy.local"))
    with pytest.raises(ValueError, match=r"trusted proxy '10\.0\.0\.0/33'"):
        Settings().with_trusted_proxies(["10.0.0.0/33"])
    assert Settings().with_trusted_proxies(["10.0.0.7/24", "::1"]).trusted_proxies == (
        "10.0.0.0/24",
        "::1/128",
    )
