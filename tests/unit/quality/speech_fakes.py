"""A small fake transcriber for the speech-analytics tests, and the WAVs it understands.

:func:`write_call` writes a stereo 8 kHz 16-bit WAV like the voice server's (caller left,
agent right) in which each "utterance" is a stretch of a 300 Hz tone at a loudness that
stands for a line of text (:data:`LINES`). :class:`ToneTranscriber` finds the loud stretches
in the 16 kHz samples it is given and answers with the line its loudness stands for, so a
test sees whether the pipeline split the legs, resampled them and kept their times.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
from scipy.ndimage import maximum_filter1d

from hotline.quality.speech import Piece, Samples

# loudness (peak, in tenths of full scale) -> what was "said"
LINES = {
    1: "您好，欢迎致电服务热线",
    2: "本次通話將被錄音",  # traditional: the pipeline stores it simplified
    3: "我的洗衣机坏了",
    4: "这个不归我管",
    5: "感谢您的来电，再见",
}
RATE = 8000


def write_call(path: Path, seconds: float, lines: list[tuple[str, float, float, int]]) -> Path:
    """A stereo call: each ``(channel, start, end, line)`` a tone on ``caller``/``agent``."""
    audio = np.zeros((round(seconds * RATE), 2), dtype=np.float64)
    for channel, start, end, line in lines:
        index = 0 if channel == "caller" else 1
        t = np.arange(round(start * RATE), round(end * RATE))
        audio[t, index] = line / 10 * np.sin(2 * np.pi * 300 * t / RATE)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes((audio * 32767).astype("<i2").tobytes())
    return path


class ToneTranscriber:
    """Hears :data:`LINES` in the tones :func:`write_call` writes (16 kHz input)."""

    name = "fake:tones"

    def transcribe(self, samples: Samples) -> list[Piece]:
        envelope = maximum_filter1d(np.abs(samples), size=160)  # 10 ms: bridges zero crossings
        loud = np.concatenate(([0], (envelope > 0.02).astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(loud))
        pieces = []
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            peak = float(np.max(np.abs(samples[start:end])))
            pieces.append(Piece(start / 16000, end / 16000, LINES[round(peak * 10)]))
        return pieces


def make() -> ToneTranscriber:
    """The factory ``--model py:tests.unit.quality.speech_fakes:make`` names."""
    return ToneTranscriber()
