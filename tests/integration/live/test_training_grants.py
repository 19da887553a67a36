"""Training: a manager sets up a course, a supervisor records exams; a pass grants the
course's routing skill through the center file — checked, audited, and switched to by the
running live engine — and a failed exam or a lower level changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.integration.live.test_pages import client, sign_in

__all__ = ["client"]


def _skills(tmp_path: Path, agent: str) -> dict[str, int]:
    saved: dict[str, Any] = yaml.safe_load((tmp_path / "center.yaml").read_text("utf-8"))
    return next(a for a in saved["agents"] if a["id"] == agent)["skills"]


def test_passing_a_course_grants_its_skill_to_the_live_engine(
    client: TestClient, tmp_path: Path
) -> None:
    sign_in(client, "root")
    refused = client.post(
        "/api/people/courses",
        json={"name": "维修进阶", "skill": "repairs", "proficiency": 7, "pass_mark": 80},
    )
    assert refused.status_code == 422
    fields = {p["field"] for p in refused.json()["problems"]}
    assert fields == {"skill", "proficiency"}
    course = client.post(
        "/api/people/courses",
        json={"name": "维修进阶", "skill": "repair", "proficiency": 3, "pass_mark": 80},
    )
    assert course.status_code == 201, course.text
    number = course.json()["id"]

    sign_in(client, "boss")
    failed = client.post(
        f"/api/people/courses/{number}/results", json={"agent_id": "a002", "score": 75}
    )
    assert failed.status_code == 201, failed.text
    assert failed.json()["passed"] is False and failed.json()["granted"] is False
    assert not (tmp_path / "center.yaml").exists()  # nothing granted, nothing written

    # a002 holds repair 1: passing raises it to 3, in the file and in the live engine
    passed = client.post(
        f"/api/people/courses/{number}/results", json={"agent_id": "a002", "score": 86}
    )
    assert passed.status_code == 201, passed.text
    assert passed.json()["passed"] is True and passed.json()["granted"] is True
    assert _skills(tmp_path, "a002") == {"installation": 5, "repair": 3}
    client.get("/api/live/wallboard")  # a step of the engine: a002 holds nothing, switches now
    driver = cast(FastAPI, client.app).state.live
    assert next(a for a in driver.center.agents if a.id == "a002").skills["repair"] == 3

    # a001 already holds repair 3: a pass certifies, it does not change routing
    again = client.post(
        f"/api/people/courses/{number}/results", json={"agent_id": "a001", "score": 99}
    )
    assert again.json()["passed"] is True and again.json()["granted"] is False
    bad = client.post(
        f"/api/people/courses/{number}/results", json={"agent_id": "a002", "score": 101}
    )
    assert bad.status_code == 422 and "from 0 to 100" in bad.text

    records = client.get("/api/people/training").json()
    assert [(r["agent_id"], r["score"], r["passed"], r["granted"]) for r in records] == [
        ("a001", 99.0, True, False),
        ("a002", 86.0, True, True),
        ("a002", 75.0, False, False),
    ]
    sign_in(client, "a001")
    mine = client.get("/api/people/training/mine").json()
    assert [r["course"] for r in mine] == ["维修进阶"]

    sign_in(client, "root")
    audit = [(e["action"], e["actor"], e["target"]) for e in client.get("/api/audit").json()]
    assert ("center.edit.skill", "boss", "a002") in audit
    assert [a for a, _, _ in audit].count("people.training.exam") == 3
    assert [a for a, _, _ in audit].count("center.edit.skill") == 1
