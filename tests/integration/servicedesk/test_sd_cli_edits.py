"""CLI for the edits that had only API routes: complaint level, provider updates, ticket
categories and fields, KB edit/retire, feedback and attachments (SQLite file)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

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
    monkeypatch.delenv("HOTLINE_CENTER_CONFIG", raising=False)
    return path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    return result.output


def test_ticket_edits(database: Path) -> None:
    assert "water_heater" in invoke("tickets", "categories")
    missing = refused(
        "tickets", "create", "repair", "热水器不加热", "--category", "water_heater",
        "--field", "model_number=JSQ25",
    )  # fmt: skip
    assert "custom_fields.serial_number: is required for water_heater tickets" in missing
    assert "nothing was written" in missing
    assert "must look like name=value" in refused(
        "tickets", "create", "repair", "x", "--field", "model_number"
    )
    invoke(
        "tickets", "create", "repair", "热水器不加热", "--category", "water_heater",
        "--field", "model_number=JSQ25", "--field", "serial_number=SN1",
    )  # fmt: skip
    edited = invoke("tickets", "fields", "1", "--field", "purchase_date=2025-03-08")
    assert '"purchase_date": "2025-03-08"' in edited
    assert "must be a date" in refused("tickets", "fields", "1", "--field", "purchase_date=昨天")
    assert "serial_number" not in invoke(
        "tickets", "fields", "1", "--category", "washing_machine", "--field", "serial_number="
    )

    invoke("tickets", "provider-add", "P01", "朝阳服务站")
    invoke("tickets", "provider-add", "P02", "海淀服务站")
    invoke("tickets", "act", "1", "dispatch", "--target", "P01")
    assert "not dispatched to P02" in refused("tickets", "provider-update", "1", "P02", "已上门")
    assert "dispatched" in invoke("tickets", "provider-update", "1", "P01", "已上门检测")
    done = invoke(
        "tickets", "provider-update", "1", "P01", "更换温控器", "--completed", "--part", "温控器"
    )
    assert "resolved" in done
    shown = invoke("tickets", "show", "1")
    assert "provider_completed" in shown and "fields" in shown

    invoke("tickets", "create", "complaint", "维修员迟到", "--level", "1")
    raised = invoke("tickets", "level", "2", "3")
    assert "complaint level 3" in raised
    assert "team_lead → supervisor → manager" in raised
    assert "only goes up" in refused("tickets", "level", "2", "2")


def test_article_edits(database: Path, tmp_path: Path) -> None:
    body = tmp_path / "body.txt"
    body.write_text("检查燃气阀门是否打开。", encoding="utf-8")
    invoke("kb", "add", "热水器E4故障", str(body), "--actor", "editor")
    invoke("kb", "submit", "1", "--actor", "editor")
    invoke("kb", "review", "1", "--approve", "--actor", "qa1")
    body.write_text("先检查燃气阀门，再检查点火针。", encoding="utf-8")
    assert "version 2 saved as draft" in invoke(
        "kb", "edit", "1", "--body-file", str(body), "--title", "热水器E4故障处理",
        "--tag", "E4", "--note", "加点火针", "--actor", "editor",
    )  # fmt: skip
    assert "1 helpful, 0 not" in invoke("kb", "feedback", "1", "--helpful", "--actor", "a001")
    assert "1 helpful, 1 not" in invoke(
        "kb", "feedback", "1", "--not-helpful", "--comment", "没有图", "--actor", "a002"
    )
    picture = tmp_path / "e4.png"
    picture.write_bytes(b"\x89PNG fake image bytes")
    recorded = invoke("kb", "attach", "1", str(picture), "--uri", "s3://kb/e4.png")
    assert "image/png" in recorded and f"{picture.stat().st_size} bytes" in recorded
    listed = invoke("kb", "attachments", "1")
    assert "e4.png" in listed and hashlib.sha256(picture.read_bytes()).hexdigest()[:12] in listed
    assert "retired" in invoke("kb", "retire", "1")
    assert "热水器E4故障" not in invoke("kb", "search", "热水器 E4")
    assert "cannot be edited" in refused("kb", "edit", "1", "--title", "x")
