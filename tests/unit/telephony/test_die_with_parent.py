"""A voice server's helper processes end with it, even when it is killed (SIGKILL) (Linux's
prctl, as everything here runs on Debian)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PARENT = """
import multiprocessing, os, time
from concurrent.futures import ProcessPoolExecutor
from hotline.telephony.media.rtpengine import die_with_parent

if __name__ == "__main__":
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer={initializer},
    )
    print(pool.submit(os.getpid).result(), flush=True)
    time.sleep(60)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its reaper is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _worker_after_parent_killed(tmp_path: Path, initializer: str) -> int:
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(PARENT.format(initializer=initializer)))
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert parent.stdout is not None
    with parent.stdout:
        worker = int(parent.stdout.readline())
        parent.kill()
        parent.wait(timeout=10)
    return worker


def test_a_recording_converter_ends_when_the_server_that_started_it_is_killed(
    tmp_path: Path,
) -> None:
    worker = _worker_after_parent_killed(tmp_path, "die_with_parent")
    deadline = time.monotonic() + 10
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(worker), f"converter {worker} outlived its killed server"


def test_without_it_the_worker_is_orphaned(tmp_path: Path) -> None:
    """The control: the same pool without the initializer leaves its worker running."""
    worker = _worker_after_parent_killed(tmp_path, "None")
    try:
        time.sleep(1.0)
        assert _running(worker)
    finally:
        if _running(worker):
            os.kill(worker, 9)
