"""Leaderboards: ranking on the index against each entrant's queue mix, ties, minimums."""

from __future__ import annotations

import pytest

from hotline.people.leaderboard import Entry, expected_on_mix, standings

QUEUES = {"repair": 500.0, "installation": 150.0, "unmeasured": None}


def test_handle_time_is_judged_against_the_queue_mix_not_raw() -> None:
    board = standings(
        {
            "repairer": Entry(450.0, {"repair": 20}),
            "installer": Entry(180.0, {"installation": 20}),
            "both": Entry(300.0, {"repair": 10, "installation": 10}),
        },
        metric="aht_s",
        queue_values=QUEUES,
    )
    # expected: 500, 150, 325; index: 0.9, 1.2, 0.923
    assert [(s.name, s.rank) for s in board] == [("repairer", 1), ("both", 2), ("installer", 3)]
    assert board[1].expected == 325.0 and board[1].index == pytest.approx(300 / 325)


def test_resolution_ranks_higher_index_first_and_ties_share_a_place() -> None:
    board = standings(
        {
            "a": Entry(0.9, {"repair": 5}),
            "b": Entry(0.9, {"repair": 5}),
            "c": Entry(0.6, {"repair": 5}),
            "d": Entry(1.0, {"repair": 5}),
        },
        metric="fcr",
        queue_values={"repair": 0.8},
    )
    assert [(s.name, s.rank) for s in board] == [("d", 1), ("a", 2), ("b", 2), ("c", 4)]


def test_entrants_below_the_minimum_or_without_a_comparable_queue_are_left_off() -> None:
    board = standings(
        {
            "busy": Entry(400.0, {"repair": 30}),
            "new": Entry(100.0, {"repair": 2}),
            "elsewhere": Entry(200.0, {"unmeasured": 40}),
            "absent": Entry(None, {}),
        },
        metric="aht_s",
        queue_values=QUEUES,
        minimum_answered=10,
    )
    assert [s.name for s in board] == ["busy"]
    assert expected_on_mix({"unmeasured": 3}, QUEUES) is None


def test_figures_that_do_not_depend_on_the_queue_rank_as_they_are() -> None:
    board = standings({"x": Entry(0.7), "y": Entry(0.95)}, metric="csat", queue_values=QUEUES)
    assert [(s.name, s.index) for s in board] == [("y", None), ("x", None)]
    with pytest.raises(ValueError, match="not 'salary'"):
        standings({}, metric="salary")
