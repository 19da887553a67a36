"""The center file's ringback tone: China's by default, another country's when written, each
broken rule located at its line; and the tone file the voice server plays from it."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from hotline.config.tones import RingbackTone
from hotline.config.validate import check_text
from hotline.telephony.media.prompts import ringback
from hotline.telephony.media.recording import tone_seconds


def test_the_default_is_chinas_ring_tone_and_another_countrys_can_be_written() -> None:
    plain = check_text("center: {name: One site}\n", file="center.yaml")
    assert plain.ok and plain.config is not None
    assert plain.config.ringback == RingbackTone(frequencies_hz=[450.0], cadence_s=[1.0, 4.0])
    uk = (
        "center: {name: One site}\n"
        "ringback: {frequencies_hz: [400, 450], cadence_s: [0.4, 0.2, 0.4, 2]}\n"
    )
    result = check_text(uk, file="center.yaml")
    assert result.ok and result.config is not None
    assert result.config.ringback.cycle_s == 3.0


def test_a_broken_ringback_is_located_with_the_rule_it_breaks() -> None:
    text = """\
center: {name: One site}
ringback:
  frequencies_hz: [450, 5000]
  cadence_s: [1.0, 4.0, 1.0]
"""
    result = check_text(text, file="center.yaml")
    found = sorted((p.line, p.field, p.rule) for p in result.errors)
    assert [(line, field) for line, field, _ in found] == [
        (3, "ringback.frequencies_hz"),
        (4, "ringback.cadence_s"),
    ]
    assert "5000 Hz is outside the telephone band 100-3400 Hz" in found[0][2]
    assert "even number of steps (got 3)" in found[1][2]
    silent = check_text(
        "center: {name: One site}\nringback: {cadence_s: [0, 4]}\n", file="center.yaml"
    )
    assert [p.field for p in silent.errors] == ["ringback.cadence_s"]
    assert "each step lasts 0.05 to 10 s" in silent.errors[0].rule


def test_the_tone_file_holds_one_cycle_sounding_only_while_on(tmp_path: Path) -> None:
    path = ringback(tmp_path / "ringback.wav", RingbackTone())
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 8000, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert len(samples) == 5 * 8000  # 1 s on, 4 s off
    assert tone_seconds(samples, 450.0) == 1.0
    assert np.abs(samples[8000:]).max() == 0  # silent while off
