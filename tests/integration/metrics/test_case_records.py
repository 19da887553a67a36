"""Cases in the database (#16): a contact record's ``case_id`` is stored and read back on SQLite
and PostgreSQL — by the direct import (PostgreSQL's COPY), by an import job's staging and
publish — and the KPI report from the database counts the case once."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from hotline.metrics import imports, service
from hotline.metrics.records import ContactRecord
from hotline.store.jobs import create_job

T0 = 1_772_438_400.0


def _case(prefix: str) -> list[ContactRecord]:
    def answered(contact_id: str, at: float, case_id: str | None) -> ContactRecord:
        return ContactRecord(
            contact_id=contact_id,
            arrived_at=at,
            queued_at=at,
            answered_at=at + 5,
            outcome="answered",
            agent="a004",
            queue="general",
            customer="13800138000",
            case_id=case_id,
        )

    return [
        answered(f"{prefix}-chat", T0, None),
        answered(f"{prefix}-cb", T0 + 600, f"{prefix}-chat"),
    ]


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
