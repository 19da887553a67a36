"""Import jobs, kind by kind: the records every background import keeps, and their recovery.

Each domain that imports big files in the background (customers in :mod:`hotline.crm.imports`,
contact records in :mod:`hotline.metrics.imports`) records its run in ``import_jobs`` through
these functions and keeps its checked rows in its own staging table until one short publish.

A job cut short by a crash (kill -9, power loss) stays ``running`` with staged rows left over;
:func:`fail_interrupted_jobs`, run when the server starts, ends such jobs ``failed`` and deletes
their staged rows, so nothing half-imported is ever published and nobody waits on them forever.

>>> ENDED_STATES
('done', 'failed')
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.errors import NotFound
from hotline.store.db import utcnow, writing
from hotline.store.models.campaigns import CampaignRecord
from hotline.store.models.imports import (
    ImportJob,
    StagedContactPoint,
    StagedContactRecord,
    StagedCustomer,
)

#: A job in one of these states has ended; any other state means a worker still owns it.
ENDED_STATES = ("done", "failed")
#: What an interrupted job's result says.
INTERRUPTED = "interrupted by a restart"

# Every staging table, whatever the job's kind: recovery empties them for interrupted jobs.
_STAGING_TABLES: tuple[Any, ...] = (StagedCustomer, StagedContactPoint, StagedContactRecord)
# A campaign list job stages its rows as the campaign's records, held by the job
# (``hotline.campaigns.service.staged_by``) until it publishes them.
_STAGED_CAMPAIGN_RECORDS = CampaignRecord.held_by.like("import:%")


def create_job(session: Session, *, kind: str, file: str, actor: str) -> ImportJob:
    """Record a queued import job in the caller's transaction; returns it (id set)."""
    job = ImportJob(
        id=uuid.uuid4().hex,
        kind=kind,
        file=file[:256],
        state="queued",
        rows_total=0,
        rows_done=0,
        created_by=actor,
        created_at=utcnow(),
        result={},
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, *, job_id: str, kind: str | None = None) -> ImportJob:
    """The import job ``job_id`` (of ``kind`` when given); :class:`NotFound` when none."""
    job = session.get(ImportJob, job_id)
    if job is None or (kind is not None and job.kind != kind):
        raise NotFound(f"import job {job_id} does not exist")
    return job


def job_view(job: ImportJob) -> dict[str, Any]:
    """What the API and the CLI show of a job."""
    return {
        "job_id": job.id,
        "kind": job.kind,
        "file": job.file,
        "state": job.state,
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "created_by": job.created_by,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "result": dict(job.result or {}),
    }


def has_interrupted_work(session: Session) -> bool:
    """Whether a job has not ended or a staged row is left: a read, to skip the write (and
    the writer queue) of :func:`fail_interrupted_jobs` on the usual clean start."""
    unfinished = select(ImportJob.id).where(ImportJob.state.not_in(ENDED_STATES)).limit(1)
    if session.scalar(unfinished) is not None:
        return True
    if session.scalar(select(CampaignRecord.id).where(_STAGED_CAMPAIGN_RECORDS).limit(1)):
        return True
    return any(session.scalar(select(table.id).limit(1)) is not None for table in _STAGING_TABLES)


def fail_interrupted_jobs(session: Session) -> list[str]:
    """End every job that has not ended as ``failed`` (interrupted by a restart) and delete
    its staged rows, in the caller's (write) transaction; return the ids of those jobs.

    Call it only when no worker can be running a job: when the one server that owns the
    database starts, before it takes any import. That holds today (one server per database;
    an import run from the command line while the server starts is the one exception, and it
    ends failed, nothing published). Several nodes on one database will need the routing
    engine's lease (a PostgreSQL advisory lock) held by a job's owner, and to fail only the
    jobs of an owner whose lease has lapsed.
    """
    jobs = session.scalars(select(ImportJob).where(ImportJob.state.not_in(ENDED_STATES))).all()
    ids = [job.id for job in jobs]
    now = utcnow()
    for job in jobs:
        was = job.state
        job.state = "failed"
        job.finished_at = now
        result = dict(job.result or {})
        result.update(error="interrupted", message=f"{INTERRUPTED} (while {was})", imported=0)
        if "stored" in result:
            result["stored"] = 0
        job.result = result
    session.flush()
    # No job runs now, so every staged row is a left-over (of these jobs, or of one whose
    # failure path never ran): nothing else reads them.
    for table in _STAGING_TABLES:
        session.execute(delete(table))
    session.execute(delete(CampaignRecord).where(_STAGED_CAMPAIGN_RECORDS))
    session.flush()
    return ids


JobUpdate = Callable[..., dict[str, Any]]


def job_updater(
    factory: sessionmaker[Session],
    job_id: str,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> JobUpdate:
    """``update(session=None, **fields)``: set a job's fields and return its view.

    With no session it writes in a short transaction of its own (queued as a writer); with
    one, in that session's transaction. Each update is also handed to ``on_progress``.
    """

    def update(session: Session | None = None, **fields: Any) -> dict[str, Any]:
        own = session is None
        session = session or writing(factory())
        try:
            job = get_job(session, job_id=job_id)
            for name, value in fields.items():
                setattr(job, name, value)
            view = job_view(job)
            if own:
                session.commit()
        finally:
            if own:
                session.close()
        if on_progress is not None:
            on_progress(view)
        return view

    return update
