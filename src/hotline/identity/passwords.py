"""Passwords: Argon2id hashing, a constant-time failure path, and the password policy.

The policy refuses what an attacker tries first: short passwords, blank ones, the user's own
name (plus digits or symbols), the passwords most often found in breaches (the list zxcvbn
ships, gathered from public breach corpora), and anything zxcvbn's estimator rates as
guessable within about 10⁶ tries.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from hotline.core.errors import Problem, ValidationFailed

_hasher = PasswordHasher()

MIN_LENGTH = 10
# zxcvbn's score: 0–1 fall within ~10⁶ guesses (an online attacker's reach), 2 within ~10⁸.
MIN_SCORE = 2
# zxcvbn's matcher is quadratic in the length; past this it only slows the check, not the verdict.
_SCORED_PREFIX = 64


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, *, username: str) -> list[str]:
    """Every rule of the password policy that ``password`` breaks (empty when it is accepted).

    >>> password_problems("password", username="li.na")[0]
    'must be at least 10 characters'
    >>> password_problems("staple-Battery-37", username="li.na")
    []
    """
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if not password.strip():
        return [*problems, "must not be only spaces"]
    lowered = password.lower()
    name = username.lower()
    if name and name in lowered and not any(c.isalpha() for c in lowered.replace(name, "")):
        problems.append("must not be the user name, with or without digits and symbols")
    if lowered.strip() in _common_passwords():
        problems.append("is one of the most common passwords found in breaches")
    elif not problems:
        score = zxcvbn(password[:_SCORED_PREFIX], user_inputs=[username])["score"]
        if score < MIN_SCORE:
            problems.append("is too easy to guess (a word, name, date or pattern)")
    return problems


def check_password(password: str, *, username: str) -> None:
    """Raise :class:`ValidationFailed` (field ``password``) when the policy refuses it."""
    problems = password_problems(password, username=username)
    if problems:
        raise ValidationFailed(
            [Problem(rule=f"password {rule}", field="password") for rule in problems]
        )


def hash_password(password: str) -> str:
    """Return an Argon2id hash of ``password``; refuse passwords shorter than the minimum."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password must be at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash("no account has this password")


def burn_verification(password: str) -> None:
    """Spend the same time as a real check, for an unknown or inactive account.

    Without it, a wrong name is answered in milliseconds and a wrong password in the Argon2
    time, which tells an attacker which user names exist.
    """
    verify_password(_dummy_hash(), password)
