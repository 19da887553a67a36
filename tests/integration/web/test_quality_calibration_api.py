"""Calibration sessions through the API: blind scoring, closing, the outcome kept."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.store.models.core import User
from tests.integration.web.conftest import PASSWORD, _password_hash
from tests.integration.web.test_quality_api import PERFECT


def _token(client: TestClient, username: str) -> dict[str, str]:
    answer = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"authorization": f"Bearer {answer.json()['token']}"}


def test_evaluators_score_blind_and_the_closed_session_keeps_its_outcome(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    for name in ("qa2", "qa3"):
        db_session.add(
            User(
                username=name,
                display_name=name,
                password_hash=_password_hash(),
                roles=["qa"],
                language="zh-CN",
                active=True,
            )
        )
    db_session.commit()
    boss = {"authorization": f"Bearer {token_for('supervisor')}"}
    opened = app_client.post(
        "/api/quality/calibrations",
        headers=boss,
        json={
            "name": "12月校准",
            "form_id": "voice-service",
            "contact_ids": ["c1", "c2", "c3"],
            "evaluators": ["qa", "qa2", "qa3"],
        },
    )
    assert opened.status_code == 201, opened.text
    session_id = opened.json()["id"]
    assert opened.json()["form_version"] == 2

    # qa and qa2 agree; qa3 is harsh on courtesy and misses the greeting everywhere.
    plans = {
        "qa": [{}, {"correct_info": 3}, {"courtesy": 3}],
        "qa2": [{}, {"correct_info": 3}, {"courtesy": 3}],
        "qa3": [
            {"greeting": 0, "courtesy": 1},
            {"greeting": 0, "correct_info": 2},
            {"greeting": 0, "courtesy": 0},
        ],
    }
    headers = {"qa": {"authorization": f"Bearer {token_for('qa')}"}}
    headers |= {name: _token(app_client, name) for name in ("qa2", "qa3")}
    for name, changes in plans.items():
        for contact, change in zip(("c1", "c2", "c3"), changes, strict=True):
            answer = app_client.post(
                f"/api/quality/calibrations/{session_id}/scores",
                headers=headers[name],
                json={"contact_id": contact, "answers": PERFECT | change},
            )
            assert answer.status_code == 200, answer.text
        # blind: each sees only their own scores while the session is open
        seen = app_client.get(f"/api/quality/calibrations/{session_id}", headers=headers[name])
        assert {s["evaluator"] for s in seen.json()["scores"]} == {name}
    outsider = app_client.post(
        f"/api/quality/calibrations/{session_id}/scores",
        headers=boss,
        json={"contact_id": "c1", "answers": PERFECT},
    )
    assert outsider.status_code == 409 and "not an evaluator" in outsider.json()["message"]
    not_in_session = app_client.post(
        f"/api/quality/calibrations/{session_id}/scores",
        headers=headers["qa"],
        json={"contact_id": "c9", "answers": PERFECT},
    )
    assert not_in_session.status_code == 422
    assert not_in_session.json()["problems"][0]["field"] == "contact_id"

    closed = app_client.post(f"/api/quality/calibrations/{session_id}/close", headers=boss)
    assert closed.status_code == 200, closed.text
    outcome = closed.json()["outcome"]
    assert len(closed.json()["scores"]) == 9  # everything is shown once closed
    by_question = {q["question"]: q for q in outcome["questions"]}
    assert by_question["no_false_promise"]["kappa"] is None  # everyone answered 1
    assert by_question["greeting"]["observed"] < 0.5
    assert outcome["icc_contacts"] == 3 and outcome["icc_2_1"] < 0.5
    drifting = {e["evaluator"]: e["drifting"] for e in outcome["evaluators"]}
    assert drifting == {"qa": False, "qa2": False, "qa3": True}
    again = app_client.post(f"/api/quality/calibrations/{session_id}/close", headers=boss)
    assert again.status_code == 409
    kept = app_client.get("/api/quality/calibrations", headers=headers["qa"]).json()
    assert kept[0]["outcome"] == outcome and kept[0]["status"] == "closed"
