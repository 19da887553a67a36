"""The service-desk commands end to end on a SQLite file: customers, tickets, knowledge base."""

from __future__ import annotations

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
    return path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_customer_ticket_and_article_commands(database: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("name,phones\n张伟,138 1234 5678\n李娜,010-65521234\n", encoding="utf-8")
    assert "2 customers imported" in invoke("customers", "import", str(csv_file))
    pop = invoke("customers", "pop", "+86 138-1234-5678")
    assert "张伟" in pop
    assert "张*" in invoke("customers", "pop", "13812345678", "--masked")
    added = invoke("customers", "add", "張偉", "--phone", "0086 138 1234 5678")
    assert "possible duplicate of customer 1" in added
    assert "duplication rate" in invoke("customers", "duplicates")

    assert "created" in invoke("tickets", "create", "repair", "热水器不加热", "--customer", "1")
    invoke("tickets", "provider-add", "P01", "朝阳服务站")
    invoke("tickets", "act", "1", "dispatch", "--target", "P01")
    invoke("tickets", "act", "1", "resolve")
    refused = runner.invoke(app, ["tickets", "act", "1", "close"])
    assert refused.exit_code == 1 and "verification callback" in refused.output
    invoke("tickets", "verify", "1", "--reached", "--confirmed")
    assert "closed" in invoke("tickets", "act", "1", "close")
    assert "dispatch" in invoke("tickets", "show", "1")

    body = tmp_path / "body.txt"
    body.write_text("检查燃气阀门是否打开。", encoding="utf-8")
    invoke("kb", "add", "热水器E4故障", str(body), "--actor", "editor")
    invoke("kb", "submit", "1", "--actor", "editor")
    assert "published" in invoke("kb", "review", "1", "--approve", "--actor", "qa1")
    assert "热水器E4故障" in invoke("kb", "search", "熱水器 E4")


def test_bad_csv_is_rejected_whole_with_located_errors(database: Path, tmp_path: Path) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("name,phones\n王芳,13800000011\n赵强,12345\n", encoding="utf-8")
    result = runner.invoke(app, ["customers", "import", str(csv_file)])
    assert result.exit_code == 1
    assert f"{csv_file}:3: phones" in result.output
    assert "nothing was written" in result.output
    assert '"customers": []' in invoke("customers", "pop", "13800000011")
