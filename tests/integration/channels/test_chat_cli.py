"""``hotline chat login-secret``: the chat login secret set (generated, or from a file with a
located error), stored encrypted, shown only as set or not."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()


def test_the_login_secret_from_a_file_or_generated(database: Path, tmp_path: Path) -> None:
    assert "no chat login secret" in runner.invoke(app, ["chat", "login-secret", "--show"]).output
    short = tmp_path / "short.txt"
    short.write_text("too-short\n", encoding="utf-8")
    refused = runner.invoke(app, ["chat", "login-secret", "--file", str(short)])
    assert refused.exit_code == 1
    assert f"{short}:1: secret: the login secret needs at least 32 characters" in refused.output
    spaced = tmp_path / "spaced.txt"
    spaced.write_text("a secret of many words, quite long enough\n", encoding="utf-8")
    refused = runner.invoke(app, ["chat", "login-secret", "--file", str(spaced)])
    assert refused.exit_code == 1 and "printable ASCII without spaces" in refused.output
    good = tmp_path / "secret.txt"
    good.write_text("3f1c9a7e5b2d48c6a0e9f7d3b1c5a8e2\n", encoding="utf-8")
    saved = runner.invoke(app, ["chat", "login-secret", "--file", str(good)])
    assert saved.exit_code == 0, saved.output
    assert "3f1c9a7e" not in saved.output
    generated = runner.invoke(app, ["chat", "login-secret", "--generate"])
    assert generated.exit_code == 0, generated.output
    assert len(generated.output.rsplit("once: ", 1)[1].strip()) == 64
    shown = runner.invoke(app, ["chat", "login-secret", "--show"]).output
    assert shown.startswith("set by cli at ")
    assert runner.invoke(app, ["chat", "login-secret"]).exit_code == 2
