"""A contact-record import job on SQLite and PostgreSQL: bounded staging, then one publish
that replaces a source whole or changes nothing at all."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.metrics import imports, service
from hotline.metrics.records import ContactRecord
from hotline.store.jobs import create_job
from hotline.store.models.imports import StagedContactRecord
from hotline.store.models.metrics import ContactRecordRow


def _records(names: list[str]) -> list[ContactRecord]:
    return [
        ContactRecord(contact_id=name, arrived_at=1_772_438_400.0 + i, outcome="abandoned")
        for i, name in enumerate(names)
    ]


def _job(session: Session) -> str:
    job_id = create_job(session, kind=imports.KIND, file="f.csv", actor="planner").id
    session.commit()
    return job_id


def _stored(session: Session, source: str) -> list[str]:
    session.expire_all()
    query = select(ContactRecordRow.contact_id).where(ContactRecordRow.source == source)
    return sorted(session.scalars(query))


def _staged(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StagedContactRecord)) or 0


def test_records_are_staged_in_bounded_chunks_then_published_at_once(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    seen: list[tuple[str, int, int]] = []

    def progress(job: dict[str, Any]) -> None:
        seen.append((job["state"], job["rows_done"], len(_stored(db_session, "m"))))

    names = [f"c{i:02d}" for i in range(10)]
    job = imports.run_contact_import(
        session_factory,
        job_id=_job(db_session),
        records=_records(names),
        source="m",
        chunk=3,
        summary={"stored": 0, "rows_read": 10},
        on_progress=progress,
    )
    assert job["state"] == "done" and job["result"] == {
        "stored": 10,
        "rows_read": 10,
        "source": "m",
    }
    # One transaction per chunk of 3, nothing visible under the source until the publish.
    staging = [(done, visible) for state, done, visible in seen if state == "staging"]
    assert staging == [(0, 0), (3, 0), (6, 0), (9, 0), (10, 0)]
    assert seen[-1] == ("done", 10, 10)
    assert _stored(db_session, "m") == names and _staged(db_session) == 0


def test_replace_is_all_or_nothing(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    service.import_records(session=db_session, records=_records(["old1", "old2"]), source="m")
    db_session.commit()

    # Without replace, the publish refuses the source: nothing changes.
    refused = imports.run_contact_import(
        session_factory, job_id=_job(db_session), records=_records(["n1"]), source="m"
    )
    assert refused["state"] == "failed" and refused["result"]["error"] == "conflict"
    assert _stored(db_session, "m") == ["old1", "old2"]

    # A publish that fails half-way (a contact id twice: the unique key breaks on insert,
    # after the old records were deleted in the same transaction) leaves the old ones whole.
    broken = imports.run_contact_import(
        session_factory,
        job_id=_job(db_session),
        records=_records(["n1", "n2", "n1"]),
        source="m",
        replace=True,
    )
    assert broken["state"] == "failed" and broken["result"]["stored"] == 0
    assert _stored(db_session, "m") == ["old1", "old2"] and _staged(db_session) == 0

    # A stop (the server is stopping) before the end stores nothing either.
    stop = threading.Event()
    stop.set()
    stopped = imports.run_contact_import(
        session_factory,
        job_id=_job(db_session),
        records=_records(["n1"]),
        source="m",
        replace=True,
        stop=stop,
    )
    assert stopped["state"] == "failed" and "server stopped" in stopped["result"]["message"]
    assert _stored(db_session, "m") == ["old1", "old2"]

    replaced = imports.run_contact_import(
        session_factory,
        job_id=_job(db_session),
        records=_records(["n1", "n2", "n3"]),
        source="m",
        replace=True,
    )
    assert replaced["state"] == "done" and replaced["result"]["stored"] == 3
    assert _stored(db_session, "m") == ["n1", "n2", "n3"] and _staged(db_session) == 0
