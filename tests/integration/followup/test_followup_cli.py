"""``hotline followup due|sweep|statement`` and ``hotline campaigns followups`` end to end on
a SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.store.db import make_engine
from hotline.store.migrate import upgrade

runner = CliRunner()
CENTER = """\
center: {name: Follow-up test}
followup:
  scripts: [{id: short, questions: [done, csat]}]
  rules: [{id: repairs, type: repair, due_hours: 8, priority: high, script: short}]
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    return url


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_sweep_due_and_statement(database: str, tmp_path: Path) -> None:
    center = tmp_path / "center.yaml"
    center.write_text(CENTER, encoding="utf-8")
    people = tmp_path / "customers.csv"
    people.write_text("name,phones\n张伟,138 1234 5678\n", encoding="utf-8")
    invoke("customers", "import", str(people))
    invoke("tickets", "create", "repair", "热水器不加热", "--customer", "1")
    invoke("tickets", "provider-add", "P01", "朝阳服务站")
    invoke("tickets", "act", "1", "dispatch", "--target", "P01")
    invoke("tickets", "act", "1", "resolve")  # the command line does not make the task ...
    assert "0 follow-up(s) due" in invoke("followup", "due", "--hours", "1000")
    # ... the sweep catches it, once.
    assert "1 follow-up(s) created" in invoke("followup", "sweep", "--center", str(center))
    assert "0 follow-up(s) created" in invoke("followup", "sweep", "--center", str(center))
    due = invoke("followup", "due", "--hours", "1000")
    assert "1 follow-up(s) due" in due and "+8613812345678" in due and "high" in due
    # The due follow-ups go on a campaign's list (a second time: already on it).
    invoke("campaigns", "create", "回访", "--kind", "follow_up", "--mode", "progressive")
    listed = invoke("campaigns", "followups", "1", "--hours", "1000")
    assert "1 records added" in listed and "0 with no number" in listed
    assert "1 already listed" in invoke("campaigns", "followups", "1", "--hours", "1000")

    month = datetime.now(UTC).strftime("%Y-%m")
    assert f"no claim was submitted in {month}" in invoke(
        "followup", "statement", month, "--out", str(tmp_path)
    )
    written = invoke("followup", "statement", month, "--provider", "P01", "--out", str(tmp_path))
    assert "0 claim(s)" in written
    book = load_workbook(tmp_path / f"settlement-P01-{month}.xlsx")
    assert [row[0] for row in book["summary"].iter_rows(min_row=2, values_only=True)] == [
        "approved",
        "rejected",
        "pending",
    ]
    refused = runner.invoke(app, ["followup", "statement", "2026-13"])
    assert refused.exit_code == 1 and "YYYY-MM" in refused.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(CENTER.replace("script: short", "script: long"), encoding="utf-8")
    bad = runner.invoke(app, ["followup", "sweep", "--center", str(broken)])
    assert bad.exit_code == 1 and "unknown follow-up script 'long'" in bad.output
