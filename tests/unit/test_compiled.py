"""The compiled routing engine (mypyc) is the one in use, and does exactly what its source does.

``make test`` sets ``HOTLINE_REQUIRE_COMPILED=1`` (``make setup`` compiles): then an engine
running interpreted — a missing compiler step, a stale build — fails here rather than passing
slowly. The interpreted source is run too, in a subprocess, and must write the same event log
and pass its own docstring examples (a compiled module's doctests are not collectable).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hotline import compiled

REPO = Path(__file__).resolve().parents[2]

# A scenario that goes through most of the engine: skills, shifts with a break, callbacks,
# answer delays (so ring timers run), abandons and wrap-up.
DIGEST_SCRIPT = r"""
import hashlib, json, sys
from hotline import compiled
from hotline.sim.driver import Simulation
from hotline.sim.scenario import scenario_from_dict
scenario = scenario_from_dict({
    "start": "2026-03-02T08:00:00", "interval_s": 1800, "answer_delay_s": 3,
    "queues": [
        {"id": "repair", "requirements": ["repair"], "handle_time": {"exponential": 120},
         "patience": {"exponential": 90}, "wrap_up_s": 5, "callback_after_s": 120},
        {"id": "sales", "handle_time": {"lognormal": {"mean": 200, "sd": 80}},
         "patience": {"exponential": 40}}],
    "agents": [
        {"group": "fixers", "count": 3, "skills": {"repair": 2},
         "shifts": [{"start": "08:00", "end": "10:00",
                     "breaks": [{"start": "08:40", "duration_s": 600}]}]},
        {"group": "sellers", "count": 2}],
    "arrivals": [{"queue": "repair", "rates_per_hour": [90, 120, 60, 30]},
                 {"queue": "sales", "rates_per_hour": [40, 40, 40, 40]}],
})
digest = hashlib.sha256()
count = 0
for seed in (1, 2):
    run = Simulation(scenario, seed=seed).run()
    count += len(run.events)
    for event in run.events:
        digest.update(json.dumps(event.as_dict(), sort_keys=True).encode())
print(json.dumps({"status": compiled.status(), "events": count,
                  "digest": digest.hexdigest()}))
"""


def run_python(code: str, *, interpreted: bool) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop(compiled.INTERPRETED_ENV, None)
    if interpreted:
        env[compiled.INTERPRETED_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_the_compiled_modules_are_in_use_all_or_none() -> None:
    status = compiled.status()
    assert sorted(status) == sorted(compiled.COMPILED_MODULES)
    if os.environ.get("HOTLINE_REQUIRE_COMPILED") == "1":
        assert all(status.values()), f"interpreted under make test: {status}"
        assert compiled.stale_modules() == []
    # Compiled modules use each other's native classes: never a mix.
    assert len(set(status.values())) == 1, status


def test_compiled_and_interpreted_engines_write_the_same_event_log() -> None:
    native = run_python(DIGEST_SCRIPT, interpreted=False)
    source = run_python(DIGEST_SCRIPT, interpreted=True)
    assert not any(source["status"].values())
    if os.environ.get("HOTLINE_REQUIRE_COMPILED") == "1":
        assert all(native["status"].values())
    assert native["events"] == source["events"] and int(native["events"]) > 1000
    assert native["digest"] == source["digest"]


def test_a_changed_source_is_noticed(tmp_path: Path) -> None:
    manifest = tmp_path / "_compiled.json"
    record = {"sources": {m: compiled.source_digest(m) for m in compiled.COMPILED_MODULES}}
    manifest.write_text(json.dumps(record))
    assert compiled.stale_modules(manifest) == []
    record["sources"]["hotline.routing.engine"] = hashlib.sha256(b"older").hexdigest()
    manifest.write_text(json.dumps(record))
    assert compiled.stale_modules(manifest) == ["hotline.routing.engine"]
    assert not compiled.up_to_date(manifest)
    manifest.write_text("{not json")
    assert compiled.stale_modules(manifest) == list(compiled.COMPILED_MODULES)
    assert not compiled.up_to_date(manifest)


def test_a_build_of_another_module_list_is_out_of_date(tmp_path: Path) -> None:
    """A module taken off the list (or added) means building again, never a partial reuse."""
    manifest = tmp_path / "_compiled.json"
    record = {"sources": {m: compiled.source_digest(m) for m in compiled.COMPILED_MODULES}}
    manifest.write_text(json.dumps(record))
    assert compiled.up_to_date(manifest)
    manifest.write_text(json.dumps({"sources": {**record["sources"], "hotline.gone": "0" * 64}}))
    assert not compiled.up_to_date(manifest)
    assert not compiled.up_to_date(tmp_path / "missing.json")


def test_interpreted_on_request() -> None:
    code = "import json; from hotline import compiled; print(json.dumps(compiled.status()))"
    done = run_python(code, interpreted=True)
    assert done == dict.fromkeys(compiled.COMPILED_MODULES, False)


@pytest.mark.parametrize("module", compiled.COMPILED_MODULES)
def test_docstring_examples_of_the_compiled_sources(module: str) -> None:
    """Run interpreted: doctest cannot see inside a compiled module's functions."""
    code = (
        "import doctest, importlib, json\n"
        f"module = importlib.import_module({module!r})\n"
        "result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)\n"
        "print(json.dumps({'failed': result.failed, 'attempted': result.attempted}))\n"
    )
    result = run_python(code, interpreted=True)
    assert result["failed"] == 0, result


def test_events_are_read_only_values() -> None:
    from hotline.core.events import Channel, Event, EventKind

    event = Event(3, 5.0, EventKind.ANSWERED, "c1", "a1", "repair", Channel.CHAT, {"wait_s": 2})
    same = Event(3, 5.0, EventKind.ANSWERED, "c1", "a1", "repair", Channel.CHAT, {"wait_s": 2})
    assert event == same and event != event.renumbered(4)
    assert event.renumbered(4).as_dict() == {**event.as_dict(), "seq": 4}
    assert copy.copy(event) == event == pickle.loads(pickle.dumps(event))
    assert repr(event).startswith("Event(seq=3, at=5.0, kind=<EventKind.ANSWERED")
    with pytest.raises(TypeError):
        hash(event)
    if compiled.is_compiled(sys.modules["hotline.core.events"]):
        with pytest.raises(AttributeError):
            event.seq = 9  # type: ignore[misc]


def test_a_stale_build_is_set_aside_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The guard hotline/__init__.py runs: a changed source means every module from source."""
    manifest = tmp_path / "_compiled.json"
    record = {"sources": {m: compiled.source_digest(m) for m in compiled.COMPILED_MODULES}}
    manifest.write_text(json.dumps(record))
    monkeypatch.setattr(compiled, "MANIFEST", manifest)
    monkeypatch.delenv(compiled.INTERPRETED_ENV, raising=False)
    finders = [f for f in sys.meta_path if not isinstance(f, compiled._FromSource)]
    monkeypatch.setattr(sys, "meta_path", list(finders))
    compiled.install_guard()
    assert sys.meta_path == finders  # up to date: the build is used
    record["sources"]["hotline.sim.driver"] = "0" * 64
    manifest.write_text(json.dumps(record))
    with caplog.at_level("WARNING", logger="hotline"):
        compiled.install_guard()
    guard = sys.meta_path[0]
    assert isinstance(guard, compiled._FromSource)
    assert guard.modules == frozenset(compiled.COMPILED_MODULES)  # all of them, not one
    assert "driver.py changed since it was compiled" in caplog.text
    spec = guard.find_spec("hotline.routing.engine")
    assert spec is not None and spec.origin == str(compiled.source_path("hotline.routing.engine"))
    assert guard.find_spec("hotline.web.app") is None
