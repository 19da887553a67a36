"""Contests' place points: figures on different scales weigh the same, entrants missing a
figure earn nothing there, ties share a place; and a contest as asked is checked whole."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from hotline.people.competitions import combine, problems, running
from hotline.people.leaderboard import Entry, Standing, standings


def _board(*names: str) -> list[Standing]:
    return [Standing(place, name, 0.0, None, None, 5) for place, name in enumerate(names, 1)]


def test_place_points_add_across_figures_whatever_their_scale() -> None:
    # seconds and a percentage: a1 first on both wins, whatever the size of the gaps
    boards = {
        "aht_s": standings(
            {"a1": Entry(200.0), "a2": Entry(201.0), "a3": Entry(900.0)}, metric="aht_s"
        ),
        "csat": standings({"a1": Entry(0.95), "a2": Entry(0.30), "a3": Entry(0.94)}, metric="csat"),
    }
    result = combine(boards)
    assert [(s.rank, s.name, s.points) for s in result] == [
        (1, "a1", 6),
        (2, "a2", 3),
        (2, "a3", 3),
    ]
    assert result[0].places == {"aht_s": 1, "csat": 1}


def test_an_entrant_missing_a_figure_earns_nothing_there_and_shared_ranks_share_points() -> None:
    boards = {
        "fcr": [
            Standing(1, "a1", 0.9, None, None, 5),
            Standing(1, "a2", 0.9, None, None, 5),
            Standing(3, "a3", 0.5, None, None, 5),
        ],
        "csat": _board("a3"),  # only a3 was surveyed
    }
    assert [(s.rank, s.name, s.points, dict(s.places)) for s in combine(boards)] == [
        (1, "a1", 3, {"fcr": 1}),
        (1, "a2", 3, {"fcr": 1}),
        (3, "a3", 2, {"fcr": 3, "csat": 1}),
    ]


@given(st.lists(st.permutations(["a", "b", "c", "d"]), min_size=1, max_size=4))
def test_first_everywhere_wins_and_the_points_are_every_places_total(
    orders: list[list[str]],
) -> None:
    boards = {f"m{i}": _board(*order) for i, order in enumerate(orders)}
    result = combine(boards)
    assert sum(s.points for s in result) == len(orders) * (4 + 3 + 2 + 1)
    if all(order[0] == orders[0][0] for order in orders):
        assert result[0].name == orders[0][0] and result[1].rank == 2
    assert [s.rank for s in result] == sorted(s.rank for s in result)


def test_a_contest_as_asked_is_checked_whole() -> None:
    found = problems(
        name="",
        level="agent",
        metrics=["aht_s", "fcr", "csat", "occupancy", "score"],
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        teams=[],
        known_teams=["t1"],
    )
    assert found == [("name", "give the contest a name"), ("metrics", "at most 4 figures, not 5")]
    assert (
        problems(
            name="March",
            level="team",
            metrics=["fcr"],
            start=date(2026, 3, 1),
            end=date(2026, 3, 31),
            teams=["t1"],
            known_teams=["t1"],
        )
        == []
    )


def test_a_contest_is_upcoming_running_then_finished() -> None:
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    assert [
        running(start, end, day) for day in (date(2026, 2, 28), start, end, date(2026, 4, 1))
    ] == [
        "upcoming",
        "running",
        "running",
        "finished",
    ]
