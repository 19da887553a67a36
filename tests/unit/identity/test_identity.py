"""Passwords, tokens and role checks."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from hotline.core.errors import ValidationFailed
from hotline.identity import passwords
from hotline.identity.passwords import (
    check_password,
    hash_password,
    password_problems,
    verify_password,
)
from hotline.identity.roles import allowed, validate_roles
from hotline.identity.throttle import ACCOUNT, ADDRESS, account_key
from hotline.identity.tokens import TokenClaims, issue_token, read_token
from tests.conftest import PRODUCT_HASHER

SECRET = b"s" * 32


def test_passwords_are_argon2id_and_verify() -> None:
    stored = hash_password("long-enough-1")
    assert stored.startswith("$argon2id$")
    assert "long-enough-1" not in stored
    assert verify_password(stored, "long-enough-1")
    assert not verify_password(stored, "long-enough-2")
    assert not verify_password("not-a-hash", "long-enough-1")


def test_the_product_hashes_at_rfc_9106s_second_recommended_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The suite hashes its users' passwords cheaply (tests/conftest.py); the product does not:
    Argon2id with 64 MiB of memory, 3 passes and 4 lanes (RFC 9106, section 4, option 2)."""
    monkeypatch.setattr(passwords, "_hasher", PRODUCT_HASHER)
    stored = hash_password("long-enough-1")
    assert extract_parameters(stored) == RFC_9106_LOW_MEMORY
    assert verify_password(stored, "long-enough-1")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        hash_password("short-pw")


def test_tokens_round_trip_and_expire() -> None:
    claims = TokenClaims(username="li.na", roles=("agent",), expires_at=1000.0, session_id="s1")
    token = issue_token(claims, secret=SECRET)
    assert read_token(token, secret=SECRET, now=999.0) == claims
    assert read_token(token, secret=SECRET, now=1000.0) is None
    assert read_token(token, secret=b"x" * 32, now=0.0) is None


def test_tokens_are_for_one_purpose_and_one_session() -> None:
    ticket = issue_token(
        TokenClaims("li.na", ("agent",), 1000.0, session_id="s1", purpose="stream", ticket_id="t"),
        secret=SECRET,
    )
    assert read_token(ticket, secret=SECRET, now=0.0) is None
    claims = read_token(ticket, secret=SECRET, now=0.0, purpose="stream")
    assert claims is not None and claims.ticket_id == "t"
    # A stream ticket without its own id could not be crossed off once used: refused.
    unnamed = issue_token(
        TokenClaims("li.na", ("agent",), 1000.0, session_id="s1", purpose="stream"), secret=SECRET
    )
    assert read_token(unnamed, secret=SECRET, now=0.0, purpose="stream") is None
    without_session = issue_token(TokenClaims("li.na", ("agent",), 1000.0), secret=SECRET)
    assert read_token(without_session, secret=SECRET, now=0.0) is None


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


@pytest.mark.parametrize(
    ("password", "username", "rule"),
    [
        ("12345678", "li.na", "at least 10"),
        ("password", "li.na", "most common"),
        (" " * 8, "li.na", "only spaces"),
        ("\t" * 12, "li.na", "only spaces"),
        ("iloveyou123", "li.na", "most common"),
        ("Li.Na2024!!", "li.na", "user name"),
        ("abcabcabcabc", "li.na", "too easy"),
    ],
)
def test_the_password_policy_names_the_rule_broken(password: str, username: str, rule: str) -> None:
    assert any(rule in problem for problem in password_problems(password, username=username))
    with pytest.raises(ValidationFailed) as refused:
        check_password(password, username=username)
    assert refused.value.problems[0].field == "password"


@pytest.mark.parametrize("password", ["hotline-demo", "correct-horse-9", "staple-Battery-37"])
def test_the_password_policy_accepts_good_passwords(password: str) -> None:
    assert password_problems(password, username="teamlead") == []
    long_passphrase = "Lantern-river staple/battery orbit+canyon 58 " * 5
    assert password_problems(long_passphrase, username="li.na") == []


def test_the_login_lockout_grows_then_stops_growing() -> None:
    assert [ACCOUNT.lockout_s(n) for n in range(1, 9)] == [0, 0, 0, 0, 30, 60, 120, 240]
    assert ACCOUNT.lockout_s(40) == ACCOUNT.longest_lockout_s
    assert ADDRESS.lockout_s(19) == 0 and ADDRESS.lockout_s(20) == 30
    # A streak older than an hour is forgotten; a recent one goes on.
    assert ACCOUNT.failures_after(failures=7, last_failure_at=0.0, now=3601.0) == 1
    assert ACCOUNT.failures_after(failures=7, last_failure_at=3000.0, now=3601.0) == 8
    assert account_key(" Li.Na ") == account_key("li.na")
