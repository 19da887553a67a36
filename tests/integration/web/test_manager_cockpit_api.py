"""Manager cockpit API over ten days of a repair queue, every figure checked by hand.

The data (sample center, Asia/Shanghai): each day 1–10 March 2026, 20 voice calls to the repair
queue (threshold 20 s), two per agent of the ten repair agents a011–a020; nine agents talk
300 s, a020 talks 900 s. Days 1–9: 16 calls answered in 5 s, 4 in 60 s (service level 80 %);
10 March: 4 in 5 s, 16 in 60 s (20 %). Agent a011 is logged in 09:00–12:00 each day, on a
contact 10:00–12:00 (occupancy 2/3, 3 paid hours). A repair ticket opened on 5 March stays open;
two complaints are opened on 10 March.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.core.events import Event, EventKind
from hotline.metrics import service as metrics
from hotline.metrics.records import ContactRecord
from hotline.store import event_log
from hotline.tickets import service as tickets

ZONE = ZoneInfo("Asia/Shanghai")
FIRST = date(2026, 3, 1)
DAYS = 10
AGENTS = [f"a{n:03d}" for n in range(11, 21)]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def seed_ten_days(session: Session) -> None:
    """Store the ten days described above (also used by the browser test)."""
    records = []
    events = []
    seq = 0
    for d in range(DAYS):
        day = FIRST + timedelta(days=d)
        late = 16 if d == DAYS - 1 else 4
        for i in range(20):
            queued = at(day, 9).timestamp() + 120 * i
            wait = 60.0 if i < late else 5.0
            agent = AGENTS[i % 10]
            records.append(
                ContactRecord(
                    contact_id=f"c{d}-{i}",
                    arrived_at=queued,
                    queued_at=queued,
                    answered_at=queued + wait,
                    queue="repair",
                    agent=agent,
                    talk_s=900.0 if agent == "a020" else 300.0,
                    outcome="answered",
                )
            )
        for hour, state in ((9, "available"), (10, "on_contact"), (12, "logged_out")):
            seq += 1
            events.append(
                Event(
                    seq,
                    at(day, hour).timestamp(),
                    EventKind.AGENT_STATE,
                    agent_id="a011",
                    data={"state": state},
                )
            )
    metrics.import_records(session=session, records=records, source="cockpit-test")
    event_log.append(session, events, source="cockpit-test")
    tickets.create_ticket(
        session,
        type="repair",
        subject="洗衣机不脱水",
        actor="a011",
        queue="repair",
        now=at(date(2026, 3, 5), 10),
    )
    for n in range(2):
        tickets.create_ticket(
            session,
            type="complaint",
            subject=f"投诉 {n}",
            actor="a021",
            queue="complaints",
            now=at(date(2026, 3, 10), 11 + n),
        )


@pytest.fixture
def ten_days(db_session: Session) -> None:
    seed_ten_days(db_session)
    db_session.commit()


def figure(body, metric):
    return next(f for f in body["figures"] if f["metric"] == metric)


def test_cockpit_figures_charts_alerts_and_outliers(
    app_client: TestClient, token_for: Callable[[str], str], ten_days: None
) -> None:
    response = app_client.get(
        "/api/manager/cockpit",
        params={"from": "2026-03-01", "to": "2026-03-10"},
        headers=auth(token_for("manager")),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Asia/Shanghai" and body["currency"] == "CNY"
    assert len(body["days"]) == DAYS

    service_level = figure(body, "service_level")
    assert service_level["values"] == [0.8] * 9 + [0.2]
    assert service_level["target"] == {"at_least": 0.8, "at_most": None}
    # p-chart: p̄ = (9 × 16 + 4) / 200 = 0.74; σ = √(0.74 × 0.26 / 20) per day.
    chart = service_level["chart"]
    assert chart["kind"] == "p"
    assert chart["centre"] == pytest.approx(0.74)
    sigma = math.sqrt(0.74 * 0.26 / 20)
    assert chart["lower"][0] == pytest.approx(0.74 - 3 * sigma)
    assert chart["upper"][0] == 1.0  # 0.74 + 3σ = 1.034, capped at 100 %
    signals = {(s["day"], s["rule"], s["side"]) for s in chart["signals"]}
    # The last day beyond 3σ below; the nine days at 80 % all above the centre line (rule 4
    # on the 8th and 9th).
    assert signals == {
        ("2026-03-10", 1, "below"),
        ("2026-03-08", 4, "above"),
        ("2026-03-09", 4, "above"),
    }

    assert figure(body, "aht_s")["values"] == [360.0] * DAYS  # (18 × 300 + 2 × 900) / 20
    assert figure(body, "asa_s")["today"] == pytest.approx((16 * 60 + 4 * 5) / 20)
    assert figure(body, "occupancy")["values"] == pytest.approx([2 / 3] * DAYS)
    # Labour 48 × 3 h + telephony 0.05 × 120 min + overhead 1500 = 1650 a day;
    # 120 handled minutes and 20 handled calls.
    assert figure(body, "cost_per_minute")["today"] == pytest.approx(1650 / 120)
    assert figure(body, "cost_per_contact")["values"] == pytest.approx([1650 / 20] * DAYS)
    assert figure(body, "complaints")["values"] == [0.0] * 9 + [2.0]
    assert figure(body, "backlog")["values"] == [0.0] * 4 + [1.0] * 5 + [3.0]
    assert figure(body, "csat")["values"] == [None] * DAYS
    assert figure(body, "csat")["chart"] is None

    alerts = {(a["kind"], a["metric"], a["level"], a["id"]) for a in body["alerts"]}
    assert alerts == {
        ("target", "service_level", "center", None),  # 20 % < 80 %
        ("target", "asa_s", "center", None),  # 49 s > 30 s
        ("target", "occupancy", "center", None),  # 2/3 outside 75–85 %
        ("target", "cost_per_contact", "center", None),  # 82.5 > 12
        ("control", "service_level", "center", None),  # beyond 3σ below
        # XmR charts: ASA 17.75 s nine days then 49 s (UCL 20.875 + 2.66 × 31.25 / 9 = 30.1);
        # backlog 0, 0, 0, 0, 1 … 1, 3 (UCL 0.8 + 2.66 × 3 / 9 = 1.69); complaints 0 … 0, 2
        # (UCL 0.2 + 2.66 × 2 / 9 = 0.79).
        ("control", "asa_s", "center", None),
        ("control", "backlog", "center", None),
        ("control", "complaints", "center", None),
    }
    assert all(a["day"] == "2026-03-10" for a in body["alerts"])

    (repair,) = body["by_queue"]
    assert repair["id"] == "repair" and repair["figures"]["offered"] == 20
    assert repair["figures"]["service_level"] == 0.2
    (team,) = body["by_team"]
    assert team["id"] == "t-repair" and team["figures"]["occupancy"] == pytest.approx(2 / 3)
    assert team["crossed"] == []

    # Nine agents at 300 s, a020 at 900 s: mean 360, s = √(36000), z = 540 / s.
    (outlier,) = body["outliers"]
    z = 540 / math.sqrt(36000)
    assert outlier["metric"] == "aht_s" and outlier["agent"] == "a020"
    assert outlier["contacts"] == 20 and outlier["agents_compared"] == 10
    assert outlier["z"] == pytest.approx(z)
    assert outlier["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert outlier["adjusted_p_value"] == pytest.approx(10 * math.erfc(z / math.sqrt(2)))


def test_cockpit_period_is_checked_and_roles_enforced(
    app_client: TestClient, token_for: Callable[[str], str]
) -> None:
    reversed_period = app_client.get(
        "/api/manager/cockpit",
        params={"from": "2026-03-10", "to": "2026-03-01"},
        headers=auth(token_for("supervisor")),
    )
    assert reversed_period.status_code == 422
    assert reversed_period.json()["problems"][0]["field"] == "to"
    too_long = app_client.get(
        "/api/manager/cockpit",
        params={"from": "2026-01-01", "to": "2026-06-01"},
        headers=auth(token_for("manager")),
    )
    assert too_long.status_code == 422
    far = app_client.get(
        "/api/manager/cockpit", params={"to": "9999-12-31"}, headers=auth(token_for("manager"))
    )
    assert far.status_code == 422
    assert "give a date from" in far.text
    empty = app_client.get(
        "/api/manager/cockpit",
        params={"from": "2026-03-01", "to": "2026-03-02"},
        headers=auth(token_for("manager")),
    )
    assert empty.status_code == 200
    assert empty.json()["alerts"] == [] and empty.json()["outliers"] == []
    for role in ("team_lead", "agent", "qa", "wfm"):
        refused = app_client.get("/api/manager/cockpit", headers=auth(token_for(role)))
        assert refused.status_code == 403, role


def test_the_days_alerts_reach_the_managers_once(
    app_client: TestClient, token_for: Callable[[str], str], ten_days: None
) -> None:
    first = app_client.post(
        "/api/manager/alerts/notify",
        params={"day": "2026-03-10"},
        headers=auth(token_for("supervisor")),
    )
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["day"] == "2026-03-10"
    # The default period is the 30 days to 10 March: besides the eight alerts of the 10-day
    # view, the backlog's last day (3 after a month of 0 and five days of 1) now also breaks
    # rules 2 and 3.
    backlog = {a["detail"][:6] for a in body["alerts"] if a["metric"] == "backlog"}
    assert backlog == {"rule 1", "rule 2", "rule 3"}
    assert body["sent"] == len(body["alerts"]) == 10
    again = app_client.post(
        "/api/manager/alerts/notify",
        params={"day": "2026-03-10"},
        headers=auth(token_for("manager")),
    ).json()
    assert again["sent"] == 0 and len(again["alerts"]) == 10

    inbox = app_client.get("/api/notifications", headers=auth(token_for("manager"))).json()
    alerts = [item for item in inbox["items"] if item["kind"] == "kpi_alert"]
    assert len(alerts) == 10
    service_level = {
        (a["params"]["alert"], a["params"]["value"], a["params"]["detail"])
        for a in alerts
        if a["params"]["metric"] == "service_level"
    }
    assert service_level == {
        ("target", "0.2", "target at least 0.8"),
        ("control", "0.2", "rule 1: one point beyond 3σ (below)"),
    }
    assert all(a["params"]["where"] == "center" for a in alerts)
    lead = app_client.get("/api/notifications", headers=auth(token_for("team_lead"))).json()
    assert not [item for item in lead["items"] if item["kind"] == "kpi_alert"]

    audit = app_client.get("/api/audit", headers=auth(token_for("admin")))
    assert audit.status_code == 200, audit.text
    entries = [e for e in audit.json() if e["action"] == "manager.alerts_notified"]
    assert [e["detail"]["sent"] for e in entries] == [0, 10]
