"""Signing in under attack: throttling and lockout, timing, the password policy, revocable
sessions, and credentials kept out of URLs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import pytest
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from hotline.core.settings import Settings
from hotline.identity import tokens
from hotline.web.app import create_app
from tests.integration.web.conftest import PASSWORD

TokenFor = Callable[[str], str]


def _portal(client: TestClient) -> BlockingPortal:
    """The portal onto the app's event loop (open while the client's context is)."""
    assert client.portal is not None
    return client.portal


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(client: TestClient, username: str, password: str) -> int:
    return client.post(
        "/api/auth/login", json={"username": username, "password": password}
    ).status_code


def _socket_refused(client: TestClient, url: str, **headers: str) -> bool:
    """True when the server closes the WebSocket handshake with 4403."""
    try:
        with client.websocket_connect(url, headers=headers) as socket:
            socket.receive_json()
    except WebSocketDisconnect as closed:
        return closed.code == 4403
    return False


def _audit(client: TestClient, token_for: TokenFor) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = client.get(
        "/api/audit", headers=_auth(token_for("admin"))
    ).json()
    return entries


# --- throttling ---------------------------------------------------------------------------


def test_after_five_wrong_passwords_even_the_right_one_waits(
    app_client: TestClient, token_for: TokenFor
) -> None:
    token_for("admin")  # sign the auditor in first: the address counter must not matter here
    assert [_login(app_client, "qa", "wrong-guess-1") for _ in range(5)] == [401] * 5
    refused = app_client.post("/api/auth/login", json={"username": "qa", "password": PASSWORD})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    assert "try again in" in refused.json()["message"]
    # Other accounts are not locked by it.
    assert _login(app_client, "wfm", PASSWORD) == 200
    actions = [(e["action"], e["actor"]) for e in _audit(app_client, token_for)]
    assert ("auth.locked", "qa") in actions and ("auth.throttled", "qa") in actions


def test_the_lockout_grows_and_ends(
    app_client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    from hotline.store.models.identity import LoginFailures

    for _ in range(5):
        _login(app_client, "qa", "wrong-guess-1")
    assert _login(app_client, "qa", PASSWORD) == 429
    with session_factory() as session:  # let the first lockout run out
        session.execute(update(LoginFailures).values(locked_until=time.time() - 1))
        session.commit()
    assert _login(app_client, "qa", "wrong-guess-2") == 401  # the sixth in a row: 60 s now
    response = app_client.post("/api/auth/login", json={"username": "qa", "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 30
    with session_factory() as session:
        session.execute(update(LoginFailures).values(locked_until=time.time() - 1))
        session.commit()
    assert _login(app_client, "qa", PASSWORD) == 200
    assert _login(app_client, "qa", "wrong-guess-3") == 401  # the streak started over
    assert _login(app_client, "qa", PASSWORD) == 200


def test_a_restart_does_not_reset_the_lockout(
    app_client: TestClient, session_factory: sessionmaker[Session], tmp_path: object
) -> None:
    for _ in range(5):
        _login(app_client, "qa", "wrong-guess-1")
    restarted = create_app(
        settings=Settings(
            home=cast(FastAPI, app_client.app).state.settings.home, secret_key="test-secret"
        ),
        session_factory=session_factory,
    )
    with TestClient(restarted) as client:
        assert _login(client, "qa", PASSWORD) == 429


def test_forgotten_streaks_are_deleted(session_factory: sessionmaker[Session]) -> None:
    from sqlalchemy import select

    from hotline.identity import sessions, throttle
    from hotline.store.models.identity import LoginFailures

    now = time.time()
    with session_factory() as session:
        sessions.record_failure(session, key="account:old", policy=throttle.ACCOUNT, now=now - 7200)
        sessions.record_failure(session, key="account:recent", policy=throttle.ACCOUNT, now=now)
        sessions.record_failure(session, key="account:new", policy=throttle.ACCOUNT, now=now)
        session.flush()
        keys = set(session.scalars(select(LoginFailures.key)))
    assert "account:old" not in keys and {"account:recent", "account:new"} <= keys


def test_one_address_spraying_many_names_is_throttled(app_client: TestClient) -> None:
    codes = [_login(app_client, f"nobody{n}", "wrong-guess-1") for n in range(20)]
    assert codes == [401] * 20
    assert _login(app_client, "qa", PASSWORD) == 429


def test_unknown_users_cost_one_password_check_like_known_ones(
    app_client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing oracle: every failure path runs exactly one Argon2 verification."""
    from hotline.identity import passwords

    real = passwords._hasher
    checks: list[str] = []

    class CountingHasher:
        def hash(self, password: str) -> str:
            return real.hash(password)

        def verify(self, password_hash: str, password: str) -> bool:
            checks.append(password)
            return real.verify(password_hash, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    for username in ("qa", "no-such-user"):
        checks.clear()
        assert _login(app_client, username, "wrong-guess-1") == 401
        assert checks == ["wrong-guess-1"], username


# --- the password policy ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("12345678", "at least 10"),
        ("password", "at least 10"),
        (" " * 12, "only spaces"),
        ("password123", "most common"),
        ("{name}-2024!", "user name"),
        ("aaaaaaaaaaaa", "too easy"),
    ],
)
def test_weak_passwords_are_refused_by_the_admin_api(
    app_client: TestClient, token_for: TokenFor, password: str, rule: str
) -> None:
    admin = _auth(token_for("admin"))
    created = app_client.post(
        "/api/users",
        json={"username": "li.na", "password": password.format(name="li.na"), "roles": ["agent"]},
        headers=admin,
    )
    assert created.status_code == 422, created.text
    problems = created.json()["problems"]
    assert any(rule in p["problem"] and "password" in p["field"] for p in problems), problems
    reset = app_client.post(
        "/api/users/qa/password", json={"password": password.format(name="qa")}, headers=admin
    )
    assert reset.status_code == 422
    assert _login(app_client, "qa", PASSWORD) == 200  # the old password still stands


def test_a_user_changes_their_own_password(app_client: TestClient) -> None:
    first = app_client.post("/api/auth/login", json={"username": "qa", "password": PASSWORD})
    second = app_client.post("/api/auth/login", json={"username": "qa", "password": PASSWORD})
    this, other = _auth(first.json()["token"]), _auth(second.json()["token"])
    wrong = app_client.post(
        "/api/auth/password",
        json={"current_password": "not-it-at-all", "new_password": "staple-Battery-37"},
        headers=this,
    )
    assert wrong.status_code == 422
    weak = app_client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "qwertyuiop"},
        headers=this,
    )
    assert weak.status_code == 422
    assert weak.json()["problems"] == [
        {
            "field": "body.new_password",
            "line": None,
            "problem": "password is one of the most common passwords found in breaches",
        }
    ]
    changed = app_client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "staple-Battery-37"},
        headers=this,
    )
    assert changed.status_code == 204, changed.text
    assert app_client.get("/api/me", headers=this).status_code == 200
    assert app_client.get("/api/me", headers=other).status_code == 401
    assert _login(app_client, "qa", "staple-Battery-37") == 200


def test_guessing_the_current_password_through_a_session_is_throttled(
    app_client: TestClient, token_for: TokenFor
) -> None:
    qa = _auth(token_for("qa"))
    guess = {"current_password": "wrong-guess-1", "new_password": "staple-Battery-37"}
    codes = [app_client.post("/api/auth/password", json=guess, headers=qa).status_code]
    codes += [
        app_client.post("/api/auth/password", json=guess, headers=qa).status_code for _ in range(5)
    ]
    assert codes == [422] * 5 + [429]
    assert _login(app_client, "qa", PASSWORD) == 429  # the account itself is locked


# --- sessions -----------------------------------------------------------------------------


def test_logout_revokes_the_token(app_client: TestClient) -> None:
    token = app_client.post(
        "/api/auth/login", json={"username": "qa", "password": PASSWORD}
    ).json()["token"]
    assert app_client.get("/api/me", headers=_auth(token)).status_code == 200
    assert app_client.post("/api/auth/logout", headers=_auth(token)).status_code == 204
    assert app_client.get("/api/me", headers=_auth(token)).status_code == 401


def test_the_logout_page_revokes_the_cookie_session(app_client: TestClient) -> None:
    token = app_client.post(
        "/api/auth/login", json={"username": "qa", "password": PASSWORD}
    ).json()["token"]
    assert app_client.get("/logout", follow_redirects=False).status_code == 303
    assert "hotline_session" not in app_client.cookies
    assert app_client.get("/api/me", headers=_auth(token)).status_code == 401


def test_a_password_reset_and_a_deactivation_end_every_session(
    app_client: TestClient, token_for: TokenFor
) -> None:
    admin = _auth(token_for("admin"))
    wfm, qa = _auth(token_for("wfm")), _auth(token_for("qa"))
    reset = app_client.post(
        "/api/users/wfm/password", json={"password": "brand-new-pass-7"}, headers=admin
    )
    assert reset.status_code == 204
    assert app_client.get("/api/me", headers=wfm).status_code == 401
    app_client.patch("/api/users/qa", json={"active": False}, headers=admin)
    app_client.patch("/api/users/qa", json={"active": True}, headers=admin)
    assert app_client.get("/api/me", headers=qa).status_code == 401  # reactivating revives none
    entries = _audit(app_client, token_for)
    assert any(
        e["action"] == "user.password_reset" and e["detail"] == {"sessions_revoked": 1}
        for e in entries
    )


def test_tokens_in_the_url_are_refused(app_client: TestClient, token_for: TokenFor) -> None:
    token = token_for("supervisor")
    app_client.cookies.clear()
    assert app_client.get(f"/api/me?token={token}").status_code == 401
    assert app_client.get(f"/api/me?ticket={token}").status_code == 401
    assert _socket_refused(app_client, f"/api/events/ws?token={token}")


def test_a_stream_ticket_opens_the_streams_and_nothing_else(
    app_client: TestClient, token_for: TokenFor
) -> None:
    supervisor = _auth(token_for("supervisor"))
    issued = app_client.post("/api/auth/stream-ticket", headers=supervisor)
    assert issued.status_code == 200
    ticket = issued.json()["ticket"]
    assert issued.json()["expires_at"] <= time.time() + 60
    other = app_client.post("/api/auth/stream-ticket", headers=supervisor).json()["ticket"]
    app_client.cookies.clear()
    hub = cast(FastAPI, app_client.app).state.hub
    with app_client.websocket_connect(f"/api/events/ws?ticket={ticket}") as socket:
        _portal(app_client).call(hub.publish, {"kind": "queued", "queue": "repair"})
        assert socket.receive_json() == {"kind": "queued", "queue": "repair"}
    with app_client.stream("GET", f"/api/events/stream?ticket={other}") as response:
        assert response.status_code == 200
        assert next(response.iter_lines()) == ": connected"
    # Not a session token: refused as a bearer, and in the URL of any other route.
    assert app_client.get("/api/me", headers=_auth(ticket)).status_code == 401
    assert app_client.get(f"/api/live/wallboard?ticket={ticket}").status_code == 401


def _socket_opens(client: TestClient, url: str) -> bool:
    """True when the WebSocket at ``url`` opens and delivers a live message; False on 4403."""
    hub = cast(FastAPI, client.app).state.hub
    try:
        with client.websocket_connect(url) as socket:
            _portal(client).call(hub.publish, {"kind": "probe"})
            return bool(socket.receive_json() == {"kind": "probe"})
    except WebSocketDisconnect as closed:
        assert closed.code == 4403
        return False


def test_a_stream_ticket_opens_one_stream_once(app_client: TestClient, token_for: TokenFor) -> None:
    supervisor = _auth(token_for("supervisor"))
    issue = "/api/auth/stream-ticket"
    socket_ticket = app_client.post(issue, headers=supervisor).json()["ticket"]
    stream_ticket = app_client.post(issue, headers=supervisor).json()["ticket"]
    app_client.cookies.clear()
    assert _socket_opens(app_client, f"/api/events/ws?ticket={socket_ticket}")
    # Used once: it opens neither a second WebSocket nor the event stream.
    assert not _socket_opens(app_client, f"/api/events/ws?ticket={socket_ticket}")
    assert app_client.get(f"/api/events/stream?ticket={socket_ticket}").status_code == 401
    with app_client.stream("GET", f"/api/events/stream?ticket={stream_ticket}") as response:
        assert response.status_code == 200
        assert next(response.iter_lines()) == ": connected"
    assert app_client.get(f"/api/events/stream?ticket={stream_ticket}").status_code == 401
    assert not _socket_opens(app_client, f"/api/events/ws?ticket={stream_ticket}")


def test_a_stream_ticket_expires_and_dies_with_its_session(
    app_client: TestClient, token_for: TokenFor
) -> None:
    token = app_client.post(
        "/api/auth/login", json={"username": "supervisor", "password": PASSWORD}
    ).json()["token"]
    secret = cast(FastAPI, app_client.app).state.secret
    claims = tokens.read_token(token, secret=secret, now=time.time())
    assert claims is not None
    stale = tokens.issue_token(
        tokens.TokenClaims(
            claims.username,
            claims.roles,
            time.time() - 1,
            session_id=claims.session_id,
            purpose=tokens.STREAM,
            ticket_id="stale",
        ),
        secret=secret,
    )
    ticket = app_client.post("/api/auth/stream-ticket", headers=_auth(token)).json()["ticket"]
    app_client.post("/api/auth/logout", headers=_auth(token))
    app_client.cookies.clear()
    for refused in (stale, ticket):
        assert _socket_refused(app_client, f"/api/events/ws?ticket={refused}")
