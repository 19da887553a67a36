"""Structured administration edits: each writes a configuration checked like `config validate`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.live.conftest import PASSWORD
from tests.integration.live.test_pages import client, sign_in

__all__ = ["client"]


def _saved(tmp_path: Path) -> dict[str, Any]:
    return yaml.safe_load((tmp_path / "center.yaml").read_text(encoding="utf-8"))


def test_queue_target_edit_is_validated_saved_and_applied_live(
    client: TestClient, tmp_path: Path
) -> None:
    sign_in(client, "root")
    bad = {
        "kind": "queue",
        "id": "repair",
        "service_level": 1.5,
        "threshold_s": 20,
        "wrap_up_s": 60,
    }
    refused = client.post("/admin/center/edit", json={"edit": bad})
    assert refused.status_code == 422
    problem = refused.json()["problems"][0]
    assert problem["input"] == "service_level" and problem["field"].endswith("service_level")
    assert not (tmp_path / "center.yaml").exists()

    good = {**bad, "service_level": 0.85}
    kept = client.post("/admin/center/edit", json={"edit": good})
    assert kept.status_code == 200, kept.text
    assert kept.json()["saved"] is True and kept.json()["restart"] is False
    repair = next(q for q in _saved(tmp_path)["queues"] if q["id"] == "repair")
    assert repair["target"]["service_level"] == 0.85 and repair["target"]["threshold_s"] == 20
    assert repair["wrap_up_s"] == 60
    # Nobody is on a contact: the live driver switches at once (its next step).
    client.get("/api/live/wallboard")
    status = client.get("/admin/center/status").json()
    assert status["live"] is True and status["pending"] is False and status["applied_at"]
    driver = cast(FastAPI, client.app).state.live
    assert driver.center.queue("repair").wrap_up_s == 60
    assert driver.wallboard.settings.for_queue("repair").service_level_s == 20
    assert "85% / 20 s" in client.get("/admin").text
    audit = client.get("/api/audit").json()
    assert audit[0]["action"] == "center.edit.queue" and audit[0]["target"] == "repair"


def test_agent_skills_and_team_edit(client: TestClient, tmp_path: Path) -> None:
    sign_in(client, "root")
    edit = {"kind": "agent", "id": "a002", "team": "nowhere", "skills": {"repair": 4}}
    refused = client.post("/admin/center/edit", json={"edit": edit})
    assert refused.status_code == 422
    assert any(p["input"] == "team" for p in refused.json()["problems"])
    edit = {"kind": "agent", "id": "a002", "team": "t-repair", "skills": {"repair": 4, "vip": 9}}
    refused = client.post("/admin/center/edit", json={"edit": edit})
    assert refused.status_code == 422
    assert any(p["input"] == "skills" for p in refused.json()["problems"])
    edit["skills"] = {"repair": 4, "installation": 2}
    kept = client.post("/admin/center/edit", json={"edit": edit})
    assert kept.status_code == 200, kept.text
    agent = next(a for a in _saved(tmp_path)["agents"] if a["id"] == "a002")
    assert agent["team"] == "t-repair" and agent["skills"] == {"repair": 4, "installation": 2}
    missing = client.post("/admin/center/edit", json={"edit": {**edit, "id": "a999"}})
    assert missing.status_code == 404


def test_hours_and_holidays_edit(client: TestClient, tmp_path: Path) -> None:
    sign_in(client, "root")
    hours = {day: ["08:00-20:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    hours["sat"] = ["25:00-26:00"]
    edit = {"kind": "hours", "id": "hotline", "hours": hours, "holidays": []}
    refused = client.post("/admin/center/edit", json={"edit": edit})
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["input"] == "sat"
    hours["sat"] = ["09:00-12:00"]
    holidays = [{"date": "2026-12-25", "name": "Christmas", "hours": []}]
    kept = client.post(
        "/admin/center/edit",
        json={"edit": {"kind": "hours", "id": "hotline", "hours": hours, "holidays": holidays}},
    )
    assert kept.status_code == 200, kept.text
    calendar = _saved(tmp_path)["calendars"][0]
    assert calendar["hours"]["sun"] == [] and calendar["hours"]["sat"] == ["09:00-12:00"]
    assert str(calendar["holidays"][0]["date"]) == "2026-12-25"


def test_the_bot_edit_names_the_bad_field_and_takes_effect_for_new_chats(
    client: TestClient, tmp_path: Path
) -> None:
    sign_in(client, "root")
    page = client.get("/admin").text
    assert 'id="edit-bot"' in page and 'name="queues" value="chat"' in page
    edit = {
        "kind": "bot",
        "queues": ["chat", "repair"],
        "threshold": 1.2,
        "handover_words": ["人工", "agent"],
        "max_failed_turns": 2,
    }
    refused = client.post("/admin/center/edit", json={"edit": edit})
    assert refused.status_code == 422
    assert {(p["input"], p["field"]) for p in refused.json()["problems"]} == {
        ("threshold", "bot.threshold")
    }
    refused = client.post("/admin/center/edit", json={"edit": {**edit, "threshold": 0.4}})
    assert refused.status_code == 422
    (problem,) = refused.json()["problems"]
    assert problem["input"] == "queues" and "the bot talks on chat queues" in problem["problem"]
    assert not (tmp_path / "center.yaml").exists()
    kept = client.post(
        "/admin/center/edit", json={"edit": {**edit, "threshold": 0.4, "queues": ["chat"]}}
    )
    assert kept.status_code == 200, kept.text
    assert _saved(tmp_path)["bot"] == {
        "queues": ["chat"],
        "threshold": 0.4,
        "handover_words": ["人工", "agent"],
        "max_failed_turns": 2,
    }
    client.get("/api/live/wallboard")  # the driver's next step applies it
    driver = cast(FastAPI, client.app).state.live
    assert driver.center.bot is not None and driver.center.bot.enabled_for("chat")
    assert client.get("/api/audit").json()[0]["action"] == "center.edit.bot"


def test_only_admins_edit(client: TestClient) -> None:
    sign_in(client, "boss")
    edit = {
        "kind": "queue",
        "id": "repair",
        "service_level": 0.8,
        "threshold_s": 20,
        "wrap_up_s": 9,
    }
    assert client.post("/admin/center/edit", json={"edit": edit}).status_code == 403


def test_a_held_call_holds_up_only_its_own_queue_and_the_page_says_why(
    client: TestClient, tmp_path: Path
) -> None:
    def auth(username: str) -> dict[str, str]:
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return {"authorization": f"Bearer {response.json()['token']}"}

    agent, boss, root = auth("a001"), auth("boss"), auth("root")
    client.cookies.clear()
    base = "/api/live/agents/a001"
    assert client.post(f"{base}/state", json={"state": "ready"}, headers=agent).status_code == 200
    placed = client.post("/api/live/contacts", json={"queue": "installation"}, headers=boss)
    contact = placed.json()["contact_id"]
    for action in ("answer", "hold"):
        assert client.post(f"{base}/contacts/{contact}/{action}", headers=agent).status_code == 200

    def edit(queue: str, threshold_s: int, wrap_up_s: int) -> None:
        change = {
            "kind": "queue",
            "id": queue,
            "service_level": 0.8,
            "threshold_s": threshold_s,
            "wrap_up_s": wrap_up_s,
        }
        response = client.post("/admin/center/edit", json={"edit": change}, headers=root)
        assert response.status_code == 200, response.text

    edit("installation", 35, 30)
    edit("repair", 45, 40)
    client.get("/api/live/wallboard", headers=boss)  # a step of the engine
    status = client.get("/admin/center/status", headers=root).json()
    assert status["pending"] is True
    assert [
        (w["kind"], w["id"], w["contact"], w["stage"], w["agent"]) for w in status["waiting"]
    ] == [("queue", "installation", contact, "in_hand", "a001")]
    driver = cast(FastAPI, client.app).state.live
    # The held call does not stop the change to repair; installation keeps its old target.
    assert driver.wallboard.settings.for_queue("repair").service_level_s == 45
    assert driver.center.queue("installation").target.threshold_s == 20

    assert client.post(f"{base}/contacts/{contact}/hangup", headers=agent).status_code == 200
    done = client.post(
        f"{base}/contacts/{contact}/wrap-up",
        json={"disposition": "installation_booked"},
        headers=agent,
    )
    assert done.status_code == 200
    status = client.get("/admin/center/status", headers=root).json()
    assert status["pending"] is False and status["waiting"] == []
    assert driver.wallboard.settings.for_queue("installation").service_level_s == 35
