"""Customer imports as background jobs: the center keeps working while a big file goes in.

A 40,000-row customer file used to be one write transaction: for minutes no one could sign
in, change state or open a ticket. A job now runs in three steps, each short for the database:

1. **check** the whole file in memory (no transaction at all): a bad row fails the job with
   file, line, field and rule, and nothing is written;
2. **stage** the checked rows in chunks (``CHUNK`` rows per transaction) into the job's own
   staging tables, which nothing else reads; other writers take turns between chunks;
3. **publish** with one set-based swap (:func:`hotline.crm.service.publish_staged_customers`)
   in the same transaction that marks the job done: all rows or none.

A job that fails at any step deletes its staged rows. Progress (``rows_done`` of
``rows_total``) and the result live in ``import_jobs``, for the API and the CLI to show.

>>> # job = create_job(session, kind="customers", file="c.csv", actor="boss"); session.commit()
>>> # run_customer_import(factory, job_id=job.id, text=csv_text, file="c.csv", actor="boss")
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.errors import ValidationFailed
from hotline.crm.service import (
    check_customers_csv,
    discard_staged_customers,
    publish_staged_customers,
    stage_customers,
)
from hotline.store.db import utcnow, writing

# The job records are every import kind's (contact records too): kept in the store, used here.
from hotline.store.jobs import create_job, get_job, job_updater, job_view

__all__ = ["CHUNK", "JobStopped", "create_job", "get_job", "job_view", "run_customer_import"]

log = logging.getLogger(__name__)

CHUNK = 500  # rows per staging transaction: a few milliseconds of the write lock each
MAX_PROBLEMS = 1000  # a job's result lists at most this many bad rows

Progress = Callable[[dict[str, Any]], None]


class JobStopped(Exception):
    """The job was told to stop (the server is stopping) before it finished."""


def run_customer_import(
    factory: sessionmaker[Session],
    *,
    job_id: str,
    text: str,
    file: str,
    actor: str,
    default_area_code: str | None = None,
    chunk: int = CHUNK,
    on_progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Run a queued customers job to its end (in the calling thread); return its final view.

    Never raises for a bad file or a failed write: the job ends ``failed`` with the reason.
    ``stop``, once set, ends the job at its next chunk (the server is stopping).
    """

    update = job_updater(factory, job_id, on_progress)

    update(state="checking")
    try:
        checked = check_customers_csv(text=text, file=file, default_area_code=default_area_code)
    except ValidationFailed as failed:
        problems = [
            {"file": p.file, "line": p.line, "field": p.field, "problem": p.rule}
            for p in failed.problems[:MAX_PROBLEMS]
        ]
        return update(
            state="failed",
            finished_at=utcnow(),
            result={"error": "invalid_file", "problems": problems, "imported": 0},
        )
    total = len(checked)
    update(state="staging", rows_total=total)
    try:
        for start in range(0, total, chunk):
            if stop is not None and stop.is_set():
                raise JobStopped("the server stopped before the import finished")
            part = checked[start : start + chunk]
            with writing(factory()) as session:
                stage_customers(session, job_id=job_id, customers=part, first_seq=start + 1)
                update(session, rows_done=start + len(part))
                session.commit()
        update(state="publishing")
        with writing(factory()) as session:
            ids = publish_staged_customers(session, job_id=job_id, file=file, actor=actor)
            result = {"imported": len(ids), "first_id": ids[0] if ids else None}
            result["last_id"] = ids[-1] if ids else None
            view = update(session, state="done", finished_at=utcnow(), result=result)
            session.commit()
        return view
    except Exception as error:  # any failure ends the job, with nothing imported
        log.exception("customer import %s failed", job_id)
        with writing(factory()) as session:
            discard_staged_customers(session, job_id=job_id)
            session.commit()
        return update(
            state="failed",
            finished_at=utcnow(),
            result={"error": "failed", "message": str(error)[:500], "imported": 0},
        )
