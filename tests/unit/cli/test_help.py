"""Every ``hotline`` command and sub-command answers ``--help`` with a description."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import typer.testing
from typer.main import get_command
from typer.testing import CliRunner

from hotline.cli.main import app


def _paths(
    command: typer.core.TyperGroup | object, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = [prefix]
    commands = getattr(command, "commands", {})
    for name, sub in commands.items():
        found.extend(_paths(sub, (*prefix, name)))
    return found


def test_every_command_has_help(monkeypatch: pytest.MonkeyPatch) -> None:
    root = get_command(app)
    paths = _paths(root)
    assert ("config", "validate") in paths and ("init",) in paths and ("serve",) in paths
    # Typer's runner builds the whole command tree from the functions' signatures at every
    # invoke (most of this test's time); the tree built once above is the same one.
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: root)
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        lines = [line.strip() for line in result.output.splitlines() if line.strip()]
        description = lines[1] if len(lines) > 1 else ""
        assert description and not description.startswith("╭"), (
            f"{' '.join(path)} has no description"
        )


def test_servers_start_with_the_saved_center(tmp_path: Path) -> None:
    from hotline.cli.platform import SAMPLE_CENTER, center_path

    assert center_path(tmp_path, None) == SAMPLE_CENTER
    saved = tmp_path / "center.yaml"
    saved.write_text("center: {name: Saved}\n", encoding="utf-8")
    assert center_path(tmp_path, None) == saved
    explicit = tmp_path / "other.yaml"
    assert center_path(tmp_path, explicit) == explicit
