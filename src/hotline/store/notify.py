"""Wake-ups between nodes: PostgreSQL ``LISTEN``/``NOTIFY``.

A notification carries no data anyone relies on: it only says "look now". What happened is
read from the tables (the partition inbox, the contact event log), so a notification lost
while a listener reconnects costs a poll interval, never a contact. ``NOTIFY`` is sent inside
the writer's transaction and PostgreSQL delivers it only when that transaction commits: a
rolled-back write — a partition owner's batch refused by its fencing check — wakes no one.

* :data:`INBOX`: a contact or an agent's command was accepted (payload: the partition); the
  owner applies it at once instead of at its next poll.
* :data:`EVENTS`: a partition owner committed a batch of contact events (payload: JSON with
  the partition and the epoch); desks and screens following the log read it at once.

On SQLite (one process) nothing is sent and :func:`listener` gives ``None``: callers poll.
"""

from __future__ import annotations

from types import TracebackType

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

INBOX = "hotline_inbox"
EVENTS = "hotline_events"


def notify(session: Session, channel: str, payload: str) -> None:
    """Send ``payload`` on ``channel`` when ``session``'s transaction commits (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


class Listener:
    """One connection listening on some channels; :meth:`wait` blocks until a wake-up."""

    def __init__(self, conninfo: str, channels: tuple[str, ...]) -> None:
        self._connection = psycopg.connect(conninfo, autocommit=True)
        for channel in channels:
            if channel not in (INBOX, EVENTS):
                raise ValueError(f"unknown channel {channel!r}")
            self._connection.execute(f"LISTEN {channel}")  # a fixed identifier, checked above

    def wait(self, timeout_s: float) -> list[str]:
        """The payloads that arrived, waiting up to ``timeout_s`` for the first one."""
        payloads = [n.payload for n in self._connection.notifies(timeout=timeout_s, stop_after=1)]
        if payloads:  # whatever else is already here, without waiting again
            payloads += [n.payload for n in self._connection.notifies(timeout=0)]
        return payloads

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def listener(engine: Engine, *channels: str) -> Listener | None:
    """A :class:`Listener` on ``engine``'s PostgreSQL database, or ``None`` on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.set(drivername="postgresql")
    return Listener(url.render_as_string(hide_password=False), channels)
