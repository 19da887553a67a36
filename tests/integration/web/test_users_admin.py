"""Administering users: change roles, deactivate and reactivate, reset passwords."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.integration.web.conftest import PASSWORD

TokenFor = Callable[[str], str]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_role_change_takes_effect_on_the_next_request(
    app_client: TestClient, token_for: TokenFor
) -> None:
    agent = _auth(token_for("agent"))
    assert app_client.get("/api/audit", headers=agent).status_code == 403
    changed = app_client.patch(
        "/api/users/agent", json={"roles": ["agent", "manager"]}, headers=_auth(token_for("admin"))
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == ["agent", "manager"]
    # The same token: roles are read from the account on each request, not from the token.
    assert app_client.get("/api/audit", headers=agent).status_code == 200
    entries = app_client.get("/api/audit", headers=_auth(token_for("admin"))).json()
    assert any(
        e["action"] == "user.roles"
        and e["target"] == "agent"
        and e["actor"] == "admin"
        and e["detail"] == {"before": ["agent"], "after": ["agent", "manager"]}
        for e in entries
    )


def test_only_admins_change_users(app_client: TestClient, token_for: TokenFor) -> None:
    for role in ("manager", "supervisor", "agent"):
        headers = _auth(token_for(role))
        response = app_client.patch("/api/users/qa", json={"active": False}, headers=headers)
        assert response.status_code == 403
        reset = app_client.post(
            "/api/users/qa/password", json={"password": "another-pass-1"}, headers=headers
        )
        assert reset.status_code == 403


def test_admin_cannot_lock_themselves_out(app_client: TestClient, token_for: TokenFor) -> None:
    admin = _auth(token_for("admin"))
    no_admin = app_client.patch("/api/users/admin", json={"roles": ["manager"]}, headers=admin)
    assert no_admin.status_code == 409
    assert "admin role" in no_admin.json()["message"]
    off = app_client.patch("/api/users/admin", json={"active": False}, headers=admin)
    assert off.status_code == 409
    assert "deactivate yourself" in off.json()["message"]
    unknown = app_client.patch("/api/users/qa", json={"roles": ["boss"]}, headers=admin)
    assert unknown.status_code == 422
    assert (
        app_client.patch("/api/users/nobody", json={"active": False}, headers=admin).status_code
        == 404
    )
    me = app_client.get("/api/me", headers=admin).json()
    assert me["roles"] == ["admin"]


def test_deactivated_user_is_signed_out_and_cannot_sign_in(
    app_client: TestClient, token_for: TokenFor
) -> None:
    qa = _auth(token_for("qa"))
    assert app_client.get("/api/me", headers=qa).status_code == 200
    admin = _auth(token_for("admin"))
    off = app_client.patch("/api/users/qa", json={"active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    assert app_client.get("/api/me", headers=qa).status_code == 401
    login = app_client.post("/api/auth/login", json={"username": "qa", "password": PASSWORD})
    assert login.status_code == 401
    on = app_client.patch("/api/users/qa", json={"active": True}, headers=admin)
    assert on.json()["active"] is True
    again = app_client.post("/api/auth/login", json={"username": "qa", "password": PASSWORD})
    assert again.status_code == 200
    actions = [e["action"] for e in app_client.get("/api/audit", headers=admin).json()]
    assert "user.deactivate" in actions and "user.activate" in actions


def test_deactivated_user_loses_the_live_feed(app_client: TestClient, token_for: TokenFor) -> None:
    from starlette.websockets import WebSocketDisconnect

    token = token_for("supervisor")
    admin = _auth(token_for("admin"))
    off = app_client.patch("/api/users/supervisor", json={"active": False}, headers=admin)
    assert off.status_code == 200, off.text
    app_client.cookies.clear()  # sign-in set the admin's cookie; use only the supervisor's token
    try:
        with app_client.websocket_connect("/api/events/ws", headers=_auth(token)) as socket:
            socket.receive_json()
    except WebSocketDisconnect as closed:
        assert closed.code == 4403
    else:
        raise AssertionError("a deactivated user's WebSocket must be closed")


def test_password_reset(app_client: TestClient, token_for: TokenFor) -> None:
    admin = _auth(token_for("admin"))
    short = app_client.post("/api/users/wfm/password", json={"password": "short"}, headers=admin)
    assert short.status_code == 422
    reset = app_client.post(
        "/api/users/wfm/password", json={"password": "brand-new-pass-7"}, headers=admin
    )
    assert reset.status_code == 204
    old = app_client.post("/api/auth/login", json={"username": "wfm", "password": PASSWORD})
    assert old.status_code == 401
    new = app_client.post(
        "/api/auth/login", json={"username": "wfm", "password": "brand-new-pass-7"}
    )
    assert new.status_code == 200
    entries = app_client.get("/api/audit", headers=admin).json()
    reset_entry = next(e for e in entries if e["action"] == "user.password_reset")
    assert reset_entry["target"] == "wfm" and "brand-new" not in str(reset_entry["detail"])


def test_a_team_lead_account_must_lead_a_team_of_the_center(
    app_client: TestClient, token_for: TokenFor
) -> None:
    admin = _auth(token_for("admin"))
    account = {"username": "zhao.lead", "password": "long-enough-1", "roles": ["team_lead"]}
    # a002 is an agent of t-install but leads nothing; without an agent id nobody is led.
    for agent_id in ("a002", None):
        refused = app_client.post(
            "/api/users", json=account | {"agent_id": agent_id}, headers=admin
        )
        assert refused.status_code == 422, refused.text
        (problem,) = refused.json()["problems"]
        assert problem["field"] == "agent_id"
        assert "teams[].lead" in problem["problem"] and "a011 (t-repair)" in problem["problem"]
    created = app_client.post("/api/users", json=account | {"agent_id": "a011"}, headers=admin)
    assert created.status_code == 201, created.text
    # Promoting an agent who leads no team is refused the same way; a supervisor needs no team.
    promote = {"roles": ["agent", "team_lead"]}
    refused = app_client.patch("/api/users/wfm", json=promote, headers=admin)
    assert refused.status_code == 422 and refused.json()["problems"][0]["field"] == "agent_id"
    assert app_client.patch("/api/users/agent", json=promote, headers=admin).status_code == 200
    assert (
        app_client.patch(
            "/api/users/wfm", json={"roles": ["team_lead", "supervisor"]}, headers=admin
        ).status_code
        == 200
    )
