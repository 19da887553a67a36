"""Cases in the database (#16): a contact record's ``case_id`` is stored and read back on SQLite
and PostgreSQL — by the direct import (PostgreSQL's COPY), by an import job's staging and
publish — and the KPI report from the database counts the case once."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from hotline.metrics import imports, service
from hotline.metrics.records import ContactRecord
from hotline.store.jobs import create_job
from tests.unit.metrics.test_cases import T0, answered_contact


def _case(prefix: str) -> list[ContactRecord]:
    """A chat and the callback booked from it, one case."""
    chat = answered_contact(f"{prefix}-chat", "chat", T0)
    return [chat, answered_contact(f"{prefix}-cb", "callback", T0 + 600, case_id=chat.contact_id)]


def _case_ids(session: Session, source: str) -> list[str | None]:
    frame = service.records_frame(session=session, source=source, include_events=False)
    return frame.sort("arrived_at")["case_id"].to_list()


def test_case_ids_are_stored_and_the_report_counts_the_case_once(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    service.import_records(session=db_session, records=_case("d"), source="direct")
    db_session.commit()
    job_id = create_job(db_session, kind=imports.KIND, file="f.csv", actor="planner").id
    db_session.commit()
    job = imports.run_contact_import(
        session_factory, job_id=job_id, records=_case("j"), source="job", summary={}
    )
    assert job["state"] == "done", job
    db_session.expire_all()
    assert _case_ids(db_session, "direct") == [None, "d-chat"]
    assert _case_ids(db_session, "job") == [None, "j-chat"]
    [row] = service.kpi_report(session=db_session, interval="day", by=(), source="direct").rows()
    assert (row["offered"], row["cases"], row["fcr"]) == (2, 1, 1.0)
