"""An import job cut short by kill -9 is failed on the next start, its staged rows removed.

Before, such a job stayed ``running`` (here ``staging``) forever, and its staged rows stayed
in the staging tables: a client following it waited for ever, and the rows were never freed.
The app's start (its lifespan, beside the live driver's crash recovery) now ends it. Several
servers share a database (the full server, web nodes), so a job records its owner and the
owner's heartbeat: a start — any server's — and the sweep fail only the jobs of a dead owner
(its heartbeat lapsed, or a process of this host that is gone), never one another live
server still runs, nor that job's staged rows.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.metrics import service
from hotline.metrics.records import ContactRecord
from hotline.store.db import utcnow
from hotline.store.jobs import JobLease, create_job, process_owner
from hotline.store.models.imports import ImportJob, StagedContactRecord, StagedCustomer
from hotline.store.models.metrics import ContactRecordRow
from hotline.web.app import create_app
from hotline.web.jobs import JobSweeper
from hotline.web.log_tail import attach_web_node
from tests.integration.web.conftest import SAMPLE

#: A server that died long ago: its jobs' heartbeat is decades old.
DEAD = "gone-host:1:deadbeef"
#: Another server, alive: its heartbeat was renewed when the job was recorded.
ALIVE = "other-host:2:a11ce000"


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_job_left_running_is_failed_on_the_next_start_and_its_staged_rows_removed(
    db_session: Session, session_factory: sessionmaker[Session], tmp_path: object
) -> None:
    # A contacts job killed while staging, a customers job killed while checking, and one
    # that had ended: as a crashed server left them.
    contacts = create_job(db_session, kind="contacts", file="march.csv", actor="planner")
    contacts.owner, contacts.heartbeat_at = DEAD, 1.0e9
    contacts.state, contacts.rows_total, contacts.rows_done = "staging", 4000, 2000
    contacts.result = {"stored": 0, "rows_read": 4000, "encoding": "utf-8"}
    records = [
        ContactRecord(contact_id=f"c{i}", arrived_at=1e9 + i, outcome="abandoned")
        for i in range(2000)
    ]
    service.stage_records(db_session, job_id=contacts.id, records=records, first_seq=1)
    customers = create_job(db_session, kind="customers", file="c.csv", actor="boss")
    customers.owner, customers.heartbeat_at = None, None  # recorded before jobs had owners
    customers.state = "checking"
    db_session.add(
        StagedCustomer(
            job_id=customers.id, seq=1, line=2, name="x", name_folded="x", site=None, vip_level=0
        )
    )
    # another server's job, working now: neither it nor its staged row is touched
    working = create_job(db_session, kind="customers", file="w.csv", actor="boss", owner=ALIVE)
    working.state = "staging"
    db_session.add(
        StagedCustomer(
            job_id=working.id, seq=1, line=2, name="y", name_folded="y", site=None, vip_level=0
        )
    )
    ended = create_job(db_session, kind="contacts", file="old.csv", actor="planner")
    ended.state, ended.finished_at, ended.result = "done", utcnow(), {"stored": 7}
    db_session.commit()
    assert _count(db_session, StagedContactRecord) == 2000

    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=session_factory, center=load_center(SAMPLE))
    with TestClient(app):  # the app starts (and stops)
        pass

    db_session.expire_all()
    for job, was in ((contacts, "staging"), (customers, "checking")):
        after = db_session.get(ImportJob, job.id)
        assert after is not None
        assert after.state == "failed" and after.finished_at is not None
        assert after.result["error"] == "interrupted"
        assert after.result["message"] == f"interrupted by a restart (while {was})"
        assert after.result["imported"] == 0
    after_contacts = db_session.get(ImportJob, contacts.id)
    assert after_contacts is not None and after_contacts.result["rows_read"] == 4000
    assert after_contacts.result["stored"] == 0
    untouched = db_session.get(ImportJob, ended.id)
    assert untouched is not None
    assert (untouched.state, untouched.result) == ("done", {"stored": 7})
    assert _count(db_session, StagedContactRecord) == 0
    assert db_session.scalars(select(StagedCustomer.job_id)).all() == [working.id]
    alive = db_session.get(ImportJob, working.id)
    assert alive is not None and (alive.state, alive.finished_at) == ("staging", None)
    assert _count(db_session, ContactRecordRow) == 0


def test_a_web_nodes_start_fails_only_dead_servers_jobs(
    db_session: Session, session_factory: sessionmaker[Session], tmp_path: object
) -> None:
    # A web node's start is one of several servers' (it used to leave every job alone, so a
    # web node's job that died with it stayed running until the full server's restart).
    job = create_job(db_session, kind="customers", file="c.csv", actor="boss", owner=ALIVE)
    job.state = "checking"  # another server's worker is checking it now
    dead = create_job(db_session, kind="customers", file="d.csv", actor="boss", owner=DEAD)
    dead.state, dead.heartbeat_at = "staging", 1.0e9
    for owner in (job, dead):
        db_session.add(
            StagedCustomer(
                job_id=owner.id, seq=1, line=2, name="x", name_folded="x", site=None, vip_level=0
            )
        )
    db_session.commit()
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=session_factory, center=load_center(SAMPLE))
    attach_web_node(app, partition="hefei")
    with TestClient(app):  # the web node starts (and stops)
        pass
    db_session.expire_all()
    after = db_session.get(ImportJob, job.id)
    assert after is not None and (after.state, after.finished_at) == ("checking", None)
    failed = db_session.get(ImportJob, dead.id)
    assert failed is not None and failed.state == "failed"
    assert db_session.scalars(select(StagedCustomer.job_id)).all() == [job.id]


def test_a_job_is_failed_once_its_servers_heartbeat_lapses_not_before(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    # Two servers' leases (short, to keep the test quick): A runs a job and beats; B sweeps.
    a = JobLease(session_factory, owner="host-a:10:aaaa", beat_s=0.1, lease_s=0.5)
    b = JobLease(session_factory, owner="host-b:11:bbbb", beat_s=0.1, lease_s=0.5)
    job = create_job(db_session, kind="customers", file="c.csv", actor="boss", owner=a.owner)
    job.state = "staging"
    other = create_job(db_session, kind="customers", file="o.csv", actor="boss", owner=b.owner)
    other.state = "staging"  # B's own, running: its staged row stays
    for staged in (job, other):
        db_session.add(
            StagedCustomer(
                job_id=staged.id, seq=1, line=2, name="x", name_folded="x", site=None, vip_level=0
            )
        )
    db_session.commit()
    first = job.heartbeat_at
    assert first is not None
    deadline = time.monotonic() + 1.2  # past two leases: A's beats keep the job alive
    while time.monotonic() < deadline:
        assert a.step() == [] and b.step() == []
        time.sleep(0.1)
    db_session.expire_all()
    alive = db_session.get(ImportJob, job.id)
    assert alive is not None and alive.state == "staging"
    assert alive.heartbeat_at is not None and alive.heartbeat_at > first + 0.8
    # A dies (beats no more): B's sweep fails the job once the lease has run out, not before.
    died = time.monotonic()
    failed: list[str] = []
    while not failed and time.monotonic() < died + 5:
        failed = b.step()
        time.sleep(0.05)
    assert failed == [job.id]
    assert 0.3 < time.monotonic() - died < 1.5
    db_session.expire_all()
    after = db_session.get(ImportJob, job.id)
    assert after is not None and after.state == "failed"
    assert after.result["message"] == "interrupted by a restart (while staging)"
    # the sweep deleted the failed job's staged rows by their job (not every table's scan)
    assert db_session.scalars(select(StagedCustomer.job_id)).all() == [other.id]
    # The full server's sweeper does the same with the real lease (here: nothing to do).
    sweeper = JobSweeper(app=None, session_factory=session_factory, every_s=30)
    assert sweeper.sweep_once() == []


def test_a_job_of_a_process_of_this_host_that_is_gone_is_failed_at_once(
    db_session: Session, session_factory: sessionmaker[Session], tmp_path: object
) -> None:
    # A server on this host killed and started again: its old process is gone, so its jobs
    # are failed at the new start without waiting out their lease (as before owners).
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    host = process_owner().split(":")[0]
    job = create_job(
        db_session,
        kind="customers",
        file="c.csv",
        actor="boss",
        owner=f"{host}:{int(gone.stdout)}:0ld0ld00",
    )
    job.state = "checking"  # its heartbeat is fresh: only the process's absence says dead
    mine = create_job(db_session, kind="customers", file="m.csv", actor="boss")
    mine.state = "checking"  # this very process's: alive
    db_session.commit()
    settings = Settings(home=tmp_path, secret_key="test-secret")
    app = create_app(settings=settings, session_factory=session_factory, center=load_center(SAMPLE))
    with TestClient(app):
        pass
    db_session.expire_all()
    after = db_session.get(ImportJob, job.id)
    assert after is not None and after.state == "failed"
    kept = db_session.get(ImportJob, mine.id)
    assert kept is not None and kept.state == "checking"
