"""Campaign list imports as background jobs, on SQLite and PostgreSQL: staged in chunks that
no claim takes, published at once; a failed or interrupted job leaves nothing behind."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.campaigns import imports as list_imports
from hotline.campaigns import service as campaigns
from hotline.store.jobs import fail_interrupted_jobs
from hotline.store.models.campaigns import CampaignRecord
from tests.integration.campaigns.test_campaign_service import NOW, make_campaign

LIST = "phone,name\n" + "".join(f"1381234{n:04d},c{n}\n" for n in range(5))


def _running(session: Session) -> tuple[int, list[campaigns.ListRow], str]:
    campaign = make_campaign(session, mode="progressive")
    campaigns.set_state(session, campaign_id=campaign.id, state="running", actor="boss")
    rows = campaigns.check_list(session, campaign_id=campaign.id, text=LIST, file="dec.csv")
    job = list_imports.create_job(session, kind=list_imports.LIST_JOB, file="dec.csv", actor="boss")
    session.commit()
    return campaign.id, rows, job.id


def _records(session: Session, campaign_id: int) -> list[CampaignRecord]:
    query = select(CampaignRecord).where(CampaignRecord.campaign_id == campaign_id)
    return list(session.scalars(query))


def test_a_list_is_staged_in_chunks_then_published_at_once(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    campaign_id, rows, job_id = _running(db_session)
    seen: list[tuple[str, int]] = []

    def progress(job: dict[str, Any]) -> None:
        seen.append((job["state"], job["rows_done"]))

    ended = list_imports.run_list_import(
        session_factory,
        job_id=job_id,
        campaign_id=campaign_id,
        rows=rows,
        file="dec.csv",
        actor="boss",
        chunk=2,
        on_progress=progress,
    )
    assert seen == [
        ("staging", 0),
        ("staging", 2),
        ("staging", 4),
        ("staging", 5),
        ("publishing", 5),
        ("done", 5),
    ]
    assert ended["result"] == {"added": 5, "blocked": 0, "already_listed": 0}
    db_session.expire_all()
    assert [r.held_by for r in _records(db_session, campaign_id)] == [None] * 5
    claimed = campaigns.claim_next(db_session, campaign_id=campaign_id, agent_id="a1", now=NOW)
    assert claimed is not None and claimed.phone == "+8613812340000"


def test_a_job_that_fails_or_is_interrupted_leaves_nothing_half_imported(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    campaign_id, rows, job_id = _running(db_session)
    stop = threading.Event()

    def progress(job: dict[str, Any]) -> None:
        if job["rows_done"]:
            stop.set()  # the server stops after the first chunk

    ended = list_imports.run_list_import(
        session_factory,
        job_id=job_id,
        campaign_id=campaign_id,
        rows=rows,
        file="dec.csv",
        actor="boss",
        chunk=2,
        on_progress=progress,
        stop=stop,
    )
    assert ended["state"] == "failed" and ended["result"]["added"] == 0
    assert "stopped" in ended["result"]["message"]
    db_session.expire_all()
    assert _records(db_session, campaign_id) == []
    # A job cut short by a crash: its staged rows are no one's to dial, and they go when the
    # server starts again.
    campaigns.stage_list(db_session, campaign_id=campaign_id, job_id="gone", rows=rows, file="x")
    assert len(_records(db_session, campaign_id)) == 5
    assert campaigns.claim_next(db_session, campaign_id=campaign_id, agent_id="a1", now=NOW) is None
    fail_interrupted_jobs(db_session)
    assert _records(db_session, campaign_id) == []
