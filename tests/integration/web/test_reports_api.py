"""Reports API: import contact records, then KPIs with the center's per-queue thresholds."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.integration.web.conftest import finished_contact_import

CSV = (
    "contact_id,queue,arrived_at,queued_at,answered_at,abandoned_at,agent,talk_s,outcome\n"
    "c1,vip,2026-03-02T08:00:00,2026-03-02T08:00:00,2026-03-02T08:00:04,,a001,100,answered\n"
    "c2,vip,2026-03-02T08:01:00,2026-03-02T08:01:00,2026-03-02T08:01:09,,a002,200,answered\n"
    "c3,vip,2026-03-02T08:02:00,2026-03-02T08:02:00,,2026-03-02T08:02:30,,,abandoned\n"
)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_import_then_kpis_use_the_center_thresholds(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    started = app_client.post(
        "/api/reports/contacts",
        headers=auth(token_for("wfm")),
        files={"file": ("march.csv", CSV.encode(), "text/csv")},
        data={"source": "api-test"},
    )
    job = finished_contact_import(app_client, started, auth(token_for("wfm")))
    assert job["state"] == "done", job
    assert job["result"]["stored"] == job["result"]["rows_read"] == 3

    response = app_client.get(
        "/api/reports/kpis",
        params={"interval": "1h", "by": "queue", "source": "api-test"},
        headers=auth(token_for("supervisor")),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # The sample center holds VIP calls to 99 % in 5 s: only c1 (4 s) is within target.
    assert body["report"]["thresholds"]["per_queue"]["vip"]["service_level_threshold_s"] == 5.0
    (row,) = body["rows"]
    assert row["offered"] == 3 and row["answered"] == 2
    assert row["service_level"] == 1 / 3

    by_team = app_client.get(
        "/api/reports/kpis",
        params={"interval": "day", "by": "team", "source": "api-test"},
        headers=auth(token_for("manager")),
    ).json()["rows"]
    assert {r["team"] for r in by_team} >= {"t-install"}


def test_agent_and_experience_figures_from_the_event_log(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    from hotline.core.events import Event, EventKind
    from hotline.store import event_log

    t0 = 1_772_409_600.0
    event_log.append(
        db_session,
        [
            Event(1, t0, EventKind.AGENT_STATE, agent_id="a001", data={"state": "available"}),
            Event(
                2, t0 + 600, EventKind.AGENT_STATE, agent_id="a001", data={"state": "on_contact"}
            ),
            Event(
                3, t0 + 1800, EventKind.AGENT_STATE, agent_id="a001", data={"state": "logged_out"}
            ),
            Event(
                4,
                t0 + 1900,
                EventKind.SURVEY_ANSWERED,
                "c1",
                queue="vip",
                data={"score": 5, "scale_max": 5},
            ),
        ],
        source="api-events",
    )
    db_session.commit()
    rows = app_client.get(
        "/api/reports/agents",
        params={"by": "team", "source": "api-events"},
        headers=auth(token_for("team_lead")),
    ).json()["rows"]
    assert rows == [
        {
            "interval_start": "2026-03-02T00:00:00+00:00",
            "team": "t-install",
            "handling_s": 1200.0,
            "idle_s": 600.0,
            "not_ready_s": 0.0,
            "logged_in_s": 1800.0,
            "occupancy": 1200 / 1800,
            "utilization": 1200 / 1800,
        }
    ]
    experience = app_client.get("/api/reports/experience", headers=auth(token_for("qa"))).json()[
        "rows"
    ]
    assert [(r["queue"], r["surveys"], r["csat"]) for r in experience] == [("vip", 1, 1.0)]
    # by channel: an answer whose contact's arrival the log lacks counts on the survey's own
    by_channel = app_client.get(
        "/api/reports/experience", params={"by": "channel"}, headers=auth(token_for("qa"))
    ).json()["rows"]
    assert [(r["channel"], r["surveys"], r["csat"]) for r in by_channel] == [(None, 1, 1.0)]


def test_bad_rows_are_refused_with_locations_and_roles_are_enforced(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    bad = CSV + "c4,vip,not-a-time,,,,,,answered\n"
    response = app_client.post(
        "/api/reports/contacts",
        headers=auth(token_for("manager")),
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
        data={"source": "bad"},
    )
    assert response.status_code == 422
    problems = response.json()["problems"]
    assert any(
        p["line"] == 5 and p["field"] == "arrived_at" and "ISO 8601" in p["problem"]
        for p in problems
    )

    again = app_client.post(
        "/api/reports/contacts",
        headers=auth(token_for("manager")),
        files={"file": ("march.csv", CSV.encode(), "text/csv")},
        data={"source": "twice"},
    )
    assert finished_contact_import(app_client, again, auth(token_for("manager")))["state"] == "done"
    conflict = app_client.post(
        "/api/reports/contacts",
        headers=auth(token_for("manager")),
        files={"file": ("march.csv", CSV.encode(), "text/csv")},
        data={"source": "twice"},
    )
    assert conflict.status_code == 409

    denied = app_client.post(
        "/api/reports/contacts",
        headers=auth(token_for("agent")),
        files={"file": ("march.csv", CSV.encode(), "text/csv")},
        data={"source": "agent-try"},
    )
    assert denied.status_code == 403
    assert app_client.get("/api/reports/kpis", headers=auth(token_for("agent"))).status_code == 403
    app_client.cookies.clear()  # signing in set a session cookie; drop it to be nobody
    assert app_client.get("/api/reports/kpis").status_code == 401


def test_a_team_lead_reads_only_their_own_teams_agent_rows(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session
) -> None:
    from hotline.core.events import Event, EventKind
    from hotline.store import event_log

    # a001 is in t-install (which the team lead leads), a011 in t-repair.
    t0 = 1_772_409_600.0
    events = []
    for seq, agent in enumerate(("a001", "a011")):
        events += [
            Event(
                2 * seq + 1, t0, EventKind.AGENT_STATE, agent_id=agent, data={"state": "available"}
            ),
            Event(
                2 * seq + 2,
                t0 + 600,
                EventKind.AGENT_STATE,
                agent_id=agent,
                data={"state": "logged_out"},
            ),
        ]
    event_log.append(db_session, events, source="scope-events")
    db_session.commit()

    def rows(role: str, by: str) -> list[dict[str, object]]:
        response = app_client.get(
            "/api/reports/agents",
            params={"by": by, "source": "scope-events"},
            headers=auth(token_for(role)),
        )
        assert response.status_code == 200, response.text
        return list(response.json()["rows"])

    assert {r["agent"] for r in rows("manager", "agent")} == {"a001", "a011"}
    assert {r["agent"] for r in rows("team_lead", "agent")} == {"a001"}
    assert {r["team"] for r in rows("manager", "team")} == {"t-install", "t-repair"}
    assert {r["team"] for r in rows("team_lead", "team")} == {"t-install"}

    started = app_client.post(
        "/api/reports/contacts",
        headers=auth(token_for("wfm")),
        files={"file": ("scope.csv", CSV.replace("a002", "a011").encode(), "text/csv")},
        data={"source": "scope-csv"},
    )
    assert finished_contact_import(app_client, started, auth(token_for("wfm")))["state"] == "done"
    kpis = app_client.get(
        "/api/reports/kpis",
        params={"interval": "day", "by": "queue,agent", "source": "scope-csv"},
        headers=auth(token_for("team_lead")),
    ).json()["rows"]
    assert {r["agent"] for r in kpis} == {"a001"}
