"""The web app's background worker for long jobs (imports): one at a time, off the request.

A request that starts a job answers 202 at once; the job runs in this worker thread and
takes its turns at the database like any other writer. Jobs run one after another, so two
big imports never compete. When the app stops, the running job is told to stop at its next
chunk (it ends ``failed``, nothing published) and queued ones are dropped.

Several servers may share the database (a full server, web nodes), so the worker's server
renews the heartbeat of the jobs it runs (:class:`hotline.store.jobs.JobLease`, started with
the worker) and the full server sweeps the jobs of dead servers (:class:`JobSweeper`); a job
another live server runs is never failed.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hotline.live.sweeper import Sweeper, attach_sweeper
from hotline.store.db import writing
from hotline.store.jobs import LEASE_S, JobLease, fail_interrupted_jobs, has_interrupted_work


def background(app: Any) -> ThreadPoolExecutor:
    """The app's job worker, started on first use and shut down when the app stops."""
    worker: ThreadPoolExecutor | None = getattr(app.state, "job_worker", None)
    if worker is None:
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotline-job")
        app.state.job_worker = worker
        event = stopping(app)
        # this server says it is alive for its jobs (and fails dead servers' on the way)
        lease = JobLease(app.state.session_factory)
        app.state.job_lease = lease
        lease.start()

        async def stop(_: Any) -> None:
            event.set()
            worker.shutdown(wait=False, cancel_futures=True)
            lease.stop()

        app.state.on_stop.append(stop)
    return worker


def stopping(app: Any) -> threading.Event:
    """Set when the app stops: long jobs check it between chunks."""
    event: threading.Event | None = getattr(app.state, "job_stop", None)
    if event is None:
        event = threading.Event()
        app.state.job_stop = event
    return event


class JobSweeper(Sweeper):
    """Fails the import jobs of servers whose heartbeat lapsed (a read first: a quiet sweep
    writes nothing); returns their ids."""

    name = "import job sweep"

    def sweep_once(self) -> list[str]:
        with self.session_factory() as session:
            if not has_interrupted_work(session, lease_s=LEASE_S, left_overs=False):
                return []
        with writing(self.session_factory()) as session:
            ids = fail_interrupted_jobs(session, lease_s=LEASE_S, left_overs=False)
            session.commit()
        return ids


def attach_job_sweeper(app: Any, *, every_s: float | None = None) -> JobSweeper | None:
    """Sweep dead servers' import jobs while ``app`` runs (``app.state.job_sweeper``);
    ``every_s`` defaults to ``HOTLINE_JOB_SWEEP_S``, else 30 s (a dead server's job is
    failed within its lease, 30 s, and one sweep after its death)."""
    if every_s is None and not os.environ.get("HOTLINE_JOB_SWEEP_S"):
        every_s = 30.0
    return attach_sweeper(
        app, JobSweeper, attribute="job_sweeper", variable="HOTLINE_JOB_SWEEP_S", every_s=every_s
    )
