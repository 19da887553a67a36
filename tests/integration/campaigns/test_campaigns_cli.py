"""``hotline campaigns`` end to end on a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hotline.campaigns import service as campaigns
from hotline.cli.main import app
from hotline.store.db import make_engine
from hotline.store.migrate import upgrade

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{path}")
    return path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_campaign_from_the_shell(database: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "calling_hours:\n  weekdays: '09:00-20:00'\n  holidays: ['2026-12-25']\n"
        "retry:\n  max_attempts: 4\n  busy: {after_minutes: 5}\n",
        encoding="utf-8",
    )
    assert "campaign 1 created" in invoke(
        "campaigns", "create", "installs", "--rules", str(rules), "--agent", "a001"
    )
    bad_rules = tmp_path / "bad.yaml"
    bad_rules.write_text("retry:\n  busy: {after_minutes: 0}\n", encoding="utf-8")
    refused = runner.invoke(app, ["campaigns", "create", "other", "--rules", str(bad_rules)])
    assert refused.exit_code == 1 and "retry.busy.after_minutes" in refused.output
    listing = tmp_path / "list.csv"
    listing.write_text("phone,name\n13812345678,Ada\n13912345678,Bo\n", encoding="utf-8")
    invoke("campaigns", "dnc", "add", "139-1234-5678", "--reason", "asked")
    assert "1 records added, 1 blocked" in invoke("campaigns", "import", "1", str(listing))
    broken = tmp_path / "broken.csv"
    broken.write_text("phone\n13712345678\nnope\n", encoding="utf-8")
    failed = runner.invoke(app, ["campaigns", "import", "1", str(broken)])
    assert failed.exit_code == 1
    assert f"{broken}:3: phone: not a phone number: 'nope'" in failed.output
    assert "nothing was written" in failed.output
    assert "campaign 1 is running" in invoke("campaigns", "state", "1", "running")
    shown = invoke("campaigns", "show", "1")
    assert "records blocked" in shown and "running" in shown
    assert "+8613912345678" in invoke("campaigns", "dnc", "list")
    assert "installs" in invoke("campaigns", "list")
    assert "entry 1 removed" in invoke("campaigns", "dnc", "remove", "1")
    again = runner.invoke(app, ["campaigns", "state", "1", "draft"])
    assert again.exit_code == 1
    # consent is kept 30 days: a consent recorded now is not purged
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection, Session(bind=connection) as session:
        campaigns.record_consent(
            session, number="13812345678", evidence="recorded call v-1", actor="a001"
        )
        session.flush()
    engine.dispose()
    assert "0 consent records" in invoke("campaigns", "purge-consents")
