"""An import job cut short by kill -9 is failed on the next start, its staged rows removed.

Before, such a job stayed ``running`` (here ``staging``) forever, and its staged rows stayed
in the staging tables: a client following it waited for ever, and the rows were never freed.
The app's start (its lifespan, beside the live driver's crash recovery) now ends it — the
full server's start, not a web node's (``hotline serve --web-only``), one of several servers
on the database, whose start would have failed a job another server was still running.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.validate import load_center
from hotline.core.settings import Settings
from hotline.metrics import service
from hotline.metrics.records import ContactRecord
from hotline.store.db import utcnow
from hotline.store.jobs import create_job
from hotline.store.models.imports import ImportJob, StagedContactRecord, StagedCustomer
from hotline.store.models.metrics import ContactRecordRow
from hotline.web.app import create_app
from hotline.web.log_tail import attach_web_node
from tests.integration.web.conftest import SAMPLE


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_job_left_running_is_failed_on_the_next_start_and_its_staged_rows_removed(
    db_session: Session, session_factory: sessionmaker[Session], tmp_path: object
) -> None:
    # A contacts job killed while staging, a customers job killed while checking, and one
    # that had ended: as a crashed server left them.
    contacts = create_job(db_session, kind="contacts", file="march.csv", actor="planner")
    contacts.state, contacts.rows_total, contacts.rows_done = "staging", 4000, 2000
    contacts.result = {"stored": 0, "rows_read": 4000, "encoding": "utf-8"}
    records = [
        ContactRecord(contact_id=f"c{i}", arrived_at=1e9 + i, outcome="abandoned")
        for i in range(2000)
    ]
    service.stage_records(db_session, job_id=contacts.id, records=records, first_seq=1)
    customers = create_job(db_session, kind="customers", file="c.csv", actor="boss")
    customers.state = "checking"
    db_session.add(
        StagedCustomer(
            job_id=customers.id, seq=1, line=2, name="x", name_folded="x", site=None, vip_level=0
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
    assert _count(db_session, StagedContactRecord) == _count(db_session, StagedCustomer) == 0
    assert _count(db_session, ContactRecordRow) == 0


def test_a_web_nodes_start_leaves_running_jobs_alone(
    db_session: Session, session_factory: sessionmaker[Session], tmp_path: object
) -> None:
    job = create_job(db_session, kind="customers", file="c.csv", actor="boss")
    job.state = "checking"  # another server's worker is checking it now
    db_session.add(
        StagedCustomer(
            job_id=job.id, seq=1, line=2, name="x", name_folded="x", site=None, vip_level=0
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
    assert _count(db_session, StagedCustomer) == 1
