"""``hotline telephony serve --node-name … --partition …`` refuses a bad voice node set-up by
name, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("flags", "refusal"),
    [
        (["--node-name", "voice-a"], "needs both --node-name and --partition"),
        (["--node-name", "voice-a", "--partition", "mars"], "'mars' is not a site of the center"),
        (["--node-name", "voice-a", "--partition", "hefei", "--heartbeat-s", "1"], "at least 2 s"),
        (
            ["--node-name", "voice-a", "--partition", "hefei", "--requests-keep-s", "30"],
            "--requests-keep-s 30: at least 60 s",
        ),
        (
            ["--node-name", "voice-a", "--partition", "hefei", "--requests-keep-s", "nan"],
            "--requests-keep-s nan: at least 60 s",
        ),
        (["--node-name", "voice-a", "--partition", "hefei"], "needs a database"),
        (
            [
                "--node-name",
                "voice-a",
                "--partition",
                "hefei",
                "--dialler",
                "--database-url",
                "sqlite:///unused.db",
            ],
            # a voice node dials campaigns now (the owner lends the agents), with a trunk
            "--dialler needs a trunk",
        ),
    ],
)
def test_a_bad_voice_node_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], refusal: str
) -> None:
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.delenv("HOTLINE_DATABASE_URL", raising=False)
    phones = tmp_path / "phones.yaml"
    phones.write_text("- {agent: a001, user: '1001', password: secret-1}\n")
    result = runner.invoke(app, ["telephony", "serve", "--phones", str(phones), *flags])
    assert result.exit_code == 2, result.output
    assert refusal in " ".join(result.output.split()), result.output
