"""``hotline serve --sip`` builds its voice server from the command line's options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from hotline.cli.platform import _live_voice
from hotline.config.validate import load_center
from hotline.live.driver import LiveDriver
from hotline.telephony.joined import LiveVoice
from hotline.telephony.media.prompts import RECORDING_NOTICE
from hotline.telephony.server import SAMPLE_CENTER


def voice(tmp_path: Path, **overrides: Any) -> LiveVoice:
    (tmp_path / "prompts" / "common").mkdir(parents=True, exist_ok=True)
    phones = tmp_path / "phones.yaml"
    phones.write_text("- {agent: a001, user: '1001', password: secret-1}\n")
    options: dict[str, Any] = {
        "home": tmp_path / "home",
        "sip": "127.0.0.1:5070",
        "phones": phones,
        "prompts": tmp_path / "prompts",
        "trunk": "",
        "ng": "127.0.0.1:22299",
        "dtmf_port": 22300,
        "rtp_ports": "40000-40999",
        "flow": None,
        "timezone": "Asia/Shanghai",
        "recording_notice": "recording_notice",
    }
    options.update(overrides)
    built: LiveVoice = _live_voice(LiveDriver(center=load_center(SAMPLE_CENTER)), **options)
    return built


def test_the_recording_notice_is_played_unless_switched_off(tmp_path: Path) -> None:
    assert voice(tmp_path).options.recording_notice == RECORDING_NOTICE
    silent = voice(tmp_path, recording_notice="")
    assert silent.options.recording_notice is None


def test_a_phone_of_an_agent_outside_the_center_is_refused(tmp_path: Path) -> None:
    phones = tmp_path / "other.yaml"
    phones.write_text("- {agent: nobody, user: '1001', password: secret-1}\n")
    with pytest.raises(typer.Exit):
        voice(tmp_path, phones=phones)
