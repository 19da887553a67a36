"""A supervisor listens in on a live call, with real peers on 127.0.0.1.

``hotline serve --sip`` (uvicorn + sippy + rtpengine in one process); a ``sipp`` caller
through the menu to the installation queue, speaking a 440 Hz tone; agent a001 on a baresip
phone speaking a 1,000 Hz tone; the supervisor's own baresip phone (``{supervisor: boss}`` in
the phones file) keeping what it hears as a WAV (baresip's sndfile module). The supervisor
asks from the REST API: their phone rings, answers, and hears both parties — rtpengine forks
each side (``subscribe request``) and the voice server's mixer adds them. The agent's desk,
a team lead of another team and a call that does not exist are refused; the session's start
and end are on the audit record.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import select

from hotline.store.db import make_engine, make_session_factory
from hotline.store.models.core import AuditEntry
from hotline.telephony.media.prompts import generate_all
from tests.e2e.telephony.rtp_pcap import Key, Tone
from tests.e2e.telephony.telephony_peers import (
    BaresipAgent,
    free_port,
    port_block,
    require_tools,
    sip_request,
    write_open_flow,
)
from tests.e2e.telephony.test_one_engine import (
    PASSWORD,
    Platform,
    _all_day_center,
    _caller,
    _hotline,
    _wait,
)

pytestmark = pytest.mark.e2e
CALLER_HZ, AGENT_HZ = 440.0, 1000.0


def _tone_wav(path: Path, hz: float, seconds: float) -> Path:
    t = np.arange(int(seconds * 8000)) / 8000
    samples = (8000 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(samples.tobytes())
    return path


def _level(samples: np.ndarray, hz: float) -> float:
    """The amplitude of ``hz`` in ``samples`` (one DFT bin, Hann window)."""
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window))
    return float(spectrum[round(hz * len(samples) / 8000)] * 2 / window.sum())


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, BaresipAgent]]:
    """The server, a001's phone and the supervisor's phone; yields the supervisor's phone."""
    require_tools()
    root = tmp_path_factory.mktemp("listening")
    home, prompts = root / "home", root / "prompts"
    generate_all(prompts)
    phones = root / "phones.yaml"
    phones.write_text(
        f"- {{agent: a001, user: '1001', password: '{PASSWORD}'}}\n"
        f"- {{supervisor: boss, user: '2001', password: '{PASSWORD}'}}\n"
    )
    env = {
        **os.environ,
        "HOTLINE_HOME": str(home),
        "HOTLINE_SECRET_KEY": "e2e-listening",
        "HOTLINE_ADMIN_PASSWORD": "admin-secret-1",
    }
    env.pop("HOTLINE_DATABASE_URL", None)
    _hotline(env, "init")
    port, sip_port = free_port(), free_port()
    low, high = port_block(4)
    log = (root / "server.log").open("ab")
    command = [sys.executable, "-m", "hotline.cli.main", "serve", "--port", str(port)]
    command += ["--center", str(_all_day_center(root / "center.yaml"))]
    command += ["--sip", f"127.0.0.1:{sip_port}", "--phones", str(phones)]
    command += ["--prompts", str(prompts), "--flow", str(write_open_flow(root / "flow.yaml"))]
    command += ["--ng", f"127.0.0.1:{free_port()}", "--dtmf-port", str(free_port())]
    command += ["--rtp-ports", f"{low}-{high}"]
    process = subprocess.Popen(
        command,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Platform(f"http://127.0.0.1:{port}", sip_port, home, 0, process)
    deadline = time.monotonic() + 30
    while sip_request(sip_port, timeout_s=0.3) != "SIP/2.0 200 OK":
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"serve --sip did not start: {(root / 'server.log').read_text()[-3000:]}")
    agent = BaresipAgent(
        workdir=root / "agent",
        user="1001",
        password=PASSWORD,
        registrar_port=sip_port,
        voice=_tone_wav(root / "agent.wav", AGENT_HZ, 40.0),
        slot=5,
        talk_s=14.0,
    )
    supervisor = BaresipAgent(
        workdir=root / "supervisor",
        user="2001",
        password=PASSWORD,
        registrar_port=sip_port,
        voice=_tone_wav(root / "supervisor.wav", 2500.0, 40.0),  # heard by nobody
        slot=7,
        talk_s=60.0,  # the session is ended from the wallboard
        heard_dir=root / "heard",
    )
    (root / "heard").mkdir()
    with httpx.Client(base_url=server.url, timeout=10) as admin:
        token = admin.post(
            "/api/auth/login", json={"username": "admin", "password": "admin-secret-1"}
        ).json()["token"]
        admin.headers["Authorization"] = f"Bearer {token}"
        for name, role, agent_id in (
            ("boss", "supervisor", None),
            ("lead2", "team_lead", "a011"),  # leads t-repair, not a001's t-install
            ("a001", "agent", "a001"),
        ):
            body = {"username": name, "password": PASSWORD, "roles": [role], "agent_id": agent_id}
            assert admin.post("/api/users", json=body).status_code == 201
    try:
        agent.start()
        supervisor.start()
        yield server, supervisor
    finally:
        supervisor.stop()
        agent.stop()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _audit(server: Platform) -> list[AuditEntry]:
    engine = make_engine(f"sqlite:///{server.home / 'hotline.db'}")
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(AuditEntry).where(AuditEntry.action.like("call.%"))))
    finally:
        engine.dispose()


def test_a_supervisor_hears_both_parties_of_a_live_call_on_their_own_phone(
    floor: tuple[Platform, BaresipAgent], tmp_path: Path
) -> None:
    server, phone = floor
    desk, boss, lead = server.client("a001"), server.client("boss"), server.client("lead2")
    try:
        _wait(
            lambda: desk.get("/api/live/agents/a001").json()["state"] == "available",
            15,
            "a001 available after the phone registered",
        )
        caller = _caller(
            server,
            tmp_path,
            [Key(0.5, "2"), Key(3.0, "2"), Tone(3.5, 20.0, CALLER_HZ), Key(24.0, "4")],
            scenario="caller_ivr_queue_survey.xml",
            timeout_s=60,
        )
        try:
            contact = _wait(
                lambda: [
                    c["contact_id"]
                    for c in desk.get("/api/live/agents/a001").json()["contacts"]
                    if c["stage"] == "talking"
                ],
                20,
                "the call talking on a001's desk",
            )[0]
            listen = {"mode": "listen"}
            assert desk.post(f"/api/live/calls/{contact}/supervise", json=listen).status_code == 403
            refused = lead.post(f"/api/live/calls/{contact}/supervise", json=listen)
            assert refused.status_code == 403, refused.text
            missing = boss.post("/api/live/calls/c-nobody/supervise", json=listen)
            assert missing.status_code == 404, missing.text
            started = boss.post(f"/api/live/calls/{contact}/supervise", json=listen)
            assert started.status_code == 201, started.text
            assert started.json()["agent_id"] == "a001"
            _wait(lambda: "CALL_ESTABLISHED" in phone.types(), 10, "the supervisor's phone")
            _wait(
                lambda: boss.get("/api/live/supervisions").json()["sessions"][0]["connected"],
                10,
                "the session connected",
            )
            heard_dir = phone.heard_dir
            assert heard_dir is not None

            def heard() -> Path | None:
                found = sorted(heard_dir.glob("dump-*-dec.wav"))
                # three seconds of what the phone played (16-bit samples at 8 kHz)
                return found[0] if found and found[0].stat().st_size > 44 + 3 * 16000 else None

            path = _wait(heard, 15, "three seconds heard by the supervisor")
            stopped = boss.delete(f"/api/live/calls/{contact}/supervise")
            assert stopped.status_code == 200, stopped.text
            _wait(lambda: "CALL_CLOSED" in phone.types(), 10, "the supervisor's phone hung up")
            assert boss.get("/api/live/supervisions").json() == {"sessions": []}
            out, err = caller.communicate(timeout=60)
            assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        finally:
            if caller.poll() is None:
                caller.kill()
    finally:
        for client in (desk, boss, lead):
            client.close()
    with wave.open(str(path)) as wav:
        assert wav.getframerate() == 8000
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    samples = samples.reshape(-1, wav.getnchannels())[:, 0].astype(np.float64)
    middle = samples[len(samples) // 4 : 3 * len(samples) // 4]  # away from set-up and end
    caller_level, agent_level = _level(middle, CALLER_HZ), _level(middle, AGENT_HZ)
    noise = _level(middle, 700.0)
    # both parties' tones, well above a frequency neither sends; not the supervisor's own
    assert caller_level > 20 * max(noise, 1.0), (caller_level, agent_level, noise)
    assert agent_level > 20 * max(noise, 1.0), (caller_level, agent_level, noise)
    assert _level(middle, 2500.0) < caller_level / 20
    entries = _wait(
        lambda: found if len(found := _audit(server)) >= 2 else None, 10, "the audit record"
    )
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("boss", "call.listen", contact),
        ("boss", "call.listen_end", contact),
    ]
    assert entries[0].detail == {"agent_id": "a001"}
    assert entries[1].detail == {"agent_id": "a001", "reason": "stopped"}
