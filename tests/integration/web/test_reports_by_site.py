"""Reports by site, on SQLite and PostgreSQL: a contact belongs to the site of its queue
(the sample center: repair at Hefei, VIP at Chengdu), else of its agent; the KPI report
breaks down by site and filters to one (API, page, export, command line), and an unknown
site is refused naming the field.

The data: the cockpit test's ten days of repair calls (20 a day, answered) and, on
10 March 2026, four VIP calls (two answered within the VIP line's 5 s) and one outbound
call of a Chengdu agent with no queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hotline.cli.main import app as cli
from hotline.metrics import service as metrics
from hotline.metrics.records import ContactRecord
from hotline.store.db import make_engine, make_session_factory
from tests.integration.followup.test_followup_cli import database
from tests.integration.web.conftest import PASSWORD, SAMPLE
from tests.integration.web.test_manager_cockpit_api import ZONE, auth, seed_ten_days

DAY = {"interval": "day", "timezone": "Asia/Shanghai"}
__all__ = ["database"]  # the command line's database (a fixture)


def seed(session: Session) -> None:
    """The ten days, four VIP calls and an outbound call on 10 March."""
    seed_ten_days(session)
    start = datetime(2026, 3, 10, 14, 0, tzinfo=ZONE).timestamp()
    records = [
        ContactRecord(
            contact_id=f"vip-{i}",
            arrived_at=start + 60 * i,
            queued_at=start + 60 * i,
            answered_at=start + 60 * i + (3 if i < 2 else 30),
            queue="vip",
            agent="a031",
            talk_s=200.0,
            outcome="answered",
        )
        for i in range(4)
    ]
    records.append(
        ContactRecord(
            contact_id="out-1",
            arrived_at=start,
            queued_at=start,
            answered_at=start + 1,
            agent="a021",
            direction="outbound",
            talk_s=60.0,
            outcome="answered",
        )
    )
    metrics.import_records(session=session, records=records, source="sites-test")


@pytest.fixture
def seeded(db_session: Session) -> None:
    seed(db_session)
    db_session.commit()


def _on_the_tenth(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in rows if str(r["interval_start"]).startswith("2026-03-10")]


def test_the_kpi_report_by_site_and_for_one_site(
    app_client: TestClient, token_for: Callable[[str], str], seeded: None
) -> None:
    headers = auth(token_for("supervisor"))
    by_site = app_client.get("/api/reports/kpis", params={**DAY, "by": "site"}, headers=headers)
    assert by_site.status_code == 200, by_site.text
    tenth = {r["site"]: r for r in _on_the_tenth(by_site.json()["rows"])}
    assert set(tenth) == {"hefei", "chengdu"}
    assert (tenth["hefei"]["offered"], tenth["hefei"]["answered"]) == (20, 20)
    # Chengdu: the four VIP calls and its agent's outbound call.
    assert tenth["chengdu"]["offered"] == 5
    # Each contact judged by its own queue's headline variant: 2 of 4 VIP calls in 5 s.
    assert tenth["chengdu"]["reported_service_level"] == pytest.approx(3 / 5)

    chengdu = app_client.get(
        "/api/reports/kpis", params={**DAY, "by": "queue", "site": "chengdu"}, headers=headers
    )
    assert {r["queue"] for r in chengdu.json()["rows"]} == {"vip", None}

    unknown = app_client.get("/api/reports/kpis", params={**DAY, "site": "wuhan"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["field"] == "site"

    # The page and its export: by site, one site.
    app_client.cookies.clear()
    app_client.post("/api/auth/login", json={"username": "supervisor", "password": PASSWORD})
    query = {"from": "2026-03-10", "to": "2026-03-10", "interval": "day", "by": "site"}
    page = app_client.get("/reports", params={**query, "site": "hefei"})
    assert page.status_code == 200, page.text
    assert '<option value="hefei" selected>' in page.text
    export = app_client.get("/reports/export", params={**query, "format": "csv"})
    lines = export.text.splitlines()
    site_column = lines[0].split(",").index("site")
    assert sorted(line.split(",")[site_column] for line in lines[1:]) == ["chengdu", "hefei"]
    refused = app_client.get("/reports", params={**query, "site": "wuhan"})
    assert refused.status_code == 422 and "site" in refused.text


def test_the_command_line_reports_by_site(database: str) -> None:
    engine = make_engine(database)
    with make_session_factory(engine)() as session:
        seed(session)
        session.commit()
    engine.dispose()
    runner = CliRunner()
    base = ["report", "kpis", "--center", str(SAMPLE), "--tz", "Asia/Shanghai", "-i", "day"]
    result = runner.invoke(cli, [*base, "--by", "site", "--site", "chengdu", "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert [(r["site"], r["offered"]) for r in rows] == [("chengdu", 5)]
    refused = runner.invoke(cli, [*base, "--site", "wuhan"])
    assert refused.exit_code == 2 and "no site 'wuhan'" in refused.output
