"""The whole history on the ticket page and the customer page: the ticket's contacts (with
their recordings, for the roles that may hear them), the survey answers about those contacts
and the follow-up (回访) tasks with their outcomes, beside the ticket's own changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.events import Channel, Event, EventKind
from hotline.crm import service as crm
from hotline.store import event_log
from hotline.store.models.followup import FollowUpTask
from hotline.store.models.telephony import Recording
from hotline.tickets import service as tickets

TokenFor = Callable[[str], str]
CALLED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
OPENED = datetime(2026, 3, 1, 9, 5, tzinfo=UTC)
ANSWERED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
RESOLVED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
VERIFIED = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


def survey_answer(
    contact_id: str, at: datetime, answers: dict[str, Any], *, nps: int | None = None
) -> list[Event]:
    """The ``survey_answered`` events of one response about ``contact_id`` (agent a001's
    voice call in the repair queue), as the surveys service writes them: one with every
    answer and the overall score, and one more for an NPS answer."""
    whole = {"survey": "csat", "response": 1, "product": None}

    def event(data: dict[str, Any]) -> Event:
        return Event(
            0,
            at.timestamp(),
            EventKind.SURVEY_ANSWERED,
            contact_id=contact_id,
            agent_id="a001",
            queue="repair",
            channel=Channel.VOICE,
            data=data,
        )

    overall = {"score": answers["overall"], "scale_max": 5, "question": "overall"}
    events = [event({**whole, "answers": answers, **overall})]
    if nps is not None:
        events.append(event({**whole, "score": nps, "scale_max": 10, "question": "nps"}))
    return events


def followup_task(
    ticket: Any, *, made: datetime, finished: datetime | None, answers: dict[str, Any]
) -> FollowUpTask:
    """A follow-up task of ``ticket`` made at ``made``, due two days later; ``verified`` by
    hf1 at ``finished`` with ``answers``, or still open."""
    return FollowUpTask(
        ticket_id=ticket.id,
        resolution_key=f"{ticket.id}:1",
        rule="repair_done",
        script="repair",
        questions=["done", "csat", "comment"],
        ticket_type=ticket.type,
        created_at=made,
        resolved_at=made,
        due_at=made + timedelta(days=2),
        state="verified" if finished else "open",
        finished_at=finished,
        attempts=1 if finished else 0,
        answers=answers if finished else {},
        agent="hf1" if finished else None,
    )


def recorded(folder: Path, contact_id: str, at: datetime) -> Recording:
    """A 41.5 s recording of agent a001's call ``contact_id``, its file in ``folder``."""
    audio = folder / f"{contact_id}.wav"
    audio.write_bytes(b"RIFF")
    return Recording(
        contact_id=contact_id,
        agent_id="a001",
        path=str(audio),
        seconds=41.5,
        recorded_at=at.timestamp(),
    )


@pytest.fixture
def served(session_factory: sessionmaker[Session], tmp_path: Path) -> dict[str, Any]:
    """张伟 called (v-1, recorded, agent a001); a repair ticket opened in that call; he
    answered the survey (CSAT 4, NPS 9, a comment); the ticket's follow-up reached him and
    he confirmed the fix. A complaint of his, in a queue a001 does not serve, has a
    follow-up too; 王芳's survey about another call is none of his."""
    with session_factory() as session:
        zhang = crm.create_customer(session, name="张伟", phones=["13812345678"])
        wang = crm.create_customer(session, name="王芳", phones=["13987654321"])
        session.flush()
        crm.record_contact(
            session,
            customer_id=zhang.id,
            channel="voice",
            contact_id="v-1",
            agent_id="a001",
            at=CALLED,
            summary="热水器不加热",
        )
        crm.record_contact(
            session, customer_id=wang.id, channel="voice", contact_id="v-2", at=CALLED
        )
        repair = tickets.create_ticket(
            session,
            type="repair",
            subject="热水器不加热",
            actor="a001",
            customer_id=zhang.id,
            queue="repair",
            contact_id="v-1",
            now=OPENED,
        )
        complaint = tickets.create_ticket(
            session,
            type="complaint",
            subject="维修师傅迟到",
            actor="a031",
            customer_id=zhang.id,
            queue="complaints",
            now=OPENED,
        )
        session.flush()
        comment = {"overall": 4, "nps": 9, "comment": "师傅很好"}
        event_log.append(session, survey_answer("v-1", ANSWERED, comment, nps=9))
        event_log.append(session, survey_answer("v-2", ANSWERED, {"overall": 1}))
        session.add(recorded(tmp_path, "v-1", CALLED))
        confirmed = {"done": True, "csat": 5, "comment": "修好了"}
        for ticket, finished in ((repair, VERIFIED), (complaint, None)):
            session.add(followup_task(ticket, made=RESOLVED, finished=finished, answers=confirmed))
        session.commit()
        return {
            "zhang": zhang.id,
            "repair": repair.id,
            "repair_number": repair.number,
            "complaint_number": complaint.number,
        }


def _get(client: TestClient, token: str, url: str) -> Any:
    response = client.get(url, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_ticket_page_lists_contacts_surveys_and_follow_ups_in_time_order(
    app_client: TestClient, token_for: TokenFor, served: dict[str, Any]
) -> None:
    url = f"/api/backoffice/tickets/{served['repair']}"
    page = _get(app_client, token_for("supervisor"), url)
    timeline = page["timeline"]
    assert [e["kind"] for e in timeline] == [
        "contact",
        "change",
        "survey",
        "followup",
        "followup_outcome",
    ]
    assert [e["at"][:16] for e in timeline] == [
        "2026-03-01T09:00",
        "2026-03-01T09:05",
        "2026-03-01T09:30",
        "2026-03-02T10:00",
        "2026-03-03T15:00",
    ]
    contact, change, survey, made, outcome = timeline
    assert contact["contact"]["contact_id"] == "v-1"
    assert contact["contact"]["summary"] == "热水器不加热"
    [recording] = contact["contact"]["recordings"]
    assert recording["seconds"] == 41.5
    assert recording["audio"] == f"/api/recordings/{recording['id']}/audio"
    assert page["history"][change["change"]]["action"] == "create"
    # one response, listed once (its NPS answer's own event is not a second response)
    assert survey["survey"]["score"] == 4 and survey["survey"]["scale_max"] == 5
    assert survey["survey"]["answers"] == {"overall": 4, "nps": 9, "comment": "师傅很好"}
    assert made["followup"] == outcome["followup"]
    assert outcome["followup"]["state"] == "verified"
    assert outcome["followup"]["answers"] == {"done": True, "csat": 5, "comment": "修好了"}
    assert outcome["followup"]["ticket_number"] == served["repair_number"]


def test_recordings_only_for_those_who_may_hear_them_and_words_masked_for_wfm(
    app_client: TestClient, token_for: TokenFor, served: dict[str, Any]
) -> None:
    url = f"/api/backoffice/tickets/{served['repair']}"
    agent = _get(app_client, token_for("agent"), url)["timeline"]
    assert agent[0]["contact"]["summary"] == "热水器不加热"
    assert agent[0]["contact"]["recordings"] == []  # agents do not play recordings
    wfm = _get(app_client, token_for("wfm"), url)["timeline"]
    assert wfm[0]["contact"]["summary"] == "***"
    assert wfm[2]["survey"]["answers"] == {"overall": 4, "nps": 9, "comment": "***"}
    assert wfm[4]["followup"]["answers"] == {"done": True, "csat": 5, "comment": "***"}


def test_the_customer_page_shows_their_survey_answers_and_the_follow_ups_the_reader_may_see(
    app_client: TestClient, token_for: TokenFor, served: dict[str, Any]
) -> None:
    url = f"/api/customers/{served['zhang']}/overview"
    view = _get(app_client, token_for("supervisor"), url)
    [survey] = view["surveys"]  # not 王芳's, and the NPS event is not a second response
    assert (survey["contact_id"], survey["score"], survey["agent_id"]) == ("v-1", 4, "a001")
    assert {(f["ticket_number"], f["state"]) for f in view["followups"]} == {
        (served["repair_number"], "verified"),
        (served["complaint_number"], "open"),
    }
    # the agent a001 does not serve the complaints queue: nor that ticket's follow-up
    agent = _get(app_client, token_for("agent"), url)
    assert [f["ticket_number"] for f in agent["followups"]] == [served["repair_number"]]
    assert agent["followups"][0]["due_at"].startswith("2026-03-04T10:00")
