"""Spoken numbers for queue announcements: position in queue and estimated wait.

Numbers are built from a few recorded words — ``num_0`` … ``num_19``, the tens and
``num_hundred`` in English; ``num_0`` … ``num_10`` and ``num_hundred`` in Mandarin — played
one after the other, the way IVR platforms have long spoken figures from a small prompt set.
Mandarin composes them by the usual rules: 十一 = 十 一, 二十一 = 二 十 一, 一百零五 =
一 百 零 五 (a zero marks the missing tens), 一百一十五 = 一 百 一 十 五 (after 百 the ten
takes its 一).

>>> number_prompts(42, "en")
['num_40', 'num_2']
>>> number_prompts(42, "zh-CN")
['num_4', 'num_10', 'num_2']
>>> announcement(3, 150.0, "en")
['queue_position', 'num_3', 'queue_wait', 'num_3', 'minutes']

When a call connects, queues that say so announce the agent's job number
(:func:`agent_number_announcement`).
"""

from __future__ import annotations

import math

LARGEST = 999  # positions and minutes beyond this are spoken as 999

_EN_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy"}
_EN_TENS |= {80: "eighty", 90: "ninety"}
_ZH_DIGITS = "零一二三四五六七八九十"

NUMBER_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        **{f"num_{n}": word for n, word in enumerate(_EN_WORDS)},
        **{f"num_{n}": word for n, word in _EN_TENS.items()},
        "num_hundred": "hundred",
        "queue_position": "You are caller number",
        "queue_wait": "Your estimated wait is",
        "minute": "minute.",
        "minutes": "minutes.",
        "agent_number": "Agent number",
        "agent_serving": "is serving you.",
    },
    "zh-CN": {
        **{f"num_{n}": digit for n, digit in enumerate(_ZH_DIGITS)},
        "num_hundred": "百",
        "queue_position": "您现在排在第",
        "queue_position_end": "位。",
        "queue_wait": "预计等待时间",
        "minute": "分钟。",
        "minutes": "分钟。",
        "agent_serving": "号话务员为您服务。",
    },
}


def number_prompts(value: int, language: str) -> list[str]:
    """The prompt ids that speak ``value`` (0 … 999; larger values say 999)."""
    value = max(0, min(int(value), LARGEST))
    if language.startswith("zh"):
        return _mandarin(value)
    return _english(value)


def _english(value: int) -> list[str]:
    if value < 20:
        return [f"num_{value}"]
    if value < 100:
        tens, ones = divmod(value, 10)
        return [f"num_{tens * 10}"] + ([f"num_{ones}"] if ones else [])
    hundreds, rest = divmod(value, 100)
    return [f"num_{hundreds}", "num_hundred"] + (_english(rest) if rest else [])


def _mandarin(value: int) -> list[str]:
    if value <= 10:
        return [f"num_{value}"]
    if value < 20:
        return ["num_10", f"num_{value - 10}"]
    if value < 100:
        tens, ones = divmod(value, 10)
        return [f"num_{tens}", "num_10"] + ([f"num_{ones}"] if ones else [])
    hundreds, rest = divmod(value, 100)
    head = [f"num_{hundreds}", "num_hundred"]
    if rest == 0:
        return head
    if rest < 10:
        return [*head, "num_0", f"num_{rest}"]  # 一百零五
    if rest < 20:
        return [*head, "num_1", "num_10"] + ([f"num_{rest - 10}"] if rest > 10 else [])
    return head + _mandarin(rest)


def wait_minutes(estimated_wait_s: float) -> int:
    """Whole minutes to announce: rounded up, at least one (never promise 'zero minutes')."""
    return max(1, math.ceil(estimated_wait_s / 60))


def announcement(position: int, estimated_wait_s: float | None, language: str) -> list[str]:
    """Prompt ids for "you are caller number N; your estimated wait is M minutes".

    Without an estimate (the engine has none yet) only the position is spoken.
    """
    zh = language.startswith("zh")
    prompts = ["queue_position", *number_prompts(position, language)]
    if zh:
        prompts.append("queue_position_end")
    if estimated_wait_s is not None and estimated_wait_s > 0:
        minutes = wait_minutes(estimated_wait_s)
        prompts += ["queue_wait", *number_prompts(minutes, language)]
        prompts.append("minute" if minutes == 1 and not zh else "minutes")
    return prompts


def agent_number_announcement(job_number: str, language: str) -> list[str]:
    """Prompt ids for "N 号话务员为您服务" / "Agent number N is serving you".

    Job numbers (工号) are read digit by digit, as Chinese centers do (1024: 一零二四), so
    the words ``num_0`` … ``num_9`` of both languages suffice.

    >>> agent_number_announcement("1024", "zh-CN")
    ['num_1', 'num_0', 'num_2', 'num_4', 'agent_serving']
    >>> agent_number_announcement("7", "en")
    ['agent_number', 'num_7', 'agent_serving']
    """
    digits = [f"num_{d}" for d in job_number if d.isdigit()]
    if language.startswith("zh"):
        return [*digits, "agent_serving"]
    return ["agent_number", *digits, "agent_serving"]
