"""The web app's background worker for long jobs (imports): one at a time, off the request.

A request that starts a job answers 202 at once; the job runs in this worker thread and
takes its turns at the database like any other writer. Jobs run one after another, so two
big imports never compete. When the app stops, the running job is told to stop at its next
chunk (it ends ``failed``, nothing published) and queued ones are dropped.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def background(app: Any) -> ThreadPoolExecutor:
    """The app's job worker, started on first use and shut down when the app stops."""
    worker: ThreadPoolExecutor | None = getattr(app.state, "job_worker", None)
    if worker is None:
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotline-job")
        app.state.job_worker = worker
        event = stopping(app)

        async def stop(_: Any) -> None:
            event.set()
            worker.shutdown(wait=False, cancel_futures=True)

        app.state.on_stop.append(stop)
    return worker


def stopping(app: Any) -> threading.Event:
    """Set when the app stops: long jobs check it between chunks."""
    event: threading.Event | None = getattr(app.state, "job_stop", None)
    if event is None:
        event = threading.Event()
        app.state.job_stop = event
    return event
