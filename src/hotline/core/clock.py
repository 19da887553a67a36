"""Clocks: time is injected so the same logic runs live, simulated and replayed.

The routing engine and the IVR interpreter never read the wall clock; the driver hands
them timestamps. Drivers that need "now" take a ``Clock``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current time in seconds since the Unix epoch."""

    def now(self) -> float:
        """Return the current time in seconds."""
        ...


class WallClock:
    """The real clock, for the live driver.

    >>> WallClock().now() > 0
    True
    """

    def now(self) -> float:
        """Return the wall-clock time in seconds."""
        return time.time()


@dataclass
class ManualClock:
    """A clock that only moves when told to, for tests and simulation.

    >>> clock = ManualClock(10.0)
    >>> clock.advance(5)
    >>> clock.now()
    15.0
    """

    current: float = 0.0

    def now(self) -> float:
        """Return the current virtual time."""
        return self.current

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (never backwards)."""
        if seconds < 0:
            raise ValueError("a clock cannot move backwards")
        self.current += seconds

    def set(self, when: float) -> None:
        """Jump to ``when``, which must not be earlier than now."""
        if when < self.current:
            raise ValueError("a clock cannot move backwards")
        self.current = when


def to_datetime(seconds: float) -> datetime:
    """Convert epoch seconds to an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)
