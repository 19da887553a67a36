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

import time
from types import TracebackType
from typing import Any

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from hotline.store.db import libpq_url

INBOX = "hotline_inbox"
EVENTS = "hotline_events"


def notify(session: Session, channel: str, payload: str) -> None:
    """Send ``payload`` on ``channel`` when ``session``'s transaction commits (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


class Listener:
    """One connection listening on some channels; :meth:`wait` blocks until a wake-up.

    When the server goes away (restarted, or a primary killed and its standby promoted) the
    listener reconnects on the next :meth:`wait` — to whichever host of a multi-host URL now
    accepts writes — and until it can, :meth:`wait` just waits out its timeout: the caller
    polls the tables anyway.
    """

    def __init__(self, conninfo: str, channels: tuple[str, ...]) -> None:
        for channel in channels:
            if channel not in (INBOX, EVENTS):
                raise ValueError(f"unknown channel {channel!r}")
        self._conninfo = conninfo
        self._channels = channels
        self._connection: psycopg.Connection[Any] | None = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        connection = psycopg.connect(self._conninfo, autocommit=True)
        for channel in self._channels:
            connection.execute(f"LISTEN {channel}")  # a fixed identifier, checked above
        return connection

    def wait(self, timeout_s: float) -> list[str]:
        """The payloads that arrived, waiting up to ``timeout_s`` for the first one."""
        try:
            if self._connection is None:
                self._connection = self._connect()
            connection = self._connection
            payloads = [n.payload for n in connection.notifies(timeout=timeout_s, stop_after=1)]
            if payloads:  # whatever else is already here, without waiting again
                payloads += [n.payload for n in connection.notifies(timeout=0)]
            return payloads
        except psycopg.OperationalError:
            self.close()
            time.sleep(timeout_s)  # no server to listen to yet: a plain poll interval
            return []

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

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
    return Listener(libpq_url(engine.url.render_as_string(hide_password=False)), channels)
