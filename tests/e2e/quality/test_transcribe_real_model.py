"""A recording transcribed by the real model: faster-whisper with the installed Whisper "base".

A stereo 8 kHz call like the voice server's (caller left, agent right) is made of speech of
known text (espeak-ng, through the prompts' synthesizer) and goes through the same pipeline as
``hotline quality transcribe``: the legs split and resampled, each heard by the model (int8,
VAD, temperature 0), the checks run on the two legs. English, because espeak-ng's Mandarin is
not intelligible enough to Whisper to say anything (see ``bench/asr.py``).

Runs with ``HOTLINE_E2E=1`` (``make test``, whose install step ``scripts/speech_model.py``
assembles the model into ``var/models/whisper-base``); there a missing model is a failure.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from hotline.config.evaluation import SpeechChecks
from hotline.quality import transcription
from hotline.telephony.media.prompts import synthesize

pytestmark = pytest.mark.e2e


def _mono(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")


def test_the_real_model_hears_each_party_on_its_own_leg(tmp_path: Path) -> None:
    if os.environ.get("HOTLINE_E2E") != "1":
        pytest.skip("end-to-end tests run with HOTLINE_E2E=1 (make test sets it)")
    if not (transcription.DEFAULT_MODEL / "model.bin").is_file():
        pytest.fail("HOTLINE_E2E=1 but no speech model: run scripts/speech_model.py")
    synthesize("Hello, thank you for calling.", "en", tmp_path / "agent.wav")
    synthesize("My washing machine is broken.", "en", tmp_path / "caller.wav")
    agent_audio, caller_audio = _mono(tmp_path / "agent.wav"), _mono(tmp_path / "caller.wav")
    gap = 8000  # 1 s at 8 kHz: the caller answers after the agent
    frames = np.zeros((len(agent_audio) + gap + len(caller_audio), 2), dtype="<i2")
    frames[: len(agent_audio), 1] = agent_audio
    frames[len(agent_audio) + gap :, 0] = caller_audio
    call = tmp_path / "call.wav"
    with wave.open(str(call), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(frames.tobytes())

    model = transcription.WhisperTranscriber(transcription.DEFAULT_MODEL, language="en")
    rules = SpeechChecks(greeting=["hello"], closing=["goodbye"], forbidden=["broken"])
    heard = transcription.transcribe_recording(model, call, rules)

    said = [(u.channel, transcription.search_key(u.text)) for u in heard.utterances]
    assert [channel for channel, _ in said] == ["agent", "caller"], said
    assert "thankyouforcalling" in said[0][1]
    assert "washingmachine" in said[1][1]
    assert heard.utterances[1].start >= len(agent_audio) / 8000  # the caller's own time
    # greeted, never closed; "broken" was the caller's word, not the agent's
    assert [flag.kind for flag in heard.flags] == ["closing_missing"]
