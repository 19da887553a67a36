"""Multi-skill requirements and the overflow what-if through the API, on SQLite and
PostgreSQL.

The history is the planning test's four weeks of repair calls (ten every half hour from
09:00 to 17:00, Shanghai time) and as many installation calls. Both queues are the Hefei
site's; its installation team holds both skills, so the simulator staffs the two queues
together with fewer agents than their Erlang answers added up. On the published Tuesday the
installation queue has one agent on the phones for its ten calls of five minutes a half
hour and repair three: opening installation's overflow to repair after 30 s lifts
installation's service level and costs repair's callers some of theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from hotline.metrics import service as metrics_service
from hotline.metrics.records import ContactRecord
from tests.integration.web.test_planning_api import FIRST, MONDAY, TUESDAY, _calls, _headers

ENDPOINT = "/api/wfm/plan/multiskill"


def two_queue_records() -> list[ContactRecord]:
    """Four weeks and a Monday of repair calls, and as many installation calls."""
    records: list[ContactRecord] = []
    for d in range(28):
        records += _calls(FIRST + timedelta(days=d), 10, len(records))
    records += _calls(MONDAY, 10, len(records))
    return records + [
        replace(r, contact_id=f"i{n}", queue="installation") for n, r in enumerate(records)
    ]


@pytest.fixture
def two_queues(db_session: Session) -> None:
    metrics_service.import_records(
        session=db_session, records=two_queue_records(), source="multiskill-test"
    )
    db_session.commit()


def _get(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _without_wall_time(body: dict[str, Any]) -> dict[str, Any]:
    """The answer less the search's wall-clock seconds, the one figure a rerun changes."""
    for interval in body["intervals"]:
        interval["search"].pop("wall_s")
    return body


def test_the_simulator_staffs_a_sites_queues_together_beside_the_erlang_sum(
    app_client: TestClient, token_for: Callable[[str], str], two_queues: None
) -> None:
    wfm = _headers(token_for, "wfm")
    asked: dict[str, str | int] = {
        "day": TUESDAY,
        "site": "hefei",
        "start": "10:00",
        "intervals": 1,
    }
    body = _get(app_client, ENDPOINT, wfm, **asked)
    assert sorted(body["queues"]) == ["installation", "repair"]
    assert (body["replications"], body["seed"]) == (2, 1)
    (pooling,) = body["pooling"]
    (interval,) = body["intervals"]
    assert pooling["start"] == interval["interval_start"] == "10:00"
    # Each queue's Erlang answer on its own: about 10 calls of 300 s a half hour.
    erlang = {row["queue"]: row["erlang_agents"] for row in interval["queues"]}
    assert erlang["repair"] == erlang["installation"] >= 3
    assert pooling["erlang_agents"] == interval["erlang_agents"] == sum(erlang.values())
    # Agents of two skills pool the queues: fewer than the sum, every target met.
    assert pooling["meets_targets"] and interval["meets_targets"]
    assert pooling["agents"] == interval["agents"] == sum(interval["plan"].values())
    assert pooling["pooling_gain"] == pooling["erlang_agents"] - pooling["agents"] > 0
    assert {row["queue"] for row in interval["queues"]} == {"repair", "installation"}
    assert all(row["meets_target"] for row in interval["queues"])
    # Hefei's teams only; the same seed gives the same answer.
    assert set(interval["plan"]) <= {"t-install", "t-repair"}
    assert _without_wall_time(_get(app_client, ENDPOINT, wfm, **asked)) == _without_wall_time(body)

    # Without a start, the day's busiest half hour (the first of the equal ones).
    busiest = _get(app_client, ENDPOINT, wfm, day=TUESDAY, site="hefei")
    assert busiest["pooling"][0]["start"] == "09:00"

    refusals: list[tuple[dict[str, str | int], str]] = [
        ({"site": "mars"}, "no site 'mars'"),
        ({"start": "25:00"}, "start"),
        ({"intervals": 5}, "intervals"),
        ({"replications": 1}, "replications"),
    ]
    for params, problem in refusals:
        refused = app_client.get(ENDPOINT, params={**asked, **params}, headers=wfm)
        assert refused.status_code == 422, params
        assert problem in refused.text


def test_opening_an_overflow_is_simulated_on_both_queues(
    app_client: TestClient, token_for: Callable[[str], str], two_queues: None
) -> None:
    wfm = _headers(token_for, "wfm")
    lunch = [{"start": "12:00", "end": "13:00", "kind": "lunch"}]
    shifts = [
        {"agent": agent, "date": TUESDAY, "start": "08:00", "end": "17:00", "skill": skill,
         "breaks": lunch}
        for agent, skill in (("a011", "repair"), ("a012", "repair"), ("a013", "repair"),
                             ("a014", "repair"), ("a002", "installation"),
                             ("a003", "installation"))
    ]  # fmt: skip
    created = app_client.post(
        "/api/wfm/rosters",
        json={"name": "Tuesday", "period_start": TUESDAY, "period_end": TUESDAY,
              "shrinkage": 0.25, "shifts": shifts},
        headers=wfm,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    roster = created.json()
    published = app_client.post(f"/api/wfm/rosters/{roster['id']}/publish", headers=wfm)
    assert published.status_code == 200, published.text

    asked: dict[str, str] = {
        "day": TUESDAY,
        "queue": "installation",
        "change": "overflow",
        "to": "repair",
    }
    body = _get(app_client, "/api/wfm/plan/what-if", wfm, **asked, after_s=30)
    assert body["change"] == "overflow to repair after 30 s"
    assert (body["queue"], body["target_queue"]) == ("installation", "repair")
    source = next(r for r in body["intervals"] if r["start"] == "10:00")
    target = next(r for r in body["target_intervals"] if r["start"] == "10:00")
    # two installation heads and four repair heads, less a quarter: 1 and 3 on the phones
    assert (source["agents"], target["agents"]) == (1, 3)
    assert source["erlang_service_level_with"] is None  # Erlang has no overflow
    assert source["offered"] > 0 and target["offered"] > 0
    # Installation's callers are answered by repair's agents after 30 s ...
    assert source["service_level"] < source["service_level_with"]
    assert source["asa_s_with"] < source["asa_s"]
    # ... and repair's own callers wait longer for them.
    assert target["service_level_with"] <= target["service_level"]
    assert target["asa_s_with"] > target["asa_s"]
    assert _get(app_client, "/api/wfm/plan/what-if", wfm, **asked, after_s=30) == body

    overflow_refusals: list[tuple[dict[str, str | None], str]] = [
        ({"to": None}, "an overflow names the queue it goes to"),
        ({"to": "installation"}, "a queue cannot overflow to itself"),
        ({"to": "nowhere"}, "no queue 'nowhere'"),
        ({"change": "overtime", "to": None}, "overtime names its start time"),
    ]
    for changed, problem in overflow_refusals:
        query = {k: v for k, v in {**asked, **changed}.items() if v is not None}
        refused = app_client.get("/api/wfm/plan/what-if", params=query, headers=wfm)
        assert refused.status_code == 422, changed
        assert problem in refused.text
