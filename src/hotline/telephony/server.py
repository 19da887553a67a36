"""``hotline telephony serve``: the voice server process (SIP + media control + driver).

It wires the real adapters together on one asyncio loop — the sippy stack in its thread,
the rtpengine ng client, the DTMF listener — around :class:`CallCenter`, and writes the
contact event log as JSON lines — and, with a database URL, to the contact event log table
(:class:`~hotline.telephony.event_store.DatabaseSink`) with recordings kept per contact. As
one of a partition's voice nodes (``voice_node``) it has no engine: the partition owner routes
its calls and writes its events (:mod:`hotline.telephony.owner_routing`).
With ``spawn_rtpengine`` it also starts and stops a userspace rtpengine of its own (the
test suite and single-machine set-ups use that).

Past its capacity the server sheds load instead of queueing every INVITE: a
:class:`LoadMonitor` measures the driver's loop lag and the media relay's backlog, the SIP
stack refuses new calls with ``503`` + ``Retry-After`` when the policy in
:mod:`hotline.telephony.overload` says so, and the refusals become ``alarm`` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from hotline.config.caller_rules import CallerRules
from hotline.config.center import CenterConfig
from hotline.config.flow import Flow, sample_flow
from hotline.config.tones import RingbackTone
from hotline.config.trunks import Trunk
from hotline.config.validate import load_center
from hotline.core.documents import load_json, load_yaml
from hotline.core.errors import ValidationFailed
from hotline.core.events import Event, EventKind
from hotline.live.dialler_lends import holder_prefix
from hotline.live.log_floor import LogFloor
from hotline.routing.engine import RoutingEngine
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.telephony.acd import EngineRouter, voice_routing_config
from hotline.telephony.call_center import CallCenter, CallCenterSettings
from hotline.telephony.callers import DatabaseCallerDirectory
from hotline.telephony.dial_lists import DatabaseDialLists
from hotline.telephony.dialler import Dialler
from hotline.telephony.do_not_call import DatabaseScreen
from hotline.telephony.event_store import DatabaseSink, TeeSink
from hotline.telephony.media.prompts import (
    RECORDING_NOTICE,
    SAFE_MESSAGE,
    prompt_path,
    ringback,
)
from hotline.telephony.media.recording import find_pcap, pcap_to_wav
from hotline.telephony.media.rtpengine import (
    DtmfEvent,
    DtmfListener,
    NgClient,
    RtpengineProcess,
    die_with_parent,
)
from hotline.telephony.node_dialler import NodeDialler, OwnerLending, seed_floor
from hotline.telephony.outbound import OriginationRefused
from hotline.telephony.overload import (
    Admission,
    OverloadAlarm,
    OverloadBounds,
    OverloadState,
    VoiceLoad,
    admit,
    overload_tick,
)
from hotline.telephony.owner_routing import (
    NodeOutbox,
    OutboxSink,
    OwnerLog,
    OwnerRouter,
    carry_out,
    send,
)
from hotline.telephony.ports import AgentPhone, CallerDirectory, CallRouter, EventSink, NumberScreen
from hotline.telephony.sip.registrar import Registrar
from hotline.telephony.sip.stack import SippyStack
from hotline.telephony.voice_node import TICK_S, VoiceNodeOptions, VoicePresence
from hotline.telephony.voice_requests import start_poller

log = logging.getLogger(__name__)


class JsonlSink:
    """Appends events as JSON lines (the live contact event log), flushed line by line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = path.open("a", encoding="utf-8", buffering=1)

    def append(self, event: Event) -> None:
        """Append one event (line-buffered: a crash loses nothing already logged)."""
        self._out.write(json.dumps(event.as_dict(), ensure_ascii=False) + "\n")

    def close(self) -> None:
        """Close the file."""
        self._out.close()


@dataclass
class ServerOptions:
    """Everything ``serve`` needs; the CLI fills it from flags."""

    workdir: Path
    prompts: Path
    phones: tuple[AgentPhone, ...]
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    # SIP over WebSocket (RFC 7118) on sip_host:ws_port for the desk's browser softphone.
    ws_port: int | None = None
    ng_host: str = "127.0.0.1"
    ng_port: int = 22222
    dtmf_port: int = 22223
    spawn_rtpengine: bool = True
    rtp_ports: tuple[int, int] = (30000, 34999)
    flow: Flow = field(default_factory=sample_flow)
    # Other flows by called number (the center file's ``ivr.numbers``).
    flows_by_number: Mapping[str, Flow] = field(default_factory=dict)
    timezone: str = "Asia/Shanghai"
    emergency_prompt: str | None = None
    realm: str = "hotline"
    run_seconds: float | None = None
    center: Path | None = None
    router: CallRouter | None = None
    # With a database URL the contact event log and the recordings also go to the database.
    database_url: str | None = None
    recording_notice: str | None = RECORDING_NOTICE
    # Outbound trunk URI template (``sip:{number}@host:port``) for click-to-dial and callbacks.
    trunk: str | None = None
    # Local control port (127.0.0.1, TCP, JSON lines) taking origination requests.
    control_port: int | None = None
    # Where new calls are refused with 503 + Retry-After (overload control).
    overload: OverloadBounds = field(default_factory=OverloadBounds)
    # The do-not-call lists every outbound call asks first (with a database: its lists).
    do_not_call: NumberScreen | None = None
    # The center file's caller rules and agents' job numbers (:func:`caller_options`); the
    # callers are looked up in the database at ``database_url`` (or ``callers``, if given).
    caller_rules: CallerRules | None = None
    agents: frozenset[str] | None = None
    job_numbers: Mapping[str, str] = field(default_factory=dict)
    announce_agent_number: frozenset[str] = frozenset()
    # A forwarded number's next numbers when it is busy (:meth:`CenterConfig.forward_fallbacks`).
    forward_fallbacks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The center file's trunks, and its agents' and queues' sites (calls out leave by the
    # site's trunk; ``trunk`` is the last resort).
    trunks: tuple[Trunk, ...] = ()
    agent_sites: Mapping[str, str] = field(default_factory=dict)
    queue_sites: Mapping[str, str] = field(default_factory=dict)
    # The ring tone a caller hears while a number dialled out for them rings.
    ringback: RingbackTone = field(default_factory=RingbackTone)
    callers: CallerDirectory | None = None
    # Dial the database's running progressive/predictive campaigns (needs trunk + database).
    dialler: bool = False
    # The dialler gives up a customer's call ringing this long: no answer.
    dial_ring_timeout_s: float = 25.0
    # One of a partition's voice nodes (needs a database): heartbeat and carried contacts.
    voice_node: VoiceNodeOptions | None = None

    @property
    def events_path(self) -> Path:
        """The JSON-lines contact event log."""
        return self.workdir / "events.jsonl"

    @property
    def recordings(self) -> Path:
        """Where per-call WAV recordings go."""
        return self.workdir / "recordings"

    @property
    def raw_recordings(self) -> Path:
        """Where rtpengine writes its pcaps."""
        return self.workdir / "rtpengine" / "recordings-raw"


def load_phones(path: Path) -> tuple[AgentPhone, ...]:
    """Read phone credentials: a YAML list of ``{agent, user, password}`` (an agent's phone)
    or ``{supervisor, user, password}`` (a supervisor's, by Hotline login: rung to listen,
    whisper or barge). Raises ``ValueError`` naming the entry and the rule it breaks.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "phones.yaml"
    >>> _ = p.write_text("- {agent: a001, user: '1001', password: s3cret}\\n"
    ...                  "- {supervisor: boss, user: '2001', password: s3cret}")
    >>> [(phone.agent_id, phone.supervisor) for phone in load_phones(p)]
    [('a001', None), ('', 'boss')]
    """
    records = load_yaml(path.read_text(encoding="utf-8"), source=str(path)) or []
    if not isinstance(records, list):
        raise ValueError(f"{path}: a list of phones is expected")
    phones: list[AgentPhone] = []
    users: set[str] = set()
    for number, record in enumerate(records, start=1):
        where = f"{path}: entry {number}"
        if not isinstance(record, dict) or not record.get("user") or not record.get("password"):
            raise ValueError(f"{where}: give the phone's user and password")
        if ("agent" in record) == ("supervisor" in record):
            raise ValueError(f"{where}: give exactly one of agent or supervisor")
        owner = str(record.get("agent") or record.get("supervisor") or "")
        if not owner:
            raise ValueError(f"{where}: the agent or supervisor is empty")
        user = str(record["user"])
        if user in users:
            raise ValueError(f"{where}: SIP user {user!r} is listed twice")
        users.add(user)
        supervisor = str(record["supervisor"]) if "supervisor" in record else None
        agent_id = "" if supervisor is not None else owner
        phones.append(AgentPhone(agent_id, user, str(record["password"]), supervisor=supervisor))
    return tuple(phones)


SAMPLE_CENTER = Path(__file__).resolve().parent.parent / "config/samples/appliance_center.yaml"


def engine_router(center_file: Path, *, callbacks: bool = False) -> EngineRouter:
    """The routing engine for a center file's voice queues and agents.

    ``callbacks``: keep the queues' callback rules (the server has a trunk to call back on).
    """
    config = voice_routing_config(load_center(center_file), callbacks=callbacks)
    return EngineRouter(RoutingEngine(config))


@dataclass(frozen=True)
class CenterIvr:
    """The voice menus a center file configures: the default flow, flows by called number,
    and the emergency announcement switch."""

    flow: Flow
    by_number: Mapping[str, Flow]
    emergency_prompt: str | None


def center_ivr(center: CenterConfig) -> CenterIvr | None:
    """The center file's ``ivr`` section, calendars resolved; ``None`` when it has none.

    >>> ivr = center_ivr(load_center(SAMPLE_CENTER))
    >>> ivr.flow.id, sorted(ivr.by_number)
    ('appliance-hotline', ['4008001234'])
    """
    if center.ivr is None:
        return None
    flows = center.ivr_flows()
    return CenterIvr(
        flow=flows[center.ivr.flows[0].id],
        by_number={number: flows[flow_id] for number, flow_id in center.ivr.numbers.items()},
        emergency_prompt=center.ivr.emergency_prompt,
    )


def network_options(*, sip: str, ng: str, rtp_ports: str) -> dict[str, Any]:
    """The ``--sip host:port``, ``--ng host:port`` and ``--rtp-ports low-high`` flags as
    :class:`ServerOptions` fields; ``ValueError`` when one is malformed.

    >>> network_options(sip="127.0.0.1:5060", ng="127.0.0.1:22222", rtp_ports="30000-30999")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'sip_host': '127.0.0.1', 'sip_port': 5060, 'ng_host': '127.0.0.1', 'ng_port': 22222,
     'rtp_ports': (30000, 30999)}
    """
    sip_host, sip_port = sip.rsplit(":", 1)
    ng_host, ng_port = ng.rsplit(":", 1)
    low, high = (int(part) for part in rtp_ports.split("-"))
    return {
        "sip_host": sip_host,
        "sip_port": int(sip_port),
        "ng_host": ng_host,
        "ng_port": int(ng_port),
        "rtp_ports": (low, high),
    }


def websocket_port(port: int) -> int | None:
    """The ``--sip-ws-port`` flag: 0 is off, else a TCP port; ``ValueError`` otherwise.

    >>> websocket_port(0), websocket_port(5066)
    (None, 5066)
    """
    if port == 0:
        return None
    if not 0 < port < 65536:
        raise ValueError(f"--sip-ws-port {port}: a TCP port is 1-65535 (0: no WebSocket)")
    return port


def ivr_options(flow: Path | None, center: CenterConfig) -> dict[str, Any]:
    """The voice menus as :class:`ServerOptions` fields: the ``--flow`` file, else the center
    file's ``ivr`` section (flows by number, emergency switch), else the sample flow; and
    the center's caller rules and job numbers (:func:`caller_options`)."""
    callers = caller_options(center)
    if flow is not None:
        return {"flow": load_flow(flow), **callers}
    ivr = center_ivr(center)
    if ivr is None:
        return {"flow": sample_flow(), **callers}
    return {
        "flow": ivr.flow,
        "flows_by_number": ivr.by_number,
        "emergency_prompt": ivr.emergency_prompt,
        **callers,
    }


def caller_options(center: CenterConfig) -> dict[str, Any]:
    """The center's caller rules, agents, job numbers, trunks and sites as
    :class:`ServerOptions` fields.

    >>> options = caller_options(load_center(SAMPLE_CENTER))
    >>> sorted(options)[:5]
    ['agent_sites', 'agents', 'announce_agent_number', 'caller_rules', 'forward_fallbacks']
    >>> sorted(options)[5:]
    ['job_numbers', 'queue_sites', 'ringback', 'trunks']
    """
    return {
        "caller_rules": center.caller_rules,
        "agents": frozenset(a.id for a in center.agents),
        "job_numbers": {a.id: a.job_number for a in center.agents if a.job_number},
        "announce_agent_number": frozenset(q.id for q in center.queues if q.announce_agent_number),
        "forward_fallbacks": center.forward_fallbacks(),
        "trunks": tuple(center.trunks),
        "agent_sites": center.agent_sites(),
        "queue_sites": center.queue_sites(),
        "ringback": center.ringback,
    }


def load_flow(path: Path) -> Flow:
    """Read an IVR flow from YAML (checked against :class:`hotline.config.flow.Flow`)."""
    return Flow.model_validate(load_yaml(path.read_text(encoding="utf-8"), source=str(path)))


def _warm_up_converter() -> None:
    """Nothing to do: the recording converter's process runs it at the server's start, so it
    has spawned and imported this module before the first recording is handed to it."""
    from hotline.telephony.media import recording  # noqa: F401


def convert_recording(
    raw_dir: Path, out_dir: Path, contact_id: str, caller_side: int | None = None
) -> Mapping[str, Any] | None:
    """Turn rtpengine's pcap of a call into ``<out_dir>/<contact>.wav`` (left: the caller, who
    sent to the relay's port ``caller_side``; right: everyone the caller heard, mixed);
    summary for the log."""
    pcap = None
    for _ in range(20):  # rtpengine closes the file right after 'delete'; give it a moment
        pcap = find_pcap(raw_dir, contact_id)
        if pcap is not None:
            break
        time.sleep(0.05)
    if pcap is None:
        return None
    try:
        summary = pcap_to_wav(pcap, out_dir / f"{contact_id}.wav", caller_side=caller_side)
    except ValueError as exc:
        return {"error": str(exc)}
    return {
        "path": str(summary.path),
        "seconds": round(summary.seconds, 3),
        "channels": list(summary.channels),
        "rms": [round(r, 1) for r in summary.rms],
    }


def _post(loop: asyncio.AbstractEventLoop, function: Callable[..., None], *args: Any) -> None:
    # The registrar runs in sippy's thread; the driver lives on the asyncio loop.
    loop.call_soon_threadsafe(function, *args)


async def _control_client(
    center: CallCenter, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Serve one control connection: each line ``{"originate": {"agent", "number"}}``.

    The answer is one JSON line: ``{"contact_id": ...}`` or ``{"error": ...}``. It listens on
    127.0.0.1 only: the web API's click-to-dial runs on the same machine.
    """
    try:
        while line := await reader.readline():
            try:
                request = load_json(line, source="control")["originate"]
                contact_id = await center.originate(
                    agent_id=str(request["agent"]),
                    number=str(request["number"]),
                    reason=str(request.get("reason", "click_to_dial")),
                )
                reply: dict[str, str] = {"contact_id": contact_id}
            except (ValueError, KeyError, TypeError, ValidationFailed, OriginationRefused) as exc:
                reply = {"error": str(exc)}
            writer.write((json.dumps(reply) + "\n").encode())
            await writer.drain()
    finally:
        writer.close()


class LoadMonitor:
    """Overload control's adapter: measures load, answers the SIP stack's admission gate.

    It measures how late the driver's asyncio loop runs (a probe that sleeps
    :attr:`PROBE_S` and notes how late it woke; while a sleep is overdue, the overdue time
    counts at once) and reads the media client's delay and unanswered requests; the stack
    adds its set-up backlog and its own lag. :func:`~hotline.telephony.overload.admit`
    decides. Once a second :meth:`tick` folds the calls refused into the overload state and
    returns the alarm to log, if any.
    """

    PROBE_S = 0.05

    def __init__(
        self,
        bounds: OverloadBounds,
        *,
        media_pending: Callable[[], int],
        media_delay_s: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.bounds = bounds
        self.media_pending = media_pending
        self.media_delay_s = media_delay_s
        self.loop_lag_s = 0.0
        self.state = OverloadState()
        self._due: float | None = None  # when the probe's current sleep should end
        self._refused = 0  # written by sippy's thread only
        self._counted = 0
        self._reason: str | None = None
        self._probe: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start measuring the loop's lag (on the running loop)."""
        self._probe = asyncio.get_running_loop().create_task(self._measure(), name="loop-lag")

    def stop(self) -> None:
        """Stop measuring."""
        if self._probe is not None:
            self._probe.cancel()

    async def _measure(self) -> None:
        while True:
            # the loop's clock is time.monotonic, which decide() reads from sippy's thread
            self._due = time.monotonic() + self.PROBE_S
            await asyncio.sleep(self.PROBE_S)
            self.loop_lag_s = max(0.0, time.monotonic() - self._due)

    def load(
        self, *, setup_backlog: int = 0, oldest_setup_age_s: float = 0.0, sip_lag_s: float = 0.0
    ) -> VoiceLoad:
        """The load now, with what the SIP stack measured (its backlog, its lag)."""
        lag = self.loop_lag_s
        due = self._due
        if due is not None:
            lag = max(lag, time.monotonic() - due)
        return VoiceLoad(
            setup_backlog=setup_backlog,
            oldest_setup_age_s=oldest_setup_age_s,
            sip_lag_s=sip_lag_s,
            media_delay_s=self.media_delay_s(),
            media_pending=self.media_pending(),
            loop_lag_s=lag,
        )

    def decide(
        self, *, setup_backlog: int, oldest_setup_age_s: float, sip_lag_s: float = 0.0
    ) -> Admission:
        """Admit or refuse one new call (called in sippy's thread); counts refusals."""
        load = self.load(
            setup_backlog=setup_backlog,
            oldest_setup_age_s=oldest_setup_age_s,
            sip_lag_s=sip_lag_s,
        )
        decision = admit(load, self.bounds)
        if not decision.admitted:
            self._refused += 1
            self._reason = decision.reason
        return decision

    def tick(self, *, at: float) -> OverloadAlarm | None:
        """Fold the refusals since the last tick into :attr:`state`; the alarm to log."""
        refused = self._refused - self._counted
        self._counted += refused
        self.state, alarm = overload_tick(self.state, at=at, refused=refused, reason=self._reason)
        return alarm


def note_overload(parts: VoiceParts) -> OverloadAlarm | None:
    """Once a second: log an ``alarm`` event when calls start or stop being refused."""
    alarm = parts.overload.tick(at=parts.center.clock.now())
    if alarm is not None:
        parts.center.emit(EventKind.ALARM, data=alarm.data())
        if alarm.state == "overload":
            log.warning("voice overload: refusing new calls with 503 (%s)", alarm.reason)
        else:
            log.warning("voice overload over: %d calls refused", alarm.refused)
    return alarm


def _caller_directory(options: ServerOptions) -> CallerDirectory | None:
    """Who answers "who is calling": the options' own, else the database's, when rules ask."""
    if options.callers is not None or options.caller_rules is None:
        return options.callers
    if options.database_url is None:
        log.warning("caller rules set but no database: callers are not recognised")
        return None
    return DatabaseCallerDirectory(make_session_factory(make_engine(options.database_url)))


@dataclass
class VoiceParts:
    """The running pieces of a voice server, as :func:`start_voice` started them."""

    center: CallCenter
    stack: SippyStack
    media: NgClient
    dtmf: DtmfListener
    converters: ProcessPoolExecutor
    overload: LoadMonitor
    rtpengine: RtpengineProcess | None = None
    control: asyncio.Server | None = None


async def start_voice(options: ServerOptions, *, router: CallRouter, sink: EventSink) -> VoiceParts:
    """Start rtpengine (when asked), the ng client, DTMF listener, registrar and SIP stack.

    ``router`` is the ACD (the routing engine alone, or the web app's live driver) and
    ``sink`` the contact event log. Stop with :func:`stop_voice`.
    """
    loop = asyncio.get_running_loop()
    options.workdir.mkdir(parents=True, exist_ok=True)
    rtpengine: RtpengineProcess | None = None
    if options.spawn_rtpengine:
        rtpengine = RtpengineProcess(
            workdir=options.workdir / "rtpengine",
            ng_port=options.ng_port,
            dtmf_port=options.dtmf_port,
            port_min=options.rtp_ports[0],
            port_max=options.rtp_ports[1],
            host=options.ng_host,
        )
        # started from this thread: its parent-death signal is tied to the starting thread
        rtpengine.start()
    media = NgClient(options.ng_host, options.ng_port)
    await media.open()
    # one worker process decodes recordings, away from the loop and sippy's thread
    # ("spawn": forking a process that already runs sippy's thread could copy held locks)
    # (its process ends with the server's, even when the server is killed)
    converters = ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent
    )
    # spawned and warmed now, not at the first hang-up (which waited 7-11 s for it to start)
    converters.submit(_warm_up_converter)
    center = CallCenter(
        settings=CallCenterSettings(
            flow=options.flow,
            flows_by_number=options.flows_by_number,
            prompts=options.prompts,
            recordings=options.recordings,
            timezone=options.timezone,
            phones=options.phones,
            emergency_prompt=options.emergency_prompt,
            recording_converter=partial(
                convert_recording, options.raw_recordings, options.recordings
            ),
            recording_executor=converters,
            recording_notice=options.recording_notice,
            trunk=options.trunk,
            do_not_call=options.do_not_call,
            caller_rules=options.caller_rules,
            agents=options.agents,
            job_numbers=options.job_numbers,
            announce_agent_number=options.announce_agent_number,
            forward_fallbacks=options.forward_fallbacks,
            trunks=options.trunks,
            agent_sites=options.agent_sites,
            queue_sites=options.queue_sites,
            # one cycle of the center's ring tone, written where rtpengine can read it
            ringback=ringback(options.workdir / "tones" / "ringback.wav", options.ringback),
        ),
        media=media,
        router=router,
        sink=sink,
        callers=_caller_directory(options),
    )

    def on_key(event: DtmfEvent) -> None:
        center.dtmf(event.call, event.tag, event.key)

    dtmf = DtmfListener(on_key, options.ng_host, options.dtmf_port)
    await dtmf.open()
    registrar = Registrar(
        realm=options.realm,
        users={p.user: p.password for p in options.phones},
        secret=options.realm.encode() + str(time.time()).encode(),
        on_change=lambda user, contact: _post(loop, center.registration_changed, user, contact),
    )
    overload = LoadMonitor(
        options.overload, media_pending=lambda: media.pending, media_delay_s=media.delay_s
    )
    overload.start()
    stack = SippyStack(
        host=options.sip_host,
        port=options.sip_port,
        events=center,
        loop=loop,
        registrar=registrar,
        admission=overload,
        ws_port=options.ws_port,
    )
    stack.start()
    center.signalling = stack
    center.supervisions.host = options.ng_host  # the mixer listens where rtpengine sends
    control: asyncio.Server | None = None
    if options.control_port is not None:
        control = await asyncio.start_server(
            partial(_control_client, center), "127.0.0.1", options.control_port
        )
    return VoiceParts(center, stack, media, dtmf, converters, overload, rtpengine, control)


async def stop_voice(parts: VoiceParts) -> None:
    """Stop what :func:`start_voice` started, letting calls' background work finish first."""
    if parts.control is not None:
        parts.control.close()
    parts.center.supervisions.end_all("server_stopped")
    await parts.center.drain()
    parts.overload.stop()
    parts.stack.stop()
    parts.dtmf.close()
    parts.media.close()
    if parts.rtpengine is not None:
        parts.rtpengine.stop()
    parts.converters.shutdown(wait=True)


async def serve(options: ServerOptions, *, ready: asyncio.Event | None = None) -> None:
    """Run the voice server until SIGINT/SIGTERM (or ``run_seconds``)."""
    loop = asyncio.get_running_loop()
    jsonl = JsonlSink(options.events_path)
    database: DatabaseSink | None = None
    presence: VoicePresence | None = None
    sink: EventSink = jsonl
    outbox: NodeOutbox | None = None
    dials_out = options.trunk is not None or bool(options.trunks)
    router: CallRouter | None = options.router
    if options.database_url:
        engine = make_engine(options.database_url)
        upgrade(engine)
        factory = make_session_factory(engine)
        if options.voice_node is not None:
            # A voice node: the partition owner routes (no engine here) and writes its events.
            sip = f"{options.sip_host}:{options.sip_port}"
            presence = VoicePresence(factory, options.voice_node, sip=sip)
            outbox = NodeOutbox(presence)
            sink = TeeSink([jsonl, OutboxSink(outbox)])
            config = voice_routing_config(load_center(options.center or SAMPLE_CENTER))
            router = OwnerRouter(outbox, site_of_number=config.site_of_number)
        else:
            database = DatabaseSink(factory, source="live")
            sink = TeeSink([jsonl, database])
        if options.do_not_call is None:
            options = replace(options, do_not_call=DatabaseScreen(factory))
    if router is None:
        router = engine_router(options.center or SAMPLE_CENTER, callbacks=dials_out)
    parts = await start_voice(options, router=router, sink=sink)
    stop = asyncio.Event()
    dialling: asyncio.Task[None] | None = None
    sending: asyncio.Task[None] | None = None
    following: asyncio.Task[None] | None = None
    lending: OwnerLending | None = None
    if outbox is not None:
        center, node_outbox = parts.center, outbox
        if options.dialler and dials_out:
            # the owner's engine lends the dialler's agents; the log's queues recall them
            members = RoutingEngine(config)
            floor = LogFloor({q.id: members.queue_members(q.id) for q in config.queues})
            lending = OwnerLending(outbox, floor=floor, ranker=members)
        lends = lending

        def follow(events: list[Event]) -> None:
            carry_out(center, node_outbox, events, jsonl)
            if lends is not None:
                lends.follow(events)

        owner_log = OwnerLog(outbox.presence.session_factory, follow)
        await owner_log.start()
        if lending is not None and lending.floor is not None:
            # the callers waiting before this node started, up to where its log tail begins
            await asyncio.to_thread(
                seed_floor, lending.floor, outbox.presence.session_factory, upto=owner_log.position
            )
        following = asyncio.create_task(owner_log.run(stop), name="voice-node-log")
    if options.dialler and database is not None and dials_out:
        dialler = Dialler(
            parts.center,
            DatabaseDialLists(database.session_factory),
            safe_message=prompt_path(options.prompts, options.flow.languages[0], SAFE_MESSAGE),
            ring_timeout_s=options.dial_ring_timeout_s,
        )
        parts.center.dialler = dialler
        dialling = asyncio.create_task(dialler.run(stop))
    elif lending is not None and outbox is not None:
        # a voice node: it places the calls, the partition owner lends the agents
        # (hotline.telephony.node_dialler)
        dialler = NodeDialler(
            parts.center,
            DatabaseDialLists(outbox.presence.session_factory),
            safe_message=prompt_path(options.prompts, options.flow.languages[0], SAFE_MESSAGE),
            ring_timeout_s=options.dial_ring_timeout_s,
            lending=lending,
            holder_prefix=holder_prefix(outbox.presence.node_id),
        )
        parts.center.dialler = dialler
        dialling = asyncio.create_task(dialler.run(stop))
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    started = time.monotonic()
    requests: asyncio.Task[None] | None = None
    try:
        if presence is not None and outbox is not None:
            # once started, so that the heartbeat goes on from here every tick
            await asyncio.to_thread(presence.register)
            # Desks on web nodes ask this node to dial and to transfer out (voice_requests).
            requests = start_poller(parts.center, presence.session_factory, presence, stop)
            sending = asyncio.create_task(send(outbox, stop, every_s=TICK_S), name="voice-node")
        if ready is not None:
            ready.set()
        print(f"hotline telephony: SIP on {options.sip_host}:{options.sip_port}, ready", flush=True)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            parts.center.tick()
            parts.stack.expire_registrations()
            note_overload(parts)
            if database is not None:
                # In a worker thread: on SQLite the write waits for the database's writer
                # turn, and a loop blocked on it could not run the coroutine holding the turn
                # (a do-not-call audit, the dialler's attempts) — nor any call meanwhile.
                await asyncio.to_thread(database.flush)
            if sending is not None and sending.done():
                break  # declared lost by the partition owner (logged by send)
            if options.run_seconds and time.monotonic() - started > options.run_seconds:
                break
    finally:
        stop.set()
        if dialling is not None:
            await dialling
        if requests is not None:
            await requests
        await stop_voice(parts)
        jsonl.close()
        if database is not None:
            await asyncio.to_thread(database.close)
        for task in (following, sending):
            if task is not None:
                await task
        if outbox is not None:
            with contextlib.suppress(Exception):  # what the calls' last steps queued
                await asyncio.to_thread(outbox.flush)
        if presence is not None:
            await asyncio.to_thread(presence.stop)
