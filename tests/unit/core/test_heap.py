"""Servers freeze their start-up heap, so full garbage collections stop scanning it.

A full collection over the ~420,000 objects a started web server holds stopped the SIP thread
and the event loop for 150–220 ms, and the voice overload control refused calls for it
(``hotline.core.heap``). These tests check that both server entry points freeze what start-up
left before they serve, and that frozen objects leave the collector's scans.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from typer.testing import CliRunner

from hotline.cli.main import app as cli_app
from hotline.core.heap import freeze_startup_heap
from hotline.web import serving


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Each test starts and ends with nothing frozen (the test process must stay collectable)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_frozen_objects_leave_the_collectors_scans() -> None:
    before = {"kept": [1, 2, 3]}
    assert any(o is before for o in gc.get_objects())
    frozen = freeze_startup_heap()
    assert frozen > 0
    assert gc.get_freeze_count() > 0
    assert not any(o is before for o in gc.get_objects())
    # what the server makes afterwards is scanned as usual
    after = {"new": [4]}
    assert any(o is after for o in gc.get_objects())


def test_the_web_server_freezes_its_startup_heap_before_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[int] = []

    def run(self: serving.StoppingServer, sockets: Any = None) -> None:
        seen.append(gc.get_freeze_count())

    monkeypatch.setattr(serving.StoppingServer, "run", run)
    serving.serve_app(FastAPI(), host="127.0.0.1", port=0)
    assert len(seen) == 1
    assert seen[0] > 0, "serve_app served with its start-up heap still in the collector's scans"


def test_the_voice_server_freezes_its_startup_heap_before_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import hotline.telephony.server as server

    seen: list[int] = []

    async def serve(options: Any, **_: Any) -> None:
        seen.append(gc.get_freeze_count())

    monkeypatch.setattr(server, "serve", serve)
    phones = tmp_path / "phones.yaml"
    phones.write_text(yaml.safe_dump([{"agent": "a001", "user": "3001", "password": "x" * 12}]))
    result = CliRunner().invoke(
        cli_app,
        ["telephony", "serve", "--phones", str(phones), "--workdir", str(tmp_path / "work")],
    )
    assert result.exit_code == 0, result.output
    assert len(seen) == 1
    assert seen[0] > 0, "the voice server served with its start-up heap still in the scans"
