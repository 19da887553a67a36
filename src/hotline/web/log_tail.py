"""A web node without the routing engine: its screens are fed from the event log.

``hotline serve --web-only`` runs the API and pages with no engine in process; the partition's
owner (``hotline node``, on any machine) writes the log. :class:`LogTail` follows that log and
publishes each new event on the node's hub as the same live message the in-process driver
sends (:meth:`hotline.core.events.Event.live_message`), in log order, so a desk or wallboard
stream on this node looks like one on the owner's — and, since the positions are the log's,
a screen resumes on this node from where it left another (:mod:`hotline.web.resume`).

It reads what the owner *committed*: a batch refused by fencing was never in the log, so no
screen shows an event that did not happen. It wakes on ``hotline_events`` (PostgreSQL
NOTIFY, sent with each owner batch) and polls every ``poll_s`` regardless, as the owner
does with its inbox: a notification lost while the listener reconnects costs one poll. When
the owner dies the tail simply sees the next owner's batches, which number on from the last
committed event; a database that goes away is retried each poll, the listener re-opened.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.center import CenterConfig
from hotline.core.events import Event, EventKind
from hotline.live import callbacks, recovery, saved_center
from hotline.live.log_board import LogBoard
from hotline.store import event_log, notify
from hotline.store.db import reading
from hotline.web.events import EventHub

log = logging.getLogger(__name__)


class LogTail:
    """Publishes the live log's new events on ``hub`` as they are committed."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        hub: EventHub,
        poll_s: float = 0.05,
        batch: int = 500,
        board: LogBoard | None = None,
        board_every_s: float = 0.25,
        on_center: Callable[[CenterConfig, str], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.hub = hub
        self.poll_s = poll_s
        self.batch = batch
        #: The node's wallboard and desk views, kept from the log (``None``: streams only).
        self.board = board
        self.board_every_s = board_every_s
        self._board_at = float("-inf")
        self._board_stale = False
        #: Told each configuration the owner took up and its text (the log's ``configured``
        #: events; on start, the newest one), so the node serves it without a restart.
        self.on_center = on_center
        #: The version of the configuration last taken up from the log (``None``: the file's).
        self.center_version: str | None = None
        #: The last log position published (read from the log on start).
        self.position = 0
        self.published = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self, after: int) -> list[Any]:
        with reading(self.session_factory(), purpose="the web node's log tail") as session:
            return event_log.events_after(session, after=after, limit=self.batch)

    def _newest(self) -> int:
        with reading(self.session_factory(), purpose="the web node's log tail") as session:
            return event_log.last_seq(session)

    def _opening(self) -> tuple[int, list[Event]]:
        """The log's newest position, and what the board folds to start: each agent's last
        state, the contacts not finished, and today's events (for today's figures)."""
        assert self.board is not None
        tz = self.board.wallboard.tz
        midnight = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        with reading(self.session_factory(), purpose="the web node's board") as session:
            newest = event_log.last_seq(session)
            work = recovery.open_work(session)
            crisis = event_log.latest_of(session, EventKind.CRISIS)  # may be days old
            promised = callbacks.pending_events(session, now=time.time())  # days old too
        today = recovery.events_since(self.session_factory, since=midnight.timestamp())
        switch = [crisis] if crisis is not None else []
        opening = [*work.agent_states.values(), *work.contact_events, *switch, *promised, *today]
        events = {e.seq: e for e in opening}
        return newest, [events[seq] for seq in sorted(events) if seq <= newest]

    def _take_up(self, event: Event) -> None:
        """Serve the configuration a ``configured`` event names (read from its inbox row)."""
        with reading(self.session_factory(), purpose="the web node's configuration") as session:
            taken = saved_center.of_event(session, event)
        if taken is None:
            log.error("log tail: configuration %s named by event %d is gone", event.data, event.seq)
            return
        center, text = taken
        if self.board is not None:
            self.board.reconfigure(center)
        if self.on_center is not None:
            self.on_center(center, text)
        self.center_version = str(event.data.get("version"))
        log.info(
            "web node: configuration %s in force (log position %d)", self.center_version, event.seq
        )

    def step(self) -> int:
        """Publish the events committed since the last step; return how many."""
        events = self._read(self.position)
        for event in events:
            if event.kind is EventKind.CONFIGURED:
                self._take_up(event)  # before the screens and the board see what follows
        if self.board is not None and events:
            self.board.record(events)  # before the screens hear of them
            self._board_stale = True
        for event in events:
            self.hub.publish_threadsafe(event.live_message())
            if event.kind is EventKind.CRISIS and self.board is not None:
                # The banners redraw from this message, as on the owner (its driver's switch).
                self.hub.publish_threadsafe({"type": "crisis", **self.board.crisis_view()})
            if event.kind is EventKind.CONFIGURED:
                # as the owner's driver tells its screens (the admin page's status)
                self.hub.publish_threadsafe({"type": "config_applied", "at": event.at})
        if events:
            self.position = events[-1].seq
            self.published += len(events)
        return len(events)

    def draw(self) -> bool:
        """Publish the board when it changed (at most every ``board_every_s``) or a second
        went by, and someone watches; return whether it did."""
        now = time.monotonic()
        due = self._board_at + (self.board_every_s if self._board_stale else 1.0)
        if self.board is None or now < due or not self.hub.subscriber_count:
            return False
        self.hub.publish_threadsafe(self.board.snapshot(time.time()))
        self._board_at, self._board_stale = now, False
        return True

    def _newest_center(self) -> None:
        with reading(self.session_factory(), purpose="the web node's configuration") as session:
            newest = event_log.latest_of(session, EventKind.CONFIGURED)
        if newest is not None:
            self._take_up(newest)

    async def start(self, _: Any = None) -> None:
        """Start after the log's newest event (screens resume from the log for the past);
        the configuration the owner last took up replaces the node's file; the board first
        folds the log's open work and today's events."""
        await asyncio.to_thread(self._newest_center)
        if self.board is not None:
            self.position, opening = await asyncio.to_thread(self._opening)
            self.board.record(opening)
        else:
            self.position = await asyncio.to_thread(self._newest)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="log-tail", daemon=True)
        self._thread.start()

    async def stop(self, _: Any = None) -> None:
        """Stop following the log."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None

    def _listen(self) -> notify.Listener | None:
        bind = self.session_factory.kw.get("bind")
        if not isinstance(bind, Engine):
            return None
        try:
            return notify.listener(bind, notify.EVENTS)
        except Exception:  # the database is away: poll until it is back
            log.warning("log tail: cannot listen on %s; polling", notify.EVENTS)
            return None

    def _run(self) -> None:
        woken = self._listen()
        try:
            while not self._stop.is_set():
                try:
                    while self.step() == self.batch:  # a backlog: read on without waiting
                        pass
                    self.draw()
                    if woken is None:
                        self._stop.wait(self.poll_s)
                        woken = self._listen()
                    else:
                        woken.wait(self.poll_s)
                except Exception:
                    log.exception("log tail: reading the event log failed; retrying")
                    if woken is not None:
                        woken.close()
                        woken = None
                    self._stop.wait(self.poll_s)
        finally:
            if woken is not None:
                woken.close()


def center_server(app: Any) -> Callable[[CenterConfig, str], None]:
    """What a web node does with a configuration the owner took up: serve it (every route
    reads ``app.state.center``) and edit it on the admin page (``app.state.center_text``)."""

    def serve(center: CenterConfig, text: str) -> None:
        app.state.center = center
        app.state.center_text = text

    return serve


def attach_web_node(app: Any, *, partition: str, poll_s: float = 0.05) -> LogTail:
    """Make ``app`` a web node without the engine for ``partition``: its hub follows the log
    (started and stopped with the app), its wallboard and desk views are folded from it
    (``app.state.log_board``), its desks' actions go to the partition's inbox
    (``app.state.partition``, see ``web.api.live.agent_state`` and ``.calls``). Its start
    fails only the import jobs of dead servers, as every server's does
    (:func:`hotline.web.app.fail_interrupted_imports`)."""
    center: CenterConfig | None = app.state.center
    board = LogBoard(center) if center is not None else None
    tail = LogTail(
        session_factory=app.state.session_factory,
        hub=app.state.hub,
        poll_s=poll_s,
        board=board,
        on_center=center_server(app),
    )
    app.state.partition = partition
    app.state.log_tail = tail
    app.state.log_board = board
    app.state.on_start.append(tail.start)
    app.state.on_stop.append(tail.stop)
    return tail
