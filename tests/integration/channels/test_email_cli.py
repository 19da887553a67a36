"""``hotline mail``: a mailbox from YAML (located errors), the lists, the outbox once."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()


def test_mailbox_from_yaml_with_located_errors(database: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("address: help@support.example.com\nsmtp_port: 99999\n", encoding="utf-8")
    result = runner.invoke(app, ["mail", "mailbox", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: smtp_port: Input should be less than or equal to 65535" in result.output
    good = tmp_path / "good.yaml"
    good.write_text(
        "address: help@support.example.com\nsmtp_host: 127.0.0.1\nsmtp_username: u\n"
        "smtp_password: secret-pass\nqueue: email\n",
        encoding="utf-8",
    )
    saved = runner.invoke(app, ["mail", "mailbox", str(good)])
    assert saved.exit_code == 0, saved.output
    listed = runner.invoke(app, ["mail", "mailboxes"])
    assert "help@support.example.com" in listed.output
    assert "secret-pass" not in listed.output
    sent = runner.invoke(app, ["mail", "send"])
    assert sent.exit_code == 0, sent.output
    assert "0 message(s) tried" in sent.output
    assert runner.invoke(app, ["mail", "quarantine"]).exit_code == 0
