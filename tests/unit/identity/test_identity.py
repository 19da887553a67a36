"""Passwords, tokens and role checks."""

from __future__ import annotations

import pytest

from hotline.identity.passwords import hash_password, verify_password
from hotline.identity.roles import allowed, validate_roles
from hotline.identity.tokens import TokenClaims, issue_token, read_token

SECRET = b"s" * 32


def test_passwords_are_argon2id_and_verify() -> None:
    stored = hash_password("long-enough-1")
    assert stored.startswith("$argon2id$")
    assert "long-enough-1" not in stored
    assert verify_password(stored, "long-enough-1")
    assert not verify_password(stored, "long-enough-2")
    assert not verify_password("not-a-hash", "long-enough-1")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        hash_password("short-pw")


def test_tokens_round_trip_and_expire() -> None:
    claims = TokenClaims(username="li.na", roles=("agent",), expires_at=1000.0, session_id="s1")
    token = issue_token(claims, secret=SECRET)
    assert read_token(token, secret=SECRET, now=999.0) == claims
    assert read_token(token, secret=SECRET, now=1000.0) is None
    assert read_token(token, secret=b"x" * 32, now=0.0) is None


def test_tampered_tokens_are_refused() -> None:
    token = issue_token(TokenClaims("li.na", ("agent",), 1000.0, "s1"), secret=SECRET)
    payload, signature = token.split(".")
    forged = issue_token(TokenClaims("li.na", ("admin",), 1000.0, "s1"), secret=b"attacker" * 4)
    assert read_token(forged.split(".")[0] + "." + signature, secret=SECRET, now=0.0) is None
    assert read_token(payload + ".", secret=SECRET, now=0.0) is None
    assert read_token("garbage", secret=SECRET, now=0.0) is None


def test_roles() -> None:
    assert allowed(["agent"], ("agent",))
    assert not allowed(["agent"], ("supervisor",))
    assert allowed(["admin"], ("qa",))
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        validate_roles(["boss"])
    with pytest.raises(ValueError, match="at least one role"):
        validate_roles([])
