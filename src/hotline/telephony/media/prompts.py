"""Voice prompts: generated at set-up with espeak-ng and sox, or supplied by the center.

Prompts live in ``<prompts>/<language>/<prompt id>.wav`` as 8 kHz mono 16-bit PCM — the
sampling rate of the G.711 codecs (PCMU/PCMA) our calls use, so rtpengine only encodes,
never resamples. A center replaces any file with a recorded one of the same name.

>>> [p for p in ("closed", "safe_message", "nuisance_notice") if p in PROMPT_TEXTS["en"]]
['closed', 'safe_message', 'nuisance_notice']
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from hotline.config.tones import RingbackTone
from hotline.telephony.media.numbers import NUMBER_TEXTS

# espeak-ng voice per language tag
VOICES = {"zh-CN": "cmn", "en": "en-us"}

PROMPT_TEXTS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "language": "普通话请按一。For English, press two.",
        "welcome": "欢迎致电家电服务热线。",
        "menu_main": "报修请按一，安装预约请按二，投诉请按三。",
        "enter_serial": "请输入产品序列号，以井号键结束。",
        "invalid": "输入有误。",
        "no_input": "我们没有收到您的输入。",
        "transfer": "正在为您转接客服。",
        "closed": "现在是非工作时间，请在工作时间再来电。再见。",
        "emergency": "紧急通知：部分地区服务受到影响，我们正在处理。",
        "survey": "请为本次服务评分，一分最低，五分最高。",
        "survey_thanks": "感谢您的评价，再见。",
        "queue_comfort": "您的来电对我们很重要，请稍候。",
        "recording_notice": "本次通话可能会被录音。",
        "callback_offer": "如需回电，请按一，我们会保留您的排队位置并给您回电。",
        "callback_confirmed": "好的，坐席空闲时我们会给您回电。再见。",
        "voicemail_greeting": "现在无法接听您的来电，请在提示音后留言，说完后挂机即可。",
        "nuisance_notice": "您的号码已被限制呼入本热线。再见。",
        # The dialler's safe message to a person it could not connect (an abandoned call).
        "safe_message": (
            "您好，这里是家电服务热线。很抱歉现在没有客服可以接听，今天不会再次打扰您。再见。"
        ),
    },
    "en": {
        "language": "普通话请按一。For English, press two.",
        "welcome": "Welcome to the appliance service hotline.",
        "menu_main": (
            "For repairs press one. For installation press two. For complaints press three."
        ),
        "enter_serial": "Please enter the serial number, then press hash.",
        "invalid": "Sorry, that is not a valid choice.",
        "no_input": "We did not receive your input.",
        "transfer": "Connecting you to an agent.",
        "closed": "We are closed now. Please call again during business hours. Goodbye.",
        "emergency": "Notice: service is affected in some areas. We are working on it.",
        "survey": "Please rate our service from one, the lowest, to five, the highest.",
        "survey_thanks": "Thank you for your rating. Goodbye.",
        "queue_comfort": "Your call is important to us. Please hold.",
        "recording_notice": "This call may be recorded for quality and training.",
        "callback_offer": ("To be called back without losing your place in the queue, press one."),
        "callback_confirmed": "Thank you. We will call you back when an agent is free. Goodbye.",
        "voicemail_greeting": (
            "No one can take your call now. Please leave a message after the tone, then hang up."
        ),
        "nuisance_notice": "Calls from your number cannot reach this hotline. Goodbye.",
        "safe_message": (
            "Hello, this is the appliance service hotline. Sorry, no agent is free to take this "
            "call. We will not call again today. Goodbye."
        ),
    },
}

# The words queue announcements speak numbers with (position, estimated wait).
for _language, _texts in NUMBER_TEXTS.items():
    PROMPT_TEXTS[_language].update(_texts)

MUSIC_ON_HOLD = "music_on_hold"
BEEP = "beep"
RECORDING_NOTICE = "recording_notice"
SAFE_MESSAGE = "safe_message"


def prompt_path(root: Path, language: str, prompt: str) -> Path:
    """Where the audio for ``prompt`` in ``language`` lives (falls back to any language)."""
    path = root / language / f"{prompt}.wav"
    if path.exists():
        return path
    for other in sorted(root.iterdir()) if root.exists() else []:
        candidate = other / f"{prompt}.wav"
        if candidate.exists():
            return candidate
    return path


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (run scripts/telephony-setup.sh)")
    return found


def synthesize(text: str, language: str, target: Path, *, speed: int = 190) -> None:
    """Speak ``text`` with espeak-ng and convert it with sox to 8 kHz mono 16-bit PCM."""
    target.parent.mkdir(parents=True, exist_ok=True)
    raw = target.with_suffix(".raw.wav")
    subprocess.run(
        [_tool("espeak-ng"), "-v", VOICES[language], "-s", str(speed), "-w", str(raw), text],
        check=True,
        capture_output=True,
    )
    convert(raw, target)
    raw.unlink()


def convert(source: Path, target: Path) -> None:
    """Convert any audio sox reads to the call codec's 8 kHz mono 16-bit PCM WAV."""
    subprocess.run(
        [
            _tool("sox"),
            str(source),
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(target),
        ],
        check=True,
        capture_output=True,
    )


def music_on_hold(target: Path, *, seconds: int = 20) -> None:
    """A gentle arpeggio (C4–E4–G4–E4, half a second each) as default music on hold.

    Written with numpy rather than sox so the file is the same on every machine.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    rate, beat = 8000, 0.5
    notes_hz = [261.63, 329.63, 392.00, 329.63]
    t = np.arange(int(rate * beat)) / rate
    envelope = np.minimum(1.0, np.minimum(t, beat - t) / 0.02)  # 20 ms fade in/out: no clicks
    bar = np.concatenate([0.25 * np.sin(2 * np.pi * hz * t) * envelope for hz in notes_hz])
    repeats = max(1, int(seconds / (beat * len(notes_hz))))
    samples = (np.tile(bar, repeats) * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def beep(target: Path, *, hz: float = 1000.0, seconds: float = 0.4, rate: int = 8000) -> None:
    """The tone before a voicemail message: a sine of ``hz`` with 10 ms fades (longer, it
    is the test microphone of the browser softphone's tests and benchmark)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * seconds)) / rate
    envelope = np.minimum(1.0, np.minimum(t, seconds - t) / 0.01)
    samples = (0.4 * np.sin(2 * np.pi * hz * t) * envelope * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def ringback(target: Path, tone: RingbackTone, *, rate: int = 8000) -> Path:
    """One cycle of the ringback ``tone`` (:mod:`hotline.config.tones`: China's 450 Hz, 1 s
    on and 4 s off by default) as 8 kHz mono 16-bit PCM; rtpengine repeats it while the far
    end rings. Each burst fades in and out over 5 ms (no clicks); two frequencies sound
    together at half the level each. Written with numpy, as the music on hold is.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    level = 0.35 / len(tone.frequencies_hz)
    parts = []
    for index, seconds in enumerate(tone.cadence_s):
        t = np.arange(round(seconds * rate)) / rate
        if index % 2:  # off
            parts.append(np.zeros(len(t)))
            continue
        envelope = np.minimum(1.0, np.minimum(t, seconds - t) / 0.005)
        burst = sum(np.sin(2 * np.pi * hz * t) for hz in tone.frequencies_hz)
        parts.append(level * burst * envelope)
    samples = (np.concatenate(parts) * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return target


def generate_all(root: Path, *, force: bool = False) -> list[Path]:
    """Generate every prompt in every language plus music on hold; return the files."""
    written: list[Path] = []
    for language, texts in PROMPT_TEXTS.items():
        for prompt, text in texts.items():
            target = root / language / f"{prompt}.wav"
            if force or not target.exists():
                synthesize(text, language, target)
            written.append(target)
    moh = root / "common" / f"{MUSIC_ON_HOLD}.wav"
    if force or not moh.exists():
        music_on_hold(moh)
    written.append(moh)
    tone = root / "common" / f"{BEEP}.wav"
    if force or not tone.exists():
        beep(tone)
    written.append(tone)
    return written
