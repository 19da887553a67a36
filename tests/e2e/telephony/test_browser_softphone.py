"""The desk's browser softphone, end to end: headless Chromium takes a sipp caller's call.

``hotline serve --sip ... --sip-ws-port N`` in a subprocess (uvicorn, sippy with its SIP
WebSocket, a userspace rtpengine). Agent a001 signs in to the desk in Chromium, whose fake
microphone plays a 1 kHz tone the test wrote (``--use-file-for-fake-audio-capture``); the
desk's softphone (JsSIP from npm) registers over the WebSocket with a001's phone
credentials. A sipp caller dials through the IVR (English, installation) into the queue,
playing a 440 Hz tone; the desk rings, the agent answers with the softphone's button,
talks, puts the caller on hold and back (re-INVITEs over the WebSocket), and hangs up with
its button; the caller rates the call. The call's recording then
holds the browser's 1 kHz in one channel and the caller's 440 Hz in the other: the audio
went browser → DTLS-SRTP → rtpengine → plain RTP and back. Last, the desk with its softphone
passes axe-core in English (the call ran in zh-CN).

Runs with ``HOTLINE_E2E=1`` (``make test`` sets it).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
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
from hotline.telephony.media.prompts import beep, generate_all
from hotline.telephony.media.recording import tone_seconds
from tests.e2e.telephony.rtp_pcap import Key, Tone, write_timeline
from tests.e2e.telephony.telephony_peers import (
    HERE,
    free_port,
    require_tools,
    sipp_command,
)
from tests.e2e.telephony.test_one_engine import Platform, _wait, serve_sip
from tests.e2e.web.accessibility import serious_violations
from tests.e2e.web.test_console import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e
PASSWORD = "agent-secret-1"
BROWSER_HZ, CALLER_HZ = 1000.0, 440.0


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, int]]:
    require_tools()
    root = tmp_path_factory.mktemp("softphone")
    home = root / "home"
    prompts = root / "prompts"
    generate_all(prompts)
    phones = root / "phones.yaml"
    phones.write_text(f"- {{agent: a001, user: '1001', password: '{PASSWORD}'}}\n")
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
        session.add(
            User(
                username="a001",
                display_name="a001",
                password_hash=hash_password(PASSWORD),
                roles=["agent"],
                agent_id="a001",
                language="zh-CN",
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
        yield Platform(f"http://127.0.0.1:{port}", sip_port, home, 0, process), ws_port


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    microphone = tmp_path_factory.mktemp("microphone") / "tone.wav"
    beep(microphone, hz=BROWSER_HZ, seconds=10.0, rate=48000)  # Chromium loops it
    args = [
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
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        yield browser
        browser.close()


def _desk(browser: Any, url: str, *, locale: str, bypass_csp: bool = False) -> Any:
    context = browser.new_context(
        viewport={"width": 1366, "height": 1000}, locale=locale, bypass_csp=bypass_csp
    )
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", "a001")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/console")
    page.goto(f"{url}/desk?lang={'en' if locale == 'en' else 'zh-CN'}")
    return page


def _recorded_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("telephony/rtpengine/recordings-raw/pcaps/*"))


def test_the_browser_answers_a_caller_from_the_queue_and_the_recording_holds_its_audio(
    platform: tuple[Platform, int], chromium: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server, _ = platform
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

    pcap = write_timeline(
        tmp_path / "caller.pcap",
        [Key(0.5, "2"), Key(3.0, "2"), Tone(3.5, 11.5, CALLER_HZ), Key(16.0, "4")],
    )
    script = tmp_path / "caller.xml"
    script.write_text(
        (HERE / "caller_ivr_queue_survey.xml").read_text().replace("__CALLER_PCAP__", str(pcap))
    )
    caller = subprocess.Popen(
        sipp_command(script, server.sip_port, tmp_path, timeout_s=40),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        expect(card).to_have_attribute("data-call", "ringing", timeout=20_000)
        expect(page.locator("#sp-caller")).to_have_text(re.compile(r"^1380000"))
        page.click("#sp-answer")
        expect(card).to_have_attribute("data-call", "talking")
        # a few seconds of both sides' audio in the call's capture, then the agent hangs up
        recorded = _recorded_bytes(server.home)
        _wait(lambda: _recorded_bytes(server.home) > recorded + 80_000, 15, "audio recorded")
        # hold and resume from the softphone: re-INVITEs over the WebSocket; the caller
        # hears music meanwhile and the engine counts the hold
        page.click("#sp-hold")
        expect(card).to_have_attribute("data-call", "held")
        page.click("#sp-unhold")
        expect(card).to_have_attribute("data-call", "talking")
        page.click("#sp-hangup")
        expect(page.locator("#sp-call")).to_be_hidden()
        out, err = caller.communicate(timeout=40)  # the survey, then the platform's BYE
        assert caller.returncode == 0, out.decode()[-2000:] + err.decode()[-2000:]
    finally:
        if caller.poll() is None:
            caller.kill()

    wanted = {"answered", "held", "resumed", "survey_answered", "finished", "recording_stopped"}

    def logged() -> list[Any] | None:
        rows = server.events()
        return rows if wanted <= {r.kind for r in rows} else None

    rows = _wait(logged, 45, "the call's events in the server's database")
    [answered] = [r for r in rows if r.kind == "answered"]
    assert answered.agent_id == "a001"
    assert "alarm" not in {r.kind for r in rows}  # rtpengine took every command
    [survey] = [r for r in rows if r.kind == "survey_answered"]
    assert survey.data["score"] == 4
    [recording] = [r for r in rows if r.kind == "recording_stopped"]
    with wave.open(str(recording.data["path"])) as wav:
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    # one channel is the browser's microphone (1 kHz), the other the caller (440 Hz)
    browser = [tone_seconds(frames[:, channel], BROWSER_HZ) for channel in (0, 1)]
    caller_side = [tone_seconds(frames[:, channel], CALLER_HZ) for channel in (0, 1)]
    channel = int(np.argmax(browser))
    assert browser[channel] >= 1.0, (browser, caller_side)  # a second and more of the browser
    assert browser[1 - channel] == 0, (browser, caller_side)  # and only in its own channel
    assert caller_side[1 - channel] >= 1.0, (browser, caller_side)  # the caller in the other


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
