"""``hotline wechat``: an account from YAML (located errors), the list without secrets."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()


def test_an_account_from_yaml_with_located_errors(database: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "app_id: wx5823bf96d3bd56c7\nqueue: chat\nencoding_aes_key: too-short\n", encoding="utf-8"
    )
    refused = runner.invoke(app, ["wechat", "account", str(bad)])
    assert refused.exit_code == 1
    assert f"{bad}:3: encoding_aes_key: String should match pattern" in refused.output
    no_token = tmp_path / "no-token.yaml"
    no_token.write_text("app_id: wx5823bf96d3bd56c7\nqueue: chat\n", encoding="utf-8")
    refused = runner.invoke(app, ["wechat", "account", str(no_token)])
    assert refused.exit_code == 1 and "token: a new account needs" in refused.output
    good = tmp_path / "good.yaml"
    good.write_text(
        "app_id: wx5823bf96d3bd56c7\nqueue: chat\ntoken: QDG6eK\napp_secret: the-app-secret\n",
        encoding="utf-8",
    )
    saved = runner.invoke(app, ["wechat", "account", str(good)])
    assert saved.exit_code == 0, saved.output
    assert "/wechat/push/wx5823bf96d3bd56c7" in saved.output
    listed = runner.invoke(app, ["wechat", "accounts"])
    assert "wx5823bf96d3bd56c7" in listed.output and "Token, AppSecret" in listed.output
    assert "the-app-secret" not in listed.output and "QDG6eK" not in listed.output
