"""``hotline node`` and ``hotline serve --web-only`` refuse a partition that is not a site,
naming the sites they know."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app

runner = CliRunner()


def test_a_partition_must_be_one_of_the_centers_sites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path}/hotline.db")
    result = runner.invoke(app, ["node", "--partition", "shanghai"])
    assert result.exit_code == 2
    assert "partition 'shanghai' is not a site of the center (hefei, chengdu)" in " ".join(
        result.output.split()
    )


def test_a_lease_must_outlast_several_polls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path}/hotline.db")
    result = runner.invoke(
        app, ["node", "--partition", "hefei", "--lease-s", "0.1", "--poll-s", "0.05"]
    )
    assert result.exit_code == 2
    assert "lease_s (0.1) must be more than 4 × poll_s (0.05)" in " ".join(result.output.split())


def test_a_web_only_node_serves_a_site_of_the_center(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path}/hotline.db")
    result = runner.invoke(app, ["serve", "--web-only", "shanghai"])
    assert result.exit_code == 2
    assert "partition 'shanghai' is not a site of the center (hefei, chengdu)" in " ".join(
        result.output.split()
    )
    assert not (tmp_path / "hotline.db").exists()  # refused before anything was touched
