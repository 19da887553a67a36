"""Real peers for the voice end-to-end tests: the voice server, baresip agents, sipp callers.

Everything binds 127.0.0.1. Ports are taken from the kernel (bind to port 0) or, for the RTP
ranges rtpengine and baresip need, from a block chosen by process id, so several test runs
on one machine do not collide.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from hotline.config.flow import sample_flow
from hotline.telephony.server import SAMPLE_CENTER

TOOLS = ("rtpengine", "sipp", "baresip", "espeak-ng", "sox")
HERE = Path(__file__).resolve().parent


def require_tools() -> None:
    """Skip unless ``HOTLINE_E2E=1``; then a missing tool is a failure, not a skip."""
    if os.environ.get("HOTLINE_E2E") != "1":
        pytest.skip("voice end-to-end tests run with HOTLINE_E2E=1 (make test sets it)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"HOTLINE_E2E=1 but missing {missing}: run scripts/telephony-setup.sh")


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port the kernel says is free now (UDP by default)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: RTP port blocks: ``RTP_BLOCKS`` of ``RTP_BLOCK`` ports from 20000 to 31199 (the ports from
#: 31200 to the ephemeral range's 32768 are the cluster group's fixed ones:
#: ``tests/integration/live/test_voice_node_failure.py``).
RTP_BLOCK = 200
RTP_BLOCKS = (31200 - 20000) // RTP_BLOCK
_blocks: dict[int, int] = {}  # slot -> block, this process's
_block_locks: list[int] = []  # the locked files' descriptors, open while the process lives
_blocks_mutex = threading.Lock()


def port_block(slot: int, size: int = RTP_BLOCK) -> tuple[int, int]:
    """A range of ``size`` ports for RTP, different per process and per slot.

    Below the kernel's ephemeral range (32768 and up), where ``free_port`` finds SIP and
    control ports: a relay port equal to one of those sends RTP to a SIP socket. Eight slots
    (0-7) per process. Each slot's block is claimed once (:func:`_claim_block`) and stays the
    process's until it ends, so two test runs at once (other engineers', other workers') never
    get the same block; a choice by ``pid % 7`` collided one time in seven.
    """
    if not 0 <= slot < 8:
        raise ValueError(f"RTP port slot {slot}: slots are 0-7")
    if not 0 < size <= RTP_BLOCK:
        raise ValueError(f"RTP port block of {size} ports: at most {RTP_BLOCK}")
    with _blocks_mutex:
        if slot not in _blocks:
            _blocks[slot] = _claim_block()
        base = 20000 + _blocks[slot] * RTP_BLOCK
    assert base + size <= 31200, "RTP blocks stay below the cluster group's fixed ports"
    return base, base + size - 1


def _claim_block() -> int:
    """A block no other process holds: an exclusive ``flock`` on its file under /tmp, kept
    (the descriptor stays open) until this process ends, when the kernel lets it go, even
    after a kill -9. The search starts at a block chosen by the pid, to spread the runs."""
    start = os.getpid() % RTP_BLOCKS
    for step in range(RTP_BLOCKS):
        block = (start + step) % RTP_BLOCKS
        descriptor = os.open(f"/tmp/hotline-rtp-block-{block}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        _block_locks.append(descriptor)
        return block
    raise RuntimeError(
        f"all {RTP_BLOCKS} RTP port blocks (20000-31199) are held by other test processes "
        "(/tmp/hotline-rtp-block-*.lock)"
    )


def sip_request(port: int, method: str = "OPTIONS", timeout_s: float = 1.0) -> str | None:
    """Send one SIP request to the server; return the status line of the answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout_s)
        local = sock.getsockname()[1]
        message = (
            f"{method} sip:hotline@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{time.monotonic_ns()}\r\n"
            f"From: <sip:probe@127.0.0.1>;tag={time.monotonic_ns()}\r\n"
            f"To: <sip:hotline@127.0.0.1>\r\nCall-ID: probe-{time.monotonic_ns()}@127.0.0.1\r\n"
            f"CSeq: 1 {method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(message.encode(), ("127.0.0.1", port))
        try:
            data, _ = sock.recvfrom(65535)
        except TimeoutError:
            return None
    return data.decode(errors="replace").split("\r\n", 1)[0]


def cue_caller(caller: subprocess.Popen[bytes]) -> None:
    """Tell a sipp caller waiting in ``caller_stays_until_told.xml`` to hang up: an OPTIONS
    in its one call (sipp's Call-ID is ``1-<its pid>@127.0.0.1``) on its SIP port."""
    args = [str(arg) for arg in caller.args]  # type: ignore[union-attr]  # sipp_command's list
    port = int(args[args.index("-p") + 1])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        local = sock.getsockname()[1]
        message = (
            f"OPTIONS sip:caller@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{time.monotonic_ns()}\r\n"
            f"From: <sip:test@127.0.0.1>;tag={time.monotonic_ns()}\r\n"
            f"To: <sip:caller@127.0.0.1>\r\nCall-ID: 1-{caller.pid}@127.0.0.1\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(message.encode(), ("127.0.0.1", port))


def write_open_flow(path: Path) -> Path:
    """The sample IVR flow, open around the clock, so results do not depend on the hour."""
    flow = sample_flow().model_dump(mode="json")
    flow["nodes"]["hours"]["hours"] = {
        "weekly": {
            day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "holidays": {},
    }
    path.write_text(yaml.safe_dump(flow, allow_unicode=True))
    return path


def write_direct_flow(path: Path, queue: str = "installation") -> Path:
    """A flow straight into ``queue``, for tests about routing rather than menus."""
    flow = {"id": "direct", "start": "queue", "nodes": {"queue": {"type": "queue", "queue": queue}}}
    path.write_text(yaml.safe_dump(flow))
    return path


def write_quick_center(path: Path) -> Path:
    """The sample center with one-second wrap-up, so a test sees the contact finish."""
    center = yaml.safe_load(SAMPLE_CENTER.read_text(encoding="utf-8"))
    for queue in center["queues"]:
        queue["wrap_up_s"] = 1
    path.write_text(yaml.safe_dump(center, allow_unicode=True))
    return path


@dataclass
class VoiceServer:
    """``hotline telephony serve`` in a subprocess, with its own rtpengine (or none)."""

    workdir: Path
    prompts: Path
    phones: Path
    spawn_rtpengine: bool = True
    slot: int = 0
    flow: Path = field(default_factory=lambda: Path("flow.yaml"))
    sip_port: int = field(default_factory=free_port)
    ng_port: int = field(default_factory=free_port)
    dtmf_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    database: bool = True  # also write the event log and recordings to a SQLite database
    rtp_ports: tuple[int, int] | None = None  # instead of the slot's whole block
    trunk: str | None = None  # outbound trunk URI template (click-to-dial)
    control_port: int | None = None  # origination control port (JSON lines over TCP)
    extra_args: tuple[str, ...] = ()  # more ``telephony serve`` flags
    database_at: str | None = None  # another database than the workdir's SQLite file
    ready_timeout_s: float = 20.0  # how long start() waits for the first OPTIONS answer

    @property
    def events_path(self) -> Path:
        return self.workdir / "events.jsonl"

    @property
    def database_url(self) -> str:
        return self.database_at or f"sqlite:///{self.workdir / 'voice.db'}"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.flow = write_open_flow(self.workdir / "flow.yaml")
        center = write_quick_center(self.workdir / "center.yaml")
        low, high = self.rtp_ports or port_block(self.slot)
        command = [
            sys.executable,
            "-m",
            "hotline.cli.main",
            "telephony",
            "serve",
            "--workdir",
            str(self.workdir),
            "--prompts",
            str(self.prompts),
            "--phones",
            str(self.phones),
            "--sip",
            f"127.0.0.1:{self.sip_port}",
            "--ng",
            f"127.0.0.1:{self.ng_port}",
            "--dtmf-port",
            str(self.dtmf_port),
            "--rtp-ports",
            f"{low}-{high}",
            "--flow",
            str(self.flow),
            "--center",
            str(center),
            "--spawn-rtpengine" if self.spawn_rtpengine else "--no-spawn-rtpengine",
        ]
        if self.database:
            command += ["--database-url", self.database_url]
        if self.trunk:
            command += ["--trunk", self.trunk]
        if self.control_port:
            command += ["--control-port", str(self.control_port)]
        command += self.extra_args
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {(self.workdir / 'server.log').read_text()}")
            if sip_request(self.sip_port, timeout_s=0.3) == "SIP/2.0 200 OK":
                return
        # A server that never came up is stopped here: the fixture that started it has no
        # teardown to run, and a server left behind holds its ports for the tests after it.
        self.stop()
        raise RuntimeError(
            f"voice server did not answer OPTIONS in {self.ready_timeout_s} s: "
            f"{(self.workdir / 'server.log').read_text()[-2000:]}"
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def events(self) -> list[dict[str, object]]:
        if not self.events_path.exists():
            return []
        return [json.loads(line) for line in self.events_path.read_text().splitlines() if line]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout_s: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until ``predicate(events)`` holds; return the events."""
        deadline = time.monotonic() + timeout_s
        while True:
            events = self.events()
            if predicate(events) or time.monotonic() > deadline:
                return events
            time.sleep(0.1)


@dataclass
class BaresipAgent:
    """A headless baresip phone registered as ``user``, driven over its ctrl_tcp module.

    It answers every incoming call after ``answer_after_s`` and hangs up ``talk_s`` after the
    call is established; what it hears goes nowhere (aubridge), what it says is ``voice``.
    """

    workdir: Path
    user: str
    password: str
    registrar_port: int
    voice: Path
    slot: int = 1
    answer_after_s: float = 0.2
    talk_s: float = 3.0
    sip_port: int = field(default_factory=free_port)
    control_port: int = field(default_factory=lambda: free_port(socket.SOCK_STREAM))
    events: list[dict[str, object]] = field(default_factory=list)
    rtp_ports: tuple[int, int] | None = None  # instead of the slot's whole block
    # A second registrar (another voice node): the phone registers through both (outbound2)
    also_registrar_port: int | None = None
    # How long stop() lets baresip un-REGISTER before killing it
    stop_timeout_s: float = 10.0
    # ctrl_tcp commands to send this many seconds into each call, e.g. [(1.0, "hold")]; a
    # command's parameters follow a space (a caller's key: "sndcode 2")
    during_call: list[tuple[float, str]] = field(default_factory=list)
    # False: a caller's phone, which dials and never registers (regint=0, no password)
    register: bool = True
    # Keep what the phone hears and says as WAV files here (baresip's sndfile module:
    # dump-<peer>-dec.wav is what it heard, -enc.wav what it said).
    heard_dir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    _socket: socket.socket | None = None
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        low, high = self.rtp_ports or port_block(self.slot)
        (self.workdir / "config").write_text(
            "\n".join(
                [
                    "poll_method epoll",
                    f"sip_listen 127.0.0.1:{self.sip_port}",
                    "sip_transports udp",
                    "call_max_calls 4",
                    "audio_player aubridge,nil",
                    f"audio_source aufile,{self.voice}",
                    "audio_alert aubridge,nil",
                    "audio_channels 1",
                    "audio_srate 8000",
                    f"rtp_ports {low}-{high}",
                    "module_path /usr/lib/baresip/modules",
                    "module g711.so",
                    "module aufile.so",
                    "module aubridge.so",
                    *(
                        ["module sndfile.so", f"snd_path {self.heard_dir}"]
                        if self.heard_dir is not None
                        else []
                    ),
                    # outbound (RFC 5626, two registrars) names the phone by its instance UUID
                    *(["module_tmp uuid.so"] if self.also_registrar_port else []),
                    "module_app account.so",
                    "module_app menu.so",
                    "module_app ctrl_tcp.so",
                    f"ctrl_tcp_listen 127.0.0.1:{self.control_port}",
                    "",
                ]
            )
        )
        if not self.register:
            (self.workdir / "accounts").write_text(
                f"<sip:{self.user}@127.0.0.1>;regint=0;audio_codecs=PCMU,PCMA;answermode=manual\n"
            )
        else:
            (self.workdir / "accounts").write_text(
                f"<sip:{self.user}@127.0.0.1:{self.registrar_port}>;auth_pass={self.password};"
                f'outbound="sip:127.0.0.1:{self.registrar_port}";'
                + (
                    f'outbound2="sip:127.0.0.1:{self.also_registrar_port}";sipnat=outbound;'
                    if self.also_registrar_port
                    else ""
                )
                + "regint=60;"
                "audio_codecs=PCMU,PCMA;answermode=manual\n"
            )
        with (self.workdir / "baresip.log").open("ab") as log:
            self.process = subprocess.Popen(
                ["baresip", "-f", str(self.workdir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 10
        while self._socket is None and time.monotonic() < deadline:
            try:
                self._socket = socket.create_connection(("127.0.0.1", self.control_port), 0.5)
            except OSError:
                time.sleep(0.1)
        if self._socket is None:
            raise RuntimeError("baresip control port did not open")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def command(self, name: str, params: str = "") -> None:
        assert self._socket is not None
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        self._socket.sendall(b"%d:%s," % (len(body), body))

    def _run(self) -> None:
        assert self._socket is not None
        self._socket.settimeout(0.1)
        buffer = b""
        answer_at: float | None = None
        hangup_at: float | None = None
        scheduled: list[tuple[float, str]] = []
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                chunk = self._socket.recv(65535)
                if not chunk:
                    return
                buffer += chunk
            while b":" in buffer:
                length, rest = buffer.split(b":", 1)
                if not length.isdigit() or len(rest) < int(length) + 1:
                    break
                message = json.loads(rest[: int(length)])
                buffer = rest[int(length) + 1 :]
                if message.get("event"):
                    message["at"] = time.time()
                    self.events.append(message)
                    if message.get("type") == "CALL_INCOMING":
                        answer_at = time.monotonic() + self.answer_after_s
                    elif message.get("type") == "CALL_ESTABLISHED":
                        hangup_at = time.monotonic() + self.talk_s
                        scheduled = sorted(
                            (time.monotonic() + after, name) for after, name in self.during_call
                        )
            now = time.monotonic()
            if answer_at is not None and now >= answer_at:
                answer_at = None
                self.command("accept")
            while scheduled and now >= scheduled[0][0]:
                self.command(*scheduled.pop(0)[1].split(" ", 1))
            if hangup_at is not None and now >= hangup_at:
                hangup_at = None
                self.command("hangup")

    def types(self) -> list[str]:
        return [str(e.get("type")) for e in self.events]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # baresip unregisters on SIGTERM
            try:
                self.process.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:  # a registrar gone: its un-REGISTER times out
                self.process.kill()
                self.process.wait(timeout=5)


def originate(control_port: int, agent: str, number: str) -> dict[str, str]:
    """Ask the voice server's control port to place a click-to-dial call."""
    with socket.create_connection(("127.0.0.1", control_port), 5) as conn:
        request = {"originate": {"agent": agent, "number": number}}
        conn.sendall((json.dumps(request) + "\n").encode())
        with conn.makefile("rb") as answers:
            reply = answers.readline()
    return dict(json.loads(reply))


def run_sipp(
    scenario: Path,
    server_port: int,
    workdir: Path,
    *,
    calls: int = 1,
    rate: float | None = None,
    keys: dict[str, str] | None = None,
    timeout_s: float = 60.0,
    extra: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run sipp as the caller(s); its exit status is 0 when every call passed."""
    command = sipp_command(
        scenario,
        server_port,
        workdir,
        calls=calls,
        rate=rate,
        keys=keys,
        timeout_s=timeout_s,
        extra=extra,
    )
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout_s + 30, cwd=workdir, check=False
    )


def sipp_command(
    scenario: Path,
    server_port: int,
    workdir: Path,
    *,
    calls: int = 1,
    rate: float | None = None,
    keys: dict[str, str] | None = None,
    timeout_s: float = 60.0,
    extra: list[str] | None = None,
) -> list[str]:
    """The sipp command line for :func:`run_sipp` (or to start it in the background)."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        "sipp",
        f"127.0.0.1:{server_port}",
        "-sf",
        str(scenario),
        "-m",
        str(calls),
        "-i",
        "127.0.0.1",
        "-p",
        str(free_port()),
        "-mp",
        str(port_block(3)[0]),
        "-nostdin",
        "-timeout",
        f"{int(timeout_s)}s",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        str(workdir / "sipp_errors.log"),
        "-trace_stat",
        "-stf",
        str(workdir / "sipp_stats.csv"),
    ]
    if rate is not None:
        command += ["-r", str(rate)]
    for key, value in (keys or {}).items():
        command += ["-key", key, value]
    return command + (extra or [])
