"""``hotline demo`` as a service manager runs it: stopped with SIGTERM, killed with SIGKILL.

The server runs as a real subprocess with its simulated traffic. A wallboard's live stream
must not hold a stop up (SIGTERM ends the process within a bounded time), and after kill -9
and graceful-stop rounds every contact that arrived has exactly one end in the log, and no
agent is left on a call.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import create_engine, text
from websockets.sync.client import connect

from hotline.cli.demo import DEMO_PASSWORD

#: How long a stop may take: uvicorn's grace for running requests (5 s), the drain, and a
#: loaded test machine's slowness. systemd waits 90 s before it kills.
STOP_WITHIN_S = 15.0
START_WITHIN_S = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def demo(home: Path, *, rate: float) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start ``hotline demo`` on a free port; yield it once ready; kill it if still running."""
    port = _free_port()
    env = {**os.environ, "HOTLINE_MIN_FREE_DISK_MB": "1"}
    env.pop("HOTLINE_DATABASE_URL", None)
    command = [sys.executable, "-m", "hotline.cli.main", "demo", "--home", str(home)]
    command += ["--port", str(port), "--rate", str(rate), "--seed", "11"]
    log = (home / f"server-{port}.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_WITHIN_S
        while True:
            assert process.poll() is None, f"the demo exited: {process.returncode}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "the demo did not become ready"
            time.sleep(0.3)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def _token(base: str) -> str:
    answer = httpx.post(
        f"{base}/api/auth/login",
        json={"username": "supervisor", "password": DEMO_PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


def _hold_stream_open(base: str, token: str) -> threading.Event:
    """A wallboard's live stream, read in a thread until the server ends it."""
    opened = threading.Event()

    def read() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream(
                "GET", f"{base}/api/events/stream", headers=headers, timeout=None
            ) as response,
        ):
            for _ in response.iter_lines():
                opened.set()

    threading.Thread(target=read, daemon=True).start()
    assert opened.wait(30), "the live stream did not open"
    return opened


def _hold_socket_open(
    base: str, token: str | None, path: str = "/api/events/ws"
) -> threading.Event:
    """An agent desk's WebSocket (or a chat's), read in a thread until the server closes it."""
    opened = threading.Event()
    url = base.replace("http://", "ws://") + path
    headers = {"Origin": base} | ({"Authorization": f"Bearer {token}"} if token else {})

    def read() -> None:
        with (
            contextlib.suppress(websockets.exceptions.WebSocketException, OSError),
            connect(url, additional_headers=headers, open_timeout=30) as socket_,
        ):
            opened.set()
            for _ in socket_:
                pass

    threading.Thread(target=read, daemon=True).start()
    assert opened.wait(30), "the WebSocket did not open"
    return opened


def _stop(process: subprocess.Popen[bytes]) -> float:
    """SIGTERM, as a service manager stops a service; return how long the stop took.

    uvicorn re-raises the signal once its graceful shutdown is done, so a clean stop exits
    "killed by SIGTERM" (what service managers expect), not with status 0.
    """
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"SIGTERM did not stop the server within {STOP_WITHIN_S:.0f} s")
    assert process.returncode in (0, -signal.SIGTERM)
    return time.monotonic() - started


def test_sigterm_stops_the_server_while_a_live_stream_is_open(tmp_path: Path) -> None:
    with demo(tmp_path, rate=0.0) as (process, base):
        token = _token(base)
        _hold_stream_open(base, token)
        _hold_socket_open(base, token)
        # A customer's chat widget and the supervisors' chat desk socket hold no stop up either.
        chat = httpx.post(
            f"{base}/chat/api/conversations",
            json={"name": "王", "phone": "13800138000", "topic": "停机"},
            timeout=30,
        )
        assert chat.status_code == 201, chat.text
        _hold_socket_open(base, None, f"/chat/ws?token={chat.json()['token']}")
        _hold_socket_open(base, token, "/api/chat/ws")
        took = _stop(process)
    assert took < STOP_WITHIN_S


def _wait_for_traffic(base: str, token: str, *, arrivals: int) -> None:
    """Wait until ``arrivals`` callers came in since the server started and one of them is
    with an agent now, so that the kill or stop that follows interrupts contacts in progress.

    It counts the wallboard's offered-today figure as it grows (it starts again at the
    center's midnight, which a run may cross).
    """
    headers = {"Authorization": f"Bearer {token}"}
    grown, last = 0, None
    deadline = time.monotonic() + START_WITHIN_S
    while True:
        board = httpx.get(f"{base}/api/live/wallboard", headers=headers, timeout=30)
        board.raise_for_status()
        offered = int(board.json()["totals"]["offered_today"])
        grown += 0 if last is None else max(0, offered - last)
        last = offered
        if grown >= arrivals and any(agent["contact"] for agent in board.json()["agents"]):
            return
        assert time.monotonic() < deadline, f"only {grown} callers came in"
        time.sleep(0.2)


def test_every_contact_has_one_end_after_kill_and_stop_rounds(tmp_path: Path) -> None:
    # A kill, then a start that recovers it and a graceful stop under traffic, then a start
    # after that stop (which must end nothing twice): both ways of ending, each start after
    # each way.
    for way in ("kill", "stop"):
        with demo(tmp_path, rate=40.0) as (process, base):
            token = _token(base)
            _wait_for_traffic(base, token, arrivals=15)
            if way == "kill":
                process.kill()
                process.wait()
            else:
                _hold_stream_open(base, token)
                _stop(process)
    with demo(tmp_path, rate=0.0) as (process, _):
        _stop(process)

    engine = create_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT kind, contact_id, agent_id, data FROM contact_events "
                "WHERE source = 'live' ORDER BY at, seq"
            )
        ).all()
    engine.dispose()
    data = [json.loads(r.data) if isinstance(r.data, str) else r.data for r in rows]
    arrived = {r.contact_id for r in rows if r.kind == "arrived"}
    ends = Counter(r.contact_id for r in rows if r.kind == "finished")
    assert len(arrived) > 20, "the rounds produced too little traffic to prove anything"
    # Every contact that arrived has exactly one end, and nothing ends that never arrived.
    assert {cid: ends[cid] for cid in arrived} == dict.fromkeys(arrived, 1)
    assert set(ends) <= arrived
    outcomes = Counter(
        d["outcome"] for r, d in zip(rows, data, strict=True) if r.kind == "finished"
    )
    assert outcomes["interrupted"] > 0, "no contact was in progress at a kill or a stop"
    reasons = Counter(
        d.get("reason") for r, d in zip(rows, data, strict=True) if r.kind == "finished"
    )
    # Both ways were taken: the stops closed contacts themselves, the starts after a kill too.
    assert reasons["shutdown"] > 0 and reasons["crash"] > 0, reasons
    # No agent is left signed in (on a call or otherwise) once the last server stopped.
    last_state = {
        r.agent_id: d["state"] for r, d in zip(rows, data, strict=True) if r.kind == "agent_state"
    }
    assert last_state and set(last_state.values()) == {"logged_out"}
