"""Rate limits for customers, who are not signed-in users: a sliding window per key.

The widget is public, so what one address may do is limited: how many conversations it opens
per hour, how many messages one conversation sends per minute (the widget settings say how
many). A :class:`SlidingWindow` counts the moments of the last ``window_s`` seconds per key and
says whether one more is allowed; it keeps no I/O and takes "now" from its caller.

>>> window = SlidingWindow(limit=2, window_s=60.0)
>>> [window.allow("198.51.100.7", now) for now in (0.0, 1.0, 2.0)]
[True, True, False]
>>> window.retry_after("198.51.100.7", 2.0), window.allow("198.51.100.7", 61.5)
(58.0, True)
"""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """At most ``limit`` moments per key in any ``window_s`` seconds."""

    def __init__(self, *, limit: int, window_s: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._moments: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        moments = self._moments.get(key)
        if moments is None:
            if len(self._moments) >= self.max_keys:
                self._forget_idle(now)
            moments = self._moments[key] = deque()
        while moments and moments[0] <= now - self.window_s:
            moments.popleft()
        return moments

    def allow(self, key: str, now: float) -> bool:
        """Count one more moment for ``key`` if the limit allows it; whether it did."""
        moments = self._recent(key, now)
        if len(moments) >= self.limit:
            return False
        moments.append(now)
        return True

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may act again (0 when it may now)."""
        moments = self._recent(key, now)
        if len(moments) < self.limit:
            return 0.0
        return max(0.0, moments[0] + self.window_s - now)

    def _forget_idle(self, now: float) -> None:
        """Drop the keys with nothing in their window (the table stays bounded)."""
        for key in [k for k, m in self._moments.items() if not m or m[-1] <= now - self.window_s]:
            del self._moments[key]
