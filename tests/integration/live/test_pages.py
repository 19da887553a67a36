"""Every console page renders in zh-CN and en with every text translated, and checks roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.live.conftest import PASSWORD, SAMPLE, live_client

MISSING = re.compile(r"⟦[^⟧]*⟧")


@pytest.fixture
def client(
    session_factory: sessionmaker[Session], db_session: Session, tmp_path: Path
) -> Iterator[TestClient]:
    with live_client(
        session_factory=session_factory,
        db_session=db_session,
        home=tmp_path,
        users=(
            ("a001", ["agent"], "a001"),
            ("boss", ["supervisor"], None),
            ("root", ["admin"], None),
        ),
    ) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_pages_render_fully_translated(client: TestClient, language: str) -> None:
    pages = {
        "a001": ["/desk", "/console"],
        "boss": ["/wallboard", "/wallboard?mode=big", "/reports", "/reports?by=agent&interval=1h"],
        "root": ["/admin", "/reports?interval=all"],
    }
    for username, paths in pages.items():
        sign_in(client, username)
        for path in paths:
            joiner = "&" if "?" in path else "?"
            page = client.get(f"{path}{joiner}lang={language}", headers={"accept": "text/html"})
            assert page.status_code == 200, (path, page.text[:300])
            assert MISSING.findall(page.text) == [], path
            assert f'<html lang="{language}">' in page.text


def test_pages_refuse_the_wrong_roles_with_a_page(client: TestClient) -> None:
    sign_in(client, "a001")
    for path in ("/admin", "/wallboard", "/reports"):
        page = client.get(path, headers={"accept": "text/html"})
        assert page.status_code == 403 and 'id="forbidden"' in page.text, path
        assert MISSING.findall(page.text) == [] and "经理" in page.text
    sign_in(client, "boss")
    assert client.get("/admin", headers={"accept": "text/html"}).status_code == 403
    desk = client.get("/desk", headers={"accept": "text/html"})
    assert desk.status_code == 403


def test_admin_saves_only_a_valid_center_and_names_the_line(
    client: TestClient, tmp_path: Path
) -> None:
    sign_in(client, "root")
    text = SAMPLE.read_text(encoding="utf-8")
    broken = text.replace("requirements: ['complaints >= 3']", "requirements: ['complaint >= 3']")
    refused = client.post("/admin/center", json={"text": broken})
    assert refused.status_code == 422 and refused.json()["saved"] is False
    problem = refused.json()["problems"][0]
    assert "complaint" in problem["problem"] and problem["line"] == 1 + text[
        : text.index("requirements: ['complaints >= 3']")
    ].count("\n")
    assert not (tmp_path / "center.yaml").exists()
    edited = text.replace("wrap_up_s: 90", "wrap_up_s: 60")
    kept = client.post("/admin/center", json={"text": edited})
    assert kept.status_code == 200 and kept.json()["saved"] is True
    assert "wrap_up_s: 60" in (tmp_path / "center.yaml").read_text(encoding="utf-8")
    assert "wrap_up_s: 60" in client.get("/admin").text
    sign_in(client, "boss")
    assert client.post("/admin/center", json={"text": text}).status_code == 403


def test_reports_export_states_the_variant(client: TestClient) -> None:
    sign_in(client, "boss")
    csv = client.get("/reports/export?format=csv&interval=day")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    first = csv.text.splitlines()[0]
    assert first.startswith("interval_start,")  # a plain CSV: the header row comes first
    settings = csv.headers["x-hotline-report-settings"]
    assert '"vip": {"variant": "service_level"' in settings
    xlsx = client.get("/reports/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bad = client.get("/reports?from=2026-13-01", headers={"accept": "text/html"})
    assert bad.status_code == 422


def test_volume_is_compared_with_a_forecast_learned_from_the_weeks_before(
    client: TestClient, db_session: Session
) -> None:
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from hotline.metrics import service as metrics
    from hotline.metrics.records import ContactRecord

    shanghai = ZoneInfo("Asia/Shanghai")
    report_day = date(2026, 11, 2)
    records = []
    # 21 days before the report day, three repair calls an hour from 09:00 to 17:00.
    for back in range(1, 22):
        day = report_day - timedelta(days=back)
        for hour in range(9, 17):
            for n in range(3):
                queued = datetime(day.year, day.month, day.day, hour, 10 + 15 * n, tzinfo=shanghai)
                at = queued.timestamp()
                records.append(
                    ContactRecord(
                        contact_id=f"h{back}-{hour}-{n}",
                        arrived_at=at,
                        queued_at=at,
                        answered_at=at + 8,
                        agent="a012",
                        queue="repair",
                        outcome="answered",
                        talk_s=150.0,
                    )
                )
    metrics.import_records(session=db_session, records=records, source="history")
    db_session.commit()
    sign_in(client, "boss")
    page = client.get(f"/reports?from={report_day}&interval=1h&queue=repair&lang=en")
    assert page.status_code == 200
    note = re.search(r'id="forecast-note">([^<]*)<', page.text)
    assert note is not None and "the 21 days before the report" in note.group(1)
    total = re.search(r"; ([\d.]+) contacts expected", note.group(1))
    assert total is not None
    expected = float(total.group(1))
    assert 20 <= expected <= 28  # 24 calls a day in the history
    too_short = client.get(f"/reports?from={report_day - timedelta(days=14)}&interval=1h")
    assert "Fewer than 14 days of history" in too_short.text or "历史数据不足" in too_short.text
