"""The follow-up (回访) sweep: tasks for missed resolutions and due reminders, while running.

The ticket-resolve paths make a resolution's follow-up task at once
(:func:`hotline.followup.service.generate_for_ticket`); this sweep catches the ones they
missed (a crash between the resolve and the task, a change made by the command line or a
script) and sends the due-soon reminders and overdue escalations the center's rules ask
for. It runs when the web app starts and then every ``every_s`` seconds (default 300, set
with ``HOTLINE_FOLLOWUP_SWEEP_S``; ``0`` turns it off), in a worker thread, so a slow
database never stalls the event loop. The center configuration is read from the app at
each sweep, so a saved configuration's new rules apply from the next one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hotline.core.clock import Clock
from hotline.followup import service as followup
from hotline.live.sweeper import Sweeper, attach_sweeper
from hotline.store.db import writing


class FollowUpSweeper(Sweeper):
    """Runs :func:`hotline.followup.service.sweep` on start and every ``every_s`` seconds."""

    name = "follow-up sweep"

    def sweep_once(self) -> followup.SweepResult:
        """One sweep in its own write transaction; returns what it did."""
        now = datetime.fromtimestamp(self.clock.now(), UTC)
        with writing(self.session_factory()) as session:
            result = followup.sweep(session, center=self.app.state.center, now=now)
            session.commit()
        return result


def attach_followup_sweeper(
    app: Any, *, every_s: float | None = None, clock: Clock | None = None
) -> FollowUpSweeper | None:
    """Sweep follow-ups while ``app`` runs: ``app.state.followup_sweeper``, started and
    stopped with it; ``every_s`` defaults to ``HOTLINE_FOLLOWUP_SWEEP_S`` (300 s)."""
    return attach_sweeper(
        app,
        FollowUpSweeper,
        attribute="followup_sweeper",
        variable="HOTLINE_FOLLOWUP_SWEEP_S",
        every_s=every_s,
        clock=clock,
    )
