"""What protects a signed-in browser: the Origin check (CSRF), security headers, Secure
cookies, and API docs only for signed-in users."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.web.app import create_app
from tests.integration.web.conftest import PASSWORD, SAMPLE

TokenFor = Callable[[str], str]
OWN = "http://testserver"
OTHER_PORT = "http://testserver:8081"  # another program on the same host: same site


def _portal(client: TestClient) -> BlockingPortal:
    """The portal onto the app's event loop (open while the client's context is)."""
    assert client.portal is not None
    return client.portal


def _sign_in_cookie(client: TestClient, username: str) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    assert "hotline_session" in client.cookies


def _socket_refused(client: TestClient, url: str, headers: dict[str, str]) -> bool:
    try:
        with client.websocket_connect(url, headers=headers):
            pass
    except WebSocketDisconnect as closed:
        return closed.code == 4403
    return False


# --- CSRF ---------------------------------------------------------------------------------


def test_cookie_signed_changes_need_this_servers_origin(app_client: TestClient) -> None:
    _sign_in_cookie(app_client, "admin")
    change: dict[str, Any] = {"json": {"active": False}}
    for headers in ({}, {"origin": OTHER_PORT}, {"origin": "null"}, {"referer": OTHER_PORT}):
        refused = app_client.patch("/api/users/qa", headers=headers, **change)
        assert refused.status_code == 403, headers
        assert refused.json()["error"] == "forbidden"
    # A body-less POST (logout here; merge, undo and retire alike) is checked too.
    assert app_client.post("/api/auth/logout", headers={"origin": OTHER_PORT}).status_code == 403
    assert app_client.get("/api/me").status_code == 200  # reads are not changes
    own = app_client.patch("/api/users/qa", headers={"origin": OWN}, **change)
    assert own.status_code == 200, own.text
    by_referer = app_client.patch(
        "/api/users/qa", headers={"referer": f"{OWN}/admin"}, json={"active": True}
    )
    assert by_referer.status_code == 200


def test_bearer_clients_are_not_affected(app_client: TestClient, token_for: TokenFor) -> None:
    token = token_for("admin")
    response = app_client.patch(
        "/api/users/qa",
        json={"active": False},
        headers={"authorization": f"Bearer {token}", "origin": OTHER_PORT},
    )
    assert response.status_code == 200


def test_a_foreign_page_cannot_sign_a_browser_in(app_client: TestClient) -> None:
    credentials = {"username": "qa", "password": PASSWORD}
    foreign = app_client.post("/api/auth/login", json=credentials, headers={"origin": OTHER_PORT})
    assert foreign.status_code == 403
    assert app_client.post("/api/auth/login", json=credentials, headers={"origin": OWN}).is_success


def test_websocket_handshakes_from_another_origin_are_refused(app_client: TestClient) -> None:
    _sign_in_cookie(app_client, "supervisor")
    assert _socket_refused(app_client, "/api/events/ws", {"origin": OTHER_PORT})
    assert _socket_refused(app_client, "/api/events/ws", {})  # cookie, no Origin: not a browser
    hub = cast(FastAPI, app_client.app).state.hub
    with app_client.websocket_connect("/api/events/ws", headers={"origin": OWN}) as socket:
        _portal(app_client).call(hub.publish, {"kind": "queued", "queue": "repair"})
        assert socket.receive_json() == {"kind": "queued", "queue": "repair"}


@pytest.fixture
def proxied_client(
    session_factory: sessionmaker[Session], app_client: TestClient, tmp_path: Path
) -> Iterator[TestClient]:
    """The app behind a TLS proxy: its public origin is allowed, cookies are Secure."""
    settings = Settings(
        home=tmp_path,
        secret_key="test-secret",
        secure_cookies=True,
        allowed_origins=("https://hotline.example.com",),
    )
    app = create_app(settings=settings, session_factory=session_factory, center=load_center(SAMPLE))
    with TestClient(app) as client:
        yield client


def test_configured_origins_and_secure_cookies(proxied_client: TestClient) -> None:
    login = proxied_client.post(
        "/api/auth/login",
        json={"username": "admin", "password": PASSWORD},
        headers={"origin": "https://hotline.example.com"},
    )
    assert login.status_code == 200
    cookie = login.headers["set-cookie"]
    assert "hotline_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert login.headers["strict-transport-security"].startswith("max-age=")
    assert "Secure" in proxied_client.get("/login?lang=en").headers["set-cookie"]


# --- headers ------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers(
    app_client: TestClient, token_for: TokenFor
) -> None:
    responses = [
        app_client.get("/login"),
        app_client.get("/health"),
        app_client.get("/static/hotline.css"),
        app_client.get("/api/me"),  # an error response too
        app_client.get("/api/me", headers={"authorization": f"Bearer {token_for('qa')}"}),
    ]
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers  # plain HTTP by default


@pytest.mark.parametrize(
    ("page", "role"),
    [
        ("/login", None),
        ("/console", "admin"),
        ("/wallboard", "supervisor"),
        ("/reports", "supervisor"),
        ("/admin", "admin"),
        ("/desk", "agent"),
        ("/knowledge", "agent"),
        ("/knowledge/manage", "agent"),
    ],
)
def test_pages_have_no_inline_script_or_style(
    app_client: TestClient, page: str, role: str | None
) -> None:
    """The CSP forbids inline code, so no page may depend on it."""
    if role:
        _sign_in_cookie(app_client, role)
    html = app_client.get(page).text
    assert html.startswith("<!doctype html>"), html[:200]
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert not re.search(r"\sstyle=|<style|\son[a-z]+=", html)


# --- API docs -----------------------------------------------------------------------------


def test_api_docs_are_for_signed_in_users(app_client: TestClient, token_for: TokenFor) -> None:
    assert app_client.get("/openapi.json").status_code == 401
    docs = app_client.get("/docs", headers={"accept": "text/html"}, follow_redirects=False)
    assert docs.status_code == 303 and docs.headers["location"] == "/login"
    assert app_client.get("/redoc", follow_redirects=False).status_code == 401
    signed_in = {"authorization": f"Bearer {token_for('agent')}"}
    schema = app_client.get("/openapi.json", headers=signed_in)
    assert schema.status_code == 200 and "/api/auth/login" in schema.json()["paths"]
    page = app_client.get("/docs", headers=signed_in)
    assert page.status_code == 200 and "/openapi.json" in page.text
    # The viewer's own inline boot script is allowed by its hash, nothing inline beyond it.
    assert "'sha256-" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"].split("style-src")[0]
