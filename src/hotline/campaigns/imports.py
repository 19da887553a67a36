"""Campaign list imports as background jobs: a big list no longer holds the database.

A 20,000-row list file held SQLite's writer turn for 2–3.5 s as one transaction, while no
one could sign in, change state or record a result. The file is now checked whole first, in
the request (a bad row is a located 422 and nothing starts), and the job then writes it:

1. **stage** the checked rows in chunks (``CHUNK`` rows per transaction) as the campaign's
   records, held by the job (:func:`~hotline.campaigns.service.staged_by`), so no claim takes
   them — other writers take turns between chunks;
2. **publish** them with one statement in the transaction that marks the job done
   (:func:`~hotline.campaigns.service.publish_list`): all rows dialable at once, or none.

A job that fails deletes what it staged (:func:`~hotline.campaigns.service.discard_list`);
one cut short by a crash is cleaned up when the server starts
(:func:`hotline.store.jobs.fail_interrupted_jobs`). Progress and the counts live in
``import_jobs`` (kind ``campaign_list``), for the API and the CLI to show.

>>> # rows = check_list(session, campaign_id=4, text=csv_text, file="dec.csv")
>>> # job = create_job(session, kind=LIST_JOB, file="dec.csv", actor="boss"); session.commit()
>>> # run_list_import(factory, job_id=job.id, campaign_id=4, rows=rows, file="dec.csv",
>>> #                 actor="boss")
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns.lists import ListRow
from hotline.campaigns.service import discard_list, publish_list, stage_list
from hotline.store.db import utcnow, writing
from hotline.store.jobs import create_job, get_job, job_updater, job_view

__all__ = ["CHUNK", "LIST_JOB", "create_job", "get_job", "job_view", "run_list_import"]

log = logging.getLogger(__name__)

CHUNK = 1000  # rows per staging transaction: a few milliseconds of the writer turn each
LIST_JOB = "campaign_list"


class JobStopped(Exception):
    """The job was told to stop (the server is stopping) before it finished."""


def run_list_import(
    factory: sessionmaker[Session],
    *,
    job_id: str,
    campaign_id: int,
    rows: Sequence[ListRow],
    file: str,
    actor: str,
    chunk: int = CHUNK,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Run a queued list job to its end (in the calling thread); return its final view.

    Never raises: a failed write (the campaign finished meanwhile, the database gone) ends
    the job ``failed`` with the reason and nothing imported. ``stop``, once set, ends the job
    at its next chunk (the server is stopping).
    """
    update = job_updater(factory, job_id, on_progress)
    total = len(rows)
    update(state="staging", rows_total=total)
    counts = {"added": 0, "blocked": 0, "already_listed": 0}
    try:
        for start in range(0, total, chunk):
            if stop is not None and stop.is_set():
                raise JobStopped("the server stopped before the import finished")
            part = rows[start : start + chunk]
            with writing(factory()) as session:
                staged = stage_list(
                    session, campaign_id=campaign_id, job_id=job_id, rows=part, file=file
                )
                update(session, rows_done=start + len(part))
                session.commit()
            for name in counts:
                counts[name] += staged[name]
        update(state="publishing")
        with writing(factory()) as session:
            publish_list(
                session,
                campaign_id=campaign_id,
                job_id=job_id,
                file=file,
                rows=total,
                counts=counts,
                actor=actor,
            )
            view = update(session, state="done", finished_at=utcnow(), result=dict(counts))
            session.commit()
        return view
    except Exception as error:  # any failure ends the job, with nothing imported
        log.exception("campaign list import %s failed", job_id)
        with writing(factory()) as session:
            discard_list(session, job_id=job_id)
            session.commit()
        return update(
            state="failed",
            finished_at=utcnow(),
            result={"error": "failed", "message": str(error)[:500], "added": 0},
        )
