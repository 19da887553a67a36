"""The API: sign-in, structured errors, roles on every route, audit, health and live events."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import cast

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, WebSocketRoute

from hotline.identity.roles import ALL_ROLES
from hotline.web.app import iter_routes
from hotline.web.auth import PUBLIC_PATHS, RoleGuard

TokenFor = Callable[[str], str]


def _guard(route: APIRoute) -> RoleGuard | None:
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, RoleGuard):
            return dependency.call
    return None


def test_health_and_readiness(app_client: TestClient) -> None:
    assert app_client.get("/health").json()["status"] == "ok"
    assert app_client.get("/ready").json() == {"status": "ready"}


def test_wrong_password_is_401_and_audited(app_client: TestClient, token_for: TokenFor) -> None:
    response = app_client.post(
        "/api/auth/login", json={"username": "admin", "password": "nope-nope"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    audit = app_client.get(
        "/api/audit", headers={"authorization": f"Bearer {token_for('admin')}"}
    ).json()
    assert any(e["action"] == "auth.failed" and e["actor"] == "admin" for e in audit)


def test_missing_or_forged_token_is_401(app_client: TestClient, token_for: TokenFor) -> None:
    assert app_client.get("/api/me").status_code == 401
    forged = token_for("agent")[:-3] + "AAA"
    assert (
        app_client.get("/api/me", headers={"authorization": f"Bearer {forged}"}).status_code == 401
    )


def test_bad_input_gets_field_and_problem(app_client: TestClient, token_for: TokenFor) -> None:
    response = app_client.post(
        "/api/users",
        json={"username": "x", "roles": ["agent"]},
        headers={"authorization": f"Bearer {token_for('admin')}"},
    )
    assert response.status_code == 422
    problems = {p["field"]: p["problem"] for p in response.json()["problems"]}
    assert "body.username" in problems and "at least 2" in problems["body.username"]
    assert "body.password" in problems


def test_every_route_declares_roles() -> None:
    from hotline.core.settings import Settings
    from hotline.web.app import create_app

    app = create_app(settings=Settings(secret_key="x", database_url="sqlite://"))
    routes = iter_routes(app.routes)
    undeclared = []
    for path, route in routes:
        if isinstance(route, APIRoute) and path not in PUBLIC_PATHS and _guard(route) is None:
            undeclared.append(path)
        if isinstance(route, Mount):
            assert path == "/static", f"unexpected mount {path}"
    assert undeclared == []
    assert len([r for _, r in routes if isinstance(r, APIRoute)]) >= 10
    # WebSocket routes check the token themselves (browsers cannot send headers on them).
    assert "/api/events/ws" in {p for p, r in routes if isinstance(r, WebSocketRoute)}


def test_unauthorised_roles_get_403_and_no_data(
    app_client: TestClient, token_for: TokenFor
) -> None:
    checked = 0
    for full_path, route in iter_routes(cast(FastAPI, app_client.app).routes):
        if not isinstance(route, APIRoute) or full_path in PUBLIC_PATHS:
            continue
        guard = _guard(route)
        assert guard is not None
        outsiders = [r for r in ALL_ROLES if r != "admin" and r not in guard.roles]
        path = re.sub(r"\{[^}]+\}", "1", full_path)
        for role in outsiders:
            for method in route.methods or ():
                response = app_client.request(
                    method, path, headers={"authorization": f"Bearer {token_for(role)}"}, json={}
                )
                assert response.status_code == 403, (method, path, role, response.text)
                body = response.json()
                assert set(body) == {"error", "message"} and body["error"] == "forbidden"
                checked += 1
    assert checked > 0


def test_admin_creates_user_and_it_is_audited(app_client: TestClient, token_for: TokenFor) -> None:
    headers = {"authorization": f"Bearer {token_for('admin')}"}
    response = app_client.post(
        "/api/users",
        json={
            "username": "li.na",
            "password": "long-enough-1",
            "roles": ["agent"],
            "agent_id": "a007",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert "password" not in response.text
    assert (
        app_client.post(
            "/api/users",
            json={"username": "li.na", "password": "long-enough-1", "roles": ["agent"]},
            headers=headers,
        ).status_code
        == 409
    )
    entries = app_client.get("/api/audit", headers=headers).json()
    created = [e for e in entries if e["action"] == "user.create" and e["target"] == "li.na"]
    assert created and created[0]["actor"] == "admin"
    login = app_client.post(
        "/api/auth/login", json={"username": "li.na", "password": "long-enough-1"}
    )
    assert login.json()["roles"] == ["agent"]


def test_unknown_role_is_a_located_error(app_client: TestClient, token_for: TokenFor) -> None:
    response = app_client.post(
        "/api/users",
        json={"username": "wang", "password": "long-enough-1", "roles": ["boss"]},
        headers={"authorization": f"Bearer {token_for('admin')}"},
    )
    assert response.status_code == 422
    assert response.json()["problems"] == [{"field": "roles", "problem": "unknown role 'boss'"}]


def test_config_validation_endpoint_reports_lines(
    app_client: TestClient, token_for: TokenFor
) -> None:
    text = (
        "center:\n  name: X\nskills:\n  - {id: repair}\nqueues:\n  - id: q\n"
        "    requirements: ['repiar >= 2']\n    target: {service_level: 0.8, threshold_s: 20}\n"
    )
    response = app_client.post(
        "/api/config/validate",
        json={"text": text},
        headers={"authorization": f"Bearer {token_for('supervisor')}"},
    )
    body = response.json()
    assert body["ok"] is False
    assert body["errors"][0]["line"] == 7
    assert "unknown skill 'repiar'" in body["errors"][0]["problem"]


def test_pages_redirect_to_login_and_render_after(
    app_client: TestClient, token_for: TokenFor
) -> None:
    response = app_client.get("/console", headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    app_client.cookies.set("hotline_session", token_for("supervisor"))
    page = app_client.get("/console?lang=en")
    assert page.status_code == 200
    assert "Welcome, supervisor" in page.text and "Appliance Service Hotline" in page.text
    assert "欢迎, supervisor" in app_client.get("/console?lang=zh-CN").text
    app_client.cookies.clear()


def test_websocket_receives_published_events(app_client: TestClient, token_for: TokenFor) -> None:
    hub = cast(FastAPI, app_client.app).state.hub
    supervisor = {"authorization": f"Bearer {token_for('supervisor')}"}
    with app_client.websocket_connect("/api/events/ws", headers=supervisor) as socket:
        portal = app_client.portal
        assert portal is not None
        portal.call(hub.publish, {"kind": "queued", "queue": "repair"})
        assert socket.receive_json() == {"kind": "queued", "queue": "repair"}


def test_websocket_refuses_unsigned_callers(app_client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    try:
        with app_client.websocket_connect("/api/events/ws") as socket:
            socket.receive_json()
    except WebSocketDisconnect as closed:
        assert closed.code == 4403
    else:
        raise AssertionError("an unsigned WebSocket must be closed")


def test_server_sent_events_stream_published_events(
    app_client: TestClient, token_for: TokenFor
) -> None:
    hub = cast(FastAPI, app_client.app).state.hub
    headers = {"authorization": f"Bearer {token_for('team_lead')}"}
    with app_client.stream("GET", "/api/events/stream", headers=headers) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == ": connected"
        assert app_client.portal is not None
        app_client.portal.call(hub.publish, {"kind": "abandoned", "queue": "vip"})
        data = next(line for line in lines if line.startswith("data: "))
        assert data == 'data: {"kind": "abandoned", "queue": "vip"}'
