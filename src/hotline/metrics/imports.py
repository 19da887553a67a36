"""Contact-record imports as background jobs: a month of history goes in beside live work.

A bank month is ~40,000 records per file. Stored in one write transaction, it held SQLite's
only write lock for the whole insert, and sign-ins, state changes and tickets waited or failed.
A job (kind ``contacts``, recorded in ``import_jobs`` like customer imports) now runs so:

1. the file is **read and checked** before the job starts (no transaction at all; a refused
   file never becomes a job), and the read's summary (rows read, skipped lines, encoding)
   goes into the job's result;
2. the records are **staged** in chunks of ``CHUNK`` rows, one short transaction each, into
   ``import_staged_contact_records``, which nothing else reads; other writers take turns;
3. **publish**: one short transaction deletes the source's old records when replacing, copies
   the staged rows with one ``INSERT … SELECT`` and marks the job done: all of it, or none.

A job that fails at any step deletes its staged rows and stores nothing; the source's earlier
records stay as they were.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.errors import Conflict
from hotline.metrics.importer import ReadResult
from hotline.metrics.records import ContactRecord
from hotline.metrics.service import discard_staged_records, publish_staged_records, stage_records
from hotline.store.db import utcnow, writing
from hotline.store.jobs import job_updater

log = logging.getLogger(__name__)

KIND = "contacts"  # the job kind in import_jobs
CHUNK = 2000  # records per staging transaction: a few tens of milliseconds of the write lock
MAX_SKIPPED = 1000  # a job's result lists at most this many skipped rows

Progress = Callable[[dict[str, Any]], None]


class JobStopped(Exception):
    """The job was told to stop (the server is stopping) before it finished."""


def read_summary(read: ReadResult) -> dict[str, Any]:
    """What a job's result says of the file it read (before anything is stored)."""
    return {
        "stored": 0,
        "rows_read": read.rows_read,
        "ignored": read.ignored,
        "encoding": read.encoding,
        "skipped_lines": read.skipped_lines[:MAX_SKIPPED],
        "skipped": [
            {"line": p.line, "field": p.field, "rule": p.rule} for p in read.skipped[:MAX_SKIPPED]
        ],
    }


def run_contact_import(
    factory: sessionmaker[Session],
    *,
    job_id: str,
    records: Sequence[ContactRecord],
    source: str,
    replace: bool = False,
    summary: dict[str, Any] | None = None,
    chunk: int = CHUNK,
    on_progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Stage and publish a queued contacts job's checked ``records`` (in the calling thread);
    return the job's final view.

    Never raises for a failed write or a source that already exists (without ``replace``):
    the job ends ``failed`` with the reason and nothing stored. ``stop``, once set, ends the
    job at its next chunk (the server is stopping). ``summary`` (:func:`read_summary`) starts
    the job's result.
    """
    base = dict(summary or {"stored": 0})

    update = job_updater(factory, job_id, on_progress)

    total = len(records)
    update(state="staging", rows_total=total, rows_done=0, result=base)
    try:
        for start in range(0, total, chunk):
            if stop is not None and stop.is_set():
                raise JobStopped("the server stopped before the import finished")
            part = records[start : start + chunk]
            with writing(factory()) as session:
                stage_records(session, job_id=job_id, records=part, first_seq=start + 1)
                update(session, rows_done=start + len(part))
                session.commit()
        update(state="publishing")
        with writing(factory()) as session:
            stored = publish_staged_records(session, job_id=job_id, source=source, replace=replace)
            result = {**base, "stored": stored, "source": source}
            view = update(session, state="done", finished_at=utcnow(), result=result)
            session.commit()
        return view
    except Exception as error:  # any failure ends the job, with nothing stored
        if not isinstance(error, Conflict | JobStopped):
            log.exception("contact-record import %s failed", job_id)
        name = "conflict" if isinstance(error, Conflict) else "failed"
        with writing(factory()) as session:
            discard_staged_records(session, job_id=job_id)
            session.commit()
        return update(
            state="failed",
            finished_at=utcnow(),
            result={**base, "error": name, "message": str(error)[:500], "stored": 0},
        )
