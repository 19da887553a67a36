"""``hotline import contacts`` runs a contact-record import job: staged, then stored whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.store.db import make_engine
from hotline.store.migrate import upgrade
from hotline.store.models.imports import ImportJob, StagedContactRecord
from hotline.store.models.metrics import ContactRecordRow

runner = CliRunner()
HEADER = "contact_id,queue,arrived_at,queued_at,answered_at,abandoned_at,agent,talk_s,outcome\n"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
    return url


def _file(tmp_path: Path, name: str, ids: list[str]) -> Path:
    rows = [
        f"{i},vip,2026-03-02T08:00:0{n},,,2026-03-02T08:00:0{n},,,abandoned\n"
        for n, i in enumerate(ids)
    ]
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def test_import_contacts_stores_a_job_and_replaces_only_when_asked(
    database: str, tmp_path: Path
) -> None:
    march = _file(tmp_path, "march.csv", ["c1", "c2", "c3"])
    done = runner.invoke(app, ["import", "contacts", str(march), "--source", "march"])
    assert done.exit_code == 0, done.output
    assert "stored 3 contact records as source 'march'" in done.output
    assert "3 rows read, 0 skipped" in done.output

    again = runner.invoke(app, ["import", "contacts", str(march), "--source", "march"])
    assert again.exit_code == 1
    assert "already holds 3 contact records; use --replace" in again.output

    fixed = _file(tmp_path, "fixed.csv", ["d1", "d2"])
    replaced = runner.invoke(
        app, ["import", "contacts", str(fixed), "--source", "march", "--replace"]
    )
    assert replaced.exit_code == 0, replaced.output
    assert "stored 2 contact records" in replaced.output

    engine = make_engine(database)
    with engine.connect() as connection:
        stored = connection.scalars(select(ContactRecordRow.contact_id)).all()
        jobs = connection.execute(select(ImportJob.kind, ImportJob.state)).all()
        staged = connection.scalars(select(StagedContactRecord.id)).all()
    engine.dispose()
    assert sorted(stored) == ["d1", "d2"]
    assert sorted(jobs) == [("contacts", "done"), ("contacts", "done")]
    assert staged == []
