"""Leaderboards: agents or teams ranked on one figure, fairly across different queue mixes.

An agent who takes the repair queue's long calls cannot beat one on the short billing queue at
raw handle time. For the figures measured per answered contact — handle time, after-contact
work, hold, first contact resolution — each entrant is therefore compared with what the center
as a whole achieves *on the same mix of queues*: the **expected** value is the mean of every
queue's figure weighted by the entrant's answered contacts in that queue, and the **index** is
the entrant's figure ÷ expected (below 1 is shorter than the center on that mix; above 1 for
FCR is more resolved). Entrants are ranked on the index; figures that do not depend on the
queue (satisfaction, quality, occupancy, grade score) are ranked as they are.

Ties share a rank (1, 2, 2, 4), and entrants with fewer answered contacts than the minimum are
left off (a leaderboard of two-call agents rewards luck).

This module is pure.

Example::

    >>> board = standings(
    ...     {"a1": Entry(300.0, {"repair": 10}), "a2": Entry(200.0, {"billing": 10})},
    ...     metric="aht_s", queue_values={"repair": 400.0, "billing": 150.0})
    >>> [(s.name, s.rank, round(s.index, 2)) for s in board]
    [('a1', 1, 0.75), ('a2', 2, 1.33)]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Figures measured per answered contact, which depend on the queue: ranked on the index.
NORMALISED: tuple[str, ...] = ("aht_s", "acw_s", "avg_hold_s", "fcr")
#: Figures where smaller is better.
LOWER_IS_BETTER: frozenset[str] = frozenset({"aht_s", "acw_s", "avg_hold_s"})
#: Figures a leaderboard ranks on.
RANKABLE: tuple[str, ...] = (*NORMALISED, "csat", "occupancy", "quality_score", "score")


@dataclass(frozen=True, slots=True)
class Entry:
    """One entrant's figure and answered contacts per queue."""

    value: float | None
    mix: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Standing:
    """One place of a leaderboard."""

    rank: int
    name: str
    value: float
    expected: float | None
    index: float | None
    answered: int


def expected_on_mix(
    mix: Mapping[str, int], queue_values: Mapping[str, float | None]
) -> float | None:
    """The center's figure on this queue mix: each queue's figure weighted by the answered
    contacts in it (queues without a figure are left out).

    >>> expected_on_mix({"repair": 3, "billing": 1}, {"repair": 400.0, "billing": 200.0})
    350.0
    """
    weighted = [
        (count, value)
        for queue, count in mix.items()
        if count > 0 and (value := queue_values.get(queue)) is not None
    ]
    total = sum(count for count, _ in weighted)
    if total == 0:
        return None
    return sum(count * value for count, value in weighted) / total


def standings(
    entries: Mapping[str, Entry],
    *,
    metric: str,
    queue_values: Mapping[str, float | None] | None = None,
    minimum_answered: int = 0,
) -> list[Standing]:
    """Rank ``entries`` on ``metric``: on the index against their queue mix when the figure
    depends on the queue (``queue_values``: each queue's figure over everyone), else on the
    figure itself; best first.

    >>> [s.name for s in standings({"x": Entry(0.7), "y": Entry(0.9), "z": Entry(None)},
    ...                            metric="csat")]
    ['y', 'x']
    """
    if metric not in RANKABLE:
        raise ValueError(f"a leaderboard ranks on {', '.join(RANKABLE)}, not {metric!r}")
    normalised = metric in NORMALISED and queue_values is not None
    rows: list[tuple[float, Standing]] = []
    for name, entry in entries.items():
        answered = sum(entry.mix.values())
        if entry.value is None or answered < minimum_answered:
            continue
        expected = expected_on_mix(entry.mix, queue_values or {}) if normalised else None
        index = entry.value / expected if expected else None
        if normalised and index is None:
            continue  # nothing to compare with: no fair place for it
        key = index if index is not None else entry.value
        if metric not in LOWER_IS_BETTER:
            key = -key
        rows.append((key, Standing(0, name, entry.value, expected, index, answered)))
    rows.sort(key=lambda row: (row[0], row[1].name))
    out: list[Standing] = []
    for place, (key, standing) in enumerate(rows, start=1):
        rank = out[-1].rank if out and key == rows[place - 2][0] else place
        out.append(
            Standing(
                rank,
                standing.name,
                standing.value,
                standing.expected,
                standing.index,
                standing.answered,
            )
        )
    return out
