"""Import jobs, kind by kind: the records every background import keeps, and their recovery.

Each domain that imports big files in the background (customers in :mod:`hotline.crm.imports`,
contact records in :mod:`hotline.metrics.imports`) records its run in ``import_jobs`` through
these functions and keeps its checked rows in its own staging table until one short publish.

A job cut short by a crash (kill -9, power loss) stays ``running`` with staged rows left over;
:func:`fail_interrupted_jobs` ends such jobs ``failed`` and deletes their staged rows, so
nothing half-imported is ever published and nobody waits on them forever. Several servers
share a database (a full server, web nodes), so a job records its **owner** — the server
process running it (:func:`process_owner`) — and that owner's **heartbeat** (seconds on the
database's clock, renewed by :class:`JobLease` every few seconds for all of its jobs): a job is
interrupted only when its owner's heartbeat has lapsed (:data:`LEASE_S`). Every server's start
and every server's sweep (:meth:`JobLease.step`) fail those and only those; a job another live
server is running, and its staged rows, are left alone.

>>> ENDED_STATES
('done', 'failed')
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, or_, select, update
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
from hotline.store.partitions import database_now

log = logging.getLogger(__name__)

#: A job in one of these states has ended; any other state means a worker still owns it.
ENDED_STATES = ("done", "failed")
#: What an interrupted job's result says.
INTERRUPTED = "interrupted by a restart"
#: How often a server renews the heartbeat of the jobs it runs (seconds).
BEAT_S = 5.0
#: A job whose owner has not renewed its heartbeat for this long is a dead server's.
LEASE_S = 30.0

_OWNER: list[str] = []


def process_owner() -> str:
    """This server process's name as a job's owner: host, pid and a token of this run (a
    restarted server with the same pid is another owner)."""
    if not _OWNER:
        _OWNER.append(f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    return _OWNER[0]


# Every staging table, whatever the job's kind: recovery empties them for interrupted jobs.
_STAGING_TABLES: tuple[Any, ...] = (StagedCustomer, StagedContactPoint, StagedContactRecord)
# A campaign list job stages its rows as the campaign's records, held by the job
# (``hotline.campaigns.service.staged_by``) until it publishes them.
_STAGED_CAMPAIGN_RECORDS = CampaignRecord.held_by.like("import:%")


def create_job(
    session: Session, *, kind: str, file: str, actor: str, owner: str | None = None
) -> ImportJob:
    """Record a queued import job in the caller's transaction; returns it (id set). Its owner
    is this process (or ``owner``), its heartbeat now: the process runs it and renews it."""
    job = ImportJob(
        owner=owner or process_owner(),
        heartbeat_at=database_now(session),
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


def gone_here(owners: Sequence[str | None]) -> list[str]:
    """The ``owners`` that were processes of this host which no longer run: dead at once,
    without waiting out their lease (a server restarted after kill -9 fails its own jobs on
    its start, as the one server did before jobs had owners).

    >>> gone_here([process_owner(), "elsewhere:1:ab", None])
    []
    """
    host = socket.gethostname()[:64]
    gone = []
    for owner in owners:
        name, _, rest = (owner or "").partition(":")
        pid, _, _ = rest.partition(":")
        if name != host or not pid.isdigit() or owner == process_owner():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            gone.append(str(owner))
        except OSError:  # alive, another user's
            continue
        else:
            continue  # a process with that pid runs (perhaps another: its lease decides)
    return gone


def _dead(session: Session, *, lease_s: float) -> Any:
    """The condition "not ended and its owner is dead": its heartbeat lapsed (or it never had
    one: a job recorded before jobs had owners), or it was a process of this host that is
    gone (:func:`gone_here`)."""
    lapsed = database_now(session) - lease_s
    owners = session.scalars(
        select(ImportJob.owner).where(ImportJob.state.not_in(ENDED_STATES)).distinct()
    ).all()
    return ImportJob.state.not_in(ENDED_STATES) & or_(
        ImportJob.heartbeat_at.is_(None),
        ImportJob.heartbeat_at < lapsed,
        ImportJob.owner.in_(gone_here(owners)),
    )


def _live_ids(session: Session) -> list[str]:
    """The jobs not ended (after the dead ones were failed: those live servers run)."""
    return list(session.scalars(select(ImportJob.id).where(ImportJob.state.not_in(ENDED_STATES))))


def _left_over(session: Session, live: Sequence[str]) -> list[Any]:
    """Conditions selecting the staged rows of no live job, one per staging table."""
    held = [f"import:{job_id}" for job_id in live]
    return [
        *(table.job_id.not_in(live) for table in _STAGING_TABLES),
        _STAGED_CAMPAIGN_RECORDS & CampaignRecord.held_by.not_in(held),
    ]


def has_interrupted_work(
    session: Session, *, lease_s: float = LEASE_S, left_overs: bool = True
) -> bool:
    """Whether a dead server's job has not ended or (with ``left_overs``) a staged row of no
    live job is left: a read, to skip the write (and the writer queue) of
    :func:`fail_interrupted_jobs` when there is nothing to do (the usual case). Looking for
    left-over rows reads the staging tables, which a big import fills with millions of rows:
    a start does it, the sweeps that run every few seconds do not."""
    if session.scalar(select(ImportJob.id).where(_dead(session, lease_s=lease_s)).limit(1)):
        return True
    if not left_overs:
        return False
    live = _live_ids(session)
    tables = (*_STAGING_TABLES, CampaignRecord)
    return any(
        session.scalar(select(table.id).where(left).limit(1)) is not None
        for table, left in zip(tables, _left_over(session, live), strict=True)
    )


def fail_interrupted_jobs(
    session: Session, *, lease_s: float = LEASE_S, left_overs: bool = True
) -> list[str]:
    """End every job of a dead server — not ended, its owner's heartbeat older than
    ``lease_s`` — as ``failed`` (interrupted by a restart) and delete the staged rows of every
    job not running any more, in the caller's (write) transaction; return the failed jobs'
    ids. A job a live server runs (its heartbeat renewed) and its staged rows are untouched.

    A job is failed only if its row still says it is dead when updated (one conditional
    ``UPDATE`` each), so two servers sweeping at once, or an owner renewing at that moment,
    never both win. Without ``left_overs`` (the sweeps) only the failed jobs' own staged rows
    go (by their index), not those of jobs whose failure path never ran.
    """
    jobs = session.scalars(select(ImportJob).where(_dead(session, lease_s=lease_s))).all()
    ids = []
    now = utcnow()
    for job in jobs:
        was = job.state
        result = dict(job.result or {})
        result.update(error="interrupted", message=f"{INTERRUPTED} (while {was})", imported=0)
        if "stored" in result:
            result["stored"] = 0
        failed = session.execute(
            update(ImportJob)
            .where(ImportJob.id == job.id, _dead(session, lease_s=lease_s))
            .values(state="failed", finished_at=now, result=result)
            .execution_options(synchronize_session=False)
        )
        if getattr(failed, "rowcount", 0):
            ids.append(job.id)
    session.expire_all()
    tables = (*_STAGING_TABLES, CampaignRecord)
    if left_overs:
        # The staged rows of no live job are left-overs (of these jobs, or of one whose
        # failure path never ran): nothing else reads them.
        conditions = _left_over(session, _live_ids(session))
    else:
        held = [f"import:{job_id}" for job_id in ids]
        conditions = [
            *(table.job_id.in_(ids) for table in _STAGING_TABLES),
            CampaignRecord.held_by.in_(held),
        ]
    for table, condition in zip(tables, conditions, strict=True):
        session.execute(delete(table).where(condition).execution_options(synchronize_session=False))
    session.flush()
    return ids


def renew_heartbeat(session: Session, *, owner: str) -> int:
    """Say that ``owner`` is alive: its jobs not ended get the database's time now as their
    heartbeat (in the caller's transaction); return how many."""
    renewed = session.execute(
        update(ImportJob)
        .where(ImportJob.owner == owner, ImportJob.state.not_in(ENDED_STATES))
        .values(heartbeat_at=database_now(session))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(renewed, "rowcount", 0) or 0)


class JobLease:
    """A server's side of the jobs' leases, in a thread of its own: every ``beat_s`` it renews
    the heartbeat of the jobs ``owner`` runs and fails the jobs of owners dead for
    ``lease_s`` (:func:`fail_interrupted_jobs`; a read first, so a quiet sweep writes
    nothing)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        owner: str | None = None,
        beat_s: float = BEAT_S,
        lease_s: float = LEASE_S,
    ) -> None:
        if lease_s <= 2 * beat_s:
            raise ValueError(f"lease_s ({lease_s}) must be more than 2 × beat_s ({beat_s})")
        self.factory = factory
        self.owner = owner or process_owner()
        self.beat_s = beat_s
        self.lease_s = lease_s
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> list[str]:
        """Renew this owner's jobs and fail dead owners' jobs; return the ids failed."""
        with self.factory() as session:
            busy = session.scalar(
                select(ImportJob.id)
                .where(ImportJob.owner == self.owner, ImportJob.state.not_in(ENDED_STATES))
                .limit(1)
            )
            dead = has_interrupted_work(session, lease_s=self.lease_s, left_overs=False)
        if busy is None and not dead:
            return []
        with writing(self.factory()) as session:
            renew_heartbeat(session, owner=self.owner)
            ids = []
            if dead:
                ids = fail_interrupted_jobs(session, lease_s=self.lease_s, left_overs=False)
            session.commit()
        for job_id in ids:
            log.warning("import job %s: its server stopped renewing it; failed", job_id)
        self.failed.extend(ids)
        return ids

    def start(self) -> None:
        """Run :meth:`step` every ``beat_s`` until :meth:`stop`."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="job-lease", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> JobLease:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.beat_s):
            try:
                self.step()
            except Exception:  # the database away: the next beat tries again
                log.exception("import jobs: renewing or sweeping failed; retrying")


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
