"""Surveys through the app: a link e-mailed after a contact, answered once on the public page,
refused when forged, expired or reused; the results with intervals from every channel's
answers (IVR, chat, page), a team lead seeing only their teams'."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.channels.email import service as email
from hotline.channels.email.settings import MailboxSettings
from hotline.core.events import Channel, Event, EventKind
from hotline.store.event_log import append
from hotline.store.models.core import AuditEntry, ContactEventRow
from hotline.store.models.email import EmailMessage
from hotline.surveys import service as surveys
from tests.integration.web.conftest import SAMPLE, with_staff
from tests.integration.web.test_quality_api import PERFECT

#: What a browser sends with the page's own form (the client holds the staff's sign-in cookie,
#: so the server's Origin check applies, as it would to a signed-in person's browser).
SAME_ORIGIN = {"origin": "http://testserver"}


def _headers(token_for: Callable[[str], str], role: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(role)}"}


def _answered(
    factory: sessionmaker[Session], contact: str, agent: str, channel: Channel, at: float
) -> None:
    """A contact an agent answered, written as the live driver writes it."""
    with factory() as session:
        append(
            session,
            [
                Event(1, at, EventKind.ARRIVED, contact, queue="repair", channel=channel),
                Event(2, at + 5, EventKind.ANSWERED, contact, agent, "repair", channel),
            ],
        )
        session.commit()


def _rated(
    factory: sessionmaker[Session],
    contact: str,
    agent: str,
    channel: Channel,
    score: int,
    at: float,
) -> None:
    """The IVR's (or chat's) one CSAT answer, as the voice driver and the chat relay write it."""
    with factory() as session:
        data = {"score": score, "scale_max": 5, "survey": "csat"}
        append(
            session,
            [Event(3, at, EventKind.SURVEY_ANSWERED, contact, agent, "repair", channel, data)],
        )
        session.commit()


def _mailbox(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        email.save_mailbox(
            session,
            settings=MailboxSettings(address="service@example.cn", queue="repair"),
            secret=b"test-secret",
            actor="admin",
        )
        session.commit()


def _link_from_mail(factory: sessionmaker[Session], email_id: int) -> str:
    with factory() as session:
        body = session.get(EmailMessage, email_id).body  # type: ignore[union-attr]
    found = re.search(r"https?://[^/\s]+(/s/[^\s?]+)", body)
    assert found, body
    return found.group(1)


def test_a_link_is_emailed_answered_once_and_refused_when_reused_forged_or_expired(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    now = time.time()
    _answered(session_factory, "v-1", "a011", Channel.VOICE, now - 600)
    _mailbox(session_factory)
    lead = _headers(token_for, "supervisor")
    sent = app_client.post(
        "/api/surveys/links",
        json={"contact_id": "v-1", "email": "c@example.com", "product": "washer", "language": "en"},
        headers=lead,
    )
    assert sent.status_code == 201, sent.text
    assert "url" not in sent.json() and "token" not in sent.json()  # the customer's, not staff's
    path = _link_from_mail(session_factory, sent.json()["email_id"])

    page = app_client.get(path + "?lang=en")
    assert page.status_code == 200 and "How likely are you to recommend" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    # A bad answer names the question and keeps the link usable
    wrong = app_client.post(path, data={"overall": "7", "resolved": "yes"}, headers=SAME_ORIGIN)
    assert wrong.status_code == 422
    assert "answer 7 is outside the scale 1-5" in wrong.text
    answers = {
        "overall": "2",
        "agent": "4",
        "speed": "1",
        "recommend": "9",
        "resolved": "no",
        "comment": "师傅迟到了两个小时",
    }
    done = app_client.post(path, data=answers, headers=SAME_ORIGIN)
    assert done.status_code == 200 and 'id="survey-thanks"' in done.text
    again = app_client.post(path, data=answers, headers=SAME_ORIGIN)
    assert again.status_code == 409 and 'data-reason="answered"' in again.text
    assert app_client.get(path).status_code == 409
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert app_client.get(forged).status_code == 404
    assert app_client.get("/s/1.9999999999.x").status_code == 404

    with session_factory() as session:
        rows = session.scalars(
            select(ContactEventRow).where(ContactEventRow.kind == "survey_answered")
        ).all()
        # one event with every answer (its overall CSAT counted by METRICS.md), one NPS event
        assert [(r.data.get("score"), r.data.get("scale_max")) for r in rows] == [(2, 5), (9, 10)]
        whole = rows[0]
        assert (whole.contact_id, whole.agent_id, whole.channel) == ("v-1", "a011", "voice")
        assert whole.data["product"] == "washer"
        assert whole.data["answers"]["resolved"] is False
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"survey.link", "survey.answer"} <= actions
        # An expired link is refused by its own signed date
        expired_at = datetime.now(UTC) - timedelta(hours=2)
        _, token = surveys.send_link(
            session=session,
            survey=with_staff(SAMPLE).surveys.definition(),  # type: ignore[union-attr]
            contact_id="v-1",
            sent_by="supervisor",
            sent_via="email",
            ttl_hours=1,
            secret=b"test-secret",
            now=expired_at,
        )
        session.commit()
    old = app_client.get(f"/s/{token}?lang=en")
    assert old.status_code == 410 and "expired" in old.text
    # The month's voice-of-the-customer report carries the answer under its product line
    book = app_client.get("/api/surveys/voc.xlsx", headers=lead)
    assert book.status_code == 200
    assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(book.content)).sheetnames == ["summary", "1-washer"]
    document = app_client.get("/api/surveys/voc.pdf", headers=lead)
    assert document.status_code == 200 and document.content.startswith(b"%PDF")
    # The dissatisfied comment is a DSAT root cause on the results
    results = app_client.get("/api/surveys/results", headers=lead).json()
    rates = {r["channel"]: (r["contacts"], r["responses"]) for r in results["response_rates"]}
    # the answered link's response counts on its contact's channel and on its carrier's row
    assert rates["voice"] == (1, 1) and rates["link:email"][1] == 1
    assert "link:sms" not in rates
    assert results["dissatisfied_comments"] == 1
    [cause] = results["root_causes"]
    assert set(cause["keywords"]) < {"师傅", "迟到", "两个", "小时"}  # jieba's words
    assert cause["example"] == "师傅迟到了两个小时"


@pytest.mark.parametrize("db_engine", ["sqlite"], indirect=True)
def test_results_count_every_channel_with_intervals_and_a_team_lead_sees_their_teams(
    app_client: TestClient,
    token_for: Callable[[str], str],
    session_factory: sessionmaker[Session],
) -> None:
    now = time.time() - 60
    # a001 (t-install, the team lead's team): IVR 5 and 4, chat 1; a011 (t-repair): IVR 2.
    for i, (agent, channel, score) in enumerate(
        [
            ("a001", Channel.VOICE, 5),
            ("a001", Channel.VOICE, 4),
            ("a001", Channel.CHAT, 1),
            ("a011", Channel.VOICE, 2),
        ]
    ):
        _answered(session_factory, f"c-{i}", agent, channel, now - 100 * (i + 1))
        _rated(session_factory, f"c-{i}", agent, channel, score, now - 100 * i)
    _answered(session_factory, "c-unrated", "a011", Channel.VOICE, now - 50)

    manager = app_client.get(
        "/api/surveys/results", params={"by": "team"}, headers=_headers(token_for, "manager")
    )
    assert manager.status_code == 200, manager.text
    body = manager.json()
    assert body["overall"]["csat"]["share"] == 0.5 and body["overall"]["csat"]["n"] == 4
    assert body["overall"]["dsat"]["share"] == 0.25
    low, high = body["overall"]["csat"]["low"], body["overall"]["csat"]["high"]
    assert 0.0 < low < 0.5 < high < 1.0
    teams = {g["group"]: g for g in body["groups"]}
    assert set(teams) == {"t-install", "t-repair"}
    assert teams["t-install"]["csat"]["share"] == pytest.approx(2 / 3)
    rates = {r["channel"]: (r["contacts"], r["responses"]) for r in body["response_rates"]}
    assert rates == {"voice": (4, 3), "chat": (1, 1)}
    assert [d["question"] for d in body["drivers"]] == ["agent", "speed", "recommend", "resolved"]

    # QA against CSAT: a001's evaluation beside their customers' answers (two agents: no r)
    qa = _headers(token_for, "qa")
    scored = app_client.post(
        "/api/quality/evaluations",
        json={"contact_id": "c-0", "agent_id": "a001", "form_id": "voice-service",
              "answers": PERFECT},
        headers=qa,
    )  # fmt: skip
    assert scored.status_code == 201, scored.text
    body = app_client.get("/api/surveys/results", headers=_headers(token_for, "manager")).json()
    assert body["qa_csat"]["agents"] == [
        {"agent": "a001", "evaluations": 1, "qa_mean": 100, "answers": 3, "csat_mean": 10 / 3}
    ]
    assert body["qa_csat"]["correlation"] is None

    lead = app_client.get(
        "/api/surveys/results", params={"by": "agent"}, headers=_headers(token_for, "team_lead")
    )
    assert lead.status_code == 200
    assert [g["group"] for g in lead.json()["groups"]] == ["a001"]
    assert lead.json()["overall"]["responses"] == 3
    assert {r["channel"]: r["contacts"] for r in lead.json()["response_rates"]} == {
        "voice": 2,
        "chat": 1,
    }
    # ... and cannot send a link about another team's contact
    refused = app_client.post(
        "/api/surveys/links",
        json={"contact_id": "c-3", "email": "c@example.com"},
        headers=_headers(token_for, "team_lead"),
    )
    assert refused.status_code == 404
    unknown = app_client.post(
        "/api/surveys/links",
        json={"contact_id": "nobody", "email": "c@example.com"},
        headers=_headers(token_for, "manager"),
    )
    assert unknown.status_code == 422 and "not in the contact event log" in unknown.text
