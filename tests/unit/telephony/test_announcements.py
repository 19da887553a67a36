"""Position and estimated wait, spoken with number prompts while the caller waits."""

from __future__ import annotations

import asyncio

import pytest

from hotline.telephony.media.numbers import (
    NUMBER_TEXTS,
    announcement,
    number_prompts,
    wait_minutes,
)
from hotline.telephony.media.prompts import PROMPT_TEXTS
from hotline.telephony.ports import AnnounceWait
from tests.unit.telephony.test_call_center import Rig, _to_queue, run


@pytest.mark.parametrize(
    ("value", "english", "mandarin"),
    [
        (0, ["num_0"], ["num_0"]),
        (10, ["num_10"], ["num_10"]),
        (13, ["num_13"], ["num_10", "num_3"]),
        (30, ["num_30"], ["num_3", "num_10"]),
        (57, ["num_50", "num_7"], ["num_5", "num_10", "num_7"]),
        (200, ["num_2", "num_hundred"], ["num_2", "num_hundred"]),
        (305, ["num_3", "num_hundred", "num_5"], ["num_3", "num_hundred", "num_0", "num_5"]),
        (
            118,
            ["num_1", "num_hundred", "num_18"],
            ["num_1", "num_hundred", "num_1", "num_10", "num_8"],
        ),
        (5000, ["num_9", "num_hundred", "num_90", "num_9"], number_prompts(999, "zh-CN")),
    ],
)
def test_numbers_are_spoken_from_a_small_prompt_set(
    value: int, english: list[str], mandarin: list[str]
) -> None:
    assert number_prompts(value, "en") == english
    assert number_prompts(value, "zh-CN") == mandarin


def test_every_number_prompt_has_a_text_to_generate() -> None:
    for language in ("en", "zh-CN"):
        for value in range(1000):
            for prompt in announcement(value, value * 60.0 + 1, language):
                assert prompt in PROMPT_TEXTS[language], (language, value, prompt)
    assert set(NUMBER_TEXTS["en"]) <= set(PROMPT_TEXTS["en"])


def test_wait_is_rounded_up_to_whole_minutes() -> None:
    assert [wait_minutes(s) for s in (1, 59, 60, 61, 600)] == [1, 1, 1, 2, 10]
    assert announcement(4, 90.0, "zh-CN") == [
        "queue_position",
        "num_4",
        "queue_position_end",
        "queue_wait",
        "num_2",
        "minutes",
    ]
    assert announcement(1, 30.0, "en")[-2:] == ["num_1", "minute"]
    assert announcement(2, None, "en") == ["queue_position", "num_2"]


def test_the_driver_plays_the_announcement_then_the_music() -> None:
    async def scenario(rig: Rig) -> None:
        await _to_queue(rig)  # English, nobody logged in: the caller waits
        rig.center.route([AnnounceWait(rig.contact, 12, 130.0)])  # as the ACD decides
        await rig.settle(0.2)
        rig.center.hung_up("in-1")

    rig = run(scenario)
    played = rig.media.played(rig.contact)
    assert played[-7:] == [
        "queue_comfort",
        "queue_position",
        "num_12",
        "queue_wait",
        "num_3",  # 130 s: three minutes, rounded up
        "minutes",
        "music_on_hold",
    ]


def test_an_agent_ringing_cuts_the_announcement_short() -> None:
    async def scenario(rig: Rig) -> None:
        rig.media.duration_ms = 100
        await _to_queue(rig)
        rig.center.route([AnnounceWait(rig.contact, 12, 130.0)])
        await asyncio.sleep(0.15)  # comfort message played, position being spoken
        rig.center.registration_changed("1001", "sip:1001@127.0.0.1:5071")  # rings at once
        await rig.settle(0.3)
        rig.center.hung_up("in-1")

    rig = run(scenario)
    played = rig.media.played(rig.contact)
    assert played[-2:] == ["queue_comfort", "queue_position"]  # cut short, no music after
    # only the music from joining the queue and after the engine's announcement on entry
    assert played.count("music_on_hold") == 2
