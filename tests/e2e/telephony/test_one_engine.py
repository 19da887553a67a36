"""``hotline serve --sip``: phone calls, the agent desktop and the wallboard on one engine.

The real command in a subprocess (uvicorn + sippy + rtpengine in one process), a baresip
agent registered for a001, a sipp caller. The agent's desktop (the REST API) sees the SIP
call it is talking on, puts the caller on hold and takes them back, and hangs up from the
desk — which ends the phone leg and sends the caller to the survey. The events land in the
server's database, in one log with the desk's. Then the agent calls a customer back from the
desk (click-to-dial) through a ``sipp`` UAS trunk, and consults a second agent (a006, another
baresip phone) and hands the caller over to them (warm transfer). A supervisor listens in on
a call from their own baresip phone (the phones file's ``{supervisor: boss}``), which hears
the caller's and the agent's tones mixed, then switches to whisper, to barge and back to
listen on the same call: the agent and the caller hear the supervisor's tone exactly where
ChanSpy says. Last, a supervisor switches crisis mode on: a new
caller hears the crisis announcement before the menu and, the queue being at its bound, is
forwarded through the trunk to the partner center (a ``sipp`` UAS).
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from sqlalchemy import select

from hotline.identity import service as identity
from hotline.store.db import make_engine, make_session_factory, session_scope
from hotline.store.migrate import upgrade
from hotline.store.models.core import AuditEntry, ContactEventRow
from hotline.telephony.media.g711 import Law, decode
from hotline.telephony.media.recording import Stream, find_pcap, read_rtp_streams
from hotline.telephony.server import SAMPLE_CENTER
from tests.e2e.telephony.rtp_pcap import Key, Tone, answers_survey_when_asked, write_timeline
from tests.e2e.telephony.telephony_peers import (
    HERE,
    BaresipAgent,
    cue_caller,
    free_port,
    port_block,
    sip_request,
    sipp_command,
    write_open_flow,
)

pytestmark = pytest.mark.e2e
PASSWORD = "agent-secret-1"
#: The partner center's number crisis mode forwards to (a sipp UAS on the trunk's port).
PARTNER = "4008009000"
#: What the caller, agent a001 and the supervisor say in the listening test: three tones.
CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ = 440.0, 1000.0, 2500.0
TONES = (CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ)
#: The outside number a001 hands a caller to (a field engineer's mobile), what the engineer
#: says, the ring tone the caller hears meanwhile (the center's default, China's) and the
#: caller's own number (their phone dials, it never registers).
ENGINEER, ENGINEER_HZ, RINGBACK_HZ = "13900001111", 1800.0, 450.0
#: What the engineer's operator says before the mobile answers (early media, a 183 with SDP).
EARLY_HZ = 1200.0
CALLER_NUMBER = "13800000077"
CONSULTED_HZ = 700.0  # what a006 says when consulted (nobody in the supervised call says it)


def _tone_wav(path: Path, hz: float, seconds: float = 40.0) -> Path:
    """A phone's voice: a tone of ``hz``, 8 kHz mono 16-bit."""
    t = np.arange(int(seconds * 8000)) / 8000
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes((8000 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes())
    return path


def _all_day_center(path: Path) -> Path:
    """The sample center, open around the clock with one-second wrap-up (the hour is not
    under test), and no callback rules (no trunk for them in the first call)."""
    center = yaml.safe_load(SAMPLE_CENTER.read_text(encoding="utf-8"))
    for calendar in center["calendars"]:
        calendar["hours"] = {
            day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        }
        calendar["holidays"] = []
    for queue in center["queues"]:
        queue["wrap_up_s"] = 1
        queue["overflow"] = [r for r in queue.get("overflow", []) if r["action"] != "callback"]
    # Crisis mode, switched by hand only: a caller past one waiting goes to the partner center.
    center["crisis"].pop("switch")
    center["crisis"]["overflow"] = {"queue_longer_than": 1, "number": PARTNER}
    path.write_text(yaml.safe_dump(center, allow_unicode=True))
    return path


@dataclass
class Platform:
    url: str
    sip_port: int
    home: Path
    trunk_port: int
    process: subprocess.Popen[bytes]
    second: BaresipAgent | None = None  # a006's phone
    supervisor: BaresipAgent | None = None  # boss's phone, keeping what it hears

    def park_on_break(self, agent: str, timeout_s: float) -> None:
        """Once ``agent``'s phone has registered (available), put them on a break: they stay
        out of the queue until a test asks for them (a consult)."""
        client = self.client(agent)
        try:
            _wait(
                lambda: client.get(f"/api/live/agents/{agent}").json()["state"] == "available",
                timeout_s,
                f"{agent} available after the phone registered",
            )
            client.post(
                f"/api/live/agents/{agent}/state", json={"state": "not_ready", "reason": "break"}
            )
        finally:
            client.close()

    def client(self, username: str = "a001", password: str = PASSWORD) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=10)
        token = client.post(
            "/api/auth/login", json={"username": username, "password": password}
        ).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    def events(self) -> list[ContactEventRow]:
        engine = make_engine(f"sqlite:///{self.home / 'hotline.db'}")
        try:
            with make_session_factory(engine)() as session:
                return list(session.scalars(select(ContactEventRow).order_by(ContactEventRow.id)))
        finally:
            engine.dispose()


@contextmanager
def serve_sip(
    root: Path,
    env: dict[str, str],
    *,
    phones: Path,
    prompts: Path,
    rtp_slot: int,
    extra: tuple[str, ...] = (),
) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    """``hotline serve --sip`` with the all-day center and the open flow on ports the kernel
    says are free, logging to ``root/server.log``; yields once it answers OPTIONS (the
    process, its HTTP port, its SIP port) and stops it on the way out."""
    port, sip_port = free_port(socket.SOCK_STREAM), free_port()
    low, high = port_block(rtp_slot)
    with (root / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hotline.cli.main",
                "serve",
                "--port",
                str(port),
                "--center",
                str(_all_day_center(root / "center.yaml")),
                "--sip",
                f"127.0.0.1:{sip_port}",
                "--phones",
                str(phones),
                "--prompts",
                str(prompts),
                "--flow",
                str(write_open_flow(root / "flow.yaml")),
                "--ng",
                f"127.0.0.1:{free_port()}",
                "--dtmf-port",
                str(free_port()),
                "--rtp-ports",
                f"{low}-{high}",
                *extra,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while sip_request(sip_port, timeout_s=0.3) != "SIP/2.0 200 OK":
                if process.poll() is not None or time.monotonic() > deadline:
                    log_text = (root / "server.log").read_text()[-3000:]
                    pytest.fail(f"serve --sip did not start: {log_text}")
            yield process, port, sip_port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, voice_prompts: Path
) -> Iterator[tuple[Platform, BaresipAgent]]:
    root = tmp_path_factory.mktemp("one-engine")
    home = root / "home"
    prompts = voice_prompts
    phones = root / "phones.yaml"
    phones.write_text(
        f"- {{agent: a001, user: '1001', password: '{PASSWORD}'}}\n"
        f"- {{agent: a006, user: '1006', password: '{PASSWORD}'}}\n"
        f"- {{supervisor: boss, user: '2001', password: '{PASSWORD}'}}\n"
    )
    env = {
        **os.environ,
        "HOTLINE_HOME": str(home),
        "HOTLINE_SECRET_KEY": "e2e-one-engine",
    }
    env.pop("HOTLINE_DATABASE_URL", None)
    # The schema and the users straight into the server's database, as ``hotline init`` and
    # ``hotline users add`` do (each of their runs spent seconds on the CLI's start-up; their
    # own tests are test_users_cli.py), the passwords hashed at the suite's cheapest (the root
    # conftest): every sign-in to the server below verifies at that cost.
    home.mkdir()
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    try:
        upgrade(engine)
        with session_scope(make_session_factory(engine)) as session:
            identity.create_user(  # ``init``'s admin: the supervision test adds a team lead
                session, username="admin", password="admin-secret-1", roles=["admin"], actor="e2e"
            )
            identity.create_user(
                session, username="boss", password=PASSWORD, roles=["supervisor"], actor="e2e"
            )
            for agent_id in ("a001", "a006"):
                identity.create_user(
                    session,
                    username=agent_id,
                    password=PASSWORD,
                    roles=["agent"],
                    agent_id=agent_id,
                    actor="e2e",
                )
    finally:
        engine.dispose()
    trunk_port = free_port()
    trunk = ("--trunk", f"sip:{{number}}@127.0.0.1:{trunk_port}")
    with serve_sip(root, env, phones=phones, prompts=prompts, rtp_slot=4, extra=trunk) as served:
        process, port, sip_port = served
        server = Platform(f"http://127.0.0.1:{port}", sip_port, home, trunk_port, process)
        agent = BaresipAgent(
            workdir=root / "agent",
            user="1001",
            password=PASSWORD,
            registrar_port=sip_port,
            voice=_tone_wav(root / "a001.wav", AGENT_HZ),
            slot=5,
            talk_s=60.0,  # the desk hangs up, not the phone
            heard_dir=root / "agent-heard",  # what a001 hears when whispered to
        )
        (root / "agent-heard").mkdir()
        agent.start()
        second = BaresipAgent(
            workdir=root / "agent-a006",
            user="1006",
            password=PASSWORD,
            registrar_port=sip_port,
            voice=_tone_wav(root / "a006.wav", CONSULTED_HZ),
            slot=7,
            talk_s=60.0,
            heard_dir=root / "a006-heard",  # what a006 hears when consulted
        )
        (root / "a006-heard").mkdir()
        second.start()
        supervisor = BaresipAgent(
            workdir=root / "supervisor",
            user="2001",
            password=PASSWORD,
            registrar_port=sip_port,
            voice=_tone_wav(root / "supervisor.wav", SUPERVISOR_HZ),
            slot=2,
            talk_s=120.0,  # the session is ended from the wallboard
            heard_dir=root / "heard",
        )
        (root / "heard").mkdir()
        supervisor.start()
        server.supervisor = supervisor
        try:
            server.park_on_break("a006", 10)  # until the consult test needs them
            server.second = second
            yield server, agent
        finally:
            supervisor.stop()
            second.stop()
            agent.stop()


@pytest.fixture
def desk(platform: tuple[Platform, BaresipAgent]) -> Iterator[httpx.Client]:
    """a001's desktop: the REST API, signed in as the agent."""
    client = platform[0].client()
    try:
        yield client
    finally:
        client.close()


def _wait(predicate: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _talking(desk: httpx.Client, timeout_s: float, what: str) -> str:
    """The contact a001 is talking on, once there is one."""
    return str(
        _wait(
            lambda: [
                c["contact_id"]
                for c in desk.get("/api/live/agents/a001").json()["contacts"]
                if c["stage"] == "talking"
            ],
            timeout_s,
            what,
        )[0]
    )


def _caller(
    server: Platform, workdir: Path, timeline: list[Any], *, scenario: str, timeout_s: int
) -> subprocess.Popen[bytes]:
    """Start a sipp caller playing ``timeline`` (keys and speech) with ``scenario``."""
    pcap = write_timeline(workdir / "caller.pcap", timeline)
    script = workdir / "caller.xml"
    template = (HERE / scenario).read_text()
    script.write_text(template.replace("__CALLER_PCAP__", str(pcap)))
    return subprocess.Popen(
        sipp_command(script, server.sip_port, workdir, timeout_s=timeout_s),
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _scenario(path: Path, template: str, **replace: Path) -> Path:
    """A sipp scenario from ``template`` (beside this file) with its placeholders filled."""
    text = (HERE / template).read_text()
    for placeholder, value in replace.items():
        text = text.replace(placeholder, str(value))
    path.write_text(text)
    return path


def _trunk_uas(
    server: Platform,
    workdir: Path,
    *,
    timeout_s: int,
    extra: list[str] | None = None,
    scenario: Path | None = None,
) -> subprocess.Popen[bytes]:
    """A ``sipp`` UAS on the trunk's port answering one call (a customer, a partner center):
    sipp's own ``uas``, or ``scenario``."""
    script = ["-sf", str(scenario)] if scenario is not None else ["-sn", "uas"]
    command = ["sipp", *script, "-m", "1", "-i", "127.0.0.1", "-p", str(server.trunk_port)]
    command += ["-mp", str(port_block(6)[0]), "-nostdin", "-timeout", f"{timeout_s}s"]
    command += ["-timeout_error", *(extra or [])]
    return subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _available(desk: httpx.Client, agent_id: str, timeout_s: float, what: str) -> None:
    _wait(
        lambda: desk.get(f"/api/live/agents/{agent_id}").json()["state"] == "available",
        timeout_s,
        what,
    )


def test_the_desk_controls_the_phone_call_routed_by_the_same_engine(
    platform: tuple[Platform, BaresipAgent], desk: httpx.Client, tmp_path: Path
) -> None:
    server, agent = platform
    # the phone registered: the live engine (the desk's) logged a001 in and made them ready
    _available(desk, "a001", 10, "a001 available on the desk after the phone registered")
    caller = _caller(
        server,
        tmp_path,
        [Key(0.5, "2"), Key(3.0, "2"), Tone(3.5, 2.5), *answers_survey_when_asked("4", from_s=6)],
        scenario="caller_ivr_queue_survey.xml",
        timeout_s=45,
    )
    try:
        talking = _wait(
            lambda: [
                c
                for c in desk.get("/api/live/agents/a001").json()["contacts"]
                if c["stage"] == "talking"
            ],
            15,
            "the SIP call on a001's desk",
        )[0]
        contact = talking["contact_id"]
        assert talking["queue"] == "installation"
        assert talking["attached"]["customer"].startswith("1380000")  # the calling number
        assert "CALL_ESTABLISHED" in agent.types()  # the phone answered, not the desk
        # answering on the desk is refused: a phone call is answered on the phone
        assert desk.post(f"/api/live/agents/a001/contacts/{contact}/answer").status_code == 409
        held = desk.post(f"/api/live/agents/a001/contacts/{contact}/hold")
        assert held.status_code == 200, held.text
        assert held.json() == {"ok": True, "events": [], "phone": True}  # on the SIP call
        time.sleep(1.0)
        assert desk.post(f"/api/live/agents/a001/contacts/{contact}/resume").status_code == 200
        time.sleep(0.5)
        hung_up = desk.post(f"/api/live/agents/a001/contacts/{contact}/hangup")
        assert hung_up.status_code == 200, hung_up.text
        _wait(lambda: "CALL_CLOSED" in agent.types(), 10, "the phone leg closed by the desk")
        out, err = caller.communicate(timeout=45)
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    finally:
        if caller.poll() is None:
            caller.kill()
    wanted = {"survey_answered", "finished", "recording_stopped"}

    def logged() -> list[ContactEventRow] | None:
        rows = server.events()
        return rows if wanted <= {r.kind for r in rows if r.contact_id == contact} else None

    rows = _wait(logged, 20, "the call's events in the server's database")
    mine = [r for r in rows if r.contact_id == contact]
    kinds = [r.kind for r in mine]
    for kind in ("arrived", "queued", "offered", "answered", "held", "resumed", "disconnected"):
        assert kinds.count(kind) == 1, (kind, kinds)  # one engine, one log: nothing twice
    assert kinds.index("arrived") < kinds.index("queued") < kinds.index("answered")
    assert kinds.index("held") < kinds.index("resumed") < kinds.index("disconnected")
    assert "alarm" not in kinds  # rtpengine took every command (music, mute, recording)
    [survey] = [r for r in mine if r.kind == "survey_answered"]
    assert survey.data["score"] == 4
    [finished] = [r for r in mine if r.kind == "finished"]
    assert finished.data["outcome"] == "answered"
    # the recording is listed with the contact (the recordings API reads the same table)
    [recording] = [r for r in mine if r.kind == "recording_stopped"]
    assert Path(str(recording.data["path"])).exists()


def test_click_to_dial_from_the_desk_reaches_the_customer_through_the_trunk(
    platform: tuple[Platform, BaresipAgent], desk: httpx.Client, tmp_path: Path
) -> None:
    server, agent = platform
    _available(desk, "a001", 15, "a001 available again after wrap-up")
    agent.talk_s = 2.0  # this time the agent hangs up on the phone
    customer = _trunk_uas(server, tmp_path, timeout_s=30)
    try:
        time.sleep(0.5)
        bad = desk.post("/api/live/agents/a001/dial", json={"number": "call me"})
        assert bad.status_code == 422
        placed = desk.post("/api/live/agents/a001/dial", json={"number": "13800000000"})
        assert placed.status_code == 201, placed.text
        contact = placed.json()["contact_id"]
        out, err = customer.communicate(timeout=30)  # the UAS answers, the agent hangs up
        assert customer.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    finally:
        if customer.poll() is None:
            customer.kill()
    rows = _wait(
        lambda: (
            [r for r in server.events() if r.contact_id == contact and r.kind == "finished"]
            and [r for r in server.events() if r.contact_id == contact]
        ),
        20,
        "the outbound call's events",
    )
    kinds = [r.kind for r in rows]
    assert kinds[0] == "arrived" and "answered" in kinds
    assert all(r.data.get("direction") == "outbound" for r in rows if r.kind != "recording_stopped")


def test_consult_then_warm_transfer_hands_the_caller_to_the_second_agents_phone(
    platform: tuple[Platform, BaresipAgent], desk: httpx.Client, tmp_path: Path
) -> None:
    server, agent = platform
    second = server.second
    assert second is not None and second.heard_dir is not None and agent.heard_dir is not None
    dirs = (agent.heard_dir, second.heard_dir)
    before = [set(d.glob("dump-*-dec.wav")) for d in dirs]

    def heard(phone: int) -> np.ndarray:  # what a001 (0) or a006 (1) heard on this call
        return heard_so_far(sorted(set(dirs[phone].glob("dump-*-dec.wav")) - before[phone]))

    agent.talk_s = 60.0  # a001 does not hang up; the transfer takes them off the call
    second.talk_s = 7.0  # a006 ends the call, some seconds after taking it over
    _available(desk, "a001", 15, "a001 available")
    caller = _caller(
        server,
        tmp_path,
        [Key(0.5, "2"), Key(3.0, "2"), Tone(3.5, 2.5), *answers_survey_when_asked("5", from_s=6)],
        scenario="caller_ivr_queue_survey.xml",
        timeout_s=50,
    )
    a006 = server.client("a006")
    try:
        contact = _talking(desk, 15, "a001 talking to the caller")
        assert a006.post("/api/live/agents/a006/state", json={"state": "ready"}).is_success
        started = desk.post(
            f"/api/live/agents/a001/contacts/{contact}/consult", json={"agent_id": "a006"}
        )
        assert started.status_code == 200, started.text
        _wait(lambda: "CALL_ESTABLISHED" in second.types(), 10, "a006's phone answering")
        # the two agents talk (the caller hears music): a second and a half of each phone
        marks = [len(heard(0)), len(heard(1))]
        _wait(
            lambda: all(len(heard(p)) > marks[p] + 12_000 for p in (0, 1)),
            15,
            "the two agents hearing each other",
        )
        consulting = [heard(p)[marks[p] :] for p in (0, 1)]
        done = desk.post(
            f"/api/live/agents/a001/contacts/{contact}/consult/end", json={"transfer": True}
        )
        assert done.status_code == 200, done.text
        _wait(
            lambda: agent.types().count("CALL_CLOSED") >= 3,  # a001's third call ends
            10,
            "a001's phone released by the transfer",
        )
        view = a006.get("/api/live/agents/a006").json()
        assert [c["stage"] for c in view["contacts"] if c["contact_id"] == contact] == ["talking"]
        out, err = caller.communicate(timeout=50)
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    finally:
        a006.close()
        if caller.poll() is None:
            caller.kill()
    wanted = {"survey_answered", "finished"}

    def logged() -> list[ContactEventRow] | None:
        rows = [r for r in server.events() if r.contact_id == contact]
        return rows if wanted <= {r.kind for r in rows} else None

    rows = _wait(logged, 20, "the consulted call's events")
    kinds = [r.kind for r in rows]
    assert kinds.count("consult_started") == kinds.count("consult_ended") == 1
    [ended] = [r for r in rows if r.kind == "consult_ended"]
    assert ended.data["transfer"] is True
    [disconnected] = [r for r in rows if r.kind == "disconnected"]
    assert disconnected.agent_id == "a006"  # the second agent ended the call
    [survey] = [r for r in rows if r.kind == "survey_answered"]
    assert survey.data["score"] == 5
    # while consulting, a001 heard a006's 700 Hz and a006 heard a001's 1 kHz, not the caller
    levels = [{hz: _level(c, hz) for hz in (CALLER_HZ, AGENT_HZ, CONSULTED_HZ)} for c in consulting]
    assert levels[0][CONSULTED_HZ] > 300 and levels[0][CALLER_HZ] < 100, levels
    assert levels[1][AGENT_HZ] > 300 and levels[1][CALLER_HZ] < 100, levels


def _tone_blocks(samples: np.ndarray, hz: float) -> list[int]:
    """The 100 ms blocks of ``samples`` (8 kHz) that sound, loudest at ``hz`` (10 Hz bins)."""
    found = []
    for index in range(len(samples) // 800):
        block = samples[index * 800 : (index + 1) * 800].astype(np.float64)
        if np.sqrt(np.mean(block**2)) < 300:
            continue
        peak = int(np.argmax(np.abs(np.fft.rfft(block))[1:])) + 1
        if abs(peak * 10 - hz) < 1:
            found.append(index)
    return found


def test_an_agent_hands_the_caller_to_an_outside_number_which_rings_then_answers(
    platform: tuple[Platform, BaresipAgent], desk: httpx.Client, tmp_path: Path
) -> None:
    """A caller's phone (baresip, keeping what it hears) through the IVR to a001, who hands
    them from the desk to a field engineer's mobile behind the trunk: a sipp UAS that rings
    for two seconds (180), sends early media for two (183 with SDP: 1,200 Hz), answers and
    speaks 1,800 Hz. The caller hears China's ringback (450 Hz) while it rings, the early
    media in its place, then the engineer; a001 wraps up; the transfer is logged and
    audited."""
    server, agent = platform
    agent.talk_s = 60.0  # the transfer takes a001 off the call
    _available(desk, "a001", 20, "a001 available")
    engineer = _trunk_uas(
        server,
        tmp_path,
        timeout_s=60,
        scenario=_scenario(
            tmp_path / "engineer.xml",
            "trunk_rings_then_plays.xml",
            __TONE_PCAP__=write_timeline(
                tmp_path / "engineer.pcap", [Tone(0.0, 10.0, ENGINEER_HZ)]
            ),
            __EARLY_PCAP__=write_timeline(tmp_path / "early.pcap", [Tone(0, 2, EARLY_HZ)]),
        ),
    )
    heard_dir = tmp_path / "caller-heard"
    heard_dir.mkdir()
    caller = BaresipAgent(
        workdir=tmp_path / "caller",
        user=CALLER_NUMBER,
        password="",
        registrar_port=server.sip_port,
        voice=_tone_wav(tmp_path / "caller.wav", CALLER_HZ, seconds=60),
        slot=3,
        talk_s=60.0,
        during_call=[(0.5, "sndcode 2"), (3.0, "sndcode 2")],  # English, installation
        heard_dir=heard_dir,
        register=False,
    )
    caller.start()

    def heard_samples() -> int:
        return sum(max(0, p.stat().st_size - 44) for p in heard_dir.glob("dump-*-dec.wav")) // 2

    try:
        caller.command("dial", f"sip:400@127.0.0.1:{server.sip_port}")
        contact = _talking(desk, 25, "the caller on a001's desk")
        handed = desk.post(
            f"/api/live/agents/a001/contacts/{contact}/transfer", json={"number": ENGINEER}
        )
        assert handed.status_code == 200, handed.text
        transferred_at = heard_samples()

        def forwarded(state: str) -> bool:
            return any(
                r.contact_id == contact and r.kind == "ivr_step" and r.data.get("state") == state
                for r in server.events()
            )

        _wait(lambda: forwarded("answered"), 20, "the engineer answering")
        answered_at = heard_samples()
        # two seconds of the engineer heard, then the caller hangs up (the engineer with them)
        _wait(lambda: heard_samples() > answered_at + 16000, 10, "the caller hearing them")
        caller.command("hangup")
        out, err = engineer.communicate(timeout=20)
        assert engineer.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        _wait(lambda: "CALL_CLOSED" in caller.types(), 10, "the caller's phone hung up")
    finally:
        caller.stop()
        if engineer.poll() is None:
            engineer.kill()
        engineer.communicate()
    [dump] = list(heard_dir.glob("dump-*-dec.wav"))
    # what the caller heard once handed on (the phone has stopped: its file is closed)
    after = _wav_samples([dump])[transferred_at:]
    ring, early, far = (_tone_blocks(after, hz) for hz in (RINGBACK_HZ, EARLY_HZ, ENGINEER_HZ))
    # one burst of the ring tone (1 s on, 4 s off) in two seconds of ringing, then the far
    # end's early media in place of the tone, then the engineer for the two seconds heard;
    # in that order only
    assert len(ring) >= 6 and len(early) >= 12 and len(far) >= 12, (ring, early, far)
    assert max(ring) < min(early) and max(early) < min(far), (ring, early, far)

    def logged() -> list[ContactEventRow] | None:
        rows = server.events()
        done = {(r.kind, r.data.get("state")) for r in rows if r.contact_id == contact}
        return rows if {("finished", None), ("ivr_step", "ended")} <= done else None

    rows = _wait(logged, 20, "the handed-on call's events")
    mine = [r for r in rows if r.contact_id == contact]
    [transferred] = [r for r in mine if r.kind == "transferred"]
    assert transferred.agent_id == "a001"
    assert transferred.data == {"to": "number", "number": ENGINEER}
    forward = [r for r in mine if r.kind == "ivr_step" and r.data.get("action") == "forward"]
    steps = [r.data["state"] for r in forward]
    assert steps == ["dialling", "ringing", "early_media", "answered", "ended"]
    [finished] = [r for r in mine if r.kind == "finished"]
    assert finished.data["outcome"] == "answered"
    wrap_up = [
        r
        for r in rows
        if r.id > transferred.id and r.kind == "agent_state" and r.agent_id == "a001"
    ]
    assert wrap_up and wrap_up[0].data["state"] == "wrap_up", [r.data for r in wrap_up]
    engine = make_engine(f"sqlite:///{server.home / 'hotline.db'}")
    try:
        with make_session_factory(engine)() as session:
            query = select(AuditEntry).where(AuditEntry.action == "voice.transfer_out")
            [audited] = list(session.scalars(query))
    finally:
        engine.dispose()
    assert (audited.actor, audited.target, audited.detail) == (
        "a001",
        contact,
        {"agent_id": "a001", "number": ENGINEER},
    )


def _supervised_caller(server: Platform, workdir: Path) -> subprocess.Popen[bytes]:
    """A caller for installation speaking 440 Hz while the call is supervised, who answers
    the survey as soon as it asks: from 6 s on, each second 0.8 s of tone and a press of 4
    (keys belong to the conversation until the agent hangs up; the survey takes the first
    one after). So the call lasts as long as the test needs, and not the survey's wait."""
    timeline: list[Key | Tone] = [Key(0.5, "2"), Key(3.0, "2"), Tone(3.5, 2.5, CALLER_HZ)]
    for second in range(6, 80):
        timeline += [Tone(second, 0.8, CALLER_HZ), Key(second + 0.85, "4")]
    return _caller(server, workdir, timeline, scenario="caller_ivr_queue_survey.xml", timeout_s=90)


def heard_so_far(paths: list[Path]) -> np.ndarray:
    """What a baresip phone heard so far: its dumps' samples (8 kHz, 16-bit) one after the
    other, read while the calls go on (the header, written at the end, is skipped)."""
    parts = [np.frombuffer(p.read_bytes()[44:], dtype="<i2") for p in paths]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)


def _level(samples: np.ndarray, hz: float) -> float:
    """The amplitude of ``hz`` in ``samples`` (one DFT bin, Hann window)."""
    samples = samples.astype(np.float64)
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window))
    return float(spectrum[round(hz * len(samples) / 8000)] * 2 / window.sum())


def _levels(samples: np.ndarray) -> dict[float, float]:
    """The level of each party's tone, and of 700 Hz, which nobody sends."""
    return {hz: _level(samples.astype(np.float64), hz) for hz in (*TONES, 700.0)}


def _supervision_audit(server: Platform) -> list[AuditEntry]:
    engine = make_engine(f"sqlite:///{server.home / 'hotline.db'}")
    try:
        with make_session_factory(engine)() as session:
            query = select(AuditEntry).where(AuditEntry.action.like("call.%"))
            return list(session.scalars(query.order_by(AuditEntry.id)))
    finally:
        engine.dispose()


def _wav_samples(paths: list[Path]) -> np.ndarray:
    """The 8 kHz mono samples of baresip's dumps, one after the other."""
    parts = []
    for path in paths:
        with wave.open(str(path)) as wav:
            assert (wav.getnchannels(), wav.getframerate()) == (1, 8000)
            parts.append(np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2"))
    return np.concatenate(parts)


def _heard_by_caller(streams: list[Stream], start: float, end: float) -> np.ndarray:
    """What the caller was sent between the wall-clock times ``start`` and ``end``, from
    rtpengine's capture of the call: every stream but the caller's own (the agent's phone,
    or the mixer while the agent's leg goes through it), each stream's packets one after
    the other (placed at their capture times, the tone would break at every late packet)."""
    law: dict[int, Law] = {0: "pcmu", 8: "pcma"}

    def audio(stream: Stream) -> np.ndarray:
        frames = [
            decode(payload, law[payload_type])
            for when, payload_type, payload in stream.packets
            if start <= when < end and payload_type in law
        ]
        return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)

    heard = {stream.source: audio(stream) for stream in streams}
    spoken = {source: a for source, a in heard.items() if len(a)}
    caller = max(spoken, key=lambda source: _level(spoken[source].astype(np.float64), CALLER_HZ))
    return np.concatenate([a for source, a in spoken.items() if source != caller])


def test_a_supervisor_listens_whispers_and_barges_in_on_one_call_from_their_own_phone(
    platform: tuple[Platform, BaresipAgent], desk: httpx.Client, tmp_path: Path
) -> None:
    """ChanSpy's three modes on real phones, switched on one call without hanging up the
    supervisor's phone: listen, whisper, barge, and back to listen. In each phase, what the
    agent's phone heard (baresip's dump) and what the caller was sent (rtpengine's capture)
    hold the supervisor's 2,500 Hz tone exactly where ChanSpy says; the supervisor's phone
    heard the caller's 440 Hz and the agent's 1,000 Hz throughout, and never its own."""
    server, agent = platform
    phone = server.supervisor
    assert phone is not None and phone.heard_dir is not None and agent.heard_dir is not None
    agent_heard = agent.heard_dir
    heard_before = set(agent_heard.glob("dump-*-dec.wav"))
    agent.talk_s = 90.0  # the desk hangs up
    boss, a006 = server.client("boss"), server.client("a006")
    admin = server.client("admin", password="admin-secret-1")
    lead = {"username": "lead2", "password": PASSWORD, "roles": ["team_lead"], "agent_id": "a011"}
    assert admin.post("/api/users", json=lead).status_code == 201  # leads t-repair, not t-install
    admin.close()
    lead2 = server.client("lead2")
    # a006 (free again after the transfer, or still on the break they began on) goes on a
    # break, so the call reaches a001
    _wait(
        lambda: a006.get("/api/live/agents/a006").json()["state"] in ("available", "not_ready"),
        20,
        "a006 free after the warm transfer",
    )
    a006.post("/api/live/agents/a006/state", json={"state": "not_ready", "reason": "break"})
    _available(desk, "a001", 15, "a001 available")

    def agent_dumps() -> list[Path]:
        return sorted(set(agent_heard.glob("dump-*-dec.wav")) - heard_before)

    def heard_samples() -> int:
        # what a001's phone heard on this call so far (its files' headers come at the end)
        return sum(max(0, p.stat().st_size - 44) for p in agent_dumps()) // 2

    caller = _supervised_caller(server, tmp_path)
    phases: list[tuple[str, float, int]] = []  # mode, wall-clock start, a001's samples then
    try:
        contact = _talking(desk, 20, "the call talking on a001's desk")
        listen, route = {"mode": "listen"}, f"/api/live/calls/{contact}/supervise"
        assert desk.post(route, json=listen).status_code == 403  # an agent
        assert lead2.post(route, json=listen).status_code == 403  # another team's lead
        missing = boss.post("/api/live/calls/c-nobody/supervise", json=listen)
        assert missing.status_code == 404, missing.text
        started = boss.post(route, json=listen)
        assert started.status_code == 201, started.text
        assert started.json()["agent_id"] == "a001"
        _wait(lambda: "CALL_ESTABLISHED" in phone.types(), 10, "the supervisor's phone answering")
        _wait(
            lambda: [
                s for s in boss.get("/api/live/supervisions").json()["sessions"] if s["connected"]
            ],
            10,
            "the session connected",
        )
        phases.append(("listen", time.time(), heard_samples()))
        for mode in ("whisper", "barge", "listen", None):
            # two and a half seconds heard on a001's phone in this phase (8,000 samples a
            # second): the first to let the media move, the rest to check
            since = phases[-1][2]
            _wait(lambda goal=since + 20000: heard_samples() > goal, 15, "a001 hearing it")
            if mode is None:
                break
            assert lead2.patch(route, json={"mode": mode}).status_code == 403
            switched = boss.patch(route, json={"mode": mode})
            assert switched.status_code == 200, switched.text
            phases.append((mode, time.time(), heard_samples()))
        phases.append(("", time.time(), heard_samples()))  # where the last phase ends
        assert phone.types().count("CALL_ESTABLISHED") == 1  # one call of the supervisor's
        assert "CALL_CLOSED" not in phone.types()
        assert boss.delete(route).status_code == 200
        _wait(lambda: "CALL_CLOSED" in phone.types(), 10, "the supervisor's phone hung up")
        assert boss.get("/api/live/supervisions").json() == {"sessions": []}
        assert desk.post(f"/api/live/agents/a001/contacts/{contact}/hangup").status_code == 200
        out, err = caller.communicate(timeout=60)
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.communicate()
        for client in (boss, a006, lead2):
            client.close()

    # the supervisor heard both parties throughout, and nobody else: every second of the
    # middle half of what their phone heard (one DFT over the whole middle smears the
    # caller's tone, whose phase jumps at late packets on its way through rtpengine and the
    # mixer: 1,287 over six seconds in one run where each second measured 3,464-7,905)
    [supervisor_heard] = sorted(phone.heard_dir.glob("dump-*-dec.wav"))
    samples = _wav_samples([supervisor_heard])
    middle = samples[len(samples) // 4 : 3 * len(samples) // 4]
    seconds = [_levels(middle[at : at + 8000]) for at in range(0, len(middle) - 7999, 8000)]
    assert len(seconds) >= 3, len(samples)
    for levels in seconds:
        assert levels[CALLER_HZ] > 1500 and levels[AGENT_HZ] > 1500, seconds
        assert levels[700.0] < 100 and levels[SUPERVISOR_HZ] < 100, seconds

    def closed() -> list[np.ndarray] | None:
        try:  # once the call is over, a001's phone has closed its files
            return [_wav_samples(agent_dumps())]
        except (wave.Error, EOFError):
            return None

    [agent_samples] = _wait(closed, 20, "a001's phone's files closed")
    pcap = _wait(
        lambda: find_pcap(server.home / "telephony" / "rtpengine" / "recordings-raw", contact),
        20,
        "the call's capture",
    )
    _wait(
        lambda: [
            r for r in server.events() if r.contact_id == contact and r.kind == "recording_stopped"
        ],
        30,
        "the recording's conversion",
    )
    # each phase from a second after its switch (the media moving) to the next
    streams = read_rtp_streams(pcap)
    heard = {}
    for (mode, at, sample), (_, until, until_sample) in itertools.pairwise(phases):
        by_agent = _levels(agent_samples[sample + 8000 : until_sample])
        by_caller = _levels(_heard_by_caller(streams, at + 1.0, until))
        heard[mode if mode not in heard else "listen again"] = (by_agent, by_caller)
    spoken = {mode: (a[SUPERVISOR_HZ], c[SUPERVISOR_HZ]) for mode, (a, c) in heard.items()}
    # (the mixer's 20 ms ticks fall behind when the CPU is short — a001's tone once came
    # through at 289 against about 8000 on a quiet machine —: what is heard and what is not
    # is the check, not how loud)
    assert spoken["listen"][0] < 100 and spoken["listen"][1] < 100, spoken  # nobody hears them
    assert spoken["whisper"][0] > 300 and spoken["whisper"][1] < 100, spoken  # the agent only
    assert spoken["barge"][0] > 300 and spoken["barge"][1] > 300, spoken  # both parties
    assert spoken["listen again"][0] < 100 and spoken["listen again"][1] < 100, spoken
    for mode, (by_agent, by_caller) in heard.items():  # the two parties hear each other
        assert by_agent[CALLER_HZ] > 300 and by_caller[AGENT_HZ] > 300, (mode, heard)
    # The recording holds what the caller said (left) and everyone the caller heard (right):
    # the supervisor in the barge too (the converter once kept the two busiest sources, and
    # the mixer's was not among them)
    [stopped] = [
        r for r in server.events() if r.contact_id == contact and r.kind == "recording_stopped"
    ]
    with wave.open(str(stopped.data["path"])) as wav:
        recorded = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    began = min(stream.packets[0][0] for stream in streams)  # the WAV's first sample
    in_recording = {}
    for (mode, at, _), (_, until, _) in itertools.pairwise(phases):
        part = recorded[round((at + 1.0 - began) * 8000) : round((until - began) * 8000)]
        name = mode if mode not in in_recording else "listen again"
        in_recording[name] = (_levels(part[:, 0]), _levels(part[:, 1]))
    recorded_supervisor = {
        mode: (said[SUPERVISOR_HZ], heard_[SUPERVISOR_HZ])
        for mode, (said, heard_) in in_recording.items()
    }
    # (a WAV places each packet at its capture time, and packets bunched by a busy CPU
    # overwrite each other: a tone's level there is lower than in the capture's streams —
    # a001's once 225 against 3,978 a phase later, the barging supervisor's 622-1,232 —, so
    # presence is judged against the silent phases, not against the capture's 300)
    others = max(recorded_supervisor[m][1] for m in ("listen", "whisper", "listen again"))
    assert recorded_supervisor["barge"][1] > max(150.0, 10 * others), recorded_supervisor
    assert others < 100, recorded_supervisor
    for mode, (said, heard_) in in_recording.items():
        assert said[CALLER_HZ] > max(300.0, 10 * heard_[CALLER_HZ]), (mode, in_recording)
        assert said[SUPERVISOR_HZ] < 100 and said[AGENT_HZ] < 100, (mode, in_recording)
    entries = _wait(
        lambda: found if len(found := _supervision_audit(server)) >= 5 else None,
        10,
        "the session's start, switches and end on the audit record",
    )
    assert [(e.actor, e.action, e.target, e.detail) for e in entries] == [
        ("boss", "call.listen", contact, {"agent_id": "a001"}),
        *[
            ("boss", "call.supervise_mode", contact, {"agent_id": "a001", "from": a, "to": b})
            for a, b in (("listen", "whisper"), ("whisper", "barge"), ("barge", "listen"))
        ],
        (
            "boss",
            "call.listen_end",
            contact,
            {"agent_id": "a001", "reason": "stopped", "stopped_by": "boss"},
        ),
    ]


def test_a_supervisor_switches_the_emergency_announcement_on_for_new_callers(
    platform: tuple[Platform, BaresipAgent], desk: httpx.Client, tmp_path: Path
) -> None:
    server, _ = platform
    on = {"prompt": "emergency"}
    assert desk.put("/api/live/voice/emergency", json=on).status_code == 403  # an agent
    boss = server.client("boss")
    try:
        unknown = boss.put("/api/live/voice/emergency", json={"prompt": "no_such_prompt"})
        assert unknown.status_code == 422
        assert boss.put("/api/live/voice/emergency", json=on).json() == {
            "emergency_prompt": "emergency"
        }
        before = {r.contact_id for r in server.events()}
        caller = _caller(
            server,
            tmp_path,
            [Key(0.5, "2"), Tone(1.0, 5.5, 440.0)],
            scenario="caller_keys_then_bye.xml",
            timeout_s=30,
        )
        out, err = caller.communicate(timeout=60)
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        assert boss.put("/api/live/voice/emergency", json={"prompt": None}).is_success
    finally:
        boss.close()

    def announced() -> list[ContactEventRow]:
        return [
            r
            for r in server.events()
            if r.contact_id not in before
            and r.kind == "ivr_step"
            and r.data.get("action") == "announced"
        ]

    [step] = _wait(announced, 10, "the emergency announcement in the new call's IVR steps")
    assert step.data["prompt"] == "emergency"


def test_crisis_mode_announces_first_and_forwards_a_caller_past_the_bound_to_the_partner(
    platform: tuple[Platform, BaresipAgent], desk: httpx.Client, tmp_path: Path
) -> None:
    server, _ = platform
    partner = _trunk_uas(
        server,
        tmp_path,
        timeout_s=90,
        extra=["-trace_msg", "-message_file", str(tmp_path / "partner.msg")],
    )
    boss = server.client("boss")
    # A caller who picks English, then complaints (pressed again in case the menu was not
    # yet listening), and stays on the line until the partner has answered the forwarded
    # call (about 14 s in); then the test cues them to hang up.
    caller: subprocess.Popen[bytes] | None = None
    try:
        _available(desk, "a001", 15, "a001 available again after wrap-up")
        desk.post("/api/live/agents/a001/state", json={"state": "not_ready", "reason": "break"})
        switched = boss.put("/api/live/crisis", json={"on": True, "reason": "e2e storm"})
        assert switched.status_code == 200, switched.text
        waiting = boss.post("/api/live/contacts", json={"queue": "complaints"})
        assert waiting.status_code == 201, waiting.text  # one waits: the bound is reached
        before = {r.contact_id for r in server.events()}
        caller = started = _caller(
            server,
            tmp_path,
            [Key(0.5, "2"), Key(7.0, "3"), Key(10.0, "3"), Key(13.0, "3")],
            scenario="caller_stays_until_told.xml",
            timeout_s=60,
        )

        def partner_answered() -> bool:
            if started.poll() is not None:
                return True  # the caller is gone already: its exit status below says why
            return any(
                r.contact_id not in before
                and r.kind == "ivr_step"
                and r.data.get("action") == "forward"
                and r.data.get("state") == "answered"
                for r in server.events()
            )

        _wait(partner_answered, 45, "the partner answering the forwarded caller")
        cue_caller(caller)  # the caller hangs up (BYE) while forwarded
        out, err = caller.communicate(timeout=90)
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        out, err = partner.communicate(timeout=30)  # the caller's BYE reached the partner
        assert partner.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        assert boss.put("/api/live/crisis", json={"on": False, "reason": "over"}).is_success
    finally:
        boss.close()
        for process in (partner, caller):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()
    assert f"INVITE sip:{PARTNER}@127.0.0.1:{server.trunk_port}" in (
        tmp_path / "partner.msg"
    ).read_text(errors="replace")

    def forwarded() -> list[ContactEventRow]:
        rows = [r for r in server.events() if r.contact_id not in before]
        ended = [r for r in rows if r.kind == "finished" and r.contact_id and "v-" in r.contact_id]
        return rows if ended else []

    rows = _wait(forwarded, 20, "the forwarded call's events")
    steps = [r.data for r in rows if r.kind == "ivr_step"]
    announced = next(i for i, d in enumerate(steps) if d.get("action") == "announced")
    assert steps[announced]["prompt"] == "emergency"  # the crisis announcement ...
    menu = next(i for i, d in enumerate(steps) if d.get("type") == "menu")
    assert announced < menu  # ... before the menu
    assert [d["state"] for d in steps if d.get("action") == "forward"] == [
        "dialling",
        "ringing",  # sipp's uas rings (180) before it answers: the caller heard ringback
        "answered",
        "ended",
    ]
    [overflowed] = [r for r in rows if r.kind == "overflowed"]
    assert overflowed.data["to"] == "forward" and overflowed.data["number"] == PARTNER
    [finished] = [r for r in rows if r.kind == "finished" and r.contact_id == overflowed.contact_id]
    assert finished.data["outcome"] == "overflowed"
