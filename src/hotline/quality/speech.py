"""Speech analytics' rules: a call's transcript, the script checks and the two legs' timing.

A voice recording is one stereo WAV per call, the caller on the left channel and the agent on
the right (:mod:`hotline.telephony.media.recording`), so every stretch of speech a
:class:`Transcriber` finds belongs to one party without any speaker diarisation. A
transcript is the two legs' :class:`Utterance` s merged in time order.

:func:`check_call` runs the center's automated checks (``quality.speech``,
:class:`~hotline.config.evaluation.SpeechChecks`) on every transcribed call and returns
:class:`Flag` s: script items missed (greeting, closing, recording notice, the agent's job
number), forbidden phrases said, and silences and over-talk found from the timing. Flags feed
the QA sampling plan (a flagged call is a targeted pick) and are shown beside the player.

Pure: no I/O. Text is compared through :func:`~hotline.config.evaluation.phrase_key`.

>>> from hotline.config.evaluation import SpeechChecks
>>> rules = SpeechChecks(greeting=["您好"], closing=["再见"], forbidden=["不知道"])
>>> call = [Utterance("agent", 0.5, 2.0, "您好，请问有什么可以帮您？"),
...         Utterance("caller", 2.5, 5.0, "我的洗衣机坏了。"),
...         Utterance("agent", 5.5, 7.0, "这个我不知道。")]
>>> [f.kind for f in check_call(call, rules)]
['closing_missing', 'forbidden_phrase']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from hotline.config.evaluation import SpeechChecks, phrase_key

Channel = Literal["caller", "agent"]
# The recording's channel order: left is the caller's leg, right the agent's.
CHANNELS: tuple[Channel, Channel] = ("caller", "agent")
# One leg's audio as a transcriber takes it: mono float samples at 16 kHz.
Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Piece:
    """A stretch of speech a transcriber found on one channel: seconds from the start."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Utterance:
    """A piece of the transcript with the party who spoke it."""

    channel: Channel
    start: float
    end: float
    text: str


class Transcriber(Protocol):
    """Speech to text for one channel: 16 kHz mono float samples in, pieces out.

    ``name`` identifies the model in stored transcripts (which model heard what). The real
    one is :class:`hotline.quality.transcription.WhisperTranscriber`; an operator may plug in
    their own (a sherpa-onnx or FunASR model) through a factory, see
    :func:`hotline.quality.transcription.load_transcriber`.
    """

    name: str

    def transcribe(self, samples: Samples) -> list[Piece]:
        """The speech in ``samples`` (16 000 per second), in time order."""
        ...


def merge_channels(legs: dict[Channel, list[Piece]]) -> list[Utterance]:
    """The legs' pieces as one transcript, in time order (the caller first on a tie).

    >>> merge_channels({"agent": [Piece(0.0, 1.0, "您好")], "caller": [Piece(0.0, 0.8, "喂")]})
    [Utterance(channel='caller', start=0.0, end=0.8, text='喂'), \
Utterance(channel='agent', start=0.0, end=1.0, text='您好')]
    """
    merged = [
        Utterance(channel, piece.start, piece.end, piece.text.strip())
        for channel in CHANNELS
        for piece in legs.get(channel, [])
        if piece.text.strip()
    ]
    return sorted(merged, key=lambda u: (u.start, CHANNELS.index(u.channel), u.end))


@dataclass(frozen=True)
class Flag:
    """One finding of the automated checks: ``kind``, where (seconds, if it has a place) and
    a short detail (the phrase, the length of a silence)."""

    kind: str
    start: float | None = None
    end: float | None = None
    detail: str = ""


def _says(utterances: Iterable[Utterance], phrases: Sequence[str]) -> bool:
    keys = [key for key in (phrase_key(p) for p in phrases) if key]
    said = "".join(phrase_key(u.text) for u in utterances)
    return any(key in said for key in keys)


def check_script(
    transcript: Sequence[Utterance], rules: SpeechChecks, *, job_number: str | None = None
) -> list[Flag]:
    """Script compliance: the items the agent missed and the forbidden phrases said.

    An item with no phrases configured is not checked; the job number is checked only when
    ``rules.job_number`` is on and the agent has one. A forbidden phrase is flagged once per
    utterance that contains it, at that utterance.

    >>> rules = SpeechChecks(recording_notice=["录音"], job_number=True)
    >>> call = [Utterance("caller", 0, 3, "本次通话将被录音"),
    ...         Utterance("agent", 4, 6, "工号 3 5 2 1 为您服务")]
    >>> check_script(call, rules, job_number="3521")
    []
    >>> [f.kind for f in check_script(call, rules, job_number="3522")]
    ['job_number_missing']
    """
    agent = [u for u in transcript if u.channel == "agent"]
    flags: list[Flag] = []
    if rules.greeting:
        first = agent[0].start if agent else 0.0
        opening = [u for u in agent if u.start <= first + rules.greeting_within_s]
        if not _says(opening, rules.greeting):
            flags.append(Flag("greeting_missing"))
    if rules.closing:
        closing = [u for u in agent if u.end >= agent[-1].end - rules.closing_within_s]
        if not _says(closing, rules.closing):
            flags.append(Flag("closing_missing"))
    if rules.recording_notice and not _says(transcript, rules.recording_notice):
        flags.append(Flag("recording_notice_missing"))
    if rules.job_number and job_number and not _says(agent, [job_number]):
        flags.append(Flag("job_number_missing", detail=job_number))
    for utterance in agent:
        said = phrase_key(utterance.text)
        for phrase in rules.forbidden:
            key = phrase_key(phrase)
            if key and key in said:
                flags.append(Flag("forbidden_phrase", utterance.start, utterance.end, phrase))
    return flags


def _intervals(transcript: Sequence[Utterance], channel: Channel) -> list[tuple[float, float]]:
    """A channel's speech as sorted, non-overlapping intervals."""
    merged: list[tuple[float, float]] = []
    for u in sorted((u for u in transcript if u.channel == channel), key=lambda u: u.start):
        if merged and u.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], u.end))
        else:
            merged.append((u.start, u.end))
    return merged


def check_timing(transcript: Sequence[Utterance], rules: SpeechChecks) -> list[Flag]:
    """Silences (neither party speaking for ``silence_s`` between the first and the last
    words) and over-talk (both speaking at once for ``over_talk_s``), from the legs' timing.

    >>> rules = SpeechChecks(silence_s=5, over_talk_s=1)
    >>> call = [Utterance("agent", 0, 4, "a"), Utterance("caller", 2.5, 6, "b"),
    ...         Utterance("agent", 14, 15, "c")]
    >>> check_timing(call, rules)
    [Flag(kind='over_talk', start=2.5, end=4, detail='1.5 s'), \
Flag(kind='silence', start=6, end=14, detail='8.0 s')]
    """
    flags: list[Flag] = []
    caller, agent = _intervals(transcript, "caller"), _intervals(transcript, "agent")
    i = j = 0
    while i < len(caller) and j < len(agent):
        start = max(caller[i][0], agent[j][0])
        end = min(caller[i][1], agent[j][1])
        if end - start >= rules.over_talk_s:
            flags.append(Flag("over_talk", start, end, f"{end - start:.1f} s"))
        if caller[i][1] < agent[j][1]:
            i += 1
        else:
            j += 1
    speech = sorted(caller + agent)
    reached: float | None = None
    for start, end in speech:
        if reached is not None and start - reached >= rules.silence_s:
            flags.append(Flag("silence", reached, start, f"{start - reached:.1f} s"))
        reached = end if reached is None else max(reached, end)
    return sorted(flags, key=lambda f: (f.start or 0.0, f.kind))


def check_call(
    transcript: Sequence[Utterance], rules: SpeechChecks, *, job_number: str | None = None
) -> list[Flag]:
    """All automated checks on one call: the script's, then the timing's."""
    return check_script(transcript, rules, job_number=job_number) + check_timing(transcript, rules)
