"""Login throttling: after a few wrong passwords in a row, wait a growing while.

Pure policy, no I/O: :func:`lockout_s` says how long further attempts are refused after the
n-th wrong password in a row. Counters are kept per account (a guesser aiming at one user)
and per client address (one guesser spraying many users); an office behind one address gets
more room than a single account. A counter is forgotten after an hour without failures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many wrong passwords in a row are free, and how the lockout then grows.

    >>> [ACCOUNT.lockout_s(n) for n in (4, 5, 6, 7, 20)]
    [0.0, 30.0, 60.0, 120.0, 900.0]
    """

    free_failures: int
    first_lockout_s: float = 30.0
    longest_lockout_s: float = 900.0
    forget_after_s: float = 3600.0

    def lockout_s(self, failures: int) -> float:
        """Seconds attempts are refused after ``failures`` wrong passwords in a row."""
        if failures < self.free_failures:
            return 0.0
        doublings = min(failures - self.free_failures, 16)
        return min(self.first_lockout_s * 2.0**doublings, self.longest_lockout_s)

    def failures_after(self, *, failures: int, last_failure_at: float, now: float) -> int:
        """The count after one more failure at ``now`` (old streaks are forgotten first)."""
        if now - last_failure_at > self.forget_after_s:
            failures = 0
        return failures + 1


ACCOUNT = ThrottlePolicy(free_failures=5)
ADDRESS = ThrottlePolicy(free_failures=20)


def account_key(username: str) -> str:
    """The counter key of one account (names compared without case)."""
    return f"account:{username.strip().lower()[:120]}"


def address_key(address: str) -> str:
    """The counter key of one client address."""
    return f"address:{address[:120]}"
