"""Benchmark: speech-to-text accuracy (character error rate) and speed (real-time factor).

The transcriber is the one ``hotline quality transcribe`` runs
(:class:`hotline.quality.transcription.WhisperTranscriber`: faster-whisper, Whisper "base",
int8 on the CPU, VAD on, temperature 0, output converted to simplified characters), over
clips at 8 kHz telephone quality read through the recordings' reader
(:func:`~hotline.quality.transcription.read_legs`, resampled to 16 kHz as a call's leg is).

**The speech is synthetic.** No openly licensed Mandarin recordings with transcripts could be
found in a package of the registries this project may use, so the clips are spoken by
espeak-ng: Mandarin through its pinyin voice (the text turned into tone-numbered pinyin by
pypinyin), and a few English sentences as a check that the pipeline hears intelligible
speech. ``cer`` is therefore the error rate on espeak-ng's robotic Mandarin, which Whisper
often takes for noise: **it is not a measure of accuracy on real callers' speech, which is
unmeasured**; the JSON says ``"synthetic": true``.

CER is jiwer's (characters of the simplified text without spaces or punctuation; English
lower-cased). RTF is transcription time ÷ audio duration on this machine (model loading
excluded; wall-clock, so a busy shared machine inflates it); ``rtf_cpu`` is the CPU time the
process spent (all threads) ÷ audio duration. The peer is the same model at CTranslate2's
float32: ``rtf_ratio`` is int8 ÷ float32 (below 1: int8 is faster) and ``cer_float32`` its
error rate on the same clips.

    .venv/bin/python scripts/speech_model.py      # the model, once (var/models/whisper-base)
    .venv/bin/python bench/asr.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import jiwer
from pypinyin import Style, lazy_pinyin
from rich.console import Console
from rich.progress import Progress

from hotline.config.evaluation import phrase_key
from hotline.quality.transcription import (
    DEFAULT_MODEL,
    WhisperTranscriber,
    read_legs,
    simplified,
)

MANDARIN = [
    "您好，欢迎致电家电服务热线，请问有什么可以帮您？",
    "我家的洗衣机不能脱水了，一直显示错误代码。",
    "请您提供一下产品的序列号，我帮您查询保修期。",
    "师傅明天上午九点到十二点之间上门维修。",
    "本次通话可能会被录音，感谢您的理解。",
    "空调不制冷，外机也不转，已经两天了。",
    "您的工单已经提交，稍后会有短信通知您。",
    "感谢您的来电，祝您生活愉快，再见。",
]
ENGLISH = [
    "Thank you for calling the service hotline, how can I help you today?",
    "My washing machine stopped spinning and shows an error code.",
    "This call may be recorded for quality and training purposes.",
]
console = Console(stderr=True)


def synthesize(text: str, language: str, target: Path) -> Path:
    """``text`` spoken by espeak-ng, as an 8 kHz mono 16-bit WAV (telephone quality)."""
    raw = target.with_suffix(".raw.wav")
    if language == "zh":
        voice = "cmn-latn-pinyin"
        spoken = " ".join(
            syllable if syllable[-1].isdigit() else f"{syllable}5"
            for syllable in lazy_pinyin(text, style=Style.TONE3, errors="ignore")
        )
    else:
        voice, spoken = "en-us", text
    subprocess.run(
        [
            shutil.which("espeak-ng") or "espeak-ng",
            "-v",
            voice,
            "-s",
            "140",
            "-w",
            str(raw),
            spoken,
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def normalise(text: str) -> str:
    """What CER compares: simplified, no spaces or punctuation, lower case."""
    return phrase_key(simplified(text))


def run(
    transcriber: WhisperTranscriber,
    clips: list[tuple[Path, str, str]],
    progress: Progress,
    label: str,
) -> dict[str, float]:
    """Transcribe every clip; CER per language and the RTF over all of them."""
    task = progress.add_task(label, total=len(clips))
    audio_s = busy_s = cpu_s = 0.0
    heard: dict[str, list[tuple[str, str]]] = {"zh": [], "en": []}
    for path, language, reference in clips:
        legs, seconds = read_legs(path)
        transcriber.language = language
        started, cpu = time.perf_counter(), time.process_time()
        pieces = transcriber.transcribe(legs["caller"])
        busy_s += time.perf_counter() - started
        cpu_s += time.process_time() - cpu
        audio_s += seconds
        heard[language].append((normalise(reference), normalise(" ".join(p.text for p in pieces))))
        progress.advance(task)
    figures = {"rtf": busy_s / audio_s, "rtf_cpu": cpu_s / audio_s, "audio_s": audio_s}
    for language, pairs in heard.items():
        if pairs:
            refs, hyps = zip(*pairs, strict=True)
            figures[f"cer_{language}"] = float(jiwer.cer(list(refs), list(hyps)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="ASR character error rate and real-time factor")
    parser.add_argument("--quick", action="store_true", help="3 clips (within 2 minutes)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: all)")
    args = parser.parse_args()
    mandarin, english = (MANDARIN[:2], ENGLISH[:1]) if args.quick else (MANDARIN, ENGLISH)
    with tempfile.TemporaryDirectory() as folder:
        clips = [
            (synthesize(text, language, Path(folder) / f"{language}{i}.wav"), language, text)
            for language, texts in (("zh", mandarin), ("en", english))
            for i, text in enumerate(texts)
        ]
        with Progress(console=console, transient=True) as progress:
            int8 = run(
                WhisperTranscriber(args.model, threads=args.threads), clips, progress, "int8"
            )
            float32 = run(
                WhisperTranscriber(args.model, threads=args.threads, compute_type="float32"),
                clips,
                progress,
                "float32 (peer)",
            )
    console.print(f"int8: {int8}\nfloat32: {float32}")
    print(
        json.dumps(
            {
                "cer": round(int8["cer_zh"], 4),
                "rtf": round(int8["rtf"], 3),
                "rtf_cpu": round(int8["rtf_cpu"], 3),
                "clips": len(clips),
                "synthetic": True,
                "cer_note": "espeak-ng Mandarin; accuracy on real speech is unmeasured",
                "cer_en": round(int8["cer_en"], 4),
                "audio_s": round(int8["audio_s"], 1),
                "model": f"faster-whisper:{args.model.name} int8",
                "peer": "the same model at float32",
                "cer_float32": round(float32["cer_zh"], 4),
                "rtf_float32": round(float32["rtf"], 3),
                "rtf_ratio": round(int8["rtf"] / float32["rtf"], 3),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
