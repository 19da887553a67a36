"""Fixtures of the channels' integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from hotline.store.db import make_engine
from hotline.store.migrate import upgrade


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite database the command line uses, with a fixed server secret."""
    path = tmp_path / "cli.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "cli-secret")
    # Rich tables unwrapped: the commands' console is made at import, before COLUMNS is set here.
    wide = Console(width=200)
    for module in ("hotline.cli.mail", "hotline.cli.wechat", "hotline.cli.sms"):
        monkeypatch.setattr(f"{module}.console", wide)
    return path
