"""A web chat visitor proves who they are (#16): the company's site's signed login token
(good, forged, expired, signed with another secret, malformed) and a one-time code (right,
wrong five times then locked, expired, only its hash kept)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import astuple

import pytest

from hotline.channels.chat.codes import (
    CODE_TTL_S,
    MAX_ATTEMPTS,
    PendingCode,
    check,
    issue,
    new_code,
)
from hotline.channels.chat.login import ChatLogin, LoginRefused, read_login, sign_login

SECRET = b"a-site-secret-of-at-least-32-characters"
NOW = 1_772_409_600.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_token_signed_as_the_docs_say_names_the_customer() -> None:
    # Signed the way a company's site does it, without Hotline's code (the module's recipe).
    claims = _b64(json.dumps({"id": "u-42", "email": "li@example.com", "name": "李雷"}).encode())
    body = f"{claims}.{int(NOW + 300)}"
    signature = _b64(hmac.new(SECRET, b"chat-login|" + body.encode(), hashlib.sha256).digest())
    login = read_login(f"{body}.{signature}", secret=SECRET, now=NOW)
    assert login == ChatLogin("u-42", "li@example.com", None, "李雷", int(NOW + 300))
    ours = sign_login(external_id="u-42", phone="13800138000", expires_at=NOW + 300, secret=SECRET)
    assert read_login(ours, secret=SECRET, now=NOW) == ChatLogin(
        "u-42", None, "13800138000", None, int(NOW + 300)
    )


def test_forged_expired_and_foreign_tokens_name_nobody() -> None:
    token = sign_login(
        external_id="u-42", email="li@example.com", expires_at=NOW + 60, secret=SECRET
    )
    claims, expires, signature = token.split(".")
    other = _b64(json.dumps({"id": "u-1"}).encode())
    assert read_login(f"{other}.{expires}.{signature}", secret=SECRET, now=NOW) == LoginRefused(
        "forged"
    )
    # The expiry is signed: stretching it breaks the signature.
    stretched = f"{claims}.{int(NOW + 86_400)}.{signature}"
    assert read_login(stretched, secret=SECRET, now=NOW) == LoginRefused("forged")
    assert read_login(token, secret=SECRET, now=NOW + 60) == LoginRefused("expired")
    assert read_login(token, secret=b"another-secret", now=NOW) == LoginRefused("forged")
    assert read_login(token, secret=None, now=NOW) == LoginRefused("not configured")
    for junk in ("", "abc", "a.b.c.d", "x" * 5000):
        assert read_login(junk, secret=SECRET, now=NOW) == LoginRefused("malformed")
    # Genuinely signed, but the claims are not a customer (no id, a bad e-mail): refused.
    for bad in ({"email": "li@example.com"}, {"id": "u 1"}, {"id": "u1", "email": "nope"}, [1]):
        body = f"{_b64(json.dumps(bad).encode())}.{int(NOW + 60)}"
        mac = _b64(hmac.new(SECRET, b"chat-login|" + body.encode(), hashlib.sha256).digest())
        assert read_login(f"{body}.{mac}", secret=SECRET, now=NOW) == LoginRefused("malformed")


def _pending(code: str = "493817") -> PendingCode:
    return issue(code=code, conversation="L1-7", address="li@example.com", secret=SECRET, now=NOW)


def test_the_right_code_verifies_once() -> None:
    tried, outcome = check(_pending(), code="493817", secret=SECRET, now=NOW + 30)
    assert (outcome, tried.verified, tried.attempts) == ("verified", True, 1)
    assert check(tried, code="493817", secret=SECRET, now=NOW + 31)[1] == "locked"


def test_five_wrong_codes_lock_it_even_for_the_right_one() -> None:
    pending = _pending()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        pending, outcome = check(pending, code="000000", secret=SECRET, now=NOW + attempt)
        assert (outcome, pending.attempts) == ("wrong", attempt)
    assert check(pending, code="493817", secret=SECRET, now=NOW + 10)[1] == "locked"


def test_a_code_expires_after_ten_minutes() -> None:
    assert check(_pending(), code="493817", secret=SECRET, now=NOW + CODE_TTL_S - 1)[1] == (
        "verified"
    )
    pending, outcome = check(_pending(), code="493817", secret=SECRET, now=NOW + CODE_TTL_S)
    assert (outcome, pending.attempts) == ("expired", 0)


def test_only_the_codes_hash_is_kept_bound_to_the_chat_and_address() -> None:
    pending = _pending()
    assert "493817" not in "".join(str(part) for part in astuple(pending))
    assert "493817" not in repr(pending)
    assert (
        len(pending.code_hash) == 64 and pending.code_hash != hashlib.sha256(b"493817").hexdigest()
    )
    # The same code for another chat or address, or under another key, hashes differently.
    elsewhere = issue(code="493817", conversation="L1-8", address="li@example.com", secret=SECRET,
                      now=NOW)  # fmt: skip
    assert elsewhere.code_hash != pending.code_hash
    rekeyed = check(pending, code="493817", secret=b"another-secret", now=NOW + 1)
    assert rekeyed[1] == "wrong"


@pytest.mark.parametrize(("drawn", "code"), [(0, "000000"), (42, "000042"), (999_999, "999999")])
def test_codes_are_six_digits(drawn: int, code: str) -> None:
    assert new_code(drawn) == code
