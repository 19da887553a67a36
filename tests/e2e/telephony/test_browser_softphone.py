"""The desk's browser softphone, end to end: headless Chromium takes a sipp caller's call.

``hotline serve --sip ... --sip-ws-port N`` in a subprocess (uvicorn, sippy with its SIP
WebSocket, a userspace rtpengine). Agent a001 signs in to the desk in Chromium, whose fake
microphone plays a 1 kHz tone the test wrote (``--use-file-for-fake-audio-capture``); the
desk's softphone (JsSIP from npm) registers over the WebSocket with a001's phone credentials,
and a baresip desk phone registers for a001 too (a second SIP user). A sipp caller dials
through the IVR (English, installation) into the queue, playing a 440 Hz tone; both of a001's
phones ring, the agent answers with the softphone's button (the desk phone's INVITE is
cancelled), hears the caller, talks, presses keys on the softphone's keypad, mutes and
unmutes, puts the caller on hold and back (re-INVITEs over the WebSocket), then consults a006
(a baresip desk phone speaking 700 Hz) with the softphone's Consult button — the browser rung
again on its consult line — and completes the warm transfer; a006 talks with the caller and
hangs up; the caller rates the call. The call's capture then holds the browser's 1 kHz (and
nothing of it while it was muted), the keys as RFC 4733 events from the browser, the caller's
440 Hz and a006's 700 Hz: the audio went browser → DTLS-SRTP → rtpengine → plain RTP and back,
and the caller ended up talking with a006; while they consulted, the consult line played
a006's 700 Hz (a Web Audio analyser on the softphone's ``<audio>`` stream) and a006's phone
heard the browser's 1 kHz (baresip's dump). The desk passes axe-core in zh-CN while the call
is up (the panel's keypad, transfer and consult controls shown), and with the softphone idle
in English.

Then the other way round: a006 on the desk phone has a caller and consults a001 on the
browser, back to the caller, then again with the transfer, which chains the caller's relay to
the consult relay (the browser never moves); each consult is heard both ways, the browser
hears the caller after the transfer and the call's capture holds both, and both relays are
gone once a001 hangs up.

Then a supervisor on a baresip phone (2,500 Hz) listens, whispers, barges and listens again on a
browser agent's call: the browser is rung its coach line and mixes, and in each phase the
browser (an AnalyserNode on what the page plays), the caller (rtpengine's capture) and the
supervisor's phone (its recording) hear exactly whom ChanSpy says.

Last, a001 and a006 both on the browser (a second Chromium, its microphone at 700 Hz): a001
consults a006 over two relays chained plain to plain and hands the caller over; each hears
the other, a006 hears the caller after, the capture holds both, and every relay is gone.

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hotline.identity.passwords import hash_password
from hotline.store.db import make_engine, make_session_factory
from hotline.store.migrate import upgrade
from hotline.store.models.core import User
from hotline.telephony.media.bencode import decode
from hotline.telephony.media.g711 import alaw_to_linear, ulaw_to_linear
from hotline.telephony.media.prompts import beep, generate_all
from hotline.telephony.media.recording import (
    Stream,
    find_pcap,
    read_rtp_streams,
    telephone_events,
    tone_seconds,
)
from hotline.telephony.media.rtpengine import encode_request
from tests.e2e.telephony.rtp_pcap import Key, Tone, answers_survey_when_asked, write_timeline
from tests.e2e.telephony.telephony_peers import (
    HERE,
    BaresipAgent,
    free_port,
    require_tools,
    sipp_command,
)
from tests.e2e.telephony.test_one_engine import (
    SUPERVISOR_HZ,
    Platform,
    _heard_by_caller,
    _level,
    _levels,
    _supervised_caller,
    _wait,
    _wav_samples,
    heard_so_far,
    serve_sip,
)
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
PASSWORD = "agent-secret-1"
BROWSER_HZ, CALLER_HZ, CONSULTED_HZ = 1000.0, 440.0, 700.0
KEYPAD = "159"  # pressed on the softphone's keypad during the call
SURVEY_KEY_AT = 26.0  # seconds into the caller's timeline: the rating, after a006 hung up


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, int]]:
    require_tools()
    root = tmp_path_factory.mktemp("softphone")
    home = root / "home"
    prompts = root / "prompts"
    generate_all(prompts)
    phones = root / "phones.yaml"
    phones.write_text(
        f"- {{agent: a001, user: '1001', password: '{PASSWORD}'}}\n"
        f"- {{agent: a006, user: '1006', password: '{PASSWORD}'}}\n"
        f"- {{supervisor: boss, user: '2001', password: '{PASSWORD}'}}\n"  # the coaching test
        # a001's desk phone beside the softphone (which takes a001's first entry)
        f"- {{agent: a001, user: '1011', password: '{PASSWORD}'}}\n"
    )
    env = {
        **os.environ,
        "HOTLINE_HOME": str(home),
        "HOTLINE_SECRET_KEY": "e2e-softphone",
        "HOTLINE_ADMIN_PASSWORD": "admin-secret-1",
    }
    env.pop("HOTLINE_DATABASE_URL", None)
    # the database ``hotline init`` would make, with agent a001's account, made here: two
    # fewer processes to start on a busy machine
    home.mkdir()
    engine = make_engine(f"sqlite:///{home / 'hotline.db'}")
    upgrade(engine)
    with make_session_factory(engine)() as session:
        for agent_id in ("a001", "a006"):
            session.add(
                User(
                    username=agent_id,
                    display_name=agent_id,
                    password_hash=hash_password(PASSWORD),
                    roles=["agent"],
                    agent_id=agent_id,
                    language="zh-CN",
                    active=True,
                )
            )
        session.add(
            User(
                username="boss",
                display_name="boss",
                password_hash=hash_password(PASSWORD),
                roles=["supervisor"],
                active=True,
            )
        )
        session.commit()
    engine.dispose()
    ws_port = free_port(socket.SOCK_STREAM)
    websocket = ("--sip-ws-port", str(ws_port))
    with serve_sip(
        root, env, phones=phones, prompts=prompts, rtp_slot=3, extra=websocket
    ) as served:
        process, port, sip_port = served
        server = Platform(f"http://127.0.0.1:{port}", sip_port, home, 0, process)
        voice = root / "a006.wav"
        beep(voice, hz=CONSULTED_HZ, seconds=40.0, rate=8000)
        # a006's desk phone, consulted by the browser: the test hangs it up; what it hears
        # is kept (the consults' audio)
        (root / "a006-heard").mkdir()
        second = BaresipAgent(
            workdir=root / "a006",
            user="1006",
            password=PASSWORD,
            registrar_port=sip_port,
            voice=voice,
            slot=6,
            talk_s=120.0,
            heard_dir=root / "a006-heard",
        )
        second.start()
        try:
            server.park_on_break("a006", 15)  # until consulted
            server.second = second
            yield server, ws_port
        finally:
            second.stop()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    microphone = tmp_path_factory.mktemp("microphone") / "tone.wav"
    beep(microphone, hz=BROWSER_HZ, seconds=10.0, rate=48000)  # Chromium loops it
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=_chromium_args(microphone), headless=True
        )
        yield browser
        browser.close()


def _chromium_args(microphone: Path) -> list[str]:
    """Chromium's switches for a softphone whose fake microphone plays ``microphone``."""
    return [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",  # allow the microphone without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        # ICE over 127.0.0.1: Chromium drops loopback candidates, and hides host addresses
        # behind mDNS names rtpengine cannot resolve, unless told otherwise
        "--allow-loopback-in-peer-connection",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required",
    ]


def _desk(
    browser: Any, url: str, *, locale: str, bypass_csp: bool = False, agent: str = "a001"
) -> Any:
    context = browser.new_context(
        viewport={"width": 1366, "height": 1000}, locale=locale, bypass_csp=bypass_csp
    )
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", agent)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/console")
    page.goto(f"{url}/desk?lang={'en' if locale == 'en' else 'zh-CN'}")
    return page


def _leave(page: Any) -> None:
    """Close the desk the way an agent does: the softphone un-registers on the way out
    (``beforeunload``), so the next test's desk is the agent's only browser phone."""
    page.goto("about:blank")
    page.context.close()


def _recorded_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("telephony/rtpengine/recordings-raw/pcaps/*"))


def test_the_browser_answers_a_caller_from_the_queue_and_the_recording_holds_its_audio(
    platform: tuple[Platform, int], chromium: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server, _ = platform
    # a001's desk phone (a second SIP user) rings beside the softphone; it never answers
    voice = tmp_path / "desk.wav"
    beep(voice, hz=CONSULTED_HZ, seconds=5.0, rate=8000)
    desk_phone = BaresipAgent(
        workdir=tmp_path / "a001-desk",
        user="1011",
        password=PASSWORD,
        registrar_port=server.sip_port,
        voice=voice,
        slot=5,
        answer_after_s=600.0,
    )
    desk_phone.start()
    page = _desk(chromium, server.url, locale="zh-CN")  # the desk's own CSP, not bypassed
    card = page.locator("#softphone-card")
    expect(card).to_be_visible()
    expect(card).to_have_attribute("data-status", "registered")
    expect(page.locator("#sp-status")).to_have_text("可以接听")
    # the microphone check hears the fake microphone's tone
    page.click("#sp-check")
    expect(page.locator("#sp-check-result")).to_have_text("麦克风正常。", timeout=10_000)
    # the registration made a001 ready, as a desk phone's does
    expect(page.locator("#state")).to_have_text("空闲")

    registered = tmp_path / "a001-desk" / "baresip.log"  # may come before ctrl_tcp's events
    _wait(lambda: "200 OK" in registered.read_text(), 15, "a001's desk phone registered")
    pcap = write_timeline(
        tmp_path / "caller.pcap",
        [Key(0.5, "2"), Key(3.0, "2"), Tone(3.5, 24.0, CALLER_HZ), Key(SURVEY_KEY_AT, "4")],
    )
    script = tmp_path / "caller.xml"
    script.write_text(
        (HERE / "caller_ivr_queue_survey.xml")
        .read_text()
        .replace("__CALLER_PCAP__", str(pcap))
        .replace('request="BYE" timeout="30000"', 'request="BYE" timeout="50000"')
    )
    caller = subprocess.Popen(
        sipp_command(script, server.sip_port, tmp_path, timeout_s=60),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    called_at = time.monotonic()
    second = server.second
    assert second is not None and second.heard_dir is not None
    dumps_before = set(second.heard_dir.glob("dump-*-dec.wav"))

    def a006_heard() -> np.ndarray:
        assert second.heard_dir is not None
        return heard_so_far(sorted(set(second.heard_dir.glob("dump-*-dec.wav")) - dumps_before))

    try:
        expect(card).to_have_attribute("data-call", "ringing", timeout=20_000)
        expect(page.locator("#sp-caller")).to_have_text(re.compile(r"^1380000"))
        # a001's two phones ring together; the browser answers, the desk phone's INVITE is
        # cancelled (baresip reports an incoming call closed by CANCEL as ECONNRESET)
        _wait(lambda: "CALL_INCOMING" in desk_phone.types(), 10, "the desk phone ringing")
        page.click("#sp-answer")
        expect(card).to_have_attribute("data-call", "talking")
        _wait(lambda: "CALL_CLOSED" in desk_phone.types(), 10, "the desk phone cancelled")
        [cancelled] = [e for e in desk_phone.events if e.get("type") == "CALL_CLOSED"]
        assert cancelled["param"] == "Connection reset by peer", cancelled
        assert "CALL_ESTABLISHED" not in desk_phone.types()
        # the panel in a call (keypad, transfer, consult, hold, mute) passes axe, in zh-CN
        expect(page.locator("#sp-keypad")).to_be_visible()
        expect(page.locator("#sp-transfer")).to_be_visible()
        assert serious_violations(page, under_csp=True) == []
        page.click("#sp-blind-number")  # Transfer out without a number: told, nothing sent
        expect(page.locator("#sp-error")).to_have_text("请先输入号码。")
        # a few seconds of both sides' audio in the call's capture; the browser hears the
        # caller meanwhile
        recorded = _recorded_bytes(server.home)
        answered_heard = _browser_hears(page)
        _wait(lambda: _recorded_bytes(server.home) > recorded + 80_000, 15, "audio recorded")
        for key in KEYPAD:  # RFC 4733 events from the browser (JsSIP's RTCDTMFSender)
            page.click(f".sp-key[data-key='{key}']")
        # mute for about three seconds of audio: the caller must hear nothing of the browser
        page.click("#sp-mute")
        expect(page.locator("#sp-muted")).to_be_visible()
        muted_at = time.time()
        recorded = _recorded_bytes(server.home)
        _wait(lambda: _recorded_bytes(server.home) > recorded + 60_000, 15, "muted audio")
        unmuted_at = time.time()
        page.click("#sp-unmute")
        expect(page.locator("#sp-muted")).to_be_hidden()
        # hold and resume from the softphone: re-INVITEs over the WebSocket; the caller
        # hears music meanwhile and the engine counts the hold
        page.click("#sp-hold")
        expect(card).to_have_attribute("data-call", "held", timeout=15_000)
        page.click("#sp-unhold")
        # the re-INVITE goes through rtpengine again: allow a worker-crowded machine its time
        expect(card).to_have_attribute("data-call", "talking", timeout=15_000)
        # consult a006 from the softphone's own buttons, then complete the warm transfer
        a006 = server.client("a006", PASSWORD)
        try:
            assert a006.post("/api/live/agents/a006/state", json={"state": "ready"}).is_success
        finally:
            a006.close()
        page.fill("#sp-target", "a006")
        page.click("#sp-consult")
        expect(card).to_have_attribute("data-consult", "talking", timeout=15_000)
        _wait(lambda: "CALL_ESTABLISHED" in second.types(), 15, "a006's phone answering")
        # the two agents hear each other: the consult line plays a006's 700 Hz, and a006's
        # phone hears the browser's 1 kHz (a second and a half of it)
        consult_heard = _browser_hears(page)
        mark = len(a006_heard())
        _wait(lambda: len(a006_heard()) > mark + 12_000, 15, "a006 hearing the consult")
        consult_part = a006_heard()[mark:]
        page.click("#sp-consult-complete")
        expect(page.locator("#sp-call")).to_be_hidden(timeout=15_000)  # both browser calls end
        # the caller talks with a006 a while, then a006 hangs up: the survey follows
        recorded = _recorded_bytes(server.home)
        _wait(lambda: _recorded_bytes(server.home) > recorded + 40_000, 15, "a006's audio")
        _wait(lambda: time.monotonic() > called_at + SURVEY_KEY_AT - 8, 30, "the caller's turn")
        second.command("hangup")
        out, err = caller.communicate(timeout=50)  # the survey, then the platform's BYE
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    finally:
        desk_phone.stop()
        if caller.poll() is None:
            caller.kill()
            caller.communicate(timeout=10)  # reaped here, not left to warn in the next test

    levels = answered_heard
    assert levels[CALLER_HZ] > -50 and levels[CONSULTED_HZ] < levels[CALLER_HZ] - 20, levels
    levels = consult_heard
    assert levels[CONSULTED_HZ] > -50 and levels[CALLER_HZ] < levels[CONSULTED_HZ] - 20, levels
    consulted = {hz: _level(consult_part, hz) for hz in (BROWSER_HZ, CALLER_HZ)}
    assert consulted[BROWSER_HZ] > 300 and consulted[CALLER_HZ] < 100, consulted

    wanted = {"answered", "held", "resumed", "consult_ended", "survey_answered", "finished"}

    def logged() -> list[Any] | None:
        rows = server.events()
        return rows if wanted | {"recording_stopped"} <= {r.kind for r in rows} else None

    rows = _wait(logged, 45, "the call's events in the server's database")
    answered = [r.agent_id for r in rows if r.kind == "answered"]
    assert answered[0] == "a001"
    assert "alarm" not in {r.kind for r in rows}  # rtpengine took every command
    [ended] = [r for r in rows if r.kind == "consult_ended"]
    assert ended.data["transfer"] is True
    [disconnected] = [r for r in rows if r.kind == "disconnected"]
    assert disconnected.agent_id == "a006"  # the caller ended up with a006
    [survey] = [r for r in rows if r.kind == "survey_answered"]
    assert survey.data["score"] == 4
    [recording] = [r for r in rows if r.kind == "recording_stopped"]
    with wave.open(str(recording.data["path"])) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert max(tone_seconds(frames[:, channel], CALLER_HZ) for channel in (0, 1)) >= 1.0

    # the capture rtpengine wrote (decrypted): who said what, and when
    capture = find_pcap(server.home / "telephony/rtpengine/recordings-raw", ended.contact_id)
    assert capture is not None
    streams = read_rtp_streams(capture)
    browser = max(streams, key=lambda s: tone_seconds(_samples(s), BROWSER_HZ))
    heard = {
        hz: max(tone_seconds(_samples(s), hz) for s in streams) for hz in (CALLER_HZ, CONSULTED_HZ)
    }
    seen = (heard, [(s.source, len(s.packets)) for s in streams])
    assert tone_seconds(_samples(browser), BROWSER_HZ) >= 1.0, seen  # the browser's microphone
    assert heard[CALLER_HZ] >= 1.0 and heard[CONSULTED_HZ] >= 1.0, seen  # caller, then a006
    # muted: the browser's stream carried no tone (its packets, silent, went on)
    window = _samples(browser, since=muted_at + 0.5, until=unmuted_at - 0.5)
    assert len(window) >= 8000, (muted_at, unmuted_at)  # a second and more of packets
    assert tone_seconds(window, BROWSER_HZ) == 0
    before = _samples(browser, since=muted_at - 3.0, until=muted_at - 0.5)
    assert tone_seconds(before, BROWSER_HZ) >= 1.0  # and the tone right before the mute
    # the keypad's keys reached rtpengine as RFC 4733 events from the browser, in order
    keys = "".join(key for source, key in telephone_events(capture) if source == browser.source)
    assert keys == KEYPAD
    _leave(page)


def _samples(stream: Stream, *, since: float = 0.0, until: float = float("inf")) -> Any:
    """The stream's audio (G.711 decoded) captured between ``since`` and ``until`` (epoch)."""
    chunks = [
        (ulaw_to_linear if payload_type == 0 else alaw_to_linear)(
            np.frombuffer(payload, dtype=np.uint8)
        )
        for when, payload_type, payload in stream.packets
        if since <= when <= until
    ]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def test_the_desk_with_its_softphone_passes_axe_in_english(
    platform: tuple[Platform, int], chromium: Any
) -> None:
    from playwright.sync_api import expect

    server, _ = platform
    page = _desk(chromium, server.url, locale="en", bypass_csp=True)  # axe is injected
    expect(page.locator("#softphone-card")).to_have_attribute("data-status", "registered")
    expect(page.locator("#sp-title")).to_contain_text("Softphone")
    expect(page.locator("#sp-status")).to_have_text("Ready for calls")
    assert serious_violations(page) == []
    _leave(page)


#: What the agent on the softphone hears (the ``#sp-audio`` element's stream, the consult line's
#: while it is up), through Web Audio: the peak level in dB of the bin of each tone over
#: ``ms`` milliseconds, sampled every 50 ms (an 8,192-point FFT: bins of about 6 Hz).
_HEAR_JS = """async ([tones, ms]) => {
  const stream = document.getElementById('sp-audio').srcObject;
  if (!stream) return null;
  const context = new AudioContext();
  await context.resume();
  const source = context.createMediaStreamSource(stream);
  const analyser = context.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0;
  source.connect(analyser);
  const bins = new Float32Array(analyser.frequencyBinCount);
  const levels = tones.map(() => []);
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    analyser.getFloatFrequencyData(bins);
    tones.forEach((hz, i) => {
      const bin = Math.round(hz * analyser.fftSize / context.sampleRate);
      levels[i].push(Math.max(bins[bin - 1], bins[bin], bins[bin + 1]));
    });
  }
  source.disconnect();
  await context.close();
  return levels.map((seen) => seen.sort((a, b) => a - b)[Math.floor(seen.length / 2)]);
}"""


def _browser_hears(page: Any, ms: int = 1500) -> dict[float, float]:
    """The median level (dB) of each party's tone in what the softphone plays to the agent."""
    tones = [BROWSER_HZ, CALLER_HZ, CONSULTED_HZ]
    levels = page.evaluate(_HEAR_JS, [tones, ms])
    assert levels is not None, "the softphone plays nothing"
    return dict(zip(tones, levels, strict=True))


def _relay_known(server: Platform, relay: str) -> bool:
    """Whether the server's rtpengine still has the call ``relay`` (ng ``query``)."""
    args = list(server.process.args)  # type: ignore[arg-type]
    host, port = str(args[args.index("--ng") + 1]).split(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        # a cookie of its own: rtpengine answers a cookie it has seen with its cached reply
        request = encode_request(f"probe-{time.monotonic_ns()}", "query", {"call-id": relay})
        sock.sendto(request, (host, int(port)))
        data, _ = sock.recvfrom(65535)
    reply = decode(data.partition(b" ")[2])
    assert isinstance(reply, dict), reply
    return reply.get("result") == "ok"


def test_a_desk_phone_consults_the_browser_which_takes_the_caller_over_chained_relays(
    platform: tuple[Platform, int], chromium: Any, tmp_path: Path
) -> None:
    """a006 on the desk phone has the caller and consults a001 on the browser twice: back
    to the caller, then the transfer. The browser never moves: the transfer chains the
    caller's relay to the consult relay. The agents hear each other during the consult,
    the caller and the browser after the transfer; the recording holds both parties."""
    from playwright.sync_api import expect

    server, _ = platform
    second = server.second
    assert second is not None and second.heard_dir is not None
    heard_dir = second.heard_dir
    dumps_before = set(heard_dir.glob("dump-*-dec.wav"))
    page = _desk(chromium, server.url, locale="en", bypass_csp=True)  # axe is injected
    card = page.locator("#softphone-card")
    expect(card).to_have_attribute("data-status", "registered")
    a001, a006 = server.client("a001", PASSWORD), server.client("a006", PASSWORD)
    caller: subprocess.Popen[bytes] | None = None
    try:
        # a001 on a break, a006 ready: the caller reaches a006's desk phone
        _wait(
            lambda: a001.get("/api/live/agents/a001").json()["state"] == "available",
            20,
            "a001 free after the last call",
        )
        a001.post("/api/live/agents/a001/state", json={"state": "not_ready", "reason": "break"})
        assert a006.post("/api/live/agents/a006/state", json={"state": "ready"}).is_success
        timeline = [Key(0.5, "2"), Key(3.0, "2"), *answers_survey_when_asked("5", from_s=3.5)]
        pcap = write_timeline(tmp_path / "caller.pcap", timeline)
        script = tmp_path / "caller.xml"
        script.write_text(
            (HERE / "caller_ivr_queue_survey.xml").read_text().replace("__CALLER_PCAP__", str(pcap))
        )
        caller = subprocess.Popen(
            sipp_command(script, server.sip_port, tmp_path, timeout_s=90),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        contact = str(
            _wait(
                lambda: [
                    c["contact_id"]
                    for c in a006.get("/api/live/agents/a006").json()["contacts"]
                    if c["stage"] == "talking"
                ],
                20,
                "a006 talking to the caller",
            )[0]
        )

        def dumps() -> list[Path]:
            return sorted(set(heard_dir.glob("dump-*-dec.wav")) - dumps_before)

        consult = f"/api/live/agents/a006/contacts/{contact}/consult"
        heard: dict[str, dict[float, float]] = {}
        marks: list[int] = []  # a006's samples heard at each step
        closed = second.types().count("CALL_CLOSED")
        for transfer in (False, True):
            a001.post("/api/live/agents/a001/state", json={"state": "ready"})
            started = a006.post(consult, json={"agent_id": "a001"})
            assert started.status_code == 200, started.text
            expect(card).to_have_attribute("data-call", "ringing", timeout=15_000)
            if not transfer:  # the desk with a consult ringing on the softphone passes axe
                assert serious_violations(page) == []
            page.click("#sp-answer")
            expect(card).to_have_attribute("data-call", "talking", timeout=15_000)
            marks.append(len(heard_so_far(dumps())))
            heard[f"consult {transfer}"] = _browser_hears(page)
            _wait(lambda m=marks[-1]: len(heard_so_far(dumps())) > m + 12_000, 15, "a006 hearing")
            marks.append(len(heard_so_far(dumps())))
            ended = a006.post(f"{consult}/end", json={"transfer": transfer})
            assert ended.status_code == 200, ended.text
            if not transfer:
                expect(page.locator("#sp-call")).to_be_hidden(timeout=15_000)
        _wait(lambda: second.types().count("CALL_CLOSED") > closed, 15, "a006's phone hung up")
        # a001 has the caller: the desk in that state passes axe, the browser hears the
        # caller, and the caller's relay records a001's tone
        expect(card).to_have_attribute("data-call", "talking")
        assert serious_violations(page) == []
        recorded = _recorded_bytes(server.home)
        heard["transferred"] = _browser_hears(page)
        _wait(lambda: _recorded_bytes(server.home) > recorded + 40_000, 15, "a001's audio")
        transferred_at = time.time()
        page.click("#sp-hangup")
        expect(page.locator("#sp-call")).to_be_hidden(timeout=15_000)
        out, err = caller.communicate(timeout=60)  # the survey, then the platform's BYE
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    finally:
        if caller is not None and caller.poll() is None:
            caller.kill()
            caller.communicate(timeout=10)
        a001.close()
        a006.close()
        _leave(page)

    # the two agents heard each other while consulting; a001 heard the caller after
    for when in ("consult False", "consult True"):
        levels = heard[when]
        assert levels[CONSULTED_HZ] > -50 and levels[CALLER_HZ] < levels[CONSULTED_HZ] - 20, heard
    levels = heard["transferred"]
    assert levels[CALLER_HZ] > -50 and levels[CONSULTED_HZ] < levels[CALLER_HZ] - 20, heard
    samples = heard_so_far(dumps())
    consulted = [samples[a:b] for a, b in zip(marks[0::2], marks[1::2], strict=True)]
    for part in consulted:
        assert _level(part, BROWSER_HZ) > 300 and _level(part, CALLER_HZ) < 100, [
            (_level(p, BROWSER_HZ), _level(p, CALLER_HZ)) for p in consulted
        ]

    wanted = {"consult_ended", "survey_answered", "finished", "recording_stopped"}

    def logged() -> list[Any] | None:
        rows = [r for r in server.events() if r.contact_id == contact]
        return rows if wanted <= {r.kind for r in rows} else None

    rows = _wait(logged, 45, "the call's events in the server's database")
    kinds = [r.kind for r in rows]
    assert "alarm" not in kinds, [r.data for r in rows if r.kind == "alarm"]
    assert kinds.count("consult_started") == 2
    assert [r.data["transfer"] for r in rows if r.kind == "consult_ended"] == [False, True]
    [disconnected] = [r for r in rows if r.kind == "disconnected"]
    assert disconnected.agent_id == "a001"  # the caller ended up with a001, who hung up
    # both relays are gone
    assert not _relay_known(server, contact) and not _relay_known(server, f"{contact}~consult")
    # the caller's relay recorded the caller and, after the transfer, a001's browser
    capture = find_pcap(server.home / "telephony/rtpengine/recordings-raw", contact)
    assert capture is not None
    streams = read_rtp_streams(capture)
    after = {
        hz: max(tone_seconds(_samples(s, since=transferred_at - 4), hz) for s in streams)
        for hz in (BROWSER_HZ, CALLER_HZ)
    }
    assert after[BROWSER_HZ] >= 1.0 and after[CALLER_HZ] >= 1.0, after


#: What the desk's page plays (the caller's call and the coach line), measured in the page:
#: every 100 ms the level in dB of each tone's FFT bin, with the wall-clock time.
LISTEN_IN_PAGE = """() => {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 4096;
  analyser.smoothingTimeConstant = 0;
  const bins = new Float32Array(analyser.frequencyBinCount);
  const level = (hz) => {
    const i = Math.round(hz * analyser.fftSize / context.sampleRate);
    return Math.max(bins[i - 1], bins[i], bins[i + 1]);
  };
  const joined = new Map();
  window.heardInPage = [];
  setInterval(() => {
    for (const id of ['sp-audio', 'sp-coach-audio']) {
      const stream = document.getElementById(id).srcObject;
      if (stream && joined.get(id) !== stream) {
        context.createMediaStreamSource(stream).connect(analyser);
        joined.set(id, stream);
      }
    }
    analyser.getFloatFrequencyData(bins);
    window.heardInPage.push([Date.now() / 1000, level(440), level(1000), level(2500)]);
  }, 100);
  return context.resume();
}"""


def test_a_supervisor_coaches_a_browser_agent_on_its_coach_line(
    platform: tuple[Platform, int], chromium: Any, tmp_path: Path
) -> None:
    """ChanSpy's modes on an agent at the browser softphone, switched on one call without
    hanging anyone up: listen, whisper, barge (with the agent muted a while), listen,
    whisper, and stopped from the wallboard. The browser is rung its coach line and mixes;
    in each phase, what the page plays (an AnalyserNode), what the caller was sent (the
    capture) and what the supervisor's phone heard hold each tone exactly where ChanSpy
    says; stopping gives the caller the browser's microphone back. The desk passes axe
    while coached."""
    from playwright.sync_api import expect

    server, _ = platform
    root = tmp_path / "boss"
    root.mkdir()
    voice = root / "boss.wav"
    beep(voice, hz=SUPERVISOR_HZ, seconds=60.0, rate=8000)
    phone = BaresipAgent(
        workdir=root,
        user="2001",
        password=PASSWORD,
        registrar_port=server.sip_port,
        voice=voice,
        slot=2,
        talk_s=120.0,  # the session is stopped from the wallboard
        heard_dir=root / "heard",
    )
    (root / "heard").mkdir()
    phone.start()
    boss, a001, a006 = server.client("boss"), server.client("a001"), server.client("a006")
    caller = None
    try:
        # a006 (free after the first test's transfer, or on the fixture's break) on a break:
        # the call goes to a001, whose page opened last holds the registration
        _wait(
            lambda: a006.get("/api/live/agents/a006").json()["state"] in ("available", "not_ready"),
            20,
            "a006 free",
        )
        a006.post("/api/live/agents/a006/state", json={"state": "not_ready", "reason": "break"})
        page = _desk(chromium, server.url, locale="zh-CN")  # under the desk's own CSP
        card = page.locator("#softphone-card")
        expect(card).to_have_attribute("data-status", "registered", timeout=15_000)
        _wait(
            lambda: a001.get("/api/live/agents/a001").json()["state"] == "available",
            20,
            "a001 available",
        )
        caller = _supervised_caller(server, tmp_path)
        expect(card).to_have_attribute("data-call", "ringing", timeout=20_000)
        page.click("#sp-answer")
        expect(card).to_have_attribute("data-call", "talking")
        page.evaluate(LISTEN_IN_PAGE)
        contact = _wait(
            lambda: page.locator("#desk").get_attribute("data-contact"), 10, "the desk's call"
        )
        route = f"/api/live/calls/{contact}/supervise"

        def dumped() -> int:  # what the supervisor's phone heard so far, in samples
            return sum(max(0, p.stat().st_size - 44) for p in root.glob("heard/dump-*-dec.wav"))

        def in_page() -> int:
            return int(page.evaluate("() => window.heardInPage.length"))

        phases: list[tuple[str, float, int]] = []  # name, wall-clock start, samples dumped

        def phase(name: str) -> None:
            """Mark ``name`` begun, then let two seconds of it be heard (the first to let the
            media move, the second to check)."""
            phases.append((name, time.time(), dumped() // 2))
            mark = in_page()
            _wait(lambda: in_page() >= mark + 20, 15, f"{name} heard in the page")

        started = boss.post(route, json={"mode": "listen"})
        assert started.status_code == 201, started.text
        _wait(lambda: "CALL_ESTABLISHED" in phone.types(), 15, "the supervisor's phone answering")
        _wait(
            lambda: any(
                s["connected"] for s in boss.get("/api/live/supervisions").json()["sessions"]
            ),
            10,
            "the session connected",
        )
        phase("listen")
        assert boss.patch(route, json={"mode": "whisper"}).status_code == 200
        expect(card).to_have_attribute("data-coached", "whisper", timeout=15_000)
        expect(page.locator("#coached")).to_be_visible()
        phase("whisper")
        assert serious_violations(page, under_csp=True) == []  # the desk while coached
        assert boss.patch(route, json={"mode": "barge"}).status_code == 200
        expect(card).to_have_attribute("data-coached", "barge", timeout=10_000)
        phase("barge")
        page.click("#sp-mute")
        expect(page.locator("#sp-muted")).to_be_visible()
        phase("barge, agent muted")
        page.click("#sp-unmute")
        expect(page.locator("#sp-muted")).to_be_hidden()
        assert boss.patch(route, json={"mode": "listen"}).status_code == 200
        expect(card).not_to_have_attribute("data-coached", re.compile("."), timeout=10_000)
        phase("listen again")
        assert boss.patch(route, json={"mode": "whisper"}).status_code == 200
        expect(card).to_have_attribute("data-coached", "whisper", timeout=15_000)
        assert boss.delete(route).status_code == 200  # stopped while coached
        expect(card).not_to_have_attribute("data-coached", re.compile("."), timeout=10_000)
        expect(page.locator("#coached")).to_be_hidden()
        phase("stopped")
        phases.append(("", time.time(), dumped() // 2))
        assert phone.types().count("CALL_ESTABLISHED") == 1  # one call of the supervisor's
        _wait(lambda: "CALL_CLOSED" in phone.types(), 10, "the supervisor's phone hung up")
        expect(card).to_have_attribute("data-call", "talking")  # nobody else hung up
        page.click("#sp-hangup")
        out, err = caller.communicate(timeout=60)  # the survey, then the platform's BYE
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
        heard_in_page = page.evaluate("() => window.heardInPage")
        _leave(page)
    finally:
        if caller is not None and caller.poll() is None:
            caller.kill()
            caller.communicate(timeout=10)
        for client in (boss, a001, a006):
            client.close()
        phone.stop()

    pcap = _wait(
        lambda: find_pcap(server.home / "telephony/rtpengine/recordings-raw", contact),
        20,
        "the call's capture",
    )
    _wait(
        lambda: [r for r in server.events() if r.contact_id == contact and r.kind == "finished"],
        30,
        "the call finished",
    )
    streams = read_rtp_streams(pcap)
    supervisor_heard = _wav_samples(sorted(root.glob("heard/dump-*-dec.wav")))
    table = {}
    for (name, at, sample), (_, until, until_sample) in itertools.pairwise(phases):
        # from a second after the switch (the media moving) to the next
        page_db = [row for row in heard_in_page if at + 1.0 <= row[0] < until]
        by_browser = {
            hz: float(np.median([row[i] for row in page_db]))
            for i, hz in enumerate((CALLER_HZ, BROWSER_HZ, SUPERVISOR_HZ), start=1)
        }
        by_caller = _levels(_heard_by_caller(streams, at + 1.0, until))
        heard = supervisor_heard[sample + 8000 : until_sample]
        by_supervisor = _levels(heard) if len(heard) else {}  # (none once stopped)
        table[name] = (by_browser, by_caller, by_supervisor)
    print("\nwho heard what: the page in dB, the caller and the supervisor in amplitude")
    for name, (b, c, v) in table.items():
        print(
            f"{name:19} page 440 {b[CALLER_HZ]:6.1f} 2500 {b[SUPERVISOR_HZ]:6.1f} | caller 1000"
            f" {c[BROWSER_HZ]:5.0f} 2500 {c[SUPERVISOR_HZ]:5.0f} | supervisor"
            f" 440 {v.get(CALLER_HZ, 0):5.0f} 1000 {v.get(BROWSER_HZ, 0):5.0f}"
            f" 2500 {v.get(SUPERVISOR_HZ, 0):5.0f}"
        )
    # ChanSpy: the supervisor is heard by nobody in listen, by the agent in whisper, by both
    # in barge. The page plays a tone at about -25 dB and an absent one under -95 dB; the
    # caller and the supervisor hear a tone at 1,300 to 10,000 and an absent one under 40.
    hears_supervisor = {
        name: (page[SUPERVISOR_HZ] > -50, caller[SUPERVISOR_HZ] > 300)
        for name, (page, caller, _) in table.items()
    }
    assert hears_supervisor == {
        "listen": (False, False),
        "whisper": (True, False),
        "barge": (True, True),
        "barge, agent muted": (True, True),
        "listen again": (False, False),
        "stopped": (False, False),
    }, table
    for name, (in_page_db, by_caller, by_supervisor) in table.items():
        spoken = hears_supervisor[name]
        assert in_page_db[SUPERVISOR_HZ] > -50 if spoken[0] else in_page_db[SUPERVISOR_HZ] < -80
        assert by_caller[SUPERVISOR_HZ] > 300 if spoken[1] else by_caller[SUPERVISOR_HZ] < 100
        assert in_page_db[CALLER_HZ] > -50, (name, table)  # the agent hears the caller throughout
        muted = name == "barge, agent muted"
        # the caller hears the agent, but not muted (the browser's microphone again once the
        # session stopped: its sender's track given back)
        assert by_caller[BROWSER_HZ] < 100 if muted else by_caller[BROWSER_HZ] > 300, name
        if name == "stopped":
            continue
        # the supervisor hears the caller and the agent (not muted), never themselves
        assert by_supervisor[CALLER_HZ] > 300, (name, table)
        assert by_supervisor[BROWSER_HZ] < 100 if muted else by_supervisor[BROWSER_HZ] > 300
        assert by_supervisor[SUPERVISOR_HZ] < 100, (name, table)


def test_a_browser_agent_consults_another_browser_and_hands_the_caller_over_two_relays(
    platform: tuple[Platform, int], chromium: Any, tmp_path: Path
) -> None:
    """a001 and a006 both on the browser (work from home): a001 has the caller and consults
    a006 from the softphone. a001's consult line and a006's browser sit on two relays chained
    plain to plain; the transfer chains the caller's relay to a006's (nobody moves). Each
    agent hears the other while they consult, a006 hears the caller after the transfer, the
    capture holds the caller and a006, and every relay is gone at the end. The desk passes
    axe while consulting."""
    from playwright.sync_api import expect

    server, _ = platform
    # a006's desk phone leaves: its browser takes a006's SIP user (the last REGISTER wins,
    # and baresip would register again within a minute)
    assert server.second is not None
    server.second.stop()
    microphone = tmp_path / "a006.wav"
    beep(microphone, hz=CONSULTED_HZ, seconds=10.0, rate=48000)
    other = chromium.browser_type.launch(
        executable_path=CHROMIUM, args=_chromium_args(microphone), headless=True
    )
    a001, a006 = server.client("a001", PASSWORD), server.client("a006", PASSWORD)
    caller: subprocess.Popen[bytes] | None = None
    pages: list[Any] = []
    relays: list[str] = []
    try:
        first = _desk(chromium, server.url, locale="zh-CN")  # the desk's own CSP
        second = _desk(other, server.url, locale="en", agent="a006")
        pages += [first, second]
        card, card2 = first.locator("#softphone-card"), second.locator("#softphone-card")
        expect(card).to_have_attribute("data-status", "registered", timeout=15_000)
        expect(card2).to_have_attribute("data-status", "registered", timeout=15_000)
        # a006 on a break (its registration made it ready); the caller reaches a001
        _wait(
            lambda: (
                a006.post(
                    "/api/live/agents/a006/state", json={"state": "not_ready", "reason": "break"}
                ).is_success
                and a006.get("/api/live/agents/a006").json()["state"] == "not_ready"
            ),
            20,
            "a006 on a break",
        )
        _wait(
            lambda: a001.get("/api/live/agents/a001").json()["state"] == "available",
            40,
            "a001 free after the last call",
        )
        timeline = [Key(0.5, "2"), Key(3.0, "2"), *answers_survey_when_asked("5", from_s=3.5)]
        pcap = write_timeline(tmp_path / "caller.pcap", timeline)
        script = tmp_path / "caller.xml"
        script.write_text(
            (HERE / "caller_ivr_queue_survey.xml").read_text().replace("__CALLER_PCAP__", str(pcap))
        )
        caller = subprocess.Popen(
            sipp_command(script, server.sip_port, tmp_path, timeout_s=90),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        expect(card).to_have_attribute("data-call", "ringing", timeout=20_000)
        first.click("#sp-answer")
        expect(card).to_have_attribute("data-call", "talking")
        contact = str(
            _wait(lambda: first.locator("#desk").get_attribute("data-contact"), 10, "the call")
        )
        relays += [contact, f"{contact}~consult", f"{contact}~consult~browser"]
        assert a006.post("/api/live/agents/a006/state", json={"state": "ready"}).is_success
        first.fill("#sp-target", "a006")
        first.click("#sp-consult")
        expect(card2).to_have_attribute("data-call", "ringing", timeout=15_000)
        second.click("#sp-answer")
        expect(card2).to_have_attribute("data-call", "talking", timeout=15_000)
        expect(card).to_have_attribute("data-consult", "talking", timeout=15_000)
        # the desk while consulting passes axe (zh-CN, under its own CSP)
        assert serious_violations(first, under_csp=True) == []
        heard = {"a001 consulting": _browser_hears(first), "a006 consulted": _browser_hears(second)}
        first.click("#sp-consult-complete")
        expect(first.locator("#sp-call")).to_be_hidden(timeout=15_000)  # both a001's calls end
        expect(card2).to_have_attribute("data-call", "talking")
        _wait(lambda: not _relay_known(server, relays[1]), 10, "the consult line's relay gone")
        recorded = _recorded_bytes(server.home)
        heard["a006 transferred"] = _browser_hears(second)
        _wait(lambda: _recorded_bytes(server.home) > recorded + 40_000, 15, "a006's audio")
        transferred_at = time.time()
        second.click("#sp-hangup")
        expect(second.locator("#sp-call")).to_be_hidden(timeout=15_000)
        out, err = caller.communicate(timeout=60)  # the survey, then the platform's BYE
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    finally:
        if caller is not None and caller.poll() is None:
            caller.kill()
            caller.communicate(timeout=10)
        a001.close()
        a006.close()
        for page in pages:
            _leave(page)
        other.close()

    # each agent heard the other while consulting (not the caller); a006 the caller after
    levels = heard["a001 consulting"]
    assert levels[CONSULTED_HZ] > -50 and levels[CALLER_HZ] < levels[CONSULTED_HZ] - 20, heard
    levels = heard["a006 consulted"]
    assert levels[BROWSER_HZ] > -50 and levels[CALLER_HZ] < levels[BROWSER_HZ] - 20, heard
    levels = heard["a006 transferred"]
    assert levels[CALLER_HZ] > -50 and levels[BROWSER_HZ] < levels[CALLER_HZ] - 20, heard

    wanted = {"consult_ended", "survey_answered", "finished", "recording_stopped"}

    def logged() -> list[Any] | None:
        rows = [r for r in server.events() if r.contact_id == contact]
        return rows if wanted <= {r.kind for r in rows} else None

    rows = _wait(logged, 45, "the call's events in the server's database")
    kinds = [r.kind for r in rows]
    assert "alarm" not in kinds, [r.data for r in rows if r.kind == "alarm"]
    assert kinds.count("consult_started") == 1
    assert [r.data["transfer"] for r in rows if r.kind == "consult_ended"] == [True]
    [disconnected] = [r for r in rows if r.kind == "disconnected"]
    assert disconnected.agent_id == "a006"  # the caller ended up with a006, who hung up
    assert [relay for relay in relays if _relay_known(server, relay)] == []
    # the caller's relay recorded the caller and, after the transfer, a006's browser
    capture = find_pcap(server.home / "telephony/rtpengine/recordings-raw", contact)
    assert capture is not None
    streams = read_rtp_streams(capture)
    after = {
        hz: max(tone_seconds(_samples(s, since=transferred_at - 4), hz) for s in streams)
        for hz in (CONSULTED_HZ, CALLER_HZ)
    }
    assert after[CONSULTED_HZ] >= 1.0 and after[CALLER_HZ] >= 1.0, after
