"""Forecast overrides and the day's plan through the API, on SQLite and PostgreSQL.

Four weeks of repair calls (ten every half hour from 09:00 to 17:00, Shanghai time) are the
history; the Monday after had fourteen. A planner's +20 % on Tuesday morning changes that
morning's forecast here and in ``POST /api/wfm/forecast``, and only that queue's and that
morning's; withdrawing it restores the forecast; both are audited. The day's plan sets the
agents Erlang C requires against a published roster's heads, and a what-if of more agents
raises the expected service level.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.validate import load_center
from hotline.metrics import service as metrics_service
from hotline.metrics.records import ContactRecord
from hotline.store.models.core import AuditEntry
from hotline.web.api.planning import planned_day
from hotline.web.wallboard_charts import build
from tests.integration.web.conftest import SAMPLE

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST = date(2026, 2, 2)  # a Monday: four whole weeks before the planned one
MONDAY = date(2026, 3, 2)
TUESDAY = "2026-03-03"


def _calls(
    day: date, per_half_hour: int, start: int, slots: range = range(18, 34)
) -> list[ContactRecord]:
    """Repair calls in each half hour of ``slots`` (default 09:00 to 17:00), 300 s each."""
    records: list[ContactRecord] = []
    for slot in slots:
        moment = datetime.combine(day, time(), SHANGHAI) + timedelta(minutes=30 * slot)
        for k in range(per_half_hour):
            at = moment.timestamp() + 60 * k
            records.append(
                ContactRecord(
                    contact_id=f"p{start + len(records)}",
                    arrived_at=at,
                    queued_at=at,
                    answered_at=at + 5,
                    outcome="answered",
                    queue="repair",
                    agent="a001",
                    talk_s=270.0,
                    wrap_s=30.0,
                )
            )
    return records


@pytest.fixture
def history(db_session: Session) -> None:
    records: list[ContactRecord] = []
    for d in range(28):
        records += _calls(FIRST + timedelta(days=d), 10, len(records))
    records += _calls(MONDAY, 14, len(records))
    metrics_service.import_records(session=db_session, records=records, source="planning-test")
    db_session.commit()


def _headers(token_for: Callable[[str], str], role: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token_for(role)}"}


def _plan(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/wfm/plan/day", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _at(plan: dict[str, Any], clock: str) -> dict[str, Any]:
    row: dict[str, Any] = next(i for i in plan["intervals"] if i["start"] == clock)
    return row


def _forecast_at(client: TestClient, headers: dict[str, str], moment: str) -> float:
    params: dict[str, str | int] = {
        "timezone": "Asia/Shanghai",
        "queue": "repair",
        "horizon_days": 2,
    }
    response = client.post("/api/wfm/forecast", params=params, headers=headers)
    assert response.status_code == 200, response.text
    row = next(r for r in response.json()["rows"] if r["interval_start"].startswith(moment))
    return float(row["offered"])


def test_an_override_changes_the_forecast_wherever_it_is_used(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session, history: None
) -> None:
    wfm = _headers(token_for, "wfm")
    before = _plan(app_client, wfm, day=TUESDAY, queue="repair")
    assert before["target"] == "80/20"
    assert _at(before, "10:00")["forecast_offered"] == pytest.approx(10, rel=0.1)
    assert _at(before, "03:00")["forecast_offered"] == pytest.approx(0, abs=0.5)
    api_before = _forecast_at(app_client, wfm, f"{TUESDAY}T10:00")

    refused = app_client.post(
        "/api/wfm/overrides",
        json={"day": TUESDAY, "start": "12:00", "end": "09:00", "percent": 20, "reason": "x",
              "queue": "nope"},
        headers=wfm,
    )  # fmt: skip
    assert refused.status_code == 422
    assert [p["field"] for p in refused.json()["problems"]] == ["queue", "end"]
    assert "no queue 'nope'" in refused.json()["problems"][0]["problem"]

    body = {"day": TUESDAY, "start": "09:00", "end": "12:00", "percent": 20,
            "reason": "mailing lands", "queue": "repair"}  # fmt: skip
    made = app_client.post("/api/wfm/overrides", json=body, headers=wfm)
    assert made.status_code == 201, made.text
    kept = made.json()
    assert kept["line"] == "override +20 % on 2026-03-03 09:00–12:00 (repair): mailing lands"
    # another queue's correction leaves repair alone
    vip = {**body, "queue": "vip", "percent": 50, "reason": "vip mailing"}
    assert app_client.post("/api/wfm/overrides", json=vip, headers=wfm).status_code == 201

    after = _plan(app_client, wfm, day=TUESDAY, queue="repair")
    for clock in ("09:00", "10:00", "11:30"):
        assert _at(after, clock)["forecast_offered"] == pytest.approx(
            1.2 * _at(before, clock)["forecast_offered"], abs=0.01
        )
        assert _at(after, clock)["forecast_high"] == pytest.approx(
            1.2 * _at(before, clock)["forecast_high"], abs=0.01
        )
    assert _at(after, "12:00")["forecast_offered"] == _at(before, "12:00")["forecast_offered"]
    assert kept["line"] in after["notes"]
    assert not any("vip mailing" in n for n in after["notes"])
    # the forecast API applies it too
    assert _forecast_at(app_client, wfm, f"{TUESDAY}T10:00") == pytest.approx(
        1.2 * api_before, abs=0.01
    )

    listed = app_client.get(
        "/api/wfm/overrides", params={"first_day": TUESDAY, "last_day": TUESDAY}, headers=wfm
    ).json()["overrides"]
    assert [(o["queue"], o["percent"]) for o in listed] == [("repair", 20), ("vip", 50)]
    gone = app_client.delete(f"/api/wfm/overrides/{kept['id']}", headers=wfm)
    assert gone.status_code == 200, gone.text
    assert app_client.delete(f"/api/wfm/overrides/{kept['id']}", headers=wfm).status_code == 404
    restored = _plan(app_client, wfm, day=TUESDAY, queue="repair")
    assert _at(restored, "10:00")["forecast_offered"] == _at(before, "10:00")["forecast_offered"]

    actions = db_session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.actor == "wfm", AuditEntry.action.like("forecast.override.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "forecast.override.create",
        "forecast.override.create",
        "forecast.override.delete",
    ]


def _publish_tuesday(
    client: TestClient,
    headers: dict[str, str],
    *,
    repair: tuple[str, ...] = ("a001", "a005", "a006"),
) -> dict[str, Any]:
    """Three repair agents 08:00-17:00 with lunch at noon (and an installation shift, which
    does not answer repair), a quarter's shrinkage, published."""
    lunch = [{"start": "12:00", "end": "13:00", "kind": "lunch"}]
    shifts = [
        {"agent": agent, "date": TUESDAY, "start": "08:00", "end": "17:00", "skill": "repair",
         "breaks": lunch}
        for agent in repair
    ] + [
        {"agent": "a002", "date": TUESDAY, "start": "09:00", "end": "13:00",
         "skill": "installation"},
    ]  # fmt: skip
    roster: dict[str, Any] = client.post(
        "/api/wfm/rosters",
        json={"name": "March", "period_start": TUESDAY, "period_end": TUESDAY,
              "shrinkage": 0.25, "shifts": shifts},
        headers=headers,
    ).json()  # fmt: skip
    published = client.post(f"/api/wfm/rosters/{roster['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return roster


def test_the_days_plan_sets_requirements_against_the_roster(
    app_client: TestClient, token_for: Callable[[str], str], history: None
) -> None:
    wfm = _headers(token_for, "supervisor")
    roster = _publish_tuesday(app_client, wfm)

    plan = _plan(app_client, wfm, day=TUESDAY, queue="repair", extra_agents=2)
    assert (plan["roster"], plan["shrinkage"], plan["extra_agents"]) == (None, 0.25, 2)
    ten = _at(plan, "10:00")
    # ten calls of 300 s a half hour: 1.67 Erlangs; 80 % within 20 s takes 4 on the phones
    assert ten["aht_s"] == pytest.approx(300, rel=0.05)
    assert ten["required_agents"] == 4
    assert ten["required_heads"] == math.ceil(4 / 0.75) == 6
    assert (ten["scheduled_heads"], ten["gap"]) == (3, -3)
    assert _at(plan, "12:00")["scheduled_heads"] == 0
    # three heads less a quarter's shrinkage: two on the phones, then four with the what-if
    assert ten["service_level"] < 0.8 < ten["what_if_service_level"]
    assert ten["what_if_asa_s"] < (ten["asa_s"] or math.inf)
    assert _at(plan, "03:00")["required_agents"] == 0
    assert plan["short_heads"] > 0
    # the draft's coverage when a roster is named
    named = _plan(app_client, wfm, day=TUESDAY, queue="repair", roster=roster["id"])
    assert named["roster"] == roster["id"]
    assert _at(named, "10:00")["scheduled_heads"] == 3

    # a day gone by: every interval elapsed, the actuals in place of the forecast
    monday = _plan(app_client, wfm, day=MONDAY.isoformat(), queue="repair")
    ten = _at(monday, "10:00")
    assert (ten["elapsed"], ten["actual_offered"], ten["reforecast_offered"]) == (True, 14, 14)
    assert ten["service_level"] is None
    assert monday["volume_ratio"] > 1.2

    refused = app_client.get(
        "/api/wfm/plan/day", params={"day": "2025-01-06", "queue": "repair"}, headers=wfm
    )
    assert refused.status_code == 422
    assert "no contacts of queue repair queued from 2024-08-19 to 2025-01-12" in refused.text
    unknown = app_client.get("/api/wfm/plan/day", params={"queue": "nope"}, headers=wfm)
    assert unknown.status_code == 422


def test_a_sites_plan_and_adherence_count_only_that_sites_agents(
    app_client: TestClient, token_for: Callable[[str], str], history: None
) -> None:
    # repair is a hefei queue; a021 (chengdu, repair 4) is rostered on it beside three of
    # hefei's agents
    wfm = _headers(token_for, "wfm")
    _publish_tuesday(app_client, wfm, repair=("a001", "a005", "a006", "a021"))
    center = _plan(app_client, wfm, day=TUESDAY, queue="repair")
    hefei = _plan(app_client, wfm, day=TUESDAY, queue="repair", site="hefei")
    assert _at(center, "10:00")["scheduled_heads"] == 4
    assert _at(hefei, "10:00")["scheduled_heads"] == 3
    assert _at(hefei, "10:00")["required_agents"] == _at(center, "10:00")["required_agents"]
    # a site's default queue is its own first one; another site's queue is refused
    # (the center's first queue is vip, hefei's installation: no history of it here)
    default = app_client.get("/api/wfm/plan/day", params={"day": TUESDAY, "site": "hefei"},
                             headers=wfm)  # fmt: skip
    assert "no contacts of queue installation" in default.text
    for params, problem in (
        ({"queue": "repair", "site": "chengdu"}, "no queue 'repair' at site 'chengdu'"),
        ({"site": "wuhan"}, "no site 'wuhan' (sites: hefei, chengdu)"),
    ):
        refused = app_client.get(
            "/api/wfm/plan/day", params={"day": TUESDAY, **params}, headers=wfm
        )
        assert refused.status_code == 422, refused.text
        assert problem in refused.text

    def adherence(**params: str) -> list[str]:
        response = app_client.get(
            "/api/wfm/adherence/day", params={"day": TUESDAY, **params}, headers=wfm
        )
        assert response.status_code == 200, response.text
        return sorted(a["agent"] for a in response.json()["agents"])

    assert adherence() == ["a001", "a002", "a005", "a006", "a021"]
    assert adherence(site="hefei") == ["a001", "a002", "a005", "a006"]
    assert adherence(site="chengdu") == ["a021"]
    unknown = app_client.get(
        "/api/wfm/adherence/day", params={"day": TUESDAY, "site": "wuhan"}, headers=wfm
    )
    assert unknown.status_code == 422 and "no site 'wuhan'" in unknown.text


def test_requirements_use_erlang_a_once_the_history_shows_the_callers_patience(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session, history: None
) -> None:
    wfm = _headers(token_for, "wfm")
    _publish_tuesday(app_client, wfm)

    def gave_up(count: int, start: int) -> list[ContactRecord]:
        at = datetime.combine(MONDAY, time(10), SHANGHAI).timestamp()
        return [
            ContactRecord(contact_id=f"gone{start + k}", arrived_at=at + k, queued_at=at + k,
                          abandoned_at=at + k + 60, outcome="abandoned", queue="repair")
            for k in range(count)
        ]  # fmt: skip

    # ten callers gave up in the four weeks before: too few to trust, Erlang C as before
    metrics_service.import_records(session=db_session, records=gave_up(10, 0), source="gone")
    db_session.commit()
    erlang_c = _plan(app_client, wfm, day=TUESDAY, queue="repair")
    assert (erlang_c["staffing_model"], erlang_c["patience_s"]) == ("Erlang C", None)
    assert erlang_c["abandons"] == 10
    # thirty: the patience is the abandons' rate over every caller's wait, answered ones
    # censored (27 days of 160 calls and Monday's 224 answered after 5 s each, 30 after 60 s)
    metrics_service.import_records(session=db_session, records=gave_up(20, 10), source="gone2")
    db_session.commit()
    erlang_a = _plan(app_client, wfm, day=TUESDAY, queue="repair")
    assert erlang_a["staffing_model"] == "Erlang A"
    assert erlang_a["patience_s"] == pytest.approx((27 * 160 + 224) * 5 / 30 + 60, abs=0.1)
    # callers who give up leave the queue: two on the phones do better than Erlang C says
    ten_c, ten_a = _at(erlang_c, "10:00"), _at(erlang_a, "10:00")
    assert ten_a["service_level"] > ten_c["service_level"]
    assert ten_a["required_agents"] <= ten_c["required_agents"]


def _what_if(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/wfm/plan/what-if", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_what_if_is_simulated_over_the_rest_of_the_day_with_and_without_the_change(
    app_client: TestClient, token_for: Callable[[str], str], history: None
) -> None:
    wfm = _headers(token_for, "wfm")
    _publish_tuesday(app_client, wfm)
    day = {"day": TUESDAY, "queue": "repair"}
    overtime = _what_if(
        app_client, wfm, **day, change="overtime", agents=3, start="12:00", end="13:00"
    )
    assert (overtime["replications"], overtime["seed"]) == (3, 1)
    assert overtime["change"] == "overtime: 3 agent(s) 12:00–13:00"
    noon, ten = _at(overtime, "12:00"), _at(overtime, "10:00")
    # at lunch nobody answers repair; three on overtime do
    assert (noon["agents"], noon["agents_with"]) == (0, 3)
    assert (ten["agents"], ten["agents_with"]) == (2, 2)
    assert noon["offered"] > 0
    assert noon["service_level_with"] > noon["service_level"]
    assert noon["erlang_service_level_with"] > noon["erlang_service_level"] == 0
    assert noon["abandon_rate"] == noon["abandon_rate_with"] == 0  # Erlang C's callers wait
    # the same seed, the same answer
    again = _what_if(
        app_client, wfm, **day, change="overtime", agents=3, start="12:00", end="13:00"
    )
    assert again == overtime

    moved = _what_if(
        app_client, wfm, **day, change="break", agent="a001", start="12:00", end="14:00"
    )
    assert moved["change"] == "break of a001 moved from 12:00 to 14:00"
    # three heads less a quarter: two on the phones at two o'clock, one with a001 at lunch
    assert (_at(moved, "14:00")["agents"], _at(moved, "14:00")["agents_with"]) == (2, 1)
    # at noon a001 alone: one head less a quarter is nobody on the phones, as before
    assert (_at(moved, "12:00")["agents"], _at(moved, "12:00")["agents_with"]) == (0, 0)
    refusals = [
        ({"agent": "a001", "start": "10:00"}, "a001 has no break starting at 10:00"),
        ({"agent": "a001", "end": "16:30"}, "would end at 17:30, outside a001's shift 08:00–17:00"),
        ({}, "moving a break names the agent"),
    ]
    for params, problem in refusals:
        refused = app_client.get(
            "/api/wfm/plan/what-if",
            params={**day, "change": "break", "start": "12:00", "end": "14:00", **params},
            headers=wfm,
        )
        assert refused.status_code == 422, params
        assert problem in refused.text


def test_intraday_re_forecasts_the_rest_of_the_day_from_its_completed_intervals(
    db_session: Session, history: None
) -> None:
    wednesday = MONDAY + timedelta(days=2)
    # twice the forecast from 09:00 to 11:00, and calls in the interval still under way
    busy = _calls(wednesday, 20, 10_000, range(18, 22)) + _calls(
        wednesday, 5, 20_000, range(22, 23)
    )
    metrics_service.import_records(session=db_session, records=busy, source="planning-today")
    db_session.flush()
    center = load_center(SAMPLE)
    now = datetime.combine(wednesday, time(11, 10), SHANGHAI)

    def plan(extra: int) -> Any:
        return planned_day(
            session=db_session,
            center=center,
            day=wednesday,
            queue_id="repair",
            roster_id=None,
            extra_agents=extra,
            now=now,
        ).plan

    today = plan(0)
    by_clock = {f"{i.index // 2:02d}:{30 * (i.index % 2):02d}": i for i in today.intervals}
    assert [i.index for i in today.intervals if i.elapsed] == list(range(22))
    assert by_clock["10:30"].actual_offered == 20
    assert by_clock["11:00"].actual_offered is None  # under way: not an actual yet
    # (80 + 50) ÷ (40 + 50) of the forecast for the rest of the day
    assert today.volume_ratio == pytest.approx(130 / 90, rel=0.02)
    later = by_clock["14:00"]
    assert later.reforecast_offered == pytest.approx(later.forecast_offered * 130 / 90, rel=0.02)
    assert later.required_agents >= 4
    assert later.scheduled_heads == 0 and later.service_level == 0.0
    # with six more agents from now the rest of the day meets the target
    what_if = {i.index: i for i in plan(6).intervals}[later.index]
    assert what_if.what_if_service_level is not None and what_if.what_if_service_level > 0.8
    assert what_if.what_if_asa_s is not None and what_if.what_if_asa_s < 20
    assert by_clock["10:30"].what_if_service_level is None


def test_the_reports_page_and_the_wallboard_forecast_with_the_overrides(
    app_client: TestClient, token_for: Callable[[str], str], db_session: Session, history: None
) -> None:
    wfm = _headers(token_for, "wfm")

    def expected_on_the_report() -> float:
        page = app_client.get(
            f"/reports?from={TUESDAY}&to={TUESDAY}&interval=30m&queue=repair&lang=en",
            headers=wfm,
        )
        assert page.status_code == 200, page.text
        total = re.search(r"; ([\d.]+) contacts expected", page.text)
        assert total is not None, page.text
        return float(total.group(1))

    tuesday = datetime.combine(date.fromisoformat(TUESDAY), time(10, 20), SHANGHAI)
    center = load_center(SAMPLE)

    def on_the_wallboard() -> float:
        charts = build(session=db_session, center=center, now=tuesday.astimezone(UTC))
        assert charts.forecast is not None, charts.notes
        return charts.forecast[charts.intervals.index("10:00")]

    report, wall = expected_on_the_report(), on_the_wallboard()
    whole_day = {"day": TUESDAY, "start": "00:00", "end": "23:59", "reason": "mailing"}
    for queue, percent in (("repair", 100), (None, 50)):
        made = app_client.post(
            "/api/wfm/overrides",
            json={**whole_day, "queue": queue, "percent": percent},
            headers=wfm,
        )
        assert made.status_code == 201, made.text
    db_session.expire_all()
    # the repair report takes both (×2 ×1.5), the center's wallboard the center-wide one only
    assert expected_on_the_report() == pytest.approx(3 * report, rel=0.01)
    assert on_the_wallboard() == pytest.approx(1.5 * wall, rel=0.01)
