"""Benchmark: calls answered on the desk's browser softphone (WebRTC), vs desk SIP phones.

``hotline serve --sip --sip-ws-port``: the web app with the voice server in its process,
sippy taking SIP over WebSocket beside UDP, a userspace rtpengine. One headless Chromium
(fake microphone: a 1 kHz tone), one browser context per agent: each signs in to the desk,
whose softphone (JsSIP) registers over the WebSocket; a small script in the page presses the
softphone's answer button when it rings, as an agent would. sipp callers dial the hotline
(straight to the queue), stay ``--hold`` seconds and hang up.

Reported, from the server's contact event log: ``calls``, ``failed`` (sipp's failed calls
plus calls the log does not show answered), ``setup_p50_ms`` / ``setup_p99_ms``: offered →
answered, the time the platform needs from choosing the agent to the browser's 200 OK (the
INVITE over the WebSocket, the relay's second offer with ICE and DTLS, the browser's
microphone, ICE gathering, its answer); ``audio_ok``: calls whose recording holds the
browser's 1 kHz tone for a second or more (the audio went DTLS-SRTP → rtpengine → RTP).

Peer, in the same run: the same calls answered by desk SIP phones (a sipp UAS registered as
the agents' phones, plain RTP, answering at once); ``setup_p50_ratio`` is the browser's p50 ÷
the SIP phones' p50: what the WebRTC path costs over a SIP phone's.

    .venv/bin/python bench/webrtc.py [--quick] [--browsers 4] [--calls 8] [--hold 6]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.telephony.media.prompts import beep, generate_all
from hotline.telephony.media.recording import tone_seconds
from sip_load import (
    AGENT_PHONES,
    AGENTS,
    CALLER,
    PASSWORD,
    bench_center,
    bench_flow,
    free_port,
    percentile,
    register_agents,
    sipp,
    wait_for_server,
)

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
TONE_HZ = 1000.0
#: A page script that presses the softphone's answer button when it rings (the agent).
AUTO_ANSWER = """() => setInterval(() => {
  const card = document.getElementById('softphone-card');
  if (card && card.dataset.call === 'ringing') document.getElementById('sp-answer').click();
}, 20)"""
console = Console(stderr=True)


def audio_ok(path: Path) -> bool:
    """Whether a call's recording holds the browser's tone a second or more (either channel)."""
    with wave.open(str(path)) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    return max(tone_seconds(frames[:, channel], TONE_HZ) for channel in (0, 1)) >= 1.0


def add_agents(home: Path, count: int) -> None:
    """The database ``hotline init`` makes, with desk accounts for the first agents."""
    home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    with make_session_factory(engine)() as session:
        for index in range(count):
            session.add(
                User(
                    username=f"b{index:03d}",
                    display_name=f"b{index:03d}",
                    password_hash=hash_password(PASSWORD),
                    roles=["agent"],
                    agent_id=f"b{index:03d}",
                    language="en",
                    active=True,
                )
            )
        session.commit()
    engine.dispose()


def contact_log(home: Path, since_id: int) -> list[tuple[int, float, str, str | None, Any]]:
    """The contact events written after row ``since_id``: (id, at, kind, contact, data)."""
    with sqlite3.connect(home / "hotline.db") as db:
        return [
            (row[0], row[1], row[2], row[3], json.loads(row[4]) if row[4] else {})
            for row in db.execute(
                "SELECT id, at, kind, contact_id, data FROM contact_events WHERE id > ? "
                "ORDER BY id",
                (since_id,),
            )
        ]


def phase_figures(
    home: Path, since_id: int, calls: int, timeout_s: float
) -> tuple[list[float], int, list[Path]]:
    """Offered → answered per call (ms), calls answered, the recordings' files: once every
    call's recording has stopped, or after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = contact_log(home, since_id)
        stopped = [d for _, _, kind, _, d in rows if kind == "recording_stopped"]
        if len(stopped) >= calls or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    offered: dict[str, float] = {}
    setup: list[float] = []
    for _, at, kind, contact, _ in rows:
        if kind == "offered" and contact:
            offered[contact] = at
        elif kind == "answered" and contact in offered:
            setup.append((at - offered.pop(contact)) * 1000)
    # a recording without audio (the SIP phones send none) has no file
    return setup, len(setup), [Path(d["path"]) for d in stopped if d.get("path")]


def run_callers(root: Path, name: str, sip_port: int, calls: int, hold_s: float) -> int:
    """sipp callers straight to the queue, one a second, ``hold_s`` each; failed calls."""
    workdir = root / name
    workdir.mkdir()
    scenario = workdir / "caller.xml"
    scenario.write_text(CALLER.replace("__HOLD_MS__", str(int(hold_s * 1000))))
    result = sipp(
        scenario,
        f"127.0.0.1:{sip_port}",
        workdir,
        "-p",
        str(free_port()),
        "-m",
        str(calls),
        "-r",
        "1",
        "-mp",
        str(24000 + os.getpid() % 1000 * 4),
        "-timeout",
        f"{int(calls + hold_s + 60)}s",
        "-trace_stat",
        "-stf",
        str(workdir / "stats.csv"),
        timeout_s=calls + hold_s + 90,
    )
    if result.returncode not in (0, 1):
        console.print(result.stdout[-1500:], result.stderr[-1500:])
    stats = (workdir / "stats.csv").read_text().splitlines() if result.returncode < 2 else []
    if len(stats) < 2:
        return calls
    header, last = stats[0].split(";"), stats[-1].split(";")
    return int(last[header.index("FailedCall(C)")])


def last_id(home: Path) -> int:
    """The newest contact event's row id (a phase counts what comes after it)."""
    with sqlite3.connect(home / "hotline.db") as db:
        return int(db.execute("SELECT COALESCE(MAX(id), 0) FROM contact_events").fetchone()[0])


def browser_phase(
    root: Path, home: Path, url: str, sip_port: int, *, browsers: int, calls: int, hold_s: float
) -> dict[str, Any]:
    """The calls answered on ``browsers`` desk softphones in one headless Chromium."""
    from playwright.sync_api import sync_playwright

    microphone = root / "tone.wav"
    beep(microphone, hz=TONE_HZ, seconds=10.0, rate=48000)  # Chromium loops it
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
    ]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        for index in range(browsers):
            page = chromium.new_context(locale="en").new_page()
            page.goto(f"{url}/login")
            page.fill("input[name=username]", f"b{index:03d}")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{url}/console")
            page.goto(f"{url}/desk")
            page.wait_for_selector("#softphone-card[data-status=registered]", timeout=30_000)
            page.evaluate(AUTO_ANSWER)
        console.print(f"{browsers} softphones registered; {calls} calls")
        since = last_id(home)
        failed = run_callers(root, "browser-callers", sip_port, calls, hold_s)
        setup, answered, recordings = phase_figures(home, since, calls, 60)
        chromium.close()
    return {
        "failed": failed + calls - answered,
        "setup_ms": setup,
        "audio_ok": sum(1 for path in recordings if audio_ok(path)),
    }


def phone_phase(
    root: Path, home: Path, sip_port: int, *, calls: int, hold_s: float
) -> dict[str, Any]:
    """The peer: the same calls answered by desk SIP phones (a sipp UAS for every agent)."""
    workdir = root / "phones"
    workdir.mkdir()
    scenario = workdir / "agents.xml"
    scenario.write_text(AGENT_PHONES)
    contact_port = free_port()
    phones = subprocess.Popen(
        [
            "sipp",
            "-sf",
            str(scenario),
            "-i",
            "127.0.0.1",
            "-p",
            str(contact_port),
            "-nostdin",
            "-mp",
            str(26000 + os.getpid() % 1000 * 4),
            "-m",
            str(calls),
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # the browsers' registrations are replaced by the phones' (one binding per user)
        registered = register_agents(sip_port, contact_port, 600)
        console.print(f"{registered} SIP phones registered; {calls} calls")
        since = last_id(home)
        failed = run_callers(root, "phone-callers", sip_port, calls, hold_s)
        setup, answered, _ = phase_figures(home, since, calls, 60)
    finally:
        phones.kill()
        phones.wait()
    return {"failed": failed + calls - answered, "setup_ms": setup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="2 softphones, 4 calls (< 2 min)")
    parser.add_argument("--browsers", type=int, default=4, help="softphones (1-10)")
    parser.add_argument("--calls", type=int, default=8, help="calls per phase")
    parser.add_argument("--hold", type=float, default=6.0, help="seconds each caller stays")
    options = parser.parse_args()
    if options.quick:
        options.browsers, options.calls, options.hold = 2, 4, 5.0
    if not 1 <= options.browsers <= 10:
        parser.error(f"--browsers {options.browsers}: 1 to 10")
    root = Path(tempfile.mkdtemp(prefix="hotline-webrtc-"))
    home, prompts = root / "home", root / "prompts"
    generate_all(prompts)
    bench_center(root / "center.yaml")
    bench_flow(root / "flow.yaml")
    (root / "phones.yaml").write_text(
        "".join(
            f"- {{agent: b{i:03d}, user: '{3000 + i}', password: '{PASSWORD}'}}\n"
            for i in range(AGENTS)
        )
    )
    add_agents(home, options.browsers)
    port, sip_port, ws_port = free_port(), free_port(), free_port()
    env = {**os.environ, "HOTLINE_HOME": str(home), "HOTLINE_SECRET_KEY": "bench-webrtc"}
    env.pop("HOTLINE_DATABASE_URL", None)
    log = (root / "server.log").open("ab")
    base = 27000 + os.getpid() % 500 * 10
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hotline.cli.main",
            "serve",
            "--port",
            str(port),
            "--center",
            str(root / "center.yaml"),
            "--flow",
            str(root / "flow.yaml"),
            "--sip",
            f"127.0.0.1:{sip_port}",
            "--sip-ws-port",
            str(ws_port),
            "--phones",
            str(root / "phones.yaml"),
            "--prompts",
            str(prompts),
            "--ng",
            f"127.0.0.1:{free_port()}",
            "--dtmf-port",
            str(free_port()),
            "--rtp-ports",
            f"{base}-{base + 399}",
            "--recording-notice",
            "",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_server(sip_port, 60)
        url = f"http://127.0.0.1:{port}"
        browser = browser_phase(
            root,
            home,
            url,
            sip_port,
            browsers=options.browsers,
            calls=options.calls,
            hold_s=options.hold,
        )
        phone = phone_phase(root, home, sip_port, calls=options.calls, hold_s=options.hold)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    p50 = percentile(browser["setup_ms"], 0.5)
    peer_p50 = percentile(phone["setup_ms"], 0.5)
    result = {
        "bench": "webrtc",
        "browsers": options.browsers,
        "calls": options.calls,
        "failed": browser["failed"],
        "setup_p50_ms": None if p50 is None else round(p50, 1),
        "setup_p99_ms": _rounded(percentile(browser["setup_ms"], 0.99)),
        "audio_ok": browser["audio_ok"],
        "peer": "desk SIP phones (sipp UAS, plain RTP)",
        "peer_failed": phone["failed"],
        "peer_setup_p50_ms": _rounded(peer_p50),
        "setup_p50_ratio": round(p50 / peer_p50, 2) if p50 and peer_p50 else None,
    }
    print(json.dumps(result))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


if __name__ == "__main__":
    main()
