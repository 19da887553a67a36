"""Each cause of a 500 that fuzzing (and probing by hand) found is now a 4xx naming the field."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

TokenFor = Callable[[str], str]


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _fields(response: object) -> dict[str, str]:
    body = response.json()  # type: ignore[attr-defined]
    return {p["field"]: p["problem"] for p in body["problems"]}


@pytest.mark.parametrize("route", ["kpis", "agents", "experience"])
def test_an_unknown_time_zone_is_a_422_naming_it(
    app_client: TestClient, token_for: TokenFor, route: str
) -> None:
    response = app_client.get(
        f"/api/reports/{route}",
        params={"timezone": "Mars/Olympus"},
        headers=_auth(token_for("supervisor")),
    )
    assert response.status_code == 422
    assert "unknown time zone 'Mars/Olympus'" in _fields(response)["query.timezone"]


def test_an_unknown_survey_breakdown_is_a_422(app_client: TestClient, token_for: TokenFor) -> None:
    response = app_client.get(
        "/api/reports/experience", params={"by": "planet"}, headers=_auth(token_for("supervisor"))
    )
    assert response.status_code == 422
    assert "planet" in response.json()["message"]


@pytest.mark.parametrize("record_id", [2**31, 2**63, 2**64])
def test_ids_beyond_the_integer_columns_are_a_422(
    app_client: TestClient, token_for: TokenFor, record_id: int
) -> None:
    headers = _auth(token_for("supervisor"))
    for path, field in (
        (f"/api/tickets/{record_id}", "path.ticket_id"),
        (f"/api/customers/{record_id}", "path.customer_id"),
        (f"/api/kb/articles/{record_id}", "path.article_id"),
    ):
        response = app_client.get(path, headers=headers)
        assert response.status_code == 422, path
        assert field in _fields(response)


def test_an_unknown_ticket_action_is_a_422(app_client: TestClient, token_for: TokenFor) -> None:
    headers = _auth(token_for("agent"))
    ticket = app_client.post(
        "/api/tickets", json={"type": "inquiry", "subject": "s"}, headers=headers
    ).json()
    response = app_client.post(
        f"/api/tickets/{ticket['id']}/actions", json={"action": ""}, headers=headers
    )
    assert response.status_code == 422
    assert "body.action" in _fields(response)


def test_wfm_edge_inputs_are_answered_not_crashed(
    app_client: TestClient, token_for: TokenFor
) -> None:
    headers = _auth(token_for("wfm"))
    # No volume and a near-zero handle time: 0 ÷ 0 before.
    response = app_client.post(
        "/api/wfm/intraday",
        json={
            "forecast_offered": [0.0],
            "forecast_aht_s": [5e-324],
            "scheduled_agents": [0.0],
            "actual_offered": [],
            "actual_answered": [],
            "actual_handle_s": [],
        },
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["aht_ratio"] == 1.0
    # No requirements at all: StopIteration inside the solver set-up before.
    response = app_client.post(
        "/api/wfm/schedule",
        json={"first_day": "2026-01-05", "requirements": {}, "agents": [], "templates": []},
        headers=headers,
    )
    assert response.status_code == 422
    assert "body.requirements" in _fields(response)
    # An offered load no formula can evaluate: float overflow before.
    response = app_client.post(
        "/api/wfm/erlang", json={"calls": 1e308, "aht_s": 7.0}, headers=headers
    )
    assert response.status_code == 422
    assert "body.calls" in _fields(response)


def test_control_characters_in_a_configuration_are_a_located_problem(
    app_client: TestClient, token_for: TokenFor
) -> None:
    response = app_client.post(
        "/api/config/validate",
        json={"text": "center: {name: Demo}\nnote: X\x9e\n"},
        headers=_auth(token_for("supervisor")),
    )
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["line"] == 2 and "#x009e" in error["problem"]


def test_report_page_filters_name_what_is_unknown(
    app_client: TestClient, token_for: TokenFor
) -> None:
    headers = _auth(token_for("supervisor"))
    for path, field in (
        ("/reports?queue=nope", "queue"),
        ("/reports/export?format=csv&agent=nobody", "agent"),
        ("/reports?from=9999-12-31", "from"),
    ):
        response = app_client.get(path, headers=headers)
        assert response.status_code == 422, path
        assert field in _fields(response)
    assert app_client.get("/reports?queue=repair", headers=headers).status_code == 200
